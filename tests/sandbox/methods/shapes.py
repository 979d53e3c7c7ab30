"""Compare answers with the reference fixtures: same keys, same JSON types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path("/work/shared/reference/fixtures/bitrix24")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    return "object"


def shape_diff(expected: Any, actual: Any, path: str = "$", *, ignore: set[str] = frozenset(),
               null_ok: bool = True) -> list[str]:
    """Differences in keys and JSON types between a fixture and an answer (values are not compared).
    A null on either side matches any type when ``null_ok`` (empty vs filled data)."""
    problems: list[str] = []
    ke, ka = _kind(expected), _kind(actual)
    if ke != ka:
        if not (null_ok and "null" in (ke, ka)):
            problems.append(f"{path}: expected {ke}, got {ka}")
        return problems
    if ke == "object":
        for key, value in expected.items():
            if key in ignore:
                continue
            if key not in actual:
                problems.append(f"{path}.{key}: missing")
                continue
            problems += shape_diff(value, actual[key], f"{path}.{key}", ignore=ignore, null_ok=null_ok)
    elif ke == "list" and expected and actual:
        problems += shape_diff(expected[0], actual[0], f"{path}[0]", ignore=ignore, null_ok=null_ok)
    return problems
