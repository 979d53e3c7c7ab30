"""Clients (companies): deals, purchases, LTV, purchase frequency; retention and churn.

A purchase is a won deal, dated when it entered its success stage (stage history; else the time it
last moved). LTV = sum of all won deals of the client; average interval = (last purchase - first
purchase) / (purchases - 1). For a period: clients who bought before it are the base; retained =
those of them who bought again in the period; churned = the others; retention % = retained / base;
churn % = churned / base; new = clients whose first purchase is in the period.
"""

from __future__ import annotations

from typing import Any

from b24app.analytics.filters import Filters
from b24app.analytics.tables import Column, Report, Table, iso_date, query, ratio
from b24app.store.db import Database

CLIENT_COLUMNS = [
    Column("company_id", "int", total="none", hidden=True), Column("client", "text", total="none"),
    Column("manager", "text", total="none"), Column("deals"), Column("open_deals"), Column("purchases"),
    Column("ltv", "money"), Column("first_purchase", "date", total="none"), Column("last_purchase", "date", total="none"),
    Column("interval_days", "days", total="none"), Column("period_status", "status", total="none"),
]

RETENTION_COLUMNS = [
    Column("base_clients"), Column("retained"), Column("churned"), Column("new_clients"),
    ratio("retention_pct", "retained", "base_clients"), ratio("churn_pct", "churned", "base_clients"),
    Column("period_purchases"), Column("buyers", hidden=True),
    ratio("purchases_per_client", "period_purchases", "buyers", pct=False),
]


def _won_sql(cond: str) -> str:
    """Won deals with the time they entered success (params: member_id, member_id, *cond params)."""
    return f"""SELECT d.id, d.company_id, d.opportunity, COALESCE(w.won_at, d.moved_at, d.modified_at) AS won_at
        FROM analytics_deals d
        LEFT JOIN (SELECT owner_id, MIN(created_at) AS won_at FROM analytics_history
                   WHERE member_id = ? AND entity_type = 2 AND semantic = 'S' GROUP BY owner_id) w ON w.owner_id = d.id
        WHERE d.member_id = ? AND d.semantic = 'S' AND d.company_id IS NOT NULL{cond}"""


def clients_table(db: Database, member_id: str, f: Filters) -> Table:
    lo, hi = f.bounds()
    cond, params = f.conditions("d", period=False)
    period_status = ("CASE WHEN pr.before_n > 0 AND pr.in_n > 0 THEN 'retained' WHEN pr.before_n > 0 THEN 'churned' "
                     "WHEN pr.in_n > 0 THEN 'new' ELSE '' END") if f.has_period else "''"
    base = f"""WITH won AS ({_won_sql(cond)}),
        pr AS (SELECT company_id, COUNT(*) AS purchases, SUM(opportunity) AS ltv, MIN(won_at) AS first_at,
                      MAX(won_at) AS last_at,
                      SUM(CASE WHEN won_at < ? THEN 1 ELSE 0 END) AS before_n,
                      SUM(CASE WHEN won_at >= ? AND won_at < ? THEN 1 ELSE 0 END) AS in_n
               FROM won GROUP BY company_id),
        dl AS (SELECT d.company_id, COUNT(*) AS deals, SUM(CASE WHEN d.semantic = 'P' THEN 1 ELSE 0 END) AS open_deals
               FROM analytics_deals d WHERE d.member_id = ? AND d.company_id IS NOT NULL{cond} GROUP BY d.company_id)
        SELECT c.id AS company_id, c.title AS client, COALESCE(usr.name, '—') AS manager,
            COALESCE(dl.deals, 0) AS deals, COALESCE(dl.open_deals, 0) AS open_deals,
            COALESCE(pr.purchases, 0) AS purchases, COALESCE(pr.ltv, 0) AS ltv,
            pr.first_at AS first_purchase, pr.last_at AS last_purchase,
            CASE WHEN pr.purchases > 1 THEN (pr.last_at - pr.first_at) / 86400.0 / (pr.purchases - 1) END
                AS interval_days,
            {period_status} AS period_status
        FROM analytics_companies c JOIN dl ON dl.company_id = c.id LEFT JOIN pr ON pr.company_id = c.id
        LEFT JOIN analytics_users usr ON usr.member_id = c.member_id AND usr.id = c.assigned_by_id
        WHERE c.member_id = ? AND c.is_my_company = 0"""
    args = [member_id, member_id, *params, lo, lo, hi, member_id, *params, member_id]
    rows, total = query(db, base, args, CLIENT_COLUMNS, keys=("company_id",), order_by="ltv DESC, client")
    for r in rows:
        for key in ("first_purchase", "last_purchase"):
            r[key] = iso_date(r.get(key), f.tz)
    return Table("clients", CLIENT_COLUMNS, rows, total)


def retention_table(db: Database, member_id: str, f: Filters) -> Table:
    if not f.has_period:
        return Table("retention", RETENTION_COLUMNS, [], note_key="analytics.note.retention_needs_period")
    lo, hi = f.bounds()
    cond, params = f.conditions("d", period=False)
    base = f"""WITH won AS ({_won_sql(cond)}),
        pr AS (SELECT company_id, SUM(CASE WHEN won_at < ? THEN 1 ELSE 0 END) AS before_n,
                      SUM(CASE WHEN won_at >= ? AND won_at < ? THEN 1 ELSE 0 END) AS in_n
               FROM won GROUP BY company_id)
        SELECT SUM(CASE WHEN before_n > 0 THEN 1 ELSE 0 END) AS base_clients,
            SUM(CASE WHEN before_n > 0 AND in_n > 0 THEN 1 ELSE 0 END) AS retained,
            SUM(CASE WHEN before_n > 0 AND in_n = 0 THEN 1 ELSE 0 END) AS churned,
            SUM(CASE WHEN before_n = 0 AND in_n > 0 THEN 1 ELSE 0 END) AS new_clients,
            COALESCE(SUM(in_n), 0) AS period_purchases,
            SUM(CASE WHEN in_n > 0 THEN 1 ELSE 0 END) AS buyers
        FROM pr"""
    rows, _ = query(db, base, [member_id, member_id, *params, lo, lo, hi], RETENTION_COLUMNS, with_total=False)
    rows = [{k: (0 if v is None and k in ("base_clients", "retained", "churned", "new_clients", "buyers") else v)
             for k, v in r.items()} for r in rows]
    return Table("retention", RETENTION_COLUMNS, rows, note_key="analytics.note.retention")


def build(db: Database, member_id: str, f: Filters, options: dict[str, Any]) -> Report:
    clients = clients_table(db, member_id, f)
    return Report("clients", [retention_table(db, member_id, f), clients],
                  charts=[{"kind": "bars", "table": "clients", "label": "client", "value": "ltv", "limit": 10}])
