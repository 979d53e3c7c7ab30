"""1С:Управление торговлей 11: orders, invoices to clients, non-cash and cash receipts, РасчетыСКлиентами.

УТ keeps goods in ``ЗаказКлиента``; ``СчетНаОплатуКлиенту`` has no goods table (only the payment
schedule) and points to its order through ``ДокументОснование``. Every counterparty belongs to a
``Партнер``; documents carry both. Settlements run by *settlement objects* (``Catalog_ОбъектыРасчетов``,
one per order, created when the order is written). There is no payment-status register:

- posting an approved order writes a ``РасчетыСКлиентами`` receipt (``КОплате``/``КОтгрузке`` = the
  order's sum);
- posting a receipt with ``ХозяйственнаяОперация = ПоступлениеОплатыОтКлиента`` writes one expense per
  ``РасшифровкаПлатежа`` row (``Сумма`` and ``КОплате`` = ``СуммаВзаиморасчетов``) on the row's settlement
  object, with ``СчетНаОплату_Key`` filled when ``ОснованиеПлатежа`` is a ``СчетНаОплатуКлиенту``.

So "is the invoice paid" = sum of ``AccumulationRegister_РасчетыСКлиентами_RecordType`` expenses with
``СчетНаОплату_Key`` = the invoice (or of posted receipts' rows with that ``ОснованиеПлатежа``) compared with
``СуммаДокумента``. Sign conventions of the real register are unverified (spec 2.7); the sandbox uses
the ones above and documents them.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..errors import ODataError
from ..schema import EMPTY_GUID, NS, EntityType
from .common import ProfileLogic, empty, fmt_date, money, vat_amount
from .session import Session, presentation

INVOICE = "Document_СчетНаОплатуКлиенту"
ORDER = "Document_ЗаказКлиента"
BANK = "Document_ПоступлениеБезналичныхДенежныхСредств"
CASH = "Document_ПриходныйКассовыйОрдер"
REG = "AccumulationRegister_РасчетыСКлиентами"
OBJECTS = "Catalog_ОбъектыРасчетов"
CUSTOMER_OPS = ("ПоступлениеОплатыОтКлиента",)
KEY_NS = uuid.UUID("6f1c0f8e-2b7e-11ee-9a5d-0242ac120002")


class Ut11(ProfileLogic):
    name = "ut11"
    invoice_set = INVOICE
    bank_set = BANK
    cash_set = CASH
    invoice_rows = ""
    payment_register = REG
    invoice_fields = {REG: "СчетНаОплату_Key"}
    unit_set = "Catalog_УпаковкиЕдиницыИзмерения"
    bank_account_set = "Catalog_БанковскиеСчетаОрганизаций"

    # -- configuration handlers ------------------------------------------------------------------------
    def defaults(self, s: Session, et: EntityType) -> dict[str, Any]:
        out = super().defaults(s, et)
        name = et.set_name
        org = out.get("Организация_Key")
        if name == "Catalog_Контрагенты":
            out.update(ЮрФизЛицо="ЮрЛицо", ЮридическоеФизическоеЛицо="ЮридическоеЛицо")
        elif name == "Catalog_Партнеры":
            out.update(Клиент=True, ЮрФизЛицо="Компания")
        elif name == "Catalog_ДоговорыКонтрагентов":
            main = self.main_org(s)
            out.update(Статус="Действует", ТипДоговора="СПокупателем", ХозяйственнаяОперация="РеализацияКлиенту",
                       ВалютаВзаиморасчетов_Key=self.rub(s), Организация_Key=main["Ref_Key"] if main else EMPTY_GUID,
                       ПорядокРасчетов="ПоДоговорамКонтрагентов")
        elif name == "Catalog_Номенклатура":
            out.update(ТипНоменклатуры="Товар", ЕдиницаИзмерения_Key=self.unit_ref(s, "шт"),
                       СтавкаНДС_Key=self.vat_catalog_ref(s, 20))
        elif name == ORDER:
            out.update(Валюта_Key=self.rub(s), Статус="КОтгрузке", ХозяйственнаяОперация="РеализацияКлиенту",
                       ЦенаВключаетНДС=True, ФормаОплаты="Безналичная", НалогообложениеНДС="ПродажаОблагаетсяНДС",
                       ПорядокРасчетов="ПоЗаказамНакладным")
            if org:
                out["БанковскийСчет_Key"] = self.org_bank_account(s, org)
        elif name == INVOICE:
            out.update(Валюта_Key=self.rub(s), ФормаОплаты="Безналичная")
            if org:
                out["БанковскийСчет_Key"] = self.org_bank_account(s, org)
        elif name == BANK:
            out.update(ХозяйственнаяОперация="ПоступлениеОплатыОтКлиента", Валюта_Key=self.rub(s),
                       ТипПлатежногоДокумента="ПлатежноеПоручение")
            if org:
                out["БанковскийСчет_Key"] = self.org_bank_account(s, org)
        elif name == CASH:
            out.update(ХозяйственнаяОперация="ПоступлениеОплатыОтКлиента", Валюта_Key=self.rub(s))
            kassa = s.find("Catalog_Кассы", "o.deletion_mark = 0", limit=1)
            if kassa:
                out["Касса_Key"] = kassa[0]["Ref_Key"]
        return out

    def fill(self, s: Session, et: EntityType, ent: dict[str, Any], is_new: bool) -> None:
        super().fill(s, et, ent, is_new)
        name = et.set_name
        if name in (ORDER, INVOICE, BANK, CASH, "Catalog_ДоговорыКонтрагентов"):
            self._fill_partner(s, ent)
        if name == ORDER:
            total = 0.0
            for r in ent.get("Товары") or []:
                if not r.get("КоличествоУпаковок"):
                    r["КоличествоУпаковок"] = r.get("Количество", 0.0)
                if not r.get("СуммаСНДС"):
                    r["СуммаСНДС"] = money(float(r.get("Сумма") or 0)
                                          + (0 if ent.get("ЦенаВключаетНДС") else float(r.get("СуммаНДС") or 0)))
                if not r.get("Отменено"):
                    total += float(r["СуммаСНДС"])
            ent["СуммаДокумента"] = money(total)
            if empty(ent.get("Договор_Key")) and not empty(ent.get("Контрагент_Key")) \
                    and s.get("Catalog_Контрагенты", ent["Контрагент_Key"]):
                ent["Договор_Key"] = self.main_contract(s, ent["Контрагент_Key"], ent.get("Организация_Key"))
            if empty(ent.get("ОбъектРасчетов_Key")):
                ent["ОбъектРасчетов_Key"] = self._settlement_object(s, et, ent)
        elif name == INVOICE:
            basis = self._basis_order(s, ent)
            if basis is not None and not ent.get("СуммаДокумента"):
                ent["СуммаДокумента"] = basis.get("СуммаДокумента", 0.0)
            if basis is not None:
                for k in ("Партнер_Key", "Контрагент_Key", "Договор_Key", "Организация_Key"):
                    if empty(ent.get(k)):
                        ent[k] = basis.get(k, EMPTY_GUID)
            stages = ent.get("ЭтапыГрафикаОплаты") or []
            if not stages:
                tp = et.tab_by_name["ЭтапыГрафикаОплаты"]
                row = {f.name: f.default for f in tp.fields}
                row.update(LineNumber=1, ДатаПлатежа=ent.get("Date"), ПроцентПлатежа=100.0,
                           СуммаПлатежа=ent.get("СуммаДокумента", 0.0))
                ent["ЭтапыГрафикаОплаты"] = [row]
        elif name in (BANK, CASH):
            rows = ent.get("РасшифровкаПлатежа") or []
            if rows and (is_new or not ent.get("СуммаДокумента")):
                total = sum(float(r.get("Сумма") or 0) for r in rows)
                if total:
                    ent["СуммаДокумента"] = money(total)
            for r in rows:
                if not r.get("СуммаВзаиморасчетов"):
                    r["СуммаВзаиморасчетов"] = r.get("Сумма", 0.0)
                if empty(r.get("ВалютаВзаиморасчетов_Key")):
                    r["ВалютаВзаиморасчетов_Key"] = ent.get("Валюта_Key") or self.rub(s)
                if empty(r.get("Партнер_Key")):
                    r["Партнер_Key"] = ent.get("Партнер_Key", EMPTY_GUID)
                if empty(r.get("Организация_Key")):
                    r["Организация_Key"] = ent.get("Организация_Key", EMPTY_GUID)
                if empty(r.get("ОбъектРасчетов_Key")):
                    r["ОбъектРасчетов_Key"] = self._object_for_basis(s, r)

    def _fill_partner(self, s: Session, ent: dict[str, Any]) -> None:
        if empty(ent.get("Партнер_Key")) and not empty(ent.get("Контрагент_Key")):
            cp = s.get("Catalog_Контрагенты", ent["Контрагент_Key"])
            if cp and not empty(cp.get("Партнер_Key")):
                ent["Партнер_Key"] = cp["Партнер_Key"]

    def _basis_order(self, s: Session, invoice: dict[str, Any]) -> dict[str, Any] | None:
        if invoice.get("ДокументОснование_Type") == f"{NS}.{ORDER}" and not empty(invoice.get("ДокументОснование")):
            return s.get(ORDER, invoice["ДокументОснование"])
        return None

    def _settlement_object(self, s: Session, et: EntityType, doc: dict[str, Any]) -> str:
        """The ``ОбъектыРасчетов`` element of an order (УТ 11.5 creates one when the order is written)."""
        if not doc.get("Ref_Key") or doc["Ref_Key"] == EMPTY_GUID:
            return EMPTY_GUID
        found = s.find(OBJECTS, "json_extract(o.data, '$.\"Объект\"') = ?", (doc["Ref_Key"],), limit=1)
        if found:
            return found[0]["Ref_Key"]
        oet = s.et(OBJECTS)
        payload = {
            "Description": presentation(et, doc)[:128],
            "Объект": doc["Ref_Key"],
            "Объект_Type": f"{NS}.{et.set_name}",
            "ТипРасчетов": "РасчетыСКлиентом",
            "ТипОбъектаРасчетов": "ЗаказКлиента" if et.set_name == ORDER else "Договор",
            "Номер": doc.get("Number", ""),
            "Дата": doc.get("Date"),
            "Сумма": doc.get("СуммаДокумента", 0.0),
            "Валюта_Key": doc.get("Валюта_Key") or self.rub(s),
            "Партнер_Key": doc.get("Партнер_Key", EMPTY_GUID),
            "Организация_Key": doc.get("Организация_Key", EMPTY_GUID),
            "Контрагент": doc.get("Контрагент_Key", EMPTY_GUID),
            "Контрагент_Type": f"{NS}.Catalog_Контрагенты",
            "ФормаОплаты": doc.get("ФормаОплаты", ""),
        }
        return s.insert(oet, s.build(oet, payload))["Ref_Key"]

    def _object_for_basis(self, s: Session, row: dict[str, Any]) -> str:
        basis, btype = row.get("ОснованиеПлатежа"), row.get("ОснованиеПлатежа_Type")
        if empty(basis):
            return EMPTY_GUID
        if btype == f"{NS}.{ORDER}":
            order = s.get(ORDER, basis)
            return order.get("ОбъектРасчетов_Key", EMPTY_GUID) if order else EMPTY_GUID
        if btype == f"{NS}.{INVOICE}":
            inv = s.get(INVOICE, basis)
            if inv is None:
                return EMPTY_GUID
            order = self._basis_order(s, inv)
            if order is not None:
                return order.get("ОбъектРасчетов_Key", EMPTY_GUID)
            if not empty(inv.get("Договор_Key")):
                contract = s.get("Catalog_ДоговорыКонтрагентов", inv["Договор_Key"])
                if contract and not empty(contract.get("ОбъектРасчетов_Key")):
                    return contract["ОбъектРасчетов_Key"]
                if contract:
                    obj = self._settlement_object(s, s.et("Catalog_ДоговорыКонтрагентов"),
                                                  dict(contract, Контрагент_Key=contract.get("Контрагент_Key")))
                    contract["ОбъектРасчетов_Key"] = obj
                    s.update(s.et("Catalog_ДоговорыКонтрагентов"), contract, run_handlers=False)
                    return obj
        return EMPTY_GUID

    def analytics_key(self, s: Session, org: str, partner: str, cp: str, contract: str) -> str:
        """``КлючиАналитикиУчетаПоПартнерам``: one element per (organization, partner, counterparty, contract)."""
        ref = str(uuid.uuid5(KEY_NS, f"{org}|{partner}|{cp}|{contract}"))
        if s.get("Catalog_КлючиАналитикиУчетаПоПартнерам", ref) is None:
            et = s.et("Catalog_КлючиАналитикиУчетаПоПартнерам")
            cp_ent = s.get("Catalog_Контрагенты", cp) if not empty(cp) else None
            payload = {"Ref_Key": ref, "Description": (cp_ent or {}).get("Description", "")[:250],
                       "Партнер_Key": partner, "Контрагент_Key": cp, "Договор_Key": contract, "Организация_Key": org}
            s.insert(et, s.build(et, payload))
        return ref

    def post(self, s: Session, et: EntityType, ent: dict[str, Any], messages: list[str]) -> None:
        name = et.set_name
        if name == ORDER:
            self._post_order(s, et, ent, messages)
        elif name == INVOICE:
            if empty(ent.get("Контрагент_Key")):
                messages.append('Поле "Контрагент" не заполнено')
            if empty(ent.get("Партнер_Key")):
                messages.append('Поле "Клиент" не заполнено')
            if not ent.get("СуммаДокумента"):
                messages.append('Поле "Сумма документа" не заполнено')
        elif name in (BANK, CASH):
            self._post_receipt(s, et, ent, messages)

    def _post_order(self, s: Session, et: EntityType, ent: dict[str, Any], messages: list[str]) -> None:
        if empty(ent.get("Партнер_Key")):
            messages.append('Поле "Клиент" не заполнено')
        if empty(ent.get("Контрагент_Key")):
            messages.append('Поле "Контрагент" не заполнено')
        rows = ent.get("Товары") or []
        if not rows:
            messages.append('Не заполнен список "Товары"')
        for r in rows:
            ref = r.get("Номенклатура_Key")
            if empty(ref):
                messages.append(f'Не заполнена колонка "Номенклатура" в строке {r.get("LineNumber")} списка "Товары"')
            elif s.get("Catalog_Номенклатура", ref) is None:
                messages.append(f'В строке {r.get("LineNumber")} списка "Товары" указана несуществующая номенклатура '
                                f'<Объект не найден> ({ref})')
        if messages or ent.get("Статус") not in ("КОбеспечению", "КОтгрузке"):
            return
        key = self.analytics_key(s, ent.get("Организация_Key", EMPTY_GUID), ent.get("Партнер_Key", EMPTY_GUID),
                                 ent.get("Контрагент_Key", EMPTY_GUID), ent.get("Договор_Key", EMPTY_GUID))
        amount = ent.get("СуммаДокумента", 0.0)
        s.write_records(REG, ent["Ref_Key"], f"{NS}.{ORDER}", ent["Date"], [{
            "RecordType": "Receipt",
            "АналитикаУчетаПоПартнерам_Key": key,
            "ОбъектРасчетов_Key": ent.get("ОбъектРасчетов_Key", EMPTY_GUID),
            "Валюта_Key": ent.get("Валюта_Key") or self.rub(s),
            "КОплате": amount,
            "КОтгрузке": amount,
            "ХозяйственнаяОперация": "ПланированиеПоЗаказуКлиента",
            "ФормаОплаты": ent.get("ФормаОплаты", ""),
            "ДатаРегистратора": ent["Date"],
            "ДатаПлатежа": ent["Date"],
            "ПродажаПоЗаказу": ent["Ref_Key"],
            "ПродажаПоЗаказу_Type": f"{NS}.{ORDER}",
        }])

    def _post_receipt(self, s: Session, et: EntityType, ent: dict[str, Any], messages: list[str]) -> None:
        if ent.get("ХозяйственнаяОперация") not in CUSTOMER_OPS:
            return
        if empty(ent.get("Организация_Key")):
            messages.append('Поле "Организация" не заполнено')
        if empty(ent.get("Контрагент_Key")):
            messages.append('Поле "Контрагент" не заполнено')
        rows = ent.get("РасшифровкаПлатежа") or []
        if not rows:
            messages.append('Не заполнена расшифровка платежа')
        if money(sum(float(r.get("Сумма") or 0) for r in rows)) != money(ent.get("СуммаДокумента") or 0):
            messages.append("Сумма документа не совпадает с суммой расшифровки платежа")
        for r in rows:
            if empty(r.get("Партнер_Key")):
                messages.append(f'Не заполнена колонка "Клиент" в строке {r.get("LineNumber")} списка '
                                f'"Расшифровка платежа"')
        if messages:
            return
        movements = []
        form = "Наличная" if et.set_name == CASH else "Безналичная"
        for r in rows:
            invoice = r.get("ОснованиеПлатежа") if r.get("ОснованиеПлатежа_Type") == f"{NS}.{INVOICE}" else None
            contract = EMPTY_GUID
            if invoice and not empty(invoice):
                inv = s.get(INVOICE, invoice)
                contract = (inv or {}).get("Договор_Key", EMPTY_GUID)
            key = self.analytics_key(s, ent.get("Организация_Key", EMPTY_GUID), r.get("Партнер_Key", EMPTY_GUID),
                                     ent.get("Контрагент_Key", EMPTY_GUID), contract)
            amount = r.get("СуммаВзаиморасчетов") or r.get("Сумма") or 0.0
            movements.append({
                "RecordType": "Expense",
                "АналитикаУчетаПоПартнерам_Key": key,
                "ОбъектРасчетов_Key": r.get("ОбъектРасчетов_Key", EMPTY_GUID),
                "Валюта_Key": r.get("ВалютаВзаиморасчетов_Key") or self.rub(s),
                "Сумма": money(amount),
                "КОплате": money(amount),
                "ХозяйственнаяОперация": ent.get("ХозяйственнаяОперация"),
                "ФормаОплаты": form,
                "СчетНаОплату_Key": invoice if invoice and not empty(invoice) else EMPTY_GUID,
                "ДатаРегистратора": ent["Date"],
                "ДатаПлатежа": ent["Date"],
                "СтатьяДвиженияДенежныхСредств_Key": r.get("СтатьяДвиженияДенежныхСредств_Key", EMPTY_GUID),
                "РасчетныйДокумент": ent["Ref_Key"],
                "РасчетныйДокумент_Type": f"{NS}.{et.set_name}",
            })
        if movements:
            s.write_records(REG, ent["Ref_Key"], f"{NS}.{et.set_name}", ent["Date"], movements)

    # -- business facade -----------------------------------------------------------------------------
    def contract_fields(self) -> dict[str, str]:
        return {"number": "Номер", "date": "Дата", "kind": "ТипДоговора"}

    def contract_owner_sql(self) -> str:
        return "json_extract(o.data, '$.\"Контрагент_Key\"') = ?"

    def contract_payload(self, s: Session, cp: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        payload = super().contract_payload(s, cp, data)
        payload.pop("Owner_Key", None)
        payload.update(Контрагент_Key=cp["Ref_Key"], Партнер_Key=cp.get("Партнер_Key", EMPTY_GUID),
                       Статус="Действует", ХозяйственнаяОперация="РеализацияКлиенту")
        return payload

    def counterparty_payload(self, s: Session, data: dict[str, Any]) -> dict[str, Any]:
        payload = super().counterparty_payload(s, data)
        person = payload["ЮридическоеФизическоеЛицо"] == "ФизическоеЛицо"
        payload.pop("Комментарий", None)
        payload["ЮрФизЛицо"] = "ИндивидуальныйПредприниматель" if person else "ЮрЛицо"
        payload["ДополнительнаяИнформация"] = str(data.get("comment") or "")
        return payload

    def create_counterparty(self, s: Session, data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """УТ: a partner first (the CRM side), then the counterparty (the legal side) owned by it."""
        inn = str(data.get("inn") or "").strip()
        found = self.find_counterparty(s, inn, str(data.get("kpp") or "").strip() or None) if inn else []
        if found:
            return found[0], False
        if not inn:
            raise ODataError(500, "-1", "Не заполнен ИНН контрагента")
        pet = s.et("Catalog_Партнеры")
        name = str(data.get("name") or inn)
        partner = s.insert(pet, s.build(pet, {"Description": name, "НаименованиеПолное": name, "Клиент": True,
                                              "ЮрФизЛицо": "ЧастноеЛицо" if len(inn) == 12 else "Компания"}))
        payload = self.counterparty_payload(s, data)
        payload["Партнер_Key"] = partner["Ref_Key"]
        et = s.et("Catalog_Контрагенты")
        ent = s.insert(et, s.build(et, payload))
        bank = data.get("bank") or {}
        if bank.get("account"):
            aet = s.et("Catalog_БанковскиеСчетаКонтрагентов")
            s.insert(aet, s.build(aet, {"Description": f"{bank['account']}, {bank.get('name', '')}"[:150],
                                        "НомерСчета": str(bank["account"]), "Owner": ent["Ref_Key"],
                                        "Owner_Type": f"{NS}.Catalog_Контрагенты",
                                        "ВалютаДенежныхСредств_Key": self.rub(s)}))
        return ent, True

    def create_counterparty_account(self, s: Session, cp: dict[str, Any], bank: dict[str, Any]) -> str:
        aet = s.et("Catalog_БанковскиеСчетаКонтрагентов")
        return s.insert(aet, s.build(aet, {"Description": f"{bank['account']}, {bank.get('name', '')}"[:150],
                                           "НомерСчета": str(bank["account"]), "Owner": cp["Ref_Key"],
                                           "Owner_Type": f"{NS}.Catalog_Контрагенты",
                                           "ВалютаДенежныхСредств_Key": self.rub(s)}))["Ref_Key"]

    def vat_value(self, s: Session, rate: float | None) -> Any:
        return self.vat_catalog_ref(s, rate)

    def vat_rate_of(self, s: Session, value: Any) -> float | None:
        return self.vat_catalog_rate(s, value)

    def product_payload(self, s: Session, data: dict[str, Any]) -> dict[str, Any]:
        payload = super().product_payload(s, data)
        rate = data.get("vat_rate", 20)
        payload["СтавкаНДС_Key"] = self.vat_catalog_ref(s, None if rate in (None, "") else float(rate))
        payload["ТипНоменклатуры"] = "Услуга" if data.get("service") else "Товар"
        return payload

    def create_invoice(self, s: Session, data: dict[str, Any], post: bool) -> dict[str, Any]:
        """УТ: a ``ЗаказКлиента`` with the goods, then a ``СчетНаОплатуКлиенту`` on its basis."""
        org = self.org_for(s, data.get("organization_inn"), data.get("organization_ref"))
        if org is None:
            raise ODataError(500, "-1", "Не найдена организация")
        cp = s.get("Catalog_Контрагенты", data.get("counterparty_ref") or "")
        if cp is None:
            raise ODataError(500, "-1", f"Контрагент {data.get('counterparty_ref')} не найден")
        included = bool(data.get("prices_include_vat", True))
        rows = []
        for r in self.resolve_rows(s, data.get("rows") or [], bool(data.get("create_products"))):
            vat = r["vat"] if r["vat"] is not None else vat_amount(r["amount"], r["rate"], included)
            rows.append({
                "Номенклатура_Key": r["product"]["Ref_Key"],
                "Содержание": r["content"],
                "Количество": r["qty"],
                "КоличествоУпаковок": r["qty"],
                "Упаковка_Key": r["product"].get("ЕдиницаИзмерения_Key", EMPTY_GUID),
                "Цена": r["price"],
                "Сумма": r["amount"],
                "СтавкаНДС_Key": self.vat_catalog_ref(s, r["rate"]),
                "СуммаНДС": vat,
                "СуммаСНДС": money(r["amount"] + (0 if included else vat)),
            })
        common = {
            "Организация_Key": org["Ref_Key"],
            "Партнер_Key": cp.get("Партнер_Key", EMPTY_GUID),
            "Контрагент_Key": cp["Ref_Key"],
            "Договор_Key": data.get("contract_ref") or EMPTY_GUID,
        }
        if data.get("date"):
            common["Date"] = data["date"]
        oet = s.et(ORDER)
        order = s.insert(oet, s.build(oet, dict(common, ЦенаВключаетНДС=included, Товары=rows,
                                                 Комментарий=str(data.get("comment") or ""))))
        if post:
            order = s.post(oet, order["Ref_Key"])
        iet = s.et(INVOICE)
        payload = dict(common, ДокументОснование=order["Ref_Key"], ДокументОснование_Type=f"{NS}.{ORDER}",
                       Договор_Key=order.get("Договор_Key", EMPTY_GUID), СуммаДокумента=order["СуммаДокумента"],
                       Комментарий=str(data.get("comment") or ""),
                       НазначениеПлатежа=f"Оплата по заказу № {order['Number']} от {fmt_date(order['Date'])}")
        if data.get("number"):
            payload["Number"] = data["number"]
        inv = s.insert(iet, s.build(iet, payload))
        if post:
            inv = s.post(iet, inv["Ref_Key"])
        return inv

    def register_payment(self, s: Session, invoice_ref: str, amount: float, date: str, *, kind: str = "bank",
                         counterparty_ref: str | None = None, number: str | None = None, post: bool = True,
                         comment: str = "") -> dict[str, Any]:
        inv = s.get(INVOICE, invoice_ref) if invoice_ref else None
        if invoice_ref and inv is None:
            raise ODataError(404, "9", 'Экземпляр сущности "СчетНаОплатуКлиенту" не найден по переданному ключу.')
        cp_ref = counterparty_ref or (inv or {}).get("Контрагент_Key") or EMPTY_GUID
        cp = s.get("Catalog_Контрагенты", cp_ref) if not empty(cp_ref) else None
        partner = (inv or {}).get("Партнер_Key") or (cp or {}).get("Партнер_Key") or EMPTY_GUID
        org = (inv or {}).get("Организация_Key") or (self.main_org(s) or {}).get("Ref_Key", EMPTY_GUID)
        order = self._basis_order(s, inv) if inv else None
        rate = None
        if order and order.get("Товары"):
            rate = self.vat_catalog_rate(s, order["Товары"][0].get("СтавкаНДС_Key"))
        set_name = CASH if kind == "cash" else BANK
        et = s.et(set_name)
        payload: dict[str, Any] = {
            "Date": date,
            "ХозяйственнаяОперация": "ПоступлениеОплатыОтКлиента",
            "Организация_Key": org,
            "Контрагент_Key": cp_ref,
            "Партнер_Key": partner,
            "СуммаДокумента": money(amount),
            "Комментарий": comment,
            "РасшифровкаПлатежа": [{
                "Партнер_Key": partner,
                "ОснованиеПлатежа": invoice_ref or "",
                "ОснованиеПлатежа_Type": f"{NS}.{INVOICE}" if invoice_ref else f"{NS}.Undefined",
                "Сумма": money(amount),
                "СуммаВзаиморасчетов": money(amount),
                "СтавкаНДС_Key": self.vat_catalog_ref(s, rate),
                "СуммаНДС": vat_amount(amount, rate, True),
                "Организация_Key": org,
            }],
        }
        if set_name == BANK:
            payload["НазначениеПлатежа"] = (f"Оплата по счету № {inv['Number']} от {fmt_date(inv['Date'])}"
                                            if inv else "Оплата")
            payload["НомерВходящегоДокумента"] = str(number or "")[:11]
            payload["ДатаВходящегоДокумента"] = date
            payload["ДокументОснование"] = invoice_ref or ""
            payload["ДокументОснование_Type"] = f"{NS}.{INVOICE}" if invoice_ref else f"{NS}.Undefined"
        else:
            payload["ПринятоОт"] = (cp or {}).get("Description", "")
            payload["Основание"] = f"Оплата по счету № {inv['Number']}" if inv else ""
            if number:
                payload["Number"] = number
        ent = s.insert(et, s.build(et, payload))
        if post:
            ent = s.post(et, ent["Ref_Key"])
        return ent

    def payment_rows(self, s: Session, et: EntityType, ent: dict[str, Any]) -> list[dict[str, Any]]:
        out = []
        for r in ent.get("РасшифровкаПлатежа") or []:
            basis_type = r.get("ОснованиеПлатежа_Type", "")
            out.append({
                "invoice_ref": r.get("ОснованиеПлатежа") if basis_type == f"{NS}.{INVOICE}" else EMPTY_GUID,
                "basis_ref": r.get("ОснованиеПлатежа") or EMPTY_GUID,
                "basis_type": basis_type,
                "amount": r.get("Сумма", 0.0),
                "settlement_object_ref": r.get("ОбъектРасчетов_Key", EMPTY_GUID),
            })
        return out

    def move_payment(self, s: Session, payment_ref: str, invoice_ref: str) -> dict[str, Any]:
        found = s.get_any(payment_ref)
        if found is None or found[0].set_name not in (BANK, CASH):
            raise ODataError(404, "9", "Экземпляр сущности не найден по переданному ключу.")
        et, ent = found
        inv = s.get(INVOICE, invoice_ref)
        if inv is None:
            raise ODataError(404, "9", 'Экземпляр сущности "СчетНаОплатуКлиенту" не найден по переданному ключу.')
        for r in ent.get("РасшифровкаПлатежа") or []:
            r["ОснованиеПлатежа"] = invoice_ref
            r["ОснованиеПлатежа_Type"] = f"{NS}.{INVOICE}"
            r["ОбъектРасчетов_Key"] = EMPTY_GUID
            r["Партнер_Key"] = inv.get("Партнер_Key", EMPTY_GUID)
        ent["Контрагент_Key"] = inv.get("Контрагент_Key", EMPTY_GUID)
        ent["Партнер_Key"] = inv.get("Партнер_Key", EMPTY_GUID)
        was_posted = ent.get("Posted")
        ent = s.update(et, ent)
        if was_posted:
            ent = s.post(et, ent["Ref_Key"])
        return ent

    def invoice_status(self, s: Session, ref: str) -> dict[str, Any]:
        inv = s.get(INVOICE, ref)
        if inv is None:
            raise ODataError(404, "9", 'Экземпляр сущности "СчетНаОплатуКлиенту" не найден по переданному ключу.')
        records = [m for m in s.records_for_invoice(REG, ref) if m.get("RecordType") == "Expense"]
        paid = money(sum(float(m.get("Сумма") or 0) for m in records))
        amount = float(inv.get("СуммаДокумента") or 0)
        return {
            "invoice_ref": ref,
            "amount": amount,
            "paid": paid,
            "remaining": money(max(amount - paid, 0.0)),
            "status": self.status_from_sums(paid, amount),
            "status_source": "AccumulationRegister_РасчетыСКлиентами",
            "computed_status": self.status_from_sums(paid, amount),
            "payments": [{"ref": m["Recorder"], "type": m["Recorder_Type"].split(".", 1)[-1], "date": m["Period"],
                          "amount": m.get("Сумма", 0.0)} for m in records],
            "deletion_mark": bool(inv.get("DeletionMark")),
            "date": inv.get("Date"),
            "order_ref": inv.get("ДокументОснование") if inv.get("ДокументОснование_Type") == f"{NS}.{ORDER}"
            else EMPTY_GUID,
        }
