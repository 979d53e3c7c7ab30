"""Calls to the trusted Bitrix24 OAuth server (``B24APP_OAUTH_URL``): token refresh and app.info.

The server's address comes from our configuration, never from a payload: a forged install
cannot point us at an OAuth server of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from b24app import clock
from b24app.config import Config
from b24app.errors import OAuthError, TransportError


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: float
    member_id: str
    client_endpoint: str
    server_endpoint: str
    scope: str
    user_id: int | None
    domain: str


def _get(config: Config, path: str, params: dict[str, Any]) -> dict[str, Any]:
    url = config.oauth_url + path
    try:
        resp = requests.get(url, params=params, timeout=config.http_timeout)
    except requests.RequestException as exc:
        raise TransportError(f"OAuth server {config.oauth_url} unreachable: {exc.__class__.__name__}") from exc
    try:
        body = resp.json()
    except ValueError as exc:
        raise OAuthError(f"OAuth server answered HTTP {resp.status_code} without JSON",
                         status=resp.status_code) from exc
    if not isinstance(body, dict):
        raise OAuthError("OAuth server answered an unexpected shape", status=resp.status_code)
    if resp.status_code >= 400 or "error" in body:
        code = str(body.get("error", "") or "")
        text = str(body.get("error_description", "") or code or f"HTTP {resp.status_code}")
        raise OAuthError(text, code=code, status=resp.status_code)
    return body


def refresh(config: Config, refresh_token: str) -> TokenPair:
    """Exchange a refresh token for a new pair (the old refresh token dies: store the new one)."""
    body = _get(config, "oauth/token/", {
        "grant_type": "refresh_token",
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "refresh_token": refresh_token,
    })
    return _pair(body)


def exchange_code(config: Config, code: str) -> TokenPair:
    body = _get(config, "oauth/token/", {
        "grant_type": "authorization_code",
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "code": code,
    })
    return _pair(body)


def _pair(body: dict[str, Any]) -> TokenPair:
    try:
        expires_in = float(body.get("expires_in") or 3600)
        expires_at = float(body.get("expires") or (clock.now() + expires_in))
        return TokenPair(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]),
            expires_at=expires_at,
            member_id=str(body.get("member_id", "")),
            client_endpoint=str(body.get("client_endpoint", "")),
            server_endpoint=str(body.get("server_endpoint", "")),
            scope=str(body.get("scope", "")),
            user_id=int(body["user_id"]) if str(body.get("user_id", "")).isdigit() else None,
            domain=str(body.get("domain", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise OAuthError(f"OAuth token answer lacks a field: {exc}") from exc


@dataclass(frozen=True)
class AppInfo:
    """What the trusted OAuth server says about a token: whose app and which portal."""

    client_id: str
    member_id: str
    domain: str
    client_endpoint: str
    scope: str
    user_id: int | None
    installed: bool
    status: str
    expires: float | None


def app_info(config: Config, access_token: str) -> AppInfo:
    """Prove a token: the OAuth server tells which app and portal it belongs to."""
    body = _get(config, "rest/app.info", {"auth": access_token})
    result = body.get("result", body)
    install = result.get("install") if isinstance(result, dict) else None
    if not isinstance(result, dict) or not isinstance(install, dict):
        raise OAuthError("app.info answer has no install block")
    return AppInfo(
        client_id=str(result.get("client_id", "")),
        member_id=str(install.get("member_id", "")),
        domain=str(install.get("domain", "")),
        client_endpoint=str(install.get("client_endpoint", "")),
        scope=str(result.get("scope", "") or install.get("scope", "")),
        user_id=int(result["user_id"]) if str(result.get("user_id", "")).isdigit() else None,
        installed=bool(install.get("installed")) and install.get("installed") not in ("N", "false", 0),
        status=str(install.get("status", "")),
        expires=float(result["expires"]) if str(result.get("expires", "")).isdigit() else None,
    )
