"""A small client of 1C's standard OData interface (v3) over ``requests``.

What it takes care of (see 1c-integration.md §1):
- the query string is built here with ``%20`` for spaces, never ``+`` (1C answers 500 "Операция не
  разрешена в предложении ГДЕ" to a ``+``), Cyrillic names percent-encoded as UTF-8, ``' ( ) , = $ /``
  kept literal; ``requests``' own ``params=`` is never used (it writes ``+``);
- ``$format=json`` on every read (Atom is the default);
- Basic auth from UTF-8 bytes (``requests`` would encode a Cyrillic login as latin-1);
- answers decoded as UTF-8 whatever charset the publication declares;
- an HTML page where JSON was expected (wrong credentials or publication) is an error, not data;
- errors become :class:`~b24app.errors.OneCError` (``odata.error.code`` and the HTTP status, looked up in
  the error table) or :class:`~b24app.errors.TransportError` (network, timeouts: retried);
- ``Ref_Key`` of a created object is read from the body (the ``Location`` header carries raw UTF-8).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import requests

from b24app.errors import OneCError, TransportError
from b24app.sync_1c.netguard import check_url

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
EMPTY_DATE = "0001-01-01T00:00:00"
NS = "StandardODATA"
_QUERY_SAFE = "$,'()=:*/"
_PATH_SAFE = "()',=_"


def guid(ref: str) -> str:
    """``guid'…'`` literal."""
    return f"guid'{ref}'"


def datetime_lit(value: dt.datetime | dt.date | str) -> str:
    """``datetime'YYYY-MM-DDThh:mm:ss'`` literal (1C dates carry no zone)."""
    if isinstance(value, dt.datetime):
        text = value.replace(tzinfo=None, microsecond=0).isoformat()
    elif isinstance(value, dt.date):
        text = f"{value.isoformat()}T00:00:00"
    else:
        text = str(value)[:19]
    return f"datetime'{text}'"


def string_lit(value: str) -> str:
    """A string literal with doubled quotes."""
    return "'" + str(value).replace("'", "''") + "'"


def cast_lit(ref: str, set_name: str) -> str:
    """``cast(guid'…', 'Document_X')``: how a composite field is compared (a bare guid matches nothing)."""
    return f"cast(guid'{ref}', '{set_name}')"


def build_query(params: Mapping[str, Any] | Sequence[tuple[str, Any]]) -> str:
    items = params.items() if isinstance(params, Mapping) else params
    parts = []
    for key, value in items:
        if value is None or value == "":
            continue
        parts.append(f"{quote(str(key), safe='$')}={quote(str(value), safe=_QUERY_SAFE)}")
    return "&".join(parts)


def resource_path(resource: str) -> str:
    return quote(resource, safe=_PATH_SAFE + "/")


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def is_empty_ref(value: Any) -> bool:
    return value in (None, "", EMPTY_GUID)


def parse_date(value: Any) -> str | None:
    """``YYYY-MM-DDThh:mm:ss`` or None for 1C's empty date."""
    if not value or str(value).startswith("0001-01-01"):
        return None
    return str(value)[:19]


class ODataClient:
    """One 1C base's OData publication."""

    def __init__(self, url: str, user: str, password: str, *, timeout: float = 30.0,
                 allow_private: bool = False, session: requests.Session | None = None) -> None:
        check_url(url, allow_private)
        self.root = url.rstrip("/") + "/"
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.trust_env = False
        self.headers = {"Authorization": basic_auth(user, password), "Accept": "application/json"}
        self.requests_sent = 0

    # -- plumbing -------------------------------------------------------------------------------
    def url(self, resource: str, params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None) -> str:
        query = build_query(params or {})
        return self.root + resource_path(resource) + (("?" + query) if query else "")

    def request(self, method: str, resource: str, params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
                body: Any = None, *, timeout: float | None = None) -> requests.Response:
        url = self.url(resource, params)
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json;charset=utf-8"
        elif method in ("POST", "DELETE"):
            headers["Content-Length"] = "0"
        self.requests_sent += 1
        try:
            resp = self.session.request(method, url, data=data, headers=headers, timeout=timeout or self.timeout,
                                        allow_redirects=False)
        except requests.Timeout as exc:
            raise TransportError(f"1C {method} {resource}: no answer within {timeout or self.timeout:.0f} s") from exc
        except requests.RequestException as exc:
            raise TransportError(f"1C {method} {resource}: {exc.__class__.__name__}: {exc}") from exc
        check_answer(resp, f"{method} {resource}")
        return resp

    def get_json(self, resource: str, params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None) -> Any:
        query = [("$format", "json")] + list((params or {}).items() if isinstance(params, Mapping) else params or [])
        resp = self.request("GET", resource, query)
        return decode_json(resp, resource)

    # -- reads ------------------------------------------------------------------------------------
    def service_sets(self) -> list[str]:
        """Names of the entity sets published (the service document)."""
        data = self.get_json("")
        return [str(v.get("name")) for v in data.get("value", []) if isinstance(v, dict)]

    def list(self, set_name: str, *, filter: str | None = None, select: str | None = None,
             orderby: str | None = None, top: int | None = None, skip: int | None = None,
             expand: str | None = None) -> list[dict[str, Any]]:
        params = [("$filter", filter), ("$select", select), ("$orderby", orderby), ("$expand", expand),
                  ("$top", top), ("$skip", skip if skip else None)]
        data = self.get_json(set_name, params)
        return list(data.get("value", [])) if isinstance(data, dict) else []

    def pages(self, set_name: str, *, filter: str | None = None, select: str | None = None,
              orderby: str = "Ref_Key", page_size: int = 500, skip: int = 0) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """``(skip of the page, rows)`` until a short page; 1C gives no ``nextLink``, so ``$top``/``$skip``
        with a stable ``$orderby``."""
        while True:
            rows = self.list(set_name, filter=filter, select=select, orderby=orderby, top=page_size, skip=skip)
            if rows:
                yield skip, rows
            if len(rows) < page_size:
                return
            skip += len(rows)

    def by_key(self, set_name: str, ref: str, select: str | None = None) -> dict[str, Any] | None:
        try:
            data = self.get_json(f"{set_name}({guid(ref)})", [("$select", select)])
        except OneCError as exc:
            if exc.status == 404 and exc.code == "9":
                return None
            raise
        return data if isinstance(data, dict) else None

    def count(self, set_name: str, filter: str | None = None) -> int:
        resp = self.request("GET", f"{set_name}/$count", [("$filter", filter)])
        return int(resp.content.decode("utf-8-sig").strip() or 0)

    # -- writes -----------------------------------------------------------------------------------
    def create(self, set_name: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.request("POST", set_name, [("$format", "json")], body)
        data = decode_json(resp, set_name)
        if not isinstance(data, dict) or not data.get("Ref_Key"):
            raise OneCError(f"1C POST {set_name}: the answer has no Ref_Key", code="bad_answer", status=resp.status_code)
        return data

    def patch(self, set_name: str, ref: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.request("PATCH", f"{set_name}({guid(ref)})", [("$format", "json")], body)
        return decode_json(resp, set_name)

    def post_document(self, set_name: str, ref: str, operational: bool = False) -> None:
        """Post (``Post``) a document; 1C answers without a useful body, so callers re-read it."""
        self.request("POST", f"{set_name}({guid(ref)})/Post",
                     [("PostingModeOperational", "true" if operational else "false")])


def check_answer(resp: requests.Response, what: str) -> None:
    """Raise the right error for an answer that is not a successful JSON/empty answer."""
    ctype = (resp.headers.get("Content-Type") or "").lower()
    status = resp.status_code
    if status < 300:
        if "text/html" in ctype and resp.content.strip():  # an empty 200 (Post/Unpost) is fine whatever its type
            raise OneCError(f"1C {what}: HTTP {status} answered an HTML page instead of data (wrong user/password "
                            "or publication) / 1С вернула HTML-страницу вместо данных", code="html_answer",
                            status=status)
        return
    code, text = error_of(resp)
    if status in (401, 403):
        raise OneCError(f"1C {what}: HTTP {status}: the user name or password was not accepted ({text}) / "
                        "1С не приняла логин или пароль", code=code or "auth", status=status)
    if code == "-1" and is_lock_conflict(text):
        code = "lock"  # a transient lock timeout reads like a business error (-1): retried as a 5xx
    raise OneCError(f"1C {what}: HTTP {status}: {text}", code=code, status=status)


LOCK_MARKERS = ("конфликт блокировок", "время ожидания предоставления блокировки", "lock conflict",
                "deadlock", "взаимоблокировк")


def is_lock_conflict(text: str) -> bool:
    low = text.lower()
    return any(m in low for m in LOCK_MARKERS)


def error_of(resp: requests.Response) -> tuple[str, str]:
    """(``odata.error.code``, message) of an error answer (JSON or XML), else ("", a piece of the body)."""
    raw = resp.content.decode("utf-8", errors="replace")
    try:
        body = json.loads(raw)
        err = body.get("odata.error") or body.get("error") or {}
        msg = err.get("message")
        text = msg.get("value") if isinstance(msg, dict) else msg
        return str(err.get("code", "")), str(text or raw[:300])
    except (ValueError, AttributeError):
        pass
    if "<m:code>" in raw:
        code = raw.split("<m:code>", 1)[1].split("</m:code>", 1)[0]
        text = raw.split("<m:message", 1)[-1].split(">", 1)[-1].split("</m:message>", 1)[0] if "<m:message" in raw else raw
        return code.strip(), text.strip()[:300]
    snippet = " ".join(raw.split())[:200]
    return "", snippet or f"HTTP {resp.status_code}"


def decode_json(resp: requests.Response, what: str) -> Any:
    if not resp.content:
        return None
    try:
        return json.loads(resp.content.decode("utf-8-sig"))
    except ValueError as exc:
        ctype = resp.headers.get("Content-Type", "")
        raise OneCError(f"1C {what}: the answer is not JSON ({ctype or 'no content type'}); is the OData "
                        "publication on? / ответ 1С не JSON", code="html_answer" if "html" in ctype else "bad_answer",
                        status=resp.status_code) from exc
