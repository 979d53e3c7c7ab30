"""What the three configurations share: reference data lookups, VAT, units, and the exchange facade.

:class:`ProfileLogic` has two faces. As *configuration code* it gives new objects their defaults
(``ОбработкаЗаполнения``), recomputes derived values before a write (``ПередЗаписью``) and posts
documents (``ОбработкаПроведения``). As an *accountant / 1C programmer* it implements the business
operations the control API and the SOAP service offer (find or create a counterparty, a contract, an
invoice; register a payment; tell an invoice's payment state) with each profile's own objects.
Subclasses: :mod:`.bp30`, :mod:`.ut11`, :mod:`.unf`.
"""

from __future__ import annotations

import abc
from typing import Any

from ..errors import ODataError
from ..schema import EMPTY_DATE, EMPTY_GUID, NS, EntityType
from .session import Session, now_1c, presentation

VAT_BP_ENUM = {20: "НДС20", 10: "НДС10", 0: "НДС0", None: "БезНДС", 18: "НДС18"}
VAT_FROM_BP_ENUM = {"НДС20": 20.0, "НДС10": 10.0, "НДС0": 0.0, "БезНДС": None, "НДС18": 18.0, "НДС20_120": 20.0,
                    "НДС10_110": 10.0, "НДС18_118": 18.0, "": None}

UNITS = [
    ("796", "шт", "Штука"), ("166", "кг", "Килограмм"), ("168", "т", "Тонна"), ("006", "м", "Метр"),
    ("055", "м2", "Квадратный метр"), ("018", "пог. м", "Погонный метр"), ("839", "компл", "Комплект"),
    ("778", "упак", "Упаковка"), ("112", "л", "Литр"), ("356", "ч", "Час"), ("876", "усл. ед", "Условная единица"),
]
UNIT_ALIASES = {"шт.": "шт", "штука": "шт", "кг.": "кг", "т.": "т", "тонна": "т", "м.": "м", "метр": "м",
                "м²": "м2", "кв. м": "м2", "кв.м": "м2", "пог.м": "пог. м", "п.м": "пог. м", "комплект": "компл",
                "упаковка": "упак", "час": "ч", "услуга": "усл. ед"}


def fmt_date(value: str) -> str:
    return f"{value[8:10]}.{value[5:7]}.{value[0:4]}" if value and value != EMPTY_DATE else ""


def money(x: float) -> float:
    return round(float(x) + 0.0, 2)


def vat_amount(amount: float, rate: float | None, included: bool) -> float:
    if not rate:
        return 0.0
    if included:
        return money(amount * rate / (100 + rate))
    return money(amount * rate / 100)


def empty(value: Any) -> bool:
    return value in (None, "", EMPTY_GUID, EMPTY_DATE, 0, 0.0, False)


class ProfileLogic(abc.ABC):
    """Configuration behaviour + business facade; the defaults here are shared by all profiles."""

    name = ""
    invoice_set = ""
    bank_set = ""
    cash_set = ""
    invoice_rows = ""  # tabular part of the invoice holding goods (None for УТ: goods live in the order)
    payment_register = ""
    invoice_fields: dict[str, str] = {}
    unit_set = "Catalog_КлассификаторЕдиницИзмерения"
    bank_account_set = "Catalog_БанковскиеСчета"

    def __init__(self, base: Any) -> None:
        self.base = base

    # -- configuration handlers (overridden per profile) -------------------------------------------
    def defaults(self, s: Session, et: EntityType) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if et.kind == "Document":
            org = self.main_org(s)
            if org and "Организация_Key" in et.by_name:
                out["Организация_Key"] = org["Ref_Key"]
        return out

    def fill(self, s: Session, et: EntityType, ent: dict[str, Any], is_new: bool) -> None:
        if et.kind == "Catalog" and "НаименованиеПолное" in et.by_name and not ent.get("НаименованиеПолное"):
            if et.set_name in ("Catalog_Контрагенты", "Catalog_Номенклатура", "Catalog_Партнеры"):
                ent["НаименованиеПолное"] = ent.get("Description", "")

    def post(self, s: Session, et: EntityType, ent: dict[str, Any], messages: list[str]) -> None:
        return None

    def unpost(self, s: Session, et: EntityType, ent: dict[str, Any]) -> None:
        return None

    # -- reference data -------------------------------------------------------------------------------
    def main_org(self, s: Session) -> dict[str, Any] | None:
        ref = s.tx.meta_get("main_org")
        if ref:
            org = s.get("Catalog_Организации", ref)
            if org:
                return org
        orgs = s.find("Catalog_Организации", "o.deletion_mark = 0", limit=1)
        return orgs[0] if orgs else None

    def org_for(self, s: Session, inn: str | None = None, ref: str | None = None) -> dict[str, Any] | None:
        if ref and not empty(ref):
            return s.get("Catalog_Организации", ref)
        if inn:
            found = s.by_attr("Catalog_Организации", "ИНН", inn)
            return found[0] if found else None
        return self.main_org(s)

    def rub(self, s: Session) -> str:
        found = s.find("Catalog_Валюты", "o.code = ?", ("643",), limit=1)
        return found[0]["Ref_Key"] if found else EMPTY_GUID

    def currency_by_code(self, s: Session, code: str) -> str:
        found = s.find("Catalog_Валюты", "o.code = ?", (code,), limit=1)
        return found[0]["Ref_Key"] if found else EMPTY_GUID

    def unit_ref(self, s: Session, name: str | None) -> str:
        key = (name or "шт").strip().lower()
        key = UNIT_ALIASES.get(key, key)
        for code, short, fullname in UNITS:
            if key in (short, fullname.lower(), code):
                key = short
                break
        found = s.find(self.unit_set, "ci(o.description) = ci(?)", (key,), limit=1)
        if found:
            return found[0]["Ref_Key"]
        et = s.et(self.unit_set)
        ent = s.build(et, {"Description": key[:et.by_name["Description"].length or 50],
                           "НаименованиеПолное": name or key})
        return s.insert(et, ent)["Ref_Key"]

    def org_bank_account(self, s: Session, org_ref: str) -> str:
        et = s.profile.sets.get(self.bank_account_set)
        if et is None:
            return EMPTY_GUID
        if "Owner_Key" in et.by_name:
            found = s.find(self.bank_account_set, "json_extract(o.data, '$.Owner_Key') = ? AND o.deletion_mark = 0",
                           (org_ref,), limit=1)
        else:
            found = s.find(self.bank_account_set, "json_extract(o.data, '$.Owner') = ? AND o.deletion_mark = 0",
                           (org_ref,), limit=1)
        return found[0]["Ref_Key"] if found else EMPTY_GUID

    # -- VAT (БП: enum; УТ/УНФ: catalog СтавкиНДС) -------------------------------------------------------
    def vat_value(self, s: Session, rate: float | None) -> Any:
        return VAT_BP_ENUM.get(None if rate is None else int(rate), "БезНДС")

    def vat_rate_of(self, s: Session, value: Any) -> float | None:
        return VAT_FROM_BP_ENUM.get(value)

    def vat_catalog_ref(self, s: Session, rate: float | None) -> str:
        """УТ/УНФ keep VAT rates in a catalog; find (or create) the element for a rate."""
        if rate is None:
            found = s.find("Catalog_СтавкиНДС", "ci(o.description) = ci('Без НДС')", limit=1)
            desc, value = "Без НДС", 0.0
        else:
            found = s.find("Catalog_СтавкиНДС",
                           "COALESCE(json_extract(o.data, '$.\"Ставка\"'), 0) = ? AND o.description <> 'Без НДС'",
                           (float(rate),), limit=1)
            desc, value = f"{int(rate)}%", float(rate)
        if found:
            return found[0]["Ref_Key"]
        et = s.et("Catalog_СтавкиНДС")
        return s.insert(et, s.build(et, {"Description": desc, "Ставка": value}))["Ref_Key"]

    def vat_catalog_rate(self, s: Session, ref: str) -> float | None:
        if empty(ref):
            return None
        ent = s.get("Catalog_СтавкиНДС", ref)
        if ent is None or ent.get("Description") == "Без НДС" or ent.get("НеОблагается"):
            return None
        return float(ent.get("Ставка") or 0)

    # -- counterparties, contracts, products ----------------------------------------------------------
    def find_counterparty(self, s: Session, inn: str, kpp: str | None = None) -> list[dict[str, Any]]:
        """By ИНН (+КПП when given), not deletion-marked; folders skipped."""
        where = "ci(COALESCE(json_extract(o.data, '$.\"ИНН\"'), '')) = ci(?) AND o.deletion_mark = 0"
        params: list[Any] = [inn.strip()]
        if kpp:
            where += " AND COALESCE(json_extract(o.data, '$.\"КПП\"'), '') = ?"
            params.append(kpp.strip())
        et = s.et("Catalog_Контрагенты")
        if "IsFolder" in et.by_name:
            where += " AND COALESCE(json_extract(o.data, '$.IsFolder'), 0) = 0"
        return s.find("Catalog_Контрагенты", where, tuple(params))

    def counterparty_payload(self, s: Session, data: dict[str, Any]) -> dict[str, Any]:
        inn = str(data.get("inn") or "").strip()
        kpp = str(data.get("kpp") or "").strip()
        name = str(data.get("name") or data.get("full_name") or inn)
        person = len(inn) == 12 or str(data.get("kind", "")).lower() in ("ip", "person", "физлицо", "ип")
        return {
            "Description": name,
            "НаименованиеПолное": str(data.get("full_name") or name),
            "ИНН": inn,
            "КПП": "" if person else kpp,
            "ЮридическоеФизическоеЛицо": "ФизическоеЛицо" if person else "ЮридическоеЛицо",
            "КодПоОКПО": str(data.get("okpo") or ""),
            "Комментарий": str(data.get("comment") or ""),
        }

    def create_counterparty(self, s: Session, data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Find by ИНН+КПП first (never a duplicate); otherwise create with requisites and bank account."""
        inn = str(data.get("inn") or "").strip()
        if not inn:
            raise ODataError(500, "-1", "Не заполнен ИНН контрагента")
        found = self.find_counterparty(s, inn, str(data.get("kpp") or "").strip() or None)
        if found:
            return found[0], False
        et = s.et("Catalog_Контрагенты")
        ent = s.insert(et, s.build(et, self.counterparty_payload(s, data)))
        bank = data.get("bank") or {}
        if bank.get("account"):
            self.create_counterparty_account(s, ent, bank)
        return ent, True

    def create_counterparty_account(self, s: Session, cp: dict[str, Any], bank: dict[str, Any]) -> str:
        et = s.profile.sets.get(self.bank_account_set)
        if et is None:
            return EMPTY_GUID
        payload: dict[str, Any] = {
            "Description": f"{bank.get('account')}, {bank.get('name', '')}".strip(", ")[:150],
            "НомерСчета": str(bank.get("account")),
            "ВалютаДенежныхСредств_Key": self.rub(s),
        }
        if "Owner_Key" in et.by_name:
            payload["Owner_Key"] = cp["Ref_Key"]
        else:
            payload["Owner"] = cp["Ref_Key"]
            payload["Owner_Type"] = f"{NS}.Catalog_Контрагенты"
        return s.insert(et, s.build(et, payload))["Ref_Key"]

    def contract_fields(self) -> dict[str, str]:
        """Names of the contract attributes in this configuration."""
        return {"number": "Номер", "date": "Дата", "kind": "ВидДоговора"}

    def find_contract(self, s: Session, cp_ref: str, number: str | None = None, date: str | None = None,
                      org_ref: str | None = None) -> list[dict[str, Any]]:
        names = self.contract_fields()
        where = [self.contract_owner_sql(), "o.deletion_mark = 0"]
        params: list[Any] = [cp_ref]
        if number:
            where.append(f"ci(COALESCE(json_extract(o.data, '$.\"{names['number']}\"'), '')) = ci(?)")
            params.append(number)
        if date:
            where.append(f"substr(COALESCE(json_extract(o.data, '$.\"{names['date']}\"'), ''), 1, 10) = ?")
            params.append(date[:10])
        if org_ref:
            where.append("COALESCE(json_extract(o.data, '$.\"Организация_Key\"'), '') IN (?, ?)")
            params.extend([org_ref, EMPTY_GUID])
        return s.find("Catalog_ДоговорыКонтрагентов", " AND ".join(where), tuple(params))

    def contract_owner_sql(self) -> str:
        return "json_extract(o.data, '$.Owner_Key') = ?"

    def contract_payload(self, s: Session, cp: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        names = self.contract_fields()
        number = str(data.get("number") or "")
        date = str(data.get("date") or "")[:19]
        desc = data.get("name") or (f"№ {number} от {fmt_date(date)}" if number else "Основной договор")
        org = self.org_for(s, ref=data.get("organization_ref"))
        payload = {
            "Owner_Key": cp["Ref_Key"],
            "Description": desc,
            names["number"]: number,
            names["date"]: date or EMPTY_DATE,
            names["kind"]: self.contract_kind(data.get("kind")),
            "Организация_Key": org["Ref_Key"] if org else EMPTY_GUID,
        }
        return payload

    def contract_kind(self, kind: Any) -> str:
        text = str(kind or "").lower()
        if text in ("", "sale", "customer", "с покупателем", "спокупателем", "buyer"):
            return "СПокупателем"
        if text in ("purchase", "supplier", "с поставщиком", "споставщиком"):
            return "СПоставщиком"
        return str(kind)

    def create_contract(self, s: Session, cp_ref: str, data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        cp = s.get("Catalog_Контрагенты", cp_ref)
        if cp is None:
            raise ODataError(500, "-1", f"Контрагент {cp_ref} не найден")
        found = self.find_contract(s, cp_ref, str(data.get("number") or "") or None,
                                   str(data.get("date") or "") or None)
        if found and (data.get("number") or data.get("date")):
            return found[0], False
        et = s.et("Catalog_ДоговорыКонтрагентов")
        return s.insert(et, s.build(et, self.contract_payload(s, cp, data))), True

    def main_contract(self, s: Session, cp_ref: str, org_ref: str | None) -> str:
        """The counterparty's contract with a customer (or a new "Основной договор"), as БП/УНФ fill it."""
        kind_name = self.contract_fields()["kind"]
        for c in self.find_contract(s, cp_ref, org_ref=org_ref):
            if c.get(kind_name) in ("СПокупателем", ""):
                return c["Ref_Key"]
        cp = s.get("Catalog_Контрагенты", cp_ref)
        if cp is None:
            return EMPTY_GUID
        et = s.et("Catalog_ДоговорыКонтрагентов")
        payload = self.contract_payload(s, cp, {"name": "Основной договор", "organization_ref": org_ref})
        return s.insert(et, s.build(et, payload))["Ref_Key"]

    def find_product(self, s: Session, article: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
        et = s.et("Catalog_Номенклатура")
        folder = " AND COALESCE(json_extract(o.data, '$.IsFolder'), 0) = 0" if "IsFolder" in et.by_name else ""
        if article:
            found = s.find("Catalog_Номенклатура",
                           "ci(COALESCE(json_extract(o.data, '$.\"Артикул\"'), '')) = ci(?) AND o.deletion_mark = 0"
                           + folder, (article.strip(),))
            if found:
                return found
        if name:
            return s.find("Catalog_Номенклатура", "ci(o.description) = ci(?) AND o.deletion_mark = 0" + folder,
                          (name.strip(),))
        return []

    def product_payload(self, s: Session, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "Description": str(data.get("name") or data.get("article") or "Товар"),
            "НаименованиеПолное": str(data.get("full_name") or data.get("name") or ""),
            "Артикул": str(data.get("article") or ""),
            "ЕдиницаИзмерения_Key": self.unit_ref(s, data.get("unit")),
        }

    def create_product(self, s: Session, data: dict[str, Any]) -> dict[str, Any]:
        et = s.et("Catalog_Номенклатура")
        return s.insert(et, s.build(et, self.product_payload(s, data)))

    def resolve_rows(self, s: Session, rows: list[dict[str, Any]], create_missing: bool = False
                     ) -> list[dict[str, Any]]:
        """Invoice rows from the exchange format: product by ref, article or name; amounts with VAT."""
        out = []
        for i, r in enumerate(rows):
            ref = r.get("product_ref")
            product = s.get("Catalog_Номенклатура", ref) if ref else None
            if product is None and not ref:
                found = self.find_product(s, r.get("article"), r.get("name"))
                product = found[0] if found else None
                if product is None and create_missing:
                    product = self.create_product(s, r)
            if product is None:
                label = r.get("article") or r.get("name") or ref or f"строка {i + 1}"
                raise ODataError(500, "-1", f"Номенклатура \"{label}\" не найдена (строка {i + 1})")
            qty = float(r.get("quantity") or 1)
            price = float(r.get("price") or 0)
            amount = money(r["amount"]) if r.get("amount") is not None else money(qty * price)
            rate = r.get("vat_rate", 20)
            rate = None if rate in (None, "", "none", "БезНДС", "без НДС") else float(rate)
            out.append({"product": product, "qty": qty, "price": price, "amount": amount, "rate": rate,
                        "vat": money(r["vat_amount"]) if r.get("vat_amount") is not None else None,
                        "content": str(r.get("content") or "")})
        return out

    # -- documents --------------------------------------------------------------------------------------
    def find_invoices_by_comment(self, s: Session, key: str) -> list[dict[str, Any]]:
        return s.find(self.invoice_set,
                      "instr(ci(COALESCE(json_extract(o.data, '$.\"Комментарий\"'), '')), ci(?)) > 0", (key,))

    @abc.abstractmethod
    def create_invoice(self, s: Session, data: dict[str, Any], post: bool) -> dict[str, Any]:
        """Each profile has its own invoice documents."""

    @abc.abstractmethod
    def register_payment(self, s: Session, invoice_ref: str, amount: float, date: str, *, kind: str = "bank",
                         counterparty_ref: str | None = None, number: str | None = None, post: bool = True,
                         comment: str = "") -> dict[str, Any]:
        """Record a payment of the invoice with the profile's own payment document."""

    @abc.abstractmethod
    def invoice_status(self, s: Session, ref: str) -> dict[str, Any]:
        """The invoice's paid amount and state, as the profile computes them."""

    @abc.abstractmethod
    def payment_rows(self, s: Session, et: EntityType, ent: dict[str, Any]) -> list[dict[str, Any]]:
        """``[{"invoice_ref", "amount"}]`` for a payment document (what it pays)."""

    def payment_sets(self) -> list[tuple[str, str]]:
        return [(self.bank_set, "bank"), (self.cash_set, "cash")]

    def invoice_view(self, s: Session, ent: dict[str, Any]) -> dict[str, Any]:
        et = s.et(self.invoice_set)
        return {
            "ref": ent["Ref_Key"],
            "type": et.set_name,
            "number": ent.get("Number"),
            "date": ent.get("Date"),
            "amount": ent.get("СуммаДокумента", 0.0),
            "posted": bool(ent.get("Posted")),
            "deletion_mark": bool(ent.get("DeletionMark")),
            "comment": ent.get("Комментарий", ""),
            "counterparty_ref": ent.get("Контрагент_Key", EMPTY_GUID),
            "organization_ref": ent.get("Организация_Key", EMPTY_GUID),
            "data_version": ent.get("DataVersion"),
            "presentation": presentation(et, ent),
        }

    def payment_view(self, s: Session, et: EntityType, ent: dict[str, Any], kind: str) -> dict[str, Any]:
        cp = ent.get("Контрагент_Key") or ent.get("Контрагент") or EMPTY_GUID
        return {
            "ref": ent["Ref_Key"],
            "type": et.set_name,
            "kind": kind,
            "number": ent.get("Number"),
            "date": ent.get("Date"),
            "posted": bool(ent.get("Posted")),
            "deletion_mark": bool(ent.get("DeletionMark")),
            "amount": ent.get("СуммаДокумента", 0.0),
            "counterparty_ref": cp,
            "organization_ref": ent.get("Организация_Key", EMPTY_GUID),
            "data_version": ent.get("DataVersion"),
            "rows": self.payment_rows(s, et, ent),
        }

    def status_from_sums(self, paid: float, amount: float) -> str:
        if amount > 0 and paid >= amount - 0.004:
            return "Оплачен"
        if paid > 0.004:
            return "ОплаченЧастично"
        return "НеОплачен"

    def today(self) -> str:
        return now_1c()
