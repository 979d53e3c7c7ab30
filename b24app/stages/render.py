"""Placeholders in task titles and descriptions.

``{FIELD}`` takes any field of the CRM item (``{TITLE}``, ``{OPPORTUNITY}``, ``{UF_CRM_...}``); computed
ones are ``{ID}``, ``{LINK}`` (the item's page), ``{AMOUNT}`` (sum with currency), ``{COMPANY}``,
``{CONTACT}``, ``{MANAGER}`` (the item's responsible), ``{STAGE}`` (the stage's name). An unknown
placeholder stays as written, so a typo is visible in the task rather than silently empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from b24app.portal.placeholders import PLACEHOLDER, render  # noqa: F401  (stages use render.render)

NEEDS_REST = {"COMPANY", "CONTACT"}


def placeholders(texts: Iterable[str]) -> set[str]:
    return {m.group(1) for t in texts for m in PLACEHOLDER.finditer(t or "")}


def money(amount: Any, currency: str = "RUB", lang: str = "ru") -> str:
    """``1 234 567,89 руб.`` (ru) or ``1,234,567.89 RUB`` (en)."""
    try:
        value = float(str(amount).split("|", 1)[0] or 0)
    except ValueError:
        return str(amount)
    cur = (currency or "RUB").upper()
    if lang == "ru":
        text = f"{value:,.2f}".replace(",", " ").replace(".", ",")
        return f"{text} {'руб.' if cur == 'RUB' else cur}"
    return f"{value:,.2f} {cur}"


def item_fields(entity: str, item: dict[str, Any], *, link: str, stage: str, manager: str, company: str = "",
                contact: str = "", lang: str = "ru") -> dict[str, Any]:
    """The fields a template can name for one item."""
    out = {k: v for k, v in item.items() if isinstance(k, str)}
    out.update({
        "ID": item.get("ID"),
        "LINK": link,
        "AMOUNT": money(item.get("OPPORTUNITY") or 0, str(item.get("CURRENCY_ID") or "RUB"), lang),
        "MANAGER": manager,
        "STAGE": stage,
        "COMPANY": company or str(item.get("COMPANY_TITLE") or "") or "—",
        "CONTACT": contact or " ".join(p for p in (str(item.get("NAME") or ""), str(item.get("LAST_NAME") or ""))
                                       if p) or "—",
        "ENTITY": entity,
    })
    return out


def related(client: Any, item: dict[str, Any], wanted: set[str]) -> dict[str, str]:
    """Company title and contact name of the item, in one batch, only if a template names them."""
    cmds: dict[str, tuple[str, dict[str, Any]]] = {}
    if "COMPANY" in wanted and item.get("COMPANY_ID") not in (None, "", "0", 0):
        cmds["company"] = ("crm.company.get", {"id": item["COMPANY_ID"]})
    if "CONTACT" in wanted and item.get("CONTACT_ID") not in (None, "", "0", 0):
        cmds["contact"] = ("crm.contact.get", {"id": item["CONTACT_ID"]})
    if not cmds:
        return {}
    res = client.batch(cmds)
    out: dict[str, str] = {}
    company = res.results.get("company")
    if isinstance(company, dict):
        out["company"] = company_title(company)
    contact = res.results.get("contact")
    if isinstance(contact, dict):
        out["contact"] = contact_name(contact)
    return out


def company_title(row: dict[str, Any]) -> str:
    return str(row.get("TITLE") or "")


def contact_name(row: dict[str, Any]) -> str:
    return " ".join(p for p in (str(row.get("NAME") or ""), str(row.get("LAST_NAME") or "")) if p)
