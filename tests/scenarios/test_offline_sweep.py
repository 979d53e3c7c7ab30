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
    assert [r for r in queue if r.get("EVENT_NAME") == "ONCRMCONTACTADD"] == []  # cleared after storing
