"""The audit page: a lead distributed by the app (a real ONCRMLEADADD from the sandbox) appears with
the manager and the rule's explanation; a job that failed for good shows its last error in plain
words and an administrator puts it back in the queue; the head of sales (a report viewer) reads but
cannot retry; a manager outside the viewers is refused."""

from __future__ import annotations

import lxml.html
import requests

from b24app.leads import store as leads_store
from b24app.store import jobs as jobs_repo
from tests.scenarios.ui.conftest import ADMIN, HEAD_OF_SALES, PETROV, ZUEVA, open_page


def test_decisions_dead_jobs_and_retry(sandbox, metalprom) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    hook = sandbox.webhook(m)
    lead_id = int(requests.post(hook + "crm.lead.add.json", json={"fields": {
        "TITLE": "Арматура А500С, 12 т", "SOURCE_ID": "UC_YANDEX", "STATUS_ID": "NEW", "ASSIGNED_BY_ID": 1}},
        timeout=30).json()["result"])
    sandbox.wait_deliveries()
    app.drain()
    # a job that fails for good: a contract for a deal the portal does not have
    job_id, _ = jobs_repo.enqueue(app.db, "contracts.issue", {"deal_id": 999999, "type": "prepayment"},
                                  member_id=m, max_attempts=1)
    app.drain()
    assert jobs_repo.get(app.db, job_id).status == "dead"  # type: ignore[union-attr]

    admin = open_page(sandbox, app, m, ADMIN)
    r = admin.get("/app/audit")
    assert r.status_code == 200
    tree = lxml.html.fromstring(r.text)
    row = tree.xpath(f'//table[@data-table="decisions"]//tr[td/a[contains(., "{lead_id}")]]')
    assert row, r.text[:2000]
    cells = [td.text_content().strip() for td in row[0].xpath("./td")]
    decision = leads_store.decisions_of(app.db, m, "lead", lead_id)[-1]
    names = {1: "Сергеев Андрей", 2: "Смирнова Ольга", 4: "Петров Иван", 5: "Зуева Софья"}
    assert decision.user_id in names and cells[3] == names[decision.user_id]
    assert cells[4] == (decision.rule or "—")
    assert cells[5].startswith(decision.explanation["summary"]["ru"][:60])  # the explanation in words
    dead = tree.xpath(f'//table[@data-table="dead"]//tr[@data-job="{job_id}"]')[0]
    error = dead.xpath('./td[@class="why"]')[0].text_content()
    assert error.startswith("сделка 999999 не найдена на портале")  # in plain words, no "[app data]"
    # the history of one lead
    hist = lxml.html.fromstring(admin.get("/app/audit", lead=str(lead_id)).text)
    assert len(hist.xpath('//table[@data-table="decisions"]/tbody/tr')) >= 1

    head = open_page(sandbox, app, m, HEAD_OF_SALES)
    page = head.get("/app/audit")
    assert page.status_code == 200 and f'data-retry="{job_id}"' not in page.text
    assert head.post("/app/audit/retry", {"job_id": str(job_id)}).status_code == 403
    assert jobs_repo.get(app.db, job_id).status == "dead"  # type: ignore[union-attr]

    assert admin.post("/app/audit/retry", {"job_id": str(job_id)}).status_code == 303
    retried = jobs_repo.get(app.db, job_id)
    assert retried is not None and retried.status == "queued" and retried.attempts == 0
    assert admin.post("/app/audit/retry", {"job_id": str(job_id)}).status_code == 409  # not dead any more
    assert admin.post("/app/audit/retry", {"job_id": "abc"}).status_code == 404

    for user in (PETROV, ZUEVA):
        manager = open_page(sandbox, app, m, user)
        refused = manager.get("/app/audit")
        assert refused.status_code == 403 and "кто видит отчёты" in refused.text
