"""Reading several independent lists of a portal at once, storing them one after another.

A big list is read with chained ``>ID`` pages (``PortalClient.iter_pages``): each request needs the
last ID of the one before, so one list is a chain of round trips, and a portal that takes a second
to answer a batch makes a 50-request pull last 50 seconds however much of the rate budget is left.
Independent lists (leads, deals, their stage histories) do not wait for each other: a
:class:`Prefetcher` reads up to ``parallel`` of them at once, each in its own thread, into a bounded
queue, while the caller takes the lists' pages in its own order and stores them in its own thread
(one writer, cursors committed with their rows as before). The shared rate budget still paces every
request, so reading in parallel never asks the portal for more than its limit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_ITEM, _END, _ERROR = "item", "end", "error"
POLL_S = 0.1


class Prefetcher(Generic[T]):
    """``sources``: name → a function returning the list's iterator (called in the reading thread).
    Lists are read in the order given, ``parallel`` at a time (a list read to its end makes room for
    the next one); each keeps at most ``buffer`` items read ahead of the caller."""

    def __init__(self, sources: Mapping[str, Callable[[], Iterator[T]]], *, parallel: int = 3,
                 buffer: int = 200) -> None:
        if parallel < 1 or buffer < 1:
            raise ValueError("parallel and buffer must be at least 1")
        self._sources = dict(sources)
        self._order = list(self._sources)
        self._parallel = parallel
        self._buffer = buffer
        self._queues: dict[str, queue.Queue[tuple[str, Any]]] = {}
        self._threads: list[threading.Thread] = []
        self._taken: set[str] = set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._reading = 0

    def __enter__(self) -> Prefetcher[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pages(self, name: str) -> Iterator[T]:
        """The items of list ``name`` in order; an error of its reading is raised here."""
        if name not in self._sources:
            raise KeyError(f"unknown list: {name}")
        if name in self._taken:
            raise ValueError(f"list {name} was already taken")
        self._taken.add(name)
        with self._lock:
            self._start(name)  # the caller waits for this one: it never waits for a free slot
            self._fill_slots()
        return self._drain(name)

    def _fill_slots(self) -> None:
        for other in self._order:
            if self._reading >= self._parallel or self._stop.is_set():
                return
            self._start(other)

    def _drain(self, name: str) -> Iterator[T]:
        q = self._queues[name]
        while True:
            kind, value = q.get()
            if kind == _ITEM:
                yield value
            elif kind == _END:
                return
            else:
                raise value

    def _start(self, name: str) -> None:
        if name in self._queues:
            return
        q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=self._buffer)
        self._queues[name] = q
        self._reading += 1
        t = threading.Thread(target=self._read, args=(self._sources[name], q), daemon=True,
                             name=f"b24app-prefetch-{name}")
        self._threads.append(t)
        t.start()

    def _put(self, q: queue.Queue[tuple[str, Any]], entry: tuple[str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                q.put(entry, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _read(self, source: Callable[[], Iterator[T]], q: queue.Queue[tuple[str, Any]]) -> None:
        try:
            self._read_all(source, q)
        finally:
            with self._lock:
                self._reading -= 1
                self._fill_slots()

    def _read_all(self, source: Callable[[], Iterator[T]], q: queue.Queue[tuple[str, Any]]) -> None:
        try:
            it = source()
            try:
                for item in it:
                    if not self._put(q, (_ITEM, item)):
                        return
            finally:
                close = getattr(it, "close", None)
                if close is not None:
                    close()  # a generator's own clean-up (a request sent ahead) runs in this thread
        except BaseException as exc:  # handed to the caller, who decides
            self._put(q, (_ERROR, exc))
            return
        self._put(q, (_END, None))

    def close(self) -> None:
        """Stop reading (lists not consumed are abandoned) and wait for the reading threads."""
        self._stop.set()
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join()
