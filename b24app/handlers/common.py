"""Reading inbound bodies (PHP form, or JSON for tools) into nested dicts."""

from __future__ import annotations

from typing import Any

from flask import request

from b24app.errors import InboundRejected
from b24app.portal.phpform import FormError, unflatten


def read_form() -> dict[str, Any]:
    try:
        if request.is_json:
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                raise InboundRejected(400, "JSON body must be an object")
            return body
        return unflatten(request.form.items(multi=True))
    except FormError as exc:
        raise InboundRejected(400, f"malformed form body: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise InboundRejected(400, "body is not UTF-8") from exc


def read_query() -> dict[str, Any]:
    try:
        return unflatten(request.args.items(multi=True))
    except FormError as exc:
        raise InboundRejected(400, f"malformed query string: {exc}") from exc


def ok() -> tuple[str, int, dict[str, str]]:
    return "OK", 200, {"Content-Type": "text/plain; charset=utf-8"}
