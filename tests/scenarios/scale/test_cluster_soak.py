"""The fault soak on a PostgreSQL deployment: ``b24app soak --portals 20 --database-url ...`` as an
operator runs it — gunicorn with 2 web processes, 3 procrastinate worker processes (no scheduler
process), 20 sandbox МеталПром portals each with its own story (leads, deals through the funnel,
contracts by the robot and the CLI, invoices in its two 1C bases, payments) under the fault plan on
every portal's wire, its 1C main base down for a while, its tokens expired three times, workers
killed with SIGKILL and the app down. Every invariant of the soak must hold on every portal
(exactly-once effects, gapless numbers, one token refresh per expiry), and every portal must have
really worked: leads assigned, a contract, a 1C invoice and a payment each."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from b24app.soak.invariants import CHECKS
from tests.scenarios.harness import run_soak

PORTALS = 20
pytestmark = [pytest.mark.pg, pytest.mark.slow]


@pytest.mark.timeout(600)
def test_twenty_portals_on_postgres_keep_every_invariant_under_faults(pg_url: str, tmp_path: Path) -> None:
    started = time.monotonic()
    code, stdout, stderr = run_soak("--portals", str(PORTALS), "--database-url", pg_url, "--workers", "3",
                                    "--minutes", "3", "--settle", "150", "--seed", "5", "--json", timeout=560)
    assert stdout.strip(), stderr[-3000:]
    (tmp_path / "report.json").write_text(stdout)  # kept by pytest for a look after a failure
    report = json.loads(stdout)
    inv, c, per = report["invariants"], report["counts"], report["per_portal"]
    for domain, p in per.items():
        pc = p["counts"]
        print(f"{domain}: leads {pc['leads']}, deals {pc['deals']} (to payment {pc['deals_reached_payment']}), "
              f"contracts {pc['contracts']}, payments {pc['payments']}, refreshes {pc['token_refreshes']}")
    assert set(inv) == set(CHECKS)
    failed = {k: report["details"].get(k) for k, ok in inv.items() if not ok}
    assert not failed, (failed, report.get("story_errors"), report.get("story_notes"), stderr[-3000:])
    assert code == 0
    # the deployment: PostgreSQL, 2 web processes, 3 workers, 20 portals
    assert report["stack"] == {"database": "postgres", "web_processes": 2, "workers": 3, "portals": PORTALS}
    assert len(per) == PORTALS and len({p["member_id"] for p in per.values()}) == PORTALS
    # every portal really worked, and kept every invariant on its own
    for domain, p in per.items():
        pc = p["counts"]
        assert all(p["invariants"].values()), (domain, p["invariants"])
        assert pc["leads"] >= 1 and pc["leads_on_portal"] == pc["leads"], (domain, pc)
        assert sum(pc["decisions_by_kind"].values()) >= pc["leads"], (domain, pc)
        assert pc["contracts_by_type"].get("prepayment", 0) >= 1, (domain, pc)
        assert sum(pc["onec_invoices"].values()) >= 1, (domain, pc)
        assert pc["payments"] >= 1, (domain, pc)
        assert pc["token_expiries"] == 3 and 1 <= pc["token_refreshes"] <= 3, (domain, pc)
    # the totals are the portals' sums
    assert c["leads"] == sum(p["counts"]["leads"] for p in per.values())
    assert c["payments"] == sum(p["counts"]["payments"] for p in per.values())
    # and the faults happened, on every portal's wire and process-wide
    assert c["faults_on_app_requests"].get("5xx", 0) >= PORTALS
    assert c["worker_kills"] >= 2 and c["app_down_s"] >= 10 and c["onec_down_s"] >= 10
    assert {f["action"] for f in report["faults"]} >= {"faults_on", "burst_503", "expire_tokens", "onec_down",
                                                        "onec_up", "app_down", "app_up", "kill_worker"}
    print(f"soak of {PORTALS} portals: {time.monotonic() - started:.0f} s, seconds {report['seconds']}, "
          f"leads {c['leads']}, deals {c['deals']}, contracts {c['contracts']}, payments {c['payments']}")
