"""Deciders racing on one store (threads, and processes) never exceed a cap, never break the strict
round-robin order and never decide a lead twice — on SQLite (BEGIN IMMEDIATE) and PostgreSQL (an
advisory lock per portal)."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter

from b24app.leads import engine, store
from b24app.store.db import open_database
from tests.unit.leads.conftest import PETROV, ZUEVA, demo_settings, make_world

CAP = 12


def settings() -> dict:
    return demo_settings(caps={"daily": CAP, "open": None, "users": {}}, fallback=[{"queue": True}])


def lead(i: int) -> dict:
    return {"ID": str(i), "TITLE": f"Звонок {i}", "SOURCE_ID": "CALL", "STATUS_ID": "NEW", "ASSIGNED_BY_ID": "1"}


def check(db, member_id: str, n: int) -> None:
    rows = store.recent(db, member_id, limit=10_000)
    assert len(rows) == n and len({d.entity_id for d in rows}) == n
    assigned = sorted((d for d in rows if d.kind == "assign"), key=lambda d: d.id)
    assert Counter(d.user_id for d in assigned) == {PETROV: CAP, ZUEVA: CAP}
    order = [d.user_id for d in assigned]
    assert all(a != b for a, b in zip(order, order[1:], strict=False)), order
    assert Counter(d.kind for d in rows)["queued"] == n - 2 * CAP


def test_threads_race(any_services) -> None:
    db = any_services.db
    world = make_world(settings())
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            barrier.wait()
            for i in range(10):
                # every lead twice: the second attempt must find the first decision
                engine.decide_and_save(db, world, [lead(t * 100 + i)])
                engine.decide_and_save(db, world, [lead(t * 100 + i)])
        except BaseException as exc:
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors
    check(db, "m1", 60)


def _child(url: str, start: int, go: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    db = open_database(url=url)
    world = make_world(settings())
    go.wait(10)
    for i in range(start, start + 10):
        engine.decide_and_save(db, world, [lead(i)])
    db.close()


def test_processes_race(any_services) -> None:
    db = any_services.db
    ctx = multiprocessing.get_context("fork")
    go = ctx.Event()
    procs = [ctx.Process(target=_child, args=(db.url, p * 100, go)) for p in range(4)]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    check(db, "m1", 40)
