"""Inbound: p50/p99 answer time of the event and robot endpoints under gunicorn at increasing
request rates from a separate load process, until errors appear. The figure: the highest rate up to
which every step held p99 under 50 ms (a lower rate that missed it ends the count: on a shared machine
a single good step above a bad one is noise, not capacity); ``best_step_under_50ms`` is the highest
single step that held."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from bench.stack import Stack

TARGET_P99_MS = 50.0


def sweep(stack: Stack, kind: str, member_id: str, token: str, rates: list[float], seconds: float) -> dict[str, Any]:
    url = stack.app_url + ("/events" if kind == "event" else "/robots/b24app_timeline_comment")
    # warm-up, not counted: the web processes' first requests open the store and import lazily
    subprocess.run([sys.executable, "-m", "bench.load", url, "50", "2", kind, member_id, token], capture_output=True,
                   text=True, timeout=120)
    steps = []
    held = best = 0.0
    holding = True
    for rate in rates:
        out = subprocess.run([sys.executable, "-m", "bench.load", url, str(rate), str(seconds), kind, member_id,
                              token], capture_output=True, text=True, timeout=seconds * 10 + 60)
        step = json.loads(out.stdout.strip().splitlines()[-1])
        steps.append(step)
        ok = step["errors"] == 0 and step["p99_ms"] < TARGET_P99_MS
        holding = holding and ok
        if ok:
            best = max(best, rate)
        if holding:
            held = rate
        if step["errors"] or step["p99_ms"] > 20 * TARGET_P99_MS:
            break
    return {"rate_held_p99_under_50ms": held, "best_step_under_50ms": best, "steps": steps}


def summary(res: dict[str, Any]) -> list[tuple[str, Any]]:
    """Rows of the printed table: per endpoint the rate held, then p50/p99 at every step."""
    rows: list[tuple[str, Any]] = [("server", res.get("server"))]
    for kind in ("event", "robot"):
        r = res.get(kind) or {}
        rows.append((f"{kind}: rate held with p99 < 50 ms (req/s)", r.get("rate_held_p99_under_50ms")))
        rows.append((f"{kind}: steps (rate: p50 / p99 ms, errors)", "; ".join(
            f"{s['rate']:g}: {s['p50_ms']} / {s['p99_ms']}, {s['errors']}" for s in r.get("steps") or [])))
    return rows


def run(quick: bool = False) -> dict[str, Any]:
    rates = [25, 50, 100, 200] if quick else [25, 50, 100, 150, 200, 300, 400, 600, 800]
    seconds = 2.0 if quick else 5.0
    with Stack() as stack:
        stack.start_sandbox()
        stack.start_app(gunicorn=True, web_workers=2, threads=4)
        portal = stack.new_portal("empty")
        m = portal["member_id"]
        stack.install(m, wait_registered=False)
        token = stack.control("GET", f"/portals/{m}/apps/{stack.client_id}")["application_token"]
        return {
            "server": "gunicorn gthread, 2 workers x 4 threads",
            "event": sweep(stack, "event", m, token, rates, seconds),
            "robot": sweep(stack, "robot", m, token, rates, seconds),
        }


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
