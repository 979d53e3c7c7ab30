"""Employees, departments, absences and work-day status: user.*, profile, department.*,
calendar.accessibility.get, im.user.get, timeman.*, plus control routes to add users, absences and
set a work-day status.

Tables: ``users_user``, ``users_department``, ``users_absence``, ``timeman_status`` (id = user id).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Blueprint, abort, jsonify, request

from ..api import CONTROL_BLUEPRINTS, HOOKS, SERVICES, Call, ListResult, Platform, RestError, rest_method
from ..listing import paginate
from ..phpjson import PhpObject
from ._common import MSK, as_list, iso, now_dt, now_iso, parse_datetime, php_intval, table, to_int, yn

USER_OUT = ["ID", "ACTIVE", "NAME", "LAST_NAME", "SECOND_NAME", "EMAIL", "LAST_LOGIN", "DATE_REGISTER",
            "TIME_ZONE", "IS_ONLINE", "TIMESTAMP_X", "LAST_ACTIVITY_DATE", "PERSONAL_GENDER", "PERSONAL_WWW",
            "PERSONAL_BIRTHDAY", "PERSONAL_MOBILE", "PERSONAL_CITY", "WORK_PHONE", "WORK_POSITION",
            "UF_EMPLOYMENT_DATE", "UF_DEPARTMENT", "USER_TYPE"]
ABSENCE_NAMES = {"vacation": "Отпуск", "sick": "Больничный", "trip": "Командировка", "other": "Отсутствие"}


def users(portal: Platform):
    return table(portal, "users_user")


def departments(portal: Platform):
    return table(portal, "users_department")


def absences(portal: Platform):
    return table(portal, "users_absence")


def timeman_rows(portal: Platform):
    return table(portal, "timeman_status")


def get_user(portal: Platform, user_id: int) -> dict[str, Any] | None:
    return users(portal).get(user_id)


def user_out(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in USER_OUT:
        v = row.get(key)
        if key == "ID":
            v = str(row["ID"])
        elif key == "ACTIVE":
            v = bool(row.get("ACTIVE", True))
        elif key in ("TIMESTAMP_X", "LAST_ACTIVITY_DATE"):
            v = PhpObject()
        elif key == "UF_DEPARTMENT":
            v = [int(x) for x in row.get("UF_DEPARTMENT") or []]
        elif key == "USER_TYPE":
            v = row.get("USER_TYPE") or "employee"
        elif key == "IS_ONLINE":
            v = row.get("IS_ONLINE") or "N"
        elif v is None:
            v = ""
        out[key] = v
    return out


def lookup(portal: Platform, user_id: int) -> dict[str, Any] | None:
    """HOOKS.user_lookup: the user as user.get shows it, plus IS_ADMIN (bool)."""
    row = get_user(portal, user_id)
    if row is None:
        return None
    out = user_out(row)
    out["IS_ADMIN"] = bool(row.get("IS_ADMIN"))
    return out


HOOKS.user_lookup = lookup


def save_user(portal: Platform, data: dict[str, Any], user_id: int | None = None) -> dict[str, Any]:
    """Insert or update a user from user.add-style fields (EMAIL, NAME, UF_DEPARTMENT ...)."""
    tbl = users(portal)
    rid = user_id or to_int(data.get("ID")) or tbl.next_id()
    row = dict(tbl.get(rid) or {"ID": rid, "ACTIVE": True, "IS_ADMIN": False, "USER_TYPE": "employee",
                                 "DATE_REGISTER": now_iso(portal), "TIME_ZONE": "Europe/Moscow"})
    for key, value in data.items():
        k = str(key).upper()
        if k == "ID":
            continue
        if k == "ACTIVE":
            row["ACTIVE"] = value if isinstance(value, bool) else yn(value, "Y") == "Y"
        elif k == "IS_ADMIN":
            row["IS_ADMIN"] = value if isinstance(value, bool) else yn(value) == "Y"
        elif k == "UF_DEPARTMENT":
            row["UF_DEPARTMENT"] = [v for v in (to_int(x) for x in as_list(value)) if v]
        elif k == "PERSONAL_BIRTHDAY":
            row[k] = iso(value) or ""
        else:
            row[k] = value
    row["ID"] = rid
    row.setdefault("LOGIN", row.get("EMAIL") or f"user{rid}")
    row.setdefault("UF_DEPARTMENT", [1] if departments(portal).get(1) else [])
    tbl.save(rid, row)
    return row


def _caller(call: Call) -> dict[str, Any]:
    row = get_user(call.portal, call.user_id)
    if row is None:
        raise RestError("NO_AUTH_FOUND", "Wrong authorization data", 401)
    return row


def _is_admin(call: Call) -> bool:
    row = get_user(call.portal, call.user_id)
    return bool(call.is_admin or (row and row.get("IS_ADMIN")))


# --------------------------------------------------------------------------- user.*

_USER_TYPES = {"ID": "integer", "ACTIVE": "char", "UF_DEPARTMENT": "integer", "DATE_REGISTER": "datetime",
               "LAST_LOGIN": "datetime"}
# the fields user.get lets a filter name (getAllowedUserFields + the extra keys userGet adds); any other
# key is dropped silently, as prepareUserFilter does
_USER_FILTER_FIELDS = {"ID", "XML_ID", "ACTIVE", "NAME", "LAST_NAME", "SECOND_NAME", "TITLE", "EMAIL",
                       "IS_ONLINE", "TIME_ZONE", "TIMESTAMP_X", "DATE_REGISTER", "LAST_LOGIN",
                       "LAST_ACTIVITY_DATE", "USER_TYPE", "HAS_DEPARTAMENT", "NAME_SEARCH", "FIND",
                       "EXTERNAL_AUTH_ID"}
_FILTER_KEY = re.compile(r"^(\W{1,2})(.+)$")


def _php_truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        return value not in ("", "0")
    return bool(value)


def _user_filter(source: dict[str, Any]) -> dict[str, Any]:
    """``prepareUserFilter``: keys (already upper-cased) with an optional operator prefix; only allowed
    user fields survive; ``ACTIVE``/``USER_TYPE`` without a prefix compare with ``=``; the ``ACTIVE``
    value is coerced ``($v && $v !== 'N') ? 'Y' : 'N'`` (so ``"false"`` means active, ``"0"`` inactive)."""
    out: dict[str, Any] = {}
    for key, value in source.items():
        op, code = "", key
        m = _FILTER_KEY.match(key)
        if m:
            op, code = m.group(1), m.group(2)
        allowed = code in _USER_FILTER_FIELDS or code.startswith(("PERSONAL_", "WORK_", "UF_"))
        if not allowed:
            continue
        if code in ("HAS_DEPARTAMENT", "NAME_SEARCH", "FIND"):
            op = ""
        elif not op and code in ("USER_TYPE", "ACTIVE"):
            op = "="
        if code == "ACTIVE":
            value = "Y" if (_php_truthy(value) and value != "N") else "N"
        out[op + code] = value
    return out


@rest_method("user.get", "user")
def user_get(call: Call) -> Any:
    """``rest/lib/api/user.php userGet()``: keys are case-insensitive; ``sort``/``order`` are two scalars
    and order the list only when both are given (else ID ASC); a ``FILTER`` array replaces the
    top-level filter keys; unknown filter keys are ignored; an empty result is ``[]`` without total."""
    query = {str(k).upper(): v for k, v in call.params.items()}
    sort, direction = query.get("SORT"), query.get("ORDER")
    source = query
    if isinstance(query.get("FILTER"), dict):
        source = {str(k).upper(): v for k, v in query["FILTER"].items()}
    flt = _user_filter(source)
    search = flt.pop("NAME_SEARCH", None) or flt.pop("FIND", None)
    flt.pop("NAME_SEARCH", None)
    has_department = flt.pop("HAS_DEPARTAMENT", None)
    rows = []
    for row in users(call.portal).values():
        if (row.get("USER_TYPE") or "employee") not in ("employee", "extranet"):
            continue
        if has_department == "Y" and not row.get("UF_DEPARTMENT"):
            continue
        view = dict(row)
        view["ACTIVE"] = "Y" if row.get("ACTIVE", True) else "N"
        rows.append(view)
    if search:
        s = str(search).lower()
        rows = [r for r in rows if any(s in str(r.get(k) or "").lower()
                                       for k in ("NAME", "LAST_NAME", "SECOND_NAME", "EMAIL", "WORK_POSITION"))]
    order = {sort: direction} if isinstance(sort, str) and sort and isinstance(direction, str) and direction \
        else {"ID": "ASC"}
    page = paginate(rows, filter=flt, order=order, start=query.get("START"), field_types=_USER_TYPES,
                    select=["*", "UF_*"], tz=MSK)
    if not page.items:
        return []
    page.items = [user_out(users(call.portal).get(int(r["ID"]))) for r in page.items]
    return page


@rest_method("user.current", "user")
def user_current(call: Call) -> dict[str, Any]:
    return user_out(_caller(call))


@rest_method("user.admin", "basic")
def user_admin(call: Call) -> bool:
    return _is_admin(call)


@rest_method("profile", "basic")
def profile(call: Call) -> dict[str, Any]:
    row = _caller(call)
    return {"ID": str(row["ID"]), "ADMIN": bool(row.get("IS_ADMIN")), "NAME": row.get("NAME") or "",
            "LAST_NAME": row.get("LAST_NAME") or "", "PERSONAL_GENDER": row.get("PERSONAL_GENDER") or "",
            "TIME_ZONE": row.get("TIME_ZONE") or ""}


@rest_method("user.fields", "user")
def user_fields(call: Call) -> dict[str, str]:
    return {"ID": "ID", "XML_ID": "XML_ID", "ACTIVE": "Активность", "NAME": "Имя", "LAST_NAME": "Фамилия",
            "SECOND_NAME": "Отчество", "TITLE": "Обращение", "EMAIL": "E-Mail", "PERSONAL_PHONE": "Телефон",
            "WORK_PHONE": "Телефон компании", "WORK_POSITION": "Должность", "WORK_COMPANY": "Компания",
            "IS_ONLINE": "Онлайн", "TIME_ZONE": "Часовой пояс", "TIMESTAMP_X": "Дата изменения",
            "DATE_REGISTER": "Дата регистрации", "PERSONAL_PROFESSION": "Профессия",
            "PERSONAL_GENDER": "Пол", "PERSONAL_BIRTHDAY": "День рождения", "PERSONAL_PHOTO": "Фотография",
            "PERSONAL_MOBILE": "Мобильный телефон", "PERSONAL_CITY": "Город",
            "UF_DEPARTMENT": "Подразделения", "UF_EMPLOYMENT_DATE": "Дата принятия на работу",
            "USER_TYPE": "Тип пользователя"}


@rest_method("user.add", "user", admin_only=True)
def user_add(call: Call) -> int:
    if not _is_admin(call):
        raise RestError("ACCESS_DENIED", "Access denied! Administrator authorization required", 403)
    data = {str(k).upper(): v for k, v in call.params.items() if str(k).lower() not in ("auth", "access_token")}
    email = str(data.get("EMAIL") or "").strip()
    if not email:
        raise RestError("ERROR_CORE", "Email не указан.", 400)
    if any(str(u.get("EMAIL") or "").lower() == email.lower() for u in users(call.portal).values()):
        raise RestError("ERROR_CORE", f"Пользователь с e-mail {email} уже существует.", 400)
    data.setdefault("UF_DEPARTMENT", [1])
    row = save_user(call.portal, data)
    call.portal.fire_event("ONUSERADD", {"ID": str(row["ID"])}, call)
    return row["ID"]


@rest_method("user.update", "user", admin_only=True)
def user_update(call: Call) -> bool:
    if not _is_admin(call):
        raise RestError("ACCESS_DENIED", "Access denied! Administrator authorization required", 403)
    data = {str(k).upper(): v for k, v in call.params.items() if str(k).lower() not in ("auth", "access_token")}
    uid = to_int(data.get("ID"))
    if not uid or get_user(call.portal, uid) is None:
        raise RestError("ERROR_CORE", "User not found", 400)
    save_user(call.portal, data, uid)
    return True


# --------------------------------------------------------------------------- department.*


def department_out(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"ID": str(row["ID"]), "NAME": row["NAME"], "SORT": int(row.get("SORT") or 500)}
    if row.get("PARENT"):
        out["PARENT"] = str(row["PARENT"])
    if row.get("UF_HEAD"):
        out["UF_HEAD"] = str(row["UF_HEAD"])
    return out


DEPARTMENT_FIELDS = ("ID", "NAME", "SORT", "PARENT", "UF_HEAD")


def _like(pattern: str) -> re.Pattern[str]:
    """``UPPER(NAME) LIKE UPPER(pattern)``: ``%`` and ``_`` are wildcards, the rest matches literally."""
    parts = ["." if ch == "_" else ".*" if ch == "%" else re.escape(ch) for ch in pattern]
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE | re.DOTALL)


def _department_filter(query: dict[str, Any]) -> Any:
    """``prepareDeptData``: only the exact (case-sensitive) keys ID, NAME, SORT, PARENT, UF_HEAD filter;
    ID/SORT/PARENT/UF_HEAD are cast with intval (arrays element-wise); PARENT <= 0 means the top level
    (``SECTION_ID`` of CIBlockSection::GetList)."""
    tests: list[Any] = []
    for key, value in query.items():
        if key not in DEPARTMENT_FIELDS:
            continue
        if key == "NAME":
            names = [_like(str(v)) for v in (value if isinstance(value, list) else [value])]
            tests.append(lambda r, names=names: any(n.match(str(r.get("NAME") or "")) for n in names))
            continue
        if isinstance(value, (list, dict)) and key != "SORT":
            wanted = {php_intval(v) for v in as_list(value)}
        else:
            wanted = {php_intval(value)}
        if key == "PARENT" and not isinstance(value, (list, dict)) and php_intval(value) <= 0:
            tests.append(lambda r: not r.get("PARENT"))
            continue
        tests.append(lambda r, key=key, wanted=wanted: int(r.get(key) or 0) in wanted)
    return lambda row: all(t(row) for t in tests)


def _tree_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The platform's default order ``LEFT_MARGIN ASC``: the structure tree depth-first, children of a
    department by SORT, then NAME (how CIBlockSection numbers the nested set)."""
    children: dict[int, list[dict[str, Any]]] = {}
    ids = {int(r["ID"]) for r in rows}
    for r in rows:
        parent = int(r.get("PARENT") or 0)
        children.setdefault(parent if parent in ids else 0, []).append(r)
    out: list[dict[str, Any]] = []
    seen: set[int] = set()

    def walk(parent: int) -> None:
        for r in sorted(children.get(parent, []), key=lambda r: (int(r.get("SORT") or 0), str(r["NAME"]),
                                                                  int(r["ID"]))):
            if int(r["ID"]) in seen:
                continue
            seen.add(int(r["ID"]))
            out.append(r)
            walk(int(r["ID"]))

    walk(0)
    return out + [r for r in rows if int(r["ID"]) not in seen]  # a broken parent chain still lists them


@rest_method("department.get", "department")
def department_get(call: Call) -> ListResult:
    """``CIntranetRestService::departmentGet``. Parameter keys are case-sensitive here: ``sort``/``order``
    (read case-insensitively, like ``prepareSort``) choose the order — ``sort`` a field name among ID,
    NAME, SORT, PARENT, UF_HEAD, ``order`` ASC|DESC, default tree order — while the upper-case keys ID,
    NAME, SORT, PARENT, UF_HEAD are filters. So ``sort=ID&order=ASC`` sorts, ``SORT=500`` filters, and
    ``SORT=ID`` does both (and finds nothing: intval("ID") is 0). A ``FILTER`` array replaces the whole
    query (then ``sort``/``order`` outside it are ignored, as on the platform)."""
    query: dict[str, Any] = dict(call.params)
    if isinstance(query.get("FILTER"), dict):
        query = dict(query["FILTER"])
    upper = {str(k).upper(): v for k, v in query.items()}
    order = None
    sort = upper.get("SORT")
    if isinstance(sort, str) and sort.upper() in DEPARTMENT_FIELDS:
        direction = upper.get("ORDER")
        order = {sort.upper(): "DESC" if isinstance(direction, str) and direction.upper() == "DESC" else "ASC"}
    match = _department_filter(query)
    rows = [department_out(r) for r in _tree_order(list(departments(call.portal).values())) if match(r)]
    return paginate(rows, order=order, start=call.params.get("start", call.params.get("START")),
                    field_types={"ID": "integer", "SORT": "integer", "PARENT": "integer", "UF_HEAD": "integer"},
                    known_fields=list(DEPARTMENT_FIELDS), sorted_by_id=False, tz=MSK, select=["*", "UF_*"])


@rest_method("department.fields", "department")
def department_fields(call: Call) -> dict[str, str]:
    return {"ID": "ID", "NAME": "Название", "SORT": "Сортировка", "PARENT": "Родительское подразделение",
            "UF_HEAD": "Руководитель"}


def save_department(portal: Platform, data: dict[str, Any], dep_id: int | None = None) -> dict[str, Any]:
    tbl = departments(portal)
    rid = dep_id or to_int(data.get("ID")) or tbl.next_id()
    row = dict(tbl.get(rid) or {"ID": rid, "SORT": 500, "PARENT": None, "UF_HEAD": None})
    for key in ("NAME", "SORT", "PARENT", "UF_HEAD"):
        if key in data:
            row[key] = data[key] if key == "NAME" else to_int(data[key])
    row["ID"] = rid
    tbl.save(rid, row)
    return row


@rest_method("department.add", "department", admin_only=True)
def department_add(call: Call) -> int:
    p = {str(k).upper(): v for k, v in call.params.items()}
    if not str(p.get("NAME") or "").strip():
        raise RestError("ERROR_CORE", "Не указано название подразделения", 400)
    if p.get("PARENT") and departments(call.portal).get(to_int(p["PARENT"])) is None:
        raise RestError("ERROR_CORE", "Родительское подразделение не найдено", 400)
    p.setdefault("PARENT", 1 if departments(call.portal).get(1) else None)
    return save_department(call.portal, p)["ID"]


@rest_method("department.update", "department", admin_only=True)
def department_update(call: Call) -> bool:
    p = {str(k).upper(): v for k, v in call.params.items()}
    dep = to_int(p.get("ID"))
    if not dep or departments(call.portal).get(dep) is None:
        raise RestError("ERROR_CORE", "Подразделение не найдено", 400)
    save_department(call.portal, p, dep)
    return True


@rest_method("department.delete", "department", admin_only=True)
def department_delete(call: Call) -> bool:
    dep = to_int(call.param("ID"))
    if not dep or departments(call.portal).get(dep) is None:
        raise RestError("ERROR_CORE", "Подразделение не найдено", 400)
    departments(call.portal).delete(dep)
    return True


# --------------------------------------------------------------------------- absences


def add_absence(portal: Platform, user_id: int, date_from: str, date_to: str, kind: str = "vacation",
                note: str = "") -> dict[str, Any]:
    tbl = absences(portal)
    rid = tbl.next_id()
    row = {"ID": rid, "USER_ID": int(user_id), "DATE_FROM": str(date_from)[:10], "DATE_TO": str(date_to)[:10],
           "TYPE": kind if kind in ABSENCE_NAMES else "other", "NOTE": note or ""}
    tbl.save(rid, row)
    return row


def absence_on(portal: Platform, user_id: int, day: dt.date) -> dict[str, Any] | None:
    iso_day = day.isoformat()
    for row in absences(portal).values():
        if row["USER_ID"] == user_id and row["DATE_FROM"] <= iso_day <= row["DATE_TO"]:
            return row
    return None


def _ru_date(iso_day: str) -> str:
    y, m, d = iso_day.split("-")
    return f"{d}.{m}.{y}"


@rest_method("calendar.accessibility.get", "calendar")
def accessibility_get(call: Call) -> dict[str, Any]:
    user_ids = [v for v in (to_int(x) for x in as_list(call.param("users"))) if v]
    start = parse_datetime(call.param("from")) or now_dt(call.portal)
    end = parse_datetime(call.param("to")) or start
    out: dict[str, Any] = {}
    for uid in user_ids:
        items = []
        for row in absences(call.portal).values():
            if row["USER_ID"] != uid or row["DATE_TO"] < start.date().isoformat() or \
                    row["DATE_FROM"] > end.date().isoformat():
                continue
            items.append({"ID": str(row["ID"]), "NAME": ABSENCE_NAMES[row["TYPE"]],
                          "DATE_FROM": _ru_date(row["DATE_FROM"]), "DATE_TO": _ru_date(row["DATE_TO"]),
                          "DT_FROM": _ru_date(row["DATE_FROM"]), "DT_TO": _ru_date(row["DATE_TO"]),
                          "DT_SKIP_TIME": "Y", "TZ_FROM": "Europe/Moscow", "TZ_TO": "Europe/Moscow",
                          "ACCESSIBILITY": "absent", "IMPORTANCE": "normal", "FROM_HR": True,
                          "EVENT_TYPE": row["TYPE"]})
        out[str(uid)] = items
    return out


@rest_method("im.user.get", "im")
def im_user_get(call: Call) -> dict[str, Any]:
    uid = to_int(call.param("ID"), call.user_id) or call.user_id
    row = get_user(call.portal, uid)
    if row is None:
        raise RestError("ID_EMPTY", "User ID can't be empty", 400)
    absent = absence_on(call.portal, uid, now_dt(call.portal).date())
    name = f"{row.get('NAME') or ''} {row.get('LAST_NAME') or ''}".strip()
    return {
        "id": uid, "active": bool(row.get("ACTIVE", True)), "name": name, "first_name": row.get("NAME") or "",
        "last_name": row.get("LAST_NAME") or "", "work_position": row.get("WORK_POSITION") or "",
        "color": "#df532d", "avatar": "", "gender": row.get("PERSONAL_GENDER") or "M", "birthday": "",
        "extranet": False, "network": False, "bot": False, "connector": False, "external_auth_id": "default",
        "status": "online", "idle": False, "last_activity_date": now_iso(call.portal),
        "mobile_last_date": False,
        "absent": f"{absent['DATE_TO']}T23:59:59+03:00" if absent else False,
        "departments": [int(d) for d in row.get("UF_DEPARTMENT") or []],
        "phones": {"personal_mobile": row.get("PERSONAL_MOBILE") or ""} if row.get("PERSONAL_MOBILE") else False,
    }


# --------------------------------------------------------------------------- timeman


def _hms(seconds: int) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def set_timeman(portal: Platform, user_id: int, status: str, at: dt.datetime | None = None) -> dict[str, Any]:
    """Set a user's work-day status (OPENED / PAUSED / CLOSED / EXPIRED) as of ``at``."""
    at = (at or now_dt(portal)).astimezone(MSK).replace(microsecond=0)
    tbl = timeman_rows(portal)
    row = dict(tbl.get(user_id) or {"ID": user_id, "STATUS": "CLOSED", "TIME_START": None, "TIME_FINISH": None,
                                     "DURATION": 0, "TIME_LEAKS": 0, "PAUSED_AT": None})
    status = status.upper()
    if status == "OPENED":
        if row["STATUS"] == "PAUSED" and row.get("PAUSED_AT"):
            row["TIME_LEAKS"] += int((at - dt.datetime.fromisoformat(row["PAUSED_AT"])).total_seconds())
            row["PAUSED_AT"] = None
        else:
            row.update({"TIME_START": at.isoformat(), "TIME_FINISH": None, "DURATION": 0, "TIME_LEAKS": 0,
                        "PAUSED_AT": None})
    elif status == "PAUSED":
        row["PAUSED_AT"] = at.isoformat()
        row["TIME_START"] = row.get("TIME_START") or at.isoformat()
    elif status == "CLOSED":
        start = row.get("TIME_START")
        row["TIME_FINISH"] = at.isoformat()
        if start:
            row["DURATION"] = int((at - dt.datetime.fromisoformat(start)).total_seconds()) - row["TIME_LEAKS"]
    elif status == "EXPIRED":
        row["TIME_START"] = row.get("TIME_START") or at.replace(hour=9, minute=0, second=0).isoformat()
        row["TIME_FINISH"] = None
    else:
        raise ValueError(status)
    row["STATUS"] = status
    tbl.save(user_id, row)
    return row


def timeman_out(row: dict[str, Any] | None) -> dict[str, Any]:
    row = row or {"STATUS": "CLOSED", "TIME_START": None, "TIME_FINISH": None, "DURATION": 0, "TIME_LEAKS": 0}
    out: dict[str, Any] = {"STATUS": row["STATUS"], "TIME_START": row.get("TIME_START"),
                           "TIME_FINISH": row.get("TIME_FINISH"), "DURATION": _hms(row.get("DURATION") or 0),
                           "TIME_LEAKS": _hms(row.get("TIME_LEAKS") or 0), "ACTIVE": row["STATUS"] == "OPENED",
                           "IP_OPEN": "", "IP_CLOSE": "", "LAT_OPEN": 0, "LON_OPEN": 0, "LAT_CLOSE": 0,
                           "LON_CLOSE": 0, "TZ_OFFSET": 10800}
    if row["STATUS"] in ("OPENED", "PAUSED", "EXPIRED") and row.get("TIME_START"):
        start = dt.datetime.fromisoformat(row["TIME_START"])
        out["TIME_FINISH_DEFAULT"] = start.replace(hour=18, minute=0, second=0).isoformat()
    return out


def _timeman_user(call: Call) -> int:
    uid = to_int(call.param("USER_ID")) or call.user_id
    if uid != call.user_id and not _is_admin(call):
        raise RestError("ACCESS_DENIED", "Access denied", 403)
    if get_user(call.portal, uid) is None:
        raise RestError("USER_NOT_FOUND", "User not found", 400)
    return uid


@rest_method("timeman.status", "timeman")
def timeman_status(call: Call) -> dict[str, Any]:
    return timeman_out(timeman_rows(call.portal).get(_timeman_user(call)))


def _timeman_change(call: Call, status: str, allowed_from: tuple[str, ...], error: str) -> dict[str, Any]:
    uid = _timeman_user(call)
    current = (timeman_rows(call.portal).get(uid) or {"STATUS": "CLOSED"})["STATUS"]
    if current not in allowed_from:
        raise RestError(error, f"Action is not available for the work day status {current}", 400)
    at = parse_datetime(call.param("TIME")) if call.param("TIME") else None
    return timeman_out(set_timeman(call.portal, uid, status, at))


@rest_method("timeman.open", "timeman")
def timeman_open(call: Call) -> dict[str, Any]:
    return _timeman_change(call, "OPENED", ("CLOSED", "PAUSED", "EXPIRED"), "WORKDAY_OPEN_ERROR")


@rest_method("timeman.pause", "timeman")
def timeman_pause(call: Call) -> dict[str, Any]:
    return _timeman_change(call, "PAUSED", ("OPENED",), "WORKDAY_PAUSE_ERROR")


@rest_method("timeman.close", "timeman")
def timeman_close(call: Call) -> dict[str, Any]:
    return _timeman_change(call, "CLOSED", ("OPENED", "PAUSED", "EXPIRED"), "WORKDAY_CLOSE_ERROR")


# --------------------------------------------------------------------------- control routes

bp = Blueprint("sandbox_users", __name__)


def _portal_or_404(member_id: str) -> Platform:
    portal = SERVICES.get_portal(member_id) if SERVICES.get_portal else None
    if portal is None:
        abort(404)
    return portal


@bp.post("/_sandbox/portals/<member_id>/users")
def control_add_user(member_id: str):
    """Add an employee: ``{"NAME", "LAST_NAME", "EMAIL", "WORK_POSITION", "UF_DEPARTMENT": [..],
    "IS_ADMIN": false, "ACTIVE": true}`` -> the user as user.get shows it."""
    portal = _portal_or_404(member_id)
    data = request.get_json(force=True, silent=True) or {}
    with portal.lock:
        row = save_user(portal, {str(k).upper(): v for k, v in data.items()})
        portal.fire_event("ONUSERADD", {"ID": str(row["ID"])}, None)
        return jsonify(lookup(portal, row["ID"])), 201


@bp.get("/_sandbox/portals/<member_id>/absences")
def control_list_absences(member_id: str):
    portal = _portal_or_404(member_id)
    with portal.lock:
        return jsonify([{"id": r["ID"], "user_id": r["USER_ID"], "date_from": r["DATE_FROM"],
                         "date_to": r["DATE_TO"], "type": r["TYPE"], "note": r["NOTE"]}
                        for r in absences(portal).values()])


@bp.post("/_sandbox/portals/<member_id>/absences")
def control_add_absence(member_id: str):
    """``{"user_id": 3, "date_from": "2026-10-05", "date_to": "2026-10-09", "type": "vacation"|"sick"|
    "trip"|"other", "note": ""}`` -> the stored absence."""
    portal = _portal_or_404(member_id)
    data = request.get_json(force=True, silent=True) or {}
    uid = to_int(data.get("user_id"))
    if not uid or not data.get("date_from"):
        return jsonify({"error": "user_id and date_from are required"}), 400
    with portal.lock:
        if get_user(portal, uid) is None:
            return jsonify({"error": "no such user"}), 404
        row = add_absence(portal, uid, data["date_from"], data.get("date_to") or data["date_from"],
                          str(data.get("type") or "vacation"), str(data.get("note") or ""))
        return jsonify({"id": row["ID"], "user_id": uid, "date_from": row["DATE_FROM"],
                        "date_to": row["DATE_TO"], "type": row["TYPE"], "note": row["NOTE"]}), 201


@bp.put("/_sandbox/portals/<member_id>/timeman/<int:user_id>")
def control_set_timeman(member_id: str, user_id: int):
    """``{"status": "OPENED"|"PAUSED"|"CLOSED"|"EXPIRED", "time": optional ISO}`` -> timeman.status shape."""
    portal = _portal_or_404(member_id)
    data = request.get_json(force=True, silent=True) or {}
    status = str(data.get("status") or "").upper()
    if status not in ("OPENED", "PAUSED", "CLOSED", "EXPIRED"):
        return jsonify({"error": "status must be OPENED, PAUSED, CLOSED or EXPIRED"}), 400
    with portal.lock:
        if get_user(portal, user_id) is None:
            return jsonify({"error": "no such user"}), 404
        row = set_timeman(portal, user_id, status, parse_datetime(data.get("time")) if data.get("time") else None)
        return jsonify(timeman_out(row))


CONTROL_BLUEPRINTS.append(bp)
