"""The OData wire client: query strings with %20 (never +), literals, Basic auth in UTF-8, and how
1C's answers map to errors of the error table (retry, config, data)."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from b24app.errors import Action, OneCError, TransportError
from b24app.sync_1c.odata import (
    ODataClient,
    build_query,
    cast_lit,
    check_answer,
    datetime_lit,
    decode_json,
    guid,
    resource_path,
    string_lit,
)
from tests.unit.sync_1c.conftest import PASSWORD, USER, OneC


def response(status: int, body: bytes, ctype: str) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = body
    r.headers["Content-Type"] = ctype
    return r


def test_query_strings_use_percent_20_and_keep_odata_punctuation() -> None:
    q = build_query([("$filter", "ИНН eq '5024093941' and Date ge datetime'2026-01-01T00:00:00'"),
                     ("$select", "Ref_Key,РасшифровкаПлатежа/СчетНаОплату_Key"), ("$top", 500), ("$skip", None)])
    assert "+" not in q and "%20eq%20" in q
    assert "'5024093941'" in q and "datetime'2026-01-01T00:00:00'" in q and "$select=Ref_Key," in q
    assert "%D0%98%D0%9D%D0%9D" in q  # ИНН, UTF-8 percent-encoded
    assert "$skip" not in q
    assert resource_path("Document_СчетНаОплатуПокупателю(guid'1')/Post") == (
        "Document_%D0%A1%D1%87%D0%B5%D1%82%D0%9D%D0%B0%D0%9E%D0%BF%D0%BB%D0%B0%D1%82%D1%83%D0%9F%D0%BE%D0%BA%D1%83"
        "%D0%BF%D0%B0%D1%82%D0%B5%D0%BB%D1%8E(guid'1')/Post")


def test_literals() -> None:
    assert guid("8d04ce3c-6360-11e9-dd92-fa163e8ba11d") == "guid'8d04ce3c-6360-11e9-dd92-fa163e8ba11d'"
    assert datetime_lit(dt.date(2026, 11, 1)) == "datetime'2026-11-01T00:00:00'"
    assert datetime_lit(dt.datetime(2026, 11, 1, 10, 5, 3, 99)) == "datetime'2026-11-01T10:05:03'"
    assert string_lit("ООО «Д'Арт»") == "'ООО «Д''Арт»'"
    assert cast_lit("x", "Catalog_Контрагенты") == "cast(guid'x', 'Catalog_Контрагенты')"


@pytest.mark.parametrize(("status", "body", "ctype", "code", "action"), [
    (200, b"<html><body>Login</body></html>", "text/html", "html_answer", Action.FAIL_CONFIG),
    (401, "Не удалось выполнить аутентификацию пользователя".encode(), "text/plain", "auth", Action.FAIL_CONFIG),
    (404, '{"odata.error": {"code": "6", "message": {"lang": "ru", "value": "Сегмент пути X не найден!"}}}'.encode(),
     "application/json", "6", Action.FAIL_CONFIG),
    (400, '{"odata.error": {"code": "14", "message": {"value": "Ошибка при разборе опции запроса $filter"}}}'.encode(),
     "application/json", "14", Action.FAIL_CONFIG),
    (500, '{"odata.error": {"code": "-1", "message": {"value": "Не удалось провести"}}}'.encode(),
     "application/json", "-1", Action.FAIL_DATA),
    (500, '{"odata.error": {"code": "-1", "message": {"value": "Конфликт блокировок при выполнении транзакции:\\n'
          'Превышено максимальное время ожидания предоставления блокировки"}}}'.encode(),
     "application/json", "lock", Action.RETRY),
    (503, b"<html>Service Unavailable</html>", "text/html", "", Action.RETRY),
    (500, b'<m:error xmlns:m="x"><m:code>9</m:code><m:message xml:lang="ru">nope</m:message></m:error>',
     "application/xml", "9", Action.FAIL_CONFIG),
])
def test_answers_map_to_the_error_table(status: int, body: bytes, ctype: str, code: str, action: Action) -> None:
    with pytest.raises(OneCError) as exc:
        check_answer(response(status, body, ctype), "GET Catalog_Контрагенты")
    assert exc.value.code == code and exc.value.action == action


def test_an_empty_200_is_fine_and_json_is_read_as_utf8_whatever_the_charset() -> None:
    check_answer(response(200, b"", "text/html; charset=utf-8"), "POST Post")  # Post/Unpost answer no body
    body = '{"value": [{"Description": "Ромашка"}]}'.encode()
    assert decode_json(response(200, body, "application/json; charset=windows-1251"), "x")["value"][0][
        "Description"] == "Ромашка"


def test_against_the_sandbox_no_plus_utf8_login_and_errors(onec: OneC) -> None:
    base = onec.base("bp30")
    c = onec.odata(base)
    onec.control("DELETE", f"/{base['name']}/requests")
    rows = c.list("Catalog_Контрагенты", filter="ИНН eq '6658100010' and DeletionMark eq false",
                  select="Ref_Key,ИНН", orderby="Ref_Key")
    assert [r["ИНН"] for r in rows] == ["6658100010"]
    logged = onec.requests(base["name"])
    assert logged and all("+" not in r["query"] for r in logged) and "%20eq%20" in logged[-1]["query"]
    assert "Catalog_Контрагенты" in c.service_sets()
    assert c.count("Catalog_Номенклатура") == 2
    assert c.by_key("Catalog_Контрагенты", "00000000-0000-0000-0000-0000000000aa") is None  # 404 code 9

    with pytest.raises(OneCError) as exc:
        onec.odata(base, password="wrong").list("Catalog_Контрагенты")
    assert exc.value.status == 401 and exc.value.action == Action.FAIL_CONFIG
    onec.control("PATCH", f"/{base['name']}/faults", {"html_auth_answer": True})
    with pytest.raises(OneCError) as exc:
        onec.odata(base, password="wrong").list("Catalog_Контрагенты")
    assert exc.value.code == "html_answer" and exc.value.action == Action.FAIL_CONFIG
    onec.control("PUT", f"/{base['name']}/faults", {"fail_next": 1, "error_kind": "lock"})
    with pytest.raises(OneCError) as exc:
        c.list("Catalog_Контрагенты")
    assert exc.value.code == "lock" and exc.value.action == Action.RETRY
    onec.control("PUT", f"/{base['name']}/faults", {"down": True})
    with pytest.raises(OneCError) as exc:
        c.list("Catalog_Контрагенты")
    assert exc.value.status == 503 and exc.value.action == Action.RETRY
    onec.control("PUT", f"/{base['name']}/faults", {"timeout_next": 1, "timeout_s": 3})
    slow = ODataClient(base["odata_url"], USER, PASSWORD, timeout=0.5, allow_private=True)
    with pytest.raises(TransportError) as texc:
        slow.list("Catalog_Контрагенты")
    assert texc.value.action == Action.RETRY
    onec.control("DELETE", f"/{base['name']}/faults")
    with pytest.raises(OneCError) as exc:
        c.list("Catalog_НетТакого")
    assert exc.value.status == 404 and exc.value.action == Action.FAIL_CONFIG
