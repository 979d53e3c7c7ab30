"""Fixtures for the sandbox platform tests: a sandbox server on a free port, a portal, a webhook,
and a tiny receiving HTTP server that stands in for an app (captures every POST the portal sends)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from b24sandbox.server import SandboxServer, serve_in_thread

FIXTURES = Path("/work/shared/reference/fixtures/bitrix24")


def fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass
class Captured:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]
    raw: str

    @property
    def all(self) -> dict[str, str]:
        """Query and form merged, as an app reading ``request.values`` sees them."""
        return {**self.query, **self.form}


@dataclass
class Receiver:
    """An app endpoint: records requests, answers ``status`` (per path if set) and may run a hook."""

    url: str
    requests: list[Captured] = field(default_factory=list)
    status: int = 200
    statuses: dict[str, int] = field(default_factory=dict)
    hooks: dict[str, Callable[[Captured], None]] = field(default_factory=dict)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def at(self, path: str) -> str:
        return self.url + path

    def received(self, path: str | None = None) -> list[Captured]:
        with self.cond:
            return [r for r in self.requests if path is None or r.path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 10.0) -> list[Captured]:
        with self.cond:
            ok = self.cond.wait_for(lambda: len([r for r in self.requests if r.path == path]) >= count, timeout)
            got = [r for r in self.requests if r.path == path]
        assert ok, f"expected {count} request(s) to {path}, got {len(got)}"
        return got


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            rec = state["r"]
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            cap = Captured(self.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                           dict(parse_qsl(raw, keep_blank_values=True)), dict(self.headers.items()), raw)
            hook = rec.hooks.get(parts.path)
            if hook is not None:
                hook(cap)
            with rec.cond:
                rec.requests.append(cap)
                rec.cond.notify_all()
            status = rec.statuses.get(parts.path, rec.status)
            body = b"<html><body>ok</body></html>"
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = _handle
        do_GET = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    rec = Receiver(url=f"http://127.0.0.1:{server.server_port}")
    state["r"] = rec
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield rec
    server.shutdown()
    server.server_close()
    t.join(timeout=5)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    with serve_in_thread(tmp_path / "data") as sb:
        yield sb


class Portal:
    """A portal of the sandbox seen from a test: its control URLs and a REST helper."""

    def __init__(self, sb: SandboxServer, info: dict[str, Any]) -> None:
        self.sb = sb
        self.info = info
        self.member_id: str = info["member_id"]
        self.domain: str = info["domain"]
        self.rest_url: str = info["rest_url"]
        self.control = f"{sb.url}/_sandbox/portals/{self.member_id}"

    def webhook(self, user_id: int = 1, **extra: Any) -> str:
        r = requests.post(self.control + "/webhooks", json={"user_id": user_id, **extra}, timeout=10)
        assert r.status_code == 201, r.text
        return str(r.json()["url"])

    def ctl(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(method, self.control + path, json=body, timeout=30)

    def register_app(self, client_id: str, install_url: str, *, scopes: list[str] | None = None, ui: bool = True,
                     secret: str = "secret-1", **extra: Any) -> dict[str, Any]:
        r = self.ctl("POST", "/apps", {"client_id": client_id, "client_secret": secret, "install_url": install_url,
                                       "scopes": scopes or ["crm", "bizproc", "placement", "user", "task"],
                                       "ui": ui, **extra})
        assert r.status_code == 201, r.text
        return dict(r.json())

    def install(self, client_id: str) -> dict[str, Any]:
        r = self.ctl("POST", f"/apps/{client_id}/install", {})
        assert r.status_code == 200, r.text
        return dict(r.json())

    def call(self, method: str, params: Any = None, *, token: str | None = None, hook: str | None = None,
             **kw: Any) -> requests.Response:
        if hook is not None:
            return requests.post(hook + method, json=params or {}, timeout=30, **kw)
        body = dict(params or {})
        if token is not None:
            body["auth"] = token
        return requests.post(self.rest_url + method, json=body, timeout=30, **kw)

    def deliveries(self, **filters: str) -> list[dict[str, Any]]:
        self.wait_idle()
        r = requests.get(self.control + "/deliveries", params=filters, timeout=10)
        return list(r.json())

    def wait_idle(self) -> None:
        requests.post(self.sb.url + "/_sandbox/wait-deliveries", json={"timeout_s": 15}, timeout=30)


@pytest.fixture
def make_portal(sandbox: SandboxServer) -> Callable[..., Portal]:
    counter = {"n": 0}

    def make(domain: str | None = None, **body: Any) -> Portal:
        counter["n"] += 1
        dom = domain or f"p{counter['n']}.bitrix24.ru"
        r = requests.post(sandbox.url + "/_sandbox/portals", json={"domain": dom, "seed": "empty", **body}, timeout=60)
        assert r.status_code == 201, r.text
        return Portal(sandbox, r.json())

    return make


@pytest.fixture
def portal(make_portal: Callable[..., Portal]) -> Portal:
    return make_portal("metalprom.bitrix24.ru")


@dataclass
class InstalledApp:
    client_id: str
    secret: str
    access_token: str
    refresh_token: str
    application_token: str
    install_form: dict[str, str]


@pytest.fixture
def installed_app(portal: Portal, receiver: Receiver) -> InstalledApp:
    """A UI app installed through the app-page POST; tokens taken from that POST."""
    portal.register_app("local.test.app1", receiver.at("/install"))
    res = portal.install("local.test.app1")
    assert res["installed"] is True
    page = receiver.received("/install")[0]
    return InstalledApp("local.test.app1", "secret-1", page.form["AUTH_ID"], page.form["REFRESH_ID"],
                        page.form["APPLICATION_TOKEN"], page.all)
