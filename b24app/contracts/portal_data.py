"""What a contract needs from the portal, read in three batch requests.

1. the deal (``crm.deal.get``), its legal entity (``crm.item.get`` entity 2: ``mycompanyId`` exists only
   there), its product rows (``crm.deal.productrows.get``) and the requisites chosen in the deal
   (``crm.requisite.link.get``, answered only by portals that have it);
2. the client company, its requisites, the contact, our company (IS_MY_COMPANY=Y) and its requisites, the
   responsible user;
3. bank details (``crm.requisite.bankdetail.list``) and addresses (``crm.address.list``, ENTITY_TYPE_ID 8)
   of the two requisites.

The result is plain data (:class:`DealData`); nothing here decides what is missing (see document.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from b24app.errors import BitrixError, DataError

REQUISITE_OWNER = 8  # crm.address ENTITY_TYPE_ID of a requisite
LEGAL_ADDRESS, ACTUAL_ADDRESS = 6, 1


@dataclass
class Requisite:
    """One requisite of a company or contact with its chosen bank detail and address."""

    fields: dict[str, Any]
    bank: dict[str, Any] | None = None
    address: dict[str, Any] | None = None

    @property
    def id(self) -> int:
        return int(self.fields["ID"])


@dataclass
class DealData:
    deal_id: int
    deal: dict[str, Any]
    mycompany_id: int | None
    rows: list[dict[str, Any]] = field(default_factory=list)
    company: dict[str, Any] | None = None
    requisite: Requisite | None = None
    contact: dict[str, Any] | None = None
    my_company: dict[str, Any] | None = None
    my_requisite: Requisite | None = None
    manager: dict[str, Any] | None = None

    @property
    def company_id(self) -> int | None:
        return _int(self.deal.get("COMPANY_ID"))


def _int(value: Any) -> int | None:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return n if n > 0 else None


def _list(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    return list(value or [])


def _pick_requisite(rows: list[dict[str, Any]], wanted: int | None) -> dict[str, Any] | None:
    rows = [r for r in rows if isinstance(r, dict)]
    if wanted:
        for r in rows:
            if _int(r.get("ID")) == wanted:
                return r
    active = [r for r in rows if str(r.get("ACTIVE") or "Y") != "N"] or rows
    active.sort(key=lambda r: (int(r.get("SORT") or 500), int(r.get("ID") or 0)))
    return active[0] if active else None


def _pick_bank(rows: list[dict[str, Any]], wanted: int | None) -> dict[str, Any] | None:
    return _pick_requisite(rows, wanted)


def _pick_address(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    rows = [r for r in rows if isinstance(r, dict)]
    for type_id in (LEGAL_ADDRESS, ACTUAL_ADDRESS):
        for r in rows:
            if _int(r.get("TYPE_ID")) == type_id:
                return r
    return rows[0] if rows else None


def fetch(client: Any, deal_id: int) -> DealData:
    """Everything about the deal a contract needs. DataError when the deal does not exist."""
    first = client.batch(
        {
            "deal": ("crm.deal.get", {"id": deal_id}),
            "item": ("crm.item.get", {"entityTypeId": 2, "id": deal_id}),
            "rows": ("crm.deal.productrows.get", {"id": deal_id}),
            "link": ("crm.requisite.link.get", {"entityTypeId": 2, "entityId": deal_id}),
        }
    )
    try:
        deal = first.get("deal")
    except BitrixError as exc:
        if "not found" in exc.description.lower() or exc.code == "NOT_FOUND":
            raise DataError(f"сделка {deal_id} не найдена на портале / deal {deal_id} not found") from exc
        raise
    if not isinstance(deal, dict):
        raise DataError(f"сделка {deal_id} не найдена на портале / deal {deal_id} not found")
    item = (first.results.get("item") or {}).get("item") or {} if "item" not in first.errors else {}
    link = first.results.get("link") if "link" not in first.errors else None
    link = link if isinstance(link, dict) else {}
    data = DealData(
        deal_id=deal_id,
        deal=deal,
        mycompany_id=_int(item.get("mycompanyId")),
        rows=[r for r in _list(first.get("rows")) if isinstance(r, dict)],
    )
    company_id = data.company_id
    contact_id = _int(deal.get("CONTACT_ID")) or next(
        iter([_int(c) for c in _list(deal.get("CONTACT_IDS")) if _int(c)]), None
    )
    second: dict[str, tuple[str, dict[str, Any]]] = {}
    if company_id:
        second["company"] = ("crm.company.get", {"id": company_id})
        second["requisites"] = (
            "crm.requisite.list",
            {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": company_id}, "order": {"SORT": "ASC", "ID": "ASC"}},
        )
    if contact_id:
        second["contact"] = ("crm.contact.get", {"id": contact_id})
    if data.mycompany_id:
        second["my_company"] = ("crm.company.get", {"id": data.mycompany_id})
        second["my_requisites"] = (
            "crm.requisite.list",
            {
                "filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": data.mycompany_id},
                "order": {"SORT": "ASC", "ID": "ASC"},
            },
        )
    manager_id = _int(deal.get("ASSIGNED_BY_ID"))
    if manager_id:
        second["manager"] = ("user.get", {"ID": manager_id})
    res = client.batch(second) if second else None

    def ok(key: str) -> Any:
        if res is None or key not in second or key in res.errors:
            return None
        return res.results.get(key)

    data.company = ok("company") if isinstance(ok("company"), dict) else None
    data.contact = ok("contact") if isinstance(ok("contact"), dict) else None
    data.my_company = ok("my_company") if isinstance(ok("my_company"), dict) else None
    managers = _list(ok("manager"))
    data.manager = managers[0] if managers and isinstance(managers[0], dict) else None
    req = _pick_requisite(_list(ok("requisites")), _int(link.get("REQUISITE_ID")))
    my_req = _pick_requisite(_list(ok("my_requisites")), _int(link.get("MC_REQUISITE_ID")))
    third: dict[str, tuple[str, dict[str, Any]]] = {}
    for key, r in (("req", req), ("my", my_req)):
        if r is not None:
            third[f"{key}_bank"] = (
                "crm.requisite.bankdetail.list",
                {"filter": {"ENTITY_ID": int(r["ID"])}, "order": {"SORT": "ASC", "ID": "ASC"}},
            )
            third[f"{key}_addr"] = (
                "crm.address.list",
                {"filter": {"ENTITY_TYPE_ID": REQUISITE_OWNER, "ENTITY_ID": int(r["ID"])}},
            )
    res3 = client.batch(third) if third else None

    def ok3(key: str) -> list[Any]:
        if res3 is None or key not in third or key in res3.errors:
            return []
        return _list(res3.results.get(key))

    if req is not None:
        data.requisite = Requisite(
            req, _pick_bank(ok3("req_bank"), _int(link.get("BANK_DETAIL_ID"))), _pick_address(ok3("req_addr"))
        )
    if my_req is not None:
        data.my_requisite = Requisite(
            my_req,
            _pick_bank(ok3("my_bank"), _int(link.get("MC_BANK_DETAIL_ID"))),
            _pick_address(ok3("my_addr")),
        )
    return data
