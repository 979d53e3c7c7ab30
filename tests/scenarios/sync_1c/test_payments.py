"""A МеталПром deal -> an invoice in the right one of the two bases -> a partial payment, then the
rest, registered in 1C -> the deal moves to "Частичное подтверждение оплаты", then "Подтверждение
оплаты" with correct sums; a reversal moves it back; the smart invoice follows; pulls run as jobs
queued by the scheduler."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from b24app.jobs.registry import load_plugins
from b24app.store import jobs as jobs_repo
from b24app.sync_1c import api
from b24app.sync_1c.settings_schema import FIELD_DEFAULTS as F
from tests.scenarios.sync_1c.conftest import BP_INVOICE, MP, MPT, UT_INVOICE, Portal, msk


def pull_by_scheduler(mp: Portal) -> list[Any]:
    """What production does: the scheduler's periodic task enqueues one pull per base, a worker runs them.
    (Only this feature's periodic task: the other features' tasks are theirs to test.)"""
    jobs_repo.purge(mp.app.db, status=jobs_repo.DONE)
    load_plugins().periodic["sync_1c.schedule"].enqueue(mp.app.services)
    mp.app.drain()
    pulls = jobs_repo.list_jobs(mp.app.db, kind="sync_1c.pull", member_id=mp.member_id)
    assert pulls and all(j.status == "done" for j in pulls), [(j.status, j.last_error) for j in pulls]
    assert {j.lock_key for j in pulls} == {f"onec:{mp.member_id}:{mp.main}", f"onec:{mp.member_id}:{mp.trade}"}
    return pulls


def test_partial_then_full_payment_then_reversal_move_the_deal(mp: Portal) -> None:
    deal_id = mp.deal_of(MP, stage="UC_AWAIT_PAYMENT")
    pushed = mp.cli("sync", "push-invoice", "--portal", mp.member_id, "--deal", str(deal_id), "--json")
    assert set(pushed) == {"base", "ref_key", "number"} and pushed["base"] == mp.main
    base, ref = pushed["base"], pushed["ref_key"]
    invoice = next(d for d in mp.documents(base, BP_INVOICE) if d["Ref_Key"] == ref)
    assert invoice["Number"] == pushed["number"] and invoice["Posted"] is True
    total = float(invoice["СуммаДокумента"])
    assert total == float(mp.deal(deal_id)["OPPORTUNITY"])
    deal = mp.deal(deal_id)
    assert deal[F["invoice_number"]] == pushed["number"] and deal[F["invoice_ref"]] == ref
    assert deal[F["base"]] == base and "#e1cib/data/Документ.СчетНаОплатуПокупателю?ref=" in deal[F["invoice_link"]]
    smart = mp.rest("crm.item.list", {"entityTypeId": 31, "filter": {"parentId2": deal_id}})["items"]
    bound = [s for s in smart if s["xmlId"] == f"1c:{base}:{ref}"]
    assert len(bound) == 1 and bound[0]["accountNumber"] == pushed["number"]
    smart_id = bound[0]["id"]

    first = round(total * 0.4, 2)
    mp.pay(base, ref, first, msk(5))
    pull_by_scheduler(mp)
    deal = mp.deal(deal_id)
    assert deal["STAGE_ID"] == "UC_PARTIAL_PAID"
    assert float(deal[F["paid"]]) == first and round(float(deal[F["remaining"]]), 2) == round(total - first, 2)
    status = api.payment_status(mp.app.db, mp.member_id, deal_id)
    assert status is not None and status.paid == Decimal(str(first)) and status.invoice_number == pushed["number"]
    assert status.outstanding == (Decimal(str(total)) - Decimal(str(first))).quantize(Decimal("0.01"))
    assert status.due_date is not None and status.last_payment_date is not None
    assert mp.rest("crm.item.get", {"entityTypeId": 31, "id": smart_id})["item"]["stageId"] == "DT31_1:UC_PARTIAL"
    comments = mp.comments(deal_id)
    assert sum("Оплата по счёту № " + pushed["number"] in c for c in comments) == 1

    second = mp.pay(base, ref, round(total - first, 2), msk(3))
    pull_by_scheduler(mp)
    deal = mp.deal(deal_id)
    assert deal["STAGE_ID"] == "UC_PAID"
    assert round(float(deal[F["paid"]]), 2) == round(total, 2) and float(deal[F["remaining"]]) == 0.0
    assert deal[F["payments"]].count("\n") == 1  # two payments listed
    assert mp.rest("crm.item.get", {"entityTypeId": 31, "id": smart_id})["item"]["stageId"] == "DT31_1:P"
    assert sum("Оплата по счёту № " + pushed["number"] in c for c in mp.comments(deal_id)) == 2

    # a run with nothing new writes nothing (no second comment, no stage change)
    before = mp.comments(deal_id)
    out = mp.cli("sync", "run", "--portal", mp.member_id, "--json")
    assert all(r["portal"]["applied"] == 0 for r in out)
    assert mp.comments(deal_id) == before

    # the accountant unposts the second payment: the deal goes back to partial, with a comment
    mp.onec("POST", base, f"/payments/{second}/unpost")
    pull_by_scheduler(mp)
    deal = mp.deal(deal_id)
    assert deal["STAGE_ID"] == "UC_PARTIAL_PAID"
    assert float(deal[F["paid"]]) == first
    comments = mp.comments(deal_id)
    assert any(c.startswith("[b]Оплата отменена в 1С:[/b]") for c in comments)
    assert any("Сделка возвращена на стадию UC_PARTIAL_PAID" in c for c in comments)
    assert mp.rest("crm.item.get", {"entityTypeId": 31, "id": smart_id})["item"]["stageId"] == "DT31_1:UC_PARTIAL"
    status = api.payment_status(mp.app.db, mp.member_id, deal_id)
    assert status is not None and status.paid == Decimal(str(first))

    # money received, for analytics: only the payment that still counts
    import datetime as dt
    from zoneinfo import ZoneInfo

    today = dt.datetime.now(ZoneInfo("Europe/Moscow")).date()  # payments carry the base's (Moscow) date
    got = [p for p in api.payments_for_analytics(mp.app.db, mp.member_id, today - dt.timedelta(days=2), today)
           if p["deal_id"] == deal_id]
    assert [p["amount"] for p in got] == [first] and isinstance(got[0]["amount"], float)


def test_a_trading_house_deal_goes_to_the_ut_base_and_its_payment_counts(mp: Portal) -> None:
    deal_id = mp.deal_of(MPT, stage="UC_AWAIT_PAYMENT")
    pushed = mp.cli("sync", "push-invoice", "--portal", mp.member_id, "--deal", str(deal_id), "--json")
    assert pushed["base"] == mp.trade
    invoice = next(d for d in mp.documents(mp.trade, UT_INVOICE) if d["Ref_Key"] == pushed["ref_key"])
    order = next(d for d in mp.documents(mp.trade, "Document_ЗаказКлиента")
                 if d["Ref_Key"] == invoice["ДокументОснование"])
    assert order["Posted"] and invoice["Posted"] and invoice["СуммаДокумента"] == order["СуммаДокумента"]
    assert mp.documents(mp.main, BP_INVOICE) == []  # nothing went to the other base
    total = float(invoice["СуммаДокумента"])
    mp.pay(mp.trade, pushed["ref_key"], total, msk(4), kind="cash")
    pull_by_scheduler(mp)
    deal = mp.deal(deal_id)
    assert deal["STAGE_ID"] == "UC_PAID" and round(float(deal[F["paid"]]), 2) == round(total, 2)
    assert "ПКО" in deal[F["payments"]]
    status = api.payment_status(mp.app.db, mp.member_id, deal_id)
    assert status is not None and status.outstanding == Decimal("0.00") and status.status == "paid"
