"""The Flask application: configuration, services, blueprints, error pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

from b24app import __version__
from b24app.config import Config
from b24app.context import Services
from b24app.errors import InboundRejected
from b24app.jobs.registry import load_plugins

MAX_BODY = 2 * 1024 * 1024


def build_app(config: Config | None = None, **overrides: Any) -> Flask:
    config = config or Config.from_env(**overrides)
    app = Flask("b24app", instance_path=str(config.instance_dir), instance_relative_config=True,
                template_folder="web/templates", static_folder="web/static")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.config["SECRET_KEY"] = config.secret_key or "dev-only-not-secret"
    app.config["B24APP"] = config
    services = Services.open(config)
    load_plugins()
    app.extensions["b24app"] = services

    from b24app.handlers import events, health, install, pages, robots

    for bp in (install.bp, events.bp, robots.bp, pages.bp, health.bp):
        app.register_blueprint(bp)
    for bp in view_blueprints():
        app.register_blueprint(bp)

    @app.errorhandler(InboundRejected)
    def rejected(exc: InboundRejected) -> Any:
        return jsonify({"error": exc.message}), exc.status

    @app.errorhandler(413)
    def too_large(_exc: Exception) -> Any:
        return jsonify({"error": f"request body larger than {MAX_BODY} bytes"}), 413

    @app.after_request
    def headers(resp: Any) -> Any:
        resp.headers.setdefault("X-B24App-Version", __version__)
        return resp

    return app


def view_blueprints() -> list[Any]:
    """Blueprints ``bp`` of the UI modules in b24app/web/views/ (settings, deal tab, reports)."""
    import importlib
    import pkgutil

    try:
        package = importlib.import_module("b24app.web.views")
    except ModuleNotFoundError:
        return []
    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"b24app.web.views.{info.name}")
        if getattr(module, "bp", None) is not None:
            found.append(module.bp)
    return found


def services() -> Services:
    from flask import current_app

    return current_app.extensions["b24app"]
