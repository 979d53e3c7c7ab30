"""Origin checks of inbound calls.

Events and robot calls: the portal must be installed and ``auth[application_token]`` must equal
the stored one (constant-time compare); an unknown member_id, a missing or wrong token -> 401.
Install payloads carry no stored secret yet, so their access token is proven against the
trusted OAuth server: it must belong to our client_id and to the member_id that was posted.
"""

from __future__ import annotations

import hmac

from b24app.config import Config
from b24app.errors import B24AppError, InboundRejected
from b24app.portal import oauth
from b24app.portal.inbound import AuthInfo
from b24app.store import installations
from b24app.store.db import Database
from b24app.store.installations import Installation


def verify_app_token(db: Database, auth: AuthInfo, *, allow_inactive: bool = False) -> Installation:
    inst = installations.get(db, auth.member_id)
    if inst is None:
        raise InboundRejected(401, "unknown portal (member_id)")
    if not auth.application_token:
        raise InboundRejected(401, "application_token is missing")
    if not inst.application_token or not hmac.compare_digest(
        inst.application_token.encode(), auth.application_token.encode()
    ):
        raise InboundRejected(401, "application_token does not match")
    if not allow_inactive and inst.status == installations.UNINSTALLED:
        raise InboundRejected(401, "the application is uninstalled from this portal")
    return inst


def prove_token(config: Config, access_token: str, member_id: str) -> oauth.AppInfo:
    """Ask the trusted OAuth server whose token this is; refuse unless it is ours and the portal's."""
    if not access_token:
        raise InboundRejected(401, "no access token to verify")
    try:
        info = oauth.app_info(config, access_token)
    except B24AppError as exc:
        if exc.status is not None and exc.status >= 500 or exc.source == "transport":
            raise InboundRejected(503, f"OAuth server unavailable: {exc.message}") from exc
        raise InboundRejected(401, f"token rejected by the OAuth server: {exc.message}") from exc
    if config.client_id and info.client_id != config.client_id:
        raise InboundRejected(401, "token belongs to another application")
    if info.member_id != member_id:
        raise InboundRejected(401, "token belongs to another portal")
    if not info.client_endpoint:
        raise InboundRejected(401, "OAuth server did not name the portal's REST endpoint")
    return info
