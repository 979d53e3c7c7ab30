"""Managers: their leads and deals of the period, and their load now.

Per responsible user: leads created in the period (active, converted, junk, loss %, conversion %
as in the lead funnel); deals created in the period: in work (sum of open deals), won (count and
sum), average won deal = won sum / won deals, deal conversion = won / closed deals (won + lost);
load now = open leads + open deals assigned now, whatever their creation date.
"""

from __future__ import annotations

from typing import Any

from b24app.analytics.filters import Filters
from b24app.analytics.tables import Column, Report, Table, query, ratio
from b24app.store.db import Database

COLUMNS = [
    Column("manager_id", "int", total="none", hidden=True),
    Column("manager", "text", total="none"),
    Column("leads"), Column("active"), Column("converted"), Column("junk"),
    ratio("loss_pct", "junk", "leads"), ratio("conversion_pct", "converted", "active"),
    Column("deals"), Column("in_work_sum", "money"), Column("won"), Column("won_sum", "money"),
    Column("lost", hidden=True), Column("closed", hidden=True),
    ratio("avg_won", "won_sum", "won", pct=False, kind="money"),
    ratio("deal_conversion_pct", "won", "closed"),
    Column("load_now"),
]


def table(db: Database, member_id: str, f: Filters) -> Table:
    lcond, lparams = f.conditions("l", category=False, manager=False)
    dcond, dparams = f.conditions("d", manager=False)
    mcond = " WHERE u.uid = ?" if f.manager_id is not None else ""
    base = f"""WITH
        ls AS (SELECT l.assigned_by_id AS uid, COUNT(*) AS leads,
                SUM(CASE WHEN l.semantic = 'P' THEN 1 ELSE 0 END) AS active,
                SUM(CASE WHEN l.semantic = 'S' THEN 1 ELSE 0 END) AS converted,
                SUM(CASE WHEN l.semantic = 'F' THEN 1 ELSE 0 END) AS junk
               FROM analytics_leads l WHERE l.member_id = ?{lcond} GROUP BY l.assigned_by_id),
        ds AS (SELECT d.assigned_by_id AS uid, COUNT(*) AS deals,
                SUM(CASE WHEN d.semantic = 'P' THEN d.opportunity ELSE 0 END) AS in_work_sum,
                SUM(CASE WHEN d.semantic = 'S' THEN 1 ELSE 0 END) AS won,
                SUM(CASE WHEN d.semantic = 'S' THEN d.opportunity ELSE 0 END) AS won_sum,
                SUM(CASE WHEN d.semantic = 'F' THEN 1 ELSE 0 END) AS lost
               FROM analytics_deals d WHERE d.member_id = ?{dcond} GROUP BY d.assigned_by_id),
        lo AS (SELECT x.uid, SUM(x.n) AS load_now FROM (
                SELECT assigned_by_id AS uid, COUNT(*) AS n FROM analytics_leads
                 WHERE member_id = ? AND semantic = 'P' GROUP BY assigned_by_id
                UNION ALL
                SELECT assigned_by_id AS uid, COUNT(*) AS n FROM analytics_deals
                 WHERE member_id = ? AND semantic = 'P' GROUP BY assigned_by_id) x GROUP BY x.uid),
        u AS (SELECT uid FROM ls UNION SELECT uid FROM ds UNION SELECT uid FROM lo)
        SELECT u.uid AS manager_id, COALESCE(usr.name, '#' || CAST(u.uid AS TEXT), '—') AS manager,
            COALESCE(ls.leads, 0) AS leads, COALESCE(ls.active, 0) AS active,
            COALESCE(ls.converted, 0) AS converted, COALESCE(ls.junk, 0) AS junk,
            COALESCE(ds.deals, 0) AS deals, COALESCE(ds.in_work_sum, 0) AS in_work_sum,
            COALESCE(ds.won, 0) AS won, COALESCE(ds.won_sum, 0) AS won_sum, COALESCE(ds.lost, 0) AS lost,
            COALESCE(ds.won, 0) + COALESCE(ds.lost, 0) AS closed, COALESCE(lo.load_now, 0) AS load_now
        FROM u LEFT JOIN ls ON ls.uid = u.uid LEFT JOIN ds ON ds.uid = u.uid LEFT JOIN lo ON lo.uid = u.uid
        LEFT JOIN analytics_users usr ON usr.member_id = ? AND usr.id = u.uid{mcond}"""
    params = [member_id, *lparams, member_id, *dparams, member_id, member_id, member_id]
    if f.manager_id is not None:
        params.append(f.manager_id)
    rows, total = query(db, base, params, COLUMNS, keys=("manager_id", "manager"), order_by="manager")
    return Table("managers", COLUMNS, rows, total)


def build(db: Database, member_id: str, f: Filters, options: dict[str, Any]) -> Report:
    return Report("managers", [table(db, member_id, f)],
                  charts=[{"kind": "bars", "table": "managers", "label": "manager", "value": "won_sum"},
                          {"kind": "bars", "table": "managers", "label": "manager", "value": "conversion_pct"}])
