"""Putting a contract into the portal: the file on the app's Disk, the deal's fields, a timeline comment.

Every create is an idempotent effect (b24app.store.effects) with a ``find`` that looks the object up by
what we wrote into it, so a retry after a lost answer never makes a second file or comment:

- Disk: ``disk.storage.getforapp`` -> the deal's folder (``Сделка 123``, found by name) ->
  ``disk.folder.uploadfile`` without ``generateUniqueName`` (found by file name; the name holds the number,
  which is unique);
- deal user fields are created at first use (found by ``FIELD_NAME``): number, date, link, and the
  enumeration «Тип договора» whose items carry the type codes in ``XML_ID``, so automation rules can
  branch on it; new types in the settings are added to the list;
- the timeline comment carries the number; it is found by its text.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from b24app.errors import BitrixError
from b24app.store import effects

FIELD_NUMBER = "UF_CRM_B24APP_CONTRACT_NO"
FIELD_DATE = "UF_CRM_B24APP_CONTRACT_DATE"
FIELD_TYPE = "UF_CRM_B24APP_CONTRACT_TYPE"
FIELD_URL = "UF_CRM_B24APP_CONTRACT_URL"

FIELDS: tuple[tuple[str, str, str, str], ...] = (
    # FIELD_NAME, USER_TYPE_ID, label ru, label en
    (FIELD_NUMBER, "string", "Номер договора", "Contract number"),
    (FIELD_DATE, "date", "Дата договора", "Contract date"),
    (FIELD_TYPE, "enumeration", "Тип договора", "Contract type"),
    (FIELD_URL, "url", "Договор (файл)", "Contract (file)"),
)

_BAD_NAME_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def file_name(title: str, number: str, ext: str) -> str:
    """``Договор поставки Д-26-0001-МП.docx``: characters Disk refuses become ``-``."""
    safe = _BAD_NAME_CHARS.sub("-", f"{title} {number}".strip()).strip(" .-") or "document"
    return f"{safe[:200]}.{ext}"


def _field_suffix(name: str) -> str:
    return name.removeprefix("UF_CRM_")


# --- Disk ---------------------------------------------------------------------------------------------


def _children(client: Any, folder_id: int) -> list[dict[str, Any]]:
    rows = client.call("disk.folder.getchildren", {"id": folder_id}) or []
    return [r for r in (rows.values() if isinstance(rows, dict) else rows) if isinstance(r, dict)]


def _find_child(client: Any, folder_id: int, name: str, kind: str) -> dict[str, Any] | None:
    for row in _children(client, folder_id):
        if str(row.get("NAME", "")).lower() == name.lower() and row.get("TYPE") == kind:
            return row
    return None


def deal_folder(ctx: Any, deal_id: int, folder_name: str) -> int:
    """The id of the deal's folder in the app's storage (created once)."""
    client = ctx.client
    storage = client.call("disk.storage.getforapp") or {}
    root = int(storage["ROOT_OBJECT_ID"])

    def find() -> int | None:
        row = _find_child(client, root, folder_name, "folder")
        return int(row["ID"]) if row else None

    def create() -> int:
        try:
            row = client.call("disk.folder.addsubfolder", {"id": root, "data": {"NAME": folder_name}})
        except BitrixError:
            found = find()  # made by a parallel run, or by an earlier attempt whose answer was lost
            if found is None:
                raise
            return found
        return int(row["ID"])

    key = f"contracts:folder:{root}:{folder_name}"
    folder_id = int(effects.ensure(ctx.db, ctx.member_id, key, create, find))
    try:
        client.call("disk.folder.get", {"id": folder_id})
    except BitrixError as exc:
        if exc.code != "ERROR_NOT_FOUND":
            raise
        effects.forget(ctx.db, ctx.member_id, key)  # someone deleted the folder on Disk: make it again
        folder_id = int(effects.ensure(ctx.db, ctx.member_id, key, create, find))
    return folder_id


def upload(ctx: Any, folder_id: int, name: str, content: bytes, effect_key: str) -> dict[str, Any]:
    """Upload ``content`` as ``name`` once; returns ``{"id", "name", "url", "download_url"}``."""
    client = ctx.client

    def as_result(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": int(row["ID"]),
            "name": row.get("NAME") or name,
            "url": row.get("DETAIL_URL") or "",
            "download_url": row.get("DOWNLOAD_URL") or "",
        }

    def find() -> dict[str, Any] | None:
        row = _find_child(client, folder_id, name, "file")
        return as_result(row) if row else None

    def create() -> dict[str, Any]:
        try:
            row = client.call(
                "disk.folder.uploadfile",
                {
                    "id": folder_id,
                    "data": {"NAME": name},
                    "fileContent": [name, base64.b64encode(content).decode("ascii")],
                },
            )
        except BitrixError:
            found = find()  # the same name exists: an earlier attempt stored it
            if found is None:
                raise
            return found
        return as_result(row)

    return effects.ensure(ctx.db, ctx.member_id, effect_key, create, find)


# --- deal fields --------------------------------------------------------------------------------------


def ensure_fields(ctx: Any, types: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The app's deal fields by FIELD_NAME (created when missing; type items added when new)."""
    client = ctx.client

    def current() -> dict[str, dict[str, Any]]:
        rows = client.call("crm.deal.userfield.list", {}) or []
        rows = rows.values() if isinstance(rows, dict) else rows
        return {str(r.get("FIELD_NAME")): r for r in rows if isinstance(r, dict)}

    fields = current()
    changed = False
    for name, type_id, label_ru, label_en in FIELDS:
        if name in fields:
            continue
        body: dict[str, Any] = {
            "FIELD_NAME": _field_suffix(name),
            "USER_TYPE_ID": type_id,
            "XML_ID": name.lower(),
            "EDIT_FORM_LABEL": {"ru": label_ru, "en": label_en},
            "LIST_COLUMN_LABEL": {"ru": label_ru, "en": label_en},
            "LIST_FILTER_LABEL": {"ru": label_ru, "en": label_en},
            "LABEL": label_ru,
            "SHOW_FILTER": "Y",
            "MULTIPLE": "N",
            "MANDATORY": "N",
        }
        if type_id == "enumeration":
            body["LIST"] = [
                {"VALUE": t["label"], "XML_ID": t["code"], "SORT": (i + 1) * 10} for i, t in enumerate(types)
            ]
        try:
            client.call("crm.deal.userfield.add", {"fields": body})
        except BitrixError:
            if name not in current():  # a parallel run may have created it
                raise
        changed = True
    if changed:
        fields = current()
    enum = fields.get(FIELD_TYPE)
    if enum is not None:
        items = _items(enum)
        by_code = {str(i.get("XML_ID")): i for i in items}
        wanted = []
        for i, t in enumerate(types):
            have = by_code.get(t["code"])
            if have is None:
                wanted.append({"VALUE": t["label"], "XML_ID": t["code"], "SORT": (len(items) + i + 1) * 10})
            elif str(have.get("VALUE")) != t["label"]:
                wanted.append({"ID": have["ID"], "VALUE": t["label"]})
        if wanted:
            client.call("crm.deal.userfield.update", {"id": enum["ID"], "fields": {"LIST": wanted}})
            fields = current()
    return fields


def _items(field: dict[str, Any]) -> list[dict[str, Any]]:
    items = field.get("LIST") or []
    items = items.values() if isinstance(items, dict) else items
    return [i for i in items if isinstance(i, dict)]


def enum_item_id(fields: dict[str, dict[str, Any]], type_code: str) -> int | None:
    enum = fields.get(FIELD_TYPE)
    for item in _items(enum or {}):
        if str(item.get("XML_ID")) == type_code:
            return int(item["ID"])
    return None


def write_deal_fields(ctx: Any, deal_id: int, values: dict[str, Any]) -> None:
    """Set the deal's contract fields (an update: repeating it changes nothing)."""
    ctx.client.call(
        "crm.deal.update", {"id": deal_id, "fields": values, "params": {"REGISTER_SONET_EVENT": "N"}}
    )


# --- timeline -----------------------------------------------------------------------------------------


def timeline_comment(
    ctx: Any, deal_id: int, text: str, files: list[tuple[str, bytes]], effect_key: str
) -> int:
    """One comment on the deal's timeline with the files attached (found by its text on a retry)."""
    client = ctx.client

    def find() -> int | None:
        rows = (
            client.call(
                "crm.timeline.comment.list",
                {
                    "filter": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"},
                    "order": {"ID": "DESC"},
                },
            )
            or []
        )
        for row in rows:
            if isinstance(row, dict) and str(row.get("COMMENT", "")).strip() == text.strip():
                return int(row["ID"])
        return None

    def create() -> int:
        try:
            return int(
                client.call(
                    "crm.timeline.comment.add",
                    {
                        "fields": {
                            "ENTITY_ID": deal_id,
                            "ENTITY_TYPE": "deal",
                            "COMMENT": text,
                            "FILES": [[name, base64.b64encode(data).decode("ascii")] for name, data in files],
                        }
                    },
                )
            )
        except BitrixError:
            found = find()  # the answer was lost after the portal stored the comment
            if found is None:
                raise
            return found

    return int(effects.ensure(ctx.db, ctx.member_id, effect_key, create, find))
