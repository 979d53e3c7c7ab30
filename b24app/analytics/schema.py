"""Tables of the analytics feature: a copy of the portal's CRM data that the reports need, ad spend
entered by people, and payments taken over from the 1C sync.

Every table holds ``member_id`` (a CLEAN uninstall deletes by it) and every query of the package
names it. Times are unix seconds; dates of the portal are converted with its time zone on read.
"""

from __future__ import annotations

MIGRATIONS = [
    (
        "analytics_0001_tables",
        [
            """CREATE TABLE analytics_leads (
                member_id TEXT NOT NULL,
                id {BIGINT} NOT NULL,
                title TEXT NOT NULL DEFAULT '',
                status_id TEXT NOT NULL DEFAULT '',
                semantic TEXT NOT NULL DEFAULT 'P',
                source_id TEXT,
                assigned_by_id {BIGINT},
                company_id {BIGINT},
                contact_id {BIGINT},
                opportunity {REAL} NOT NULL DEFAULT 0,
                created_at {REAL},
                modified_at {REAL},
                closed_at {REAL},
                PRIMARY KEY (member_id, id)
            )""",
            "CREATE INDEX analytics_leads_created ON analytics_leads (member_id, created_at)",
            """CREATE TABLE analytics_deals (
                member_id TEXT NOT NULL,
                id {BIGINT} NOT NULL,
                title TEXT NOT NULL DEFAULT '',
                category_id {BIGINT} NOT NULL DEFAULT 0,
                stage_id TEXT NOT NULL DEFAULT '',
                semantic TEXT NOT NULL DEFAULT 'P',
                source_id TEXT,
                assigned_by_id {BIGINT},
                company_id {BIGINT},
                contact_id {BIGINT},
                lead_id {BIGINT},
                opportunity {REAL} NOT NULL DEFAULT 0,
                currency_id TEXT NOT NULL DEFAULT '',
                created_at {REAL},
                modified_at {REAL},
                moved_at {REAL},
                close_date {REAL},
                PRIMARY KEY (member_id, id)
            )""",
            "CREATE INDEX analytics_deals_created ON analytics_deals (member_id, created_at)",
            "CREATE INDEX analytics_deals_company ON analytics_deals (member_id, company_id)",
            """CREATE TABLE analytics_history (
                member_id TEXT NOT NULL,
                entity_type INTEGER NOT NULL,
                id {BIGINT} NOT NULL,
                owner_id {BIGINT} NOT NULL,
                type_id INTEGER NOT NULL DEFAULT 1,
                category_id {BIGINT},
                stage_id TEXT NOT NULL DEFAULT '',
                semantic TEXT NOT NULL DEFAULT 'P',
                created_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, entity_type, id)
            )""",
            "CREATE INDEX analytics_history_owner ON analytics_history (member_id, entity_type, owner_id, created_at)",
            """CREATE TABLE analytics_users (
                member_id TEXT NOT NULL,
                id {BIGINT} NOT NULL,
                name TEXT NOT NULL DEFAULT '',
                active INTEGER NOT NULL DEFAULT 1,
                position TEXT NOT NULL DEFAULT '',
                PRIMARY KEY (member_id, id)
            )""",
            """CREATE TABLE analytics_statuses (
                member_id TEXT NOT NULL,
                entity_id TEXT NOT NULL,
                status_id TEXT NOT NULL,
                name TEXT NOT NULL DEFAULT '',
                sort INTEGER NOT NULL DEFAULT 0,
                semantic TEXT NOT NULL DEFAULT 'P',
                category_id {BIGINT},
                color TEXT NOT NULL DEFAULT '',
                PRIMARY KEY (member_id, entity_id, status_id)
            )""",
            """CREATE TABLE analytics_categories (
                member_id TEXT NOT NULL,
                id {BIGINT} NOT NULL,
                name TEXT NOT NULL DEFAULT '',
                sort INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (member_id, id)
            )""",
            """CREATE TABLE analytics_companies (
                member_id TEXT NOT NULL,
                id {BIGINT} NOT NULL,
                title TEXT NOT NULL DEFAULT '',
                assigned_by_id {BIGINT},
                has_phone INTEGER NOT NULL DEFAULT 0,
                has_email INTEGER NOT NULL DEFAULT 0,
                is_my_company INTEGER NOT NULL DEFAULT 0,
                modified_at {REAL},
                PRIMARY KEY (member_id, id)
            )""",
            """CREATE TABLE analytics_requisites (
                member_id TEXT NOT NULL,
                id {BIGINT} NOT NULL,
                entity_type_id INTEGER NOT NULL,
                entity_id {BIGINT} NOT NULL,
                inn TEXT NOT NULL DEFAULT '',
                PRIMARY KEY (member_id, id)
            )""",
            "CREATE INDEX analytics_requisites_entity ON analytics_requisites (member_id, entity_type_id, entity_id)",
            """CREATE TABLE analytics_activities (
                member_id TEXT NOT NULL,
                id {BIGINT} NOT NULL,
                owner_type_id INTEGER NOT NULL DEFAULT 0,
                owner_id {BIGINT} NOT NULL DEFAULT 0,
                responsible_id {BIGINT},
                deadline {REAL},
                subject TEXT NOT NULL DEFAULT '',
                PRIMARY KEY (member_id, id)
            )""",
            """CREATE TABLE analytics_spend (
                member_id TEXT NOT NULL,
                source_id TEXT NOT NULL,
                month TEXT NOT NULL,
                amount {REAL} NOT NULL,
                start_at {REAL} NOT NULL,
                end_at {REAL} NOT NULL,
                updated_at {REAL} NOT NULL,
                updated_by TEXT NOT NULL DEFAULT '',
                PRIMARY KEY (member_id, source_id, month)
            )""",
            """CREATE TABLE analytics_payments (
                member_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                deal_id {BIGINT} NOT NULL,
                amount {REAL} NOT NULL,
                paid_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, seq)
            )""",
            "CREATE INDEX analytics_payments_deal ON analytics_payments (member_id, deal_id)",
        ],
    ),
]
