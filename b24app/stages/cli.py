"""``b24app stages ...``: bring items up to date, the overdue list, scans on demand, payments."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from b24app.cli_util import emit, fail, json_option, portal_option, services
from b24app.store import installations

group = click.Group("stages", help="Stage tasks, stage deadlines (SLA), overdue payments.")


def _ctx(member_id: str) -> Any:
    from b24app.jobs.context import JobContext

    svc = services()
    if installations.get(svc.db, member_id) is None:
        fail(f"no portal {member_id}")
    return JobContext.for_portal(svc, member_id, kind="stages.cli")


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(float(ts), dt.UTC).isoformat(timespec="minutes")


@group.command("apply")
@portal_option
@click.option("--entity", type=click.Choice(["deal", "lead"]), help="only deals or only leads")
@click.option("--stage", help="only this stage id")
@click.option("--dry-run", is_flag=True, help="count the tasks that would be created, create nothing")
@click.option("--enqueue", "only_enqueue", is_flag=True, help="leave the work to the workers (a job)")
@json_option
def apply_cmd(member_id: str, entity: str | None, stage: str | None, dry_run: bool, only_enqueue: bool,
              as_json: bool) -> None:
    """Create the stage tasks of items already sitting in a stage (robots are not retroactive)."""
    ctx = _ctx(member_id)
    if only_enqueue:
        job_id, _ = ctx.enqueue("stages.apply", {"entity": entity, "stage": stage, "dry_run": dry_run},
                                lock_key=f"stages:apply:{member_id}")
        emit({"job_id": job_id}, as_json)
        return
    from b24app.stages.apply import apply_existing

    report = apply_existing(ctx, entity=entity, stage=stage, dry_run=dry_run)
    if as_json:
        emit(report, True)
        return
    rows = [{"stage": k, **v} for k, v in sorted(report["by_stage"].items())]
    emit(rows, False, ["stage", "items", "created", "existing"])
    click.echo(f"items: {report['items']}, tasks created: {report['created']}, existing: {report['existing']}"
               + (f", would create: {report['would_create']}" if dry_run else ""))


@group.command("overdue")
@portal_option
@click.option("--manager", type=int, help="only this responsible user id")
@json_option
def overdue_cmd(member_id: str, manager: int | None, as_json: bool) -> None:
    """Items over their stage limit (as of the last SLA scan)."""
    from b24app.stages import repo

    ctx = _ctx(member_id)
    rows = [{
        "entity": r["entity"], "id": int(r["item_id"]), "title": r["title"], "stage": r["stage_id"],
        "manager": r["assigned_by_id"], "entered_at": _iso(r["entered_at"]), "due_at": _iso(r["due_at"]),
        "late_working_hours": r["late_hours"], "escalation_steps": r["steps_done"], "flagged": bool(r["flagged"]),
        "scanned_at": _iso(r["scanned_at"]),
    } for r in repo.overdue_rows(ctx.db, member_id, manager=manager)]
    emit(rows, as_json, ["entity", "id", "title", "stage", "manager", "due_at", "late_working_hours",
                         "escalation_steps"])


@group.command("scan")
@portal_option
@click.option("--what", type=click.Choice(["sla", "payments", "all"]), default="all", show_default=True)
@json_option
def scan_cmd(member_id: str, what: str, as_json: bool) -> None:
    """Run the SLA scan and/or the overdue-payment scan now."""
    from b24app.stages import payments, sla

    ctx = _ctx(member_id)
    out: dict[str, Any] = {}
    if what in ("sla", "all"):
        out["sla"] = sla.scan(ctx)
    if what in ("payments", "all"):
        out["payments"] = payments.scan(ctx)
    emit(out, as_json)


@group.command("payments")
@portal_option
@click.option("--status", type=click.Choice(["overdue", "paid", "not_due", "gone"]))
@json_option
def payments_cmd(member_id: str, status: str | None, as_json: bool) -> None:
    """Deals on the overdue-payment path, with the last step done."""
    from b24app.stages import repo

    ctx = _ctx(member_id)
    rows = [{k: r[k] for k in ("deal_id", "title", "invoice", "source", "due_date", "amount", "paid", "outstanding",
                               "days_overdue", "status", "last_step", "assigned_by_id")}
            for r in repo.payments(ctx.db, member_id, status)]
    if as_json:
        for r in rows:
            r["log"] = [{k: x[k] for k in ("step", "status", "detail")} | {"at": _iso(x["at"])}
                        for x in repo.payment_log(ctx.db, member_id, int(r["deal_id"])) if x["invoice"] == r["invoice"]]
    emit(rows, as_json, ["deal_id", "title", "invoice", "due_date", "outstanding", "days_overdue", "status",
                         "last_step"])
