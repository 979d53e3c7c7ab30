"""Distribution strategies: examples, explanations, and property tests of fairness and availability."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b24app.leads.strategies import (
    RoundRobinState,
    Skipped,
    apply_caps,
    least_loaded,
    random_pick,
    round_robin,
    weighted_round_robin,
)

# --- strict round robin ---------------------------------------------------------------------------------


def test_round_robin_cycles_in_order():
    pool = [10, 20, 30]
    state = None
    got = []
    for _ in range(7):
        user, state, _e = round_robin(pool, state, {10, 20, 30})
        got.append(user)
    assert got == [10, 20, 30, 10, 20, 30, 10]
    assert state == RoundRobinState(10, 0)


def test_round_robin_skips_unavailable_with_reasons():
    pick = round_robin([10, 20, 30], RoundRobinState(10, 0), {10, 30}, {20: "absent"})
    assert pick.user == 30
    assert pick.state == RoundRobinState(30, 2)
    assert pick.explanation.skipped == (Skipped(20, "absent"),)
    assert pick.explanation.rule == "next_after_pointer"
    text = pick.explanation.text(names={30: "Зуева", 20: "Петров"})
    assert "Зуева" in text and "Петров — отсутствует" in text
    assert "Petrov" not in pick.explanation.text("en")


def test_round_robin_bare_pointer_and_wrap():
    assert round_robin([10, 20, 30], 30, {10, 20, 30}).user == 10
    assert round_robin([10, 20, 30], 20, {20}).user == 20  # only the pointer user is available


def test_round_robin_pool_changes():
    # the last assigned user was removed: continue with his successor (now at his old position)
    assert round_robin([10, 30, 40], RoundRobinState(20, 1), {10, 30, 40}).user == 30
    # removed from the end: wrap around
    assert round_robin([10, 20], RoundRobinState(30, 2), {10, 20}).user == 10
    # a user added after the pointer is reached in this cycle
    assert round_robin([10, 15, 20, 30], RoundRobinState(10, 0), {10, 15, 20, 30}).user == 15
    # reordered pool: continue after the pointer user's new place
    assert round_robin([30, 10, 20], RoundRobinState(10, 0), {10, 20, 30}).user == 20
    # state round trip
    assert RoundRobinState.from_dict(RoundRobinState(5, 2).to_dict()) == RoundRobinState(5, 2)
    assert RoundRobinState.from_dict(None) == RoundRobinState()


def test_round_robin_nobody_available_keeps_the_state():
    state = RoundRobinState(20, 1)
    pick = round_robin([10, 20, 30], state, set(), {10: "off_schedule"})
    assert pick.user is None and pick.state == state
    assert pick.explanation.rule == "nobody_available"
    assert [s.reason for s in pick.explanation.skipped] == ["unavailable", "off_schedule", "unavailable"]
    assert round_robin([], None, {1}).user is None


def test_duplicate_pool_members_are_rejected():
    with pytest.raises(ValueError, match="twice"):
        round_robin([1, 2, 1], None, {1, 2})


# --- smooth weighted round robin -------------------------------------------------------------------------


def test_weighted_sequence_matches_nginx():
    # nginx's documented example: weights a=5, b=1, c=1 -> a a b a c a a
    state = None
    seq = []
    for _ in range(7):
        user, state, _e = weighted_round_robin({"a": 5, "b": 1, "c": 1}, state, {"a", "b", "c"})
        seq.append(user)
    assert seq == ["a", "a", "b", "a", "c", "a", "a"]
    assert state == {"a": 0, "b": 0, "c": 0}


def test_weighted_demo_petrov_zueva_2_to_1():
    state = None
    seq = []
    for _ in range(300):
        user, state, _e = weighted_round_robin({5: 2, 7: 1}, state, {5, 7})
        seq.append(user)
    assert Counter(seq) == {5: 200, 7: 100}


def test_weighted_zero_unavailable_and_new_users():
    pick = weighted_round_robin({1: 2, 2: 0, 3: 1}, {1: -1, 3: 1, 99: 5}, {1, 2}, {3: "paused"})
    assert pick.user == 1
    assert pick.state == {1: -1, 2: 0, 3: 1}  # 1: -1 + 2 - 2; 3 frozen; 99 (removed) dropped
    assert [(s.user_id, s.reason) for s in pick.explanation.skipped] == [(2, "weight_zero"), (3, "paused")]
    assert [(c.user_id, c.current_weight) for c in pick.explanation.candidates] == [(1, 1)]
    assert pick.explanation.state_before == {1: -1, 2: 0, 3: 1}
    # a new user starts from 0
    assert weighted_round_robin({1: 1, 4: 1}, {1: 0}, {1, 4}).explanation.state_before == {1: 0, 4: 0}
    nobody = weighted_round_robin({1: 0}, {1: 3}, {1})
    assert nobody.user is None and nobody.state == {1: 3}
    with pytest.raises(ValueError):
        weighted_round_robin({1: -1}, None, {1})
    with pytest.raises(ValueError):
        weighted_round_robin({1: 1.5}, None, {1})  # type: ignore[dict-item]


# --- least loaded ---------------------------------------------------------------------------------------


def test_least_loaded_basic_and_weights():
    assert least_loaded([1, 2, 3], {1: 5, 2: 3, 3: 4}, {1, 2, 3}).user == 2
    # load per weight: 6/3 = 2 beats 3/1 = 3
    pick = least_loaded([1, 2], {1: 6, 2: 3}, {1, 2}, weights={1: 3, 2: 1})
    assert pick.user == 1 and pick.explanation.rule == "least_load"
    assert [c.score for c in pick.explanation.candidates] == ["2", "3"]
    # Decimal weights compare exactly
    exact = least_loaded([2, 1], {1: 3, 2: 2}, {1, 2}, weights={1: Decimal("1.5"), 2: Decimal("1")})
    assert exact.user == 1 and exact.explanation.rule == "tie_lowest_id"  # 3/1.5 == 2/1, both never assigned
    lighter = least_loaded([1, 2], {1: 3, 2: 2}, {1, 2}, weights={1: Decimal("1.6"), 2: Decimal("1")})
    assert lighter.user == 1 and lighter.explanation.rule == "least_load"  # 3/1.6 < 2
    # missing load counts as 0
    assert least_loaded([1, 2], {1: 1}, {1, 2}).user == 2


def test_least_loaded_ties():
    t = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
    pick = least_loaded([1, 2, 3], {1: 2, 2: 2, 3: 2}, {1, 2, 3},
                        last_assigned={1: t, 2: t - dt.timedelta(hours=1), 3: t})
    assert pick.user == 2 and pick.explanation.rule == "tie_longest_idle"
    never = least_loaded([1, 2], {1: 0, 2: 0}, {1, 2}, last_assigned={1: 100.0})
    assert never.user == 2  # never assigned waited longest
    ids = least_loaded([3, 1, 2], {1: 0, 2: 0, 3: 0}, {1, 2, 3}, last_assigned={1: 5, 2: 5, 3: 5})
    assert ids.user == 1 and ids.explanation.rule == "tie_lowest_id"
    with pytest.raises(ValueError):
        least_loaded([1], {}, {1}, last_assigned={1: dt.datetime(2026, 1, 1)})


def test_least_loaded_skips():
    pick = least_loaded([1, 2, 3], {1: 0, 2: 9, 3: 1}, {2, 3}, weights={1: 1, 2: 1, 3: 0}, reasons={1: "inactive"})
    assert pick.user == 2
    assert [(s.user_id, s.reason) for s in pick.explanation.skipped] == [(1, "inactive"), (3, "weight_zero")]
    none = least_loaded([1], {1: 0}, set())
    assert none.user is None and none.explanation.rule == "nobody_available"
    assert "load 9" in pick.explanation.text("en")


# --- random ---------------------------------------------------------------------------------------------


def test_random_is_reproducible_and_respects_weights():
    rng_a, rng_b = random.Random(42), random.Random(42)
    a = [random_pick([1, 2, 3], {1, 2, 3}, rng_a).user for _ in range(20)]
    b = [random_pick([1, 2, 3], {1, 2, 3}, rng_b).user for _ in range(20)]
    assert a == b and set(a) == {1, 2, 3}
    rng = random.Random(1)
    counts = Counter(random_pick([1, 2, 3], {1, 2}, rng, weights={1: 3, 2: 1, 3: 5}).user for _ in range(4000))
    assert set(counts) == {1, 2}
    assert 2700 < counts[1] < 3300
    zero = random_pick([1, 2], {1, 2}, random.Random(0), weights={1: 0, 2: 1})
    assert zero.user == 2 and zero.explanation.skipped == (Skipped(1, "weight_zero"),)
    assert random_pick([1], set(), random.Random(0)).user is None


# --- caps -----------------------------------------------------------------------------------------------


def test_caps_filter():
    res = apply_caps(
        [1, 2, 3, 4, 5],
        assigned_today={1: 10, 2: 3, 4: 0},
        open_now={2: 7, 3: 2},
        daily_cap={1: 10, 2: 20, 4: 0},
        open_cap=7,
    )
    assert res.allowed == (3, 5)
    assert {u: s.reason for u, s in res.reasons.items()} == {1: "daily_cap", 2: "open_cap", 4: "daily_cap"}
    assert res.reasons[1].detail == "10/10"
    # the reasons flow into a strategy's explanation
    pick = round_robin([1, 2, 3, 4, 5], None, res.allowed, res.reasons)
    assert pick.user == 3
    assert [s.reason for s in pick.explanation.skipped] == ["daily_cap", "open_cap"]
    assert "достигнут дневной лимит" in pick.explanation.text()
    assert apply_caps([1], assigned_today={}, open_now={}).allowed == (1,)


def test_explanations_are_json():
    picks = [
        round_robin([1, 2], None, {2}),
        weighted_round_robin({1: 2, 2: 1}, None, {1, 2}),
        least_loaded([1, 2], {1: 1, 2: 2}, {1, 2}, weights={1: 1, 2: 2}),
        random_pick([1, 2], {1, 2}, random.Random(3)),
    ]
    for p in picks:
        data = json.loads(json.dumps(p.explanation.to_dict()))
        assert data["chosen"] == p.user
        assert p.explanation.text() and p.explanation.text("en")


# --- properties -------------------------------------------------------------------------------------

SETTINGS = settings(max_examples=200, deadline=None)
weights_st = st.dictionaries(st.integers(1, 30), st.integers(0, 6), min_size=1, max_size=7)


@SETTINGS
@given(weights_st, st.integers(1, 4))
def test_weighted_exact_shares_when_all_available(weights, k):
    total = sum(weights.values())
    state = None
    counts: Counter = Counter()
    for _ in range(k * total):
        user, state, _e = weighted_round_robin(weights, state, set(weights))
        counts[user] += 1
    for uid, w in weights.items():
        assert counts[uid] == k * w


@SETTINGS
@given(weights_st, st.data())
def test_weighted_shares_stay_proportional_under_random_unavailability(weights, data):
    """With availability changing at random, each user's picks, each counted with the total weight that
    was available at that moment, equal his weight times the rounds he was available, within the sum of
    all weights: exactly the current-weight bookkeeping, which stays bounded. Within a stretch of steady
    availability his share of picks is therefore proportional to his weight among those available."""
    total_all = sum(weights.values())
    users = list(weights)
    state = None
    weighted_picks = Counter()
    rounds_available = Counter()
    rounds = data.draw(st.integers(1, 150))
    for _ in range(rounds):
        avail = set(data.draw(st.lists(st.sampled_from(users), unique=True)))
        available_weight = sum(weights[u] for u in avail)
        user, state, _e = weighted_round_robin(weights, state, avail)
        if available_weight == 0:
            assert user is None
            continue
        assert user in avail and weights[user] > 0
        weighted_picks[user] += available_weight
        for u in avail:
            rounds_available[u] += 1
    for u in users:
        deviation = weights[u] * rounds_available[u] - weighted_picks[u]
        assert abs(deviation) <= 2 * total_all
    # steady stretch afterwards: shares within the stretch follow the weights of those available
    steady = set(data.draw(st.lists(st.sampled_from(users), unique=True, min_size=1)))
    steady_weight = sum(weights[u] for u in steady)
    if steady_weight:
        k = 5
        counts: Counter = Counter()
        for _ in range(k * steady_weight):
            user, state, _e = weighted_round_robin(weights, state, steady)
            counts[user] += 1
        for u in steady:
            assert abs(counts[u] - k * weights[u]) <= 4 * total_all / steady_weight + 1


@SETTINGS
@given(st.lists(st.integers(1, 50), unique=True, min_size=1, max_size=8), st.data())
def test_round_robin_visits_every_available_user_once_per_cycle(pool, data):
    avail = set(data.draw(st.lists(st.sampled_from(pool), unique=True, min_size=1)))
    start = data.draw(st.sampled_from([None, *pool]))
    state = None if start is None else RoundRobinState(start, pool.index(start))
    for _cycle in range(3):
        seen = []
        for _ in range(len(avail)):
            user, state, _e = round_robin(pool, state, avail)
            seen.append(user)
        assert sorted(seen) == sorted(avail)


@SETTINGS
@given(st.lists(st.integers(1, 50), unique=True, min_size=1, max_size=8), st.data())
def test_no_strategy_ever_picks_an_unavailable_user(pool, data):
    rng = random.Random(data.draw(st.integers(0, 10**6)))
    weights = {u: data.draw(st.integers(0, 5)) for u in pool}
    loads = {u: data.draw(st.integers(0, 20)) for u in pool}
    rr_state = None
    wrr_state = None
    for _ in range(data.draw(st.integers(1, 30))):
        avail = set(data.draw(st.lists(st.sampled_from(pool), unique=True)))
        picks = {
            "rr": round_robin(pool, rr_state, avail),
            "wrr": weighted_round_robin(weights, wrr_state, avail),
            "ll": least_loaded(pool, loads, avail, weights=weights),
            "rnd": random_pick(pool, avail, rng, weights=weights),
            "rnd_uniform": random_pick(pool, avail, rng),
        }
        rr_state = picks["rr"].state
        wrr_state = picks["wrr"].state
        for name, pick in picks.items():
            if pick.user is not None:
                assert pick.user in avail, name
                skipped = {s.user_id for s in pick.explanation.skipped}
                assert pick.user not in skipped
            else:
                weighted = name in {"wrr", "ll", "rnd"}
                assert not avail or (weighted and all(weights[u] == 0 for u in avail)), name
        if picks["ll"].user is not None:
            loads[picks["ll"].user] += 1
