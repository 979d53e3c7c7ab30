"""Lead distribution strategies: pure functions with explicit state in and out.

Every strategy takes the ordered pool (user ids), the users available right now, optionally the reasons
why the others are not (``{17: "absent", 23: "off_schedule"}``), and its persisted state; it returns a
:class:`Pick` ``(user, state, explanation)``. The store persists ``state`` atomically with the assignment;
nothing here reads a clock, a database or a global. ``user`` is ``None`` when nobody can take the lead:
the state is then returned unchanged and the feature applies its fallback (never a silent drop).

Strategies
- :func:`round_robin`: strict order. State :class:`RoundRobinState` = the last assigned user and his
  position. The next available user after the pointer is chosen, so with a steady set of available users
  every one of them gets exactly one lead per cycle. Pool changes: added users are visited when the cycle
  reaches their position; if the last assigned user was removed, the cycle continues from his former
  position (which now holds his successor); a reordered pool continues after the pointer user's new place.
- :func:`weighted_round_robin`: nginx's smooth weighted round robin. State = current weight per user
  (``{user: int}``). Each pick adds every available user's weight to his current weight, chooses the
  largest (ties: pool order) and subtracts the total available weight from the chosen. Unavailable users
  are skipped and keep their current weight frozen, so they neither pile up credit nor distort the
  others' shares; weight 0 = never; new users join with current weight 0; removed users leave the state.
  With everybody available, any ``k * sum(weights)`` consecutive picks from the zero state give each user
  exactly ``k * weight`` leads.
- :func:`least_loaded`: the smallest ``load / weight`` (exact fractions); ties go to the user who waited
  longest since his last assignment (never assigned = longest), then to the smallest id.
- :func:`random_pick`: uniform (or weighted) choice with an injected ``random.Random``.
- :func:`apply_caps`: a filter that removes users at their per-day cap or open-at-once cap.

Each pick carries an :class:`Explanation` (candidates with their loads, weights and current weights, the
skipped users with reason codes, the rule that decided) that renders to JSON and to a Russian/English
sentence for the CRM timeline ("why this manager").
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

UserId = int

# Reason codes for skipped users, with Russian and English labels.
REASONS: dict[str, tuple[str, str]] = {
    "unavailable": ("недоступен", "unavailable"),
    "inactive": ("уволен или деактивирован", "inactive"),
    "absent": ("отсутствует по графику отсутствий", "absent"),
    "off_schedule": ("вне рабочего времени", "outside working hours"),
    "not_clocked_in": ("не начал рабочий день", "not clocked in"),
    "paused": ("приём лидов приостановлен", "paused"),
    "daily_cap": ("достигнут дневной лимит", "daily cap reached"),
    "open_cap": ("достигнут лимит открытых", "open items cap reached"),
    "weight_zero": ("вес 0", "weight 0"),
    "tried": ("уже получал этот лид", "already had this lead"),
}

STRATEGY_NAMES: dict[str, tuple[str, str]] = {
    "round_robin": ("по очереди", "round robin"),
    "weighted": ("по весам", "weighted round robin"),
    "least_loaded": ("наименьшая загрузка", "least loaded"),
    "random": ("случайно", "random"),
}

RULES: dict[str, tuple[str, str]] = {
    "next_after_pointer": ("следующий доступный по очереди", "next available after the pointer"),
    "highest_current_weight": ("наибольший текущий вес", "highest current weight"),
    "least_load": ("наименьшая загрузка", "least load"),
    "tie_longest_idle": ("при равной загрузке — дольше всех без лида", "tie: longest since last lead"),
    "tie_lowest_id": ("при равенстве — меньший ID", "tie: lowest id"),
    "random": ("случайный выбор", "random choice"),
    "nobody_available": ("нет доступных сотрудников", "nobody available"),
}


def reason_label(code: str, lang: str = "ru") -> str:
    ru, en = REASONS.get(code, (code, code))
    return ru if lang == "ru" else en


@dataclass(frozen=True)
class Skipped:
    """A pool member who was not considered, and why (``reason`` is a code of :data:`REASONS`)."""

    user_id: UserId
    reason: str
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True)
class Candidate:
    """A pool member who was considered, with the figures the strategy compared."""

    user_id: UserId
    load: int | None = None
    weight: int | str | None = None
    score: str | None = None  # load / weight as an exact fraction ("3/2")
    current_weight: int | None = None  # weighted RR: after this pick's increment, before the choice
    last_assigned: float | None = None  # unix seconds

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Explanation:
    """Why a user was chosen: JSON-friendly (:meth:`to_dict`) and readable (:meth:`text`)."""

    strategy: str
    chosen: UserId | None
    rule: str
    candidates: tuple[Candidate, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    state_before: Any = None
    state_after: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "chosen": self.chosen,
            "rule": self.rule,
            "candidates": [c.to_dict() for c in self.candidates],
            "skipped": [s.to_dict() for s in self.skipped],
            "state_before": self.state_before,
            "state_after": self.state_after,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Explanation:
        """The inverse of :meth:`to_dict` (explanations are stored as JSON)."""
        return cls(
            strategy=str(data.get("strategy", "")),
            chosen=data.get("chosen"),
            rule=str(data.get("rule", "")),
            candidates=tuple(Candidate(**{k: v for k, v in c.items()}) for c in data.get("candidates", [])),
            skipped=tuple(Skipped(int(s["user_id"]), str(s["reason"]), s.get("detail"))
                          for s in data.get("skipped", [])),
            state_before=data.get("state_before"),
            state_after=data.get("state_after"),
        )

    def text(self, lang: str = "ru", names: Mapping[UserId, str] | None = None) -> str:
        """One or two sentences for the timeline comment; ``names`` maps ids to people's names."""
        ru = lang == "ru"

        def who(uid: UserId) -> str:
            if names and uid in names:
                return names[uid]
            return f"#{uid}"

        strategy = STRATEGY_NAMES.get(self.strategy, (self.strategy, self.strategy))[0 if ru else 1]
        rule = RULES.get(self.rule, (self.rule, self.rule))[0 if ru else 1]
        parts: list[str] = []
        if self.chosen is None:
            parts.append(("Стратегия «{s}»: {r}." if ru else "Strategy '{s}': {r}.").format(s=strategy, r=rule))
        else:
            parts.append(
                ("Стратегия «{s}»: выбран {u} ({r})." if ru else "Strategy '{s}': chose {u} ({r}).").format(
                    s=strategy, u=who(self.chosen), r=rule
                )
            )
        figures = [_figure(c, who, ru) for c in self.candidates if _figure(c, who, ru)]
        if figures:
            parts.append(("Сравнивались: " if ru else "Compared: ") + "; ".join(figures) + ".")
        if self.skipped:
            items = [f"{who(s.user_id)} — {reason_label(s.reason, 'ru' if ru else 'en')}" for s in self.skipped]
            parts.append(("Пропущены: " if ru else "Skipped: ") + "; ".join(items) + ".")
        return " ".join(parts)


def _figure(c: Candidate, who: Any, ru: bool) -> str:
    bits: list[str] = []
    if c.load is not None:
        bits.append(f"{'загрузка' if ru else 'load'} {c.load}")
    if c.weight is not None:
        bits.append(f"{'вес' if ru else 'weight'} {c.weight}")
    if c.current_weight is not None:
        bits.append(f"{'текущий вес' if ru else 'current weight'} {c.current_weight}")
    return f"{who(c.user_id)}: {', '.join(bits)}" if bits else ""


class Pick(NamedTuple):
    """The result of a strategy: unpack as ``user, state, explanation = pick``."""

    user: UserId | None
    state: Any
    explanation: Explanation


def _check_pool(pool: Iterable[UserId]) -> list[UserId]:
    out = list(pool)
    if len(set(out)) != len(out):
        seen: set[UserId] = set()
        dup = next(u for u in out if u in seen or seen.add(u))  # type: ignore[func-returns-value]
        raise ValueError(f"user {dup} appears twice in the pool")
    return out


Reasons = Mapping[UserId, str | Skipped]


def _skip(uid: UserId, reasons: Reasons | None) -> Skipped:
    reason = (reasons or {}).get(uid, "unavailable")
    if isinstance(reason, Skipped):
        return reason
    return Skipped(uid, reason)


# --- strict round robin ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundRobinState:
    """The persisted pointer of a strict round robin: who got the last lead and at which pool position."""

    last_user: UserId | None = None
    last_index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"last_user": self.last_user, "last_index": self.last_index}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RoundRobinState:
        if not data:
            return cls()
        return cls(data.get("last_user"), data.get("last_index"))


def round_robin(
    pool: Sequence[UserId],
    state: RoundRobinState | UserId | None,
    available: Collection[UserId],
    reasons: Reasons | None = None,
) -> Pick:
    """Strict order: the next available user after the pointer. See the module docstring for pool changes.

    ``state`` may be a bare user id (the last assigned user) for callers that keep only that.
    """
    members = _check_pool(pool)
    if state is None:
        st = RoundRobinState()
    elif isinstance(state, RoundRobinState):
        st = state
    else:
        st = RoundRobinState(state, None)
    n = len(members)
    if st.last_user is not None and st.last_user in members:
        start = members.index(st.last_user) + 1
    elif st.last_index is not None and n:
        start = st.last_index  # the removed user's successor now sits at his old position
    else:
        start = 0
    skipped: list[Skipped] = []
    chosen: UserId | None = None
    chosen_index: int | None = None
    avail = set(available)
    for step in range(n):
        i = (start + step) % n
        uid = members[i]
        if uid in avail:
            chosen, chosen_index = uid, i
            break
        skipped.append(_skip(uid, reasons))
    new_state = RoundRobinState(chosen, chosen_index) if chosen is not None else st
    return Pick(
        chosen,
        new_state,
        Explanation(
            strategy="round_robin",
            chosen=chosen,
            rule="next_after_pointer" if chosen is not None else "nobody_available",
            candidates=(Candidate(chosen),) if chosen is not None else (),
            skipped=tuple(skipped),
            state_before=st.to_dict(),
            state_after=new_state.to_dict(),
        ),
    )


# --- smooth weighted round robin -------------------------------------------------------------------------


def weighted_round_robin(
    weights: Mapping[UserId, int],
    state: Mapping[UserId, int] | None,
    available: Collection[UserId],
    reasons: Reasons | None = None,
) -> Pick:
    """nginx's smooth weighted round robin; ``weights`` (ordered: the pool order breaks ties) are ints >= 0.

    ``state`` maps users to current weights (missing = 0); the returned state holds every pool member.
    """
    pool = _check_pool(weights)
    for uid in pool:
        w = weights[uid]
        if isinstance(w, bool) or not isinstance(w, int) or w < 0:
            raise ValueError(f"weight of user {uid} must be an int >= 0, got {w!r}")
    before = {uid: int((state or {}).get(uid, 0)) for uid in pool}
    current = dict(before)
    avail = set(available)
    total = 0
    best: UserId | None = None
    considered: list[UserId] = []
    skipped: list[Skipped] = []
    for uid in pool:
        if uid not in avail:
            skipped.append(_skip(uid, reasons))
            continue
        if weights[uid] == 0:
            skipped.append(Skipped(uid, "weight_zero"))
            continue
        current[uid] += weights[uid]
        total += weights[uid]
        considered.append(uid)
        if best is None or current[uid] > current[best]:
            best = uid
    candidates = tuple(Candidate(uid, weight=weights[uid], current_weight=current[uid]) for uid in considered)
    if best is None:
        return Pick(
            None,
            before,
            Explanation("weighted", None, "nobody_available", candidates, tuple(skipped), before, before),
        )
    current[best] -= total
    return Pick(
        best,
        current,
        Explanation("weighted", best, "highest_current_weight", candidates, tuple(skipped), before, dict(current)),
    )


# --- least loaded ---------------------------------------------------------------------------------------


def _stamp(value: dt.datetime | float | int | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("last assignment times must be aware datetimes or unix seconds")
        return value.timestamp()
    return float(value)


def _fraction(value: int | Decimal | Fraction | str) -> Fraction:
    if isinstance(value, bool):
        raise ValueError("a number is required")
    return Fraction(value) if not isinstance(value, Decimal) else Fraction(value)


def least_loaded(
    pool: Sequence[UserId],
    loads: Mapping[UserId, int],
    available: Collection[UserId],
    *,
    weights: Mapping[UserId, int | Decimal | Fraction | str] | None = None,
    last_assigned: Mapping[UserId, dt.datetime | float | int] | None = None,
    reasons: Reasons | None = None,
) -> Pick:
    """The available user with the smallest ``load / weight`` (missing load = 0, missing weight = 1).

    Ties: the longest since the last assignment wins (never assigned counts as longest), then the
    smallest id. Stateless (``state`` in the pick is ``None``): the caller updates the loads it keeps.
    """
    members = _check_pool(pool)
    avail = set(available)
    skipped: list[Skipped] = []
    rows: list[tuple[Fraction, float, UserId, Candidate]] = []
    for uid in members:
        if uid not in avail:
            skipped.append(_skip(uid, reasons))
            continue
        weight = _fraction(weights.get(uid, 1)) if weights is not None else Fraction(1)
        if weight < 0:
            raise ValueError(f"weight of user {uid} must be >= 0")
        if weight == 0:
            skipped.append(Skipped(uid, "weight_zero"))
            continue
        load = int(loads.get(uid, 0))
        score = Fraction(load) / weight
        stamp = _stamp((last_assigned or {}).get(uid))
        rows.append(
            (
                score,
                float("-inf") if stamp is None else stamp,
                uid,
                Candidate(
                    uid,
                    load=load,
                    weight=None if weights is None else str(weights.get(uid, 1)),
                    score=str(score),
                    last_assigned=stamp,
                ),
            )
        )
    if not rows:
        return Pick(None, None, Explanation("least_loaded", None, "nobody_available", (), tuple(skipped)))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    best = rows[0]
    tied = [r for r in rows if r[0] == best[0]]
    if len(tied) == 1:
        rule = "least_load"
    elif len([r for r in tied if r[1] == best[1]]) == 1:
        rule = "tie_longest_idle"
    else:
        rule = "tie_lowest_id"
    return Pick(
        best[2],
        None,
        Explanation("least_loaded", best[2], rule, tuple(r[3] for r in rows), tuple(skipped)),
    )


# --- random ---------------------------------------------------------------------------------------------


def random_pick(
    pool: Sequence[UserId],
    available: Collection[UserId],
    rng: random.Random,
    *,
    weights: Mapping[UserId, int] | None = None,
    reasons: Reasons | None = None,
) -> Pick:
    """A random available user (weighted when ``weights`` are given; weight 0 = never).

    The candidates are taken in pool order, so the same seed gives the same choice.
    """
    members = _check_pool(pool)
    avail = set(available)
    skipped: list[Skipped] = []
    cands: list[UserId] = []
    for uid in members:
        if uid not in avail:
            skipped.append(_skip(uid, reasons))
        elif weights is not None and weights.get(uid, 1) <= 0:
            skipped.append(Skipped(uid, "weight_zero"))
        else:
            cands.append(uid)
    if not cands:
        return Pick(None, None, Explanation("random", None, "nobody_available", (), tuple(skipped)))
    if weights is None:
        chosen = rng.choice(cands)
    else:
        chosen = rng.choices(cands, weights=[weights.get(u, 1) for u in cands], k=1)[0]
    candidates = tuple(Candidate(u, weight=None if weights is None else weights.get(u, 1)) for u in cands)
    return Pick(chosen, None, Explanation("random", chosen, "random", candidates, tuple(skipped)))


# --- caps -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapResult:
    """Users still under their caps, and why the others are not: pass ``allowed`` as the strategies'
    ``available`` and merge ``reasons`` into their ``reasons`` (values may be codes or :class:`Skipped`)."""

    allowed: tuple[UserId, ...]
    reasons: dict[UserId, Skipped] = field(default_factory=dict)

    @property
    def skipped(self) -> tuple[Skipped, ...]:
        return tuple(self.reasons.values())


def _cap_for(cap: int | Mapping[UserId, int | None] | None, uid: UserId) -> int | None:
    if cap is None or isinstance(cap, int):
        return cap
    return cap.get(uid)


def apply_caps(
    users: Iterable[UserId],
    *,
    assigned_today: Mapping[UserId, int],
    open_now: Mapping[UserId, int],
    daily_cap: int | Mapping[UserId, int | None] | None = None,
    open_cap: int | Mapping[UserId, int | None] | None = None,
) -> CapResult:
    """Remove users at their per-day cap or open-at-once cap.

    A cap is one number for everybody or a per-user mapping; ``None`` (or a user missing from the mapping)
    means no cap; ``0`` means no leads at all. A user is at his cap when his count is ``>= cap``; the
    daily cap is checked first. Counts missing from the mappings are 0.
    """
    allowed: list[UserId] = []
    reasons: dict[UserId, Skipped] = {}
    for uid in users:
        dcap = _cap_for(daily_cap, uid)
        ocap = _cap_for(open_cap, uid)
        today = int(assigned_today.get(uid, 0))
        opened = int(open_now.get(uid, 0))
        if dcap is not None and today >= dcap:
            reasons[uid] = Skipped(uid, "daily_cap", f"{today}/{dcap}")
        elif ocap is not None and opened >= ocap:
            reasons[uid] = Skipped(uid, "open_cap", f"{opened}/{ocap}")
        else:
            allowed.append(uid)
    return CapResult(tuple(allowed), reasons)
