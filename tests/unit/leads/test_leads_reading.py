"""Reading the portal: several lists in one batch (chained pages, offsets, extra commands), people,
absences from calendar.accessibility.get, loads from list totals; the duplicate index; the
backlog's filter."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from b24app.errors import ConfigError
from b24app.leads import backlog, duplicates, snapshots
from b24app.portal.client import BatchResult
from tests.unit.leads.conftest import demo_settings

MSK = dt.timezone(dt.timedelta(hours=3))


class ListPortal:
    """``batch`` over in-memory lists with ``>ID`` + ``start=-1`` and ``start`` offsets, resolving
    ``$result[key][49][ID]`` references like the portal."""

    def __init__(self, lists: dict[str, list[dict[str, Any]]]) -> None:
        self.lists = lists
        self.requests = 0

    def batch(self, commands: Any, **_kw: Any) -> BatchResult:
        items = list(commands.items()) if isinstance(commands, dict) else [(k, (m, p)) for k, m, p in commands]
        assert len(items) <= 50
        self.requests += 1
        out = BatchResult()
        for key, (method, params) in items:
            rows = self.lists[method]
            flt = dict(params.get("filter") or {})
            if ">ID" in flt:
                ref = flt[">ID"]
                if isinstance(ref, str) and ref.startswith("$result["):
                    prev = ref[len("$result["):].split("]")[0]
                    got = out.results.get(prev) or []
                    ref = got[49]["ID"] if len(got) == 50 else 10**9
                page = [r for r in rows if int(r["ID"]) > int(ref)][:50]
                out.results[key] = page
            else:
                start = int(params.get("start") or 0)
                out.results[key] = rows[start:start + 50]
                out.totals[key] = len(rows)
        return out


def test_read_lists_in_one_request_with_extras() -> None:
    portal = ListPortal({
        "crm.contact.list": [{"ID": str(i)} for i in range(1, 121)],
        "crm.company.list": [{"ID": str(i)} for i in range(1, 31)],
        "user.get": [{"ID": str(i)} for i in range(1, 76)],
        "crm.lead.list": [{"ID": "1"}],
    })
    specs = {"contacts": snapshots.ListSpec("crm.contact.list"), "companies": snapshots.ListSpec("crm.company.list"),
             "users": snapshots.ListSpec("user.get", by_id=False)}
    rows, first = snapshots.read_lists(portal, specs, extra={"n": ("crm.lead.list", {"start": 0})})
    assert [len(rows[k]) for k in ("contacts", "companies", "users")] == [120, 30, 75]
    assert [int(r["ID"]) for r in rows["contacts"]] == list(range(1, 121))
    assert first.totals["n"] == 1
    assert portal.requests == 2  # users: the first page tells the total, the second request takes the rest


def test_people_absences_and_loads() -> None:
    people = snapshots.people_from(
        [{"ID": "4", "NAME": "Иван", "LAST_NAME": "Петров", "ACTIVE": True, "UF_DEPARTMENT": [2]},
         {"ID": "9", "NAME": "Сергей", "LAST_NAME": "Козлов", "ACTIVE": "N", "UF_DEPARTMENT": ["2"]}],
        [{"ID": "2", "NAME": "Отдел продаж", "PARENT": "1", "UF_HEAD": "2"}, {"ID": "3", "NAME": "Группа"}])
    assert people["users"]["4"] == {"id": 4, "name": "Петров Иван", "active": True, "departments": [2]}
    assert people["users"]["9"]["active"] is False
    assert people["departments"]["3"] == {"id": 3, "name": "Группа", "parent": None, "head": None}
    now = dt.datetime(2026, 10, 6, 11, 0, tzinfo=MSK)
    answer = {"3": [{"ACCESSIBILITY": "absent", "DATE_FROM": "04.10.2026", "DATE_TO": "11.10.2026",
                     "TZ_FROM": "Europe/Moscow"}],
              "4": [{"ACCESSIBILITY": "busy", "DATE_FROM": "06.10.2026 10:00:00", "DATE_TO": "06.10.2026 12:00:00"}],
              "5": [{"ACCESSIBILITY": "absent", "DATE_FROM": "06.10.2026 14:00:00",
                     "DATE_TO": "06.10.2026 18:00:00"}]}
    assert snapshots.absent_from_accessibility(answer, now) == {"3": "2026-10-11"}
    res = BatchResult(results={"ll4": [], "dl4": []}, totals={"ll4": 12, "dl4": 3})
    assert snapshots.loads_from(res, [4]) == {"4": 15}


def test_duplicate_index_prefers_open_deals_and_matches_any_spelling() -> None:
    idx = duplicates.index_from_lists(
        contacts=[{"ID": "27", "NAME": "Павел", "LAST_NAME": "Смирнов", "ASSIGNED_BY_ID": "4",
                   "PHONE": [{"VALUE": "+7 (912) 345-67-89"}], "EMAIL": [{"VALUE": "Pavel@Stroy.RU"}]}],
        companies=[{"ID": "3", "TITLE": "ООО «Строй»", "ASSIGNED_BY_ID": "5", "PHONE": [{"VALUE": "83432100000"}]}],
        deals=[{"ID": "60", "TITLE": "Поставка", "ASSIGNED_BY_ID": "5", "CONTACT_ID": "27"},
               {"ID": "61", "TITLE": "Поставка 2", "ASSIGNED_BY_ID": "4", "CONTACT_ID": "27"}],
        leads=[{"ID": "100", "TITLE": "Старый лид", "ASSIGNED_BY_ID": "3", "PHONE": [{"VALUE": "89123456789"}]}])
    lead = {"ID": "200", "PHONE": [{"VALUE": "8 912 345 67 89"}]}
    found = idx.find(lead, exclude=("lead", 200))
    assert [(m.kind, m.entity_id, m.owner_id) for m in found] == [("deal", 61, 4), ("deal", 60, 5),
                                                                ("contact", 27, 4), ("lead", 100, 3)]
    assert found[0].parent_kind == "contact" and found[0].parent_title == "Павел Смирнов"
    by_mail = idx.find({"ID": "201", "EMAIL": [{"VALUE": "pavel@stroy.ru "}]})
    assert by_mail[-1].kind == "contact" and by_mail[-1].via == "email"
    assert idx.find({"ID": "202", "PHONE": [{"VALUE": "+7 343 210-00-00"}]})[0].kind == "company"
    assert idx.find({"ID": "203", "PHONE": [{"VALUE": "не скажу"}]}) == []
    idx.add_lead(200, 5, duplicates.keys_of(lead), "Новый")
    assert ("lead", 200) in [(m.kind, m.entity_id) for m in idx.find({"ID": "204", "PHONE": [{"VALUE": "79123456789"}]})]


def test_backlog_filter() -> None:
    s = demo_settings()
    assert backlog.effective_filter(s, {}) == {"STATUS_ID": "NEW", "@ASSIGNED_BY_ID": [1]}
    user = backlog.parse_filter([">=DATE_CREATE=2026-01-01", "@SOURCE_ID=EMAIL, WEBFORM", "ASSIGNED_BY_ID=9"])
    assert user == {">=DATE_CREATE": "2026-01-01", "@SOURCE_ID": ["EMAIL", "WEBFORM"], "ASSIGNED_BY_ID": "9"}
    assert backlog.effective_filter(s, user) == {"STATUS_ID": "NEW", ">=DATE_CREATE": "2026-01-01",
                                                 "@SOURCE_ID": ["EMAIL", "WEBFORM"], "ASSIGNED_BY_ID": "9"}
    with pytest.raises(ConfigError, match="FIELD=VALUE"):
        backlog.parse_filter(["SOURCE_ID"])
    assert backlog.without_caps(s)["distribution"]["caps"] == {"daily": None, "open": None, "users": {}}
    assert s["distribution"]["caps"]["daily"] == 150  # the original is untouched
