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
@click.option("--lead-every", type=click.FloatRange(0.5, 600), default=4.0, show_default=True,
              help="mean seconds between new leads")
@click.option("--pipelines", type=click.IntRange(1, 20), default=3, show_default=True,
              help="deals moving through the funnel at once")
@click.option("--workers", type=click.IntRange(1, 8), default=2, show_default=True, help="worker processes")
@click.option("--settle", "settle_s", type=click.FloatRange(30, 3600), default=None,
              help="seconds allowed for the settle after the faults stop (default: from --minutes)")
def group(minutes: float, as_json: bool, keep: bool, seed: int, time_scale: float, lead_every: float,
          pipelines: int, workers: int, settle_s: float | None) -> None:
    """Fault soak on this machine (loopback only): a sandbox МеталПром portal with its 1C bases, the
    app under gunicorn, workers and the scheduler as processes; leads, deals, contracts, invoices and
    payments for N minutes while the portal answers 5xx, times out, commits then fails, bursts 503,
    expires tokens, the 1C base goes down, workers are killed and the app is down for a while. Then
    the invariants are checked and printed with counts. Exit code 0 only when every invariant holds."""
    import signal

    from b24app.soak.runner import report_text, run_soak

    # SIGTERM stops the run like Ctrl-C: the stack's processes are stopped on the way out
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(143))
    opts = SoakOptions(minutes=minutes, seed=seed, time_scale=time_scale, lead_every_s=lead_every,
                       pipelines=pipelines, workers=workers, settle_s=settle_s, keep=keep)
    report = run_soak(opts)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(report_text(report))
        if keep and report.get("root"):
            click.echo(f"data and logs kept in {report['root']}")
    sys.exit(0 if report["invariants"] and all(report["invariants"].values()) else 1)
