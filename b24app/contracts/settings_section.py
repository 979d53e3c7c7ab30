"""The "contracts" settings section: contract types, numbering, templates and our legal entities.

Example (YAML, the МеталПром demo in short)::

    contracts:
      default_legal_entity: MP
      legal_entities:
        - code: MP                 # stable code (the 1C sync routes by it)
          number_code: МП          # what {COMPANY} prints in a number
          inn: "7448053174"        # matches the deal's «Наша компания» (mycompanyId) by ИНН
          name: ООО «МеталПром»
          bank: {name: ..., bik: "047501602", account: "40702810172000031457", corr_account: ...}
      types:
        - code: prepayment
          format: "Д-{YY}/{SEQ:4}-{COMPANY}"
          per_legal_entity: true   # a sequence per legal entity
          reset: yearly            # yearly | monthly | never, in general.timezone
          defaults: {prepayment_days: 3}
      templates:
        supply_2027: {title: Договор поставки 2027, path: supply_2027.docx}  # inside B24APP_TEMPLATES_DIR

Every problem is reported with its path and a Russian and English text (``contracts.types[2].format:
неизвестный токен {NUMBER} (символ 3)``). Cross-field rules catch numbering that could repeat a number:
a yearly reset without the year in the format, a per-legal-entity sequence without ``{COMPANY}``, two
sequences whose numbers look alike, types sharing a sequence with different reset rules.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

from b24app.contracts import numbering
from b24app.contracts.templates import MAX_TEMPLATE_BYTES, template_bytes
from b24app.contracts.types import BUILTIN_CODES, default_types, effective_type
from b24app.settings.schema import MISSING, Bool, Int, Issues, List, Map, Num, Obj, Str

CODE_PATTERN = r"[a-z][a-z0-9_]{1,31}"
LEGAL_CODE_PATTERN = r"[A-Za-z][A-Za-z0-9_]{0,19}"

BANK = Obj(
    fields={
        "name": Str(default="", max_len=300, description="bank name"),
        "bik": Str(default="", pattern=r"\d{9}", description="БИК, 9 digits"),
        "account": Str(default="", pattern=r"\d{20}", description="расчётный счёт, 20 digits"),
        "corr_account": Str(default="", pattern=r"\d{20}", description="корреспондентский счёт, 20 digits"),
    }
)

LEGAL_ENTITY = Obj(
    fields={
        "code": Str(min_len=1, max_len=20, pattern=LEGAL_CODE_PATTERN, description="stable code, e.g. MP"),
        "number_code": Str(default="", max_len=20, description="what {COMPANY} prints; empty = code"),
        "company_id": Int(
            default=0, min=0, description="our company in the portal (IS_MY_COMPANY=Y); 0 = by ИНН"
        ),
        "name": Str(default="", max_len=300),
        "full_name": Str(default="", max_len=500),
        "inn": Str(default="", pattern=r"\d{10}|\d{12}", description="ИНН"),
        "kpp": Str(default="", pattern=r"\d{9}", description="КПП"),
        "ogrn": Str(default="", pattern=r"\d{13}|\d{15}", description="ОГРН / ОГРНИП"),
        "address": Str(default="", max_len=500, description="юридический адрес"),
        "city": Str(default="", max_len=100, description="city printed above the contract"),
        "director": Str(default="", max_len=200, description="full name of the head"),
        "director_position": Str(default="Генеральный директор", max_len=200),
        "acting_on": Str(default="Устава", max_len=200, description="the head acts on the basis of ..."),
        "accountant": Str(default="", max_len=200),
        "phone": Str(default="", max_len=100),
        "email": Str(default="", max_len=200),
        "vat_rate": Num(default=20, min=0, max=99, description="VAT for a deal without product rows"),
        "vat_payer": Bool(default=True, description="false: documents say «Без НДС»"),
        "bank": BANK,
    },
    required=("code",),
)


class OptionalObj(Obj):
    """An object that stays absent when not given (its fields' defaults are applied at use time)."""

    def default_value(self) -> Any:
        return MISSING


TERMS = OptionalObj(
    fields={
        "payment_terms": Str(max_len=2000, description="payment clause; {deferral_days} etc. are filled in"),
        "prepayment_days": Int(min=0, max=365),
        "deferral_days": Int(min=0, max=730),
        "payment_days": Int(min=0, max=365),
        "delivery_days": Int(min=0, max=730),
        "penalty_percent": Num(min=0, max=100),
        "discount_percent": Num(min=0, max=100),
        "territory": Str(max_len=500),
        "term_months": Int(min=1, max=600),
        "claim_days": Int(min=1, max=365),
        "purchase_ref": Str(max_len=500),
        "custom": Map(value=Str(max_len=2000), key_pattern=r"[a-z][a-z0-9_]{0,39}", default=MISSING),
    }
)
# A type keeps only what the administrator wrote: no defaults in TYPE/TERMS (see types.effective_type).

TYPE = Obj(
    fields={
        "code": Str(min_len=1, pattern=CODE_PATTERN, description="stable code: prepayment, deferred, ..."),
        "label": Str(min_len=1, max_len=100, description="name shown to users"),
        "enabled": Bool(),
        "prefix": Str(max_len=20),
        "format": Str(min_len=1, max_len=numbering.MAX_FORMAT_LENGTH, description="numbering format"),
        "reset": Str(choices=numbering.RESETS),
        "per_legal_entity": Bool(description="a separate sequence per our legal entity"),
        "sequence": Str(
            max_len=32,
            pattern=r"[a-z][a-z0-9_]{0,31}|",
            description="name of the sequence (types may share one); empty = the type code",
        ),
        "start": Int(min=0, max=10**9),
        "step": Int(min=1, max=1000),
        "template": Str(max_len=32, description="template code: a built-in type code or one of templates"),
        "title": Str(max_len=200, description="document title"),
        "legal_entity": Str(max_len=20, description="always this legal entity (code); empty = the deal's"),
        "write_deal_fields": Bool(description="write number, date, type into the deal's fields"),
        "require_products": Bool(description="refuse a deal without product rows"),
        "defaults": TERMS,
    },
    required=("code",),
)

TEMPLATE = Obj(
    fields={
        "title": Str(default="", max_len=200),
        "path": Str(default="", max_len=1000, description="a .docx file inside the folder B24APP_TEMPLATES_DIR (relative to it)"),
        "base64": Str(default="", max_len=MAX_TEMPLATE_BYTES * 2, description="the .docx itself, base64"),
    }
)


def check_docx(data: bytes) -> tuple[str, str] | None:
    """Why ``data`` is not a usable .docx template (None when it is)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if "word/document.xml" not in zf.namelist():
                return (
                    "это не файл Word .docx (нет word/document.xml)",
                    "not a Word .docx (no word/document.xml)",
                )
    except zipfile.BadZipFile:
        return ("это не файл Word .docx", "not a Word .docx file")
    from b24app.contracts.templates import template_problem

    return template_problem(data)


def _check_templates(value: dict[str, Any], path: str, issues: Issues) -> None:
    for code, tpl in (value.get("templates") or {}).items():
        if not isinstance(tpl, dict):
            continue
        where = f"{path}.templates.{code}" if path else f"templates.{code}"
        data, why = template_bytes(tpl)
        if why is None and data is not None:
            why = check_docx(data)
        if why is not None:
            issues.add(where, why[0], why[1])


_SAMPLE_AT = dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC)


def _check_types(value: dict[str, Any], path: str, issues: Issues) -> None:
    base = f"{path}.types" if path else "types"
    entities = [le for le in value.get("legal_entities") or [] if isinstance(le, dict)]
    codes = {str(le.get("code")) for le in entities}
    number_codes = [str(le.get("number_code") or le.get("code")) for le in entities]
    templates = set((value.get("templates") or {}).keys()) | set(BUILTIN_CODES)
    default_le = str(value.get("default_legal_entity") or "")
    if default_le and default_le not in codes:
        issues.add(
            f"{path}.default_legal_entity" if path else "default_legal_entity",
            f"юрлица с кодом «{default_le}» нет в legal_entities",
            f"no legal entity with code '{default_le}' in legal_entities",
        )
    sequences: dict[str, tuple[int, dict[str, Any]]] = {}
    samples: dict[str, tuple[int, str]] = {}
    for i, raw in enumerate(value.get("types") or []):
        if not isinstance(raw, dict) or not raw.get("code"):
            continue
        where = f"{base}[{i}]"
        t = effective_type(raw)
        try:
            nf = numbering.parse_format(t["format"])
        except numbering.NumberFormatError as exc:
            issues.add(f"{where}.format", exc.message, str(exc))
            continue
        for w in numbering.format_warnings(nf, t["reset"]):
            if w["code"] == "reset_without_period":
                issues.add(f"{where}.format", w["message"], w["message_en"])
        if "COMPANY" in nf.tokens and not entities:
            issues.add(
                f"{where}.format",
                "в формате есть {COMPANY}, а юрлица (legal_entities) не описаны",
                "the format uses {COMPANY} but no legal_entities are described",
            )
        if t["per_legal_entity"] and "COMPANY" not in nf.tokens:
            issues.add(
                f"{where}.format",
                "нумерация своя для каждого юрлица, но в номере нет {COMPANY}: номера юрлиц совпадут",
                "a sequence per legal entity needs {COMPANY} in the format, or numbers of the entities clash",
            )
        if "PREFIX" in nf.tokens and not t.get("prefix"):
            issues.add(
                f"{where}.prefix",
                "в формате есть {PREFIX}, а префикс не задан",
                "the format uses {PREFIX} but the prefix is empty",
            )
        if t["legal_entity"] and t["legal_entity"] not in codes:
            issues.add(
                f"{where}.legal_entity",
                f"юрлица с кодом «{t['legal_entity']}» нет в legal_entities",
                f"no legal entity with code '{t['legal_entity']}'",
            )
        if t["template"] not in templates:
            issues.add(
                f"{where}.template",
                f"шаблона «{t['template']}» нет: укажите код встроенного "
                "шаблона (prepayment, deferred, tender, government, dealer, claim) или из templates",
                f"no template '{t['template']}'",
            )
        seq_rule = (t["reset"], t["per_legal_entity"], t["start"], t["step"])
        prev = sequences.get(t["sequence"])
        if (
            prev is not None
            and (prev[1]["reset"], prev[1]["per_legal_entity"], prev[1]["start"], prev[1]["step"]) != seq_rule
        ):
            issues.add(
                f"{where}.sequence",
                f"последовательность «{t['sequence']}» общая с типом {prev[0] + 1}, но сброс, начало, шаг "
                "или разделение по юрлицам у них разные",
                f"sequence '{t['sequence']}' is shared with type {prev[0] + 1} but their reset, start, "
                "step or per-legal-entity setting differ",
            )
        sequences.setdefault(t["sequence"], (i, t))
        for company in number_codes or [""]:
            try:
                sample = numbering.render(
                    nf,
                    7,
                    _SAMPLE_AT,
                    "UTC",
                    prefix=t.get("prefix") or "P",
                    company=company or "C",
                    deal_id=1,
                    type_code=t["code"],
                )
            except numbering.NumberFormatError:
                continue
            other = samples.get(sample)
            if other is not None and other[1] != t["sequence"]:
                issues.add(
                    f"{where}.format",
                    f"номера этого типа совпадут с номерами типа {other[0] + 1} (например, {sample}): "
                    "измените префикс/формат или используйте общую последовательность (sequence)",
                    f"numbers of this type clash with type {other[0] + 1} (e.g. {sample}): change the "
                    "prefix/format or share the sequence",
                )
                break
            samples.setdefault(sample, (i, t["sequence"]))
    seen_nc: dict[str, int] = {}
    for i, nc in enumerate(number_codes):
        if nc in seen_nc:
            issues.add(
                f"{path}.legal_entities[{i}].number_code" if path else f"legal_entities[{i}].number_code",
                f"код для номера «{nc}» уже у юрлица {seen_nc[nc] + 1}",
                f"number code '{nc}' repeats legal entity {seen_nc[nc] + 1}",
            )
        seen_nc.setdefault(nc, i)


SCHEMA = Obj(
    fields={
        "enabled": Bool(default=True),
        "default_legal_entity": Str(default="", max_len=20, description="legal entity for deals without one"),
        "legal_entities": List(item=LEGAL_ENTITY, default=list, unique_by="code"),
        "types": List(item=TYPE, default=default_types, unique_by="code", max_items=50),
        "templates": Map(value=TEMPLATE, key_pattern=CODE_PATTERN, default=dict),
        "deal_folder": Str(
            default="Сделка {DEAL_ID}",
            min_len=1,
            max_len=100,
            description="Disk folder per deal in the app's storage",
        ),
    },
    rules=(_check_types, _check_templates),
)


# --- МеталПром demo ---------------------------------------------------------------------------------

DEMO_LEGAL_ENTITIES: list[dict[str, Any]] = [
    {
        "code": "MP",
        "number_code": "МП",
        "name": "ООО «МеталПром»",
        "full_name": "Общество с ограниченной ответственностью «МеталПром»",
        "inn": "7448053174",
        "kpp": "744801001",
        "ogrn": "1097448017666",
        "address": "454087, Челябинская область, г. Челябинск, Троицкий тракт, д. 11, стр. 2",
        "city": "Челябинск",
        "director": "Сергеев Андрей Николаевич",
        "director_position": "Генеральный директор",
        "accountant": "Николаева Марина Петровна",
        "phone": "+7 (351) 220-45-67",
        "email": "info@metalprom.ru",
        "bank": {
            "name": "Челябинское отделение № 8597 ПАО Сбербанк",
            "bik": "047501602",
            "account": "40702810172000031457",
            "corr_account": "30101810700000000602",
        },
    },
    {
        "code": "MPT",
        "number_code": "МПТ",
        "name": "ООО «МеталПром Трейд»",
        "full_name": "Общество с ограниченной ответственностью «МеталПром Трейд»",
        "inn": "6671438065",
        "kpp": "667101001",
        "ogrn": "1166671029832",
        "address": "620075, Свердловская область, г. Екатеринбург, ул. Бажова, д. 68, оф. 305",
        "city": "Екатеринбург",
        "director": "Мельникова Татьяна Юрьевна",
        "director_position": "Директор",
        "accountant": "Николаева Марина Петровна",
        "phone": "+7 (343) 310-27-40",
        "email": "td@metalprom-trade.ru",
        "bank": {
            "name": "Филиал «Екатеринбургский» АО «Альфа-Банк»",
            "bik": "046577964",
            "account": "40702810303830000217",
            "corr_account": "30101810100000000964",
        },
    },
]

DEMO_TYPES: list[dict[str, Any]] = [
    {
        "code": "prepayment",
        "format": "Д-{YY}/{SEQ:4}-{COMPANY}",
        "per_legal_entity": True,
        "reset": "yearly",
        "defaults": {"prepayment_days": 3, "delivery_days": 10},
    },
    {
        "code": "deferred",
        "format": "ДО-{YY}/{SEQ:4}-{COMPANY}",
        "per_legal_entity": True,
        "reset": "yearly",
        "defaults": {"deferral_days": 30, "delivery_days": 10},
    },
    {
        "code": "tender",
        "format": "Т-{YY}/{SEQ:3}-{COMPANY}",
        "per_legal_entity": True,
        "reset": "yearly",
        "legal_entity": "MP",
        "defaults": {"deferral_days": 15},
    },
    {
        "code": "government",
        "format": "ГК-{YYYY}/{SEQ:3}-{COMPANY}",
        "per_legal_entity": True,
        "reset": "yearly",
        "legal_entity": "MP",
        "defaults": {"payment_days": 7},
    },
    {
        "code": "dealer",
        "format": "ДД-{YY}/{SEQ:3}-{COMPANY}",
        "per_legal_entity": True,
        "reset": "never",
        "defaults": {"discount_percent": 7, "territory": "Челябинская и Свердловская области"},
    },
    {
        "code": "claim",
        "format": "П-{YY}{MM}/{SEQ:3}-{COMPANY}",
        "per_legal_entity": True,
        "reset": "monthly",
        "defaults": {"claim_days": 10, "penalty_percent": 0.1},
    },
]


def demo(facts: dict[str, Any]) -> dict[str, Any]:
    """МеталПром: two legal entities (МП, МПТ) found by ИНН, the six types numbered per legal entity."""
    return {
        "enabled": True,
        "default_legal_entity": "MP",
        "legal_entities": [dict(le, bank=dict(le["bank"])) for le in DEMO_LEGAL_ENTITIES],
        "types": [dict(t, defaults=dict(t["defaults"])) for t in DEMO_TYPES],
        "templates": {},
        "deal_folder": "Сделка {DEAL_ID}",
    }
