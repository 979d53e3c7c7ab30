"""МеталПром's product catalogue: rolled metal, profile pipe, metal structures, fasteners and two
services. Prices are per unit in roubles including 20 % VAT; ``XML_ID`` is the article the 1C bases
use as the item code (Номенклатура.Артикул), so deals map to 1C items by article.

Each item also has a group (used to title deals and pick plausible row sets) and a quantity range
typical for one order line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Item:
    id: int
    article: str
    name: str
    price: float
    measure: str
    group: str  # ARM, LIST, TRUBA, MK, KREP, SERV
    qty_min: float
    qty_max: float
    qty_step: float
    vat: int = 20


ITEMS: tuple[Item, ...] = (
    Item(1, "MP-ARM-08", "Арматура А500С Ø8 мм", 61900.0, "т", "ARM", 0.5, 12, 0.1),
    Item(2, "MP-ARM-10", "Арматура А500С Ø10 мм", 59800.0, "т", "ARM", 0.5, 15, 0.1),
    Item(3, "MP-ARM-12", "Арматура А500С Ø12 мм", 58400.0, "т", "ARM", 1, 25, 0.1),
    Item(4, "MP-ARM-14", "Арматура А500С Ø14 мм", 57900.0, "т", "ARM", 1, 25, 0.1),
    Item(5, "MP-ARM-16", "Арматура А500С Ø16 мм", 57600.0, "т", "ARM", 1, 30, 0.1),
    Item(6, "MP-ARM-20", "Арматура А500С Ø20 мм", 57900.0, "т", "ARM", 1, 30, 0.1),
    Item(7, "MP-LST-02", "Лист горячекатаный 2 мм, 1250×2500", 74500.0, "т", "LIST", 0.5, 10, 0.1),
    Item(8, "MP-LST-04", "Лист горячекатаный 4 мм, 1500×6000", 71200.0, "т", "LIST", 0.5, 15, 0.1),
    Item(9, "MP-LST-08", "Лист горячекатаный 8 мм, 1500×6000", 69800.0, "т", "LIST", 1, 20, 0.1),
    Item(10, "MP-LST-12", "Лист горячекатаный 12 мм, 2000×6000", 70400.0, "т", "LIST", 1, 20, 0.1),
    Item(11, "MP-LST-OC05", "Лист оцинкованный 0,5 мм", 98600.0, "т", "LIST", 0.3, 6, 0.1),
    Item(12, "MP-TRB-4020", "Труба профильная 40×20×2 мм", 168.0, "м", "TRUBA", 60, 3000, 6),
    Item(13, "MP-TRB-6040", "Труба профильная 60×40×3 мм", 392.0, "м", "TRUBA", 60, 2400, 6),
    Item(14, "MP-TRB-8080", "Труба профильная 80×80×4 мм", 815.0, "м", "TRUBA", 36, 1200, 6),
    Item(15, "MP-TRB-100", "Труба профильная 100×100×4 мм", 1048.0, "м", "TRUBA", 36, 1200, 6),
    Item(16, "MP-MK-FS18", "Ферма стропильная ФС-18", 186500.0, "шт", "MK", 1, 12, 1),
    Item(17, "MP-MK-K1", "Колонна стальная К-1 (двутавр 30К1)", 64300.0, "шт", "MK", 2, 24, 1),
    Item(18, "MP-MK-B20", "Балка двутавровая 20Б1", 89900.0, "т", "MK", 0.5, 12, 0.1),
    Item(19, "MP-MK-LM1", "Лестничный марш ЛМ-1 с ограждением", 48700.0, "шт", "MK", 1, 8, 1),
    Item(20, "MP-MK-ZD101", "Закладная деталь МН-101", 860.0, "шт", "MK", 20, 600, 10),
    Item(21, "MP-KRP-B16", "Болт М16×60 ГОСТ 7798-70 (уп. 25 кг)", 6450.0, "упак", "KREP", 1, 40, 1),
    Item(22, "MP-KRP-A24", "Болт фундаментный М24×800", 420.0, "шт", "KREP", 8, 400, 4),
    Item(23, "MP-KRP-SR55", "Саморез кровельный 5,5×25 (уп. 250 шт)", 780.0, "упак", "KREP", 4, 120, 2),
    Item(24, "MP-SRV-CUT", "Резка металла в размер", 35.0, "рез", "SERV", 20, 800, 10),
    Item(25, "MP-SRV-DLV", "Доставка манипулятором по городу", 9500.0, "рейс", "SERV", 1, 6, 1),
)

ITEM_BY_ID: dict[int, Item] = {i.id: i for i in ITEMS}

GROUP_TITLES: dict[str, str] = {
    "ARM": "Поставка арматуры",
    "LIST": "Поставка листового проката",
    "TRUBA": "Поставка профильной трубы",
    "MK": "Изготовление металлоконструкций",
    "KREP": "Поставка крепежа",
    "SERV": "Резка и доставка металла",
}

GROUP_NEEDS: dict[str, tuple[str, ...]] = {
    "ARM": (
        "Нужна арматура А500С 12 мм, около {q} т, с доставкой",
        "Запрос цены на арматуру 10-16 мм на объект, объём {q} т",
        "Арматура для фундамента, {q} т, нужен счёт",
    ),
    "LIST": (
        "Интересует лист г/к 4-8 мм, {q} т, резка в размер",
        "Нужен оцинкованный лист 0,5 мм, {q} т",
        "Прошу КП на листовой прокат, {q} т",
    ),
    "TRUBA": (
        "Профильная труба 60×40 и 80×80, примерно {q} т",
        "Нужна профтруба 40×20 на навесы, {q} т",
    ),
    "MK": (
        "Нужен каркас склада 24×48 м, прошу расчёт металлоконструкций",
        "Изготовление ферм ФС-18 и колонн под ангар",
        "Лестничные марши и закладные для ЖК, прошу КП",
    ),
    "KREP": (
        "Фундаментные болты М24, около 200 шт",
        "Крепёж для кровли, саморезы и болты, прошу прайс",
    ),
    "SERV": ("Нужна резка листа по чертежам и доставка",),
}


def products() -> list[dict[str, Any]]:
    """The catalogue in the seed format (crm.product fields + ``XML_ID`` = article)."""
    return [
        {
            "ID": i.id,
            "NAME": i.name,
            "PRICE": i.price,
            "CURRENCY_ID": "RUB",
            "VAT_RATE": i.vat,
            "MEASURE_NAME": i.measure,
            "XML_ID": i.article,
        }
        for i in ITEMS
    ]
