"""1С:Управление нашей фирмой 3.0.

Invoice ``Document_СчетНаОплату`` with goods in ``Запасы`` (``СтавкаНДС_Key`` from ``Catalog_СтавкиНДС``,
the unit as the composite ``ЕдиницаИзмерения``) and the payment calendar ``ПлатежныйКалендарь`` (its
``ДатаОплаты`` gives the due date). Contracts have two owner types, so ``Owner`` + ``Owner_Type``, and
name their number and date ``НомерДоговора`` / ``ДатаДоговора``. Payments: ``Document_ПоступлениеНаСчет``
and ``Document_ПоступлениеВКассу`` with ``ВидОперации = ОтПокупателя``; a row of ``РасшифровкаПлатежа``
names the invoice in the composite ``СчетНаОплату`` (+ ``_Type``).
"""

from __future__ import annotations

from typing import Any

from b24app.sync_1c.odata import NS, ODataClient, cast_lit, is_empty_ref, parse_date
from b24app.sync_1c.profiles.base import Profile
from b24app.sync_1c.records import Allocation, Counterparty, InvoiceRec, InvoiceSpec, PaymentRec, num


class Unf(Profile):
    name = "unf"
    title = "1С:Управление нашей фирмой 3.0"
    invoice_set = "Document_СчетНаОплату"
    invoice_rows = "Запасы"
    payment_sets = (("Document_ПоступлениеНаСчет", "bank"), ("Document_ПоступлениеВКассу", "cash"))
    customer_operations = ("ОтПокупателя",)
    contract_number = "НомерДоговора"
    contract_date = "ДатаДоговора"

    def required_sets(self) -> list[str]:
        return [*super().required_sets(), "Catalog_СтавкиНДС"]

    def counterparty_payload(self, data: dict[str, Any]) -> dict[str, Any]:
        payload = super().counterparty_payload(data)
        payload.update(Покупатель=True, ВестиУчетОплатыПоСчетам=True, ВестиРасчетыПоДоговорам=True)
        return payload

    def contract_owner_filter(self, cp_ref: str) -> str:
        return f"Owner eq {cast_lit(cp_ref, 'Catalog_Контрагенты')}"

    def contract_owner_payload(self, cp: Counterparty) -> dict[str, Any]:
        return {"Owner": cp.ref, "Owner_Type": f"{NS}.Catalog_Контрагенты"}

    def invoice_select(self) -> str:
        return super().invoice_select() + ",ПлатежныйКалендарь/ДатаОплаты"

    def due_date_of(self, e: dict[str, Any]) -> str | None:
        dates = [parse_date(r.get("ДатаОплаты")) for r in e.get("ПлатежныйКалендарь") or []]
        dates = [d for d in dates if d]
        return max(dates)[:10] if dates else None

    def create_invoice(self, c: ODataClient, spec: InvoiceSpec) -> InvoiceRec:
        rows = []
        for i, r in enumerate(spec.rows, 1):
            row: dict[str, Any] = {
                "LineNumber": i,
                "Номенклатура_Key": r.product.ref,
                "Содержание": r.content,
                "Количество": r.quantity,
                "Цена": r.price,
                "Сумма": r.amount,
                "СтавкаНДС_Key": self.vat_ref(c, r.vat_rate),
                "СуммаНДС": r.vat_amount,
                "Всего": r.amount,
            }
            if r.product.unit_ref and not is_empty_ref(r.product.unit_ref):
                row["ЕдиницаИзмерения"] = r.product.unit_ref
                row["ЕдиницаИзмерения_Type"] = f"{NS}.Catalog_КлассификаторЕдиницИзмерения"
            rows.append(row)
        payload: dict[str, Any] = {
            "Date": spec.date,
            "Организация_Key": spec.organization.ref,
            "Контрагент_Key": spec.counterparty.ref,
            "СуммаВключаетНДС": True,
            "СуммаДокумента": spec.total,
            "Комментарий": self.comment_with_key(spec.comment, spec.key),
            "Запасы": rows,
            "ПлатежныйКалендарь": [{"LineNumber": 1, "ДатаОплаты": f"{spec.due_date}T00:00:00", "ПроцентОплаты": 100,
                                    "СуммаОплаты": spec.total}],
        }
        if spec.contract is not None:
            payload["Договор_Key"] = spec.contract.ref
        ent = c.create(self.invoice_set, payload)
        ent = self.finish(c, self.invoice_set, ent, spec.post)
        rec = self.parse_invoice(ent)
        rec.due_date = rec.due_date or spec.due_date
        return rec

    def payment_select(self, set_name: str) -> str:
        return ("Ref_Key,DataVersion,Number,Date,Posted,DeletionMark,СуммаДокумента,ВидОперации,Контрагент_Key,"
                "ДокументОснование,ДокументОснование_Type,"
                "РасшифровкаПлатежа/СчетНаОплату,РасшифровкаПлатежа/СчетНаОплату_Type,РасшифровкаПлатежа/СуммаПлатежа")

    def parse_payment(self, set_name: str, kind: str, e: dict[str, Any]) -> PaymentRec:
        amount = num(e.get("СуммаДокумента"))
        allocations = [Allocation(str(r["СчетНаОплату"]), num(r.get("СуммаПлатежа")))
                       for r in e.get("РасшифровкаПлатежа") or []
                       if r.get("СчетНаОплату_Type") == f"{NS}.{self.invoice_set}" and not is_empty_ref(r.get("СчетНаОплату"))]
        if not allocations:
            allocations = self.header_allocation(e, amount)
        return PaymentRec(
            ref=e["Ref_Key"], kind=kind, number=str(e.get("Number") or ""), date=parse_date(e.get("Date")) or "",
            posted=bool(e.get("Posted")), deletion_mark=bool(e.get("DeletionMark")), amount=amount,
            data_version=str(e.get("DataVersion") or ""), counterparty_ref=str(e.get("Контрагент_Key") or ""),
            customer_payment=e.get(self.operation_field) in self.customer_operations, allocations=allocations,
        )
