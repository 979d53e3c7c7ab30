"""Fixtures for the 1C sandbox tests: a real HTTP server on 127.0.0.1 with seeded bases, and small clients.

The OData client builds query strings itself with ``%20`` for spaces (never ``+``) and encodes the
Basic-auth login as UTF-8, as a correct client of 1C must.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from b24sandbox.onec import serve_in_thread

FIXTURES = Path("/work/shared/reference/fixtures/1c")

ORG = {
    "name": 'ООО "МеталПром"',
    "full_name": 'Общество с ограниченной ответственностью "МеталПром"',
    "inn": "7704512345",
    "kpp": "770401001",
    "ogrn": "1157746123456",
    "code": "MP",
    "bank": {"name": "ПАО Сбербанк", "bik": "044525225", "account": "40702810938000012345",
             "corr_account": "30101810400000000225"},
}
COUNTERPARTIES = [
    {"name": 'ООО "Ромашка"', "full_name": 'Общество с ограниченной ответственностью "Ромашка"', "inn": "5024093941",
     "kpp": "502401001", "bank": {"name": "АО Альфа-Банк", "bik": "044525593", "account": "40702810201300012345"}},
    {"name": 'АО "СтройМонтаж"', "inn": "7728168971", "kpp": "772801001"},
    {"name": 'ООО "Ромашка" (филиал)', "inn": "5024093941", "kpp": "502402001"},
]
PRODUCTS = [
    {"ID": 1, "NAME": "Арматура А500С 12 мм", "XML_ID": "MP-ARM-12", "MEASURE_NAME": "т", "VAT_RATE": 20,
     "PRICE": 65000},
    {"ID": 2, "NAME": "Лист г/к 4 мм", "XML_ID": "MP-LST-4", "MEASURE_NAME": "т", "VAT_RATE": 20, "PRICE": 72000},
    {"ID": 3, "NAME": "Доставка", "XML_ID": "MP-DLV", "MEASURE_NAME": "усл. ед", "VAT_RATE": 20, "PRICE": 5000},
]
USER = "Интеграция"
PASSWORD = "Пароль-1С"


def basic(user: str, password: str, encoding: str = "utf-8") -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode(encoding)).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def qs(params: dict[str, str]) -> str:
    """A 1C-safe query string: spaces as %20, the OData punctuation kept literal."""
    return "&".join(f"{quote(k, safe='$')}={quote(v, safe=',()/$*=:')}" for k, v in params.items())


class OData:
    """A tiny OData client for one base (what a correct app client does, and nothing more)."""

    def __init__(self, url: str, name: str, user: str = USER, password: str = PASSWORD) -> None:
        self.root = f"{url}/onec/{name}/odata/standard.odata/"
        self.headers = basic(user, password)
        self.http = requests.Session()

    def url(self, resource: str, params: dict[str, str] | None = None) -> str:
        return self.root + quote(resource, safe="()'=,/$*:") + ("?" + qs(params) if params else "")

    def get(self, resource: str, params: dict[str, str] | None = None, fmt: bool = True, **kw: Any) -> requests.Response:
        params = dict(params or {})
        if fmt:
            params.setdefault("$format", "json")
        return self.http.get(self.url(resource, params), headers=self.headers, timeout=30, **kw)

    def raw(self, method: str, path_and_query: str, **kw: Any) -> requests.Response:
        headers = dict(self.headers)
        headers.update(kw.pop("headers", {}))
        return self.http.request(method, self.root + path_and_query, headers=headers, timeout=30, **kw)

    def post(self, resource: str, body: Any, params: dict[str, str] | None = None, **kw: Any) -> requests.Response:
        params = dict(params or {"$format": "json"})
        data = body if isinstance(body, (bytes, str)) else json.dumps(body, ensure_ascii=False).encode("utf-8")
        return self.http.post(self.url(resource, params), data=data, timeout=30,
                              headers=dict(self.headers, **{"Content-Type": "application/json"}, **kw.pop("headers", {})))

    def patch(self, resource: str, body: Any, **kw: Any) -> requests.Response:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return self.http.patch(self.url(resource, {"$format": "json"}), data=data, timeout=30,
                               headers=dict(self.headers, **{"Content-Type": "application/json"}))

    def put(self, resource: str, body: Any) -> requests.Response:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return self.http.put(self.url(resource, {"$format": "json"}), data=data, timeout=30,
                             headers=dict(self.headers, **{"Content-Type": "application/json"}))

    def delete(self, resource: str) -> requests.Response:
        return self.http.delete(self.url(resource, {"$format": "json"}), headers=dict(self.headers, **{"Content-Length": "0"}),
                                timeout=30)

    def action(self, resource: str, name: str, operational: bool = False) -> requests.Response:
        params = {"PostingModeOperational": str(operational).lower(), "$format": "json"}
        return self.http.post(self.url(f"{resource}/{name}", params), headers=self.headers, timeout=30)

    def values(self, resource: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        r = self.get(resource, params)
        assert r.status_code == 200, r.text
        return r.json()["value"]

    def one(self, resource: str, filter_: str) -> dict[str, Any]:
        rows = self.values(resource, {"$filter": filter_})
        assert len(rows) == 1, rows
        return rows[0]


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    srv = serve_in_thread(tmp_path_factory.mktemp("onec"))
    try:
        yield srv
    finally:
        srv.stop()


def make_base(server: Any, profile: str, *, name: str | None = None, counterparties: list | None = None,
              options: dict | None = None, member_id: str = "") -> str:
    name = name or f"{profile}_{uuid.uuid4().hex[:8]}"
    r = requests.post(f"{server.url}/_sandbox/onec", json={
        "name": name, "profile": profile, "user": USER, "password": PASSWORD, "member_id": member_id,
        "organization": ORG, "counterparties": COUNTERPARTIES if counterparties is None else counterparties,
        "products": PRODUCTS, "options": options or {}}, timeout=30)
    assert r.status_code == 201, r.text
    return name


@pytest.fixture(scope="package")
def bp(server: Any) -> str:
    return make_base(server, "bp30", name="bp_main")


@pytest.fixture
def fresh_bp(server: Any) -> str:
    return make_base(server, "bp30")


@pytest.fixture(scope="package")
def odata(server: Any, bp: str) -> OData:
    return OData(server.url, bp)


def control(server: Any, method: str, path: str, **kw: Any) -> requests.Response:
    return requests.request(method, f"{server.url}/_sandbox/onec{path}", timeout=60, **kw)


def refs(client: OData) -> dict[str, str]:
    """Ref_Keys of the seeded organization, counterparty (Ромашка, head office), contract-less product rows."""
    org = client.values("Catalog_Организации")[0]["Ref_Key"]
    cp = client.one("Catalog_Контрагенты", "ИНН eq '5024093941' and КПП eq '502401001'")["Ref_Key"]
    arm = client.one("Catalog_Номенклатура", "Артикул eq 'MP-ARM-12'")["Ref_Key"]
    lst = client.one("Catalog_Номенклатура", "Артикул eq 'MP-LST-4'")["Ref_Key"]
    return {"org": org, "cp": cp, "arm": arm, "lst": lst}


def bp_invoice(client: OData, amount: float = 120000.0, comment: str = "", post: bool = True) -> dict[str, Any]:
    """A БП invoice with one row (VAT 20% included), created and posted over OData like the app does."""
    r = refs(client)
    vat = round(amount * 20 / 120, 2)
    resp = client.post("Document_СчетНаОплатуПокупателю", {
        "Date": "2026-11-20T12:00:00", "Организация_Key": r["org"], "Контрагент_Key": r["cp"],
        "Комментарий": comment, "СуммаВключаетНДС": True,
        "Товары": [{"Номенклатура_Key": r["arm"], "Количество": 1, "Цена": amount, "Сумма": amount,
                    "СтавкаНДС": "НДС20", "СуммаНДС": vat}]})
    assert resp.status_code == 201, resp.text
    inv = resp.json()
    if post:
        p = client.action(f"Document_СчетНаОплатуПокупателю(guid'{inv['Ref_Key']}')", "Post")
        assert p.status_code == 200, p.text
    return inv
