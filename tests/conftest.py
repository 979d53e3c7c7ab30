"""Fixtures shared by every test: a fresh store per test, configuration without the caller's
environment, a local HTTP server helper."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from b24app.config import Config
from b24app.context import Services

FIXTURES = Path("/work/shared/reference/fixtures")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("B24APP_"):
            monkeypatch.delenv(key, raising=False)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config.from_env({}, instance_path=str(tmp_path / "instance"), client_id="local.test.app",
                           client_secret="secret", secret_key="test-secret", public_url="http://127.0.0.1:5999",
                           http_timeout=5.0)


@pytest.fixture
def services(config: Config) -> Iterator[Services]:
    svc = Services.open(config)
    yield svc
    svc.db.close()


PG_ADMIN_URL = os.environ.get("B24APP_TEST_PG", "postgresql://root@127.0.0.1:5432/test")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema on the local server (the machine runs one; CI too)."""
    import uuid

    import psycopg

    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def any_services(request: pytest.FixtureRequest, config: Config) -> Iterator[Services]:
    """The same store contract against both engines."""
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        config.database_url = url
    svc = Services.open(config)
    yield svc
    svc.db.close()


class LocalServer:
    """A WSGI app on 127.0.0.1 with an OS-chosen port, in a thread; stopped by the fixture."""

    def __init__(self, app: Any) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def local_server() -> Iterator[Any]:
    servers: list[LocalServer] = []

    def start(app: Any) -> LocalServer:
        srv = LocalServer(app)
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()
