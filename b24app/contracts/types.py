"""The built-in contract types and how a configured type is completed with their defaults.

Six types have stable codes that automation, the 1C sync and the stages feature rely on:

==============  ==========================  ===========================================
code            label (Russian)             document
==============  ==========================  ===========================================
``prepayment``  100% предоплата             Договор поставки (оплата до отгрузки)
``deferred``    Отсрочка платежа            Договор поставки с отсрочкой платежа
``tender``      Тендерный контракт          Договор поставки по итогам закупки
``government``  Государственный контракт    Государственный контракт (44-ФЗ)
``dealer``      Дилерский договор           Дилерский договор
``claim``       Досудебная претензия        Претензия (не договор: письмо должнику)
==============  ==========================  ===========================================

A type in the settings document holds only what the administrator wrote; :func:`effective_type` fills
the rest from the built-in type of the same code (or from the generic defaults for a custom type), so
an exported settings file stays short and a later change of a built-in default reaches every portal
that did not override it. Pure: no I/O.
"""

from __future__ import annotations

import copy
from typing import Any

BUILTIN_CODES = ("prepayment", "deferred", "tender", "government", "dealer", "claim")

LABELS_RU = {
    "prepayment": "100% предоплата",
    "deferred": "Отсрочка платежа",
    "tender": "Тендерный контракт",
    "government": "Государственный контракт",
    "dealer": "Дилерский договор",
    "claim": "Досудебная претензия",
}
LABELS_EN = {
    "prepayment": "100% prepayment",
    "deferred": "Deferred payment",
    "tender": "Tender contract",
    "government": "Government contract",
    "dealer": "Dealer agreement",
    "claim": "Pre-trial claim",
}

# What every type has unless the settings say otherwise.
GENERIC: dict[str, Any] = {
    "enabled": True,
    "prefix": "",
    "reset": "yearly",
    "per_legal_entity": False,
    "sequence": "",
    "start": 1,
    "step": 1,
    "legal_entity": "",
    "write_deal_fields": True,
    "require_products": True,
    "defaults": {},
}

# Terms each type's document uses (the settings may override any of them per type).
_TERMS: dict[str, dict[str, Any]] = {
    "prepayment": {"prepayment_days": 3, "delivery_days": 10, "penalty_percent": 0.1},
    "deferred": {"deferral_days": 30, "delivery_days": 10, "penalty_percent": 0.1},
    "tender": {"deferral_days": 15, "delivery_days": 20, "penalty_percent": 0.1, "purchase_ref": ""},
    "government": {"payment_days": 7, "delivery_days": 30, "penalty_percent": 0.1, "purchase_ref": ""},
    "dealer": {
        "discount_percent": 5,
        "deferral_days": 14,
        "territory": "Уральский федеральный округ",
        "term_months": 12,
    },
    "claim": {"claim_days": 10, "penalty_percent": 0.1},
}

BUILTIN: dict[str, dict[str, Any]] = {
    "prepayment": {
        "label": LABELS_RU["prepayment"],
        "prefix": "Д",
        "format": "{PREFIX}-{YY}/{SEQ:4}",
        "title": "Договор поставки",
        "template": "prepayment",
    },
    "deferred": {
        "label": LABELS_RU["deferred"],
        "prefix": "ДО",
        "format": "{PREFIX}-{YY}/{SEQ:4}",
        "title": "Договор поставки с отсрочкой платежа",
        "template": "deferred",
    },
    "tender": {
        "label": LABELS_RU["tender"],
        "prefix": "Т",
        "format": "{PREFIX}-{YY}/{SEQ:3}",
        "title": "Договор поставки по итогам закупки",
        "template": "tender",
    },
    "government": {
        "label": LABELS_RU["government"],
        "prefix": "ГК",
        "format": "{PREFIX}-{YYYY}/{SEQ:3}",
        "title": "Государственный контракт",
        "template": "government",
    },
    "dealer": {
        "label": LABELS_RU["dealer"],
        "prefix": "ДД",
        "format": "{PREFIX}-{YY}/{SEQ:3}",
        "title": "Дилерский договор",
        "template": "dealer",
        "require_products": False,
    },
    "claim": {
        "label": LABELS_RU["claim"],
        "prefix": "П",
        "format": "{PREFIX}-{YY}/{SEQ:3}",
        "title": "Досудебная претензия",
        "template": "claim",
        "require_products": False,
        "write_deal_fields": False,
    },
}


def builtin_terms(code: str) -> dict[str, Any]:
    return dict(_TERMS.get(code, {}))


def default_types() -> list[dict[str, Any]]:
    """The ``types`` list of a fresh settings document: the six built-in types by code only."""
    return [{"code": code} for code in BUILTIN_CODES]


def effective_type(configured: dict[str, Any]) -> dict[str, Any]:
    """A configured type completed with the built-in values of its code and the generic defaults.

    ``defaults`` (the document's terms) are merged key by key: the built-in terms of the code, then what
    the settings give. ``sequence`` empty means the type's own code.
    """
    code = str(configured["code"])
    out: dict[str, Any] = copy.deepcopy(GENERIC)
    out.update(copy.deepcopy(BUILTIN.get(code, {})))
    given = {k: v for k, v in configured.items() if v is not None}
    terms = builtin_terms(code)
    terms.update({k: v for k, v in (given.pop("defaults", None) or {}).items() if v is not None})
    out.update(given)
    out.setdefault("label", code)
    out.setdefault("title", out["label"])
    out.setdefault("template", code if code in BUILTIN else "")
    out.setdefault("format", "{PREFIX}-{YY}/{SEQ:4}" if out.get("prefix") else "{YY}/{SEQ:4}")
    out["defaults"] = terms
    out["code"] = code
    out["sequence"] = out.get("sequence") or code
    return out


def label(code: str, lang: str = "ru") -> str:
    table = LABELS_EN if lang == "en" else LABELS_RU
    return table.get(code, code)
