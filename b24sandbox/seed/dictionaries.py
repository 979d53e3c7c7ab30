"""The CRM dictionaries of the МеталПром portal (crm.status entries) and the funnel orders derived
from them: lead statuses, sources, deal types, the three deal funnels and the smart-invoice stages.

Each entry is ``(STATUS_ID, NAME, SEMANTICS, COLOR)``; :func:`statuses` renders them in the seed
format (``ENTITY_ID``, ``SORT`` by 10s, ``CATEGORY_ID``).
"""

from __future__ import annotations

from typing import Any

Entry = tuple[str, str, str, str]

LEAD_STATUSES: tuple[Entry, ...] = (
    ("NEW", "Новый", "process", "#39A8EF"),
    ("IN_PROCESS", "В обработке", "process", "#2FC6F6"),
    ("JUNK", "Некачественный лид", "failure", "#FF5752"),
    ("CONVERTED", "Конвертирован", "success", "#7BD500"),
)

SOURCES: tuple[Entry, ...] = (
    ("UC_YANDEX", "Яндекс", "process", ""),
    ("UC_GOOGLE", "Google Ads", "process", ""),
    ("UC_SOCIAL", "Соц-сети", "process", ""),
    ("UC_SEO", "SEO", "process", ""),
    ("EMAIL", "E-mail", "process", ""),
    ("CALL", "Телефон", "process", ""),
    ("WEBFORM", "Форма на сайте", "process", ""),
    ("UC_CHATBOT", "Чат-бот", "process", ""),
)
SOURCE_IDS: tuple[str, ...] = tuple(s[0] for s in SOURCES)
PAID_SOURCES: tuple[str, ...] = ("UC_YANDEX", "UC_GOOGLE", "UC_SOCIAL")

DEAL_TYPES: tuple[Entry, ...] = (
    ("SALE", "Продажа", "process", ""),
    ("GOODS", "Продажа товара", "process", ""),
    ("COMPLEX", "Комплексная продажа", "process", ""),
    ("SERVICES", "Продажа услуги", "process", ""),
    ("SERVICE", "Сервисное обслуживание", "process", ""),
)

COMPANY_TYPES: tuple[Entry, ...] = (
    ("CUSTOMER", "Клиент", "process", ""),
    ("SUPPLIER", "Поставщик", "process", ""),
    ("PARTNER", "Партнер", "process", ""),
    ("COMPETITOR", "Конкурент", "process", ""),
    ("OTHER", "Другое", "process", ""),
)

INDUSTRIES: tuple[Entry, ...] = (
    ("MANUFACTURING", "Производство", "process", ""),
    ("UC_CONSTRUCTION", "Строительство", "process", ""),
    ("UC_TRADE", "Оптовая торговля", "process", ""),
    ("DELIVERY", "Доставка", "process", ""),
    ("GOVERNMENT", "Государственные организации", "process", ""),
    ("OTHER", "Другое", "process", ""),
)

DEAL_STAGES_0: tuple[Entry, ...] = (
    ("NEW", "Новая сделка", "process", "#39A8EF"),
    ("PREPARATION", "Подготовка счета", "process", "#2FC6F6"),
    ("UC_APPROVAL", "Согласование счета", "process", "#55D0E0"),
    ("UC_CONTRACT", "Подготовка договора", "process", "#47E4C2"),
    ("UC_DOCS", "Подготовка документов", "process", "#FFA900"),
    ("UC_AWAIT_PAYMENT", "Ожидание оплаты", "process", "#FFD000"),
    ("UC_PARTIAL_PAID", "Частичное подтверждение оплаты", "process", "#E0C44D"),
    ("UC_PAID", "Подтверждение оплаты", "process", "#C9D900"),
    ("UC_SHIPMENT", "Отгрузка", "process", "#9DCF00"),
    ("WON", "Сделка заключена", "success", "#7BD500"),
    ("LOSE", "Сделка не заключена", "failure", "#FF5752"),
)

DEAL_STAGES_1: tuple[Entry, ...] = (
    ("C1:NEW", "Новый тендер", "process", "#39A8EF"),
    ("C1:PREPARATION", "Подготовка заявки", "process", "#2FC6F6"),
    ("C1:UC_BID", "Заявка подана", "process", "#FFA900"),
    ("C1:WON", "Тендер выигран", "success", "#7BD500"),
    ("C1:LOSE", "Тендер проигран", "failure", "#FF5752"),
)

DEAL_STAGES_2: tuple[Entry, ...] = (
    ("C2:NEW", "Досудебная претензия", "process", "#FFA900"),
    ("C2:UC_COURT", "Судебное взыскание", "process", "#FF7A00"),
    ("C2:WON", "Долг погашен", "success", "#7BD500"),
    ("C2:LOSE", "Списано", "failure", "#FF5752"),
)

SMART_INVOICE_STAGES_1: tuple[Entry, ...] = (
    ("DT31_1:N", "Новый", "process", "#39A8EF"),
    ("DT31_1:S", "Отправлен клиенту", "process", "#2FC6F6"),
    ("DT31_1:UC_PARTIAL", "Оплачен частично", "process", "#FFD000"),
    ("DT31_1:P", "Оплачен", "success", "#7BD500"),
    ("DT31_1:D", "Отклонён", "failure", "#FF5752"),
)

DEAL_CATEGORIES: tuple[dict[str, Any], ...] = (
    {"ID": 0, "NAME": "Продажи", "SORT": 100, "IS_DEFAULT": True},
    {"ID": 1, "NAME": "Тендеры", "SORT": 200, "IS_DEFAULT": False},
    {"ID": 2, "NAME": "Претензионная работа", "SORT": 300, "IS_DEFAULT": False},
)

FUNNELS: dict[int, tuple[Entry, ...]] = {0: DEAL_STAGES_0, 1: DEAL_STAGES_1, 2: DEAL_STAGES_2}


def stage_ids(entries: tuple[Entry, ...]) -> list[str]:
    """STATUS_IDs of a funnel in funnel order (process stages first, then success, then failure)."""
    return [e[0] for e in entries]


def semantics_of(entries: tuple[Entry, ...]) -> dict[str, str]:
    return {e[0]: e[2] for e in entries}


def _render(entity_id: str, entries: tuple[Entry, ...], category_id: int | None) -> list[dict[str, Any]]:
    return [
        {
            "ENTITY_ID": entity_id,
            "STATUS_ID": status_id,
            "NAME": name,
            "SORT": (i + 1) * 10,
            "SEMANTICS": semantics,
            "COLOR": color,
            "CATEGORY_ID": category_id,
        }
        for i, (status_id, name, semantics, color) in enumerate(entries)
    ]


def statuses() -> list[dict[str, Any]]:
    """All crm.status entries of the МеталПром portal in the seed format."""
    out: list[dict[str, Any]] = []
    out += _render("STATUS", LEAD_STATUSES, None)
    out += _render("SOURCE", SOURCES, None)
    out += _render("DEAL_TYPE", DEAL_TYPES, None)
    out += _render("COMPANY_TYPE", COMPANY_TYPES, None)
    out += _render("INDUSTRY", INDUSTRIES, None)
    out += _render("DEAL_STAGE", DEAL_STAGES_0, None)
    out += _render("DEAL_STAGE_1", DEAL_STAGES_1, 1)
    out += _render("DEAL_STAGE_2", DEAL_STAGES_2, 2)
    out += _render("SMART_INVOICE_STAGE_1", SMART_INVOICE_STAGES_1, 1)
    return out
