"""Tables of lead distribution (migrations applied by b24app.store.migrations).

- ``lead_decisions``: one row per (portal, item, phase) — the decision log and the idempotency key
  (an event and a robot for the same lead meet on the unique key and assign once);
- ``lead_strategy_state``: the persisted state of each rule's strategy (round-robin pointer, smooth
  weighted round-robin current weights), updated in the same transaction as the decisions;
- ``lead_snapshots``: briefly cached portal facts (users and departments, absences and work days,
  loads) with the time they were fetched;
- ``lead_pauses``: managers who paused taking leads (themselves or their head, in the app);
- ``lead_runs``: backlog runs with the last processed id (resumable);
- ``lead_watches``: assignments waiting to be taken (reminders and re-routes after N working minutes);
- ``lead_comms``: normalized phones and e-mails of distributed leads, our own duplicate index.
"""

from __future__ import annotations

MIGRATIONS = [
    (
        "leads_0001_tables",
        [
            """CREATE TABLE lead_decisions (
                id {ID},
                member_id TEXT NOT NULL,
                entity_type TEXT NOT NULL,
                entity_id {BIGINT} NOT NULL,
                phase TEXT NOT NULL,
                kind TEXT NOT NULL,
                status TEXT NOT NULL,
                user_id {BIGINT},
                previous_user_id {BIGINT},
                new_status TEXT,
                rule TEXT,
                strategy TEXT,
                reason TEXT NOT NULL DEFAULT '',
                explanation TEXT NOT NULL DEFAULT '{}',
                trigger TEXT NOT NULL DEFAULT '',
                run_id {BIGINT},
                day TEXT NOT NULL DEFAULT '',
                attempts INTEGER NOT NULL DEFAULT 1,
                error TEXT,
                decided_at {REAL} NOT NULL,
                applied_at {REAL},
                UNIQUE (member_id, entity_type, entity_id, phase)
            )""",
            "CREATE INDEX lead_decisions_user_day ON lead_decisions (member_id, user_id, day)",
            "CREATE INDEX lead_decisions_recent ON lead_decisions (member_id, decided_at)",
            "CREATE INDEX lead_decisions_run ON lead_decisions (member_id, run_id)",
            "CREATE INDEX lead_decisions_status ON lead_decisions (member_id, status)",
            """CREATE TABLE lead_strategy_state (
                member_id TEXT NOT NULL,
                key TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT '{}',
                picks {BIGINT} NOT NULL DEFAULT 0,
                updated_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, key)
            )""",
            """CREATE TABLE lead_snapshots (
                member_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                data TEXT NOT NULL,
                fetched_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, kind)
            )""",
            """CREATE TABLE lead_pauses (
                member_id TEXT NOT NULL,
                user_id {BIGINT} NOT NULL,
                paused_by {BIGINT},
                reason TEXT NOT NULL DEFAULT '',
                paused_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, user_id)
            )""",
            """CREATE TABLE lead_runs (
                id {ID},
                member_id TEXT NOT NULL,
                filter_key TEXT NOT NULL,
                filter TEXT NOT NULL,
                status TEXT NOT NULL,
                last_id {BIGINT} NOT NULL DEFAULT 0,
                total {BIGINT},
                counts TEXT NOT NULL DEFAULT '{}',
                error TEXT,
                started_at {REAL} NOT NULL,
                updated_at {REAL} NOT NULL,
                finished_at {REAL}
            )""",
            "CREATE INDEX lead_runs_filter ON lead_runs (member_id, filter_key, status)",
            """CREATE TABLE lead_watches (
                id {ID},
                member_id TEXT NOT NULL,
                entity_type TEXT NOT NULL,
                entity_id {BIGINT} NOT NULL,
                decision_id {BIGINT} NOT NULL,
                user_id {BIGINT} NOT NULL,
                status_at_assign TEXT NOT NULL DEFAULT '',
                assigned_at {REAL} NOT NULL,
                remind_at {REAL},
                reroute_at {REAL},
                next_at {REAL} NOT NULL,
                reminded INTEGER NOT NULL DEFAULT 0,
                reroutes INTEGER NOT NULL DEFAULT 0,
                state TEXT NOT NULL DEFAULT 'open',
                closed_reason TEXT,
                updated_at {REAL} NOT NULL,
                UNIQUE (member_id, decision_id)
            )""",
            "CREATE INDEX lead_watches_due ON lead_watches (member_id, state, next_at)",
            """CREATE TABLE lead_comms (
                member_id TEXT NOT NULL,
                value TEXT NOT NULL,
                entity_type TEXT NOT NULL,
                entity_id {BIGINT} NOT NULL,
                owner_id {BIGINT},
                updated_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, value, entity_type, entity_id)
            )""",
        ],
    ),
    (
        # the counters every decision reads (store.counts_since: assigned today, not yet in the
        # portal's loads, last assignment per user) from the index alone, without the table's rows
        "leads_0002_decision_counts",
        [
            "CREATE INDEX lead_decisions_counts ON lead_decisions "
            "(member_id, user_id, kind, status, decided_at, applied_at, day)",
        ],
    ),
]
