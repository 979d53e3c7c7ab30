"""The big-list methods answer exactly what a plain ``listing.paginate`` over every row answers.

The list methods narrow their rows through per-portal indexes (stage history by type, owner and
time; tasks by member; comments by item; product rows by owner ...) and count ID-only pages by
bisection (``_common.fast_paginate``). Each test here computes the answer the way the methods did
before those indexes existed — ``paginate`` over a freshly built list of every row — and compares it
with the method's answer for many filters, orders, offsets and selects, before and after writes
that the indexes must follow (in-process portal, see harness.py)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from b24sandbox.portal.api import ListResult
from b24sandbox.portal.listing import paginate
from b24sandbox.portal.methods import crm_entities, crm_misc, crm_products, seed, tasks
from b24sandbox.portal.methods._common import MSK, TableView, TimeIndex, fast_paginate, id_only_bounds

from .harness import Harness

HISTORY_TYPES = {"ID": "integer", "TYPE_ID": "integer", "OWNER_ID": "integer", "CREATED_TIME": "datetime",
                 "CATEGORY_ID": "integer", "STAGE_SEMANTIC_ID": "string", "STAGE_ID": "string",
                 "STATUS_SEMANTIC_ID": "string", "STATUS_ID": "string"}
ORDERS: list[Any] = [None, {"ID": "DESC"}, {"id": "asc"}, {"CREATED_TIME": "DESC", "ID": "ASC"}]
STARTS: list[Any] = [0, 50, -1, 10_000]


def same(got: ListResult, want: ListResult, context: Any) -> None:
    assert (got.items, got.total, got.next) == (want.items, want.total, want.next), context


@pytest.fixture(scope="module")
def h() -> Harness:
    h = Harness()
    seed.generate(h.portal, {"leads": 150, "deals": 160, "companies": 6, "contacts": 8, "rng_seed": 4,
                             "returns_per_deal": 1.5})
    return h


def history_reference(h: Harness, params: dict[str, Any]) -> ListResult:
    """crm.stagehistory.list as it was: paginate over every history row of the type, rendered."""
    etid = int(params["entityTypeId"])
    rows = [crm_entities.history_out(r) for r in crm_entities.history(h.portal).values()
            if r["ENTITY_TYPE_ID"] == etid]
    page = paginate(rows, filter=params.get("filter"), order=params.get("order"), select=params.get("select"),
                    start=params.get("start"), field_types=HISTORY_TYPES, tz=MSK)
    page.items = {"items": page.items}
    return page


def history_filters(h: Harness, etid: int) -> list[Any]:
    rows = [r for r in crm_entities.history(h.portal).values() if r["ENTITY_TYPE_ID"] == etid]
    mid, last = rows[len(rows) // 2], rows[-1]
    owner, other = rows[3]["OWNER_ID"], rows[-3]["OWNER_ID"]
    when = sorted(r["CREATED_TIME"] for r in rows)
    early, late = when[len(when) // 4], when[3 * len(when) // 4]
    day = late[:10]
    ru = f"{day[8:10]}.{day[5:7]}.{day[:4]}"
    return [
        None, {}, {">ID": mid["ID"]}, {">ID": str(mid["ID"]), "<=ID": last["ID"] - 5}, {"=ID": mid["ID"]},
        {"ID": mid["ID"], ">ID": mid["ID"]}, {">=ID": mid["ID"], "<ID": mid["ID"]}, {">ID": [1, 2]},
        {">ID": {"0": {"ID": 5}}}, {">ID": ""}, {">ID": None}, {"<ID": "abc"}, {">ID": "1,5"}, {">ID": True},
        {"id": mid["ID"]}, {"@ID": [mid["ID"], last["ID"]]}, {"!ID": mid["ID"]},
        {"OWNER_ID": owner}, {"OWNER_ID": str(owner)}, {"OWNER_ID": f"{owner}.0"}, {"OWNER_ID": "5.5"},
        {"OWNER_ID": [owner, other]}, {"@OWNER_ID": [owner, "x", other]}, {"@OWNER_ID": f"{owner},{other}"},
        {"OWNER_ID": ""}, {"!OWNER_ID": owner}, {"owner_id": owner, ">ID": 0}, {">OWNER_ID": owner},
        {"OWNER_ID": []}, {"OWNER_ID": owner, "@OWNER_ID": [other]},
        {">=CREATED_TIME": late}, {">CREATED_TIME": late}, {"<CREATED_TIME": early}, {"<=CREATED_TIME": early},
        {"CREATED_TIME": late}, {"><CREATED_TIME": [early, late]}, {">=CREATED_TIME": ru},
        {">=CREATED_TIME": day}, {">=CREATED_TIME": "abc"}, {">=CREATED_TIME": late.replace("+03:00", "Z")},
        {">=CREATED_TIME": late[:19]}, {">=CREATED_TIME": early, "<CREATED_TIME": late, ">ID": mid["ID"]},
        {"CREATED_TIME": ""}, {">=CREATED_TIME": [late]}, {"><CREATED_TIME": [early]},
        {">=CREATED_TIME": early, "OWNER_ID": owner},
        {"LOGIC": "OR", "OWNER_ID": owner, ">=CREATED_TIME": late}, {"0": {"OWNER_ID": owner}, ">ID": 0},
        {"STAGE_ID": "WON"}, {"STATUS_ID": "JUNK"}, {"TYPE_ID": 3, ">ID": mid["ID"]}, {"NOPE": 1},
    ]


def compare_history(h: Harness, etid: int) -> int:
    checked = 0
    for flt, order, start in itertools.product(history_filters(h, etid), ORDERS, STARTS):
        params = {"entityTypeId": etid, "filter": flt, "order": order, "start": start}
        same(h.call("crm.stagehistory.list", params), history_reference(h, params), params)
        checked += 1
    for select in (["ID", "OWNER_ID"], ["*"]):
        params = {"entityTypeId": etid, "filter": {">ID": 3}, "select": select, "start": 0}
        same(h.call("crm.stagehistory.list", params), history_reference(h, params), params)
    return checked


@pytest.mark.parametrize("etid", [1, 2])
def test_stage_history_answers_as_a_walk_over_every_row(h: Harness, etid: int) -> None:
    assert compare_history(h, etid) > 800


def test_stage_history_indexes_follow_writes() -> None:
    h = Harness()
    seed.generate(h.portal, {"leads": 40, "deals": 40, "rng_seed": 9})
    compare_history(h, 2)  # every index is built now
    later_filter = {"entityTypeId": 2, "filter": {">=CREATED_TIME": "2027-01-01"}}
    assert h.call("crm.stagehistory.list", later_filter).total == 0
    did = h.call("crm.deal.add", {"fields": {"TITLE": "новая", "STAGE_ID": "NEW"}})
    for stage in ("PREPARATION", "WON"):
        h.call("crm.deal.update", {"id": did, "fields": {"STAGE_ID": stage}})
    seed.generate(h.portal, {"deals": 30, "rng_seed": 10})
    h.portal.clock = h.portal.clock.replace(year=2027)  # a move far later than every generated row
    h.call("crm.deal.update", {"id": 5, "fields": {"STAGE_ID": "LOSE"}})
    lid = h.call("crm.lead.add", {"fields": {"TITLE": "лид"}})
    h.call("crm.lead.update", {"id": lid, "fields": {"STATUS_ID": "IN_PROCESS"}})
    compare_history(h, 2)
    compare_history(h, 1)
    mine = h.call("crm.stagehistory.list", {"entityTypeId": 2, "filter": {"OWNER_ID": did}})
    assert [r["STAGE_ID"] for r in mine.items["items"]] == ["NEW", "PREPARATION", "WON"]
    later = h.call("crm.stagehistory.list", later_filter)
    assert [(r["OWNER_ID"], r["STAGE_ID"]) for r in later.items["items"]] == [("5", "LOSE")]


def test_time_index_keeps_rows_without_a_readable_time() -> None:
    idx = TimeIndex("T", lambda r: r["G"])
    rows = {1: "2026-10-05T10:00:00+03:00", 2: "", 3: "2026-10-05T12:00:00+03:00", 4: None, 5: "вчера",
            6: "2026-10-06"}
    for rid, when in rows.items():
        idx.add(rid, {"T": when, "G": "a"})
    idx.add(7, {"T": "2026-10-05T11:00:00+03:00", "G": "b"})
    noon = dt.datetime(2026, 10, 5, 12, tzinfo=MSK).timestamp()
    assert idx.ids_between("a", noon - 1, noon + 1) == [2, 3, 4, 5]
    assert idx.ids_between("a", float("-inf"), float("inf")) == [1, 2, 3, 4, 5, 6]
    assert idx.ids_between("a", float("-inf"), float("inf"), limit=2) is None  # 3 readable times
    assert idx.ids_between("a", float("-inf"), float("inf"), limit=3) == [1, 2, 3, 4, 5, 6]
    idx.remove(3, {"T": rows[3], "G": "a"})
    idx.remove(2, {"T": "", "G": "a"})
    idx.add(8, {"T": "2026-10-05T12:00:00+03:00", "G": "a"})
    assert idx.ids_between("a", noon - 1, noon + 1) == [4, 5, 8]
    idx.remove(8, {"T": "2026-10-05T12:00:00+03:00", "G": "a"})
    idx.add(9, {"T": "2026-10-05T12:00:00+03:00", "G": "a"})
    idx.remove(9, {"T": "2026-10-05T12:00:00+03:00", "G": "a"})  # still waiting to be merged
    assert idx.ids_between("a", noon - 1, noon + 1) == [4, 5]


def test_id_only_bounds() -> None:
    assert id_only_bounds(None) == (float("-inf"), True, float("inf"), True)
    assert id_only_bounds({">ID": 5, "<=ID": "9"}) == (5, False, 9, True)
    assert id_only_bounds({"=ID": 5, ">ID": 5}) == (5, False, 5, True)  # empty: AND keeps the exclusive bound
    assert id_only_bounds({">ID": 5, "=ID": 5}) == (5, False, 5, True)
    for flt in ({">ID": [1]}, {"@ID": [1]}, {"!ID": 1}, {">ID": "1,5"}, {"ID": ""}, {"TITLE": "x"}, "x"):
        assert id_only_bounds(flt) is None, flt


def test_fast_paginate_is_paginate() -> None:
    rows = [{"ID": i, "N": i % 7, "T": f"t{i}"} for i in range(1, 400, 3)]
    view = TableView.__new__(TableView)
    view.ids, view.rows, view.render = [r["ID"] for r in rows], {r["ID"]: r for r in rows}, None
    types = {"ID": "integer", "N": "integer"}
    filters: list[Any] = [None, {}, {">ID": 100}, {">ID": 100, "<ID": 200}, {">=ID": 4, "<=ID": 4},
                          {"=ID": 5}, {"ID": 7}, {"<ID": 0}, {">ID": [1]}, {"N": 3, ">ID": 50}, "junk",
                          {"LOGIC": "OR", ">ID": 390, "<ID": 5}, {">ID": 1e9}]
    for flt, order, start in itertools.product(filters, [None, {"ID": "DESC"}, {"N": "ASC"}], [0, 50, 120, -1]):
        for select in (None, ["ID"]):
            kw = {"filter": flt, "order": order, "start": start, "select": select, "field_types": types}
            same(fast_paginate(view, **kw), paginate(rows, **kw), kw)


def legacy_reference(h: Harness, entity: str, params: dict[str, Any]) -> ListResult:
    types = crm_entities.list_field_types(h.portal, entity)
    known = list(types) + list(crm_entities.MULTIFIELDS)
    if entity == "deal":
        known += sorted({k for r in crm_entities.rows(h.portal, entity).values() for k in r
                         if k.startswith("PARENT_ID_")})
    page = paginate(TableView(crm_entities.rows(h.portal, entity)), filter=params.get("filter"),
                    order=params.get("order"), select=params.get("select"), start=params.get("start"),
                    field_types=types, known_fields=known, always_select=("ID",), tz=MSK)
    page.items = [crm_entities.render_legacy(h.portal, entity, r, set(r)) for r in page.items]
    return page


def test_legacy_and_item_lists_answer_as_before() -> None:
    h = Harness()
    seed.generate(h.portal, {"leads": 130, "deals": 130, "companies": 4, "rng_seed": 6})
    h.call("crm.deal.update", {"id": 7, "fields": {"PARENT_ID_1220": 3}})
    for entity, flt, order, start in itertools.product(
            ("lead", "deal"), [None, {">ID": 60}, {">ID": 60, "<ID": 100}, {"=ID": 9}, {">ID": [1]},
                               {"STAGE_ID": "NEW"}, {"PARENT_ID_1220": 3}, {">ID": ""}],
            [None, {"ID": "DESC"}, {"TITLE": "ASC"}], [0, 50, -1]):
        params = {"filter": flt, "order": order, "start": start, "select": ["ID", "TITLE"]}
        same(h.call(f"crm.{entity}.list", params), legacy_reference(h, entity, params), (entity, params))
    h.call("crm.deal.delete", {"id": 7})  # the last deal with PARENT_ID_1220: the field is unknown again
    params = {"filter": {"PARENT_ID_1220": 3}, "start": 0}
    same(h.call("crm.deal.list", params), legacy_reference(h, "deal", params), params)
    assert h.call("crm.deal.list", params).total == 129
    every = h.call("crm.item.list", {"entityTypeId": 2, "select": ["id"], "start": 0})
    assert every.total == 129 and every.next == 50
    assert h.call("crm.item.list", {"entityTypeId": 2, "start": 100}).total == 129
    last = h.call("crm.item.list", {"entityTypeId": 2, "order": {"ID": "DESC"}, "select": ["id"],
                                    "filter": {"<id": 100}, "start": 50})
    assert [i["id"] for i in last.items["items"]][:2] == [49, 48] and last.total == 98 and last.next is None
    assert h.call("crm.item.list", {"entityTypeId": 2, "filter": {">ID": [5]}}).total == 0


def test_tasks_member_checklist_and_task_activities_follow_writes(h: Harness) -> None:
    for i in range(2, 5):
        h.call("user.add", {"EMAIL": f"u{i}@metal.ru", "NAME": f"U{i}"})
    made = []
    for i in range(60):
        fields = {"TITLE": f"t{i}", "RESPONSIBLE_ID": 1 + i % 4, "CREATED_BY": 1}
        if i % 5 == 0:
            fields["AUDITORS"] = [3]
        if i % 7 == 0:
            fields["UF_CRM_TASK"] = ["D_1", "D_2"]
        made.append(int(h.call("tasks.task.add", {"fields": fields})["task"]["id"]))
    h.call("tasks.task.update", {"taskId": made[1], "fields": {"RESPONSIBLE_ID": 4, "ACCOMPLICES": [2]}})
    h.call("tasks.task.update", {"taskId": made[7], "fields": {"TITLE": "renamed"}})
    h.call("tasks.task.delete", {"taskId": made[2]})
    for member, start in itertools.product((1, 2, 3, 4, 99), (0, 50, -1)):
        want = [r for r in tasks.tasks(h.portal).values()
                if member in (r["RESPONSIBLE_ID"], r["CREATED_BY"], *r.get("ACCOMPLICES", []), *r.get("AUDITORS", []))]
        ref = paginate(want, start=start, field_types=tasks._LIST_TYPES, select=["*", "UF_*"])
        got = h.call("tasks.task.list", {"filter": {"MEMBER": member}, "start": start, "select": ["ID"]})
        assert [t["id"] for t in got.items["tasks"]] == [str(r["ID"]) for r in ref.items], (member, start)
        assert (got.total, got.next) == (ref.total, ref.next)
    acts = [r for r in crm_misc.activities(h.portal).values() if r["TYPE_ID"] == 3]
    assert sorted((r["ASSOCIATED_ENTITY_ID"], r["OWNER_ID"]) for r in acts) == \
        sorted((t, d) for t in made if made.index(t) % 7 == 0 for d in (1, 2))
    renamed = [r for r in acts if r["ASSOCIATED_ENTITY_ID"] == made[7]]
    assert [r["SUBJECT"] for r in renamed] == ["renamed", "renamed"]
    task = made[14]
    items = [h.call("task.checklistitem.add", {"TASKID": task, "FIELDS": {"TITLE": f"c{i}"}}) for i in range(3)]
    h.call("task.checklistitem.add", {"TASKID": made[15], "FIELDS": {"TITLE": "other"}})
    h.call("task.checklistitem.complete", {"TASKID": task, "ITEMID": items[1]})
    h.call("task.checklistitem.delete", {"TASKID": task, "ITEMID": items[0]})
    listed = h.call("task.checklistitem.getlist", {"TASKID": task})
    assert [(int(i["ID"]), i["IS_COMPLETE"]) for i in listed] == [(items[1], "Y"), (items[2], "N")]
    assert [r["ID"] for r in tasks.checklist_of(h.portal, task)] == [items[1], items[2]]
    h.call("tasks.task.delete", {"taskId": made[7]})
    assert not [r for r in crm_misc.activities(h.portal).values() if r["ASSOCIATED_ENTITY_ID"] == made[7]
                and r["TYPE_ID"] == 3]


def test_timeline_comments_and_activities_answer_as_before() -> None:
    h = Harness()
    seed.generate(h.portal, {"deals": 30, "rng_seed": 2})
    for i in range(120):
        h.call("crm.timeline.comment.add", {"fields": {"ENTITY_ID": 1 + i % 9, "ENTITY_TYPE": "deal",
                                                       "COMMENT": f"c{i}"}})
    h.call("crm.timeline.comment.delete", {"id": 5})
    h.call("crm.timeline.comment.update", {"id": 6, "fields": {"COMMENT": "changed"}})
    for i in range(70):
        h.call("crm.activity.todo.add", {"ownerTypeId": 2, "ownerId": 1 + i % 5, "deadline": "2026-10-09T18:00:00"})
    known = ["ID", "CREATED", "ENTITY_ID", "ENTITY_TYPE", "AUTHOR_ID", "COMMENT", "FILES"]
    types = {"ID": "integer", "ENTITY_ID": "integer", "AUTHOR_ID": "integer", "CREATED": "datetime"}
    filters: list[Any] = [None, {"ENTITY_ID": 3}, {"ENTITY_ID": "3", "ENTITY_TYPE": "deal"}, {"@ENTITY_ID": [2, 4]},
                          {"entity_id": [2, "x"]}, {"ENTITY_ID": "2.5"}, {">ID": 50}, {">ID": 50, "ENTITY_ID": 1},
                          {"LOGIC": "OR", "ENTITY_ID": 1, "ID": 6}, {"ENTITY_ID": ""}, {"COMMENT": "changed"},
                          {"ENTITY_ID": 3, "@ENTITY_ID": [4]}]
    for flt, order, start in itertools.product(filters, [None, {"ID": "DESC"}], [0, 50, -1]):
        upper = {str(k).upper(): v for k, v in flt.items()} if isinstance(flt, dict) else {}
        rows = [crm_misc.comment_out(r) for r in crm_misc.comments(h.portal).values()]
        ref = paginate(rows, filter=upper, order=order, start=start, field_types=types, known_fields=known, tz=MSK)
        same(h.call("crm.timeline.comment.list", {"filter": flt, "order": order, "start": start}), ref,
             (flt, order, start))
    for flt, start in itertools.product([None, {">ID": 20}, {"OWNER_ID": 3}, {">ID": [1]}], [0, 50, -1]):
        got = h.call("crm.activity.list", {"filter": flt, "start": start, "select": ["ID", "OWNER_ID"]})
        want = [r for r in crm_misc.activities(h.portal).values() if flt is None or (
            ">ID" in flt and not isinstance(flt[">ID"], list) and r["ID"] > flt[">ID"]) or (
            "OWNER_ID" in flt and r["OWNER_ID"] == flt["OWNER_ID"])]
        assert got.total == (len(want) if start != -1 else None), (flt, start)
        offset = max(int(start), 0)
        assert [r["ID"] for r in got.items] == [str(r["ID"]) for r in want[offset:offset + 50]], (flt, start)


def test_duplicates_index_follows_every_write(h: Harness) -> None:
    def reference(kind: str, value: str) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        key = crm_misc.normalize_comm(kind, value)
        for entity in ("lead", "contact", "company"):
            ids = sorted(r["ID"] for r in crm_entities.rows(h.portal, entity).values()
                         if key and any(crm_misc.normalize_comm(kind, i["VALUE"]) == key for i in r.get(kind) or []))
            if ids:
                out[entity.upper()] = ids[:20]
        return out

    lead = h.call("crm.lead.add", {"fields": {"TITLE": "x", "PHONE": [{"VALUE": "8 (999) 111-22-33"}],
                                              "EMAIL": [{"VALUE": "A@Metal.ru"}]}})
    contact = h.call("crm.contact.add", {"fields": {"NAME": "y", "PHONE": [{"VALUE": "+7 999 111 22 33"}]}})
    checks = [("PHONE", "79991112233"), ("EMAIL", " a@metal.RU "), ("PHONE", "9990000000")]
    for kind, value in checks:
        assert h.call("crm.duplicate.findbycomm", {"type": kind, "values": [value]}) == reference(kind, value)
    assert h.call("crm.duplicate.findbycomm", {"type": "PHONE", "values": ["89991112233"]}) == {
        "LEAD": [lead], "CONTACT": [contact]}
    phone_id = h.call("crm.contact.get", {"id": contact})["PHONE"][0]["ID"]
    h.call("crm.contact.update", {"id": contact, "fields": {"PHONE": [{"ID": phone_id, "VALUE": "+7 999 000 00 00"}]}})
    h.call("crm.lead.update", {"id": lead, "fields": {"EMAIL": [{"VALUE": "b@metal.ru"}]}})
    company = h.call("crm.company.add", {"fields": {"TITLE": "z", "EMAIL": [{"VALUE": "a@metal.ru"}]}})
    h.call("crm.item.add", {"entityTypeId": 3, "fields": {"name": "w", "fm": [
        {"typeId": "PHONE", "value": "8-999-111-22-33", "valueType": "WORK"}]}})
    for kind, value in checks + [("EMAIL", "b@metal.ru"), ("PHONE", "+79990000000")]:
        assert h.call("crm.duplicate.findbycomm", {"type": kind, "values": [value]}) == reference(kind, value)
    assert h.call("crm.duplicate.findbycomm", {"type": "EMAIL", "values": ["a@metal.ru"]}) == {
        "LEAD": [lead], "COMPANY": [company]}
    h.call("crm.lead.delete", {"id": lead})
    h.call("crm.company.delete", {"id": company})
    for kind, value in checks + [("EMAIL", "b@metal.ru"), ("PHONE", "+79990000000")]:
        assert h.call("crm.duplicate.findbycomm", {"type": kind, "values": [value]}) == reference(kind, value)


def test_return_customer_follows_won_deals() -> None:
    h = Harness()
    company = h.call("crm.company.add", {"fields": {"TITLE": "Клиент"}})
    contact = h.call("crm.contact.add", {"fields": {"NAME": "К"}})
    first = h.call("crm.deal.add", {"fields": {"TITLE": "1", "COMPANY_ID": company}})

    def repeat(**fields: Any) -> str:
        did = h.call("crm.deal.add", {"fields": {"TITLE": "n", **fields}})
        return h.call("crm.deal.get", {"id": did})["IS_RETURN_CUSTOMER"]

    assert repeat(COMPANY_ID=company) == "N"
    h.call("crm.deal.update", {"id": first, "fields": {"STAGE_ID": "WON"}})
    assert repeat(COMPANY_ID=company) == "Y" and repeat(CONTACT_ID=contact) == "N"
    h.call("crm.deal.update", {"id": first, "fields": {"CONTACT_IDS": [contact]}})
    assert repeat(CONTACT_ID=contact) == "Y"
    h.call("crm.deal.update", {"id": first, "fields": {"STAGE_ID": "LOSE"}})
    assert repeat(COMPANY_ID=company) == "N" and repeat(CONTACT_ID=contact) == "N"


def test_bulk_product_rows_equal_one_set_per_deal() -> None:
    one, many = Harness(), Harness()
    raw = {did: [{"PRODUCT_NAME": f"p{did}-{i}", "PRICE": 100 + did + i * 0.5, "QUANTITY": 1 + i, "TAX_RATE": 20,
                  "TAX_INCLUDED": "Y", "DISCOUNT_RATE": 5 * (i % 2)} for i in range(1 + did % 3)]
           for did in range(1, 13)}
    for h in (one, many):
        for did in raw:
            h.call("crm.deal.add", {"fields": {"TITLE": f"d{did}", "IS_MANUAL_OPPORTUNITY": "Y" if did == 4 else "N"}})
        crm_products.set_rows(h.portal, "D", 3, [{"PRODUCT_NAME": "old", "PRICE": 1}], None, fire=False)
    for did, rows in raw.items():
        crm_products.set_rows(one.portal, "D", did, rows, None, fire=False)
    crm_products.set_rows(one.portal, "D", 5, raw[6], None, fire=False)
    written = crm_products.set_rows_many(many.portal, "D", [*raw.items(), (5, raw[6])])
    assert written == sum(map(len, raw.values())) + len(raw[6]) - len(raw[5])
    for h in (one, many):
        assert h.call("crm.deal.productrows.get", {"id": 5}) == one.call("crm.deal.productrows.get", {"id": 5})
    assert crm_products.productrows(many.portal).rows == crm_products.productrows(one.portal).rows
    assert crm_entities.rows(many.portal, "deal").rows == crm_entities.rows(one.portal, "deal").rows
    assert one.call("crm.deal.get", {"id": 4})["OPPORTUNITY"] == "0.00"  # a manual amount stays
    many.call("crm.deal.delete", {"id": 2})
    assert crm_products.rows_of(many.portal, "D", 2) == [] and crm_products.rows_of(many.portal, "D", 1)
