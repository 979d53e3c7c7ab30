"""Channels (lead sources): spend, leads, deals, won deals, revenue and ROI.

A deal's channel is its own source, else the source of the lead it came from. Leads and deals are
those created in the period; spend is the spend of the months overlapping the period, in
proportion to the days of each month inside it. Revenue (won) = sum of won deals of the period;
revenue (paid) = money actually received in 1C for the deals of the period (whenever paid);
ROI = (revenue - spend) / spend; cost per lead = spend / leads; conversion = won deals / leads.
"""

from __future__ import annotations

from typing import Any

from b24app.analytics.filters import Filters
from b24app.analytics.pull import last_summary
from b24app.analytics.tables import Column, Report, Table, query, ratio
from b24app.store.db import Database

COLUMNS = [
    Column("source_id", "text", total="none", hidden=True),
    Column("source", "text", total="none"),
    Column("spend", "money"), Column("leads"),
    ratio("cpl", "spend", "leads", pct=False, kind="money"),
    Column("deals"), Column("won"),
    ratio("channel_conversion_pct", "won", "leads"),
    Column("revenue_won", "money"), Column("revenue_paid", "money"),
    Column("profit_won", "money", hidden=True), Column("profit_paid", "money", hidden=True),
    ratio("roi_won_pct", "profit_won", "spend"), ratio("roi_paid_pct", "profit_paid", "spend"),
]

DEAL_SOURCE = ("COALESCE(d.source_id, (SELECT l.source_id FROM analytics_leads l "
               "WHERE l.member_id = d.member_id AND l.id = d.lead_id))")


def payments_available(db: Database, member_id: str) -> bool:
    return bool(last_summary(db, member_id).get("payments_available"))


def table(db: Database, member_id: str, f: Filters) -> Table:
    lo, hi = f.bounds()
    paid = payments_available(db, member_id)
    lcond, lparams = f.conditions("l", category=False)
    dcond, dparams = f.conditions("d", source_expr=DEAL_SOURCE)
    scond = " AND s.source_id = ?" if f.source_id else ""
    kcond = " WHERE k.source_id = ?" if f.source_id else ""
    revenue_paid = "COALESCE(p.revenue_paid, 0)" if paid else "CAST(NULL AS DOUBLE PRECISION)"
    base = f"""WITH
        sp AS (SELECT s.source_id, SUM(s.amount *
                 ((CASE WHEN s.end_at < ? THEN s.end_at ELSE ? END) - (CASE WHEN s.start_at > ? THEN s.start_at ELSE ? END))
                 / (s.end_at - s.start_at)) AS spend
               FROM analytics_spend s WHERE s.member_id = ? AND s.end_at > ? AND s.start_at < ?{scond}
               GROUP BY s.source_id),
        ls AS (SELECT l.source_id, COUNT(*) AS leads FROM analytics_leads l WHERE l.member_id = ?{lcond}
               GROUP BY l.source_id),
        dd AS (SELECT d.id, d.semantic, d.opportunity, {DEAL_SOURCE} AS source_id
               FROM analytics_deals d WHERE d.member_id = ?{dcond}),
        ds AS (SELECT source_id, COUNT(*) AS deals, SUM(CASE WHEN semantic = 'S' THEN 1 ELSE 0 END) AS won,
                      SUM(CASE WHEN semantic = 'S' THEN opportunity ELSE 0 END) AS revenue_won
               FROM dd GROUP BY source_id),
        p AS (SELECT dd.source_id, SUM(pm.amount) AS revenue_paid FROM analytics_payments pm
              JOIN dd ON dd.id = pm.deal_id WHERE pm.member_id = ? GROUP BY dd.source_id),
        k AS (SELECT source_id FROM sp UNION SELECT source_id FROM ls UNION SELECT source_id FROM ds)
        SELECT k.source_id, COALESCE(st.name, k.source_id, '—') AS source, COALESCE(st.sort, 100000) AS sort_,
            COALESCE(sp.spend, 0) AS spend, COALESCE(ls.leads, 0) AS leads, COALESCE(ds.deals, 0) AS deals,
            COALESCE(ds.won, 0) AS won, COALESCE(ds.revenue_won, 0) AS revenue_won,
            {revenue_paid} AS revenue_paid,
            COALESCE(ds.revenue_won, 0) - COALESCE(sp.spend, 0) AS profit_won,
            {revenue_paid} - COALESCE(sp.spend, 0) AS profit_paid
        FROM k LEFT JOIN sp ON sp.source_id = k.source_id LEFT JOIN ls ON ls.source_id = k.source_id
        LEFT JOIN ds ON ds.source_id = k.source_id LEFT JOIN p ON p.source_id = k.source_id
        LEFT JOIN analytics_statuses st ON st.member_id = ? AND st.entity_id = 'SOURCE' AND st.status_id = k.source_id
        {kcond}"""
    params: list[Any] = [hi, hi, lo, lo, member_id, lo, hi]
    if f.source_id:
        params.append(f.source_id)
    params += [member_id, *lparams, member_id, *dparams, member_id, member_id]
    if f.source_id:
        params.append(f.source_id)
    rows, total = query(db, base, params, COLUMNS, keys=("source_id", "source"), order_by="sort_, source")
    if not paid:
        for r in [*rows, total or {}]:
            for key in ("revenue_paid", "roi_paid_pct"):
                r[key] = None
    return Table("channels", COLUMNS, rows, total,
                 note_key=None if paid else "analytics.note.payments_unavailable")


def build(db: Database, member_id: str, f: Filters, options: dict[str, Any]) -> Report:
    tbl = table(db, member_id, f)
    return Report("channels", [tbl], summary={"payments_available": tbl.note_key is None},
                  charts=[{"kind": "bars", "table": "channels", "label": "source", "value": "spend"},
                          {"kind": "bars", "table": "channels", "label": "source", "value": "roi_won_pct"}])
