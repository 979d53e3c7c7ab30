"""What a soak run does and when: its options and the schedule of faults over the story's minutes.

Pure data and arithmetic (no I/O), so the schedule can be checked without a stack. Every moment is
given in seconds from the start of the story; long faults scale with the run (the 10-minute run has
the 1C base down for a minute and the app down for a minute; a 1–2 minute CI run has them shorter).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SoakOptions:
    """Options of ``b24app soak`` (see ``b24app soak --help``)."""

    minutes: float = 10.0
    seed: int = 1
    time_scale: float = 4.0  # the portal's leaky bucket drains this many times faster (the app is told so)
    lead_every_s: float | None = None  # mean time between two new leads on one portal (None: 4 s x portals)
    pipelines: int | None = None  # deals moving through one portal's funnel at once (None: 3, or 1 per portal)
    workers: int = 2  # `b24app worker` processes (each --concurrency 2)
    portals: int = 1  # МеталПром portals, each with its own story (the faults apply to every one)
    database_url: str | None = None  # PostgreSQL (a fresh schema of it); None: SQLite
    settle_s: float | None = None  # bounded settle after the faults stop (default: from the run's length)
    error_5xx_rate: float = 0.10
    timeout_rate: float = 0.02
    commit_then_500_rate: float = 0.03
    keep: bool = False

    @property
    def lead_every(self) -> float:
        """Seconds between leads on one portal: by default the run's total stays one lead per 4 s."""
        return self.lead_every_s if self.lead_every_s is not None else 4.0 * self.portals

    @property
    def pipelines_per_portal(self) -> int:
        if self.pipelines is not None:
            return self.pipelines
        return 3 if self.portals == 1 else 1

    @property
    def story_s(self) -> float:
        return max(30.0, self.minutes * 60.0)

    @property
    def settle_limit_s(self) -> float:
        if self.settle_s is not None:
            return self.settle_s
        return max(240.0, 0.6 * self.story_s)


@dataclass(frozen=True)
class Event:
    at: float  # seconds from the start of the story
    action: str  # faults_on | burst_503 | expire_tokens | onec_down | onec_up | app_down | app_up | kill_worker
    arg: float = 0.0  # seconds (burst length) or the worker's index

    def public(self) -> dict[str, float | str]:
        return {"at_s": round(self.at, 1), "action": self.action, "arg": self.arg}


@dataclass
class FaultPlan:
    events: list[Event] = field(default_factory=list)
    outage_s: float = 0.0  # how long the 1C base and the app are each down

    def public(self) -> list[dict[str, float | str]]:
        return [e.public() for e in self.events]


def outage_length(story_s: float) -> float:
    """A minute in a 10-minute run; shorter runs keep the outage under a fifth of the story."""
    return min(60.0, max(12.0, 0.12 * story_s))


def fault_plan(opts: SoakOptions) -> FaultPlan:
    """The schedule: wire faults from the first seconds to the end, two 503 bursts, three token
    expiries, the 1C base down once, the app down once (never overlapping the 1C outage), and worker
    kills at random moments (at least two, about one per 45 s)."""
    t = opts.story_s
    rng = random.Random(opts.seed)
    down = outage_length(t)
    ev = [Event(3.0, "faults_on"),
          Event(0.20 * t, "burst_503", 5.0), Event(0.62 * t, "burst_503", 5.0),
          Event(0.30 * t, "expire_tokens"), Event(0.55 * t, "expire_tokens"), Event(0.80 * t, "expire_tokens"),
          Event(0.33 * t, "onec_down"), Event(0.33 * t + down, "onec_up")]
    app_at = max(0.33 * t + down + 5.0, 0.62 * t)
    app_at = min(app_at, t - down - 3.0)
    ev += [Event(app_at, "app_down"), Event(app_at + down, "app_up")]
    kills = max(2, int(t // 45))
    for i in range(kills):
        lo, hi = t * i / kills, t * (i + 1) / kills
        ev.append(Event(rng.uniform(lo + 0.1 * (hi - lo), hi - 0.1 * (hi - lo)), "kill_worker", float(i % opts.workers)))
    ev.sort(key=lambda e: e.at)
    return FaultPlan(ev, down)
