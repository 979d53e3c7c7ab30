"""User fields the app creates on CRM items at first use (``crm.<entity>.userfield.add``), once per
portal: an effect key remembers a field made or found, and a field of that name that exists already
(made by an earlier install, or by hand) is taken as is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from b24app.errors import BitrixError
from b24app.store import effects
from b24app.store.db import Database

PREFIX = "UF_CRM_"


def known(db: Database, member_id: str, key: str) -> bool:
    """Whether the field behind ``key`` is known to exist (no REST call)."""
    state = effects.get(db, member_id, key)
    return bool(state and state[0] == effects.DONE)


def _rows(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        value = list(value.values())
    return [r for r in value or [] if isinstance(r, dict)]


def ensure(db: Database, member_id: str, client: Any, entity: str, field: str, key: str,
           body: Mapping[str, Any]) -> str:
    """Create ``field`` (``UF_CRM_...``) on ``entity`` with ``body`` (the ``fields`` of
    ``crm.<entity>.userfield.add`` without ``FIELD_NAME``) unless it exists; returns the field's name.
    Raises the portal's error when the field can neither be made nor found."""
    if not field.startswith(PREFIX):
        raise ValueError(f"a user field's name starts with {PREFIX}: {field!r}")

    def find() -> str | None:
        rows = _rows(client.call(f"crm.{entity}.userfield.list", {"filter": {"FIELD_NAME": field}}))
        return field if any(str(r.get("FIELD_NAME")) == field for r in rows) else None

    def create() -> str:
        try:
            client.call(f"crm.{entity}.userfield.add", {"fields": {"FIELD_NAME": field[len(PREFIX):], **body}})
        except BitrixError:
            if find() is None:  # a field of that name existing already is fine; anything else is not
                raise
        return field

    if known(db, member_id, key):
        return field
    return str(effects.ensure(db, member_id, key, create, find))
