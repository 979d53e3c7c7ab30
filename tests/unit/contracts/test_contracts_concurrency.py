"""The proof of gapless, unique, idempotent numbering with real processes (not threads).

- 8 processes x 200 allocations for different deals -> the register holds 1..1600, no gap, no duplicate,
  and the counter says 1600;
- two processes asking for the same deal and type at the same moment, 25 times -> each time one number
  (both get it), and the counter moved once per deal.

Both on SQLite (``BEGIN IMMEDIATE``) and PostgreSQL (``UPDATE ... RETURNING`` under READ COMMITTED with an
advisory lock per deal and type).
"""

from __future__ import annotations

import multiprocessing as mp
from typing import Any

import pytest

from b24app.contracts import register
from b24app.store.db import open_database

M = "member-race"
PROCESSES, PER_PROCESS = 8, 200
SAME_DEAL_ROUNDS = 25


def _reserve(db: Any, deal: int) -> str:
    row, _ = register.reserve(
        db,
        M,
        deal_id=deal,
        type_code="prepayment",
        sequence="prepayment",
        legal_entity="MP",
        counter_le="MP",
        period="2026",
        make_number=lambda seq: f"Д-26/{seq:04d}-МП",
        contract_date="2026-03-05",
    )
    return str(row["number"])


def _allocate(url: str, worker: int, start: Any, out: Any) -> None:
    db = open_database(url=url)
    start.wait(60)
    numbers = [_reserve(db, worker * 10_000 + k) for k in range(PER_PROCESS)]
    db.close()
    out.put((worker, numbers))


def _same_deal(url: str, barrier: Any, out: Any) -> None:
    db = open_database(url=url)
    got = []
    for rnd in range(SAME_DEAL_ROUNDS):
        barrier.wait(60)
        got.append(_reserve(db, 500_000 + rnd))
    db.close()
    out.put(got)


def _store_url(engine: str, services: Any, request: pytest.FixtureRequest) -> str:
    if engine == "postgres":
        return services.db.url
    return f"sqlite:///{services.db.path}"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, config: Any) -> Any:
    from b24app.context import Services

    if request.param == "postgres":
        config.database_url = request.getfixturevalue("pg_url")
    svc = Services.open(config)  # migrations applied once, by the parent
    yield request.param, svc
    svc.db.close()


def test_8_processes_x_200_allocations_are_1_to_1600_without_gaps(store: Any, request: Any) -> None:
    engine, svc = store
    url = _store_url(engine, svc, request)
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_allocate, args=(url, w, start, out)) for w in range(PROCESSES)]
    for p in procs:
        p.start()
    start.set()
    results = dict(out.get(timeout=240) for _ in procs)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    issued = [n for numbers in results.values() for n in numbers]
    assert len(issued) == PROCESSES * PER_PROCESS
    assert sorted(issued) == [f"Д-26/{i:04d}-МП" for i in range(1, PROCESSES * PER_PROCESS + 1)]
    for numbers in results.values():  # each process saw its own numbers grow
        assert numbers == sorted(numbers)
    rows = svc.db.query("SELECT seq FROM contracts_register WHERE member_id = ? ORDER BY seq", (M,))
    assert [r["seq"] for r in rows] == list(range(1, PROCESSES * PER_PROCESS + 1))
    assert register.counter_value(svc.db, M, "prepayment", "MP", "2026") == PROCESSES * PER_PROCESS


def test_the_same_deal_from_two_processes_at_once_gets_one_number(store: Any, request: Any) -> None:
    engine, svc = store
    url = _store_url(engine, svc, request)
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_same_deal, args=(url, barrier, out)) for _ in range(2)]
    for p in procs:
        p.start()
    a, b = out.get(timeout=120), out.get(timeout=120)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert a == b  # both processes got the same number for each deal
    assert a == [f"Д-26/{i:04d}-МП" for i in range(1, SAME_DEAL_ROUNDS + 1)]
    assert (
        svc.db.scalar("SELECT COUNT(*) FROM contracts_register WHERE member_id = ?", (M,)) == SAME_DEAL_ROUNDS
    )
    assert register.counter_value(svc.db, M, "prepayment", "MP", "2026") == SAME_DEAL_ROUNDS
