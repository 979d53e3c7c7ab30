"""The settings pages in real headless Chromium, inside a portal page's iframe opened with the portal's
POST: an administrator reorders the distribution rules (dragging one by its handle, moving another
with the keyboard buttons) and changes a manager's weight, saves, and the stored settings change; a
bad weight is shown next to its field and nothing is stored; the next contract number follows the
format as it is typed; a non-administrator reads the settings but has no save button and a forged
POST gets 403. Screenshots of every settings page and the audit page go to artifacts/browser/."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from playwright.sync_api import Frame, Page

from b24app.store import jobs as jobs_repo
from b24app.web.views.settings import section_title
from tests.browser.conftest import open_in_portal, shot
from tests.scenarios.ui.conftest import ADMIN, HEAD_OF_SALES, PETROV, ZUEVA, stored

pytestmark = pytest.mark.browser

RULES = '[data-list="distribution.rules"] > [data-items] > [data-item]'


def rule_names(frame: Frame) -> list[str]:
    return frame.eval_on_selector_all(
        RULES, "items => items.map(i => i.querySelector('input[name$=\".name\"]').value)")


def pool_entry(frame: Frame, pool: str) -> Any:
    return frame.locator('[data-list="distribution.pools"] > [data-items] > [data-item]').filter(
        has=frame.locator(f'input[name$=".k"][value="{pool}"]'))


def pool_row(frame: Frame, pool: str, user_id: int) -> Any:
    return pool_entry(frame, pool).locator("tr[data-item]").filter(
        has=frame.locator(f'option[value="{user_id}"][selected]'))


def open_section(frame: Frame, name: str, lang: str = "ru") -> None:
    with frame.expect_navigation():
        frame.locator(f'nav.settings-nav a[data-section="{name}"]').click()
    frame.wait_for_selector("#settings-form")


def test_admin_reorders_rules_changes_a_weight_and_saves(sandbox, metalprom, page: Page) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    frame = open_in_portal(page, sandbox, app, portal, ADMIN)
    with frame.expect_navigation():
        frame.get_by_role("navigation").get_by_role("link", name="Настройки", exact=True).click()
    frame.wait_for_selector(".settings-cards")
    shot(page, "10-settings-index")
    with frame.expect_navigation():
        frame.locator('.settings-cards a[data-section="distribution"]').click()
    frame.wait_for_selector(RULES)
    before = rule_names(frame)
    assert len(before) == 4
    shot(page, "11-settings-distribution")

    # drag the last rule by its handle above the first one
    rules = frame.locator(RULES)
    rules.nth(3).locator("[data-handle]").first.drag_to(rules.nth(0), target_position={"x": 20, "y": 4})
    after_drag = rule_names(frame)
    assert after_drag == [before[3]] + before[:3], after_drag
    # and with the keyboard buttons: the (now) third rule one place up
    frame.locator(RULES).nth(2).locator("[data-up]").first.click()
    expected = [before[3], before[1], before[0], before[2]]
    assert rule_names(frame) == expected

    pool_entry(frame, "ads").locator("summary").first.click()  # pools are drawn folded: open "ads"
    weight = pool_row(frame, "ads", PETROV).locator('input[name$=".v"]')
    assert weight.input_value() == "2"
    weight.fill("3")
    shot(page, "12-settings-distribution-edited")
    with frame.expect_navigation():
        frame.locator("#save").click()
    frame.wait_for_selector("main p.notice")
    assert "Настройки сохранены" in frame.locator("main p.notice").first.inner_text()
    doc, version = stored(app, m)
    assert version == 2
    assert [r["name"] for r in doc["distribution"]["rules"]] == expected
    assert doc["distribution"]["pools"]["ads"]["weights"] == {str(PETROV): 3, str(ZUEVA): 1}
    assert rule_names(frame) == expected
    shot(page, "13-settings-distribution-saved")

    # a weight below zero: the problem next to the field, nothing stored
    pool_entry(frame, "ads").locator("summary").first.click()
    pool_row(frame, "ads", ZUEVA).locator('input[name$=".v"]').fill("-1")
    with frame.expect_navigation():
        frame.locator("#save").click()
    err = frame.locator(f'[data-error-for="distribution.pools.ads.weights.{ZUEVA}"]')
    assert err.inner_text() == "не может быть меньше 0"
    assert pool_row(frame, "ads", ZUEVA).locator(f'[data-error-for="distribution.pools.ads.weights.{ZUEVA}"]').count() == 1
    assert "Не сохранено" in frame.locator("#problems").inner_text()
    assert stored(app, m) == (doc, version)
    shot(page, "14-settings-distribution-error")

    # every other section and the audit page
    for n, name in enumerate(("general", "calendar", "stages", "sla", "contracts", "onec", "analytics")):
        open_section(frame, name)
        assert frame.locator("main h1").inner_text() == section_title(name, "ru")
        if frame.locator("details.fold > summary").count():
            frame.locator("details.fold > summary").first.click()  # one folded item opened for the picture
        shot(page, f"15-settings-{n}-{name}")
    # the audit page after a lead came in and a job failed for good
    hook = sandbox.webhook(m)
    lead = requests.post(hook + "crm.lead.add.json", json={"fields": {
        "TITLE": "Профильная труба 60×40, 3 т", "SOURCE_ID": "UC_SOCIAL", "STATUS_ID": "NEW", "ASSIGNED_BY_ID": 1}},
        timeout=30).json()["result"]
    sandbox.wait_deliveries()
    jobs_repo.enqueue(app.db, "contracts.issue", {"deal_id": 999999, "type": "prepayment"}, member_id=m,
                      max_attempts=1)
    app.drain()
    with frame.expect_navigation():
        frame.get_by_role("navigation").get_by_role("link", name="Журнал", exact=True).click()
    frame.wait_for_selector("#dead-jobs")
    assert frame.locator('table[data-table="decisions"] tbody tr').filter(has_text=str(lead)).count() >= 1
    assert "сделка 999999 не найдена" in frame.locator('table[data-table="dead"]').inner_text()
    assert frame.locator("[data-retry]").count() == 1
    shot(page, "16-audit")


def test_contract_number_follows_the_format_as_typed(sandbox, metalprom, page: Page) -> None:
    app, portal = metalprom
    frame = open_in_portal(page, sandbox, app, portal, ADMIN)
    with frame.expect_navigation():
        frame.get_by_role("navigation").get_by_role("link", name="Настройки", exact=True).click()
    with frame.expect_navigation():
        frame.locator('.settings-cards a[data-section="contracts"]').click()
    first = frame.locator('[data-list="contracts.types"] > [data-items] > [data-item]').first
    preview = first.locator(".number-preview")
    assert "-МП" in preview.locator(".np-text").first.inner_text()  # shown also while the type is folded
    first.locator("summary").first.click()
    first.locator('input[name="contracts.types.0.format"]').fill("ДП-{YYYY}/{SEQ:6}-{COMPANY}")
    frame.wait_for_function(
        "() => [...document.querySelectorAll('[data-list=\"contracts.types\"] [data-item] .np-text')]"
        ".some(e => /^ДП-\\d{4}\\/000001-МП$/.test(e.textContent))")
    first.locator('input[name="contracts.types.0.format"]').fill("ДП-{NUMBER}")
    frame.wait_for_selector('[data-list="contracts.types"] [data-item] .np-error')
    assert "NUMBER" in first.locator(".np-error").inner_text()
    shot(page, "17-settings-contracts-preview")


def test_a_non_admin_reads_but_cannot_save(sandbox, metalprom, page: Page) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    frame = open_in_portal(page, sandbox, app, portal, HEAD_OF_SALES)
    assert frame.locator("#who").get_attribute("data-admin") == "N"
    with frame.expect_navigation():
        frame.get_by_role("navigation").get_by_role("link", name="Настройки", exact=True).click()
    with frame.expect_navigation():
        frame.locator('.settings-cards a[data-section="distribution"]').click()
    frame.wait_for_selector("#read-only")
    assert frame.locator("#save").count() == 0 and frame.locator("form#settings-form").count() == 0
    assert frame.locator(RULES).count() == 4
    assert frame.locator('#settings-form input[name="distribution.rules.0.name"]').is_disabled()
    assert frame.locator("[data-handle]").count() == 0
    shot(page, "18-settings-read-only")
    before = stored(app, m)
    status = frame.evaluate(
        """async () => {
            const body = new URLSearchParams({"distribution.caps.daily": "1", "_version": "1"});
            const r = await window.b24app.fetch(window.b24app.url('/app/settings/s/distribution'),
                                                {method: 'POST', body});
            return r.status;
        }""")
    assert status == 403
    assert stored(app, m) == before
