"""The deal tab and the 1C settings page in real headless Chromium, opened inside a portal page's iframe
with the portal's POST, on a МеталПром deal with both 1C bases connected: «Сформировать договор» and
«Выставить счет в 1С» show their progress until the jobs (run by a background worker) are done, then
the tab shows the contract and the 1C invoice; a payment registered in the 1C sandbox and pulled by
the sync appears with paid and remaining. The 1C page tests a saved connection. Screenshots go to
artifacts/browser/."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from b24app.contracts import register
from b24app.sync_1c import api
from b24app.sync_1c.plugin import enqueue_pull
from b24app.web.views.layout import num
from tests.browser.conftest import open_in_portal, shot
from tests.scenarios.harness import wait_for
from tests.scenarios.sync_1c.conftest import MP, Portal, msk

pytestmark = pytest.mark.browser

ADMIN = 1


def portal_of(mp: Portal) -> dict[str, Any]:
    return next(p for p in mp.sandbox.control("GET", "/portals") if p["member_id"] == mp.member_id)


def test_deal_tab_contract_invoice_and_payment(mp: Portal, page: Page) -> None:
    deal_id = mp.deal_of(MP, stage="UC_AWAIT_PAYMENT")
    portal = portal_of(mp)
    mp.app.start_workers(1)
    frame = open_in_portal(page, mp.sandbox, mp.app, portal, ADMIN, placement="CRM_DEAL_DETAIL_TAB",
                           options={"ID": str(deal_id)}, path="/placement/deal_tab")
    frame.wait_for_selector("#deal-tab")
    assert frame.locator("#deal-stage").inner_text() == "Ожидание оплаты"
    assert frame.locator("#no-contract").is_visible() and frame.locator("#no-invoice").is_visible()
    shot(page, "20-deal-tab")

    frame.select_option('form[data-action="contract"] select[name="type"]', "deferred")
    with frame.expect_navigation(timeout=60_000):  # the tab reloads itself when the job is done
        frame.locator("#make-contract").click()
    contract = register.contract_for_deal(mp.app.db, mp.member_id, deal_id)
    assert contract is not None and contract["type"] == "deferred"
    frame.wait_for_selector(".contract-number")
    assert frame.locator(".contract-number").inner_text() == contract["number"]
    assert frame.locator("a.contract-file").get_attribute("href") == contract["document_url"]
    shot(page, "21-deal-tab-contract")

    with frame.expect_navigation(timeout=60_000):
        frame.locator("#push-invoice").click()
    frame.wait_for_selector("#invoices")
    status = api.payment_status(mp.app.db, mp.member_id, deal_id)
    assert status is not None and status.invoice_number
    assert frame.locator(f'tr[data-invoice="{status.invoice_number}"]').count() == 1
    assert frame.locator('[data-key="remaining"]').inner_text() == num(float(status.amount), "money", "ru")

    paid = round(float(status.amount) * 0.4, 2)
    mp.pay(status.base, status.ref_key, paid, msk(5))
    enqueue_pull(mp.app.db, mp.member_id, status.base)
    wait_for(lambda: (api.payment_status(mp.app.db, mp.member_id, deal_id) or status).paid > 0, timeout=60,
             what="the payment pulled from 1C")
    frame.goto(mp.app.url + frame.locator("#deal-tab").get_attribute("data-tab-url"))
    frame.wait_for_selector("tr.payment")
    assert frame.locator('[data-key="paid"]').inner_text() == num(paid, "money", "ru")
    assert frame.locator('[data-key="remaining"]').inner_text() == num(float(status.amount) - paid, "money", "ru")
    assert frame.locator("tr.payment .pay-amount").first.inner_text() == num(paid, "money", "ru")
    assert frame.locator("#pay-state").inner_text() == "оплачен частично"
    assert frame.locator(".contract-number").inner_text() == contract["number"]
    shot(page, "22-deal-tab-contract-and-payment")


def test_a_refused_contract_is_explained_on_the_tab(mp: Portal, page: Page) -> None:
    from tests.scenarios.contracts.conftest import Portal as ContractsPortal

    deal_id, _company = ContractsPortal.incomplete_deal(mp)  # type: ignore[arg-type]
    mp.app.start_workers(1)
    frame = open_in_portal(page, mp.sandbox, mp.app, portal_of(mp), ADMIN, placement="CRM_DEAL_DETAIL_TAB",
                           options={"ID": str(deal_id)}, path="/placement/deal_tab")
    frame.locator("#make-contract").click()
    frame.wait_for_selector('#job-progress p.error[data-state="dead"]', timeout=60_000)
    text = frame.locator("#job-progress p.error").inner_text()
    assert text.startswith("Договор «100% предоплата»: не получилось — ") and "не хватает данных" in text
    assert frame.locator("#make-contract").is_enabled()  # the next click retries
    shot(page, "24-deal-tab-refused-contract")


def test_onec_settings_page_tests_a_connection(mp: Portal, page: Page) -> None:
    frame = open_in_portal(page, mp.sandbox, mp.app, portal_of(mp), ADMIN)
    token = frame.locator('meta[name="b24app-session"]').get_attribute("content")
    frame.goto(f"{mp.app.url}/app/settings/s/onec?s={token}")
    frame.wait_for_selector("#onec-status-table")
    frame.locator(f'[data-test-connection="{mp.main}"]').click()
    frame.wait_for_selector(f'[data-test-result="{mp.main}"] .test-summary')
    assert frame.locator(f'[data-test-result="{mp.main}"] .test-summary').inner_text() == "Подключение работает."
    assert frame.locator(f'[data-test-result="{mp.main}"] li.ok').count() >= 3
    for b in mp.bases().values():
        assert b["password"] not in frame.content()
    shot(page, "23-settings-onec-test-connection")
