"""The smaller pieces: row mapping, filters, spend CSV, exports, charts, number formatting, the
settings section and the periodic enqueuer."""

from __future__ import annotations

import datetime as dt
import io
import time

import pytest
from openpyxl import load_workbook

from b24app.analytics import export, plugin, pull, reports, spend, store, svg
from b24app.analytics.filters import FilterError, Filters, parse
from b24app.analytics.settings_section import SCHEMA, demo
from b24app.analytics.tables import rounded
from b24app.settings.schema import Issues, validate
from b24app.store import installations
from b24app.web.views.layout import num


def test_rows_map_the_portals_spellings() -> None:
    row = store.lead_row("m", {"ID": "7", "STATUS_ID": "JUNK", "ASSIGNED_BY_ID": "4", "OPPORTUNITY": "100.50",
                               "DATE_CREATE": "2026-05-26T17:35:54+03:00", "COMPANY_ID": None, "SOURCE_ID": ""},
                         {"JUNK": "F"})
    assert (row["id"], row["semantic"], row["assigned_by_id"], row["opportunity"]) == (7, "F", 4, 100.5)
    assert row["created_at"] == dt.datetime(2026, 5, 26, 14, 35, 54, tzinfo=dt.UTC).timestamp()
    assert row["company_id"] is None and row["source_id"] is None
    assert store.semantic("success") == "S" and store.semantic("failure") == "F" and store.semantic(None) == "P"
    assert store.status_row("m", {"ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "WON", "SEMANTICS": None,
                                  "EXTRA": {"SEMANTICS": "success"}})["semantic"] == "S"
    assert store.parse_time("") is None and store.parse_time({}) is None
    assert store.user_row("m", {"ID": "9", "NAME": "Сергей", "LAST_NAME": "Козлов", "ACTIVE": False})["active"] == 0


def test_upsert_is_idempotent_and_keyed_by_portal(services) -> None:
    rows = [store.deal_row(m, {"ID": "1", "STAGE_ID": "NEW", "OPPORTUNITY": "5"}, {}) for m in ("a", "b")]
    for _ in range(2):
        with services.db.transaction():
            store.upsert(services.db, "analytics_deals", rows)
    changed = store.deal_row("a", {"ID": "1", "STAGE_ID": "WON", "STAGE_SEMANTIC_ID": "S", "OPPORTUNITY": "9"}, {})
    with services.db.transaction():
        store.upsert(services.db, "analytics_deals", [changed])
    got = {r["member_id"]: r for r in services.db.query("SELECT * FROM analytics_deals")}
    assert len(got) == 2 and got["a"]["stage_id"] == "WON" and got["b"]["stage_id"] == "NEW"
    assert pull.forget(services.db, "a", "deal", [1]) == 1
    assert services.db.scalar("SELECT COUNT(*) FROM analytics_deals") == 1


def test_filters_parse_and_bounds() -> None:
    f = parse({"from": "01.09.2026", "to": "2026-09-30", "manager": "4", "source": "UC_YANDEX",
               "member_id": "someone-else"})
    assert f.date_from == dt.date(2026, 9, 1) and f.manager_id == 4 and f.source_id == "UC_YANDEX"
    lo, hi = f.bounds()
    assert lo == dt.datetime(2026, 8, 31, 21, tzinfo=dt.UTC).timestamp()
    assert hi - lo == 30 * 86400
    assert f.query_args() == {"from": "2026-09-01", "to": "2026-09-30", "manager": "4", "source": "UC_YANDEX"}
    for bad in ({"from": "вчера"}, {"manager": "4; DROP TABLE"}, {"source": "a b"},
                {"from": "2026-10-02", "to": "2026-10-01"}):
        with pytest.raises(FilterError):
            parse(bad)
    cond, params = Filters(company_id=5).conditions("d")
    assert cond == " AND d.company_id = ?" and params == [5]


def test_spend_csv_import_rules() -> None:
    items = spend.parse_csv("\ufeffИсточник;Месяц;Сумма\nUC_YANDEX;09.2026;125 000,50\n\nUC_GOOGLE;2026-10;90000\n")
    assert items == [spend.Spend("UC_YANDEX", "2026-09", 125000.5), spend.Spend("UC_GOOGLE", "2026-10", 90000.0)]
    with pytest.raises(spend.SpendError) as err:
        spend.parse_csv("source,month,amount\nUC_YANDEX,2026-13,10\nbad source,2026-01,5\nUC_SEO,2026-01,-1\n")
    assert [line.split(":")[0] for line in err.value.lines] == ["line 2", "line 3", "line 4"]
    with pytest.raises(spend.SpendError, match="no column for amount"):
        spend.parse_csv("source,month\nUC_YANDEX,2026-01\n")
    start, end = spend.month_bounds("2026-02", "Europe/Moscow")
    assert end - start == 28 * 86400


def test_spend_save_replaces_a_month(services) -> None:
    spend.save(services.db, "m", [spend.Spend("UC_SEO", "2026-09", 10.0)], tz="Europe/Moscow")
    spend.save(services.db, "m", [spend.Spend("UC_SEO", "2026-09", 20.0)], tz="Europe/Moscow", by="user_1")
    rows = spend.listing(services.db, "m")
    assert [(r["source_id"], r["month"], r["amount"], r["updated_by"]) for r in rows] == [
        ("UC_SEO", "2026-09", 20.0, "user_1")]
    assert spend.to_csv(rows).splitlines() == ["source,month,amount", "UC_SEO,2026-09,20.00"]
    assert spend.delete(services.db, "m", "UC_SEO", "2026-09") == 1


def test_exports_carry_the_same_numbers(services, loader) -> None:
    from b24sandbox.seed import generator as gen

    ld = loader()
    ld.dictionaries()
    ld.users({3: "Иванов Иван", 4: "Петров Иван", 5: "Зуева Софья"})
    ld.leads(gen.metalprom_lead_funnel(1, today=dt.date(2026, 11, 2)))
    rep = reports.build("managers", services.db, "portal-a", Filters())
    csv_text = export.to_csv(rep.tables[0], "ru").decode("utf-8")
    assert csv_text.startswith("\ufeffМенеджер,Лидов,")
    assert csv_text.strip().splitlines()[-1].startswith("Итого,188,99,31,58,30.85,31.31")
    wb = load_workbook(io.BytesIO(export.to_xlsx(rep, "en")))
    ws = wb[wb.sheetnames[0]]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Manager", "Leads", "Active"]
    total = [[c.value for c in row] for row in ws.iter_rows() if row[0].value == "Total"]
    assert total[0][:7] == ["Total", 188, 99, 31, 58, 30.85, 31.31]
    assert ws.max_row == 1 + len(rep.tables[0].rows) + 1
    defs = wb[wb.sheetnames[-1]]
    assert any(row[1].value and "junk / all leads" in row[1].value for row in defs.iter_rows(min_row=2))


def test_svg_charts_escape_and_scale() -> None:
    out = svg.bars([("<script>", 10.0), ("Б", -5.0), ("пусто", None)], title="T & <b>", fmt=str)
    assert "<script>" not in out and "&lt;script&gt;" in out and "T &amp; &lt;b&gt;" in out
    assert out.count('class="bar"') == 2 and 'fill="#ff5752"' in out
    f = svg.funnel([("Лидов", 188), ("Активные", 99)], title="Воронка", fmt=str)
    widths = [float(x.split('"')[0]) for x in f.split('width="')[2:]]
    assert widths[1] / widths[0] == pytest.approx(99 / 188, rel=1e-3)


def test_rounding_and_formatting() -> None:
    assert rounded(30.851063829787236, "pct") == 30.85 and rounded(0.125, "pct") == 0.13
    assert rounded(2.675, "money") == 2.68 and rounded(7.0, "int") == 7
    assert num(1234567.891, "money", "ru") == "1\u202f234\u202f568"
    assert num(30.85, "pct", "ru") == "30,85\u00a0%" and num(30.85, "pct", "en") == "30.85\u00a0%"
    assert num(None, "pct") == "—" and num(-1500.5, "num", "en") == "-1,500.50"


def test_settings_section_demo_and_validation() -> None:
    facts = {"users": [{"ID": "2", "LAST_NAME": "Смирнова", "NAME": "Ольга"}],
             "statuses": {"DEAL_STAGE": [{"STATUS_ID": "UC_CONTRACT"}, {"STATUS_ID": "NEW"}]}}
    value = demo(facts)
    assert value == {"refresh_minutes": 15, "viewers": [2], "stuck_days": 14, "contract_stages": ["UC_CONTRACT"],
                     "contract_days": 5}
    issues = Issues()
    normalized = SCHEMA.check(value, "analytics", issues)
    assert not issues and normalized["viewers"] == [2]
    _, bad = validate(SCHEMA, {"refresh_minutes": 1, "contract_stages": ["a b"]})
    assert {i.path for i in bad} == {"refresh_minutes", "contract_stages[0]"}
    assert demo({"users": [], "statuses": {}})["viewers"] == []


def test_periodic_enqueues_once_per_interval(services) -> None:
    installations.save_verified(services.db, member_id="m1", domain="a.bitrix24.ru",
                                client_endpoint="http://x/rest/", server_endpoint="", access_token="t",
                                refresh_token="r", expires_at=time.time() + 3600, application_token="at",
                                scopes="crm", user_id=1)
    plugin.enqueue_due(services)
    plugin.enqueue_due(services)
    queued = services.db.query("SELECT * FROM jobs WHERE kind = ?", (plugin.REFRESH_JOB,))
    assert len(queued) == 1 and queued[0]["lock_key"] == "analytics:m1"
    from b24app.store import sync_state

    sync_state.put(services.db, "m1", pull.SUMMARY_STREAM, None, {"refreshed_at": time.time()})
    services.db.execute("DELETE FROM jobs")
    plugin.enqueue_due(services)
    assert services.db.scalar("SELECT COUNT(*) FROM jobs") == 0  # refreshed just now: not due
