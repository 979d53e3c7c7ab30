"""Runs the sync of one base: invoices, then payments, then the portal writes they queued.

One base is synced by one process at a time: jobs carry ``lock_key = onec:<member>:<base>`` (the
queue never runs two at once) and the run itself holds a lease of the same name, renewed every
page, so ``b24app sync run`` from a shell cannot race a worker either. A failed run leaves every
committed page in place: the next run goes on from the cursors (and the outbox keeps what the
portal has not received yet).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from b24app import clock
from b24app.errors import B24AppError, Busy, DataError
from b24app.store import leases, sync_state
from b24app.sync_1c import apply, connections, state
from b24app.sync_1c.push import now_local
from b24app.sync_1c.streams import InvoiceStream, Options, PaymentStream, Progress, stream_name

log = logging.getLogger("b24app.sync_1c.engine")

LEASE_TTL_S = 120.0


def lock_name(member_id: str, base: str) -> str:
    return f"onec:{member_id}:{base}"


class _Lease:
    """The per-base lease, renewed as pages go by."""

    def __init__(self, db: Any, name: str) -> None:
        self.db, self.name = db, name
        self.holder = f"{leases.holder_id()}:{id(self)}"

    def take(self) -> None:
        leases.acquire(self.db, self.name, self.holder, LEASE_TTL_S)

    def renew(self, *_a: Any) -> None:
        if not leases.try_acquire(self.db, self.name, self.holder, LEASE_TTL_S):
            raise Busy(f"lost the lease of {self.name} (another process took it)")

    def release(self) -> None:
        leases.release(self.db, self.name, self.holder)


def run_base(services: Any, member_id: str, base_name: str, *, since: dt.date | None = None,
             progress: Progress | None = None) -> dict[str, Any]:
    """One incremental run of a base (or a re-read from ``since``); returns a report."""
    from b24app.settings import document

    settings = document.load(services.db, member_id)
    section = connections.section(settings)
    base = connections.base_config(settings, base_name)
    if not section.get("enabled", True) or not base.get("enabled", True):
        return {"base": base_name, "skipped": "switched off in the settings"}
    lease = _Lease(services.db, lock_name(member_id, base_name))
    lease.take()
    run_stream = stream_name(base_name, "run")
    _, run_state = sync_state.get(services.db, member_id, run_stream)
    started = clock.now()
    run_state = {**run_state, "last_run_at": started}
    sync_state.put(services.db, member_id, run_stream, None, run_state)
    try:
        transport = connections.open_transport(services, member_id, base)
        tz = base.get("timezone", "Europe/Moscow")
        signpost = now_local(tz)
        since_dt = dt.datetime.combine(since, dt.time()) if since else None
        opts = Options.from_settings(section.get("pull") or {}, since_dt)

        def tick(stream: str, done: int, total: int) -> None:
            lease.renew()
            if progress:
                progress(stream, done, total)

        inv_stream = InvoiceStream(services.db, member_id, base_name, transport, opts)
        pay_stream = PaymentStream(services.db, member_id, base_name, transport, opts)
        inv_stream.heartbeat = pay_stream.heartbeat = lease.renew
        invoices = inv_stream.run(signpost, tick)
        payments = pay_stream.run(signpost, tick)
        portal = apply_pending(services, member_id, settings, base_name, renew=lease.renew)
        report = {
            "base": base_name, "signpost": signpost.isoformat(), "seconds": round(clock.now() - started, 3),
            "requests_1c": transport.requests_sent,
            "invoices": invoices.__dict__, "payments": payments.__dict__, "portal": portal,
        }
        run_state.update(last_success_at=clock.now(), last_error=None, last_report=_brief(report))
        sync_state.put(services.db, member_id, run_stream, None, run_state)
        log.info("1C base synced", extra={"member_id": member_id, "base": base_name, **_brief(report)})
        return report
    except Exception as exc:
        text = str(exc) if isinstance(exc, B24AppError) else f"{exc.__class__.__name__}: {exc}"
        run_state.update(last_error=text[:1000], last_error_at=clock.now())
        sync_state.put(services.db, member_id, run_stream, None, run_state)
        raise
    finally:
        lease.release()


def _brief(report: dict[str, Any]) -> dict[str, Any]:
    return {"invoices_read": report["invoices"]["read"], "invoices_changed": report["invoices"]["changed"],
            "payments_read": report["payments"]["read"], "payments_changed": report["payments"]["changed"],
            "dead": report["invoices"]["dead"] + report["payments"]["dead"] + report["portal"]["dead"],
            "portal_writes": report["portal"]["applied"], "seconds": report["seconds"]}


def apply_pending(services: Any, member_id: str, settings: dict[str, Any], base: str | None = None, *,
                  renew: Any = None, limit: int = 100_000) -> dict[str, Any]:
    """Write queued invoices to the portal (the outbox). A record the portal refuses for good goes to
    the dead letters; a transient failure stops here and the rows wait for the next run."""
    out = {"applied": 0, "dead": 0}
    rows = state.dirty(services.db, member_id, base, limit=500)
    if not rows:
        return out
    client = services.client(member_id)
    funnels = apply.Funnels(client)
    while rows and out["applied"] + out["dead"] < limit:
        for row in rows:
            inv = state.invoice(services.db, member_id, row["base"], row["invoice_ref"])
            if inv is not None:
                try:
                    apply.apply_invoice(services, member_id, settings, client, inv, funnels)
                    state.resolve_dead(services.db, member_id, row["base"], "portal", row["invoice_ref"])
                    out["applied"] += 1
                except DataError as exc:
                    state.put_dead(services.db, member_id, row["base"], "portal", row["invoice_ref"],
                                   f"1C invoice {inv.number}: {exc.message}", payload={"deal_id": inv.deal_id})
                    out["dead"] += 1
            state.clear_dirty(services.db, member_id, row["base"], row["invoice_ref"], row["created_at"])
            if renew:
                renew()
        rows = state.dirty(services.db, member_id, base, limit=500)
    return out


def status(services: Any, member_id: str, settings: dict[str, Any], base: str | None = None) -> list[dict[str, Any]]:
    """Per base: cursors and their lag, last run, last error, dead letters, queued portal writes."""
    out = []
    for b in connections.bases(settings, enabled_only=False):
        if base and b["name"] != base:
            continue
        name = b["name"]
        now = now_local(b.get("timezone", "Europe/Moscow"))
        streams = {}
        for entity in ("invoices", "payments"):
            cursor, st = sync_state.get(services.db, member_id, stream_name(name, entity))
            lag = None
            if cursor and not cursor.isdigit():
                lag = round((now - dt.datetime.fromisoformat(cursor[:19])).total_seconds())
            streams[entity] = {"cursor": cursor, "lag_s": lag, "in_progress": (st or {}).get("slice"),
                               "updated_at": clock.iso((st or {}).get("updated_at"))}
        _, run = sync_state.get(services.db, member_id, stream_name(name, "run"))
        out.append({
            "base": name, "transport": b.get("transport"), "profile": b.get("profile"),
            "enabled": b.get("enabled", True), "streams": streams,
            "last_run_at": clock.iso(run.get("last_run_at")), "last_success_at": clock.iso(run.get("last_success_at")),
            "last_error": run.get("last_error"), "last_error_at": clock.iso(run.get("last_error_at")),
            "last_report": run.get("last_report"),
            "dead_letters": state.dead_count(services.db, member_id, name),
            "portal_queue": len(state.dirty(services.db, member_id, name)),
            "running": leases.holder_of(services.db, lock_name(member_id, name)),
        })
    return out

