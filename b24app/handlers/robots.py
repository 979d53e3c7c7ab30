"""POST /robots/<code>: robot calls from automation rules."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from b24app.errors import InboundRejected
from b24app.handlers.common import ok, read_form
from b24app.handlers.pipeline import accept_robot_call
from b24app.portal.inbound import parse_robot_call
from b24app.robots.registry import robots
from b24app.web.app import services

bp = Blueprint("robots", __name__)


@bp.post("/robots/<code>")
def receive(code: str) -> Any:
    call = parse_robot_call(read_form())
    if code not in robots() or call.code.lower() != code.lower():
        raise InboundRejected(404, f"no robot {code!r} here")
    accept_robot_call(services(), call)
    return ok()
