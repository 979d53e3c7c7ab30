"""Texts with CRM placeholders and links to CRM items, shared by robots and features.

``render("Сделка {TITLE} на {OPPORTUNITY}", fields)`` fills ``{FIELD}`` from an item's fields (lists
such as PHONE become comma-separated values); an unknown placeholder stays as written, so a typo is
visible rather than silently empty.
"""

from __future__ import annotations

import re
from typing import Any

PLACEHOLDER = re.compile(r"\{([A-Z][A-Z0-9_]*)\}")


def render(template: str, fields: dict[str, Any]) -> str:
    def sub(m: re.Match[str]) -> str:
        value = fields.get(m.group(1))
        if value is None:
            return m.group(0)
        if isinstance(value, list):
            return ", ".join(str(v.get("VALUE", v)) if isinstance(v, dict) else str(v) for v in value)
        return str(value)

    return PLACEHOLDER.sub(sub, template or "")


def item_link(client_endpoint: str, entity: str, entity_id: int) -> str:
    """The item's page in the portal (``https://<portal>/crm/deal/details/5/``), from its REST root."""
    base = client_endpoint.rsplit("/rest/", 1)[0]
    return f"{base}/crm/{entity}/details/{entity_id}/"
