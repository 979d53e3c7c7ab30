"""Tables of the contracts feature: the contract register and its number counters.

``contracts_register`` is the register (реестр договоров): one row per number ever issued, void rows kept.
Uniqueness does the safety work:

- ``(member_id, number)`` unique: a number is never issued twice, manual numbers included (backstop of the
  counter);
- ``(member_id, deal_id, type_code)`` unique among rows that are not void: the same deal and type always get
  the same number (a retried robot finds the row instead of taking a new number);
- ``(member_id, idempotency_key)`` unique when given: one request, one contract.

``contracts_counters`` holds the last value of each sequence per legal entity (``counter_le``: empty when the
sequence is shared by all legal entities) and period; it is incremented
in the same transaction that inserts the register row, so a failed insert takes its number back (no gap).
"""

from __future__ import annotations

MIGRATIONS = [
    (
        "contracts_0001_register",
        [
            """CREATE TABLE contracts_counters (
                member_id TEXT NOT NULL,
                sequence TEXT NOT NULL,
                legal_entity TEXT NOT NULL DEFAULT '',
                period TEXT NOT NULL,
                value {BIGINT} NOT NULL,
                updated_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, sequence, legal_entity, period)
            )""",
            """CREATE TABLE contracts_register (
                id {ID},
                member_id TEXT NOT NULL,
                deal_id {BIGINT} NOT NULL,
                type_code TEXT NOT NULL,
                legal_entity TEXT NOT NULL DEFAULT '',
                sequence TEXT NOT NULL DEFAULT '',
                counter_le TEXT NOT NULL DEFAULT '',
                period TEXT NOT NULL DEFAULT '',
                seq {BIGINT},
                number TEXT NOT NULL,
                contract_date TEXT NOT NULL,
                status TEXT NOT NULL,
                manual INTEGER NOT NULL DEFAULT 0,
                company_id {BIGINT},
                mycompany_id {BIGINT},
                amount TEXT,
                currency TEXT,
                template TEXT,
                output TEXT,
                file_id {BIGINT},
                file_name TEXT,
                document_url TEXT,
                pdf_file_id {BIGINT},
                comment_id {BIGINT},
                idempotency_key TEXT,
                created_by TEXT NOT NULL DEFAULT '',
                note TEXT,
                created_at {REAL} NOT NULL,
                updated_at {REAL} NOT NULL,
                issued_at {REAL},
                voided_at {REAL},
                voided_by TEXT,
                void_reason TEXT
            )""",
            "CREATE UNIQUE INDEX contracts_register_number ON contracts_register (member_id, number)",
            """CREATE UNIQUE INDEX contracts_register_active
               ON contracts_register (member_id, deal_id, type_code) WHERE status <> 'void'""",
            """CREATE UNIQUE INDEX contracts_register_idem ON contracts_register (member_id, idempotency_key)
               WHERE idempotency_key IS NOT NULL""",
            "CREATE INDEX contracts_register_deal ON contracts_register (member_id, deal_id)",
        ],
    ),
]
