"""``b24app contracts ...``: issue a contract, the register, void, manual numbers, counters, templates.

``b24app contracts issue --portal M --deal ID --type T --json`` prints ``{"number", "date", "type",
"file_id"}``; listings take ``--json``. Commands that talk to the portal run in this process with the
portal's stored tokens (the same code path as the robot).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from b24app import clock
from b24app.cli_util import emit, fail, json_option, portal_option, services
from b24app.contracts import numbering, register
from b24app.errors import B24AppError
from b24app.store.jobs import Job

group = click.Group(
    "contracts", help="Contracts: numbers by type, documents, the register (реестр договоров)."
)

LIST_COLUMNS = [
    "number",
    "date",
    "type",
    "legal_entity",
    "deal_id",
    "status",
    "file_id",
    "created_by",
    "created_at",
]


def _context(svc: Any, member_id: str) -> Any:
    """A job context for work started from the command line (no queued job behind it)."""
    from b24app.jobs.context import JobContext
    from b24app.store import installations

    if installations.get(svc.db, member_id) is None:
        fail(f"no portal {member_id}")
    now = clock.now()
    job = Job(
        id=0,
        member_id=member_id,
        kind="contracts.cli",
        payload={},
        dedupe_key=None,
        lock_key=None,
        status="running",
        priority=0,
        attempts=1,
        max_attempts=1,
        run_at=now,
        lease_until=None,
        worker_id="cli",
        last_error=None,
        last_error_action=None,
        result=None,
        created_at=now,
        updated_at=now,
        finished_at=None,
    )
    return JobContext(svc, job, "cli")


def _run(fn: Any) -> Any:
    try:
        return fn()
    except B24AppError as exc:
        fail(exc.message, 2)
    return None


@group.command("issue")
@portal_option
@click.option("--deal", "deal_id", required=True, type=int, help="the deal's ID")
@click.option(
    "--type",
    "type_code",
    required=True,
    help="type code: prepayment, deferred, tender, government, dealer, claim (or a custom one)",
)
@click.option("--template", default=None, help="template code to use instead of the type's")
@click.option("--output", type=click.Choice(["docx", "pdf"]), default="docx", show_default=True)
@json_option
def issue(
    member_id: str, deal_id: int, type_code: str, template: str | None, output: str, as_json: bool
) -> None:
    """Number and generate the deal's contract of this type (the same one again if it exists)."""
    from b24app.contracts.service import issue_contract

    svc = services()
    ctx = _context(svc, member_id)
    res = _run(
        lambda: issue_contract(ctx, deal_id, type_code, template=template, output=output, created_by="cli")
    )
    out = {"number": res["number"], "date": res["date"], "type": res["type"], "file_id": res["file_id"]}
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
    else:
        emit({**out, "document_url": res["document_url"], "status": res["status"]}, False)


@group.command("list")
@portal_option
@click.option("--deal", "deal_id", type=int, default=None)
@click.option("--type", "type_code", default=None)
@click.option("--status", type=click.Choice(list(register.STATUSES)), default=None)
@click.option("--limit", type=int, default=1000, show_default=True)
@json_option
def list_(
    member_id: str, deal_id: int | None, type_code: str | None, status: str | None, limit: int, as_json: bool
) -> None:
    """The contract register, newest first (void contracts included)."""
    svc = services()
    rows = [
        register.public(r)
        for r in register.list_contracts(
            svc.db, member_id, deal_id=deal_id, type_code=type_code, status=status, limit=limit
        )
    ]
    emit(rows, as_json, LIST_COLUMNS)


@group.command("show")
@portal_option
@click.option("--number", required=True)
@json_option
def show(member_id: str, number: str, as_json: bool) -> None:
    """One contract of the register."""
    svc = services()
    row = register.by_number(svc.db, member_id, number)
    if row is None:
        fail(f"no contract numbered {number}")
    emit(register.public(row), as_json)


@group.command("void")
@portal_option
@click.option("--number", required=True)
@click.option("--reason", default="", help="why (kept in the register, written to the timeline)")
@click.option("--keep-deal-fields", is_flag=True, help="do not clear the deal's contract fields")
@json_option
def void(member_id: str, number: str, reason: str, keep_deal_fields: bool, as_json: bool) -> None:
    """Cancel a contract: it stays in the register as void, its number is never issued again."""
    from b24app.contracts.service import void_contract

    svc = services()
    ctx = _context(svc, member_id)
    row = _run(lambda: void_contract(ctx, number, by="cli", reason=reason, clear_deal=not keep_deal_fields))
    emit(row, as_json)


@group.command("set-number")
@portal_option
@click.option("--deal", "deal_id", required=True, type=int)
@click.option("--type", "type_code", required=True)
@click.option("--number", required=True, help="the number as it must appear")
@click.option("--date", "date_text", default=None, help="contract date YYYY-MM-DD (default: today)")
@click.option("--legal-entity", default=None, help="our legal entity's code")
@click.option("--replace", is_flag=True, help="void the deal's current contract of this type first")
@json_option
def set_number(
    member_id: str,
    deal_id: int,
    type_code: str,
    number: str,
    date_text: str | None,
    legal_entity: str | None,
    replace: bool,
    as_json: bool,
) -> None:
    """Give a deal a number by hand (administrator): checked against the whole register."""
    from b24app.contracts.service import set_manual_number

    svc = services()
    ctx = _context(svc, member_id)
    day = None
    if date_text:
        try:
            day = dt.date.fromisoformat(date_text)
        except ValueError:
            fail(f"--date must be YYYY-MM-DD, got {date_text!r}")
    row, warnings = _run(
        lambda: set_manual_number(
            ctx,
            deal_id,
            type_code,
            number,
            date=day,
            legal_entity_code=legal_entity,
            replace=replace,
            by="cli",
        )
    )
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    emit(row, as_json)


@group.command("counters")
@portal_option
@json_option
def counters(member_id: str, as_json: bool) -> None:
    """The number counters: the last value taken per sequence, legal entity and period."""
    svc = services()
    rows = svc.db.query(
        """SELECT sequence, legal_entity, period, value, updated_at FROM contracts_counters
           WHERE member_id = ? ORDER BY sequence, legal_entity, period""",
        (member_id,),
    )
    for r in rows:
        r["updated_at"] = clock.iso(r["updated_at"])
    emit(rows, as_json, ["sequence", "legal_entity", "period", "value", "updated_at"])


@group.command("set-counter")
@portal_option
@click.option("--sequence", required=True, help="sequence name (the type code unless shared)")
@click.option("--legal-entity", default="", help="legal entity code for a sequence per legal entity")
@click.option("--period", required=True, help="2026, 2026-03 or all (by the type's reset)")
@click.option(
    "--value", required=True, type=int, help="the last value already used; the next is value + step"
)
def set_counter(member_id: str, sequence: str, legal_entity: str, period: str, value: int) -> None:
    """Continue numbering from an earlier system (never below a value already issued here)."""
    svc = services()
    _run(
        lambda: register.set_counter(
            svc.db, member_id, sequence=sequence, legal_entity=legal_entity, period=period, value=value
        )
    )
    click.echo(f"{sequence}/{legal_entity or '-'}/{period}: last value {value}")


@group.command("template")
@click.option("--type", "type_code", required=True, help="built-in template code (prepayment ... claim)")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
def template(type_code: str, out_path: Path) -> None:
    """Write a shipped template to a .docx file (to edit it and upload it through the settings)."""
    from b24app.contracts.templates import BUILDERS, default_template

    if type_code not in BUILDERS:
        fail(f"no built-in template {type_code!r}; built-in: {', '.join(BUILDERS)}")
    out_path.write_bytes(default_template(type_code))
    click.echo(f"written: {out_path}")


@group.command("check-template")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check_template(path: Path) -> None:
    """Check a .docx template before uploading it (placeholders, known names)."""
    from b24app.contracts.settings_section import check_docx

    why = check_docx(path.read_bytes())
    if why is not None:
        fail(f"{why[0]} / {why[1]}")
    click.echo("OK")


@group.command("preview")
@click.option("--format", "fmt", required=True, help='e.g. "Д-{YY}/{SEQ:4}-{COMPANY}"')
@click.option("--prefix", default=None)
@click.option("--company", default=None)
@click.option("--reset", type=click.Choice(list(numbering.RESETS)), default=None)
@click.option("--seq", type=int, default=1, show_default=True)
@click.option("--timezone", "tz", default="Europe/Moscow", show_default=True)
@json_option
def preview(
    fmt: str, prefix: str | None, company: str | None, reset: str | None, seq: int, tz: str, as_json: bool
) -> None:
    """Show what a numbering format gives today (and its errors and warnings)."""
    res = numbering.preview(
        fmt, at=clock.utcnow(), tz=tz, seq=seq, prefix=prefix, company=company, reset=reset
    )
    if as_json:
        click.echo(json.dumps(res.to_dict(), ensure_ascii=False))
    else:
        click.echo(res.text if res.ok else f"error: {res.error['message'] if res.error else ''}")
        for w in res.warnings:
            click.echo(f"warning: {w['message']}")
    sys.exit(0 if res.ok else 1)
