"""Bitrix24 -> 1C: issue the 1C invoice of a deal (robot "Выставить счет в 1С", a smart invoice
created in Bitrix24, ``b24app sync push-invoice``).

Steps: route the deal to its base; find the counterparty by ИНН+КПП of the client company's
requisites (create it with requisites if missing — never a duplicate); ensure the contract with the
contracts feature's number and date; match product rows to Номенклатура (article = the product's
XML_ID, then name; create or fail per settings); create the invoice (per profile), post it if asked;
write the 1C number, date, Ref_Key and a link back into the deal's fields and the smart invoice.

Crash safety: the invoice carries an idempotency key in its comment (``[b24app <member>-<deal>-<n>]``).
The create goes through b24app.store.effects: the key is marked *pending* (committed) before the
POST, so a worker killed between the 1C POST and our commit leaves the mark behind, and the retry
asks 1C for a document with that key before creating anything (one invoice, whatever happens).
One deal is pushed by one worker at a time (a lease per deal).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from b24app import clock
from b24app.errors import BitrixError, ConfigError, DataError
from b24app.store import effects
from b24app.store.leases import renewing as renewing_lease
from b24app.sync_1c import connections, state
from b24app.sync_1c.records import (
    Contract,
    Counterparty,
    InvoiceRec,
    InvoiceRow,
    InvoiceSpec,
    Organization,
    Product,
)
from b24app.sync_1c.routing import Route, deal_item, route
from b24app.sync_1c.transport import Transport

log = logging.getLogger("b24app.sync_1c.push")

PUSH_LEASE_TTL_S = 60.0


@dataclass
class PushResult:
    base: str
    ref_key: str
    number: str
    date: str | None
    amount: float
    deal_id: int
    created: bool
    link: str
    smart_invoice_id: int | None = None

    def public(self) -> dict[str, Any]:
        return {"base": self.base, "ref_key": self.ref_key, "number": self.number}


def now_local(tz: str) -> dt.datetime:
    """The base's wall clock (1C dates carry no zone)."""
    return clock.utcnow().astimezone(ZoneInfo(tz or "Europe/Moscow")).replace(tzinfo=None, microsecond=0)


def idem_key(member_id: str, deal_id: int, generation: int) -> str:
    return f"b24app {member_id[:8]}-{deal_id}-{generation}"


def push_deal(services: Any, member_id: str, deal_id: int, *, smart_invoice_id: int | None = None) -> PushResult:
    """Issue (or find the already issued) 1C invoice of ``deal_id``; write it back to the portal."""
    with renewing_lease(services.db, f"onec-push:{member_id}:{deal_id}", PUSH_LEASE_TTL_S):
        return _push(services, member_id, deal_id, smart_invoice_id)


def _push(services: Any, member_id: str, deal_id: int, smart_invoice_id: int | None) -> PushResult:
    from b24app.settings import document
    from b24app.sync_1c import apply

    settings = document.load(services.db, member_id)
    section = connections.section(settings)
    if not section.get("enabled", True):
        raise ConfigError("the 1C sync is switched off in the settings (onec.enabled) / синхронизация с 1С выключена")
    client = services.client(member_id)
    deal = deal_item(client, deal_id)
    existing = state.invoice_for_deal(services.db, member_id, deal_id)
    if existing is not None:
        base = connections.base_config(settings, existing.base)
        rec_link = existing.link
        result = PushResult(existing.base, existing.ref_key, existing.number, existing.doc_date or None,
                            existing.amount, deal_id, False, rec_link, existing.smart_invoice_id)
    else:
        rt = route(services, member_id, settings, client, deal)
        base = rt.base
        transport = connections.open_transport(services, member_id, base)
        generation = len(state.invoices_of_deal(services.db, member_id, deal_id)) + 1
        key = idem_key(member_id, deal_id, generation)

        def find() -> dict[str, Any] | None:
            rec = transport.find_invoice(key)
            return _rec_dict(rec) if rec is not None else None

        def create() -> dict[str, Any]:
            spec = build_spec(services, member_id, settings, client, transport, rt, deal, key)
            return _rec_dict(transport.create_invoice(spec))

        effect = f"sync_1c:invoice:{base['name']}:{key}"
        before = effects.get(services.db, member_id, effect)
        data = effects.ensure(services.db, member_id, effect, create, find)
        rec = InvoiceRec(**data)
        if rec.due_date is None and rec.date:  # found after a crash: 1C keeps no due date on a БП invoice
            days = int((section.get("push") or {}).get("payment_days", 5))
            rec.due_date = (dt.date.fromisoformat(rec.date[:10]) + dt.timedelta(days=days)).isoformat()
        link = transport.web_link(connections.web_root(base), rec.ref)
        with services.db.transaction():
            state.record_invoice(services.db, member_id, base["name"], rec, origin="b24", idem_key=key,
                                 deal_id=deal_id, company_id=int(deal.get("companyId") or 0) or None, link=link,
                                 own=True)
            state.recompute_paid(services.db, member_id, base["name"], rec.ref)
        result = PushResult(base["name"], rec.ref, rec.number, rec.date, rec.amount, deal_id, before is None, link)
        log.info("invoice issued in 1C", extra={"member_id": member_id, "deal_id": deal_id, "base": base["name"],
                                                "ref": rec.ref, "number": rec.number})
    inv = state.invoice(services.db, member_id, result.base, result.ref_key)
    assert inv is not None
    result.smart_invoice_id = apply.write_back(services, member_id, settings, client, inv, deal,
                                               smart_invoice_id=smart_invoice_id)
    return result


def _rec_dict(rec: InvoiceRec) -> dict[str, Any]:
    return dict(rec.__dict__)


# -- building the invoice -------------------------------------------------------------------------
def build_spec(services: Any, member_id: str, settings: dict[str, Any], client: Any, transport: Transport,
               rt: Route, deal: dict[str, Any], key: str) -> InvoiceSpec:
    section = connections.section(settings)
    push = section.get("push") or {}
    base = rt.base
    deal_id = int(deal["id"])
    org = _organization(transport, rt.organization_inn or str(base.get("organization_inn") or ""))
    company_id = int(deal.get("companyId") or 0)
    if not company_id:
        raise DataError(f"deal {deal_id} has no client company: 1C needs a counterparty / у сделки не указана "
                        "компания-клиент")
    cp = ensure_counterparty(services, member_id, client, transport, base["name"], company_id)
    contract = ensure_contract(services, member_id, transport, base["name"], deal_id, cp, org,
                               str(push.get("default_contract") or ""))
    rows = resolve_rows(client, transport, deal_id, str(push.get("missing_products") or "fail"))
    when = now_local(base.get("timezone", "Europe/Moscow"))
    due = (when.date() + dt.timedelta(days=int(push.get("payment_days", 5)))).isoformat()
    title = str(deal.get("title") or "")
    return InvoiceSpec(key=key, organization=org, counterparty=cp, contract=contract, rows=rows,
                       date=when.isoformat(), due_date=due,
                       comment=f"Счёт из Битрикс24 по сделке №{deal_id} «{title[:80]}»", post=bool(push.get("post", True)))


def _organization(transport: Transport, inn: str) -> Organization:
    orgs = transport.organizations()
    if inn:
        for o in orgs:
            if o.inn == inn:
                return o
        raise DataError(f"base {transport.name} has no organization with ИНН {inn} / в базе нет нашей организации")
    if not orgs:
        raise DataError(f"base {transport.name} has no organization / в базе 1С нет организации")
    return orgs[0]


def company_requisites(client: Any, company_id: int) -> dict[str, Any]:
    """Name, ИНН, КПП, ОКПО and the bank account of a client company (DataError when there is no ИНН)."""
    company = client.call("crm.company.get", {"id": company_id}) or {}
    title = str(company.get("TITLE") or f"Компания {company_id}")
    reqs = client.call("crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": company_id},
                                              "order": {"ID": "ASC"}}) or []
    req = next((r for r in reqs if r.get("RQ_INN")), None)
    if req is None:
        raise DataError(f"company «{title}» (ID {company_id}) has no ИНН in its requisites: 1C cannot find or create "
                        f"the counterparty / у компании «{title}» не заполнен ИНН в реквизитах — счёт в 1С не выставлен")
    name = str(req.get("RQ_COMPANY_NAME") or "").strip()
    if not name and req.get("RQ_LAST_NAME"):
        name = "ИП " + " ".join(str(req.get(k) or "").strip() for k in ("RQ_LAST_NAME", "RQ_FIRST_NAME",
                                                                        "RQ_SECOND_NAME")).strip()
    data: dict[str, Any] = {
        "name": name or title,
        "full_name": str(req.get("RQ_COMPANY_FULL_NAME") or name or title),
        "inn": str(req["RQ_INN"]).strip(),
        "kpp": str(req.get("RQ_KPP") or "").strip(),
        "okpo": str(req.get("RQ_OKPO") or "").strip(),
        "comment": f"Из Битрикс24: компания {company_id}",
    }
    banks = client.call("crm.requisite.bankdetail.list", {"filter": {"ENTITY_ID": req["ID"]},
                                                          "order": {"ID": "ASC"}}) or []
    if banks:
        b = banks[0]
        data["bank"] = {"account": str(b.get("RQ_ACC_NUM") or ""), "name": str(b.get("RQ_BANK_NAME") or ""),
                        "bik": str(b.get("RQ_BIK") or ""), "corr_account": str(b.get("RQ_COR_ACC_NUM") or "")}
    return data


def ensure_counterparty(services: Any, member_id: str, client: Any, transport: Transport, base: str,
                        company_id: int) -> Counterparty:
    """The 1C counterparty of a company, found by ИНН+КПП (created with requisites once if missing)."""
    data = company_requisites(client, company_id)
    inn, kpp = data["inn"], data["kpp"]

    def find() -> dict[str, Any] | None:
        found = transport.find_counterparty(inn, kpp) or ([] if kpp else transport.find_counterparty(inn))
        return found[0].__dict__ if found else None

    def create() -> dict[str, Any]:
        return transport.create_counterparty(data).__dict__

    existing = find()
    if existing is not None:
        cp = Counterparty(**existing)
    else:
        cp = Counterparty(**effects.ensure(services.db, member_id, f"sync_1c:cp:{base}:{inn}:{kpp}", create, find))
    state.put_counterparty(services.db, member_id, base, company_id, cp.ref, inn, kpp, cp.created)
    return cp


def ensure_contract(services: Any, member_id: str, transport: Transport, base: str, deal_id: int, cp: Counterparty,
                    org: Organization, default_name: str) -> Contract | None:
    """The contract from the contracts feature (number and date), or one named by the settings, or none."""
    info = _contract_of_deal(services, member_id, deal_id)
    if info and info.get("number"):
        number = str(info["number"])
        date = str(info.get("date") or "")[:10] or None
        name = f"№ {number}" + (f" от {date[8:10]}.{date[5:7]}.{date[0:4]}" if date else "")
    elif default_name:
        number, date, name = "", None, default_name
    else:
        return None

    def find() -> dict[str, Any] | None:
        found = transport.find_contract(cp.ref, number=number, date=date, name="" if number else name)
        return found[0].__dict__ if found else None

    existing = find()
    if existing is not None:
        return Contract(**existing)
    key = f"sync_1c:contract:{base}:{cp.ref}:{number or name}:{date or ''}"
    return Contract(**effects.ensure(services.db, member_id, key,
                                     lambda: transport.create_contract(cp, org, number, date, name).__dict__, find))


def _contract_of_deal(services: Any, member_id: str, deal_id: int) -> dict[str, Any] | None:
    """The contracts feature's contract of the deal, if that feature is installed and has one."""
    try:
        from b24app.contracts.register import contract_for_deal  # the contracts feature (optional)
    except ImportError:
        return None
    try:
        return contract_for_deal(services.db, member_id, deal_id)
    except DataError:
        return None


def resolve_rows(client: Any, transport: Transport, deal_id: int, missing: str) -> list[InvoiceRow]:
    """The deal's product rows matched to 1C products (article = XML_ID, then name)."""
    rows = client.call("crm.deal.productrows.get", {"id": deal_id}) or []
    if not rows:
        raise DataError(f"deal {deal_id} has no product rows: nothing to invoice / в сделке нет товаров")
    product_ids = sorted({int(r.get("PRODUCT_ID") or 0) for r in rows} - {0})
    catalog: dict[int, dict[str, Any]] = {}
    if product_ids:
        res = client.batch({f"p{pid}": ("crm.product.get", {"id": pid}) for pid in product_ids})
        for pid in product_ids:
            try:
                catalog[pid] = res.get(f"p{pid}") or {}
            except BitrixError:
                catalog[pid] = {}
    out: list[InvoiceRow] = []
    not_found: list[str] = []
    for r in rows:
        pid = int(r.get("PRODUCT_ID") or 0)
        prod = catalog.get(pid, {})
        article = str(prod.get("XML_ID") or "").strip()
        name = str(r.get("PRODUCT_NAME") or prod.get("NAME") or "").strip()
        found = transport.find_product(article, name)
        if found:
            product = found[0]
        elif missing == "create":
            product = transport.create_product({"name": name, "article": article,
                                                "unit": str(r.get("MEASURE_NAME") or "шт")})
        else:
            not_found.append(f"«{name}»" + (f" (артикул {article})" if article else ""))
            continue
        qty = float(r.get("QUANTITY") or 0) or 1.0
        price = round(float(r.get("PRICE") or 0), 2)
        amount = round(price * qty, 2)
        rate_raw = r.get("TAX_RATE")
        rate = None if rate_raw in (None, "", False) else float(rate_raw)
        vat = round(amount * rate / (100 + rate), 2) if rate else 0.0
        out.append(InvoiceRow(product, qty, price, amount, rate, vat, content=""))
    if not_found:
        raise DataError(f"products not found in 1C base {transport.name}: {', '.join(not_found)} (settings: "
                        f"onec.push.missing_products = fail) / в 1С не найдена номенклатура: {', '.join(not_found)}")
    return out


__all__ = ["PushResult", "Product", "push_deal"]
