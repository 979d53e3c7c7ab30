"""The generator control route over real HTTP: the МеталПром lead-funnel preset, its errors, and the
speed of bulk generation and of stage-history pages on a big portal (generous bounds)."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from b24sandbox.seed import generator as gen
from b24sandbox.server import serve_in_thread

_N = itertools.count(1)
MSK = dt.timezone(dt.timedelta(hours=3))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    srv = serve_in_thread(tmp_path_factory.mktemp("sandbox"))
    try:
        yield srv
    finally:
        srv.stop()


class Portal:
    def __init__(self, server: Any, seed: str) -> None:
        self.server = server
        r = requests.post(f"{server.url}/_sandbox/portals",
                          json={"domain": f"g{next(_N)}-{seed}.bitrix24.ru", "seed": seed}, timeout=30)
        assert r.status_code == 201, r.text
        self.member_id = r.json()["member_id"]
        requests.put(f"{server.url}/_sandbox/portals/{self.member_id}/limits", json={"enabled": False}, timeout=10)
        self.hook = requests.post(f"{server.url}/_sandbox/portals/{self.member_id}/webhooks", json={"user_id": 1},
                                  timeout=10).json()["url"]

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        r = requests.post(self.hook + method, json=params or {}, timeout=60)
        assert r.status_code == 200, (method, r.status_code, r.text)
        return r.json()

    def generate(self, body: dict[str, Any]) -> requests.Response:
        return requests.post(f"{self.server.url}/_sandbox/portals/{self.member_id}/generate", json=body, timeout=300)

    def all_pages(self, method: str, params: dict[str, Any], wrapper: str | None = None) -> list[dict[str, Any]]:
        """Every row by the export pattern (``>ID``, ``order {ID: ASC}``, ``start=-1``)."""
        out: list[dict[str, Any]] = []
        last = 0
        while True:
            flt = {**params.get("filter", {}), ">ID": last}
            page = self.call(method, {**params, "filter": flt, "order": {"ID": "ASC"}, "start": -1})["result"]
            rows = page[wrapper] if wrapper else page
            out += rows
            if len(rows) < 50:
                return out
            last = int(rows[-1]["ID"])


def moscow_today(server: Any) -> dt.date:
    state = requests.get(f"{server.url}/_sandbox/clock", timeout=10).json()
    return dt.datetime.fromtimestamp(state["unix"], MSK).date()


def test_metalprom_lead_funnel_preset_loads_the_funnel_table_with_status_history(server: Any) -> None:
    mp = Portal(server, "metalprom")
    before = mp.call("crm.lead.list", {"start": 0})["total"]
    out = mp.generate({"preset": "metalprom_lead_funnel", "rng_seed": 1})
    assert out.status_code == 200, out.text
    body = out.json()
    first = body["first_ids"]["lead"]
    expected = gen.metalprom_lead_funnel(1, start_id=first, assigned_ids=(3, 4, 5), today=moscow_today(server))
    assert body["leads"] == len(expected) == gen.METALPROM_FUNNEL["leads"] == 188
    assert body["history_rows"] == sum(len(lead["history"]) for lead in expected)
    assert mp.call("crm.lead.list", {"start": 0})["total"] == before + 188
    leads = mp.all_pages("crm.lead.list", {"filter": {">=ID": first},
                                           "select": ["ID", "TITLE", "STATUS_ID", "ASSIGNED_BY_ID", "SOURCE_ID",
                                                      "DATE_CREATE", "COMMENTS"]})
    assert [int(lead["ID"]) for lead in leads] == [lead["ID"] for lead in expected]
    for got, want in zip(leads, expected, strict=True):
        assert (got["TITLE"], got["STATUS_ID"], int(got["ASSIGNED_BY_ID"]), got["SOURCE_ID"], got["COMMENTS"]) == \
            (want["TITLE"], want["STATUS_ID"], want["ASSIGNED_BY_ID"], want["SOURCE_ID"], want["COMMENTS"])
        assert got["DATE_CREATE"] == want["history"][0]["CREATED_TIME"]
    # the table: 99 active + 31 converted + 58 junk, per manager as METALPROM_FUNNEL_BY_MANAGER
    status = Counter("active" if lead["STATUS_ID"] in ("NEW", "IN_PROCESS") else lead["STATUS_ID"].lower()
                     for lead in leads)
    assert status == {"active": 99, "converted": 31, "junk": 58}
    for uid, counts in zip((3, 4, 5), gen.METALPROM_FUNNEL_BY_MANAGER, strict=True):
        mine = [lead for lead in leads if lead["ASSIGNED_BY_ID"] == str(uid)]
        assert len(mine) == sum(counts.values())
        assert sum(lead["STATUS_ID"] == "CONVERTED" for lead in mine) == counts["converted"]
        assert sum(lead["STATUS_ID"] == "JUNK" for lead in mine) == counts["junk"]
    assert set(gen.SOURCE_IDS) == {lead["SOURCE_ID"] for lead in leads}
    # the status history of every lead, in order, with the platform's TYPE_ID (1 created, 2 moved, 3 final)
    history = mp.all_pages("crm.stagehistory.list", {"entityTypeId": 1, "filter": {">=OWNER_ID": first}},
                           wrapper="items")
    by_owner: dict[int, list[dict[str, Any]]] = {}
    for row in history:
        by_owner.setdefault(int(row["OWNER_ID"]), []).append(row)
    assert sorted(by_owner) == [lead["ID"] for lead in expected]
    for want in expected:
        rows = by_owner[want["ID"]]
        assert [(r["STATUS_ID"], r["CREATED_TIME"]) for r in rows] == \
            [(s["STATUS_ID"], s["CREATED_TIME"]) for s in want["history"]]
        final = {"CONVERTED": "3", "JUNK": "3"}
        assert [r["TYPE_ID"] for r in rows] == ["1"] + [final.get(r["STATUS_ID"], "2") for r in rows[1:]]
    one = mp.call("crm.stagehistory.list", {"entityTypeId": 1, "filter": {"OWNER_ID": expected[7]["ID"]}})
    assert one["total"] == len(expected[7]["history"])
    # again: the same table once more, after the first one
    again = mp.generate({"preset": "metalprom_lead_funnel", "rng_seed": 1}).json()
    assert again["leads"] == 188 and again["first_ids"]["lead"] == first + 188


def test_preset_errors_and_managers_on_an_empty_portal(server: Any) -> None:
    empty = Portal(server, "empty")
    r = empty.generate({"preset": "no_such_preset"})
    assert r.status_code == 400 and r.json()["error"] == "UNKNOWN_PRESET"
    assert "metalprom_lead_funnel" in r.json()["error_description"]
    r = empty.generate({"preset": "metalprom_lead_funnel"})  # the default managers 3, 4, 5 are not here
    assert r.status_code == 400 and r.json()["error"] == "USER_NOT_FOUND" and "3, 4, 5" in r.json()["error_description"]
    r = empty.generate({"preset": "metalprom_lead_funnel", "assigned_ids": [1, 1]})
    assert r.status_code == 400 and r.json()["error"] == "INVALID_ASSIGNED_IDS"
    assert empty.call("crm.lead.list", {"start": 0})["total"] == 0  # nothing was written
    r = empty.generate({"preset": "metalprom_lead_funnel", "assigned_ids": [1, 1, 1], "rng_seed": 2, "leads": 10})
    assert r.status_code == 200, r.text
    assert r.json()["leads"] == 198 and r.json()["first_ids"]["lead"] == 1
    leads = empty.all_pages("crm.lead.list", {"select": ["ID", "ASSIGNED_BY_ID", "STATUS_ID"]})
    assert len(leads) == 198 and {lead["ASSIGNED_BY_ID"] for lead in leads} == {"1"}
    funnel = Counter(lead["STATUS_ID"] for lead in leads[:188])
    assert funnel["CONVERTED"] == 31 and funnel["JUNK"] == 58


def test_bulk_generation_is_linear_and_history_pages_stay_cheap(server: Any) -> None:
    portal = Portal(server, "empty")
    spec = {"deals": 8000, "returns_per_deal": 2.0}
    timings = []
    for seed_n in (1, 2):
        started = time.monotonic()
        out = portal.generate({**spec, "rng_seed": seed_n}).json()
        timings.append(time.monotonic() - started)
        assert out["deals"] == 8000 and out["product_rows"] > 8000 and out["history_rows"] > 8000 * 4
    # the second batch lands on a portal that already holds the first: it must not cost much more
    # (before the bulk product rows it cost ~20 times more; generous bound for a shared 2-core machine)
    assert timings[1] < 2.5 * timings[0] + 2, timings
    assert max(timings) < 40, timings
    total = portal.call("crm.stagehistory.list", {"entityTypeId": 2, "start": 0})["total"]
    assert total > 16000 * 4
    deal = portal.call("crm.deal.get", {"id": 12345})["result"]
    rows = portal.call("crm.deal.productrows.get", {"id": 12345})["result"]
    assert rows and float(deal["OPPORTUNITY"]) == pytest.approx(sum(r["PRICE"] * r["QUANTITY"] for r in rows),
                                                                abs=0.01)
    # pages at the far end cost what the first one costs (>ID + start=-1, counted offsets, an owner, the
    # chained export's past-the-end pages): far less than one walk over every row (a filter on STAGE_ID)
    started = time.monotonic()
    portal.call("crm.stagehistory.list", {"entityTypeId": 2, "filter": {"STAGE_ID": "WON"}})
    walk = time.monotonic() - started
    timed: dict[str, float] = {}
    for name, params in {
        "first": {"filter": {">ID": 0}, "order": {"ID": "ASC"}, "start": -1},
        "last": {"filter": {">ID": total - 60}, "order": {"ID": "ASC"}, "start": -1},
        "offset": {"start": total - 30},
        "past_the_end": {"filter": {">ID": [{"ID": "1"}]}, "order": {"ID": "ASC"}, "start": -1},
        "owner": {"filter": {"OWNER_ID": 12345}},
    }.items():
        spent = []
        for _ in range(3):
            started = time.monotonic()
            page = portal.call("crm.stagehistory.list", {"entityTypeId": 2, **params})
            spent.append(time.monotonic() - started)
        timed[name] = min(spent)
        if name == "offset":
            assert page["total"] == total and len(page["result"]["items"]) == 30 and "next" not in page
        if name == "past_the_end":
            assert page["result"]["items"] == []
        if name == "owner":
            assert {r["OWNER_ID"] for r in page["result"]["items"]} == {"12345"} and page["total"] >= 1
    assert max(timed.values()) < min(1.0, walk / 3), (timed, walk)
