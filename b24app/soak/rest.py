"""The people of the soak act on the portal through an inbound webhook, over the same faulty wire as
the app: their calls meet the same 5xx, timeouts, "commit then 500" and 503 bursts. They behave as a
careful client does: wait and repeat on 503, repeat reads and updates on a 5xx or a timeout, and
before repeating a create look the object up by the marker written into it (a create whose answer
was lost may have been committed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from b24app.portal.phpform import build_query


class RestFailed(RuntimeError):
    pass


class Webhook:
    """``call(method, params)`` through ``<hook>/<method>.json`` with the retries above."""

    def __init__(self, url: str, *, timeout: float = 10.0, stop: threading.Event | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self.stop = stop or threading.Event()
        self.lock = threading.Lock()
        self.calls = 0
        self.failures = 0  # answers that were faults (5xx, timeouts, 503) and were retried

    def _post(self, method: str, params: dict[str, Any]) -> tuple[int, Any]:
        with self.lock:
            self.calls += 1
        try:
            r = requests.post(self.url + method + ".json", json=params, timeout=self.timeout)
        except requests.RequestException:
            return 599, None
        try:
            return r.status_code, r.json()
        except ValueError:
            return r.status_code, None

    def call(self, method: str, params: dict[str, Any] | None = None, *,
             find: Callable[[], Any] | None = None, attempts: int = 60) -> Any:
        """The method's ``result``. ``find`` (for creates) is asked before a create is repeated."""
        params = params or {}
        creates = find is not None
        for n in range(attempts):
            status, body = self._post(method, params)
            if status == 200 and isinstance(body, dict) and "result" in body:
                return body["result"]
            code = (body or {}).get("error") if isinstance(body, dict) else None
            if status == 503 or code == "QUERY_LIMIT_EXCEEDED":
                self._count_failure()
                self._sleep(0.5 + 0.25 * min(n, 8))
                continue
            if status >= 500:
                self._count_failure()
                self._sleep(0.3 + 0.2 * min(n, 8))
                if creates:
                    found = find()
                    if found:
                        return found
                continue
            raise RestFailed(f"{method}: HTTP {status} {str(body)[:300]}")
        raise RestFailed(f"{method}: no answer after {attempts} attempts")

    def batch(self, commands: list[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
        """Read-only commands, 50 per request; ``{key: result}`` (per-command errors raise)."""
        out: dict[str, Any] = {}
        for i in range(0, len(commands), 50):
            chunk = commands[i:i + 50]
            got = self.call("batch", {"halt": 0, "cmd": {k: f"{m}?{build_query(p)}" for k, m, p in chunk}})
            errors = got.get("result_error") or {}
            if errors:
                raise RestFailed(f"batch errors: {str(errors)[:300]}")
            results = got.get("result") or {}
            if isinstance(results, list):
                results = {chunk[j][0]: v for j, v in enumerate(results)}
            out.update(results)
        return out

    def pages(self, method: str, params: dict[str, Any], key: str | None = None) -> list[dict[str, Any]]:
        """Every row of a list method (``start`` offsets, 50 per page)."""
        rows: list[dict[str, Any]] = []
        start = 0
        while True:
            got = self.call(method, {**params, "start": start})
            page = got.get(key, []) if key and isinstance(got, dict) else got
            page = list(page.values()) if isinstance(page, dict) else list(page or [])
            rows += page
            if len(page) < 50:
                return rows
            start += 50

    def _count_failure(self) -> None:
        with self.lock:
            self.failures += 1

    def _sleep(self, s: float) -> None:
        time.sleep(s)
