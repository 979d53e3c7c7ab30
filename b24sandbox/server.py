"""The sandbox HTTP server: many portals, their OAuth server and the control API in one Flask app.

URL layout (one host, e.g. ``http://127.0.0.1:8080``):

- ``/p/<domain>/rest/<method>[.json]`` and ``/p/<domain>/rest/<user_id>/<code>/<method>`` — the REST
  API of portal ``<domain>`` (its ``client_endpoint`` is ``http://127.0.0.1:8080/p/<domain>/rest/``);
- ``/oauth/token/``, ``/oauth/authorize/`` and ``/rest/app.info`` — the OAuth server
  (``server_endpoint`` = ``http://127.0.0.1:8080/rest/``, ``domain`` in token answers =
  ``127.0.0.1:8080``);
- ``/_sandbox/...`` — the control API (docs/sandbox.md).

Use :func:`create_app` for a WSGI app and :func:`serve_in_thread` for tests::

    with serve_in_thread(tmp_path) as sb:
        requests.post(sb.url + "/_sandbox/portals", json={"domain": "x.bitrix24.ru"})
"""

from __future__ import annotations

import importlib
import logging
import signal
import ssl
import threading
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, make_server

from .portal import api as portal_api
from .portal.control import bp as control_bp
from .portal.oauth import bp as oauth_bp
from .portal.rest import handle_rest
from .portal.runtime import Sandbox

log = logging.getLogger("b24sandbox")

# platform method modules register their REST methods on import
PLATFORM_MODULES = (
    "b24sandbox.portal.events",
    "b24sandbox.portal.robots",
    "b24sandbox.portal.platform_methods",
)


def load_method_modules() -> None:
    """Import the platform's and the business methods (``b24sandbox.portal.methods``)."""
    for name in PLATFORM_MODULES:
        importlib.import_module(name)
    try:
        importlib.import_module("b24sandbox.portal.methods")
    except ModuleNotFoundError as exc:
        if exc.name != "b24sandbox.portal.methods":
            raise
        log.error("b24sandbox.portal.methods is missing: only platform methods (app.*, event.*, bizproc.*, "
                  "placement.*, batch, scope, methods) are served")


def create_app(data_dir: Path, *, public_url: str | None = None) -> Flask:
    """The sandbox as a Flask app. ``public_url`` is the base URL clients reach it at (e.g.
    ``http://127.0.0.1:8080``); without it the first request's host URL is taken."""
    load_method_modules()
    sandbox = Sandbox(Path(data_dir), public_url)
    app = Flask("b24sandbox")
    app.extensions["b24sandbox"] = sandbox
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    @app.before_request
    def _learn_public_url() -> None:
        if not sandbox.has_public_url:
            sandbox.set_public_url(request.host_url)

    @app.route("/p/<domain>/rest/<path:path>", methods=["GET", "POST"])
    def rest(domain: str, path: str) -> Response:
        return handle_rest(sandbox, domain, path)

    @app.route("/")
    def root() -> Response:
        return Response('{"service":"b24sandbox","control":"/_sandbox/"}', content_type="application/json")

    app.register_blueprint(oauth_bp)
    app.register_blueprint(control_bp)
    for bp in portal_api.CONTROL_BLUEPRINTS:
        app.register_blueprint(bp)
    _register_onec(app, Path(data_dir))
    sandbox.start()
    return app


def _register_onec(app: Flask, data_dir: Path) -> None:
    try:
        onec = importlib.import_module("b24sandbox.onec")
    except ModuleNotFoundError as exc:
        if exc.name not in ("b24sandbox.onec",):
            raise
        log.info("b24sandbox.onec is not available: no 1C bases are served")
        return
    register = getattr(onec, "register", None)
    if register is None:
        log.info("b24sandbox.onec has no register(); no 1C bases are served")
        return
    register(app, data_dir)


def sandbox_of(app: Flask) -> Sandbox:
    return app.extensions["b24sandbox"]  # type: ignore[no-any-return]


class SandboxServer:
    """A sandbox server running in a background thread (tests, demos)."""

    def __init__(self, data_dir: Path, *, host: str = "127.0.0.1", port: int = 0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.app = create_app(Path(data_dir), public_url="http://placeholder")
        self.server: BaseWSGIServer = make_server(host, port, self.app, threaded=True, ssl_context=ssl_context)
        scheme = "https" if ssl_context is not None else "http"
        self.url = f"{scheme}://{host}:{self.server.server_port}"
        self.sandbox = sandbox_of(self.app)
        self.sandbox.set_public_url(self.url)
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="b24sandbox-http", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def stop(self) -> None:
        self.sandbox.stop_event.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)
        self.sandbox.close()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve_in_thread(data_dir: Path, *, host: str = "127.0.0.1", port: int = 0,
                    ssl_context: ssl.SSLContext | None = None) -> SandboxServer:
    """Start a sandbox on ``host:port`` (0 = any free port) in a daemon thread; ``.url``, ``.stop()``."""
    return SandboxServer(Path(data_dir), host=host, port=port, ssl_context=ssl_context)


def serve_forever(data_dir: Path, *, host: str = "127.0.0.1", port: int = 8080,
                  public_url: str | None = None) -> None:
    """Run the sandbox in the foreground (``python -m b24sandbox serve``)."""
    url = public_url or f"http://{host}:{port}"
    app = create_app(Path(data_dir), public_url=url)
    server = make_server(host, port, app, threaded=True)

    def _terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    log.warning("b24sandbox serving %s (data: %s)", url, data_dir)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # pragma: no cover - interactive stop
        pass
    finally:
        server.server_close()
        sandbox_of(app).close()
