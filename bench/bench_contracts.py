"""Contracts: contract numbers taken per second by 8 concurrent processes, and the register checked
gapless and unique afterwards — on SQLite and on PostgreSQL.

Each process opens its own store and takes numbers for deals of its own through the same call the
robot, the CLI and the deal tab use (``b24app.contracts.register.reserve``: one write transaction
that finds the deal's contract or increments the counter and inserts the register row), rendering
the МеталПром demo format ``Д-{YY}/{SEQ:4}-{COMPANY}`` (``contracts.service.plan_number``). The
document itself (portal reads, DOCX, Disk upload) is not part of the figure: it is bounded by the
portal's REST budget, not by numbering.

Reported per engine: numbers/s of one process and of 8 processes taking the same count of numbers
(measured side by side on the same store, in this run), their ratio (below 1: the counter row is one
serialization point, so more processes only wait on each other; the figure says what that costs), and ``gapless``: the register holds exactly the values 1..N of the
sequence, every number once, and the counter says N.

``python -m bench --only contracts [--quick]`` or ``python -m bench.bench_contracts [--quick]``.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

PG_ADMIN_URL = "postgresql://root@127.0.0.1:5432/test"
MEMBER = "bench-contracts"
TYPE = {"code": "prepayment", "format": "Д-{YY}/{SEQ:4}-{COMPANY}", "start": 1, "step": 1, "per_legal_entity": True,
        "reset": "yearly", "prefix": ""}
LEGAL_ENTITY = {"code": "MP", "number_code": "МП"}
TZ = "Europe/Moscow"


def _take(url: str, first_deal: int, count: int, start: Any, out: Any) -> None:
    """A child process: wait for the start signal, take ``count`` numbers for deals of its own."""
    from b24app.contracts import register
    from b24app.contracts.service import plan_number
    from b24app.store.db import open_database

    db = open_database(url=url)
    now = dt.datetime.now(dt.UTC)
    start.wait(120)
    began = time.time()
    numbers = []
    for k in range(count):
        deal = first_deal + k
        plan = plan_number(TYPE, LEGAL_ENTITY, TZ, now, deal)
        row, _ = register.reserve(db, MEMBER, deal_id=deal, type_code="prepayment", sequence="prepayment",
                                  legal_entity="MP", counter_le=plan.counter_le, period=plan.period,
                                  make_number=plan.make_number, contract_date=plan.contract_date)
        numbers.append(str(row["number"]))
    db.close()
    out.put({"first_deal": first_deal, "numbers": numbers, "began": began, "ended": time.time()})


def _round(url: str, processes: int, per_process: int, deal_base: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_take, args=(url, deal_base + w * 100_000, per_process, start, out))
             for w in range(processes)]
    for p in procs:
        p.start()
    time.sleep(0.5 + 0.3 * processes)  # let every child import and open its store before the start
    start.set()
    results = [out.get(timeout=900) for _ in procs]
    for p in procs:
        p.join(60)
        if p.exitcode != 0:
            raise RuntimeError(f"a numbering process exited with {p.exitcode}")
    began = min(r["began"] for r in results)
    ended = max(r["ended"] for r in results)
    total = processes * per_process
    return {"processes": processes, "numbers": total, "seconds": round(ended - began, 3),
            "numbers_per_s": round(total / max(ended - began, 1e-9), 1),
            "issued": [n for r in results for n in r["numbers"]]}


def _check(db: Any, issued: list[str]) -> dict[str, Any]:
    from b24app.contracts import register

    rows = db.query("SELECT seq, number FROM contracts_register WHERE member_id = ? ORDER BY seq", (MEMBER,))
    seqs = [int(r["seq"]) for r in rows]
    numbers = [str(r["number"]) for r in rows]
    period = rows[0]["number"][2:4] if rows else ""
    counter = register.counter_value(db, MEMBER, "prepayment", "MP", "20" + period) if rows else None
    return {"rows": len(rows), "unique": len(set(numbers)) == len(numbers) == len(issued),
            "gapless": seqs == list(range(1, len(seqs) + 1)) and counter == len(seqs),
            "issued_match_register": sorted(issued) == sorted(numbers), "counter": counter}


def measure(engine: str, per_process: int) -> dict[str, Any]:
    from b24app.config import Config
    from b24app.context import Services

    root = Path(tempfile.mkdtemp(prefix="bench-contracts-"))
    config = Config.from_env({}, instance_path=str(root / "instance"), secret_key="bench")
    schema = None
    if engine == "postgres":
        import psycopg

        schema = "bench_" + uuid.uuid4().hex[:10]
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        config.database_url = f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    svc = Services.open(config)  # migrations once, by the parent
    url = svc.db.url if engine == "postgres" else f"sqlite:///{svc.db.path}"
    try:
        one = _round(url, 1, 8 * per_process, 1)  # the same number of numbers, one process
        svc.db.execute("DELETE FROM contracts_register WHERE member_id = ?", (MEMBER,))
        svc.db.execute("DELETE FROM contracts_counters WHERE member_id = ?", (MEMBER,))
        eight = _round(url, 8, per_process, 10_000_000)
        check = _check(svc.db, eight.pop("issued"))
        one.pop("issued")
        return {"engine": engine, "one_process": one, "eight_processes": eight,
                "numbers_per_s_8": eight["numbers_per_s"],
                "ratio_8_to_1": round(eight["numbers_per_s"] / max(one["numbers_per_s"], 1e-9), 2), **check}
    finally:
        svc.db.close()
        if schema:
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except Exception:  # no local PostgreSQL: the SQLite figure alone
        return False


def run(quick: bool = False) -> dict[str, Any]:
    per_process = 100 if quick else 1000
    out: dict[str, Any] = {"per_process": per_process, "sqlite": measure("sqlite", per_process)}
    if _pg_available():
        out["postgres"] = measure("postgres", per_process)
    else:
        out["postgres"] = {"error": f"no PostgreSQL at {PG_ADMIN_URL}"}
    out["numbers_per_s_8"] = out["sqlite"]["numbers_per_s_8"]
    out["gapless"] = all(out[e].get("gapless") and out[e].get("unique") for e in ("sqlite", "postgres")
                         if "error" not in out[e])
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2, ensure_ascii=False))
