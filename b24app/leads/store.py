"""Repository of lead distribution: decisions, strategy state, snapshots, pauses, backlog runs,
deadline watches and our own index of phones and e-mails. SQL lives here only."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from b24app import clock
from b24app.store.db import Database, dumps, loads

DECIDED, APPLIED, QUEUED, FAILED = "decided", "applied", "queued", "failed"
ASSIGNING_KINDS = ("assign", "repeat_client", "duplicate", "qc", "fallback_pool", "head", "reroute")


def lock_key(member_id: str) -> int:
    """A stable 32-bit key for PostgreSQL's advisory lock of a portal's distribution."""
    return zlib.crc32(f"leads:{member_id}".encode()) & 0x7FFFFFFF


@dataclass
class Decision:
    """One distribution decision (a row of ``lead_decisions``)."""

    entity_type: str
    entity_id: int
    phase: str
    kind: str
    status: str = DECIDED
    user_id: int | None = None
    previous_user_id: int | None = None
    new_status: str | None = None
    rule: str | None = None
    strategy: str | None = None
    reason: str = ""
    explanation: dict[str, Any] = field(default_factory=dict)
    trigger: str = ""
    run_id: int | None = None
    day: str = ""
    attempts: int = 1
    error: str | None = None
    decided_at: float = 0.0
    applied_at: float | None = None
    id: int | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Decision:
        data = dict(row)
        data.pop("member_id", None)
        data["explanation"] = loads(data.get("explanation"), {}) or {}
        for k in ("user_id", "previous_user_id", "run_id", "entity_id"):
            if data.get(k) is not None:
                data[k] = int(data[k])
        return cls(**data)

    @property
    def assigns(self) -> bool:
        return self.kind in ASSIGNING_KINDS and self.user_id is not None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id, "lead_id": self.entity_id if self.entity_type == "lead" else None,
            "entity_type": self.entity_type, "entity_id": self.entity_id, "phase": self.phase, "kind": self.kind, "status": self.status, "user_id": self.user_id,
            "previous_user_id": self.previous_user_id, "new_status": self.new_status, "rule": self.rule,
            "strategy": self.strategy, "reason": self.reason, "trigger": self.trigger, "run_id": self.run_id,
            "decided_at": clock.iso(self.decided_at), "applied_at": clock.iso(self.applied_at),
            "error": self.error,
        }


_COLS = ("entity_type", "entity_id", "phase", "kind", "status", "user_id", "previous_user_id", "new_status", "rule",
         "strategy", "reason", "explanation", "trigger", "run_id", "day", "attempts", "error", "decided_at",
         "applied_at")


def _values(d: Decision) -> list[Any]:
    return [dumps(d.explanation) if c == "explanation" else getattr(d, c) for c in _COLS]


def get_decisions(db: Database, member_id: str, entity_type: str, ids: Sequence[int],
                  phase: str) -> dict[int, Decision]:
    out: dict[int, Decision] = {}
    ids = list(ids)
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        marks = ",".join("?" * len(part))
        rows = db.query(
            f"SELECT * FROM lead_decisions WHERE member_id = ? AND entity_type = ? AND phase = ? "
            f"AND entity_id IN ({marks})", (member_id, entity_type, phase, *part))
        for r in rows:
            d = Decision.from_row(r)
            out[d.entity_id] = d
    return out


def decisions_of(db: Database, member_id: str, entity_type: str, entity_id: int) -> list[Decision]:
    rows = db.query("SELECT * FROM lead_decisions WHERE member_id = ? AND entity_type = ? AND entity_id = ? "
                    "ORDER BY id", (member_id, entity_type, entity_id))
    return [Decision.from_row(r) for r in rows]


def decision(db: Database, member_id: str, decision_id: int) -> Decision | None:
    row = db.one("SELECT * FROM lead_decisions WHERE member_id = ? AND id = ?", (member_id, decision_id))
    return Decision.from_row(row) if row else None


def recent(db: Database, member_id: str, *, limit: int = 50, user_id: int | None = None,
           kind: str | None = None, run_id: int | None = None) -> list[Decision]:
    sql = "SELECT * FROM lead_decisions WHERE member_id = ?"
    params: list[Any] = [member_id]
    if user_id is not None:
        sql += " AND user_id = ?"
        params.append(user_id)
    if kind:
        sql += " AND kind = ?"
        params.append(kind)
    if run_id is not None:
        sql += " AND run_id = ?"
        params.append(run_id)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(limit)
    return [Decision.from_row(r) for r in db.query(sql, params)]


def save_decision(db: Database, member_id: str, d: Decision) -> Decision:
    """Insert a new decision, or replace a queued one (re-decided); inside the caller's transaction.
    Returns the stored row (an existing non-queued decision wins: idempotency)."""
    existing = db.one("SELECT * FROM lead_decisions WHERE member_id = ? AND entity_type = ? AND entity_id = ? "
                      "AND phase = ?", (member_id, d.entity_type, d.entity_id, d.phase))
    if existing is None:
        return insert_decision(db, member_id, d)
    old = Decision.from_row(existing)
    if old.status != QUEUED:
        return old
    d.id = old.id
    d.attempts = old.attempts + 1
    sets = ", ".join(f"{c} = ?" for c in _COLS)
    db.execute(f"UPDATE lead_decisions SET {sets} WHERE id = ?", (*_values(d), old.id))
    return d


def insert_decision(db: Database, member_id: str, d: Decision) -> Decision:
    """Insert a decision the caller knows is new (it looked inside the same transaction); ``d`` gets
    its id."""
    cols = ", ".join(("member_id", *_COLS))
    marks = ", ".join("?" * (len(_COLS) + 1))
    rows = db.query(f"INSERT INTO lead_decisions ({cols}) VALUES ({marks}) RETURNING id", (member_id, *_values(d)))
    d.id = int(rows[0]["id"])
    return d


def mark_applied(db: Database, member_id: str, ids: Iterable[int], at: float | None = None) -> None:
    now = at or clock.now()
    for i in ids:
        db.execute("UPDATE lead_decisions SET status = ?, applied_at = ?, error = NULL WHERE member_id = ? "
                   "AND id = ? AND status = ?", (APPLIED, now, member_id, i, DECIDED))


def mark_failed(db: Database, member_id: str, decision_id: int, error: str) -> None:
    db.execute("UPDATE lead_decisions SET status = ?, error = ? WHERE member_id = ? AND id = ?",
               (FAILED, error[:1000], member_id, decision_id))


def counts_since(db: Database, member_id: str, *, day: str, since: float) -> tuple[dict[int, int], dict[int, int],
                                                                                    dict[int, float]]:
    """Per user: leads assigned on ``day``; assignments the portal's load snapshot taken at ``since``
    cannot contain (decided but not applied, or applied after it); the time of the last assignment."""
    kinds = ",".join("?" * len(ASSIGNING_KINDS))
    daily = {int(r["user_id"]): int(r["n"]) for r in db.query(
        f"SELECT user_id, COUNT(*) AS n FROM lead_decisions WHERE member_id = ? AND day = ? AND user_id IS NOT NULL "
        f"AND kind IN ({kinds}) AND status != ? GROUP BY user_id", (member_id, day, *ASSIGNING_KINDS, FAILED))}
    extra = {int(r["user_id"]): int(r["n"]) for r in db.query(
        f"SELECT user_id, COUNT(*) AS n FROM lead_decisions WHERE member_id = ? AND user_id IS NOT NULL "
        f"AND kind IN ({kinds}) AND status IN (?, ?) AND (applied_at IS NULL OR applied_at >= ?) "
        f"AND decided_at >= ? GROUP BY user_id",
        (member_id, *ASSIGNING_KINDS, DECIDED, APPLIED, since, since - 86400))}
    last = {int(r["user_id"]): float(r["t"]) for r in db.query(
        f"SELECT user_id, MAX(decided_at) AS t FROM lead_decisions WHERE member_id = ? AND user_id IS NOT NULL "
        f"AND kind IN ({kinds}) GROUP BY user_id", (member_id, *ASSIGNING_KINDS))}
    return daily, extra, last


def queued(db: Database, member_id: str, limit: int = 500) -> list[Decision]:
    rows = db.query("SELECT * FROM lead_decisions WHERE member_id = ? AND status = ? ORDER BY id LIMIT ?",
                    (member_id, QUEUED, limit))
    return [Decision.from_row(r) for r in rows]


def unapplied(db: Database, member_id: str, *, older_than: float, limit: int = 500) -> list[Decision]:
    """Decisions taken but never written to the portal (the writer died): the reconciler applies them."""
    rows = db.query("SELECT * FROM lead_decisions WHERE member_id = ? AND status = ? AND decided_at < ? "
                    "ORDER BY id LIMIT ?", (member_id, DECIDED, older_than, limit))
    return [Decision.from_row(r) for r in rows]


def awaiting_release(db: Database, member_id: str, limit: int = 500) -> list[Decision]:
    """Leads in quality control (their intake decision sent them there) not yet released to sales."""
    rows = db.query(
        "SELECT d.* FROM lead_decisions d WHERE d.member_id = ? AND d.kind = 'qc' AND d.status = ? "
        "AND NOT EXISTS (SELECT 1 FROM lead_decisions r WHERE r.member_id = d.member_id "
        "AND r.entity_type = d.entity_type AND r.entity_id = d.entity_id AND r.phase = 'release') "
        "ORDER BY d.id LIMIT ?", (member_id, APPLIED, limit))
    return [Decision.from_row(r) for r in rows]


def close_qc(db: Database, member_id: str, decision_id: int, why: str) -> None:
    db.execute("UPDATE lead_decisions SET status = 'closed', error = ? WHERE member_id = ? AND id = ?",
               (why, member_id, decision_id))


# --- strategy state ----------------------------------------------------------------------------------


def load_states(db: Database, member_id: str, keys: Iterable[str]) -> dict[str, Any]:
    keys = list(set(keys))
    if not keys:
        return {}
    marks = ",".join("?" * len(keys))
    rows = db.query(f"SELECT key, state FROM lead_strategy_state WHERE member_id = ? AND key IN ({marks})",
                    (member_id, *keys))
    return {r["key"]: loads(r["state"], {}) for r in rows}


def save_state(db: Database, member_id: str, key: str, state: Any, picks: int = 1) -> None:
    db.execute(
        """INSERT INTO lead_strategy_state (member_id, key, state, picks, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (member_id, key) DO UPDATE SET state = excluded.state,
           picks = lead_strategy_state.picks + excluded.picks, updated_at = excluded.updated_at""",
        (member_id, key, dumps(state), picks, clock.now()),
    )


def all_states(db: Database, member_id: str) -> list[dict[str, Any]]:
    return [{**r, "state": loads(r["state"], {})} for r in db.query(
        "SELECT key, state, picks, updated_at FROM lead_strategy_state WHERE member_id = ? ORDER BY key",
        (member_id,))]


# --- snapshots ---------------------------------------------------------------------------------------


def get_snapshot(db: Database, member_id: str, kind: str) -> tuple[Any, float] | None:
    row = db.one("SELECT data, fetched_at FROM lead_snapshots WHERE member_id = ? AND kind = ?", (member_id, kind))
    if row is None:
        return None
    return loads(row["data"]), float(row["fetched_at"])


def put_snapshot(db: Database, member_id: str, kind: str, data: Any, fetched_at: float) -> None:
    db.execute(
        """INSERT INTO lead_snapshots (member_id, kind, data, fetched_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (member_id, kind) DO UPDATE SET data = excluded.data, fetched_at = excluded.fetched_at""",
        (member_id, kind, dumps(data), fetched_at),
    )


# --- pauses ------------------------------------------------------------------------------------------


def pause(db: Database, member_id: str, user_id: int, *, by: int | None = None, reason: str = "") -> None:
    db.execute(
        """INSERT INTO lead_pauses (member_id, user_id, paused_by, reason, paused_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (member_id, user_id) DO UPDATE SET paused_by = excluded.paused_by,
           reason = excluded.reason, paused_at = excluded.paused_at""",
        (member_id, user_id, by, reason, clock.now()),
    )


def resume(db: Database, member_id: str, user_id: int) -> bool:
    return db.execute("DELETE FROM lead_pauses WHERE member_id = ? AND user_id = ?", (member_id, user_id)) > 0


def paused(db: Database, member_id: str) -> dict[int, dict[str, Any]]:
    return {int(r["user_id"]): r for r in db.query(
        "SELECT user_id, paused_by, reason, paused_at FROM lead_pauses WHERE member_id = ? ORDER BY user_id",
        (member_id,))}


# --- backlog runs ------------------------------------------------------------------------------------


def filter_key(flt: dict[str, Any]) -> str:
    return hashlib.sha1(dumps(flt).encode()).hexdigest()[:16]


def open_run(db: Database, member_id: str, flt: dict[str, Any], *, restart: bool = False) -> dict[str, Any]:
    """The unfinished run with this filter (to resume), or a new one."""
    key = filter_key(flt)
    with db.transaction():
        row = db.one("SELECT * FROM lead_runs WHERE member_id = ? AND filter_key = ? AND status != 'done' "
                     "ORDER BY id DESC LIMIT 1", (member_id, key))
        if row is not None and restart:
            db.execute("UPDATE lead_runs SET status = 'done', error = 'restarted', finished_at = ? WHERE id = ?",
                       (clock.now(), row["id"]))
            row = None
        if row is None:
            now = clock.now()
            rows = db.query(
                "INSERT INTO lead_runs (member_id, filter_key, filter, status, last_id, counts, started_at, "
                "updated_at) VALUES (?, ?, ?, 'running', 0, '{}', ?, ?) RETURNING id",
                (member_id, key, dumps(flt), now, now))
            row = db.one("SELECT * FROM lead_runs WHERE id = ?", (rows[0]["id"],))
        else:
            db.execute("UPDATE lead_runs SET status = 'running', updated_at = ? WHERE id = ?", (clock.now(), row["id"]))
    assert row is not None
    return {**row, "filter": loads(row["filter"], {}), "counts": loads(row["counts"], {})}


def advance_run(db: Database, run_id: int, last_id: int, counts: dict[str, int], total: int | None = None) -> None:
    db.execute("UPDATE lead_runs SET last_id = ?, counts = ?, total = COALESCE(?, total), updated_at = ? "
               "WHERE id = ?", (last_id, dumps(counts), total, clock.now(), run_id))


def finish_run(db: Database, run_id: int, status: str, error: str | None = None) -> None:
    now = clock.now()
    db.execute("UPDATE lead_runs SET status = ?, error = ?, updated_at = ?, finished_at = ? WHERE id = ?",
               (status, error, now, now if status == "done" else None, run_id))


def runs(db: Database, member_id: str, limit: int = 20) -> list[dict[str, Any]]:
    rows = db.query("SELECT * FROM lead_runs WHERE member_id = ? ORDER BY id DESC LIMIT ?", (member_id, limit))
    return [{**r, "filter": loads(r["filter"], {}), "counts": loads(r["counts"], {})} for r in rows]


# --- deadline watches --------------------------------------------------------------------------------


def add_watch(db: Database, member_id: str, *, entity_type: str, entity_id: int, decision_id: int, user_id: int,
              status_at_assign: str, assigned_at: float, remind_at: float | None, reroute_at: float | None,
              reroutes: int = 0) -> None:
    next_at = min(t for t in (remind_at, reroute_at) if t is not None) if (remind_at or reroute_at) else assigned_at
    db.execute(
        """INSERT INTO lead_watches (member_id, entity_type, entity_id, decision_id, user_id, status_at_assign,
           assigned_at, remind_at, reroute_at, next_at, reminded, reroutes, state, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 'open', ?)
           ON CONFLICT (member_id, decision_id) DO NOTHING""",
        (member_id, entity_type, entity_id, decision_id, user_id, status_at_assign, assigned_at, remind_at,
         reroute_at, next_at, reroutes, clock.now()),
    )


def due_watches(db: Database, member_id: str, now: float, limit: int = 200) -> list[dict[str, Any]]:
    return db.query("SELECT * FROM lead_watches WHERE member_id = ? AND state = 'open' AND next_at <= ? "
                    "ORDER BY next_at LIMIT ?", (member_id, now, limit))


def any_due(db: Database, member_id: str, now: float) -> bool:
    return db.one("SELECT 1 AS x FROM lead_watches WHERE member_id = ? AND state = 'open' AND next_at <= ? LIMIT 1",
                  (member_id, now)) is not None


def update_watch(db: Database, watch_id: int, **fields: Any) -> None:
    sets = ", ".join(f"{k} = ?" for k in fields)
    db.execute(f"UPDATE lead_watches SET {sets}, updated_at = ? WHERE id = ?", (*fields.values(), clock.now(),
                                                                               watch_id))


def watches_of(db: Database, member_id: str, entity_type: str, entity_id: int) -> list[dict[str, Any]]:
    return db.query("SELECT * FROM lead_watches WHERE member_id = ? AND entity_type = ? AND entity_id = ? "
                    "ORDER BY id", (member_id, entity_type, entity_id))


# --- our own phone/e-mail index ----------------------------------------------------------------------


def remember_comms(db: Database, member_id: str, entity_type: str, entity_id: int, values: Iterable[str],
                   owner_id: int | None) -> None:
    now = clock.now()
    for v in set(values):
        db.execute(
            """INSERT INTO lead_comms (member_id, value, entity_type, entity_id, owner_id, updated_at)
               VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (member_id, value, entity_type, entity_id)
               DO UPDATE SET owner_id = excluded.owner_id, updated_at = excluded.updated_at""",
            (member_id, v, entity_type, entity_id, owner_id, now),
        )


def find_comms(db: Database, member_id: str, values: Sequence[str]) -> list[dict[str, Any]]:
    values = list(set(values))
    if not values:
        return []
    marks = ",".join("?" * len(values))
    return db.query(f"SELECT * FROM lead_comms WHERE member_id = ? AND value IN ({marks}) ORDER BY updated_at DESC",
                    (member_id, *values))
