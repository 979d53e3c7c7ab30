"""The ``b24app`` command: serve, worker, scheduler, demo, sandbox, db, portals, jobs, settings,
and the feature groups (each feature package may add ``b24app/<pkg>/cli.py`` with ``group``)."""

from __future__ import annotations

import importlib
import os
import pkgutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

import b24app
from b24app.cli_util import emit, fail, json_option, portal_option, services
from b24app.config import VARIABLES, Config
from b24app.store import installations, migrations
from b24app.store import jobs as jobs_repo


@click.group()
@click.version_option(b24app.__version__, prog_name="b24app")
def main() -> None:
    """b24app: runs a sales department's routine inside Bitrix24 (see README.md)."""
    click.get_current_context().call_on_close(_close_portal_sessions)


def _close_portal_sessions() -> None:
    """A command that called a portal leaves its HTTP sessions open; close them when the command
    ends (also on an error exit), before the interpreter would report them as unclosed."""
    client = sys.modules.get("b24app.portal.client")
    if client is not None:
        client.close_all()


# --- processes ----------------------------------------------------------------------------------
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Development server (production: gunicorn -c install/gunicorn.conf.py 'b24app:create_app()')."""
    from b24app import create_app, logs

    config = Config.from_env()
    logs.setup(config.log_level, config.log_format)
    app = create_app(config)
    app.run(host=host, port=port, threaded=True, use_reloader=False)


@main.command()
@click.option("--concurrency", default=1, show_default=True, type=int, help="jobs at a time in this process")
@click.option("--until-idle", is_flag=True, help="exit when no job is queued or running")
@click.option("--max-jobs", type=int, default=None, help="exit after this many jobs")
@click.option("--engine", type=click.Choice(["auto", "procrastinate", "poll"]), default="auto", show_default=True,
              help="auto: procrastinate with PostgreSQL, our table poller with SQLite")
@click.option("--no-periodic", is_flag=True,
              help="PostgreSQL: this worker defers no periodic task (other workers do)")
def worker(concurrency: int, until_idle: bool, max_jobs: int | None, engine: str, no_periodic: bool) -> None:
    """Run jobs (several workers may run at once, on several machines with PostgreSQL)."""
    import threading

    from b24app.jobs.worker import Worker

    svc = services()
    if engine == "procrastinate" or (engine == "auto" and svc.db.dialect == "postgres"):
        if svc.db.dialect != "postgres":
            fail("procrastinate needs PostgreSQL: set B24APP_DATABASE_URL=postgresql://...")
        from b24app.jobs.pq.runner import run_worker

        run_worker(svc, concurrency=concurrency, until_idle=until_idle, max_jobs=max_jobs,
                   periodic=not no_periodic)
        return
    workers = [Worker(svc) for _ in range(max(1, concurrency))]

    def stop(*_a: Any) -> None:
        for w in workers:
            w.stop_event.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threads = [threading.Thread(target=w.run, kwargs={"until_idle": until_idle, "max_jobs": max_jobs})
               for w in workers]
    for th in threads:
        th.start()
    for th in threads:
        while th.is_alive():
            th.join(0.5)


@main.command()
@click.option("--once", is_flag=True, help="enqueue every periodic task once and exit")
def scheduler(once: bool) -> None:
    """Run the periodic tasks (SQLite: one copy only; a second one exits with a message).
    With PostgreSQL it is not needed: every worker defers them and the database keeps one run per
    period, so this command says so and exits 0."""
    from b24app.jobs.scheduler import AlreadyRunning, Scheduler, not_needed, run_all_once

    svc = services()
    if once:
        for name in run_all_once(svc):
            click.echo(f"enqueued: {name}")
        return
    reason = not_needed(svc)
    if reason:
        click.echo(reason)
        return
    sched = Scheduler(svc)
    try:
        sched.start()
    except AlreadyRunning as exc:
        fail(str(exc), 3)
    signal.signal(signal.SIGTERM, lambda *_a: sched.stop())
    signal.signal(signal.SIGINT, lambda *_a: sched.stop())
    while not sched.stopped.wait(0.5):
        pass


# --- store --------------------------------------------------------------------------------------
@main.group()
def db() -> None:
    """The store: migrations."""


MIGRATE_LOCK = 7_224_803  # session advisory lock held by `b24app db upgrade` on PostgreSQL


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (and, with PostgreSQL, procrastinate's schema once)."""
    config = Config.from_env()
    from b24app import logs
    from b24app.context import Services

    logs.setup(config.log_level, config.log_format)
    svc = Services.open(config, upgrade=False)
    if svc.db.dialect == "postgres":  # units starting together upgrade one after the other
        svc.db.query("SELECT pg_advisory_lock(?) AS locked", (MIGRATE_LOCK,))
    done = migrations.upgrade(svc.db)
    for mid in done:
        click.echo(f"applied: {mid}")
    if svc.db.dialect == "postgres":
        from b24app.jobs.pq import schema

        try:
            if schema.install(svc.db):
                click.echo(f"applied: procrastinate schema {schema.package_version()}")
        except RuntimeError as exc:
            fail(str(exc))
    click.echo(f"store: {_safe_url(svc.db.url)}; up to date")


@db.command("status")
@json_option
def db_status(as_json: bool) -> None:
    svc = services()
    data: dict[str, Any] = {"store": svc.db.dialect, "pending": migrations.pending(svc.db),
                            "applied": sorted(migrations.applied(svc.db))}
    if svc.db.dialect == "postgres":
        from b24app.jobs.pq import schema

        data["procrastinate"] = schema.status(svc.db).public()
    emit(data, as_json)


def _safe_url(url: str) -> str:
    """The store URL without a password."""
    import re

    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


@main.command()
@json_option
@click.option("--timeout", default=10.0, show_default=True, help="seconds for each network check")
def doctor(as_json: bool, timeout: float) -> None:
    """Check the configuration: store, migrations, public URL, OAuth server, portals' tokens,
    workers and scheduler. Prints PASS/FAIL lines; exits 1 when something fails."""
    from b24app.jobs.pq.doctor import run_checks

    config = Config.from_env()
    checks = run_checks(config, timeout=timeout)
    ok = all(c.ok for c in checks)
    if as_json:
        emit({"ok": ok, "checks": [c.public() for c in checks]}, True)
    else:
        for c in checks:
            click.echo(c.line())
        click.echo("OK" if ok else "FAILED: " + ", ".join(c.name for c in checks if not c.ok))
    sys.exit(0 if ok else 1)


# --- portals ------------------------------------------------------------------------------------
@main.group()
def portals() -> None:
    """Installed portals."""


@portals.command("list")
@json_option
def portals_list(as_json: bool) -> None:
    svc = services()
    rows = [i.public() for i in installations.list_all(svc.db)]
    emit(rows, as_json, ["member_id", "domain", "status", "token_expires_at", "registered_at", "last_error"])


@portals.command("show")
@click.argument("member_id")
@json_option
def portals_show(member_id: str, as_json: bool) -> None:
    svc = services()
    inst = installations.get(svc.db, member_id)
    if inst is None:
        fail(f"no portal {member_id}")
        return
    data = inst.public() | {"jobs": jobs_repo.counts(svc.db, member_id),
                            "rate": {"drain_per_s": inst.rate_drain, "burst": inst.rate_burst}}
    emit(data, as_json)


@portals.command("set-limits")
@click.argument("member_id")
@click.option("--plan", type=click.Choice(sorted(installations.PLAN_LIMITS)))
@click.option("--drain", type=float, help="requests per second the portal drains")
@click.option("--burst", type=float, help="burst size of the portal's leaky bucket")
def portals_set_limits(member_id: str, plan: str | None, drain: float | None, burst: float | None) -> None:
    """Tell the app the portal's REST limits (Enterprise portals allow 5/s with a burst of 250)."""
    svc = services()
    installations.set_limits(svc.db, member_id, plan=plan, drain=drain, burst=burst)
    inst = installations.get(svc.db, member_id)
    assert inst is not None
    click.echo(f"{member_id}: {inst.rate_drain}/s, burst {inst.rate_burst}")


# --- jobs ---------------------------------------------------------------------------------------
@main.group()
def jobs() -> None:
    """Durable jobs and dead letters."""


@jobs.command("list")
@click.option("--status", type=click.Choice(jobs_repo.STATUSES))
@click.option("--portal", "member_id")
@click.option("--kind")
@click.option("--limit", default=50, show_default=True)
@json_option
def jobs_list(status: str | None, member_id: str | None, kind: str | None, limit: int, as_json: bool) -> None:
    svc = services()
    rows = [j.public() for j in jobs_repo.list_jobs(svc.db, status=status, member_id=member_id, kind=kind,
                                                    limit=limit)]
    if not as_json:
        for r in rows:
            r["last_error"] = (r["last_error"] or "").splitlines()[0][:70] if r["last_error"] else ""
    emit(rows, as_json, ["id", "kind", "member_id", "status", "attempts", "run_at", "last_error"])


@jobs.command("show")
@click.argument("job_id", type=int)
@json_option
def jobs_show(job_id: int, as_json: bool) -> None:
    svc = services()
    job = jobs_repo.get(svc.db, job_id)
    if job is None:
        fail(f"no job {job_id}")
        return
    data = job.public()
    if job.last_error_action:
        from b24app.errors import ERROR_TABLE

        data["policy"] = next((r.note for r in ERROR_TABLE if r.action == job.last_error_action), "")
    emit(data, as_json)


@jobs.command("retry")
@click.argument("job_ids", type=int, nargs=-1)
@click.option("--all-dead", is_flag=True, help="every job in the dead letters")
@click.option("--portal", "member_id")
def jobs_retry(job_ids: tuple[int, ...], all_dead: bool, member_id: str | None) -> None:
    """Replay dead (or done) jobs."""
    svc = services()
    ids = list(job_ids)
    if all_dead:
        ids += [j.id for j in jobs_repo.list_jobs(svc.db, status=jobs_repo.DEAD, member_id=member_id,
                                                  limit=100_000)]
    if not ids:
        fail("name job ids or --all-dead")
    n = sum(jobs_repo.retry(svc.db, i) for i in ids)
    click.echo(f"requeued {n} job(s)")


@jobs.command("purge")
@click.option("--status", type=click.Choice([jobs_repo.DONE, jobs_repo.DEAD]), required=True)
@click.option("--older-than", "older", default="7d", show_default=True, help="age like 30m, 12h, 7d")
@click.option("--portal", "member_id")
def jobs_purge(status: str, older: str, member_id: str | None) -> None:
    svc = services()
    n = jobs_repo.purge(svc.db, status=status, older_than_s=parse_age(older), member_id=member_id)
    click.echo(f"deleted {n} job(s)")


def parse_age(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    if text and text[-1] in units and text[:-1].replace(".", "", 1).isdigit():
        return float(text[:-1]) * units[text[-1]]
    if text.replace(".", "", 1).isdigit():
        return float(text)
    raise click.BadParameter(f"age {text!r}: use a number with s, m, h or d")


# --- settings -----------------------------------------------------------------------------------
@main.group()
def settings() -> None:
    """The portal's settings document (YAML)."""


@settings.command("export")
@portal_option
@click.argument("path", type=click.Path(dir_okay=False, writable=True), required=False)
def settings_export(member_id: str, path: str | None) -> None:
    """Write the settings to FILE.yaml (or print them)."""
    from b24app.settings import document

    svc = services()
    text = document.to_yaml(document.load(svc.db, member_id))
    if path:
        Path(path).write_text(text, encoding="utf-8")
        click.echo(f"written {path}")
    else:
        click.echo(text, nl=False)


@settings.command("import")
@portal_option
@click.argument("path", type=click.Path(exists=True, dir_okay=False), required=False)
@click.option("--demo", is_flag=True, help="load the МеталПром demo settings (built from the portal's data)")
def settings_import(member_id: str, path: str | None, demo: bool) -> None:
    """Validate FILE.yaml and replace the portal's settings with it (atomically)."""
    from b24app.settings import document
    from b24app.settings.demo import portal_facts

    svc = services()
    if installations.get(svc.db, member_id) is None:
        fail(f"no portal {member_id}")
    if demo == bool(path):
        fail("give either FILE.yaml or --demo")
    try:
        doc = document.demo_document(portal_facts(svc, member_id)) if demo else document.from_yaml(
            Path(str(path)).read_text(encoding="utf-8"))
        version = document.save(svc.db, member_id, doc, updated_by="cli")
    except document.SettingsInvalid as exc:
        click.echo("settings are not valid:", err=True)
        for line in exc.lines("ru"):
            click.echo("  - " + line, err=True)
        sys.exit(2)
    click.echo(f"settings saved (version {version})")


@settings.command("validate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def settings_validate(path: str) -> None:
    from b24app.settings import document

    try:
        _, issues = document.check(document.from_yaml(Path(path).read_text(encoding="utf-8")))
    except document.SettingsInvalid as exc:
        issues = exc.issues
    if issues:
        for issue in issues:
            click.echo("  - " + issue.text("ru"), err=True)
        sys.exit(2)
    click.echo("valid")


# --- configuration ------------------------------------------------------------------------------
@main.command("config")
@json_option
def show_config(as_json: bool) -> None:
    """The B24APP_* variables, their values here (secrets masked) and what they mean."""
    rows = []
    for name, (default, text) in VARIABLES.items():
        value = os.environ.get("B24APP_" + name, default)
        if ("SECRET" in name or name == "DATABASE_URL") and value:
            value = "***"
        rows.append({"variable": "B24APP_" + name, "value": value, "meaning": text})
    emit(rows, as_json, ["variable", "value", "meaning"])


# --- sandbox ------------------------------------------------------------------------------------
@main.group()
def sandbox() -> None:
    """The sandbox Bitrix24 portal and 1C bases (a separate program: python -m b24sandbox)."""


@sandbox.command("serve", context_settings={"ignore_unknown_options": True})
@click.option("--port", default=8900, show_default=True, type=int)
@click.option("--data", "data_dir", default="var/sandbox", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def sandbox_serve(port: int, data_dir: str, host: str) -> None:
    """Serve sandbox portals and 1C bases on PORT, keeping their data in DATA."""
    cmd = [sys.executable, "-m", "b24sandbox", "serve", "--port", str(port), "--data", data_dir, "--host", host]
    try:
        sys.exit(subprocess.call(cmd))
    except KeyboardInterrupt:
        sys.exit(130)


@main.command()
@click.option("--port", default=5000, show_default=True, type=int, help="the app's port")
@click.option("--sandbox-port", default=8900, show_default=True, type=int)
@click.option("--data", "data_dir", default="var/demo", show_default=True, help="where the demo keeps its data")
@click.option("--fresh", is_flag=True, help="start from empty data")
@click.option("--exit-after-setup", is_flag=True, help="set everything up, print the URLs and stop (for checks)")
def demo(port: int, sandbox_port: int, data_dir: str, fresh: bool, exit_after_setup: bool) -> None:
    """The whole thing on this machine: the sandbox portal with МеталПром's data and 1C bases,
    the app installed into it, a worker and the scheduler. Ctrl-C stops everything."""
    from b24app.demo import run_demo

    sys.exit(run_demo(port=port, sandbox_port=sandbox_port, data_dir=Path(data_dir), fresh=fresh,
                      exit_after_setup=exit_after_setup))


def _add_feature_groups() -> None:
    for info in sorted(pkgutil.iter_modules(b24app.__path__), key=lambda i: i.name):
        if not info.ispkg:
            continue
        try:
            module = importlib.import_module(f"b24app.{info.name}.cli")
        except ModuleNotFoundError as exc:
            if exc.name != f"b24app.{info.name}.cli":
                raise
            continue
        group = getattr(module, "group", None)
        if isinstance(group, click.Command):
            main.add_command(group)


_add_feature_groups()


