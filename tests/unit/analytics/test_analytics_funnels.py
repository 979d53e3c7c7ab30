"""Lead and deal funnels against data sets with known answers.

The МеталПром lead-funnel table (188 = 99 active + 31 converted + 58 junk; losses 30.85 %,
conversion 31.31 %) is reproduced from b24sandbox.seed.generator.metalprom_lead_funnel, on SQLite and
on PostgreSQL. The deal funnel is checked on a hand-made set and, on generated deals, against an
independent recomputation in Python from the generator's stage histories.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from b24app.analytics import reports
from b24app.analytics.filters import Filters
from b24sandbox.seed import generator as gen
from b24sandbox.seed.dictionaries import DEAL_STAGES_0

TODAY = dt.date(2026, 11, 2)
MANAGERS = {3: "Иванов Иван", 4: "Петров Иван", 5: "Зуева Софья"}
H = "T10:00:00+03:00"


def pct(n: int, d: int) -> float:
    """Half-up to two places, as the reports round."""
    return float((Decimal(100 * n) / Decimal(d)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _load_funnel(loader_cls, svc, member_id="portal-a"):
    ld = loader_cls(svc, member_id)
    ld.dictionaries()
    ld.users(MANAGERS)
    ld.leads(gen.metalprom_lead_funnel(1, assigned_ids=(3, 4, 5), today=TODAY))
    return ld


def test_metalprom_lead_funnel_exact_on_both_engines(engine, make_loader) -> None:
    _load_funnel(make_loader, engine)
    rep = reports.build("funnel", engine.db, "portal-a", Filters())
    assert rep.summary == {"leads": 188, "active": 99, "converted": 31, "junk": 58,
                           "loss_pct": 30.85, "conversion_pct": 31.31}
    assert gen.METALPROM_FUNNEL == {k: rep.summary[k] for k in ("leads", "active", "converted", "junk")}


def test_metalprom_funnel_per_manager_matches_the_table(engine, make_loader) -> None:
    _load_funnel(make_loader, engine)
    rows = {r["manager_id"]: r for r in reports.build("managers", engine.db, "portal-a", Filters()).tables[0].rows}
    for uid, expected in zip((3, 4, 5), gen.METALPROM_FUNNEL_BY_MANAGER, strict=True):
        got = rows[uid]
        assert (got["active"], got["converted"], got["junk"]) == (expected["active"], expected["converted"],
                                                                  expected["junk"])
        leads = sum(expected.values())
        assert got["leads"] == leads
        assert got["loss_pct"] == pct(expected["junk"], leads)
        assert got["conversion_pct"] == pct(expected["converted"], expected["active"])
        assert got["manager"] == MANAGERS[uid]
    total = reports.build("managers", engine.db, "portal-a", Filters()).tables[0].total
    assert (total["leads"], total["loss_pct"], total["conversion_pct"]) == (188, 30.85, 31.31)


def test_other_portals_rows_never_count(services, loader, make_loader) -> None:
    _load_funnel(make_loader, services, "portal-a")
    other = loader("portal-b")
    other.dictionaries()
    other.leads(gen.generate_leads(40, 1, 7, assigned_ids=(3,), today=TODAY))
    assert reports.build("funnel", services.db, "portal-a", Filters()).summary["leads"] == 188
    assert reports.build("funnel", services.db, "portal-b", Filters()).summary["leads"] == 40


def test_lead_statuses_shares_add_up(services, make_loader) -> None:
    _load_funnel(make_loader, services)
    tbl = reports.build("funnel", services.db, "portal-a", Filters()).table("lead_statuses")
    by = {r["status"]: r for r in tbl.rows}
    assert by["Некачественный лид"]["leads_in_status"] == 58 and by["Некачественный лид"]["share_pct"] == 30.85
    assert by["Конвертирован"]["leads_in_status"] == 31
    assert by["Новый"]["leads_in_status"] + by["В обработке"]["leads_in_status"] == 99
    assert tbl.total["leads_in_status"] == 188


def test_period_and_filters_narrow_the_funnel(services, make_loader) -> None:
    _load_funnel(make_loader, services)
    leads = gen.metalprom_lead_funnel(1, assigned_ids=(3, 4, 5), today=TODAY)
    cut = dt.date(2026, 9, 15)
    in_period = [x for x in leads if dt.date.fromisoformat(x["DATE_CREATE"][:10]) >= cut]
    f = Filters(date_from=cut, date_to=TODAY)
    s = reports.build("funnel", services.db, "portal-a", f).summary
    assert s["leads"] == len(in_period)
    assert s["junk"] == sum(1 for x in in_period if x["STATUS_ID"] == "JUNK")
    petrov = [x for x in leads if x["ASSIGNED_BY_ID"] == 4 and x["SOURCE_ID"] == "UC_YANDEX"]
    s = reports.build("funnel", services.db, "portal-a", Filters(manager_id=4, source_id="UC_YANDEX")).summary
    assert s["leads"] == len(petrov)
    assert s["converted"] == sum(1 for x in petrov if x["STATUS_ID"] == "CONVERTED")


def _deal(i: int, stages: list[str], amount: float = 1000.0, category: int = 0) -> dict:
    return {"ID": i, "TITLE": f"Сделка {i}", "CATEGORY_ID": category, "STAGE_ID": stages[-1], "ASSIGNED_BY_ID": 4,
            "OPPORTUNITY": amount, "DATE_CREATE": f"2026-09-0{1 + i % 8}{H}", "COMPANY_ID": 1,
            "history": [{"STAGE_ID": s, "CREATED_TIME": f"2026-09-{10 + n:02d}{H}"} for n, s in enumerate(stages)]}


def test_deal_funnel_known_answer(services, loader) -> None:
    ld = loader()
    ld.dictionaries()
    ld.deals([
        _deal(1, ["NEW", "PREPARATION", "UC_APPROVAL", "UC_CONTRACT", "UC_DOCS", "UC_AWAIT_PAYMENT",
                  "UC_PARTIAL_PAID", "UC_PAID", "UC_SHIPMENT", "WON"], 5000),
        _deal(2, ["NEW", "PREPARATION", "LOSE"], 700),
        _deal(3, ["NEW", "UC_APPROVAL"], 300),  # a jump over PREPARATION counts as passing it
        _deal(4, ["NEW"], 100),
        _deal(5, ["NEW", "PREPARATION", "NEW"], 50),  # came back: its furthest stage is PREPARATION
    ])
    tbl = reports.build("funnel", services.db, "portal-a", Filters()).table("deal_funnel")
    by = {r["stage_id"]: r for r in tbl.rows}
    assert [r["stage_id"] for r in tbl.rows] == [s[0] for s in DEAL_STAGES_0]
    assert by["NEW"]["reached"] == 5 and by["PREPARATION"]["reached"] == 4 and by["UC_APPROVAL"]["reached"] == 2
    assert by["UC_CONTRACT"]["reached"] == 1 and by["WON"]["reached"] == 1
    assert by["NEW"]["conversion_next_pct"] == 80.0 and by["NEW"]["drop_off"] == 1
    assert by["PREPARATION"]["conversion_next_pct"] == 50.0 and by["PREPARATION"]["drop_off"] == 2
    assert by["UC_SHIPMENT"]["conversion_next_pct"] == 100.0
    assert by["LOSE"]["reached"] == 1 and by["LOSE"]["conversion_next_pct"] is None
    assert by["NEW"]["now_count"] == 2 and by["NEW"]["now_sum"] == 150.0
    assert tbl.total["now_count"] == 5 and tbl.total["now_sum"] == 6150.0


def test_deal_funnel_equals_independent_recomputation(services, loader) -> None:
    stages = [s[0] for s in DEAL_STAGES_0]
    order = {s[0]: i for i, s in enumerate(DEAL_STAGES_0)}
    failure = {s[0] for s in DEAL_STAGES_0 if s[2] == "failure"}
    deals = gen.generate_deals(400, 1, 3, stages, company_ids=[1, 2, 3], today=TODAY)
    ld = loader()
    ld.dictionaries()
    ld.deals(deals)
    furthest = []
    for d in deals:
        visited = [h["STAGE_ID"] for h in d["history"]] + [d["STAGE_ID"]]
        furthest.append(max(order[s] for s in visited if s not in failure))
    tbl = reports.build("funnel", services.db, "portal-a", Filters()).table("deal_funnel")
    for row in tbl.rows:
        if row["stage_id"] in failure:
            assert row["reached"] == sum(1 for d in deals if d["STAGE_ID"] == row["stage_id"])
        else:
            assert row["reached"] == sum(1 for f in furthest if f >= order[row["stage_id"]]), row
        assert row["now_count"] == sum(1 for d in deals if d["STAGE_ID"] == row["stage_id"])


def test_deal_funnel_of_another_funnel(services, loader) -> None:
    ld = loader()
    ld.dictionaries()
    ld.deals([_deal(1, ["C1:NEW", "C1:PREPARATION", "C1:WON"], category=1), _deal(2, ["C1:NEW"], category=1),
              _deal(3, ["NEW"])])
    tbl = reports.build("funnel", services.db, "portal-a", Filters(category_id=1)).table("deal_funnel")
    assert [(r["stage_id"], r["reached"]) for r in tbl.rows] == [
        ("C1:NEW", 2), ("C1:PREPARATION", 1), ("C1:UC_BID", 1), ("C1:WON", 1), ("C1:LOSE", 0)]
