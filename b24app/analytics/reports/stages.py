"""Time: how long deals stay in each stage, how fast leads are taken into work, what is stuck.

- Time in stage (deals created in the period, one funnel): a stay lasts from entering a stage to
  entering the next one (crm.stagehistory.list); average and p90 (nearest rank: the smallest stay
  that at least 90 % of stays do not exceed) over finished stays; deals still in a stage are
  counted as "now in stage".
- Lead processing time: from the lead's creation to its first status change (taken into work,
  converted or junked); leads still in their first status are "waiting".
- Stuck deals: open deals that have been in their current stage (since the deal's last move,
  MOVED_TIME) longer than ``stuck_days`` days;
  overdue contracts: deals in a contract stage (``contract_stages``) longer than ``contract_days``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from b24app.analytics.filters import Filters
from b24app.analytics.reports.funnel import entity_of
from b24app.analytics.tables import Column, Report, Table, query
from b24app.store.db import Database

STAGE_COLUMNS = [Column("stage", "text", total="none"), Column("stays"), Column("avg_days", "days", total="none"),
                 Column("p90_days", "days", total="none"), Column("now_in_stage")]

LEAD_COLUMNS = [Column("manager_id", "int", total="none", hidden=True), Column("manager", "text", total="none"),
                Column("processed"), Column("avg_hours", "hours", total="none"),
                Column("p90_hours", "hours", total="none"), Column("waiting")]

STUCK_COLUMNS = [Column("deal_id", "int", total="none"), Column("deal", "text", total="none"),
                 Column("manager", "text", total="none"), Column("stage", "text", total="none"),
                 Column("days_in_stage", "days", total="none")]

P90 = "MIN(CASE WHEN r.rn * 10 >= r.n * 9 THEN r.dur END)"


def stage_times(db: Database, member_id: str, f: Filters, now: float) -> Table:
    category = f.category_id or 0
    cond, params = f.conditions("d", category=False)
    base = f"""WITH h AS (SELECT h.stage_id, h.created_at,
                LEAD(h.created_at) OVER (PARTITION BY h.owner_id ORDER BY h.created_at, h.id) AS left_at
              FROM analytics_history h JOIN analytics_deals d ON d.member_id = h.member_id AND d.id = h.owner_id
              WHERE h.member_id = ? AND h.entity_type = 2 AND d.category_id = ?{cond}),
        r AS (SELECT stage_id, left_at - created_at AS dur,
                     ROW_NUMBER() OVER (PARTITION BY stage_id ORDER BY left_at - created_at) AS rn,
                     COUNT(*) OVER (PARTITION BY stage_id) AS n FROM h WHERE left_at IS NOT NULL),
        agg AS (SELECT r.stage_id, COUNT(*) AS stays, AVG(r.dur) AS avg_s, {P90} AS p90_s FROM r GROUP BY r.stage_id),
        nowin AS (SELECT d.stage_id, COUNT(*) AS now_in_stage FROM analytics_deals d
                  WHERE d.member_id = ? AND d.category_id = ? AND d.semantic = 'P'{cond} GROUP BY d.stage_id)
        SELECT st.name AS stage, st.sort AS sort_, COALESCE(agg.stays, 0) AS stays,
            agg.avg_s / 86400.0 AS avg_days, agg.p90_s / 86400.0 AS p90_days,
            COALESCE(nowin.now_in_stage, 0) AS now_in_stage
        FROM analytics_statuses st LEFT JOIN agg ON agg.stage_id = st.status_id
        LEFT JOIN nowin ON nowin.stage_id = st.status_id
        WHERE st.member_id = ? AND st.entity_id = ? AND st.semantic = 'P'"""
    args = [member_id, category, *params, member_id, category, *params, member_id, entity_of(category)]
    rows, total = query(db, base, args, STAGE_COLUMNS, keys=("stage",), order_by="sort_")
    return Table("stage_times", STAGE_COLUMNS, rows, total, note_key="analytics.note.stage_times")


def _lead_processing_sql(cond: str, group: str) -> str:
    # the first status change of each lead is one index lookup (member_id, entity_type, owner_id, ...)
    return f"""WITH x AS (SELECT {group} AS uid,
                (SELECT MIN(h.created_at) FROM analytics_history h WHERE h.member_id = l.member_id
                 AND h.entity_type = 1 AND h.owner_id = l.id AND h.type_id != 1) - l.created_at AS dur,
                l.semantic FROM analytics_leads l WHERE l.member_id = ?{cond}),
        r AS (SELECT uid, dur, ROW_NUMBER() OVER (PARTITION BY uid ORDER BY dur) AS rn,
                     COUNT(*) OVER (PARTITION BY uid) AS n FROM x WHERE dur IS NOT NULL),
        agg AS (SELECT r.uid, COUNT(*) AS processed, AVG(r.dur) AS avg_s, {P90} AS p90_s FROM r GROUP BY r.uid),
        w AS (SELECT uid, SUM(CASE WHEN dur IS NULL AND semantic = 'P' THEN 1 ELSE 0 END) AS waiting
              FROM x GROUP BY uid)
        SELECT w.uid AS manager_id, COALESCE(usr.name, '#' || CAST(w.uid AS TEXT), '—') AS manager,
            COALESCE(agg.processed, 0) AS processed, agg.avg_s / 3600.0 AS avg_hours,
            agg.p90_s / 3600.0 AS p90_hours, w.waiting
        FROM w LEFT JOIN agg ON agg.uid = w.uid LEFT JOIN analytics_users usr ON usr.member_id = ? AND usr.id = w.uid"""


def lead_processing(db: Database, member_id: str, f: Filters) -> Table:
    cond, params = f.conditions("l", category=False)
    args = [member_id, *params, member_id]
    rows, _ = query(db, _lead_processing_sql(cond, "l.assigned_by_id"), args, LEAD_COLUMNS, order_by="manager",
                    with_total=False)
    overall, _ = query(db, _lead_processing_sql(cond, "0"), args, LEAD_COLUMNS, with_total=False)
    total = overall[0] if overall else None
    if total is not None:
        total["manager_id"] = total["manager"] = None  # the "Total" row
    return Table("lead_processing", LEAD_COLUMNS, rows, total, note_key="analytics.note.lead_processing")


def stuck(db: Database, member_id: str, f: Filters, now: float, days: float, *, name: str,
          stages: Sequence[str] | None = None) -> Table:
    cond, params = f.conditions("d", period=False, category=stages is None)
    stage_cond = ""
    if stages is not None:
        if not stages:
            return Table(name, STUCK_COLUMNS, [])
        stage_cond = " AND d.stage_id IN (" + ", ".join("?" for _ in stages) + ")"
    base = f"""WITH x AS (SELECT d.id, d.title, d.assigned_by_id, d.stage_id,
                        (? - COALESCE(d.moved_at, d.created_at)) / 86400.0 AS days_in_stage
                 FROM analytics_deals d WHERE d.member_id = ? AND d.semantic = 'P'{stage_cond}{cond})
        SELECT x.id AS deal_id, x.title AS deal, COALESCE(usr.name, '—') AS manager,
            COALESCE(st.name, x.stage_id) AS stage, x.days_in_stage
        FROM x LEFT JOIN analytics_users usr ON usr.member_id = ? AND usr.id = x.assigned_by_id
        LEFT JOIN analytics_statuses st ON st.member_id = ? AND st.status_id = x.stage_id
            AND st.entity_id LIKE 'DEAL_STAGE%'
        WHERE x.days_in_stage > ?"""
    args = [now, member_id, *(stages or []), *params, member_id, member_id, days]
    rows, _ = query(db, base, args, STUCK_COLUMNS, order_by="days_in_stage DESC, deal_id", with_total=False)
    return Table(name, STUCK_COLUMNS, rows, note_key=f"analytics.note.{name}")


def build(db: Database, member_id: str, f: Filters, options: dict[str, Any]) -> Report:
    now = float(options["now"])
    stuck_days = float(options.get("stuck_days", 14))
    contract_days = float(options.get("contract_days", 5))
    contract_stages = list(options.get("contract_stages", []))
    stuck_tbl = stuck(db, member_id, f, now, stuck_days, name="stuck_deals")
    contracts = stuck(db, member_id, f, now, contract_days, name="overdue_contracts", stages=contract_stages)
    return Report(
        "stages",
        [stage_times(db, member_id, f, now), lead_processing(db, member_id, f), stuck_tbl, contracts],
        summary={"stuck_days": stuck_days, "contract_days": contract_days,
                 "stuck_deals": len(stuck_tbl.rows), "overdue_contracts": len(contracts.rows)},
        charts=[{"kind": "bars", "table": "stage_times", "label": "stage", "value": "avg_days"}],
    )
