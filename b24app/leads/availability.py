"""Who can take a lead right now, and who belongs to a pool. Pure functions over snapshots of the
portal (see b24app.leads.snapshots for how they are read):

``people``   ``{"users": {"4": {"id", "name", "active", "departments"}}, "departments": {"2": {"id",
             "name", "parent", "head"}}}`` (user.get, department.get)
``presence`` ``{"absent": {"3": "2026-10-10"}, "timeman": {"4": "OPENED"}}`` (calendar.accessibility.get
             or im.user.get; timeman.status)

A user is unavailable when inactive (ACTIVE=N), absent in the absence chart, outside his own work
schedule (the "calendar" settings section: per-user schedule with time zone, weekdays, breaks, company
holidays), not clocked in (only when ``availability.timeman`` is on: the work day must be OPENED), or
paused in the app. Reasons use the codes of b24app.leads.strategies.REASONS.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from b24app.calendar.settings_section import business_calendar
from b24app.leads.strategies import Skipped

People = Mapping[str, Any]


def user(people: People, uid: int) -> dict[str, Any] | None:
    return (people.get("users") or {}).get(str(uid))


def name_of(people: People, uid: int | None) -> str:
    if uid is None:
        return "—"
    u = user(people, uid)
    return u["name"] if u and u.get("name") else f"#{uid}"


def names(people: People) -> dict[int, str]:
    return {int(k): v.get("name") or f"#{k}" for k, v in (people.get("users") or {}).items()}


def subdepartments(people: People, dept: int) -> list[int]:
    """``dept`` and every department below it."""
    deps = people.get("departments") or {}
    children: dict[int, list[int]] = {}
    for d in deps.values():
        if d.get("parent"):
            children.setdefault(int(d["parent"]), []).append(int(d["id"]))
    out, todo = [], [dept]
    while todo:
        d = todo.pop(0)
        if d in out:
            continue
        out.append(d)
        todo.extend(sorted(children.get(d, [])))
    return out


def pool_members(pool: Mapping[str, Any], people: People) -> list[int]:
    """The pool's users in order: the listed users, then (for a department pool) the department's
    users by id, without the heads of those departments when ``exclude_heads``."""
    out = [int(u) for u in pool.get("users") or []]
    dept = pool.get("department")
    if dept:
        deps = subdepartments(people, int(dept)) if pool.get("subdepartments", True) else [int(dept)]
        heads = set()
        if pool.get("exclude_heads", True):
            for d in deps:
                head = ((people.get("departments") or {}).get(str(d)) or {}).get("head")
                if head:
                    heads.add(int(head))
        for key in sorted((people.get("users") or {}), key=int):
            u = people["users"][key]
            uid = int(u["id"])
            if uid in out or uid in heads:
                continue
            if any(int(d) in deps for d in u.get("departments") or []):
                out.append(uid)
    return out


def head_of(people: People, uid: int | None, default: int | None = None) -> int | None:
    """The head of the user's department; a department without a head (or headed by the user) asks
    the one above. ``default`` (the configured head) when nothing is found or no user is given."""
    if uid is None:
        return default
    u = user(people, uid)
    deps = people.get("departments") or {}
    dept_ids = [int(d) for d in (u or {}).get("departments") or []]
    seen: set[int] = set()
    for start in dept_ids[:1]:
        d: int | None = start
        while d is not None and d not in seen:
            seen.add(d)
            row = deps.get(str(d)) or {}
            head = row.get("head")
            if head and int(head) != uid:
                return int(head)
            d = int(row["parent"]) if row.get("parent") else None
    return default


def is_absent(presence: Mapping[str, Any], uid: int) -> str | None:
    """The end of the user's current absence (or "yes"), or None."""
    value = (presence.get("absent") or {}).get(str(uid))
    return str(value) if value else None


def check_users(
    uids: Collection[int],
    *,
    people: People,
    presence: Mapping[str, Any],
    paused: Collection[int],
    settings: Mapping[str, Any],
    now: dt.datetime,
) -> tuple[list[int], dict[int, Skipped]]:
    """Split ``uids`` into the available ones (in order) and the reasons of the others."""
    rules = (settings.get("distribution") or {}).get("availability") or {}
    available: list[int] = []
    reasons: dict[int, Skipped] = {}
    paused_set = set(paused)
    for uid in uids:
        u = user(people, uid)
        if u is None or not u.get("active", True):
            reasons[uid] = Skipped(uid, "inactive")
            continue
        if uid in paused_set:
            reasons[uid] = Skipped(uid, "paused")
            continue
        absent = is_absent(presence, uid) if rules.get("absence", True) else None
        if absent:
            reasons[uid] = Skipped(uid, "absent", absent)
            continue
        if rules.get("schedule", True):
            cal = business_calendar(dict(settings), uid)
            if not cal.is_working_time(now):
                reasons[uid] = Skipped(uid, "off_schedule")
                continue
        if rules.get("timeman"):
            status = (presence.get("timeman") or {}).get(str(uid))
            if status != "OPENED":
                reasons[uid] = Skipped(uid, "not_clocked_in", status or "CLOSED")
                continue
        available.append(uid)
    return available, reasons
