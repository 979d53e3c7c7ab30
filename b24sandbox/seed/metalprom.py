"""The МеталПром demo portal: who is who, what the data holds and what the demo shows.

``build(rng_seed=1, today=None)`` returns the whole seed as plain JSON-able data in the shared seed
format (see /tmp/b24team/seed_format.md); ``build()["story"]`` names the IDs the demo and the
scenario tests need. Everything is deterministic for a given ``(rng_seed, today)``.

Dates
    All dates are relative to ``today`` (default ``date.today()``), so the demo stays meaningful
    whenever it runs: CRM history covers the 182 days before today and ends yesterday (nothing lies
    in the future except planned close dates, invoice due dates and absences). Times are Moscow time
    (+03:00), mostly in working hours (Mon–Fri 08:30–19:00); some web and chat-bot leads arrive in the
    evening, at night or at the weekend.

The company
    ООО «МеталПром» (Челябинск) makes metal products — арматура, металлоконструкции — and sells them
    with rolled sheet, profile pipe and fasteners; its trading house ООО «МеталПром Трейд»
    (Екатеринбург) resells rolled sheet, pipe and fasteners. Two legal entities, two 1C bases:
    ``metalprom_main`` (1С:Бухгалтерия предприятия 3.0, profile "bp30") for МеталПром and
    ``metalprom_trade`` (1С:Управление торговлей 11, profile "ut11") for the trading house. The
    payroll base (1С:ЗУП) exists in the story but is not connected to sales and is not emulated.
    A deal belongs to one legal entity (``MYCOMPANY_ID``): арматура, металлоконструкции, tenders and
    claims go through МеталПром; sheet, pipe and fasteners through the trading house. So the 1C sync
    routes each deal to one of the two bases.

People (user IDs are fixed)
    1 Сергеев Андрей Николаевич — генеральный директор, portal administrator (IS_ADMIN).
    2 Смирнова Ольга Викторовна — руководитель отдела продаж, head (UF_HEAD) of Отдел продаж.
    3 Иванов Иван Сергеевич — менеджер, Отдел продаж. On vacation from today-2 to today+5, work day
      closed (timeman CLOSED): the distribution must skip him.
    4 Петров Иван Алексеевич — менеджер, Отдел продаж.
    5 Зуева Софья Андреевна — менеджер, Группа интернет-продаж (a sub-department of Отдел продаж
      without its own head, so her head is found one level up: Смирнова).
    6 Лебедева Анна Игоревна — юрист (head of Юридический отдел): contract and claim tasks.
    7 Николаева Марина Петровна — главный бухгалтер (Бухгалтерия), posts payments in both 1C bases.
    8 Орлов Дмитрий Викторович — специалист отдела контроля качества: the QC queue for e-mail and
      site-form leads.
    9 Козлов Сергей Петрович — a former manager (ACTIVE false); he still owns two clients, a few of
      their deals and two leads in work — the "leaver's forgotten items" case.
    Departments: 1 ООО «МеталПром» (root, head 1) > 2 Отдел продаж (head 2) > 3 Группа интернет-продаж
    (no head); 4 Юридический отдел (head 6), 5 Бухгалтерия (head 7), 6 Отдел контроля качества (head 8).

Dictionaries
    Lead sources Яндекс, Google Ads, Соц-сети, SEO, E-mail, Телефон, Форма на сайте, Чат-бот; lead
    statuses Новый, В обработке, Некачественный лид, Конвертирован; the sales funnel (0) Новая сделка
    -> Подготовка счета -> Согласование счета -> Подготовка договора -> Подготовка документов ->
    Ожидание оплаты -> Частичное подтверждение оплаты -> Подтверждение оплаты -> Отгрузка -> Сделка
    заключена / Сделка не заключена; the funnels Тендеры (1) and Претензионная работа (2); the
    smart-invoice stages Новый, Отправлен клиенту, Оплачен частично, Оплачен, Отклонён.

CRM data (counts are exact and tested)
    * 25 products with articles (XML_ID "MP-ARM-12" ...), prices with 20 % VAT.
    * 30 client companies (ООО, АО and four ИП) in the Urals and beyond, each with a requisite (valid
      ИНН, КПП, ОГРН/ОГРНИП, director, legal address, a bank account with a valid БИК and control
      keys) and 1–3 contacts; plus one new client, ООО «Новый Горизонт», whose requisites are not
      filled in yet (``story.incomplete_company_id``): issuing a contract for its deal must report the
      missing requisites clearly.
    * 120 leads: 28 Новый, 32 В обработке, 28 Некачественный лид (reason in COMMENTS), 32
      Конвертирован (each linked to its contact, company and the deal it became). Twelve new leads
      from the last days are not distributed yet (owned by the administrator, ``story.
      undistributed_lead_ids``); among them the repeat clients (a lead whose phone is an existing
      contact's phone written in another format — the contact's owner Петров is available, Иванов is
      on vacation; and one matched by e-mail in another letter case) and two duplicate pairs from two
      channels (site form + chat-bot the same evening; e-mail + phone call). Two new leads wait in
      the QC queue (owner 8).
    * 71 deals: 60 in the sales funnel (every stage populated: 6/6/5/5/5/6/4/4/4, 10 won, 5 lost),
      6 tenders (every stage) and 5 claims (every stage; these deals started in the sales funnel and
      were moved to Претензионная работа, so their history spans both funnels). 1–5 product rows
      each, amounts from tens of thousands to a few million roubles, owners = the client's owner.
      Stage histories over the last six months move in funnel order with occasional jumps and
      returns, and end at the current stage.
    * Smart invoices (entity 31) for deals that reached Ожидание оплаты (and drafts for two deals in
      Подготовка документов); payments for partially and fully paid invoices. Invoices of two deals
      in Ожидание оплаты and of the older partly paid deals are past due (``story.overdue_deal_ids``):
      the overdue-payment path has work to do. ``story.claims`` lists each claim's invoice and debt.
    * Ad spend per paid source and month (for channel ROI).

What the demo shows (features of the later issues)
    Distribution: Яндекс/Google Ads to Петров and Зуева 2:1, Соц-сети/SEO to the least loaded, e-mail
    and site form through QC; Иванов (absent) and Козлов (inactive) get nothing; repeat clients go to
    their owner (or to the pool when the owner is absent); duplicates are detected. Stage tasks: the
    head approves invoices, the lawyer prepares contracts, managers call about payment. Contracts
    numbered per type and legal entity with the client's requisites. 1C: invoices go to the right
    base, payments move deals to Частичное подтверждение оплаты / Подтверждение оплаты. Analytics:
    lead and deal funnels, managers, channels with ROI, time in stage.

Keys beyond the shared format (consumers may ignore them): deals carry ``TYPE_ID`` and
``MYCOMPANY_ID``; deal history rows carry ``CATEGORY_ID``; requisites of an ИП carry
``RQ_LAST_NAME``/``RQ_FIRST_NAME``/``RQ_SECOND_NAME``; requisite addresses carry ``TYPE_ID`` (6 =
legal address) and ``PROVINCE``; top-level ``smart_invoices`` (crm.item fields of entity 31, camelCase,
with ``ID``), ``payments``, ``ad_spend`` and ``story``. Claim deals' product rows are the sold goods.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from . import checksums as cs
from .catalog import GROUP_TITLES, products
from .dictionaries import (
    DEAL_CATEGORIES,
    DEAL_STAGES_0,
    DEAL_STAGES_1,
    SOURCE_IDS,
    stage_ids,
    statuses,
)
from .generator import (
    DEFAULT_SOURCE_WEIGHTS,
    _Contacts,
    _landline_text,
    _LeadFactory,
    company_domain,
    default_period,
    make_requisite,
    product_rows,
    random_person,
    rows_total,
)
from .names import Person, person
from .phones import FORMATS, format_phone, normalize_phone, phone_format_of
from .places import BANKS, CITY_BY_NAME, City
from .timeline import DAY_LEN_S, Timeline, iso_date, stage_path

__all__ = [
    "ACCOUNTANT_ID",
    "ADMIN_ID",
    "DEAL_STAGE_COUNTS",
    "FORMER_MANAGER_ID",
    "HEAD_OF_SALES_ID",
    "IVANOV_ID",
    "LAWYER_ID",
    "LEAD_STATUS_COUNTS",
    "MANAGER_IDS",
    "MPT_ID",
    "MP_ID",
    "PETROV_ID",
    "QC_ID",
    "ZUEVA_ID",
    "build",
]

ADMIN_ID, HEAD_OF_SALES_ID, IVANOV_ID, PETROV_ID, ZUEVA_ID = 1, 2, 3, 4, 5
LAWYER_ID, ACCOUNTANT_ID, QC_ID, FORMER_MANAGER_ID = 6, 7, 8, 9
MANAGER_IDS: tuple[int, ...] = (IVANOV_ID, PETROV_ID, ZUEVA_ID)
MP_ID, MPT_ID = 1, 2  # company IDs of our legal entities
DEPT_ROOT, DEPT_SALES, DEPT_ONLINE, DEPT_LEGAL, DEPT_ACCOUNTING, DEPT_QC = 1, 2, 3, 4, 5, 6

LEAD_STATUS_COUNTS: dict[str, int] = {"NEW": 28, "IN_PROCESS": 32, "JUNK": 28, "CONVERTED": 32}
DEAL_STAGE_COUNTS: dict[int, dict[str, int]] = {
    0: {
        "NEW": 6, "PREPARATION": 6, "UC_APPROVAL": 5, "UC_CONTRACT": 5, "UC_DOCS": 5,
        "UC_AWAIT_PAYMENT": 6, "UC_PARTIAL_PAID": 4, "UC_PAID": 4, "UC_SHIPMENT": 4, "WON": 10, "LOSE": 5,
    },
    1: {"C1:NEW": 1, "C1:PREPARATION": 1, "C1:UC_BID": 2, "C1:WON": 1, "C1:LOSE": 1},
    2: {"C2:NEW": 2, "C2:UC_COURT": 1, "C2:WON": 1, "C2:LOSE": 1},
}

_USERS: tuple[tuple[int, Person, str, int, bool, bool, str], ...] = (
    # id, person, position, department, active, admin, login
    (ADMIN_ID, person("Сергеев", "Андрей", "Николаевич", "M"), "Генеральный директор", DEPT_ROOT, True, True,
     "a.sergeev"),
    (HEAD_OF_SALES_ID, person("Смирнова", "Ольга", "Викторовна", "F"), "Руководитель отдела продаж", DEPT_SALES,
     True, False, "o.smirnova"),
    (IVANOV_ID, person("Иванов", "Иван", "Сергеевич", "M"), "Менеджер по продажам", DEPT_SALES, True, False,
     "i.ivanov"),
    (PETROV_ID, person("Петров", "Иван", "Алексеевич", "M"), "Менеджер по продажам", DEPT_SALES, True, False,
     "i.petrov"),
    (ZUEVA_ID, person("Зуева", "Софья", "Андреевна", "F"), "Менеджер по интернет-продажам", DEPT_ONLINE, True,
     False, "s.zueva"),
    (LAWYER_ID, person("Лебедева", "Анна", "Игоревна", "F"), "Юрист", DEPT_LEGAL, True, False, "a.lebedeva"),
    (ACCOUNTANT_ID, person("Николаева", "Марина", "Петровна", "F"), "Главный бухгалтер", DEPT_ACCOUNTING, True,
     False, "m.nikolaeva"),
    (QC_ID, person("Орлов", "Дмитрий", "Викторович", "M"), "Специалист отдела контроля качества", DEPT_QC, True,
     False, "d.orlov"),
    (FORMER_MANAGER_ID, person("Козлов", "Сергей", "Петрович", "M"), "Менеджер по продажам", DEPT_SALES, False,
     False, "s.kozlov"),
)
_USER_MOBILES = {
    1: "+7 912 301 11 20", 2: "+7 912 301 45 02", 3: "+7 919 118 20 31", 4: "+7 922 634 71 05",
    5: "+7 951 227 90 14", 6: "+7 908 570 33 61", 7: "+7 912 301 45 77", 8: "+7 963 081 52 40",
    9: "+7 904 812 66 09",
}

_DEPARTMENTS = (
    (DEPT_ROOT, "ООО «МеталПром»", None, ADMIN_ID),
    (DEPT_SALES, "Отдел продаж", DEPT_ROOT, HEAD_OF_SALES_ID),
    (DEPT_ONLINE, "Группа интернет-продаж", DEPT_SALES, None),
    (DEPT_LEGAL, "Юридический отдел", DEPT_ROOT, LAWYER_ID),
    (DEPT_ACCOUNTING, "Бухгалтерия", DEPT_ROOT, ACCOUNTANT_ID),
    (DEPT_QC, "Отдел контроля качества", DEPT_ROOT, QC_ID),
)

# form, name (or the entrepreneur), city, industry, key account
_CLIENTS: tuple[tuple[str, str | Person, str, str, bool], ...] = (
    ("ООО", "СтройКомплект-Урал", "Челябинск", "UC_CONSTRUCTION", True),
    ("АО", "Магистраль-Инвест", "Екатеринбург", "UC_CONSTRUCTION", True),
    ("ООО", "ТехноСнаб", "Магнитогорск", "UC_TRADE", False),
    ("ООО", "Сибирская монтажная компания", "Новосибирск", "UC_CONSTRUCTION", False),
    ("ООО", "ПромАльянс", "Тюмень", "MANUFACTURING", True),
    ("ИП", person("Кузнецов", "Андрей", "Петрович", "M"), "Курган", "UC_TRADE", False),
    ("ООО", "Камская металлобаза", "Пермь", "UC_TRADE", True),
    ("АО", "Завод резервуарного оборудования", "Уфа", "MANUFACTURING", False),
    ("ООО", "Вектор-Строй", "Казань", "UC_CONSTRUCTION", False),
    ("ООО", "ГрадСтрой", "Челябинск", "UC_CONSTRUCTION", True),
    ("ООО", "Монолит-Инвест", "Екатеринбург", "UC_CONSTRUCTION", False),
    ("ИП", person("Сафонова", "Елена", "Викторовна", "F"), "Челябинск", "UC_TRADE", False),
    ("ООО", "СК Северный квартал", "Тюмень", "UC_CONSTRUCTION", False),
    ("АО", "Трест Промтехмонтаж", "Екатеринбург", "UC_CONSTRUCTION", True),
    ("ООО", "АгроТехСервис", "Курган", "OTHER", False),
    ("ООО", "Металл-Сервис Поволжье", "Самара", "UC_TRADE", False),
    ("ООО", "Энергомонтаж-74", "Челябинск", "UC_CONSTRUCTION", True),
    ("ООО", "АнгарСтрой", "Омск", "UC_CONSTRUCTION", False),
    ("ИП", person("Гарипов", "Ринат", "Ильдарович", "M"), "Уфа", "UC_TRADE", False),
    ("ООО", "ДорМостСтрой", "Пермь", "UC_CONSTRUCTION", False),
    ("ООО", "ТД Крепёж-Маркет", "Екатеринбург", "UC_TRADE", False),
    ("ООО", "ТагилСтройКонструкция", "Нижний Тагил", "MANUFACTURING", False),
    ("ООО", "Логистический парк Шагол", "Челябинск", "DELIVERY", False),
    ("ООО", "Фасад-Профи", "Москва", "UC_CONSTRUCTION", False),
    ("ООО", "УралТеплоСтрой", "Миасс", "UC_CONSTRUCTION", False),
    ("ООО", "Строительное управление № 5", "Златоуст", "UC_CONSTRUCTION", False),
    ("ИП", person("Морозов", "Дмитрий", "Александрович", "M"), "Копейск", "UC_CONSTRUCTION", False),
    ("ООО", "ИК Вертикаль", "Екатеринбург", "MANUFACTURING", False),
    ("АО", "Ремстроймаш", "Новосибирск", "MANUFACTURING", False),
    ("ООО", "КровляМаркет", "Тюмень", "UC_TRADE", False),
)
_FORMER_CLIENTS = (14, 24)  # indexes into _CLIENTS owned by the former manager
_INCOMPLETE = ("ООО", "Новый Горизонт", "Челябинск", "UC_CONSTRUCTION")

_GROUPS_BY_INDUSTRY: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "UC_CONSTRUCTION": (("ARM", "MK", "TRUBA", "LIST", "KREP"), (40, 25, 15, 10, 10)),
    "UC_TRADE": (("LIST", "TRUBA", "KREP", "ARM"), (30, 30, 20, 20)),
    "MANUFACTURING": (("LIST", "TRUBA", "MK", "ARM"), (35, 25, 25, 15)),
    "DELIVERY": (("MK", "TRUBA", "KREP"), (50, 30, 20)),
    "OTHER": (("MK", "TRUBA", "ARM"), (45, 35, 20)),
}
_MP_GROUPS = ("ARM", "MK")  # МеталПром's own products; the rest is sold by the trading house

_PROCESS0 = [s for s in stage_ids(DEAL_STAGES_0) if s not in ("WON", "LOSE")]
_PROCESS1 = [s for s in stage_ids(DEAL_STAGES_1) if s not in ("C1:WON", "C1:LOSE")]
_RETURN_POINTS = {"UC_APPROVAL", "UC_CONTRACT", "UC_DOCS", "UC_AWAIT_PAYMENT"}
_AD_BUDGET = {"UC_YANDEX": (180000, 260000), "UC_GOOGLE": (60000, 110000), "UC_SOCIAL": (40000, 80000),
              "UC_SEO": (45000, 45000)}


def _iso_at(day: dt.date, hh: int, mm: int) -> str:
    return f"{day.isoformat()}T{hh:02d}:{mm:02d}:00+03:00"


def _legal_entities() -> list[dict[str, Any]]:
    """Our two legal entities with fixed requisites (independent of the rng seed)."""
    mp_bank, mpt_bank = BANKS[1], BANKS[5]  # Сбербанк Челябинск, Альфа-Банк Екатеринбург
    return [
        {
            "ID": MP_ID,
            "code": "MP",
            "name": "ООО «МеталПром»",
            "full_name": "Общество с ограниченной ответственностью «МеталПром»",
            "inn": cs.make_inn10("7448", "05317"),
            "kpp": cs.make_kpp("7448", "01", 1),
            "ogrn": cs.make_ogrn(2009, "74", "48", "01766"),
            "address": "454087, Челябинская область, г. Челябинск, Троицкий тракт, д. 11, стр. 2",
            "director": "Сергеев Андрей Николаевич",
            "accountant": "Николаева Марина Петровна",
            "bank": {
                "name": mp_bank.name,
                "bik": mp_bank.bik,
                "account": cs.settlement_account(mp_bank.bik, "40702", "7200", "0031457"),
                "corr_account": cs.correspondent_account(mp_bank.bik),
            },
            "onec_base": "metalprom_main",
            "onec_profile": "bp30",
            "phone": "+7 (351) 220-45-67",
            "email": "info@metalprom.ru",
            "city": "Челябинск",
            "postal_code": "454087",
            "street": "Троицкий тракт, д. 11, стр. 2",
        },
        {
            "ID": MPT_ID,
            "code": "MPT",
            "name": "ООО «МеталПром Трейд»",
            "full_name": "Общество с ограниченной ответственностью «МеталПром Трейд»",
            "inn": cs.make_inn10("6671", "43806"),
            "kpp": cs.make_kpp("6671", "01", 1),
            "ogrn": cs.make_ogrn(2016, "66", "71", "02983"),
            "address": "620075, Свердловская область, г. Екатеринбург, ул. Бажова, д. 68, оф. 305",
            "director": "Мельникова Татьяна Юрьевна",
            "accountant": "Николаева Марина Петровна",
            "bank": {
                "name": mpt_bank.name,
                "bik": mpt_bank.bik,
                "account": cs.settlement_account(mpt_bank.bik, "40702", "0383", "0000217"),
                "corr_account": cs.correspondent_account(mpt_bank.bik),
            },
            "onec_base": "metalprom_trade",
            "onec_profile": "ut11",
            "phone": "+7 (343) 310-27-40",
            "email": "td@metalprom-trade.ru",
            "city": "Екатеринбург",
            "postal_code": "620075",
            "street": "ул. Бажова, д. 68, оф. 305",
        },
    ]


def _my_company(le: dict[str, Any]) -> dict[str, Any]:
    city = CITY_BY_NAME[le["city"]]
    short = le["name"]
    return {
        "ID": le["ID"],
        "TITLE": short,
        "COMPANY_TYPE": "OTHER",
        "INDUSTRY": "MANUFACTURING" if le["code"] == "MP" else "UC_TRADE",
        "ASSIGNED_BY_ID": ADMIN_ID,
        "IS_MY_COMPANY": "Y",
        "PHONE": [{"VALUE": le["phone"], "VALUE_TYPE": "WORK"}],
        "EMAIL": [{"VALUE": le["email"], "VALUE_TYPE": "WORK"}],
        "DATE_CREATE": "2019-03-12T10:00:00+03:00" if le["code"] == "MP" else "2019-03-12T10:05:00+03:00",
        "requisites": [
            {
                "NAME": short,
                "PRESET_ID": 1,
                "RQ_COMPANY_NAME": short,
                "RQ_COMPANY_FULL_NAME": le["full_name"],
                "RQ_INN": le["inn"],
                "RQ_KPP": le["kpp"],
                "RQ_OGRN": le["ogrn"],
                "RQ_DIRECTOR": le["director"],
                "RQ_ACCOUNTANT": le["accountant"],
                "address": {
                    "TYPE_ID": 6,
                    "ADDRESS_1": le["street"],
                    "CITY": city.name,
                    "PROVINCE": city.region,
                    "POSTAL_CODE": le["postal_code"],
                    "COUNTRY": "Россия",
                },
                "bank_details": [
                    {
                        "NAME": f"Расчётный счёт в {le['bank']['name']}",
                        "RQ_BANK_NAME": le["bank"]["name"],
                        "RQ_BIK": le["bank"]["bik"],
                        "RQ_ACC_NUM": le["bank"]["account"],
                        "RQ_COR_ACC_NUM": le["bank"]["corr_account"],
                    }
                ],
            }
        ],
    }


class _Builder:
    """Builds the portal in an order that keeps the story consistent: clients and contacts, then
    deals (stages and times), then the leads those deals came from and the other leads, then
    invoices and payments; finally IDs are given in creation order and references resolved."""

    def __init__(self, rng_seed: int, today: dt.date) -> None:
        self.rng = random.Random(f"metalprom:{rng_seed}")
        self.today = today
        self.date_from, self.date_to = default_period(today)
        self.tl = Timeline(self.date_from, self.date_to)
        self.phones: set[str] = set()
        self.emails: set[str] = set()
        self.cts = _Contacts(self.rng, self.phones, self.emails)
        self.inns: set[str] = set()

    # -- time helpers ---------------------------------------------------------------------------

    def w_days_ago(self, days: int, hour: int | None = None) -> int:
        """Working second ``days`` calendar days before today (the nearest working day) at a random
        working time (or at ``hour``)."""
        rng = self.rng
        day = self.today - dt.timedelta(days=days)
        h = hour if hour is not None else rng.randrange(9, 18)
        return min(self.tl.total - 1, self.tl.at(day, h, rng.randrange(60)))

    def path_times(self, w_start: int, w_end: int, n: int) -> list[int]:
        """``n`` increasing working seconds, the first ``w_start`` and the last ``w_end``."""
        if n == 1:
            return [w_start]
        inner = self.tl.spread(self.rng, w_start, w_end - 300, n - 2) if n > 2 else []
        return [w_start, *inner, w_end]

    # -- people, companies, contacts ---------------------------------------------------------------

    def users(self) -> list[dict[str, Any]]:
        out = []
        for uid, p, position, dept, active, admin, login in _USERS:
            out.append(
                {
                    "ID": uid,
                    "NAME": p.name,
                    "LAST_NAME": p.last_name,
                    "SECOND_NAME": p.second_name,
                    "EMAIL": f"{login}@metalprom.ru",
                    "PERSONAL_MOBILE": _USER_MOBILES[uid],
                    "WORK_POSITION": position,
                    "ACTIVE": active,
                    "IS_ADMIN": admin,
                    "UF_DEPARTMENT": [dept],
                    "TIME_ZONE": "Europe/Moscow",
                    "PERSONAL_GENDER": p.gender,
                    "LOGIN": login,
                }
            )
            self.phones.add(normalize_phone(_USER_MOBILES[uid]))
        return out

    def absences(self) -> list[dict[str, Any]]:
        t = self.today

        def d(k: int) -> str:
            return (t + dt.timedelta(days=k)).isoformat()

        return [
            {"USER_ID": IVANOV_ID, "DATE_FROM": d(-2), "DATE_TO": d(5), "TYPE": "vacation",
             "NOTE": "Ежегодный оплачиваемый отпуск"},
            {"USER_ID": PETROV_ID, "DATE_FROM": d(-40), "DATE_TO": d(-35), "TYPE": "sick", "NOTE": "Больничный"},
            {"USER_ID": ZUEVA_ID, "DATE_FROM": d(12), "DATE_TO": d(14), "TYPE": "trip",
             "NOTE": "Командировка: выставка металлопроката в Москве"},
            {"USER_ID": LAWYER_ID, "DATE_FROM": d(20), "DATE_TO": d(33), "TYPE": "vacation",
             "NOTE": "Ежегодный оплачиваемый отпуск"},
        ]

    def clients(self) -> list[dict[str, Any]]:
        out = []
        for idx, (form, name, city_name, industry, key) in enumerate(_CLIENTS):
            owner = FORMER_MANAGER_ID if idx in _FORMER_CLIENTS else MANAGER_IDS[idx % 3]
            out.append(self._client(form, name, CITY_BY_NAME[city_name], industry, key, owner, True))
        form, name, city_name, industry = _INCOMPLETE
        out.append(self._client(form, name, CITY_BY_NAME[city_name], industry, False, PETROV_ID, False))
        return out

    def _client(
        self, form: str, name: str | Person, city: City, industry: str, key: bool, owner: int, with_req: bool
    ) -> dict[str, Any]:
        rng = self.rng
        if isinstance(name, Person):
            director, title, domain, accountant = name, f"ИП {name.full_name}", None, None
            label = name.full_name
        else:
            director = random_person(rng, female_share=0.2)
            title, domain = f"{form} «{name}»", company_domain(name)
            accountant = random_person(rng, female_share=0.85)
            label = name
        phone = _landline_text(self.cts.landline_digits(city.landline), city.landline)
        if domain:
            email = f"{('info', 'office', 'snab', 'zakupki')[rng.randrange(4)]}@{domain}"
            self.emails.add(email)
        else:
            email = self.cts.email(director.name, director.last_name)
        company: dict[str, Any] = {
            "ID": None,
            "TITLE": title,
            "COMPANY_TYPE": "CUSTOMER",
            "INDUSTRY": industry,
            "ASSIGNED_BY_ID": owner,
            "IS_MY_COMPANY": "N",
            "PHONE": [{"VALUE": phone, "VALUE_TYPE": "WORK"}],
            "EMAIL": [{"VALUE": email, "VALUE_TYPE": "WORK"}],
            "DATE_CREATE": None,
            "requisites": (
                [make_requisite(rng, form=form, name=label, city=city, director=director, accountant=accountant,
                                used_inns=self.inns)]
                if with_req
                else []
            ),
            "_key": key,
            "_domain": domain,
            "_director": director,
            "_form": form,
            "_contacts": [],
            "_events": [],
        }
        n_contacts = 1 if form == "ИП" or not with_req else (3 if key else 1 + rng.randrange(2))
        for i in range(n_contacts):
            if i == 0:
                p = director
                post = "Индивидуальный предприниматель" if form == "ИП" else (
                    "Генеральный директор" if rng.random() < 0.7 else "Директор")
            else:
                p = random_person(rng, female_share=0.35)
                post = ("Начальник отдела снабжения", "Менеджер по закупкам", "Главный инженер", "Инженер ПТО",
                        "Прораб", "Коммерческий директор")[rng.randrange(6)]
            phones = [{"VALUE": self.cts.mobile(), "VALUE_TYPE": "MOBILE"}]
            if rng.random() < 0.15:
                phones.append({"VALUE": self.cts.mobile(), "VALUE_TYPE": "WORK"})
            emails = []
            if rng.random() < 0.9:
                use_domain = domain if domain and rng.random() < 0.7 else None
                emails.append({"VALUE": self.cts.email(p.name, p.last_name, use_domain), "VALUE_TYPE": "WORK"})
            company["_contacts"].append(
                {
                    "ID": None,
                    "NAME": p.name,
                    "LAST_NAME": p.last_name,
                    "SECOND_NAME": p.second_name,
                    "POST": post,
                    "PHONE": phones,
                    "EMAIL": emails,
                    "COMPANY_ID": None,
                    "ASSIGNED_BY_ID": owner,
                    "DATE_CREATE": None,
                    "_company": company,
                }
            )
        return company

    # -- deals ----------------------------------------------------------------------------------

    def _rows(self, industry: str, tender: bool) -> tuple[str, list[dict[str, Any]]]:
        rng = self.rng
        if tender:
            group = ("ARM", "MK")[rng.randrange(2)]
            lo, hi, scale = 600_000, 6_000_000, 3.0
        else:
            groups, weights = _GROUPS_BY_INDUSTRY[industry]
            group = rng.choices(groups, weights=weights)[0]
            lo, hi, scale = 30_000, 4_500_000, 1.0
        for _attempt in range(200):
            n_rows = rng.choices((1, 2, 3, 4, 5), weights=(30, 30, 20, 12, 8))[0]
            _, rows = product_rows(rng, n_rows, group, scale)
            if lo <= rows_total(rows) <= hi:
                return group, rows
        raise RuntimeError("could not draw product rows in range")  # pragma: no cover - 200 draws suffice

    def deals(self, companies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rng = self.rng
        clients = companies[:-1]
        incomplete = companies[-1]
        specs: list[tuple[int, str]] = []
        for cat in (0, 1):
            for stage, count in DEAL_STAGE_COUNTS[cat].items():
                specs += [(cat, stage)] * count
        # the incomplete new client has one fresh deal from a converted lead
        specs.remove((0, "NEW"))
        rng.shuffle(specs)
        order = list(clients)
        rng.shuffle(order)
        weights = [4 if c["_key"] else 1 for c in clients]
        owners_of_specs = order + rng.choices(clients, weights=weights, k=len(specs) - len(order))
        deals = [self._deal(cat, stage, company) for (cat, stage), company in zip(specs, owners_of_specs,
                                                                                   strict=True)]
        new_client_deal = self._deal(0, "NEW", incomplete)
        new_client_deal["_from_lead"] = True
        deals.append(new_client_deal)
        # designated cases in the sales funnel
        await_deals = [d for d in deals if d["STAGE_ID"] == "UC_AWAIT_PAYMENT"]
        for i, d in enumerate(await_deals):
            if i < 2:  # overdue: invoice 3 and 2 weeks ago, due in 5 days
                self._retime(d, self.w_days_ago(21 - 5 * i), due_days=5)
            else:  # fresh: invoice in the last days, due in a week
                self._retime(d, self.w_days_ago(1 + rng.randrange(4)), due_days=7)
        partial = [d for d in deals if d["STAGE_ID"] == "UC_PARTIAL_PAID"]
        for i, d in enumerate(partial):
            if i < 2:  # old partial payments, the rest long overdue
                self._retime(d, self.w_days_ago(45 + 10 * i), due_days=5)
            else:
                self._retime(d, self.w_days_ago(2 + rng.randrange(5)), due_days=30)
        lost = [d for d in deals if d["STAGE_ID"] == "LOSE"]
        self._lose_after_invoice(lost[0])
        docs = [d for d in deals if d["STAGE_ID"] == "UC_DOCS"]
        for d in docs[:2]:
            d["_draft_invoice"] = True
        # which deals came from converted leads: the new client's one plus 31 others
        candidates = [d for d in deals if d is not new_client_deal]
        for d in rng.sample(candidates, LEAD_STATUS_COUNTS["CONVERTED"] - 1):
            d["_from_lead"] = True
        for d in deals:
            if d.get("_from_lead"):
                self._ensure_lead_room(d)
        # claims: sales deals moved to Претензионная работа
        claim_clients = [c for c in clients if c["ASSIGNED_BY_ID"] != FORMER_MANAGER_ID]
        for (stage, days_ago, partial_paid), company in zip(
            (("C2:NEW", 50, False), ("C2:NEW", 42, True), ("C2:UC_COURT", 120, False), ("C2:WON", 90, True),
             ("C2:LOSE", 140, False)),
            rng.sample(claim_clients, 5),
            strict=True,
        ):
            deals.append(self._claim(stage, days_ago, partial_paid, company))
        return deals

    def _deal(self, cat: int, final: str, company: dict[str, Any]) -> dict[str, Any]:
        rng, tl = self.rng, self.tl
        group, rows = self._rows(company["INDUSTRY"], cat == 1)
        if cat == 0:
            # lost deals leave before an invoice is issued (one designated deal is lost after it)
            fail_after = rng.randrange(_PROCESS0.index("UC_AWAIT_PAYMENT")) if final == "LOSE" else None
            path = stage_path(rng, _PROCESS0, final, success="WON", jump_p=0.12, returns_mean=0.25,
                              keep={"UC_AWAIT_PAYMENT", "UC_PAID"}, return_points=_RETURN_POINTS,
                              fail_after=fail_after)
        else:
            path = stage_path(rng, _PROCESS1, final, success="C1:WON", jump_p=0.0, returns_mean=0.0)
        n = len(path)
        if final in ("WON", "LOSE", "C1:WON", "C1:LOSE"):
            w_end = self.w_days_ago(3 + rng.randrange(165))
        elif rng.random() < 0.8:
            w_end = self.w_days_ago(1 + rng.randrange(25))
        else:  # stuck in the stage for a while
            w_end = self.w_days_ago(30 + rng.randrange(60))
        w_start = max(0, w_end - DAY_LEN_S * rng.randint(n, 4 * n))
        if n > 1 and w_end - w_start < 600 * n:
            w_end = min(tl.total - 1, w_start + DAY_LEN_S * n)
        contacts = company["_contacts"]
        return {
            "ID": None,
            "TITLE": (f"Тендер: {GROUP_TITLES[group].lower()} — {company['TITLE']}" if cat == 1
                      else f"{GROUP_TITLES[group]} — {company['TITLE']}"),
            "CATEGORY_ID": cat,
            "STAGE_ID": final,
            "TYPE_ID": {"MK": "COMPLEX"}.get(group, "GOODS"),
            "COMPANY_ID": None,
            "CONTACT_ID": None,
            "MYCOMPANY_ID": MP_ID if (cat == 1 or group in _MP_GROUPS) else MPT_ID,
            "ASSIGNED_BY_ID": company["ASSIGNED_BY_ID"],
            "OPPORTUNITY": rows_total(rows),
            "CURRENCY_ID": "RUB",
            "SOURCE_ID": ("CALL", "EMAIL", "CALL", "UC_SEO")[rng.randrange(4)],
            "LEAD_ID": None,
            "BEGINDATE": None,
            "CLOSEDATE": None,
            "DATE_CREATE": None,
            "product_rows": rows,
            "history": None,
            "_company": company,
            "_contact": contacts[rng.randrange(len(contacts))],
            "_path": path,
            "_times": self.path_times(w_start, w_end, n),
            "_due_days": (5, 5, 10, 30)[rng.randrange(4)],
        }

    def _retime(self, deal: dict[str, Any], w_end: int, due_days: int) -> None:
        n = len(deal["_path"])
        w_start = max(0, w_end - DAY_LEN_S * self.rng.randint(n, 3 * n))
        deal["_times"] = self.path_times(w_start, w_end, n)
        deal["_due_days"] = due_days

    def _lose_after_invoice(self, deal: dict[str, Any]) -> None:
        """The client refused to pay: lost after Ожидание оплаты, the invoice is rejected."""
        path = stage_path(self.rng, _PROCESS0, "LOSE", success="WON", jump_p=0.1, returns_mean=0.0,
                          keep={"UC_AWAIT_PAYMENT"}, fail_after=_PROCESS0.index("UC_AWAIT_PAYMENT"))
        deal["_path"] = path
        self._retime(deal, self.w_days_ago(20 + self.rng.randrange(60)), due_days=5)

    def _ensure_lead_room(self, deal: dict[str, Any]) -> None:
        """A converted lead precedes the deal: leave three working days before the deal's creation."""
        times = deal["_times"]
        min_start = 3 * DAY_LEN_S + 600
        if times[0] < min_start:
            shift = min_start - times[0]
            if times[-1] + shift < self.tl.total:
                deal["_times"] = [t + shift for t in times]
            else:
                n = len(times)
                deal["_times"] = self.path_times(min_start, max(times[-1], min_start + 600 * n), n)

    def _claim(self, final: str, days_ago: int, partial_paid: bool, company: dict[str, Any]) -> dict[str, Any]:
        """A sales deal whose invoice was not paid and which was moved to Претензионная работа."""
        rng = self.rng
        deal = self._deal(0, "UC_AWAIT_PAYMENT", company)
        main = stage_path(rng, _PROCESS0, "UC_AWAIT_PAYMENT", success="WON", jump_p=0.1, returns_mean=0.0,
                          keep={"UC_AWAIT_PAYMENT"})
        w_inv = self.w_days_ago(days_ago)
        n = len(main)
        w_start = max(0, w_inv - DAY_LEN_S * rng.randint(n, 3 * n))
        times = self.path_times(w_start, w_inv, n)
        path = list(main)
        due_days = 5
        w_due = self.w_days_ago(days_ago - due_days)
        if partial_paid:
            path.append("UC_PARTIAL_PAID")
            times.append(min(w_due - 600, w_inv + DAY_LEN_S * 2))
        claim_w = self.w_days_ago(days_ago - due_days - 15)
        path.append("C2:NEW")
        times.append(claim_w)
        if final in ("C2:UC_COURT", "C2:LOSE"):
            path.append("C2:UC_COURT")
            times.append(self.w_days_ago(days_ago - due_days - 40))
        if final == "C2:LOSE":
            path.append("C2:LOSE")
            times.append(self.w_days_ago(days_ago - due_days - 75))
        if final == "C2:WON":
            path.append("C2:WON")
            times.append(self.w_days_ago(days_ago - due_days - 30))
        deal.update(
            {
                "TITLE": f"Претензия: долг по оплате — {company['TITLE']}",
                "CATEGORY_ID": 2,
                "STAGE_ID": final,
                "MYCOMPANY_ID": MP_ID,
                "_path": path,
                "_times": times,
                "_due_days": due_days,
                "_from_lead": False,
                "_claim": True,
            }
        )
        return deal

    # -- leads ----------------------------------------------------------------------------------

    def leads(self, deals: list[dict[str, Any]], companies: list[dict[str, Any]]) -> tuple[list, dict]:
        rng, tl = self.rng, self.tl
        factory = _LeadFactory(rng, tl, used_phones=self.phones, used_emails=self.emails)
        src_ids = list(SOURCE_IDS)
        src_cum = [DEFAULT_SOURCE_WEIGHTS[s] for s in src_ids]

        def source() -> str:
            return rng.choices(src_ids, weights=src_cum)[0]

        leads: list[dict[str, Any]] = []
        # converted leads: the deals' origin
        for d in deals:
            if not d.get("_from_lead"):
                continue
            w_conv = d["_times"][0]
            w0 = w_conv - rng.randrange(DAY_LEN_S // 6, 3 * DAY_LEN_S)
            src = source()
            lead = factory.make(0, "CONVERTED", d["ASSIGNED_BY_ID"], src, created_w=w0)
            contact = d["_contact"]
            company = d["_company"]
            w_in = w0 + (w_conv - w0) // 3
            lead["history"] = [
                {"STATUS_ID": "NEW", "CREATED_TIME": lead["DATE_CREATE"]},
                {"STATUS_ID": "IN_PROCESS", "CREATED_TIME": tl.iso(w_in)},
                {"STATUS_ID": "CONVERTED", "CREATED_TIME": tl.iso(w_conv)},
            ]
            self._as_person(lead, contact, company)
            lead["OPPORTUNITY"] = float(round(d["OPPORTUNITY"], -3))
            row = d["product_rows"][0]
            qty = str(row["QUANTITY"]).replace(".", ",")
            lead["COMMENTS"] = f"Нужно: {row['PRODUCT_NAME']}, {qty} {row['MEASURE_NAME']}. Прошу счёт с доставкой"
            lead["_contact"], lead["_company"], lead["_deal"] = contact, company, d
            d["_lead"] = lead
            d["SOURCE_ID"] = src
            leads.append(lead)
        story: dict[str, Any] = {"repeat_client_leads": [], "duplicate_lead_pairs": [], "undistributed": [],
                                 "qc_queue": []}
        # the undistributed new leads of the last days (owner: the administrator)
        clients = companies[:-1]
        by_owner = {uid: [c for c in clients if c["ASSIGNED_BY_ID"] == uid and c["_form"] != "ИП"]
                    for uid in MANAGER_IDS}
        for owner, src, match in ((PETROV_ID, "WEBFORM", "phone"), (IVANOV_ID, "UC_YANDEX", "phone"),
                                  (ZUEVA_ID, "EMAIL", "email")):
            pairs = [(c, ct) for c in by_owner[owner] for ct in c["_contacts"] if match == "phone" or ct["EMAIL"]]
            company, contact = pairs[rng.randrange(len(pairs))]
            lead = factory.make(0, "NEW", ADMIN_ID, src, created_w=self.w_days_ago(1 + rng.randrange(2)))
            self._as_person(lead, contact, None)
            lead["COMPANY_TITLE"] = company["TITLE"]
            lead["COMMENTS"] = "Повторный заказ: нужна та же позиция, что и в прошлый раз, прошу выставить счёт"
            if match == "phone":
                value = contact["PHONE"][0]["VALUE"]
                lead["PHONE"] = [{"VALUE": _other_format(value), "VALUE_TYPE": "MOBILE"}]
                lead["EMAIL"] = []
            else:
                value = contact["EMAIL"][0]["VALUE"]
                local, dom = value.split("@")
                lead["EMAIL"] = [{"VALUE": f"{local.capitalize()}@{dom.upper()}", "VALUE_TYPE": "WORK"}]
                lead["PHONE"] = []
            leads.append(lead)
            story["repeat_client_leads"].append({"lead": lead, "contact": contact, "owner_id": owner,
                                                 "match": match})
            story["undistributed"].append(lead)
        # duplicates from two channels
        last_day = self.today - dt.timedelta(days=1)
        a = factory.make(0, "NEW", ADMIN_ID, "WEBFORM", created_w=self.w_days_ago(1))
        a["DATE_CREATE"] = a["history"][0]["CREATED_TIME"] = _iso_at(last_day, 21, 40)
        b = factory.make(0, "NEW", ADMIN_ID, "UC_CHATBOT", created_w=self.w_days_ago(1))
        b["DATE_CREATE"] = b["history"][0]["CREATED_TIME"] = _iso_at(last_day, 21, 55)
        b["NAME"], b["LAST_NAME"], b["SECOND_NAME"] = a["NAME"], "", ""
        if not a["PHONE"]:
            a["PHONE"] = [{"VALUE": self.cts.mobile(), "VALUE_TYPE": "MOBILE"}]
        b["PHONE"] = [{"VALUE": _other_format(a["PHONE"][0]["VALUE"]), "VALUE_TYPE": "MOBILE"}]
        b["EMAIL"] = []
        b["COMMENTS"] = a["COMMENTS"] + " (повторно через чат)"
        b["TITLE"] = f"Чат-бот на сайте — {b['NAME']}"
        c_w = self.w_days_ago(1, hour=11)
        c = factory.make(0, "NEW", ADMIN_ID, "EMAIL", created_w=max(0, c_w - 7200))
        e = factory.make(0, "NEW", ADMIN_ID, "CALL", created_w=c_w)
        c["DATE_CREATE"] = c["history"][0]["CREATED_TIME"] = tl.iso(max(0, c_w - 7200))
        e["DATE_CREATE"] = e["history"][0]["CREATED_TIME"] = tl.iso(c_w)
        if not c["EMAIL"]:
            c["EMAIL"] = [{"VALUE": self.cts.email(c["NAME"], c["LAST_NAME"] or c["NAME"]), "VALUE_TYPE": "WORK"}]
        if not c["PHONE"]:
            c["PHONE"] = [{"VALUE": self.cts.mobile(), "VALUE_TYPE": "WORK"}]
        for k in ("NAME", "LAST_NAME", "SECOND_NAME", "COMPANY_TITLE"):
            e[k] = c[k]
        e["PHONE"] = [{"VALUE": _other_format(c["PHONE"][0]["VALUE"]), "VALUE_TYPE": "MOBILE"}]
        e["EMAIL"] = []
        e["TITLE"] = f"Входящий звонок — {e['NAME']} {e['LAST_NAME']}".strip()
        e["COMMENTS"] = "Звонок по письму, отправленному утром: уточняет сроки и цену"
        for lead in (a, b, c, e):
            leads.append(lead)
            story["undistributed"].append(lead)
        story["duplicate_lead_pairs"] = [(a, b), (c, e)]
        n_new = LEAD_STATUS_COUNTS["NEW"]
        # five more fresh undistributed leads, two in the QC queue, the rest taken by managers
        for _ in range(5):
            lead = factory.make(0, "NEW", ADMIN_ID, source(), created_w=self.w_days_ago(1 + rng.randrange(3)))
            leads.append(lead)
            story["undistributed"].append(lead)
        for src in ("WEBFORM", "EMAIL"):
            lead = factory.make(0, "NEW", QC_ID, src, created_w=self.w_days_ago(1 + rng.randrange(2)))
            leads.append(lead)
            story["qc_queue"].append(lead)
        taken = n_new - len(story["undistributed"]) - len(story["qc_queue"])
        for _ in range(taken):
            owner = MANAGER_IDS[rng.randrange(3)]
            leads.append(factory.make(0, "NEW", owner, source(), created_w=self.w_days_ago(2 + rng.randrange(30))))
        for i in range(LEAD_STATUS_COUNTS["IN_PROCESS"]):
            owner = FORMER_MANAGER_ID if i < 2 else MANAGER_IDS[rng.randrange(3)]
            w = self.w_days_ago((50 if i < 2 else 3) + rng.randrange(60))
            leads.append(factory.make(0, "IN_PROCESS", owner, source(), created_w=w))
        for i in range(LEAD_STATUS_COUNTS["JUNK"]):
            owner = QC_ID if i < 6 else MANAGER_IDS[rng.randrange(3)]
            w = self.w_days_ago(3 + rng.randrange(175))
            leads.append(factory.make(0, "JUNK", owner, source(), created_w=w))
        return leads, story

    def _as_person(self, lead: dict[str, Any], contact: dict[str, Any], company: dict[str, Any] | None) -> None:
        lead["NAME"], lead["LAST_NAME"] = contact["NAME"], contact["LAST_NAME"]
        lead["SECOND_NAME"] = contact["SECOND_NAME"]
        lead["PHONE"] = [dict(p) for p in contact["PHONE"][:1]]
        lead["EMAIL"] = [dict(e) for e in contact["EMAIL"][:1]]
        if company is not None:
            lead["COMPANY_TITLE"] = company["TITLE"]
        prefix = lead["TITLE"].split(" — ")[0]
        lead["TITLE"] = f"{prefix} — {contact['NAME']} {contact['LAST_NAME']}"

    # -- invoices and payments ------------------------------------------------------------------

    def invoices(self, deals: list[dict[str, Any]]) -> None:
        """Attach ``_invoice`` (and ``_payments``) to the deals that have one."""
        rng, tl = self.rng, self.tl
        for d in deals:
            path, times = d["_path"], d["_times"]
            if d.get("_draft_invoice"):
                w_inv = times[len(path) - 1 - path[::-1].index("UC_DOCS")]
                stage = "DT31_1:N"
            elif "UC_AWAIT_PAYMENT" in path:
                w_inv = times[len(path) - 1 - path[::-1].index("UC_AWAIT_PAYMENT")]
                final = d["STAGE_ID"]
                if final in ("UC_PAID", "UC_SHIPMENT", "WON", "C2:WON"):
                    stage = "DT31_1:P"
                elif final in ("LOSE", "C2:LOSE"):
                    stage = "DT31_1:D"
                elif "UC_PARTIAL_PAID" in path:
                    stage = "DT31_1:UC_PARTIAL"
                else:
                    stage = "DT31_1:S"
            else:
                continue
            inv_day = tl.date_of(w_inv)
            payments = []
            amount = d["OPPORTUNITY"]
            if "UC_PARTIAL_PAID" in path:
                w = times[path.index("UC_PARTIAL_PAID")]
                part = float(round(amount * (0.3 + 0.4 * rng.random()), -2))
                payments.append((w, part))
            if stage == "DT31_1:P":
                paid_stage = "C2:WON" if "C2:WON" in path else "UC_PAID"
                w = times[path.index(paid_stage)]
                payments.append((w, round(amount - sum(p for _, p in payments), 2)))
            d["_invoice"] = {
                "stage": stage,
                "w": w_inv,
                "begin": inv_day,
                "due": inv_day + dt.timedelta(days=d["_due_days"]),
                "payments": payments,
            }

    # -- assembly -------------------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        rng, tl = self.rng, self.tl
        users = self.users()
        legal = _legal_entities()
        companies = self.clients()
        deals = self.deals(companies)
        leads, story_refs = self.leads(deals, companies)
        self.invoices(deals)

        # company and contact creation times: a client converted from a lead is created at the
        # conversion; older clients existed before their first deal.
        for c in companies:
            c_deals = [d for d in deals if d["_company"] is c]
            first = min(c_deals, key=lambda d: d["_times"][0]) if c_deals else None
            if first is not None and first.get("_lead") is not None:
                created = tl.iso(first["_times"][0])
            elif first is not None:
                back = rng.randrange(30, 900)
                day = tl.date_of(first["_times"][0]) - dt.timedelta(days=back)
                created = _iso_at(day, 9 + rng.randrange(9), rng.randrange(60))
            else:
                day = self.date_from - dt.timedelta(days=rng.randrange(30, 700))
                created = _iso_at(day, 9 + rng.randrange(9), rng.randrange(60))
            c["DATE_CREATE"] = created
            for contact in c["_contacts"]:
                contact["DATE_CREATE"] = created
        # IDs in creation order
        companies.sort(key=lambda c: c["DATE_CREATE"])
        for i, c in enumerate(companies):
            c["ID"] = 3 + i
        contacts = [ct for c in companies for ct in c["_contacts"]]
        for i, ct in enumerate(contacts):
            ct["ID"] = 1 + i
            ct["COMPANY_ID"] = ct["_company"]["ID"]
        leads.sort(key=lambda lead: lead["DATE_CREATE"])
        for i, lead in enumerate(leads):
            lead["ID"] = 1 + i
        for d in deals:
            d["DATE_CREATE"] = tl.iso(d["_times"][0])
        deals.sort(key=lambda d: d["DATE_CREATE"])
        title_count: dict[str, int] = {}
        for i, d in enumerate(deals):
            d["ID"] = 1 + i
            title_count[d["TITLE"]] = title_count.get(d["TITLE"], 0) + 1
            if title_count[d["TITLE"]] > 1:
                d["TITLE"] = f"{d['TITLE']} ({title_count[d['TITLE']]})"
            d["COMPANY_ID"] = d["_company"]["ID"]
            d["CONTACT_ID"] = d["_contact"]["ID"]
            lead = d.get("_lead")
            d["LEAD_ID"] = lead["ID"] if lead is not None else None
            path, times = d["_path"], d["_times"]
            d["history"] = [
                {"STAGE_ID": s, "CATEGORY_ID": _category_of(s), "CREATED_TIME": tl.iso(t)}
                for s, t in zip(path, times, strict=True)
            ]
            d["BEGINDATE"] = iso_date(tl.date_of(times[0]))
            if d["STAGE_ID"] in ("WON", "LOSE", "C1:WON", "C1:LOSE", "C2:WON", "C2:LOSE"):
                d["CLOSEDATE"] = iso_date(tl.date_of(times[-1]))
            else:
                d["CLOSEDATE"] = iso_date(max(tl.date_of(times[-1]), self.today) + dt.timedelta(days=14))
        for lead in leads:
            if lead.get("_deal") is not None:
                lead["CONTACT_ID"] = lead["_contact"]["ID"]
                lead["COMPANY_ID"] = lead["_company"]["ID"]
        # invoices and payments in creation order
        invoiced = sorted((d for d in deals if "_invoice" in d), key=lambda d: d["_invoice"]["w"])
        smart_invoices, payments = [], []
        le_code = {le["ID"]: le["code"] for le in legal}
        seq: dict[int, int] = {}
        for i, d in enumerate(invoiced):
            inv = d["_invoice"]
            inv_id = 1 + i
            seq[d["MYCOMPANY_ID"]] = seq.get(d["MYCOMPANY_ID"], 0) + 1  # numbering per legal entity
            number = f"{le_code[d['MYCOMPANY_ID']]}-{seq[d['MYCOMPANY_ID']]:04d}"
            smart_invoices.append(
                {
                    "ID": inv_id,
                    "title": f"Счёт № {number} от {inv['begin'].strftime('%d.%m.%Y')}",
                    "categoryId": 1,
                    "stageId": inv["stage"],
                    "parentId2": d["ID"],
                    "companyId": d["COMPANY_ID"],
                    "contactId": d["CONTACT_ID"],
                    "mycompanyId": d["MYCOMPANY_ID"],
                    "assignedById": d["ASSIGNED_BY_ID"],
                    "opportunity": d["OPPORTUNITY"],
                    "currencyId": "RUB",
                    "accountNumber": number,
                    "begindate": iso_date(inv["begin"]),
                    "closedate": iso_date(inv["due"]),
                    "createdTime": tl.iso(inv["w"]),
                }
            )
            d["_invoice_id"] = inv_id
            for w, amount in inv["payments"]:
                payments.append(
                    {
                        "ID": None,
                        "INVOICE_ID": inv_id,
                        "DEAL_ID": d["ID"],
                        "LEGAL_ENTITY_ID": d["MYCOMPANY_ID"],
                        "DATE": tl.iso(w),
                        "AMOUNT": amount,
                        "DOCUMENT": f"Платёжное поручение № {100 + rng.randrange(9900)}",
                    }
                )
        payments.sort(key=lambda p: p["DATE"])
        for i, p in enumerate(payments):
            p["ID"] = 1 + i

        paid_by_invoice: dict[int, float] = {}
        for p in payments:
            paid_by_invoice[p["INVOICE_ID"]] = paid_by_invoice.get(p["INVOICE_ID"], 0.0) + p["AMOUNT"]
        overdue = [
            d["ID"] for d in deals
            if d["CATEGORY_ID"] == 0 and "_invoice" in d
            and d["_invoice"]["stage"] in ("DT31_1:S", "DT31_1:UC_PARTIAL")
            and d["_invoice"]["due"] < self.today
        ]
        claims = [
            {
                "deal_id": d["ID"],
                "invoice_id": d["_invoice_id"],
                "outstanding": round(d["OPPORTUNITY"] - paid_by_invoice.get(d["_invoice_id"], 0.0), 2),
            }
            for d in deals if d.get("_claim")
        ]
        story = {
            "today": self.today.isoformat(),
            "period": {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()},
            "admin_user_id": ADMIN_ID,
            "head_of_sales_id": HEAD_OF_SALES_ID,
            "manager_ids": list(MANAGER_IDS),
            "lawyer_id": LAWYER_ID,
            "accountant_id": ACCOUNTANT_ID,
            "qc_user_id": QC_ID,
            "inactive_user_id": FORMER_MANAGER_ID,
            "absent_user_id": IVANOV_ID,
            "legal_entity_ids": {le["code"]: le["ID"] for le in legal},
            "undistributed_lead_ids": sorted(lead["ID"] for lead in story_refs["undistributed"]),
            "qc_queue_lead_ids": sorted(lead["ID"] for lead in story_refs["qc_queue"]),
            "repeat_client_leads": [
                {"lead_id": r["lead"]["ID"], "contact_id": r["contact"]["ID"], "owner_id": r["owner_id"],
                 "match": r["match"]}
                for r in story_refs["repeat_client_leads"]
            ],
            "duplicate_lead_pairs": [[a["ID"], b["ID"]] for a, b in story_refs["duplicate_lead_pairs"]],
            "incomplete_company_id": next(c["ID"] for c in companies if not c["requisites"]),
            "overdue_deal_ids": sorted(overdue),
            "claims": claims,
        }

        all_companies = [_my_company(le) for le in legal] + companies
        result = {
            "users": users,
            "departments": [
                {"ID": i, "NAME": n, "PARENT": p, "UF_HEAD": h, "SORT": 100 * i} for i, n, p, h in _DEPARTMENTS
            ],
            "absences": self.absences(),
            "timeman": {"1": "OPENED", "2": "OPENED", "3": "CLOSED", "4": "OPENED", "5": "OPENED",
                        "6": "PAUSED", "7": "OPENED", "8": "OPENED", "9": "CLOSED"},
            "deal_categories": [dict(c) for c in DEAL_CATEGORIES],
            "statuses": statuses(),
            "products": products(),
            "legal_entities": [
                {k: v for k, v in le.items() if k not in ("phone", "email", "city", "postal_code", "street")}
                for le in legal
            ],
            "companies": [_public(c) for c in all_companies],
            "contacts": [_public(c) for c in contacts],
            "leads": [_public(lead) for lead in leads],
            "deals": [_public(d) for d in deals],
            "smart_invoices": smart_invoices,
            "payments": payments,
            "ad_spend": self.ad_spend(),
            "story": story,
        }
        return result

    def ad_spend(self) -> list[dict[str, Any]]:
        rng = self.rng
        out = []
        month = self.date_from.replace(day=1)
        while month <= self.date_to:
            for src, (lo, hi) in _AD_BUDGET.items():
                out.append({"SOURCE_ID": src, "PERIOD": month.strftime("%Y-%m"), "CURRENCY_ID": "RUB",
                            "AMOUNT": float(round(rng.uniform(lo, hi), -3))})
            month = (month + dt.timedelta(days=32)).replace(day=1)
        return out


def _category_of(stage_id: str) -> int:
    return int(stage_id[1 : stage_id.index(":")]) if stage_id.startswith("C") and ":" in stage_id else 0


def _other_format(value: str) -> str:
    """The same phone number written in another of the common formats."""
    digits = normalize_phone(value)
    current = phone_format_of(value)
    for fmt in ("plus7_spaces", "8_paren", "plain7", "8_dash"):
        if fmt != current:
            return format_phone(digits, fmt)
    return format_phone(digits, FORMATS[0])  # pragma: no cover


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def build(rng_seed: int = 1, today: dt.date | None = None) -> dict[str, Any]:
    """The МеталПром demo portal (see the module docstring), deterministic per (rng_seed, today);
    ``today`` defaults to ``date.today()``."""
    return _Builder(rng_seed, today or dt.date.today()).build()

