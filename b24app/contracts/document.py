"""From portal data to a filled document: the parties, product rows with VAT, totals in words, the
payment terms of the type; what is missing; rendering with docxtpl; PDF through LibreOffice.

Missing data is collected in full before anything is numbered (:func:`problems`), so the robot's error
names every field that has to be filled in, and which entity it belongs to, in one message.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from b24app.contracts import words
from b24app.contracts.portal_data import DealData, Requisite
from b24app.errors import ConfigError, DataError

log = logging.getLogger("b24app.contracts.document")

MONTHS_GEN = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
_CENT = Decimal("0.01")
CURRENCY_SHORT = {"RUB": "руб.", "USD": "долл. США", "EUR": "евро", "KZT": "тенге"}
PDF_TIMEOUT_S = 120

# Payment clause of each built-in type; {names} are the type's terms.
PAYMENT_TEXTS = {
    "prepayment": "Покупатель оплачивает 100 % стоимости товара в течение {prepayment_days} банковских дней "
    "с даты выставления счёта. Отгрузка производится после поступления оплаты на расчётный счёт Поставщика.",
    "deferred": "Покупатель оплачивает товар в течение {deferral_days} календарных дней с даты отгрузки "
    "(отсрочка платежа).",
    "tender": "Покупатель оплачивает товар в течение {deferral_days} календарных дней с даты подписания "
    "товарной накладной (УПД).",
    "government": "Оплата производится в течение {payment_days} рабочих дней с даты подписания Заказчиком "
    "документа о приёмке.",
    "dealer": "Дилер оплачивает каждую партию товара в течение {deferral_days} календарных дней "
    "с даты отгрузки.",
    "claim": "",
}


# --- small formatting helpers -------------------------------------------------------------------------


def dec(value: Any, default: str = "0") -> Decimal:
    try:
        d = Decimal(str(value if value not in (None, "") else default).replace(",", ".").strip())
    except (InvalidOperation, ValueError):
        return Decimal(default)
    return d if d.is_finite() else Decimal(default)


def number_text(value: Any) -> str:
    """``2.50`` -> ``"2,5"``, ``20.0`` -> ``"20"`` (Russian decimal comma, no trailing zeros)."""
    d = dec(value)
    text = format(d.normalize(), "f") if d != d.to_integral() else str(int(d))
    return text.replace(".", ",")


def money(value: Any) -> str:
    return words.format_amount_ru(dec(value).quantize(_CENT, rounding=ROUND_HALF_UP))


def date_text(day: dt.date) -> str:
    """``«05» октября 2026 г.``"""
    return f"«{day.day:02d}» {MONTHS_GEN[day.month - 1]} {day.year} г."


def short_name(full: str) -> str:
    """``Сергеев Андрей Николаевич`` -> ``Сергеев А. Н.``"""
    parts = full.split()
    if len(parts) < 2:
        return full.strip()
    return parts[0] + " " + " ".join(f"{p[0]}." for p in parts[1:3] if p)


def _first_multi(entity: dict[str, Any] | None, key: str) -> str:
    values = (entity or {}).get(key) or []
    if isinstance(values, dict):
        values = list(values.values())
    for v in values:
        if isinstance(v, dict) and v.get("VALUE"):
            return str(v["VALUE"])
    return ""


def format_address(addr: dict[str, Any] | None) -> str:
    if not addr:
        return ""
    city = str(addr.get("CITY") or "").strip()
    if city and not re.match(r"^(г|пос|п|с|д|рп|пгт|ст|х|аул)\.?\s", city):
        city = f"г. {city}"
    parts = [
        addr.get("POSTAL_CODE"),
        addr.get("PROVINCE"),
        addr.get("REGION"),
        city,
        addr.get("ADDRESS_1"),
        addr.get("ADDRESS_2"),
    ]
    return ", ".join(str(p).strip() for p in parts if p and str(p).strip())


def _s(value: Any) -> str:
    return "" if value is None else str(value).strip()


# --- the parties --------------------------------------------------------------------------------------


@dataclass
class Missing:
    """What one entity lacks."""

    entity_ru: str
    entity_en: str
    fields_ru: list[str]
    fields_en: list[str]
    hint_ru: str = ""
    hint_en: str = ""

    def text(self, lang: str = "ru") -> str:
        if lang == "en":
            return f"{self.entity_en}: missing {', '.join(self.fields_en)}{self.hint_en}"
        return f"{self.entity_ru}: не заполнено — {', '.join(self.fields_ru)}{self.hint_ru}"


_FIELD_LABELS = {
    "name": ("наименование", "name"),
    "inn": ("ИНН", "INN"),
    "kpp": ("КПП", "KPP"),
    "ogrn": ("ОГРН", "OGRN"),
    "ogrnip": ("ОГРНИП", "OGRNIP"),
    "address": ("юридический адрес", "legal address"),
    "director": ("руководитель", "head"),
    "bank.name": ("банк", "bank"),
    "bank.bik": ("БИК", "BIK"),
    "bank.account": ("расчётный счёт", "settlement account"),
    "bank.corr_account": ("корр. счёт", "correspondent account"),
}


def _is_ip(req: dict[str, Any]) -> bool:
    return str(req.get("PRESET_ID") or "") == "2" or (bool(req.get("RQ_OGRNIP")) and not req.get("RQ_OGRN"))


def party_from_requisite(req: Requisite | None, company: dict[str, Any] | None) -> dict[str, Any]:
    """A party (buyer or seller) from a CRM requisite; empty strings for what the requisite lacks."""
    f = req.fields if req else {}
    bank = (req.bank if req else None) or {}
    is_ip = _is_ip(f) if f else False
    title = _s((company or {}).get("TITLE"))
    name = _s(f.get("RQ_COMPANY_NAME")) or _s(f.get("NAME")) or title
    person = " ".join(
        p for p in (_s(f.get("RQ_LAST_NAME")), _s(f.get("RQ_FIRST_NAME")), _s(f.get("RQ_SECOND_NAME"))) if p
    ) or _s(f.get("RQ_NAME"))
    director = (person or _s(f.get("RQ_DIRECTOR"))) if is_ip else _s(f.get("RQ_DIRECTOR"))
    addr = (req.address if req else None) or {}
    return {
        "name": name,
        "full_name": _s(f.get("RQ_COMPANY_FULL_NAME")) or name,
        "is_ip": is_ip,
        "inn": _s(f.get("RQ_INN")),
        "kpp": "" if is_ip else _s(f.get("RQ_KPP")),
        "ogrn": _s(f.get("RQ_OGRNIP")) if is_ip else _s(f.get("RQ_OGRN")),
        "ogrn_label": "ОГРНИП" if is_ip else "ОГРН",
        "address": format_address(addr),
        "city": _s(addr.get("CITY")),
        "director": director,
        "director_position": "Индивидуальный предприниматель"
        if is_ip
        else (_s(f.get("RQ_CEO_WORK_POS")) or "Руководитель"),
        "acting_on": "" if is_ip else "Устава",
        "accountant": _s(f.get("RQ_ACCOUNTANT")),
        "phone": _first_multi(company, "PHONE") or _s(f.get("RQ_PHONE")),
        "email": _first_multi(company, "EMAIL") or _s(f.get("RQ_EMAIL")),
        "bank": {
            "name": _s(bank.get("RQ_BANK_NAME")),
            "bik": _s(bank.get("RQ_BIK")),
            "account": _s(bank.get("RQ_ACC_NUM")),
            "corr_account": _s(bank.get("RQ_COR_ACC_NUM")),
        },
    }


def merge_settings(party: dict[str, Any], le: dict[str, Any] | None) -> dict[str, Any]:
    """Our legal entity: the portal's requisites, each empty field taken from the settings."""
    if not le:
        return party
    out = dict(party)
    out["bank"] = dict(party.get("bank") or {})
    for key in (
        "name",
        "full_name",
        "inn",
        "kpp",
        "ogrn",
        "address",
        "city",
        "director",
        "accountant",
        "phone",
        "email",
    ):
        if not out.get(key) and le.get(key):
            out[key] = str(le[key])
    if not out["full_name"]:
        out["full_name"] = out["name"]
    if le.get("director_position"):
        out["director_position"] = str(le["director_position"])
    if le.get("acting_on"):
        out["acting_on"] = str(le["acting_on"])
    if out.get("ogrn") and len(str(out["ogrn"])) == 15:
        out["ogrn_label"], out["is_ip"] = "ОГРНИП", True
    for key in ("name", "bik", "account", "corr_account"):
        if not out["bank"].get(key) and (le.get("bank") or {}).get(key):
            out["bank"][key] = str(le["bank"][key])
    return out


def finish_party(party: dict[str, Any]) -> dict[str, Any]:
    """Derived texts: the head's short name and the «acting on» clause of the preamble."""
    p = dict(party)
    p["director_short"] = short_name(p.get("director") or "")
    if p.get("is_ip"):
        p["acting"] = f"действующий на основании записи в ЕГРИП (ОГРНИП {p.get('ogrn') or '—'})"
    else:
        position = p.get("director_position") or "Руководитель"
        position = position[:1].lower() + position[1:]
        p["acting"] = (
            f"от имени которого действует {position} {p.get('director') or ''} на основании "
            f"{p.get('acting_on') or 'Устава'}"
        ).replace("  ", " ")
    return p


def party_missing(party: dict[str, Any]) -> list[str]:
    """Keys of ``_FIELD_LABELS`` the party lacks."""
    keys = ["name", "inn"]
    if not party.get("is_ip"):
        keys += ["kpp", "ogrn", "director"]
    else:
        keys += ["ogrnip"]
    keys += ["address", "bank.name", "bank.bik", "bank.account", "bank.corr_account"]
    out = []
    for key in keys:
        if key == "ogrnip":
            value = party.get("ogrn")
        elif key.startswith("bank."):
            value = (party.get("bank") or {}).get(key[5:])
        else:
            value = party.get(key)
        if not value:
            out.append(key)
    return out


def _labels(keys: list[str]) -> tuple[list[str], list[str]]:
    return [_FIELD_LABELS[k][0] for k in keys], [_FIELD_LABELS[k][1] for k in keys]


# --- rows and totals --------------------------------------------------------------------------------


def rows_and_totals(
    rows: list[dict[str, Any]], *, vat_payer: bool, fallback_amount: Any, fallback_rate: Any, currency: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Product rows for the table and the totals: PRICE is the final unit price with VAT included (as the
    portal keeps it), VAT is counted per row and summed."""
    out: list[dict[str, Any]] = []
    total = Decimal("0")
    vat_total = Decimal("0")
    rates: set[Decimal | None] = set()
    for i, r in enumerate(
        sorted(rows, key=lambda r: (int(dec(r.get("SORT"), "0")), int(dec(r.get("ID"), "0")))), start=1
    ):
        qty = dec(r.get("QUANTITY"), "1")
        price = dec(r.get("PRICE")).quantize(_CENT, rounding=ROUND_HALF_UP)
        line = (price * qty).quantize(_CENT, rounding=ROUND_HALF_UP)
        rate = dec(r.get("TAX_RATE")) if (vat_payer and r.get("TAX_RATE") not in (None, "")) else None
        vat = words.vat_amount(line, rate) if rate is not None else Decimal("0")
        rates.add(rate)
        total += line
        vat_total += vat
        out.append(
            {
                "n": i,
                "name": _s(r.get("PRODUCT_NAME")) or _s(r.get("ORIGINAL_PRODUCT_NAME")),
                "article": _s(r.get("XML_ID")),
                "quantity": number_text(qty),
                "measure": _s(r.get("MEASURE_NAME")) or "шт",
                "price": money(price),
                "sum": money(line),
                "vat_rate": f"{number_text(rate)} %" if rate is not None else "Без НДС",
                "vat_sum": money(vat),
            }
        )
    if not out:
        total = dec(fallback_amount).quantize(_CENT, rounding=ROUND_HALF_UP)
        if vat_payer and fallback_rate not in (None, ""):
            rate = dec(fallback_rate)
            vat_total = words.vat_amount(total, rate)
            rates = {rate}
        else:
            rates = {None}
    label = CURRENCY_SHORT.get(currency.upper(), currency)
    if rates == {None} or not vat_payer:
        vat_line = "НДС не облагается."
    elif len(rates) == 1:
        only = next(iter(rates))
        vat_line = f"в том числе НДС {number_text(only)} % — {money(vat_total)} {label}"
    else:
        vat_line = f"в том числе НДС — {money(vat_total)} {label}"
    totals = {
        "sum": money(total),
        "sum_words": words.amount_in_words_ru(total, currency),
        "vat": money(vat_total),
        "vat_words": words.amount_in_words_ru(vat_total, currency),
        "vat_line": vat_line,
        "without_vat": money(total - vat_total),
        "count": len(out),
        "amount": str(total),
        "currency": label,
    }
    return out, totals


# --- checks and context -----------------------------------------------------------------------------


def problems(
    data: DealData, t: dict[str, Any], seller: dict[str, Any], le_label: tuple[str, str], my_company_ref: str
) -> list[Missing]:
    """Everything the document would lack, per entity (empty list: all there)."""
    out: list[Missing] = []
    if not data.company_id:
        out.append(
            Missing(
                f"сделка {data.deal_id}", f"deal {data.deal_id}", ["компания клиента"], ["client company"]
            )
        )
    elif data.company is None:
        out.append(
            Missing(
                f"сделка {data.deal_id}",
                f"deal {data.deal_id}",
                [f"компания {data.company_id} не найдена"],
                [f"company {data.company_id} not found"],
            )
        )
    else:
        title = _s(data.company.get("TITLE")) or str(data.company_id)
        who_ru, who_en = (
            f"компания «{title}» (ID {data.company_id})",
            f"company '{title}' (ID {data.company_id})",
        )
        if data.requisite is None:
            out.append(
                Missing(
                    who_ru,
                    who_en,
                    ["реквизиты (ИНН, КПП, ОГРН, юридический адрес, банковские реквизиты)"],
                    ["requisites (INN, KPP, OGRN, legal address, bank details)"],
                    " — заполните реквизиты компании в CRM",
                    " — fill in the company's requisites in the CRM",
                )
            )
        else:
            buyer = party_from_requisite(data.requisite, data.company)
            keys = party_missing(buyer)
            if data.requisite.bank is None:
                keys = [k for k in keys if not k.startswith("bank.")] + ["bank"]
            if keys:
                ru = [_FIELD_LABELS[k][0] if k != "bank" else "банковские реквизиты" for k in keys]
                en = [_FIELD_LABELS[k][1] if k != "bank" else "bank details" for k in keys]
                out.append(
                    Missing(
                        who_ru,
                        who_en,
                        ru,
                        en,
                        " — заполните реквизиты компании в CRM",
                        " — fill in the company's requisites in the CRM",
                    )
                )
    keys = party_missing(seller)
    if keys:
        ru, en = _labels(keys)
        out.append(
            Missing(
                f"наше юрлицо {le_label[0]}{my_company_ref}",
                f"our legal entity {le_label[1]}{my_company_ref}",
                ru,
                en,
                " — заполните реквизиты нашей компании в CRM или в настройках (contracts.legal_entities)",
                " — fill in our company's requisites in the CRM or in settings (contracts.legal_entities)",
            )
        )
    if t.get("require_products") and not data.rows:
        out.append(
            Missing(
                f"сделка {data.deal_id}",
                f"deal {data.deal_id}",
                ["товары (нет ни одной позиции)"],
                ["product rows (none)"],
            )
        )
    currency = _s(data.deal.get("CURRENCY_ID")) or "RUB"
    if currency.upper() not in words.CURRENCIES:
        out.append(
            Missing(
                f"сделка {data.deal_id}",
                f"deal {data.deal_id}",
                [f"валюта {currency} не поддерживается ({', '.join(words.CURRENCIES)})"],
                [f"currency {currency} is not supported"],
            )
        )
    return out


def missing_error(found: list[Missing], lang: str, type_label: str) -> DataError:
    if lang == "en":
        head = f"Cannot make the document «{type_label}»: data is missing. "
        return DataError(head + "; ".join(m.text("en") for m in found))
    head = f"Нельзя сформировать документ «{type_label}»: не хватает данных. "
    return DataError(head + "; ".join(m.text("ru") for m in found))


class _Defaulting(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def payment_text(t: dict[str, Any], terms: dict[str, Any]) -> str:
    text = (
        _s(terms.get("payment_terms"))
        or PAYMENT_TEXTS.get(str(t.get("template") or t["code"]), "")
        or PAYMENT_TEXTS.get(t["code"], "")
    )
    return text.format_map(_Defaulting({k: _term_text(v) for k, v in terms.items()}))


def _term_text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else ("да" if value else "нет")
    if isinstance(value, int | float | Decimal):
        return number_text(value)
    return str(value)


def build_context(
    data: DealData,
    t: dict[str, Any],
    *,
    seller: dict[str, Any],
    number: str,
    contract_date: dt.date,
    le: dict[str, Any] | None,
    base_contract: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    type_label: str = "",
) -> dict[str, Any]:
    """The docxtpl context (see templates.py for the names)."""
    deal = data.deal
    currency = (_s(deal.get("CURRENCY_ID")) or "RUB").upper()
    vat_payer = bool((le or {}).get("vat_payer", True))
    rows, totals = rows_and_totals(
        data.rows,
        vat_payer=vat_payer,
        fallback_amount=deal.get("OPPORTUNITY"),
        fallback_rate=(le or {}).get("vat_rate", 20),
        currency=currency,
    )
    buyer = finish_party(party_from_requisite(data.requisite, data.company))
    terms = {k: v for k, v in (t.get("defaults") or {}).items() if k != "custom"}
    terms.update((t.get("defaults") or {}).get("custom") or {})
    if not terms.get("purchase_ref"):
        terms["purchase_ref"] = _s(deal.get("TITLE"))
    terms_out = {k: _term_text(v) for k, v in terms.items()}
    terms_out["payment_text"] = payment_text(t, terms)
    extra = dict(extra or {})
    debt = (
        dec(extra.get("debt"), totals["amount"])
        if extra.get("debt") not in (None, "")
        else dec(totals["amount"])
    )
    if base_contract:
        base_date = dt.date.fromisoformat(base_contract["date"])
        base = f"договор № {base_contract['number']} от {base_date.strftime('%d.%m.%Y')}"
    else:
        base = f"договор поставки (сделка «{_s(deal.get('TITLE'))}»)"
    contact = None
    if data.contact:
        c = data.contact
        full = " ".join(p for p in (_s(c.get("LAST_NAME")), _s(c.get("NAME")), _s(c.get("SECOND_NAME"))) if p)
        contact = {
            "full_name": full,
            "post": _s(c.get("POST")),
            "phone": _first_multi(c, "PHONE"),
            "email": _first_multi(c, "EMAIL"),
        }
    m = data.manager or {}
    manager = {
        "full_name": " ".join(
            p for p in (_s(m.get("LAST_NAME")), _s(m.get("NAME")), _s(m.get("SECOND_NAME"))) if p
        ),
        "phone": _s(m.get("WORK_PHONE")) or _s(m.get("PERSONAL_MOBILE")),
        "email": _s(m.get("EMAIL")),
    }
    return {
        "contract": {
            "number": number,
            "date": contract_date.isoformat(),
            "date_text": date_text(contract_date),
            "date_short": contract_date.strftime("%d.%m.%Y"),
            "year": contract_date.year,
            "type": t["code"],
            "type_label": type_label or t.get("label") or t["code"],
            "title": t.get("title") or "",
        },
        "seller": finish_party(dict(seller, code=(le or {}).get("code", ""))),
        "buyer": buyer,
        "contact": contact,
        "deal": {
            "id": data.deal_id,
            "title": _s(deal.get("TITLE")),
            "amount": totals["sum"],
            "currency": currency,
        },
        "rows": rows,
        "totals": totals,
        "terms": terms_out,
        "claim": {"debt": money(debt), "debt_words": words.amount_in_words_ru(debt, currency), "base": base},
        "manager": manager,
        "extra": extra,
    }


# --- rendering ----------------------------------------------------------------------------------------


def render(template: bytes, context: dict[str, Any], template_code: str = "") -> bytes:
    """The filled .docx; ConfigError naming the template when it cannot be rendered."""
    from docxtpl import DocxTemplate
    from jinja2 import TemplateError

    from b24app.contracts.templates import jinja_env

    try:
        tpl = DocxTemplate(io.BytesIO(template))
        tpl.render(context, jinja_env=jinja_env(), autoescape=True)
        out = io.BytesIO()
        tpl.save(out)
    except TemplateError as exc:
        raise ConfigError(
            f"шаблон «{template_code}» не заполняется: {exc} / template {template_code!r} "
            f"cannot be rendered: {exc}"
        ) from exc
    return out.getvalue()


def soffice_path() -> str | None:
    """LibreOffice's command when installed (``soffice`` or ``libreoffice`` on PATH)."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(docx: bytes, stem: str = "document") -> bytes | None:
    """The PDF of a .docx made by LibreOffice, or None when LibreOffice is absent or fails (logged).

    Each call uses its own LibreOffice profile directory, so conversions in parallel workers do not lock
    each other out.
    """
    cmd = soffice_path()
    if cmd is None:
        return None
    with tempfile.TemporaryDirectory(prefix="b24app-pdf-") as tmp:
        src = Path(tmp) / f"{stem}.docx"
        src.write_bytes(docx)
        profile = Path(tmp) / "profile"
        try:
            proc = subprocess.run(
                [
                    cmd,
                    f"-env:UserInstallation={profile.as_uri()}",
                    "--headless",
                    "--norestore",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    tmp,
                    str(src),
                ],
                capture_output=True,
                timeout=PDF_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("pdf conversion failed", extra={"error": str(exc)})
            return None
        pdf = Path(tmp) / f"{stem}.pdf"
        if proc.returncode != 0 or not pdf.is_file():
            log.warning(
                "pdf conversion failed",
                extra={"returncode": proc.returncode, "stderr": proc.stderr.decode(errors="replace")[-500:]},
            )
            return None
        return pdf.read_bytes()
