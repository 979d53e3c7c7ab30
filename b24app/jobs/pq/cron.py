"""``every_s`` of a ``@periodic`` task as a procrastinate cron line.

Cron can only say periods that divide the next larger unit (seconds of a minute, minutes of an
hour, hours of a day) or whole days. An interval is rounded *down* to the nearest such period,
so a task never runs less often than it asked (periodic tasks only enqueue jobs with a dedupe key
per period, so running a little more often is harmless). ``jitter_s`` has no cron equivalent and
is ignored: the database already spreads nothing, it deduplicates.
"""

from __future__ import annotations

_SECONDS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)
_MINUTES = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)
_HOURS = (1, 2, 3, 4, 6, 8, 12)


def period_of(every_s: float) -> int:
    """The cron-expressible period in seconds used for ``every_s``."""
    every = max(1, int(every_s))
    choices = (list(_SECONDS) + [m * 60 for m in _MINUTES] + [h * 3600 for h in _HOURS]
               + [86400 * d for d in range(1, 32)])
    return max(c for c in choices if c <= every)


def cron_for(every_s: float) -> str:
    """A cron line (procrastinate's, with an optional 6th column for seconds) for ``every_s``."""
    period = period_of(every_s)
    if period < 60:
        return "* * * * * *" if period == 1 else f"* * * * * */{period}"
    if period < 3600:
        minutes = period // 60
        return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
    if period < 86400:
        hours = period // 3600
        return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
    days = period // 86400  # day-of-month steps: restarts each month, so "about every N days"
    return "0 0 * * *" if days == 1 else f"0 0 */{days} * *"
