"""Tasks: tasks.task.add/get/list/update/delete/complete/start/pause/defer/renew/approve/disapprove and
task.checklistitem.add/getlist/complete/renew/delete.

Answers are camelCase with string-typed values (``"id": "3711"``, ``"status": "2"``) as the real
``tasks.task.*`` write them; errors are ``ERROR_CORE`` texts ending in ``<br>``. ``UF_CRM_TASK``
(``D_12``, ``L_4``, ``C_7``, ``CO_5``, ``SI_1``) binds the task to CRM items, and each bound item gets
a task-type activity (TYPE_ID 3, provider TASKS_TASK). Status codes: 2 pending, 3 in progress,
4 awaiting control, 5 completed, 6 deferred.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from ..api import Call, ListResult, Platform, RestError, rest_method
from . import crm_misc, users
from ._common import MSK, GroupIndex, TableView, as_list, fast_paginate, iso, now_iso, table, to_int, yn

BINDING_PREFIX = {"L": 1, "D": 2, "C": 3, "CO": 4, "SI": 31}
ACTION = {"accept": False, "decline": False, "complete": True, "approve": False, "disapprove": False,
          "start": True, "pause": False, "delegate": True, "remove": True, "edit": True, "defer": True,
          "renew": False, "create": True, "changeDeadline": True, "checklistAddItems": True, "addFavorite": True,
          "deleteFavorite": False, "rate": True, "edit.originator": False, "checklist.reorder": True,
          "elapsedtime.add": True, "dayplan.timer.toggle": False, "edit.plan": True, "checklist.add": True,
          "favorite.add": True, "favorite.delete": False}
# camelCase name -> stored UPPER name (select and filter accept either spelling)
FIELD_NAMES = {
    "id": "ID", "parentId": "PARENT_ID", "title": "TITLE", "description": "DESCRIPTION", "mark": "MARK",
    "priority": "PRIORITY", "status": "STATUS", "stageId": "STAGE_ID", "createdBy": "CREATED_BY",
    "createdDate": "CREATED_DATE", "responsibleId": "RESPONSIBLE_ID", "changedBy": "CHANGED_BY",
    "changedDate": "CHANGED_DATE", "statusChangedBy": "STATUS_CHANGED_BY", "closedBy": "CLOSED_BY",
    "closedDate": "CLOSED_DATE", "activityDate": "ACTIVITY_DATE", "dateStart": "DATE_START", "deadline": "DEADLINE",
    "startDatePlan": "START_DATE_PLAN", "endDatePlan": "END_DATE_PLAN", "guid": "GUID", "xmlId": "XML_ID",
    "allowChangeDeadline": "ALLOW_CHANGE_DEADLINE", "allowTimeTracking": "ALLOW_TIME_TRACKING",
    "taskControl": "TASK_CONTROL", "groupId": "GROUP_ID", "statusChangedDate": "STATUS_CHANGED_DATE",
    "auditors": "AUDITORS", "accomplices": "ACCOMPLICES", "ufCrmTask": "UF_CRM_TASK", "tags": "TAGS",
}
UPPER_TO_CAMEL = {v: k for k, v in FIELD_NAMES.items()}
_DT = {"CREATED_DATE", "CHANGED_DATE", "CLOSED_DATE", "ACTIVITY_DATE", "DATE_START", "DEADLINE",
       "START_DATE_PLAN", "END_DATE_PLAN", "STATUS_CHANGED_DATE"}


def core_error(text: str) -> RestError:
    return RestError("ERROR_CORE", text + "<br>", 400)


def not_found() -> RestError:
    return core_error("TASKS_ERROR_EXCEPTION_#256; Task not found or not accessible; "
                      "256/TE/TASK_NOT_FOUND_OR_NOT_ACCESSIBLE")


def tasks(portal: Platform):
    return table(portal, "tasks_task")


def checklist(portal: Platform):
    return table(portal, "tasks_checklist")


def _s(v: Any) -> str | None:
    return None if v is None else str(v)


def _member(portal: Platform, uid: int) -> dict[str, Any]:
    u = users.get_user(portal, uid) or {}
    name = f"{u.get('NAME') or ''} {u.get('LAST_NAME') or ''}".strip()
    return {"id": str(uid), "name": name, "link": f"/company/personal/user/{uid}/", "icon": "",
            "workPosition": u.get("WORK_POSITION") or ""}


def checklist_of(portal: Platform, task_id: int) -> list[dict[str, Any]]:
    """A task's checklist items, id ascending (an index of the checklist table by task)."""
    tbl = checklist(portal)
    idx = tbl.index("by_task", lambda: GroupIndex(lambda r: (r["TASK_ID"],)))
    return [tbl.rows[i] for i in idx.ids(task_id)]


def _member_keys(row: dict[str, Any]) -> list[Any]:
    return [row["RESPONSIBLE_ID"], row["CREATED_BY"], *row.get("ACCOMPLICES", []), *row.get("AUDITORS", [])]


def member_task_ids(portal: Platform, user_id: int | None) -> list[int]:
    """Ids (ascending) of the tasks the user is responsible for, created, helps with or audits."""
    return tasks(portal).index("by_member", lambda: GroupIndex(_member_keys)).ids(user_id)


def task_out(portal: Platform, row: dict[str, Any], select: Any = None) -> dict[str, Any]:
    items = checklist_of(portal, row["ID"])
    out: dict[str, Any] = {
        "id": str(row["ID"]), "parentId": _s(row.get("PARENT_ID")), "title": row["TITLE"],
        "description": row.get("DESCRIPTION") or "", "mark": row.get("MARK"), "priority": str(row["PRIORITY"]),
        "multitask": "N", "notViewed": "N", "replicate": "N", "stageId": str(row.get("STAGE_ID") or 0),
        "createdBy": str(row["CREATED_BY"]), "createdDate": row["CREATED_DATE"],
        "responsibleId": str(row["RESPONSIBLE_ID"]), "changedBy": _s(row.get("CHANGED_BY")),
        "changedDate": row.get("CHANGED_DATE"), "statusChangedBy": _s(row.get("STATUS_CHANGED_BY")),
        "closedBy": _s(row.get("CLOSED_BY")), "closedDate": row.get("CLOSED_DATE"),
        "activityDate": row.get("ACTIVITY_DATE"), "dateStart": row.get("DATE_START"), "deadline": row.get("DEADLINE"),
        "startDatePlan": row.get("START_DATE_PLAN"), "endDatePlan": row.get("END_DATE_PLAN"), "guid": row["GUID"],
        "xmlId": row.get("XML_ID"), "commentsCount": None, "serviceCommentsCount": None,
        "allowChangeDeadline": row.get("ALLOW_CHANGE_DEADLINE", "N"), "allowTimeTracking": "N",
        "taskControl": row.get("TASK_CONTROL", "N"), "addInReport": "N", "forkedByTemplateId": None,
        "timeEstimate": "0", "timeSpentInLogs": None, "matchWorkTime": "N", "forumTopicId": None, "forumId": None,
        "siteId": "s1", "subordinate": "N", "exchangeModified": None, "exchangeId": None, "outlookVersion": "1",
        "viewedDate": None, "sorting": None, "durationFact": None, "isMuted": "N", "isPinned": "N",
        "isPinnedInGroup": "N", "flowId": None, "descriptionInBbcode": "Y", "status": str(row["STATUS"]),
        "statusChangedDate": row.get("STATUS_CHANGED_DATE"), "durationPlan": None, "durationType": "days",
        "favorite": "N", "groupId": str(row.get("GROUP_ID") or 0),
        "auditors": [str(a) for a in row.get("AUDITORS") or []],
        "accomplices": [str(a) for a in row.get("ACCOMPLICES") or []],
        "checklist": [checklist_out(i) for i in items], "group": [],
        "creator": _member(portal, row["CREATED_BY"]), "responsible": _member(portal, row["RESPONSIBLE_ID"]),
        "accomplicesData": {str(a): _member(portal, a) for a in row.get("ACCOMPLICES") or []},
        "auditorsData": {str(a): _member(portal, a) for a in row.get("AUDITORS") or []},
        "newCommentsCount": 0, "action": _actions(row),
    }
    # keys older portals write as well (captured tasks.task.add answers carry both sets)
    resp = users.get_user(portal, row["RESPONSIBLE_ID"]) or {}
    creator = users.get_user(portal, row["CREATED_BY"]) or {}
    out.update({
        "declineReason": None, "statusComplete": "2" if row["STATUS"] == 5 else "1",
        "responsibleName": resp.get("NAME") or "", "responsibleLastName": resp.get("LAST_NAME") or "",
        "responsibleSecondName": resp.get("SECOND_NAME") or None, "responsibleLogin": resp.get("LOGIN") or "",
        "responsibleWorkPosition": resp.get("WORK_POSITION") or None, "responsiblePhoto": None,
        "deadlineOrig": _orig(row.get("DEADLINE")), "createdByName": creator.get("NAME") or "",
        "createdByLastName": creator.get("LAST_NAME") or "", "createdBySecondName": creator.get("SECOND_NAME") or None,
        "createdByLogin": creator.get("LOGIN") or "", "createdByWorkPosition": creator.get("WORK_POSITION") or None,
        "createdByPhoto": None, "deadlineCounted": "0", "durationPlanSeconds": None, "durationTypeAll": "days",
        "ufCrmTask": list(row.get("UF_CRM_TASK") or []) or False, "ufTaskWebdavFiles": False, "ufMailMessage": None,
        "tags": list(row.get("TAGS") or []), "files": [], "dependsOn": [],
    })
    wanted = _select(select)
    if wanted is not None:
        keep = {"id"} | wanted
        out = {k: v for k, v in out.items() if k in keep}
    if wanted is not None and ("ufCrmTask" in wanted):
        out["ufCrmTask"] = list(row.get("UF_CRM_TASK") or []) or False
    if wanted is not None and "tags" in wanted:
        out["tags"] = list(row.get("TAGS") or [])
    return out


def _orig(value: str | None) -> str | None:
    """``deadlineOrig``: the stored local datetime as ``YYYY-MM-DD HH:MM:SS``."""
    return value[:19].replace("T", " ") if value else None


def _select(select: Any) -> set[str] | None:
    names = [str(s) for s in as_list(select)]
    if not names or "*" in names:
        extra = {"ufCrmTask"} if any(n.upper() in ("UF_CRM_TASK", "UF_*") for n in names) else set()
        return None if not extra else set(FIELD_NAMES) | set(UPPER_TO_CAMEL.values()) | extra | {
            "multitask", "notViewed", "replicate", "checklist", "creator", "responsible", "action", "group",
            "accomplicesData", "auditorsData", "favorite", "subordinate", "siteId"}
    out = set()
    for n in names:
        out.add(UPPER_TO_CAMEL.get(n.upper(), n))
    return out


def _actions(row: dict[str, Any]) -> dict[str, Any]:
    a = dict(ACTION)
    status = row["STATUS"]
    a["start"] = status in (2, 6)
    a["pause"] = status == 3
    a["complete"] = status in (2, 3, 6)
    a["approve"] = a["disapprove"] = status == 4
    a["renew"] = status in (4, 5)
    a["defer"] = status in (2, 3)
    return a


def checklist_out(r: dict[str, Any]) -> dict[str, Any]:
    return {"ID": str(r["ID"]), "TASK_ID": str(r["TASK_ID"]), "PARENT_ID": str(r.get("PARENT_ID") or 0),
            "CREATED_BY": str(r["CREATED_BY"]), "TITLE": r["TITLE"], "SORT_INDEX": str(r["SORT_INDEX"]),
            "IS_COMPLETE": r["IS_COMPLETE"], "IS_IMPORTANT": r["IS_IMPORTANT"], "TOGGLED_BY": _s(r.get("TOGGLED_BY")),
            "TOGGLED_DATE": r.get("TOGGLED_DATE") or "", "MEMBERS": r.get("MEMBERS") or [], "ATTACHMENTS": []}


def _bindings(values: list[str]) -> list[tuple[int, int]]:
    out = []
    for v in values:
        m = re.match(r"^([A-Z]+)_(\d+)$", str(v))
        if m and m[1] in BINDING_PREFIX:
            out.append((BINDING_PREFIX[m[1]], int(m[2])))
    return out


def _fields(call: Call) -> dict[str, Any]:
    raw = call.param("fields")
    if raw is None:
        raise RestError(100, "Could not find value for parameter {fields}", 400)
    if not isinstance(raw, dict):
        raise RestError(100, "Invalid value for parameter {fields}", 400)
    out = {}
    for k, v in raw.items():
        key = str(k)
        out[FIELD_NAMES.get(key, key.upper())] = v
    return out


def _user_list(value: Any) -> list[int]:
    return [v for v in (to_int(x) for x in as_list(value)) if v]


def _apply(portal: Platform, row: dict[str, Any], f: dict[str, Any]) -> None:
    for key, value in f.items():
        if key in ("TITLE", "DESCRIPTION", "XML_ID", "MARK"):
            row[key] = None if value is None else str(value)
        elif key in ("RESPONSIBLE_ID", "CREATED_BY", "GROUP_ID", "PARENT_ID", "STAGE_ID"):
            row[key] = to_int(value) or (0 if key in ("GROUP_ID", "STAGE_ID") else row.get(key))
        elif key == "PRIORITY":
            row[key] = min(2, max(0, to_int(value, 1) or 0))
        elif key in ("DEADLINE", "START_DATE_PLAN", "END_DATE_PLAN"):
            row[key] = iso(value)
        elif key in ("ACCOMPLICES", "AUDITORS"):
            row[key] = _user_list(value)
        elif key in ("TASK_CONTROL", "ALLOW_CHANGE_DEADLINE"):
            row[key] = yn(value)
        elif key == "UF_CRM_TASK":
            row[key] = [str(v) for v in as_list(value) if str(v).strip()]
        elif key == "TAGS":
            row[key] = [str(v) for v in as_list(value)] if not isinstance(value, str) else \
                [t.strip() for t in value.split(",") if t.strip()]


def _event(portal: Platform, name: str, before: Any, after: Any, call: Call | None) -> None:
    data = {"FIELDS_BEFORE": {"ID": before} if before else "undefined",
            "FIELDS_AFTER": {"ID": after} if after else "undefined",
            "IS_ACCESSIBLE_BEFORE": "N" if name == "ONTASKADD" else "undefined",
            "IS_ACCESSIBLE_AFTER": "N" if name == "ONTASKDELETE" else "undefined"}
    portal.fire_event(name, data, call)


def create_task(portal: Platform, f: dict[str, Any], user_id: int, call: Call | None) -> dict[str, Any]:
    if not str(f.get("TITLE") or "").strip():
        raise core_error("Task title is not specified")
    tbl = tasks(portal)
    now = now_iso(portal)
    row: dict[str, Any] = {"PRIORITY": 1, "STATUS": 2, "GROUP_ID": 0, "STAGE_ID": 0, "ACCOMPLICES": [],
                           "AUDITORS": [], "UF_CRM_TASK": [], "TASK_CONTROL": "N", "ALLOW_CHANGE_DEADLINE": "N",
                           "TAGS": []}
    _apply(portal, row, f)
    responsible = row.get("RESPONSIBLE_ID") or user_id
    if users.get_user(portal, responsible) is None:
        raise core_error("Assignee is not specified or not found")
    if row.get("START_DATE_PLAN") and row.get("END_DATE_PLAN") and row["START_DATE_PLAN"] > row["END_DATE_PLAN"]:
        raise core_error("The planned start date is later than the planned end date")
    rid = tbl.next_id()
    row.update({"ID": rid, "RESPONSIBLE_ID": responsible, "CREATED_BY": row.get("CREATED_BY") or user_id,
                "CREATED_DATE": now, "CHANGED_BY": user_id, "CHANGED_DATE": now, "ACTIVITY_DATE": now,
                "STATUS_CHANGED_DATE": now, "STATUS_CHANGED_BY": None, "CLOSED_BY": None, "CLOSED_DATE": None,
                "DATE_START": None, "GUID": "{" + str(uuid.uuid4()) + "}"})
    row.setdefault("DEADLINE", None)
    tbl.save(rid, row)
    crm_misc.task_activity(portal, row, _bindings(row["UF_CRM_TASK"]), call)
    _event(portal, "ONTASKADD", None, rid, call)
    return row


def _task(call: Call, key: str = "taskId") -> dict[str, Any]:
    tid = to_int(call.param(key, "id"))
    row = tasks(call.portal).get(tid) if tid else None
    if row is None:
        raise not_found()
    return row


def _save(call: Call, row: dict[str, Any], *, status_change: bool = False) -> dict[str, Any]:
    now = now_iso(call.portal)
    row["CHANGED_BY"] = call.user_id
    row["CHANGED_DATE"] = now
    row["ACTIVITY_DATE"] = now
    if status_change:
        row["STATUS_CHANGED_BY"] = call.user_id
        row["STATUS_CHANGED_DATE"] = now
        if row["STATUS"] == 5:
            row["CLOSED_BY"] = call.user_id
            row["CLOSED_DATE"] = now
        elif row["STATUS"] in (2, 3):
            row["CLOSED_BY"] = None
            row["CLOSED_DATE"] = None
        if row["STATUS"] == 3 and not row.get("DATE_START"):
            row["DATE_START"] = now
    tasks(call.portal).save(row["ID"], row)
    crm_misc.task_activity(call.portal, row, _bindings(row.get("UF_CRM_TASK") or []), call)
    _event(call.portal, "ONTASKUPDATE", row["ID"], row["ID"], call)
    return {"task": task_out(call.portal, row)}


@rest_method("tasks.task.add", "task")
def task_add(call: Call) -> dict[str, Any]:
    row = create_task(call.portal, _fields(call), call.user_id, call)
    return {"task": task_out(call.portal, row)}


@rest_method("tasks.task.get", "task")
def task_get(call: Call) -> dict[str, Any]:
    row = _task(call)
    return {"task": task_out(call.portal, row, call.param("select"))}


@rest_method("tasks.task.update", "task")
def task_update(call: Call) -> dict[str, Any]:
    row = dict(_task(call))
    f = _fields(call)
    old_status = row["STATUS"]
    _apply(call.portal, row, f)
    if "STATUS" in f:
        row["STATUS"] = to_int(f["STATUS"], old_status) if to_int(f["STATUS"]) in (2, 3, 4, 5, 6) else old_status
    if not str(row.get("TITLE") or "").strip():
        raise core_error("Task title is not specified")
    if users.get_user(call.portal, row["RESPONSIBLE_ID"]) is None:
        raise core_error("Assignee is not specified or not found")
    return _save(call, row, status_change=row["STATUS"] != old_status)


def _transition(call: Call, allowed: tuple[int, ...], target: int | None, action: str) -> dict[str, Any]:
    row = dict(_task(call))
    if row["STATUS"] not in allowed:
        raise core_error(f"TASKS_ERROR_EXCEPTION_#8; Action failed; 8/TE/ACTION_NOT_ALLOWED ({action})")
    if target is None:  # complete: awaiting control when the creator must check the result
        target = 4 if row.get("TASK_CONTROL") == "Y" and call.user_id != row["CREATED_BY"] else 5
    row["STATUS"] = target
    return _save(call, row, status_change=True)


@rest_method("tasks.task.complete", "task")
def task_complete(call: Call) -> dict[str, Any]:
    return _transition(call, (2, 3, 6), None, "complete")


@rest_method("tasks.task.start", "task")
def task_start(call: Call) -> dict[str, Any]:
    return _transition(call, (2, 6), 3, "start")


@rest_method("tasks.task.pause", "task")
def task_pause(call: Call) -> dict[str, Any]:
    return _transition(call, (3,), 2, "pause")


@rest_method("tasks.task.defer", "task")
def task_defer(call: Call) -> dict[str, Any]:
    return _transition(call, (2, 3), 6, "defer")


@rest_method("tasks.task.renew", "task")
def task_renew(call: Call) -> dict[str, Any]:
    return _transition(call, (4, 5, 6), 2, "renew")


@rest_method("tasks.task.approve", "task")
def task_approve(call: Call) -> dict[str, Any]:
    return _transition(call, (4,), 5, "approve")


@rest_method("tasks.task.disapprove", "task")
def task_disapprove(call: Call) -> dict[str, Any]:
    return _transition(call, (4,), 2, "disapprove")


@rest_method("tasks.task.delete", "task")
def task_delete(call: Call) -> dict[str, Any]:
    row = _task(call)
    tasks(call.portal).delete(row["ID"])
    for item in checklist_of(call.portal, row["ID"]):
        checklist(call.portal).delete(item["ID"])
    crm_misc.drop_task_activities(call.portal, row["ID"])
    _event(call.portal, "ONTASKDELETE", row["ID"], None, call)
    return {"task": True}


_LIST_TYPES = {"ID": "integer", "STATUS": "integer", "PRIORITY": "integer", "RESPONSIBLE_ID": "integer",
               "CREATED_BY": "integer", "GROUP_ID": "integer", "PARENT_ID": "integer", "ACCOMPLICES": "integer",
               "AUDITORS": "integer", **{k: "datetime" for k in _DT}}


def _upper_keys(obj: Any) -> Any:
    from ..listing import split_operator

    if not isinstance(obj, dict):
        return obj
    out = {}
    for k, v in obj.items():
        key = str(k)
        if key.upper() == "LOGIC":
            out[key] = v
            continue
        op, name = split_operator(key)
        prefix = key[: len(key) - len(name)]
        target = FIELD_NAMES.get(name, name.upper())
        if target == "REAL_STATUS":
            target = "STATUS"
        out[prefix + target] = v
    return out


@rest_method("tasks.task.list", "task")
def task_list(call: Call) -> ListResult:
    flt = call.param("filter")
    flt = _upper_keys(flt) if isinstance(flt, dict) else None
    view = TableView(tasks(call.portal))
    if flt and "MEMBER" in {k.lstrip("=!<>@%") for k in flt}:
        member = to_int(flt.pop(next(k for k in flt if k.lstrip("=!<>@%") == "MEMBER")))
        view = view.sub(member_task_ids(call.portal, member))
    order = call.param("order")
    page = fast_paginate(view, filter=flt, order=_upper_keys(order) if isinstance(order, dict) else None,
                         start=call.param("start"), field_types=_LIST_TYPES,
                         known_fields=list(FIELD_NAMES.values()) + ["REAL_STATUS"], select=["*", "UF_*"], tz=MSK)
    select = call.param("select")
    page.items = {"tasks": [task_out(call.portal, tasks(call.portal).get(r["ID"]), select) for r in page.items]}
    return page


@rest_method("tasks.task.getfields", "task")
def task_getfields(call: Call) -> dict[str, Any]:
    return {"fields": {upper: {"title": camel, "type": "datetime" if upper in _DT else
                               ("integer" if upper in _LIST_TYPES else "string")}
                       for camel, upper in FIELD_NAMES.items()}}


# --------------------------------------------------------------------------- checklists


def _positional(call: Call, index: int, *names: str) -> Any:
    value = call.param(*names)
    if value is None:
        value = call.params.get(str(index), call.params.get(index))  # type: ignore[call-overload]
    return value


def _checklist_task(call: Call) -> dict[str, Any]:
    tid = to_int(_positional(call, 0, "TASKID", "taskId"))
    row = tasks(call.portal).get(tid) if tid else None
    if row is None:
        raise core_error("TASKS_ERROR_EXCEPTION_#8; Adding item: action not allowed; 8/TE/ACTION_FAILED_TO_BE_PROCESSED")
    return row


@rest_method("task.checklistitem.add", "task")
def checklist_add(call: Call) -> int:
    task = _checklist_task(call)
    raw = _positional(call, 1, "FIELDS", "fields")
    f = {str(k).upper(): v for k, v in raw.items()} if isinstance(raw, dict) else {}
    title = str(f.get("TITLE") or "").strip()
    if not title:
        raise core_error("TASKS_ERROR_EXCEPTION_#4; Checklist item title is empty; 4/TE/WRONG_ARGUMENTS")
    tbl = checklist(call.portal)
    rid = tbl.next_id()
    siblings = [r for r in checklist_of(call.portal, task["ID"]) if (r.get("PARENT_ID") or 0) == (to_int(f.get("PARENT_ID")) or 0)]
    members = f.get("MEMBERS") if isinstance(f.get("MEMBERS"), dict) else {}
    row = {"ID": rid, "TASK_ID": task["ID"], "PARENT_ID": to_int(f.get("PARENT_ID"), 0) or 0, "CREATED_BY": call.user_id,
           "TITLE": title, "SORT_INDEX": to_int(f.get("SORT_INDEX"), len(siblings)) or 0,
           "IS_COMPLETE": yn(f.get("IS_COMPLETE")), "IS_IMPORTANT": yn(f.get("IS_IMPORTANT")), "TOGGLED_BY": None,
           "TOGGLED_DATE": None, "MEMBERS": [{"ID": str(k), "TYPE": (v or {}).get("TYPE", "A")}
                                             for k, v in members.items() if isinstance(v, dict)]}
    tbl.save(rid, row)
    return rid


@rest_method("task.checklistitem.getlist", "task")
def checklist_getlist(call: Call) -> list[dict[str, Any]]:
    task = _checklist_task(call)
    items = sorted(checklist_of(call.portal, task["ID"]), key=lambda r: (r["PARENT_ID"], r["SORT_INDEX"], r["ID"]))
    return [checklist_out(r) for r in items]


def _checklist_item(call: Call) -> dict[str, Any]:
    task = _checklist_task(call)
    iid = to_int(_positional(call, 1, "ITEMID", "itemId"))
    row = checklist(call.portal).get(iid) if iid else None
    if row is None or row["TASK_ID"] != task["ID"]:
        raise core_error("TASKS_ERROR_EXCEPTION_#256; Checklist item not found; 256/TE/ITEM_NOT_FOUND")
    return dict(row)


@rest_method("task.checklistitem.get", "task")
def checklist_get(call: Call) -> dict[str, Any]:
    return checklist_out(_checklist_item(call))


def _toggle(call: Call, done: str) -> bool:
    row = _checklist_item(call)
    row["IS_COMPLETE"] = done
    row["TOGGLED_BY"] = call.user_id
    row["TOGGLED_DATE"] = now_iso(call.portal)
    checklist(call.portal).save(row["ID"], row)
    return True


@rest_method("task.checklistitem.complete", "task")
def checklist_complete(call: Call) -> bool:
    return _toggle(call, "Y")


@rest_method("task.checklistitem.renew", "task")
def checklist_renew(call: Call) -> bool:
    return _toggle(call, "N")


@rest_method("task.checklistitem.delete", "task")
def checklist_delete(call: Call) -> bool:
    row = _checklist_item(call)
    checklist(call.portal).delete(row["ID"])
    return True
