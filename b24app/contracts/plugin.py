"""Registers the "contracts" settings section and the contract job (used by the deal widget and the CLI)."""

from __future__ import annotations

from typing import Any

from b24app.contracts.settings_section import SCHEMA, demo
from b24app.jobs.registry import job
from b24app.settings.sections import section

section("contracts", SCHEMA, demo=demo, title_ru="Договоры", title_en="Contracts")


@job("contracts.issue", max_attempts=8)
def issue_job(ctx: Any) -> dict[str, Any]:
    """Payload ``{"deal_id", "type", "template"?, "output"?, "idempotency_key"?, "created_by"?,
    "extra"?}``; the result is issue_contract's answer."""
    from b24app.contracts.service import issue_contract

    p = ctx.payload
    return issue_contract(
        ctx,
        int(p["deal_id"]),
        str(p["type"]),
        template=p.get("template"),
        output=p.get("output") or "docx",
        idempotency_key=p.get("idempotency_key"),
        extra=p.get("extra"),
        created_by=p.get("created_by") or "job",
    )
