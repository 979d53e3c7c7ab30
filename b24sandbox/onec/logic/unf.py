"""1С:Управление нашей фирмой 3.0: СчетНаОплату, ПоступлениеНаСчет / ПоступлениеВКассу, ОплатаСчетовИЗаказов.

Contracts have two owner types (Контрагенты, Организации), so they carry ``Owner`` + ``Owner_Type``;
VAT rates are a catalog (``СтавкаНДС_Key``). Posting an invoice writes its amount to the turnovers
register ``ОплатаСчетовИЗаказов`` (resource ``Сумма``); posting a receipt with ``ВидОперации =
ОтПокупателя`` writes, per ``РасшифровкаПлатежа`` row whose composite ``СчетНаОплату`` is a
``Document_СчетНаОплату``, ``СуммаАванса`` (row marked ``ПризнакАванса``) or ``СуммаОплаты`` — only for
counterparties with ``ВестиУчетОплатыПоСчетам``. Paid = ``СуммаОплаты + СуммаАванса`` against ``Сумма``
(spec 2.7: interpretation from the register design).
"""

from __future__ import annotations

from typing import Any

from ..errors import ODataError
from ..schema import EMPTY_DATE, EMPTY_GUID, NS, EntityType
from .common import ProfileLogic, empty, fmt_date, money, vat_amount
from .session import Session

INVOICE = "Document_СчетНаОплату"
BANK = "Document_ПоступлениеНаСчет"
CASH = "Document_ПоступлениеВКассу"
REG = "AccumulationRegister_ОплатаСчетовИЗаказов"
CUSTOMER_OPS = ("ОтПокупателя",)


class Unf(ProfileLogic):
    name = "unf"
    invoice_set = INVOICE
    bank_set = BANK
    cash_set = CASH
    invoice_rows = "Запасы"
    payment_register = REG
    invoice_fields = {REG: "СчетНаОплату"}

    # -- configuration handlers ------------------------------------------------------------------------
    def defaults(self, s: Session, et: EntityType) -> dict[str, Any]:
        out = super().defaults(s, et)
        name = et.set_name
        org = out.get("Организация_Key")
        if name == "Catalog_Контрагенты":
            out.update(ЮридическоеФизическоеЛицо="ЮридическоеЛицо", ВестиРасчетыПоДоговорам=True,
                       ВестиУчетОплатыПоСчетам=True, Покупатель=True, ВалютаРасчетовПоУмолчанию_Key=self.rub(s))
        elif name == "Catalog_ДоговорыКонтрагентов":
            main = self.main_org(s)
            out.update(ВидДоговора="СПокупателем", ВалютаРасчетов_Key=self.rub(s),
                       Организация_Key=main["Ref_Key"] if main else EMPTY_GUID)
        elif name == "Catalog_Номенклатура":
            out.update(ТипНоменклатуры="Запас", ЕдиницаИзмерения_Key=self.unit_ref(s, "шт"))
        elif name == INVOICE:
            out.update(ВалютаДокумента_Key=self.rub(s), Курс=1.0, Кратность=1, СуммаВключаетНДС=True,
                       НалогообложениеНДС="ОблагаетсяНДС")
            if org:
                out["БанковскийСчет_Key"] = self.org_bank_account(s, org)
        elif name in (BANK, CASH):
            out.update(ВидОперации="ОтПокупателя", ВалютаДенежныхСредств_Key=self.rub(s), Курс=1.0, Кратность=1,
                       НалогообложениеНДС="ОблагаетсяНДС")
            if name == BANK and org:
                out["БанковскийСчет_Key"] = self.org_bank_account(s, org)
            if name == CASH:
                kassa = s.find("Catalog_Кассы", "o.deletion_mark = 0", limit=1)
                if kassa:
                    out["Касса_Key"] = kassa[0]["Ref_Key"]
        return out

    def fill(self, s: Session, et: EntityType, ent: dict[str, Any], is_new: bool) -> None:
        super().fill(s, et, ent, is_new)
        name = et.set_name
        if name == INVOICE:
            total = 0.0
            for r in ent.get("Запасы") or []:
                if not r.get("Всего"):
                    r["Всего"] = money(float(r.get("Сумма") or 0)
                                      + (0 if ent.get("СуммаВключаетНДС") else float(r.get("СуммаНДС") or 0)))
                total += float(r["Всего"])
            ent["СуммаДокумента"] = money(total)
            if empty(ent.get("Договор_Key")) and not empty(ent.get("Контрагент_Key")) \
                    and s.get("Catalog_Контрагенты", ent["Контрагент_Key"]):
                ent["Договор_Key"] = self.main_contract(s, ent["Контрагент_Key"], ent.get("Организация_Key"))
        elif name in (BANK, CASH):
            rows = ent.get("РасшифровкаПлатежа") or []
            if rows and is_new:
                total = sum(float(r.get("СуммаПлатежа") or 0) for r in rows)
                if total:
                    ent["СуммаДокумента"] = money(total)
            for r in rows:
                if not r.get("СуммаРасчетов"):
                    r["СуммаРасчетов"] = r.get("СуммаПлатежа", 0.0)
                if not r.get("Курс"):
                    r["Курс"] = 1.0
                if not r.get("Кратность"):
                    r["Кратность"] = 1
                if empty(r.get("Договор_Key")) and not empty(ent.get("Контрагент_Key")) \
                        and ent.get("ВидОперации") in CUSTOMER_OPS:
                    inv = s.get(INVOICE, r.get("СчетНаОплату") or "") if r.get("СчетНаОплату_Type") == \
                        f"{NS}.{INVOICE}" else None
                    if inv and not empty(inv.get("Договор_Key")):
                        r["Договор_Key"] = inv["Договор_Key"]
                    elif s.get("Catalog_Контрагенты", ent["Контрагент_Key"]):
                        r["Договор_Key"] = self.main_contract(s, ent["Контрагент_Key"], ent.get("Организация_Key"))

    def post(self, s: Session, et: EntityType, ent: dict[str, Any], messages: list[str]) -> None:
        name = et.set_name
        if name == INVOICE:
            self._post_invoice(s, et, ent, messages)
        elif name in (BANK, CASH):
            self._post_receipt(s, et, ent, messages)

    def _tracks_invoices(self, s: Session, cp_ref: str) -> bool:
        cp = s.get("Catalog_Контрагенты", cp_ref) if not empty(cp_ref) else None
        return bool(cp and cp.get("ВестиУчетОплатыПоСчетам"))

    def _post_invoice(self, s: Session, et: EntityType, ent: dict[str, Any], messages: list[str]) -> None:
        if empty(ent.get("Контрагент_Key")):
            messages.append('Поле "Контрагент" не заполнено')
        rows = ent.get("Запасы") or []
        if not rows:
            messages.append('Не заполнена табличная часть "Товары, услуги"')
        for r in rows:
            ref = r.get("Номенклатура_Key")
            if empty(ref):
                messages.append(f'Не заполнена колонка "Номенклатура" в строке {r.get("LineNumber")} списка '
                                f'"Товары, услуги"')
            elif s.get("Catalog_Номенклатура", ref) is None:
                messages.append(f'В строке {r.get("LineNumber")} указана несуществующая номенклатура '
                                f'<Объект не найден> ({ref})')
        if messages or not self._tracks_invoices(s, ent.get("Контрагент_Key", "")):
            return
        s.write_records(REG, ent["Ref_Key"], f"{NS}.{INVOICE}", ent["Date"], [{
            "СчетНаОплату": ent["Ref_Key"],
            "СчетНаОплату_Type": f"{NS}.{INVOICE}",
            "Организация_Key": ent.get("Организация_Key", EMPTY_GUID),
            "Сумма": ent.get("СуммаДокумента", 0.0),
        }])

    def _post_receipt(self, s: Session, et: EntityType, ent: dict[str, Any], messages: list[str]) -> None:
        if ent.get("ВидОперации") not in CUSTOMER_OPS:
            return
        if empty(ent.get("Контрагент_Key")):
            messages.append('Поле "Контрагент" не заполнено')
        rows = ent.get("РасшифровкаПлатежа") or []
        if not rows:
            messages.append('Не заполнена расшифровка платежа')
        if money(sum(float(r.get("СуммаПлатежа") or 0) for r in rows)) != money(ent.get("СуммаДокумента") or 0):
            messages.append("Не совпадает сумма документа и сумма расшифровки платежа")
        if messages:
            return
        if not self._tracks_invoices(s, ent["Контрагент_Key"]):
            return
        movements = []
        for r in rows:
            if r.get("СчетНаОплату_Type") != f"{NS}.{INVOICE}" or empty(r.get("СчетНаОплату")):
                continue
            if s.get(INVOICE, r["СчетНаОплату"]) is None:
                continue
            amount = money(r.get("СуммаРасчетов") or r.get("СуммаПлатежа") or 0)
            advance = bool(r.get("ПризнакАванса"))
            movements.append({
                "СчетНаОплату": r["СчетНаОплату"],
                "СчетНаОплату_Type": f"{NS}.{INVOICE}",
                "Организация_Key": ent.get("Организация_Key", EMPTY_GUID),
                "СуммаАванса": amount if advance else 0.0,
                "СуммаОплаты": 0.0 if advance else amount,
                "СтавкаНДС_Key": r.get("СтавкаНДС_Key", EMPTY_GUID),
                "СуммаНДС": r.get("СуммаНДС", 0.0),
                "ДокументОплаты": ent["Ref_Key"],
                "ДокументОплаты_Type": f"{NS}.{et.set_name}",
            })
        if movements:
            s.write_records(REG, ent["Ref_Key"], f"{NS}.{et.set_name}", ent["Date"], movements)

    # -- business facade -----------------------------------------------------------------------------
    def contract_fields(self) -> dict[str, str]:
        return {"number": "НомерДоговора", "date": "ДатаДоговора", "kind": "ВидДоговора"}

    def contract_owner_sql(self) -> str:
        return "json_extract(o.data, '$.Owner') = ?"

    def contract_payload(self, s: Session, cp: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        payload = super().contract_payload(s, cp, data)
        payload.pop("Owner_Key", None)
        payload.update(Owner=cp["Ref_Key"], Owner_Type=f"{NS}.Catalog_Контрагенты", ВалютаРасчетов_Key=self.rub(s))
        return payload

    def counterparty_payload(self, s: Session, data: dict[str, Any]) -> dict[str, Any]:
        payload = super().counterparty_payload(s, data)
        payload.pop("КодПоОКПО", None)
        payload.update(Покупатель=True, ВестиУчетОплатыПоСчетам=True, ВестиРасчетыПоДоговорам=True)
        return payload

    def vat_value(self, s: Session, rate: float | None) -> Any:
        return self.vat_catalog_ref(s, rate)

    def vat_rate_of(self, s: Session, value: Any) -> float | None:
        return self.vat_catalog_rate(s, value)

    def create_invoice(self, s: Session, data: dict[str, Any], post: bool) -> dict[str, Any]:
        org = self.org_for(s, data.get("organization_inn"), data.get("organization_ref"))
        if org is None:
            raise ODataError(500, "-1", "Не найдена организация")
        cp_ref = data.get("counterparty_ref") or ""
        if not cp_ref or s.get("Catalog_Контрагенты", cp_ref) is None:
            raise ODataError(500, "-1", f"Контрагент {cp_ref} не найден")
        included = bool(data.get("prices_include_vat", True))
        rows = []
        for r in self.resolve_rows(s, data.get("rows") or [], bool(data.get("create_products"))):
            vat = r["vat"] if r["vat"] is not None else vat_amount(r["amount"], r["rate"], included)
            rows.append({
                "Номенклатура_Key": r["product"]["Ref_Key"],
                "Содержание": r["content"],
                "Количество": r["qty"],
                "ЕдиницаИзмерения": r["product"].get("ЕдиницаИзмерения_Key", EMPTY_GUID),
                "ЕдиницаИзмерения_Type": f"{NS}.Catalog_КлассификаторЕдиницИзмерения",
                "Цена": r["price"],
                "Сумма": r["amount"],
                "СтавкаНДС_Key": self.vat_catalog_ref(s, r["rate"]),
                "СуммаНДС": vat,
                "Всего": money(r["amount"] + (0 if included else vat)),
            })
        payload = {
            "Организация_Key": org["Ref_Key"],
            "Контрагент_Key": cp_ref,
            "Договор_Key": data.get("contract_ref") or EMPTY_GUID,
            "Комментарий": str(data.get("comment") or ""),
            "СуммаВключаетНДС": included,
            "Запасы": rows,
        }
        if data.get("date"):
            payload["Date"] = data["date"]
        if data.get("number"):
            payload["Number"] = data["number"]
        et = s.et(INVOICE)
        ent = s.insert(et, s.build(et, payload))
        if post:
            ent = s.post(et, ent["Ref_Key"])
        return ent

    def register_payment(self, s: Session, invoice_ref: str, amount: float, date: str, *, kind: str = "bank",
                         counterparty_ref: str | None = None, number: str | None = None, post: bool = True,
                         comment: str = "") -> dict[str, Any]:
        inv = s.get(INVOICE, invoice_ref) if invoice_ref else None
        if invoice_ref and inv is None:
            raise ODataError(404, "9", 'Экземпляр сущности "СчетНаОплату" не найден по переданному ключу.')
        cp_ref = counterparty_ref or (inv or {}).get("Контрагент_Key") or EMPTY_GUID
        org = (inv or {}).get("Организация_Key") or (self.main_org(s) or {}).get("Ref_Key", EMPTY_GUID)
        rate = None
        if inv and inv.get("Запасы"):
            rate = self.vat_catalog_rate(s, inv["Запасы"][0].get("СтавкаНДС_Key"))
        set_name = CASH if kind == "cash" else BANK
        et = s.et(set_name)
        payload: dict[str, Any] = {
            "Date": date,
            "ВидОперации": "ОтПокупателя",
            "Организация_Key": org,
            "Контрагент_Key": cp_ref,
            "СуммаДокумента": money(amount),
            "Комментарий": comment,
            "РасшифровкаПлатежа": [{
                "Договор_Key": (inv or {}).get("Договор_Key", EMPTY_GUID),
                "ПризнакАванса": True,
                "СуммаРасчетов": money(amount),
                "СуммаПлатежа": money(amount),
                "Курс": 1,
                "Кратность": 1,
                "СтавкаНДС_Key": self.vat_catalog_ref(s, rate),
                "СуммаНДС": vat_amount(amount, rate, True),
                "СчетНаОплату": invoice_ref or "",
                "СчетНаОплату_Type": f"{NS}.{INVOICE}" if invoice_ref else f"{NS}.Undefined",
            }],
        }
        if set_name == BANK:
            payload["НазначениеПлатежа"] = (f"Оплата по счету № {inv['Number']} от {fmt_date(inv['Date'])}"
                                            if inv else "Оплата")
            payload["НомерВходящегоДокумента"] = str(number or "")
            payload["ДатаВходящегоДокумента"] = date or EMPTY_DATE
        else:
            cp = s.get("Catalog_Контрагенты", cp_ref) if not empty(cp_ref) else None
            payload["ПринятоОт"] = (cp or {}).get("Description", "")
            payload["Основание"] = f"Оплата по счету № {inv['Number']}" if inv else ""
            if number:
                payload["Number"] = number
        ent = s.insert(et, s.build(et, payload))
        if post:
            ent = s.post(et, ent["Ref_Key"])
        return ent

    def payment_rows(self, s: Session, et: EntityType, ent: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"invoice_ref": r.get("СчетНаОплату") if r.get("СчетНаОплату_Type") == f"{NS}.{INVOICE}"
                 else EMPTY_GUID, "amount": r.get("СуммаПлатежа", 0.0), "contract_ref": r.get("Договор_Key"),
                 "advance": bool(r.get("ПризнакАванса"))}
                for r in ent.get("РасшифровкаПлатежа") or []]

    def move_payment(self, s: Session, payment_ref: str, invoice_ref: str) -> dict[str, Any]:
        found = s.get_any(payment_ref)
        if found is None or found[0].set_name not in (BANK, CASH):
            raise ODataError(404, "9", "Экземпляр сущности не найден по переданному ключу.")
        et, ent = found
        inv = s.get(INVOICE, invoice_ref)
        if inv is None:
            raise ODataError(404, "9", 'Экземпляр сущности "СчетНаОплату" не найден по переданному ключу.')
        for r in ent.get("РасшифровкаПлатежа") or []:
            r["СчетНаОплату"] = invoice_ref
            r["СчетНаОплату_Type"] = f"{NS}.{INVOICE}"
            r["Договор_Key"] = inv.get("Договор_Key", EMPTY_GUID)
        ent["Контрагент_Key"] = inv.get("Контрагент_Key", EMPTY_GUID)
        was_posted = ent.get("Posted")
        ent = s.update(et, ent)
        if was_posted:
            ent = s.post(et, ent["Ref_Key"])
        return ent

    def invoice_status(self, s: Session, ref: str) -> dict[str, Any]:
        inv = s.get(INVOICE, ref)
        if inv is None:
            raise ODataError(404, "9", 'Экземпляр сущности "СчетНаОплату" не найден по переданному ключу.')
        records = s.records_for_invoice(REG, ref)
        paid = money(sum(float(m.get("СуммаОплаты") or 0) + float(m.get("СуммаАванса") or 0) for m in records))
        amount = float(inv.get("СуммаДокумента") or 0)
        planned = money(sum(float(m.get("Сумма") or 0) for m in records)) or amount
        return {
            "invoice_ref": ref,
            "amount": amount,
            "paid": paid,
            "remaining": money(max(planned - paid, 0.0)),
            "status": self.status_from_sums(paid, planned),
            "status_source": "AccumulationRegister_ОплатаСчетовИЗаказов",
            "computed_status": self.status_from_sums(paid, planned),
            "payments": [{"ref": m["Recorder"], "type": m["Recorder_Type"].split(".", 1)[-1], "date": m["Period"],
                          "amount": money(float(m.get("СуммаОплаты") or 0) + float(m.get("СуммаАванса") or 0))}
                         for m in records if m["Recorder"] != ref],
            "deletion_mark": bool(inv.get("DeletionMark")),
            "date": inv.get("Date"),
        }
