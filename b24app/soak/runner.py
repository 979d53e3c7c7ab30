"""One soak run: a fresh loopback stack (b24app.devstack: the sandbox process, gunicorn, workers, the
scheduler with SQLite), N МеталПром portals (:mod:`b24app.soak.portal`: each with its two 1C bases,
the app installed with the demo settings, its own story), the stories played for M minutes under the
fault plan, a bounded settle with the faults off, and the invariants checked on every portal.
Returns ``{"invariants": {name: bool}, "counts": {...}, ...}`` (:mod:`b24app.soak.report`).

Soak-specific settings (written before the story, on top of the demo's): work schedules are not
used by the distribution (the hour of the run is arbitrary), caps and re-routing deadlines are off
(a re-route is a second assignment by design; the invariant is about intake), the reconciliation's
grace is one minute and the 1C pull runs every minute (so a short run sees them work). The app's
processes run with ``B24APP_WORKER_LEASE=30`` (a killed worker's job is taken again after 30 s) and
``B24APP_HTTP_TIMEOUT=5`` (below the sandbox's 6-second timeout fault). With PostgreSQL
(``--database-url``) the workers are procrastinate workers (heartbeat 2 s, taken for dead after 8 s,
recovery every 5 s) and there is no scheduler process.
"""

from __future__ import annotations

import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from b24app.devstack import Stack
from b24app.soak import invariants, report
from b24app.soak.plan import Event, SoakOptions, fault_plan
from b24app.soak.portal import PortalRun
from b24app.soak.report import report_text
from b24app.soak.story import InFlight

Say = Callable[[str], None]
T = TypeVar("T")
PORTAL_FAULTS = ("faults_on", "burst_503", "expire_tokens", "onec_down", "onec_up")
__all__ = ["Soak", "report_text", "run_soak"]


def _stderr(text: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def each(portals: list[PortalRun], fn: Callable[[PortalRun], T], threads: int = 4) -> list[T]:
    """``fn`` on every portal, a few at a time (their order kept); the first error is raised."""
    if len(portals) == 1:
        return [fn(portals[0])]
    with ThreadPoolExecutor(max_workers=min(threads, len(portals))) as pool:
        return list(pool.map(fn, portals))


class Soak:
    def __init__(self, opts: SoakOptions, say: Say = _stderr) -> None:
        self.opts = opts
        self.say = say
        self.stack = Stack(keep=opts.keep, database_url=opts.database_url)
        self.stack.extra_env = {"B24APP_WORKER_LEASE": "30", "B24APP_HTTP_TIMEOUT": "5", "B24APP_LOG_LEVEL": "INFO"}
        if opts.database_url:
            self.stack.extra_env.update({"B24APP_WORKER_HEARTBEAT": "2", "B24APP_WORKER_STALLED_AFTER": "8",
                                         "B24APP_RECOVER_EVERY": "5"})
        self.portals = [PortalRun(self.stack, opts, i) for i in range(opts.portals)]
        self.app_up = threading.Event()
        self.app_up.set()
        self.app_stopped = threading.Event()  # set while the app's process is really stopped
        self.stop_new = threading.Event()
        self.in_flight = InFlight()  # managers' calls that make the portal call the app
        self.done: list[dict[str, Any]] = []  # fault events as they happened
        self.seconds: dict[str, float] = {"app_down": 0.0, "onec_down": 0.0}
        self.kills = 0
        self.web_processes = 0
        self.rng = random.Random(opts.seed)
        self._down_at: dict[str, float] = {}

    # --- setup -------------------------------------------------------------------------------
    def setup(self) -> None:
        s = self.stack
        s.start_sandbox()
        s.start_app(gunicorn=True, web_workers=2, threads=4)
        self.web_processes = len(s.children("app"))
        for i in range(self.opts.workers):
            s.start_worker(f"worker{i}", 2)
        for p in self.portals:
            p.create()
        each(self.portals, PortalRun.setup)
        s.start_scheduler()
        each(self.portals, lambda p: p.make_story(self.app_up, self.app_stopped, self.stop_new, self.in_flight))

    # --- faults ------------------------------------------------------------------------------
    def do(self, ev: Event, started: float) -> None:
        s = self.stack
        self.done.append({"at_s": round(time.monotonic() - started, 1), "action": ev.action, "arg": ev.arg})
        self.say(f"fault: {ev.action} {ev.arg or ''}".rstrip())
        if ev.action in PORTAL_FAULTS:
            for p in self.portals:
                p.fault(ev.action, ev.arg)
        if ev.action == "onec_down":
            self._down_at["onec"] = time.monotonic()
        elif ev.action == "onec_up":
            self.seconds["onec_down"] += time.monotonic() - self._down_at.pop("onec", time.monotonic())
        elif ev.action == "app_down":
            self.app_up.clear()  # managers stop moving deals; leads keep arriving
            if not self.in_flight.wait_idle(60.0):
                self.portals[0].ledger.error("app_down: a manager's call was still in flight after 60 s")
            time.sleep(2.0)
            s.control("POST", "/wait-deliveries", {"timeout_s": 15})
            self._down_at["app"] = time.monotonic()
            self.app_stopped.set()
            s.kill("app", signal.SIGTERM, timeout=25)
            # a client writes in at once on every portal: the outage always has a lead to lose
            each(self.portals, PortalRun.lead_now)
        elif ev.action == "app_up":
            self._app_back()
            self.seconds["app_down"] += time.monotonic() - self._down_at.pop("app", time.monotonic())
        elif ev.action == "kill_worker":
            name = f"worker{int(ev.arg)}"
            s.kill(name, signal.SIGKILL)
            self.kills += 1
            pause = self.rng.uniform(1.0, 3.0)
            threading.Timer(pause, lambda: s.restart(name)).start()

    def _app_back(self) -> None:
        """The app restarted: its events reach it again and the managers go on."""
        self.stack.restart("app")
        self.app_stopped.clear()
        self.app_up.set()

    def play(self, events: list[Event], started: float, outage_s: float) -> None:
        """The events at their moments; the app comes back ``outage_s`` after it really went down
        (taking it down waits for the managers' calls in flight)."""
        for ev in events:
            at = started + ev.at
            if ev.action == "app_up" and "app" in self._down_at:
                at = max(at, self._down_at["app"] + outage_s)
            time.sleep(max(0.0, at - time.monotonic()))
            try:
                self.do(ev, started)
            except Exception as exc:  # a fault that could not be injected is reported, the run goes on
                self.portals[0].ledger.error(f"fault {ev.action}: {exc}")

    # --- settle ------------------------------------------------------------------------------
    def converged(self) -> str:
        """Empty when everything the stories started has come through; else what is still missing."""
        from b24app.store import jobs as jobs_repo

        for p in self.portals:
            why = p.converged()
            if why:
                return why if len(self.portals) == 1 else f"[{p.domain}] {why}"
        left = jobs_repo.outstanding(self.stack.services().db)
        if left["due"] or left["retrying"] or left["running"]:
            return f"jobs due {left['due']}, retrying {left['retrying']}, running {left['running']}"
        return ""

    def settle(self) -> dict[str, Any]:
        from b24app.jobs.scheduler import run_all_once

        s = self.stack
        t0 = time.monotonic()
        limit = self.opts.settle_limit_s
        self.stop_new.set()
        for p in self.portals:
            p.faults_off()
        if not self.app_up.is_set():
            self._app_back()
        time.sleep(4.0)  # a pending worker restart (after a kill) happens now
        for name in self.workers():
            if not s.alive(name):
                s.restart(name)
        deadline = t0 + limit * 0.6
        joined = all([p.story.join(max(0.1, deadline - time.monotonic())) for p in self.portals if p.story])
        self.say(f"people done ({'all' if joined else 'some still waiting'}) after {time.monotonic() - t0:.0f} s")
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
        self.stop_periodic()
        self.drain()
        s.kill_all(self.workers(), signal.SIGTERM)
        return {"settle_s": round(time.monotonic() - t0, 1), "converged": ok}

    def stop_periodic(self) -> None:
        """No new periodic work before the last drain: the scheduler stops (SQLite), or the workers
        are started again without deferring periodic tasks (PostgreSQL)."""
        s = self.stack
        s.kill("scheduler", signal.SIGTERM)
        if s.postgres:
            s.kill_all(self.workers(), signal.SIGTERM)
            for name in self.workers():
                s.start_worker(name, 2, "--no-periodic")

    def workers(self) -> list[str]:
        return [f"worker{i}" for i in range(self.opts.workers)]

    def drain(self, limit_s: float = 90.0) -> None:
        """Wait (bounded) until no job is due, retrying or running, seen twice in a row (a job planned
        for later by design, such as tomorrow's digest, is not work left)."""
        from b24app.store import jobs as jobs_repo

        db = self.stack.services().db
        deadline = time.monotonic() + limit_s
        quiet = 0
        while time.monotonic() < deadline and quiet < 2:
            c = jobs_repo.outstanding(db)
            quiet = quiet + 1 if not (c["due"] or c["retrying"] or c["running"]) else 0
            time.sleep(2.0)

    # --- the whole run -----------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        o = self.opts
        t_setup = time.monotonic()
        db = "PostgreSQL" if o.database_url else "SQLite"
        self.say(f"setting up the stack in {self.stack.root} ({db}, {o.portals} portal(s))")
        self.setup()
        for p in self.portals:
            p.start()
        plan = fault_plan(o)
        self.say(f"story: {o.story_s:.0f} s, {len(plan.events)} fault events, outages {plan.outage_s:.0f} s")
        setup_s = time.monotonic() - t_setup
        started = time.monotonic()
        for p in self.portals:
            assert p.story is not None
            p.story.start(started + o.story_s)
        player = threading.Thread(target=self.play, args=(plan.events, started, plan.outage_s), daemon=True)
        player.start()
        time.sleep(max(0.0, started + o.story_s - time.monotonic()))
        player.join(120)
        self.say("story over: faults off, settling")
        settle = self.settle()
        self.say(f"settled in {settle['settle_s']} s (converged: {settle['converged']}); checking")
        t_check = time.monotonic()
        out = self.check(plan.public(), time.monotonic() - started)
        out["seconds"] = {"setup": round(setup_s, 1), "story": round(o.story_s, 1), **settle,
                          "check": round(time.monotonic() - t_check, 1),
                          **{k: round(v, 1) for k, v in self.seconds.items()}}
        if o.keep:
            out["root"] = str(self.stack.root)
        return out

    def check(self, plan: list[dict[str, Any]], elapsed_s: float) -> dict[str, Any]:
        s = self.stack
        for p in self.portals:
            s.control("PUT", f"/portals/{p.m}/limits", {"enabled": False})
        jobs_out = s.b24app("jobs", "list", "--json", "--limit", "1000", timeout=120)
        shared = [jobs_out.stdout + jobs_out.stderr]
        outputs = each(self.portals, PortalRun.cli_outputs)
        logs = invariants.read_texts([p for p in Path(s.root).glob("*.log") if p.name != "sandbox.log"])

        def part(p: PortalRun, outs: list[str]) -> dict[str, Any]:
            facts = p.collect(logs, shared + outs, all_dead=p.index == 0, elapsed_s=elapsed_s)
            results, details = invariants.evaluate(facts, p.ledger)
            return {"portal": p.domain, "member_id": p.m, "invariants": results, "details": details,
                    "counts": p.counts(facts, self.kills, self.seconds), "story_errors": p.ledger.errors[:30],
                    "story_notes": {str(d.deal_id): d.notes for d in p.ledger.deals.values() if d.notes}}

        parts = each(self.portals, lambda p: part(p, outputs[p.index]))
        out = report.merge(parts)
        out.update(faults=self.done, plan=plan, stack={
            "database": "postgres" if s.postgres else "sqlite", "web_processes": self.web_processes,
            "workers": self.opts.workers, "portals": len(self.portals)})
        return _ordered(out, ("invariants", "counts", "details", "story_errors", "faults", "plan", "story_notes"))


def _ordered(d: dict[str, Any], first: Iterable[str]) -> dict[str, Any]:
    keys = [k for k in first if k in d]
    return {**{k: d[k] for k in keys}, **{k: v for k, v in d.items() if k not in keys}}


def run_soak(opts: SoakOptions, say: Say = _stderr) -> dict[str, Any]:
    soak = Soak(opts, say)
    try:
        return soak.run()
    finally:
        soak.stack.stop()
