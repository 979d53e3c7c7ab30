"""An in-process portal for unit tests of the business method handlers (no HTTP).

It implements the :class:`b24sandbox.portal.api.Platform` protocol with an in-memory SQLite
database and records fired events and stage entries, so handler logic can be checked directly.
The main conformance tests go over real HTTP (see test_http_*.py)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import sqlite_utils

import b24sandbox.portal.methods  # noqa: F401  (registers the handlers)
from b24sandbox.portal.api import HOOKS, METHODS, Call, RestError


class FakePortal:
    member_id = "fake-member"
    domain = "fake.bitrix24.ru"
    plan = "standard"

    def __init__(self) -> None:
        self.db = sqlite_utils.Database(memory=True)
        self.cache: dict[str, Any] = {}
        self.lock = threading.RLock()
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.stages: list[tuple[str, int, int, str]] = []
        self.clock = dt.datetime(2026, 10, 5, 8, 20, tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self.clock

    def fire_event(self, name: str, data: dict[str, Any], call: Call | None) -> None:
        self.events.append((name, data))

    def stage_entered(self, entity: str, item_id: int, category_id: int, stage_id: str, call: Call | None) -> None:
        self.stages.append((entity, item_id, category_id, stage_id))


class Harness:
    def __init__(self, seed: str = "empty", params: dict[str, Any] | None = None) -> None:
        self.portal = FakePortal()
        assert HOOKS.seed_portal is not None
        self.admin = HOOKS.seed_portal(self.portal, seed, params or {})

    def call(self, method: str, params: dict[str, Any] | None = None, user_id: int | None = None) -> Any:
        spec = METHODS[method.lower()]
        call = Call(method=method.lower(), params=params or {}, portal=self.portal,
                    user_id=user_id or self.admin, auth_kind="oauth", client_id="local.test",
                    is_admin=True)
        return spec.handler(call)

    def error(self, method: str, params: dict[str, Any] | None = None) -> RestError:
        try:
            self.call(method, params)
        except RestError as exc:
            return exc
        raise AssertionError(f"{method} did not fail")
