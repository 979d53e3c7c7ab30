"""Who is calling: an app's OAuth token or an inbound webhook (reference §1.6, §5.3).

The token comes from ``Authorization: Bearer``, then the ``auth`` or ``access_token`` parameter
(``rest/lib/oauth/auth.php getAuthKey()``). Checks in the server's order: unknown token ->
``invalid_token``; app not active -> ``APPLICATION_NOT_FOUND``; expired -> ``expired_token``; method
scope not granted -> ``insufficient_scope`` (all 401). A webhook is ``/rest/<user_id>/<code>/``; a
wrong pair answers 401 ``INVALID_CREDENTIALS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import errors
from .tokens import AccessToken

if TYPE_CHECKING:
    from .portal import Portal

# every scope a webhook created by the control API gets (and what ``scope {full: true}`` lists)
ALL_SCOPES = (
    "ai_admin", "biconnector", "bizproc", "calendar", "calendarmobile", "catalog", "catalogmobile",
    "cashbox", "configuration.import", "contact_center", "crm", "delivery", "department", "disk",
    "documentgenerator", "entity", "humanresources.hcmlink", "im", "imbot", "imconnector", "imopenlines",
    "intranet", "landing", "landing_cloud", "lists", "log", "mailservice", "messageservice", "mobile",
    "notifications", "pay_system", "placement", "pull", "pull_channel", "rating", "rpa", "sale",
    "sign.b2e", "smile", "sonet_group", "task", "tasks_extended", "telephony", "timeman", "user",
    "user.userfield", "user_basic", "user_brief", "userconsent", "userfieldconfig", "vote", "booking",
)

# a method of scope K is callable with any of these granted scopes (RestManager::fillAlternativeScope)
_ALTERNATIVES = {
    "user": ("user", "user_brief", "user_basic"),
    "user_basic": ("user_basic", "user"),
    "user_brief": ("user_brief", "user"),
    "task": ("task", "tasks"),
    "tasks": ("tasks", "task"),
}

GLOBAL_SCOPES = ("", "basic", "global")


@dataclass
class Principal:
    kind: str  # "oauth" or "webhook"
    user_id: int
    client_id: str | None
    scopes: frozenset[str]
    app: dict[str, Any] | None = None
    token: AccessToken | None = None
    webhook_id: int | None = None
    is_admin: bool = False

    @property
    def key(self) -> str:
        """The operating-budget owner: the app or the webhook."""
        return f"app:{self.client_id}" if self.kind == "oauth" else f"hook:{self.webhook_id}"

    def has_scope(self, scope: str) -> bool:
        if scope in GLOBAL_SCOPES:
            return True
        return any(s in self.scopes for s in _ALTERNATIVES.get(scope, (scope,)))


def token_from_request(params: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
    header = headers.get("Authorization") or ""
    if header[:7].lower() == "bearer " and header[7:].strip():
        return header[7:].strip()
    for key in ("auth", "access_token"):
        v = params.get(key)
        if v is not None and not isinstance(v, (dict, list)):
            return str(v)
    return None


def resolve_token(portal: Portal, token: str | None) -> Principal:
    """The caller behind an access token, or a RestError (401)."""
    if not token:
        raise errors.no_auth_found()
    rec = portal.sandbox.tokens.lookup(token)
    if rec is None or rec.member_id != portal.member_id:
        raise errors.invalid_token()
    app = portal.app(rec.client_id)
    if app is None or not app["active"]:
        raise errors.application_not_found()
    if rec.expires <= portal.time():
        raise errors.expired_token()
    scopes = frozenset(s.strip() for s in rec.scope.split(",") if s.strip())
    return Principal("oauth", rec.user_id, rec.client_id, scopes, app=app, token=rec,
                     is_admin=portal.is_admin(rec.user_id))


def resolve_webhook(portal: Portal, user_id: str, code: str) -> Principal:
    """The caller behind ``/rest/<user_id>/<code>/``, or 401 ``INVALID_CREDENTIALS``."""
    with portal.lock:
        row = next(portal.db["sb_webhooks"].rows_where("code = ?", [code]), None)
    if row is None or not row["active"] or str(row["user_id"]) != str(user_id):
        raise errors.invalid_credentials()
    uid = int(row["user_id"])
    scopes = frozenset(s for s in (row["scopes"] or "").split(",") if s)
    return Principal("webhook", uid, None, scopes, webhook_id=int(row["id"]), is_admin=portal.is_admin(uid))
