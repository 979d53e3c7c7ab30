"""Registers the "calendar" settings section."""

from __future__ import annotations

from typing import Any

from b24app.calendar.settings_section import DEFAULT_SCHEDULE, SCHEMA
from b24app.settings.sections import section


def _demo(facts: dict[str, Any]) -> dict[str, Any]:
    return {"schedule": dict(DEFAULT_SCHEDULE), "overrides": {}, "users": {}}


section("calendar", SCHEMA, demo=_demo, title_ru="Рабочее время и календарь", title_en="Working time and calendar")
