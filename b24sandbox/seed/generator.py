"""Generators of CRM records in the seed format (see /tmp/b24team/seed_format.md and metalprom.py):
companies with requisites, contacts, leads with status history, deals with product rows and stage
history; and :func:`metalprom_lead_funnel`, the 188 leads of the МеталПром lead-funnel table.

Properties every generator keeps:

* Deterministic: the same arguments (incl. ``rng_seed`` and ``today``) give the same records.
* IDs are ``start_id, start_id + 1, ...``; references (ASSIGNED_BY_ID, COMPANY_ID, CONTACT_ID, ...)
  only take values the caller passed in.
* Plain Python with precomputed pools: 60,000 leads take about a second, 100,000 deals with
  ~1,000,000 stage-history rows a few seconds (see the tests for measured figures).
* Russian names with gender-correct patronymics and surnames; phones written in mixed formats (see
  :mod:`.phones`), unique within a call and against ``used_phones``; e-mails transliterated and
  unique within a call and against ``used_emails``; companies with valid ИНН/КПП/ОГРН(ИП) and bank
  details with a valid БИК and account keys (see :mod:`.checksums`).
* Dates are ISO 8601 with the +03:00 offset. The default period is the 182 days before ``today``
  (``today`` defaults to ``date.today()``), ending yesterday, so nothing lies in the future.

Absent optional texts are ``""`` (names, COMPANY_TITLE, COMMENTS); absent UTM values and absent
references are ``None``.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import checksums as cs
from .catalog import GROUP_NEEDS, GROUP_TITLES, ITEMS, Item
from .dictionaries import SOURCE_IDS
from .names import MALE_NAMES, POOLS, Person, translit
from .phones import FORMATS, MOBILE_CODES, format_phone
from .places import (
    BANKS,
    CITIES,
    NAME_ROOT_A,
    NAME_ROOT_B,
    NAME_TAILS,
    POSTS,
    PUBLIC_MAIL_DOMAINS,
    STREETS,
    Bank,
    City,
)
from .timeline import DAY_LEN_S, Timeline, iso_date, stage_path, stage_semantics

__all__ = [
    "DEFAULT_LEAD_STATUS_WEIGHTS",
    "DEFAULT_SOURCE_WEIGHTS",
    "METALPROM_FUNNEL",
    "METALPROM_FUNNEL_BY_MANAGER",
    "default_period",
    "generate_companies",
    "generate_contacts",
    "generate_deals",
    "generate_leads",
    "metalprom_lead_funnel",
    "random_person",
]

DEFAULT_LEAD_STATUS_WEIGHTS: dict[str, float] = {"NEW": 22, "IN_PROCESS": 28, "JUNK": 25, "CONVERTED": 25}
DEFAULT_SOURCE_WEIGHTS: dict[str, float] = {
    "UC_YANDEX": 22, "UC_GOOGLE": 10, "UC_SOCIAL": 9, "UC_SEO": 14,
    "EMAIL": 10, "CALL": 15, "WEBFORM": 14, "UC_CHATBOT": 6,
}

# The МеталПром lead-funnel table: 188 leads = 99 active (NEW/IN_PROCESS) + 31 converted + 58 junk;
# losses = junk / all = 58/188 = 30.85 %; conversion = converted / active = 31/99 = 31.31 %.
METALPROM_FUNNEL: dict[str, int] = {"leads": 188, "active": 99, "converted": 31, "junk": 58}
# Split per manager, in the order of ``assigned_ids`` (Иванов, Петров, Зуева by default).
METALPROM_FUNNEL_BY_MANAGER: tuple[dict[str, int], ...] = (
    {"active": 35, "converted": 12, "junk": 20},
    {"active": 38, "converted": 11, "junk": 21},
    {"active": 26, "converted": 8, "junk": 17},
)

SOURCE_TITLES: dict[str, str] = {
    "UC_YANDEX": "Заявка с сайта (Яндекс Директ)",
    "UC_GOOGLE": "Заявка с сайта (Google Ads)",
    "UC_SOCIAL": "Заявка из ВКонтакте",
    "UC_SEO": "Заявка с сайта (поиск)",
    "EMAIL": "Входящее письмо",
    "CALL": "Входящий звонок",
    "WEBFORM": "Форма «Рассчитать стоимость»",
    "UC_CHATBOT": "Чат-бот на сайте",
}
UTM: dict[str, tuple[tuple[str, str, str], ...]] = {
    "UC_YANDEX": (
        ("yandex", "cpc", "armatura_chelyabinsk"),
        ("yandex", "cpc", "metallokonstrukcii_ural"),
        ("yandex", "cpc", "proftruba_poisk"),
        ("yandex", "cpc", "rsya_angary"),
        ("yandex", "cpc", "list_gk_ekb"),
    ),
    "UC_GOOGLE": (
        ("google", "cpc", "armatura_google_search"),
        ("google", "cpc", "list_prokat_pmax"),
        ("google", "cpc", "metallokonstrukcii_google"),
    ),
    "UC_SOCIAL": (
        ("vk", "social", "vk_target_angary"),
        ("vk", "social", "vk_lookalike_stroiteli"),
        ("telegram", "social", "tg_ads_metall"),
    ),
}
JUNK_REASONS: tuple[str, ...] = (
    "Спам: предлагают продвижение сайта, ссылка http://seo-top-promo.example в первом сообщении",
    "Спам: бессмысленный текст и эмодзи 🔥🔥🔥💰💰🚀",
    "Не дозвонились за 3 попытки, номер не обслуживается",
    "Ошибочный номер: клиент заявку не оставлял",
    "Частное лицо, нужно 2 листа — не наш формат, направили в розницу",
    "Конкурент: запрос прайса под видом клиента",
    "Дубль заявки, клиент уже в работе у другого менеджера",
    "Нужна нержавеющая сталь — нет в ассортименте",
    "Доставка на Сахалин — не работаем с регионом",
    "Клиент купил у другого поставщика до нашего звонка",
    "Тестовая заявка с сайта",
)
ORG_FORMS: dict[str, tuple[str, str]] = {
    "ООО": ("ООО", "Общество с ограниченной ответственностью"),
    "АО": ("АО", "Акционерное общество"),
    "ПАО": ("ПАО", "Публичное акционерное общество"),
}

_FORMAT_WEIGHTS = (30, 25, 15, 15, 10, 5)  # FORMATS order: 8 (...), +7 .., 7..., 8-..., +7 (...), 8...
_NON_DOMAIN = re.compile(r"[^a-z0-9-]+")
_GROUPS = ("ARM", "LIST", "TRUBA", "MK", "KREP", "SERV")
_GROUP_WEIGHTS = (30, 22, 18, 16, 10, 4)
_ITEMS_BY_GROUP: dict[str, list[Item]] = {g: [i for i in ITEMS if i.group == g] for g in _GROUPS}
_CITY_WEIGHTS = [c.weight for c in CITIES]


def default_period(today: dt.date | None = None, days: int = 182) -> tuple[dt.date, dt.date]:
    """(date_from, date_to): the ``days`` days before ``today``, ending yesterday."""
    today = today or dt.date.today()
    return today - dt.timedelta(days=days), today - dt.timedelta(days=1)


def _period(
    date_from: dt.date | None, date_to: dt.date | None, today: dt.date | None
) -> tuple[dt.date, dt.date]:
    dflt_from, dflt_to = default_period(today)
    return date_from or dflt_from, date_to or dflt_to


def _cum(weights: Sequence[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


# --- people, phones, e-mails ------------------------------------------------------------------


def random_person(rng: random.Random, gender: str | None = None, female_share: float = 0.4) -> Person:
    """A random Russian full name; the surname and the patronymic agree with the gender."""
    g = gender or ("F" if rng.random() < female_share else "M")
    k = rng.randrange(len(POOLS.surname_m))
    p = rng.randrange(len(MALE_NAMES))
    if g == "F":
        return Person(
            POOLS.surname_f[k], POOLS.female_first[rng.randrange(len(POOLS.female_first))],
            POOLS.patronymic_f[p], "F",
        )
    return Person(
        POOLS.surname_m[k], POOLS.male_first[rng.randrange(len(POOLS.male_first))], POOLS.patronymic_m[p], "M"
    )


class _Contacts:
    """Phones and e-mails unique within a run (and against the caller's ``used_*`` sets)."""

    def __init__(self, rng: random.Random, used_phones: set[str] | None, used_emails: set[str] | None):
        self.rng = rng
        self.phones = used_phones if used_phones is not None else set()
        self.emails = used_emails if used_emails is not None else set()
        self._fmt_cum = _cum(_FORMAT_WEIGHTS)

    def mobile_digits(self) -> str:
        rng = self.rng
        while True:
            digits = f"7{MOBILE_CODES[rng.randrange(len(MOBILE_CODES))]}{rng.randrange(10**7):07d}"
            if digits not in self.phones:
                self.phones.add(digits)
                return digits

    def landline_digits(self, code: str) -> str:
        while True:
            rest = 10 - len(code)
            digits = f"7{code}{self.rng.randrange(2 * 10 ** (rest - 1), 10**rest)}"
            if digits not in self.phones:
                self.phones.add(digits)
                return digits

    def fmt(self) -> str:
        return self.rng.choices(FORMATS, cum_weights=self._fmt_cum)[0]

    def mobile(self) -> str:
        return format_phone(self.mobile_digits(), self.fmt())

    def email(self, first: str, last: str, domain: str | None = None) -> str:
        rng = self.rng
        fl, ll = POOLS.lat.get(first) or translit(first), POOLS.lat.get(last) or translit(last)
        r = rng.randrange(6)
        if r == 0:
            local = f"{fl}.{ll}"
        elif r == 1:
            local = f"{ll}.{fl[0]}"
        elif r == 2:
            local = f"{fl[0]}.{ll}"
        elif r == 3:
            local = f"{ll}{rng.randrange(65, 100)}"
        elif r == 4:
            local = f"{fl}{ll[0]}{rng.randrange(1, 999)}"
        else:
            local = f"{ll}_{fl}"
        dom = domain or PUBLIC_MAIL_DOMAINS[rng.randrange(len(PUBLIC_MAIL_DOMAINS))]
        addr = f"{local}@{dom}"
        while addr in self.emails:
            addr = f"{local}{rng.randrange(2, 9999)}@{dom}"
        self.emails.add(addr)
        return addr


def _landline_text(digits: str, code: str) -> str:
    rest = digits[1 + len(code) :]
    return f"+7 ({code}) {rest[:-4]}-{rest[-4:-2]}-{rest[-2:]}"


# --- companies -----------------------------------------------------------------------------------


def _company_name(rng: random.Random) -> str:
    a = NAME_ROOT_A[rng.randrange(len(NAME_ROOT_A))]
    b = NAME_ROOT_B[rng.randrange(len(NAME_ROOT_B))]
    while b == a:
        b = NAME_ROOT_B[rng.randrange(len(NAME_ROOT_B))]
    return f"{a}{b}{NAME_TAILS[rng.randrange(len(NAME_TAILS))]}"


def company_domain(name: str) -> str:
    """An invented web domain for a company name: transliterated, lower-case, ".ru"."""
    slug = _NON_DOMAIN.sub("-", translit(name)).strip("-")
    return f"{slug}.ru"


def _pick_bank(rng: random.Random, city: City) -> Bank:
    local = [b for b in BANKS if b.city == city.name]
    if local and rng.random() < 0.5:
        return local[rng.randrange(len(local))]
    return BANKS[rng.randrange(len(BANKS))]


def _address(rng: random.Random, city: City) -> dict[str, Any]:
    street = STREETS[rng.randrange(len(STREETS))]
    line = f"{street}, д. {rng.randrange(1, 180)}"
    r = rng.random()
    if r < 0.45:
        line += f", оф. {rng.randrange(1, 420)}"
    elif r < 0.6:
        line += f", стр. {rng.randrange(1, 9)}"
    return {
        "TYPE_ID": 6,
        "ADDRESS_1": line,
        "CITY": city.name,
        "PROVINCE": city.region,
        "POSTAL_CODE": str(rng.randrange(city.postal_from, city.postal_to + 1)).zfill(6),
        "COUNTRY": "Россия",
    }


def make_requisite(
    rng: random.Random,
    *,
    form: str,
    name: str,
    city: City,
    director: Person,
    accountant: Person | None,
    used_inns: set[str],
    bank: Bank | None = None,
) -> dict[str, Any]:
    """One requisite (with one bank detail) in the seed format for an organisation (form "ООО",
    "АО", "ПАО"; PRESET_ID 1) or an individual entrepreneur (form "ИП"; PRESET_ID 2, ``name`` is the
    entrepreneur's full name, ``director`` is the entrepreneur)."""
    region = city.region_code
    office = f"{region}{rng.randrange(1, 60):02d}"
    year = rng.randrange(2003, 2023)
    bank = bank or _pick_bank(rng, city)
    if form == "ИП":
        while True:
            inn = cs.make_inn12(office, f"{rng.randrange(10**6):06d}")
            if inn not in used_inns:
                break
        used_inns.add(inn)
        title = f"ИП {director.short_name}"
        req: dict[str, Any] = {
            "NAME": f"ИП {director.full_name}",
            "PRESET_ID": 2,
            "RQ_COMPANY_NAME": title,
            "RQ_COMPANY_FULL_NAME": f"Индивидуальный предприниматель {director.full_name}",
            "RQ_INN": inn,
            "RQ_KPP": "",
            "RQ_OGRNIP": cs.make_ogrnip(year, region, f"{rng.randrange(10**9):09d}"),
            "RQ_LAST_NAME": director.last_name,
            "RQ_FIRST_NAME": director.name,
            "RQ_SECOND_NAME": director.second_name,
            "RQ_DIRECTOR": director.full_name,
            "RQ_ACCOUNTANT": "",
        }
        balance = "40802"
    else:
        while True:
            inn = cs.make_inn10(office, f"{rng.randrange(10**5):05d}")
            if inn not in used_inns:
                break
        used_inns.add(inn)
        short, full = ORG_FORMS[form]
        req = {
            "NAME": f"{short} «{name}»",
            "PRESET_ID": 1,
            "RQ_COMPANY_NAME": f"{short} «{name}»",
            "RQ_COMPANY_FULL_NAME": f"{full} «{name}»",
            "RQ_INN": inn,
            "RQ_KPP": cs.make_kpp(office, "01", 1),
            "RQ_OGRN": cs.make_ogrn(year, region, office[2:], f"{rng.randrange(10**5):05d}"),
            "RQ_DIRECTOR": director.full_name,
            "RQ_ACCOUNTANT": accountant.full_name if accountant else "",
        }
        balance = "40702"
    req["address"] = _address(rng, city)
    req["bank_details"] = [
        {
            "NAME": f"Расчётный счёт в {bank.name}",
            "RQ_BANK_NAME": bank.name,
            "RQ_BIK": bank.bik,
            "RQ_ACC_NUM": cs.random_settlement_account(rng, bank.bik, balance),
            "RQ_COR_ACC_NUM": cs.correspondent_account(bank.bik, bank.corr_middle),
        }
    ]
    return req


def generate_companies(
    n: int,
    start_id: int,
    rng_seed: int,
    *,
    assigned_ids: Sequence[int] = (3, 4, 5),
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    today: dt.date | None = None,
    ip_share: float = 0.12,
    ao_share: float = 0.1,
    industries: Sequence[str] = ("UC_CONSTRUCTION", "MANUFACTURING", "UC_TRADE", "DELIVERY", "OTHER"),
    used_inns: set[str] | None = None,
    used_phones: set[str] | None = None,
    used_emails: set[str] | None = None,
) -> list[dict[str, Any]]:
    """``n`` client companies (IDs from ``start_id``), each with one requisite (ООО/АО with a
    10-digit ИНН, КПП and ОГРН, or ИП with a 12-digit ИНН and ОГРНИП), a legal address, one bank
    detail, a work phone and an e-mail at the company's domain. ИНН are unique within the call and
    against ``used_inns`` (which is updated)."""
    rng = random.Random(f"companies:{rng_seed}")
    d_from, d_to = _period(date_from, date_to, today)
    tl = Timeline(d_from, d_to)
    contacts = _Contacts(rng, used_phones, used_emails)
    used_inns = used_inns if used_inns is not None else set()
    city_cum = _cum(_CITY_WEIGHTS)
    out: list[dict[str, Any]] = []
    for i in range(n):
        city = rng.choices(CITIES, cum_weights=city_cum)[0]
        r = rng.random()
        form = "ИП" if r < ip_share else ("АО" if r < ip_share + ao_share else "ООО")
        director = random_person(rng, female_share=0.25)
        if form == "ИП":
            name = director.full_name
            title = f"ИП {director.full_name}"
            domain = None
            accountant = None
        else:
            name = _company_name(rng)
            title = f"{form} «{name}»"
            domain = company_domain(name)
            accountant = random_person(rng, female_share=0.8) if rng.random() < 0.8 else None
        req = make_requisite(
            rng, form=form, name=name, city=city, director=director, accountant=accountant, used_inns=used_inns
        )
        phone_digits = contacts.landline_digits(city.landline)
        if domain:
            email = f"{('info', 'office', 'snab', 'zakupki', 'mail')[rng.randrange(5)]}@{domain}"
            while email in contacts.emails:
                email = f"{email.split('@')[0]}{rng.randrange(2, 99)}@{domain}"
            contacts.emails.add(email)
        else:
            email = contacts.email(director.name, director.last_name)
        out.append(
            {
                "ID": start_id + i,
                "TITLE": title,
                "COMPANY_TYPE": "CUSTOMER",
                "INDUSTRY": industries[rng.randrange(len(industries))],
                "ASSIGNED_BY_ID": assigned_ids[rng.randrange(len(assigned_ids))],
                "IS_MY_COMPANY": "N",
                "PHONE": [{"VALUE": _landline_text(phone_digits, city.landline), "VALUE_TYPE": "WORK"}],
                "EMAIL": [{"VALUE": email, "VALUE_TYPE": "WORK"}],
                "DATE_CREATE": tl.iso(rng.randrange(tl.total)),
                "requisites": [req],
            }
        )
    return out


# --- contacts ------------------------------------------------------------------------------------


def _domain_of(company: Mapping[str, Any]) -> str | None:
    emails = company.get("EMAIL") or []
    if not emails:
        return None
    dom = emails[0]["VALUE"].rsplit("@", 1)[-1]
    return None if dom in PUBLIC_MAIL_DOMAINS else dom


def generate_contacts(
    n: int,
    start_id: int,
    rng_seed: int,
    *,
    companies: Sequence[Mapping[str, Any]] = (),
    assigned_ids: Sequence[int] = (3, 4, 5),
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    today: dt.date | None = None,
    used_phones: set[str] | None = None,
    used_emails: set[str] | None = None,
) -> list[dict[str, Any]]:
    """``n`` contacts (IDs from ``start_id``). With ``companies`` each contact works at one of them
    (COMPANY_ID, the company's owner as ASSIGNED_BY_ID, e-mail often at the company's domain, created
    no earlier than the company); otherwise COMPANY_ID is None and the owner is one of
    ``assigned_ids``. One or two mobile phones in mixed formats, usually an e-mail."""
    rng = random.Random(f"contacts:{rng_seed}")
    d_from, d_to = _period(date_from, date_to, today)
    tl = Timeline(d_from, d_to)
    cts = _Contacts(rng, used_phones, used_emails)
    out: list[dict[str, Any]] = []
    for i in range(n):
        p = random_person(rng, female_share=0.35)
        company = companies[rng.randrange(len(companies))] if companies else None
        phones = [{"VALUE": cts.mobile(), "VALUE_TYPE": "MOBILE"}]
        if rng.random() < 0.2:
            phones.append({"VALUE": cts.mobile(), "VALUE_TYPE": "WORK"})
        domain = _domain_of(company) if company else None
        emails = []
        if rng.random() < 0.85:
            use_domain = domain if domain and rng.random() < 0.6 else None
            emails.append({"VALUE": cts.email(p.name, p.last_name, use_domain), "VALUE_TYPE": "WORK"})
        created = tl.iso(rng.randrange(tl.total))
        if company and created < company["DATE_CREATE"]:
            created = company["DATE_CREATE"]
        out.append(
            {
                "ID": start_id + i,
                "NAME": p.name,
                "LAST_NAME": p.last_name,
                "SECOND_NAME": p.second_name,
                "POST": POSTS[rng.randrange(len(POSTS))] if company else "",
                "PHONE": phones,
                "EMAIL": emails,
                "COMPANY_ID": company["ID"] if company else None,
                "ASSIGNED_BY_ID": (
                    company["ASSIGNED_BY_ID"] if company else assigned_ids[rng.randrange(len(assigned_ids))]
                ),
                "DATE_CREATE": created,
            }
        )
    return out


# --- leads ---------------------------------------------------------------------------------------


class _LeadFactory:
    """Builds one lead at a time with a given status, owner and source (shared by the generators)."""

    def __init__(
        self,
        rng: random.Random,
        tl: Timeline,
        *,
        used_phones: set[str] | None,
        used_emails: set[str] | None,
        with_history: bool = True,
    ) -> None:
        self.rng = rng
        self.tl = tl
        self.cts = _Contacts(rng, used_phones, used_emails)
        self.with_history = with_history
        self.group_cum = _cum(_GROUP_WEIGHTS)

    def need(self) -> tuple[str, str, float]:
        """(group, request text, estimated amount in roubles)."""
        rng = self.rng
        group = rng.choices(_GROUPS, cum_weights=self.group_cum)[0]
        qty = round(0.5 + 24 * rng.random() ** 2, 1)
        texts = GROUP_NEEDS[group]
        text = texts[rng.randrange(len(texts))].format(q=str(qty).replace(".", ","))
        base = 60000.0 if group != "MK" else 120000.0
        amount = float(round(base * qty * (0.8 + 0.4 * rng.random()), -3))
        return group, text, amount

    def make(
        self,
        lead_id: int,
        status: str,
        assigned: int,
        source: str,
        *,
        created_w: int | None = None,
        contact_id: int | None = None,
        company_id: int | None = None,
    ) -> dict[str, Any]:
        rng, tl = self.rng, self.tl
        g = "F" if rng.random() < 0.3 else "M"
        k = rng.randrange(len(POOLS.surname_m))
        pi = rng.randrange(len(MALE_NAMES))
        if g == "F":
            first = POOLS.female_first[rng.randrange(len(POOLS.female_first))]
            last, second = POOLS.surname_f[k], POOLS.patronymic_f[pi]
        else:
            first = POOLS.male_first[rng.randrange(len(POOLS.male_first))]
            last, second = POOLS.surname_m[k], POOLS.patronymic_m[pi]
        if source == "UC_CHATBOT" and rng.random() < 0.5:
            last, second = "", ""  # chat-bot visitors often give a first name only
        elif rng.random() < 0.35:
            second = ""
        phones: list[dict[str, str]] = []
        emails: list[dict[str, str]] = []
        if source != "EMAIL" or rng.random() < 0.6:
            phones.append({"VALUE": self.cts.mobile(), "VALUE_TYPE": "WORK" if rng.random() < 0.3 else "MOBILE"})
        if source == "EMAIL" or rng.random() < 0.5:
            emails.append({"VALUE": self.cts.email(first, last or first), "VALUE_TYPE": "WORK"})
        company_title = ""
        if rng.random() < 0.65:
            form = "ООО" if rng.random() < 0.85 else "АО"
            company_title = f"{form} «{_company_name(rng)}»"
        group, need_text, amount = self.need()
        if status == "JUNK":
            comments = JUNK_REASONS[rng.randrange(len(JUNK_REASONS))]
            amount = 0.0 if rng.random() < 0.7 else amount
        else:
            comments = need_text
        utm_source = utm_medium = utm_campaign = None
        if source in UTM:
            variants = UTM[source]
            utm_source, utm_medium, utm_campaign = variants[rng.randrange(len(variants))]
        # history
        w0 = created_w if created_w is not None else rng.randrange(tl.total)
        if status != "NEW":
            w0 = max(0, min(w0, tl.total - 1 - 1200 * 3))  # leave room for the moves
        if status == "NEW":
            path = ["NEW"]
        elif status == "IN_PROCESS":
            path = ["NEW", "IN_PROCESS"]
        elif status == "CONVERTED" or rng.random() < 0.7:
            path = ["NEW", "IN_PROCESS", status]
        else:
            path = ["NEW", status]
        if source != "CALL" and rng.random() < 0.25:
            created = tl.iso_off_hours(w0, rng)
        else:
            created = tl.iso(w0)
        history = [{"STATUS_ID": "NEW", "CREATED_TIME": created}]
        if len(path) > 1:
            end = w0 + rng.randrange(DAY_LEN_S // 4, DAY_LEN_S * 12)
            times = tl.spread(rng, w0, end, len(path) - 1)
            history += [{"STATUS_ID": s, "CREATED_TIME": tl.iso(t)} for s, t in zip(path[1:], times, strict=True)]
        title_name = " ".join(x for x in (first, last) if x)
        return {
            "ID": lead_id,
            "TITLE": f"{SOURCE_TITLES.get(source, 'Лид')} — {title_name}",
            "NAME": first,
            "LAST_NAME": last,
            "SECOND_NAME": second,
            "COMPANY_TITLE": company_title,
            "SOURCE_ID": source,
            "STATUS_ID": status,
            "ASSIGNED_BY_ID": assigned,
            "OPPORTUNITY": amount,
            "CURRENCY_ID": "RUB",
            "COMMENTS": comments,
            "PHONE": phones,
            "EMAIL": emails,
            "UTM_SOURCE": utm_source,
            "UTM_MEDIUM": utm_medium,
            "UTM_CAMPAIGN": utm_campaign,
            "DATE_CREATE": created,
            "CONTACT_ID": contact_id,
            "COMPANY_ID": company_id,
            # without history the lead is taken as created directly in its status
            "history": history if self.with_history else [{"STATUS_ID": status, "CREATED_TIME": created}],
        }


def generate_leads(
    n: int,
    start_id: int,
    rng_seed: int,
    source_ids: Sequence[str] = SOURCE_IDS,
    status_weights: Mapping[str, float] | None = None,
    assigned_ids: Sequence[int] = (3, 4, 5),
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    *,
    source_weights: Mapping[str, float] | None = None,
    today: dt.date | None = None,
    contact_ids: Sequence[int] = (),
    company_ids: Sequence[int] = (),
    with_history: bool = True,
    used_phones: set[str] | None = None,
    used_emails: set[str] | None = None,
) -> list[dict[str, Any]]:
    """``n`` leads (IDs from ``start_id``) from ``source_ids`` (weighted by ``source_weights``,
    default :data:`DEFAULT_SOURCE_WEIGHTS`, unknown sources weight 10), with statuses drawn by
    ``status_weights`` (default :data:`DEFAULT_LEAD_STATUS_WEIGHTS`) and owners from
    ``assigned_ids``, created between ``date_from`` and ``date_to``.

    Each lead has a status history in order (NEW first, then IN_PROCESS, then the final status;
    junk sometimes straight from NEW) ending at its STATUS_ID; junk leads carry the reason in
    COMMENTS; paid sources (Яндекс, Google Ads, Соц-сети) carry UTM_SOURCE/MEDIUM/CAMPAIGN. Converted
    leads get a CONTACT_ID / COMPANY_ID from ``contact_ids`` / ``company_ids`` when given.
    """
    rng = random.Random(f"leads:{rng_seed}")
    d_from, d_to = _period(date_from, date_to, today)
    tl = Timeline(d_from, d_to)
    weights = status_weights or DEFAULT_LEAD_STATUS_WEIGHTS
    statuses = list(weights)
    sw = source_weights or DEFAULT_SOURCE_WEIGHTS
    srcs = list(source_ids)
    status_seq = rng.choices(statuses, cum_weights=_cum([weights[s] for s in statuses]), k=n)
    source_seq = rng.choices(srcs, cum_weights=_cum([sw.get(s, 10) for s in srcs]), k=n)
    owner_seq = [assigned_ids[rng.randrange(len(assigned_ids))] for _ in range(n)]
    factory = _LeadFactory(rng, tl, used_phones=used_phones, used_emails=used_emails, with_history=with_history)
    out = []
    for i in range(n):
        status = status_seq[i]
        contact_id = company_id = None
        if status == "CONVERTED":
            if contact_ids:
                contact_id = contact_ids[rng.randrange(len(contact_ids))]
            if company_ids:
                company_id = company_ids[rng.randrange(len(company_ids))]
        out.append(
            factory.make(
                start_id + i, status, owner_seq[i], source_seq[i], contact_id=contact_id, company_id=company_id
            )
        )
    return out


def metalprom_lead_funnel(
    rng_seed: int,
    *,
    start_id: int = 1,
    assigned_ids: Sequence[int] = (3, 4, 5),
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    today: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Exactly the МеталПром lead-funnel table: 188 leads = 99 active (NEW or IN_PROCESS) + 31
    converted + 58 junk, so losses (junk / all leads) = 30.85 % and conversion (converted / active)
    = 31.31 %. Owners follow :data:`METALPROM_FUNNEL_BY_MANAGER` in the order of ``assigned_ids``
    (exact counts per manager); sources are spread over all eight sources. Default period: the 91
    days before ``today``."""
    if len(assigned_ids) != len(METALPROM_FUNNEL_BY_MANAGER):
        raise ValueError(f"assigned_ids must name {len(METALPROM_FUNNEL_BY_MANAGER)} managers")
    rng = random.Random(f"funnel:{rng_seed}")
    dflt_from, dflt_to = default_period(today, 91)
    tl = Timeline(date_from or dflt_from, date_to or dflt_to)
    plan: list[tuple[int, str]] = []
    for uid, counts in zip(assigned_ids, METALPROM_FUNNEL_BY_MANAGER, strict=True):
        for _ in range(counts["active"]):
            plan.append((uid, "NEW" if rng.random() < 0.4 else "IN_PROCESS"))
        plan += [(uid, "CONVERTED")] * counts["converted"]
        plan += [(uid, "JUNK")] * counts["junk"]
    rng.shuffle(plan)
    srcs = list(SOURCE_IDS)
    # every source appears: the first len(srcs) leads take one source each, the rest are weighted
    source_seq = srcs + rng.choices(srcs, cum_weights=_cum([DEFAULT_SOURCE_WEIGHTS[s] for s in srcs]),
                                    k=len(plan) - len(srcs))
    rng.shuffle(source_seq)
    created = sorted(rng.randrange(tl.total) for _ in plan)
    factory = _LeadFactory(rng, tl, used_phones=None, used_emails=None)
    return [
        factory.make(start_id + i, status, uid, source_seq[i], created_w=created[i])
        for i, (uid, status) in enumerate(plan)
    ]


# --- deals ---------------------------------------------------------------------------------------


def _qty(rng: random.Random, item: Item, scale: float = 1.0) -> float | int:
    span = item.qty_max - item.qty_min
    q = item.qty_min + span * min(1.0, scale * rng.random() ** 2)
    steps = round(q / item.qty_step)
    q = max(item.qty_min, steps * item.qty_step)
    if float(item.qty_step).is_integer():
        return int(q)
    return round(q, 1)


def product_rows(
    rng: random.Random, n_rows: int, group: str | None = None, scale: float = 1.0
) -> tuple[str, list[dict[str, Any]]]:
    """(main product group, ``n_rows`` product rows of МеталПром's catalogue, distinct products):
    mostly items of one group, sometimes with cutting or delivery added."""
    if group is None:
        group = rng.choices(_GROUPS[:5], weights=_GROUP_WEIGHTS[:5])[0]
    pool = list(_ITEMS_BY_GROUP[group])
    others = [i for i in ITEMS if i.group != group]
    chosen: list[Item] = [pool.pop(rng.randrange(len(pool)))]  # the main item is of the group
    while len(chosen) < n_rows:
        src = pool if pool and (rng.random() < 0.75 or not others) else others
        item = src.pop(rng.randrange(len(src)))
        chosen.append(item)
    rows = [
        {
            "PRODUCT_ID": it.id,
            "PRODUCT_NAME": it.name,
            "PRICE": it.price,
            "QUANTITY": _qty(rng, it, scale),
            "TAX_RATE": it.vat,
            "TAX_INCLUDED": "Y",
            "MEASURE_NAME": it.measure,
            "DISCOUNT_RATE": 0,
        }
        for it in chosen
    ]
    return group, rows


def rows_total(rows: Sequence[Mapping[str, Any]]) -> float:
    """OPPORTUNITY of a deal: the sum of PRICE × QUANTITY of its rows (prices include VAT)."""
    return round(sum(r["PRICE"] * r["QUANTITY"] for r in rows), 2)


def _type_of(group: str) -> str:
    return {"MK": "COMPLEX", "SERV": "SERVICES"}.get(group, "GOODS")


def generate_deals(
    n: int,
    start_id: int,
    rng_seed: int,
    stages: Sequence[str],
    *,
    category_id: int = 0,
    stage_weights: Mapping[str, float] | None = None,
    company_ids: Sequence[int] = (),
    contact_ids: Sequence[int] = (),
    assigned_ids: Sequence[int] = (3, 4, 5),
    source_ids: Sequence[str] = SOURCE_IDS,
    mycompany_ids: Sequence[int] = (),
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    today: dt.date | None = None,
    jump_p: float = 0.1,
    returns_per_deal: float = 0.15,
    keep_stages: Sequence[str] = (),
    max_rows: int = 5,
    with_product_rows: bool = True,
    with_history: bool = True,
) -> list[dict[str, Any]]:
    """``n`` deals (IDs from ``start_id``) in the funnel ``category_id`` whose stages are ``stages``
    in funnel order (STATUS_IDs; a code WON is the success stage, LOSE/APOLOGY failures, the rest
    process stages — e.g. ``dictionaries.stage_ids(DEAL_STAGES_0)``). The current stage is drawn by
    ``stage_weights`` (default: every stage equally likely).

    Each deal has 1..``max_rows`` product rows of the МеталПром catalogue (prices with 20 % VAT;
    OPPORTUNITY = sum of rows) and a stage history in funnel order ending at STAGE_ID, with jumps
    over stages (probability ``jump_p`` per stage, never over ``keep_stages``) and returns
    (``returns_per_deal`` on average; each adds two rows). The history length is then about the
    index of the current stage + 1 + 2 × ``returns_per_deal``: with the 11-stage main funnel,
    uniform stage weights and ``returns_per_deal=2.65`` 100,000 deals carry ≈1,000,000 history rows
    (997,688 for rng_seed 1; about 3.5 s and 450 MB on the development machine).
    """
    rng = random.Random(f"deals:{rng_seed}:{category_id}")
    d_from, d_to = _period(date_from, date_to, today)
    tl = Timeline(d_from, d_to)
    sem = {s: stage_semantics(s) for s in stages}
    process = [s for s in stages if sem[s] == "process"]
    success = next((s for s in stages if sem[s] == "success"), None)
    if not process:
        raise ValueError("a funnel needs at least one process stage")
    weights = stage_weights or {s: 1.0 for s in stages}
    final_seq = rng.choices(list(stages), cum_weights=_cum([weights.get(s, 0.0) for s in stages]), k=n)
    keep = set(keep_stages)
    row_cum = _cum((35, 30, 18, 10, 7)[:max_rows])
    n_rows_choices = list(range(1, max_rows + 1))
    out: list[dict[str, Any]] = []
    for i in range(n):
        final = final_seq[i]
        path = stage_path(rng, process, final, success=success, jump_p=jump_p, returns_mean=returns_per_deal,
                          keep=keep)
        moves = len(path) - 1
        span = DAY_LEN_S * (1 + moves * (1 + rng.randrange(6)))
        w0 = rng.randrange(max(1, tl.total - span // 3))
        times = tl.spread(rng, w0, w0 + span, moves)
        last_w = times[-1] if times else w0
        created = tl.iso(w0)
        if with_product_rows:
            nr = rng.choices(n_rows_choices, cum_weights=row_cum)[0]
            group, rows = product_rows(rng, nr)
        else:
            group, rows = rng.choices(_GROUPS[:5], weights=_GROUP_WEIGHTS[:5])[0], []
        amount = rows_total(rows) if rows else float(round(50000 + 2_000_000 * rng.random() ** 3, -2))
        if sem[final] == "process":
            close_day = tl.date_of(last_w) + dt.timedelta(days=7 + rng.randrange(40))
        else:
            close_day = tl.date_of(last_w)
        company_id = company_ids[rng.randrange(len(company_ids))] if company_ids else None
        deal = {
            "ID": start_id + i,
            "TITLE": f"{GROUP_TITLES[group]} № {start_id + i}",
            "CATEGORY_ID": category_id,
            "STAGE_ID": final,
            "TYPE_ID": _type_of(group),
            "COMPANY_ID": company_id,
            "CONTACT_ID": contact_ids[rng.randrange(len(contact_ids))] if contact_ids else None,
            "MYCOMPANY_ID": mycompany_ids[rng.randrange(len(mycompany_ids))] if mycompany_ids else None,
            "ASSIGNED_BY_ID": assigned_ids[rng.randrange(len(assigned_ids))],
            "OPPORTUNITY": amount,
            "CURRENCY_ID": "RUB",
            "SOURCE_ID": source_ids[rng.randrange(len(source_ids))],
            "LEAD_ID": None,
            "BEGINDATE": iso_date(tl.date_of(w0)),
            "CLOSEDATE": iso_date(close_day),
            "DATE_CREATE": created,
            "product_rows": rows,
            "history": (
                [{"STAGE_ID": path[0], "CREATED_TIME": created}]
                + [{"STAGE_ID": s, "CREATED_TIME": tl.iso(t)} for s, t in zip(path[1:], times, strict=True)]
                if with_history
                else [{"STAGE_ID": final, "CREATED_TIME": created}]
            ),
        }
        out.append(deal)
    return out
