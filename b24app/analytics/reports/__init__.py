"""The reports: each module builds one :class:`~b24app.analytics.tables.Report` with SQL.

``build(name, db, member_id, filters, options)`` is the one entry point used by the web pages, the
CLI and the exports, so every place shows the same numbers. ``options`` are the analytics settings
section (stuck-deal thresholds, contract stages) and ``now`` (unix time of "now").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from b24app.analytics.filters import Filters
from b24app.analytics.reports import channels, clients, funnel, lights, managers, stages
from b24app.analytics.tables import Report
from b24app.store.db import Database

Builder = Callable[[Database, str, Filters, dict[str, Any]], Report]

REPORTS: dict[str, Builder] = {
    "funnel": funnel.build,
    "managers": managers.build,
    "channels": channels.build,
    "stages": stages.build,
    "clients": clients.build,
    "lights": lights.build,
}


def build(name: str, db: Database, member_id: str, filters: Filters, options: dict[str, Any] | None = None) -> Report:
    """The report ``name`` of portal ``member_id`` under ``filters``."""
    if name not in REPORTS:
        raise KeyError(f"unknown report {name!r}: one of {', '.join(REPORTS)}")
    from b24app import clock

    opts = {"now": clock.now(), **(options or {})}
    return REPORTS[name](db, member_id, filters, opts)
