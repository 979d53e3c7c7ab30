"""Scenario fixtures of the 1C sync: the МеталПром sandbox portal (two 1C bases, one per legal
entity) with the app installed, the demo settings of the sync and contracts, and the bases connected
through ``b24app sync connect --from-sandbox`` (the real CLI, over HTTP)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from click.testing import CliRunner

from b24app.cli import main as cli_main
from b24app.contracts.settings_section import demo as contracts_demo
from b24app.jobs.context import JobContext
from b24app.settings import document
from b24app.store import installations
from b24app.store.jobs import Job
from b24app.sync_1c.settings_schema import demo as onec_demo
from tests.scenarios.conftest import install

MP, MPT = 1, 2  # "my company" ids of ООО «МеталПром» and ООО «МеталПром Трейд» in the seed
BP_INVOICE, UT_INVOICE = "Document_СчетНаОплатуПокупателю", "Document_СчетНаОплатуКлиенту"


def msk(minutes_ago: int = 2) -> str:
    """A 1C date (Moscow time, no zone) a little in the past, so the next run's signpost covers it."""
    now = dt.datetime.now(ZoneInfo("Europe/Moscow")) - dt.timedelta(minutes=minutes_ago)
    return now.replace(tzinfo=None, microsecond=0).isoformat()


@dataclass
class Portal:
    sandbox: Any
    app: Any
    member_id: str
    hook: str

    # --- the portal ----------------------------------------------------------------------------
    def rest(self, method: str, params: dict[str, Any] | None = None) -> Any:
        r = requests.post(self.hook + method + ".json", json=params or {}, timeout=30)
        body = r.json()
        assert r.status_code == 200 and "result" in body, (method, r.status_code, body)
        return body["result"]

    def deal(self, deal_id: int) -> dict[str, Any]:
        return self.rest("crm.deal.get", {"id": deal_id})

    def comments(self, deal_id: int) -> list[str]:
        rows = self.rest("crm.timeline.comment.list", {"filter": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"},
                                                       "order": {"ID": "ASC"}})
        return [r["COMMENT"] for r in rows]

    def deal_of(self, mycompany_id: int, *, stage: str | None = None, skip: tuple[int, ...] = ()) -> int:
        """A seeded open deal of the sales funnel of our legal entity whose client has requisites."""
        flt: dict[str, Any] = {"mycompanyId": mycompany_id, "categoryId": 0}
        if stage:
            flt["stageId"] = stage
        items = self.rest("crm.item.list", {"entityTypeId": 2, "filter": flt,
                                            "select": ["id", "companyId", "stageId"], "order": {"id": "ASC"}})
        for item in items["items"]:
            if not item["companyId"] or int(item["id"]) in skip or item["stageId"] in ("WON", "LOSE"):
                continue
            reqs = self.rest("crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": item["companyId"]}})
            rows = self.rest("crm.deal.productrows.get", {"id": item["id"]})
            if reqs and rows and reqs[0].get("RQ_INN"):
                return int(item["id"])
        raise AssertionError(f"no seeded deal of legal entity {mycompany_id}")

    def ctx(self) -> JobContext:
        job = Job(id=0, member_id=self.member_id, kind="test", payload={}, dedupe_key=None, lock_key=None,
                  status="running", priority=0, attempts=1, max_attempts=1, run_at=0, lease_until=None,
                  worker_id="test", last_error=None, last_error_action=None, result=None, created_at=0,
                  updated_at=0, finished_at=None)
        return JobContext(self.app.services, job, "test")

    # --- 1C -------------------------------------------------------------------------------------
    def bases(self) -> dict[str, dict[str, Any]]:
        return {b["name"]: b for b in self.sandbox.control("GET", f"/portals/{self.member_id}/onec")}

    @property
    def main(self) -> str:
        """The БП base of ООО «МеталПром» (named metalprom_main, with a suffix if the sandbox has one already)."""
        return next(n for n in self.bases() if n.startswith("metalprom_main"))

    @property
    def trade(self) -> str:
        """The УТ base of ООО «МеталПром Трейд»."""
        return next(n for n in self.bases() if n.startswith("metalprom_trade"))

    def onec(self, method: str, base: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201)) -> Any:
        return self.sandbox.control(method, f"/onec/{base}{path}", body, ok=ok)

    def documents(self, base: str, set_name: str) -> list[dict[str, Any]]:
        return self.onec("GET", base, f"/documents/{set_name}?limit=10000")

    def pay(self, base: str, invoice_ref: str, amount: float, date: str, **extra: Any) -> str:
        return self.onec("POST", base, "/payments", {"invoice_ref": invoice_ref, "amount": amount, "date": date,
                                                     **extra})["ref_key"]

    def new_deal(self, company_id: int, mycompany_id: int, *, like: int, stage: str = "UC_AWAIT_PAYMENT") -> int:
        """A new deal of ``company_id`` for our legal entity, with the product rows of deal ``like``."""
        deal_id = int(self.rest("crm.deal.add", {"fields": {"TITLE": f"Поставка для компании {company_id}",
                                                           "COMPANY_ID": company_id, "CATEGORY_ID": 0,
                                                           "STAGE_ID": stage}}))
        self.rest("crm.item.update", {"entityTypeId": 2, "id": deal_id, "fields": {"mycompanyId": mycompany_id}})
        rows = self.rest("crm.deal.productrows.get", {"id": like})
        self.rest("crm.deal.productrows.set", {"id": deal_id, "rows": [
            {k: r[k] for k in ("PRODUCT_ID", "PRODUCT_NAME", "PRICE", "QUANTITY", "TAX_RATE", "TAX_INCLUDED",
                               "MEASURE_NAME") if k in r} for r in rows]})
        return deal_id

    def company_of(self, deal_id: int) -> int:
        return int(self.deal(deal_id)["COMPANY_ID"])

    def inn_of(self, company_id: int) -> str:
        return self.rest("crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": company_id}})[0]["RQ_INN"]

    # --- the app ----------------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        c = self.app.config
        return {"B24APP_DATABASE": str(c.sqlite_path), "B24APP_INSTANCE_PATH": c.instance_path,
                "B24APP_SECRET_KEY": c.secret_key, "B24APP_CLIENT_ID": c.client_id,
                "B24APP_CLIENT_SECRET": c.client_secret, "B24APP_OAUTH_URL": c.oauth_url,
                "B24APP_PUBLIC_URL": c.public_url, "B24APP_ALLOW_PRIVATE_NETWORKS": "1",
                "B24APP_HTTP_TIMEOUT": "15", "B24APP_LOG_FORMAT": "text", "B24APP_LOG_LEVEL": "WARNING"}

    def cli(self, *args: str, ok: bool = True, input: str | None = None) -> Any:
        """Run ``b24app <args>`` in-process against the app's store; with ``--json`` returns the JSON."""
        res = CliRunner().invoke(cli_main, list(args), env=self.env(), input=input, catch_exceptions=False)
        if ok:
            assert res.exit_code == 0, (args, res.exit_code, res.output[-3000:])
        if "--json" in args and res.exit_code == 0:
            text = res.stdout if hasattr(res, "stdout") else res.output
            return json.loads(text[text.index("[") if text.lstrip().startswith("[") else text.index("{"):])
        return res

    def settings(self) -> dict[str, Any]:
        return document.load(self.app.db, self.member_id)

    def update_onec(self, **changes: Any) -> None:
        doc = self.settings()
        onec = dict(doc["onec"])
        for key, value in changes.items():
            onec[key] = {**onec[key], **value} if isinstance(value, dict) and isinstance(onec.get(key), dict) else value
        doc["onec"] = onec
        document.save(self.app.db, self.member_id, doc)


@pytest.fixture
def mp(sandbox: Any, app_factory: Any) -> Iterator[Portal]:
    """МеталПром with the app installed, demo settings, and both 1C bases connected by the CLI."""
    app = app_factory()
    portal = sandbox.new_portal("metalprom")
    member_id = portal["member_id"]
    install(sandbox, app, member_id)
    # the tests read the portal a lot through a webhook and write many comments; the portal's REST budget
    # (2/s on a standard plan) is the core's business and tested there, so it is lifted here
    sandbox.control("PUT", f"/portals/{member_id}/limits", {"enabled": False})
    installations.set_limits(app.db, member_id, drain=200, burst=2000)
    document.save(app.db, member_id, {"general": {"lang": "ru", "timezone": "Europe/Moscow"},
                                      "contracts": contracts_demo({}), "onec": onec_demo({})})
    p = Portal(sandbox, app, member_id, sandbox.webhook(member_id))
    out = p.cli("sync", "connect", "--portal", member_id, "--from-sandbox", sandbox.url, "--json")
    assert [r["ok"] for r in out] == [True, True], out
    yield p
