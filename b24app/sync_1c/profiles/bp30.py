"""1С:Бухгалтерия предприятия 3.0.

Invoice ``Document_СчетНаОплатуПокупателю`` with goods in ``Товары`` (VAT rate as the enum
``СтавкаНДС``: ``НДС20``…); posting only marks it. Payments: ``Document_ПоступлениеНаРасчетныйСчет``
and ``Document_ПриходныйКассовыйОрдер`` with ``ВидОперации = ОплатаПокупателя``; each row of
``РасшифровкаПлатежа`` names the invoice it pays in ``СчетНаОплату_Key`` (the header's
``ДокументОснование`` is the fallback). Contracts are owned by the counterparty (``Owner_Key``).
БП keeps no due date on the invoice: the contract's ``СрокОплаты`` or the settings' days decide it.
"""

from __future__ import annotations

from typing import Any

from b24app.sync_1c.odata import NS, ODataClient, is_empty_ref, parse_date
from b24app.sync_1c.profiles.base import Profile
from b24app.sync_1c.records import Allocation, InvoiceRec, InvoiceSpec, PaymentRec, num


class Bp30(Profile):
    name = "bp30"
    title = "1С:Бухгалтерия предприятия 3.0"
    invoice_set = "Document_СчетНаОплатуПокупателю"
    invoice_rows = "Товары"
    payment_sets = (("Document_ПоступлениеНаРасчетныйСчет", "bank"), ("Document_ПриходныйКассовыйОрдер", "cash"))
    customer_operations = ("ОплатаПокупателя",)
    invoice_contract_field = "ДоговорКонтрагента_Key"

    def create_invoice(self, c: ODataClient, spec: InvoiceSpec) -> InvoiceRec:
        rows = []
        for i, r in enumerate(spec.rows, 1):
            rows.append({
                "LineNumber": i,
                "Номенклатура_Key": r.product.ref,
                "Содержание": r.content,
                "Количество": r.quantity,
                "Цена": r.price,
                "Сумма": r.amount,
                "СтавкаНДС": self.vat_enum(r.vat_rate),
                "СуммаНДС": r.vat_amount,
            })
        payload: dict[str, Any] = {
            "Date": spec.date,
            "Организация_Key": spec.organization.ref,
            "Контрагент_Key": spec.counterparty.ref,
            "СуммаВключаетНДС": True,
            "СуммаДокумента": spec.total,
            "Комментарий": self.comment_with_key(spec.comment, spec.key),
            "Товары": rows,
        }
        if spec.contract is not None:
            payload["ДоговорКонтрагента_Key"] = spec.contract.ref
        ent = c.create(self.invoice_set, payload)
        ent = self.finish(c, self.invoice_set, ent, spec.post)
        rec = self.parse_invoice(ent)
        rec.due_date = spec.due_date
        return rec

    def payment_select(self, set_name: str) -> str:
        return ("Ref_Key,DataVersion,Number,Date,Posted,DeletionMark,СуммаДокумента,ВидОперации,Контрагент,"
                "Контрагент_Type,ДокументОснование,ДокументОснование_Type,"
                "РасшифровкаПлатежа/СчетНаОплату_Key,РасшифровкаПлатежа/СуммаПлатежа")

    def parse_payment(self, set_name: str, kind: str, e: dict[str, Any]) -> PaymentRec:
        amount = num(e.get("СуммаДокумента"))
        allocations = [Allocation(str(r["СчетНаОплату_Key"]), num(r.get("СуммаПлатежа")))
                       for r in e.get("РасшифровкаПлатежа") or [] if not is_empty_ref(r.get("СчетНаОплату_Key"))]
        if not allocations:
            allocations = self.header_allocation(e, amount)
        cp = e.get("Контрагент") if e.get("Контрагент_Type") == f"{NS}.Catalog_Контрагенты" else ""
        return PaymentRec(
            ref=e["Ref_Key"], kind=kind, number=str(e.get("Number") or ""), date=parse_date(e.get("Date")) or "",
            posted=bool(e.get("Posted")), deletion_mark=bool(e.get("DeletionMark")), amount=amount,
            data_version=str(e.get("DataVersion") or ""), counterparty_ref=str(cp or ""),
            customer_payment=e.get(self.operation_field) in self.customer_operations, allocations=allocations,
        )
