"""How a robot is defined, registered and fed.

A robot module creates one :class:`Robot`. The registry (b24app.robots.registry) builds the
``bizproc.robot.add`` payload from it, the handler URL per robot, parses the properties a portal
posts in bizproc's value formats, and the runner replies with ``bizproc.event.send``. Every robot
gets two standard return values: ``ok`` (Y/N) and ``error`` (text), so automation rules can branch
on failure.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from b24app.errors import DataError
from b24app.messages import both, t

TYPES = ("bool", "date", "datetime", "double", "int", "select", "string", "text", "user")

DOCUMENT_TYPES = {
    "lead": ["crm", "CCrmDocumentLead", "LEAD"],
    "deal": ["crm", "CCrmDocumentDeal", "DEAL"],
    "contact": ["crm", "CCrmDocumentContact", "CONTACT"],
    "company": ["crm", "CCrmDocumentCompany", "COMPANY"],
}


@dataclass(frozen=True)
class Prop:
    """A robot property or return value. Names are message-catalogue keys."""

    id: str
    type: str
    name_key: str
    required: bool = False
    multiple: bool = False
    default: Any = None
    options: dict[str, str] = field(default_factory=dict)  # select: value -> message key
    description_key: str | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.id):
            raise ValueError(f"robot property id {self.id!r} must match ^[a-z][a-z0-9_]*$")
        if self.type not in TYPES:
            raise ValueError(f"robot property {self.id}: unknown type {self.type}")

    def registration(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Name": both(self.name_key),
            "Type": self.type,
            "Required": "Y" if self.required else "N",
            "Multiple": "Y" if self.multiple else "N",
        }
        if self.description_key:
            out["Description"] = both(self.description_key)
        if self.options:
            out["Options"] = {value: t(key, "ru") for value, key in self.options.items()}
        if self.default is not None:
            out["Default"] = self.default
        return out


STANDARD_RETURNS = (
    Prop("ok", "bool", "robot.return.ok"),
    Prop("error", "string", "robot.return.error"),
)


@dataclass(frozen=True)
class RobotCallData:
    """A robot call as the runner hands it to ``run`` (parsed properties, the CRM item)."""

    code: str
    entity_type: str  # lead, deal, contact, company ...
    entity_id: int
    properties: dict[str, Any]
    event_token: str
    workflow_id: str
    user_id: int | None
    lang: str = "ru"


@dataclass(frozen=True)
class Robot:
    code: str
    name_key: str
    description_key: str
    run: Callable[..., dict[str, Any]]  # (JobContext, RobotCallData) -> return values
    properties: tuple[Prop, ...] = ()
    return_properties: tuple[Prop, ...] = ()
    use_subscription: bool = True
    documents: tuple[str, ...] = ("lead", "deal")
    summary_key: str | None = None  # catalogue key for the log line on success, formatted with returns

    def registration(self, handler_url: str, auth_user_id: int | None = None) -> dict[str, Any]:
        """The ``bizproc.robot.add`` parameters."""
        payload: dict[str, Any] = {
            "CODE": self.code,
            "HANDLER": handler_url,
            "NAME": both(self.name_key),
            "DESCRIPTION": both(self.description_key),
            "USE_SUBSCRIPTION": "Y" if self.use_subscription else "N",
            "PROPERTIES": {p.id: p.registration() for p in self.properties},
            "RETURN_PROPERTIES": {p.id: p.registration() for p in (*self.return_properties, *STANDARD_RETURNS)},
            "FILTER": {"INCLUDE": [DOCUMENT_TYPES[d] for d in self.documents]},
        }
        if auth_user_id:
            payload["AUTH_USER_ID"] = auth_user_id
        return payload

    def parse_properties(self, raw: dict[str, Any], lang: str = "ru") -> dict[str, Any]:
        """Typed property values from bizproc's formats; DataError names the bad property."""
        lowered = {str(k).lower(): v for k, v in (raw or {}).items()}
        out: dict[str, Any] = {}
        for prop in self.properties:
            value = lowered.get(prop.id)
            values = value if isinstance(value, list) else ([] if value in (None, "") else [value])
            parsed = [parse_value(prop, v) for v in values if v not in (None, "")]
            if not parsed and prop.default is not None:
                parsed = [parse_value(prop, prop.default)]
            if prop.required and not parsed:
                raise DataError(t("error.required_property", lang, name=t(prop.name_key, lang)))
            out[prop.id] = parsed if prop.multiple else (parsed[0] if parsed else None)
        return out


_USER = re.compile(r"^(?:user_)?(\d+)$", re.IGNORECASE)


def parse_value(prop: Prop, value: Any) -> Any:
    """One value in bizproc's external format: ``user_1``, Y/N, ``dd.mm.yyyy[ hh:mm:ss]``..."""
    text = str(value).strip()
    try:
        if prop.type == "user":
            m = _USER.match(text)
            if not m:
                raise ValueError(text)
            return int(m.group(1))
        if prop.type == "bool":
            if text.upper() in ("Y", "1", "TRUE"):
                return True
            if text.upper() in ("N", "0", "FALSE", ""):
                return False
            raise ValueError(text)
        if prop.type == "int":
            return int(float(text.replace(" ", "").replace(",", ".")))
        if prop.type == "double":
            return float(text.replace(" ", "").replace(",", "."))
        if prop.type == "date":
            return parse_portal_date(text).date()
        if prop.type == "datetime":
            return parse_portal_date(text)
        if prop.type == "select":
            if prop.options and text not in prop.options:
                raise ValueError(text)
            return text
        return text
    except ValueError as exc:
        raise DataError(f"robot property {prop.id!r}: {value!r} is not a valid {prop.type}") from exc


def parse_portal_date(text: str) -> dt.datetime:
    """Dates as portals format them (``23.11.2026``, ``23.11.2026 10:00:00``) or ISO 8601."""
    for fmt in ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return dt.datetime.fromisoformat(text)
