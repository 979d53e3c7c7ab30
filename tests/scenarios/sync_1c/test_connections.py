"""Connections: ``b24app sync test-connection`` names exactly the step that failed (DNS, URL guard,
connect, TLS, user/password, an HTML page instead of data, objects missing from the OData
composition); passwords are stored encrypted and never shown back."""

from __future__ import annotations

import http.server
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from b24app.sync_1c.settings_schema import MASK
from tests.scenarios.sync_1c.conftest import Portal

STEPS = ["dns", "url_guard", "connect", "auth", "composition", "organization"]


def connect(mp: Portal, name: str, url: str, password: str, *, profile: str = "bp30", env: dict[str, str] | None = None
            ) -> Any:
    args = ["sync", "connect", "--portal", mp.member_id, "--base", name, "--url", url, "--user", "b24sync",
            "--password-stdin", "--profile", profile, "--json"]
    return mp.cli(*args, ok=False, input=password + "\n")


def check(mp: Portal, name: str, **env: str) -> dict[str, Any]:
    from click.testing import CliRunner

    from b24app.cli import main

    res = CliRunner().invoke(main, ["sync", "test-connection", "--portal", mp.member_id, "--base", name, "--json"],
                             env=mp.env() | env, catch_exceptions=False)
    import json

    assert "{" in res.output, (name, env, res.exit_code, res.output)
    return {"exit": res.exit_code, **json.loads(res.output[res.output.index("{"):])}


def test_every_failing_step_is_named(mp: Portal) -> None:
    main = mp.bases()[mp.main]
    good_password = main["password"]
    url = main["odata_url"]
    assert check(mp, mp.main)["ok"] is True
    assert [s["step"] for s in check(mp, mp.main)["steps"]] == STEPS

    connect(mp, "wrong_password", url, "not-the-password")
    got = check(mp, "wrong_password")
    assert got["exit"] == 2 and got["failed_step"] == "auth"
    assert "логин или пароль" in got["steps"][-1]["detail"]

    mp.onec("PATCH", mp.main, "/faults", {"html_auth_answer": True})
    got = check(mp, "wrong_password")
    assert got["failed_step"] == "html_answer" and "HTML" in got["steps"][-1]["detail"]
    mp.onec("DELETE", mp.main, "/faults")

    name = f"bp_unpub_{mp.member_id[:6]}"
    base = mp.sandbox.control("POST", "/onec", {
        "name": name, "profile": "bp30", "user": "b24sync", "password": good_password, "member_id": mp.member_id,
        "organization": {"name": "ООО «Проба»", "inn": "7448053174", "kpp": "744801001"},
        "options": {"unpublished": ["Document_ПоступлениеНаРасчетныйСчет", "Document_ПриходныйКассовыйОрдер"]}})
    connect(mp, "unpublished", base["odata_url"], good_password)
    got = check(mp, "unpublished")
    assert got["failed_step"] == "composition"
    assert "Document_ПоступлениеНаРасчетныйСчет, Document_ПриходныйКассовыйОрдер" in got["steps"][-1]["detail"]

    connect(mp, "no_dns", "http://no-such-1c-host.invalid/bp/odata/standard.odata/", "x")
    got = check(mp, "no_dns")
    assert got["failed_step"] == "dns" and [s["step"] for s in got["steps"]] == ["dns"]

    connect(mp, "closed_port", "http://127.0.0.1:9/bp/odata/standard.odata/", "x")
    assert check(mp, "closed_port")["failed_step"] == "connect"

    # the URL guard: without the operator's permission a settings URL may not reach private addresses
    got = check(mp, mp.main, B24APP_ALLOW_PRIVATE_NETWORKS="0")
    assert got["failed_step"] == "url_guard" and "127.0.0.1" in got["steps"][-1]["detail"]


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[str]:
    """An HTTPS server with a self-signed certificate (so TLS verification fails, as with a bad cert)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/bp/odata/standard.odata/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_bad_certificate_fails_at_tls(mp: Portal, tls_server: str) -> None:
    connect(mp, "bad_tls", tls_server, "x")
    got = check(mp, "bad_tls")
    assert got["failed_step"] == "tls" and "TLS" in got["steps"][-1]["detail"]


def test_passwords_are_encrypted_and_never_shown_back(mp: Portal, tmp_path: Path) -> None:
    password = mp.bases()[mp.main]["password"]
    stored = mp.app.db.one("SELECT document FROM settings WHERE member_id = ?", (mp.member_id,))["document"]
    assert password not in stored
    creds = mp.app.db.query("SELECT base, password_enc FROM sync_1c_credentials WHERE member_id = ?", (mp.member_id,))
    assert {c["base"] for c in creds} == {mp.main, mp.trade}
    assert all(c["password_enc"].startswith("enc:v1:") and password not in c["password_enc"] for c in creds)
    exported = mp.cli("settings", "export", "--portal", mp.member_id).output
    assert password not in exported
    doc = yaml.safe_load(exported)
    assert {b["password"] for b in doc["onec"]["bases"]} == {MASK}
    # the exported file comes back: the stored passwords stay and the connections still work
    path = tmp_path / "settings.yaml"
    path.write_text(exported, encoding="utf-8")
    mp.cli("settings", "import", "--portal", mp.member_id, str(path))
    assert mp.cli("sync", "test-connection", "--portal", mp.member_id, "--base", mp.main, "--json")["ok"] is True
    # a clear-text password in a settings file is refused with a pointer to the right command
    doc["onec"]["bases"][0]["password"] = "plain-text"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    res = mp.cli("settings", "import", "--portal", mp.member_id, str(path), ok=False)
    assert res.exit_code == 2 and "b24app sync set-password" in res.output
    # set-password stores a new one (encrypted), and the connection uses it
    mp.onec("PATCH", mp.main, "", {"password": "Новый-пароль-1"})
    assert check(mp, mp.main)["failed_step"] == "auth"
    mp.cli("sync", "set-password", "--portal", mp.member_id, "--base", mp.main, "--password-stdin",
           input="Новый-пароль-1\n")
    assert check(mp, mp.main)["ok"] is True
