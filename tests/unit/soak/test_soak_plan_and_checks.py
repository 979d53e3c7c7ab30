"""The soak's schedule and its invariant checks, on hand-made facts: each check passes on a clean
story and names the item when one thing is broken (a second comment, a gap, a twice-created invoice,
a payment stored twice, a job left running, a dead letter with a traceback ...)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from b24app.soak import invariants as inv
from b24app.soak.plan import SoakOptions, fault_plan, outage_length
from b24app.soak.story import DealRec, LeadRec, Ledger, PaymentRec, other_format

M8 = "abcdef12"


# --- the plan ------------------------------------------------------------------------------------
@pytest.mark.parametrize("minutes", [1.0, 1.5, 2.0, 10.0, 30.0])
def test_the_plan_has_every_fault_inside_the_story(minutes: float) -> None:
    opts = SoakOptions(minutes=minutes, seed=3)
    plan = fault_plan(opts)
    actions = [e.action for e in plan.events]
    assert actions.count("burst_503") == 2 and actions.count("expire_tokens") == 3
    assert actions.count("onec_down") == actions.count("onec_up") == 1
    assert actions.count("app_down") == actions.count("app_up") == 1
    assert actions.count("kill_worker") >= 2
    assert all(0 < e.at < opts.story_s for e in plan.events)
    at = {e.action: e.at for e in plan.events}
    assert at["onec_up"] - at["onec_down"] == pytest.approx(plan.outage_s)
    assert at["app_up"] - at["app_down"] == pytest.approx(plan.outage_s)
    assert at["app_down"] > at["onec_up"]  # the two outages never overlap
    assert [e.at for e in plan.events] == sorted(e.at for e in plan.events)


def test_outages_last_a_minute_in_a_ten_minute_run_and_scale_down() -> None:
    assert outage_length(600) == 60.0
    assert outage_length(90) == 12.0
    assert outage_length(3600) == 60.0
    assert SoakOptions(minutes=10).settle_limit_s == 360.0
    assert SoakOptions(minutes=1.5).settle_limit_s == 240.0


def test_the_plan_is_repeatable_by_seed() -> None:
    a, b, c = (fault_plan(SoakOptions(minutes=5, seed=s)).public() for s in (1, 1, 2))
    assert a == b and a != c


def test_a_phone_in_another_format_is_the_same_number() -> None:
    assert other_format("+7 912 345-67-89") == "8 (912) 345-67-89"
    assert other_format("89123456789") == "8 (912) 345-67-89"


# --- the checks ----------------------------------------------------------------------------------
def clean() -> tuple[inv.Facts, Ledger]:
    led = Ledger()
    led.leads = {101: LeadRec(101, "new", "UC_YANDEX", 0, False), 102: LeadRec(102, "junk", "EMAIL", 0, True)}
    led.deals = {7: DealRec(7, 1, 30, ["PREPARATION", "UC_APPROVAL", "UC_CONTRACT", "UC_DOCS", "UC_AWAIT_PAYMENT"],
                            cli_contract="ДО-26/0001-МП", invoice=("main", "ref-7"), amount=1000.0)}
    led.payments = [PaymentRec(7, "main", "ref-7", "pay-1", 400.0, False), PaymentRec(7, "main", "ref-7", "pay-2", 600.0,
                                                                                      True)]
    f = inv.Facts(member8=M8)
    f.leads = {101: {"ID": "101", "ASSIGNED_BY_ID": "4", "STATUS_ID": "NEW"},
               102: {"ID": "102", "ASSIGNED_BY_ID": "1", "STATUS_ID": "JUNK"}}
    f.decisions = {101: {"id": 1, "kind": "assign", "status": "applied", "user_id": 4, "attempts": 1},
                   102: {"id": 2, "kind": "junk", "status": "applied", "user_id": None, "new_status": "JUNK",
                         "attempts": 1}}
    f.lead_comments = {101: 1, 102: 1}
    f.tasks = [{"id": "1", "title": "Согласовать счёт по сделке «X»", "xmlId": "b24app-st-a", "ufCrmTask": ["D_7"]},
               {"id": "2", "title": "Подготовить договор: ООО Клиент", "xmlId": "b24app-st-b", "ufCrmTask": ["D_7"]},
               {"id": "3", "title": "Позвонить клиенту об оплате: ООО Клиент", "xmlId": "b24app-st-c",
                "ufCrmTask": ["D_7"]},
               {"id": "4", "title": "Чужая задача", "xmlId": "", "ufCrmTask": ["D_7"]}]
    f.contracts = [
        {"number": "Д-26/0001-МП", "deal_id": 7, "type_code": "prepayment", "status": "issued", "seq": 1,
         "sequence": "prepayment", "counter_le": "MP", "period": "2026", "manual": 0},
        {"number": "Д-26/0002-МП", "deal_id": 8, "type_code": "prepayment", "status": "void", "seq": 2,
         "sequence": "prepayment", "counter_le": "MP", "period": "2026", "manual": 0},
        {"number": "ДО-26/0001-МП", "deal_id": 7, "type_code": "deferred", "status": "issued", "seq": 1,
         "sequence": "deferred", "counter_le": "MP", "period": "2026", "manual": 0}]
    f.deals = {7: {"ID": "7", "STAGE_ID": "UC_PAID", inv.PAID_FIELD: "1000.00", inv.CONTRACT_FIELD: "ДО-26/0001-МП"}}
    f.deal_comments = {7: ["Сформирован документ «Договор поставки» № Д-26/0001-МП от 05.03.2026 (тип: …)",
                           "Сформирован документ «Договор с отсрочкой» № ДО-26/0001-МП от 05.03.2026 (тип: …)",
                           "[b]Оплата по счёту № 12 от 05.03.2026:[/b] 400,00", "[b]Оплата по счёту № 12 …[/b] 600,00"]}
    f.bases = {1: "main", 2: "trade"}
    f.onec_docs = {"main": {"Document_СчетНаОплатуПокупателю": [
        {"Ref_Key": "ref-7", "Комментарий": f"Счёт по сделке [b24app {M8}-7-1]"},
        {"Ref_Key": "ref-x", "Комментарий": "Счёт бухгалтера"}]},
        "trade": {"Document_СчетНаОплатуКлиенту": [], "Document_ЗаказКлиента": []}}
    f.onec_counterparties = {"main": [{"ИНН": "7448053174", "КПП": "744801001"}], "trade": []}
    f.app_payments = {("main", "ref-7"): [{"ref_key": "pay-1", "amount": 400.0, "active": 1},
                                         {"ref_key": "pay-2", "amount": 600.0, "active": 1}]}
    f.job_counts = {"queued": 1, "running": 0, "done": 40, "dead": 1, "due": 0, "retrying": 0, "scheduled": 1}
    f.token_expiries, f.token_refreshes = 3, 3
    f.dead_jobs = [{"id": 9, "kind": "stages.sla_scan", "last_error": "[app busy] lease held", "last_error_action": "RETRY"}]
    f.robot_runs = [{"id": 1, "code": "b24app_make_contract", "state": "done"}]
    return f, led


def test_a_clean_story_passes_every_check() -> None:
    facts, ledger = clean()
    results, details = inv.evaluate(facts, ledger)
    assert results == {name: True for name in inv.CHECKS}, details


def broken(change) -> dict[str, object]:
    facts, ledger = clean()
    change(facts, ledger)
    results, details = inv.evaluate(facts, ledger)
    return {"failed": sorted(k for k, ok in results.items() if not ok), "details": details}


@pytest.mark.parametrize("change, check, needle", [
    (lambda f, led: f.lead_comments.update({101: 2}), "leads_assigned_exactly_once", "2 distribution comments"),
    (lambda f, led: f.decisions.pop(102), "leads_assigned_exactly_once", "lead 102: no decision"),
    (lambda f, led: f.leads[101].update(ASSIGNED_BY_ID="5"), "leads_assigned_exactly_once", "portal says 5"),
    (lambda f, led: f.decisions[101].update(status="decided"), "leads_assigned_exactly_once", "is decided"),
    (lambda f, led: f.leads[102].update(STATUS_ID="NEW"), "leads_assigned_exactly_once", "junk decision"),
    (lambda f, led: f.tasks.append(copy.deepcopy(f.tasks[0])), "stage_tasks_created_once", "marker b24app-st-a: 2"),
    (lambda f, led: f.tasks.pop(2), "stage_tasks_created_once", "0 tasks «Позвонить"),
    (lambda f, led: f.contracts.append({**f.contracts[0], "deal_id": 9}), "contract_numbers_unique_gapless",
     "issued 2 times"),
    (lambda f, led: f.contracts[1].update(seq=3), "contract_numbers_unique_gapless", "gaps [2]"),
    (lambda f, led: f.contracts[0].update(status="reserved"), "contract_numbers_unique_gapless", "reserved"),
    (lambda f, led: f.deal_comments[7].pop(0), "contract_numbers_unique_gapless", "0 timeline comments"),
    (lambda f, led: f.onec_docs["main"]["Document_СчетНаОплатуПокупателю"].append(
        {"Ref_Key": "ref-7b", "Комментарий": f"[b24app {M8}-7-2]"}), "onec_invoices_created_once", "2 documents"),
    (lambda f, led: f.onec_docs["trade"]["Document_ЗаказКлиента"].append(
        {"Ref_Key": "o", "Комментарий": f"[b24app {M8}-7-1]"}), "onec_invoices_created_once", "expected 0"),
    (lambda f, led: f.onec_counterparties["main"].append({"ИНН": "7448053174", "КПП": "744801001"}),
     "onec_invoices_created_once", "2 times"),
    (lambda f, led: f.app_payments[("main", "ref-7")].append({"ref_key": "pay-2", "amount": 600.0, "active": 1}),
     "payments_applied_once", "pay-2"),
    (lambda f, led: f.deals[7].update({inv.PAID_FIELD: "400.00"}), "payments_applied_once", "payments 1000.0"),
    (lambda f, led: f.deals[7].update(STAGE_ID="UC_PARTIAL_PAID"), "payments_applied_once", "expected UC_PAID"),
    (lambda f, led: f.deal_comments[7].append("Оплата по счёту № 12 ещё раз"), "payments_applied_once",
     "3 payment comments"),
    (lambda f, led: f.job_counts.update(running=1), "no_job_left_outside_done_or_dead", "running"),
    (lambda f, led: f.job_counts.update(due=1), "no_job_left_outside_done_or_dead", "due"),
    (lambda f, led: f.job_counts.update(retrying=2), "no_job_left_outside_done_or_dead", "retrying"),
    (lambda f, led: setattr(f, "token_refreshes", 4), "no_duplicate_token_refresh", "4 token refreshes for 3 expiries"),
    (lambda f, led: setattr(f, "token_refresh_failures", 1), "no_duplicate_token_refresh", "1 refresh grants refused"),
    (lambda f, led: f.dead_jobs.append({"id": 10, "kind": "robot", "last_error": "KeyError: 'x'\nTraceback ...",
                                        "last_error_action": "FAIL_DATA"}), "dead_letters_explained", "job 10"),
    (lambda f, led: f.dead_jobs.append({"id": 11, "kind": "robot", "last_error": "", "last_error_action": "RETRY"}),
     "dead_letters_explained", "job 11"),
    (lambda f, led: f.robot_runs.append({"id": 2, "code": "b24app_push_invoice_1c", "state": "waiting"}),
     "robots_answered", "waiting"),
    (lambda f, led: f.secret_hits.append("worker0.log: Syn…"), "onec_passwords_not_logged", "worker0.log"),
])
def test_each_check_names_what_broke(change, check, needle) -> None:
    got = broken(change)
    assert got["failed"] == [check], got
    assert needle in " | ".join(map(str, got["details"][check])), got["details"]


def test_secrets_are_found_in_files(tmp_path: Path) -> None:
    (tmp_path / "worker0.log").write_text('{"msg": "connect", "password": "Sync-1a2b3c4d"}\n')
    (tmp_path / "app.log").write_text("nothing here\n")
    hits = inv.secrets_in_files(sorted(tmp_path.glob("*.log")), ["Sync-1a2b3c4d", "abc"])
    assert hits == ["worker0.log: Syn…"]


def test_without_the_split_every_queued_job_is_left() -> None:
    facts, ledger = clean()
    facts.job_counts = {"queued": 1, "running": 0, "done": 40, "dead": 0}
    ok, left = inv.check_jobs(facts, ledger)
    assert not ok and left == {"queued": 1}


def test_a_natural_expiry_of_a_long_run_allows_one_more_refresh() -> None:
    facts, ledger = clean()
    facts.token_refreshes = 4
    assert not inv.check_token_refresh(facts, ledger)[0]
    facts.natural_expiries = 1
    assert inv.check_token_refresh(facts, ledger) == (True, [])
