"""The decision engine without a portal: junk first, repeat clients to an available owner, the first
matching rule, quality control, caps, the fallback chain (pool, head, queue), robot overrides,
re-routes; stored decisions are unique per item and phase; property: never an unavailable or
capped user."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hst

from b24app.leads import engine, store
from b24app.leads.duplicates import Match
from b24app.leads.engine import Books, decide_item
from tests.unit.leads.conftest import (
    ADMIN,
    HEAD,
    IVANOV,
    KOZLOV,
    PETROV,
    QC,
    ZUEVA,
    demo_settings,
    make_world,
)


def lead(i: int, source: str, **fields) -> dict:
    return {"ID": str(i), "TITLE": f"Лид {i}", "SOURCE_ID": source, "STATUS_ID": "NEW", "ASSIGNED_BY_ID": "1",
            "CREATED_BY_ID": "1", **fields}


def books() -> Books:
    return Books({}, {}, {}, {})


def decide(world, item, b=None, **kw):
    return decide_item(world, b or books(), item, trigger="test", **kw)


def test_weighted_ads_rule_and_explanation(world) -> None:
    b = books()
    got = [decide(world, lead(i, "UC_YANDEX"), b) for i in range(6)]
    for d in got:
        b.count(d)
    assert [d.user_id for d in got] == [PETROV, ZUEVA, PETROV] * 2
    assert {d.rule for d in got} == {"Реклама: Яндекс и Google Ads"} and got[0].strategy == "weighted"
    summary = got[1].explanation["summary"]["ru"]
    assert "Зуева Софья" in summary and "по весам" in summary and "текущий вес" in summary
    assert got[1].explanation["summary"]["en"].startswith("Lead distributed to Зуева Софья")


def test_least_loaded_uses_portal_loads_plus_own_assignments() -> None:
    world = make_world(loads={PETROV: 10, ZUEVA: 8})
    b = books()
    seq = []
    for i in range(5):
        d = decide(world, lead(i, "UC_SEO"), b)
        b.count(d)
        seq.append(d.user_id)
    assert seq[:2] == [ZUEVA, ZUEVA] and seq.count(PETROV) == 2  # 8,9 then ties alternate by idleness
    skipped = {s["user_id"]: s["reason"] for s in decide(world, lead(9, "UC_SEO"), b).explanation["skipped"]}
    assert skipped == {IVANOV: "absent"}


def test_junk_comes_first_and_keeps_the_owner(world) -> None:
    d = decide(world, lead(1, "UC_YANDEX", COMMENTS="http://a.ru http://b.ru http://c.ru"),
               find_matches=lambda _i: [Match("contact", 7, PETROV, "phone", "79120000000", "Клиент")])
    assert d.kind == "junk" and d.new_status == "JUNK" and d.user_id is None
    assert "слишком много ссылок" in d.explanation["summary"]["ru"]
    assert "(статус «Некачественный лид»)" in d.explanation["summary"]["ru"]


def test_repeat_client_goes_to_an_available_owner_else_to_the_rule(world) -> None:
    def found(owner):
        return lambda _i: [Match("deal", 60, owner, "phone", "79125556677", "Поставка", "contact", 27, "Павел Смирнов"),
                           Match("contact", 27, owner, "phone", "79125556677", "Павел Смирнов")]

    d = decide(world, lead(1, "EMAIL"), find_matches=found(ZUEVA))
    assert d.kind == "repeat_client" and d.user_id == ZUEVA  # not to quality control
    assert "контактом #27 «Павел Смирнов» (его открытая сделка #60" in d.explanation["summary"]["ru"]
    d = decide(world, lead(2, "UC_YANDEX"), find_matches=found(IVANOV))  # on vacation
    assert d.kind == "assign" and d.user_id == PETROV
    assert d.explanation["owner_unavailable"] == [{"user_id": IVANOV, "reason": "absent", "detail": "2026-10-11"}]
    assert "Иванов Иван сейчас не может принять лид (отсутствует" in d.explanation["summary"]["ru"]
    dup = decide(world, lead(3, "CALL"), find_matches=lambda _i: [Match("lead", 40, ADMIN, "email", "a@b.ru")])
    assert dup.kind == "assign"  # a lead owned by "nobody" has no owner to follow


def test_quality_control_and_when_qc_is_empty(world) -> None:
    d = decide(world, lead(1, "WEBFORM"))
    assert d.kind == "qc" and d.user_id == QC and d.explanation["target_pool"] == "managers"
    assert "После перевода в статус «В обработке» он будет распределён в пул «managers»" in \
        d.explanation["summary"]["ru"]
    paused = make_world(paused={QC})
    d = decide(paused, lead(2, "WEBFORM"))
    assert d.kind == "assign" and d.user_id in (PETROV, ZUEVA) and d.explanation["qc_skipped"]


def test_other_sources_round_robin_over_the_department(world) -> None:
    b = books()
    seq = []
    for i in range(4):
        d = decide(world, lead(i, "CALL"), b)
        b.count(d)
        seq.append(d.user_id)
    assert seq == [PETROV, ZUEVA, PETROV, ZUEVA]
    skipped = {s["user_id"]: s["reason"] for s in decide(world, lead(9, "CALL"), books()).explanation["skipped"]}
    assert skipped == {IVANOV: "absent", KOZLOV: "inactive"}  # the head is not in the pool
    assert HEAD not in engine.all_pool_users(world.settings, world.people)
    assert KOZLOV in engine.all_pool_users(world.settings, world.people)


def test_caps_then_fallback_chain() -> None:
    s = demo_settings(caps={"daily": 1, "open": None, "users": {str(ZUEVA): {"daily": 2}}})
    world = make_world(s)
    b = books()
    kinds = []
    for i in range(5):
        d = decide(world, lead(i, "UC_GOOGLE"), b)
        b.count(d)
        kinds.append((d.kind, d.user_id))
    assert kinds == [("assign", PETROV), ("assign", ZUEVA), ("assign", ZUEVA), ("head", HEAD), ("head", HEAD)]
    d = decide(world, lead(9, "UC_GOOGLE"), b)
    assert {s["user_id"]: s["reason"] for s in d.explanation["skipped"]} == {PETROV: "daily_cap", ZUEVA: "daily_cap"}
    assert "достигнут дневной лимит" in d.explanation["summary"]["ru"]
    s = demo_settings(caps={"daily": None, "open": None, "users": {str(PETROV): {"daily": 0}, str(ZUEVA): {"daily": 0}}},
                      pools={**demo_settings()["distribution"]["pools"], "reserve": {"users": [IVANOV, KOZLOV]}},
                      fallback=[{"pool": "reserve"}, {"queue": True}])
    d = decide(make_world(s, absent={}), lead(1, "UC_YANDEX"))
    assert d.kind == "fallback_pool" and d.user_id == IVANOV
    d = decide(make_world(s), lead(1, "UC_YANDEX"))
    assert d.kind == "queued" and d.status == "queued" and d.user_id is None
    assert d.explanation["fallback"] == [{"pool": "ads", "result": "nobody"}, {"pool": "reserve", "result": "nobody"}]


def test_open_cap_counts_portal_load_and_own_assignments() -> None:
    world = make_world(demo_settings(caps={"daily": None, "open": 11, "users": {}}), loads={PETROV: 10, ZUEVA: 11})
    b = books()
    d = decide(world, lead(1, "CALL"), b)
    b.count(d)
    assert d.user_id == PETROV
    d = decide(world, lead(2, "CALL"), b)
    assert d.kind == "head" and {s["reason"] for s in d.explanation["skipped"]} >= {"open_cap"}


def test_off_schedule_and_holidays() -> None:
    s = demo_settings()
    s["calendar"]["users"] = {str(ZUEVA): {"timezone": "Asia/Yekaterinburg", "hours": "12:00-21:00",
                                           "breaks": []}}
    world = make_world(s, now=dt.datetime(2026, 10, 6, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=3))))
    d = decide(world, lead(1, "UC_GOOGLE"))
    assert d.user_id == PETROV  # Зуева starts at 12:00 Yekaterinburg = 10:00 Moscow
    world = make_world(s, now=dt.datetime(2026, 11, 4, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=3))))
    d = decide(world, lead(2, "UC_GOOGLE"))  # 4 November: a public holiday
    assert d.kind == "head"
    assert {x["reason"] for x in d.explanation["skipped"]} == {"off_schedule"}


def test_robot_overrides_and_reroute_exclusion(world) -> None:
    d = decide(world, lead(1, "UC_YANDEX"), strategy_override="least_loaded", pool_override="managers")
    assert d.strategy == "least_loaded" and d.explanation["pool"] == "managers"
    d = decide(world, lead(2, "UC_YANDEX"), pool_override="robot", extra_pools={"robot": {"users": [ZUEVA]}})
    assert d.user_id == ZUEVA
    d = decide(world, lead(3, "UC_YANDEX"), phase="reroute:1", exclude={PETROV},
               release_rule=world.dist["rules"][0], extra_explanation={"reroute": {"n": 1, "max": 2, "minutes": 30}})
    assert d.kind == "reroute" and d.user_id == ZUEVA
    assert {s["user_id"]: s["reason"] for s in d.explanation["skipped"]}[PETROV] == "tried"
    assert "(переназначение 1 из 2)" in d.explanation["summary"]["ru"]


def test_no_rule_is_never_a_silent_drop() -> None:
    world = make_world(demo_settings(rules=[{"name": "Только Яндекс", "when": {"source": ["UC_YANDEX"]},
                                             "pool": "ads", "strategy": "round_robin"}]))
    d = decide(world, lead(1, "CALL"))
    assert d.kind == "head" and d.user_id == HEAD and d.explanation["no_rule"]
    assert "Ни одно правило распределения не подошло" in d.explanation["summary"]["ru"]


def test_unprocessed_means_new_and_owned_by_nobody_or_its_creator(world) -> None:
    pool_users = engine.all_pool_users(world.settings, world.people)
    assert engine.is_unprocessed(lead(1, "CALL"), world.settings, pool_users)
    assert not engine.is_unprocessed(lead(1, "CALL", STATUS_ID="IN_PROCESS"), world.settings, pool_users)
    assert not engine.is_unprocessed(lead(1, "CALL", ASSIGNED_BY_ID="4", CREATED_BY_ID="4"), world.settings,
                                     pool_users)  # a manager's own lead stays his
    assert engine.is_unprocessed(lead(1, "CALL", ASSIGNED_BY_ID="7", CREATED_BY_ID="7"), world.settings,
                                 pool_users)  # made by the accountant for the sales team


def test_decisions_are_stored_once_per_item_and_phase(services) -> None:
    world = make_world(member_id="m1")
    first = engine.decide_and_save(services.db, world, [lead(1, "UC_YANDEX"), lead(2, "UC_YANDEX")])
    again = engine.decide_and_save(services.db, world, [lead(1, "UC_YANDEX"), lead(3, "UC_YANDEX")])
    assert [d.id for d in again][0] == first[0].id and again[0].user_id == first[0].user_id
    assert [d.user_id for d in first + again[1:]] == [PETROV, ZUEVA, PETROV]  # the pointer persisted
    assert len(store.recent(services.db, "m1")) == 3
    state = store.load_states(services.db, "m1", ["weighted|Реклама: Яндекс и Google Ads|ads"])
    assert state == {"weighted|Реклама: Яндекс и Google Ads|ads": {str(PETROV): 0, str(ZUEVA): 0}}
    # a queued decision is decided again (same row, next attempt)
    nobody = make_world(paused={PETROV, ZUEVA, HEAD}, member_id="m1")
    [held] = engine.decide_and_save(services.db, nobody, [lead(9, "UC_YANDEX")])
    assert held.status == "queued"
    [still] = engine.decide_and_save(services.db, nobody, [lead(9, "UC_YANDEX")])
    assert still.id == held.id and still.attempts == 1  # still waiting: nothing new to write
    [later] = engine.decide_and_save(services.db, world, [lead(9, "UC_YANDEX")])
    assert later.id == held.id and later.attempts == 2 and later.user_id == PETROV  # a new cycle


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(absent=hst.sets(hst.sampled_from([IVANOV, PETROV, ZUEVA, QC])),
       paused=hst.sets(hst.sampled_from([IVANOV, PETROV, ZUEVA, QC, HEAD])),
       daily=hst.none() | hst.integers(0, 3), opened=hst.none() | hst.integers(0, 15),
       loads=hst.dictionaries(hst.sampled_from([IVANOV, PETROV, ZUEVA]), hst.integers(0, 15)),
       sources=hst.lists(hst.sampled_from(["UC_YANDEX", "UC_SOCIAL", "EMAIL", "CALL", "UC_CHATBOT"]), min_size=1,
                         max_size=25))
def test_never_an_unavailable_or_capped_user(absent, paused, daily, opened, loads, sources) -> None:
    s = demo_settings(caps={"daily": daily, "open": opened, "users": {}})
    world = make_world(s, absent={str(u): "2026-10-20" for u in absent}, loads=loads, paused=paused)
    b = books()
    for i, source in enumerate(sources):
        d = decide(world, lead(i, source), b)
        if d.kind in ("assign", "fallback_pool"):
            assert d.user_id not in absent | paused | {KOZLOV}
            assert daily is None or b.daily.get(d.user_id, 0) < daily
            assert opened is None or b.open_now(world, d.user_id) < opened
        elif d.kind == "qc":
            assert d.user_id == QC and QC not in absent | paused
        elif d.kind == "head":
            assert d.user_id == HEAD and HEAD not in paused
        else:
            assert d.kind == "queued" and d.user_id is None
        b.count(d)
