"""What work exists: job kinds, event subscriptions and periodic tasks.

Feature packages declare theirs in ``b24app/<pkg>/plugin.py`` with the decorators below;
:func:`load_plugins` imports every plugin module once, so a process knows all kinds before it
takes a job.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import b24app


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Callable[..., Any]  # (JobContext) -> result (JSON-able)
    max_attempts: int = 8
    lease_s: float | None = None  # None: the worker's default lease
    robot: bool = False  # robot jobs always answer their workflow


@dataclass(frozen=True)
class Subscription:
    name: str  # unique, used in dedupe keys: "<pkg>.<what>"
    events: tuple[str, ...]
    handler: Callable[..., Any]  # (JobContext, event: dict) -> result
    offline: bool = False  # also bind the events offline: changes made while the app was down are swept in


@dataclass(frozen=True)
class Periodic:
    name: str
    every_s: float
    enqueue: Callable[..., Any]  # (Services) -> None: only enqueues jobs, never does the work
    jitter_s: float = 0.0


@dataclass
class Registry:
    kinds: dict[str, JobKind] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    periodic: dict[str, Periodic] = field(default_factory=dict)

    def subscribers(self, event: str) -> list[Subscription]:
        return [s for s in self.subscriptions.values() if event.upper() in s.events]

    def bound_events(self) -> list[str]:
        """Every event some subscription wants, for event.bind at install."""
        return sorted({e for s in self.subscriptions.values() for e in s.events})

    def offline_events(self) -> list[str]:
        """Events also bound offline (the portal queues them; the offline sweep pulls them)."""
        return sorted({e for s in self.subscriptions.values() if s.offline for e in s.events})


REGISTRY = Registry()


def job(name: str, *, max_attempts: int = 8, lease_s: float | None = None,
        robot: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY.kinds:
            raise RuntimeError(f"job kind registered twice: {name}")
        REGISTRY.kinds[name] = JobKind(name, fn, max_attempts, lease_s, robot)
        return fn

    return deco


def on_event(name: str, *events: str, offline: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Subscribe a handler to portal events; each subscriber gets its own job per event. With
    ``offline=True`` the events are also bound offline, so changes made while the app was down
    (online deliveries are never retried) reach the handler through the offline sweep. Handlers
    must be idempotent: an event may arrive both ways."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY.subscriptions:
            raise RuntimeError(f"event subscription registered twice: {name}")
        REGISTRY.subscriptions[name] = Subscription(name, tuple(e.upper() for e in events), fn, offline)
        return fn

    return deco


def periodic(name: str, every_s: float, *, jitter_s: float = 0.0) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY.periodic:
            raise RuntimeError(f"periodic task registered twice: {name}")
        REGISTRY.periodic[name] = Periodic(name, every_s, fn, jitter_s)
        return fn

    return deco


_loaded = False


def load_plugins() -> Registry:
    """Import the core's and every feature package's ``plugin`` module (idempotent)."""
    global _loaded
    if _loaded:
        return REGISTRY
    importlib.import_module("b24app.jobs.core_jobs")
    for info in sorted(pkgutil.iter_modules(b24app.__path__), key=lambda i: i.name):
        if not info.ispkg:
            continue
        try:
            importlib.import_module(f"b24app.{info.name}.plugin")
        except ModuleNotFoundError as exc:
            if exc.name != f"b24app.{info.name}.plugin":
                raise
    for name in os.environ.get("B24APP_EXTRA_PLUGINS", "").split(","):
        if name.strip():  # modules outside the package (an operator's own kinds; test kinds)
            importlib.import_module(name.strip())
    _loaded = True
    return REGISTRY
