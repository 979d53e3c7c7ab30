"""The business methods through b24pysdk's webhook client (which only speaks HTTPS to
``https://<domain>/rest/``): the sandbox serves TLS with a throw-away certificate for 127.0.0.1 and the
SDK's "domain" is ``127.0.0.1:<port>/p/<portal domain>``."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from b24pysdk import BitrixWebhook
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from b24sandbox.server import serve_in_thread

from .shapes import fixture, shape_diff


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    cert, key = _self_signed(tmp_path_factory.mktemp("tls"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = serve_in_thread(tmp_path_factory.mktemp("sandbox"), ssl_context=ctx)
    try:
        yield srv, cert
    finally:
        srv.stop()


@pytest.fixture()
def webhook(tls_server: tuple[Any, Path], monkeypatch: pytest.MonkeyPatch) -> BitrixWebhook:
    srv, cert = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    portal = requests.post(f"{srv.url}/_sandbox/portals", json={"domain": "sdk.bitrix24.ru", "seed": "empty"},
                           verify=str(cert), timeout=30).json()
    hook = requests.post(f"{srv.url}/_sandbox/portals/{portal['member_id']}/webhooks", json={"user_id": 1},
                         verify=str(cert), timeout=10).json()
    rest = portal["rest_url"]  # https://127.0.0.1:<port>/p/sdk.bitrix24.ru/rest/
    domain = rest.split("://", 1)[1].rsplit("/rest/", 1)[0]
    return BitrixWebhook(domain=domain, webhook_token=f"{hook['user_id']}/{hook['code']}")


def _result(response: Any) -> Any:
    return response["result"] if isinstance(response, dict) else response.result


def test_b24pysdk_webhook_calls(webhook: BitrixWebhook) -> None:
    added = webhook.call_method("crm.deal.add", {"fields": {"TITLE": "SDK", "OPPORTUNITY": 1500}})
    assert shape_diff(fixture("crm_deal_add_response.json"), added) == []
    deal_id = _result(added)
    got = webhook.call_method("crm.deal.get", {"id": deal_id})
    assert shape_diff(fixture("crm_deal_get_response.json")["result"], _result(got),
                      ignore={"PARENT_ID_1220", "UF_CRM_1721244482250"}) == []
    updated = webhook.call_method("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "WON"}})
    assert shape_diff(fixture("crm_deal_update_response.json"), updated) == []
    users = webhook.call_method("user.get", {"sort": "ID", "order": "ASC"})
    assert shape_diff(fixture("user_get_response.json"), users, ignore={"time"}) == []
    webhook.call_method("department.add", {"NAME": "Отдел продаж", "PARENT": 1})
    deps = webhook.call_method("department.get", {"PARENT": 1})
    assert shape_diff(fixture("department_get_response.json"), deps, ignore={"time"}) == []
    assert _result(webhook.call_method("user.admin")) is True
