"""The platform through b24pysdk 1.3.2's webhook client. The SDK only speaks HTTPS to
``https://<domain>/rest/``, so the sandbox serves TLS with a throw-away certificate made by the
``openssl`` command, and the SDK's "domain" is ``127.0.0.1:<port>/p/<portal domain>``."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from b24pysdk import BitrixWebhook
from b24pysdk.errors import BitrixAPIInsufficientScope, BitrixAPINotFound, BitrixAPIQueryLimitExceeded

from b24sandbox.server import SandboxServer, serve_in_thread

from . import testmethods  # noqa: F401


def _certificate(directory: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    assert openssl, "the openssl command is needed to make a test certificate"
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:TRUE"],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxServer, Path]]:
    cert, key = _certificate(tmp_path_factory.mktemp("tls"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = serve_in_thread(tmp_path_factory.mktemp("sb"), ssl_context=ctx)
    try:
        yield srv, cert
    finally:
        srv.stop()


@pytest.fixture
def sdk(tls: tuple[SandboxServer, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    srv, cert = tls
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    n = len(requests.get(srv.url + "/_sandbox/portals", timeout=10).json())
    portal = requests.post(srv.url + "/_sandbox/portals", json={"domain": f"sdk{n}.bitrix24.ru"}, timeout=30).json()
    control = f"{srv.url}/_sandbox/portals/{portal['member_id']}"

    def webhook(**body: Any) -> BitrixWebhook:
        hook = requests.post(control + "/webhooks", json={"user_id": 1, **body}, timeout=10).json()
        domain = portal["rest_url"].split("://", 1)[1].rsplit("/rest/", 1)[0]
        return BitrixWebhook(domain=domain, webhook_token=f"{hook['user_id']}/{hook['code']}")

    yield {"webhook": webhook, "control": control, "portal": portal}


def test_call_method_and_envelope(sdk: dict[str, Any]) -> None:
    hook = sdk["webhook"]()
    info = hook.call_method("app.info")
    assert "SCOPE" in info["result"] and info["time"]["operating"] >= 0
    echo = hook.call_method("sbtest.echo", {"fields": {"TITLE": "Тест", "N": None}})
    assert echo["result"]["params"] == {"fields": {"TITLE": "Тест", "N": None}}


def test_lists_paged_by_the_sdk(sdk: dict[str, Any]) -> None:
    hook = sdk["webhook"]()
    listed = hook.call_list("sbtest.list")
    items = listed["result"] if isinstance(listed, dict) else listed.result
    assert sorted(r["ID"] for r in items) == list(range(1, 121))
    fast = hook.call_list_fast("sbtest.list")
    items = fast["result"] if isinstance(fast, dict) else fast.result
    assert sorted(r["ID"] for r in items) == list(range(1, 121))


def test_call_batch(sdk: dict[str, Any]) -> None:
    hook = sdk["webhook"]()
    res = hook.call_batch({"a": ("sbtest.echo", {"x": 1}), "b": ("sbtest.list", {"start": 100})})
    body = res["result"] if isinstance(res, dict) else res
    assert body["result"]["a"]["params"] == {"x": "1"}
    assert body["result_total"]["b"] == 120


def test_errors_map_to_sdk_exceptions(sdk: dict[str, Any]) -> None:
    limited = sdk["webhook"](scopes=["crm"])
    with pytest.raises(BitrixAPIInsufficientScope):
        limited.call_method("sbtest.disk")
    with pytest.raises(BitrixAPINotFound):
        limited.call_method("no.such.method")
    requests.put(sdk["control"] + "/faults", json={"burst_503_s": 30}, timeout=10)
    try:
        with pytest.raises(BitrixAPIQueryLimitExceeded):
            limited.call_method("sbtest.echo", initial_retry_delay=0.05, retry_delay_increment=0.0)
    finally:
        requests.put(sdk["control"] + "/faults", json={"burst_503_s": 0}, timeout=10)
