"""From the settings' connection entries to connected transports, and the "test connection"
check that reports exactly which step failed: the URL guard, DNS, TCP connect, TLS, the
user/password, an HTML page instead of data, and objects missing from the OData composition (or
operations missing from the web service)."""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from b24app.context import Services
from b24app.errors import B24AppError, ConfigError, OneCError
from b24app.sync_1c import credentials
from b24app.sync_1c.netguard import check_url
from b24app.sync_1c.odata import ODataClient
from b24app.sync_1c.profiles import profile as make_profile
from b24app.sync_1c.soap import SoapClient
from b24app.sync_1c.transport import ODataTransport, SoapTransport, Transport

SOAP_OPERATIONS = ("Ping", "FindCounterparty", "CreateCounterparty", "FindContract", "CreateContract", "FindProduct",
                   "CreateInvoice", "FindInvoiceByComment", "GetInvoiceChanges", "GetPayments", "GetInvoiceStatus")


def section(settings: dict[str, Any]) -> dict[str, Any]:
    return settings.get("onec") or {}


def bases(settings: dict[str, Any], *, enabled_only: bool = True) -> list[dict[str, Any]]:
    out = list(section(settings).get("bases") or [])
    return [b for b in out if b.get("enabled", True)] if enabled_only else out


def base_config(settings: dict[str, Any], name: str) -> dict[str, Any]:
    for b in section(settings).get("bases") or []:
        if b.get("name") == name:
            return b
    known = ", ".join(b.get("name", "") for b in section(settings).get("bases") or []) or "none"
    raise ConfigError(f"no 1C connection named {name!r} in the settings (known: {known}) / нет подключения «{name}»")


def web_root(base: dict[str, Any]) -> str:
    """The publication's root for links into the 1C web client."""
    if base.get("web_url"):
        return str(base["web_url"])
    url = str(base.get("url") or "")
    for marker in ("/odata/standard.odata", "/ws/"):
        if marker in url:
            return url.split(marker, 1)[0]
    return ""


def open_transport(services: Services, member_id: str, base: dict[str, Any]) -> Transport:
    """A transport for a configured base (the password decrypted just for the connection)."""
    password = credentials.password_for(services.db, services.secrets, member_id, base)
    allow = services.config.allow_private_networks
    timeout = float(base.get("timeout_s") or services.config.http_timeout)
    prof = make_profile(base.get("profile", "bp30"))
    if base.get("transport", "odata") == "soap":
        client = SoapClient(base["url"], base.get("user", ""), password, address=base.get("address", ""),
                            timeout=timeout, allow_private=allow)
        return SoapTransport(base["name"], prof, client)
    return ODataTransport(base["name"], prof, ODataClient(base["url"], base.get("user", ""), password,
                                                          timeout=timeout, allow_private=allow))


@dataclass
class Step:
    step: str
    ok: bool
    detail: str
    ms: int = 0


@dataclass
class CheckReport:
    base: str
    steps: list[Step] = field(default_factory=list)
    organizations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)

    @property
    def failed(self) -> Step | None:
        return next((s for s in self.steps if not s.ok), None)

    def as_dict(self) -> dict[str, Any]:
        failed = self.failed
        return {"base": self.base, "ok": self.ok, "failed_step": failed.step if failed else None,
                "steps": [s.__dict__ for s in self.steps], "organizations": self.organizations}


def test_connection(services: Services, member_id: str, base: dict[str, Any]) -> CheckReport:
    """Walk the connection step by step and stop at the first failure (each step says what failed)."""
    report = CheckReport(base["name"])
    allow = services.config.allow_private_networks
    timeout = float(base.get("timeout_s") or services.config.http_timeout)
    url = str(base.get("url") or "")

    def add(step: str, ok: bool, detail: str, started: float) -> bool:
        report.steps.append(Step(step, ok, detail, int((time.monotonic() - started) * 1000)))
        return ok

    t = time.monotonic()
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = sorted({i[4][0] for i in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})
    except (OSError, UnicodeError) as exc:
        add("dns", False, f"имя сервера «{host}» не найдено в DNS / host not found: {exc}", t)
        return report
    add("dns", True, f"{host} -> {', '.join(addresses)}", t)
    t = time.monotonic()
    try:
        check_url(url, allow)
        if base.get("address"):
            check_url(base["address"], allow)
    except ConfigError as exc:
        add("url_guard", False, exc.message, t)
        return report
    add("url_guard", True, "адрес разрешён / address allowed", t)
    t = time.monotonic()
    try:
        sock = socket.create_connection((host, port), timeout=min(timeout, 15.0))
    except OSError as exc:
        add("connect", False, f"нет соединения с {host}:{port} / cannot connect: {exc}", t)
        return report
    add("connect", True, f"{host}:{port}", t)
    if parts.scheme == "https":
        t = time.monotonic()
        try:
            with ssl.create_default_context().wrap_socket(sock, server_hostname=host) as tls:
                add("tls", True, f"{tls.version()}", t)
        except (ssl.SSLError, OSError) as exc:
            add("tls", False, f"ошибка TLS (сертификат?) / TLS failed: {exc}", t)
            return report
    else:
        sock.close()
    t = time.monotonic()
    try:
        transport = open_transport(services, member_id, base)
        if isinstance(transport, ODataTransport):
            published = set(transport.client.service_sets())
            add("auth", True, "логин и пароль приняты / credentials accepted", t)
            t = time.monotonic()
            missing = [s for s in transport.profile.required_sets() if s not in published]
            if missing:
                add("composition", False, "не опубликованы в составе OData / not in the OData composition: "
                    + ", ".join(missing), t)
                return report
            add("composition", True, f"{len(published)} наборов опубликовано / sets published", t)
        else:
            assert isinstance(transport, SoapTransport)
            ops = {op for svc in transport.client.client.wsdl.services.values() for port in svc.ports.values()
                   for op in port.binding.all()}
            missing = [o for o in SOAP_OPERATIONS if o not in ops]
            if missing:
                add("operations", False, "в веб-сервисе нет операций / operations missing: " + ", ".join(missing), t)
                return report
            add("operations", True, f"адрес веб-сервиса / endpoint {transport.client.address}", t)
        t = time.monotonic()
        orgs = transport.organizations()
        if base.get("transport") == "soap":
            add("auth", True, "логин и пароль приняты / credentials accepted", t)
            t = time.monotonic()
    except OneCError as exc:
        step = "html_answer" if exc.code == "html_answer" else "auth" if exc.status in (401, 403) else "onec"
        add(step, False, exc.message, t)
        return report
    except B24AppError as exc:
        add("onec", False, exc.message, t)
        return report
    report.organizations = [o.__dict__ for o in orgs]
    inn = str(base.get("organization_inn") or "")
    if inn and not any(o.inn == inn for o in orgs):
        add("organization", False, f"в базе нет организации с ИНН {inn} / no organization with this ИНН", t)
        return report
    add("organization", bool(orgs), ", ".join(f"{o.name} (ИНН {o.inn})" for o in orgs) or "нет организаций", t)
    return report
