"""1С:Бухгалтерия предприятия 3.0: invoices, bank and cash receipts, ОплатаСчетов and invoice statuses.

Posting a receipt (``ПоступлениеНаРасчетныйСчет`` or ``ПриходныйКассовыйОрдер``) with
``ВидОперации = ОплатаПокупателя`` writes one ``ОплатаСчетов`` movement per ``РасшифровкаПлатежа`` row
that points to an existing ``СчетНаОплатуПокупателю`` (amount in the invoice's currency), then
recomputes the invoice statuses exactly as the common module ``СтатусыДокументов`` of БП 3.0.83 does
(``ПодготовитьТаблицуСтатусовОплатыСчетов``):

- only invoices of the payment's organization whose current status is ``НеОплачен`` or
  ``ОплаченЧастично`` (no record = ``НеОплачен``) are recomputed; ``Оплачен`` and ``Отменен`` stay;
- paid = this payment's sum for the invoice + ``ОплатаСчетов`` turnovers of other recorders from the
  start of the invoice's day on; ``paid >= СуммаДокумента`` -> ``Оплачен`` (an overpayment too),
  ``paid > 0`` -> ``ОплаченЧастично``, else ``НеОплачен``;
- the status record of the invoice is rewritten (records of other organizations are dropped).

Unposting (``ОбработкаУдаленияПроведения``) only clears the movements: the status register is *not*
recomputed in real БП, so a reversal leaves a stale ``Оплачен``/``ОплаченЧастично`` behind; the paid sum
must be read from ``ОплатаСчетов``. A base option ``recompute_status_on_reversal`` switches the
sandbox to recomputing on unpost/deletion for teams who need the simplified behaviour.
"""

from __future__ import annotations

from typing import Any

from ..errors import ODataError
from ..schema import EMPTY_DATE, EMPTY_GUID, NS, EntityType
from .common import ProfileLogic, empty, fmt_date, money, vat_amount
from .session import Session

INVOICE = "Document_СчетНаОплатуПокупателю"
BANK = "Document_ПоступлениеНаРасчетныйСчет"
CASH = "Document_ПриходныйКассовыйОрдер"
REG = "AccumulationRegister_ОплатаСчетов"
STATUSES = "InformationRegister_СтатусыДокументов"
AUTO_STATUSES = ("НеОплачен", "ОплаченЧастично")
CUSTOMER_OPS = ("ОплатаПокупателя",)


class Bp30(ProfileLogic):
    name = "bp30"
    invoice_set = INVOICE
    bank_set = BANK
    cash_set = CASH
    invoice_rows = "Товары"
    payment_register = REG
    invoice_fields = {REG: "СчетНаОплату"}

    # -- configuration handlers ------------------------------------------------------------------------
    def defaults(self, s: Session, et: EntityType) -> dict[str, Any]:
        out = super().defaults(s, et)
        name = et.set_name
        if name == "Catalog_Контрагенты":
            out["ЮридическоеФизическоеЛицо"] = "ЮридическоеЛицо"
        elif name == "Catalog_ДоговорыКонтрагентов":
            org = self.main_org(s)
            out["Организация_Key"] = org["Ref_Key"] if org else EMPTY_GUID
            out["ВалютаВзаиморасчетов_Key"] = self.rub(s)
        elif name == "Catalog_Номенклатура":
            out["ЕдиницаИзмерения_Key"] = self.unit_ref(s, "шт")
            out["ВидСтавкиНДС"] = "Общая"
        elif name == INVOICE:
            out.update(ВалютаДокумента_Key=self.rub(s), КурсВзаиморасчетов=1.0, КратностьВзаиморасчетов=1,
                       СуммаВключаетНДС=True)
        elif name in (BANK, CASH):
            out.update(ВидОперации="ОплатаПокупателя", ВалютаДокумента_Key=self.rub(s))
            if name == BANK and out.get("Организация_Key"):
                out["СчетОрганизации_Key"] = self.org_bank_account(s, out["Организация_Key"])
        return out

    def fill(self, s: Session, et: EntityType, ent: dict[str, Any], is_new: bool) -> None:
        super().fill(s, et, ent, is_new)
        name = et.set_name
        if name == INVOICE:
            rows = ent.get("Товары") or []
            total = sum(float(r.get("Сумма") or 0) for r in rows)
            if not ent.get("СуммаВключаетНДС"):
                total += sum(float(r.get("СуммаНДС") or 0) for r in rows)
            ent["СуммаДокумента"] = money(total)
            org = ent.get("Организация_Key")
            if not empty(org):
                if empty(ent.get("СтруктурнаяЕдиница_Key")):
                    ent["СтруктурнаяЕдиница_Key"] = self.org_bank_account(s, org)
                if empty(ent.get("ДоговорКонтрагента_Key")) and not empty(ent.get("Контрагент_Key")):
                    if s.get("Catalog_Контрагенты", ent["Контрагент_Key"]):
                        ent["ДоговорКонтрагента_Key"] = self.main_contract(s, ent["Контрагент_Key"], org)
        elif name in (BANK, CASH):
            rows = ent.get("РасшифровкаПлатежа") or []
            if is_new and rows:
                total = sum(float(r.get("СуммаПлатежа") or 0) for r in rows)
                if total:
                    ent["СуммаДокумента"] = money(total)
            if not rows and ent.get("ВидОперации") in CUSTOMER_OPS:
                tp = et.tab_by_name["РасшифровкаПлатежа"]
                row = {f.name: f.default for f in tp.fields}
                row.update(LineNumber=1, ДоговорКонтрагента_Key=ent.get("ДоговорКонтрагента_Key", EMPTY_GUID),
                           СуммаПлатежа=ent.get("СуммаДокумента", 0.0))
                rows = ent["РасшифровкаПлатежа"] = [row]
            cp = self._counterparty(ent)
            for r in rows:
                if empty(r.get("СпособПогашенияЗадолженности")):
                    r["СпособПогашенияЗадолженности"] = "Автоматически"
                if not r.get("КурсВзаиморасчетов"):
                    r["КурсВзаиморасчетов"] = 1.0
                if not r.get("КратностьВзаиморасчетов"):
                    r["КратностьВзаиморасчетов"] = 1
                if not r.get("СуммаВзаиморасчетов"):
                    r["СуммаВзаиморасчетов"] = r.get("СуммаПлатежа", 0.0)
                if empty(r.get("ДоговорКонтрагента_Key")) and cp and ent.get("ВидОперации") in CUSTOMER_OPS:
                    inv = s.get(INVOICE, r.get("СчетНаОплату_Key") or "") if not empty(r.get("СчетНаОплату_Key")) \
                        else None
                    if inv and not empty(inv.get("ДоговорКонтрагента_Key")):
                        r["ДоговорКонтрагента_Key"] = inv["ДоговорКонтрагента_Key"]
                    elif s.get("Catalog_Контрагенты", cp):
                        r["ДоговорКонтрагента_Key"] = self.main_contract(s, cp, ent.get("Организация_Key"))
            if rows and "ДоговорКонтрагента_Key" in et.by_name:
                ent["ДоговорКонтрагента_Key"] = rows[0].get("ДоговорКонтрагента_Key", EMPTY_GUID)

    @staticmethod
    def _counterparty(ent: dict[str, Any]) -> str | None:
        if ent.get("Контрагент_Type") == f"{NS}.Catalog_Контрагенты" and not empty(ent.get("Контрагент")):
            return ent["Контрагент"]
        return None

    def post(self, s: Session, et: EntityType, ent: dict[str, Any], messages: list[str]) -> None:
        name = et.set_name
        if name == INVOICE:
            self._check_invoice(s, ent, messages)
        elif name in (BANK, CASH):
            self._post_receipt(s, et, ent, messages)
        elif name == "Document_РеализацияТоваровУслуг":
            if empty(ent.get("Контрагент_Key")):
                messages.append('Поле "Контрагент" не заполнено')

    def _check_invoice(self, s: Session, ent: dict[str, Any], messages: list[str]) -> None:
        if empty(ent.get("Организация_Key")):
            messages.append('Поле "Организация" не заполнено')
        if empty(ent.get("Контрагент_Key")):
            messages.append('Поле "Контрагент" не заполнено')
        elif s.get("Catalog_Контрагенты", ent["Контрагент_Key"]) is None:
            messages.append(f'Поле "Контрагент": ссылка на несуществующий объект <Объект не найден> '
                            f'({ent["Контрагент_Key"]})')
        rows = ent.get("Товары") or []
        if not rows:
            messages.append('Не заполнена табличная часть "Товары"')
        for r in rows:
            n = r.get("LineNumber")
            ref = r.get("Номенклатура_Key")
            if empty(ref) and not r.get("Содержание"):
                messages.append(f'Не заполнена колонка "Номенклатура" в строке {n} списка "Товары"')
                continue
            product = s.get("Catalog_Номенклатура", ref) if not empty(ref) else None
            if not empty(ref) and product is None:
                messages.append(f'В строке {n} списка "Товары" указана несуществующая номенклатура '
                                f'<Объект не найден> ({ref})')
                continue
            if product is not None and not product.get("Услуга") and not r.get("Количество"):
                messages.append(f'Не заполнена колонка "Количество" в строке {n} списка "Товары"')

    def _post_receipt(self, s: Session, et: EntityType, ent: dict[str, Any], messages: list[str]) -> None:
        if ent.get("ВидОперации") not in CUSTOMER_OPS:
            return
        if empty(ent.get("Организация_Key")):
            messages.append('Поле "Организация" не заполнено')
        cp = self._counterparty(ent)
        if cp is None:
            messages.append('Поле "Контрагент" не заполнено')
        rows = ent.get("РасшифровкаПлатежа") or []
        if money(sum(float(r.get("СуммаПлатежа") or 0) for r in rows)) != money(ent.get("СуммаДокумента") or 0):
            messages.append('Поле "Сумма" заполнено некорректно. Не совпадают сумма документа и ее расшифровка')
        for r in rows:
            if empty(r.get("ДоговорКонтрагента_Key")):
                messages.append(f'Не заполнена колонка "Договор" в строке {r.get("LineNumber")} списка '
                                f'"Расшифровка платежа"')
        if messages:
            return
        movements = []
        for r in rows:
            inv_ref = r.get("СчетНаОплату_Key")
            if empty(inv_ref):
                continue
            inv = s.get(INVOICE, inv_ref)
            if inv is None:
                continue
            rub = self.rub(s)
            amount = r.get("СуммаПлатежа", 0.0)
            if inv.get("ВалютаДокумента_Key") not in (rub, EMPTY_GUID):
                amount = r.get("СуммаВзаиморасчетов", 0.0)
            if not amount:
                continue
            movements.append({
                "Организация_Key": ent.get("Организация_Key", EMPTY_GUID),
                "СчетНаОплату": inv_ref,
                "СчетНаОплату_Type": f"{NS}.{INVOICE}",
                "СтавкаНДС": r.get("СтавкаНДС", ""),
                "Сумма": money(amount),
                "СуммаНДС": money(r.get("СуммаНДС", 0.0)),
                "Валюта_Key": inv.get("ВалютаДокумента_Key") or rub,
            })
        if movements:
            s.write_records(REG, ent["Ref_Key"], f"{NS}.{et.set_name}", ent["Date"], movements)
        self._recompute_statuses(s, ent, movements)

    def _recompute_statuses(self, s: Session, ent: dict[str, Any], movements: list[dict[str, Any]]) -> None:
        """``СтатусыДокументов.ПодготовитьТаблицуСтатусовОплатыСчетов`` + ``СформироватьДвиженияСтатусовДокументов``."""
        org = ent.get("Организация_Key", EMPTY_GUID)
        own: dict[str, float] = {}
        for m in movements:
            own[m["СчетНаОплату"]] = own.get(m["СчетНаОплату"], 0.0) + float(m["Сумма"])
        for inv_ref, this_sum in own.items():
            inv = s.get(INVOICE, inv_ref)
            if inv is None or inv.get("Организация_Key") != org:
                continue  # the query joins invoices of the payment's organization only
            current = self._status_record(s, inv_ref)
            status = current.get("Статус") if current else "НеОплачен"
            if status not in AUTO_STATUSES:
                continue
            since = inv["Date"][:10] + "T00:00:00"
            others = s.conn.execute(
                "SELECT COALESCE(SUM(COALESCE(json_extract(data, '$.\"Сумма\"'), 0)), 0) FROM acc_records "
                "WHERE register=? AND invoice=? AND recorder<>? AND period>=? "
                "AND COALESCE(json_extract(data, '$.\"Организация_Key\"'), '') = ?",
                (REG, inv_ref, ent["Ref_Key"], since, org),
            ).fetchone()[0]
            paid = this_sum + float(others or 0)
            self._write_status(s, org, inv_ref, self.status_from_sums(paid, float(inv.get("СуммаДокумента") or 0)),
                               current)

    def _status_record(self, s: Session, inv_ref: str) -> dict[str, Any] | None:
        found = s.info_find(STATUSES, "Документ", inv_ref)
        found = [r for r in found if r.get("Документ_Type") == f"{NS}.{INVOICE}"]
        return found[0] if found else None

    def _write_status(self, s: Session, org: str, inv_ref: str, status: str, current: dict[str, Any] | None) -> None:
        for old in s.info_find(STATUSES, "Документ", inv_ref):
            s.info_delete(STATUSES, {k: old[k] for k in s.et(STATUSES).key})
        extra = current.get("ДополнительныйСтатус") if current else ""
        s.info_put(STATUSES, {
            "Организация_Key": org,
            "Документ": inv_ref,
            "Документ_Type": f"{NS}.{INVOICE}",
            "Статус": status,
            "Статус_Type": f"{NS}.СтатусОплатыСчета",
            "ДополнительныйСтатус": extra or "НеОтгружен",
            "ДополнительныйСтатус_Type": f"{NS}.СтатусыОтгрузки",
        })

    def unpost(self, s: Session, et: EntityType, ent: dict[str, Any]) -> None:
        if et.set_name in (BANK, CASH) and self.base.options.get("recompute_status_on_reversal"):
            for r in ent.get("РасшифровкаПлатежа") or []:
                inv_ref = r.get("СчетНаОплату_Key")
                inv = s.get(INVOICE, inv_ref) if not empty(inv_ref) else None
                if inv is None:
                    continue
                paid = sum(float(m.get("Сумма") or 0) for m in s.records_for_invoice(REG, inv_ref)
                           if m["Recorder"] != ent["Ref_Key"])
                current = self._status_record(s, inv_ref)
                self._write_status(s, inv.get("Организация_Key", EMPTY_GUID), inv_ref,
                                   self.status_from_sums(paid, float(inv.get("СуммаДокумента") or 0)), current)

    # -- business facade -----------------------------------------------------------------------------
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
                "Цена": r["price"],
                "Сумма": r["amount"],
                "СтавкаНДС": self.vat_value(s, r["rate"]),
                "СуммаНДС": vat,
            })
        payload = {
            "Организация_Key": org["Ref_Key"],
            "Контрагент_Key": cp_ref,
            "ДоговорКонтрагента_Key": data.get("contract_ref") or EMPTY_GUID,
            "Комментарий": str(data.get("comment") or ""),
            "СуммаВключаетНДС": included,
            "Товары": rows,
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
            raise ODataError(404, "9", 'Экземпляр сущности "СчетНаОплатуПокупателю" не найден по переданному ключу.')
        cp = counterparty_ref or (inv or {}).get("Контрагент_Key") or EMPTY_GUID
        org = (inv or {}).get("Организация_Key") or (self.main_org(s) or {}).get("Ref_Key", EMPTY_GUID)
        rate_value = ""
        vat = 0.0
        if inv and inv.get("Товары"):
            rate_value = inv["Товары"][0].get("СтавкаНДС", "")
            rate = self.vat_rate_of(s, rate_value)
            vat = vat_amount(amount, rate, True)
        set_name = CASH if kind == "cash" else BANK
        et = s.et(set_name)
        payload: dict[str, Any] = {
            "Date": date,
            "ВидОперации": "ОплатаПокупателя",
            "Организация_Key": org,
            "Контрагент": cp,
            "Контрагент_Type": f"{NS}.Catalog_Контрагенты" if not empty(cp) else f"{NS}.Undefined",
            "СуммаДокумента": money(amount),
            "Комментарий": comment,
            "РасшифровкаПлатежа": [{
                "ДоговорКонтрагента_Key": (inv or {}).get("ДоговорКонтрагента_Key", EMPTY_GUID),
                "СпособПогашенияЗадолженности": "Автоматически",
                "СуммаПлатежа": money(amount),
                "СуммаВзаиморасчетов": money(amount),
                "КурсВзаиморасчетов": 1,
                "КратностьВзаиморасчетов": "1",
                "СтавкаНДС": rate_value,
                "СуммаНДС": vat,
                "СчетНаОплату_Key": invoice_ref or EMPTY_GUID,
            }],
        }
        if set_name == BANK:
            payload["НазначениеПлатежа"] = (
                f"Оплата по счету № {inv['Number']} от {fmt_date(inv['Date'])}" if inv else "Оплата"
            )
            payload["НомерВходящегоДокумента"] = str(number or "")
            payload["ДатаВходящегоДокумента"] = date
        else:
            cp_ent = s.get("Catalog_Контрагенты", cp) if not empty(cp) else None
            payload["ПринятоОт"] = (cp_ent or {}).get("Description", "")
            payload["Основание"] = f"Оплата по счету № {inv['Number']}" if inv else ""
        if number and set_name == CASH:
            payload["Number"] = number
        ent = s.insert(et, s.build(et, payload))
        if post:
            ent = s.post(et, ent["Ref_Key"])
        return ent

    def payment_rows(self, s: Session, et: EntityType, ent: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"invoice_ref": r.get("СчетНаОплату_Key", EMPTY_GUID), "amount": r.get("СуммаПлатежа", 0.0),
                 "contract_ref": r.get("ДоговорКонтрагента_Key", EMPTY_GUID)}
                for r in ent.get("РасшифровкаПлатежа") or []]

    def move_payment(self, s: Session, payment_ref: str, invoice_ref: str) -> dict[str, Any]:
        """An accountant's correction: point the receipt's rows at another invoice and re-post it."""
        found = s.get_any(payment_ref)
        if found is None or found[0].set_name not in (BANK, CASH):
            raise ODataError(404, "9", "Экземпляр сущности не найден по переданному ключу.")
        et, ent = found
        inv = s.get(INVOICE, invoice_ref)
        if inv is None:
            raise ODataError(404, "9", 'Экземпляр сущности "СчетНаОплатуПокупателю" не найден по переданному ключу.')
        for r in ent.get("РасшифровкаПлатежа") or []:
            r["СчетНаОплату_Key"] = invoice_ref
            r["ДоговорКонтрагента_Key"] = inv.get("ДоговорКонтрагента_Key", EMPTY_GUID)
        ent["Контрагент"] = inv.get("Контрагент_Key", EMPTY_GUID)
        ent["Контрагент_Type"] = f"{NS}.Catalog_Контрагенты"
        was_posted = ent.get("Posted")
        ent = s.update(et, ent)
        if was_posted:
            ent = s.post(et, ent["Ref_Key"])
        return ent

    def invoice_status(self, s: Session, ref: str) -> dict[str, Any]:
        inv = s.get(INVOICE, ref)
        if inv is None:
            raise ODataError(404, "9", 'Экземпляр сущности "СчетНаОплатуПокупателю" не найден по переданному ключу.')
        records = s.records_for_invoice(REG, ref)
        paid = money(sum(float(m.get("Сумма") or 0) for m in records))
        rec = self._status_record(s, ref)
        return {
            "invoice_ref": ref,
            "amount": inv.get("СуммаДокумента", 0.0),
            "paid": paid,
            "remaining": money(max(float(inv.get("СуммаДокумента") or 0) - paid, 0.0)),
            "status": rec["Статус"] if rec else "НеОплачен",
            "status_source": "InformationRegister_СтатусыДокументов" if rec else "default",
            "computed_status": self.status_from_sums(paid, float(inv.get("СуммаДокумента") or 0)),
            "payments": [{"ref": m["Recorder"], "type": m["Recorder_Type"].split(".", 1)[-1], "date": m["Period"],
                          "amount": m.get("Сумма", 0.0)} for m in records],
            "deletion_mark": bool(inv.get("DeletionMark")),
            "date": inv.get("Date", EMPTY_DATE),
        }
