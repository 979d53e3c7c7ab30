"""The "Просрочено" user field the app creates on deals and leads at first use (idempotent: see
b24app.portal.userfields)."""

from __future__ import annotations

from typing import Any

from b24app.messages import both, t
from b24app.portal import userfields


def _key(entity: str, field: str) -> str:
    return f"stages:uf:{entity}:{field}"


def exists(ctx: Any, entity: str, field: str) -> bool:
    """Whether the field is known to exist (no REST call)."""
    return userfields.known(ctx.db, ctx.member_id, _key(entity, field))


def ensure_flag_field(ctx: Any, entity: str, field: str, lang: str = "ru") -> str:
    """Create the boolean field ``field`` (``UF_CRM_...``) on ``entity`` unless it exists."""
    labels = both("stages.field.overdue")
    body = {"USER_TYPE_ID": "boolean", "XML_ID": "B24APP_OVERDUE", "LABEL": t("stages.field.overdue", lang),
            "EDIT_FORM_LABEL": labels, "LIST_COLUMN_LABEL": labels, "LIST_FILTER_LABEL": labels,
            "SHOW_FILTER": "Y", "SHOW_IN_LIST": "Y", "MULTIPLE": "N",
            "SETTINGS": {"DEFAULT_VALUE": 0, "DISPLAY": "CHECKBOX"}}
    return userfields.ensure(ctx.db, ctx.member_id, ctx.client, entity, field, _key(entity, field), body)


def is_set(value: Any) -> bool:
    return str(value).strip().upper() in ("1", "Y", "TRUE")
