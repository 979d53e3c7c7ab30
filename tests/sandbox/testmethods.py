"""Test-only REST methods (``sbtest.*``) that exercise the platform without the business modules."""

from __future__ import annotations

from typing import Any

from b24sandbox.portal.api import METHODS, Call, ListResult, RestError, legacy_crm_error, rest_method
from b24sandbox.portal.listing import paginate

ROWS = [{"ID": i, "TITLE": f"Строка {i}", "STAGE_ID": "NEW" if i % 2 else "WON"} for i in range(1, 121)]
COUNTER: dict[str, int] = {"changes": 0}


def register() -> None:
    if "sbtest.echo" in METHODS:
        return

    @rest_method("sbtest.echo", "crm")
    def echo(call: Call) -> dict[str, Any]:
        return {"params": call.params, "user_id": call.user_id, "auth_kind": call.auth_kind,
                "client_id": call.client_id, "auth_connector": call.auth_connector}

    @rest_method("sbtest.admin", "crm", admin_only=True)
    def admin(call: Call) -> bool:
        return True

    @rest_method("sbtest.apponly", "crm", app_only=True)
    def app_only(call: Call) -> bool:
        return True

    @rest_method("sbtest.disk", "disk")
    def disk(call: Call) -> bool:
        return True

    @rest_method("sbtest.list", "crm")
    def listing(call: Call) -> ListResult:
        return paginate(ROWS, filter=call.param("filter"), order=call.param("order"), select=call.param("select"),
                        start=call.param("start"), field_types={"ID": "integer", "TITLE": "string"})

    @rest_method("sbtest.legacy_error", "crm")
    def legacy(call: Call) -> Any:
        raise legacy_crm_error("Not found")

    @rest_method("sbtest.change", "crm", cost_s=1.0)
    def change(call: Call) -> int:
        """Counts a change and fires ONCRMLEADADD / runs the lead stage rules as a CRM add would."""
        COUNTER["changes"] += 1
        item_id = int(call.param("id", default=COUNTER["changes"]))
        call.portal.fire_event("ONCRMLEADADD", {"FIELDS": {"ID": str(item_id)}}, call)
        stage = call.param("stage")
        if stage:
            call.portal.stage_entered("lead", item_id, 0, str(stage), call)
        return item_id

    @rest_method("sbtest.boom", "crm")
    def boom(call: Call) -> Any:
        raise RuntimeError("handler bug")

    @rest_method("sbtest.argerror", "crm")
    def argerror(call: Call) -> Any:
        raise RestError("ERROR_ARGUMENT", "Argument 'X' is null or empty", 400, argument="X")


register()
