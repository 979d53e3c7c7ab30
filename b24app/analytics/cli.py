"""``b24app report ...``: the analytics from the command line (the same numbers as the pages).

    b24app report funnel|managers|channels|stages|clients|lights --portal M [--from D --to D]
        [--category N --manager N --source S --company N] [--xlsx FILE] [--csv-dir DIR] [--json]
    b24app report refresh --portal M            pull the portal's data now (in this process)
    b24app report spend-import --portal M FILE.csv
    b24app report spend --portal M [--json]     the stored ad spend
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from tabulate import tabulate

from b24app.analytics import export, spend
from b24app.analytics import reports as reports_mod
from b24app.analytics.filters import FilterError, parse
from b24app.analytics.tables import Report
from b24app.cli_util import emit, fail, json_option, portal_option, services

group = click.Group("report", help="Analytics reports: funnels, managers, channels, time, clients, lights.")


def _context(member_id: str) -> tuple[Any, dict[str, Any], str]:
    from b24app.settings import document
    from b24app.store import installations

    svc = services()
    if installations.get(svc.db, member_id) is None:
        fail(f"portal {member_id} is not installed")
    settings = document.load(svc.db, member_id)
    tz = str((settings.get("general") or {}).get("timezone") or "Europe/Moscow")
    return svc, settings, tz


def report_json(report: Report, filters: dict[str, Any], lang: str) -> dict[str, Any]:
    """The JSON the CLI prints: the report's summary keys at the top (the lead funnel's ``leads``,
    ``active``, ``converted``, ``junk``, ``loss_pct``, ``conversion_pct``), then every table."""
    return {"report": report.name, "filters": filters, **report.summary,
            "tables": {t.name: t.public(lang) for t in report.tables}}


def _print(report: Report, lang: str) -> None:
    for table in report.tables:
        click.echo(f"\n{table.title(lang)}")
        rows = export.table_rows(table, lang)
        if len(rows) == 1:
            click.echo("(нет данных)" if lang == "ru" else "(no data)")
            continue
        click.echo(tabulate(rows[1:], headers=rows[0], tablefmt="simple", floatfmt=".2f"))
        if table.note_key:
            from b24app.messages import t

            click.echo(t(table.note_key, lang))


def _report_command(name: str) -> click.Command:
    @click.command(name, help=f"The {name} report (see docs/analytics.md for every definition).")
    @portal_option
    @click.option("--from", "date_from", help="period start, YYYY-MM-DD (portal time zone)")
    @click.option("--to", "date_to", help="period end, YYYY-MM-DD, included")
    @click.option("--category", help="deal funnel id (0 = the general funnel)")
    @click.option("--manager", help="responsible user id")
    @click.option("--source", help="lead source code, e.g. UC_YANDEX")
    @click.option("--company", help="client company id")
    @click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, writable=True), help="write an XLSX file")
    @click.option("--csv-dir", type=click.Path(file_okay=False), help="write one CSV per table into this folder")
    @click.option("--lang", type=click.Choice(["ru", "en"]), default=None, help="language of titles")
    @json_option
    def command(member_id: str, date_from: str | None, date_to: str | None, category: str | None,
                manager: str | None, source: str | None, company: str | None, xlsx_path: str | None,
                csv_dir: str | None, lang: str | None, as_json: bool) -> None:
        svc, settings, tz = _context(member_id)
        lang = lang or svc.config.lang
        try:
            f = parse({"from": date_from, "to": date_to, "category": category, "manager": manager,
                       "source": source, "company": company}, tz)
        except FilterError as exc:
            fail(str(exc), 2)
            return
        report = reports_mod.build(name, svc.db, member_id, f, settings.get("analytics") or {})
        if xlsx_path:
            Path(xlsx_path).write_bytes(export.to_xlsx(report, lang, filters_text=json.dumps(f.public())))
        if csv_dir:
            folder = Path(csv_dir)
            folder.mkdir(parents=True, exist_ok=True)
            for table in report.tables:
                (folder / f"{table.name}.csv").write_bytes(export.to_csv(table, lang))
        if as_json:
            click.echo(json.dumps(report_json(report, f.public(), lang), ensure_ascii=False, indent=2, default=str))
        else:
            click.echo(report.title(lang))
            _print(report, lang)

    return command


for _name in reports_mod.REPORTS:
    group.add_command(_report_command(_name))


@group.command("refresh")
@portal_option
@json_option
def refresh(member_id: str, as_json: bool) -> None:
    """Pull the portal's data into the analytics tables now (incremental after the first run)."""
    from b24app.analytics import pull

    svc, _settings, tz = _context(member_id)
    summary = pull.Refresh(svc.db, svc.client(member_id), member_id, tz=tz).run()
    emit(summary, as_json)


@group.command("spend-import")
@portal_option
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--by", default="cli", help="who imported (kept with the rows)")
@json_option
def spend_import(member_id: str, csv_file: str, by: str, as_json: bool) -> None:
    """Import ad spend per source and month from CSV (columns source, month, amount)."""
    svc, _settings, tz = _context(member_id)
    try:
        items = spend.parse_csv(Path(csv_file).read_text(encoding="utf-8-sig"))
    except spend.SpendError as exc:
        fail("\n".join(exc.lines), 2)
        return
    except UnicodeDecodeError:
        fail("the file is not UTF-8 text", 2)
        return
    n = spend.save(svc.db, member_id, items, tz=tz, by=by)
    emit({"imported": n, "sources": sorted({i.source_id for i in items}),
          "months": sorted({i.month for i in items})}, as_json)


@group.command("spend")
@portal_option
@json_option
def spend_list(member_id: str, as_json: bool) -> None:
    """The stored ad spend per source and month."""
    svc, _settings, _tz = _context(member_id)
    emit(spend.listing(svc.db, member_id), as_json, ["month", "source_id", "source", "amount", "updated_by"])
