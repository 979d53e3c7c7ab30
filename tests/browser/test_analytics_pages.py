"""The analytics pages in real headless Chromium, opened inside a portal page's iframe the way
Bitrix24 opens them: the dashboard with the МеталПром demo data, spend upload, every report and its
exports; non-admins kept out of admin pages; another portal's session reading nothing of this one."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer
from openpyxl import load_workbook
from playwright.sync_api import Frame, Page

from b24app.analytics import reports
from b24app.analytics.filters import Filters
from b24app.analytics.plugin import enqueue_refresh
from b24app.analytics.settings_section import demo
from b24app.settings import document
from b24app.settings.demo import portal_facts
from b24app.web import auth
from b24app.web.views.layout import num
from b24sandbox.seed import metalprom
from tests.browser.conftest import open_in_portal, session_token, shot
from tests.scenarios.analytics.conftest import install_app

pytestmark = pytest.mark.browser

ADMIN, HEAD_OF_SALES, PETROV = 1, 2, 4
REPORTS = ("funnel", "managers", "channels", "stages", "clients", "lights")


@pytest.fixture
def metalprom_app(sandbox, app_factory) -> tuple[Any, dict[str, Any]]:
    """The app in a МеталПром portal: demo analytics settings, data pulled by the refresh job."""
    portal = sandbox.new_portal("metalprom")
    m = portal["member_id"]
    app = app_factory()
    install_app(sandbox, app, m)
    doc = document.load(app.db, m)
    doc["analytics"] = demo(portal_facts(app.services, m))
    document.save(app.db, m, doc)
    enqueue_refresh(app.services, m, reason="test")
    app.drain()
    return app, portal


def kpi(frame: Frame, key: str) -> str:
    return frame.locator(f'#kpis b[data-key="{key}"]').inner_text()


def goto(frame: Frame, app, path: str, token: str, **args: str) -> Any:
    query = "&".join(f"{k}={v}" for k, v in {"s": token, **args}.items())
    return frame.goto(f"{app.url}{path}?{query}")


def test_dashboard_renders_with_metalprom_demo_data(sandbox, metalprom_app, page: Page, tmp_path) -> None:
    app, portal = metalprom_app
    m = portal["member_id"]
    frame = open_in_portal(page, sandbox, app, portal, ADMIN)
    assert frame.locator("#who").get_attribute("data-admin") == "Y"
    assert frame.locator('#home-funnel b[data-key="leads"]').inner_text() == "120"
    shot(page, "01-home-admin")

    frame.get_by_role("navigation").get_by_role("link", name="Аналитика", exact=True).click()
    frame.wait_for_selector("#kpis")
    expected = reports.build("funnel", app.db, m, Filters()).summary
    assert expected["leads"] == 120 and expected["junk"] == 28  # the seed's lead statuses
    for key, value in expected.items():
        assert kpi(frame, key) == num(value, "pct" if key.endswith("_pct") else "int", "ru")
    assert frame.locator("svg.chart").count() == 3
    assert frame.locator("#chart-lead_funnel .bar").count() == 4
    assert "junk" not in frame.locator('dd[data-definition="loss_pct"]').inner_text()
    assert "некачественные / все лиды" in frame.locator('dd[data-definition="loss_pct"]').inner_text()
    shot(page, "02-dashboard")

    # the seed's ad spend, uploaded as CSV through the spend page
    spend_csv = tmp_path / "spend.csv"
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["source", "month", "amount"])
    rows = metalprom.build(1)["ad_spend"]
    for r in rows:
        w.writerow([r["SOURCE_ID"], r["PERIOD"], r["AMOUNT"]])
    spend_csv.write_text(buf.getvalue(), encoding="utf-8")
    frame.locator('a[data-report="spend"]').click()
    frame.wait_for_selector("#spend-import")
    frame.set_input_files('#spend-import input[type="file"]', str(spend_csv))
    frame.locator('#spend-import button[type="submit"]').click()
    frame.wait_for_selector("p.notice")
    assert f"Сохранено строк: {len(rows)}" in frame.locator("p.notice").inner_text()
    assert frame.locator('table[data-table="spend"] tbody tr').count() == len(rows)
    shot(page, "03-spend")

    for name in REPORTS:
        with frame.expect_navigation():
            frame.locator(f'a[data-report="{name}"]').click()
        frame.wait_for_selector("section.report-table >> nth=0")
        rep = reports.build(name, app.db, m, Filters(), doc_analytics(app, m))
        for tbl in rep.tables:
            shown = frame.locator(f'table[data-table="{tbl.name}"] tbody tr').count()
            assert shown == len(tbl.rows), (name, tbl.name)
        shot(page, f"04-report-{name}")
    channels = reports.build("channels", app.db, m, Filters()).tables[0]
    yandex = next(r for r in channels.rows if r["source_id"] == "UC_YANDEX")
    assert yandex["spend"] == sum(r["AMOUNT"] for r in rows if r["SOURCE_ID"] == "UC_YANDEX")

    with frame.expect_navigation():
        frame.locator('a[data-report="channels"]').click()
    frame.wait_for_selector('table[data-table="channels"]')
    cell = frame.locator('table[data-table="channels"] tbody tr', has_text="Яндекс").locator('td[data-key="spend"]')
    assert cell.inner_text() == num(yandex["spend"], "money", "ru")
    with page.expect_download() as dl:
        frame.locator("#export-xlsx").click()
    assert dl.value.suggested_filename == "channels.xlsx"
    dl.value.save_as(tmp_path / "channels.xlsx")
    wb = load_workbook(tmp_path / "channels.xlsx")
    assert wb.sheetnames[0] == "Каналы_ расходы, продажи, ROI"  # ":" is not allowed in sheet names
    with page.expect_download() as dl:
        frame.locator('a[data-export="channels"]').click()
    with open(dl.value.path(), encoding="utf-8-sig") as fh:
        table = list(csv.reader(fh))
    assert table[0] == [c.title("ru") for c in channels.visible()]
    row = next(r for r in table if r[0] == "Яндекс")
    assert float(row[1]) == yandex["spend"]


def doc_analytics(app, member_id: str) -> dict[str, Any]:
    return document.load(app.db, member_id).get("analytics") or {}


def test_non_admin_cannot_reach_admin_pages(sandbox, metalprom_app, page: Page) -> None:
    app, portal = metalprom_app
    frame = open_in_portal(page, sandbox, app, portal, HEAD_OF_SALES)
    assert frame.locator("#who").get_attribute("data-admin") == "N"
    nav = frame.locator("nav.mainnav").inner_text()
    assert "Аналитика" in nav and "Данные аналитики" not in nav
    token = session_token(frame)
    goto(frame, app, "/app/analytics/data", token)
    assert "только для администраторов" in frame.locator("#error-message").inner_text()
    shot(page, "05-head-of-sales-data-403")
    goto(frame, app, "/app/analytics/spend", token)
    assert frame.locator("#read-only").is_visible() and frame.locator("#spend-form").count() == 0
    shot(page, "06-head-of-sales-spend-read-only")
    goto(frame, app, "/app/analytics", token)
    assert kpi(frame, "leads") == "120"

    frame = open_in_portal(page, sandbox, app, portal, PETROV)
    assert "Аналитика" not in frame.locator("nav.mainnav").inner_text()
    goto(frame, app, "/app/analytics", session_token(frame))
    assert "кто видит отчёты" in frame.locator("#error-message").inner_text()
    shot(page, "07-manager-analytics-403")


def test_another_portals_session_cannot_read_this_portals_data(sandbox, metalprom_app, app_factory,
                                                                page: Page) -> None:
    app, portal = metalprom_app
    other = sandbox.new_portal("empty")
    sandbox.control("POST", f"/portals/{other['member_id']}/generate", {"leads": 37, "rng_seed": 3})
    install_app(sandbox, app, other["member_id"])
    enqueue_refresh(app.services, other["member_id"], reason="test")
    app.drain()
    frame = open_in_portal(page, sandbox, app, other, ADMIN)
    token = session_token(frame)
    # naming the МеталПром portal in the URL changes nothing: the session's portal is the only one
    goto(frame, app, "/app/analytics", token, member_id=portal["member_id"], portal=portal["member_id"])
    assert kpi(frame, "leads") == "37"
    shot(page, "08-other-portal-dashboard")
    # a session edited to name the МеталПром portal cannot carry our signature: refused
    _valid, data = URLSafeTimedSerializer("not-the-key", salt=auth.SALT).loads_unsafe(token)
    data["member_id"] = portal["member_id"]
    edited = URLSafeTimedSerializer("not-the-key", salt=auth.SALT).dumps(data)
    goto(frame, app, "/app/analytics", edited)
    assert "Сеанс недействителен" in frame.locator("#error-message").inner_text()
    shot(page, "09-edited-session-refused")
