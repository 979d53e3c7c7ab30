"""Job kinds of the core: event fan-out, app registration, uninstall, token keep-alive."""

from __future__ import annotations

import logging
from typing import Any

from b24app import clock
from b24app.context import Services
from b24app.jobs import offline  # noqa: F401  (registers the offline sweep)
from b24app.jobs.context import JobContext
from b24app.jobs.registry import REGISTRY, job, periodic
from b24app.portal import install
from b24app.portal.client import forget_client
from b24app.robots import runner  # noqa: F401  (registers the robot job kinds)
from b24app.store import installations
from b24app.store import jobs as jobs_repo

log = logging.getLogger("b24app.jobs")

KEEPALIVE_AFTER_S = 30 * 24 * 3600  # refresh tokens live 180 days; refresh at least monthly


@job("event.dispatch", max_attempts=10)
def dispatch_event(ctx: JobContext) -> dict[str, Any]:
    """One job per subscriber, so one subscriber's failure never repeats another's work."""
    event = ctx.payload
    created = []
    for sub in REGISTRY.subscribers(event["event"]):
        _, new = ctx.enqueue("event.handle", {"subscription": sub.name, "event": event},
                             dedupe_key=f"{ctx.job.dedupe_key}:{sub.name}")
        if new:
            created.append(sub.name)
    return {"subscribers": created}


@job("event.handle")
def handle_event(ctx: JobContext) -> Any:
    sub = REGISTRY.subscriptions.get(ctx.payload["subscription"])
    if sub is None:
        return {"skipped": "no such subscription in this version"}
    return sub.handler(ctx, ctx.payload["event"])


@job("app.register", max_attempts=10)
def register_app(ctx: JobContext) -> dict[str, Any]:
    forget_client(ctx.member_id)
    return install.register(ctx.services, ctx.member_id)


@job("app.uninstall", max_attempts=3)
def uninstall_app(ctx: JobContext) -> dict[str, Any]:
    """The portal removed the app (tokens are already revoked). With CLEAN the portal's data goes."""
    clean = bool(ctx.payload.get("clean"))
    forget_client(ctx.member_id)
    if clean:
        installations.delete_portal_data(ctx.db, ctx.member_id)
    else:
        installations.set_status(ctx.db, ctx.member_id, installations.UNINSTALLED)
        ctx.db.execute(
            "UPDATE jobs SET status = ?, last_error = ? WHERE member_id = ? AND status = ? AND id != ?",
            (jobs_repo.DEAD, "portal uninstalled the app", ctx.member_id, jobs_repo.QUEUED, ctx.job.id),
        )
    return {"clean": clean}


@job("portal.refresh", max_attempts=5)
def refresh_portal(ctx: JobContext) -> dict[str, Any]:
    """Keep the grant alive: one cheap call with a refreshed token."""
    client = ctx.client
    inst = installations.get(ctx.db, ctx.member_id)
    if inst is None or not inst.active:
        return {"skipped": "not active"}
    client._refresh(inst.access_token)  # a deliberate refresh: the refresh token would die in 180 days
    return {"refreshed": True}


@periodic("portal.keepalive", every_s=6 * 3600)
def enqueue_keepalive(services: Services) -> None:
    now = clock.now()
    period = int(now // (24 * 3600))
    for inst in installations.list_active(services.db):
        if now - (inst.refreshed_at or inst.installed_at) > KEEPALIVE_AFTER_S:
            jobs_repo.enqueue(services.db, "portal.refresh", member_id=inst.member_id,
                              dedupe_key=f"keepalive:{inst.member_id}:{period}")
