"""Loading generated CRM data (b24sandbox.seed generators, the shared seed format) into the
analytics tables through the same row mappers the refresh uses, so report tests start from the
rows the portal would answer."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from b24app.analytics import store
from b24app.context import Services
from b24sandbox.seed.dictionaries import DEAL_CATEGORIES, statuses

FINAL = {"S", "F"}


class Loader:
    def __init__(self, services: Services, member_id: str) -> None:
        self.db = services.db
        self.member_id = member_id
        self._hist = {1: itertools.count(1), 2: itertools.count(1)}

    def dictionaries(self, rows: list[dict[str, Any]] | None = None) -> None:
        rows = statuses() if rows is None else rows
        with self.db.transaction():
            store.replace_all(self.db, "analytics_statuses", self.member_id,
                              [store.status_row(self.member_id, r) for r in rows])
            store.replace_all(self.db, "analytics_categories", self.member_id,
                              [store.category_row(self.member_id, c) for c in DEAL_CATEGORIES])

    def users(self, users: dict[int, str], inactive: tuple[int, ...] = ()) -> None:
        rows = [{"ID": str(uid), "LAST_NAME": name.split()[0], "NAME": " ".join(name.split()[1:]),
                 "ACTIVE": uid not in inactive} for uid, name in users.items()]
        with self.db.transaction():
            store.replace_all(self.db, "analytics_users", self.member_id,
                              [store.user_row(self.member_id, u) for u in rows])

    def _history(self, entity_type: int, owner: int, steps: list[dict[str, Any]], sems: dict[str, str],
                 category: int | None = None) -> list[dict[str, Any]]:
        key = "STATUS_ID" if entity_type == 1 else "STAGE_ID"
        out = []
        for i, step in enumerate(steps):
            stage = step[key]
            type_id = 1 if i == 0 else (3 if sems.get(stage) in FINAL else 2)
            row = {"ID": str(next(self._hist[entity_type])), "TYPE_ID": str(type_id), "OWNER_ID": str(owner),
                   "CREATED_TIME": step["CREATED_TIME"], key: stage}
            if entity_type == 2:
                row["CATEGORY_ID"] = str(step.get("CATEGORY_ID", category or 0))
            out.append(store.history_row(self.member_id, entity_type, row, sems))
        return out

    def leads(self, leads: list[dict[str, Any]]) -> None:
        sems = store.semantics_map(self.db, self.member_id, "STATUS")
        rows, hist = [], []
        for lead in leads:
            steps = lead.get("history") or [{"STATUS_ID": lead["STATUS_ID"], "CREATED_TIME": lead["DATE_CREATE"]}]
            rest = {**lead, "ID": str(lead["ID"]), "DATE_MODIFY": steps[-1]["CREATED_TIME"]}
            rows.append(store.lead_row(self.member_id, rest, sems))
            hist += self._history(1, int(lead["ID"]), steps, sems)
        with self.db.transaction():
            store.upsert(self.db, "analytics_leads", rows)
            store.upsert(self.db, "analytics_history", hist)

    def deals(self, deals: list[dict[str, Any]]) -> None:
        sems = store.semantics_map(self.db, self.member_id, "DEAL_STAGE")
        rows, hist = [], []
        for deal in deals:
            steps = deal.get("history") or [{"STAGE_ID": deal["STAGE_ID"], "CREATED_TIME": deal["DATE_CREATE"]}]
            rest = {**deal, "ID": str(deal["ID"]), "DATE_MODIFY": steps[-1]["CREATED_TIME"],
                    "MOVED_TIME": steps[-1]["CREATED_TIME"]}
            rows.append(store.deal_row(self.member_id, rest, sems))
            hist += self._history(2, int(deal["ID"]), steps, sems, int(deal.get("CATEGORY_ID") or 0))
        with self.db.transaction():
            store.upsert(self.db, "analytics_deals", rows)
            store.upsert(self.db, "analytics_history", hist)

    def companies(self, companies: list[dict[str, Any]]) -> None:
        with self.db.transaction():
            store.upsert(self.db, "analytics_companies", [store.company_row(self.member_id, c) for c in companies])

    def requisites(self, rows: list[dict[str, Any]]) -> None:
        with self.db.transaction():
            store.upsert(self.db, "analytics_requisites", [store.requisite_row(self.member_id, r) for r in rows])

    def activities(self, rows: list[dict[str, Any]]) -> None:
        with self.db.transaction():
            store.replace_all(self.db, "analytics_activities", self.member_id,
                              [store.activity_row(self.member_id, r) for r in rows])


@pytest.fixture
def make_loader() -> type[Loader]:
    """The Loader class, for tests that build their own services (e.g. on PostgreSQL)."""
    return Loader


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, config: Any) -> Iterator[Services]:
    """Services on SQLite or on the local PostgreSQL (a fresh schema): reports are one SQL text."""
    if request.param == "postgres":
        config.database_url = request.getfixturevalue("pg_url")
    svc = Services.open(config)
    yield svc
    svc.db.close()


@pytest.fixture
def loader(services: Services) -> Iterator[Any]:
    def make(member_id: str = "portal-a") -> Loader:
        return Loader(services, member_id)

    yield make
