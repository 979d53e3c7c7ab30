"""Lead distribution in the app: the "distribution" settings section, the ONCRMLEADADD subscription
(also bound offline, so leads created while the app was down are distributed too), and the periodic
tasks: quality-control release, deadlines, reconciliation.

Quality control is watched by polling, not by ONCRMLEADUPDATE: a subscription would deliver every
lead update of the portal — our own backlog writes included, tens of thousands of them — to find the
few leads QC moved. The watch costs one request a minute and only while leads wait in QC.
"""

from __future__ import annotations

from typing import Any

from b24app import clock
from b24app.context import Services
from b24app.jobs.context import JobContext
from b24app.jobs.registry import job, on_event, periodic
from b24app.leads import deadlines, service, store
from b24app.leads.engine import INTAKE
from b24app.leads.settings_section import SCHEMA, demo
from b24app.settings.sections import section
from b24app.store import installations
from b24app.store import jobs as jobs_repo

section("distribution", SCHEMA, demo=demo, title_ru="Распределение лидов", title_en="Lead distribution")

RECONCILE_EVERY_S = 300
DEADLINES_EVERY_S = 60
QC_EVERY_S = 60


@on_event("leads.distribute_new", "ONCRMLEADADD", offline=True)
def on_lead_add(ctx: JobContext, event: dict[str, Any]) -> dict[str, Any]:
    lead_id = service.lead_id_of(event)
    if lead_id is None:
        return {"skipped": "no lead id"}
    known = store.get_decisions(ctx.db, ctx.member_id, "lead", [lead_id], INTAKE).get(lead_id)
    if known is not None and known.status == store.APPLIED:
        return {"skipped": "already decided", "decision": known.id}
    d = service.distribute_one(service.Portal.from_job(ctx), "lead", lead_id, trigger="event",
                               require_unprocessed=True)
    return {"decision": d.id if d else None, "user_id": d.user_id if d else None, "kind": d.kind if d else None}


@job("leads.reconcile", max_attempts=3, lease_s=900)
def reconcile_job(ctx: JobContext) -> dict[str, int]:
    return service.reconcile(service.Portal.from_job(ctx))


@job("leads.qc_watch", max_attempts=3, lease_s=300)
def qc_watch_job(ctx: JobContext) -> dict[str, int]:
    return service.watch_qc(service.Portal.from_job(ctx))


@job("leads.deadlines", max_attempts=3, lease_s=300)
def deadlines_job(ctx: JobContext) -> dict[str, int]:
    return deadlines.scan(service.Portal.from_job(ctx))


@periodic("leads.reconcile", every_s=RECONCILE_EVERY_S)
def enqueue_reconcile(services: Services) -> None:
    period = int(clock.now() // RECONCILE_EVERY_S)
    for inst in installations.list_active(services.db):
        if inst.registered_at:
            jobs_repo.enqueue(services.db, "leads.reconcile", member_id=inst.member_id,
                              dedupe_key=f"leads-reconcile:{inst.member_id}:{period}",
                              lock_key=f"leads-reconcile:{inst.member_id}")


@periodic("leads.qc_watch", every_s=QC_EVERY_S)
def enqueue_qc_watch(services: Services) -> None:
    period = int(clock.now() // QC_EVERY_S)
    for inst in installations.list_active(services.db):
        if inst.registered_at and store.awaiting_release(services.db, inst.member_id, limit=1):
            jobs_repo.enqueue(services.db, "leads.qc_watch", member_id=inst.member_id,
                              dedupe_key=f"leads-qc:{inst.member_id}:{period}", lock_key=f"leads-qc:{inst.member_id}")


@periodic("leads.deadlines", every_s=DEADLINES_EVERY_S)
def enqueue_deadlines(services: Services) -> None:
    now = clock.now()
    period = int(now // DEADLINES_EVERY_S)
    for inst in installations.list_active(services.db):
        if inst.registered_at and store.any_due(services.db, inst.member_id, now):
            jobs_repo.enqueue(services.db, "leads.deadlines", member_id=inst.member_id,
                              dedupe_key=f"leads-deadlines:{inst.member_id}:{period}",
                              lock_key=f"leads-deadlines:{inst.member_id}")
