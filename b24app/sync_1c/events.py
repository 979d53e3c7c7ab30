"""Portal events the sync reacts to."""

from __future__ import annotations

from typing import Any

from b24app.errors import BitrixError
from b24app.sync_1c import state
from b24app.sync_1c.push import push_deal


def smart_invoice_added(services: Any, member_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """ONCRMDYNAMICITEMADD_31: issue the deal's 1C invoice for a smart invoice made in Bitrix24."""
    from b24app.settings import document

    fields = (event.get("data") or {}).get("FIELDS") or {}
    smart_id = int(fields.get("ID") or 0)
    if not smart_id or str(fields.get("ENTITY_TYPE_ID", "31")) != "31":
        return {"skipped": "not a smart invoice"}
    settings = document.load(services.db, member_id)
    onec = settings.get("onec") or {}
    if not onec.get("enabled", True) or not (onec.get("push") or {}).get("on_smart_invoice_add", True):
        return {"skipped": "switched off in the settings"}
    if not onec.get("bases"):
        return {"skipped": "no 1C base connected"}
    if state.invoice_by_smart_invoice(services.db, member_id, smart_id) is not None:
        return {"skipped": "already bound to a 1C invoice"}
    client = services.client(member_id)
    try:
        item = (client.call("crm.item.get", {"entityTypeId": 31, "id": smart_id}) or {}).get("item") or {}
    except BitrixError as exc:
        if exc.code == "NOT_FOUND":
            return {"skipped": "deleted meanwhile"}
        raise
    if str(item.get("xmlId") or "").startswith("1c:"):
        return {"skipped": "made by the 1C sync"}  # our own write: no loop back to 1C
    deal_id = int(item.get("parentId2") or 0)
    if not deal_id:
        return {"skipped": "the smart invoice has no deal"}
    result = push_deal(services, member_id, deal_id, smart_invoice_id=smart_id)
    return {**result.public(), "deal_id": deal_id, "smart_invoice_id": smart_id}
