"""The overdue-payment path against the sandbox with a frozen clock, without 1C (the due date, the paid
amount, the invoice and the contract come from the deal's own fields): a reminder to the manager, one
lawyer task «Досудебная претензия», the move to the claim funnel, the claim document (first without the
contracts feature, then with it), and nothing more once the payment has arrived."""

from __future__ import annotations

import datetime as dt
import json
import sys
import types
from dataclasses import dataclass
from decimal import Decimal

from click.testing import CliRunner

from b24app.cli import main
from b24app.errors import DataError
from tests.scenarios.stages.conftest import msk

PETROV, LAWYER = 4, 6


def scan(stage, at) -> dict:
    stage.at(at)
    stage.enqueue("stages.payments_scan")
    stage.settle()
    return stage.job_results("stages.payments_scan")[0]


def claim_tasks(stage, deal: int) -> list[dict]:
    return [t for t in stage.tasks(deal) if t["title"].startswith("Досудебная претензия")]


def payments_cli(stage) -> list[dict]:
    result = CliRunner().invoke(main, ["stages", "payments", "--portal", stage.member_id, "--json"],
                                env=stage.app.env())
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_overdue_payment_path_creates_the_lawyer_task_once_and_stops_after_payment(stage, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "b24app.sync_1c.api", None)  # no 1C: the deal's own fields are used
    monkeypatch.setitem(sys.modules, "b24app.contracts.service", None)  # no contracts feature yet
    for name, kind in (("PAY_DUE", "date"), ("PAID", "double"), ("INVOICE_NO", "string"), ("CONTRACT_NO", "string")):
        stage.rest("crm.deal.userfield.add", {"fields": {"FIELD_NAME": name, "USER_TYPE_ID": kind}})
    doc = stage.settings()
    doc["sla"]["payments"].update({
        "enabled": True, "due_date_field": "UF_CRM_PAY_DUE", "paid_field": "UF_CRM_PAID",
        "invoice_field": "UF_CRM_INVOICE_NO", "contract_field": "UF_CRM_CONTRACT_NO"})
    stage.save_settings(doc)
    assert [s["days"] for s in doc["sla"]["payments"]["steps"]] == [3, 10, 20, 30]
    company = stage.rest("crm.company.list", {"order": {"ID": "ASC"}, "filter": {">ID": 2},
                                              "select": ["ID", "TITLE"]})[0]
    stage.at(msk(2026, 11, 2, 10, 0))
    deal = stage.new_deal("Металлоконструкции навеса", PETROV, stage="UC_AWAIT_PAYMENT",
                          COMPANY_ID=int(company["ID"]), OPPORTUNITY=120000, UF_CRM_PAY_DUE="2026-10-21",
                          UF_CRM_PAID=20000, UF_CRM_INVOICE_NO="СЧ-105", UF_CRM_CONTRACT_NO="Д-2026/17")
    stage.settle()

    scan(stage, msk(2026, 11, 2, 10, 5))  # 12 days overdue: reminder + lawyer task
    reminders = [n for n in stage.notes(PETROV) if "Металлоконструкции навеса" in n["message"]]
    assert len(reminders) == 1 and "12 дн." in reminders[0]["message"] and "100 000,00 руб." in reminders[0]["message"]
    tasks = claim_tasks(stage, deal)
    assert len(tasks) == 1
    task = tasks[0]
    assert task["responsibleId"] == str(LAWYER) and task["title"] == f"Досудебная претензия: {company['TITLE']}"
    for text in ("100 000,00 руб.", "СЧ-105", "Д-2026/17", "21.10.2026", "Иван Петров"):
        assert text in task["description"], text
    assert stage.deal(deal)["STAGE_ID"] == "UC_AWAIT_PAYMENT"

    scan(stage, msk(2026, 11, 2, 11, 0))  # again: nothing twice
    assert len(claim_tasks(stage, deal)) == 1
    assert len([n for n in stage.notes(PETROV) if "Металлоконструкции навеса" in n["message"]]) == 1

    scan(stage, msk(2026, 11, 11, 10, 0))  # 21 days: to the claim funnel
    moved = stage.deal(deal)
    assert moved["STAGE_ID"] == "C2:NEW" and str(moved["CATEGORY_ID"]) == "2"
    call = [t for t in stage.tasks(deal) if t["title"].startswith("Позвонить клиенту")]
    assert len(call) == 1 and call[0]["status"] == "5"  # the awaiting-payment task closed on leaving

    scan(stage, msk(2026, 11, 20, 10, 0))  # 30 days: the claim document, but no contracts feature
    row = next(r for r in payments_cli(stage) if r["deal_id"] == deal)
    assert row["status"] == "overdue" and row["days_overdue"] == 30 and row["invoice"] == "СЧ-105"
    log = {x["step"]: x for x in row["log"]}
    assert log["claim_document@30"]["status"] == "unavailable"
    assert "contracts feature not available" in log["claim_document@30"]["detail"]
    assert {log[s]["status"] for s in ("remind_manager@3", "lawyer_task@10", "move_to_claim@20")} == {"done"}

    calls: list[tuple] = []

    def issue_contract(ctx, deal_id: int, type_code: str, *, idempotency_key: str | None = None) -> dict:
        calls.append((ctx.member_id, deal_id, type_code, idempotency_key))
        if len(calls) == 1:  # the contracts feature refuses: the client's requisites are missing
            raise DataError("Не заполнены реквизиты клиента: ИНН")
        return {"number": "П-2026/1", "date": "2026-11-20", "type": type_code, "file_id": 77}

    monkeypatch.setitem(sys.modules, "b24app.contracts.service",
                        types.SimpleNamespace(issue_contract=issue_contract))
    scan(stage, msk(2026, 11, 20, 10, 30))  # the feature is there but refuses: recorded, the scan goes on
    row = next(r for r in payments_cli(stage) if r["deal_id"] == deal)
    refused = {x["step"]: x for x in row["log"]}["claim_document@30"]
    assert refused["status"] == "error" and "ИНН" in refused["detail"]
    scan(stage, msk(2026, 11, 20, 11, 0))  # requisites fixed: the document is made once
    scan(stage, msk(2026, 11, 20, 12, 0))
    key = f"stages:pay:{deal}:СЧ-105:claim_document@30"
    assert calls == [(stage.member_id, deal, "claim", key)] * 2
    row = next(r for r in payments_cli(stage) if r["deal_id"] == deal)
    assert {x["step"]: x for x in row["log"]}["claim_document@30"]["status"] == "done"
    assert "П-2026/1" in {x["step"]: x for x in row["log"]}["claim_document@30"]["detail"]

    stage.at(msk(2026, 11, 21, 9, 0))  # the client pays the rest
    stage.rest("crm.deal.update", {"id": deal, "fields": {"UF_CRM_PAID": 120000}})
    stage.settle()
    scan(stage, msk(2026, 11, 21, 10, 0))
    for user in (PETROV, LAWYER):
        paid = [n for n in stage.notes(user) if "Оплата поступила" in n["message"] and str(deal) in n["message"]]
        assert len(paid) == 1, user
    scan(stage, msk(2026, 12, 30, 10, 0))  # much later: the path stays stopped
    assert len(claim_tasks(stage, deal)) == 1
    assert len(calls) == 2
    assert next(r for r in payments_cli(stage) if r["deal_id"] == deal)["status"] == "paid"
    assert len([n for n in stage.notes(PETROV) if "Оплата поступила" in n["message"]]) == 1
    assert stage.dead() == []


def test_due_date_and_payments_come_from_the_1c_sync_when_it_knows_the_deal(stage, monkeypatch) -> None:
    @dataclass
    class PaymentStatus:  # the shape b24app.sync_1c.api.payment_status returns
        due_date: dt.date | None
        amount: Decimal
        paid: Decimal
        outstanding: Decimal
        last_payment_date: dt.date | None
        invoice_number: str | None

    stage.at(msk(2026, 11, 2, 10, 0))
    deal = stage.new_deal("Арматура по счёту из 1С", PETROV, stage="UC_PARTIAL_PAID", OPPORTUNITY=300000)
    stage.settle()
    asked: list[tuple] = []

    def payment_status(db, member_id: str, deal_id: int):
        asked.append((member_id, deal_id))
        if deal_id != deal:
            return None  # 1C does not know the seed's deals: their own fields are used (none set here)
        return PaymentStatus(dt.date(2026, 10, 28), Decimal("300000"), Decimal("120000.50"), Decimal("179999.50"),
                             dt.date(2026, 10, 20), "00БП-000123")

    monkeypatch.setitem(sys.modules, "b24app.sync_1c.api", types.SimpleNamespace(payment_status=payment_status))
    monkeypatch.setitem(sys.modules, "b24app.contracts.service", None)
    doc = stage.settings()
    doc["sla"]["payments"]["enabled"] = True
    stage.save_settings(doc)
    scan(stage, msk(2026, 11, 2, 10, 5))  # 5 days after 28.10: the reminder only
    assert (stage.member_id, deal) in asked
    notes = [n["message"] for n in stage.notes(PETROV) if "Арматура по счёту из 1С" in n["message"]]
    assert len(notes) == 1 and "00БП-000123" in notes[0] and "179 999,50 руб." in notes[0] and "5 дн." in notes[0]
    assert claim_tasks(stage, deal) == []
    row = next(r for r in payments_cli(stage) if r["deal_id"] == deal)
    assert row["source"] == "1c" and row["invoice"] == "00БП-000123" and row["last_step"] == "remind_manager@3"
