"""Authentication of the app's pages inside Bitrix24, short-lived signed sessions, CSRF, tenant checks.

Opening a page (the portal's POST into the iframe: ``AUTH_ID``, ``member_id``, ``DOMAIN``,
``PLACEMENT``, ``PLACEMENT_OPTIONS`` ...), :func:`open_from_portal` proves, before anything is shown:

1. the portal is installed and active here (``member_id`` -> our stored installation);
2. the trusted OAuth server says ``AUTH_ID`` is a token of *our* application for *that* portal
   (``app.info``: client_id and member_id);
3. the portal itself accepts the token: ``user.current`` and ``user.admin`` are called with the
   user's own ``AUTH_ID`` at the ``client_endpoint`` of the stored installation (never an address
   from the POST), in one ``batch`` request. That tells who the user is and whether they are a
   portal administrator.

Then a :class:`PageSession` is issued: a token signed with ``B24APP_SECRET_KEY`` (itsdangerous) that
follow-up requests inside the iframe carry in the URL (``?s=...``), a form field ``s`` or the header
``X-B24App-Session`` — third-party cookies are often blocked in iframes, so no cookie is used. A
token lives :data:`IDLE_S` seconds after it was signed (every page signs a fresh one) and never
longer than :data:`MAX_S` after the portal's POST. Forms carry a CSRF token bound to the session
(``csrf`` field or ``X-CSRF-Token`` header), checked on every POST.

Tenant rule: the portal of a request is the session's ``member_id`` and nothing else; views pass
``page.member_id`` to every query and never read a portal from request arguments.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import requests
from flask import Blueprint, current_app, g, render_template, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException

from b24app import clock
from b24app.errors import InboundRejected
from b24app.handlers.common import read_form, read_query
from b24app.messages import normalize_lang, t
from b24app.portal import verify
from b24app.portal.inbound import PlacementOpen, parse_placement
from b24app.store import installations

log = logging.getLogger("b24app.web.auth")

SALT = "b24app.page-session.v1"
IDLE_S = 30 * 60
MAX_S = 8 * 3600
PARAM = "s"
HEADER = "X-B24App-Session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
MAX_OPTIONS_CHARS = 1500


class PageDenied(HTTPException):
    """An error page for the iframe: a status, a Russian/English message key and its parameters."""

    def __init__(self, status: int, key: str, **params: Any) -> None:
        super().__init__(description=key)
        self.code = status
        self.key = key
        self.params = params


@dataclass(frozen=True)
class PageSession:
    """Who is looking at a page, of which portal, from which placement."""

    member_id: str
    user_id: int
    is_admin: bool
    name: str = ""
    lang: str = "ru"
    domain: str = ""
    placement: str = "DEFAULT"
    options: dict[str, Any] = field(default_factory=dict)
    sid: str = ""  # random per portal POST: binds CSRF tokens to this session
    started: float = 0.0  # when the portal's POST was verified

    def token(self) -> str:
        """A freshly signed token of this session (sign time = now)."""
        return _serializer().dumps({"v": 1, **asdict(self)})

    @property
    def csrf(self) -> str:
        return csrf_for(self.sid)


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_secret(), salt=SALT)


def csrf_for(sid: str) -> str:
    return hmac.new(_secret().encode(), f"csrf:{sid}".encode(), hashlib.sha256).hexdigest()[:40]


# --- opening from the portal ---------------------------------------------------------------------
def _services() -> Any:
    return current_app.extensions["b24app"]


def portal_identity(client_endpoint: str, auth_id: str, timeout: float) -> tuple[dict[str, Any], bool]:
    """``user.current`` and ``user.admin`` with the user's own token, in one batch request to the
    portal's REST endpoint. Raises :class:`PageDenied` when the portal refuses the token."""
    url = client_endpoint.rstrip("/") + "/batch"
    try:
        resp = requests.post(url, json={"auth": auth_id, "halt": 1,
                                        "cmd": {"me": "user.current", "admin": "user.admin"}}, timeout=timeout)
    except requests.RequestException as exc:
        log.warning("portal unreachable while opening a page", extra={"error": exc.__class__.__name__})
        raise PageDenied(503, "ui.error.portal_unreachable") from exc
    try:
        body = resp.json()
    except ValueError as exc:
        raise PageDenied(502, "ui.error.portal_answer") from exc
    if resp.status_code in (401, 403) or (isinstance(body, dict) and body.get("error")):
        code = body.get("error") if isinstance(body, dict) else ""
        log.info("portal refused a page token", extra={"status": resp.status_code, "code": code})
        raise PageDenied(401, "ui.error.token_rejected")
    result = (body.get("result") or {}) if isinstance(body, dict) else {}
    errors = result.get("result_error") or {}
    values = result.get("result") or {}
    if errors or not isinstance(values, dict) or not isinstance(values.get("me"), dict):
        raise PageDenied(401, "ui.error.token_rejected")
    admin = values.get("admin")
    return values["me"], admin is True or str(admin).lower() in ("true", "y", "1")


def _options(opened: PlacementOpen) -> dict[str, Any]:
    options = opened.options if isinstance(opened.options, dict) else {}
    if len(json.dumps(options, ensure_ascii=False)) > MAX_OPTIONS_CHARS:
        options = {k: v for k, v in options.items() if k in ("ID", "ENTITY_ID", "ENTITY_TYPE_ID")}
    return options


def open_from_portal() -> PageSession:
    """Verify the portal's POST of the current request and start a page session (see module doc)."""
    svc = _services()
    try:
        opened = parse_placement(read_form(), read_query())
    except InboundRejected as exc:
        raise PageDenied(400, "ui.error.bad_request", reason=exc.message) from exc
    inst = installations.get(svc.db, opened.member_id)
    if inst is None or inst.status == installations.UNINSTALLED:
        raise PageDenied(401, "ui.error.not_installed")
    if inst.status != installations.ACTIVE:
        raise PageDenied(403, "ui.error.reinstall")
    try:
        verify.prove_token(svc.config, opened.auth_id, opened.member_id)
    except InboundRejected as exc:
        raise PageDenied(503 if exc.status == 503 else 401,
                         "ui.error.portal_unreachable" if exc.status == 503 else "ui.error.token_rejected") from exc
    me, is_admin = portal_identity(inst.client_endpoint, opened.auth_id, min(svc.config.http_timeout, 15.0))
    try:
        user_id = int(me.get("ID"))
    except (TypeError, ValueError) as exc:
        raise PageDenied(401, "ui.error.token_rejected") from exc
    if opened.domain and inst.domain and opened.domain.lower() != inst.domain.lower():
        log.info("page opened with another domain than stored", extra={"member_id": inst.member_id})
    name = " ".join(p for p in (str(me.get("NAME") or "").strip(), str(me.get("LAST_NAME") or "").strip()) if p)
    page = PageSession(member_id=inst.member_id, user_id=user_id, is_admin=is_admin, name=name,
                       lang=normalize_lang(opened.lang), domain=inst.domain, placement=opened.placement,
                       options=_options(opened), sid=secrets.token_urlsafe(12), started=clock.now())
    g.page = page
    log.info("page opened", extra={"member_id": page.member_id, "user_id": page.user_id,
                                   "placement": page.placement, "admin": page.is_admin})
    return page


# --- follow-up requests --------------------------------------------------------------------------
def token_from_request() -> str:
    return (request.headers.get(HEADER) or request.args.get(PARAM) or
            (request.form.get(PARAM) if request.method == "POST" else None) or "")


def load_session(token: str) -> PageSession:
    """The session a token stands for; :class:`PageDenied` (401) if forged, expired or of a portal
    that is no longer installed."""
    if not token:
        raise PageDenied(401, "ui.error.no_session")
    try:
        data = _serializer().loads(token, max_age=IDLE_S)
    except SignatureExpired as exc:
        raise PageDenied(401, "ui.error.session_expired") from exc
    except BadSignature as exc:
        raise PageDenied(401, "ui.error.bad_session") from exc
    if not isinstance(data, dict) or data.pop("v", None) != 1:
        raise PageDenied(401, "ui.error.bad_session")
    try:
        page = PageSession(**data)
    except TypeError as exc:
        raise PageDenied(401, "ui.error.bad_session") from exc
    if clock.now() - page.started > MAX_S:
        raise PageDenied(401, "ui.error.session_expired")
    inst = installations.get(_services().db, page.member_id)
    if inst is None or inst.status != installations.ACTIVE:
        raise PageDenied(401, "ui.error.not_installed")
    return page


def check_csrf(page: PageSession) -> None:
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    if not sent or not hmac.compare_digest(sent.encode(), page.csrf.encode()):
        log.warning("CSRF token missing or wrong", extra={"member_id": page.member_id, "path": request.path})
        raise PageDenied(403, "ui.error.csrf")


def current_page() -> PageSession:
    """The session of the current request (set by :func:`page_required` or :func:`open_from_portal`)."""
    page = getattr(g, "page", None)
    if page is None:
        raise RuntimeError("current_page() outside a page request")
    return page


def page_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Views behind a page session; POSTs also need the CSRF token."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        page = load_session(token_from_request())
        g.page = page
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            check_csrf(page)
        return view(*args, **kwargs)

    return wrapper


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Views for portal administrators only: others get a clear 403 page."""

    @functools.wraps(view)
    @page_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_page().is_admin:
            raise PageDenied(403, "ui.error.admin_only")
        return view(*args, **kwargs)

    return wrapper


def require(allowed: Callable[[PageSession], bool], key: str = "ui.error.forbidden") -> None:
    """Inside a view: 403 page unless ``allowed(page)``."""
    if not allowed(current_page()):
        raise PageDenied(403, key)


# --- rendering helpers ---------------------------------------------------------------------------
def url(endpoint: str, **values: Any) -> str:
    """``url_for`` with the current session's fresh token (links inside the iframe)."""
    from flask import url_for

    page = current_page()
    return url_for(endpoint, **values, **{PARAM: page.token()})


def hidden_fields() -> Markup:
    """The session and CSRF fields every form inside the app carries."""
    page = current_page()
    return Markup(f'<input type="hidden" name="{PARAM}" value="{escape(page.token())}">'
                  f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(page.csrf)}">')


def error_page(exc: PageDenied) -> Any:
    lang = getattr(getattr(g, "page", None), "lang", None) or normalize_lang(request.args.get("LANG") or
                                                                             request.values.get("LANG"))
    message = t(exc.key, lang, **exc.params)
    hint = t("ui.error.hint" if exc.code == 401 else "ui.error.hint_admin" if exc.code == 403 else "ui.error.hint_retry",
             lang)
    return render_template("error.html", lang=lang, title=t("ui.error.title", lang), status=exc.code,
                           message=message, hint=hint), exc.code


def install(bp: Blueprint) -> None:
    """Register, app-wide through ``bp``, the error pages and the response headers of the app's pages
    (frameable, no caching, no referrer leaking the session token, nothing from other origins)."""
    bp.app_errorhandler(PageDenied)(error_page)

    @bp.after_app_request
    def page_headers(resp: Any) -> Any:
        if getattr(g, "page", None) is not None or request.path == "/" or request.path.startswith(("/app", "/placement")):
            resp.headers.pop("X-Frame-Options", None)
            resp.headers.setdefault("Cache-Control", "no-store")
            resp.headers.setdefault("Referrer-Policy", "same-origin")
            resp.headers.setdefault("X-Content-Type-Options", "nosniff")
            resp.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
                "form-action 'self'; base-uri 'none'; object-src 'none'",
            )
        return resp
