"""Tables of the 1C sync (every one has ``member_id``: a CLEAN uninstall deletes by it).

- ``sync_1c_credentials``: 1C passwords, encrypted with the app's secret key (never in the settings
  document, which shows ``***``).
- ``sync_1c_bases``: what we learnt about a base (its organizations, for routing by legal entity).
- ``sync_1c_counterparties``: Bitrix24 company <-> 1C counterparty per base (found by ИНН+КПП or created).
- ``sync_1c_invoices``: every 1C invoice we track: ours (pushed from a deal) and, optionally, those made
  in 1C for a known counterparty; amount, paid, due date, the deal and the smart invoice it belongs to.
- ``sync_1c_payments``: one row per (payment document, invoice it pays): amount, date, whether it
  counts (posted and not marked for deletion), the DataVersion seen.
- ``sync_1c_dirty``: the outbox of Bitrix24 writes: deals/smart invoices whose 1C state changed and
  must be written to the portal; inserted in the transaction that stores the 1C data, deleted once
  the portal has it (so a crash in between repeats the write, never loses it).
- ``sync_1c_applied``: what was last written to a deal (sums, stage, payments commented) so a repeat
  changes nothing and reversals are recognized.
- ``sync_1c_dead``: dead letters: records that could not be applied, with a readable reason.
"""

MIGRATIONS = [
    (
        "sync_1c_0001_init",
        [
            """CREATE TABLE sync_1c_credentials (
                member_id TEXT NOT NULL,
                base TEXT NOT NULL,
                password_enc TEXT NOT NULL,
                updated_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, base)
            )""",
            """CREATE TABLE sync_1c_bases (
                member_id TEXT NOT NULL,
                base TEXT NOT NULL,
                info TEXT NOT NULL DEFAULT '{}',
                checked_at {REAL},
                PRIMARY KEY (member_id, base)
            )""",
            """CREATE TABLE sync_1c_counterparties (
                member_id TEXT NOT NULL,
                base TEXT NOT NULL,
                company_id {BIGINT} NOT NULL,
                ref_key TEXT NOT NULL,
                inn TEXT NOT NULL DEFAULT '',
                kpp TEXT NOT NULL DEFAULT '',
                created_by_us INTEGER NOT NULL DEFAULT 0,
                updated_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, base, company_id)
            )""",
            "CREATE INDEX sync_1c_cp_ref ON sync_1c_counterparties (member_id, base, ref_key)",
            """CREATE TABLE sync_1c_invoices (
                member_id TEXT NOT NULL,
                base TEXT NOT NULL,
                ref_key TEXT NOT NULL,
                origin TEXT NOT NULL DEFAULT 'b24',
                idem_key TEXT,
                deal_id {BIGINT},
                smart_invoice_id {BIGINT},
                company_id {BIGINT},
                counterparty_ref TEXT NOT NULL DEFAULT '',
                order_ref TEXT NOT NULL DEFAULT '',
                number TEXT NOT NULL DEFAULT '',
                doc_date TEXT NOT NULL DEFAULT '',
                amount {REAL} NOT NULL DEFAULT 0,
                paid {REAL} NOT NULL DEFAULT 0,
                last_payment_date TEXT,
                due_date TEXT,
                posted INTEGER NOT NULL DEFAULT 0,
                deletion_mark INTEGER NOT NULL DEFAULT 0,
                deleted INTEGER NOT NULL DEFAULT 0,
                data_version TEXT NOT NULL DEFAULT '',
                own_version TEXT NOT NULL DEFAULT '',
                link TEXT NOT NULL DEFAULT '',
                created_at {REAL} NOT NULL,
                updated_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, base, ref_key)
            )""",
            "CREATE INDEX sync_1c_inv_deal ON sync_1c_invoices (member_id, deal_id)",
            "CREATE INDEX sync_1c_inv_key ON sync_1c_invoices (member_id, idem_key)",
            "CREATE INDEX sync_1c_inv_order ON sync_1c_invoices (member_id, base, order_ref)",
            """CREATE TABLE sync_1c_payments (
                member_id TEXT NOT NULL,
                base TEXT NOT NULL,
                ref_key TEXT NOT NULL,
                invoice_ref TEXT NOT NULL,
                kind TEXT NOT NULL DEFAULT 'bank',
                number TEXT NOT NULL DEFAULT '',
                pay_date TEXT NOT NULL DEFAULT '',
                amount {REAL} NOT NULL DEFAULT 0,
                active INTEGER NOT NULL DEFAULT 0,
                data_version TEXT NOT NULL DEFAULT '',
                updated_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, base, ref_key, invoice_ref)
            )""",
            "CREATE INDEX sync_1c_pay_invoice ON sync_1c_payments (member_id, base, invoice_ref)",
            "CREATE INDEX sync_1c_pay_date ON sync_1c_payments (member_id, pay_date)",
            """CREATE TABLE sync_1c_dirty (
                member_id TEXT NOT NULL,
                base TEXT NOT NULL,
                invoice_ref TEXT NOT NULL,
                reason TEXT NOT NULL DEFAULT '',
                created_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, base, invoice_ref)
            )""",
            """CREATE TABLE sync_1c_applied (
                member_id TEXT NOT NULL,
                base TEXT NOT NULL,
                invoice_ref TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT '{}',
                updated_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, base, invoice_ref)
            )""",
            """CREATE TABLE sync_1c_dead (
                id {ID},
                member_id TEXT NOT NULL,
                base TEXT NOT NULL,
                stream TEXT NOT NULL,
                record_key TEXT NOT NULL,
                reason TEXT NOT NULL,
                failure TEXT NOT NULL DEFAULT 'data',
                payload TEXT NOT NULL DEFAULT '{}',
                attempts INTEGER NOT NULL DEFAULT 1,
                created_at {REAL} NOT NULL,
                updated_at {REAL} NOT NULL,
                resolved_at {REAL}
            )""",
            "CREATE UNIQUE INDEX sync_1c_dead_key ON sync_1c_dead (member_id, base, stream, record_key)",
        ],
    ),
]
