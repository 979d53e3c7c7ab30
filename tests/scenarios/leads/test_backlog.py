"""The backlog command: 5,000 accumulated leads distributed by ``b24app leads distribute`` (a real
process, as an operator runs it) with at most ceil(5000/50)*2 + 10 = 210 REST requests counted at
the sandbox; the dry run prints the plan and writes nothing; a limited run is resumed where it
stopped; the МеталПром story's undistributed leads: repeat clients to their owners, duplicates
together."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter

from click.testing import CliRunner

from b24app.cli import main
from b24app.leads import store
from b24sandbox.seed.metalprom import IVANOV_ID, PETROV_ID, QC_ID, ZUEVA_ID


def cli(mp, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "b24app", "leads", *args, "--portal", mp.member_id],
                          env=mp.app.env(), capture_output=True, text=True, timeout=300)


def test_5000_leads_with_at_most_210_requests(mp_now) -> None:
    mp = mp_now
    first = mp.sandbox.control("POST", f"/portals/{mp.member_id}/generate", {
        "leads": 5000, "status_id": "NEW", "assigned_ids": [1], "rng_seed": 11})["first_ids"]["lead"]
    since = mp.last_request_id()
    done = cli(mp, "distribute", "--filter", f">=ID={first}", "--no-caps", "--json", "--no-progress")
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    used = mp.requests_log(since)
    budget = math.ceil(5000 / 50) * 2 + 10
    assert len(used) <= budget, Counter(r["method"] for r in used)
    # one write per lead (the reason travels in the same update): within N/50 + 10 too
    assert len(used) <= math.ceil(5000 / 50) + 10, Counter(r["method"] for r in used)
    assert result["processed"] == 5000 and result["finished"] and result["total"] == 5000
    assert len(result["leads"]) == 5000 and {"lead_id", "user_id", "rule", "reason"} <= set(result["leads"][0])
    # the portal holds what the command printed
    leads = mp.leads(first)
    assert len(leads) == 5000
    printed = {r["lead_id"]: r for r in result["leads"]}
    kinds = Counter(r["kind"] for r in printed.values())
    assert kinds["assign"] > 3000 and kinds["qc"] > 500, kinds
    for lead_id, row in printed.items():
        if row["user_id"]:
            assert int(leads[lead_id]["ASSIGNED_BY_ID"]) == row["user_id"]
        elif row["kind"] == "junk":
            assert leads[lead_id]["STATUS_ID"] == "JUNK"
    owners = Counter(r["user_id"] for r in printed.values())
    assert owners[IVANOV_ID] == 0 and owners[PETROV_ID] and owners[ZUEVA_ID] and owners[QC_ID]
    # per-lead notifications are aggregated: one summary per manager
    notes = mp.notifications()
    assert {n["user_id"] for n in notes} >= {PETROV_ID, ZUEVA_ID, QC_ID}
    assert len(notes) <= 6
    assert all(c >= 1 for c in Counter(n["user_id"] for n in notes).values())
    run = store.runs(mp.app.db, mp.member_id)[0]
    assert run["status"] == "done" and run["last_id"] == first + 4999


def test_dry_run_then_resumable_run_of_the_story_backlog(mp) -> None:
    undistributed = mp.story["undistributed_lead_ids"]
    runner = CliRunner()
    since = mp.last_request_id()
    plan = runner.invoke(main, ["leads", "distribute", "--portal", mp.member_id, "--dry-run", "--no-progress"],
                         env=mp.app.env())
    assert plan.exit_code == 0, plan.output
    assert "План (ничего не записано)" in plan.output and "lead_id" in plan.output
    assert not [r for r in mp.requests_log(since) if r["method"] != "batch"]  # reads only, all in batches
    assert store.recent(mp.app.db, mp.member_id) == []  # nothing decided for real
    assert all(int(mp.lead(i)["ASSIGNED_BY_ID"]) == 1 for i in undistributed)

    part = runner.invoke(main, ["leads", "distribute", "--portal", mp.member_id, "--limit", "5", "--json",
                                "--no-progress"], env=mp.app.env())
    assert part.exit_code == 0, part.output
    first = json.loads(part.output)
    assert first["processed"] == 5 and not first["finished"]
    rest = runner.invoke(main, ["leads", "distribute", "--portal", mp.member_id, "--json", "--no-progress"],
                         env=mp.app.env())
    assert rest.exit_code == 0, rest.output
    second = json.loads(rest.output)
    assert second["run_id"] == first["run_id"] and second["resumed_from"] == first["leads"][-1]["lead_id"]
    done_ids = [r["lead_id"] for r in first["leads"]] + [r["lead_id"] for r in second["leads"]]
    assert sorted(done_ids) == sorted(undistributed) and len(set(done_ids)) == len(done_ids)
    decided = {d.entity_id: d for d in store.recent(mp.app.db, mp.member_id, limit=100)}
    assert len(decided) == len(undistributed)
    # repeat clients go to their owner when he is available, else by the rules
    for r in mp.story["repeat_client_leads"]:
        d = decided[r["lead_id"]]
        if r["owner_id"] == IVANOV_ID:  # on vacation
            assert d.kind == "assign" and d.user_id in (PETROV_ID, ZUEVA_ID)
            assert d.explanation["owner_unavailable"][0]["reason"] == "absent"
        else:
            assert d.kind == "repeat_client" and d.user_id == r["owner_id"], (r, d.reason)
            text = mp.lead(r["lead_id"])["UF_CRM_B24APP_REASON"]  # the reason on the card, same write
            assert "Повторный клиент" in text and f"контактом #{r['contact_id']}" in text
            assert not mp.comments(r["lead_id"])  # a backlog writes no timeline comment by default
    # duplicates from two channels end with the same person
    for a, b in mp.story["duplicate_lead_pairs"]:
        assert decided[a].user_id == decided[b].user_id, (decided[a].reason, decided[b].reason)
        assert decided[b].kind == "duplicate" and f"лидом #{a}" in decided[b].explanation["summary"]["ru"]
    assert all(int(mp.lead(i)["ASSIGNED_BY_ID"]) != 1 for i in undistributed)


def test_one_write_per_lead_with_the_reason_on_the_card(mp_now) -> None:
    """A backlog writes one command per lead — the assignment and its reason in the lead's reason field
    (made once, at the first run) — so the writes take N/50 requests; ``--comments`` adds a timeline
    comment per lead (N/25); the decision log keeps every reason either way."""
    mp = mp_now
    n = 1000
    first = mp.sandbox.control("POST", f"/portals/{mp.member_id}/generate", {
        "leads": n, "status_id": "NEW", "assigned_ids": [1], "rng_seed": 12})["first_ids"]["lead"]
    since = mp.last_request_id()
    done = cli(mp, "distribute", "--filter", f">=ID={first}", "--no-caps", "--json", "--no-progress")
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["processed"] == n and result["finished"]
    used = mp.requests_log(since)
    writes = [r for r in used if r["method"] == "batch" and "crm.lead.update" in json.dumps(r, ensure_ascii=False)]
    assert len(writes) == math.ceil(n / 50), Counter(r["method"] for r in used)
    assert not [r for r in used if "crm.timeline.comment.add" in json.dumps(r, ensure_ascii=False)]
    assert len(used) <= math.ceil(n / 50) + 10, Counter(r["method"] for r in used)
    made = [r for r in used if r["method"] == "crm.lead.userfield.add"]
    assert len(made) == 1, Counter(r["method"] for r in used)
    leads = mp.leads(first, select=("ID", "ASSIGNED_BY_ID", "UF_CRM_B24APP_REASON"))
    assigned = [r for r in result["leads"] if r["user_id"]]
    assert assigned and all(int(leads[r["lead_id"]]["ASSIGNED_BY_ID"]) == r["user_id"] for r in assigned)
    decided = {d.entity_id: d for d in store.recent(mp.app.db, mp.member_id, limit=2 * n)}
    for r in assigned:
        assert leads[r["lead_id"]]["UF_CRM_B24APP_REASON"] == decided[r["lead_id"]].explanation["summary"]["ru"]
    explained = cli(mp, "explain", str(assigned[0]["lead_id"]), "--json")
    assert explained.returncode == 0 and assigned[0]["reason"][:20] in explained.stdout, explained.stderr[-2000:]

    m = 100  # with comments: two writes per lead; the field is known, not made again
    second = mp.sandbox.control("POST", f"/portals/{mp.member_id}/generate", {
        "leads": m, "status_id": "NEW", "assigned_ids": [1], "rng_seed": 13})["first_ids"]["lead"]
    since = mp.last_request_id()
    done = cli(mp, "distribute", "--filter", f">=ID={second}", "--no-caps", "--comments", "--json", "--no-progress")
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    used = mp.requests_log(since)
    writes = [r for r in used if r["method"] == "batch" and ("crm.lead.update" in json.dumps(r, ensure_ascii=False)
                                                              or "crm.timeline.comment.add" in json.dumps(r))]
    assert len(writes) == math.ceil(2 * m / 50), Counter(r["method"] for r in used)
    assert not [r for r in used if "userfield" in r["method"]]
    some = next(r for r in result["leads"] if r["user_id"])
    text = mp.lead(some["lead_id"])["UF_CRM_B24APP_REASON"]
    assert text and [c for c in mp.comments(some["lead_id"]) if c["COMMENT"] == text]
