"""Registers the 1C sync: the "onec" settings section, the job kinds, the smart-invoice
subscription and the periodic enqueue of pulls."""

from __future__ import annotations

import logging
from typing import Any

from b24app import clock
from b24app.context import Services
from b24app.jobs.context import JobContext
from b24app.jobs.registry import job, on_event, periodic
from b24app.settings.sections import section
from b24app.store import installations
from b24app.store import jobs as jobs_repo
from b24app.sync_1c import credentials, settings_schema

log = logging.getLogger("b24app.sync_1c")

section("onec", settings_schema.SECTION, demo=settings_schema.demo, title_ru="Обмен с 1С", title_en="1C exchange",
        before_save=credentials.take_secrets)

PULL_KIND = "sync_1c.pull"
SCHEDULE_EVERY_S = 60.0


def enqueue_pull(db: Any, member_id: str, base: str, *, period: int | None = None, since: str | None = None
                 ) -> tuple[int, bool]:
    """Queue a pull of ``base``; one per period (dedupe) and never two at once (lock key)."""
    from b24app.sync_1c.engine import lock_name

    dedupe = f"onec-pull:{member_id}:{base}:{period}" if period is not None else None
    payload: dict[str, Any] = {"base": base}
    if since:
        payload["since"] = since
    return jobs_repo.enqueue(db, PULL_KIND, payload, member_id=member_id, dedupe_key=dedupe,
                             lock_key=lock_name(member_id, base), max_attempts=8)


PUSH_KIND = "sync_1c.push"


@job(PUSH_KIND, max_attempts=6)
def push(ctx: JobContext) -> dict[str, Any]:
    """Issue the deal's invoice in its 1C base (what the robot does, for callers that are no workflow:
    the deal tab's button, other features)."""
    from b24app.sync_1c.push import push_deal

    return push_deal(ctx.services, ctx.member_id, int(ctx.payload["deal_id"])).public()


@job(PULL_KIND, max_attempts=8, lease_s=600)
def pull(ctx: JobContext) -> dict[str, Any]:
    """Pull one base (invoices, payments) and write what changed to the portal."""
    import datetime as dt

    from b24app.sync_1c.engine import run_base

    since = ctx.payload.get("since")
    return run_base(ctx.services, ctx.member_id, ctx.payload["base"],
                    since=dt.date.fromisoformat(since) if since else None)


@periodic("sync_1c.schedule", every_s=SCHEDULE_EVERY_S)
def schedule_pulls(services: Services) -> None:
    """Enqueue-only: for every portal and connected base, one pull per ``pull.interval_min``."""
    from b24app.settings import document

    now = clock.now()
    for inst in installations.list_active(services.db):
        try:
            settings = document.load(services.db, inst.member_id)
        except Exception:  # a portal with unreadable settings must not stop the others
            log.exception("settings unreadable", extra={"member_id": inst.member_id})
            continue
        onec = settings.get("onec") or {}
        if not onec.get("enabled", True):
            continue
        every = max(60, int((onec.get("pull") or {}).get("interval_min", 5)) * 60)
        for base in onec.get("bases") or []:
            if base.get("enabled", True):
                enqueue_pull(services.db, inst.member_id, base["name"], period=int(now // every))


@on_event("sync_1c.smart_invoice_add", "ONCRMDYNAMICITEMADD_31")
def on_smart_invoice_add(ctx: JobContext, event: dict[str, Any]) -> dict[str, Any]:
    """A smart invoice created in Bitrix24 for a deal issues (or links) the deal's 1C invoice.
    Smart invoices we made ourselves (``xmlId = 1c:…``) are skipped: no loop."""
    from b24app.sync_1c.events import smart_invoice_added

    return smart_invoice_added(ctx.services, ctx.member_id, event)
