"""One REST rate budget per portal, shared by every process that talks to it.

The portal's limiter is a leaky bucket (drain ``d`` requests/s, burst ``b``). Each request
reserves its place in a shared virtual bucket kept in the store (GCRA-like): the level grows by
one per request and drains at ``d``/s; a request whose reservation lands above ``b`` waits until
the bucket has drained to that point. Reservations are ordered, so concurrent workers never
stampede, and the sum of all workers' requests stays under the portal's limit.
"""

from __future__ import annotations

from b24app import clock
from b24app.store.db import Database

SAFETY = 2.0  # keep this many requests of headroom below the portal's burst


def reserve(db: Database, member_id: str, drain: float, burst: float, cost: float = 1.0) -> float:
    """Reserve ``cost`` requests; returns how many seconds to wait before sending."""
    now = clock.now()
    rows = db.query(
        """INSERT INTO rate_budget (member_id, level, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (member_id) DO UPDATE SET
             level = CASE WHEN rate_budget.level - (excluded.updated_at - rate_budget.updated_at) * ? > 0
                          THEN rate_budget.level - (excluded.updated_at - rate_budget.updated_at) * ?
                          ELSE 0 END + ?,
             updated_at = CASE WHEN excluded.updated_at > rate_budget.updated_at
                               THEN excluded.updated_at ELSE rate_budget.updated_at END
           RETURNING level""",
        (member_id, cost, now, drain, drain, cost),
    )
    level = float(rows[0]["level"])
    limit = max(1.0, burst - SAFETY)
    return max(0.0, (level - limit) / drain)


def saturate(db: Database, member_id: str, burst: float) -> None:
    """The portal said the bucket is full (503): make every process wait as if it were."""
    now = clock.now()
    db.execute(
        """INSERT INTO rate_budget (member_id, level, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (member_id) DO UPDATE SET
           level = CASE WHEN rate_budget.level > excluded.level THEN rate_budget.level
                        ELSE excluded.level END,
           updated_at = excluded.updated_at""",
        (member_id, burst, now),
    )
