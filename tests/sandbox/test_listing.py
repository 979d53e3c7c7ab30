"""Unit tests of the list helpers every sandbox list method uses (paging, filters, order, select)."""

from __future__ import annotations

import time

import pytest

from b24sandbox.portal.api import RestError
from b24sandbox.portal.listing import (
    compile_filter,
    invalid_arg_error,
    normalize_order,
    paginate,
    parse_start,
    project,
    split_operator,
)

TYPES = {"ID": "integer", "TITLE": "string", "OPPORTUNITY": "double", "STAGE_ID": "crm_status",
         "DATE_CREATE": "datetime", "OPENED": "char", "ASSIGNED_BY_ID": "user", "UF_CRM_X": "string"}


def _rows(n: int) -> list[dict]:
    return [
        {
            "ID": i,
            "TITLE": f"Сделка {i}",
            "OPPORTUNITY": float(i * 10),
            "STAGE_ID": "NEW" if i % 2 else "WON",
            "DATE_CREATE": f"2026-01-{(i % 28) + 1:02d}T10:00:00+03:00",
            "OPENED": "Y" if i % 3 else "N",
            "ASSIGNED_BY_ID": (i % 4) + 1,
            "UF_CRM_X": f"x{i}",
            "PHONE": [{"ID": str(i), "VALUE": f"+7900{i:07d}", "VALUE_TYPE": "WORK", "TYPE_ID": "PHONE"}],
        }
        for i in range(1, n + 1)
    ]


def test_split_operator_longest_prefix_wins() -> None:
    assert split_operator(">=ID") == (">=", "ID")
    assert split_operator("!=%TITLE") == ("!=%", "TITLE")
    assert split_operator("=%TITLE") == ("=%", "TITLE")
    assert split_operator("!@ID") == ("!@", "ID")
    assert split_operator("TITLE") == ("=", "TITLE")
    assert split_operator("><DATE") == ("><", "DATE")


def test_parse_start() -> None:
    assert parse_start(None) == 0
    assert parse_start("50") == 50
    assert parse_start(-1) == -1
    assert parse_start("-1") == -1
    assert parse_start("junk") == 0


def test_pages_of_fifty_with_total_and_next() -> None:
    rows = _rows(120)
    p0 = paginate(rows, start=0, field_types=TYPES)
    assert len(p0.items) == 50 and p0.total == 120 and p0.next == 50
    p2 = paginate(rows, start=100, field_types=TYPES)
    assert len(p2.items) == 20 and p2.total == 120 and p2.next is None
    assert p2.items[0]["ID"] == 101


def test_start_minus_one_has_no_total_no_next() -> None:
    rows = _rows(120)
    p = paginate(rows, start=-1, filter={">ID": 60}, order={"ID": "ASC"}, field_types=TYPES)
    assert p.total is None and p.next is None
    assert [r["ID"] for r in p.items] == list(range(61, 111))


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"ID": 5}, [5]),
        ({"=ID": "5"}, [5]),
        ({"!ID": 5}, [i for i in range(1, 11) if i != 5]),
        ({"!=ID": 5}, [i for i in range(1, 11) if i != 5]),
        ({">ID": 8}, [9, 10]),
        ({">=ID": 8}, [8, 9, 10]),
        ({"<ID": 3}, [1, 2]),
        ({"<=ID": 3}, [1, 2, 3]),
        ({"@ID": [2, 4]}, [2, 4]),
        ({"ID": [2, 4]}, [2, 4]),
        ({"!@ID": [2, 4, 6, 8, 10]}, [1, 3, 5, 7, 9]),
        ({"%TITLE": "ка 1"}, [1, 10]),
        ({"%TITLE": "СДЕЛКА 3"}, [3]),
        ({"=%TITLE": "Сделка 1%"}, [1, 10]),
        ({"%=TITLE": "%ка 7"}, [7]),
        ({"!%TITLE": "ка 1"}, [2, 3, 4, 5, 6, 7, 8, 9]),
        ({"STAGE_ID": "won"}, [2, 4, 6, 8, 10]),
        ({">OPPORTUNITY": "75.5"}, [8, 9, 10]),
        ({">=DATE_CREATE": "2026-01-09"}, [8, 9, 10]),
        ({"<DATE_CREATE": "2026-01-03T00:00:00+03:00"}, [1]),
        ({"OPENED": "N"}, [3, 6, 9]),
        ({"OPENED": False}, [3, 6, 9]),
        ({"PHONE": "+79000000004"}, [4]),
        ({"><ID": [3, 5]}, [3, 4, 5]),
        ({"logic": "OR", "0": {"ID": 1}, "1": {"ID": 9}}, [1, 9]),
        ({"ASSIGNED_BY_ID": 2, ">ID": 4}, [5, 9]),
        ({"ID": ""}, []),
        ({"!UF_CRM_X": ""}, list(range(1, 11))),
    ],
)
def test_filter_operators(flt: dict, expected: list[int]) -> None:
    page = paginate(_rows(10), filter=flt, field_types=TYPES)
    assert [r["ID"] for r in page.items] == expected
    assert page.total == len(expected)


def test_filter_keys_are_case_insensitive_against_known_fields() -> None:
    pred = compile_filter({"stage_id": "NEW"}, known_fields=TYPES, field_types=TYPES)
    assert pred({"STAGE_ID": "NEW"}) and not pred({"STAGE_ID": "WON"})


def test_unknown_filter_field_ignored_or_error() -> None:
    rows = _rows(3)
    assert paginate(rows, filter={"NOPE": 1}, field_types=TYPES).total == 3
    with pytest.raises(RestError) as exc:
        paginate(rows, filter={"NOPE": 1}, field_types=TYPES, unknown_field_error=invalid_arg_error)
    assert exc.value.code == "INVALID_ARG_VALUE"


def test_order_several_fields_and_desc() -> None:
    rows = _rows(8)
    page = paginate(rows, order={"STAGE_ID": "ASC", "ID": "DESC"}, field_types=TYPES)
    assert [r["ID"] for r in page.items] == [7, 5, 3, 1, 8, 6, 4, 2]
    page = paginate(rows, order={"ID": "DESC"}, start=-1, field_types=TYPES)
    assert [r["ID"] for r in page.items] == [8, 7, 6, 5, 4, 3, 2, 1]
    assert normalize_order([{"A": "desc"}, "B"]) == [("A", True), ("B", False)]


def test_order_nulls_first_on_asc() -> None:
    rows = [{"ID": 1, "X": 5}, {"ID": 2, "X": None}, {"ID": 3, "X": 1}]
    page = paginate(rows, order={"X": "ASC"}, field_types={"X": "integer"})
    assert [r["ID"] for r in page.items] == [2, 3, 1]


def test_select_star_uf_and_multifields() -> None:
    row = _rows(1)[0]
    assert "PHONE" not in project(row, ["*"]) and "UF_CRM_X" not in project(row, ["*"])
    assert set(project(row, ["*", "UF_*"])) == set(row) - {"PHONE"}
    assert set(project(row, ["ID", "PHONE"])) == {"ID", "PHONE"}
    assert set(project(row, ["id", "title"])) == {"ID", "TITLE"}
    assert set(project(row, [])) == set(row) - {"PHONE", "UF_CRM_X"}
    camel = {"id": 1, "title": "t", "ufCrm5_1": "u", "fm": []}
    assert set(project(camel, ["*"], multifields=("fm",), uf_prefix="ufCrm")) == {"id", "title"}


def test_paginate_projects_select() -> None:
    page = paginate(_rows(3), select=["ID", "TITLE"], field_types=TYPES)
    assert page.items[0] == {"ID": 1, "TITLE": "Сделка 1"}


def test_unsorted_rows_are_handled() -> None:
    rows = list(reversed(_rows(5)))
    page = paginate(rows, filter={">ID": 2}, sorted_by_id=False, order={"ID": "ASC"}, field_types=TYPES)
    assert [r["ID"] for r in page.items] == [3, 4, 5]


def test_id_window_export_is_fast_on_100k_rows() -> None:
    rows = [{"ID": i, "TITLE": f"t{i}"} for i in range(1, 100_001)]
    t0 = time.perf_counter()
    last = 0
    seen = 0
    for _ in range(200):
        page = paginate(rows, filter={">ID": last}, order={"ID": "ASC"}, start=-1)
        seen += len(page.items)
        last = page.items[-1]["ID"]
    elapsed = time.perf_counter() - t0
    assert seen == 10_000 and last == 10_000
    # 200 pages: the bisection path visits ~50 rows per page, never the whole table
    assert elapsed < 0.5, elapsed
    # and a deep page near the end is as cheap
    t0 = time.perf_counter()
    page = paginate(rows, filter={">ID": 99_990}, order={"ID": "ASC"}, start=-1)
    assert [r["ID"] for r in page.items] == list(range(99_991, 100_001))
    assert time.perf_counter() - t0 < 0.01
