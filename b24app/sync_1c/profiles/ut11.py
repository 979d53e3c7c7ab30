"""1С:Управление торговлей 11.

Goods live in ``Document_ЗаказКлиента`` (``Товары`` with ``СтавкаНДС_Key`` from ``Catalog_СтавкиНДС``);
``Document_СчетНаОплатуКлиенту`` has no goods table: it points to the order through
``ДокументОснование`` and carries the payment schedule ``ЭтапыГрафикаОплаты`` (its dates give the due
date). Every counterparty belongs to a ``Catalog_Партнеры`` element (the CRM side); documents carry
both ``Партнер_Key`` and ``Контрагент_Key``. Contracts are not owned: ``Контрагент_Key`` + ``Партнер_Key``.
Payments: ``Document_ПоступлениеБезналичныхДенежныхСредств`` and ``Document_ПриходныйКассовыйОрдер``
with ``ХозяйственнаяОперация = ПоступлениеОплатыОтКлиента``; a row of ``РасшифровкаПлатежа`` names what it
pays in the composite ``ОснованиеПлатежа`` (+ ``_Type``): the invoice, or the order behind it.
"""

from __future__ import annotations

from typing import Any

from b24app.errors import DataError
from b24app.sync_1c.odata import NS, ODataClient, guid, is_empty_ref, parse_date, string_lit
from b24app.sync_1c.profiles.base import Profile
from b24app.sync_1c.records import (
    Allocation,
    Contract,
    Counterparty,
    InvoiceRec,
    InvoiceSpec,
    PaymentRec,
    num,
)


class Ut11(Profile):
    name = "ut11"
    title = "1С:Управление торговлей 11"
    invoice_set = "Document_СчетНаОплатуКлиенту"
    invoice_rows = ""
    order_set = "Document_ЗаказКлиента"
    payment_sets = (("Document_ПоступлениеБезналичныхДенежныхСредств", "bank"),
                    ("Document_ПриходныйКассовыйОрдер", "cash"))
    operation_field = "ХозяйственнаяОперация"
    customer_operations = ("ПоступлениеОплатыОтКлиента",)
    contract_kind_field = "ТипДоговора"
    counterparty_hierarchical = False
    bank_account_set = "Catalog_БанковскиеСчетаКонтрагентов"

    def required_sets(self) -> list[str]:
        return [*super().required_sets(), "Catalog_Партнеры", "Catalog_СтавкиНДС"]

    # -- counterparties: a partner first -------------------------------------------------------
    def counterparty_payload(self, data: dict[str, Any]) -> dict[str, Any]:
        payload = super().counterparty_payload(data)
        person = payload["ЮридическоеФизическоеЛицо"] == "ФизическоеЛицо"
        payload.pop("Комментарий", None)
        payload["ЮрФизЛицо"] = "ИндивидуальныйПредприниматель" if person else "ЮрЛицо"
        payload["ДополнительнаяИнформация"] = str(data.get("comment") or "")
        return payload

    def create_counterparty(self, c: ODataClient, data: dict[str, Any]) -> Counterparty:
        name = str(data.get("name") or data.get("inn") or "")[:100]
        partners = c.list("Catalog_Партнеры", filter=f"Description eq {string_lit(name)} and DeletionMark eq false",
                          select="Ref_Key", orderby="Ref_Key")
        if partners:  # an earlier attempt made the partner and died before the counterparty
            partner = partners[0]["Ref_Key"]
        else:
            partner = c.create("Catalog_Партнеры", {
                "Description": name, "НаименованиеПолное": str(data.get("full_name") or name), "Клиент": True,
                "ЮрФизЛицо": "ЧастноеЛицо" if len(str(data.get("inn") or "")) == 12 else "Компания",
            })["Ref_Key"]
        payload = self.counterparty_payload(data)
        payload["Партнер_Key"] = partner
        ent = c.create("Catalog_Контрагенты", payload)
        bank = data.get("bank") or {}
        if bank.get("account"):
            self.create_bank_account(c, ent["Ref_Key"], bank)
        return Counterparty(ent["Ref_Key"], ent.get("Description", ""), str(ent.get("ИНН") or ""),
                            str(ent.get("КПП") or ""), created=True)

    def partner_of(self, c: ODataClient, cp_ref: str) -> str:
        ent = c.by_key("Catalog_Контрагенты", cp_ref, select="Ref_Key,Партнер_Key")
        partner = (ent or {}).get("Партнер_Key")
        if is_empty_ref(partner):
            raise DataError(f"1C counterparty {cp_ref} has no partner (Партнер): УТ cannot post its documents / "
                            "у контрагента в УТ не заполнен партнёр")
        return str(partner)

    # -- contracts: not owned -------------------------------------------------------------------
    def contract_owner_filter(self, cp_ref: str) -> str:
        return f"Контрагент_Key eq {guid(cp_ref)}"

    def contract_owner_payload(self, cp: Counterparty) -> dict[str, Any]:
        return {"Контрагент_Key": cp.ref}

    def create_contract(self, c: ODataClient, cp: Counterparty, org: Any, number: str, date: str | None,
                        name: str) -> Contract:
        payload = {
            "Контрагент_Key": cp.ref,
            "Партнер_Key": self.partner_of(c, cp.ref),
            "Description": name[:100],
            "Номер": number,
            "Дата": f"{date[:10]}T00:00:00" if date else "0001-01-01T00:00:00",
            "ТипДоговора": "СПокупателем",
            "Статус": "Действует",
            "ХозяйственнаяОперация": "РеализацияКлиенту",
            "Организация_Key": org.ref,
        }
        ent = c.create("Catalog_ДоговорыКонтрагентов", payload)
        return Contract(ent["Ref_Key"], ent.get("Description", ""), number, date, created=True)

    def product_payload(self, data: dict[str, Any]) -> dict[str, Any]:
        payload = super().product_payload(data)
        payload["ТипНоменклатуры"] = "Товар"
        return payload

    # -- invoices: order + invoice ----------------------------------------------------------------
    def invoice_select(self) -> str:
        return super().invoice_select() + ",ДокументОснование,ДокументОснование_Type,ЭтапыГрафикаОплаты/ДатаПлатежа"

    def parse_invoice(self, e: dict[str, Any]) -> InvoiceRec:
        rec = super().parse_invoice(e)
        if e.get("ДокументОснование_Type") == f"{NS}.{self.order_set}" and not is_empty_ref(e.get("ДокументОснование")):
            rec.order_ref = str(e["ДокументОснование"])
        return rec

    def due_date_of(self, e: dict[str, Any]) -> str | None:
        dates = [parse_date(r.get("ДатаПлатежа")) for r in e.get("ЭтапыГрафикаОплаты") or []]
        dates = [d for d in dates if d]
        return max(dates)[:10] if dates else None

    def find_order(self, c: ODataClient, key: str) -> dict[str, Any] | None:
        rows = c.list(self.order_set, filter=f"substringof({string_lit(key)}, Комментарий)",
                      select="Ref_Key,Number,Date,Posted,СуммаДокумента,Договор_Key,Комментарий", orderby="Date,Ref_Key")
        rows = [r for r in rows if key in str(r.get("Комментарий") or "")]
        return rows[0] if rows else None

    def create_invoice(self, c: ODataClient, spec: InvoiceSpec) -> InvoiceRec:
        partner = self.partner_of(c, spec.counterparty.ref)
        common: dict[str, Any] = {
            "Date": spec.date,
            "Организация_Key": spec.organization.ref,
            "Партнер_Key": partner,
            "Контрагент_Key": spec.counterparty.ref,
        }
        if spec.contract is not None:
            common["Договор_Key"] = spec.contract.ref
        comment = self.comment_with_key(spec.comment, spec.key)
        order = self.find_order(c, spec.key)  # the order of an earlier attempt that died before the invoice
        if order is None:
            rows = []
            for i, r in enumerate(spec.rows, 1):
                rows.append({
                    "LineNumber": i,
                    "Номенклатура_Key": r.product.ref,
                    "Содержание": r.content,
                    "Количество": r.quantity,
                    "КоличествоУпаковок": r.quantity,
                    "Упаковка_Key": r.product.unit_ref or None,
                    "Цена": r.price,
                    "Сумма": r.amount,
                    "СтавкаНДС_Key": self.vat_ref(c, r.vat_rate),
                    "СуммаНДС": r.vat_amount,
                    "СуммаСНДС": r.amount,
                })
                if rows[-1]["Упаковка_Key"] is None:
                    rows[-1].pop("Упаковка_Key")
            order = c.create(self.order_set, {**common, "ЦенаВключаетНДС": True, "Статус": "КОтгрузке",
                                              "СуммаДокумента": spec.total, "Комментарий": comment, "Товары": rows})
            order = self.finish(c, self.order_set, order, spec.post)
        payload = {
            **common,
            "Договор_Key": order.get("Договор_Key") or common.get("Договор_Key"),
            "ДокументОснование": order["Ref_Key"],
            "ДокументОснование_Type": f"{NS}.{self.order_set}",
            "СуммаДокумента": spec.total,
            "Комментарий": comment,
            "НазначениеПлатежа": f"Оплата по заказу № {order.get('Number', '')}",
            "ЭтапыГрафикаОплаты": [{"LineNumber": 1, "ДатаПлатежа": f"{spec.due_date}T00:00:00",
                                    "ПроцентПлатежа": 100, "СуммаПлатежа": spec.total}],
        }
        if not payload["Договор_Key"]:
            payload.pop("Договор_Key")
        ent = c.create(self.invoice_set, payload)
        ent = self.finish(c, self.invoice_set, ent, spec.post)
        rec = self.parse_invoice(ent)
        rec.order_ref = order["Ref_Key"]
        rec.due_date = spec.due_date
        return rec

    # -- payments -----------------------------------------------------------------------------------
    def payment_select(self, set_name: str) -> str:
        return ("Ref_Key,DataVersion,Number,Date,Posted,DeletionMark,СуммаДокумента,ХозяйственнаяОперация,"
                "Контрагент_Key,ДокументОснование,ДокументОснование_Type,"
                "РасшифровкаПлатежа/ОснованиеПлатежа,РасшифровкаПлатежа/ОснованиеПлатежа_Type,"
                "РасшифровкаПлатежа/Сумма")

    def parse_payment(self, set_name: str, kind: str, e: dict[str, Any]) -> PaymentRec:
        amount = num(e.get("СуммаДокумента"))
        allocations = []
        for r in e.get("РасшифровкаПлатежа") or []:
            basis, btype = r.get("ОснованиеПлатежа"), str(r.get("ОснованиеПлатежа_Type") or "")
            if is_empty_ref(basis):
                continue
            if btype == f"{NS}.{self.invoice_set}":
                allocations.append(Allocation(str(basis), num(r.get("Сумма"))))
            elif btype == f"{NS}.{self.order_set}":
                allocations.append(Allocation(str(basis), num(r.get("Сумма")), "order"))
        if not allocations:
            allocations = self.header_allocation(e, amount)
        return PaymentRec(
            ref=e["Ref_Key"], kind=kind, number=str(e.get("Number") or ""), date=parse_date(e.get("Date")) or "",
            posted=bool(e.get("Posted")), deletion_mark=bool(e.get("DeletionMark")), amount=amount,
            data_version=str(e.get("DataVersion") or ""), counterparty_ref=str(e.get("Контрагент_Key") or ""),
            customer_payment=e.get(self.operation_field) in self.customer_operations, allocations=allocations,
        )
