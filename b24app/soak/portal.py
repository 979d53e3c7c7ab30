"""One portal of a soak run: its МеталПром seed, the app installed with the demo settings, its 1C
bases connected, the robots on its funnel, the people's webhook, its :class:`Story` and
:class:`Ledger`; its share of the faults; whether it has settled; its facts, invariants and counts.

A soak runs one of these per portal (``b24app soak --portals N``) against one stack: the faults on
the wire, the 1C outage and the token expiries apply to every portal, each on its own.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from b24app.devstack import Stack
from b24app.soak import invariants
from b24app.soak.plan import SoakOptions
from b24app.soak.rest import Webhook
from b24app.soak.story import TEMPLATED, InFlight, Ledger, Story

ROBOTS = (("UC_CONTRACT", "b24app_make_contract", {"contract_type": "prepayment", "output_format": "docx"}),
          ("UC_AWAIT_PAYMENT", "b24app_push_invoice_1c", {}))


def portal_domain(opts: SoakOptions, index: int) -> str:
    """``metalprom-soak<seed>`` for a single-portal run; numbered portals otherwise."""
    if opts.portals == 1:
        return f"metalprom-soak{opts.seed}.bitrix24.ru"
    return f"metalprom{index + 1:02d}-soak{opts.seed}.bitrix24.ru"


@dataclass
class PortalRun:
    """The state of one portal during a run (``index`` 0 keeps the single-portal seeds)."""

    stack: Stack
    opts: SoakOptions
    index: int
    domain: str = ""
    m: str = ""
    main_base: str = ""
    hook: Webhook | None = None
    ledger: Ledger = field(default_factory=Ledger)
    lead_marker_from: int = 0
    refresh_before: int = 0
    refresh_failed_before: int = 0
    expiries: int = 0
    outputs: list[str] = field(default_factory=list)
    story: Story | None = None

    @property
    def seed(self) -> int:
        return self.opts.seed + 7919 * self.index

    # --- setup -------------------------------------------------------------------------------
    def create(self) -> None:
        """The seeded portal and its 1C bases (one portal at a time: the sandbox names the bases)."""
        self.domain = portal_domain(self.opts, self.index)
        portal = self.stack.new_portal("metalprom", plan="standard", domain=self.domain)
        self.m = portal["member_id"]
        self.stack.control("PUT", f"/portals/{self.m}/limits", {"enabled": False})

    def setup(self) -> None:
        """Install, settings, 1C bases connected, robots and webhook (a worker must be running)."""
        from b24app.settings import document
        from b24app.settings.demo import portal_facts

        s, m = self.stack, self.m
        s.install(m, timeout=240)
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
            raise RuntimeError(f"{self.domain}: the 1C bases did not connect:\n" + out.stderr[-2000:])
        self.outputs.append(out.stdout + out.stderr)
        self.main_base = next(b["name"] for b in s.control("GET", f"/portals/{m}/onec")
                              if b["name"].startswith("metalprom_main"))
        for stage, code, props in ROBOTS:
            s.control("POST", f"/portals/{m}/automation", {"entity": "deal", "category_id": 0, "stage_id": stage,
                                                           "robot_code": code, "properties": props,
                                                           "client_id": s.client_id})
        self.hook = Webhook(s.control("POST", f"/portals/{m}/webhooks", {"user_id": 1})["url"])
        last = self.hook.call("crm.lead.list", {"order": {"ID": "DESC"}, "select": ["ID"], "start": -1})
        self.lead_marker_from = int(last[0]["ID"]) + 1 if last else 1

    def make_story(self, app_up: threading.Event, app_stopped: threading.Event, stop_new: threading.Event,
                   in_flight: InFlight) -> Story:
        assert self.hook is not None
        s = self.stack
        self.story = Story(services=s.services(), member_id=self.m, hook=self.hook, control=s.control,
                           cli=lambda *a: s.b24app(*a, timeout=300), ledger=self.ledger, seed=self.seed,
                           lead_every_s=self.opts.lead_every, pipelines=self.opts.pipelines_per_portal,
                           app_up=app_up, app_stopped=app_stopped, stop_new=stop_new, in_flight=in_flight)
        self.story.prepare()
        return self.story

    def lead_now(self) -> None:
        """A client writes in now (the runner calls it the moment the app has stopped)."""
        if self.story is not None:
            self.story.lead_now()

    def start(self) -> None:
        """Limits on (time-scaled, the app told so) and the token counters noted: the story begins."""
        from b24app.store import installations

        scale = self.opts.time_scale
        self.stack.control("PUT", f"/portals/{self.m}/limits", {"drain_per_s": 2.0, "burst": 50.0,
                                                                "time_scale": scale, "enabled": True, "reset": True})
        installations.set_limits(self.stack.services().db, self.m, drain=2.0 * scale, burst=50.0)
        stats = self.oauth_stats()
        self.refresh_before = int(stats.get("refresh", 0))
        self.refresh_failed_before = int(stats.get("refresh_failed", 0))

    def oauth_stats(self) -> dict[str, Any]:
        return dict(self.stack.control("GET", f"/portals/{self.m}/oauth-stats").get(self.stack.client_id, {}))

    # --- faults ------------------------------------------------------------------------------
    def wire_faults(self, on: bool) -> None:
        o = self.opts
        body = ({"error_5xx_rate": o.error_5xx_rate, "timeout_rate": o.timeout_rate, "timeout_hold_s": 6,
                 "commit_then_500_rate": o.commit_then_500_rate, "seed": o.seed + self.index} if on else
                {"error_5xx_rate": 0, "timeout_rate": 0, "commit_then_500_rate": 0, "burst_503_s": 0})
        self.stack.control("PUT", f"/portals/{self.m}/faults", body)

    def fault(self, action: str, arg: float) -> None:
        """This portal's share of a fault event (process-wide events are the runner's)."""
        s, m = self.stack, self.m
        if action == "faults_on":
            self.wire_faults(True)
        elif action == "burst_503":
            s.control("PUT", f"/portals/{m}/faults", {"burst_503_s": arg})
        elif action == "expire_tokens":
            s.control("POST", f"/portals/{m}/expire-tokens")
            self.expiries += 1
        elif action == "onec_down":
            s.control("PUT", f"/onec/{self.main_base}/faults", {"down": True})
        elif action == "onec_up":
            s.control("DELETE", f"/onec/{self.main_base}/faults")

    def faults_off(self) -> None:
        self.wire_faults(False)
        self.stack.control("DELETE", f"/onec/{self.main_base}/faults")

    # --- settle ------------------------------------------------------------------------------
    def converged(self) -> str:
        """Empty when everything this portal's story started has come through; else what is missing."""
        from b24app.contracts import register
        from b24app.leads import store as leads_store
        from b24app.leads.engine import INTAKE
        from b24app.stages import repo
        from b24app.sync_1c import state

        db, m = self.stack.services().db, self.m
        ids = list(self.ledger.leads)
        decided = leads_store.get_decisions(db, m, "lead", ids, INTAKE)
        waiting = [i for i in ids if i not in decided or decided[i].status != "applied"]
        if waiting:
            return f"{len(waiting)} lead(s) without an applied decision (e.g. {waiting[:5]})"
        for p in list(self.ledger.payments):
            rows = state.payments_of_invoice(db, m, p.base, p.invoice_ref)
            if not any(r["ref_key"] == p.payment_ref and r["active"] for r in rows):
                return f"payment {p.payment_ref} of deal {p.deal_id} not pulled yet"
        for d in list(self.ledger.deals.values()):
            if "UC_AWAIT_PAYMENT" in d.stages and state.invoice_for_deal(db, m, d.deal_id) is None:
                return f"deal {d.deal_id} has no 1C invoice yet"
            row = register.active_for(db, m, d.deal_id, "prepayment")
            if "UC_CONTRACT" in d.stages and (row is None or row.get("status") != "issued"):
                return f"deal {d.deal_id}: the robot's contract is not issued yet"
            have = {t.stage_id for t in repo.tasks_of_item(db, m, "deal", d.deal_id)}
            missing = [s for s in d.stages if s in TEMPLATED and s not in have]
            if missing:
                return f"deal {d.deal_id}: no task of {missing} yet"
        if state.dirty(db, m, None, 1):
            return "1C changes not yet written to the portal"
        return ""

    # --- checks ------------------------------------------------------------------------------
    def cli_outputs(self) -> list[str]:
        outs = []
        for args in (("sync", "status", "--portal", self.m, "--json"), ("settings", "export", "--portal", self.m)):
            out = self.stack.b24app(*args, timeout=120)
            outs.append(out.stdout + out.stderr)
        return outs

    def collect(self, log_texts: dict[str, str], extra_texts: list[str], *, all_dead: bool,
                elapsed_s: float) -> invariants.Facts:
        """The facts of this portal; ``all_dead``: also the dead letters of no portal (one portal says them)."""
        assert self.hook is not None
        s = self.stack
        facts = invariants.collect(services=s.services(), member_id=self.m, hook=self.hook, control=s.control,
                                   ledger=self.ledger, lead_marker_from=self.lead_marker_from,
                                   log_texts=log_texts, extra_texts=self.outputs + extra_texts)
        facts.dead_jobs = [j for j in facts.dead_jobs
                           if j.get("member_id") == self.m or (all_dead and not j.get("member_id"))]
        stats = self.oauth_stats()
        facts.token_refreshes = int(stats.get("refresh", 0)) - self.refresh_before
        facts.token_refresh_failures = int(stats.get("refresh_failed", 0)) - self.refresh_failed_before
        facts.token_expiries = self.expiries
        facts.natural_expiries = int(elapsed_s // invariants.ACCESS_TTL_S)
        return facts

    def counts(self, facts: invariants.Facts, kills: int, seconds: dict[str, float]) -> dict[str, Any]:
        s, m, led = self.stack, self.m, self.ledger
        log = s.control("GET", f"/portals/{m}/requests")
        # faults are drawn before authentication, so a faulted call of the app carries no client_id:
        # the people call through the webhook, everything else on this portal is the app
        people = [r for r in log if r.get("auth_kind") == "webhook"]
        app = [r for r in log if r.get("auth_kind") != "webhook"]
        stats = self.oauth_stats()
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
            "token_expiries": self.expiries,
            "worker_kills": kills, "app_down_s": round(seconds["app_down"], 1),
            "onec_down_s": round(seconds["onec_down"], 1),
            "jobs": facts.job_counts, "dead_letters": dict(dead),
            "robot_runs": dict(Counter(f"{r['code']}: {r['state']}" for r in facts.robot_runs)),
            "story_errors": len(led.errors),
        }

