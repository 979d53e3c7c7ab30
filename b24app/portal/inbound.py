"""Typed views of what a portal posts to us, parsed from PHP form bodies.

Parsing never trusts the content: it only checks shape and types, and raises
:class:`~b24app.errors.InboundRejected` (400) with a readable message. Origin is verified later
(b24app.portal.verify) against the stored installation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from b24app.errors import InboundRejected


@dataclass(frozen=True)
class AuthInfo:
    """The ``auth`` part of events and robot calls. Tokens are absent when the change was made
    by a robot, a workflow or the app itself, and always absent in ONAPPUNINSTALL."""

    member_id: str
    domain: str = ""
    client_endpoint: str = ""
    server_endpoint: str = ""
    application_token: str = ""
    access_token: str = ""
    refresh_token: str = ""
    expires: int | None = None
    expires_in: int | None = None
    user_id: int | None = None
    scope: str = ""
    status: str = ""

    @property
    def has_token(self) -> bool:
        return bool(self.access_token)


@dataclass(frozen=True)
class InboundEvent:
    event: str  # upper case, e.g. ONCRMLEADADD
    data: dict[str, Any]
    ts: int
    auth: AuthInfo
    handler_id: int | None = None

    @property
    def entity_id(self) -> str:
        """The id the event is about (FIELDS.ID for CRM, FIELDS_AFTER.ID for tasks), or ''."""
        fields = self.data.get("FIELDS") or self.data.get("FIELDS_AFTER") or self.data.get("FIELDS_BEFORE")
        if isinstance(fields, dict):
            return str(fields.get("ID", ""))
        return ""

    @property
    def dedupe_key(self) -> str:
        return f"event:{self.auth.member_id}:{self.event}:{self.entity_id}:{self.ts}:{self.handler_id or ''}"


@dataclass(frozen=True)
class RobotCall:
    workflow_id: str
    code: str
    document_id: tuple[str, str, str]
    document_type: tuple[str, str, str]
    event_token: str
    properties: dict[str, Any]
    use_subscription: bool
    timeout_duration: int
    ts: int
    auth: AuthInfo

    @property
    def entity_type(self) -> str:
        """``lead``, ``deal``, ``contact``, ``company``, ``smart_invoice``, ``dynamic_<N>`` ..."""
        doc = self.document_id[2]
        base = doc.rsplit("_", 1)[0] if "_" in doc else doc
        return base.lower()

    @property
    def entity_id(self) -> int:
        """The numeric id after the last underscore of document_id[2] (``DEAL_123`` -> 123)."""
        tail = self.document_id[2].rsplit("_", 1)[-1]
        if not tail.isdigit():
            raise InboundRejected(400, f"document_id[2] {self.document_id[2]!r} has no numeric id")
        return int(tail)

    @property
    def dedupe_key(self) -> str:
        return f"robot:{self.auth.member_id}:{self.event_token}"


@dataclass(frozen=True)
class PlacementOpen:
    """A page or widget opened inside the portal (the app page, a CRM tab, a robot slider)."""

    placement: str
    options: dict[str, Any]
    member_id: str
    domain: str
    protocol: str
    lang: str
    auth_id: str
    refresh_id: str
    auth_expires: int
    application_token: str
    server_endpoint: str
    scope: str
    status: str
    app_sid: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _text(d: dict[str, Any], key: str, *, required: bool, where: str, limit: int = 4000) -> str:
    value = d.get(key)
    if value is None or value == "":
        if required:
            raise InboundRejected(400, f"{where}: required field {key!r} is missing")
        return ""
    if not isinstance(value, str):
        raise InboundRejected(400, f"{where}: field {key!r} must be a string")
    if len(value) > limit:
        raise InboundRejected(400, f"{where}: field {key!r} is longer than {limit} characters")
    return value


def _int(d: dict[str, Any], key: str, *, required: bool, where: str) -> int | None:
    value = d.get(key)
    if value is None or value == "":
        if required:
            raise InboundRejected(400, f"{where}: required field {key!r} is missing")
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]{1,18}\s*", value):
        return int(value)
    raise InboundRejected(400, f"{where}: field {key!r} must be an integer")


def parse_auth(form: dict[str, Any], where: str) -> AuthInfo:
    auth = form.get("auth")
    if not isinstance(auth, dict):
        raise InboundRejected(400, f"{where}: the 'auth' group is missing")
    return AuthInfo(
        member_id=_text(auth, "member_id", required=True, where=where + " auth", limit=64),
        domain=_text(auth, "domain", required=False, where=where + " auth", limit=255),
        client_endpoint=_text(auth, "client_endpoint", required=False, where=where + " auth", limit=500),
        server_endpoint=_text(auth, "server_endpoint", required=False, where=where + " auth", limit=500),
        application_token=_text(auth, "application_token", required=False, where=where + " auth", limit=128),
        access_token=_text(auth, "access_token", required=False, where=where + " auth", limit=512),
        refresh_token=_text(auth, "refresh_token", required=False, where=where + " auth", limit=512),
        expires=_int(auth, "expires", required=False, where=where + " auth"),
        expires_in=_int(auth, "expires_in", required=False, where=where + " auth"),
        user_id=_int(auth, "user_id", required=False, where=where + " auth"),
        scope=_text(auth, "scope", required=False, where=where + " auth", limit=1000),
        status=_text(auth, "status", required=False, where=where + " auth", limit=8),
    )


def parse_event(form: dict[str, Any]) -> InboundEvent:
    where = "event"
    name = _text(form, "event", required=True, where=where, limit=100).upper()
    data = form.get("data", {})
    if data == "" or data is None:
        data = {}
    if isinstance(data, list):
        data = {str(i): v for i, v in enumerate(data)}
    if not isinstance(data, dict):
        raise InboundRejected(400, "event: 'data' must be a group of fields")
    ts = _int(form, "ts", required=True, where=where)
    return InboundEvent(
        event=name,
        data=data,
        ts=int(ts or 0),
        auth=parse_auth(form, where),
        handler_id=_int(form, "event_handler_id", required=False, where=where),
    )


def _triple(form: dict[str, Any], key: str, where: str) -> tuple[str, str, str]:
    value = form.get(key)
    if isinstance(value, dict):
        value = [value.get(str(i)) for i in range(3)]
    if not isinstance(value, list) or len(value) != 3 or not all(isinstance(v, str) and v for v in value):
        raise InboundRejected(400, f"{where}: {key!r} must be three strings ({key}[0..2])")
    return value[0], value[1], value[2]


def parse_robot_call(form: dict[str, Any]) -> RobotCall:
    where = "robot call"
    props = form.get("properties", {})
    if props == "" or props is None:
        props = {}
    if isinstance(props, list):
        props = {str(i): v for i, v in enumerate(props)}
    if not isinstance(props, dict):
        raise InboundRejected(400, "robot call: 'properties' must be a group of fields")
    token = _text(form, "event_token", required=True, where=where, limit=600)
    use = _text(form, "use_subscription", required=False, where=where, limit=2) or "Y"
    if use not in ("Y", "N"):
        raise InboundRejected(400, "robot call: 'use_subscription' must be Y or N")
    return RobotCall(
        workflow_id=_text(form, "workflow_id", required=True, where=where, limit=100),
        code=_text(form, "code", required=True, where=where, limit=100),
        document_id=_triple(form, "document_id", where),
        document_type=_triple(form, "document_type", where),
        event_token=token,
        properties=props,
        use_subscription=use == "Y",
        timeout_duration=int(_int(form, "timeout_duration", required=False, where=where) or 0),
        ts=int(_int(form, "ts", required=False, where=where) or 0),
        auth=parse_auth(form, where),
    )


def parse_placement(form: dict[str, Any], query: dict[str, Any]) -> PlacementOpen:
    """The app page / widget POST: some keys come in the query string, the rest in the body."""
    where = "page"
    merged = {**query, **form}
    raw_options = merged.get("PLACEMENT_OPTIONS") or "{}"
    if isinstance(raw_options, str):
        try:
            options = json.loads(raw_options) if raw_options.strip() else {}
        except json.JSONDecodeError as exc:
            raise InboundRejected(400, f"page: PLACEMENT_OPTIONS is not JSON ({exc.msg})") from exc
    else:
        options = raw_options
    if not isinstance(options, dict):
        options = {"value": options}
    return PlacementOpen(
        placement=_text(merged, "PLACEMENT", required=False, where=where, limit=100) or "DEFAULT",
        options=options,
        member_id=_text(merged, "member_id", required=True, where=where, limit=64),
        domain=_text(merged, "DOMAIN", required=True, where=where, limit=255),
        protocol=_text(merged, "PROTOCOL", required=False, where=where, limit=2) or "1",
        lang=_text(merged, "LANG", required=False, where=where, limit=8) or "ru",
        auth_id=_text(merged, "AUTH_ID", required=True, where=where, limit=512),
        refresh_id=_text(merged, "REFRESH_ID", required=False, where=where, limit=512),
        auth_expires=int(_int(merged, "AUTH_EXPIRES", required=False, where=where) or 3600),
        application_token=_text(merged, "APPLICATION_TOKEN", required=False, where=where, limit=128),
        server_endpoint=_text(merged, "SERVER_ENDPOINT", required=False, where=where, limit=500),
        scope=_text(merged, "APPLICATION_SCOPE", required=False, where=where, limit=1000),
        status=_text(merged, "status", required=False, where=where, limit=8),
        app_sid=_text(merged, "APP_SID", required=False, where=where, limit=128),
    )
