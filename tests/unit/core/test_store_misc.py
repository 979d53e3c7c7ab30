from __future__ import annotations

import pytest
import time_machine

from b24app.store import counters, effects, leases, migrations, rate, settings_repo, sync_state


def test_migrations_are_recorded_and_idempotent(any_services) -> None:
    assert migrations.pending(any_services.db) == []
    assert migrations.upgrade(any_services.db) == []
    assert "core_0001_init" in migrations.applied(any_services.db)


def test_counter_increments_and_periods(any_services) -> None:
    db = any_services.db
    assert [counters.next_value(db, "m", "seq", "2026") for _ in range(3)] == [1, 2, 3]
    assert counters.next_value(db, "m", "seq", "2027") == 1
    assert counters.next_value(db, "m", "other", start=100, step=10) == 100
    assert counters.next_value(db, "m", "other", step=10) == 110
    counters.set_value(db, "m", "seq", 41, "2026")
    assert counters.next_value(db, "m", "seq", "2026") == 42


def test_effect_runs_once_and_asks_find_after_an_ambiguous_failure(any_services) -> None:
    db = any_services.db
    calls = []

    def create() -> int:
        calls.append("create")
        return 7

    assert effects.ensure(db, "m", "k", create) == 7
    assert effects.ensure(db, "m", "k", create) == 7
    assert calls == ["create"]

    def failing() -> int:
        calls.append("fail")
        raise RuntimeError("answer lost after the portal committed")

    with pytest.raises(RuntimeError):
        effects.ensure(db, "m", "k2", failing, find=lambda: None)
    # the retry finds what the first attempt created remotely and does not create again
    assert effects.ensure(db, "m", "k2", failing, find=lambda: 99) == 99
    assert calls == ["create", "fail"]
    assert effects.done_keys(db, "m", "k") == {"k": 7, "k2": 99}


def test_leases_exclude_and_expire(any_services) -> None:
    db = any_services.db
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        assert leases.try_acquire(db, "L", "a", 10)
        assert not leases.try_acquire(db, "L", "b", 10)
        assert leases.try_acquire(db, "L", "a", 10)  # the holder renews
        clock.shift(11)
        assert leases.try_acquire(db, "L", "b", 10)
        assert leases.holder_of(db, "L") == "b"


def test_rate_budget_paces_a_burst(any_services) -> None:
    db = any_services.db
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        waits = [rate.reserve(db, "m", drain=2.0, burst=50) for _ in range(60)]
        assert waits[:49] == [0.0] * 49  # the burst minus one request of headroom goes at once
        assert waits[49] == pytest.approx(0.5) and waits[59] == pytest.approx(5.5)
        clock.shift(100)
        assert rate.reserve(db, "m", drain=2.0, burst=50) == 0.0


def test_rate_budget_widens_headroom_for_an_hour_after_a_refusal(any_services) -> None:
    db = any_services.db
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        rate.saturate(db, "m", burst=50)  # the portal answered 503: someone else shares the bucket
        # full bucket (50) + this request, down to 50 - 20 % = 40: 11 requests to drain at 2/s
        assert rate.reserve(db, "m", drain=2.0, burst=50) == pytest.approx(5.5)
        clock.shift(600)  # drained, but the refusal is remembered: only 40 of the burst go at once
        waits = [rate.reserve(db, "m", drain=2.0, burst=50) for _ in range(41)]
        assert waits[:40] == [0.0] * 40 and waits[40] == pytest.approx(0.5)
        clock.shift(rate.REFUSED_FOR_S)  # an hour without refusals: the whole burst but one again
        waits = [rate.reserve(db, "m", drain=2.0, burst=50) for _ in range(50)]
        assert waits[:49] == [0.0] * 49 and waits[49] == pytest.approx(0.5)
        assert rate.reserve(db, "other", drain=2.0, burst=50) == 0.0  # per portal


def test_settings_versions_and_concurrent_edit(any_services) -> None:
    db = any_services.db
    assert settings_repo.load(db, "m") == (None, 0)
    assert settings_repo.save(db, "m", {"a": 1}) == 1
    assert settings_repo.save(db, "m", {"a": 2}, expected_version=1) == 2
    with pytest.raises(settings_repo.ConcurrentEdit):
        settings_repo.save(db, "m", {"a": 3}, expected_version=1)
    assert settings_repo.load(db, "m") == ({"a": 2}, 2)


def test_sync_state_roundtrip(any_services) -> None:
    sync_state.put(any_services.db, "m", "invoices:base1", "2026-11-01T00:00:00", {"version": 5})
    sync_state.put(any_services.db, "m", "invoices:base1", "2026-11-02T00:00:00", {"version": 6})
    assert sync_state.get(any_services.db, "m", "invoices:base1") == ("2026-11-02T00:00:00", {"version": 6})
