"""The fault soak in CI: ``b24app soak --minutes 1.5 --json`` as an operator runs it (its own loopback
stack of processes: the sandbox, gunicorn, two workers, the scheduler). Every kind of fault must have
happened and every part of the story must have run — leads (some while the app was down), deals
through the funnel, contracts by the robot and the CLI, invoices in both 1C bases, partial and full
payments — and every invariant must hold; the exit code says the same."""

from __future__ import annotations

import json

import pytest

from tests.scenarios.harness import run_soak


@pytest.mark.timeout(900)
def test_a_short_soak_keeps_every_invariant() -> None:
    code, stdout, stderr = run_soak("--minutes", "1.5", "--json", "--seed", "3", timeout=840)
    assert stdout.strip(), stderr[-3000:]
    report = json.loads(stdout)
    inv, c = report["invariants"], report["counts"]
    assert set(inv) >= {"leads_assigned_exactly_once", "stage_tasks_created_once", "contract_numbers_unique_gapless",
                        "onec_invoices_created_once", "payments_applied_once", "no_job_left_outside_done_or_dead",
                        "dead_letters_explained"}
    failed = {k: report["details"].get(k) for k, ok in inv.items() if not ok}
    assert not failed, (failed, report.get("story_errors"), report.get("story_notes"), stderr[-3000:])
    assert code == 0
    # the story really ran
    assert c["leads"] >= 10 and c["leads_while_app_down"] >= 1 and c["leads_on_portal"] == c["leads"]
    assert c["leads_via_offline_sweep"] + c["decisions_by_trigger"].get("reconcile", 0) >= 1
    assert {"repeat", "new"} <= set(c["leads_by_kind"])
    # some lead went to an existing owner by a match: a repeat client's lead is "repeat_client", or
    # "duplicate" when the phone matched a lead first, or goes by the rules when the owner is absent —
    # in 1.5 minutes the story may make a single repeat lead (tests/scenarios/leads pins each case)
    by_match = c["decisions_by_kind"].get("repeat_client", 0) + c["decisions_by_kind"].get("duplicate", 0)
    assert by_match >= 1, c["decisions_by_kind"]
    assert c["deals_reached_payment"] >= 2 and c["stage_tasks"] >= 3 * c["deals_reached_payment"]
    assert c["contracts_by_type"].get("prepayment", 0) >= 2 and c["contracts_by_cli"] >= 1
    assert sum(v for k, v in c["onec_invoices"].items() if "main" in k) >= 1
    assert sum(v for k, v in c["onec_invoices"].items() if "trade" in k) >= 1
    assert c["payments_partial"] >= 1 and c["payments_full"] >= 1
    # and every fault happened
    faults = c["faults_on_app_requests"]
    assert faults.get("5xx", 0) >= 1 and faults.get("commit_then_500", 0) >= 1 and faults.get("burst_503", 0) >= 1
    assert faults.get("timeout", 0) + c["faults_on_people_requests"].get("timeout", 0) >= 1
    assert c["token_refreshes"] >= 2 and c["worker_kills"] >= 2
    assert c["app_down_s"] >= 10 and c["onec_down_s"] >= 10
    assert {f["action"] for f in report["faults"]} >= {"faults_on", "burst_503", "expire_tokens", "onec_down",
                                                        "onec_up", "app_down", "app_up", "kill_worker"}
