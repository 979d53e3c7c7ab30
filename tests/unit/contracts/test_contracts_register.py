"""The contract register on SQLite and PostgreSQL: numbers per sequence, legal entity and period; the same
deal and type keep their number; a rolled-back insert gives its number back; void numbers are never reused;
manual numbers are checked and skipped by the counter; resets at period boundaries in the portal's zone."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from b24app.contracts import register
from b24app.contracts.service import plan_number
from b24app.contracts.types import effective_type
from b24app.errors import ConfigError, DataError

M = "member-1"
MSK = ZoneInfo("Europe/Moscow")
MP = {"code": "MP", "number_code": "МП"}
MPT = {"code": "MPT", "number_code": "МПТ"}


def reserve(
    db: Any,
    deal: int,
    *,
    type_code: str = "prepayment",
    fmt: str = "Д-{SEQ}",
    counter_le: str = "",
    period: str = "2026",
    start: int = 1,
    step: int = 1,
    key: str | None = None,
    legal_entity: str = "",
) -> tuple[dict[str, Any], bool]:
    return register.reserve(
        db,
        M,
        deal_id=deal,
        type_code=type_code,
        sequence=type_code,
        legal_entity=legal_entity,
        counter_le=counter_le,
        period=period,
        make_number=lambda seq: fmt.replace("{SEQ}", str(seq)),
        contract_date="2026-03-05",
        start=start,
        step=step,
        idempotency_key=key,
        created_by="test",
    )


def issue_with_plan(
    db: Any, t: dict[str, Any], le: dict[str, Any] | None, at: dt.datetime, deal: int
) -> dict[str, Any]:
    """What the service does to take a number for ``t`` and ``le`` at moment ``at``."""
    plan = plan_number(t, le, "Europe/Moscow", at, deal)
    row, _ = register.reserve(
        db,
        M,
        deal_id=deal,
        type_code=t["code"],
        sequence=t["sequence"],
        legal_entity=(le or {}).get("code", ""),
        counter_le=plan.counter_le,
        period=plan.period,
        make_number=plan.make_number,
        contract_date=plan.contract_date,
        start=t["start"],
        step=t["step"],
    )
    return row


def test_numbers_follow_start_and_step_per_bucket(any_services) -> None:
    db = any_services.db
    assert [reserve(db, d, start=100, step=10)[0]["number"] for d in (1, 2, 3)] == ["Д-100", "Д-110", "Д-120"]
    assert reserve(db, 4, counter_le="MP", fmt="Д-{SEQ}-МП")[0]["seq"] == 1  # another legal entity's counter
    assert reserve(db, 5, period="2027", fmt="Д-27-{SEQ}")[0]["seq"] == 1  # another period: its own counter
    # a number that already exists is skipped (the unique number is the backstop of a bad format)
    assert reserve(db, 6, period="2028", start=100)[0]["number"] == "Д-101"
    assert register.counter_value(db, M, "prepayment", "", "2026") == 120


def test_same_deal_and_type_keep_their_number(any_services) -> None:
    db = any_services.db
    first, created = reserve(db, 7)
    again, created_again = reserve(db, 7)
    assert created and not created_again and again["id"] == first["id"]
    other_type, _ = reserve(db, 7, type_code="deferred", fmt="ДО-{SEQ}")
    assert other_type["number"] == "ДО-1"
    assert register.counter_value(db, M, "prepayment", "", "2026") == 1


def test_idempotency_key_returns_its_row_and_refuses_another_deal(any_services) -> None:
    db = any_services.db
    row, _ = reserve(db, 8, key="robot:abc")
    assert reserve(db, 8, key="robot:abc")[0]["id"] == row["id"]
    with pytest.raises(DataError, match="idempotency key"):
        reserve(db, 9, key="robot:abc")


def test_a_rolled_back_insert_gives_its_number_back(any_services) -> None:
    db = any_services.db
    reserve(db, 1)
    with pytest.raises(RuntimeError), db.transaction():
        assert reserve(db, 2)[0]["number"] == "Д-2"
        raise RuntimeError("the document insert failed")
    assert register.active_for(db, M, 2, "prepayment") is None
    assert reserve(db, 3)[0]["number"] == "Д-2"  # no gap


def test_void_keeps_the_number_and_a_new_contract_takes_the_next(any_services) -> None:
    db = any_services.db
    row, _ = reserve(db, 1)
    void = register.void(db, M, row["number"], by="admin", reason="клиент отказался")
    assert void["status"] == register.VOID and void["void_reason"] == "клиент отказался"
    again, created = reserve(db, 1)
    assert created and again["number"] == "Д-2"
    assert [r["number"] for r in register.list_contracts(db, M, deal_id=1)] == ["Д-2", "Д-1"]
    assert register.void(db, M, "Д-1")["status"] == register.VOID  # voiding twice changes nothing
    with pytest.raises(DataError, match="нет в реестре"):
        register.void(db, M, "Д-404")


def test_manual_numbers_are_checked_and_skipped_by_the_counter(any_services) -> None:
    db = any_services.db
    reserve(db, 1)  # Д-1
    manual = register.set_manual(
        db,
        M,
        deal_id=2,
        type_code="prepayment",
        number="Д-2",
        contract_date="2026-03-05",
        sequence="prepayment",
        period="2026",
        seq=2,
        created_by="admin",
    )
    assert manual["manual"] == 1 and manual["status"] == register.RESERVED
    with pytest.raises(DataError, match="уже есть в реестре"):
        register.set_manual(
            db, M, deal_id=3, type_code="prepayment", number="Д-1", contract_date="2026-03-05"
        )
    with pytest.raises(DataError, match="уже есть договор"):
        register.set_manual(
            db, M, deal_id=2, type_code="prepayment", number="Д-77", contract_date="2026-03-05"
        )
    replaced = register.set_manual(
        db, M, deal_id=2, type_code="prepayment", number="Д-77", contract_date="2026-03-05", replace=True
    )
    assert register.by_number(db, M, "Д-2")["status"] == register.VOID
    assert register.active_for(db, M, 2, "prepayment")["id"] == replaced["id"]
    nxt, _ = reserve(db, 4)
    assert nxt["number"] == "Д-3" and nxt["seq"] == 3  # value 2 belongs to the manual Д-2
    with pytest.raises(DataError, match="уже есть в реестре"):  # void numbers are never given again
        register.set_manual(
            db, M, deal_id=5, type_code="prepayment", number="Д-2", contract_date="2026-03-05"
        )


def test_set_counter_continues_numbering_but_never_below_issued(any_services) -> None:
    db = any_services.db
    reserve(db, 1)
    reserve(db, 2)
    with pytest.raises(DataError):
        register.set_counter(db, M, sequence="prepayment", legal_entity="", period="2026", value=1)
    register.set_counter(db, M, sequence="prepayment", legal_entity="", period="2026", value=57)
    assert reserve(db, 3)[0]["number"] == "Д-58"


def test_contract_for_deal_is_the_newest_contract_that_is_not_void(any_services) -> None:
    db = any_services.db
    assert register.contract_for_deal(db, M, 1) is None
    reserve(db, 1, legal_entity="MP")
    reserve(db, 1, type_code="deferred", fmt="ДО-{SEQ}", legal_entity="MP")
    reserve(db, 1, type_code="claim", fmt="П-{SEQ}", legal_entity="MP")
    got = register.contract_for_deal(db, M, 1)
    assert (
        got is not None and got["number"] == "ДО-1" and got["type"] == "deferred"
    )  # a claim is not a contract
    assert got["date"] == "2026-03-05" and got["legal_entity"] == "MP" and got["status"] == register.RESERVED
    assert register.contract_for_deal(db, M, 1, "prepayment")["number"] == "Д-1"
    assert register.contract_for_deal(db, M, 1, "claim")["number"] == "П-1"
    register.void(db, M, "ДО-1")
    assert register.contract_for_deal(db, M, 1)["number"] == "Д-1"
    assert register.contract_for_deal(db, M, 2) is None


def test_update_records_the_outcome_and_refuses_other_columns(any_services) -> None:
    db = any_services.db
    row, _ = reserve(db, 1)
    done = register.update(db, M, row["id"], status=register.ISSUED, file_id=55, document_url="https://x/y")
    pub = register.public(done)
    assert pub["status"] == "issued" and pub["file_id"] == 55 and pub["date"] == "2026-03-05"
    assert pub["type"] == "prepayment" and pub["created_at"].endswith("+00:00")
    with pytest.raises(ValueError):
        register.update(db, M, row["id"], number="Д-999")


def test_threads_asking_for_the_same_deal_get_one_number(any_services) -> None:
    db = any_services.db
    barrier = threading.Barrier(6)
    got: list[str] = []

    def run() -> None:
        barrier.wait()
        got.append(reserve(db, 42)[0]["number"])
        db.close()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert got == ["Д-1"] * 6
    assert register.counter_value(db, M, "prepayment", "", "2026") == 1


# --- numbering plans: formats, legal entities, resets in the portal's time zone -----------------------


def test_plan_renders_the_demo_format_per_legal_entity(any_services) -> None:
    db = any_services.db
    t = effective_type({"code": "prepayment", "format": "Д-{YY}/{SEQ:4}-{COMPANY}", "per_legal_entity": True})
    at = dt.datetime(2026, 3, 5, 12, 0, tzinfo=MSK)
    assert issue_with_plan(db, t, MP, at, 1)["number"] == "Д-26/0001-МП"
    assert issue_with_plan(db, t, MP, at, 2)["number"] == "Д-26/0002-МП"
    assert issue_with_plan(db, t, MPT, at, 3)["number"] == "Д-26/0001-МПТ"
    shared = effective_type({"code": "deferred", "format": "ДО-{YY}/{SEQ:4}-{COMPANY}"})
    assert issue_with_plan(db, shared, MP, at, 4)["number"] == "ДО-26/0001-МП"
    assert issue_with_plan(db, shared, MPT, at, 5)["number"] == "ДО-26/0002-МПТ"  # one sequence for both


def test_yearly_reset_follows_the_portal_time_zone(any_services) -> None:
    db = any_services.db
    t = effective_type({"code": "prepayment", "format": "Д-{YY}/{SEQ:4}", "reset": "yearly"})
    before = dt.datetime(2026, 12, 31, 20, 59, tzinfo=dt.UTC)  # 23:59 in Moscow
    after = dt.datetime(2026, 12, 31, 21, 1, tzinfo=dt.UTC)  # 00:01 on 1 January in Moscow
    assert issue_with_plan(db, t, None, before, 1)["number"] == "Д-26/0001"
    assert issue_with_plan(db, t, None, before, 2)["number"] == "Д-26/0002"
    first_2027 = issue_with_plan(db, t, None, after, 3)
    assert first_2027["number"] == "Д-27/0001" and first_2027["contract_date"] == "2027-01-01"
    assert first_2027["period"] == "2027"


def test_monthly_and_never_resets(any_services) -> None:
    db = any_services.db
    monthly = effective_type({"code": "claim", "format": "П-{YY}{MM}/{SEQ:3}", "reset": "monthly"})
    march_end = dt.datetime(2026, 3, 31, 20, 30, tzinfo=dt.UTC)  # 23:30 MSK, still March
    april = dt.datetime(2026, 3, 31, 21, 30, tzinfo=dt.UTC)  # 00:30 MSK, 1 April
    assert issue_with_plan(db, monthly, None, march_end, 1)["number"] == "П-2603/001"
    assert issue_with_plan(db, monthly, None, april, 2)["number"] == "П-2604/001"
    never = effective_type({"code": "dealer", "format": "ДД-{SEQ:3}", "reset": "never"})
    assert issue_with_plan(db, never, None, march_end, 3)["number"] == "ДД-001"
    assert issue_with_plan(db, never, None, dt.datetime(2031, 6, 1, tzinfo=dt.UTC), 4)["number"] == "ДД-002"


def test_plan_refuses_a_format_it_cannot_fill_before_taking_a_number(any_services) -> None:
    t = effective_type({"code": "prepayment", "format": "Д-{YY}/{SEQ:4}-{COMPANY}"})
    with pytest.raises(ConfigError, match="COMPANY"):
        plan_number(t, None, "Europe/Moscow", dt.datetime(2026, 3, 5, tzinfo=dt.UTC), 1)
