"""department.get and user.get parameter keys over real HTTP, as the platform reads them.

department.get (``CIntranetRestService::departmentGet``): ``sort``/``order`` choose the order, the exact
upper-case keys ID, NAME, SORT, PARENT, UF_HEAD filter, and the default order is the structure tree.
user.get (``rest/lib/api/user.php``): keys are case-insensitive, ``sort``+``order`` order the list only
together, a FILTER array replaces the top-level filter and unknown filter keys are ignored.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from fast_bitrix24 import Bitrix

from b24sandbox.server import serve_in_thread

_N = itertools.count(1)


@pytest.fixture(scope="module")
def hook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An inbound webhook of a fresh metalprom portal (6 departments, 9 users) on its own server."""
    srv = serve_in_thread(tmp_path_factory.mktemp("structure"))
    try:
        info = requests.post(f"{srv.url}/_sandbox/portals",
                             json={"domain": f"s{next(_N)}.bitrix24.ru", "seed": "metalprom"}, timeout=30).json()
        made = requests.post(f"{srv.url}/_sandbox/portals/{info['member_id']}/webhooks", json={"user_id": 1},
                             timeout=10).json()
        yield made["url"]
    finally:
        srv.stop()


def get(hook: str, method: str, query: str) -> dict[str, Any]:
    """A GET with a raw query string, the way PHP clients and browsers send these parameters."""
    r = requests.get(f"{hook}{method}?{query}", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def ids(answer: dict[str, Any]) -> list[int]:
    return [int(row["ID"]) for row in answer["result"]]


def test_department_sort_and_order_are_sorting_not_the_sort_filter(hook: str) -> None:
    assert ids(get(hook, "department.get", "sort=ID&order=DESC")) == [6, 5, 4, 3, 2, 1]
    assert ids(get(hook, "department.get", "sort=ID&order=ASC")) == [1, 2, 3, 4, 5, 6]
    by_name = get(hook, "department.get", "sort=NAME&order=asc")["result"]
    assert [d["NAME"] for d in by_name] == sorted(d["NAME"] for d in by_name)
    assert ids(get(hook, "department.get", "sort=ID")) == [1, 2, 3, 4, 5, 6]  # no order: ASC
    assert ids(get(hook, "department.get", "sort=FOO&order=DESC")) == [1, 2, 3, 4, 5, 6]  # unknown field: default


def test_department_upper_case_keys_are_filters(hook: str) -> None:
    assert ids(get(hook, "department.get", "SORT=500")) == [5]
    both = get(hook, "department.get", "SORT=ID&ORDER=ASC")  # sorts by ID and filters SORT=intval("ID")=0
    assert both["result"] == [] and both["total"] == 0
    assert ids(get(hook, "department.get", "PARENT=1")) == [2, 4, 5, 6]
    assert ids(get(hook, "department.get", "PARENT=0")) == [1]  # top level
    assert ids(get(hook, "department.get", "ID[]=4&ID[]=2")) == [2, 4]
    assert ids(get(hook, "department.get", "UF_HEAD=7")) == [5]
    assert ids(get(hook, "department.get", "NAME=%D0%BE%D1%82%D0%B4%D0%B5%D0%BB%25")) == [2, 6]  # "отдел%"
    assert ids(get(hook, "department.get", "id=2")) == [1, 2, 3, 4, 5, 6]  # lower-case key: not a filter
    assert ids(get(hook, "department.get", "FILTER[PARENT]=1&sort=ID&order=DESC")) == [2, 4, 5, 6]  # FILTER wins
    assert ids(get(hook, "department.get", "FILTER[PARENT]=1&FILTER[sort]=ID&FILTER[order]=DESC")) == [6, 5, 4, 2]


def test_department_default_order_is_the_tree(hook: str) -> None:
    added = requests.post(hook + "department.add", json={"NAME": "Склад", "PARENT": 1, "SORT": 150},
                          timeout=10).json()["result"]
    try:
        tree = ids(get(hook, "department.get", ""))
        assert tree == [1, added, 2, 3, 4, 5, 6]  # children of 1 by SORT, each followed by its subtree
        assert ids(get(hook, "department.get", "sort=ID&order=ASC")) == [1, 2, 3, 4, 5, 6, added]
    finally:
        requests.post(hook + "department.delete", json={"ID": added}, timeout=10)


def test_department_get_all_with_fast_bitrix24(hook: str) -> None:
    client = Bitrix(hook, verbose=False)
    plain = client.get_all("department.get")  # fast-bitrix24 adds order[ID]=ASC: neither a sort nor a filter
    assert [int(d["ID"]) for d in plain] == [1, 2, 3, 4, 5, 6]
    assert sorted(int(d["ID"]) for d in client.get_all("department.get", {"PARENT": 1})) == [2, 4, 5, 6]


def test_user_get_sort_order_scalars_and_filter_keys(hook: str) -> None:
    everyone = ids(get(hook, "user.get", "sort=ID&order=DESC"))
    assert everyone == sorted(everyone, reverse=True) and len(everyone) == 9
    assert ids(get(hook, "user.get", "SORT=ID&ORDER=DESC")) == everyone  # case-insensitive on user.get
    assert ids(get(hook, "user.get", "sort=ID")) == sorted(everyone)  # sort without order: ID ASC
    assert ids(get(hook, "user.get", "sort=ID&order=DESC&ACTIVE=Y")) == [u for u in everyone if u != 9]
    assert ids(get(hook, "user.get", "ACTIVE=0")) == [9]  # PHP: "0" is false -> inactive
    assert ids(get(hook, "user.get", "ACTIVE=false")) == [u for u in sorted(everyone) if u != 9]  # truthy
    assert ids(get(hook, "user.get", "FILTER[ACTIVE]=N&ACTIVE=Y")) == [9]  # FILTER replaces top-level keys
    assert ids(get(hook, "user.get", "UNKNOWN_FIELD=1&LOGIN=nobody")) == sorted(everyone)  # not filterable
    assert ids(get(hook, "user.get", "UF_DEPARTMENT=2&sort=ID&order=ASC")) == [2, 3, 4, 9]
    empty = get(hook, "user.get", "ID=999")
    assert empty["result"] == [] and "total" not in empty
    client = Bitrix(hook, verbose=False)
    assert sorted(int(u["ID"]) for u in client.get_all("user.get")) == sorted(everyone)  # with order[ID]=ASC
