"""Analytics wiring: the settings section, the refresh job, its periodic enqueuer, and the
subscription that forgets CRM items deleted in the portal."""

from __future__ import annotations

import logging
from typing import Any

from b24app import clock
from b24app.analytics import pull
from b24app.analytics.settings_section import SCHEMA, demo
from b24app.context import Services
from b24app.jobs.context import JobContext
from b24app.jobs.registry import job, on_event, periodic
from b24app.settings.sections import section
from b24app.store import installations
from b24app.store import jobs as jobs_repo

log = logging.getLogger("b24app.analytics")

REFRESH_JOB = "analytics.refresh"
REFRESH_LEASE_S = 900.0
CHECK_EVERY_S = 300.0

section("analytics", SCHEMA, demo=demo, title_ru="Аналитика", title_en="Analytics")


def portal_timezone(settings: dict[str, Any]) -> str:
    return str((settings.get("general") or {}).get("timezone") or "Europe/Moscow")


def lock_key(member_id: str) -> str:
    return f"analytics:{member_id}"


@job(REFRESH_JOB, max_attempts=6, lease_s=REFRESH_LEASE_S)
def refresh_job(ctx: JobContext) -> dict[str, Any]:
    """Pull what changed in the portal since the last run (the first run pulls everything)."""
    settings = ctx.settings()
    run = pull.Refresh(ctx.db, ctx.client, ctx.member_id, tz=portal_timezone(settings),
                       heartbeat=lambda: ctx.extend_lease(REFRESH_LEASE_S))
    summary = run.run()
    return {"requests": summary["requests"], "rows": summary["rows"], "seconds": summary["seconds"]}


def enqueue_refresh(services: Services, member_id: str, *, reason: str, dedupe_key: str | None = None) -> int:
    """Queue one refresh of a portal (runs are serialized per portal by the lock key)."""
    job_id, _ = jobs_repo.enqueue(services.db, REFRESH_JOB, {"reason": reason}, member_id=member_id,
                                  dedupe_key=dedupe_key, lock_key=lock_key(member_id), priority=-10)
    return job_id


@periodic("analytics.refresh_due", every_s=CHECK_EVERY_S, jitter_s=30)
def enqueue_due(services: Services) -> None:
    """Every few minutes: queue a refresh for each portal whose interval (setting
    ``analytics.refresh_minutes``) has passed. Only enqueues; the dedupe key is the interval slot."""
    from b24app.settings import document

    now = clock.now()
    for inst in installations.list_active(services.db):
        minutes = int((document.load(services.db, inst.member_id).get("analytics") or {}).get("refresh_minutes", 60))
        every = max(300, minutes * 60)
        last = float(pull.last_summary(services.db, inst.member_id).get("refreshed_at") or 0)
        if now - last < every - CHECK_EVERY_S / 2:
            continue
        enqueue_refresh(services, inst.member_id, reason="schedule",
                        dedupe_key=f"analytics:refresh:{inst.member_id}:{int(now // every)}")


_DELETE_EVENTS = {"ONCRMLEADDELETE": "lead", "ONCRMDEALDELETE": "deal", "ONCRMCOMPANYDELETE": "company"}


@on_event("analytics.forget_deleted", *_DELETE_EVENTS)
def forget_deleted(ctx: JobContext, event: dict[str, Any]) -> dict[str, Any]:
    """A lead, deal or company deleted in the portal leaves the reports (lists never show deletions)."""
    entity = _DELETE_EVENTS.get(str(event.get("event", "")).upper())
    fields = (event.get("data") or {}).get("FIELDS") or {}
    raw = str(fields.get("ID", "")) if isinstance(fields, dict) else ""
    if entity is None or not raw.isdigit():
        return {"skipped": "no id"}
    return {"deleted": pull.forget(ctx.db, ctx.member_id, entity, [int(raw)])}
