"""Emulated 1C:Enterprise bases (БП 3.0, УТ 11, УНФ) for the sandbox: OData, SOAP and a control API.

Public entry points (used by the sandbox server and by tests):

- :func:`register` adds the routes to a Flask app: ``/onec/<base>/odata/standard.odata/...``,
  ``/onec/<base>/ws/b24exchange[.1cws]`` (``?wsdl`` for the WSDL) and the control API under
  ``/_sandbox/onec...`` and ``/_sandbox/portals/<member_id>/onec``;
- :func:`serve_in_thread` runs just these routes on ``127.0.0.1:<free port>`` (for tests);
- :func:`on_portal_created` creates the 1C bases of a new sandbox portal (seed ``metalprom``: one base
  per legal entity).

See ``docs/onec-sandbox.md`` and ``docs/onec-soap-service.md``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

__all__ = ["on_portal_created", "on_portal_deleted", "register", "serve_in_thread"]

_REGISTRIES: list[Any] = []


def register(app: Any, data_dir: Path) -> None:
    """Add every 1C route to ``app``; bases persist under ``data_dir/onec/``."""
    from flask import Blueprint, Response, current_app

    from .base import Registry
    from .control import bp as control_bp
    from .odata.views import handle as odata_handle
    from .soap.service import handle_call, handle_wsdl

    reg = Registry(Path(data_dir))
    app.extensions["b24sandbox.onec"] = reg
    _REGISTRIES.append(reg)

    bp = Blueprint("onec_sandbox", __name__)
    methods = ["GET", "POST", "PATCH", "PUT", "DELETE", "MERGE"]

    def odata(name: str, rest: str = "") -> Response:
        return odata_handle(current_app.extensions["b24sandbox.onec"].get(name), rest)

    def ws(name: str, service: str) -> Response:
        from flask import request

        base = current_app.extensions["b24sandbox.onec"].get(name)
        if service.lower() not in ("b24exchange", "b24exchange.1cws"):
            return Response("<html><body><h1>404 Not Found</h1></body></html>", 404, content_type="text/html")
        if request.method == "GET":
            return handle_wsdl(base)
        return handle_call(base)

    bp.add_url_rule("/onec/<name>/odata/standard.odata", "odata_root", odata, methods=methods,
                    strict_slashes=False)
    bp.add_url_rule("/onec/<name>/odata/standard.odata/<path:rest>", "odata", odata, methods=methods)
    bp.add_url_rule("/onec/<name>/ws/<service>", "ws", ws, methods=["GET", "POST"])
    app.register_blueprint(bp)
    app.register_blueprint(control_bp)


def _current_registry() -> Any:
    try:
        from flask import current_app, has_app_context

        if has_app_context() and "b24sandbox.onec" in current_app.extensions:
            return current_app.extensions["b24sandbox.onec"]
    except ImportError:  # pragma: no cover
        pass
    if not _REGISTRIES:
        raise RuntimeError("b24sandbox.onec.register(app, data_dir) must be called before creating portal bases")
    return _REGISTRIES[-1]


def on_portal_created(member_id: str, domain: str, seed: str, data: dict[str, Any] | None = None) -> None:
    """Create the 1C bases of a new portal: for ``metalprom`` one base per legal entity of
    ``b24sandbox.seed.metalprom.build()`` (``data`` overrides the seed data, for tests); ``empty`` creates
    nothing."""
    if seed == "empty" and data is None:
        return
    if data is None:
        if seed != "metalprom":
            return
        from b24sandbox.seed.metalprom import build  # imported lazily: another module of the sandbox

        data = build()
    from .control import create_portal_bases

    create_portal_bases(_current_registry(), member_id, data)


def on_portal_deleted(member_id: str) -> list[str]:
    """Drop the 1C bases that belong to a deleted portal; returns their names."""
    reg = _current_registry()
    names = [b.name for b in reg.for_member(member_id)]
    for name in names:
        reg.delete(name)
    return names


class _Server:
    """A running werkzeug server with only the 1C routes (``.url``, ``.stop()``, ``.registry``)."""

    def __init__(self, data_dir: Path) -> None:
        from flask import Flask
        from werkzeug.serving import WSGIRequestHandler, make_server

        class _Quiet(WSGIRequestHandler):
            def log_request(self, code: Any = "-", size: Any = "-") -> None:
                return None

        self.app = Flask("b24sandbox_onec")
        register(self.app, data_dir)
        self.registry = self.app.extensions["b24sandbox.onec"]
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=_Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="onec-sandbox", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
        if self.registry in _REGISTRIES:
            _REGISTRIES.remove(self.registry)


def serve_in_thread(data_dir: Path) -> _Server:
    """Serve the 1C routes on 127.0.0.1 (a free port) in a background thread; call ``.stop()`` when done."""
    return _Server(Path(data_dir))
