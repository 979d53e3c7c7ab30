"""Tables of the stages feature (every one keyed by ``member_id``, so a CLEAN uninstall removes them).

- ``stages_seen``: the last stage we saw per CRM item and the identity of that stage entry (the item's
  ``MOVED_TIME``), plus the watched date fields of its SLA limit: stage changes and date changes are
  detected by comparing an item fetched after ``ONCRM*UPDATE`` with this row.
- ``stages_tasks``: tasks the app created (from templates, SLA escalations and the claim path), so an
  ``ONTASKUPDATE`` about somebody else's task costs no REST call, and tasks of a stage can be closed when
  the item leaves it.
- ``stages_sla``: the SLA state of items in a stage with a limit, written by the scan (due time, overdue,
  escalation step): the overdue list reads it.
- ``stages_payments`` / ``stages_payment_log``: the overdue-payment path per (deal, invoice) and what
  each step did.
"""

from __future__ import annotations

MIGRATIONS = [
    (
        "stages_0001_init",
        [
            """CREATE TABLE stages_seen (
                member_id TEXT NOT NULL,
                entity TEXT NOT NULL,
                item_id {BIGINT} NOT NULL,
                category_id INTEGER NOT NULL DEFAULT 0,
                stage_id TEXT NOT NULL,
                entry TEXT NOT NULL,
                entered_at {REAL},
                assigned_by_id {BIGINT},
                watched TEXT NOT NULL DEFAULT '{}',
                updated_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, entity, item_id)
            )""",
            """CREATE TABLE stages_tasks (
                member_id TEXT NOT NULL,
                task_id {BIGINT} NOT NULL,
                entity TEXT NOT NULL,
                item_id {BIGINT} NOT NULL,
                stage_id TEXT NOT NULL,
                entry TEXT NOT NULL,
                template_id TEXT NOT NULL,
                approval INTEGER NOT NULL DEFAULT 0,
                responsible_id {BIGINT},
                status INTEGER NOT NULL DEFAULT 2,
                created_at {REAL} NOT NULL,
                closed_at {REAL},
                PRIMARY KEY (member_id, task_id)
            )""",
            "CREATE INDEX stages_tasks_item ON stages_tasks (member_id, entity, item_id, stage_id, entry)",
            """CREATE TABLE stages_sla (
                member_id TEXT NOT NULL,
                entity TEXT NOT NULL,
                item_id {BIGINT} NOT NULL,
                category_id INTEGER NOT NULL DEFAULT 0,
                stage_id TEXT NOT NULL,
                entry TEXT NOT NULL,
                title TEXT NOT NULL DEFAULT '',
                assigned_by_id {BIGINT},
                entered_at {REAL},
                due_at {REAL},
                overdue INTEGER NOT NULL DEFAULT 0,
                late_hours {REAL} NOT NULL DEFAULT 0,
                steps_done INTEGER NOT NULL DEFAULT 0,
                flagged INTEGER NOT NULL DEFAULT 0,
                scanned_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, entity, item_id)
            )""",
            "CREATE INDEX stages_sla_overdue ON stages_sla (member_id, overdue, assigned_by_id)",
            """CREATE TABLE stages_payments (
                member_id TEXT NOT NULL,
                deal_id {BIGINT} NOT NULL,
                invoice TEXT NOT NULL,
                title TEXT NOT NULL DEFAULT '',
                assigned_by_id {BIGINT},
                source TEXT NOT NULL,
                due_date TEXT,
                amount {REAL} NOT NULL DEFAULT 0,
                paid {REAL} NOT NULL DEFAULT 0,
                outstanding {REAL} NOT NULL DEFAULT 0,
                days_overdue INTEGER NOT NULL DEFAULT 0,
                status TEXT NOT NULL,
                last_step TEXT NOT NULL DEFAULT '',
                updated_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, deal_id, invoice)
            )""",
            """CREATE TABLE stages_payment_log (
                member_id TEXT NOT NULL,
                deal_id {BIGINT} NOT NULL,
                invoice TEXT NOT NULL,
                step TEXT NOT NULL,
                status TEXT NOT NULL,
                detail TEXT NOT NULL DEFAULT '',
                at {REAL} NOT NULL,
                PRIMARY KEY (member_id, deal_id, invoice, step)
            )""",
        ],
    ),
]
