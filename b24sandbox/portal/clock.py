"""The sandbox clock: portal time = real time + offset, or a frozen instant.

Every portal of one sandbox server shares it. Token expiry, robot timeouts, event ``ts`` and the
method modules' timestamps all read it (``portal.now()``), so a scenario test can jump an hour
ahead (``PUT /_sandbox/clock {"offset_s": 3600}``) or freeze time (``{"now": "...", "frozen": true}``).
Rate limits are measured on the real monotonic clock (scaled by each portal's ``time_scale``), not
on this one, so shifting the clock never empties or fills a bucket.
"""

from __future__ import annotations

import datetime as dt
import threading
import time


class Clock:
    """Shifted or frozen wall clock. Thread-safe."""

    def __init__(self, offset_s: float = 0.0, frozen_at: float | None = None) -> None:
        self._lock = threading.Lock()
        self.offset_s = float(offset_s)
        self.frozen_at = frozen_at

    def time(self) -> float:
        """Portal time as a unix timestamp (float)."""
        with self._lock:
            if self.frozen_at is not None:
                return self.frozen_at
            return time.time() + self.offset_s

    def now(self) -> dt.datetime:
        """Portal time as an aware UTC datetime."""
        return dt.datetime.fromtimestamp(self.time(), tz=dt.UTC)

    def set(self, *, offset_s: float | None = None, now: dt.datetime | None = None,
            frozen: bool | None = None) -> None:
        """Shift the clock by an offset from real time, or move it to ``now``; ``frozen`` stops
        (True) or restarts (False) it at the resulting instant."""
        with self._lock:
            if now is not None:
                target = now.timestamp()
            elif offset_s is not None:
                target = time.time() + float(offset_s)
            else:
                target = self.frozen_at if self.frozen_at is not None else time.time() + self.offset_s
            stay_frozen = self.frozen_at is not None if frozen is None else frozen
            self.offset_s = target - time.time()
            self.frozen_at = target if stay_frozen else None

    def state(self) -> dict[str, object]:
        t = self.time()
        return {
            "offset_s": self.offset_s,
            "frozen": self.frozen_at is not None,
            "now": dt.datetime.fromtimestamp(t, tz=dt.UTC).isoformat(),
            "unix": t,
        }
