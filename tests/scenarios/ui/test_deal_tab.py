"""The deal tab over real HTTP: a МеталПром deal with both 1C bases connected. The tab opens for the
deal the portal names (read with the user's own token), «Сформировать договор» and «Выставить счет в
1С» queue the existing jobs once per click burst and report progress through the JSON endpoint; the
contract, the 1C invoice and a payment registered in 1C appear with paid and remaining; a refused
contract shows its reason in plain words and the next click retries it; a tab's grant serves only its
own session and deal."""

from __future__ import annotations

from typing import Any

import lxml.html

from b24app.contracts import register
from b24app.store import jobs as jobs_repo
from b24app.sync_1c import api, state
from b24app.sync_1c.plugin import enqueue_pull
from b24app.web.views.layout import num
from tests.scenarios.sync_1c.conftest import MP, Portal, msk
from tests.scenarios.ui.conftest import ADMIN, PETROV, Page, grant_of, open_page

JSON = {"Accept": "application/json"}


def open_tab(mp: Portal, deal_id: int, user_id: int = ADMIN) -> tuple[Page, str]:
    page = open_page(mp.sandbox, mp.app, mp.member_id, user_id, placement="CRM_DEAL_DETAIL_TAB",
                     options={"ID": str(deal_id)})
    return page, grant_of(page.html)


def tab_html(page: Page, grant: str) -> Any:
    r = page.get("/app/deal", g=grant)
    assert r.status_code == 200, r.text[:500]
    return lxml.html.fromstring(r.text)


def text(tree: Any, xpath: str) -> str:
    found = tree.xpath(xpath)
    assert found, xpath
    return " ".join(f.text_content().strip() for f in found)


def test_contract_invoice_and_payment_on_the_deal_tab(mp: Portal) -> None:
    deal_id = mp.deal_of(MP, stage="UC_AWAIT_PAYMENT")
    page, grant = open_tab(mp, deal_id)
    tree = tab_html(page, grant)
    assert tree.xpath('//*[@id="no-contract"]') and tree.xpath('//*[@id="push-invoice"]')
    assert text(tree, '//*[@id="deal-stage"]') == "Ожидание оплаты"

    r = page.post("/app/deal/contract", {"type": "deferred", "g": grant}, headers=JSON)
    assert r.status_code == 200, r.text[:300]
    job = r.json()
    assert job["state"] == "queued" and job["what"] == "Договор «Отсрочка платежа»"
    again = page.post("/app/deal/contract", {"type": "deferred", "g": grant}, headers=JSON).json()
    assert again["id"] == job["id"]  # a double click queues one job
    queued = jobs_repo.get(mp.app.db, job["id"])
    assert queued is not None and queued.kind == "contracts.issue" and queued.payload["deal_id"] == deal_id
    mp.app.drain()
    status = page.get(f"/app/deal/job/{job['id']}", g=grant).json()
    assert status["state"] == "done" and status["done"] is True
    contract = register.contract_for_deal(mp.app.db, mp.member_id, deal_id)
    assert contract is not None and contract["type"] == "deferred"
    tree = tab_html(page, grant)
    assert text(tree, '//*[@class="contract-number"]') == contract["number"]
    assert tree.xpath('//a[@class="contract-file"]/@href')[0] == contract["document_url"]

    r = page.post("/app/deal/invoice", {"g": grant}, headers=JSON)
    assert r.status_code == 200, r.text[:300]
    push = r.json()
    pushed = jobs_repo.get(mp.app.db, push["id"])
    assert pushed is not None and pushed.kind == "sync_1c.push" and pushed.payload["deal_id"]
    mp.app.drain()
    assert page.get(f"/app/deal/job/{push['id']}", g=grant).json()["done"] is True
    status_1c = api.payment_status(mp.app.db, mp.member_id, deal_id)
    assert status_1c is not None and status_1c.paid == 0
    tree = tab_html(page, grant)
    assert tree.xpath(f'//tr[@data-invoice="{status_1c.invoice_number}"]')
    assert not tree.xpath('//*[@id="push-invoice"]')  # issued: no second button

    paid = round(float(status_1c.amount) * 0.4, 2)
    pay_ref = mp.pay(status_1c.base, status_1c.ref_key, paid, msk(5))
    enqueue_pull(mp.app.db, mp.member_id, status_1c.base)
    mp.app.drain()
    payment = next(p for p in state.payments_of_invoice(mp.app.db, mp.member_id, status_1c.base, status_1c.ref_key)
                   if p["ref_key"] == pay_ref)
    tree = tab_html(page, grant)
    assert text(tree, '//*[@data-key="paid"]') == num(paid, "money", "ru")
    assert text(tree, '//*[@data-key="remaining"]') == num(float(status_1c.amount) - paid, "money", "ru")
    assert text(tree, f'//tr[@data-payment="{payment["number"]}"]//td[@class="pay-amount"]') == num(paid, "money",
                                                                                                     "ru")
    assert text(tree, '//*[@id="pay-state"]') == "оплачен частично"


def test_a_refused_contract_reads_plainly_and_the_next_click_retries(mp: Portal) -> None:
    from tests.scenarios.contracts.conftest import Portal as ContractsPortal

    deal_id, _company = ContractsPortal.incomplete_deal(mp)  # type: ignore[arg-type]
    page, grant = open_tab(mp, deal_id)
    job = page.post("/app/deal/contract", {"type": "prepayment", "g": grant}, headers=JSON).json()
    mp.app.drain()
    status = page.get(f"/app/deal/job/{job['id']}", g=grant).json()
    assert status["state"] == "dead" and status["failed"] is True
    assert status["message"].startswith("не получилось — ")
    assert "не хватает данных" in status["message"] and "[app" not in status["message"]
    tree = tab_html(page, grant)
    shown = text(tree, f'//*[@id="job-progress"]/*[@data-job="{job["id"]}"]')
    assert "не хватает данных" in shown
    again = page.post("/app/deal/contract", {"type": "prepayment", "g": grant}, headers=JSON).json()
    assert again["id"] == job["id"] and again["state"] == "queued"  # the dead job itself, with fresh attempts
    assert jobs_repo.get(mp.app.db, job["id"]).attempts == 0  # type: ignore[union-attr]
    mp.app.drain()


def test_a_tab_grant_serves_only_its_session_and_deal(mp: Portal) -> None:
    deal_a = mp.deal_of(MP, stage="UC_AWAIT_PAYMENT")
    deal_b = mp.deal_of(MP, stage="UC_AWAIT_PAYMENT", skip=(deal_a,))
    page_a, grant_a = open_tab(mp, deal_a)
    page_b, grant_b = open_tab(mp, deal_b)
    assert page_a.get("/app/deal").status_code == 403
    assert page_a.get("/app/deal", g=grant_b).status_code == 403
    assert page_a.post("/app/deal/contract", {"type": "prepayment", "g": grant_b}).status_code == 403
    refused = page_a.post("/app/deal/contract", {"type": "prepayment"}, headers=JSON)
    assert refused.status_code == 403 and "откройте сделку заново" in refused.json()["error"]
    job_b = page_b.post("/app/deal/contract", {"type": "prepayment", "g": grant_b}, headers=JSON).json()
    assert page_a.get(f"/app/deal/job/{job_b['id']}", g=grant_a).status_code == 404
    # a session of the app page (not a deal tab) has no grant at all
    home = open_page(mp.sandbox, mp.app, mp.member_id, ADMIN)
    assert home.get("/app/deal", g=grant_a).status_code in (400, 403)
    assert home.post("/app/deal/invoice", {"g": grant_a}).status_code in (400, 403)
    # an unknown contract type is refused, nothing queued
    before = jobs_repo.counts(mp.app.db, mp.member_id)["queued"]
    assert page_a.post("/app/deal/contract", {"type": "nope", "g": grant_a}).status_code == 400
    assert jobs_repo.counts(mp.app.db, mp.member_id)["queued"] == before


def test_the_tab_needs_a_deal_the_user_can_read(mp: Portal) -> None:
    from tests.scenarios.analytics.conftest import open_app

    res = open_app(mp.sandbox, mp.app, mp.member_id, PETROV, placement="CRM_DEAL_DETAIL_TAB",
                   options={"ID": "999999"})
    assert res["status"] == 403 and "не показывает вам эту сделку" in res["body"]
    assert 'name="b24app-session"' not in res["body"]  # no session handed out
    res = open_app(mp.sandbox, mp.app, mp.member_id, PETROV, placement="CRM_DEAL_DETAIL_TAB", options={})
    assert res["status"] == 400


def test_sla_state_open_tasks_and_the_leads_explanation(mp: Portal) -> None:
    from b24app import clock
    from b24app.leads import store as leads_store
    from b24app.settings import document
    from b24app.stages import repo

    deals = mp.rest("crm.deal.list", {"filter": {"STAGE_ID": "UC_AWAIT_PAYMENT", ">LEAD_ID": 0},
                                      "select": ["ID", "LEAD_ID", "ASSIGNED_BY_ID"]})
    assert deals, "the seed converts leads into deals"
    deal_id, lead_id = int(deals[0]["ID"]), int(deals[0]["LEAD_ID"])
    doc = mp.settings()
    doc["sla"] = {**(doc.get("sla") or {}), "limits": [{"entity": "deal", "stage": "UC_AWAIT_PAYMENT",
                                                        "working_hours": 4}]}
    document.save(mp.app.db, mp.member_id, doc)
    now = clock.now()
    repo.put_sla(mp.app.db, mp.member_id, {"entity": "deal", "item_id": deal_id, "stage_id": "UC_AWAIT_PAYMENT",
                                           "entry": "e1", "due_at": now - 3600, "overdue": True, "late_hours": 5.5,
                                           "steps_done": 2, "scanned_at": now})
    task = mp.rest("tasks.task.add", {"fields": {"TITLE": "Позвонить клиенту об оплате", "RESPONSIBLE_ID": PETROV}})
    task_id = int(task["task"]["id"])
    repo.record_task(mp.app.db, mp.member_id, task_id=task_id, entity="deal", item_id=deal_id,
                     stage_id="UC_AWAIT_PAYMENT", entry="e1", template_id="call_payment", approval=False,
                     responsible_id=PETROV)
    leads_store.save_decision(mp.app.db, mp.member_id, leads_store.Decision(
        entity_type="lead", entity_id=lead_id, phase="intake", kind="assign", status="applied", user_id=PETROV,
        rule="Реклама: Яндекс и Google Ads", strategy="weighted", reason="assigned",
        explanation={"summary": {"ru": "Лид из Яндекса: пул «ads», по весам 2:1 — Петров Иван."}},
        trigger="event", day="2026-01-01", decided_at=now - 86400))
    page, grant = open_tab(mp, deal_id)
    tree = tab_html(page, grant)
    assert "4 рабочих ч" in text(tree, '//*[@id="sla"]')
    assert text(tree, '//*[@id="sla-state"]').startswith("Просрочено на 5.5 рабочих ч")
    task_row = text(tree, f'//*[@data-task="{task_id}"]')
    assert "Позвонить клиенту об оплате" in task_row and "Петров Иван" in task_row
    assert "пул «ads», по весам 2:1" in text(tree, '//*[@id="distribution"]')
    # a task completed in the portal is no longer listed as open
    mp.rest("tasks.task.complete", {"taskId": task_id})
    assert not tab_html(page, grant).xpath(f'//*[@data-task="{task_id}"]')
