"""Helpers shared by CLI commands: services from the environment, tables and --json output."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click
from tabulate import tabulate

from b24app import logs
from b24app.config import Config
from b24app.context import Services


def services() -> Services:
    config = Config.from_env()
    logs.setup(config.log_level, config.log_format)
    return Services.open(config)


def emit(data: Any, as_json: bool, columns: Sequence[str] | None = None) -> None:
    """Print a listing as a table, or as JSON with --json."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    if isinstance(data, dict):
        rows = [[k, _cell(v)] for k, v in data.items()]
        click.echo(tabulate(rows, tablefmt="plain"))
        return
    rows = list(data)
    if not rows:
        click.echo("(nothing)")
        return
    cols = list(columns or rows[0].keys())
    click.echo(tabulate([[_cell(r.get(c)) for c in cols] for r in rows], headers=cols, tablefmt="simple"))


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, dict | list):
        text = json.dumps(v, ensure_ascii=False, default=str)
        return text if len(text) <= 60 else text[:57] + "..."
    return str(v)


def fail(message: str, code: int = 1) -> None:
    click.echo(message, err=True)
    sys.exit(code)


json_option = click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
portal_option = click.option("--portal", "member_id", required=True, help="the portal's member_id")
