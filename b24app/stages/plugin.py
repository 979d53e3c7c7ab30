"""Registers the stages feature: settings sections "stages" and "sla", event subscriptions (stage
changes, task updates), job kinds and the periodic tasks (which only enqueue)."""

from __future__ import annotations

import logging
from typing import Any

from b24app import clock
from b24app.context import Services
from b24app.jobs.context import JobContext
from b24app.jobs.registry import job, on_event, periodic
from b24app.settings.sections import section
from b24app.stages import apply, approvals, demo, detect, digest, payments, sla
from b24app.stages.model import sla_config
from b24app.stages.settings_schema import SLA, STAGES
from b24app.store import installations
from b24app.store import jobs as jobs_repo

log = logging.getLogger("b24app.stages")

section("stages", STAGES, demo=demo.stages_demo, title_ru="Задачи по стадиям", title_en="Stage tasks")
section("sla", SLA, demo=demo.sla_demo, title_ru="Сроки стадий, эскалация, просроченные оплаты",
        title_en="Stage deadlines, escalation, overdue payments")


# --- events ----------------------------------------------------------------------------------------
# Bound offline too: a change made while the app was down (online deliveries are never retried) reaches
# the handler through the offline sweep; the handlers read the item fresh, so a double delivery is harmless.
@on_event("stages.detect", "ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMLEADADD", "ONCRMLEADUPDATE", offline=True)
def on_crm_change(ctx: JobContext, event: dict[str, Any]) -> dict[str, Any]:
    return detect.on_crm_event(ctx, event)


@on_event("stages.task_followup", "ONTASKUPDATE", offline=True)
def on_task_update(ctx: JobContext, event: dict[str, Any]) -> dict[str, Any]:
    return approvals.on_task_event(ctx, event)


# --- jobs ------------------------------------------------------------------------------------------
@job("stages.sla_scan", max_attempts=5, lease_s=600)
def sla_scan(ctx: JobContext) -> dict[str, Any]:
    return sla.scan(ctx)


@job("stages.payments_scan", max_attempts=5, lease_s=600)
def payments_scan(ctx: JobContext) -> dict[str, Any]:
    return payments.scan(ctx)


@job("stages.digest", max_attempts=6)
def send_digest(ctx: JobContext) -> dict[str, Any]:
    return digest.run(ctx, ctx.payload.get("date"))


@job("stages.apply", max_attempts=5, lease_s=1800)
def apply_job(ctx: JobContext) -> dict[str, Any]:
    p = ctx.payload
    return apply.apply_existing(ctx, entity=p.get("entity"), stage=p.get("stage"), dry_run=bool(p.get("dry_run")))


# --- periodic (enqueue only) -----------------------------------------------------------------------
PAYMENTS_EVERY_S = 3600


def _portals(services: Services) -> list[tuple[str, dict[str, Any]]]:
    from b24app.settings import document

    out = []
    for inst in installations.list_active(services.db):
        if not inst.registered_at:
            continue
        try:
            out.append((inst.member_id, document.load(services.db, inst.member_id)))
        except Exception:  # one portal's broken settings must not stop the others
            log.exception("settings not readable", extra={"member_id": inst.member_id})
    return out


@periodic("stages.sla_scan", every_s=60)
def enqueue_sla_scans(services: Services) -> None:
    now = clock.now()
    for member_id, settings in _portals(services):
        cfg = sla_config(settings)
        if not cfg.enabled or not cfg.limits:
            continue
        every = cfg.scan_every_minutes * 60
        jobs_repo.enqueue(services.db, "stages.sla_scan", member_id=member_id,
                          dedupe_key=f"stages:sla:{member_id}:{every}:{int(now // every)}",
                          lock_key=f"stages:sla:{member_id}", max_attempts=5)


@periodic("stages.payments_scan", every_s=600)
def enqueue_payment_scans(services: Services) -> None:
    now = clock.now()
    for member_id, settings in _portals(services):
        if not sla_config(settings).payments.enabled:
            continue
        jobs_repo.enqueue(services.db, "stages.payments_scan", member_id=member_id,
                          dedupe_key=f"stages:payments:{member_id}:{int(now // PAYMENTS_EVERY_S)}",
                          lock_key=f"stages:payments:{member_id}", max_attempts=5)


@periodic("stages.digest", every_s=300)
def enqueue_digests(services: Services) -> None:
    now = clock.utcnow()
    for member_id, settings in _portals(services):
        if not sla_config(settings).digest.enabled:
            continue
        due = digest.due_run_at(settings, now)
        if due is None:
            continue
        day, run_at = due
        jobs_repo.enqueue(services.db, "stages.digest", {"date": day.isoformat()}, member_id=member_id,
                          dedupe_key=f"stages:digest:{member_id}:{day.isoformat()}", run_at=run_at.timestamp(),
                          max_attempts=6)
