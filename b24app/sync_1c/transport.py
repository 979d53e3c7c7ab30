"""One interface over both transports: the standard OData interface (with a configuration
profile) and the ``B24Exchange`` SOAP web service. The push logic and the sync engine call only
:class:`Transport`; whatever the wire, they get the records of :mod:`b24app.sync_1c.records`.
"""

from __future__ import annotations

import abc
import json
from typing import Any

from b24app.errors import OneCError
from b24app.sync_1c.odata import EMPTY_GUID, ODataClient, is_empty_ref, parse_date
from b24app.sync_1c.profiles import Profile
from b24app.sync_1c.records import (
    Allocation,
    Contract,
    Counterparty,
    InvoiceRec,
    InvoiceSpec,
    Organization,
    PaymentRec,
    Product,
    num,
)
from b24app.sync_1c.soap import SoapClient


class Transport(abc.ABC):
    """A connected 1C base."""

    kind = ""
    has_change_feed = False  # invoices come as a feed of changes (SOAP) rather than date windows (OData)

    def __init__(self, name: str, profile: Profile) -> None:
        self.name = name
        self.profile = profile

    @property
    @abc.abstractmethod
    def requests_sent(self) -> int:
        """HTTP requests sent so far (for benchmarks and logs)."""

    @abc.abstractmethod
    def organizations(self) -> list[Organization]: ...

    @abc.abstractmethod
    def find_counterparty(self, inn: str, kpp: str = "") -> list[Counterparty]: ...

    @abc.abstractmethod
    def create_counterparty(self, data: dict[str, Any]) -> Counterparty: ...

    @abc.abstractmethod
    def find_contract(self, cp_ref: str, number: str = "", date: str | None = None, name: str = "") -> list[Contract]: ...

    @abc.abstractmethod
    def create_contract(self, cp: Counterparty, org: Organization, number: str, date: str | None,
                        name: str) -> Contract: ...

    @abc.abstractmethod
    def find_product(self, article: str = "", name: str = "") -> list[Product]: ...

    @abc.abstractmethod
    def create_product(self, data: dict[str, Any]) -> Product: ...

    @abc.abstractmethod
    def find_invoice(self, key: str) -> InvoiceRec | None: ...

    @abc.abstractmethod
    def create_invoice(self, spec: InvoiceSpec) -> InvoiceRec: ...

    @abc.abstractmethod
    def invoices_by_ref(self, refs: list[str]) -> list[InvoiceRec]:
        """The current state of these invoices (missing ones were deleted physically)."""

    def invoice_window(self, date_from: str, date_to: str, skip: int, top: int) -> list[InvoiceRec]:
        """Invoices dated in ``[date_from, date_to)``, ordered, a page at ``skip`` (OData)."""
        return []

    def invoice_changes(self, cursor: str, limit: int) -> tuple[list[InvoiceRec], str, bool]:
        """Changed invoices after ``cursor``: (records, new cursor, more?) (SOAP change feed)."""
        return [], cursor, False

    @abc.abstractmethod
    def payment_page(self, date_from: str, date_to: str, token: str, limit: int) -> tuple[list[PaymentRec], str | None]:
        """Payments dated in ``[date_from, date_to)`` from ``token`` ("" = start); (page, next token or None)."""

    def web_link(self, web_root: str, ref: str) -> str:
        return self.profile.web_link(web_root, ref) if web_root else ""


class ODataTransport(Transport):
    kind = "odata"

    def __init__(self, name: str, profile: Profile, client: ODataClient) -> None:
        super().__init__(name, profile)
        self.client = client

    @property
    def requests_sent(self) -> int:
        return self.client.requests_sent

    def organizations(self) -> list[Organization]:
        return self.profile.organizations(self.client)

    def find_counterparty(self, inn: str, kpp: str = "") -> list[Counterparty]:
        return self.profile.find_counterparty(self.client, inn, kpp)

    def create_counterparty(self, data: dict[str, Any]) -> Counterparty:
        return self.profile.create_counterparty(self.client, data)

    def find_contract(self, cp_ref: str, number: str = "", date: str | None = None, name: str = "") -> list[Contract]:
        return self.profile.find_contract(self.client, cp_ref, number, date, name)

    def create_contract(self, cp: Counterparty, org: Organization, number: str, date: str | None,
                        name: str) -> Contract:
        return self.profile.create_contract(self.client, cp, org, number, date, name)

    def find_product(self, article: str = "", name: str = "") -> list[Product]:
        return self.profile.find_product(self.client, article, name)

    def create_product(self, data: dict[str, Any]) -> Product:
        return self.profile.create_product(self.client, data)

    def find_invoice(self, key: str) -> InvoiceRec | None:
        return self.profile.find_invoice(self.client, key)

    def create_invoice(self, spec: InvoiceSpec) -> InvoiceRec:
        return self.profile.create_invoice(self.client, spec)

    def invoices_by_ref(self, refs: list[str]) -> list[InvoiceRec]:
        return self.profile.invoices_by_ref(self.client, refs)

    def invoice_window(self, date_from: str, date_to: str, skip: int, top: int) -> list[InvoiceRec]:
        return self.profile.invoice_window(self.client, date_from, date_to, skip, top)

    def payment_page(self, date_from: str, date_to: str, token: str, limit: int) -> tuple[list[PaymentRec], str | None]:
        sets = self.profile.payment_sets
        index, _, skip_text = (token or "0:0").partition(":")
        i, skip = int(index), int(skip_text or 0)
        while i < len(sets):
            set_name, kind = sets[i]
            rows = self.profile.payment_window(self.client, set_name, kind, date_from, date_to, skip, limit)
            if len(rows) == limit:
                return rows, f"{i}:{skip + limit}"
            nxt = f"{i + 1}:0" if i + 1 < len(sets) else None
            if rows:
                return rows, nxt
            i, skip = i + 1, 0
        return [], None


class SoapTransport(Transport):
    kind = "soap"
    has_change_feed = True

    def __init__(self, name: str, profile: Profile, client: SoapClient) -> None:
        super().__init__(name, profile)
        self.client = client
        self._sent = 0

    @property
    def requests_sent(self) -> int:
        return self._sent

    def _call(self, op: str, **params: Any) -> Any:
        self._sent += 1
        return self.client.call(op, **params)

    def organizations(self) -> list[Organization]:
        data = self._call("Ping") or {}
        return [Organization(o["ref"], o.get("name", ""), o.get("inn", ""), o.get("kpp", ""))
                for o in data.get("organizations", [])]

    def find_counterparty(self, inn: str, kpp: str = "") -> list[Counterparty]:
        data = self._call("FindCounterparty", INN=inn, KPP=kpp or None) or {}
        return [Counterparty(x["ref"], x.get("name", ""), x.get("inn", ""), x.get("kpp", ""))
                for x in data.get("items", []) if not x.get("deletion_mark")]

    def create_counterparty(self, data: dict[str, Any]) -> Counterparty:
        res = self._call("CreateCounterparty", Data=json.dumps(data, ensure_ascii=False)) or {}
        cp = res.get("counterparty") or {}
        return Counterparty(res["ref"], cp.get("name", ""), cp.get("inn", ""), cp.get("kpp", ""),
                            created=bool(res.get("created")))

    def find_contract(self, cp_ref: str, number: str = "", date: str | None = None, name: str = "") -> list[Contract]:
        data = self._call("FindContract", CounterpartyRef=cp_ref, Number=number or None,
                          Date=(date[:10] if date else None), OrganizationRef=None) or {}
        out = [Contract(x["ref"], x.get("name", ""), x.get("number", ""), parse_date(x.get("date")))
               for x in data.get("items", [])]
        return [c for c in out if not name or c.name == name]

    def create_contract(self, cp: Counterparty, org: Organization, number: str, date: str | None,
                        name: str) -> Contract:
        payload = {"number": number, "date": date[:10] if date else "", "kind": "СПокупателем", "name": name,
                   "organization_ref": org.ref}
        res = self._call("CreateContract", CounterpartyRef=cp.ref, Data=json.dumps(payload, ensure_ascii=False)) or {}
        c = res.get("contract") or {}
        return Contract(res["ref"], c.get("name", name), c.get("number", number), parse_date(c.get("date")),
                        created=bool(res.get("created")))

    def find_product(self, article: str = "", name: str = "") -> list[Product]:
        data = self._call("FindProduct", Article=article or None, Name=name or None) or {}
        return [Product(x["ref"], x.get("name", ""), x.get("article", "")) for x in data.get("items", [])]

    def create_product(self, data: dict[str, Any]) -> Product:
        # the service creates missing products inside CreateInvoice (create_products): no ref yet
        return Product("", str(data.get("name") or ""), str(data.get("article") or ""), created=True)

    def _invoice(self, v: dict[str, Any]) -> InvoiceRec:
        return InvoiceRec(
            ref=v["ref"], number=str(v.get("number") or ""), date=parse_date(v.get("date")),
            amount=num(v.get("amount")), posted=bool(v.get("posted")), deletion_mark=bool(v.get("deletion_mark")),
            deleted=bool(v.get("deleted")), data_version=str(v.get("data_version") or ""),
            counterparty_ref=str(v.get("counterparty_ref") or ""), organization_ref=str(v.get("organization_ref") or ""),
            comment=str(v.get("comment") or ""), change_no=str(v.get("change_no") or ""),
        )

    def find_invoice(self, key: str) -> InvoiceRec | None:
        data = self._call("FindInvoiceByComment", Key=key) or {}
        items = data.get("items") or []
        return self._invoice(items[0]) if items else None

    def create_invoice(self, spec: InvoiceSpec) -> InvoiceRec:
        rows = []
        for r in spec.rows:
            row: dict[str, Any] = {"quantity": r.quantity, "price": r.price, "amount": r.amount,
                                   "vat_rate": r.vat_rate, "vat_amount": r.vat_amount, "content": r.content}
            if r.product.ref:
                row["product_ref"] = r.product.ref
            else:
                row.update(article=r.product.article, name=r.product.name)
            rows.append(row)
        data = {
            "organization_ref": spec.organization.ref, "counterparty_ref": spec.counterparty.ref,
            "contract_ref": spec.contract.ref if spec.contract else "", "date": spec.date,
            "comment": self.profile.comment_with_key(spec.comment, spec.key), "idempotency_key": spec.key,
            "prices_include_vat": True, "create_products": any(not r.product.ref for r in spec.rows), "rows": rows,
        }
        view = self._call("CreateInvoice", Data=json.dumps(data, ensure_ascii=False), Post=spec.post) or {}
        rec = self._invoice(view)
        rec.due_date = spec.due_date
        return rec

    def invoices_by_ref(self, refs: list[str]) -> list[InvoiceRec]:
        out = []
        for ref in refs:
            try:
                st = self._call("GetInvoiceStatus", Ref=ref) or {}
            except OneCError as exc:  # "не найден": deleted in 1C; anything else propagates
                if "не найден" in exc.message:
                    continue
                raise
            out.append(InvoiceRec(ref=ref, amount=num(st.get("amount")), date=parse_date(st.get("date")),
                                  deletion_mark=bool(st.get("deletion_mark")), posted=True))
        return out

    def invoice_changes(self, cursor: str, limit: int) -> tuple[list[InvoiceRec], str, bool]:
        data = self._call("GetInvoiceChanges", Cursor=cursor or None, DateFrom=None, DateTo=None, Limit=limit) or {}
        items = [self._invoice(v) for v in data.get("items", [])]
        return items, str(data.get("cursor") or cursor), bool(data.get("more"))

    def payment_page(self, date_from: str, date_to: str, token: str, limit: int) -> tuple[list[PaymentRec], str | None]:
        data = self._call("GetPayments", DateFrom=date_from, DateTo=date_to, Cursor=token or None, Limit=limit,
                          IncludeUnposted=True) or {}
        out = []
        for v in data.get("items", []):
            if str(v.get("date") or "")[:19] >= date_to[:19]:
                continue  # the service's window is closed at the end; ours is half-open
            allocations = []
            for r in v.get("rows") or []:
                if not is_empty_ref(r.get("invoice_ref")):
                    allocations.append(Allocation(str(r["invoice_ref"]), num(r.get("amount"))))
                elif not is_empty_ref(r.get("basis_ref")) and str(r.get("basis_type", "")).endswith("ЗаказКлиента"):
                    allocations.append(Allocation(str(r["basis_ref"]), num(r.get("amount")), "order"))
            out.append(PaymentRec(
                ref=v["ref"], kind=str(v.get("kind") or "bank"), number=str(v.get("number") or ""),
                date=parse_date(v.get("date")) or "", posted=bool(v.get("posted")),
                deletion_mark=bool(v.get("deletion_mark")), amount=num(v.get("amount")),
                data_version=str(v.get("data_version") or ""), counterparty_ref=str(v.get("counterparty_ref") or ""),
                allocations=allocations,
            ))
        return out, data.get("next") or None


__all__ = ["EMPTY_GUID", "ODataTransport", "SoapTransport", "Transport"]
