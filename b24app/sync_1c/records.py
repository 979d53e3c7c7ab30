"""Plain records the transports return, whatever the profile or transport: the sync engine and the
push logic only see these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Organization:
    ref: str
    name: str
    inn: str = ""
    kpp: str = ""
    prefix: str = ""


@dataclass
class Counterparty:
    ref: str
    name: str
    inn: str = ""
    kpp: str = ""
    created: bool = False


@dataclass
class Contract:
    ref: str
    name: str = ""
    number: str = ""
    date: str | None = None
    created: bool = False


@dataclass
class Product:
    ref: str
    name: str
    article: str = ""
    unit_ref: str = ""
    created: bool = False


@dataclass
class InvoiceRow:
    """A goods row to invoice, resolved to a 1C product."""

    product: Product
    quantity: float
    price: float  # per unit, VAT included
    amount: float  # VAT included
    vat_rate: float | None  # 20.0, 10.0, 0.0 or None (без НДС)
    vat_amount: float
    content: str = ""


@dataclass
class InvoiceSpec:
    """What to create in 1C for a deal."""

    key: str  # idempotency key, written into the document's comment
    organization: Organization
    counterparty: Counterparty
    contract: Contract | None
    rows: list[InvoiceRow]
    date: str  # YYYY-MM-DDThh:mm:ss, the base's local time
    due_date: str  # YYYY-MM-DD
    comment: str
    post: bool = True

    @property
    def total(self) -> float:
        return round(sum(r.amount for r in self.rows), 2)


@dataclass
class InvoiceRec:
    ref: str
    number: str = ""
    date: str | None = None
    amount: float = 0.0
    posted: bool = False
    deletion_mark: bool = False
    deleted: bool = False  # physically deleted in 1C
    data_version: str = ""
    counterparty_ref: str = ""
    organization_ref: str = ""
    comment: str = ""
    due_date: str | None = None
    order_ref: str = ""  # УТ: the ЗаказКлиента the invoice is based on
    change_no: str = ""  # SOAP change feed position

    @property
    def live(self) -> bool:
        return not self.deleted and not self.deletion_mark


@dataclass
class Allocation:
    """A part of a payment applied to a document: an invoice, or (УТ) the order behind an invoice."""

    target_ref: str
    amount: float
    target: str = "invoice"  # invoice | order


@dataclass
class PaymentRec:
    ref: str
    kind: str = "bank"  # bank | cash
    number: str = ""
    date: str = ""
    posted: bool = False
    deletion_mark: bool = False
    deleted: bool = False
    amount: float = 0.0
    data_version: str = ""
    counterparty_ref: str = ""
    customer_payment: bool = True  # the operation is a payment from a customer
    allocations: list[Allocation] = field(default_factory=list)

    @property
    def active(self) -> bool:
        """Counts towards invoices: posted, not marked for deletion, a customer's payment."""
        return self.posted and not self.deletion_mark and not self.deleted and self.customer_payment


def num(value: Any) -> float:
    """A 1C number (JSON number, or a string in Int64 style) as float."""
    if value in (None, ""):
        return 0.0
    try:
        return float(str(value).replace(" ", "").replace(",", "."))
    except ValueError:
        return 0.0
