"""One background asyncio loop per process, so synchronous code (workers, CLI, Flask views) can
drive fast-bitrix24's async client without ever receiving an ``asyncio.Task`` (the sync wrapper
of fast-bitrix24 returns a Task when a loop already runs in the calling thread)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_pid: int | None = None


def loop() -> asyncio.AbstractEventLoop:
    """The process's background loop (created lazily; re-created after a fork)."""
    global _loop, _thread, _pid
    with _lock:
        if _loop is None or _pid != os.getpid() or _thread is None or not _thread.is_alive():
            _loop = asyncio.new_event_loop()
            _thread = threading.Thread(target=_loop.run_forever, name="b24app-aio", daemon=True)
            _thread.start()
            _pid = os.getpid()
        return _loop


def run(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run ``coro`` on the background loop and wait for its result in the calling thread."""
    return submit(coro).result(timeout)


def submit(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Start ``coro`` on the background loop; the calling thread may wait for it later."""
    lp = loop()
    if threading.current_thread() is _thread:
        coro.close()
        raise RuntimeError("aio.run called from the background loop itself (would deadlock)")
    return asyncio.run_coroutine_threadsafe(coro, lp)
