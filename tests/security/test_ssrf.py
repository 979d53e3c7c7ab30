"""A portal administrator must not make the server call arbitrary addresses. The only URLs taken
from settings that the server calls are the 1C connections (``onec.bases[].url`` — OData root or WSDL
— and ``onec.bases[].address``, the SOAP endpoint; ``web_url`` only builds links and is never
fetched). Loopback, private, link-local, reserved and cloud-metadata addresses, in every spelling, are
refused unless the operator sets B24APP_ALLOW_PRIVATE_NETWORKS=1 (the sandbox tests do) — through the
CLI, the connection test, the scheduled pull, and also when a public-looking 1C answers with a
redirect or a WSDL that imports documents from an internal address."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, Response, redirect, request
from werkzeug.serving import make_server

from b24app.errors import B24AppError, ConfigError
from b24app.jobs.registry import load_plugins
from b24app.store import jobs as jobs_repo
from b24app.sync_1c import netguard
from b24app.sync_1c.odata import ODataClient
from b24app.sync_1c.soap import SoapClient
from tests.scenarios.sync_1c.conftest import Portal

SPELLINGS = [  # {port} and {path} are the sandbox base's: a request that got through would reach it
    "http://127.0.0.1:{port}{path}", "http://localhost:{port}{path}", "http://[::1]:{port}{path}",
    "http://127.1:{port}{path}", "http://2130706433:{port}{path}", "http://0x7f000001:{port}{path}",
    "http://0.0.0.0:{port}{path}", "http://[::ffff:127.0.0.1]:{port}{path}", "http://127.0.0.1.nip.invalid:{port}{path}",
    "http://10.0.0.5{path}", "http://192.168.1.20{path}", "http://172.16.0.3{path}", "http://100.64.1.1{path}",
    "http://169.254.10.1{path}", "http://169.254.169.254/latest/meta-data/odata/standard.odata/",
    "http://[fd00:ec2::254]{path}", "http://100.100.100.200{path}", "http://metadata.google.internal{path}",
    "http://[fe80::1]{path}", "http://[fc00::7]{path}",
]


def onec_requests(mp: Portal) -> int:
    return sum(mp.onec("GET", b, "/requests?limit=1")["total"] for b in mp.bases())


@pytest.fixture
def guarded(mp: Portal) -> Iterator[Portal]:
    """The app as an ordinary installation: private networks not allowed (the sandbox's fixture allows them)."""
    mp.app.config.allow_private_networks = False
    yield mp
    mp.app.config.allow_private_networks = True


def cli_env(mp: Portal) -> dict[str, str]:
    return mp.env() | {"B24APP_ALLOW_PRIVATE_NETWORKS": "0"}


def test_every_spelling_of_an_internal_address_is_refused(guarded: Portal) -> None:
    from click.testing import CliRunner

    from b24app.cli import main as cli_main

    mp = guarded
    real = urlsplit(mp.bases()[mp.main]["odata_url"])
    wsdl = urlsplit(mp.bases()[mp.main]["wsdl_url"])
    before = onec_requests(mp)
    for transport, parts in (("odata", real), ("soap", wsdl)):
        for spelling in SPELLINGS:
            url = spelling.format(port=parts.port, path=parts.path + (f"?{parts.query}" if parts.query else ""))
            res = CliRunner().invoke(cli_main, ["sync", "connect", "--portal", mp.member_id, "--base", "evil", "--url", url,
                                                "--user", "b24sync", "--password-stdin", "--profile", "bp30",
                                                "--transport", transport, "--json"], input="x\n", env=cli_env(mp))
            assert res.exit_code == 2, (url, res.output)
            assert '"failed_step": "url_guard"' in res.output or '"failed_step": "dns"' in res.output, (url, res.output)
    # the SOAP endpoint named apart from the WSDL is checked too
    res = CliRunner().invoke(cli_main, ["sync", "connect", "--portal", mp.member_id, "--base", "evil2",
                                        "--url", "http://192.0.2.10/ws/b24exchange.1cws?wsdl",
                                        "--address", f"http://127.0.0.1:{wsdl.port}/onec/{mp.main}/ws/b24exchange",
                                        "--user", "b24sync", "--password-stdin", "--profile", "bp30",
                                        "--transport", "soap", "--json"], input="x\n", env=cli_env(mp))
    assert res.exit_code == 2 and '"failed_step": "url_guard"' in res.output, res.output
    assert onec_requests(mp) == before  # not one request reached the loopback base


def test_a_connection_in_the_settings_is_refused_where_it_is_used(guarded: Portal) -> None:
    """The settings document (imported by an administrator) may name a loopback 1C: the connection
    test, the scheduled pull and the push refuse it before any request, with a readable reason."""
    from click.testing import CliRunner

    from b24app.cli import main as cli_main

    def cli(*args: str) -> Any:
        return CliRunner().invoke(cli_main, list(args), env=cli_env(mp))

    mp = guarded
    before = onec_requests(mp)
    text = cli("sync", "test-connection", "--portal", mp.member_id, "--base", mp.main, "--json").output
    assert '"step": "url_guard"' in text and "loopback" in text, text
    jobs_repo.purge(mp.app.db, status=jobs_repo.DONE)
    load_plugins().periodic["sync_1c.schedule"].enqueue(mp.app.services)
    mp.app.drain()
    pulls = jobs_repo.list_jobs(mp.app.db, kind="sync_1c.pull", member_id=mp.member_id, limit=10)
    assert pulls and all(j.status == jobs_repo.DEAD and j.last_error_action == "FAIL_CONFIG" for j in pulls), \
        [(j.status, j.last_error_action, j.last_error) for j in pulls]
    assert all("B24APP_ALLOW_PRIVATE_NETWORKS" in (j.last_error or "") or "loopback" in (j.last_error or "")
               for j in pulls)
    deal = mp.deal_of(1, stage="UC_AWAIT_PAYMENT")
    res = cli("sync", "push-invoice", "--portal", mp.member_id, "--deal", str(deal), "--json")
    assert res.exit_code != 0 and "B24APP_ALLOW_PRIVATE_NETWORKS" in res.output + str(res.stderr_bytes or b""), \
        res.output
    assert onec_requests(mp) == before
    # the operator allows private networks (a 1C server in the office): the same connection works
    mp.app.config.allow_private_networks = True
    assert mp.cli("sync", "test-connection", "--portal", mp.member_id, "--base", mp.main, "--json")["ok"] is True


# --- redirects and WSDL imports ---------------------------------------------------------------------
class Server:
    def __init__(self, host: str, app: Flask) -> None:
        self.srv = make_server(host, 0, app, threaded=True)
        self.url = f"http://{host}:{self.srv.server_port}"
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.srv.shutdown()
        self.thread.join(5)


WSDL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:tns="http://b24app.ru/1c/B24Exchange"
    targetNamespace="http://b24app.ru/1c/B24Exchange">
  <types><xsd:schema targetNamespace="urn:b24">
    <xsd:import namespace="urn:evil" schemaLocation="{internal}/evil.xsd"/>
  </xsd:schema></types>
  <message name="Ping"><part name="x" type="xsd:string"/></message>
  <portType name="B24ExchangePortType"><operation name="Ping"><input message="tns:Ping"/><output message="tns:Ping"/>
  </operation></portType>
  <binding name="B24ExchangeSoapBinding" type="tns:B24ExchangePortType">
    <soap:binding style="rpc" transport="http://schemas.xmlsoap.org/soap/http"/>
    <operation name="Ping"><soap:operation soapAction="urn:b24#Ping"/>
      <input><soap:body use="literal" namespace="urn:b24"/></input><output><soap:body use="literal" namespace="urn:b24"/></output>
    </operation></binding>
  <service name="B24Exchange"><port name="B24ExchangeSoap" binding="tns:B24ExchangeSoapBinding">
    <soap:address location="{public}/ws"/></port></service>
</definitions>"""


@pytest.fixture
def hosts(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """127.0.0.1 plays a public 1C server (the guard is told it is public); 127.0.0.2 plays an
    internal host that must never be reached (it counts every request)."""
    hits: list[str] = []
    internal_app = Flask("internal")

    @internal_app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
    @internal_app.route("/<path:path>", methods=["GET", "POST"])
    def anything(path: str) -> Response:
        hits.append(path)
        return Response("<secret/>", content_type="text/xml")

    internal = Server("127.0.0.2", internal_app)
    public_app = Flask("public")

    @public_app.get("/odata/standard.odata/<path:rest>")
    @public_app.get("/odata/standard.odata/")
    def odata_redirect(rest: str = "") -> Any:
        return redirect(internal.url + "/odata/standard.odata/" + rest + "?" + request.query_string.decode(), 302)

    @public_app.get("/ws/redirect.1cws")
    def wsdl_redirect() -> Any:
        return redirect(internal.url + "/ws/b24exchange.1cws?wsdl", 302)

    @public_app.get("/ws/imports.1cws")
    def wsdl_imports() -> Response:
        return Response(WSDL.format(internal=internal.url, public=public.url), content_type="text/xml")

    public = Server("127.0.0.1", public_app)
    real = netguard._forbidden
    monkeypatch.setattr(netguard, "_forbidden", lambda addr: None if str(addr) == "127.0.0.1" else real(addr))
    try:
        yield {"public": public.url, "internal": internal.url, "hits": hits}
    finally:
        public.stop()
        internal.stop()


def test_a_redirect_or_a_wsdl_import_never_reaches_an_internal_host(hosts: dict[str, Any]) -> None:
    pub = hosts["public"]
    netguard.check_url(pub + "/odata/standard.odata/", False)  # the public one passes the guard
    with pytest.raises(ConfigError):
        netguard.check_url(hosts["internal"] + "/", False)  # the internal one does not
    client = ODataClient(pub + "/odata/standard.odata/", "u", "p", timeout=5, allow_private=False)
    with pytest.raises(B24AppError):
        client.get_json("Catalog_Контрагенты")
    with pytest.raises(B24AppError):
        SoapClient(pub + "/ws/redirect.1cws?wsdl", "u", "p", timeout=5, allow_private=False)
    try:  # a WSDL whose schema imports a document from an internal host: refused, or at least not fetched
        SoapClient(pub + "/ws/imports.1cws?wsdl", "u", "p", timeout=5, allow_private=False)
    except B24AppError:
        pass
    with pytest.raises(ConfigError):
        SoapClient(pub + "/ws/imports.1cws?wsdl", "u", "p", timeout=5, allow_private=False,
                   address=hosts["internal"] + "/ws")
    assert hosts["hits"] == [], hosts["hits"]
