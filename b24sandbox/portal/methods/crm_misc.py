"""Duplicates search, timeline comments and activities: crm.duplicate.findbycomm,
crm.timeline.comment.*, crm.activity.* and crm.activity.todo.add.

Phone matching (crm.duplicate.findbycomm and its index): a phone is reduced to its digits; an
11-digit Russian number starting with 8 is read as +7 (``8 (912) 345-67-89`` = ``+7 912 345 67 89``);
a 10-digit number gets the country code 7 prepended. E-mails match case-insensitively after trimming.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from ..api import Call, ListResult, Platform, RestError, legacy_crm_error, rest_method
from ._common import (
    MSK,
    GroupIndex,
    TableView,
    as_list,
    fast_paginate,
    int_values,
    iso,
    legacy_id,
    now_iso,
    table,
    to_int,
    top_level_and,
    yn,
)

ENTITY_TYPE_NAMES = {1: "lead", 2: "deal", 3: "contact", 4: "company", 31: "smart_invoice"}
ENTITY_TYPE_IDS = {v: k for k, v in ENTITY_TYPE_NAMES.items()}


# --------------------------------------------------------------------------- duplicates


def normalize_phone(value: str) -> str:
    digits = re.sub(r"\D", "", str(value or ""))
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    elif len(digits) == 10:
        digits = "7" + digits
    return digits


def normalize_comm(kind: str, value: str) -> str:
    return normalize_phone(value) if kind == "PHONE" else str(value or "").strip().lower()


def _comm_keys(row: dict[str, Any]) -> list[tuple[str, str]]:
    keys = []
    for kind in ("PHONE", "EMAIL"):
        for item in row.get(kind) or []:
            value = normalize_comm(kind, item["VALUE"])
            if value:
                keys.append((kind, value))
    return keys


def _comm_index(portal: Platform, entity: str) -> GroupIndex:
    """``(PHONE|EMAIL, normalized value) -> ids`` of one entity's rows, kept in step with its writes."""
    from .crm_entities import rows

    return rows(portal, entity).index("comm", lambda: GroupIndex(_comm_keys))


@rest_method("crm.duplicate.findbycomm", "crm")
def duplicate_findbycomm(call: Call) -> dict[str, list[int]]:
    kind = str(call.param("type") or "").upper()
    if kind not in ("PHONE", "EMAIL"):
        raise legacy_crm_error("Communication type is not defined.")
    values = [v for v in as_list(call.param("values")) if str(v).strip()]
    if not values:
        raise legacy_crm_error("Communication values is not defined.")
    if len(values) > 20:
        raise legacy_crm_error("Communication values is too many. Maximum count is 20.")
    entity_type = str(call.param("entity_type") or "").upper()
    if entity_type and entity_type not in ("LEAD", "CONTACT", "COMPANY"):
        raise legacy_crm_error(f"Entity type '{entity_type}' is not supported in current context.")
    out: dict[str, list[int]] = {}
    for value in values:
        key = (kind, normalize_comm(kind, str(value)))
        for entity in ("lead", "contact", "company"):
            ids = _comm_index(call.portal, entity).ids(key) if key[1] else []
            if not ids or (entity_type and entity.upper() != entity_type):
                continue
            bucket = out.setdefault(entity.upper(), [])
            for rid in ids[:20]:
                if rid not in bucket:
                    bucket.append(rid)
    return out


# --------------------------------------------------------------------------- timeline comments


def comments(portal: Platform):
    return table(portal, "crm_timeline_comment")


def _entity_exists(portal: Platform, type_name: str, entity_id: int) -> bool:
    from . import crm_entities, crm_item

    if type_name in ("lead", "deal", "contact", "company"):
        return crm_entities.rows(portal, type_name).get(entity_id) is not None
    if type_name == "smart_invoice":
        return crm_item.invoices(portal).get(entity_id) is not None
    return False


def comment_out(row: dict[str, Any]) -> dict[str, Any]:
    out = {"ID": str(row["ID"]), "CREATED": row["CREATED"], "ENTITY_ID": row["ENTITY_ID"],
           "ENTITY_TYPE": row["ENTITY_TYPE"], "AUTHOR_ID": str(row["AUTHOR_ID"]), "COMMENT": row["COMMENT"]}
    if row.get("FILES"):
        out["FILES"] = {str(f["id"]): f for f in row["FILES"]}
    return out


def _store_files(portal: Platform, files: Any, author: int) -> list[dict[str, Any]]:
    from . import disk

    out = []
    for item in as_list(files):
        if isinstance(item, dict):
            item = list(item.values())
        if not isinstance(item, list) or len(item) < 2:
            continue
        try:
            content = base64.b64decode(str(item[1]))
        except ValueError:
            continue
        stored = disk.store_attachment(portal, str(item[0]), content, author)
        out.append({"id": stored["ID"], "date": stored["CREATE_TIME"], "type": "file",
                    "name": stored["NAME"], "size": len(content), "urlDownload": stored["DOWNLOAD_URL"],
                    "urlShow": stored["DOWNLOAD_URL"]})
    return out


@rest_method("crm.timeline.comment.add", "crm")
def comment_add(call: Call) -> int:
    fields = call.params.get("fields")
    if not isinstance(fields, dict):
        raise legacy_crm_error("The parameter 'fields' must be array.")
    f = {str(k).upper(): v for k, v in fields.items()}
    entity_id = to_int(f.get("ENTITY_ID"))
    type_name = str(f.get("ENTITY_TYPE") or "").lower()
    if not entity_id or entity_id <= 0:
        raise legacy_crm_error("ENTITY_ID is not defined or invalid.")
    if not type_name:
        raise legacy_crm_error("ENTITY_TYPE is not defined or invalid.")
    if not _entity_exists(call.portal, type_name, entity_id):
        raise legacy_crm_error("Not found")
    text = str(f.get("COMMENT") or "")
    if not text.strip():
        raise legacy_crm_error("Empty comment message.")
    tbl = comments(call.portal)
    rid = tbl.next_id()
    author = to_int(f.get("AUTHOR_ID")) or call.user_id
    row = {"ID": rid, "CREATED": now_iso(call.portal), "ENTITY_ID": entity_id, "ENTITY_TYPE": type_name,
           "AUTHOR_ID": author, "COMMENT": text, "FILES": _store_files(call.portal, f.get("FILES"), author)}
    tbl.save(rid, row)
    call.portal.fire_event("ONCRMTIMELINECOMMENTADD", {"FIELDS": {"ID": str(rid)}}, call)
    return rid


@rest_method("crm.timeline.comment.get", "crm")
def comment_get(call: Call) -> dict[str, Any]:
    row = comments(call.portal).get(legacy_id(call))
    if row is None:
        raise legacy_crm_error("Not found")
    return comment_out(row)


@rest_method("crm.timeline.comment.list", "crm")
def comment_list(call: Call) -> ListResult:
    flt = call.param("filter")
    flt = {str(k).upper(): v for k, v in flt.items()} if isinstance(flt, dict) else {}
    view = TableView(comments(call.portal), comment_out)
    conds = top_level_and(flt)
    entity_ids = int_values(conds, "ENTITY_ID") if conds else None
    if entity_ids is not None:  # the comments of some items: their ids from the index, not every comment
        idx = comments(call.portal).index("by_entity", lambda: GroupIndex(lambda r: (r["ENTITY_ID"],)))
        view = view.sub(sorted({rid for eid in entity_ids for rid in idx.ids(eid)}))
    return fast_paginate(view, filter=flt, order=call.param("order"), select=call.param("select"),
                         start=call.param("start"), field_types={"ID": "integer", "ENTITY_ID": "integer",
                                                                 "AUTHOR_ID": "integer", "CREATED": "datetime"},
                         known_fields=["ID", "CREATED", "ENTITY_ID", "ENTITY_TYPE", "AUTHOR_ID", "COMMENT", "FILES"],
                         tz=MSK)


@rest_method("crm.timeline.comment.update", "crm")
def comment_update(call: Call) -> int:
    rid = legacy_id(call)
    row = comments(call.portal).get(rid)
    if row is None:
        raise legacy_crm_error("Not found")
    fields = call.params.get("fields")
    if not isinstance(fields, dict):
        raise legacy_crm_error("The parameter 'fields' must be array.")
    row = dict(row)
    f = {str(k).upper(): v for k, v in fields.items()}
    if "COMMENT" in f:
        row["COMMENT"] = str(f["COMMENT"])
    comments(call.portal).save(rid, row)
    call.portal.fire_event("ONCRMTIMELINECOMMENTUPDATE", {"FIELDS": {"ID": str(rid)}}, call)
    return rid


@rest_method("crm.timeline.comment.delete", "crm")
def comment_delete(call: Call) -> None:
    rid = legacy_id(call)
    if comments(call.portal).get(rid) is None:
        raise legacy_crm_error("Not found")
    comments(call.portal).delete(rid)
    call.portal.fire_event("ONCRMTIMELINECOMMENTDELETE", {"FIELDS": {"ID": str(rid)}}, call)
    return None


# --------------------------------------------------------------------------- activities

ACTIVITY_INT = {"ID", "OWNER_ID", "OWNER_TYPE_ID", "TYPE_ID", "PROVIDER_TYPE_ID", "ASSOCIATED_ENTITY_ID",
                "RESPONSIBLE_ID", "AUTHOR_ID", "EDITOR_ID", "PRIORITY", "STATUS", "DIRECTION",
                "DESCRIPTION_TYPE"}
ACTIVITY_FIELDS = ["ID", "OWNER_ID", "OWNER_TYPE_ID", "TYPE_ID", "PROVIDER_ID", "PROVIDER_TYPE_ID",
                   "PROVIDER_GROUP_ID", "ASSOCIATED_ENTITY_ID", "SUBJECT", "CREATED", "LAST_UPDATED",
                   "START_TIME", "END_TIME", "DEADLINE", "COMPLETED", "STATUS", "RESPONSIBLE_ID", "PRIORITY",
                   "NOTIFY_TYPE", "NOTIFY_VALUE", "DESCRIPTION", "DESCRIPTION_TYPE", "DIRECTION", "LOCATION",
                   "SETTINGS", "ORIGINATOR_ID", "ORIGIN_ID", "AUTHOR_ID", "EDITOR_ID", "PROVIDER_PARAMS",
                   "PROVIDER_DATA", "RESULT_MARK", "RESULT_VALUE", "RESULT_SUM", "RESULT_CURRENCY_ID",
                   "RESULT_STATUS", "RESULT_STREAM", "RESULT_SOURCE_ID", "AUTOCOMPLETE_RULE", "BINDINGS",
                   "COMMUNICATIONS"]
PROVIDERS = {1: ("CRM_MEETING", "MEETING"), 2: ("VOXIMPLANT_CALL", "CALL"), 3: ("TASKS_TASK", "TASK"),
             4: ("CRM_EMAIL", "EMAIL"), 6: ("CRM_TODO", "TODO")}


def activities(portal: Platform):
    return table(portal, "crm_activity")


def activity_out(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ACTIVITY_FIELDS:
        v = row.get(key)
        if key in ACTIVITY_INT or key.endswith("_ID") and isinstance(v, int):
            v = None if v is None else str(v)
        elif key in ("START_TIME", "END_TIME", "DEADLINE", "CREATED", "LAST_UPDATED"):
            v = v or ""
        if key == "COMMUNICATIONS" and v is None:
            continue
        out[key] = v
    return out


def _owner_ok(portal: Platform, owner_type: int | None, owner_id: int | None) -> bool:
    name = ENTITY_TYPE_NAMES.get(owner_type or 0)
    return bool(name and owner_id and _entity_exists(portal, name, owner_id))


def create_activity(portal: Platform, data: dict[str, Any], user_id: int, call: Call | None) -> dict[str, Any]:
    tbl = activities(portal)
    rid = tbl.next_id()
    now = now_iso(portal)
    type_id = to_int(data.get("TYPE_ID"), 6) or 6
    provider, provider_type = PROVIDERS.get(type_id, ("CRM_TODO", "TODO"))
    completed = yn(data.get("COMPLETED"))
    row = {
        "ID": rid, "OWNER_ID": to_int(data.get("OWNER_ID")), "OWNER_TYPE_ID": to_int(data.get("OWNER_TYPE_ID")),
        "TYPE_ID": type_id, "PROVIDER_ID": data.get("PROVIDER_ID") or provider,
        "PROVIDER_TYPE_ID": data.get("PROVIDER_TYPE_ID") or provider_type, "PROVIDER_GROUP_ID": None,
        "ASSOCIATED_ENTITY_ID": to_int(data.get("ASSOCIATED_ENTITY_ID"), 0),
        "SUBJECT": str(data.get("SUBJECT") or ""), "CREATED": now, "LAST_UPDATED": now,
        "START_TIME": iso(data.get("START_TIME")) or iso(data.get("DEADLINE")) or now,
        "END_TIME": iso(data.get("END_TIME")) or iso(data.get("DEADLINE")) or now,
        "DEADLINE": iso(data.get("DEADLINE")) or iso(data.get("END_TIME")) or now,
        "COMPLETED": completed, "STATUS": 2 if completed == "Y" else 1,
        "RESPONSIBLE_ID": to_int(data.get("RESPONSIBLE_ID")) or user_id,
        "PRIORITY": to_int(data.get("PRIORITY"), 2), "NOTIFY_TYPE": "0", "NOTIFY_VALUE": "0",
        "DESCRIPTION": str(data.get("DESCRIPTION") or ""), "DESCRIPTION_TYPE": to_int(data.get("DESCRIPTION_TYPE"), 1),
        "DIRECTION": to_int(data.get("DIRECTION"), 0), "LOCATION": str(data.get("LOCATION") or ""),
        "SETTINGS": [], "ORIGINATOR_ID": data.get("ORIGINATOR_ID"), "ORIGIN_ID": data.get("ORIGIN_ID"),
        "AUTHOR_ID": user_id, "EDITOR_ID": user_id, "PROVIDER_PARAMS": [], "PROVIDER_DATA": None,
        "RESULT_MARK": "0", "RESULT_VALUE": None, "RESULT_SUM": None, "RESULT_CURRENCY_ID": None,
        "RESULT_STATUS": "0", "RESULT_STREAM": "0", "RESULT_SOURCE_ID": None, "AUTOCOMPLETE_RULE": "0",
        "BINDINGS": [{"OWNER_TYPE_ID": str(to_int(data.get("OWNER_TYPE_ID"))),
                      "OWNER_ID": str(to_int(data.get("OWNER_ID")))}],
        "COMMUNICATIONS": data.get("COMMUNICATIONS") or None,
    }
    tbl.save(rid, row)
    portal.fire_event("ONCRMACTIVITYADD", {"FIELDS": {"ID": str(rid)}}, call)
    return row


def _task_activity_ids(portal: Platform, task_id: int) -> list[int]:
    """Ids (ascending) of the task-type activities (TYPE_ID 3) of one task."""
    idx = activities(portal).index("by_task", lambda: GroupIndex(
        lambda r: [r["ASSOCIATED_ENTITY_ID"]] if r["TYPE_ID"] == 3 else []))
    return idx.ids(task_id)


def task_activity(portal: Platform, task: dict[str, Any], bindings: list[tuple[int, int]], call: Call | None) -> None:
    """The task-type activity (TYPE_ID 3, provider TASKS_TASK) of a task bound to CRM items."""
    tbl = activities(portal)
    for owner_type, owner_id in bindings:
        existing = [r for r in (tbl.rows[i] for i in _task_activity_ids(portal, task["ID"]))
                    if r["OWNER_TYPE_ID"] == owner_type and r["OWNER_ID"] == owner_id]
        if existing:
            row = dict(existing[0])
            row.update({"SUBJECT": task["TITLE"], "DEADLINE": task.get("DEADLINE") or row["DEADLINE"],
                        "COMPLETED": "Y" if task["STATUS"] == 5 else "N",
                        "RESPONSIBLE_ID": task["RESPONSIBLE_ID"], "LAST_UPDATED": now_iso(portal)})
            activities(portal).save(row["ID"], row)
            continue
        create_activity(portal, {"OWNER_TYPE_ID": owner_type, "OWNER_ID": owner_id, "TYPE_ID": 3,
                                 "SUBJECT": task["TITLE"], "DESCRIPTION": task.get("DESCRIPTION") or "",
                                 "RESPONSIBLE_ID": task["RESPONSIBLE_ID"], "DEADLINE": task.get("DEADLINE"),
                                 "ASSOCIATED_ENTITY_ID": task["ID"],
                                 "COMPLETED": "Y" if task["STATUS"] == 5 else "N"}, task["CREATED_BY"], call)


def drop_task_activities(portal: Platform, task_id: int) -> None:
    for rid in list(_task_activity_ids(portal, task_id)):
        activities(portal).delete(rid)


@rest_method("crm.activity.fields", "crm")
def activity_fields(call: Call) -> dict[str, Any]:
    return {k: {"type": "integer" if k in ACTIVITY_INT else "string", "isRequired":
                k in ("OWNER_ID", "OWNER_TYPE_ID", "TYPE_ID"), "isReadOnly": k in ("ID", "CREATED", "LAST_UPDATED",
                                                                                   "AUTHOR_ID", "EDITOR_ID"),
                "isImmutable": False, "isMultiple": k in ("BINDINGS", "COMMUNICATIONS"), "isDynamic": False,
                "title": k} for k in ACTIVITY_FIELDS}


@rest_method("crm.activity.add", "crm")
def activity_add(call: Call) -> int:
    raw = call.param("fields")
    if not isinstance(raw, dict):
        raise legacy_crm_error("Parameter 'fields' must be array.")
    f = {str(k).upper(): v for k, v in raw.items()}
    owner_type, owner_id = to_int(f.get("OWNER_TYPE_ID")), to_int(f.get("OWNER_ID"))
    if not owner_type or not owner_id:
        raise legacy_crm_error("The field OWNER_ID and OWNER_TYPE_ID are required.")
    type_id = to_int(f.get("TYPE_ID"))
    if type_id not in (1, 2, 4, 6):
        if type_id == 3:
            raise legacy_crm_error("Use tasks.task.add with UF_CRM_TASK to create a task activity.")
        raise legacy_crm_error("The field TYPE_ID is not defined or invalid.")
    if not _owner_ok(call.portal, owner_type, owner_id):
        raise legacy_crm_error("Owner entity is not found.")
    if type_id in (1, 2, 4) and not as_list(f.get("COMMUNICATIONS")):
        raise legacy_crm_error("The field COMMUNICATIONS is not defined or invalid.")
    if type_id in (1, 2, 4):
        f["COMMUNICATIONS"] = [{str(k).upper(): v for k, v in c.items()} for c in as_list(f["COMMUNICATIONS"])
                               if isinstance(c, dict)]
    return create_activity(call.portal, f, call.user_id, call)["ID"]


@rest_method("crm.activity.get", "crm")
def activity_get(call: Call) -> dict[str, Any]:
    row = activities(call.portal).get(legacy_id(call))
    if row is None:
        raise legacy_crm_error("Not found")
    return activity_out(row)


@rest_method("crm.activity.list", "crm")
def activity_list(call: Call) -> ListResult:
    flt = call.param("filter")
    types = {k: "integer" for k in ACTIVITY_INT}
    types.update({"START_TIME": "datetime", "END_TIME": "datetime", "DEADLINE": "datetime",
                  "CREATED": "datetime", "LAST_UPDATED": "datetime", "COMPLETED": "char"})
    page = fast_paginate(TableView(activities(call.portal)), filter=flt if isinstance(flt, dict) else None,
                         order=call.param("order"), select=call.param("select"), start=call.param("start"),
                         field_types=types, known_fields=ACTIVITY_FIELDS, always_select=("ID",), tz=MSK)
    page.items = [{k: v for k, v in activity_out(r).items() if k in r} for r in page.items]
    return page


@rest_method("crm.activity.update", "crm")
def activity_update(call: Call) -> bool:
    rid = legacy_id(call)
    row = activities(call.portal).get(rid)
    if row is None:
        raise legacy_crm_error("Not found")
    raw = call.param("fields")
    if not isinstance(raw, dict):
        raise legacy_crm_error("Parameter 'fields' must be array.")
    row = dict(row)
    for key, value in raw.items():
        k = str(key).upper()
        if k in ("SUBJECT", "DESCRIPTION", "LOCATION"):
            row[k] = str(value)
        elif k in ("START_TIME", "END_TIME", "DEADLINE"):
            row[k] = iso(value) or row[k]
        elif k == "COMPLETED":
            row["COMPLETED"] = yn(value)
            row["STATUS"] = 2 if row["COMPLETED"] == "Y" else 1
        elif k in ("RESPONSIBLE_ID", "PRIORITY", "DIRECTION"):
            row[k] = to_int(value, row.get(k))
    row["LAST_UPDATED"] = now_iso(call.portal)
    row["EDITOR_ID"] = call.user_id
    activities(call.portal).save(rid, row)
    call.portal.fire_event("ONCRMACTIVITYUPDATE", {"FIELDS": {"ID": str(rid)}}, call)
    return True


@rest_method("crm.activity.delete", "crm")
def activity_delete(call: Call) -> bool:
    rid = legacy_id(call)
    if activities(call.portal).get(rid) is None:
        raise legacy_crm_error("Not found")
    activities(call.portal).delete(rid)
    call.portal.fire_event("ONCRMACTIVITYDELETE", {"FIELDS": {"ID": str(rid)}}, call)
    return True


@rest_method("crm.activity.todo.add", "crm")
def activity_todo_add(call: Call) -> dict[str, int]:
    owner_type, owner_id = to_int(call.param("ownerTypeId")), to_int(call.param("ownerId"))
    deadline = call.param("deadline")
    if owner_type is None:
        raise RestError("100", "Could not find value for parameter {ownerTypeId}")
    if owner_id is None:
        raise RestError("100", "Could not find value for parameter {ownerId}")
    if not deadline:
        raise RestError("100", "Could not find value for parameter {deadline}")
    if iso(deadline) is None:
        raise RestError("INVALID_ARG_VALUE", "Invalid value for parameter {deadline}")
    if not _owner_ok(call.portal, owner_type, owner_id):
        raise RestError("NOT_FOUND", "Элемент не найден")
    row = create_activity(call.portal, {"OWNER_TYPE_ID": owner_type, "OWNER_ID": owner_id, "TYPE_ID": 6,
                                        "SUBJECT": call.param("title") or "", "DESCRIPTION":
                                        call.param("description") or "", "DEADLINE": deadline,
                                        "RESPONSIBLE_ID": to_int(call.param("responsibleId")) or call.user_id},
                          call.user_id, call)
    return {"id": row["ID"]}
