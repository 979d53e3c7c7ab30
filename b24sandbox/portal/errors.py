"""The platform's error envelopes, with the codes, texts and HTTP statuses of the real server
(reference §5.3; ``rest/classes/general/rest.php``, ``rest/lib/oauth/auth.php``,
``rest/lib/accessexception.php``, ``rest/lib/authtypeexception.php``)."""

from __future__ import annotations

from .api import RestError


def method_not_found() -> RestError:
    return RestError("ERROR_METHOD_NOT_FOUND", "Method not found!", 404)


def no_auth_found() -> RestError:
    return RestError("NO_AUTH_FOUND", "Wrong authorization data", 401)


def invalid_token() -> RestError:
    return RestError("invalid_token", "The access token provided is invalid", 401)


def expired_token() -> RestError:
    return RestError("expired_token", "The access token provided has expired", 401)


def insufficient_scope(in_batch: bool = False, webhook: bool = False) -> RestError:
    # a batch sub-call raises OAuthException(['error' => 'insufficient_scope']) without a text;
    # the webhook check (rest/lib/apauth/auth.php) names the webhook token
    if in_batch:
        text = ""
    elif webhook:
        text = "The request requires higher privileges than provided by the webhook token"
    else:
        text = "The request requires higher privileges than provided by the access token"
    return RestError("insufficient_scope", text, 401)


def invalid_credentials() -> RestError:
    return RestError("INVALID_CREDENTIALS", "Invalid request credentials", 401)


def application_not_found() -> RestError:
    return RestError("APPLICATION_NOT_FOUND", "Application not found", 401)


def access_denied(detail: str = "") -> RestError:
    """``AccessException``: 403 ``ACCESS_DENIED`` "Access denied!" + optional detail."""
    return RestError("ACCESS_DENIED", "Access denied!" + (" " + detail if detail else ""), 403)


def wrong_auth_type(detail: str = "") -> RestError:
    """``AuthTypeException``: 403 ``WRONG_AUTH_TYPE``."""
    text = "Current authorization type is denied for this method"
    return RestError("WRONG_AUTH_TYPE", text + (" " + detail if detail else ""), 403)


def operation_time_limit() -> RestError:
    return RestError("OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.", 429)


def query_limit_exceeded() -> RestError:
    return RestError("QUERY_LIMIT_EXCEEDED", "Too many requests", 503)


def internal_error() -> RestError:
    return RestError("INTERNAL_SERVER_ERROR", "Internal server error", 500)


def argument_null(name: str) -> RestError:
    """``Bitrix\\Rest\\Exceptions\\ArgumentNullException`` as the REST layer writes it."""
    return RestError("ERROR_ARGUMENT", f"Argument '{name}' is null or empty", 400, argument=name)


def argument_type(name: str, type_name: str) -> RestError:
    return RestError("ERROR_ARGUMENT", f"The value of an argument '{name}' has an invalid type. "
                     f"Expected type '{type_name}'.", 400, argument=name)


def error_core(text: str) -> RestError:
    return RestError("ERROR_CORE", text, 400)


def batch_length_exceeded() -> RestError:
    return RestError("ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded", 400)


def batch_method_not_allowed() -> RestError:
    return RestError("ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage", 400)
