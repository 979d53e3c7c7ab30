"""Lead funnel and deal funnel.

Lead funnel (leads created in the period): active = status in progress, converted = success
status, junk = failure status; loss % = junk / all leads; conversion % = converted / active leads
(the customer's definition: 31 converted of 99 active = 31.31 %).

Deal funnel (deals created in the period, one funnel): a deal *reached* a stage when its furthest
stage — the highest in funnel order among the stages it ever stood in, failure stages left out — is
that stage or a later one (so a jump over a stage counts as passing it); conversion to the next
stage = reached(next) / reached(this); drop-off = reached(this) - reached(next).
"""

from __future__ import annotations

from typing import Any

from b24app.analytics.filters import Filters
from b24app.analytics.tables import Column, Report, Table, query, ratio
from b24app.store.db import Database

LEAD_COLUMNS = [
    Column("leads"), Column("active"), Column("converted"), Column("junk"),
    ratio("loss_pct", "junk", "leads"), ratio("conversion_pct", "converted", "active"),
]

STATUS_COLUMNS = [Column("status", "text", total="none"), Column("leads_in_status"),
                  Column("all_leads", hidden=True), ratio("share_pct", "leads_in_status", "all_leads")]

DEAL_COLUMNS = [
    Column("stage", "text", total="none"), Column("reached", total="none"), Column("next_reached", hidden=True,
                                                                                     total="none"),
    Column("drop_off", total="none"), Column("now_count"), Column("now_sum", "money"),
    Column("conversion_next_pct", "pct", num="next_reached", den="reached", scale=100.0, total="none"),
]


def entity_of(category_id: int) -> str:
    return "DEAL_STAGE" if not category_id else f"DEAL_STAGE_{category_id}"


def lead_funnel(db: Database, member_id: str, f: Filters) -> Table:
    cond, params = f.conditions("l", category=False)
    base = f"""SELECT COUNT(*) AS leads,
        COALESCE(SUM(CASE WHEN l.semantic = 'P' THEN 1 ELSE 0 END), 0) AS active,
        COALESCE(SUM(CASE WHEN l.semantic = 'S' THEN 1 ELSE 0 END), 0) AS converted,
        COALESCE(SUM(CASE WHEN l.semantic = 'F' THEN 1 ELSE 0 END), 0) AS junk
        FROM analytics_leads l WHERE l.member_id = ?{cond}"""
    rows, _ = query(db, base, [member_id, *params], LEAD_COLUMNS, with_total=False)
    return Table("lead_funnel", LEAD_COLUMNS, rows)


def lead_statuses(db: Database, member_id: str, f: Filters) -> Table:
    cond, params = f.conditions("l", category=False)
    cond2, params2 = f.conditions("l2", category=False)
    base = f"""SELECT COALESCE(s.name, l.status_id) AS status, MIN(COALESCE(s.sort, 100000)) AS sort_,
        COUNT(*) AS leads_in_status,
        (SELECT COUNT(*) FROM analytics_leads l2 WHERE l2.member_id = ?{cond2}) AS all_leads
        FROM analytics_leads l LEFT JOIN analytics_statuses s ON s.member_id = l.member_id
        AND s.entity_id = 'STATUS' AND s.status_id = l.status_id
        WHERE l.member_id = ?{cond} GROUP BY COALESCE(s.name, l.status_id)"""
    rows, total = query(db, base, [member_id, *params2, member_id, *params], STATUS_COLUMNS, keys=("status",),
                        order_by="sort_")
    if total is not None:
        total["all_leads"] = total.get("leads_in_status")
        total["share_pct"] = 100.0 if total.get("leads_in_status") else None
    return Table("lead_statuses", STATUS_COLUMNS, rows, total)


def deal_funnel(db: Database, member_id: str, f: Filters) -> Table:
    category = f.category_id or 0
    cond, params = f.conditions("d", category=False)
    # the deals' furthest stage comes from one pass over their history; "reached" is then a sum over
    # a histogram of at most one row per stage (no per-stage rescans of the history)
    base = f"""WITH d AS (SELECT d.id, d.stage_id, d.opportunity FROM analytics_deals d
            WHERE d.member_id = ? AND d.category_id = ?{cond}),
        st AS (SELECT status_id, name, sort, semantic FROM analytics_statuses WHERE member_id = ? AND entity_id = ?),
        visits AS (SELECT h.owner_id AS id, s.sort FROM analytics_history h
                   JOIN analytics_statuses s ON s.member_id = h.member_id AND s.entity_id = ? AND s.status_id = h.stage_id
                   WHERE h.member_id = ? AND h.entity_type = 2 AND s.semantic != 'F' AND h.owner_id IN (SELECT id FROM d)
                   UNION ALL
                   SELECT d.id, s.sort FROM d JOIN analytics_statuses s ON s.member_id = ? AND s.entity_id = ?
                       AND s.status_id = d.stage_id AND s.semantic != 'F'),
        far AS (SELECT id, MAX(sort) AS far_sort FROM visits GROUP BY id),
        hist AS (SELECT far_sort, COUNT(*) AS n FROM far GROUP BY far_sort),
        nowc AS (SELECT stage_id, COUNT(*) AS now_count, SUM(opportunity) AS now_sum FROM d GROUP BY stage_id),
        per AS (SELECT st.status_id, st.name, st.sort, st.semantic,
                       COALESCE(SUM(CASE WHEN hist.far_sort >= st.sort THEN hist.n ELSE 0 END), 0) AS reached,
                       COALESCE(MAX(nowc.now_count), 0) AS now_count, COALESCE(MAX(nowc.now_sum), 0) AS now_sum
                FROM st LEFT JOIN hist ON 1 = 1 LEFT JOIN nowc ON nowc.stage_id = st.status_id
                GROUP BY st.status_id, st.name, st.sort, st.semantic),
        nxt AS (SELECT p.status_id, (SELECT q.reached FROM per q WHERE q.semantic != 'F' AND q.sort > p.sort
                                    ORDER BY q.sort LIMIT 1) AS next_reached FROM per p)
        SELECT p.status_id AS stage_id, p.name AS stage, p.sort AS sort_, p.semantic,
            CASE WHEN p.semantic = 'F' THEN p.now_count ELSE p.reached END AS reached,
            CASE WHEN p.semantic = 'P' THEN n.next_reached END AS next_reached,
            CASE WHEN p.semantic = 'P' THEN p.reached - n.next_reached END AS drop_off,
            p.now_count, p.now_sum
        FROM per p JOIN nxt n ON n.status_id = p.status_id"""
    entity = entity_of(category)
    params_all = [member_id, category, *params, member_id, entity, entity, member_id, member_id, entity]
    rows, total = query(db, base, params_all, DEAL_COLUMNS, keys=("stage",), order_by="sort_")
    return Table("deal_funnel", DEAL_COLUMNS, rows, total, note_key="analytics.note.deal_funnel")


def build(db: Database, member_id: str, f: Filters, options: dict[str, Any]) -> Report:
    leads = lead_funnel(db, member_id, f)
    row = leads.rows[0] if leads.rows else {}
    summary = {k: row.get(k) for k in ("leads", "active", "converted", "junk", "loss_pct", "conversion_pct")}
    deals = deal_funnel(db, member_id, f)
    return Report(
        "funnel",
        [leads, lead_statuses(db, member_id, f), deals],
        summary=summary,
        charts=[
            {"kind": "funnel", "table": "lead_funnel", "values": ["leads", "active", "converted", "junk"]},
            {"kind": "bars", "table": "deal_funnel", "label": "stage", "value": "reached"},
        ],
    )
