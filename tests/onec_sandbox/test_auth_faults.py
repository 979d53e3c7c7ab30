"""Basic auth (UTF-8 logins, HTML answers), fault injection and the request log, over real HTTP."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from .conftest import PASSWORD, USER, OData, basic, bp_invoice, control, make_base


@pytest.fixture
def client(server: Any) -> tuple[str, OData]:
    name = make_base(server, "bp30")
    return name, OData(server.url, name)


def test_basic_auth(server: Any, client: tuple[str, OData]) -> None:
    name, c = client
    url = c.url("Catalog_Валюты", {"$format": "json"})
    assert requests.get(url, headers=basic(USER, PASSWORD)).status_code == 200
    assert requests.get(url, headers=basic(USER.upper(), PASSWORD)).status_code == 200  # 1C logins ignore case
    bad = requests.get(url, headers=basic(USER, "wrong"))
    assert bad.status_code == 401 and bad.headers["WWW-Authenticate"].startswith("Basic")
    assert requests.get(url).status_code == 401
    assert requests.get(url, headers=basic(USER, PASSWORD, "cp1251")).status_code == 401  # only UTF-8 works


def test_html_answer_with_200_for_bad_credentials(server: Any, client: tuple[str, OData]) -> None:
    name, c = client
    assert control(server, "PUT", f"/{name}/faults", json={"html_auth_answer": True}).status_code == 200
    r = requests.get(c.url("Catalog_Валюты", {"$format": "json"}), headers=basic(USER, "wrong"))
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "Ошибка авторизации" in r.text
    ok = requests.get(c.url("Catalog_Валюты", {"$format": "json"}), headers=basic(USER, PASSWORD))
    assert ok.json()["value"]


def test_down_and_transient_errors(server: Any, client: tuple[str, OData]) -> None:
    name, c = client
    control(server, "PUT", f"/{name}/faults", json={"down": True})
    r = c.get("Catalog_Валюты")
    assert r.status_code == 503 and r.headers["Content-Type"].startswith("text/html")
    control(server, "PUT", f"/{name}/faults", json={"fail_next": 2})
    codes = [c.get("Catalog_Валюты").status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    control(server, "PUT", f"/{name}/faults", json={"fail_next": 1, "error_status": 502})
    assert c.get("Catalog_Валюты").status_code == 502
    control(server, "PUT", f"/{name}/faults", json={"fail_next": 1, "error_kind": "lock"})
    locked = c.get("Catalog_Валюты")
    err = locked.json()["odata.error"]
    assert locked.status_code == 500 and err["code"] == "-1" and "Конфликт блокировок" in err["message"]["value"]
    control(server, "PUT", f"/{name}/faults", json={"error_5xx_rate": 0.5, "seed": 7})
    statuses = {c.get("Catalog_Валюты").status_code for _ in range(20)}
    assert statuses == {200, 503}
    control(server, "DELETE", f"/{name}/faults")
    assert control(server, "GET", f"/{name}/faults").json()["error_5xx_rate"] == 0


def test_timeout_after_execution_creates_the_document(server: Any, client: tuple[str, OData]) -> None:
    """The case idempotency keys exist for: the client times out, 1C has already written the invoice."""
    name, c = client
    org = c.values("Catalog_Организации")[0]["Ref_Key"]
    control(server, "PUT", f"/{name}/faults", json={"timeout_next": 1, "timeout_s": 1.5})
    with pytest.raises(requests.exceptions.ReadTimeout):
        c.http.post(c.url("Document_СчетНаОплатуПокупателю", {"$format": "json"}), timeout=0.5,
                    json={"Организация_Key": org, "Комментарий": "key-after-timeout"}, headers=c.headers)
    time.sleep(1.2)
    found = c.values("Document_СчетНаОплатуПокупателю", {"$filter": "Комментарий eq 'key-after-timeout'"})
    assert len(found) == 1
    control(server, "PUT", f"/{name}/faults", json={"timeout_next": 1, "timeout_s": 1.0, "timeout_mode": "before"})
    with pytest.raises(requests.exceptions.ReadTimeout):
        c.http.post(c.url("Document_СчетНаОплатуПокупателю", {"$format": "json"}), timeout=0.3,
                    json={"Организация_Key": org, "Комментарий": "key-before-timeout"}, headers=c.headers)
    time.sleep(1.2)  # the server still executes after its delay, like a slow 1C


def test_slow_first_request_and_latency(server: Any, client: tuple[str, OData]) -> None:
    name, c = client
    control(server, "PUT", f"/{name}/faults", json={"slow_first_request_s": 0.6, "idle_s": 30})
    t0 = time.monotonic()
    c.get("Catalog_Валюты")
    first = time.monotonic() - t0
    t1 = time.monotonic()
    c.get("Catalog_Валюты")
    second = time.monotonic() - t1
    assert first >= 0.6 and second < 0.5
    control(server, "PUT", f"/{name}/faults", json={"latency_ms": 300})
    t2 = time.monotonic()
    c.get("Catalog_Валюты")
    assert time.monotonic() - t2 >= 0.3


def test_faults_apply_to_soap_too(server: Any, client: tuple[str, OData]) -> None:
    name, _ = client
    control(server, "PUT", f"/{name}/faults", json={"fail_next": 1, "error_kind": "lock"})
    env = ('<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
           'xmlns:m="http://b24app.ru/1c/B24Exchange"><soap:Body><m:Ping/></soap:Body></soap:Envelope>')
    r = requests.post(f"{server.url}/onec/{name}/ws/b24exchange", data=env.encode(),
                      headers=dict(basic(USER, PASSWORD), **{"Content-Type": "text/xml"}))
    assert r.status_code == 500 and b"Fault" in r.content and "Конфликт блокировок" in r.text


def test_request_log_counts_calls(server: Any, client: tuple[str, OData]) -> None:
    name, c = client
    control(server, "DELETE", f"/{name}/requests")
    empty = control(server, "GET", f"/{name}/requests").json()
    assert empty["totals"] == {"odata": 0, "soap": 0, "wsdl": 0, "all": 0} and empty["total"] == 0
    c.get("Catalog_Валюты")
    one = control(server, "GET", f"/{name}/requests").json()
    assert one["totals"] == {"odata": 1, "soap": 0, "wsdl": 0, "all": 1}
    control(server, "DELETE", f"/{name}/requests")
    bp_invoice(c, 100.0)
    log = control(server, "GET", f"/{name}/requests").json()
    assert log["totals"]["odata"] == log["total"] >= 6
    methods = [i["method"] for i in log["items"]]
    assert "POST" in methods and all(i["status"] in (200, 201) for i in log["items"])
    assert any("Post" in i["path"] for i in log["items"])
    since = control(server, "GET", f"/{name}/requests", params={"since": log["last_id"]}).json()
    assert since["items"] == []


def test_bad_fault_option(server: Any, client: tuple[str, OData]) -> None:
    name, _ = client
    r = control(server, "PUT", f"/{name}/faults", json={"nonsense": 1})
    assert r.status_code == 400
