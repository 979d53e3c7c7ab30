"""The per-portal Bitrix24 client: one object per portal, wrapping fast-bitrix24.

What it adds to fast-bitrix24 (see bitrix24-platform.md §7 for the gotchas it covers):
- OAuth with ``token_func``: the stored token first; on ``expired_token`` (401) one refresh,
  single-flight across processes (a lease per portal, the row re-read after taking it), the
  rotated refresh token persisted before the new access token is used; ``invalid_grant`` marks
  the portal ``reinstall_required`` instead of looping; at most :data:`MAX_REFRESHES` refreshes per
  call.
- One rate budget per portal shared by every process (b24app.store.rate), applied to every HTTP
  request fast-bitrix24 sends, retries included.
- Error bodies of 4xx answers are kept (fast-bitrix24 drops them): they become
  :class:`~b24app.errors.BitrixError` with the portal's code and text, classified by the error table.
- Non-idempotent calls (``*.add``, uploads) are never retried blindly on a 5xx or a timeout: the
  answer may have been lost after the portal committed; the job retries instead, and the feature's
  effect key (b24app.store.effects) finds what was created.
- Booleans are sent as ``Y``/``N``; batch commands are built with PHP bracket encoding.
- Sync API on top of a background loop: callers never see an ``asyncio.Task``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import json
import logging
import os
import socket
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from fast_bitrix24 import BitrixAsync

from b24app import clock
from b24app.config import Config
from b24app.errors import (
    B24AppError,
    BitrixError,
    ConfigError,
    OAuthError,
    ReinstallRequired,
    TransportError,
)
from b24app.portal import aio, oauth
from b24app.portal.phpform import build_query
from b24app.store import installations, leases, rate
from b24app.store.db import Database

log = logging.getLogger("b24app.portal.client")

MAX_REFRESHES = 2
BATCH_LIMIT = 50
PAGE = 50
FIRST_CHAIN = 4
REFRESHABLE = {"expired_token", "invalid_token", "NO_AUTH_FOUND"}
NON_IDEMPOTENT_SUFFIXES = (".add", ".uploadfile", ".addsubfolder", ".copyto", ".moveto", ".import")

_no_retry: contextvars.ContextVar[bool] = contextvars.ContextVar("b24_no_retry", default=False)
_refresh_budget: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "b24_refresh_budget", default=None
)
# the token a request carried when the portal answered 401 (fast-bitrix24's shared token may have moved on)
_rejected_token: contextvars.ContextVar[str | None] = contextvars.ContextVar("b24_rejected_token", default=None)


def is_idempotent(method: str) -> bool:
    return not method.lower().endswith(NON_IDEMPOTENT_SUFFIXES)


def to_wire(value: Any) -> Any:
    """Booleans -> ``Y``/``N`` everywhere (Bitrix24's convention; fast-bitrix24 leaks ``True``)."""
    if value is True:
        return "Y"
    if value is False:
        return "N"
    if isinstance(value, Mapping):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(v) for v in value]
    return value


@dataclass
class BatchResult:
    """Results of a batch (or of several batches for more than 50 commands), by command key."""

    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, BitrixError] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    nexts: dict[str, int] = field(default_factory=dict)

    def get(self, key: str) -> Any:
        """The result of ``key``; raises its error if the command failed."""
        if key in self.errors:
            raise self.errors[key]
        return self.results.get(key)

    def merge(self, other: BatchResult) -> None:
        self.results.update(other.results)
        self.errors.update(other.errors)
        self.totals.update(other.totals)
        self.nexts.update(other.nexts)


def _as_map(value: Any) -> dict[str, Any]:
    """PHP arrays with keys 0..n-1 arrive as JSON lists; empty maps arrive as ``[]``."""
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    return {}


class _Policy:
    """What every HTTP request of one portal's client goes through."""

    def __init__(self, client: PortalClient) -> None:
        self.client = client

    async def before_request(self) -> None:
        c = self.client
        loop = asyncio.get_running_loop()
        wait = await loop.run_in_executor(None, c._reserve)
        if wait > 0:
            await asyncio.sleep(wait)

    async def check(self, resp: aiohttp.ClientResponse, method: str, sent_token: str | None = None) -> None:
        if resp.status == 200 and resp.content_type == "application/json":
            return
        raw = await resp.read()
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            body = None
        retry = not _no_retry.get()
        if not isinstance(body, dict):
            if resp.status >= 500 and retry:
                raise aiohttp.ClientResponseError(resp.request_info, resp.history, status=resp.status,
                                                  message="non-JSON server error")
            raise TransportError(f"{method}: HTTP {resp.status} answered {resp.content_type or 'no type'} "
                                 "instead of JSON", status=resp.status)
        code = str(body.get("error", "") or "")
        text = str(body.get("error_description", "") or code)
        if resp.status == 200:
            return
        if resp.status == 401 and code in REFRESHABLE:
            _rejected_token.set(sent_token)
            raise aiohttp.ClientResponseError(resp.request_info, resp.history, status=401, message=code)
        if resp.status >= 500:
            if code == "QUERY_LIMIT_EXCEEDED":
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(None, self.client._saturate)
            if retry:
                raise aiohttp.ClientResponseError(resp.request_info, resp.history, status=resp.status,
                                                  message=code)
        raise BitrixError(code, text, resp.status, method)


def _make_session_class(policy: _Policy) -> type[aiohttp.ClientSession]:
    class _Guarded:
        def __init__(self, session: aiohttp.ClientSession, url: str, kwargs: dict[str, Any]) -> None:
            self.session, self.url, self.kwargs = session, url, kwargs
            self.cm: Any = None

        async def __aenter__(self) -> aiohttp.ClientResponse:
            await policy.before_request()
            method = self.url.rsplit("/", 1)[-1]
            self.cm = aiohttp.ClientSession.post(self.session, self.url, **self.kwargs)
            try:
                resp = await self.cm.__aenter__()
            except (TimeoutError, aiohttp.ClientError) as exc:
                if _no_retry.get():
                    raise TransportError(f"{method}: {exc.__class__.__name__} (not retried: the portal "
                                         "may have done it)") from exc
                raise
            body = self.kwargs.get("json")
            sent = body.get("auth") if isinstance(body, dict) else None
            try:
                await policy.check(resp, method, sent)
            except BaseException:
                await self.cm.__aexit__(None, None, None)
                raise
            return resp

        async def __aexit__(self, *exc: Any) -> Any:
            return await self.cm.__aexit__(*exc)

    def post(self: aiohttp.ClientSession, url: Any, **kwargs: Any) -> Any:
        return _Guarded(self, str(url), kwargs)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return type("GuardedSession", (aiohttp.ClientSession,), {"post": post})


class PortalClient:
    """REST client of one portal. Create through :func:`client_for` (cached per process)."""

    def __init__(self, config: Config, db: Database, member_id: str) -> None:
        self.config = config
        self.db = db
        self.member_id = member_id
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        inst = installations.get(db, member_id)
        if inst is None:
            raise ConfigError(f"portal {member_id} is not installed")
        self.client_endpoint = inst.client_endpoint
        self._bx: BitrixAsync | None = None
        self._limits = (inst.rate_drain, inst.rate_burst)
        self._limits_at = clock.now()
        self.requests_sent = 0

    # --- plumbing -------------------------------------------------------------------------------
    def _reserve(self) -> float:
        if clock.now() - self._limits_at > 30:
            inst = installations.get(self.db, self.member_id)
            if inst is not None:
                self._limits = (inst.rate_drain, inst.rate_burst)
            self._limits_at = clock.now()
        self.requests_sent += 1
        drain, burst = self._limits
        return rate.reserve(self.db, self.member_id, drain, burst)

    def _saturate(self) -> None:
        rate.saturate(self.db, self.member_id, self._limits[1])

    def _stored_token(self) -> str:
        inst = installations.get(self.db, self.member_id)
        if inst is None:
            raise ConfigError(f"portal {self.member_id} is not installed")
        if inst.status == installations.REINSTALL_REQUIRED:
            raise ReinstallRequired(self.member_id, "earlier refresh was rejected (invalid_grant)")
        if inst.status != installations.ACTIVE:
            raise ConfigError(f"portal {self.member_id} is {inst.status}")
        return inst.access_token

    def _refresh(self, rejected: str) -> str:
        """Single-flight refresh across processes and threads; returns the access token to use now.

        ``rejected`` is the token the failed request really carried (seen on the wire), so a request
        overtaken by another one's refresh takes the new token instead of refreshing again."""
        holder = f"{self.holder}:{threading.get_ident()}"
        with leases.held(self.db, f"refresh:{self.member_id}", holder, ttl_s=60, wait_s=90):
            inst = installations.get(self.db, self.member_id)
            if inst is None:
                raise ConfigError(f"portal {self.member_id} is not installed")
            if inst.status == installations.REINSTALL_REQUIRED:
                raise ReinstallRequired(self.member_id, "refresh token was rejected earlier")
            if inst.access_token and inst.access_token != rejected:
                return inst.access_token  # another process refreshed while we waited
            try:
                pair = oauth.refresh(self.config, inst.refresh_token)
            except OAuthError as exc:
                if exc.code == "invalid_grant":
                    installations.set_status(self.db, self.member_id, installations.REINSTALL_REQUIRED,
                                             f"refresh rejected: {exc.message}")
                    raise ReinstallRequired(self.member_id, exc.message) from exc
                raise
            installations.store_tokens(
                self.db, self.member_id, access_token=pair.access_token, refresh_token=pair.refresh_token,
                expires_at=pair.expires_at, client_endpoint=pair.client_endpoint or None,
            )
            log.info("token refreshed", extra={"member_id": self.member_id})
            return pair.access_token

    async def _token_func(self) -> str:
        loop = asyncio.get_running_loop()
        assert self._bx is not None
        if self._bx.srh.token is None:
            return await loop.run_in_executor(None, self._stored_token)
        current = _rejected_token.get() or self._bx.srh.token
        budget = _refresh_budget.get()
        if budget is not None:
            budget[0] += 1
            if budget[0] > MAX_REFRESHES:
                raise OAuthError(f"portal {self.member_id} rejected {MAX_REFRESHES} fresh tokens in a row",
                                 code="refresh_loop")
        return await loop.run_in_executor(None, self._refresh, current)

    async def _bitrix(self) -> BitrixAsync:
        if self._bx is None:
            session_cls = _make_session_class(_Policy(self))
            session = session_cls(timeout=aiohttp.ClientTimeout(total=self.config.http_timeout))
            self._bx = BitrixAsync(
                self.client_endpoint,
                token_func=self._token_func,
                verbose=False,
                # fast-bitrix24 1.8.14 records `time.operating` into per-method throttlers that
                # exist only with the velocity policy on (KeyError otherwise); its window sums
                # cumulative values, so we keep it on with a limit it never reaches and handle
                # OPERATION_TIME_LIMIT (429) through the error table instead.
                respect_velocity_policy=True,
                operating_time_limit=10**9,
                request_pool_size=100_000,  # our shared budget (store.rate) does the pacing
                requests_per_second=10_000.0,
                client=session,
                ssl=self.client_endpoint.startswith("https"),
            )
        return self._bx

    def _run(self, coro_fn: Any, *, retry: bool) -> Any:
        return self._submit(coro_fn, retry=retry).result()

    def _submit(self, coro_fn: Any, *, retry: bool) -> concurrent.futures.Future[Any]:
        """Start ``coro_fn(bx)`` on the background loop; its result (or error) through the future."""

        async def runner() -> Any:
            _no_retry.set(not retry)
            _refresh_budget.set([0])
            bx = await self._bitrix()
            try:
                return await coro_fn(bx)
            except B24AppError:
                raise
            except aiohttp.ClientResponseError as exc:
                raise BitrixError(str(exc.message or ""), f"HTTP {exc.status}", exc.status) from exc
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise TransportError(f"{exc.__class__.__name__}: {exc}") from exc
            except RuntimeError as exc:  # fast-bitrix24: "All attempts to get data from server exhausted"
                raise TransportError(str(exc)) from exc

        return aio.submit(runner())

    def close(self) -> None:
        """Close the HTTP session (the client can be used again: it opens a new one)."""
        bx, self._bx = self._bx, None
        session = bx.srh.session if bx is not None else None
        if session is not None and not session.closed:

            async def shut() -> None:
                await session.close()

            aio.run(shut())

    # --- public API -----------------------------------------------------------------------------
    def call_raw(self, method: str, params: Mapping[str, Any] | None = None, *,
                 retry: bool | None = None) -> dict[str, Any]:
        """One REST call; the whole answer (``result``, ``total``, ``next``, ``time``)."""
        return self._answer(method, self._send(method, params, retry=retry).result())

    def _send(self, method: str, params: Mapping[str, Any] | None, *,
              retry: bool | None) -> concurrent.futures.Future[Any]:
        wire = to_wire(dict(params or {}))
        allow = is_idempotent(method) if retry is None else retry

        async def go(bx: BitrixAsync) -> Any:
            return await bx.call(method, wire, raw=True)

        return self._submit(go, retry=allow)

    @staticmethod
    def _answer(method: str, answer: Any) -> dict[str, Any]:
        if not isinstance(answer, dict):
            raise TransportError(f"{method}: unexpected answer type {type(answer).__name__}")
        if "error" in answer and "result" not in answer:
            raise BitrixError(str(answer["error"]), str(answer.get("error_description", "")), 200, method)
        return answer

    def call(self, method: str, params: Mapping[str, Any] | None = None, *, retry: bool | None = None) -> Any:
        """One REST call; its ``result``."""
        return self.call_raw(method, params, retry=retry).get("result")

    def batch(self, commands: Mapping[str, tuple[str, Mapping[str, Any]]] | Sequence[tuple[str, str, Mapping[str, Any]]],
              *, halt: bool = False, retry: bool | None = None) -> BatchResult:
        """Run commands in batches of 50. ``commands``: ``{key: (method, params)}`` or a list of
        ``(key, method, params)``; params may hold ``$result[key]...`` references (only to keys in
        the same chunk of 50). Per-command errors are returned, not raised."""
        items = list(commands.items()) if isinstance(commands, Mapping) else [(k, (m, p)) for k, m, p in commands]
        out = BatchResult()
        for start in range(0, len(items), BATCH_LIMIT):
            chunk = items[start:start + BATCH_LIMIT]
            out.merge(self._batch_once(chunk, halt=halt, retry=retry))
        return out

    def _batch_once(self, chunk: list[tuple[str, tuple[str, Mapping[str, Any]]]], *, halt: bool,
                    retry: bool | None) -> BatchResult:
        return self._batch_result(chunk, self._send_batch(chunk, halt=halt, retry=retry).result())

    def _send_batch(self, chunk: list[tuple[str, tuple[str, Mapping[str, Any]]]], *, halt: bool,
                    retry: bool | None) -> concurrent.futures.Future[Any]:
        cmd = {key: f"{method}?{build_query(to_wire(dict(params)))}" for key, (method, params) in chunk}
        allow = all(is_idempotent(m) for _, (m, _p) in chunk) if retry is None else retry
        return self._send("batch", {"halt": 1 if halt else 0, "cmd": cmd}, retry=allow)

    def _batch_result(self, chunk: list[tuple[str, tuple[str, Mapping[str, Any]]]], raw: Any) -> BatchResult:
        answer = self._answer("batch", raw)
        result = answer.get("result") or {}
        if not isinstance(result, dict):
            result = {}
        methods = {key: method for key, (method, _p) in chunk}
        out = BatchResult(
            results=_as_map(result.get("result")),
            totals={k: int(v) for k, v in _as_map(result.get("result_total")).items() if v is not None},
            nexts={k: int(v) for k, v in _as_map(result.get("result_next")).items() if v is not None},
        )
        for key, err in _as_map(result.get("result_error")).items():
            if isinstance(err, dict):
                out.errors[key] = BitrixError(str(err.get("error", "")), str(err.get("error_description", "")),
                                              400, methods.get(key, ""))
        return out

    def get_all(self, method: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """A whole (small or medium) list through fast-bitrix24's get_all (parallel pages in batches)."""
        wire = to_wire(dict(params or {}))

        async def go(bx: BitrixAsync) -> Any:
            return await bx.get_all(method, wire)

        try:
            result = self._run(go, retry=True)
        except Exception as exc:  # fast-bitrix24 raises ErrorInServerResponseException on item errors
            if exc.__class__.__name__ == "ErrorInServerResponseException":
                raise BitrixError("", f"{method}: {exc}", 400, method) from exc
            raise
        if isinstance(result, dict):
            return list(result.values())
        return list(result or [])

    def iter_pages(self, method: str, params: Mapping[str, Any] | None = None, *, id_field: str = "ID",
                   wrapper: str | None = None, pages_per_request: int = BATCH_LIMIT,
                   last_id: int = 0, read_ahead: bool = False) -> Iterator[list[dict[str, Any]]]:
        """All rows of a big list, oldest id first, without COUNT: ``start=-1``, ``order {ID: ASC}``,
        a moving ``>ID`` filter; up to 50 pages per HTTP request chained with ``$result`` references
        (about 2,500 rows a request). ``wrapper``: the key holding the list (``items`` for crm.item.list,
        ``tasks`` for tasks.task.list).

        ``read_ahead``: when a request came back full, the next one is sent before its rows are
        yielded, so the portal prepares it while the caller stores them. For callers that read to the
        end: one that stops early has paid for one request more."""
        base = dict(params or {})
        base_filter = dict(base.pop("filter", {}) or {})
        # a short first request: most lists are small, and every chained sub-call costs the method's
        # operating-time budget even when the list has ended; big lists get full chains from then on
        pages = min(pages_per_request, FIRST_CHAIN)

        def request(pages: int, last_id: int) -> tuple[list[Any], concurrent.futures.Future[Any]]:
            cmds: list[tuple[str, tuple[str, Mapping[str, Any]]]] = []
            for i in range(pages):
                ref: Any = last_id if i == 0 else (
                    f"$result[p{i - 1}]" + (f"[{wrapper}]" if wrapper else "") + f"[{PAGE - 1}][{id_field}]"
                )
                flt = {**base_filter, f">{id_field}": ref}
                cmds.append((f"p{i}", (method, {**base, "filter": flt, "order": {id_field: "ASC"}, "start": -1})))
            return cmds, self._send_batch(cmds, halt=False, retry=True)

        def page_rows(res: BatchResult, i: int) -> list[dict[str, Any]] | BitrixError:
            key = f"p{i}"
            if key in res.errors:
                return res.errors[key]
            rows = res.results.get(key)
            if wrapper and isinstance(rows, dict):
                rows = rows.get(wrapper)
            return list(rows.values()) if isinstance(rows, dict) else list(rows or [])

        sent = request(pages, last_id)
        ahead: tuple[list[Any], concurrent.futures.Future[Any]] | None = None
        try:
            while True:
                cmds, future = sent
                res = self._batch_result(cmds, future.result())
                got: list[list[dict[str, Any]] | BitrixError] = []
                for i in range(pages):  # up to the first error or short page: the list ends there
                    got.append(page_rows(res, i))
                    if isinstance(got[-1], BitrixError) or len(got[-1]) < PAGE:
                        break
                last = got[-1]
                if read_ahead and len(got) == pages and isinstance(last, list) and len(last) == PAGE:
                    ahead = request(pages_per_request, int(last[-1][id_field]))
                for rows in got:
                    if isinstance(rows, BitrixError):
                        raise rows
                    if rows:
                        yield rows
                    if len(rows) < PAGE:
                        return
                    last_id = int(rows[-1][id_field])
                pages = pages_per_request
                sent = ahead if ahead is not None else request(pages, last_id)
                ahead = None
        finally:
            if ahead is not None:  # the caller stopped early: let the request sent ahead end
                with contextlib.suppress(Exception):
                    ahead[1].result()


_clients: dict[tuple[int, str, str], PortalClient] = {}


def client_for(config: Config, db: Database, member_id: str) -> PortalClient:
    """The process's client for a portal (one per portal and database)."""
    key = (os.getpid(), db.url, member_id)
    client = _clients.get(key)
    if client is None:
        client = PortalClient(config, db, member_id)
        _clients[key] = client
    return client


def forget_client(member_id: str) -> None:
    """Drop cached clients of a portal (after reinstall: endpoint or tokens may have changed)."""
    for key in [k for k in _clients if k[2] == member_id]:
        client = _clients.pop(key, None)
        if client is not None and key[0] == os.getpid():
            client.close()


def close_all() -> None:
    """Close every cached client of this process (at shutdown, between tests)."""
    for key in list(_clients):
        client = _clients.pop(key)
        if key[0] == os.getpid():
            client.close()
