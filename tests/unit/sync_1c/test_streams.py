"""The stream logic against the real store with a scripted 1C: windows with lookback and a signpost,
cursors committed with the data, resuming a slice after a crash, deletions, reversals, dead letters,
loop prevention and the import of invoices made in 1C."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from b24app.context import Services
from b24app.errors import TransportError
from b24app.store import sync_state
from b24app.sync_1c import state
from b24app.sync_1c.profiles import profile
from b24app.sync_1c.records import Allocation, InvoiceRec, PaymentRec
from b24app.sync_1c.streams import InvoiceStream, Options, PaymentStream, slices, stream_name
from b24app.sync_1c.transport import Transport

M, BASE = "member-1", "bp"
SIGNPOST = dt.datetime(2026, 11, 23, 12, 0, 0)


class Scripted(Transport):
    """A 1C whose documents the test sets; records every window asked for."""

    kind = "odata"

    def __init__(self) -> None:
        super().__init__(BASE, profile("bp30"))
        self.payments: dict[str, PaymentRec] = {}
        self.invoices: dict[str, InvoiceRec] = {}
        self.windows: list[tuple[str, str, str]] = []
        self.fail_on_call: int | None = None
        self.calls = 0

    @property
    def requests_sent(self) -> int:
        return self.calls

    def payment_page(self, date_from: str, date_to: str, token: str, limit: int) -> tuple[list[PaymentRec], str | None]:
        self.calls += 1
        if self.fail_on_call is not None and self.calls >= self.fail_on_call:
            raise TransportError("connection reset")
        self.windows.append((date_from, date_to, token))
        rows = sorted((p for p in self.payments.values() if date_from <= p.date < date_to), key=lambda p: (p.date, p.ref))
        start = int(token or 0)
        page = rows[start:start + limit]
        return page, (str(start + limit) if start + limit < len(rows) else None)

    def invoice_window(self, date_from: str, date_to: str, skip: int, top: int) -> list[InvoiceRec]:
        rows = sorted((i for i in self.invoices.values() if i.date and date_from <= i.date < date_to),
                      key=lambda i: (i.date, i.ref))
        return rows[skip:skip + top]

    def invoices_by_ref(self, refs: list[str]) -> list[InvoiceRec]:
        return [self.invoices[r] for r in refs if r in self.invoices]

    # the push side is not used by streams
    def organizations(self) -> list[Any]:
        return []

    def find_counterparty(self, inn: str, kpp: str = "") -> list[Any]:
        return []

    def create_counterparty(self, data: dict[str, Any]) -> Any:
        raise AssertionError("not used")

    def find_contract(self, cp_ref: str, number: str = "", date: str | None = None, name: str = "") -> list[Any]:
        return []

    def create_contract(self, cp: Any, org: Any, number: str, date: str | None, name: str) -> Any:
        raise AssertionError("not used")

    def find_product(self, article: str = "", name: str = "") -> list[Any]:
        return []

    def create_product(self, data: dict[str, Any]) -> Any:
        raise AssertionError("not used")

    def find_invoice(self, key: str) -> InvoiceRec | None:
        return None

    def create_invoice(self, spec: Any) -> InvoiceRec:
        raise AssertionError("not used")


def pay(ref: str, date: str, amount: float, invoice: str = "inv-1", posted: bool = True) -> PaymentRec:
    return PaymentRec(ref=ref, number=ref.upper(), date=date, posted=posted, amount=amount, data_version=f"v-{ref}",
                      allocations=[Allocation(invoice, amount)])


def track(services: Services, ref: str = "inv-1", amount: float = 1000.0, deal: int = 7, date: str = "2026-11-01T10:00:00",
          version: str = "v1") -> None:
    state.record_invoice(services.db, M, BASE, InvoiceRec(ref=ref, number="0001", date=date, amount=amount, posted=True,
                                                          data_version=version), origin="b24", deal_id=deal, own=True)


def dirty_refs(services: Services) -> set[str]:
    return {r["invoice_ref"] for r in state.dirty(services.db, M, BASE)}


def run_payments(services: Services, t: Scripted, **opts: Any) -> Any:
    return PaymentStream(services.db, M, BASE, t, Options(**{"page_size": 2, **opts})).run(SIGNPOST)


def test_slices_cover_the_window_without_gaps() -> None:
    got = list(slices(dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 20, 5), 7))
    assert got[0][0] == dt.datetime(2026, 11, 1) and got[-1][1] == dt.datetime(2026, 11, 20, 5)
    assert all(a[1] == b[0] for a, b in zip(got, got[1:], strict=False)) and len(got) == 3


def test_first_run_reads_start_days_then_the_cursor_minus_lookback(services: Services) -> None:
    t = Scripted()
    run_payments(services, t, start_days=10, lookback_days=3, slice_days=30)
    assert t.windows[0][0] == "2026-11-13T00:00:00" and t.windows[-1][1] == "2026-11-23T12:00:00"
    cursor, _ = sync_state.get(services.db, M, stream_name(BASE, "payments"))
    assert cursor == "2026-11-23T12:00:00"  # the signpost caps it
    t.windows.clear()
    run_payments(services, t, start_days=10, lookback_days=3, slice_days=30)
    assert t.windows[0][0] == "2026-11-20T12:00:00"


def test_payments_count_for_tracked_invoices_and_queue_the_portal_write(services: Services) -> None:
    track(services)
    t = Scripted()
    t.payments = {"p1": pay("p1", "2026-11-20T10:00:00", 400.0), "p2": pay("p2", "2026-11-21T10:00:00", 100.0),
                  "p3": pay("p3", "2026-11-21T11:00:00", 50.0, invoice="someone-elses"),
                  "late": pay("late", "2026-11-23T12:30:00", 999.0)}  # after the signpost: next run
    report = run_payments(services, t)
    inv = state.invoice(services.db, M, BASE, "inv-1")
    assert inv is not None and inv.paid == 500.0 and inv.last_payment_date == "2026-11-21" and inv.status == "partial"
    assert dirty_refs(services) == {"inv-1"} and report.read == 3
    # a repeat changes nothing
    for row in state.dirty(services.db, M, BASE):
        state.clear_dirty(services.db, M, BASE, row["invoice_ref"], row["created_at"])
    run_payments(services, t)
    assert dirty_refs(services) == set()


def test_a_crash_mid_slice_resumes_at_the_page_and_loses_nothing(services: Services) -> None:
    track(services, amount=10_000.0)
    t = Scripted()
    t.payments = {f"p{i}": pay(f"p{i}", f"2026-11-2{i % 3}T1{i}:00:00", 100.0) for i in range(7)}
    t.fail_on_call = 3  # pages 1 and 2 (2 payments each) are committed, the third call dies
    with pytest.raises(TransportError):
        run_payments(services, t, start_days=5, slice_days=30)
    _, st = sync_state.get(services.db, M, stream_name(BASE, "payments"))
    assert st["slice"]["token"] == "4"
    assert state.invoice(services.db, M, BASE, "inv-1").paid == 400.0  # committed with the progress
    t.fail_on_call = None
    t.windows.clear()
    run_payments(services, t, start_days=5, slice_days=30)
    assert t.windows[0][2] == "4"  # resumed at the page, not from the start
    assert state.invoice(services.db, M, BASE, "inv-1").paid == 700.0
    assert sync_state.get(services.db, M, stream_name(BASE, "payments"))[1]["slice"] is None


def test_unposted_and_deleted_payments_stop_counting(services: Services) -> None:
    track(services)
    t = Scripted()
    t.payments = {"p1": pay("p1", "2026-11-20T10:00:00", 400.0), "p2": pay("p2", "2026-11-21T10:00:00", 600.0)}
    run_payments(services, t)
    assert state.invoice(services.db, M, BASE, "inv-1").status == "paid"
    t.payments["p2"] = pay("p2", "2026-11-21T10:00:00", 600.0, posted=False)  # unposted
    run_payments(services, t)
    assert state.invoice(services.db, M, BASE, "inv-1").paid == 400.0
    del t.payments["p1"]  # deleted physically: a complete read of its window no longer returns it
    run_payments(services, t)
    inv = state.invoice(services.db, M, BASE, "inv-1")
    assert inv.paid == 0.0 and inv.status == "unpaid" and inv.last_payment_date is None


def test_a_record_that_cannot_be_applied_is_a_dead_letter_and_the_rest_goes_on(services: Services) -> None:
    track(services)
    t = Scripted()
    t.payments = {"ok": pay("ok", "2026-11-20T10:00:00", 300.0)}
    bad = pay("bad", "2026-11-20T11:00:00", 1.0)
    bad.allocations = [Allocation("inv-1", "not a number")]  # type: ignore[arg-type]
    t.payments["bad"] = bad
    report = run_payments(services, t)
    assert report.dead == 1 and state.invoice(services.db, M, BASE, "inv-1").paid == 300.0
    dead = state.dead_letters(services.db, M, BASE)
    assert [(d["stream"], d["record_key"]) for d in dead] == [("payments", "bad")]
    assert "cannot be applied" in dead[0]["reason"]


def test_our_own_write_does_not_come_back_as_a_change(services: Services) -> None:
    track(services, date="2026-11-22T10:00:00", version="v1")
    t = Scripted()
    t.invoices = {"inv-1": InvoiceRec(ref="inv-1", number="0001", date="2026-11-22T10:00:00", amount=1000.0,
                                      posted=True, data_version="v1")}
    InvoiceStream(services.db, M, BASE, t, Options()).run(SIGNPOST)
    assert dirty_refs(services) == set()  # the DataVersion is the one our POST produced
    t.invoices["inv-1"] = InvoiceRec(ref="inv-1", number="0001", date="2026-11-22T10:00:00", amount=1200.0,
                                     posted=True, data_version="v2")  # the accountant changed the amount
    InvoiceStream(services.db, M, BASE, t, Options()).run(SIGNPOST)
    assert dirty_refs(services) == {"inv-1"} and state.invoice(services.db, M, BASE, "inv-1").amount == 1200.0


def test_a_tracked_invoice_older_than_the_window_is_rechecked_and_its_deletion_seen(services: Services) -> None:
    track(services, date="2026-06-01T10:00:00")
    t = Scripted()  # 1C no longer has it
    InvoiceStream(services.db, M, BASE, t, Options()).run(SIGNPOST)
    inv = state.invoice(services.db, M, BASE, "inv-1")
    assert inv is not None and inv.deleted and dirty_refs(services) == {"inv-1"}


def test_invoices_made_in_1c_are_imported_only_for_known_counterparties(services: Services) -> None:
    state.put_counterparty(services.db, M, BASE, 42, "cp-known", "6658100010", "", False)
    t = Scripted()
    t.invoices = {
        "a": InvoiceRec(ref="a", number="10", date="2026-11-22T09:00:00", amount=5.0, counterparty_ref="cp-known",
                        posted=True),
        "b": InvoiceRec(ref="b", number="11", date="2026-11-22T09:00:00", amount=5.0, counterparty_ref="cp-other",
                        posted=True),
        "c": InvoiceRec(ref="c", number="12", date="2026-11-22T09:00:00", amount=5.0, counterparty_ref="cp-known",
                        comment="Счёт [b24app abc-1-1]", posted=True),  # ours, found by the push's key
    }
    InvoiceStream(services.db, M, BASE, t, Options(import_invoices=False)).run(SIGNPOST)
    assert state.invoice(services.db, M, BASE, "a") is None
    InvoiceStream(services.db, M, BASE, t, Options(import_invoices=True)).run(SIGNPOST)
    a = state.invoice(services.db, M, BASE, "a")
    assert a is not None and a.origin == "onec" and a.company_id == 42
    assert state.invoice(services.db, M, BASE, "b") is None and state.invoice(services.db, M, BASE, "c") is None
    assert dirty_refs(services) == {"a"}
