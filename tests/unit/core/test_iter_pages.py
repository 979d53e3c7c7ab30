"""``PortalClient.iter_pages``: chained ``>ID`` pages, and ``read_ahead`` (the next request sent while
the caller works on the rows of this one) giving the same pages with the same requests."""

from __future__ import annotations

import concurrent.futures
from typing import Any

from b24app.portal.client import PAGE, PortalClient


class Recorder:
    """A client whose batches are answered from ``n`` rows with ids 1..n (``events`` in order)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.events: list[str] = []
        self.client = PortalClient.__new__(PortalClient)
        self.client._send_batch = self.send  # type: ignore[method-assign]

    def send(self, chunk: list[Any], *, halt: bool, retry: bool | None) -> concurrent.futures.Future[Any]:
        self.events.append(f"send {len(chunk)}")
        after = int(chunk[0][1][1]["filter"][">ID"])
        results: dict[str, Any] = {}
        for key, _cmd in chunk:
            rows = [{"ID": str(i)} for i in range(after + 1, min(after + PAGE, self.n) + 1)]
            results[key] = rows
            after = int(rows[-1]["ID"]) if len(rows) == PAGE else self.n
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        future.set_result({"result": {"result": results, "result_error": [], "result_total": [],
                                      "result_next": []}})
        return future

    def read(self, read_ahead: bool, stop_after: int | None = None) -> list[list[str]]:
        pages = []
        for page in self.client.iter_pages("crm.lead.list", {}, pages_per_request=3, read_ahead=read_ahead):
            self.events.append(f"page {page[0]['ID']}")
            pages.append([r["ID"] for r in page])
            if stop_after is not None and len(pages) >= stop_after:
                break
        return pages


def test_read_ahead_yields_the_same_pages_with_the_same_requests() -> None:
    plain, ahead = Recorder(2 * 3 * PAGE + 10), Recorder(2 * 3 * PAGE + 10)
    assert ahead.read(True) == plain.read(False)
    assert [e for e in ahead.events if e.startswith("send")] == ["send 3", "send 3", "send 3"]
    assert [e for e in plain.events if e.startswith("send")] == ["send 3", "send 3", "send 3"]
    # the second request left before the first page of the first one was handed out
    assert ahead.events[:3] == ["send 3", "send 3", "page 1"]
    assert plain.events[:3] == ["send 3", "page 1", "page 51"]


def test_read_ahead_sends_nothing_after_a_short_request() -> None:
    rec = Recorder(2 * PAGE + 5)
    assert sum(len(p) for p in rec.read(True)) == 2 * PAGE + 5
    assert [e for e in rec.events if e.startswith("send")] == ["send 3"]


def test_a_caller_stopping_early_has_paid_one_request_ahead() -> None:
    rec = Recorder(10 * PAGE)
    assert len(rec.read(True, stop_after=1)) == 1
    assert [e for e in rec.events if e.startswith("send")] == ["send 3", "send 3"]
