"""Fault injection on a portal's REST endpoint (``PUT /_sandbox/portals/<m>/faults``).

Faults happen on the wire only; nothing inside the app is faked:

- ``latency_ms``: every REST answer is delayed by this much;
- ``error_5xx_rate``: share of calls answered HTTP 500 ``INTERNAL_SERVER_ERROR`` without running the
  method (``html_5xx: true`` answers 502 with an nginx-like HTML page instead, as a cloud edge does);
- ``timeout_rate``: share of calls held for ``timeout_hold_s`` seconds (default 30, longer than the
  usual client timeout) and then answered 504 without running the method;
- ``commit_then_500_rate``: share of calls whose method runs (changes are committed, events fire)
  but whose answer is HTTP 500 — the client cannot tell it succeeded;
- ``burst_503_s``: from now on, for this many seconds every call is answered 503
  ``QUERY_LIMIT_EXCEEDED`` (``burst_503_in_s`` delays the window's start);
- ``methods``: when non-empty, faults apply only to these methods (lower-case names; ``batch``
  counts as one method);
- ``seed``: seeds the random draw so a test run is repeatable.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FaultSettings:
    error_5xx_rate: float = 0.0
    timeout_rate: float = 0.0
    commit_then_500_rate: float = 0.0
    latency_ms: float = 0.0
    timeout_hold_s: float = 30.0
    html_5xx: bool = False
    methods: list[str] = field(default_factory=list)
    burst_503_from: float = 0.0  # monotonic
    burst_503_until: float = 0.0  # monotonic
    seed: int | None = None
    seed_version: int = 0  # bumped by every update that names a seed: the draw restarts

    def update(self, data: dict[str, Any]) -> None:
        for name in ("error_5xx_rate", "timeout_rate", "commit_then_500_rate"):
            if name in data:
                setattr(self, name, min(1.0, max(0.0, float(data[name] or 0))))
        if "latency_ms" in data:
            self.latency_ms = max(0.0, float(data["latency_ms"] or 0))
        if "timeout_hold_s" in data:
            self.timeout_hold_s = max(0.0, float(data["timeout_hold_s"]))
        if "html_5xx" in data:
            self.html_5xx = bool(data["html_5xx"])
        if "methods" in data:
            self.methods = [str(m).lower() for m in (data["methods"] or [])]
        if "burst_503_s" in data:
            start = time.monotonic() + float(data.get("burst_503_in_s") or 0)
            self.burst_503_from = start
            self.burst_503_until = start + max(0.0, float(data["burst_503_s"] or 0))
        if "seed" in data:
            self.seed = None if data["seed"] is None else int(data["seed"])
            self.seed_version += 1

    def to_dict(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "error_5xx_rate": self.error_5xx_rate,
            "timeout_rate": self.timeout_rate,
            "commit_then_500_rate": self.commit_then_500_rate,
            "latency_ms": self.latency_ms,
            "timeout_hold_s": self.timeout_hold_s,
            "html_5xx": self.html_5xx,
            "methods": list(self.methods),
            "burst_503_active": self.burst_503_from <= now < self.burst_503_until,
            "burst_503_remaining_s": max(0.0, self.burst_503_until - max(now, self.burst_503_from)),
            "seed": self.seed,
        }


class FaultInjector:
    """Draws the fault (if any) for one call."""

    def __init__(self, settings: FaultSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._rng = random.Random(settings.seed)
        self._version = settings.seed_version

    def applies(self, method: str) -> bool:
        return not self.settings.methods or method in self.settings.methods

    def draw(self, method: str) -> str | None:
        """None or one of ``"burst_503"``, ``"5xx"``, ``"timeout"``, ``"commit_then_500"``."""
        s = self.settings
        if not self.applies(method):
            return None
        now = time.monotonic()
        if s.burst_503_from <= now < s.burst_503_until:
            return "burst_503"
        with self._lock:
            if self._version != s.seed_version:
                self._rng = random.Random(s.seed)
                self._version = s.seed_version
            r = self._rng.random()
        if r < s.error_5xx_rate:
            return "5xx"
        r -= s.error_5xx_rate
        if r < s.timeout_rate:
            return "timeout"
        r -= s.timeout_rate
        if r < s.commit_then_500_rate:
            return "commit_then_500"
        return None
