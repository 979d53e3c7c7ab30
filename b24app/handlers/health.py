"""GET /healthz: the process answers and its store is reachable."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from b24app import __version__
from b24app.store import jobs, migrations
from b24app.web.app import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    db = services().db
    try:
        pending = migrations.pending(db)
        counts = jobs.counts(db)
    except Exception as exc:  # the store is down: say so, do not crash
        return jsonify({"ok": False, "error": f"store: {exc.__class__.__name__}"}), 503
    return jsonify({"ok": not pending, "version": __version__, "pending_migrations": pending,
                    "jobs": counts, "store": db.dialect})
