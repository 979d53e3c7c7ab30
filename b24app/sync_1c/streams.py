"""Streams of one base: invoices and payments, each with its cursor in ``sync_state``.

The model (engineering-patterns.md §1.5, §2.3):
- **slices**: time windows ``[from, to)`` of ``slice_days`` over the documents' 1C dates;
- **cursor with lookback**: a run starts at ``cursor - lookback_days`` (1C has no modification time:
  a back-dated, reposted or unposted document is caught while it is inside the lookback), and the
  upserts absorb what is read twice;
- **signpost**: the cursor never moves past the moment the run started (documents dated later
  are read next time);
- **committed with the data**: every page's rows, the invoices' new sums, the outbox marks for the
  portal and the stream's progress (slice + page token) are written in ONE transaction, so a crash
  repeats at most a page and loses nothing; the cursor moves to the slice end when the slice is done;
- **deletions**: a slice read completely from its start lets payments stored for it but no longer
  returned count as deleted;
- **dead letters**: a record that cannot be read or applied goes to ``sync_1c_dead`` with a readable
  reason and the stream goes on;
- **loop prevention**: an invoice whose DataVersion is the one our own write produced is not a change.

Invoices on a SOAP base come from the service's change feed (cursor = change number, deletions
included) instead of windows.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from b24app import clock
from b24app.errors import B24AppError
from b24app.store import sync_state
from b24app.sync_1c import state
from b24app.sync_1c.records import InvoiceRec, PaymentRec
from b24app.sync_1c.transport import Transport

log = logging.getLogger("b24app.sync_1c.streams")

KEY_MARK = "[b24app "
RECHECK_DAYS = 90


def stream_name(base: str, entity: str) -> str:
    return f"onec:{base}:{entity}"


def parse_local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text[:19])


def fmt_local(value: dt.datetime) -> str:
    return value.replace(microsecond=0).isoformat()


@dataclass
class Options:
    lookback_days: int = 7
    start_days: int = 30
    slice_days: int = 7
    page_size: int = 500
    import_invoices: bool = False
    since: dt.datetime | None = None  # resync from this date (ignores the cursor)

    @classmethod
    def from_settings(cls, pull: dict[str, Any], since: dt.datetime | None = None) -> Options:
        return cls(int(pull.get("lookback_days", 7)), int(pull.get("start_days", 30)), int(pull.get("slice_days", 7)),
                   int(pull.get("page_size", 500)), bool(pull.get("import_invoices", False)), since)


@dataclass
class StreamReport:
    stream: str
    read: int = 0
    changed: int = 0
    dead: int = 0
    pages: int = 0
    slices: int = 0
    cursor: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Progress = Callable[[str, int, int], None]  # (stream, slices done, slices total)


def slices(start: dt.datetime, end: dt.datetime, days: int) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    cur = start
    step = dt.timedelta(days=days)
    while cur < end:
        nxt = min(cur + step, end)
        yield cur, nxt
        cur = nxt


def window_start(cursor: str | None, opts: Options, signpost: dt.datetime) -> dt.datetime:
    if opts.since is not None:
        return opts.since
    if cursor:
        return parse_local(cursor) - dt.timedelta(days=opts.lookback_days)
    return (signpost - dt.timedelta(days=opts.start_days)).replace(hour=0, minute=0, second=0)


class Stream:
    """Shared plumbing: state read/write inside the page transaction, dead letters."""

    entity = ""

    def __init__(self, db: Any, member_id: str, base: str, transport: Transport, opts: Options) -> None:
        self.db = db
        self.member_id = member_id
        self.base = base
        self.t = transport
        self.opts = opts
        self.name = stream_name(base, self.entity)
        self.report = StreamReport(self.name)
        self.heartbeat: Callable[[], None] | None = None  # called after every committed page (lease renewal)

    def beat(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat()

    def load(self) -> tuple[str | None, dict[str, Any]]:
        return sync_state.get(self.db, self.member_id, self.name)

    def save(self, cursor: str | None, st: dict[str, Any]) -> None:
        st = dict(st, updated_at=clock.now())
        sync_state.put(self.db, self.member_id, self.name, cursor, st)

    def dead(self, key: str, reason: str, payload: Any = None) -> None:
        state.put_dead(self.db, self.member_id, self.base, self.entity, key, reason, payload=payload)
        self.report.dead += 1
        log.warning("sync record dead-lettered", extra={"member_id": self.member_id, "base": self.base,
                                                        "stream": self.entity, "record": key, "reason": reason})


class PaymentStream(Stream):
    """Posted bank and cash receipts, matched to invoices through their rows (or the header's basis)."""

    entity = "payments"

    def run(self, signpost: dt.datetime, progress: Progress | None = None) -> StreamReport:
        cursor, st = self.load()
        resume = st.get("slice") if self.opts.since is None else None
        start = window_start(cursor, self.opts, signpost)
        plan = list(slices(start, signpost, self.opts.slice_days))
        if resume and resume.get("from") and parse_local(resume["from"]) < signpost:
            # finish the slice a crash interrupted first, then go on from its end
            r_from, r_to = parse_local(resume["from"]), parse_local(resume["to"])
            plan = [(r_from, r_to)] + [s for s in plan if s[1] > r_to]
        for i, (a, b) in enumerate(plan):
            token = resume.get("token", "") if resume and i == 0 and resume.get("from") == fmt_local(a) else ""
            self._slice(a, b, token, st, cursor)
            cursor = max(cursor or "", fmt_local(b)) if self.opts.since is None else (cursor or fmt_local(b))
            self.report.slices += 1
            if progress:
                progress(self.entity, i + 1, len(plan))
        self.report.cursor = cursor
        return self.report

    def _slice(self, a: dt.datetime, b: dt.datetime, token: str, st: dict[str, Any], cursor: str | None) -> None:
        complete = token == ""  # read from the slice's start: deletions can be detected at its end
        seen: set[str] = set()
        fa, fb = fmt_local(a), fmt_local(b)
        while True:
            rows, nxt = self.t.payment_page(fa, fb, token, self.opts.page_size)
            self.report.pages += 1
            with self.db.transaction():
                affected: set[str] = set()
                for rec in rows:
                    seen.add(rec.ref)
                    affected |= self._apply(rec)
                    self.report.read += 1
                done = nxt is None
                if done and complete:
                    affected |= state.deactivate_missing(self.db, self.member_id, self.base, fa, fb, seen)
                self._recompute(affected)
                new_cursor = cursor
                if done and self.opts.since is None:
                    new_cursor = max(cursor or "", fb)
                progress_state = {**st, "slice": None if done else {"from": fa, "to": fb, "token": nxt}}
                progress_state["last_page_at"] = clock.now()
                self.save(new_cursor, progress_state)
            self.beat()
            if done:
                return
            token = nxt or ""

    def _apply(self, rec: PaymentRec) -> set[str]:
        try:
            allocations: list[tuple[str, float]] = []
            for a in rec.allocations:
                ref = a.target_ref
                if a.target == "order":
                    mapped = state.invoice_by_order(self.db, self.member_id, self.base, ref)
                    if mapped is None:
                        continue  # an order we did not invoice
                    ref = mapped
                allocations.append((ref, round(float(a.amount), 2)))
            if not rec.date:
                raise ValueError("payment without a date")
            return state.put_payment(self.db, self.member_id, self.base, rec, allocations)
        except (B24AppError, ValueError, TypeError, KeyError) as exc:
            self.dead(rec.ref, f"payment {rec.number or rec.ref} cannot be applied: {exc}", rec.__dict__ | {
                "allocations": [a.__dict__ for a in rec.allocations]})
            return set()

    def _recompute(self, refs: set[str]) -> None:
        changed = {r for r in refs if state.recompute_paid(self.db, self.member_id, self.base, r)}
        if changed:
            self.report.changed += state.mark_dirty(self.db, self.member_id, self.base, changed, "payment")


class InvoiceStream(Stream):
    """Invoice changes (amount, status, deletion mark, physical deletion) and, optionally, invoices
    made in 1C for counterparties we know."""

    entity = "invoices"

    def run(self, signpost: dt.datetime, progress: Progress | None = None) -> StreamReport:
        if self.t.has_change_feed:
            return self._feed(progress)
        cursor, st = self.load()
        start = window_start(cursor, self.opts, signpost)
        plan = list(slices(start, signpost, self.opts.slice_days))
        for i, (a, b) in enumerate(plan):
            skip = 0
            while True:
                rows = self.t.invoice_window(fmt_local(a), fmt_local(b), skip, self.opts.page_size)
                self.report.pages += 1
                done = len(rows) < self.opts.page_size
                with self.db.transaction():
                    for rec in rows:
                        self._apply(rec)
                    if done and self.opts.since is None:
                        cursor = max(cursor or "", fmt_local(b))
                    self.save(cursor, {**st, "last_page_at": clock.now()})
                self.report.read += len(rows)
                self.beat()
                if done:
                    break
                skip += len(rows)
            self.report.slices += 1
            if progress:
                progress(self.entity, i + 1, len(plan) + 1)
        self._recheck(start)
        if progress:
            progress(self.entity, len(plan) + 1, len(plan) + 1)
        self.report.cursor = cursor
        return self.report

    def _recheck(self, window_from: dt.datetime) -> None:
        """Tracked invoices dated before the window: compare DataVersion (changed or deleted)."""
        cutoff = clock.now() - RECHECK_DAYS * 86400
        refs = state.recheck_refs(self.db, self.member_id, self.base, fmt_local(window_from), cutoff)
        if not refs:
            return
        got = {rec.ref: rec for rec in self.t.invoices_by_ref(refs)}
        self.report.extra["rechecked"] = len(refs)
        with self.db.transaction():
            for ref in refs:
                rec = got.get(ref) or InvoiceRec(ref=ref, deleted=True)
                self._apply(rec)

    def _feed(self, progress: Progress | None) -> StreamReport:
        cursor, st = self.load()
        if self.opts.since is not None:
            cursor = None
        n = 0
        while True:
            rows, new_cursor, more = self.t.invoice_changes(cursor or "", self.opts.page_size)
            self.report.pages += 1
            with self.db.transaction():
                for rec in rows:
                    self._apply(rec)
                self.save(new_cursor, {**st, "last_page_at": clock.now()})
            self.report.read += len(rows)
            self.beat()
            cursor = new_cursor
            n += 1
            if progress:
                progress(self.entity, n, n + (1 if more else 0))
            if not more:
                break
        self.report.cursor = cursor
        return self.report

    def _apply(self, rec: InvoiceRec) -> None:
        try:
            cur = state.invoice(self.db, self.member_id, self.base, rec.ref)
            if cur is not None:
                if rec.data_version and rec.data_version == cur.own_version and not rec.deleted:
                    return  # our own write coming back
                if state.update_invoice_from_1c(self.db, self.member_id, self.base, rec):
                    self.report.changed += state.mark_dirty(self.db, self.member_id, self.base, {rec.ref},
                                                            "invoice")
                return
            if rec.deleted or not self.opts.import_invoices or KEY_MARK in rec.comment or not rec.live:
                return  # not ours to track (our own pushes are recorded by the push, found by their key)
            company = state.company_of_counterparty(self.db, self.member_id, self.base, rec.counterparty_ref)
            if company is None:
                return
            state.record_invoice(self.db, self.member_id, self.base, rec, origin="onec", company_id=company)
            state.recompute_paid(self.db, self.member_id, self.base, rec.ref)
            self.report.changed += state.mark_dirty(self.db, self.member_id, self.base, {rec.ref},
                                                    "new invoice in 1C", force=True)
        except (B24AppError, ValueError, TypeError, KeyError) as exc:
            self.dead(rec.ref, f"invoice {rec.number or rec.ref} cannot be applied: {exc}", rec.__dict__)
