"""The reason of a decision on the item itself: a text user field ("Причина назначения (b24app)",
``distribution.notify.reason_field``, ``UF_CRM_B24APP_REASON`` by default) written in the same
``crm.lead.update`` as the assignment — so the card and the list show why a lead went to whom at no
extra request. That is what lets a backlog run write one command per lead and still explain every
lead (timeline comments per lead are then optional: ``distribution.notify.backlog_timeline``).

The field is made at first use, once per portal and entity (b24app.portal.userfields). A portal that
refuses it (no right to add fields) gets its assignments without the reason field — the decision log
keeps every reason (``b24app leads explain``); the refusal is logged and stored, and the portal is
not asked again for an hour (by any process).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from b24app import clock
from b24app.errors import Action, BitrixError
from b24app.messages import both, t
from b24app.portal import userfields
from b24app.store import effects
from b24app.store.db import Database

log = logging.getLogger("b24app.leads")

DEFAULT_FIELD = "UF_CRM_B24APP_REASON"
MAX_LEN = 2000  # a reason longer than this (a long duplicate chain) is cut; the log keeps it whole
RETRY_REFUSED_AFTER_S = 3600.0


def configured(settings: Mapping[str, Any]) -> str | None:
    """The field's name from the settings (None: switched off)."""
    notify = (settings.get("distribution") or {}).get("notify") or {}
    name = notify.get("reason_field", DEFAULT_FIELD)
    return str(name) if name else None


def field_for(client: Any, db: Database, member_id: str, settings: Mapping[str, Any], entity: str) -> str | None:
    """The reason field of ``entity`` (``lead``/``deal``) made if needed; None when switched off or
    refused by the portal. A transient error (limits, network) is raised: the write is retried."""
    name = configured(settings)
    if name is None:
        return None
    key = f"leads:uf:{entity}:{name}"
    if userfields.known(db, member_id, key):
        return name
    refused_key = f"leads:uf-refused:{entity}:{name}"
    refused = effects.get(db, member_id, refused_key)
    if refused is not None and clock.now() - float((refused[1] or {}).get("at", 0)) < RETRY_REFUSED_AFTER_S:
        return None
    lang = str((settings.get("general") or {}).get("lang") or "ru")
    labels = both("leads.field.reason")
    body = {"USER_TYPE_ID": "string", "XML_ID": "B24APP_REASON", "LABEL": t("leads.field.reason", lang),
            "EDIT_FORM_LABEL": labels, "LIST_COLUMN_LABEL": labels, "LIST_FILTER_LABEL": labels,
            "SHOW_FILTER": "Y", "SHOW_IN_LIST": "Y", "MULTIPLE": "N", "EDIT_IN_LIST": "N",
            "SETTINGS": {"ROWS": 3}}
    try:
        return userfields.ensure(db, member_id, client, entity, name, key, body)
    except BitrixError as exc:
        if exc.action in (Action.RETRY, Action.RATE_LIMITED, Action.REFRESH_THEN_RETRY):
            raise
        effects.mark_done(db, member_id, refused_key, {"at": clock.now(), "error": str(exc)})
        log.warning("reason field refused; assignments are written without it",
                    extra={"member_id": member_id, "entity": entity, "field": name, "error": str(exc)})
        return None


def value(text: str) -> str:
    """The field's value: the decision's summary, cut to MAX_LEN."""
    return text if len(text) <= MAX_LEN else text[:MAX_LEN - 1] + "…"
