"""``b24app sync ...``: connect 1C bases, test a connection, run / resync pulls with progress bars,
show status (cursors, lag, last error, dead letters), push a deal's invoice."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import click
import requests

from b24app.cli_util import emit, fail, json_option, portal_option, services
from b24app.errors import B24AppError

group = click.Group("sync", help="Invoices and payments with 1C bases (OData / SOAP).")

base_option = click.option("--base", "base", default=None, help="one base (default: every connected base)")


def _settings(svc: Any, member_id: str) -> dict[str, Any]:
    from b24app.settings import document
    from b24app.store import installations

    if installations.get(svc.db, member_id) is None:
        fail(f"no portal {member_id}")
    return document.load(svc.db, member_id)


def _bases(settings: dict[str, Any], base: str | None) -> list[str]:
    from b24app.sync_1c import connections

    names = [b["name"] for b in connections.bases(settings)]
    if base:
        connections.base_config(settings, base)
        return [base]
    if not names:
        fail("no 1C base is connected (b24app sync connect ...)")
    return names


class _Bars:
    """One progress bar per stream (on stderr, so --json output stays clean)."""

    def __init__(self, enabled: bool, base: str) -> None:
        self.enabled, self.base = enabled, base
        self.bars: dict[str, Any] = {}
        self.pos: dict[str, int] = {}

    def __call__(self, stream: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        bar = self.bars.get(stream)
        if bar is None or bar.length != total:
            if bar is not None:
                bar.render_finish()
            bar = click.progressbar(length=max(total, 1), label=f"{self.base} {stream:<9}", file=sys.stderr,
                                    show_pos=True)
            bar.render_progress()
            self.bars[stream] = bar
            self.pos[stream] = 0
        bar.update(max(0, done - self.pos[stream]))
        self.pos[stream] = done
        if done >= total:
            bar.render_finish()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.render_finish()


def _run(member_id: str, base: str | None, since: str | None, as_json: bool, resync: bool) -> None:
    from b24app.sync_1c.engine import run_base

    svc = services()
    settings = _settings(svc, member_id)
    since_date = dt.date.fromisoformat(since) if since else None
    if resync and since_date is None:
        days = int(((settings.get("onec") or {}).get("pull") or {}).get("start_days", 30))
        since_date = dt.date.today() - dt.timedelta(days=days)
    reports, failed = [], False
    for name in _bases(settings, base):
        bars = _Bars(sys.stderr.isatty() or not as_json, name)
        try:
            reports.append(run_base(svc, member_id, name, since=since_date, progress=bars))
        except B24AppError as exc:
            failed = True
            reports.append({"base": name, "error": str(exc), "action": exc.action.value})
        finally:
            bars.close()
    if as_json:
        emit(reports, True)
    else:
        rows = []
        for r in reports:
            if "error" in r:
                rows.append({"base": r["base"], "result": "FAILED: " + r["error"][:90]})
                continue
            rows.append({"base": r["base"], "result": "ok", "invoices": r["invoices"]["read"],
                         "payments": r["payments"]["read"], "changed": r["payments"]["changed"] + r["invoices"]["changed"],
                         "portal writes": r["portal"]["applied"],
                         "dead": r["invoices"]["dead"] + r["payments"]["dead"] + r["portal"]["dead"],
                         "seconds": r["seconds"]})
        emit(rows, False)
    if failed:
        sys.exit(2)


@group.command("run")
@portal_option
@base_option
@click.option("--since", default=None, help="re-read from this date (YYYY-MM-DD) instead of the cursor")
@json_option
def run_cmd(member_id: str, base: str | None, since: str | None, as_json: bool) -> None:
    """Pull invoices and payments now (incremental from the cursors) and write changes to the portal."""
    _run(member_id, base, since, as_json, resync=False)


@group.command("resync")
@portal_option
@base_option
@click.option("--since", default=None, help="from this date (default: pull.start_days ago)")
@json_option
def resync_cmd(member_id: str, base: str | None, since: str | None, as_json: bool) -> None:
    """Re-read everything from a date (cursors are kept; what is read twice changes nothing)."""
    _run(member_id, base, since, as_json, resync=True)


@group.command("status")
@portal_option
@base_option
@json_option
def status_cmd(member_id: str, base: str | None, as_json: bool) -> None:
    """Cursors and their lag, the last run and error, dead letters and queued portal writes per base."""
    from b24app.sync_1c.engine import status

    svc = services()
    rows = status(svc, member_id, _settings(svc, member_id), base)
    if as_json:
        emit(rows, True)
        return
    flat = [{"base": r["base"], "transport": r["transport"],
             "payments cursor": r["streams"]["payments"]["cursor"], "lag": _lag(r["streams"]["payments"]["lag_s"]),
             "invoices cursor": r["streams"]["invoices"]["cursor"], "last success": r["last_success_at"],
             "last error": (r["last_error"] or "")[:60], "dead": r["dead_letters"], "queued": r["portal_queue"]}
            for r in rows]
    emit(flat, False)


def _lag(seconds: int | None) -> str:
    if seconds is None:
        return ""
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"


@group.command("dead-letters")
@portal_option
@base_option
@click.option("--all", "show_all", is_flag=True, help="resolved ones too")
@json_option
def dead_cmd(member_id: str, base: str | None, show_all: bool, as_json: bool) -> None:
    """Records the sync could not apply, with the reason."""
    from b24app.sync_1c import state

    svc = services()
    rows = state.dead_letters(svc.db, member_id, base, open_only=not show_all)
    emit(rows, as_json, ["id", "base", "stream", "record_key", "reason", "attempts", "updated_at", "resolved_at"])


@group.command("retry-dead")
@portal_option
@base_option
def retry_dead_cmd(member_id: str, base: str | None) -> None:
    """Queue the portal writes that failed again (payments/invoices are re-read by `sync resync`)."""
    from b24app.sync_1c import state

    svc = services()
    n = 0
    for row in state.dead_letters(svc.db, member_id, base):
        if row["stream"] == "portal":
            n += state.mark_dirty(svc.db, member_id, row["base"], {row["record_key"]}, "retry", force=True)
    click.echo(f"queued {n} portal write(s); run `b24app sync run --portal {member_id}`")


@group.command("push-invoice")
@portal_option
@click.option("--deal", "deal_id", type=int, required=True)
@json_option
def push_cmd(member_id: str, deal_id: int, as_json: bool) -> None:
    """Issue the deal's invoice in its 1C base (as the robot does); prints base, ref_key, number."""
    from b24app.sync_1c.push import push_deal

    svc = services()
    _settings(svc, member_id)
    try:
        result = push_deal(svc, member_id, deal_id)
    except B24AppError as exc:
        fail(f"invoice not issued: {exc}", 2)
        return
    if as_json:
        click.echo(json.dumps(result.public(), ensure_ascii=False))
    else:
        click.echo(f"{result.base}: invoice {result.number} ({result.ref_key})" + ("" if result.created else
                                                                                     " — already issued"))


@group.command("test-connection")
@portal_option
@click.option("--base", "base", required=True)
@json_option
def test_cmd(member_id: str, base: str, as_json: bool) -> None:
    """Check a connection step by step: DNS, URL guard, connect, TLS, user/password, HTML answer,
    objects published in the OData composition (or web-service operations), organizations."""
    from b24app.sync_1c import connections

    svc = services()
    settings = _settings(svc, member_id)
    try:
        cfg = connections.base_config(settings, base)
    except B24AppError as exc:
        fail(str(exc))
        return
    report = connections.test_connection(svc, member_id, cfg)
    if as_json:
        emit(report.as_dict(), True)
    else:
        for s in report.steps:
            click.echo(f"  [{'ok' if s.ok else 'FAILED'}] {s.step:<12} {s.detail} ({s.ms} ms)")
        click.echo("connection works" if report.ok else f"connection FAILED at step: {report.failed.step}")
    if not report.ok:
        sys.exit(2)


@group.command("set-password")
@portal_option
@click.option("--base", "base", required=True)
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def set_password_cmd(member_id: str, base: str, password_stdin: bool) -> None:
    """Store a base's password (encrypted; the settings show *** from now on)."""
    from b24app.sync_1c import connections

    svc = services()
    settings = _settings(svc, member_id)
    connections.base_config(settings, base)
    password = sys.stdin.readline().rstrip("\n") if password_stdin else click.prompt("password", hide_input=True)
    _save_bases(svc, member_id, settings, [], {base: password})
    click.echo(f"password of {base} stored (encrypted)")


def _save_bases(svc: Any, member_id: str, settings: dict[str, Any], entries: list[dict[str, Any]],
                passwords: dict[str, str]) -> int:
    """Merge connection entries into the settings (by name) and store passwords encrypted."""
    from b24app.settings import document
    from b24app.sync_1c import credentials
    from b24app.sync_1c.settings_schema import MASK

    doc = dict(settings)
    onec = dict(doc.get("onec") or {})
    current = {b["name"]: dict(b) for b in onec.get("bases") or []}
    for e in entries:
        current[e["name"]] = {**current.get(e["name"], {}), **e}
    for name, password in passwords.items():
        credentials.store(svc.db, svc.secrets, member_id, name, password)
        if name in current:
            current[name]["password"] = MASK if password else ""
    onec["bases"] = list(current.values())
    doc["onec"] = onec
    try:
        return document.save(svc.db, member_id, doc, updated_by="cli:sync")
    except document.SettingsInvalid as exc:
        click.echo("settings are not valid:", err=True)
        for line in exc.lines("ru"):
            click.echo("  - " + line, err=True)
        sys.exit(2)


@group.command("connect")
@portal_option
@click.option("--from-sandbox", "sandbox_url", default=None,
              help="take every base of this portal from the sandbox (GET <URL>/_sandbox/portals/<member>/onec)")
@click.option("--base", "name", default=None, help="name of the connection")
@click.option("--url", default=None, help="OData service root (…/odata/standard.odata/) or WSDL URL")
@click.option("--user", default=None)
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@click.option("--profile", type=click.Choice(["bp30", "ut11", "unf"]), default=None)
@click.option("--transport", type=click.Choice(["odata", "soap"]), default="odata", show_default=True)
@click.option("--address", default="", help="SOAP endpoint when the WSDL advertises an internal host")
@click.option("--legal-entity", default=None, help="our legal entity's code (default: the 1C organization's prefix)")
@click.option("--mycompany-id", type=int, default=None, help="Bitrix24 'my company' id of the legal entity")
@click.option("--no-test", is_flag=True, help="do not test the connection")
@json_option
def connect_cmd(member_id: str, sandbox_url: str | None, name: str | None, url: str | None, user: str | None,
                password_stdin: bool, profile: str | None, transport: str, address: str, legal_entity: str | None,
                mycompany_id: int | None, no_test: bool, as_json: bool) -> None:
    """Add or update 1C connections in the portal's settings (passwords stored encrypted)."""
    from b24app.sync_1c import connections

    svc = services()
    settings = _settings(svc, member_id)
    entries: list[dict[str, Any]] = []
    passwords: dict[str, str] = {}
    if sandbox_url:
        resp = requests.get(sandbox_url.rstrip("/") + f"/_sandbox/portals/{member_id}/onec", timeout=30)
        if resp.status_code != 200:
            fail(f"sandbox answered HTTP {resp.status_code}: {resp.text[:200]}")
        for b in resp.json():
            entry = {"name": b["name"], "title": (b.get("configuration") or {}).get("synonym", ""),
                     "transport": transport, "url": b["wsdl_url"] if transport == "soap" else b["odata_url"],
                     "user": b["user"], "profile": b["profile"],
                     "mycompany_id": int((b.get("options") or {}).get("legal_entity_id") or 0)}
            entries.append(entry)
            passwords[b["name"]] = b["password"]
    else:
        if not (name and url and profile):
            fail("give --from-sandbox URL, or --base, --url and --profile (and --user, --password-stdin)")
        entry = {"name": name, "transport": transport, "url": url, "user": user or "", "profile": profile,
                 "address": address}
        if legal_entity is not None:
            entry["legal_entity"] = legal_entity
        if mycompany_id is not None:
            entry["mycompany_id"] = mycompany_id
        entries.append(entry)
        if password_stdin:
            passwords[name] = sys.stdin.readline().rstrip("\n")
    version = _save_bases(svc, member_id, settings, entries, passwords)
    results = []
    for e in entries:
        item: dict[str, Any] = {"base": e["name"], "settings_version": version}
        if not no_test:
            from b24app.settings import document

            cfg = connections.base_config(document.load(svc.db, member_id), e["name"])
            report = connections.test_connection(svc, member_id, cfg)
            item.update(ok=report.ok, failed_step=report.failed.step if report.failed else None)
            prefix = next((o.get("prefix") for o in report.organizations if o.get("prefix")), "")
            if report.ok and prefix and not cfg.get("legal_entity"):
                version = _save_bases(svc, member_id, document.load(svc.db, member_id),
                                      [{"name": e["name"], "legal_entity": prefix}], {})
                item["legal_entity"] = prefix
        results.append(item)
    if as_json:
        emit(results, True)
    else:
        emit(results, False)
    if any(r.get("ok") is False for r in results):
        sys.exit(2)
