"""Bulk generators: determinism, IDs, references, names, phones, requisites, histories, speed, and
the МеталПром lead-funnel figures."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from typing import Any

import pytest

from b24sandbox.seed import generator as gen
from b24sandbox.seed.dictionaries import DEAL_STAGES_0, DEAL_STAGES_1, DEAL_STAGES_2, SOURCE_IDS, stage_ids
from b24sandbox.seed.names import FEMALE_NAMES, MALE_NAMES, POOLS
from b24sandbox.seed.phones import normalize_phone, phone_format_of
from b24sandbox.seed.places import CITY_BY_NAME

from .independent import corr_ok, inn_ok, ogrn_ok, ogrnip_ok, settlement_ok

TODAY = dt.date(2026, 6, 15)
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+03:00$")
MALE = {n for n, _, _ in MALE_NAMES}
FEMALE = set(FEMALE_NAMES)


def check_person(first: str, last: str, second: str) -> None:
    """Gender agreement of a full name (the gender is told by the first name)."""
    if first in FEMALE:
        assert second == "" or second.endswith(("вна", "ична")), (first, second)
        assert last == "" or last in POOLS.surname_f, last
    else:
        assert first in MALE, first
        assert second == "" or second.endswith(("вич", "ич")) and not second.endswith("вна"), (first, second)
        assert last == "" or last in POOLS.surname_m, last


def check_history(items: list[dict[str, Any]], key: str) -> None:
    for x in items:
        h = x["history"]
        assert h[0]["CREATED_TIME"] == x["DATE_CREATE"] and h[-1][key] == x[key]
        times = [s["CREATED_TIME"] for s in h]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert all(ISO.match(t) for t in times)


# --- leads -----------------------------------------------------------------------------------------------


def test_leads_deterministic_ids_and_references() -> None:
    a = gen.generate_leads(500, 1001, 7, assigned_ids=(11, 12), today=TODAY)
    b = gen.generate_leads(500, 1001, 7, assigned_ids=(11, 12), today=TODAY)
    c = gen.generate_leads(500, 1001, 8, assigned_ids=(11, 12), today=TODAY)
    assert a == b and a != c
    assert [x["ID"] for x in a] == list(range(1001, 1501))
    assert {x["ASSIGNED_BY_ID"] for x in a} == {11, 12}
    assert {x["SOURCE_ID"] for x in a} == set(SOURCE_IDS)
    assert {x["STATUS_ID"] for x in a} == {"NEW", "IN_PROCESS", "JUNK", "CONVERTED"}
    for x in a:
        check_person(x["NAME"], x["LAST_NAME"], x["SECOND_NAME"])
        assert x["CONTACT_ID"] is None and x["COMPANY_ID"] is None
        if x["STATUS_ID"] == "JUNK":
            assert x["COMMENTS"]
        assert (x["UTM_SOURCE"] is not None) == (x["SOURCE_ID"] in ("UC_YANDEX", "UC_GOOGLE", "UC_SOCIAL"))
        assert "2025-12-15" <= x["DATE_CREATE"][:10] <= "2026-06-14"
    check_history(a, "STATUS_ID")


def test_leads_status_weights_sources_and_links() -> None:
    only = gen.generate_leads(300, 1, 1, source_ids=["CALL", "UC_CUSTOM"], status_weights={"CONVERTED": 1},
                              today=TODAY, contact_ids=[5, 6], company_ids=[9])
    assert {x["STATUS_ID"] for x in only} == {"CONVERTED"}
    assert {x["SOURCE_ID"] for x in only} == {"CALL", "UC_CUSTOM"}
    assert {x["CONTACT_ID"] for x in only} == {5, 6} and {x["COMPANY_ID"] for x in only} == {9}
    for x in only:
        assert [s["STATUS_ID"] for s in x["history"]] == ["NEW", "IN_PROCESS", "CONVERTED"]
    flat = gen.generate_leads(50, 1, 1, status_weights={"IN_PROCESS": 1}, today=TODAY, with_history=False)
    assert all(x["history"] == [{"STATUS_ID": "IN_PROCESS", "CREATED_TIME": x["DATE_CREATE"]}] for x in flat)
    mixed = gen.generate_leads(6000, 1, 2, status_weights={"NEW": 1, "JUNK": 3}, today=TODAY)
    share = Counter(x["STATUS_ID"] for x in mixed)["JUNK"] / len(mixed)
    assert 0.72 < share < 0.78
    period = gen.generate_leads(200, 1, 3, date_from=dt.date(2026, 1, 10), date_to=dt.date(2026, 1, 20),
                                today=TODAY)
    for x in period:
        assert "2026-01-09" <= x["DATE_CREATE"][:10] <= "2026-01-20"  # off-hours: up to the evening before


def test_phones_and_emails_mixed_unique_and_transliterated() -> None:
    used: set[str] = {"79120000000"}
    leads = gen.generate_leads(3000, 1, 5, today=TODAY, used_phones=used)
    phones = [p["VALUE"] for x in leads for p in x["PHONE"]]
    formats = Counter(phone_format_of(p) for p in phones)
    assert {"8_paren", "plus7_spaces", "plain7", "8_dash"} <= set(formats)
    assert None not in formats
    examples = {phone_format_of(p): p for p in phones}
    assert re.fullmatch(r"8 \(9\d\d\) \d{3}-\d\d-\d\d", examples["8_paren"])
    assert re.fullmatch(r"\+7 9\d\d \d{3} \d\d \d\d", examples["plus7_spaces"])
    assert re.fullmatch(r"79\d{9}", examples["plain7"])
    assert re.fullmatch(r"8-9\d\d-\d{3}-\d\d-\d\d", examples["8_dash"])
    normalized = [normalize_phone(p) for p in phones]
    assert len(set(normalized)) == len(normalized)
    assert "79120000000" not in normalized and set(normalized) <= used
    emails = [e["VALUE"] for x in leads for e in x["EMAIL"]]
    assert len(set(emails)) == len(emails)
    assert all(re.fullmatch(r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]{2,}", e) for e in emails)


# --- companies and contacts ------------------------------------------------------------------------------


def test_companies_have_valid_requisites() -> None:
    used: set[str] = set()
    comps = gen.generate_companies(400, 50, 4, assigned_ids=(3, 4), today=TODAY, used_inns=used)
    assert comps == gen.generate_companies(400, 50, 4, assigned_ids=(3, 4), today=TODAY)
    assert [c["ID"] for c in comps] == list(range(50, 450))
    inns = []
    presets = Counter()
    for c in comps:
        assert c["ASSIGNED_BY_ID"] in (3, 4) and c["IS_MY_COMPANY"] == "N" and ISO.match(c["DATE_CREATE"])
        (req,) = c["requisites"]
        presets[req["PRESET_ID"]] += 1
        inn = req["RQ_INN"]
        inns.append(inn)
        assert inn_ok(inn)
        city = CITY_BY_NAME[req["address"]["CITY"]]
        assert inn[:2] == city.region_code
        if req["PRESET_ID"] == 1:
            assert len(inn) == 10 and ogrn_ok(req["RQ_OGRN"]) and req["RQ_KPP"][:4] == inn[:4]
            assert c["TITLE"].startswith(("ООО «", "АО «"))
        else:
            assert len(inn) == 12 and ogrnip_ok(req["RQ_OGRNIP"]) and c["TITLE"].startswith("ИП ")
            check_person(req["RQ_FIRST_NAME"], req["RQ_LAST_NAME"], req["RQ_SECOND_NAME"])
        (bank,) = req["bank_details"]
        assert settlement_ok(bank["RQ_ACC_NUM"], bank["RQ_BIK"]) and corr_ok(bank["RQ_COR_ACC_NUM"], bank["RQ_BIK"])
        assert normalize_phone(c["PHONE"][0]["VALUE"]).startswith("7")
    assert len(set(inns)) == len(inns) and set(inns) == used
    assert presets[1] > 300 and presets[2] > 20


def test_contacts_belong_to_companies() -> None:
    comps = gen.generate_companies(50, 1, 1, today=TODAY)
    contacts = gen.generate_contacts(300, 10, 1, companies=comps, today=TODAY)
    by_id = {c["ID"]: c for c in comps}
    assert [c["ID"] for c in contacts] == list(range(10, 310))
    for ct in contacts:
        company = by_id[ct["COMPANY_ID"]]
        assert ct["ASSIGNED_BY_ID"] == company["ASSIGNED_BY_ID"] and ct["DATE_CREATE"] >= company["DATE_CREATE"]
        check_person(ct["NAME"], ct["LAST_NAME"], ct["SECOND_NAME"])
        assert ct["PHONE"] and ct["POST"]
    loose = gen.generate_contacts(20, 1, 1, assigned_ids=(7,), today=TODAY)
    assert {c["COMPANY_ID"] for c in loose} == {None} and {c["ASSIGNED_BY_ID"] for c in loose} == {7}
    genders = Counter(c["NAME"] in FEMALE for c in contacts)
    assert genders[True] > 50 and genders[False] > 100


# --- deals -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entries", [DEAL_STAGES_0, DEAL_STAGES_1, DEAL_STAGES_2])
def test_deals_every_stage_histories_and_rows(entries: tuple) -> None:
    stages = stage_ids(entries)
    cat = 0 if stages[0] == "NEW" else int(stages[0][1])
    deals = gen.generate_deals(1000, 500, 9, stages, category_id=cat, company_ids=[1, 2, 3], contact_ids=[4],
                               assigned_ids=(3, 4, 5), mycompany_ids=[1], today=TODAY)
    assert deals == gen.generate_deals(1000, 500, 9, stages, category_id=cat, company_ids=[1, 2, 3],
                                       contact_ids=[4], assigned_ids=(3, 4, 5), mycompany_ids=[1], today=TODAY)
    assert [d["ID"] for d in deals] == list(range(500, 1500))
    assert {d["STAGE_ID"] for d in deals} == set(stages)
    assert {d["COMPANY_ID"] for d in deals} == {1, 2, 3} and {d["CONTACT_ID"] for d in deals} == {4}
    assert {d["CATEGORY_ID"] for d in deals} == {cat} and {d["MYCOMPANY_ID"] for d in deals} == {1}
    check_history(deals, "STAGE_ID")
    order = {s: i for i, s in enumerate(stages)}
    for d in deals:
        path = [h["STAGE_ID"] for h in d["history"]]
        assert all(s in order for s in path)
        assert path[0] == stages[0]
        assert sum(s in (stages[-2], stages[-1]) for s in path) <= 1  # closed at most once, at the end
        assert 1 <= len(d["product_rows"]) <= 5
        assert d["OPPORTUNITY"] == round(sum(r["PRICE"] * r["QUANTITY"] for r in d["product_rows"]), 2)
        assert d["BEGINDATE"] <= d["CLOSEDATE"] and ISO.match(d["CLOSEDATE"])


def test_deal_stage_weights_and_returns() -> None:
    stages = stage_ids(DEAL_STAGES_0)
    won = gen.generate_deals(200, 1, 1, stages, stage_weights={"WON": 1}, today=TODAY, jump_p=0.0,
                             returns_per_deal=0.0, keep_stages=["UC_PAID"])
    for d in won:
        assert [h["STAGE_ID"] for h in d["history"]] == stages[:-1]
    few = gen.generate_deals(2000, 1, 1, stages, today=TODAY, returns_per_deal=0.0, with_product_rows=False)
    many = gen.generate_deals(2000, 1, 1, stages, today=TODAY, returns_per_deal=2.65, with_product_rows=False)
    rows_few = sum(len(d["history"]) for d in few) / 2000
    rows_many = sum(len(d["history"]) for d in many) / 2000
    assert 4.5 < rows_few < 6.5 and 9.0 < rows_many < 11.0  # ≈ 10 rows per deal: 100k deals ≈ 1M rows
    assert all(d["product_rows"] == [] and d["OPPORTUNITY"] > 0 for d in few)


# --- the МеталПром lead-funnel table ------------------------------------------------------------------


def test_metalprom_lead_funnel_figures() -> None:
    leads = gen.metalprom_lead_funnel(1, today=TODAY)
    assert leads == gen.metalprom_lead_funnel(1, today=TODAY)
    assert leads != gen.metalprom_lead_funnel(2, today=TODAY)
    statuses = Counter(x["STATUS_ID"] for x in leads)
    active = statuses["NEW"] + statuses["IN_PROCESS"]
    assert len(leads) == 188 and active == 99 and statuses["CONVERTED"] == 31 and statuses["JUNK"] == 58
    assert set(statuses) == {"NEW", "IN_PROCESS", "CONVERTED", "JUNK"}
    assert round(100 * statuses["JUNK"] / len(leads), 2) == 30.85
    assert round(100 * statuses["CONVERTED"] / active, 2) == 31.31
    assert {x["SOURCE_ID"] for x in leads} == set(SOURCE_IDS)
    assert [x["ID"] for x in leads] == list(range(1, 189))
    for uid, expected in zip((3, 4, 5), gen.METALPROM_FUNNEL_BY_MANAGER, strict=True):
        mine = Counter(x["STATUS_ID"] for x in leads if x["ASSIGNED_BY_ID"] == uid)
        assert mine["NEW"] + mine["IN_PROCESS"] == expected["active"]
        assert mine["CONVERTED"] == expected["converted"] and mine["JUNK"] == expected["junk"]
    check_history(leads, "STATUS_ID")
    other = gen.metalprom_lead_funnel(1, start_id=1000, assigned_ids=(21, 22, 23), today=TODAY)
    assert {x["ASSIGNED_BY_ID"] for x in other} == {21, 22, 23} and other[0]["ID"] == 1000


# --- speed -----------------------------------------------------------------------------------------------


def test_sixty_thousand_leads_are_fast(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    leads = gen.generate_leads(60_000, 1, 1, today=TODAY)
    elapsed = time.perf_counter() - started
    assert len(leads) == 60_000 and leads[-1]["ID"] == 60_000
    assert elapsed < 15.0, elapsed
    with capsys.disabled():
        print(f"\n60,000 leads generated in {elapsed:.2f} s")


def test_deals_with_long_histories_are_fast(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    deals = gen.generate_deals(20_000, 1, 1, stage_ids(DEAL_STAGES_0), today=TODAY, returns_per_deal=2.65)
    elapsed = time.perf_counter() - started
    rows = sum(len(d["history"]) for d in deals)
    assert rows > 180_000
    assert elapsed < 15.0, elapsed
    with capsys.disabled():
        print(f"\n20,000 deals with {rows:,} history rows generated in {elapsed:.2f} s")
