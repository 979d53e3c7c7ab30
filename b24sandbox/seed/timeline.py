"""Time and stage paths for generated CRM histories.

Time model: events happen in working time, Monday–Friday 08:30–19:00 Moscow time (+03:00), between
two dates. A point of time is an integer "working second" ``w`` counted from the start of the first
working day; converting it to a date is monotonic, so sorting working seconds sorts the resulting
ISO strings too (all strings share the +03:00 offset, so they also sort as text). Creation times of
web leads may fall outside working hours (evenings, nights, weekends) on purpose, so that rules on
"non-working hours" have something to match.

Stage paths: an item moves through its funnel in order, sometimes jumping over a stage and sometimes
returning to the previous stage and coming back, and ends in its current stage.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Collection, Sequence

MSK = dt.timezone(dt.timedelta(hours=3))
DAY_START_S = 8 * 3600 + 30 * 60
DAY_LEN_S = 10 * 3600 + 30 * 60  # 08:30-19:00


def iso_date(day: dt.date) -> str:
    """A date as the seed writes date-only fields of records (midnight, Moscow offset)."""
    return f"{day.isoformat()}T00:00:00+03:00"


def stage_semantics(stage_id: str) -> str:
    """"success" for a WON stage, "failure" for LOSE/APOLOGY/JUNK, else "process" (by the code after
    the ``C<n>:`` / ``DT31_<n>:`` prefix), as Bitrix24's default funnels name them."""
    code = stage_id.rsplit(":", 1)[-1]
    if code in ("WON", "CONVERTED", "P"):
        return "success"
    if code in ("LOSE", "APOLOGY", "JUNK", "D") or code.startswith("UC_LOSE"):
        return "failure"
    return "process"


class Timeline:
    """Working time between ``date_from`` and ``date_to`` (both inclusive)."""

    def __init__(self, date_from: dt.date, date_to: dt.date) -> None:
        if date_to < date_from:
            raise ValueError(f"date_to {date_to} is before date_from {date_from}")
        days = []
        day = date_from
        while day <= date_to:
            if day.weekday() < 5:
                days.append(day)
            day += dt.timedelta(days=1)
        if not days:  # a weekend-only range: use its days anyway
            days = [date_from + dt.timedelta(days=i) for i in range((date_to - date_from).days + 1)]
        self.days = days
        self.ordinals = [d.toordinal() for d in days]
        self.prefix = [d.isoformat() + "T" for d in days]
        self.prev_prefix = [(d - dt.timedelta(days=1)).isoformat() + "T" for d in days]
        self.total = len(days) * DAY_LEN_S

    def iso(self, w: int) -> str:
        """ISO 8601 string of working second ``w``."""
        d, s = divmod(w, DAY_LEN_S)
        s += DAY_START_S
        h, s = divmod(s, 3600)
        m, s = divmod(s, 60)
        return f"{self.prefix[d]}{h:02d}:{m:02d}:{s:02d}+03:00"

    def iso_off_hours(self, w: int, rng: random.Random) -> str:
        """A time just before working second ``w``'s working day: that morning before 08:30 or the
        previous calendar evening (a Sunday evening before a Monday)."""
        d = w // DAY_LEN_S
        if d > 0 and rng.random() < 0.6:
            s = 19 * 3600 + rng.randrange(5 * 3600)  # 19:00-23:59 the evening before
            prefix = self.prev_prefix[d]
        else:
            s = rng.randrange(DAY_START_S)  # 00:00-08:29 the same morning
            prefix = self.prefix[d]
        h, s = divmod(s, 3600)
        m, s = divmod(s, 60)
        return f"{prefix}{h:02d}:{m:02d}:{s:02d}+03:00"

    def date_of(self, w: int) -> dt.date:
        return self.days[w // DAY_LEN_S]

    def at(self, day: dt.date, hour: int = 10, minute: int = 0) -> int:
        """Working second of ``day`` at hh:mm (the next working day if ``day`` is not one)."""
        i = bisect.bisect_left(self.ordinals, day.toordinal())
        i = min(i, len(self.days) - 1)
        s = (hour * 3600 + minute * 60) - DAY_START_S
        s = max(0, min(DAY_LEN_S - 1, s))
        return i * DAY_LEN_S + s

    def spread(self, rng: random.Random, start: int, end: int, k: int, gap: int = 300) -> list[int]:
        """``k`` increasing working seconds in (start, end], at least ``gap`` apart when room allows."""
        if k <= 0:
            return []
        end = max(end, start + k * gap)
        end = min(end, self.total - 1)
        room = end - start - k * gap
        if room <= 0:
            step = (end - start) // (k + 1)
            if step < 1:
                raise ValueError(f"no room for {k} moves after working second {start}")
            return [start + step * (i + 1) for i in range(k)]
        points = sorted(rng.randrange(room + 1) for _ in range(k))
        return [start + p + gap * (i + 1) for i, p in enumerate(points)]


def stage_path(
    rng: random.Random,
    process: Sequence[str],
    final: str,
    *,
    success: str | None = None,
    jump_p: float = 0.1,
    returns_mean: float = 0.15,
    keep: Collection[str] = (),
    fail_after: int | None = None,
    return_points: Collection[str] | None = None,
) -> list[str]:
    """The ordered stages an item went through to reach ``final``.

    ``process`` is the funnel's process stages in order. ``final`` is a process stage, the success
    stage or a failure stage. A failed item leaves the funnel after a random process stage (or after
    ``fail_after``, an index into ``process``); a successful one goes through every process stage.
    Intermediate stages are skipped with probability ``jump_p`` (never those in ``keep``); returns
    (back one stage, then forward again) are added, ``returns_mean`` of them on average; with
    ``return_points`` only from those stages (e.g. not from payment stages, where a return would mean
    a payment reversal).
    """
    if final in process:
        core = list(process[: process.index(final) + 1])
    elif final == success:
        core = [*process, final]
    else:
        stop = fail_after if fail_after is not None else rng.randrange(len(process))
        core = [*process[: stop + 1], final]
    if jump_p > 0 and len(core) > 2:
        core = [core[0], *(s for s in core[1:-1] if s in keep or rng.random() >= jump_p), core[-1]]
    if returns_mean > 0:
        p = returns_mean / (1.0 + returns_mean)
        last_process = len(core) - 1 if core[-1] in process else len(core) - 2
        while last_process >= 1 and rng.random() < p:
            if return_points is None:
                j = rng.randint(1, last_process)
            else:
                points = [i for i in range(1, last_process + 1) if core[i] in return_points]
                if not points:
                    break
                j = points[rng.randrange(len(points))]
            core[j + 1 : j + 1] = [core[j - 1], core[j]]
            last_process += 2
    return core
