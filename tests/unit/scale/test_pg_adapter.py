"""SQL text written once runs on both engines, literal ``%`` included (LIKE patterns, modulo)."""

from __future__ import annotations


def test_literal_percent_in_sql_text_works_on_both_engines(any_services) -> None:
    db = any_services.db
    db.execute("INSERT INTO counters (member_id, name, period, value, updated_at) VALUES (?, ?, '', ?, 0)",
               ("m", "contracts:2026", 17))
    db.execute("INSERT INTO counters (member_id, name, period, value, updated_at) VALUES (?, ?, '', ?, 0)",
               ("m", "other", 4))
    rows = db.query("SELECT name, value % 5 AS rest FROM counters WHERE name LIKE 'contracts:%' AND member_id = ?",
                    ("m",))
    assert rows == [{"name": "contracts:2026", "rest": 2}]
    assert db.scalar("SELECT COUNT(*) AS n FROM counters WHERE name LIKE '%r'") == 1
