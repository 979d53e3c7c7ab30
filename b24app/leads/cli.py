"""``b24app leads ...``: distribute a backlog, explain a decision, list decisions, pause and resume a
manager, list backlog runs and strategy states.

The backlog command runs in the operator's process and talks to the portal directly (the same
per-portal client, rate budget and store as the workers): the progress bar is live, the run is
resumable from the store, and jobs of workers keep running meanwhile under the shared budget.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from b24app.cli_util import emit, fail, json_option, portal_option, services
from b24app.errors import B24AppError
from b24app.leads import backlog, service, store
from b24app.messages import t
from b24app.store import installations

group = click.Group("leads", help="Lead distribution: backlog, explanations, decisions, pauses.")


def _portal(member_id: str) -> service.Portal:
    from b24app.settings import document

    svc = services()
    if installations.get(svc.db, member_id) is None:
        fail(f"no portal {member_id}")
    return service.Portal(svc.db, member_id, svc.client(member_id), document.load(svc.db, member_id))


def _lang(portal: service.Portal) -> str:
    return str((portal.settings.get("general") or {}).get("lang") or "ru")


class _Progress:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None

    def total(self, n: int | None) -> None:
        if self.enabled:
            self.bar = click.progressbar(length=n or 0, label="Распределение лидов / distributing", file=sys.stderr,
                                         show_pos=True, show_percent=n is not None)
            self.bar.__enter__()

    def step(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@group.command("distribute")
@portal_option
@click.option("--filter", "filters", multiple=True,
              help="FIELD=VALUE added to the default filter (new leads of the 'nobody' users); operators before "
                   "the field: '>DATE_CREATE=2026-01-01', '@SOURCE_ID=EMAIL,WEBFORM'; a field given here replaces "
                   "the default condition on it ('@ASSIGNED_BY_ID=1,9')")
@click.option("--dry-run", is_flag=True, help="decide and print the plan; write nothing")
@click.option("--limit", type=int, default=None, help="at most this many leads (the run can be resumed)")
@click.option("--restart", is_flag=True, help="start over instead of resuming an unfinished run with this filter")
@click.option("--no-caps", is_flag=True, help="ignore the daily and open caps in this run (a big one-off backlog)")
@click.option("--comments/--no-comments", default=None,
              help="a timeline comment per lead in this run besides the reason field (two writes per lead, "
                   "twice the requests); default: the setting distribution.notify.backlog_timeline (off). "
                   "Every reason is kept anyway: the lead's reason field and b24app leads explain")
@click.option("--no-progress", is_flag=True, help="no progress bar")
@json_option
def distribute(member_id: str, filters: tuple[str, ...], dry_run: bool, limit: int | None, restart: bool,
               no_caps: bool, comments: bool | None, no_progress: bool, as_json: bool) -> None:
    """Distribute the accumulated leads (a backlog) by the distribution rules."""
    portal = _portal(member_id)
    progress = _Progress(not no_progress)
    try:
        result = backlog.run(portal, user_filter=backlog.parse_filter(list(filters)), dry_run=dry_run, limit=limit,
                             restart=restart, caps=not no_caps, comments=comments, progress=progress.step,
                             on_total=progress.total)
    except B24AppError as exc:
        progress.close()
        fail(f"leads distribute: {exc}", 2)
        return
    finally:
        progress.close()
    if as_json:
        emit(result.to_dict(), True)
        return
    if dry_run or len(result.rows) <= 200:
        emit(result.rows, False, ["lead_id", "user_id", "user", "rule", "kind", "reason"])
    head = "План (ничего не записано)" if dry_run else "Готово"
    click.echo(f"{head}: {result.processed} лидов; " + ", ".join(f"{k}: {v}" for k, v in sorted(result.counts.items()))
               + f"; REST-запросов: {result.requests}" + ("" if result.finished else "; не завершено — "
                                                         "повторите команду, чтобы продолжить"))


@group.command("explain")
@click.argument("lead_id", type=int)
@portal_option
@click.option("--deal", is_flag=True, help="LEAD_ID is a deal's id")
@json_option
def explain(lead_id: int, member_id: str, deal: bool, as_json: bool) -> None:
    """Why the lead went where it did (every decision about it)."""
    svc = services()
    from b24app.settings import document

    lang = str((document.load(svc.db, member_id).get("general") or {}).get("lang") or "ru")
    rows = service.explain(svc.db, member_id, lead_id, lang, "deal" if deal else "lead")
    if as_json:
        emit(rows, True)
        return
    if not rows:
        click.echo(t("leads.cli.no_decisions", lang, id=lead_id))
        return
    for r in rows:
        click.echo(f"[{r['decided_at']}] {r['phase']} / {r['kind']} ({r['trigger']}, {r['status']}): "
                   f"user {r['user_id'] or '—'}, rule {r['rule'] or '—'}")
        click.echo("  " + r["summary"])
        for w in r["watches"]:
            click.echo(f"  срок: {w['state']} {w['closed_reason'] or ''} (напоминание: {'да' if w['reminded'] else 'нет'},"
                       f" переназначений: {w['reroutes']})")


@group.command("decisions")
@portal_option
@click.option("--limit", default=50, show_default=True)
@click.option("--user", "user_id", type=int, default=None)
@click.option("--kind", default=None, help="assign, repeat_client, duplicate, qc, junk, head, queued, reroute ...")
@click.option("--run", "run_id", type=int, default=None, help="decisions of one backlog run")
@json_option
def decisions(member_id: str, limit: int, user_id: int | None, kind: str | None, run_id: int | None,
              as_json: bool) -> None:
    """Recent distribution decisions (the decision log)."""
    svc = services()
    rows = []
    for d in store.recent(svc.db, member_id, limit=limit, user_id=user_id, kind=kind, run_id=run_id):
        row = d.public()
        row["user"] = (d.explanation.get("names") or {}).get(str(d.user_id), "") if d.user_id else ""
        rows.append(row)
    emit(rows, as_json, ["id", "decided_at", "entity_type", "entity_id", "phase", "kind", "status", "user_id", "user",
                         "rule", "reason"])


@group.command("pause")
@portal_option
@click.option("--user", "user_id", type=int, required=True, help="the manager who stops receiving leads")
@click.option("--by", "by", type=int, default=None, help="who paused (the manager himself or his head)")
@click.option("--reason", default="", help="why (shown in explanations)")
def pause(member_id: str, user_id: int, by: int | None, reason: str) -> None:
    """Stop giving leads to a manager (until resume)."""
    svc = services()
    store.pause(svc.db, member_id, user_id, by=by, reason=reason)
    click.echo(t("leads.cli.paused", "ru", user=user_id) + f" / {t('leads.cli.paused', 'en', user=user_id)}")


@group.command("resume")
@portal_option
@click.option("--user", "user_id", type=int, required=True)
def resume(member_id: str, user_id: int) -> None:
    """Give leads to a paused manager again."""
    svc = services()
    key = "leads.cli.resumed" if store.resume(svc.db, member_id, user_id) else "leads.cli.not_paused"
    click.echo(t(key, "ru", user=user_id) + f" / {t(key, 'en', user=user_id)}")


@group.command("pauses")
@portal_option
@json_option
def pauses(member_id: str, as_json: bool) -> None:
    """Managers who do not receive leads now (paused in the app)."""
    svc = services()
    emit(list(store.paused(svc.db, member_id).values()), as_json, ["user_id", "paused_by", "reason", "paused_at"])


@group.command("runs")
@portal_option
@click.option("--limit", default=20, show_default=True)
@json_option
def runs(member_id: str, limit: int, as_json: bool) -> None:
    """Backlog runs (resumable ones are not 'done')."""
    svc = services()
    emit(store.runs(svc.db, member_id, limit), as_json, ["id", "status", "last_id", "total", "counts", "filter",
                                                         "error"])


@group.command("state")
@portal_option
@json_option
def state(member_id: str, as_json: bool) -> None:
    """Strategy states: round-robin pointers and weighted current weights per rule and pool."""
    svc = services()
    emit(store.all_states(svc.db, member_id), as_json, ["key", "state", "picks"])
