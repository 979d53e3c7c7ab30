"""Notifications: im.notify.system.add, im.notify.personal.add, the older im.notify, and a control
route listing them (``GET /_sandbox/portals/<member_id>/notifications``). A TAG replaces the older
notification of the same application with the same tag, as on the real portal."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request

from ..api import CONTROL_BLUEPRINTS, SERVICES, Call, Platform, RestError, rest_method
from . import users
from ._common import now_iso, table, to_int

ATTACH_LIMIT = 60000


def notifications(portal: Platform):
    return table(portal, "im_notification")


def add_notification(portal: Platform, *, user_id: int, message: str, kind: str, author_id: int | None,
                     tag: str | None, sub_tag: str | None, client_id: str | None, message_out: str | None = None,
                     attach: Any = None) -> int:
    tbl = notifications(portal)
    if tag:
        for row in list(tbl.values()):
            if row.get("TAG") == tag and row.get("CLIENT_ID") == client_id and row["USER_ID"] == user_id:
                tbl.delete(row["ID"])
    rid = tbl.next_id()
    tbl.save(rid, {"ID": rid, "USER_ID": user_id, "MESSAGE": message, "MESSAGE_OUT": message_out, "KIND": kind,
                   "AUTHOR_ID": author_id, "TAG": tag or None, "SUB_TAG": sub_tag or None, "CLIENT_ID": client_id,
                   "TIME": now_iso(portal), "ATTACH": attach})
    return rid


def _add(call: Call, kind: str) -> int | bool:
    uid = to_int(call.param("USER_ID", "to"))
    if not uid:
        raise RestError("USER_ID_EMPTY", "User ID can't be empty")
    message = str(call.param("MESSAGE", "message") or "").strip()
    if not message:
        raise RestError("MESSAGE_EMPTY", "Message can't be empty")
    attach = call.param("ATTACH", "attach")
    if attach is not None and len(str(attach)) > ATTACH_LIMIT:
        raise RestError("ATTACH_OVERSIZE", "You have exceeded the maximum allowable size of attachments")
    if users.get_user(call.portal, uid) is None:
        return False
    client = call.client_id or (str(call.param("CLIENT_ID")) if call.param("CLIENT_ID") else None)
    return add_notification(call.portal, user_id=uid, message=message, kind=kind,
                            author_id=None if kind == "system" else call.user_id,
                            tag=call.param("TAG", "tag"), sub_tag=call.param("SUB_TAG", "sub_tag"),
                            client_id=client, message_out=call.param("MESSAGE_OUT"), attach=attach)


@rest_method("im.notify.system.add", "im")
def notify_system_add(call: Call) -> int | bool:
    return _add(call, "system")


@rest_method("im.notify.personal.add", "im")
def notify_personal_add(call: Call) -> int | bool:
    return _add(call, "personal")


@rest_method("im.notify", "im")
def notify(call: Call) -> int | bool:
    kind = "personal" if str(call.param("type") or "USER").upper() == "USER" else "system"
    return _add(call, kind)


def notification_out(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["ID"], "user_id": row["USER_ID"], "message": row["MESSAGE"], "tag": row.get("TAG"),
            "sub_tag": row.get("SUB_TAG"), "kind": row["KIND"], "author": row.get("AUTHOR_ID"),
            "time": row["TIME"], "client_id": row.get("CLIENT_ID"), "message_out": row.get("MESSAGE_OUT")}


bp = Blueprint("sandbox_im", __name__)


@bp.get("/_sandbox/portals/<member_id>/notifications")
def control_notifications(member_id: str):
    """All notifications of the portal, oldest first; ``?user_id=N`` filters by recipient."""
    portal = SERVICES.get_portal(member_id) if SERVICES.get_portal else None
    if portal is None:
        abort(404)
    uid = to_int(request.args.get("user_id"))
    with portal.lock:
        rows = [notification_out(r) for r in notifications(portal).values() if uid is None or r["USER_ID"] == uid]
    return jsonify(rows)


CONTROL_BLUEPRINTS.append(bp)
