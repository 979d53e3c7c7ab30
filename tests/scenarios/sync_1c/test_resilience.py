"""Crash safety and outages: a worker killed between the 1C POST and our commit leaves one invoice;
1C down for a while -> the pull jobs retry and catch up, nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from b24app.jobs.registry import load_plugins
from b24app.store import jobs as jobs_repo
from b24app.sync_1c import api
from b24app.sync_1c.settings_schema import FIELD_DEFAULTS as F
from tests.scenarios.harness import wait_for
from tests.scenarios.sync_1c.conftest import BP_INVOICE, MP, Portal, msk

ROBOT = "b24app_push_invoice_1c"


def robot_runs(mp: Portal, deal_id: int) -> list[dict[str, Any]]:
    return [r for r in mp.sandbox.control("GET", f"/portals/{mp.member_id}/robot-runs")
            if r["code"] == ROBOT and int(r["item_id"]) == deal_id]


def test_worker_killed_between_the_1c_post_and_our_commit_leaves_one_invoice(mp: Portal) -> None:
    deal_id = mp.deal_of(MP, stage="UC_DOCS")
    mp.sandbox.control("POST", f"/portals/{mp.member_id}/automation", {
        "entity": "deal", "category_id": 0, "stage_id": "UC_AWAIT_PAYMENT", "robot_code": ROBOT, "properties": {}})
    before = {d["Ref_Key"] for d in mp.documents(mp.main, BP_INVOICE)}
    # every 1C call is executed, then its answer is held 2 s: the worker will be inside the POST's wait
    # (1C has created the invoice, we have not committed) when it is killed
    mp.onec("PUT", mp.main, "/faults", {"timeout_rate": 1.0, "timeout_s": 2.0, "timeout_mode": "after"})
    mp.rest("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "UC_AWAIT_PAYMENT"}})
    mp.sandbox.wait_deliveries()
    job = wait_for(lambda: next(iter(jobs_repo.list_jobs(mp.app.db, kind="robot", member_id=mp.member_id)), None),
                   what="robot job stored")
    env = {**os.environ, **mp.env(), "B24APP_WORKER_LEASE": "3", "B24APP_LOG_LEVEL": "ERROR"}
    worker = subprocess.Popen([sys.executable, "-m", "b24app", "worker"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        created = wait_for(lambda: {d["Ref_Key"] for d in mp.documents(mp.main, BP_INVOICE)} - before,
                           timeout=60, interval=0.05, what="the invoice POSTed to 1C")
        worker.send_signal(signal.SIGKILL)  # inside the held answer: 1C has the invoice, our store does not
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
    assert len(created) == 1
    stored = jobs_repo.get(mp.app.db, job.id)
    assert stored is not None and stored.status == "running"  # died mid-job
    assert mp.app.db.one("SELECT status FROM effects WHERE member_id = ? AND key LIKE 'sync_1c:invoice:%'",
                         (mp.member_id,))["status"] == "pending"
    mp.onec("DELETE", mp.main, "/faults")
    time.sleep(3.2)  # the dead worker's lease expires
    mp.app.drain(timeout=30)
    assert jobs_repo.get(mp.app.db, job.id).status == "done"
    after = {d["Ref_Key"] for d in mp.documents(mp.main, BP_INVOICE)} - before
    assert after == created  # the retry found the invoice by its key instead of making a second one
    ref = next(iter(created))
    deal = mp.deal(deal_id)
    assert deal[F["invoice_ref"]] == ref
    status = api.payment_status(mp.app.db, mp.member_id, deal_id)
    assert status is not None and status.ref_key == ref and status.due_date is not None
    run = wait_for(lambda: next((r for r in robot_runs(mp, deal_id) if r["state"] == "done"), None),
                   what="robot answered")
    assert run["return_values"]["ref_key"] == ref and run["return_values"]["ok"] in ("Y", True, "1")
    # running the robot again for the deal returns the same invoice
    out = mp.cli("sync", "push-invoice", "--portal", mp.member_id, "--deal", str(deal_id), "--json")
    assert out["ref_key"] == ref
    assert {d["Ref_Key"] for d in mp.documents(mp.main, BP_INVOICE)} - before == created


def test_1c_down_for_a_while_then_the_pulls_catch_up(mp: Portal) -> None:
    deal_id = mp.deal_of(MP, stage="UC_AWAIT_PAYMENT")
    pushed = mp.cli("sync", "push-invoice", "--portal", mp.member_id, "--deal", str(deal_id), "--json")
    base, ref = pushed["base"], pushed["ref_key"]
    total = float(next(d for d in mp.documents(base, BP_INVOICE) if d["Ref_Key"] == ref)["СуммаДокумента"])
    mp.onec("PUT", base, "/faults", {"down": True})
    # the accountant keeps working in 1C (the web publication is down, not the base)
    mp.pay(base, ref, 1000.0, msk(6))
    mp.pay(base, ref, round(total - 1000.0, 2), msk(5))
    load_plugins().periodic["sync_1c.schedule"].enqueue(mp.app.services)
    mp.app.drain()
    pull = next(j for j in jobs_repo.list_jobs(mp.app.db, kind="sync_1c.pull", member_id=mp.member_id)
                if j.payload["base"] == base)
    assert pull.status == "queued" and pull.last_error_action == "RETRY" and "503" in (pull.last_error or "")
    status = mp.cli("sync", "status", "--portal", mp.member_id, "--base", base, "--json")
    assert "503" in (status[0]["last_error"] or "")
    assert mp.deal(deal_id)["STAGE_ID"] == "UC_AWAIT_PAYMENT"
    mp.onec("DELETE", base, "/faults")
    wait_for(lambda: mp.app.drain() is not None and jobs_repo.get(mp.app.db, pull.id).status == "done",
             timeout=60, interval=0.5, what="the retried pull")
    deal = mp.deal(deal_id)
    assert deal["STAGE_ID"] == "UC_PAID" and round(float(deal[F["paid"]]), 2) == round(total, 2)
    assert sum("Оплата по счёту" in c for c in mp.comments(deal_id)) == 2  # nothing lost, nothing doubled
    status = mp.cli("sync", "status", "--portal", mp.member_id, "--base", base, "--json")
    assert status[0]["last_error"] is None and status[0]["streams"]["payments"]["lag_s"] < 600


def test_a_payment_for_a_deal_deleted_in_bitrix24_is_a_dead_letter_with_a_reason(mp: Portal) -> None:
    deal_id = mp.deal_of(MP, stage="UC_AWAIT_PAYMENT")
    pushed = mp.cli("sync", "push-invoice", "--portal", mp.member_id, "--deal", str(deal_id), "--json")
    mp.rest("crm.deal.delete", {"id": deal_id})
    mp.pay(pushed["base"], pushed["ref_key"], 500.0, msk(3))
    out = mp.cli("sync", "run", "--portal", mp.member_id, "--base", pushed["base"], "--json")
    assert out[0]["portal"] == {"applied": 0, "dead": 1}
    dead = mp.cli("sync", "dead-letters", "--portal", mp.member_id, "--json")
    assert len(dead) == 1 and dead[0]["stream"] == "portal" and dead[0]["record_key"] == pushed["ref_key"]
    assert f"сделка {deal_id} удалена" in dead[0]["reason"] and pushed["number"] in dead[0]["reason"]
    status = mp.cli("sync", "status", "--portal", mp.member_id, "--base", pushed["base"], "--json")
    assert status[0]["dead_letters"] == 1 and status[0]["portal_queue"] == 0
    # the sync goes on for everything else; a repeat does not pile the letter up
    mp.cli("sync", "run", "--portal", mp.member_id, "--base", pushed["base"], "--json")
    assert len(mp.cli("sync", "dead-letters", "--portal", mp.member_id, "--json")) == 1
