"""Scenario fixtures: one sandbox server per test session; a fresh portal and app per test."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from b24sandbox.server import serve_in_thread
from tests.scenarios.harness import AppUnderTest, Sandbox, start_app, wait_for

SCOPES = ["crm", "bizproc", "task", "im", "user", "department", "placement", "disk", "timeman", "calendar"]
_apps = itertools.count(1)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    server = serve_in_thread(tmp_path_factory.mktemp("sandbox"))
    try:
        yield Sandbox(server.url)
    finally:
        server.stop()


@pytest.fixture
def app_factory(sandbox: Sandbox, tmp_path: Path) -> Iterator[Any]:
    started: list[AppUnderTest] = []

    def make(name: str = "app") -> AppUnderTest:
        client_id = f"local.scen{next(_apps)}.app"
        app = start_app(tmp_path / name, sandbox.url, client_id, secrets.token_hex(8))
        started.append(app)
        return app

    yield make
    for app in started:
        app.stop()


def register_app(sandbox: Sandbox, app: AppUnderTest, member_id: str, *, ui: bool = True) -> dict[str, Any]:
    return sandbox.control("POST", f"/portals/{member_id}/apps", {
        "client_id": app.config.client_id, "client_secret": app.config.client_secret,
        "install_url": app.url + "/install", "app_url": app.url + "/", "scopes": SCOPES, "ui": ui,
    })


def install(sandbox: Sandbox, app: AppUnderTest, member_id: str, *, ui: bool = True) -> dict[str, Any]:
    """Register the app on the portal, run the portal's install flow, let the worker register."""
    register_app(sandbox, app, member_id, ui=ui)
    res = sandbox.control("POST", f"/portals/{member_id}/apps/{app.config.client_id}/install")
    assert res["installed"], res
    sandbox.wait_deliveries()
    from b24app.store import installations

    wait_for(lambda: installations.get(app.db, member_id), what="installation stored")
    app.drain()
    inst = installations.get(app.db, member_id)
    assert inst is not None and inst.registered_at, inst
    return sandbox.control("GET", f"/portals/{member_id}/apps/{app.config.client_id}")


@pytest.fixture
def installed(sandbox: Sandbox, app_factory: Any) -> Any:
    """(app, portal, app view) with the app installed into a fresh empty portal."""
    app = app_factory()
    portal = sandbox.new_portal("empty")
    view = install(sandbox, app, portal["member_id"])
    return app, portal, view
