"""``b24app.portal.prefetch.Prefetcher``: lists read in parallel threads, handed out in order, errors
raised where the list is taken, bounded buffers, clean stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from b24app.portal.prefetch import Prefetcher


class Source:
    """A list of ``n`` items whose reading can be held at the start (``gate``) and observed."""

    def __init__(self, name: str, n: int | None, log: list[str], gate: threading.Event | None = None,
                 fail_at: int | None = None) -> None:
        self.name, self.n, self.log, self.gate, self.fail_at = name, n, log, gate, fail_at
        self.produced = 0
        self.closed = threading.Event()

    def __call__(self) -> Iterator[str]:
        return self.items()

    def items(self) -> Iterator[str]:
        self.log.append(f"start {self.name}")
        if self.gate is not None:
            assert self.gate.wait(10)
        try:
            i = 0
            while self.n is None or i < self.n:
                if self.fail_at is not None and i == self.fail_at:
                    raise RuntimeError(f"{self.name} broke at {i}")
                self.produced += 1
                yield f"{self.name}{i}"
                i += 1
            self.log.append(f"end {self.name}")
        finally:
            self.closed.set()


def wait_for(cond, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_every_list_in_order_whatever_order_they_are_taken() -> None:
    log: list[str] = []
    sources = {n: Source(n, 250, log) for n in ("a", "b", "c", "d")}
    with Prefetcher(sources, parallel=2, buffer=7) as p:
        got = {n: list(p.pages(n)) for n in ("c", "a", "d", "b")}
    assert got == {n: [f"{n}{i}" for i in range(250)] for n in sources}


def test_at_most_parallel_lists_read_at_once_and_a_finished_one_frees_its_slot() -> None:
    log: list[str] = []
    gates = {n: threading.Event() for n in "abcd"}
    sources = {n: Source(n, 3, log, gates[n]) for n in "abcd"}
    with Prefetcher(sources, parallel=2, buffer=10) as p:
        first = p.pages("a")
        wait_for(lambda: len(log) == 2)
        time.sleep(0.1)
        assert sorted(log) == ["start a", "start b"]  # c and d wait for a free slot
        gates["b"].set()  # b is read to its end while nobody consumes it: c takes its slot
        wait_for(lambda: "start c" in log)
        assert "start d" not in log
        gates["a"].set()
        assert list(first) == ["a0", "a1", "a2"]
        wait_for(lambda: "start d" in log)
        gates["c"].set()
        gates["d"].set()
        assert [list(p.pages(n)) for n in "bcd"] == [["b0", "b1", "b2"], ["c0", "c1", "c2"], ["d0", "d1", "d2"]]


def test_the_list_taken_is_read_even_when_every_slot_is_busy() -> None:
    log: list[str] = []
    gate = threading.Event()
    sources = {"slow": Source("slow", 2, log, gate), "wanted": Source("wanted", 2, log)}
    with Prefetcher(sources, parallel=1) as p:
        p.pages("slow")  # taken but not consumed; its reader holds the only slot
        assert list(p.pages("wanted")) == ["wanted0", "wanted1"]
        gate.set()


def test_an_error_of_a_list_is_raised_where_it_is_taken_after_its_good_items() -> None:
    log: list[str] = []
    with Prefetcher({"ok": Source("ok", 3, log), "bad": Source("bad", 10, log, fail_at=4)}, parallel=2) as p:
        assert list(p.pages("ok")) == ["ok0", "ok1", "ok2"]
        got: list[str] = []
        with pytest.raises(RuntimeError, match="bad broke at 4"):
            for item in p.pages("bad"):
                got.append(item)
        assert got == ["bad0", "bad1", "bad2", "bad3"]


def test_buffers_are_bounded_and_closing_stops_endless_lists() -> None:
    log: list[str] = []
    endless = {"x": Source("x", None, log), "y": Source("y", None, log)}
    p = Prefetcher(endless, parallel=2, buffer=5)
    it = p.pages("x")
    assert next(it) == "x0"
    wait_for(lambda: endless["y"].produced >= 5)
    time.sleep(0.3)
    assert endless["y"].produced <= 6  # five queued, one in hand waiting for room
    assert endless["x"].produced <= 7
    p.close()
    assert endless["x"].closed.is_set() and endless["y"].closed.is_set()  # generators closed in their thread
    assert not [t for t in threading.enumerate() if t.name.startswith("b24app-prefetch-")]


def test_a_list_is_taken_once_and_must_be_known() -> None:
    log: list[str] = []
    with Prefetcher({"a": Source("a", 1, log)}) as p:
        assert list(p.pages("a")) == ["a0"]
        with pytest.raises(ValueError, match="already taken"):
            p.pages("a")
        with pytest.raises(KeyError):
            p.pages("nope")
    with pytest.raises(ValueError):
        Prefetcher({}, parallel=0)
