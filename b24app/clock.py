"""The app's clock. Everything reads time here so tests can freeze it (time-machine patches time)."""

from __future__ import annotations

import datetime as dt
import time


def now() -> float:
    """Unix time in seconds."""
    return time.time()


def utcnow() -> dt.datetime:
    return dt.datetime.fromtimestamp(time.time(), tz=dt.UTC)


def iso(ts: float | None) -> str | None:
    """ISO 8601 (UTC) of a unix time, for listings."""
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat(timespec="seconds")
