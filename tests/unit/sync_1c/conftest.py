"""Fixtures of the sync's unit tests: the 1C sandbox alone (no portal) on 127.0.0.1, and bases of each
profile seeded with an organization, counterparties and products."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from b24app.config import Config
from b24app.context import Services
from b24app.sync_1c.odata import ODataClient
from b24app.sync_1c.profiles import profile as make_profile
from b24app.sync_1c.soap import SoapClient
from b24app.sync_1c.transport import ODataTransport, SoapTransport, Transport
from b24sandbox.onec import serve_in_thread

USER = "Интеграция"  # a Cyrillic login: Basic auth must be UTF-8
PASSWORD = "Пароль-1С"
ORG = {"name": "ООО «МеталПром»", "full_name": "Общество с ограниченной ответственностью «МеталПром»",
       "inn": "7448053174", "kpp": "744801001", "ogrn": "1097448017666", "code": "MP",
       "bank": {"name": "ПАО Сбербанк", "bik": "047501602", "account": "40702810172000031457"}}
COUNTERPARTIES = [{"name": "ООО «Уралсталь»", "full_name": "Общество с ограниченной ответственностью «Уралсталь»",
                   "inn": "6658100010", "kpp": "665801001"}]
PRODUCTS = [
    {"ID": 1, "NAME": "Арматура А500С 12 мм", "XML_ID": "MP-ARM-12", "MEASURE_NAME": "т", "VAT_RATE": 20, "PRICE": 65000},
    {"ID": 2, "NAME": "Лист г/к 4 мм", "XML_ID": "MP-LST-4", "MEASURE_NAME": "т", "VAT_RATE": 20, "PRICE": 72000},
]


class OneC:
    """The 1C sandbox server and its control API."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.url = server.url

    def control(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201, 204)) -> Any:
        r = requests.request(method, f"{self.url}/_sandbox/onec{path}", json=body, timeout=60)
        assert r.status_code in ok, (method, path, r.status_code, r.text[:500])
        return r.json() if r.content else None

    def base(self, profile: str, **options: Any) -> dict[str, Any]:
        name = f"{profile}_{uuid.uuid4().hex[:8]}"
        return self.control("POST", "", {"name": name, "profile": profile, "user": USER, "password": PASSWORD,
                                          "organization": ORG, "counterparties": COUNTERPARTIES, "products": PRODUCTS,
                                          "options": options})

    def odata(self, base: dict[str, Any], password: str = PASSWORD) -> ODataClient:
        return ODataClient(base["odata_url"], USER, password, timeout=10, allow_private=True)

    def transport(self, base: dict[str, Any], kind: str) -> Transport:
        prof = make_profile(base["profile"])
        if kind == "soap":
            return SoapTransport(base["name"], prof, SoapClient(base["wsdl_url"], USER, PASSWORD, timeout=10,
                                                               allow_private=True))
        return ODataTransport(base["name"], prof, self.odata(base))

    def requests(self, name: str) -> list[dict[str, Any]]:
        return self.control("GET", f"/{name}/requests?limit=5000")["items"]


@pytest.fixture(scope="package")
def onec(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OneC]:
    srv = serve_in_thread(tmp_path_factory.mktemp("onec"))
    try:
        yield OneC(srv)
    finally:
        srv.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def services(request: pytest.FixtureRequest, config: Config) -> Iterator[Services]:
    """The store of the sync's tables on both engines (the same SQL serves SQLite and PostgreSQL)."""
    if request.param == "postgres":
        config.database_url = request.getfixturevalue("pg_url")
    svc = Services.open(config)
    yield svc
    svc.db.close()
