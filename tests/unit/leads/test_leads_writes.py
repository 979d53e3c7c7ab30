"""Writing decisions: one batch per 50 commands, effect keys so a lost answer never doubles a
comment (the pending key is looked up in the timeline first), notifications with a TAG, failures
per lead recorded without stopping the others."""

from __future__ import annotations

from typing import Any

import pytest

from b24app.errors import BitrixError, TransportError
from b24app.leads import apply as writer
from b24app.leads import engine, store
from b24app.portal.client import BatchResult
from tests.unit.leads.conftest import PETROV, ZUEVA, make_world


class FakePortal:
    """Just enough of a portal: leads, timeline comments, notifications, user fields, batch."""

    client_endpoint = "https://metalprom.bitrix24.ru/rest/"

    def __init__(self) -> None:
        self.leads: dict[int, dict[str, Any]] = {}
        self.comments: list[dict[str, Any]] = []
        self.notes: list[dict[str, Any]] = []
        self.requests = 0
        self.lose_answer_once = False
        self.missing: set[int] = set()
        self.userfields: list[str] = []
        self.calls: list[str] = []
        self.refuse_fields = False

    def call(self, method: str, params: dict[str, Any]) -> Any:
        self.calls.append(method)
        if method == "crm.lead.userfield.add":
            if self.refuse_fields:
                raise BitrixError("ACCESS_DENIED", "Access denied", 403, method)
            self.userfields.append("UF_CRM_" + params["fields"]["FIELD_NAME"])
            return len(self.userfields)
        if method == "crm.lead.userfield.list":
            return [{"FIELD_NAME": f} for f in self.userfields if f == params["filter"]["FIELD_NAME"]]
        raise AssertionError(method)

    def _one(self, method: str, p: dict[str, Any]) -> Any:
        if method == "crm.lead.update":
            if p["id"] in self.missing:
                raise BitrixError("", "Not found", 400, method)
            self.leads.setdefault(p["id"], {}).update(p["fields"])
            return True
        if method == "crm.timeline.comment.add":
            self.comments.append(dict(p["fields"], ID=len(self.comments) + 1))
            return len(self.comments)
        if method == "crm.timeline.comment.list":
            f = p["filter"]
            return [c for c in reversed(self.comments) if c["ENTITY_ID"] == f["ENTITY_ID"]]
        if method == "im.notify.system.add":
            self.notes = [n for n in self.notes if not (n["TAG"] == p["TAG"] and n["USER_ID"] == p["USER_ID"])]
            self.notes.append(dict(p))
            return len(self.notes)
        raise AssertionError(method)

    def batch(self, commands: Any, **_kw: Any) -> BatchResult:
        items = list(commands.items()) if isinstance(commands, dict) else [(k, (m, p)) for k, m, p in commands]
        out = BatchResult()
        for start in range(0, len(items), 50):
            self.requests += 1
            for key, (method, params) in items[start:start + 50]:
                try:
                    out.results[key] = self._one(method, params)
                except BitrixError as exc:
                    out.errors[key] = exc
        if self.lose_answer_once:
            self.lose_answer_once = False
            raise TransportError("answer lost after the portal committed")
        return out


def lead(i: int) -> dict:
    return {"ID": str(i), "TITLE": f"Лид {i}", "SOURCE_ID": "CALL", "STATUS_ID": "NEW", "ASSIGNED_BY_ID": "1",
            "PHONE": [{"VALUE": f"+7 912 000 00 {i:02d}"}]}


@pytest.fixture
def decided(services):
    world = make_world(member_id="m1")
    items = [lead(i) for i in range(1, 31)]
    return world, items, engine.decide_and_save(services.db, world, items)


def test_thirty_leads_in_two_requests_once(services, decided) -> None:
    world, items, decisions = decided
    portal = FakePortal()
    out = writer.apply(portal, services.db, "m1", world.settings, decisions, items={int(i["ID"]): i for i in items},
                       notify_each=False, watch=False)
    assert portal.requests == 2 and out.commands == 60 and len(out.applied) == 30
    assert portal.calls == ["crm.lead.userfield.add"]  # the reason field, made at the first write
    assert {v["ASSIGNED_BY_ID"] for v in portal.leads.values()} == {PETROV, ZUEVA}
    by_id = {d.entity_id: d for d in decisions}
    assert all(v["UF_CRM_B24APP_REASON"] == by_id[k].explanation["summary"]["ru"] for k, v in portal.leads.items())
    assert len(portal.comments) == 30 and portal.notes == []
    assert all(d.status == "applied" for d in store.recent(services.db, "m1", limit=100))
    writer.apply(portal, services.db, "m1", world.settings, decisions)  # again: nothing to do
    assert portal.requests == 2 and portal.calls == ["crm.lead.userfield.add"]
    assert store.find_comms(services.db, "m1", ["79120000001"])[0]["owner_id"] == decisions[0].user_id


def test_a_lost_answer_does_not_double_the_comment(services, decided) -> None:
    world, items, decisions = decided
    portal = FakePortal()
    portal.lose_answer_once = True
    with pytest.raises(TransportError):
        writer.apply(portal, services.db, "m1", world.settings, decisions[:2], notify_each=True)
    assert len(portal.comments) == 2 and len(portal.notes) == 2  # the portal did it, we did not hear
    writer.apply(portal, services.db, "m1", world.settings, decisions[:2], notify_each=True)
    assert len(portal.comments) == 2  # found in the timeline, not written again
    assert len(portal.notes) == 2  # re-sent with the same TAG: replaced, not doubled
    assert [n["TAG"] for n in portal.notes] == ["b24app_lead_lead_1", "b24app_lead_lead_2"]
    assert "[URL=https://metalprom.bitrix24.ru/crm/lead/details/1/]" in portal.notes[0]["MESSAGE"]


def test_a_missing_lead_fails_alone(services, decided) -> None:
    world, items, decisions = decided
    portal = FakePortal()
    portal.missing = {3}
    out = writer.apply(portal, services.db, "m1", world.settings, decisions[:5], notify_each=False)
    assert list(out.failed) == [decisions[2].id] and len(out.applied) == 4
    assert store.decision(services.db, "m1", decisions[2].id).status == "failed"


def test_a_portal_refusing_the_reason_field_still_gets_its_assignments(services, decided) -> None:
    world, items, decisions = decided
    portal = FakePortal()
    portal.refuse_fields = True
    out = writer.apply(portal, services.db, "m1", world.settings, decisions[:3], notify_each=False)
    assert len(out.applied) == 3 and len(portal.comments) == 3
    assert all("UF_CRM_B24APP_REASON" not in v and v["ASSIGNED_BY_ID"] for v in portal.leads.values())
    asked = list(portal.calls)
    assert asked == ["crm.lead.userfield.add", "crm.lead.userfield.list"]  # made? no; exists? no
    writer.apply(portal, services.db, "m1", world.settings, decisions[3:6], notify_each=False)
    assert portal.calls == asked  # the refusal is remembered: not asked again for every batch


def test_the_reason_field_switched_off(services, decided) -> None:
    world, items, decisions = decided
    settings = {**world.settings, "distribution": {**world.settings["distribution"],
                                                   "notify": {"reason_field": "", "timeline": False}}}
    portal = FakePortal()
    out = writer.apply(portal, services.db, "m1", settings, decisions[:3], notify_each=False)
    assert len(out.applied) == 3 and portal.calls == [] and portal.comments == []
    assert all(set(v) == {"ASSIGNED_BY_ID"} for v in portal.leads.values())
