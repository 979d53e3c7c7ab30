"""One soak run: a fresh loopback stack (b24app.devstack: the sandbox process, gunicorn, workers, the
scheduler), the МеталПром portal and its two 1C bases, the app installed with the demo settings, the
story played for N minutes under the fault plan, a bounded settle with the faults off, and the
invariants checked. Returns ``{"invariants": {name: bool}, "counts": {...}, ...}``.

Soak-specific settings (written before the story, on top of the demo's): work schedules are not
used by the distribution (the hour of the run is arbitrary), caps and re-routing deadlines are off
(a re-route is a second assignment by design; the invariant is about intake), the reconciliation's
grace is one minute and the 1C pull runs every minute (so a short run sees them work). The app's
processes run with ``B24APP_WORKER_LEASE=30`` (a killed worker's job is taken again after 30 s) and
``B24APP_HTTP_TIMEOUT=5`` (below the sandbox's 6-second timeout fault).
"""

from __future__ import annotations

import json
import random
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from b24app.devstack import Stack
from b24app.soak import invariants
from b24app.soak.plan import Event, SoakOptions, fault_plan
from b24app.soak.rest import Webhook
from b24app.soak.story import Ledger, Story

Say = Callable[[str], None]


def _stderr(text: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


class Soak:
    def __init__(self, opts: SoakOptions, say: Say = _stderr) -> None:
        self.opts = opts
        self.say = say
        self.stack = Stack(keep=opts.keep)
        self.stack.extra_env = {"B24APP_WORKER_LEASE": "30", "B24APP_HTTP_TIMEOUT": "5", "B24APP_LOG_LEVEL": "INFO"}
        self.ledger = Ledger()
        self.app_up = threading.Event()
        self.app_up.set()
        self.stop_new = threading.Event()
        self.m = ""
        self.main_base = ""
        self.hook: Webhook | None = None
        self.done: list[dict[str, Any]] = []  # fault events as they happened
        self.seconds: dict[str, float] = {"app_down": 0.0, "onec_down": 0.0}
        self.kills = 0
        self.outputs: list[str] = []
        self.rng = random.Random(opts.seed)
        self.lead_marker_from = 0

    # --- setup -------------------------------------------------------------------------------
    def setup(self) -> None:
        from b24app.settings import document
        from b24app.settings.demo import portal_facts

        s = self.stack
        s.start_sandbox()
        s.start_app(gunicorn=True, web_workers=2, threads=4)
        for i in range(self.opts.workers):
            s.start_worker(f"worker{i}", 2)
        portal = s.new_portal("metalprom", plan="standard", domain=f"metalprom-soak{self.opts.seed}.bitrix24.ru")
        self.m = m = portal["member_id"]
        s.control("PUT", f"/portals/{m}/limits", {"enabled": False})
        s.install(m)
        svc = s.services()
        doc = document.demo_document(portal_facts(svc, m))
        dist = doc["distribution"]
        dist["availability"]["schedule"] = False
        dist["caps"] = {}
        dist["deadline"] = {**dist.get("deadline", {}), "enabled": False}
        dist["reconcile"] = {**dist.get("reconcile", {}), "enabled": True, "grace_min": 1}
        doc["onec"]["pull"] = {**doc["onec"]["pull"], "interval_min": 1}
        document.save(svc.db, m, doc, updated_by="soak")
        out = s.b24app("sync", "connect", "--portal", m, "--from-sandbox", s.sandbox_url, "--json", timeout=300)
        if out.returncode != 0:
            raise RuntimeError("the 1C bases did not connect:\n" + out.stderr[-2000:])
        self.outputs.append(out.stdout + out.stderr)
        self.main_base = next(b["name"] for b in s.control("GET", f"/portals/{m}/onec")
                              if b["name"].startswith("metalprom_main"))
        for stage, code, props in (("UC_CONTRACT", "b24app_make_contract", {"contract_type": "prepayment",
                                                                              "output_format": "docx"}),
                                   ("UC_AWAIT_PAYMENT", "b24app_push_invoice_1c", {})):
            s.control("POST", f"/portals/{m}/automation", {"entity": "deal", "category_id": 0, "stage_id": stage,
                                                           "robot_code": code, "properties": props,
                                                           "client_id": s.client_id})
        s.start_scheduler()
        self.hook = Webhook(s.control("POST", f"/portals/{m}/webhooks", {"user_id": 1})["url"])
        last = self.hook.call("crm.lead.list", {"order": {"ID": "DESC"}, "select": ["ID"], "start": -1})
        self.lead_marker_from = int(last[0]["ID"]) + 1 if last else 1

    def story(self) -> Story:
        assert self.hook is not None
        return Story(services=self.stack.services(), member_id=self.m, hook=self.hook, control=self.stack.control,
                     cli=lambda *a: self.stack.b24app(*a, timeout=300), ledger=self.ledger, seed=self.opts.seed,
                     lead_every_s=self.opts.lead_every_s, pipelines=self.opts.pipelines, app_up=self.app_up,
                     stop_new=self.stop_new)

    def limits_on(self) -> None:
        from b24app.store import installations

        scale = self.opts.time_scale
        self.stack.control("PUT", f"/portals/{self.m}/limits", {"drain_per_s": 2.0, "burst": 50.0, "time_scale": scale,
                                                                "enabled": True, "reset": True})
        installations.set_limits(self.stack.services().db, self.m, drain=2.0 * scale, burst=50.0)

    # --- faults ------------------------------------------------------------------------------
    def wire_faults(self, on: bool) -> None:
        o = self.opts
        body = ({"error_5xx_rate": o.error_5xx_rate, "timeout_rate": o.timeout_rate, "timeout_hold_s": 6,
                 "commit_then_500_rate": o.commit_then_500_rate, "seed": o.seed} if on else
                {"error_5xx_rate": 0, "timeout_rate": 0, "commit_then_500_rate": 0, "burst_503_s": 0})
        self.stack.control("PUT", f"/portals/{self.m}/faults", body)

    def do(self, ev: Event, started: float) -> None:
        s, m = self.stack, self.m
        self.done.append({"at_s": round(time.monotonic() - started, 1), "action": ev.action, "arg": ev.arg})
        self.say(f"fault: {ev.action} {ev.arg or ''}".rstrip())
        if ev.action == "faults_on":
            self.wire_faults(True)
        elif ev.action == "burst_503":
            s.control("PUT", f"/portals/{m}/faults", {"burst_503_s": ev.arg})
        elif ev.action == "expire_tokens":
            s.control("POST", f"/portals/{m}/expire-tokens")
        elif ev.action == "onec_down":
            self._onec_down_at = time.monotonic()
            s.control("PUT", f"/onec/{self.main_base}/faults", {"down": True})
        elif ev.action == "onec_up":
            s.control("DELETE", f"/onec/{self.main_base}/faults")
            self.seconds["onec_down"] += time.monotonic() - getattr(self, "_onec_down_at", time.monotonic())
        elif ev.action == "app_down":
            self.app_up.clear()  # managers stop moving deals; leads keep arriving
            time.sleep(2.0)
            s.control("POST", "/wait-deliveries", {"timeout_s": 15})
            self._app_down_at = time.monotonic()
            s.kill("app", signal.SIGTERM, timeout=25)
        elif ev.action == "app_up":
            s.restart("app")
            self.seconds["app_down"] += time.monotonic() - getattr(self, "_app_down_at", time.monotonic())
            self.app_up.set()
        elif ev.action == "kill_worker":
            name = f"worker{int(ev.arg)}"
            s.kill(name, signal.SIGKILL)
            self.kills += 1
            pause = self.rng.uniform(1.0, 3.0)
            threading.Timer(pause, lambda: s.restart(name)).start()

    def play(self, events: list[Event], started: float) -> None:
        for ev in events:
            time.sleep(max(0.0, started + ev.at - time.monotonic()))
            try:
                self.do(ev, started)
            except Exception as exc:  # a fault that could not be injected is reported, the run goes on
                self.ledger.error(f"fault {ev.action}: {exc}")

    # --- settle ------------------------------------------------------------------------------
    def converged(self) -> str:
        """Empty when everything the story started has come through; else what is still missing."""
        from b24app.leads import store as leads_store
        from b24app.leads.engine import INTAKE
        from b24app.store import jobs as jobs_repo
        from b24app.sync_1c import state

        db = self.stack.services().db
        ids = list(self.ledger.leads)
        decided = leads_store.get_decisions(db, self.m, "lead", ids, INTAKE)
        waiting = [i for i in ids if i not in decided or decided[i].status != "applied"]
        if waiting:
            return f"{len(waiting)} lead(s) without an applied decision (e.g. {waiting[:5]})"
        for p in self.ledger.payments:
            rows = state.payments_of_invoice(db, self.m, p.base, p.invoice_ref)
            if not any(r["ref_key"] == p.payment_ref and r["active"] for r in rows):
                return f"payment {p.payment_ref} of deal {p.deal_id} not pulled yet"
        from b24app.contracts import register
        from b24app.soak.story import TEMPLATED
        from b24app.stages import repo

        for d in list(self.ledger.deals.values()):
            if "UC_AWAIT_PAYMENT" in d.stages and state.invoice_for_deal(db, self.m, d.deal_id) is None:
                return f"deal {d.deal_id} has no 1C invoice yet"
            row = register.active_for(db, self.m, d.deal_id, "prepayment")
            if "UC_CONTRACT" in d.stages and (row is None or row.get("status") != "issued"):
                return f"deal {d.deal_id}: the robot's contract is not issued yet"
            have = {t.stage_id for t in repo.tasks_of_item(db, self.m, "deal", d.deal_id)}
            missing = [s for s in d.stages if s in TEMPLATED and s not in have]
            if missing:
                return f"deal {d.deal_id}: no task of {missing} yet"
        if state.dirty(db, self.m, None, 1):
            return "1C changes not yet written to the portal"
        counts = jobs_repo.counts(db)
        if counts["queued"] or counts["running"]:
            return f"jobs queued {counts['queued']}, running {counts['running']}"
        return ""

    def settle(self, story: Story) -> dict[str, Any]:
        from b24app.jobs.scheduler import run_all_once
        from b24app.store import jobs as jobs_repo

        s = self.stack
        t0 = time.monotonic()
        limit = self.opts.settle_limit_s
        self.stop_new.set()
        self.wire_faults(False)
        s.control("DELETE", f"/onec/{self.main_base}/faults")
        if not self.app_up.is_set():
            s.restart("app")
            self.app_up.set()
        time.sleep(4.0)  # a pending worker restart (after a kill) happens now
        for i in range(self.opts.workers):
            if not s.alive(f"worker{i}"):
                s.restart(f"worker{i}")
        joined = story.join(limit * 0.6)
        self.say(f"people done ({'all' if joined else 'some still waiting'}) after {time.monotonic() - t0:.0f} s")
        db = s.services().db
        last_kick = last_say = 0.0
        ok = False
        while time.monotonic() - t0 < limit:
            why = self.converged()
            if not why:
                ok = True
                break
            if not why.startswith("jobs ") and time.monotonic() - last_kick > 30:
                run_all_once(s.services())  # the operator's `b24app scheduler --once`: sweeps, pulls, reconciliation
                last_kick = time.monotonic()
            if time.monotonic() - last_say > 30:
                self.say(f"settling: {why}")
                last_say = time.monotonic()
            time.sleep(3.0)
        s.kill("scheduler", signal.SIGTERM)
        drain_deadline = time.monotonic() + 90
        while time.monotonic() < drain_deadline:
            c = jobs_repo.counts(db)
            if c["queued"] == 0 and c["running"] == 0:
                break
            time.sleep(2.0)
        for i in range(self.opts.workers):
            s.kill(f"worker{i}", signal.SIGTERM)
        return {"settle_s": round(time.monotonic() - t0, 1), "converged": ok}

    # --- the whole run -----------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        o = self.opts
        t_setup = time.monotonic()
        self.say(f"setting up the stack in {self.stack.root}")
        self.setup()
        story = self.story()
        story.prepare()
        self.limits_on()
        plan = fault_plan(o)
        self.say(f"story: {o.story_s:.0f} s, {len(plan.events)} fault events, outages {plan.outage_s:.0f} s")
        setup_s = time.monotonic() - t_setup
        started = time.monotonic()
        story.start(started + o.story_s)
        player = threading.Thread(target=self.play, args=(plan.events, started), daemon=True)
        player.start()
        time.sleep(max(0.0, started + o.story_s - time.monotonic()))
        player.join(120)
        self.say("story over: faults off, settling")
        settle = self.settle(story)
        self.say(f"settled in {settle['settle_s']} s (converged: {settle['converged']}); checking")
        report = self.check(plan.public(), settle)
        report["seconds"] = {"setup": round(setup_s, 1), "story": round(o.story_s, 1), **settle,
                             **{k: round(v, 1) for k, v in self.seconds.items()}}
        if o.keep:
            report["root"] = str(self.stack.root)
        return report

    def check(self, plan: list[dict[str, Any]], settle: dict[str, Any]) -> dict[str, Any]:
        s, m = self.stack, self.m
        assert self.hook is not None
        s.control("PUT", f"/portals/{m}/limits", {"enabled": False})
        svc = s.services()
        outputs = list(self.outputs)
        for args in (("sync", "status", "--portal", m, "--json"), ("settings", "export", "--portal", m),
                     ("jobs", "list", "--json", "--limit", "1000")):
            out = s.b24app(*args, timeout=120)
            outputs.append(out.stdout + out.stderr)
        logs = [p for p in Path(s.root).glob("*.log") if p.name != "sandbox.log"]
        facts = invariants.collect(services=svc, member_id=m, hook=self.hook, control=s.control, ledger=self.ledger,
                                   lead_marker_from=self.lead_marker_from, log_paths=logs, extra_texts=outputs)
        results, details = invariants.evaluate(facts, self.ledger)
        return {"invariants": results, "counts": self.counts(facts), "details": details,
                "story_errors": self.ledger.errors[:30], "faults": self.done, "plan": plan,
                "story_notes": {str(d.deal_id): d.notes for d in self.ledger.deals.values() if d.notes}}

    def counts(self, facts: invariants.Facts) -> dict[str, Any]:
        s, m, led = self.stack, self.m, self.ledger
        log = s.control("GET", f"/portals/{m}/requests")
        # faults are drawn before authentication, so a faulted call of the app carries no client_id:
        # the people call through the webhook, everything else on this portal is the app
        people = [r for r in log if r.get("auth_kind") == "webhook"]
        app = [r for r in log if r.get("auth_kind") != "webhook"]
        stats = s.control("GET", f"/portals/{m}/oauth-stats").get(s.client_id, {})
        keys = invariants.invoice_keys(facts)
        dead = Counter(f"{j['kind']}: {j.get('last_error_action')}" for j in facts.dead_jobs)
        deals = list(led.deals.values())
        from b24app.store import inbound

        offline = {str(r.get("entity_id")) for r in inbound.recent(s.services().db, m, limit=1_000_000)
                   if r.get("name") == "ONCRMLEADADD" and (r.get("payload") or {}).get("offline")}
        return {
            "leads": len(led.leads), "leads_by_kind": dict(Counter(x.kind for x in led.leads.values())),
            "leads_while_app_down": sum(1 for x in led.leads.values() if x.app_down),
            "leads_on_portal": len(facts.leads),
            "leads_via_offline_sweep": sum(1 for i in led.leads if str(i) in offline),
            "decisions_by_kind": dict(Counter(d["kind"] for d in facts.decisions.values())),
            "decisions_by_trigger": dict(Counter(d.get("trigger") for d in facts.decisions.values())),
            "deals": len(deals), "deals_finished": sum(1 for d in deals if d.finished),
            "deals_reached_payment": sum(1 for d in deals if "UC_AWAIT_PAYMENT" in d.stages),
            "stage_tasks": sum(1 for t in facts.tasks if invariants._xml(t).startswith(invariants.TASK_MARKER)),
            "contracts": len(facts.contracts),
            "contracts_by_type": dict(Counter(c["type_code"] for c in facts.contracts)),
            "contracts_by_cli": sum(1 for d in deals if d.cli_contract),
            "onec_invoices": {f"{b}/{n}": sum(len(v) for v in per.values()) for (b, n), per in keys.items()},
            "payments": len(led.payments), "payments_full": sum(1 for p in led.payments if p.full),
            "payments_partial": sum(1 for p in led.payments if not p.full),
            "faults_on_app_requests": dict(Counter(r["fault"] for r in app if r.get("fault"))),
            "faults_on_people_requests": dict(Counter(r["fault"] for r in people if r.get("fault"))),
            "app_requests": len(app), "app_503": sum(1 for r in app if int(r.get("status") or 0) == 503),
            "people_requests": len(people),
            "token_refreshes": stats.get("refresh", 0), "token_refresh_failures": stats.get("refresh_failed", 0),
            "worker_kills": self.kills, "app_down_s": round(self.seconds["app_down"], 1),
            "onec_down_s": round(self.seconds["onec_down"], 1),
            "jobs": facts.job_counts, "dead_letters": dict(dead),
            "robot_runs": dict(Counter(f"{r['code']}: {r['state']}" for r in facts.robot_runs)),
            "story_errors": len(led.errors),
        }


def run_soak(opts: SoakOptions, say: Say = _stderr) -> dict[str, Any]:
    soak = Soak(opts, say)
    try:
        return soak.run()
    finally:
        soak.stack.stop()


def report_text(report: dict[str, Any]) -> str:
    """The human-readable report: invariants with their titles, then the counts."""
    lines = ["Invariants / инварианты:"]
    for name, ok in report["invariants"].items():
        lines.append(f"  {'PASS' if ok else 'FAIL'}  {name} — {invariants.TITLES.get(name, '')}")
        for why in (report.get("details") or {}).get(name, [])[:10] if not ok else []:
            lines.append(f"          {why}")
    lines.append("Counts / счётчики:")
    for k, v in report["counts"].items():
        lines.append(f"  {k}: {json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v}")
    lines.append("Seconds: " + json.dumps(report.get("seconds", {})))
    if report.get("story_errors"):
        lines.append("People's errors (retried or given up):")
        lines += [f"  {e}" for e in report["story_errors"][:10]]
    return "\n".join(lines)
