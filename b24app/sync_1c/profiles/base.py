"""What the three configurations share over OData, and the hooks where they differ.

A profile knows the configuration's object and attribute names (1c-integration.md §2): where the
counterparty, contract, product, invoice and payments live, how a payment points at the invoice it
pays, how VAT is written (an enum in БП, a catalog in УТ/УНФ), and how to build the invoice. It turns
1C entities into the plain records of :mod:`b24app.sync_1c.records`.
"""

from __future__ import annotations

import abc
from typing import Any

from b24app.errors import DataError, OneCError
from b24app.sync_1c.odata import (
    EMPTY_GUID,
    NS,
    ODataClient,
    cast_lit,
    datetime_lit,
    guid,
    is_empty_ref,
    parse_date,
    string_lit,
)
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

KEY_OR_CHUNK = 15  # refs per "Ref_Key eq … or …" filter


class Profile(abc.ABC):
    """Behaviour shared by БП 3.0, УТ 11 and УНФ 3.0; subclasses set the names and override hooks."""

    name = ""
    title = ""
    invoice_set = ""
    invoice_rows = ""  # tabular part with goods ("" when goods live elsewhere)
    order_set = ""
    payment_sets: tuple[tuple[str, str], ...] = ()  # (set, kind)
    operation_field = "ВидОперации"
    customer_operations: tuple[str, ...] = ()
    contract_number = "Номер"
    contract_date = "Дата"
    contract_kind_field = "ВидДоговора"
    contract_kind_value = "СПокупателем"
    invoice_contract_field = "Договор_Key"
    counterparty_hierarchical = True
    bank_account_set = "Catalog_БанковскиеСчета"
    web_object_names: dict[str, str] = {}

    def __init__(self) -> None:
        self._vat_refs: dict[str, dict[float | None, str]] = {}
        self._orgs: dict[str, list[Organization]] = {}

    # -- what must be published ----------------------------------------------------------------
    def required_sets(self) -> list[str]:
        sets = ["Catalog_Организации", "Catalog_Контрагенты", "Catalog_ДоговорыКонтрагентов", "Catalog_Номенклатура",
                self.invoice_set, *(s for s, _ in self.payment_sets)]
        if self.order_set:
            sets.append(self.order_set)
        return sets

    # -- organizations -------------------------------------------------------------------------
    def organizations(self, c: ODataClient) -> list[Organization]:
        cached = self._orgs.get(c.root)
        if cached is None:
            try:
                rows = c.list("Catalog_Организации", filter="DeletionMark eq false",
                              select="Ref_Key,Description,ИНН,КПП,Префикс")
            except OneCError as exc:
                if exc.code != "6":
                    raise
                rows = c.list("Catalog_Организации", filter="DeletionMark eq false",
                              select="Ref_Key,Description,ИНН,КПП")  # a configuration without Префикс
            cached = [Organization(r["Ref_Key"], r.get("Description", ""), str(r.get("ИНН") or ""),
                                   str(r.get("КПП") or ""), str(r.get("Префикс") or "")) for r in rows]
            self._orgs[c.root] = cached
        return cached

    def organization(self, c: ODataClient, inn: str = "") -> Organization:
        orgs = self.organizations(c)
        if inn:
            for o in orgs:
                if o.inn == inn:
                    return o
            raise DataError(f"1C has no organization with ИНН {inn} / в 1С нет организации с ИНН {inn}")
        if not orgs:
            raise DataError("1C base has no organization / в базе 1С нет организации")
        return orgs[0]

    # -- counterparties ------------------------------------------------------------------------
    def counterparty_select(self) -> str:
        return "Ref_Key,Description,ИНН,КПП,DeletionMark" + (",IsFolder" if self.counterparty_hierarchical else "")

    def find_counterparty(self, c: ODataClient, inn: str, kpp: str = "") -> list[Counterparty]:
        rows = c.list("Catalog_Контрагенты", filter=f"ИНН eq {string_lit(inn)} and DeletionMark eq false",
                      select=self.counterparty_select(), orderby="Ref_Key")
        out = []
        for r in rows:
            if r.get("IsFolder"):
                continue
            if kpp and str(r.get("КПП") or "") != kpp:
                continue
            out.append(Counterparty(r["Ref_Key"], r.get("Description", ""), str(r.get("ИНН") or ""),
                                    str(r.get("КПП") or "")))
        return out

    def counterparty_payload(self, data: dict[str, Any]) -> dict[str, Any]:
        inn = str(data.get("inn") or "")
        person = len(inn) == 12
        name = str(data.get("name") or inn)
        return {
            "Description": name[:100],
            "НаименованиеПолное": str(data.get("full_name") or name),
            "ИНН": inn,
            "КПП": "" if person else str(data.get("kpp") or ""),
            "ЮридическоеФизическоеЛицо": "ФизическоеЛицо" if person else "ЮридическоеЛицо",
            "Комментарий": str(data.get("comment") or ""),
        }

    def create_counterparty(self, c: ODataClient, data: dict[str, Any]) -> Counterparty:
        ent = c.create("Catalog_Контрагенты", self.counterparty_payload(data))
        bank = data.get("bank") or {}
        if bank.get("account"):
            self.create_bank_account(c, ent["Ref_Key"], bank)
        return Counterparty(ent["Ref_Key"], ent.get("Description", ""), str(ent.get("ИНН") or ""),
                            str(ent.get("КПП") or ""), created=True)

    def create_bank_account(self, c: ODataClient, cp_ref: str, bank: dict[str, Any]) -> None:
        c.create(self.bank_account_set, {
            "Description": f"{bank.get('account')}, {bank.get('name', '')}".strip(", ")[:150],
            "НомерСчета": str(bank.get("account")),
            "Owner": cp_ref,
            "Owner_Type": f"{NS}.Catalog_Контрагенты",
        })

    # -- contracts -----------------------------------------------------------------------------
    def contract_owner_filter(self, cp_ref: str) -> str:
        return f"Owner_Key eq {guid(cp_ref)}"

    def contract_owner_payload(self, cp: Counterparty) -> dict[str, Any]:
        return {"Owner_Key": cp.ref}

    def find_contract(self, c: ODataClient, cp_ref: str, number: str = "", date: str | None = None,
                      name: str = "") -> list[Contract]:
        flt = self.contract_owner_filter(cp_ref) + " and DeletionMark eq false"
        if number:
            flt += f" and {self.contract_number} eq {string_lit(number)}"
        if name:
            flt += f" and Description eq {string_lit(name)}"
        rows = c.list("Catalog_ДоговорыКонтрагентов", filter=flt,
                      select=f"Ref_Key,Description,{self.contract_number},{self.contract_date}", orderby="Ref_Key")
        out = []
        for r in rows:
            d = parse_date(r.get(self.contract_date))
            if date and (d or "")[:10] != date[:10]:
                continue
            out.append(Contract(r["Ref_Key"], r.get("Description", ""), str(r.get(self.contract_number) or ""), d))
        return out

    def create_contract(self, c: ODataClient, cp: Counterparty, org: Organization, number: str,
                        date: str | None, name: str) -> Contract:
        payload = {
            **self.contract_owner_payload(cp),
            "Description": name[:100],
            self.contract_number: number,
            self.contract_date: f"{date[:10]}T00:00:00" if date else "0001-01-01T00:00:00",
            self.contract_kind_field: self.contract_kind_value,
            "Организация_Key": org.ref,
        }
        ent = c.create("Catalog_ДоговорыКонтрагентов", payload)
        return Contract(ent["Ref_Key"], ent.get("Description", ""), number, date, created=True)

    # -- products --------------------------------------------------------------------------------
    def find_product(self, c: ODataClient, article: str = "", name: str = "") -> list[Product]:
        select = "Ref_Key,Description,Артикул,ЕдиницаИзмерения_Key,DeletionMark"
        rows: list[dict[str, Any]] = []
        if article:
            rows = c.list("Catalog_Номенклатура", filter=f"Артикул eq {string_lit(article)} and DeletionMark eq false",
                          select=select, orderby="Ref_Key")
        if not rows and name:
            rows = c.list("Catalog_Номенклатура", filter=f"Description eq {string_lit(name)} and DeletionMark eq false",
                          select=select, orderby="Ref_Key")
        return [Product(r["Ref_Key"], r.get("Description", ""), str(r.get("Артикул") or ""),
                        str(r.get("ЕдиницаИзмерения_Key") or "")) for r in rows]

    def product_payload(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"Description": str(data.get("name") or data.get("article") or "Товар")[:100],
                "НаименованиеПолное": str(data.get("name") or ""), "Артикул": str(data.get("article") or "")[:50]}

    def create_product(self, c: ODataClient, data: dict[str, Any]) -> Product:
        ent = c.create("Catalog_Номенклатура", self.product_payload(data))
        return Product(ent["Ref_Key"], ent.get("Description", ""), str(ent.get("Артикул") or ""),
                       str(ent.get("ЕдиницаИзмерения_Key") or ""), created=True)

    # -- VAT ---------------------------------------------------------------------------------------
    def vat_enum(self, rate: float | None) -> str:
        if rate is None:
            return "БезНДС"
        return {20: "НДС20", 10: "НДС10", 0: "НДС0", 18: "НДС18"}.get(int(rate), "НДС20")

    def vat_ref(self, c: ODataClient, rate: float | None) -> str:
        """УТ/УНФ keep VAT rates in ``Catalog_СтавкиНДС``."""
        refs = self._vat_refs.get(c.root)
        if refs is None:
            refs = {}
            for r in c.list("Catalog_СтавкиНДС", filter="DeletionMark eq false"):
                desc = str(r.get("Description") or "").lower()
                if "без" in desc or r.get("НеОблагается") or r.get("ПеречислениеСтавкаНДС") == "БезНДС":
                    refs.setdefault(None, r["Ref_Key"])
                else:
                    refs.setdefault(float(num(r.get("Ставка"))), r["Ref_Key"])
            self._vat_refs[c.root] = refs
        key = None if rate is None else float(rate)
        if key not in refs:
            raise DataError(f"1C has no VAT rate {rate if rate is not None else 'без НДС'} in Catalog_СтавкиНДС / "
                            "в 1С нет такой ставки НДС")
        return refs[key]

    # -- invoices ------------------------------------------------------------------------------------
    def invoice_select(self) -> str:
        return ("Ref_Key,DataVersion,Number,Date,Posted,DeletionMark,СуммаДокумента,Контрагент_Key,"
                "Организация_Key,Комментарий")

    def parse_invoice(self, e: dict[str, Any]) -> InvoiceRec:
        return InvoiceRec(
            ref=e["Ref_Key"], number=str(e.get("Number") or ""), date=parse_date(e.get("Date")),
            amount=num(e.get("СуммаДокумента")), posted=bool(e.get("Posted")),
            deletion_mark=bool(e.get("DeletionMark")), data_version=str(e.get("DataVersion") or ""),
            counterparty_ref=str(e.get("Контрагент_Key") or ""), organization_ref=str(e.get("Организация_Key") or ""),
            comment=str(e.get("Комментарий") or ""), due_date=self.due_date_of(e),
        )

    def due_date_of(self, e: dict[str, Any]) -> str | None:
        return None

    def find_invoice(self, c: ODataClient, key: str) -> InvoiceRec | None:
        rows = c.list(self.invoice_set, filter=f"substringof({string_lit(key)}, Комментарий)",
                      select=self.invoice_select(), orderby="Date,Ref_Key")
        rows = [r for r in rows if key in str(r.get("Комментарий") or "")]
        return self.parse_invoice(rows[0]) if rows else None

    def invoice_window(self, c: ODataClient, date_from: str, date_to: str, skip: int, top: int) -> list[InvoiceRec]:
        flt = f"Date ge {datetime_lit(date_from)} and Date lt {datetime_lit(date_to)}"
        rows = c.list(self.invoice_set, filter=flt, select=self.invoice_select(), orderby="Date,Ref_Key",
                      top=top, skip=skip)
        return [self.parse_invoice(r) for r in rows]

    def invoices_by_ref(self, c: ODataClient, refs: list[str]) -> list[InvoiceRec]:
        out = []
        for i in range(0, len(refs), KEY_OR_CHUNK):
            chunk = refs[i:i + KEY_OR_CHUNK]
            flt = " or ".join(f"Ref_Key eq {guid(r)}" for r in chunk)
            out.extend(self.parse_invoice(r) for r in c.list(self.invoice_set, filter=flt, select=self.invoice_select()))
        return out

    def comment_with_key(self, comment: str, key: str) -> str:
        return f"{comment} [{key}]".strip()

    @abc.abstractmethod
    def create_invoice(self, c: ODataClient, spec: InvoiceSpec) -> InvoiceRec:
        """Create (and post, if asked) the configuration's invoice documents for ``spec``."""

    def finish(self, c: ODataClient, set_name: str, ent: dict[str, Any], post: bool) -> dict[str, Any]:
        """Post if asked, then re-read (Post answers no body; the number and DataVersion change)."""
        if post and not ent.get("Posted"):
            c.post_document(set_name, ent["Ref_Key"])
            again = c.by_key(set_name, ent["Ref_Key"])
            if again is None or not again.get("Posted"):
                raise OneCError(f"1C did not post {set_name} {ent.get('Number')}", code="-1", status=500)
            return again
        return ent

    # -- payments ------------------------------------------------------------------------------------
    @abc.abstractmethod
    def payment_select(self, set_name: str) -> str:
        """``$select`` of a payment document: header, operation and the rows linking to invoices."""

    @abc.abstractmethod
    def parse_payment(self, set_name: str, kind: str, e: dict[str, Any]) -> PaymentRec:
        """A payment record with its allocations to invoices (or orders)."""

    def payment_window(self, c: ODataClient, set_name: str, kind: str, date_from: str, date_to: str, skip: int,
                       top: int) -> list[PaymentRec]:
        flt = f"Date ge {datetime_lit(date_from)} and Date lt {datetime_lit(date_to)}"
        rows = c.list(set_name, filter=flt, select=self.payment_select(set_name), orderby="Date,Ref_Key",
                      top=top, skip=skip)
        return [self.parse_payment(set_name, kind, r) for r in rows]

    def header_allocation(self, e: dict[str, Any], amount: float) -> list[Allocation]:
        """Fall back to the header's ``ДокументОснование`` when no row names an invoice."""
        basis, btype = e.get("ДокументОснование"), str(e.get("ДокументОснование_Type") or "")
        if not is_empty_ref(basis) and btype == f"{NS}.{self.invoice_set}":
            return [Allocation(str(basis), amount)]
        if not is_empty_ref(basis) and self.order_set and btype == f"{NS}.{self.order_set}":
            return [Allocation(str(basis), amount, "order")]
        return []

    # -- links ---------------------------------------------------------------------------------------
    def web_link(self, web_root: str, ref: str) -> str:
        """A navigation link into the 1C web client (``e1cib/data/Документ.X?ref=<hex>``)."""
        parts = ref.split("-")
        if len(parts) != 5:
            return ""
        hexref = parts[3] + parts[4] + parts[2] + parts[1] + parts[0]
        obj = self.invoice_set.replace("Document_", "Документ.", 1)
        return f"{web_root.rstrip('/')}/#e1cib/data/{obj}?ref={hexref}"


def composite_cast(ref: str, set_name: str) -> str:
    return cast_lit(ref, set_name)


__all__ = ["EMPTY_GUID", "Profile", "composite_cast"]
