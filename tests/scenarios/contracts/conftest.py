"""Scenario fixtures of the contracts feature: the МеталПром sandbox portal with the app installed and the
demo contract settings, with helpers to call the portal as its administrator, find seeded deals, run the
robot through an automation rule and read documents back from Disk with python-docx."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import docx
import pytest
import requests

from b24app.contracts.settings_section import demo
from b24app.jobs.context import JobContext
from b24app.settings import document
from b24app.store.jobs import Job
from tests.scenarios.conftest import install
from tests.scenarios.harness import wait_for

ROBOT = "b24app_make_contract"


@dataclass
class Portal:
    sandbox: Any
    app: Any
    member_id: str
    hook: str

    def rest(self, method: str, params: dict[str, Any] | None = None) -> Any:
        r = requests.post(self.hook + method + ".json", json=params or {}, timeout=30)
        body = r.json()
        assert r.status_code == 200 and "result" in body, (method, r.status_code, body)
        return body["result"]

    def ctx(self) -> JobContext:
        """A job context as the worker builds one (for calling the service directly)."""
        job = Job(
            id=0,
            member_id=self.member_id,
            kind="test",
            payload={},
            dedupe_key=None,
            lock_key=None,
            status="running",
            priority=0,
            attempts=1,
            max_attempts=1,
            run_at=0,
            lease_until=None,
            worker_id="test",
            last_error=None,
            last_error_action=None,
            result=None,
            created_at=0,
            updated_at=0,
            finished_at=None,
        )
        return JobContext(self.app.services, job, "test")

    # --- seeded data ---------------------------------------------------------------------------------
    def company_with_requisites(self, deal_id: int) -> dict[str, Any]:
        deal = self.rest("crm.deal.get", {"id": deal_id})
        req = self.rest(
            "crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": deal["COMPANY_ID"]}}
        )
        return {"deal": deal, "requisite": req[0] if req else None}

    def deal_of(self, mycompany_id: int, *, ip: bool = False, skip: tuple[int, ...] = ()) -> int:
        """A seeded deal of our legal entity whose client has requisites (an ИП client when ``ip``)."""
        items = self.rest(
            "crm.item.list",
            {
                "entityTypeId": 2,
                "filter": {"mycompanyId": mycompany_id, "categoryId": 0},
                "select": ["id", "companyId", "stageId"],
                "order": {"id": "ASC"},
            },
        )
        for item in items["items"]:
            if not item["companyId"] or int(item["id"]) in skip:
                continue
            reqs = self.rest(
                "crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": item["companyId"]}}
            )
            rows = self.rest("crm.deal.productrows.get", {"id": item["id"]})
            if reqs and rows and (str(reqs[0]["PRESET_ID"]) == "2") == ip:
                return int(item["id"])
        raise AssertionError(f"no seeded deal of legal entity {mycompany_id} (ip={ip})")

    def incomplete_deal(self) -> tuple[int, dict[str, Any]]:
        """The deal of ООО «Новый Горизонт», the client without requisites."""
        companies = self.rest(
            "crm.company.list", {"filter": {"%TITLE": "Новый Горизонт"}, "select": ["ID", "TITLE"]}
        )
        company = companies[0]
        deals = self.rest("crm.deal.list", {"filter": {"COMPANY_ID": company["ID"]}, "select": ["ID"]})
        return int(deals[0]["ID"]), company

    # --- robot ---------------------------------------------------------------------------------------
    def add_rule(self, stage: str, properties: dict[str, Any]) -> None:
        self.sandbox.control(
            "POST",
            f"/portals/{self.member_id}/automation",
            {
                "entity": "deal",
                "category_id": 0,
                "stage_id": stage,
                "robot_code": ROBOT,
                "properties": properties,
            },
        )

    def move(self, deal_id: int, stage: str) -> None:
        self.rest("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": stage}})
        self.sandbox.wait_deliveries()
        self.app.drain()

    def runs(self, deal_id: int) -> list[dict[str, Any]]:
        return [
            r
            for r in self.sandbox.control("GET", f"/portals/{self.member_id}/robot-runs")
            if r["code"] == ROBOT and int(r["item_id"]) == deal_id
        ]

    def done_run(self, deal_id: int, count: int = 1) -> dict[str, Any]:
        runs = wait_for(
            lambda: (
                [r for r in self.runs(deal_id) if r["state"] == "done"][:count]
                if len([r for r in self.runs(deal_id) if r["state"] == "done"]) >= count
                else None
            ),
            what="robot run done",
        )
        return runs[-1]

    # --- Disk ----------------------------------------------------------------------------------------
    def file_bytes(self, file_id: int) -> tuple[dict[str, Any], bytes]:
        info = self.rest("disk.file.get", {"id": file_id})
        r = requests.get(info["DOWNLOAD_URL"], timeout=30)
        assert r.status_code == 200
        return info, r.content


def docx_text(data: bytes) -> str:
    """Every paragraph and table cell of a .docx, one per line (python-docx)."""
    d = docx.Document(io.BytesIO(data))
    lines = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            for cell in row.cells:
                lines.extend(p.text for p in cell.paragraphs)
    return "\n".join(lines)


def lower_keys(values: dict[str, Any]) -> dict[str, Any]:
    return {k.lower(): v for k, v in values.items()}


@pytest.fixture
def metalprom(sandbox: Any, app_factory: Any) -> Iterator[Portal]:
    """The МеталПром portal with the app installed and the demo contract settings saved."""
    app = app_factory()
    portal = sandbox.new_portal("metalprom")
    member_id = portal["member_id"]
    install(sandbox, app, member_id)
    # the tests read the portal a lot through a webhook, which shares the portal's request budget with the
    # app; the budget itself is the core's business (tested there), so it is off here
    sandbox.control("PUT", f"/portals/{member_id}/limits", {"enabled": False})
    document.save(
        app.db, member_id, {"general": {"lang": "ru", "timezone": "Europe/Moscow"}, "contracts": demo({})}
    )
    yield Portal(sandbox, app, member_id, sandbox.webhook(member_id))
