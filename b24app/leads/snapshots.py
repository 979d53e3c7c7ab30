"""Reading what distribution needs from the portal, in as few requests as possible, and caching it
briefly in the store (``lead_snapshots``) so many workers share one read.

- :func:`read_lists`: several lists in one ``batch`` (pages chained with ``$result`` references for
  lists paged by ``>ID``; offsets for small lists), more requests only for long lists.
- people (``user.get`` + ``department.get``), presence (``calendar.accessibility.get`` for absences —
  ``im.user.get``'s ``absent`` when the calendar is not available — and ``timeman.status`` per user),
  loads (open leads in working statuses and open deals per user, counted by the portal: ``total``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from b24app import clock
from b24app.leads import store
from b24app.portal.client import BatchResult
from b24app.store.db import Database

log = logging.getLogger("b24app.leads")

PAGE = 50
BATCH = 50
PEOPLE_TTL_S = 600.0
PRESENCE_TTL_S = 120.0


@dataclass
class ListSpec:
    """One list to read: ``by_id`` lists are paged with ``>ID`` and ``start=-1`` (no COUNT), others
    with ``start`` offsets (for small lists such as users)."""

    method: str
    params: dict[str, Any] = field(default_factory=dict)
    by_id: bool = True
    wrapper: str | None = None
    id_field: str = "ID"


def _rows(value: Any, wrapper: str | None) -> list[dict[str, Any]]:
    if wrapper and isinstance(value, dict):
        value = value.get(wrapper)
    if isinstance(value, dict):
        return list(value.values())
    return list(value or [])


def read_lists(client: Any, specs: Mapping[str, ListSpec],
               extra: Mapping[str, tuple[str, Mapping[str, Any]]] | None = None) -> tuple[dict[str, list], BatchResult]:
    """Read every list completely; ``extra`` commands ride along in the first request. Returns the
    rows by list name and the first batch's result (for the extra commands)."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in specs}
    last_id = {name: 0 for name in specs}
    offset = {name: 0 for name in specs}
    total: dict[str, int | None] = {name: None for name in specs}
    done = {name: False for name in specs}
    first: BatchResult | None = None
    pending_extra = dict(extra or {})
    while not all(done.values()) or pending_extra:
        cmds: list[tuple[str, str, dict[str, Any]]] = [(k, m, dict(p)) for k, (m, p) in pending_extra.items()]
        active = [n for n in specs if not done[n]]
        per = max(1, (BATCH - len(cmds)) // max(1, len(active))) if active else 0
        plan: dict[str, list[str]] = {}
        for name in active:
            spec = specs[name]
            base = dict(spec.params)
            flt = dict(base.pop("filter", {}) or {})
            keys = []
            if spec.by_id:
                for i in range(per):
                    key = f"{name}~{i}"
                    ref: Any = last_id[name] if i == 0 else (
                        f"$result[{name}~{i - 1}]" + (f"[{spec.wrapper}]" if spec.wrapper else "")
                        + f"[{PAGE - 1}][{spec.id_field}]")
                    cmds.append((key, spec.method, {**base, "filter": {**flt, f">{spec.id_field}": ref},
                                                    "order": {spec.id_field: "ASC"}, "start": -1}))
                    keys.append(key)
            else:
                n = 1 if total[name] is None else min(per, -(-(int(total[name] or 0) - offset[name]) // PAGE))
                for i in range(max(1, n)):
                    key = f"{name}~{i}"
                    params = {**base, "start": offset[name] + i * PAGE}
                    if flt:
                        params["filter"] = flt
                    cmds.append((key, spec.method, params))
                    keys.append(key)
            plan[name] = keys
        res = client.batch(cmds)
        if first is None:
            first = res
        pending_extra = {}
        for name, keys in plan.items():
            spec = specs[name]
            for key in keys:
                if key in res.errors:
                    raise res.errors[key]
                got = _rows(res.results.get(key), spec.wrapper)
                rows[name].extend(got)
                if spec.by_id:
                    if len(got) < PAGE:
                        done[name] = True
                        break
                    last_id[name] = int(got[-1][spec.id_field])
                else:
                    if total[name] is None:
                        total[name] = int(res.totals.get(key, len(got)) or 0)
                    offset[name] += len(got)
                    if not got or offset[name] >= int(total[name] or 0):
                        done[name] = True
                        break
    return rows, first if first is not None else BatchResult()


# --- people ------------------------------------------------------------------------------------------


def _active(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).upper() not in ("N", "FALSE", "0", "")


def people_specs() -> dict[str, ListSpec]:
    return {
        "users": ListSpec("user.get", {"sort": "ID", "order": "ASC"}, by_id=False),
        # no sort/order: department.get takes them as two scalars, which fast-bitrix24's get_all refuses
        "departments": ListSpec("department.get", {}, by_id=False),
        "statuses": ListSpec("crm.status.list", {"filter": {"ENTITY_ID": "STATUS"}}, by_id=False),
    }


def people_from(users: Iterable[dict[str, Any]], departments: Iterable[dict[str, Any]],
                statuses: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    out_users = {}
    for u in users:
        if not isinstance(u, dict) or not u.get("ID"):
            continue
        name = " ".join(x for x in (str(u.get("LAST_NAME") or "").strip(), str(u.get("NAME") or "").strip()) if x)
        out_users[str(int(u["ID"]))] = {
            "id": int(u["ID"]), "name": name or f"#{u['ID']}", "active": _active(u.get("ACTIVE", True)),
            "departments": [int(d) for d in (u.get("UF_DEPARTMENT") or []) if str(d).isdigit()],
        }
    out_deps = {}
    for d in departments:
        if not isinstance(d, dict) or not d.get("ID"):
            continue
        out_deps[str(int(d["ID"]))] = {
            "id": int(d["ID"]), "name": d.get("NAME") or "",
            "parent": int(d["PARENT"]) if str(d.get("PARENT") or "").isdigit() else None,
            "head": int(d["UF_HEAD"]) if str(d.get("UF_HEAD") or "").isdigit() and int(d["UF_HEAD"]) else None,
        }
    names = {str(r["STATUS_ID"]): str(r.get("NAME") or r["STATUS_ID"]) for r in statuses
             if isinstance(r, dict) and r.get("STATUS_ID")}
    return {"users": out_users, "departments": out_deps, "statuses": names}


# --- presence and loads ------------------------------------------------------------------------------


def _ru_datetime(text: str, tz: dt.tzinfo, end: bool) -> dt.datetime | None:
    text = (text or "").strip()
    for fmt in ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"):
        try:
            value = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        if fmt == "%d.%m.%Y" and end:
            value = value.replace(hour=23, minute=59, second=59)
        return value.replace(tzinfo=tz)
    try:
        value = dt.datetime.fromisoformat(text)
        return value if value.tzinfo else value.replace(tzinfo=tz)
    except ValueError:
        return None


def absent_from_accessibility(answer: Any, now: dt.datetime) -> dict[str, str]:
    """``{"<uid>": "<until>"}`` from calendar.accessibility.get: events marked ``absent`` covering now."""
    out: dict[str, str] = {}
    if not isinstance(answer, dict):
        return out
    for uid, items in answer.items():
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or str(item.get("ACCESSIBILITY", "")).lower() != "absent":
                continue
            tz = now.tzinfo or dt.UTC
            try:
                from zoneinfo import ZoneInfo

                if item.get("TZ_FROM"):
                    tz = ZoneInfo(str(item["TZ_FROM"]))
            except Exception:  # an unknown zone name: the portal's offset is good enough
                tz = now.tzinfo or dt.UTC
            start = _ru_datetime(str(item.get("DATE_FROM") or item.get("DT_FROM") or ""), tz, end=False)
            finish = _ru_datetime(str(item.get("DATE_TO") or item.get("DT_TO") or ""), tz, end=True)
            if start is not None and finish is not None and start <= now <= finish:
                out[str(uid)] = finish.date().isoformat()
    return out


def presence_commands(uids: Iterable[int], *, today: dt.date, timeman: bool) -> dict[str, tuple[str, dict]]:
    ids = sorted(set(uids))
    cmds: dict[str, tuple[str, dict]] = {
        "abs": ("calendar.accessibility.get", {"users": ids, "from": today.isoformat(), "to": today.isoformat()}),
    }
    if timeman:
        for uid in ids:
            cmds[f"tm{uid}"] = ("timeman.status", {"USER_ID": uid})
    return cmds


def load_commands(uids: Iterable[int], working_statuses: list[str]) -> dict[str, tuple[str, dict]]:
    cmds: dict[str, tuple[str, dict]] = {}
    for uid in sorted(set(uids)):
        cmds[f"ll{uid}"] = ("crm.lead.list", {"filter": {"ASSIGNED_BY_ID": uid, "@STATUS_ID": working_statuses},
                                              "select": ["ID"], "start": 0})
        cmds[f"dl{uid}"] = ("crm.deal.list", {"filter": {"ASSIGNED_BY_ID": uid, "CLOSED": "N"},
                                              "select": ["ID"], "start": 0})
    return cmds


def presence_from(res: BatchResult, client: Any, uids: Iterable[int], now: dt.datetime,
                  timeman: bool) -> dict[str, Any]:
    ids = sorted(set(uids))
    if "abs" in res.errors:
        # no calendar scope or method: im.user.get tells the end of a current absence
        log.info("calendar.accessibility.get failed; using im.user.get", extra={"error": str(res.errors["abs"])})
        im = client.batch({f"im{u}": ("im.user.get", {"ID": u}) for u in ids})
        absent = {str(u): str(im.results.get(f"im{u}", {}).get("absent"))[:10] for u in ids
                  if isinstance(im.results.get(f"im{u}"), dict) and im.results[f"im{u}"].get("absent")}
    else:
        absent = absent_from_accessibility(res.results.get("abs"), now)
    tm: dict[str, str] = {}
    if timeman:
        for u in ids:
            value = res.results.get(f"tm{u}")
            if isinstance(value, dict):
                tm[str(u)] = str(value.get("STATUS") or "CLOSED")
            elif f"tm{u}" in res.errors:
                tm[str(u)] = "UNKNOWN"
    return {"users": ids, "absent": absent, "timeman": tm}


def loads_from(res: BatchResult, uids: Iterable[int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for u in sorted(set(uids)):
        n = 0
        for key in (f"ll{u}", f"dl{u}"):
            if key in res.errors:
                raise res.errors[key]
            n += int(res.totals.get(key, len(_rows(res.results.get(key), None))) or 0)
        out[str(u)] = n
    return out


class Snapshots:
    """Portal facts for one portal, from the store when fresh enough, else read (and stored)."""

    def __init__(self, db: Database, member_id: str, client: Any, settings: Mapping[str, Any]) -> None:
        self.db = db
        self.member_id = member_id
        self.client = client
        self.settings = settings
        self.dist = settings.get("distribution") or {}

    def people(self, max_age: float = PEOPLE_TTL_S) -> dict[str, Any]:
        got = store.get_snapshot(self.db, self.member_id, "people")
        if got is not None and clock.now() - got[1] <= max_age:
            return got[0]
        at = clock.now()
        lists, _ = read_lists(self.client, people_specs())
        data = people_from(lists["users"], lists["departments"], lists["statuses"])
        store.put_snapshot(self.db, self.member_id, "people", data, at)
        return data

    def presence_and_loads(self, uids: Iterable[int], now: dt.datetime, *, presence_age: float = PRESENCE_TTL_S,
                           loads_age: float | None = None) -> tuple[dict[str, Any], dict[str, int], float]:
        """Absences/work days and loads of ``uids`` (one batch when both are stale)."""
        ids = sorted(set(uids))
        loads_age = float(self.dist.get("load_cache_s", 60)) if loads_age is None else loads_age
        avail = self.dist.get("availability") or {}
        timeman = bool(avail.get("timeman"))
        pres = store.get_snapshot(self.db, self.member_id, "presence")
        lds = store.get_snapshot(self.db, self.member_id, "loads")
        now_ts = clock.now()
        pres_ok = pres is not None and now_ts - pres[1] <= presence_age and set(ids) <= set(pres[0].get("users", [])) \
            and (not timeman or set(str(i) for i in ids) <= set(pres[0].get("timeman", {})))
        lds_ok = lds is not None and now_ts - lds[1] <= loads_age and set(str(i) for i in ids) <= set(lds[0])
        cmds: dict[str, tuple[str, dict]] = {}
        if not pres_ok and ids:
            cmds.update(presence_commands(ids, today=now.date(), timeman=timeman))
        if not lds_ok and ids:
            cmds.update(load_commands(ids, list(self.dist.get("working_statuses") or ["NEW", "IN_PROCESS"])))
        presence = pres[0] if pres_ok and pres else {"users": [], "absent": {}, "timeman": {}}
        loads: dict[str, int] = lds[0] if lds_ok and lds else {}
        loads_at = lds[1] if lds_ok and lds else now_ts
        if cmds:
            at = clock.now()
            res = self.client.batch(cmds)
            if not pres_ok and ids:
                presence = presence_from(res, self.client, ids, now, timeman)
                store.put_snapshot(self.db, self.member_id, "presence", presence, at)
            if not lds_ok and ids:
                loads = loads_from(res, ids)
                loads_at = at
                store.put_snapshot(self.db, self.member_id, "loads", loads, at)
        return presence, {int(k): int(v) for k, v in loads.items()}, loads_at
