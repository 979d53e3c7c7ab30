from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b24app.portal.phpform import FormError, build_query, flatten, unflatten


def test_nested_keys_and_lists() -> None:
    got = unflatten([
        ("event", "ONCRMLEADADD"), ("data[FIELDS][ID]", "5"), ("auth[member_id]", "m1"),
        ("document_id[0]", "crm"), ("document_id[1]", "CCrmDocumentDeal"), ("document_id[2]", "DEAL_7"),
        ("properties[users][]", "user_1"), ("properties[users][]", "user_2"),
    ])
    assert got == {
        "event": "ONCRMLEADADD",
        "data": {"FIELDS": {"ID": "5"}},
        "auth": {"member_id": "m1"},
        "document_id": ["crm", "CCrmDocumentDeal", "DEAL_7"],
        "properties": {"users": ["user_1", "user_2"]},
    }


def test_top_level_integer_keys_stay_a_map() -> None:
    assert unflatten([("0", ""), ("1", "x")]) == {"0": "", "1": "x"}  # found by the inbound fuzz test


def test_non_sequential_integer_keys_stay_a_map() -> None:
    assert unflatten([("a[1]", "x"), ("a[3]", "y")]) == {"a": {"1": "x", "3": "y"}}


@pytest.mark.parametrize("pairs, fragment", [
    ([("a[b", "1")], "brackets"),
    ([("a]", "1")], "brackets"),
    ([("a", "1"), ("a[b]", "2")], "both a value and a group"),
    ([("a[b]", "1"), ("a", "2")], "both a value and a group"),
    ([("a" + "[x]" * 12, "1")], "deeper"),
])
def test_malformed_keys_are_refused_with_a_reason(pairs: list[tuple[str, str]], fragment: str) -> None:
    with pytest.raises(FormError, match=fragment):
        unflatten(pairs)


def test_flatten_sends_booleans_as_y_n_and_builds_percent_encoded_queries() -> None:
    pairs = flatten({"fields": {"OPENED": True, "CLOSED": False, "TITLE": "a b&c", "X": None}, "ids": [3, 4]})
    assert ("fields[OPENED]", "Y") in pairs and ("fields[CLOSED]", "N") in pairs and ("fields[X]", "") in pairs
    q = build_query({"fields": {"TITLE": "Заявка с сайта"}})
    assert "+" not in q and "%20" in q and q.startswith("fields[TITLE]=")


_keys = st.text(alphabet="abcXYZ_09", min_size=1, max_size=6)
_tree = st.recursive(
    st.text(max_size=10),
    lambda children: st.dictionaries(_keys.filter(lambda k: not k.isdigit()), children, min_size=1, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(_keys.filter(lambda k: not k.isdigit()), _tree, min_size=1, max_size=5))
def test_flatten_then_unflatten_round_trips(data: dict) -> None:
    def drop_empty(v):  # empty groups cannot travel in a form
        if isinstance(v, dict):
            out = {k: drop_empty(x) for k, x in v.items()}
            return {k: x for k, x in out.items() if x != {}}
        return v

    assert unflatten(flatten(data)) == drop_empty(data)
