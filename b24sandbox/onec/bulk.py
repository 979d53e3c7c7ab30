"""Bulk data for benchmarks: many invoices and the receipts that pay them, written straight to SQLite.

``generate_payments(base, count=100_000)`` creates invoices to existing counterparties (one or two goods
rows, VAT 20%) and bank/cash receipts paying them (an invoice gets one to three payments; some partial,
some overpaid), with the register movements and — for БП — the invoice statuses a real posting would
leave. Rows are built in chunks and inserted with ``executemany`` so memory stays flat; 100,000
payments take a few tens of seconds and roughly 100 MB of disk.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from typing import Any

from .base import Base
from .logic.common import money, vat_amount
from .logic.session import Session
from .schema import EMPTY_GUID, NS
from .storage import entity_to_columns, info_dims_key, new_ref, record_to_row

CHUNK = 5000


def _dates(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    span = max(int((end - start).total_seconds()), 1)
    return start + dt.timedelta(seconds=rng.randrange(span))


def _fmt(d: dt.datetime) -> str:
    return d.strftime("%Y-%m-%dT%H:%M:%S")


class _Numbers:
    """Document numbers handed out in bulk (the same format and counters as single writes)."""

    def __init__(self, s: Session, set_name: str, org: dict[str, Any]) -> None:
        et = s.et(set_name)
        prefix = (str(org.get("Префикс") or "") + s.base.number_prefix)[: max(et.number_length - 7, 0)] or "0000"
        self.prefix = prefix.ljust(4, "0")
        self.width = max(et.number_length - len(self.prefix) - 1, 1)
        self.set_name = set_name
        self.s = s
        self.next: dict[str, int] = {}

    def take(self, date: str) -> str:
        year = date[:4]
        if year not in self.next:
            self.next[year] = self.s.tx.counter(f"num:{self.set_name}:{year}:{self.prefix}") + 1
        n = self.next[year]
        self.next[year] = n + 1
        return f"{self.prefix}-{n:0{self.width}d}"

    def commit(self) -> None:
        for year, n in self.next.items():
            self.s.conn.execute(
                "INSERT INTO counters(name, value) VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET value=max(value, ?)",
                (f"num:{self.set_name}:{year}:{self.prefix}", n - 1, n - 1),
            )


def _insert_objects(s: Session, et: Any, ents: list[dict[str, Any]]) -> None:
    rows = []
    for ent in ents:
        cols = entity_to_columns(et, ent)
        seq = s.tx.next_counter("change_seq")
        rows.append((cols["ref"], et.set_name, cols["data"], 0, seq, cols["date"], cols["number"], cols["posted"],
                     cols["deletion_mark"], cols["description"], cols["code"]))
    s.conn.executemany("INSERT INTO objects(ref, set_name, data, version, seq, date, number, posted, deletion_mark, "
                       "description, code) VALUES(?,?,?,?,?,?,?,?,?,?,?)", rows)


def generate_payments(base: Base, count: int = 1000, *, invoices: int | None = None, date_from: str | None = None,
                      date_to: str | None = None, kind: str = "mixed", posted_ratio: float = 1.0,
                      seed: int = 1) -> dict[str, Any]:
    """Create ``count`` receipts (and the invoices they pay) quickly; returns what was made."""
    started = time.monotonic()
    rng = random.Random(seed)
    end = dt.datetime.fromisoformat(date_to) if date_to else dt.datetime(2026, 11, 30, 18, 0, 0)
    start = dt.datetime.fromisoformat(date_from) if date_from else end - dt.timedelta(days=365)
    n_inv = max(1, invoices if invoices is not None else max(count // 2, 1))
    logic = base.handlers
    profile = base.profile_name
    with base.session() as s:
        org = logic.main_org(s)
        if org is None:
            raise ValueError("the base has no organization; create it with seed data first")
        rub = logic.rub(s)
        cps = s.find("Catalog_Контрагенты", "o.deletion_mark = 0", limit=500)
        if not cps:
            raise ValueError("the base has no counterparties")
        products = s.find("Catalog_Номенклатура", "o.deletion_mark = 0", limit=100)
        if not products:
            raise ValueError("the base has no products")
        contracts = {c["Ref_Key"]: logic.main_contract(s, c["Ref_Key"], org["Ref_Key"]) for c in cps}
        vat_value = logic.vat_value(s, 20)
        org_ref = org["Ref_Key"]
        bank_acc = logic.org_bank_account(s, org_ref)
        kassa = s.find("Catalog_Кассы", "1", limit=1) if "Catalog_Кассы" in s.profile.sets else []
        ut_objects: dict[str, str] = {}
        if profile == "ut11":
            from .logic.ut11 import Ut11

            assert isinstance(logic, Ut11)
            for c in cps:
                contract = s.get("Catalog_ДоговорыКонтрагентов", contracts[c["Ref_Key"]])
                if contract is not None and contract.get("ОбъектРасчетов_Key") in (None, EMPTY_GUID):
                    contract["ОбъектРасчетов_Key"] = logic._settlement_object(
                        s, s.et("Catalog_ДоговорыКонтрагентов"), dict(contract, Контрагент_Key=c["Ref_Key"]))
                    s.update(s.et("Catalog_ДоговорыКонтрагентов"), contract, run_handlers=False)
                ut_objects[c["Ref_Key"]] = (contract or {}).get("ОбъектРасчетов_Key", EMPTY_GUID)
    # invoices ---------------------------------------------------------------------------------------------
    inv_et = base.profile.sets[logic.invoice_set]
    inv_info: list[tuple[str, str, float, str]] = []  # ref, date, amount, counterparty
    made_inv = 0
    while made_inv < n_inv:
        with base.session() as s:
            numbers = _Numbers(s, inv_et.set_name, org)
            batch = []
            reg_rows = []
            for _ in range(min(CHUNK, n_inv - made_inv)):
                cp = rng.choice(cps)["Ref_Key"]
                date = _fmt(_dates(rng, start, end - dt.timedelta(days=1)))
                rows = []
                total = 0.0
                for li in range(rng.choice((1, 1, 2))):
                    p = rng.choice(products)
                    qty = float(rng.randint(1, 40))
                    price = float(rng.randint(5, 400) * 50)
                    amount = money(qty * price)
                    total += amount
                    rows.append((li + 1, p["Ref_Key"], qty, price, amount, vat_amount(amount, 20, True)))
                ent = _invoice_entity(profile, org_ref, cp, contracts[cp], rub, bank_acc, vat_value, date, rows,
                                      ut_objects.get(cp, EMPTY_GUID))
                ent["Ref_Key"] = new_ref()
                ent["Number"] = numbers.take(date)
                ent["Posted"] = True
                ent["СуммаДокумента"] = money(total)
                batch.append(ent)
                inv_info.append((ent["Ref_Key"], date, money(total), cp))
                if profile == "unf":
                    rec_et = base.profile.sets["AccumulationRegister_ОплатаСчетовИЗаказов_RecordType"]
                    reg_rows.append(record_to_row(rec_et, _rec(rec_et, ent["Ref_Key"], f"{NS}.{inv_et.set_name}", date, {
                        "СчетНаОплату": ent["Ref_Key"], "СчетНаОплату_Type": f"{NS}.{inv_et.set_name}",
                        "Организация_Key": org_ref, "Сумма": money(total)}), "AccumulationRegister_ОплатаСчетовИЗаказов",
                        "СчетНаОплату"))
            _insert_objects(s, inv_et, batch)
            if reg_rows:
                s.conn.executemany("INSERT INTO acc_records VALUES(?,?,?,?,?,?,?,?)", reg_rows)
            numbers.commit()
            made_inv += len(batch)
    # payments ---------------------------------------------------------------------------------------------
    bank_et = base.profile.sets[logic.bank_set]
    cash_et = base.profile.sets[logic.cash_set]
    paid: dict[str, float] = {}
    made = 0
    idx = 0
    while made < count:
        with base.session() as s:
            nb = _Numbers(s, bank_et.set_name, org)
            nc = _Numbers(s, cash_et.set_name, org)
            banks, cashes, reg_rows = [], [], []
            for _ in range(min(CHUNK, count - made)):
                inv_ref, inv_date, inv_amount, cp = inv_info[idx % len(inv_info)]
                round_no = idx // len(inv_info)
                idx += 1
                left = money(inv_amount - paid.get(inv_ref, 0.0))
                if round_no == 0:
                    share = rng.choice((1.0, 1.0, 0.5, 0.3, 0.7, 1.02))
                    amount = money(inv_amount * share)
                else:
                    amount = left if left > 0 else money(inv_amount * 0.1)
                amount = max(amount, 1.0)
                d = dt.datetime.fromisoformat(inv_date) + dt.timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 5))
                date = _fmt(min(d, end))
                is_cash = kind == "cash" or (kind == "mixed" and rng.random() < 0.15)
                et = cash_et if is_cash else bank_et
                posted = rng.random() < posted_ratio
                ent = _payment_entity(profile, et.set_name, org_ref, cp, contracts[cp], rub, bank_acc,
                                      kassa[0]["Ref_Key"] if kassa else EMPTY_GUID, inv_ref, amount, date, vat_value,
                                      ut_objects.get(cp, EMPTY_GUID))
                ent["Ref_Key"] = new_ref()
                ent["Number"] = (nc if is_cash else nb).take(date)
                ent["Posted"] = posted
                (cashes if is_cash else banks).append(ent)
                if posted:
                    paid[inv_ref] = paid.get(inv_ref, 0.0) + amount
                    reg_rows.extend(_payment_records(base, profile, et.set_name, ent, inv_ref, amount, org_ref, rub,
                                                     ut_objects.get(cp, EMPTY_GUID)))
            if banks:
                _insert_objects(s, bank_et, banks)
            if cashes:
                _insert_objects(s, cash_et, cashes)
            if reg_rows:
                s.conn.executemany("INSERT INTO acc_records VALUES(?,?,?,?,?,?,?,?)", reg_rows)
            nb.commit()
            nc.commit()
            made += len(banks) + len(cashes)
    if profile == "bp30":
        _bp_statuses(base, org_ref, inv_info, paid)
    return {"payments": count, "invoices": len(inv_info), "seconds": round(time.monotonic() - started, 2)}


def _rec(rec_et: Any, recorder: str, recorder_type: str, period: str, values: dict[str, Any]) -> dict[str, Any]:
    out = {f.name: f.default for f in rec_et.fields}
    out.update(values, Recorder=recorder, Recorder_Type=recorder_type, Period=period, Active=True,
               LineNumber=values.get("LineNumber", 1))
    return out


def _invoice_entity(profile: str, org: str, cp: str, contract: str, rub: str, bank_acc: str, vat: Any, date: str,
                    rows: list[tuple], settlement_object: str) -> dict[str, Any]:
    base = {"Date": date, "Организация_Key": org, "Контрагент_Key": cp, "Комментарий": "Сгенерировано для нагрузки"}
    if profile == "bp30":
        return dict(base, ДоговорКонтрагента_Key=contract, ВалютаДокумента_Key=rub, СуммаВключаетНДС=True,
                    КурсВзаиморасчетов=1.0, КратностьВзаиморасчетов=1, СтруктурнаяЕдиница_Key=bank_acc,
                    Товары=[{"LineNumber": n, "Номенклатура_Key": p, "Количество": q, "Цена": pr, "Сумма": a,
                             "СтавкаНДС": vat, "СуммаНДС": v} for n, p, q, pr, a, v in rows])
    if profile == "unf":
        return dict(base, Договор_Key=contract, ВалютаДокумента_Key=rub, СуммаВключаетНДС=True, Курс=1.0, Кратность=1,
                    БанковскийСчет_Key=bank_acc,
                    Запасы=[{"LineNumber": n, "Номенклатура_Key": p, "Количество": q, "Цена": pr, "Сумма": a,
                             "СтавкаНДС_Key": vat, "СуммаНДС": v, "Всего": a} for n, p, q, pr, a, v in rows])
    return dict(base, Договор_Key=contract, Валюта_Key=rub, ФормаОплаты="Безналичная", БанковскийСчет_Key=bank_acc,
                ДокументОснование=contract, ДокументОснование_Type=f"{NS}.Catalog_ДоговорыКонтрагентов",
                ЭтапыГрафикаОплаты=[{"LineNumber": 1, "ДатаПлатежа": date, "ПроцентПлатежа": 100.0,
                                     "СуммаПлатежа": money(sum(r[4] for r in rows))}])


def _payment_entity(profile: str, set_name: str, org: str, cp: str, contract: str, rub: str, bank_acc: str,
                    kassa: str, inv: str, amount: float, date: str, vat: Any, obj: str) -> dict[str, Any]:
    cash = "Касс" in set_name or set_name.endswith("ПоступлениеВКассу")
    if profile == "bp30":
        ent = {"Date": date, "ВидОперации": "ОплатаПокупателя", "Организация_Key": org, "Контрагент": cp,
               "Контрагент_Type": f"{NS}.Catalog_Контрагенты", "ДоговорКонтрагента_Key": contract,
               "ВалютаДокумента_Key": rub, "СуммаДокумента": amount,
               "РасшифровкаПлатежа": [{"LineNumber": 1, "ДоговорКонтрагента_Key": contract,
                                       "СпособПогашенияЗадолженности": "Автоматически", "СуммаПлатежа": amount,
                                       "СуммаВзаиморасчетов": amount, "КурсВзаиморасчетов": 1.0,
                                       "КратностьВзаиморасчетов": 1, "СтавкаНДС": vat,
                                       "СуммаНДС": vat_amount(amount, 20, True), "СчетНаОплату_Key": inv}]}
        if not cash:
            ent.update(СчетОрганизации_Key=bank_acc, НазначениеПлатежа="Оплата по счету", ДатаВходящегоДокумента=date)
        return ent
    if profile == "unf":
        ent = {"Date": date, "ВидОперации": "ОтПокупателя", "Организация_Key": org, "Контрагент_Key": cp,
               "ВалютаДенежныхСредств_Key": rub, "СуммаДокумента": amount, "Курс": 1.0, "Кратность": 1,
               "РасшифровкаПлатежа": [{"LineNumber": 1, "Договор_Key": contract, "ПризнакАванса": True,
                                       "СуммаРасчетов": amount, "СуммаПлатежа": amount, "Курс": 1.0, "Кратность": 1,
                                       "СтавкаНДС_Key": vat, "СуммаНДС": vat_amount(amount, 20, True),
                                       "СчетНаОплату": inv, "СчетНаОплату_Type": f"{NS}.Document_СчетНаОплату"}]}
        ent["Касса_Key" if cash else "БанковскийСчет_Key"] = kassa if cash else bank_acc
        return ent
    ent = {"Date": date, "ХозяйственнаяОперация": "ПоступлениеОплатыОтКлиента", "Организация_Key": org,
           "Контрагент_Key": cp, "Валюта_Key": rub, "СуммаДокумента": amount,
           "РасшифровкаПлатежа": [{"LineNumber": 1, "ОснованиеПлатежа": inv,
                                   "ОснованиеПлатежа_Type": f"{NS}.Document_СчетНаОплатуКлиенту", "Сумма": amount,
                                   "СуммаВзаиморасчетов": amount, "ВалютаВзаиморасчетов_Key": rub,
                                   "ОбъектРасчетов_Key": obj, "СтавкаНДС_Key": vat, "Организация_Key": org,
                                   "СуммаНДС": vat_amount(amount, 20, True)}]}
    ent["Касса_Key" if cash else "БанковскийСчет_Key"] = kassa if cash else bank_acc
    return ent


def _payment_records(base: Base, profile: str, set_name: str, ent: dict[str, Any], inv: str, amount: float,
                     org: str, rub: str, obj: str) -> list[tuple]:
    logic = base.handlers
    reg = logic.payment_register
    rec_et = base.profile.sets[f"{reg}_RecordType"]
    rtype = f"{NS}.{set_name}"
    if profile == "bp30":
        values = {"Организация_Key": org, "СчетНаОплату": inv, "СчетНаОплату_Type": f"{NS}.{logic.invoice_set}",
                  "СтавкаНДС": "НДС20", "Сумма": amount, "СуммаНДС": vat_amount(amount, 20, True), "Валюта_Key": rub}
    elif profile == "unf":
        values = {"СчетНаОплату": inv, "СчетНаОплату_Type": f"{NS}.{logic.invoice_set}", "Организация_Key": org,
                  "СуммаАванса": amount, "ДокументОплаты": ent["Ref_Key"], "ДокументОплаты_Type": rtype}
    else:
        values = {"RecordType": "Expense", "ОбъектРасчетов_Key": obj, "Валюта_Key": rub, "Сумма": amount,
                  "КОплате": amount, "ХозяйственнаяОперация": "ПоступлениеОплатыОтКлиента",
                  "ФормаОплаты": "Наличная" if "Кассов" in set_name else "Безналичная", "СчетНаОплату_Key": inv,
                  "ДатаРегистратора": ent["Date"], "ДатаПлатежа": ent["Date"]}
    rec = _rec(rec_et, ent["Ref_Key"], rtype, ent["Date"], values)
    return [record_to_row(rec_et, rec, reg, logic.invoice_fields.get(reg))]


def _bp_statuses(base: Base, org: str, inv_info: list[tuple], paid: dict[str, float]) -> None:
    et = base.profile.sets["InformationRegister_СтатусыДокументов"]
    logic = base.handlers
    for i in range(0, len(inv_info), CHUNK):
        rows = []
        for ref, _date, amount, _cp in inv_info[i : i + CHUNK]:
            if ref not in paid:
                continue
            ent = {f.name: f.default for f in et.fields}
            ent.update({"Организация_Key": org, "Документ": ref, "Документ_Type": f"{NS}.{logic.invoice_set}",
                        "Статус": logic.status_from_sums(paid[ref], amount), "Статус_Type": f"{NS}.СтатусОплатыСчета",
                        "ДополнительныйСтатус": "НеОтгружен", "ДополнительныйСтатус_Type": f"{NS}.СтатусыОтгрузки"})
            rows.append((et.set_name, info_dims_key(et, ent), json.dumps(ent, ensure_ascii=False)))
        with base.session() as s:
            s.conn.executemany("INSERT OR REPLACE INTO info_records(register, dims, data) VALUES(?,?,?)", rows)
