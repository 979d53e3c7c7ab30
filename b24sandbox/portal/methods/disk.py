"""Disk: disk.storage.getforapp (one storage per application), disk.folder.addsubfolder,
disk.folder.getchildren, disk.folder.uploadfile (``fileContent`` base64, or the two-step form that
answers ``{"field": "file", "uploadUrl"}`` for a multipart POST), disk.file.get, disk.file.delete.

File bytes are kept next to the portal's SQLite file (``<db>.files/<id>``), or in a table for an
in-memory portal. ``DOWNLOAD_URL`` points at this sandbox (``/_sandbox/disk/<member_id>/<id>/<token>``)
and really serves the bytes.
"""

from __future__ import annotations

import base64
import os
import secrets
from typing import Any

from flask import Blueprint, Response, abort, has_request_context, jsonify, request

from ..api import CONTROL_BLUEPRINTS, SERVICES, Call, Platform, RestError, rest_method
from ._common import as_list, now_iso, table, to_int, yn


def storages(portal: Platform):
    return table(portal, "disk_storage")


def objects(portal: Platform):
    return table(portal, "disk_object")


def _base_url(portal: Platform | None = None) -> str:
    """The sandbox server's root URL (ends with ``/``)."""
    base = getattr(getattr(portal, "sandbox", None), "base_url", None)
    if base:
        return str(base).rstrip("/") + "/"
    if has_request_context():
        return request.host_url
    return "http://127.0.0.1/"


def _files_dir(portal: Platform) -> str | None:
    for _, name, path in portal.db.execute("PRAGMA database_list").fetchall():
        if name == "main" and path:
            d = path + ".files"
            os.makedirs(d, exist_ok=True)
            return d
    return None


def _write_bytes(portal: Platform, fid: int, content: bytes) -> None:
    d = _files_dir(portal)
    if d:
        with open(os.path.join(d, str(fid)), "wb") as fh:
            fh.write(content)
    else:
        portal.db.execute("CREATE TABLE IF NOT EXISTS disk_blob (id INTEGER PRIMARY KEY, data BLOB)")
        portal.db.execute("INSERT OR REPLACE INTO disk_blob (id, data) VALUES (?, ?)", [fid, content])


def read_bytes(portal: Platform, fid: int) -> bytes | None:
    d = _files_dir(portal)
    if d:
        path = os.path.join(d, str(fid))
        if os.path.exists(path):
            with open(path, "rb") as fh:
                return fh.read()
        return None
    try:
        row = portal.db.execute("SELECT data FROM disk_blob WHERE id = ?", [fid]).fetchone()
    except Exception:
        return None
    return row[0] if row else None


def object_out(portal: Platform, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"ID": row["ID"], "NAME": row["NAME"], "CODE": None, "STORAGE_ID": str(row["STORAGE_ID"]),
                           "TYPE": row["TYPE"]}
    if row["TYPE"] == "folder":
        out["REAL_OBJECT_ID"] = str(row["ID"])
    out["PARENT_ID"] = None if not row.get("PARENT_ID") else str(row["PARENT_ID"])
    out["DELETED_TYPE"] = 0
    if row["TYPE"] == "file":
        out.update({"GLOBAL_CONTENT_VERSION": 1, "FILE_ID": row["ID"], "SIZE": str(row["SIZE"])})
    out.update({"CREATE_TIME": row["CREATE_TIME"], "UPDATE_TIME": row["UPDATE_TIME"], "DELETE_TIME": None,
                "CREATED_BY": str(row["CREATED_BY"]), "UPDATED_BY": str(row["CREATED_BY"]), "DELETED_BY": None})
    if row["TYPE"] == "file":
        out["DOWNLOAD_URL"] = f"{_base_url(portal)}_sandbox/disk/{portal.member_id}/{row['ID']}/{row['TOKEN']}"
    out["DETAIL_URL"] = f"https://{portal.domain}/docs/path/{row['NAME']}"
    return out


def _new_object(portal: Platform, *, name: str, kind: str, parent: int | None, storage: int, user: int,
                size: int = 0) -> dict[str, Any]:
    tbl = objects(portal)
    rid = tbl.next_id()
    now = now_iso(portal)
    row = {"ID": rid, "NAME": name, "TYPE": kind, "PARENT_ID": parent, "STORAGE_ID": storage, "SIZE": size,
           "CREATE_TIME": now, "UPDATE_TIME": now, "CREATED_BY": user, "TOKEN": secrets.token_hex(12)}
    tbl.save(rid, row)
    return row


def storage_for_app(portal: Platform, client_id: str, user: int) -> dict[str, Any]:
    for s in storages(portal).values():
        if s["ENTITY_ID"] == client_id:
            return s
    tbl = storages(portal)
    sid = tbl.next_id()
    row = {"ID": sid, "NAME": client_id, "CODE": None, "MODULE_ID": "disk", "ENTITY_TYPE": "restapp",
           "ENTITY_ID": client_id, "ROOT_OBJECT_ID": None}
    tbl.save(sid, row)
    root = _new_object(portal, name=client_id, kind="folder", parent=None, storage=sid, user=user)
    row = dict(row, ROOT_OBJECT_ID=root["ID"])
    tbl.save(sid, row)
    return row


def store_attachment(portal: Platform, name: str, content: bytes, user: int) -> dict[str, Any]:
    """A file outside any app storage (timeline comment attachments)."""
    storage = storage_for_app(portal, "crm.attachments", user)
    row = _new_object(portal, name=name, kind="file", parent=storage["ROOT_OBJECT_ID"], storage=storage["ID"],
                      user=user, size=len(content))
    _write_bytes(portal, row["ID"], content)
    return object_out(portal, row)


@rest_method("disk.storage.getforapp", "disk", app_only=True)
def storage_getforapp(call: Call) -> dict[str, Any]:
    s = storage_for_app(call.portal, call.client_id or "webhook", call.user_id)
    return {"ID": str(s["ID"]), "NAME": s["NAME"], "CODE": None, "MODULE_ID": "disk", "ENTITY_TYPE": "restapp",
            "ENTITY_ID": s["ENTITY_ID"], "ROOT_OBJECT_ID": str(s["ROOT_OBJECT_ID"])}


def _folder(call: Call) -> dict[str, Any]:
    fid = to_int(call.param("id"))
    row = objects(call.portal).get(fid) if fid else None
    if row is None or row["TYPE"] != "folder":
        raise RestError("ERROR_NOT_FOUND", f"Could not find entity with id '{call.param('id')}'")
    return row


def _children(portal: Platform, folder_id: int) -> list[dict[str, Any]]:
    return [r for r in objects(portal).values() if r.get("PARENT_ID") == folder_id]


def _unique_name(portal: Platform, folder_id: int, name: str, generate: bool) -> str:
    names = {r["NAME"].lower() for r in _children(portal, folder_id)}
    if name.lower() not in names:
        return name
    if not generate:
        raise RestError("DISK_OBJ_22000", "Имя объекта не уникально")
    stem, dot, ext = name.rpartition(".")
    stem, ext = (stem, "." + ext) if dot else (name, "")
    n = 1
    while f"{stem} ({n}){ext}".lower() in names:
        n += 1
    return f"{stem} ({n}){ext}"


@rest_method("disk.folder.addsubfolder", "disk")
def folder_addsubfolder(call: Call) -> dict[str, Any]:
    parent = _folder(call)
    data = call.param("data") or {}
    name = str((data or {}).get("NAME") or "").strip() if isinstance(data, dict) else ""
    if not name:
        raise RestError("ERROR_ARGUMENT", "Error: required parameter NAME", argument="NAME")
    name = _unique_name(call.portal, parent["ID"], name, False)
    row = _new_object(call.portal, name=name, kind="folder", parent=parent["ID"], storage=parent["STORAGE_ID"],
                      user=call.user_id)
    return object_out(call.portal, row)


@rest_method("disk.folder.get", "disk")
def folder_get(call: Call) -> dict[str, Any]:
    return object_out(call.portal, _folder(call))


@rest_method("disk.folder.getchildren", "disk")
def folder_getchildren(call: Call) -> list[dict[str, Any]]:
    folder = _folder(call)
    return [object_out(call.portal, r) for r in _children(call.portal, folder["ID"])]


@rest_method("disk.folder.uploadfile", "disk")
def folder_uploadfile(call: Call) -> dict[str, Any]:
    folder = _folder(call)
    data = call.param("data")
    name = str(data.get("NAME") or "").strip() if isinstance(data, dict) else ""
    content_param = call.param("fileContent")
    generate = yn(call.param("generateUniqueName")) == "Y"
    if content_param is None:
        if not name:
            raise RestError("ERROR_ARGUMENT", "Error: required parameter NAME", argument="NAME")
        token = secrets.token_hex(12)
        pending = call.portal.cache.setdefault("disk.pending", {})
        pending[token] = {"folder": folder["ID"], "name": name, "user": call.user_id, "generate": generate}
        return {"field": "file", "uploadUrl": f"{_base_url(call.portal)}_sandbox/disk/{call.portal.member_id}/upload/{token}"}
    parts = as_list(content_param)
    if len(parts) < 2:
        raise RestError("ERROR_ARGUMENT", "Invalid value of parameter fileContent", argument="fileContent")
    try:
        content = base64.b64decode(str(parts[1]), validate=False)
    except ValueError as exc:
        raise RestError("ERROR_ARGUMENT", "Invalid value of parameter fileContent", argument="fileContent") from exc
    return object_out(call.portal, save_file(call.portal, folder, name or str(parts[0]), content, call.user_id,
                                             generate))


def save_file(portal: Platform, folder: dict[str, Any], name: str, content: bytes, user: int,
              generate: bool) -> dict[str, Any]:
    name = _unique_name(portal, folder["ID"], name, generate)
    row = _new_object(portal, name=name, kind="file", parent=folder["ID"], storage=folder["STORAGE_ID"],
                      user=user, size=len(content))
    _write_bytes(portal, row["ID"], content)
    return row


def _file(call: Call) -> dict[str, Any]:
    fid = to_int(call.param("id"))
    row = objects(call.portal).get(fid) if fid else None
    if row is None or row["TYPE"] != "file":
        raise RestError("ERROR_NOT_FOUND", f"Could not find entity with id '{call.param('id')}'")
    return row


@rest_method("disk.file.get", "disk")
def file_get(call: Call) -> dict[str, Any]:
    return object_out(call.portal, _file(call))


@rest_method("disk.file.delete", "disk")
def file_delete(call: Call) -> bool:
    row = _file(call)
    objects(call.portal).delete(row["ID"])
    return True


bp = Blueprint("sandbox_disk", __name__)


def _portal(member_id: str) -> Platform:
    portal = SERVICES.get_portal(member_id) if SERVICES.get_portal else None
    if portal is None:
        abort(404)
    return portal


@bp.get("/_sandbox/disk/<member_id>/<int:file_id>/<token>")
def download(member_id: str, file_id: int, token: str):
    """The DOWNLOAD_URL of disk files: the stored bytes."""
    portal = _portal(member_id)
    with portal.lock:
        row = objects(portal).get(file_id)
        if row is None or row["TYPE"] != "file" or row["TOKEN"] != token:
            abort(404)
        content = read_bytes(portal, file_id)
    if content is None:
        abort(404)
    return Response(content, mimetype="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_quote(row['NAME'])}"})


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@bp.post("/_sandbox/disk/<member_id>/upload/<token>")
def upload(member_id: str, token: str):
    """The second step of disk.folder.uploadfile: a multipart POST with the file in field ``file``;
    answers like the REST method (``{"result": {file}}``)."""
    portal = _portal(member_id)
    with portal.lock:
        pending = portal.cache.get("disk.pending", {}).pop(token, None)
        if pending is None:
            return jsonify({"error": "ERROR_NOT_FOUND", "error_description": "Upload token is not valid"}), 400
        storage = request.files.get("file")
        if storage is None:
            return jsonify({"error": "ERROR_ARGUMENT", "error_description": "Missing file"}), 400
        folder = objects(portal).get(pending["folder"])
        row = save_file(portal, folder, pending["name"], storage.read(), pending["user"], pending["generate"])
        return jsonify({"result": object_out(portal, row)})


CONTROL_BLUEPRINTS.append(bp)
