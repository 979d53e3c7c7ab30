"""Request limits of a cloud portal (reference §5.1, §5.2).

*Leaky bucket* (per portal): every accepted request adds 1 to a counter that drains by
``drain_per_s`` per second; a request that would lift it above ``burst`` is refused with HTTP 503
``QUERY_LIMIT_EXCEEDED`` (refused requests do not add). Standard plans 2/s and 50, Enterprise 5/s
and 250.

*Operating time* (per app or webhook, per method): the simulated execution time (``cost_s`` of the
method, overridable per method) is summed in ten one-minute buckets; when the sum of the last ten
minutes has reached ``operating_budget_s`` (default 480) the method answers HTTP 429
``OPERATION_TIME_LIMIT`` until the oldest bucket ages out. ``time.operating`` reports the sum,
``time.operating_reset_at`` when the oldest bucket expires. ``batch`` itself is exempt; its
sub-calls count.

``time_scale`` speeds simulated time up: the bucket drains ``time_scale`` times faster and the
ten-minute window lasts ``600 / time_scale`` real seconds, so a benchmark keeps the same shape in
less wall time. Both limits run on the real monotonic clock, never on the (shiftable) portal clock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

PLAN_DEFAULTS = {
    "standard": {"drain_per_s": 2.0, "burst": 50},
    "enterprise": {"drain_per_s": 5.0, "burst": 250},
}

WINDOW_S = 600.0
BUCKET_S = 60.0


@dataclass
class LimitSettings:
    drain_per_s: float = 2.0
    burst: int = 50
    time_scale: float = 1.0
    operating_budget_s: float = 480.0
    method_costs: dict[str, float] = field(default_factory=dict)
    enabled: bool = True

    @classmethod
    def for_plan(cls, plan: str) -> LimitSettings:
        d = PLAN_DEFAULTS.get(plan, PLAN_DEFAULTS["standard"])
        return cls(drain_per_s=float(d["drain_per_s"]), burst=int(d["burst"]))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, data: dict[str, Any]) -> None:
        """Apply a partial update (the body of ``PUT /_sandbox/portals/<m>/limits``)."""
        if "drain_per_s" in data:
            self.drain_per_s = max(0.0, float(data["drain_per_s"]))
        if "burst" in data:
            self.burst = max(1, int(data["burst"]))
        if "time_scale" in data:
            self.time_scale = max(1e-6, float(data["time_scale"]))
        if "operating_budget_s" in data:
            self.operating_budget_s = max(0.0, float(data["operating_budget_s"]))
        if "method_costs" in data and isinstance(data["method_costs"], dict):
            self.method_costs = {str(k).lower(): float(v) for k, v in data["method_costs"].items()}
        if "enabled" in data:
            self.enabled = bool(data["enabled"])


class LeakyBucket:
    """The per-portal request counter."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.level = 0.0
        self._t = time.monotonic()
        self.accepted = 0
        self.refused = 0

    def _drain(self, s: LimitSettings, now: float) -> None:
        elapsed = max(0.0, now - self._t)
        self._t = now
        self.level = max(0.0, self.level - elapsed * s.drain_per_s * s.time_scale)

    def take(self, s: LimitSettings) -> bool:
        """Admit one request (True) or refuse it (False)."""
        with self._lock:
            now = time.monotonic()
            self._drain(s, now)
            if not s.enabled:
                self.accepted += 1
                return True
            if self.level + 1 > s.burst + 1e-9:
                self.refused += 1
                return False
            self.level += 1
            self.accepted += 1
            return True

    def state(self, s: LimitSettings) -> dict[str, Any]:
        with self._lock:
            self._drain(s, time.monotonic())
            return {"level": round(self.level, 3), "accepted": self.accepted, "refused": self.refused}

    def reset(self) -> None:
        with self._lock:
            self.level = 0.0
            self._t = time.monotonic()


class OperatingBudget:
    """Per (principal, method) sums of simulated execution time in one-minute buckets."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._origin = time.monotonic()
        # (principal, method) -> {bucket index: seconds}
        self._buckets: dict[tuple[str, str], dict[int, float]] = {}

    def _sim_now(self, s: LimitSettings) -> float:
        return (time.monotonic() - self._origin) * s.time_scale

    def _live(self, key: tuple[str, str], s: LimitSettings) -> tuple[dict[int, float], int]:
        idx = int(self._sim_now(s) // BUCKET_S)
        buckets = self._buckets.setdefault(key, {})
        for b in [b for b in buckets if b <= idx - int(WINDOW_S // BUCKET_S)]:
            del buckets[b]
        return buckets, idx

    def used(self, principal: str, method: str, s: LimitSettings) -> float:
        with self._lock:
            buckets, _ = self._live((principal, method), s)
            return sum(buckets.values())

    def blocked(self, principal: str, method: str, s: LimitSettings) -> bool:
        if not s.enabled:
            return False
        return self.used(principal, method, s) >= s.operating_budget_s

    def add(self, principal: str, method: str, cost: float, s: LimitSettings) -> None:
        with self._lock:
            buckets, idx = self._live((principal, method), s)
            buckets[idx] = buckets.get(idx, 0.0) + cost

    def report(self, principal: str, method: str, s: LimitSettings, portal_time: float) -> tuple[float, int | None]:
        """``(operating, operating_reset_at)``; reset_at (portal unix time) is None with no usage."""
        with self._lock:
            buckets, idx = self._live((principal, method), s)
            if not buckets:
                return 0.0, None
            oldest = min(buckets)
            expires_sim = (oldest + WINDOW_S // BUCKET_S) * BUCKET_S
            remaining_real = max(0.0, (expires_sim - self._sim_now(s)) / s.time_scale)
            return round(sum(buckets.values()), 6), int(portal_time + remaining_real)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
