"""Leads created while the app is down reach their subscriber through the offline sweep; a change
that was also delivered online is not processed twice."""

from __future__ import annotations

import pytest
import requests

from b24app.jobs import registry
from b24app.store import jobs
from tests.scenarios.conftest import install

SEEN: list[str] = []


@pytest.fixture
def offline_subscription():
    registry.load_plugins()

    def handler(ctx, event):
        SEEN.append(str(event["data"]["FIELDS"]["ID"]))
        return {"ok": True}

    registry.REGISTRY.subscriptions["test.offline"] = registry.Subscription(
        "test.offline", ("ONCRMCONTACTADD",), handler, offline=True)
    yield
    registry.REGISTRY.subscriptions.pop("test.offline")
    SEEN.clear()


def test_changes_made_while_the_app_was_down_are_swept_in(sandbox, app_factory, offline_subscription) -> None:
    app = app_factory()
    portal = sandbox.new_portal("empty")
    m = portal["member_id"]
    install(sandbox, app, m)
    hook = sandbox.webhook(m)
    online = requests.post(hook + "crm.contact.add.json", json={"fields": {"NAME": "Онлайн"}}, timeout=10).json()["result"]
    sandbox.wait_deliveries()
    app.server.shutdown()  # the app is down: online deliveries fail and are never retried
    down = [requests.post(hook + "crm.contact.add.json", json={"fields": {"NAME": f"Офлайн {i}"}},
                          timeout=10).json()["result"] for i in range(3)]
    sandbox.wait_deliveries()
    jobs.enqueue(app.db, "events.offline_sweep", member_id=m)
    app.drain()
    assert sorted(SEEN) == sorted(str(i) for i in [online, *down])  # each once
    queue = sandbox.control("GET", f"/portals/{m}/events/offline")
    # cleared after storing (the control API's rows carry the portal's own column names)
    assert [r["event_name"] for r in queue if r["event_name"] == "ONCRMCONTACTADD"] == []


def test_a_batch_reserved_by_a_lost_answer_is_taken_back(sandbox, app_factory, offline_subscription) -> None:
    """``event.offline.get`` with ``clear=0`` reserves its batch on the portal even when its answer is
    lost (a timeout, a 5xx after the commit, a killed worker); a plain get never hands that batch out
    again. The next sweep finds it by its ``PROCESS_ID``, re-reads, stores and clears it."""
    from b24app.portal.client import client_for

    app = app_factory()
    portal = sandbox.new_portal("empty")
    m = portal["member_id"]
    install(sandbox, app, m)
    hook = sandbox.webhook(m)
    app.server.shutdown()
    down = [requests.post(hook + "crm.contact.add.json", json={"fields": {"NAME": f"Офлайн {i}"}},
                          timeout=10).json()["result"] for i in range(5)]
    sandbox.wait_deliveries()
    client = client_for(app.config, app.db, m)
    lost = client.call("event.offline.get", {"clear": 0, "limit": 3, "filter": {"EVENT_NAME": "ONCRMCONTACTADD"}})
    assert len(lost["events"]) == 3 and lost["process_id"]  # reserved; the app never sees this answer
    queue = sandbox.control("GET", f"/portals/{m}/events/offline")
    assert sum(1 for r in queue if r["process_id"] == lost["process_id"]) == 3

    jobs.enqueue(app.db, "events.offline_sweep", member_id=m)
    app.drain()
    assert sorted(SEEN) == sorted(str(i) for i in down)  # each once, the reserved three included
    done = jobs.list_jobs(app.db, member_id=m, kind="events.offline_sweep")
    assert [(j.status, j.result["taken_back"], j.result["taken"]) for j in done] == [("done", 3, 2)]
    queue = sandbox.control("GET", f"/portals/{m}/events/offline")
    assert [r["event_name"] for r in queue if r["event_name"] == "ONCRMCONTACTADD"] == []

    jobs.enqueue(app.db, "events.offline_sweep", member_id=m)  # nothing left: nothing taken twice
    app.drain()
    assert sorted(SEEN) == sorted(str(i) for i in down)
