"""PHP form parsing / building and PHP-style JSON, as the real portal reads and writes them."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl

from b24pysdk.credentials._utils import parse_flattened_keys

from b24sandbox.portal.phpform import http_build_query, parse_str
from b24sandbox.portal.phpjson import PhpObject, dumps, php_array

FIXTURES = Path("/work/shared/reference/fixtures/bitrix24")


def test_parse_str_brackets_lists_and_appends() -> None:
    assert parse_str("fields[TITLE]=A&fields[PHONE][0][VALUE]=1&fields[PHONE][0][VALUE_TYPE]=WORK") == {
        "fields": {"TITLE": "A", "PHONE": [{"VALUE": "1", "VALUE_TYPE": "WORK"}]}}
    assert parse_str("select[]=ID&select[]=TITLE") == {"select": ["ID", "TITLE"]}
    assert parse_str("a[5]=x&a[]=y") == {"a": {"5": "x", "6": "y"}}
    assert parse_str("a=1&a=2") == {"a": "2"}
    assert parse_str("filter[%3EID]=5&order[ID]=ASC") == {"filter": {">ID": "5"}, "order": {"ID": "ASC"}}


def test_parse_str_php_name_mangling() -> None:
    # PHP turns '.' and ' ' of the top-level name into '_' and an unclosed '[' into '_'
    assert parse_str("a.b=1&c d=2&e[f=3") == {"a_b": "1", "c_d": "2", "e_f": "3"}
    assert parse_str("x=a+b%2Bc") == {"x": "a b+c"}


def test_parse_str_accepts_what_fast_bitrix24_sends() -> None:
    req = json.loads((FIXTURES / "fb24_issue235_call_wrapped_in_batch_request.json").read_text())
    call = req["cmd"]["order0000000000"]
    method, _, query = call.partition("?")
    assert method == "crm.item.update"
    assert parse_str(query) == {"__order": "order0000000000", "entityTypeId": "133", "id": "247",
                                "fields": {"ufCRM_30_1714103630": "None"}}


def test_http_build_query_matches_the_derived_event_form() -> None:
    fixture = (FIXTURES / "DERIVED_event_oncrmdealadd_to_app.form.txt").read_text().strip()
    data = parse_flattened_keys(dict(parse_qsl(fixture)))
    assert http_build_query(data) == fixture


def test_http_build_query_robot_form_roundtrip() -> None:
    fixture = (FIXTURES / "DERIVED_robot_handler_request.form.txt").read_text().strip()
    as_json = json.loads((FIXTURES / "DERIVED_robot_handler_request.json").read_text())
    assert http_build_query(as_json) == fixture
    assert parse_str(fixture) == as_json


def test_http_build_query_scalars() -> None:
    assert http_build_query({"a": True, "b": False, "c": None, "d": 1.0, "e": "x~y z"}) == "a=1&b=0&d=1&e=x%7Ey+z"


def test_dumps_php_flags() -> None:
    assert dumps("<br>/&'\"Привет") == '"\\u003Cbr\\u003E\\/\\u0026\\u0027\\u0022Привет"'
    assert dumps("a\u2028b\n\x01") == '"a\\u2028b\\n\\u0001"'


def test_dumps_php_arrays() -> None:
    assert dumps({}) == "[]"
    assert dumps(PhpObject()) == "{}"
    assert dumps({0: "a", 1: "b"}) == '["a","b"]'
    assert dumps({"0": "a", "1": "b"}) == '["a","b"]'
    assert dumps({"1": "a"}) == '{"1":"a"}'
    assert dumps({"1": "a", "0": "b"}) == '{"1":"a","0":"b"}'
    assert dumps([1.0, 0.5, None, True]) == "[1.0,0.5,null,true]"
    assert php_array({"r": {}, "l": {0: 1}}) == {"r": [], "l": [1]}


def test_dumps_is_valid_json() -> None:
    value = {"x": "<tag> & 'q' \"dq\" / \\", "n": [1, 2], "m": {"k": {}}}
    assert json.loads(dumps(value)) == {"x": "<tag> & 'q' \"dq\" / \\", "n": [1, 2], "m": {"k": []}}


def test_dumps_rows_written_by_the_fast_path_keep_php_escapes() -> None:
    rows = [{"ID": "1", "TITLE": 'a/b "q" \\ \\" <i>&\'', "N": None, "Y": True, "C": 5},
            {"ID": "2", "TITLE": "x\u2028\n\x01Ж", "N": None, "Y": False, "C": -1}]
    assert dumps({"result": rows}) == (
        '{"result":[{"ID":"1","TITLE":"a\\/b \\u0022q\\u0022 \\\\ \\\\\\u0022 \\u003Ci\\u003E\\u0026\\u0027",'
        '"N":null,"Y":true,"C":5},{"ID":"2","TITLE":"x\\u2028\\n\\u0001Ж","N":null,"Y":false,"C":-1}]}')
    assert json.loads(dumps(rows)) == rows
