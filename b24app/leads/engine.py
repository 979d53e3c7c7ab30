"""The distribution decision: junk rules, repeat clients and duplicates, the first matching rule,
quality control, the pool's available members under their caps, the strategy, and the fallback
chain (another pool, the head, the queue) — never a silent drop.

The decision itself is pure (:func:`decide_item` over a :class:`World` and :class:`Books`); it is
taken for a group of items in one store transaction by :func:`decide_and_save`: ``BEGIN IMMEDIATE``
on SQLite (an advisory lock on PostgreSQL) serializes deciders, the strategy state (round-robin
pointer, weighted current weights) and the counters (assigned today, open since the load snapshot)
are read and written inside it, and each decision row is unique per (item, phase). So two workers
never exceed a cap nor break round-robin order, and the same lead decided twice (an event and a
robot, a duplicate delivery) keeps its first decision.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from b24app import clock
from b24app.calendar.settings_section import business_calendar
from b24app.leads import availability as av
from b24app.leads import junk as junk_rules
from b24app.leads import rules as rule_match
from b24app.leads import store
from b24app.leads import strategies as st
from b24app.leads.duplicates import Match
from b24app.leads.store import QUEUED, Decision
from b24app.leads.texts import summarize
from b24app.store.db import Database

INTAKE, RELEASE = "intake", "release"

MatchFn = Callable[[Mapping[str, Any]], list[Match]]


def _int(value: Any) -> int | None:
    try:
        n = int(str(value))
    except (TypeError, ValueError):
        return None
    return n if n > 0 else None


def company_now(settings: Mapping[str, Any], at: float | None = None) -> dt.datetime:
    """Now in the company's time zone (the calendar section's schedule)."""
    tz = business_calendar(dict(settings)).tz
    return dt.datetime.fromtimestamp(clock.now() if at is None else at, tz=tz)


@dataclass
class World:
    """What a decision looks at besides the item: settings and portal snapshots at one moment."""

    member_id: str
    settings: dict[str, Any]
    people: dict[str, Any]
    presence: dict[str, Any]
    loads: dict[int, int]
    loads_at: float
    paused: set[int]
    now: dt.datetime

    @property
    def dist(self) -> dict[str, Any]:
        return self.settings.get("distribution") or {}

    @property
    def day(self) -> str:
        return self.now.date().isoformat()

    @property
    def lang(self) -> str:
        return str((self.settings.get("general") or {}).get("lang") or "ru")

    @property
    def unassigned(self) -> set[int]:
        return {int(u) for u in self.dist.get("unassigned_user_ids") or []}

    def pools(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {**(self.dist.get("pools") or {}), **(extra or {})}

    def working_time(self) -> bool:
        return business_calendar(self.settings).is_working_time(self.now)


def strategy_keys(settings: Mapping[str, Any], extra_pools: Mapping[str, Any] | None = None) -> list[str]:
    """Every state key the configured rules can touch (loaded at once in the transaction)."""
    dist = settings.get("distribution") or {}
    pools = list((dist.get("pools") or {}).keys()) + list((extra_pools or {}).keys())
    rules = list(dist.get("rules") or [])
    for lst in (dist.get("rule_sets") or {}).values():
        rules.extend(lst)
    keys = []
    for rule in rules:
        for strategy in ("round_robin", "weighted"):
            for pool in pools:
                keys.append(state_key(strategy, rule.get("name", ""), pool))
    qc = dist.get("qc") or {}
    if qc.get("pool"):
        keys += [state_key(s, "qc", qc["pool"]) for s in ("round_robin", "weighted")]
    return keys


def state_key(strategy: str, rule: str, pool: str) -> str:
    return f"{strategy}|{rule}|{pool}"


def all_pool_users(settings: Mapping[str, Any], people: Mapping[str, Any],
                   extra_pools: Mapping[str, Any] | None = None) -> list[int]:
    dist = settings.get("distribution") or {}
    out: list[int] = []
    for pool in {**(dist.get("pools") or {}), **(extra_pools or {})}.values():
        for uid in av.pool_members(pool, people):
            if uid not in out:
                out.append(uid)
    return out


def watched_users(settings: Mapping[str, Any], people: Mapping[str, Any],
                  extra_pools: Mapping[str, Any] | None = None) -> list[int]:
    """Pool members plus the heads that may take a lead as a fallback (their presence is read too)."""
    dist = settings.get("distribution") or {}
    users = all_pool_users(settings, people, extra_pools)
    heads = set()
    if dist.get("head_user_id"):
        heads.add(int(dist["head_user_id"]))
    for pool in {**(dist.get("pools") or {}), **(extra_pools or {})}.values():
        if pool.get("department"):
            h = ((people.get("departments") or {}).get(str(pool["department"])) or {}).get("head")
            if h:
                heads.add(int(h))
    for uid in users:
        h = av.head_of(people, uid)
        if h:
            heads.add(h)
    return users + sorted(h for h in heads if h not in users)


def is_unprocessed(item: Mapping[str, Any], settings: Mapping[str, Any], pool_users: Collection[int]) -> bool:
    """A lead nobody has taken yet: still in the initial status and owned by a "nobody" user, or by
    its creator who takes no leads from any pool (a manager's own lead stays his)."""
    dist = settings.get("distribution") or {}
    if str(item.get("STATUS_ID") or "") != str(dist.get("initial_status") or "NEW"):
        return False
    owner = _int(item.get("ASSIGNED_BY_ID"))
    if owner is None or owner in {int(u) for u in dist.get("unassigned_user_ids") or []}:
        return True
    creator = _int(item.get("CREATED_BY_ID"))
    return bool(dist.get("creator_is_unassigned", True)) and owner == creator and owner not in set(pool_users)


@dataclass
class Books:
    """The counters and strategy states decisions read and change, loaded inside the deciding
    transaction (or once for a dry run) and written back with the decisions."""

    states: dict[str, Any]
    daily: dict[int, int]
    extra: dict[int, int]
    last: dict[int, float]
    changed: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, db: Database, world: World, keys: Sequence[str]) -> Books:
        daily, extra, last = store.counts_since(db, world.member_id, day=world.day, since=world.loads_at)
        return cls(store.load_states(db, world.member_id, keys), daily, extra, last)

    def open_now(self, world: World, uid: int) -> int:
        return int(world.loads.get(uid, 0)) + int(self.extra.get(uid, 0))

    def set_state(self, key: str, state: Any) -> None:
        self.states[key] = state
        self.changed[key] = self.changed.get(key, 0) + 1

    def count(self, d: Decision) -> None:
        if d.assigns and d.user_id is not None:
            self.daily[d.user_id] = self.daily.get(d.user_id, 0) + 1
            self.extra[d.user_id] = self.extra.get(d.user_id, 0) + 1
            self.last[d.user_id] = d.decided_at

    def persist(self, db: Database, member_id: str) -> None:
        for key, picks in self.changed.items():
            store.save_state(db, member_id, key, self.states.get(key), picks)
        self.changed.clear()


@dataclass
class Choice:
    pick: st.Pick
    pool: str | None
    members: list[int]
    reasons: dict[int, st.Skipped]
    caps: dict[int, str]


def _caps_maps(dist: Mapping[str, Any], members: Sequence[int]) -> tuple[dict[int, int | None], dict[int, int | None]]:
    caps = dist.get("caps") or {}
    per = caps.get("users") or {}
    daily: dict[int, int | None] = {}
    opened: dict[int, int | None] = {}
    for u in members:
        own = per.get(str(u)) or {}
        daily[u] = own.get("daily") if own.get("daily") is not None else caps.get("daily")
        opened[u] = own.get("open") if own.get("open") is not None else caps.get("open")
    return daily, opened


def choose(world: World, books: Books, *, pool_name: str | None, pool: Mapping[str, Any] | None, strategy: str,
           rule: str, exclude: Collection[int] = (), use_caps: bool = True, rng: random.Random | None = None) -> Choice:
    """Pick a member of the pool: availability, then caps, then the strategy (state kept in books)."""
    members = av.pool_members(pool, world.people) if pool else []
    tried = [u for u in members if u in set(exclude)]
    candidates = [u for u in members if u not in set(exclude)]
    available, reasons = av.check_users(candidates, people=world.people, presence=world.presence,
                                        paused=world.paused, settings=world.settings, now=world.now)
    for u in tried:
        reasons[u] = st.Skipped(u, "tried")
    caps_info: dict[int, str] = {}
    if use_caps:
        daily, opened = _caps_maps(world.dist, members)
        capped = st.apply_caps(available, assigned_today=books.daily,
                               open_now={u: books.open_now(world, u) for u in available},
                               daily_cap=daily, open_cap=opened)
        for u, why in capped.reasons.items():
            reasons[u] = why
            caps_info[u] = f"{why.reason} {why.detail}"
        available = list(capped.allowed)
    weights = (pool or {}).get("weights") or {}
    key = state_key(strategy, rule, pool_name or "")
    rng = rng or random.Random(0)
    if strategy == "round_robin":
        pick = st.round_robin(members, st.RoundRobinState.from_dict(books.states.get(key)), available, reasons)
        if pick.user is not None:
            books.set_state(key, pick.state.to_dict())
    elif strategy == "weighted":
        w = {u: int(weights.get(str(u), 1)) for u in members}
        state = {int(k): int(v) for k, v in (books.states.get(key) or {}).items()}
        pick = st.weighted_round_robin(w, state, available, reasons)
        if pick.user is not None:
            books.set_state(key, {str(k): v for k, v in pick.state.items()})
    elif strategy == "least_loaded":
        pick = st.least_loaded(members, {u: books.open_now(world, u) for u in members}, available,
                               weights={u: int(weights.get(str(u), 1)) for u in members} if weights else None,
                               last_assigned={u: books.last[u] for u in members if u in books.last},
                               reasons=reasons)
    else:
        pick = st.random_pick(members, available, rng,
                              weights={u: int(weights.get(str(u), 1)) for u in members} if weights else None,
                              reasons=reasons)
    return Choice(pick, pool_name, members, reasons, caps_info)


def _head_for(world: World, pool: Mapping[str, Any] | None, members: Sequence[int]) -> int | None:
    dist = world.dist
    if dist.get("head_user_id"):
        return int(dist["head_user_id"])
    if pool and pool.get("department"):
        h = ((world.people.get("departments") or {}).get(str(pool["department"])) or {}).get("head")
        if h:
            return int(h)
    for u in members:
        h = av.head_of(world.people, u)
        if h:
            return h
    return None


def _head_available(world: World, uid: int) -> tuple[bool, str]:
    """The head takes leads out of hours (that is the point), but not when inactive, absent or paused."""
    u = av.user(world.people, uid)
    if u is None or not u.get("active", True):
        return False, "inactive"
    if uid in world.paused:
        return False, "paused"
    if (world.dist.get("availability") or {}).get("absence", True) and av.is_absent(world.presence, uid):
        return False, "absent"
    return True, ""


def _rng(world: World, entity_type: str, entity_id: int, phase: str) -> random.Random:
    return random.Random(f"{world.member_id}:{entity_type}:{entity_id}:{phase}")


def _skipped_list(reasons: Mapping[int, st.Skipped]) -> list[dict[str, Any]]:
    return [s.to_dict() for s in reasons.values()]


def decide_item(world: World, books: Books, item: Mapping[str, Any], *, entity_type: str = "lead",
                phase: str = INTAKE, trigger: str = "", rules: Sequence[Mapping[str, Any]] | None = None,
                find_matches: MatchFn | None = None, exclude: Collection[int] = (), run_id: int | None = None,
                release_rule: Mapping[str, Any] | None = None, strategy_override: str | None = None,
                pool_override: str | None = None, extra_pools: Mapping[str, Any] | None = None,
                extra_explanation: Mapping[str, Any] | None = None) -> Decision:
    """One decision (not stored). ``rules``: the rule list (main or a named set); overrides come
    from the robot; ``exclude``: users who had this lead already (re-routes)."""
    dist = world.dist
    item_id = int(item["ID"])
    prev = _int(item.get("ASSIGNED_BY_ID"))
    base: dict[str, Any] = {"entity_type": entity_type, "entity_id": item_id, "phase": phase, "trigger": trigger,
                            "run_id": run_id, "day": world.day, "decided_at": clock.now(), "previous_user_id": prev}
    expl: dict[str, Any] = {"title": str(item.get("TITLE") or ""), "status": str(item.get("STATUS_ID") or ""),
                            **(extra_explanation or {})}
    is_lead = entity_type == "lead"

    def finish(d: Decision) -> Decision:
        involved = {u for u in (d.user_id, d.previous_user_id) if u}
        for key in ("candidates", "skipped"):
            for c in (d.explanation.get("strategy") or {}).get(key, []):
                involved.add(int(c["user_id"]))
        for m in d.explanation.get("matches", []):
            if m.get("owner_id"):
                involved.add(int(m["owner_id"]))
        d.explanation["names"] = {str(u): av.name_of(world.people, u) for u in sorted(involved)}
        statuses = world.people.get("statuses") or {}
        for key in ("release_status",):
            if d.explanation.get(key):
                d.explanation[key + "_name"] = statuses.get(str(d.explanation[key]), str(d.explanation[key]))
        if d.new_status:
            d.explanation["new_status_name"] = statuses.get(d.new_status, d.new_status)
        d.explanation["summary"] = {lang: summarize(d, lang) for lang in ("ru", "en")}
        return d

    if is_lead and phase == INTAKE:
        junk_cfg = dist.get("junk") or {}
        verdict = junk_rules.check(item, junk_cfg)
        if verdict is not None:
            return finish(Decision(**base, kind="junk", new_status=junk_cfg.get("status") or "JUNK",
                                   reason=f"junk: {verdict.code} {verdict.detail}",
                                   explanation={**expl, "junk": verdict.to_dict()}))
        dup = dist.get("duplicates") or {}
        matches = find_matches(item) if (find_matches and dup.get("enabled", True)) else []
        if matches:
            expl["matches"] = [m.to_dict() for m in matches[:5]]
        clients = [m for m in matches if m.kind in ("contact", "company", "deal")]
        leads = [m for m in matches if m.kind == "lead"]
        if junk_cfg.get("enabled") and junk_cfg.get("existing_client") and clients:
            m = clients[0]
            return finish(Decision(**base, kind="junk", new_status=junk_cfg.get("status") or "JUNK",
                                   reason=f"junk: existing_client {m.kind} {m.entity_id}",
                                   explanation={**expl, "junk": {"code": "existing_client",
                                                                 "detail": f"{m.kind} #{m.entity_id}"}}))
        if leads and ((junk_cfg.get("enabled") and junk_cfg.get("duplicate")) or dup.get("action") == "mark_junk"):
            m = leads[0]
            return finish(Decision(**base, kind="junk", new_status=junk_cfg.get("status") or "JUNK",
                                   reason=f"junk: duplicate of lead {m.entity_id}",
                                   explanation={**expl, "junk": {"code": "duplicate", "detail": f"#{m.entity_id}"}}))
        if matches and dup.get("action", "to_owner") == "to_owner":
            unavailable = []
            for m in matches:
                owner = m.owner_id
                if owner is None or owner in world.unassigned or owner in set(exclude):
                    continue
                ok, why = av.check_users([owner], people=world.people, presence=world.presence, paused=world.paused,
                                         settings=world.settings, now=world.now)
                if ok:
                    kind = "duplicate" if m.kind == "lead" else "repeat_client"
                    return finish(Decision(**base, kind=kind, user_id=owner, rule=None, strategy=None,
                                           reason=f"{kind}: {m.via} matches {m.kind} {m.entity_id}",
                                           explanation={**expl, "match": m.to_dict()}))
                if all(u["user_id"] != owner for u in unavailable):
                    unavailable.append(why[owner].to_dict())
            if unavailable:
                expl["owner_unavailable"] = unavailable

    rule: dict[str, Any] | None
    if release_rule is not None:
        rule = dict(release_rule)
    else:
        found = rule_match.first_match(rules if rules is not None else dist.get("rules") or [], item,
                                       working_time=world.working_time())
        rule = dict(found) if found is not None else None
    if rule is None and (pool_override or strategy_override):
        rule = {"name": "robot", "pool": pool_override or "", "strategy": strategy_override or "round_robin"}
    if rule is not None:
        if strategy_override:
            rule["strategy"] = strategy_override
        if pool_override:
            rule["pool"] = pool_override
    pools = world.pools(extra_pools)
    kind = "reroute" if phase.startswith("reroute") else "assign"
    if rule is None:
        expl["no_rule"] = True
        rule_name, pool_name, strategy = None, None, None
    else:
        rule_name, pool_name, strategy = str(rule["name"]), str(rule.get("pool") or ""), str(rule.get("strategy"))
        expl["target_pool"] = pool_name
        qc = dist.get("qc") or {}
        if is_lead and phase == INTAKE and rule.get("qc") and qc.get("pool"):
            kind, pool_name, strategy = "qc", str(qc["pool"]), str(qc.get("strategy") or "round_robin")
            expl["release_status"] = qc.get("release_status") or "IN_PROCESS"
    expl["rule"] = rule_name
    expl["pool"] = pool_name
    rng = _rng(world, entity_type, item_id, phase)
    tried: list[dict[str, Any]] = []
    members: list[int] = []
    if rule_name is not None and pool_name is not None and strategy is not None:
        pool = pools.get(pool_name)
        choice = choose(world, books, pool_name=pool_name, pool=pool, strategy=strategy,
                        rule="qc" if kind == "qc" else rule_name, exclude=exclude, use_caps=kind != "qc", rng=rng)
        members = choice.members
        expl["strategy"] = choice.pick.explanation.to_dict()
        expl["skipped"] = _skipped_list(choice.reasons)
        if choice.caps:
            expl["caps"] = {str(k): v for k, v in choice.caps.items()}
        if choice.pick.user is not None:
            return finish(Decision(**base, kind=kind, user_id=choice.pick.user, rule=rule_name, strategy=strategy,
                                   reason=f"{strategy}: {choice.pick.explanation.rule}", explanation=expl))
        tried.append({"pool": pool_name, "result": "nobody"})
        if kind == "qc":
            # nobody in quality control: the lead goes straight to the sales pool
            kind, pool_name, strategy = "assign", str(rule.get("pool") or "") if rule else "", str(rule["strategy"])
            expl["qc_skipped"] = True
            pool = pools.get(pool_name)
            choice = choose(world, books, pool_name=pool_name, pool=pool, strategy=strategy, rule=rule_name,
                            exclude=exclude, rng=rng)
            members = choice.members
            expl["strategy"] = choice.pick.explanation.to_dict()
            expl["skipped"] = _skipped_list(choice.reasons)
            expl["pool"] = pool_name
            if choice.pick.user is not None:
                return finish(Decision(**base, kind=kind, user_id=choice.pick.user, rule=rule_name,
                                       strategy=strategy, reason=f"{strategy}: {choice.pick.explanation.rule}",
                                       explanation=expl))
    # fallback chain: another pool, the head, the queue
    for step in dist.get("fallback") or []:
        if step.get("pool"):
            fb_name = str(step["pool"])
            choice = choose(world, books, pool_name=fb_name, pool=pools.get(fb_name), strategy=strategy or "round_robin",
                            rule=rule_name or "fallback", exclude=exclude, rng=rng)
            tried.append({"pool": fb_name, "result": "nobody" if choice.pick.user is None else "chosen"})
            if choice.pick.user is not None:
                expl["fallback"] = tried
                expl["fallback_strategy"] = choice.pick.explanation.to_dict()
                return finish(Decision(**base, kind="fallback_pool", user_id=choice.pick.user, rule=rule_name,
                                       strategy=strategy, reason=f"fallback pool {fb_name}",
                                       explanation={**expl, "from_pool": pool_name, "pool": fb_name}))
        elif step.get("head"):
            head = _head_for(world, pools.get(pool_name or "") if pool_name else None, members)
            if head is not None and head not in set(exclude):
                ok, why = _head_available(world, head)
                tried.append({"head": head, "result": "chosen" if ok else why})
                if ok:
                    expl["fallback"] = tried
                    return finish(Decision(**base, kind="head", user_id=head, rule=rule_name, strategy=strategy,
                                           reason="nobody available: head", explanation=expl))
        elif step.get("queue"):
            break
    expl["fallback"] = tried
    return finish(Decision(**base, kind="queued", status=QUEUED, rule=rule_name, strategy=strategy,
                           reason="nobody available: queued", explanation=expl))


def decide_and_save(db: Database, world: World, items: Sequence[Mapping[str, Any]], *, entity_type: str = "lead",
                    phase: str = INTAKE, trigger: str = "", rules: Sequence[Mapping[str, Any]] | None = None,
                    find_matches: MatchFn | None = None, after_each: Callable[[Decision, Mapping[str, Any]], None]
                    | None = None, run_id: int | None = None, **kw: Any) -> list[Decision]:
    """Decide for ``items`` in one transaction; an item that already has a (non-queued) decision for
    this phase keeps it. Returns the decisions in the items' order."""
    out: list[Decision] = []
    keys = strategy_keys(world.settings, kw.get("extra_pools"))
    with db.transaction():
        db.serialize(store.lock_key(world.member_id))
        existing = store.get_decisions(db, world.member_id, entity_type, [int(i["ID"]) for i in items], phase)
        books = Books.load(db, world, keys)
        saved: set[int] = set()
        for item in items:
            item_id = int(item["ID"])
            old = existing.get(item_id)
            if old is not None and old.status != QUEUED:
                out.append(old)
                continue
            d = decide_item(world, books, item, entity_type=entity_type, phase=phase, trigger=trigger, rules=rules,
                            find_matches=find_matches, run_id=run_id, **kw)
            if old is not None and d.status == QUEUED:
                out.append(old)  # still nobody: the lead keeps waiting; no new comment, no new alert
                continue
            if old is None and item_id not in saved:  # none stored (looked up under the same lock)
                d = store.insert_decision(db, world.member_id, d)
            else:
                d = store.save_decision(db, world.member_id, d)
            saved.add(item_id)
            books.count(d)
            if after_each is not None:
                after_each(d, item)
            out.append(d)
        books.persist(db, world.member_id)
    return out
