"""Sections of the settings document. Each feature registers one section: its schema, and the
МеталПром demo values (which may depend on the portal's ids, hence a function)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from b24app.settings.schema import Node


@dataclass(frozen=True)
class Section:
    name: str
    schema: Node
    demo: Callable[[dict[str, Any]], Any] | None = None  # (portal facts) -> section value
    title_ru: str = ""
    title_en: str = ""
    # (db, secret box, member_id, section value) -> value to store: e.g. clear-text passwords typed
    # by a person go encrypted elsewhere and become "***" in the document
    before_save: Callable[[Any, Any, str, Any], Any] | None = None


SECTIONS: dict[str, Section] = {}


def section(name: str, schema: Node, *, demo: Callable[[dict[str, Any]], Any] | None = None,
            title_ru: str = "", title_en: str = "",
            before_save: Callable[[Any, Any, str, Any], Any] | None = None) -> Section:
    if name in SECTIONS:
        raise RuntimeError(f"settings section registered twice: {name}")
    sec = Section(name, schema, demo, title_ru, title_en, before_save)
    SECTIONS[name] = sec
    return sec
