"""The "светофор": red / yellow / green per client and per manager, as things stand now.

Client (a company with at least one deal):
  red    — no open deal, or an overdue open activity (its deadline has passed) on the company or on
           one of its deals;
  yellow — otherwise, when the profile (a requisite with an ИНН) or the contact data (a phone or an
           e-mail) is missing;
  green  — otherwise.
Manager (an active user who owns leads or deals):
  red    — has overdue open activities, or no open deal;
  yellow — otherwise, when some of their clients are red;
  green  — otherwise.
The period, funnel and source filters do not apply (the lights show the present); manager and
client filters do.
"""

from __future__ import annotations

from typing import Any

from b24app.analytics.filters import Filters
from b24app.analytics.tables import Column, Report, Table, query
from b24app.store.db import Database

CLIENT_COLUMNS = [
    Column("light", "light", total="none"), Column("company_id", "int", total="none", hidden=True),
    Column("client", "text", total="none"), Column("manager", "text", total="none"), Column("active_deals"),
    Column("overdue_activities"), Column("profile_filled", "yesno", total="none"),
    Column("contacts_filled", "yesno", total="none"), Column("reasons", "reasons", total="none"),
]

MANAGER_COLUMNS = [
    Column("light", "light", total="none"), Column("manager_id", "int", total="none", hidden=True),
    Column("manager", "text", total="none"), Column("active_deals"), Column("overdue_activities"),
    Column("red_clients"), Column("reasons", "reasons", total="none"),
]

ORDER = "CASE light WHEN 'red' THEN 0 WHEN 'yellow' THEN 1 ELSE 2 END"


def _clients_sql(company: bool, manager: bool) -> str:
    extra = (" AND c.id = ?" if company else "") + (" AND c.assigned_by_id = ?" if manager else "")
    return f"""SELECT c.id AS company_id, c.title AS client, c.assigned_by_id,
            COALESCE(ad.n, 0) AS active_deals, COALESCE(od.n, 0) AS overdue_activities,
            CASE WHEN rq.company_id IS NULL THEN 0 ELSE 1 END AS profile_filled,
            CASE WHEN c.has_phone = 1 OR c.has_email = 1 THEN 1 ELSE 0 END AS contacts_filled
        FROM analytics_companies c
        JOIN (SELECT DISTINCT company_id FROM analytics_deals WHERE member_id = ? AND company_id IS NOT NULL) anyd
            ON anyd.company_id = c.id
        LEFT JOIN (SELECT company_id, COUNT(*) AS n FROM analytics_deals WHERE member_id = ? AND semantic = 'P'
                   AND company_id IS NOT NULL GROUP BY company_id) ad ON ad.company_id = c.id
        LEFT JOIN (SELECT x.company_id, COUNT(*) AS n FROM (
                SELECT CASE WHEN a.owner_type_id = 4 THEN a.owner_id
                            WHEN a.owner_type_id = 2 THEN (SELECT d.company_id FROM analytics_deals d
                                 WHERE d.member_id = a.member_id AND d.id = a.owner_id) END AS company_id
                FROM analytics_activities a WHERE a.member_id = ? AND a.deadline IS NOT NULL AND a.deadline < ?) x
            WHERE x.company_id IS NOT NULL GROUP BY x.company_id) od ON od.company_id = c.id
        LEFT JOIN (SELECT DISTINCT entity_id AS company_id FROM analytics_requisites WHERE member_id = ?
                   AND entity_type_id = 4 AND inn != '') rq ON rq.company_id = c.id
        WHERE c.member_id = ? AND c.is_my_company = 0{extra}"""


def _clients_args(member_id: str, now: float, f: Filters) -> list[Any]:
    args: list[Any] = [member_id, member_id, member_id, now, member_id, member_id]
    if f.company_id is not None:
        args.append(f.company_id)
    if f.manager_id is not None:
        args.append(f.manager_id)
    return args


CLIENT_LIGHT = """CASE WHEN cl.active_deals = 0 OR cl.overdue_activities > 0 THEN 'red'
    WHEN cl.profile_filled = 0 OR cl.contacts_filled = 0 THEN 'yellow' ELSE 'green' END"""


def clients(db: Database, member_id: str, f: Filters, now: float) -> Table:
    inner = _clients_sql(f.company_id is not None, f.manager_id is not None)
    base = f"""WITH cl AS ({inner})
        SELECT {CLIENT_LIGHT} AS light, cl.company_id, cl.client, COALESCE(usr.name, '—') AS manager,
            cl.active_deals, cl.overdue_activities, cl.profile_filled, cl.contacts_filled,
            (CASE WHEN cl.active_deals = 0 THEN 'no_active_deal,' ELSE '' END ||
             CASE WHEN cl.overdue_activities > 0 THEN 'overdue_activity,' ELSE '' END ||
             CASE WHEN cl.profile_filled = 0 THEN 'no_profile,' ELSE '' END ||
             CASE WHEN cl.contacts_filled = 0 THEN 'no_contacts,' ELSE '' END) AS reasons
        FROM cl LEFT JOIN analytics_users usr ON usr.member_id = ? AND usr.id = cl.assigned_by_id"""
    rows, total = query(db, base, [*_clients_args(member_id, now, f), member_id], CLIENT_COLUMNS,
                        keys=("company_id",), order_by=f"{ORDER}, client")
    return Table("client_lights", CLIENT_COLUMNS, rows, total, note_key="analytics.note.client_lights")


def managers(db: Database, member_id: str, f: Filters, now: float) -> Table:
    inner = _clients_sql(f.company_id is not None, f.manager_id is not None)
    mcond = " AND u.id = ?" if f.manager_id is not None else ""
    base = f"""WITH cl AS ({inner}),
        red AS (SELECT cl.assigned_by_id AS uid, SUM(CASE WHEN {CLIENT_LIGHT} = 'red' THEN 1 ELSE 0 END) AS n
                FROM cl GROUP BY cl.assigned_by_id),
        ad AS (SELECT assigned_by_id AS uid, COUNT(*) AS n FROM analytics_deals WHERE member_id = ? AND semantic = 'P'
               GROUP BY assigned_by_id),
        oa AS (SELECT responsible_id AS uid, COUNT(*) AS n FROM analytics_activities WHERE member_id = ?
               AND deadline IS NOT NULL AND deadline < ? GROUP BY responsible_id),
        m AS (SELECT u.id, u.name FROM analytics_users u WHERE u.member_id = ? AND u.active = 1{mcond}
              AND u.id IN (SELECT assigned_by_id FROM analytics_deals WHERE member_id = ?
                           UNION SELECT assigned_by_id FROM analytics_leads WHERE member_id = ?))
        SELECT CASE WHEN COALESCE(oa.n, 0) > 0 OR COALESCE(ad.n, 0) = 0 THEN 'red'
                    WHEN COALESCE(red.n, 0) > 0 THEN 'yellow' ELSE 'green' END AS light,
            m.id AS manager_id, m.name AS manager, COALESCE(ad.n, 0) AS active_deals,
            COALESCE(oa.n, 0) AS overdue_activities, COALESCE(red.n, 0) AS red_clients,
            (CASE WHEN COALESCE(ad.n, 0) = 0 THEN 'no_active_deal,' ELSE '' END ||
             CASE WHEN COALESCE(oa.n, 0) > 0 THEN 'overdue_activity,' ELSE '' END ||
             CASE WHEN COALESCE(red.n, 0) > 0 THEN 'red_clients,' ELSE '' END) AS reasons
        FROM m LEFT JOIN ad ON ad.uid = m.id LEFT JOIN oa ON oa.uid = m.id LEFT JOIN red ON red.uid = m.id"""
    args = [*_clients_args(member_id, now, f), member_id, member_id, now, member_id]
    if f.manager_id is not None:
        args.append(f.manager_id)
    args += [member_id, member_id]
    rows, total = query(db, base, args, MANAGER_COLUMNS, keys=("manager_id",), order_by=f"{ORDER}, manager")
    return Table("manager_lights", MANAGER_COLUMNS, rows, total, note_key="analytics.note.manager_lights")


def build(db: Database, member_id: str, f: Filters, options: dict[str, Any]) -> Report:
    now = float(options["now"])
    mgr = managers(db, member_id, f, now)
    cli = clients(db, member_id, f, now)
    counts = {f"clients_{c}": sum(1 for r in cli.rows if r["light"] == c) for c in ("red", "yellow", "green")}
    counts.update({f"managers_{c}": sum(1 for r in mgr.rows if r["light"] == c) for c in ("red", "yellow", "green")})
    return Report("lights", [mgr, cli], summary=counts)
