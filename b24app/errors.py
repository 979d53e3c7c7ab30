"""Errors, and the one table that classifies every answer we get from Bitrix24, its OAuth
server and 1C into what the job runner does next.

Features never write ``try/except`` policies of their own: they raise or let through the errors
below, and the worker looks the error up in :data:`ERROR_TABLE`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    RETRY = "RETRY"  # transient: try again with exponential backoff
    RATE_LIMITED = "RATE_LIMITED"  # the portal/base asked us to slow down: back off longer
    REFRESH_THEN_RETRY = "REFRESH_THEN_RETRY"  # the access token expired: refresh once, retry
    FAIL_CONFIG = "FAIL_CONFIG"  # needs an administrator (scopes, credentials, reinstall)
    FAIL_DATA = "FAIL_DATA"  # the data is wrong (validation, not found): retrying will not help


@dataclass(frozen=True)
class Rule:
    source: str  # "bitrix", "oauth", "transport", "onec", "app"
    status: str  # "*" any, "5xx", or an exact status like "401"
    code: str  # "*" any, or a regex matched against the whole error code
    action: Action
    backoff_s: float  # base delay before the next attempt
    note: str  # why; shown by `b24app jobs show`


# First matching row wins. Order from specific to generic.
ERROR_TABLE: tuple[Rule, ...] = (
    Rule("bitrix", "*", "QUERY_LIMIT_EXCEEDED", Action.RATE_LIMITED, 2.0, "leaky bucket full (503)"),
    Rule("bitrix", "*", "OPERATION_TIME_LIMIT", Action.RATE_LIMITED, 60.0,
         "method blocked for its operating time budget (429)"),
    Rule("bitrix", "*", "OVERLOAD_LIMIT", Action.RATE_LIMITED, 300.0, "portal blocked the app for load"),
    Rule("bitrix", "*", "expired_token|invalid_token", Action.REFRESH_THEN_RETRY, 0.0,
         "access token expired or unknown"),
    Rule("bitrix", "*", "NO_AUTH_FOUND", Action.REFRESH_THEN_RETRY, 0.0, "portal did not accept our token"),
    Rule("bitrix", "*", "insufficient_scope|WRONG_AUTH_TYPE|WRONG_LICENSE|ACCESS_DENIED|"
         "APPLICATION_NOT_FOUND|authorization_error|user_access_error|PAYMENT_REQUIRED|"
         "ERROR_METHOD_NOT_FOUND|METHOD_CONFIRM_DENIED|PORTAL_DELETED|INVALID_CREDENTIALS",
         Action.FAIL_CONFIG, 0.0, "permissions, plan or installation must be fixed by an administrator"),
    Rule("bitrix", "*", "METHOD_CONFIRM_WAITING", Action.RATE_LIMITED, 600.0,
         "administrator has not confirmed the method yet"),
    Rule("bitrix", "5xx", "*", Action.RETRY, 2.0, "server error"),
    Rule("bitrix", "*", "INTERNAL_SERVER_ERROR|ERROR_UNEXPECTED_ANSWER", Action.RETRY, 2.0, "server error"),
    Rule("bitrix", "*", "*", Action.FAIL_DATA, 0.0, "request rejected by the portal (validation, not found)"),
    Rule("oauth", "*", "invalid_grant", Action.FAIL_CONFIG, 0.0,
         "refresh token rejected: the app must be reinstalled or reopened by an administrator"),
    Rule("oauth", "*", "invalid_client|WRONG_CLIENT|NOT_INSTALLED|PAYMENT_REQUIRED|invalid_scope|"
         "insufficient_scope", Action.FAIL_CONFIG, 0.0, "OAuth server rejected the application"),
    Rule("oauth", "5xx", "*", Action.RETRY, 5.0, "OAuth server error"),
    Rule("oauth", "*", "*", Action.RETRY, 5.0, "OAuth server answered unexpectedly"),
    Rule("transport", "*", "*", Action.RETRY, 2.0, "network error or timeout"),
    Rule("onec", "401|403", "*", Action.FAIL_CONFIG, 0.0, "1C rejected the user name or password"),
    Rule("onec", "200", "html_answer", Action.FAIL_CONFIG, 0.0,
         "1C answered an HTML page with 200 (wrong credentials or publication)"),
    Rule("onec", "*", "lock", Action.RETRY, 5.0, "1C lock conflict (Конфликт блокировок): another session holds the data"),
    Rule("onec", "404", "*", Action.FAIL_CONFIG, 0.0, "object not published in the OData composition"),
    Rule("onec", "*", "-1", Action.FAIL_DATA, 0.0, "1C refused the data (business error)"),
    Rule("onec", "*", "not_published|6|9|14", Action.FAIL_CONFIG, 0.0, "1C metadata/composition error"),
    Rule("onec", "5xx", "*", Action.RETRY, 5.0, "1C server error"),
    Rule("onec", "*", "*", Action.FAIL_DATA, 0.0, "1C rejected the request"),
    Rule("app", "*", "config", Action.FAIL_CONFIG, 0.0, "settings are incomplete or invalid"),
    Rule("app", "*", "busy", Action.RETRY, 1.0, "resource busy (lock held by another worker)"),
    Rule("app", "*", "*", Action.FAIL_DATA, 0.0, "the data cannot be processed"),
)


def _status_matches(pattern: str, status: int | None) -> bool:
    if pattern == "*":
        return True
    if status is None:
        return False
    if pattern == "5xx":
        return 500 <= status <= 599
    return str(status) in pattern.split("|")


def classify(source: str, status: int | None, code: str | None) -> Rule:
    """The first row of :data:`ERROR_TABLE` matching ``source``, HTTP ``status`` and error ``code``."""
    for rule in ERROR_TABLE:
        if rule.source != source or not _status_matches(rule.status, status):
            continue
        if rule.code == "*" or re.fullmatch(rule.code, code or ""):
            return rule
    raise LookupError(f"no error rule for {source}/{status}/{code}")  # the table ends with catch-alls


class B24AppError(Exception):
    """Base of every error the app raises on purpose. ``rule`` decides retries."""

    source = "app"

    def __init__(self, message: str, *, code: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status

    @property
    def rule(self) -> Rule:
        return classify(self.source, self.status, self.code)

    @property
    def action(self) -> Action:
        return self.rule.action

    def __str__(self) -> str:
        parts = [self.source]
        if self.status is not None:
            parts.append(str(self.status))
        if self.code:
            parts.append(self.code)
        return f"[{' '.join(parts)}] {self.message}"


class BitrixError(B24AppError):
    """An error envelope from a portal's REST API (also per-item errors inside ``batch``)."""

    source = "bitrix"

    def __init__(self, code: str, description: str, status: int | None = None, method: str = "") -> None:
        super().__init__(f"{method}: {description}" if method else description, code=code, status=status)
        self.description = description
        self.method = method


class OAuthError(B24AppError):
    source = "oauth"


class TransportError(B24AppError):
    source = "transport"


class OneCError(B24AppError):
    source = "onec"


class AppError(B24AppError):
    """Our own refusals: ``code="config"`` for settings problems, ``"data"`` for bad data,
    ``"busy"`` when a lock is held elsewhere."""

    source = "app"


class ConfigError(AppError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="config")


class DataError(AppError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="data")


class Busy(AppError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="busy")


class ReinstallRequired(OAuthError):
    """The portal's grant is dead (``invalid_grant``): the administrator must reopen or reinstall
    the app. The installation is marked and no job retries it in a loop."""

    def __init__(self, member_id: str, detail: str) -> None:
        super().__init__(f"portal {member_id}: {detail}", code="invalid_grant")
        self.member_id = member_id


class InboundRejected(Exception):
    """An inbound call (event, robot call, widget open) that must be refused with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
