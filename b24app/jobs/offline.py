"""The offline-event sweep: online deliveries are never retried, so events whose subscribers ask
for it are also bound offline; the portal queues them and this sweep pulls them.

Each pulled record becomes the same ``event.dispatch`` job an online delivery would, unless an
online delivery of the same event about the same entity was received after the record's time
(then the change was seen already). Records are taken with ``clear=0`` (reserved under a
``process_id``) and cleared only after they are stored, so a crash loses nothing; portals whose
plan lacks ``clear=0`` (403 WRONG_LICENSE) fall back to ``clear=1``.

A reservation whose answer never reached us (the portal committed it, then the answer was lost to a
timeout, a 5xx or a killed worker) is never handed out again by a plain ``event.offline.get``: each
sweep first finds such batches with ``event.offline.list`` (records with a ``PROCESS_ID``), re-reads
them by their ``process_id``, stores and clears them. Sweeps of one portal never overlap (their
``lock_key``), so a reservation seen at the start of a sweep is no other sweep's.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from b24app import clock
from b24app.context import Services
from b24app.errors import BitrixError
from b24app.jobs.context import JobContext
from b24app.jobs.registry import job, load_plugins, periodic
from b24app.store import inbound, installations
from b24app.store import jobs as jobs_repo

log = logging.getLogger("b24app.offline")

SWEEP_EVERY_S = 60
SEEN_WINDOW_S = 120  # an online delivery this close to the record's time counts as the same change
MAX_ROUNDS = 40  # 40 x 50 records per job; the next sweep continues
MAX_ORPHANED = 10  # reserved batches taken back per job; the next sweep continues


def _ts(value: Any) -> float:
    try:
        return dt.datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return clock.now()


def _store(ctx: JobContext, rec: dict[str, Any]) -> bool:
    name = str(rec.get("EVENT_NAME", "")).upper()
    data = rec.get("EVENT_DATA") or {}
    if not isinstance(data, dict):
        data = {}
    fields = data.get("FIELDS") or data.get("FIELDS_AFTER") or {}
    entity = str(fields.get("ID", "")) if isinstance(fields, dict) else ""
    ts = _ts(rec.get("TIMESTAMP_X"))
    if entity and inbound.seen_since(ctx.db, ctx.member_id, name, entity, ts - SEEN_WINDOW_S):
        return False
    extra = rec.get("EVENT_ADDITIONAL") or {}
    payload = {"event": name, "data": data, "ts": int(ts), "handler_id": None,
               "user_id": extra.get("user_id") if isinstance(extra, dict) else None,
               "tokenless": True, "offline": True}
    _, created = inbound.record_with_job(
        ctx.db, member_id=ctx.member_id, kind="event", name=name,
        dedupe_key=f"offline:{ctx.member_id}:{rec.get('MESSAGE_ID')}:{rec.get('TIMESTAMP_X')}",
        payload=payload, job_kind="event.dispatch", job_payload=payload, entity_id=entity or None,
    )
    return created


def _store_batch(ctx: JobContext, records: list[dict[str, Any]], process_id: str | None) -> int:
    """Store a batch's records, then clear the batch's reservation (if it has one); how many were new."""
    stored = sum(_store(ctx, rec) for rec in records)
    if process_id and records:
        ctx.client.call("event.offline.clear", {"process_id": process_id,
                                                "message_id": [r["MESSAGE_ID"] for r in records]})
    return stored


def _take_back_orphaned(ctx: JobContext) -> tuple[int, int]:
    """Batches an earlier sweep reserved but never saw: re-read by ``process_id``, stored, cleared."""
    client = ctx.client
    try:
        reserved = client.call("event.offline.list", {"filter": {"!PROCESS_ID": ""}, "order": {"ID": "ASC"}})
    except BitrixError as exc:
        if exc.code == "WRONG_LICENSE":
            return 0, 0  # no reservations on this plan
        raise
    batches = list(dict.fromkeys(str(r["PROCESS_ID"]) for r in reserved or [] if r.get("PROCESS_ID")))
    batches = batches[:MAX_ORPHANED]
    taken = stored = 0
    for process_id in batches:
        records = (client.call("event.offline.get", {"process_id": process_id, "clear": 0}) or {}).get("events") or []
        taken += len(records)
        stored += _store_batch(ctx, records, process_id)
    if batches:
        log.info("offline batches taken back", extra={"member_id": ctx.member_id, "batches": len(batches),
                                                       "records": taken, "stored": stored})
    return taken, stored


@job("events.offline_sweep", max_attempts=5)
def sweep(ctx: JobContext) -> dict[str, int]:
    client = ctx.client
    taken_back, stored = _take_back_orphaned(ctx)
    taken = 0
    clear = 0
    for _ in range(MAX_ROUNDS):
        try:
            got = client.call("event.offline.get", {"clear": clear, "limit": 50})
        except BitrixError as exc:
            if exc.code == "WRONG_LICENSE" and clear == 0:
                clear = 1  # the plan has no reservations: at-most-once from here on
                continue
            raise
        records = (got or {}).get("events") or []
        if not records:
            break
        taken += len(records)
        stored += _store_batch(ctx, records, (got or {}).get("process_id") if clear == 0 else None)
        if len(records) < 50:
            break
    return {"taken": taken, "taken_back": taken_back, "stored": stored}


@periodic("events.offline_sweep", every_s=SWEEP_EVERY_S)
def enqueue_sweeps(services: Services) -> None:
    if not load_plugins().offline_events():
        return
    period = int(clock.now() // SWEEP_EVERY_S)
    for inst in installations.list_active(services.db):
        if inst.registered_at:
            jobs_repo.enqueue(services.db, "events.offline_sweep", member_id=inst.member_id,
                              dedupe_key=f"offline-sweep:{inst.member_id}:{period}",
                              lock_key=f"offline-sweep:{inst.member_id}")
