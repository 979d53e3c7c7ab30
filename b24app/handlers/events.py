"""POST /events: every event the app binds (CRM, tasks, app lifecycle)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from b24app.handlers.common import ok, read_form
from b24app.handlers.pipeline import accept_event
from b24app.portal.inbound import parse_event
from b24app.web.app import services

bp = Blueprint("events", __name__)


@bp.post("/events")
def receive() -> Any:
    accept_event(services(), parse_event(read_form()))
    return ok()
