"""The inbound chain shared by /events, /install and /robots: verify -> dedupe -> persist."""

from __future__ import annotations

import logging
from typing import Any

from b24app import clock
from b24app.context import Services
from b24app.errors import InboundRejected
from b24app.portal import verify
from b24app.portal.client import forget_client
from b24app.portal.inbound import InboundEvent, RobotCall
from b24app.store import inbound, installations

log = logging.getLogger("b24app.inbound")


def event_payload(ev: InboundEvent) -> dict[str, Any]:
    """What we keep of an event: never its tokens."""
    return {
        "event": ev.event,
        "data": ev.data,
        "ts": ev.ts,
        "handler_id": ev.handler_id,
        "user_id": ev.auth.user_id,
        "tokenless": not ev.auth.has_token,  # caused by a robot, a workflow or by us
    }


def accept_event(services: Services, ev: InboundEvent) -> int | None:
    """Lifecycle events are handled here; every other event becomes a dispatch job."""
    if ev.event == "ONAPPINSTALL":
        return install_from_event(services, ev)
    inst = verify.verify_app_token(services.db, ev.auth, allow_inactive=ev.event == "ONAPPUNINSTALL")
    if ev.event == "ONAPPUNINSTALL":
        clean = str(ev.data.get("CLEAN", "0")) in ("1", "Y", "true")
        job_id, _ = inbound.record_with_job(
            services.db, member_id=inst.member_id, kind="event", name=ev.event, dedupe_key=ev.dedupe_key,
            payload=event_payload(ev), job_kind="app.uninstall", job_payload={"clean": clean}, priority=100,
        )
        # stop at once: nothing more is sent to a portal that removed us
        installations.set_status(services.db, inst.member_id, installations.UNINSTALLED)
        return job_id
    if inst.status != installations.ACTIVE and ev.event != "ONAPPUPDATE":
        raise InboundRejected(401, f"the portal's installation is {inst.status}")
    if ev.event == "ONAPPUPDATE":
        if ev.auth.access_token:
            store_install(services, ev.auth.access_token, ev.auth.refresh_token, ev.auth.expires,
                          ev.auth.expires_in, inst.member_id, inst.application_token,
                          str(ev.data.get("LANGUAGE_ID", "") or inst.lang), str(ev.data.get("VERSION", "")))
        job_id, _ = inbound.record_with_job(
            services.db, member_id=inst.member_id, kind="event", name=ev.event, dedupe_key=ev.dedupe_key,
            payload=event_payload(ev), job_kind="app.register", job_payload={"reason": "update"}, priority=50,
        )
        return job_id
    job_id, created = inbound.record_with_job(
        services.db, member_id=inst.member_id, kind="event", name=ev.event, dedupe_key=ev.dedupe_key,
        payload=event_payload(ev), job_kind="event.dispatch", job_payload=event_payload(ev),
        entity_id=ev.entity_id or None,
    )
    if not created:
        log.info("duplicate event", extra={"member_id": inst.member_id, "event": ev.event})
    return job_id


def store_install(services: Services, access_token: str, refresh_token: str, expires: int | None,
                  expires_in: int | None, member_id: str, application_token: str, lang: str = "ru",
                  version: str = "") -> installations.Installation:
    """Prove the token, then store the installation (tokens, endpoint from the OAuth server).

    Every user who opens the app holds a real token of ours for the portal and sees the
    APPLICATION_TOKEN (the page form carries both), so a proven token is not enough: the token's
    user must be a portal administrator (only administrators install and update apps), and an
    active installation keeps its application_token (the platform never changes it)."""
    info = verify.prove_token(services.config, access_token, member_id)
    require_admin(services, info.client_endpoint, access_token)
    existing = installations.get(services.db, member_id)
    if (existing is not None and existing.status == installations.ACTIVE and existing.application_token
            and application_token and application_token != existing.application_token):
        raise InboundRejected(401, "install payload names another application_token than the active installation's")
    if expires:
        expires_at = float(expires)
    else:
        expires_at = clock.now() + float(expires_in or 3600)
    inst = installations.save_verified(
        services.db, member_id=member_id, domain=info.domain, client_endpoint=info.client_endpoint,
        server_endpoint=services.config.oauth_url + "rest/", access_token=access_token,
        refresh_token=refresh_token, expires_at=expires_at, application_token=application_token,
        scopes=info.scope, user_id=info.user_id, lang=(lang or "ru")[:2], app_version=version,
    )
    forget_client(member_id)
    return inst


def require_admin(services: Services, client_endpoint: str, access_token: str) -> None:
    """Refuse unless ``access_token`` belongs to a portal administrator (``user.admin`` asked with
    that token at the endpoint the OAuth server named)."""
    from b24app.web.auth import PageDenied, portal_identity

    try:
        _me, admin = portal_identity(client_endpoint, access_token, min(services.config.http_timeout, 15.0))
    except PageDenied as exc:
        raise InboundRejected(503 if exc.status >= 500 else 401, "the portal did not confirm the installing user") \
            from exc
    if not admin:
        raise InboundRejected(403, "only a portal administrator installs or updates the app")


def install_from_event(services: Services, ev: InboundEvent) -> int | None:
    """ONAPPINSTALL (apps without UI, and a late one for apps with UI): prove, store, register."""
    if not ev.auth.application_token:
        raise InboundRejected(401, "ONAPPINSTALL without application_token")
    store_install(services, ev.auth.access_token, ev.auth.refresh_token, ev.auth.expires, ev.auth.expires_in,
                  ev.auth.member_id, ev.auth.application_token, str(ev.data.get("LANGUAGE_ID", "ru")),
                  str(ev.data.get("VERSION", "")))
    job_id, _ = inbound.record_with_job(
        services.db, member_id=ev.auth.member_id, kind="install", name=ev.event, dedupe_key=ev.dedupe_key,
        payload=event_payload(ev), job_kind="app.register", job_payload={"reason": "install"}, priority=50,
    )
    return job_id


def accept_robot_call(services: Services, call: RobotCall, lang: str = "ru") -> int | None:
    inst = verify.verify_app_token(services.db, call.auth)
    if inst.status != installations.ACTIVE:
        raise InboundRejected(401, f"the portal's installation is {inst.status}")
    payload = {
        "code": call.code,
        "workflow_id": call.workflow_id,
        "document_id": list(call.document_id),
        "document_type": list(call.document_type),
        "entity_type": call.entity_type,
        "entity_id": call.entity_id,
        "event_token": call.event_token,
        "properties": call.properties,
        "use_subscription": call.use_subscription,
        "timeout_duration": call.timeout_duration,
        "user_id": call.auth.user_id,
        "lang": inst.lang or lang,
    }
    job_id, _ = inbound.record_with_job(
        services.db, member_id=inst.member_id, kind="robot", name=call.code, dedupe_key=call.dedupe_key,
        payload={k: v for k, v in payload.items() if k != "properties"} | {"properties": call.properties},
        job_kind="robot", job_payload=payload, priority=20, max_attempts=6,
    )
    return job_id
