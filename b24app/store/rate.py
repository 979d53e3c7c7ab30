"""One REST rate budget per portal, shared by every process that talks to it.

The portal's limiter is a leaky bucket (drain ``d`` requests/s, burst ``b``). Each request
reserves its place in a shared virtual bucket kept in the store (GCRA-like): the level grows by
one per request and drains at ``d``/s; a request whose reservation lands above ``b`` waits until
the bucket has drained to that point. Reservations are ordered, so concurrent workers never
stampede, and the sum of all workers' requests stays under the portal's limit.

Headroom. A request is sent at or after its reserved moment, never before, so the portal's bucket
stays at or below ours — up to the jitter between reserving and arriving (a request reserved earlier
may arrive together with a later one). ``HEADROOM`` (one request: half a second at 2/s) covers that.
The portal's bucket is also shared with other apps calling from the same address; when a 503
``QUERY_LIMIT_EXCEEDED`` shows that someone else drinks from it, :func:`saturate` fills our bucket
and, for ``REFUSED_FOR_S``, the headroom widens to ``REFUSED_SHARE`` of the burst, so a co-tenant
keeps its part without a stream of refusals, while a portal we have to ourselves keeps the whole burst.
"""

from __future__ import annotations

from b24app import clock
from b24app.store.db import Database

HEADROOM = 1.0  # requests kept below the portal's burst while the portal never refused us
REFUSED_SHARE = 0.2  # of the burst, kept free for an hour after the portal refused a request (503)
REFUSED_FOR_S = 3600.0


def headroom(burst: float, refused: bool) -> float:
    """Requests of the burst left unused: wider while a recent refusal shows the bucket is shared."""
    return max(HEADROOM, burst * REFUSED_SHARE) if refused else HEADROOM


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
           RETURNING level, refused_until""",
        (member_id, cost, now, drain, drain, cost),
    )
    level = float(rows[0]["level"])
    limit = max(1.0, burst - headroom(burst, now < float(rows[0]["refused_until"])))
    return max(0.0, (level - limit) / drain)


def saturate(db: Database, member_id: str, burst: float) -> None:
    """The portal said the bucket is full (503): make every process wait as if it were, and keep
    the wider headroom for the next ``REFUSED_FOR_S`` seconds."""
    now = clock.now()
    db.execute(
        """INSERT INTO rate_budget (member_id, level, updated_at, refused_until) VALUES (?, ?, ?, ?)
           ON CONFLICT (member_id) DO UPDATE SET
           level = CASE WHEN rate_budget.level > excluded.level THEN rate_budget.level
                        ELSE excluded.level END,
           updated_at = excluded.updated_at,
           refused_until = excluded.refused_until""",
        (member_id, burst, now, now + REFUSED_FOR_S),
    )
