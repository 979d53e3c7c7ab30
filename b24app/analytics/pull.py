"""Pulling the portal's CRM data into the analytics tables, incrementally.

Streams (one cursor each in ``sync_state``, stream names ``analytics:<name>``):

=============  ====================================  =========================================
stream         portal method                         cursor
=============  ====================================  =========================================
leads          crm.lead.list                         DATE_MODIFY (with a lookback window)
deals          crm.deal.list                         DATE_MODIFY (with a lookback window)
history_lead   crm.stagehistory.list entityTypeId 1  ID (history rows are never changed)
history_deal   crm.stagehistory.list entityTypeId 2  ID
companies      crm.company.list                      DATE_MODIFY
requisites     crm.requisite.list                    ID for new rows + DATE_MODIFY for changed
users          user.get                              none (small: replaced every run)
dictionaries   crm.status.list, crm.category.list    none (one batch, replaced every run)
activities     crm.activity.list COMPLETED=N         none (the open ones, replaced every run)
payments       b24app.sync_1c.api (no REST)          none (replaced every run)
=============  ====================================  =========================================

Big lists go through ``client.iter_pages`` (``start=-1``, ``>ID``, up to 50 chained pages per HTTP
request). Leads, deals, both stage histories, companies and open activities are read
:data:`PARALLEL_STREAMS` at a time (``b24app.portal.prefetch``), each list in its own thread, and
stored one after another here; requisites read ahead (``read_ahead``: the next request is sent while
a page is stored). A DATE_MODIFY cursor means "every row modified at or before it is stored": the next run
asks for ``>DATE_MODIFY`` the cursor. The new cursor is the newest DATE_MODIFY seen, but never later
than the portal's clock at the start of the run minus :data:`LOOKBACK_S` (``server.time``, read in
the same batch as the dictionaries): a row written while we read may commit after our read with an
older stamp, so the last minutes are read again next time (upserts are idempotent). Rows come in ID
order, not in DATE_MODIFY order, so that cursor is committed only with the stream's last page (a run
cut short starts the stream again). ID cursors (stage history, new requisites) are committed with
every page.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

from b24app import clock
from b24app.analytics import payments as payments_mod
from b24app.analytics import store
from b24app.portal.prefetch import Prefetcher
from b24app.store import sync_state
from b24app.store.db import Database

log = logging.getLogger("b24app.analytics.pull")

LOOKBACK_S = 120.0
BIG_LOAD_ROWS = 5000  # after a run that wrote this many rows the planner's statistics are renewed
# pages chained in one batch request: a first pull takes 50 (2,500 rows a request); an incremental
# one expects few rows, and every chained page is a sub-call the portal runs and bills to its
# operating-time budget even when an earlier page was already short
FULL_PAGES = 50
INCREMENTAL_PAGES = 20
SUMMARY_STREAM = "analytics"
# big lists read at once: each is a chain of requests (every one needs the last ID of the one before),
# so a portal slow to answer makes a pull wait for its answers, not for the rate limit
PARALLEL_STREAMS = 3
PREFETCH_PAGES = 400  # pages (50 rows each) a list may read ahead of storing: 20,000 rows at most

LEAD_SELECT = ["ID", "TITLE", "STATUS_ID", "STATUS_SEMANTIC_ID", "SOURCE_ID", "ASSIGNED_BY_ID", "COMPANY_ID",
               "CONTACT_ID", "OPPORTUNITY", "DATE_CREATE", "DATE_MODIFY", "DATE_CLOSED"]
DEAL_SELECT = ["ID", "TITLE", "CATEGORY_ID", "STAGE_ID", "STAGE_SEMANTIC_ID", "SOURCE_ID", "ASSIGNED_BY_ID",
               "COMPANY_ID", "CONTACT_ID", "LEAD_ID", "OPPORTUNITY", "CURRENCY_ID", "DATE_CREATE", "DATE_MODIFY",
               "MOVED_TIME", "CLOSEDATE"]
COMPANY_SELECT = ["ID", "TITLE", "ASSIGNED_BY_ID", "HAS_PHONE", "HAS_EMAIL", "IS_MY_COMPANY", "DATE_MODIFY"]
REQUISITE_SELECT = ["ID", "ENTITY_TYPE_ID", "ENTITY_ID", "RQ_INN", "DATE_MODIFY"]
ACTIVITY_SELECT = ["ID", "OWNER_TYPE_ID", "OWNER_ID", "RESPONSIBLE_ID", "DEADLINE", "SUBJECT", "COMPLETED"]


Pages = Callable[[], Iterator[list[dict[str, Any]]]]  # how to read one list, page by page
Saved = tuple[str | None, dict[str, Any]]  # a stream's stored cursor and state


def _history_stream(entity_type: int) -> str:
    return "history_lead" if entity_type == store.LEAD else "history_deal"


def _iso(ts: float, tz: str) -> str:
    return dt.datetime.fromtimestamp(ts, ZoneInfo(tz)).isoformat(timespec="seconds")


class Refresh:
    """One refresh run of one portal. ``client`` is the portal's PortalClient (or anything with
    ``call``, ``batch``, ``get_all`` and ``iter_pages``)."""

    def __init__(self, db: Database, client: Any, member_id: str, *, tz: str = "Europe/Moscow",
                 heartbeat: Callable[[], Any] | None = None) -> None:
        self.db = db
        self.client = client
        self.member_id = member_id
        self.tz = tz
        self.heartbeat = heartbeat or (lambda: None)
        self.rows: dict[str, int] = {}
        self.portal_now: float | None = None  # the portal's clock at the start of the run

    # --- helpers ---------------------------------------------------------------------------------
    def _count(self, stream: str, n: int) -> None:
        self.rows[stream] = self.rows.get(stream, 0) + n

    def _cursor(self, stream: str) -> tuple[str | None, dict[str, Any]]:
        return sync_state.get(self.db, self.member_id, f"analytics:{stream}")

    def _put(self, stream: str, cursor: str | None, state: dict[str, Any]) -> None:
        sync_state.put(self.db, self.member_id, f"analytics:{stream}", cursor, state)

    # --- streams ---------------------------------------------------------------------------------
    def dictionaries(self) -> None:
        res = self.client.batch({
            "statuses": ("crm.status.list", {"order": {"SORT": "ASC"}}),
            "categories": ("crm.category.list", {"entityTypeId": 2}),
            "now": ("server.time", {}),
        })
        self.portal_now = store.parse_time(res.results.get("now")) or clock.now()
        statuses = res.get("statuses") or []
        if isinstance(statuses, dict):
            statuses = list(statuses.values())
        if "statuses" in res.nexts:  # more than one page of dictionary entries: take them all
            statuses = [s for s in self.client.get_all("crm.status.list", {}) if isinstance(s, dict)]
        cats = res.get("categories") or {}
        cats = cats.get("categories", []) if isinstance(cats, dict) else list(cats)
        with self.db.transaction():
            self._count("statuses", store.replace_all(self.db, "analytics_statuses", self.member_id,
                                                      [store.status_row(self.member_id, s) for s in statuses]))
            self._count("categories", store.replace_all(self.db, "analytics_categories", self.member_id,
                                                        [store.category_row(self.member_id, c) for c in cats]))
            self._resemantize()

    def _resemantize(self) -> None:
        """A stage whose meaning the portal reports only in the dictionary: copy it onto the rows."""
        for table, entity in (("analytics_leads", "STATUS"), ("analytics_deals", "DEAL_STAGE")):
            col = "status_id" if table == "analytics_leads" else "stage_id"
            cond = "s.entity_id = 'STATUS'" if entity == "STATUS" else "s.entity_id LIKE 'DEAL_STAGE%'"
            self.db.execute(
                f"""UPDATE {table} SET semantic = (SELECT MIN(s.semantic) FROM analytics_statuses s
                    WHERE s.member_id = {table}.member_id AND s.status_id = {table}.{col} AND {cond})
                    WHERE member_id = ? AND EXISTS (SELECT 1 FROM analytics_statuses s
                    WHERE s.member_id = {table}.member_id AND s.status_id = {table}.{col} AND {cond}
                    AND s.semantic != {table}.semantic)""",
                (self.member_id,),
            )

    def users(self) -> None:
        rows = [u for u in self.client.get_all("user.get", {}) if isinstance(u, dict)]
        with self.db.transaction():
            self._count("users", store.replace_all(self.db, "analytics_users", self.member_id,
                                                   [store.user_row(self.member_id, u) for u in rows]))

    def modified_pages(self, method: str, select: list[str], cursor: str | None) -> Pages:
        """How to read a changing list: everything modified since ``cursor``."""
        params: dict[str, Any] = {"select": select}
        if cursor is not None:
            params["filter"] = {">DATE_MODIFY": _iso(float(cursor), self.tz)}
        pages = FULL_PAGES if cursor is None else INCREMENTAL_PAGES
        return lambda: self.client.iter_pages(method, params, pages_per_request=pages)

    def modified_stream(self, stream: str, mapper: Callable[[dict[str, Any]], dict[str, Any]], table: str,
                        pages: Iterator[list[dict[str, Any]]], saved: Saved) -> None:
        """A list whose rows change: everything modified since the cursor (minus the lookback).
        ``pages``: the list being read (:meth:`modified_pages`); ``saved``: the stream's cursor and state."""
        cursor, state = saved
        newest = float(cursor) if cursor is not None else None
        pending: list[dict[str, Any]] = []
        for page in pages:
            rows = [mapper(r) for r in page]
            for r in rows:
                if r.get("modified_at") is not None and (newest is None or r["modified_at"] > newest):
                    newest = r["modified_at"]
            pending.extend(rows)
            if len(pending) >= 5000:
                with self.db.transaction():
                    self._count(stream, store.upsert(self.db, table, pending))
                pending = []
                self.heartbeat()
        with self.db.transaction():
            self._count(stream, store.upsert(self.db, table, pending))
            self._put(stream, self._settled(newest), {**state, "synced_at": clock.now()})

    def _settled(self, newest: float | None) -> str | None:
        """The cursor to store: the newest stamp seen, held back to the portal's "now - lookback"."""
        if newest is None:
            return None
        limit = (self.portal_now or clock.now()) - LOOKBACK_S
        return repr(min(newest, limit))

    def history_pages(self, entity_type: int, cursor: str | None) -> Pages:
        """How to read the stage history of an entity type after the last ID seen (``cursor``)."""
        pages = FULL_PAGES if cursor is None else INCREMENTAL_PAGES
        return lambda: self.client.iter_pages("crm.stagehistory.list", {"entityTypeId": entity_type},
                                              wrapper="items", last_id=int(cursor or 0), pages_per_request=pages)

    def history(self, entity_type: int, pages: Iterator[list[dict[str, Any]]], saved: Saved) -> None:
        """Stage history is append-only: take the rows after the last ID seen."""
        stream = _history_stream(entity_type)
        cursor, state = saved
        last_id = int(cursor or 0)
        sems = store.semantics_map(self.db, self.member_id, "STATUS" if entity_type == store.LEAD else "DEAL_STAGE")
        for page in pages:
            rows = [store.history_row(self.member_id, entity_type, r, sems) for r in page]
            last_id = max([last_id, *[int(r["id"]) for r in rows if r["id"] is not None]])
            with self.db.transaction():
                self._count(stream, store.upsert(self.db, "analytics_history", rows))
                self._put(stream, str(last_id), {**state, "synced_at": clock.now()})
            self.heartbeat()
        if not self.rows.get(stream):
            with self.db.transaction():
                self._put(stream, str(last_id) if last_id else cursor, {**state, "synced_at": clock.now()})

    def requisites(self) -> None:
        """New requisites by ID, changed ones by DATE_MODIFY (the portal leaves it empty on add)."""
        cursor, state = self._cursor("requisites")
        last_id = int(cursor or 0)
        rows: list[dict[str, Any]] = []
        pages = FULL_PAGES if cursor is None else INCREMENTAL_PAGES
        for page in self.client.iter_pages("crm.requisite.list", {"select": REQUISITE_SELECT}, last_id=last_id,
                                           pages_per_request=pages, read_ahead=True):
            rows.extend(store.requisite_row(self.member_id, r) for r in page)
            last_id = max(last_id, *[int(r["ID"]) for r in page])
        changed_since = state.get("modified")
        newest = changed_since
        if changed_since is not None:
            flt = {">DATE_MODIFY": _iso(float(changed_since), self.tz)}
            for page in self.client.iter_pages("crm.requisite.list", {"select": REQUISITE_SELECT, "filter": flt},
                                               pages_per_request=INCREMENTAL_PAGES, read_ahead=True):
                rows.extend(store.requisite_row(self.member_id, r) for r in page)
                for r in page:
                    ts = store.parse_time(r.get("DATE_MODIFY"))
                    if ts is not None and (newest is None or ts > newest):
                        newest = ts
        with self.db.transaction():
            self._count("requisites", store.upsert(self.db, "analytics_requisites", rows))
            settled = self._settled(newest if newest is not None else (self.portal_now or clock.now()))
            self._put("requisites", str(last_id), {**state, "modified": float(settled) if settled else None,
                                                   "synced_at": clock.now()})

    def activity_pages(self) -> Pages:
        """How to read the open activities (all of them, every run)."""
        return lambda: self.client.iter_pages("crm.activity.list", {"select": ACTIVITY_SELECT,
                                                                    "filter": {"COMPLETED": "N"}})

    def activities(self, pages: Iterator[list[dict[str, Any]]]) -> None:
        rows: list[dict[str, Any]] = []
        for page in pages:
            rows.extend(store.activity_row(self.member_id, r) for r in page)
        with self.db.transaction():
            self._count("activities", store.replace_all(self.db, "analytics_activities", self.member_id, rows))

    def payments(self) -> bool:
        found = payments_mod.fetch(self.db, self.member_id)
        if found is None:
            return False
        with self.db.transaction():
            self._count("payments", payments_mod.store_snapshot(self.db, self.member_id, found))
        return True

    # --- the whole run ---------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        started = time.monotonic()
        sent_before = getattr(self.client, "requests_sent", 0)
        self.dictionaries()
        self.users()
        statuses = store.semantics_map(self.db, self.member_id, "STATUS")
        stages = store.semantics_map(self.db, self.member_id, "DEAL_STAGE")
        saved = {name: self._cursor(name) for name in ("leads", "deals", "history_lead", "history_deal",
                                                       "companies")}
        # the lists are read PARALLEL_STREAMS at a time, their pages stored here one list after another
        with Prefetcher({
            "leads": self.modified_pages("crm.lead.list", LEAD_SELECT, saved["leads"][0]),
            "deals": self.modified_pages("crm.deal.list", DEAL_SELECT, saved["deals"][0]),
            "history_lead": self.history_pages(store.LEAD, saved["history_lead"][0]),
            "history_deal": self.history_pages(store.DEAL, saved["history_deal"][0]),
            "companies": self.modified_pages("crm.company.list", COMPANY_SELECT, saved["companies"][0]),
            "activities": self.activity_pages(),
        }, parallel=PARALLEL_STREAMS, buffer=PREFETCH_PAGES) as lists:
            self.modified_stream("leads", lambda r: store.lead_row(self.member_id, r, statuses), "analytics_leads",
                                 lists.pages("leads"), saved["leads"])
            self.modified_stream("deals", lambda r: store.deal_row(self.member_id, r, stages), "analytics_deals",
                                 lists.pages("deals"), saved["deals"])
            self.history(store.LEAD, lists.pages("history_lead"), saved["history_lead"])
            self.history(store.DEAL, lists.pages("history_deal"), saved["history_deal"])
            self.modified_stream("companies", lambda r: store.company_row(self.member_id, r), "analytics_companies",
                                 lists.pages("companies"), saved["companies"])
            self.requisites()
            self.activities(lists.pages("activities"))
        paid = self.payments()
        if sum(self.rows.get(k, 0) for k in ("leads", "deals", "history_lead", "history_deal")) >= BIG_LOAD_ROWS:
            store.refresh_statistics(self.db)
        summary = {
            "refreshed_at": clock.now(),
            "seconds": round(time.monotonic() - started, 3),
            "requests": getattr(self.client, "requests_sent", 0) - sent_before,
            "rows": dict(self.rows),
            "payments_available": paid,
        }
        with self.db.transaction():
            sync_state.put(self.db, self.member_id, SUMMARY_STREAM, None, summary)
        log.info("analytics refreshed", extra={"member_id": self.member_id, "requests": summary["requests"],
                                               "seconds": summary["seconds"]})
        return summary


def last_summary(db: Database, member_id: str) -> dict[str, Any]:
    """What the last refresh did (``refreshed_at`` unix time, ``requests``, ``rows`` ...), or {}."""
    return sync_state.get(db, member_id, SUMMARY_STREAM)[1]


def forget(db: Database, member_id: str, entity: str, ids: list[int]) -> int:
    """Rows deleted in the portal (ONCRM<ENTITY>DELETE): drop them and their stage history."""
    table = {"lead": "analytics_leads", "deal": "analytics_deals", "company": "analytics_companies"}[entity]
    with db.transaction():
        n = store.delete_ids(db, table, member_id, ids)
        if entity in ("lead", "deal"):
            et = store.LEAD if entity == "lead" else store.DEAL
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ", ".join("?" for _ in chunk)
                db.execute(f"DELETE FROM analytics_history WHERE member_id = ? AND entity_type = ? "
                           f"AND owner_id IN ({marks})", [member_id, et, *chunk])
    return n
