"""The "Просрочено" user field the app creates on deals and leads at first use (idempotent: the effect
key remembers it, and an existing field of that name is taken as is)."""

from __future__ import annotations

from typing import Any

from b24app.errors import BitrixError
from b24app.messages import both, t
from b24app.store import effects


def _key(entity: str, field: str) -> str:
    return f"stages:uf:{entity}:{field}"


def exists(ctx: Any, entity: str, field: str) -> bool:
    """Whether the field is known to exist (no REST call)."""
    state = effects.get(ctx.db, ctx.member_id, _key(entity, field))
    return bool(state and state[0] == effects.DONE)


def _rows(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        value = list(value.values())
    return [r for r in value or [] if isinstance(r, dict)]


def ensure_flag_field(ctx: Any, entity: str, field: str, lang: str = "ru") -> str:
    """Create the boolean field ``field`` (``UF_CRM_...``) on ``entity`` unless it exists."""
    client = ctx.client

    def find() -> str | None:
        rows = _rows(client.call(f"crm.{entity}.userfield.list", {"filter": {"FIELD_NAME": field}}))
        return field if any(str(r.get("FIELD_NAME")) == field for r in rows) else None

    def create() -> str:
        labels = both("stages.field.overdue")
        params = {"fields": {
            "FIELD_NAME": field[len("UF_CRM_"):], "USER_TYPE_ID": "boolean", "XML_ID": "B24APP_OVERDUE",
            "LABEL": t("stages.field.overdue", lang), "EDIT_FORM_LABEL": labels, "LIST_COLUMN_LABEL": labels,
            "LIST_FILTER_LABEL": labels, "SHOW_FILTER": "Y", "SHOW_IN_LIST": "Y", "MULTIPLE": "N",
            "SETTINGS": {"DEFAULT_VALUE": 0, "DISPLAY": "CHECKBOX"},
        }}
        try:
            client.call(f"crm.{entity}.userfield.add", params)
        except BitrixError:
            if find() is None:  # a field of that name existing already is fine; anything else is not
                raise
        return field

    if exists(ctx, entity, field):
        return field
    return str(effects.ensure(ctx.db, ctx.member_id, _key(entity, field), create, find))


def is_set(value: Any) -> bool:
    return str(value).strip().upper() in ("1", "Y", "TRUE")
