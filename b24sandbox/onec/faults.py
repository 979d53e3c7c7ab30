"""Fault injection and the request log of an emulated base.

Faults (set by ``PUT /_sandbox/onec/<name>/faults``, kept in the base's file so they survive a restart):

- ``down``: every OData/SOAP call answers 503 with the web server's HTML page;
- ``error_5xx_rate`` (0..1) and ``fail_next`` (count): a transient server error a client must retry —
  ``error_kind = "http"`` (default): status ``error_status`` (503) with the web server's HTML page;
  ``error_kind = "lock"``: 500 with 1C's lock-timeout error (OData code -1, SOAP Fault), which a client
  can only tell from a business error by its text;
- ``timeout_rate`` and ``timeout_next``: the answer is held ``timeout_s`` seconds; with
  ``timeout_mode = "after"`` (default) the request is *executed first* (a POST creates its document),
  which is the case that makes idempotency keys necessary; ``"before"`` sleeps then executes;
- ``slow_first_request_s``: the first call after ``idle_s`` seconds of silence waits that long (1C starts
  a session: 11-30 s on live bases);
- ``latency_ms``: added to every call;
- ``html_auth_answer``: a wrong password answers an HTML page with status 200 instead of 401.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, fields
from typing import Any

LOCK_TIMEOUT_TEXT = ("Конфликт блокировок при выполнении транзакции:\n"
                     "Превышено максимальное время ожидания предоставления блокировки")


@dataclass
class FaultConfig:
    error_5xx_rate: float = 0.0
    error_kind: str = "http"
    error_status: int = 503
    timeout_rate: float = 0.0
    timeout_s: float = 35.0
    timeout_mode: str = "after"
    slow_first_request_s: float = 0.0
    idle_s: float = 300.0
    html_auth_answer: bool = False
    down: bool = False
    latency_ms: int = 0
    fail_next: int = 0
    timeout_next: int = 0
    seed: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultConfig:
        known = {f.name: f for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                raise ValueError(f"unknown fault option {key!r}")
            kind = known[key].type
            if kind in ("float", float):
                kwargs[key] = float(value)
            elif kind in ("int", int):
                kwargs[key] = int(value)
            elif kind in ("bool", bool):
                kwargs[key] = bool(value)
            else:
                kwargs[key] = value
        cfg = cls(**kwargs)
        if cfg.timeout_mode not in ("after", "before"):
            raise ValueError("timeout_mode must be 'after' or 'before'")
        if cfg.error_kind not in ("http", "lock"):
            raise ValueError("error_kind must be 'http' or 'lock'")
        if not 500 <= cfg.error_status <= 599:
            raise ValueError("error_status must be a 5xx status")
        return cfg


@dataclass
class Decision:
    """What to do with one request."""

    down: bool = False
    error: bool = False
    sleep_before: float = 0.0
    sleep_after: float = 0.0


class FaultState:
    """The fault configuration of a base and the bookkeeping it needs (idle time, counters, RNG)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.lock = threading.Lock()
        stored = store.meta_get("faults") or {}
        try:
            self.config = FaultConfig.from_dict(stored)
        except (TypeError, ValueError):
            self.config = FaultConfig()
        self.rng = random.Random(self.config.seed)
        self.last_request: float | None = None

    def set(self, data: dict[str, Any], *, replace: bool = False) -> FaultConfig:
        base = {} if replace else asdict(self.config)
        base.update(data)
        cfg = FaultConfig.from_dict(base)
        with self.lock:
            self.config = cfg
            self.rng = random.Random(cfg.seed)
            self.last_request = None
        self.store.meta_set("faults", asdict(cfg))
        return cfg

    def as_dict(self) -> dict[str, Any]:
        return asdict(self.config)

    def decide(self) -> Decision:
        cfg = self.config
        d = Decision()
        with self.lock:
            now = time.monotonic()
            if cfg.down:
                d.down = True
                return d
            if cfg.slow_first_request_s and (self.last_request is None or now - self.last_request > cfg.idle_s):
                d.sleep_before += cfg.slow_first_request_s
            self.last_request = now
            d.sleep_before += cfg.latency_ms / 1000.0
            decremented = False
            if cfg.fail_next > 0:
                cfg.fail_next -= 1
                decremented = True
                d.error = True
            elif cfg.error_5xx_rate and self.rng.random() < cfg.error_5xx_rate:
                d.error = True
            if not d.error:
                timeout = False
                if cfg.timeout_next > 0:
                    cfg.timeout_next -= 1
                    decremented = True
                    timeout = True
                elif cfg.timeout_rate and self.rng.random() < cfg.timeout_rate:
                    timeout = True
                if timeout:
                    if cfg.timeout_mode == "before":
                        d.sleep_before += cfg.timeout_s
                    else:
                        d.sleep_after += cfg.timeout_s
        if decremented:
            self.store.meta_set("faults", asdict(cfg))
        return d


REQUEST_KINDS = ("odata", "soap", "wsdl")


def _zero_totals() -> dict[str, int]:
    return {**dict.fromkeys(REQUEST_KINDS, 0), "all": 0}


class RequestLog:
    """The last calls to a base (kept in memory) and totals, to count what a client really sent.
    ``totals`` always lists every kind (``odata``, ``soap``, ``wsdl``) and ``all``, 0 when unused."""

    def __init__(self, maxlen: int = 20000) -> None:
        self.items: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self.lock = threading.Lock()
        self.next_id = 1
        self.totals: dict[str, int] = _zero_totals()

    def add(self, **entry: Any) -> None:
        with self.lock:
            entry["id"] = self.next_id
            self.next_id += 1
            self.items.append(entry)
            kind = str(entry.get("kind", ""))
            self.totals[kind] = self.totals.get(kind, 0) + 1
            self.totals["all"] = self.totals.get("all", 0) + 1

    def snapshot(self, since: int = 0, limit: int = 1000) -> dict[str, Any]:
        with self.lock:
            items = [dict(e) for e in self.items if e["id"] > since][:limit]
            return {"total": self.totals.get("all", 0), "totals": dict(self.totals), "last_id": self.next_id - 1,
                    "items": items}

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.totals = _zero_totals()


def to_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")
