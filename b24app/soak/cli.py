"""``b24app soak``: the fault soak (see :mod:`b24app.soak.runner` and docs/proof.md)."""

from __future__ import annotations

import json
import sys

import click

from b24app.soak.plan import SoakOptions


@click.command("soak")
@click.option("--minutes", type=click.FloatRange(0.5, 120), default=10.0, show_default=True,
              help="length of the story (the settle comes after it, bounded)")
@click.option("--json", "as_json", is_flag=True, help='print {"invariants": {...}, "counts": {...}} as JSON')
@click.option("--keep", is_flag=True, help="keep the stack's data and logs (the path is printed)")
@click.option("--seed", type=int, default=1, show_default=True, help="seeds the story and the fault draws")
@click.option("--time-scale", type=click.FloatRange(1, 50), default=4.0, show_default=True,
              help="the portal's REST budget (2/s, burst 50) drains this many times faster")
@click.option("--portals", type=click.IntRange(1, 100), default=1, show_default=True,
              help="МеталПром portals, each with its own story; the faults apply to every one")
@click.option("--database-url", default=None,
              help="PostgreSQL URL: the run's store is a fresh schema of that database (dropped at the end "
                   "unless --keep); workers are procrastinate workers, no scheduler process. Default: SQLite")
@click.option("--lead-every", type=click.FloatRange(0.5, 6000), default=None,
              help="mean seconds between new leads on one portal  [default: 4 x portals]")
@click.option("--pipelines", type=click.IntRange(1, 20), default=None,
              help="deals moving through one portal's funnel at once  [default: 3; 1 with several portals]")
@click.option("--workers", type=click.IntRange(1, 8), default=2, show_default=True, help="worker processes")
@click.option("--settle", "settle_s", type=click.FloatRange(30, 3600), default=None,
              help="seconds allowed for the settle after the faults stop (default: from --minutes)")
def group(minutes: float, as_json: bool, keep: bool, seed: int, time_scale: float, portals: int,
          database_url: str | None, lead_every: float | None, pipelines: int | None, workers: int,
          settle_s: float | None) -> None:
    """Fault soak on this machine (loopback only): sandbox МеталПром portals with their 1C bases, the
    app under gunicorn, workers and (with SQLite) the scheduler as processes; leads, deals, contracts,
    invoices and payments for N minutes while the portals answer 5xx, time out, commit then fail,
    burst 503, expire tokens, the 1C bases go down, workers are killed and the app is down for a
    while. Then the invariants are checked on every portal and printed with counts. Exit code 0 only
    when every invariant holds on every portal."""
    import signal

    from b24app.soak.report import report_text
    from b24app.soak.runner import run_soak

    # SIGTERM stops the run like Ctrl-C: the stack's processes are stopped on the way out
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(143))
    opts = SoakOptions(minutes=minutes, seed=seed, time_scale=time_scale, lead_every_s=lead_every,
                       pipelines=pipelines, workers=workers, settle_s=settle_s, keep=keep, portals=portals,
                       database_url=database_url)
    report = run_soak(opts)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(report_text(report))
        if keep and report.get("root"):
            click.echo(f"data and logs kept in {report['root']}")
    sys.exit(0 if report["invariants"] and all(report["invariants"].values()) else 1)
