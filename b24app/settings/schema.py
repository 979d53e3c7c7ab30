"""A small declarative schema for the settings document, with readable errors in Russian and
English that name the exact place (``distribution.rules[2].pool.users[0]``).

Nodes validate a value and return it normalized (defaults filled in). Errors are collected, not
raised one by one, so the UI can show every problem next to its field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Issue:
    path: str
    ru: str
    en: str

    def text(self, lang: str = "ru") -> str:
        return f"{self.path or '(document)'}: {self.ru if lang == 'ru' else self.en}"


class Issues(list[Issue]):
    def add(self, path: str, ru: str, en: str) -> None:
        self.append(Issue(path, ru, en))


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


MISSING: Any = object()


def _bounds(value: Any, low: float | None, high: float | None, path: str, issues: Issues) -> Any:
    if low is not None and value < low:
        issues.add(path, f"не может быть меньше {low}", f"must be at least {low}")
    if high is not None and value > high:
        issues.add(path, f"не может быть больше {high}", f"must be at most {high}")
    return value


class Node:
    default: Any = MISSING
    description: str = ""

    def check(self, value: Any, path: str, issues: Issues) -> Any:  # pragma: no cover - interface
        return value

    def default_value(self) -> Any:
        return self.default() if callable(self.default) else self.default


@dataclass
class Raw(Node):
    """Any value, checked by the enclosing object's rules (e.g. a schedule parsed by the calendar)."""

    default: Any = MISSING
    description: str = ""

    def check(self, value: Any, path: str, issues: Issues) -> Any:
        return value


@dataclass
class Str(Node):
    default: Any = MISSING
    min_len: int = 0
    max_len: int = 10_000
    pattern: str | None = None
    choices: tuple[str, ...] | None = None
    description: str = ""

    def check(self, value: Any, path: str, issues: Issues) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            issues.add(path, "должно быть строкой", "must be a string")
            return value
        if len(value) < self.min_len:
            issues.add(path, "не заполнено" if self.min_len == 1 else f"короче {self.min_len} символов",
                       "is empty" if self.min_len == 1 else f"shorter than {self.min_len} characters")
        if len(value) > self.max_len:
            issues.add(path, f"длиннее {self.max_len} символов", f"longer than {self.max_len} characters")
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(self.choices)
            issues.add(path, f"значение «{value}» не из списка: {allowed}",
                       f"value '{value}' is not one of: {allowed}")
        if self.pattern and value and not re.fullmatch(self.pattern, value):
            issues.add(path, "неверный формат", "has a wrong format")
        return value


@dataclass
class Int(Node):
    default: Any = MISSING
    min: int | None = None
    max: int | None = None
    description: str = ""

    def check(self, value: Any, path: str, issues: Issues) -> Any:
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            issues.add(path, "должно быть целым числом", "must be a whole number")
            return value
        return _bounds(value, self.min, self.max, path, issues)


@dataclass
class Num(Node):
    default: Any = MISSING
    min: float | None = None
    max: float | None = None
    description: str = ""

    def check(self, value: Any, path: str, issues: Issues) -> Any:
        if isinstance(value, str):
            try:
                value = float(value.replace(",", ".").replace(" ", ""))
            except ValueError:
                pass
        if not isinstance(value, int | float) or isinstance(value, bool):
            issues.add(path, "должно быть числом", "must be a number")
            return value
        return _bounds(value, self.min, self.max, path, issues)


@dataclass
class Bool(Node):
    default: Any = MISSING
    description: str = ""

    def check(self, value: Any, path: str, issues: Issues) -> Any:
        if isinstance(value, str) and value.strip().lower() in ("y", "yes", "true", "1", "n", "no", "false", "0"):
            return value.strip().lower() in ("y", "yes", "true", "1")
        if not isinstance(value, bool):
            issues.add(path, "должно быть да/нет", "must be yes/no")
        return value


@dataclass
class List(Node):
    item: Node = field(default_factory=Str)
    default: Any = list
    min_items: int = 0
    max_items: int = 10_000
    unique_by: str | None = None  # a field of object items that must be unique
    description: str = ""

    def check(self, value: Any, path: str, issues: Issues) -> Any:
        if value is None:
            value = []
        if not isinstance(value, list):
            issues.add(path, "должно быть списком", "must be a list")
            return value
        if len(value) < self.min_items:
            issues.add(path, f"нужно хотя бы {self.min_items} элемент(ов)", f"needs at least {self.min_items} item(s)")
        if len(value) > self.max_items:
            issues.add(path, f"не больше {self.max_items} элементов", f"at most {self.max_items} items")
        out = [self.item.check(v, _join(path, i), issues) for i, v in enumerate(value)]
        if self.unique_by:
            seen: dict[Any, int] = {}
            for i, v in enumerate(out):
                if isinstance(v, dict) and self.unique_by in v:
                    key = v[self.unique_by]
                    if key in seen:
                        issues.add(_join(_join(path, i), self.unique_by),
                                   f"значение «{key}» уже есть в элементе {seen[key] + 1}",
                                   f"value '{key}' repeats item {seen[key] + 1}")
                    seen.setdefault(key, i)
        return out


@dataclass
class Map(Node):
    value: Node = field(default_factory=Str)
    key_pattern: str | None = None
    default: Any = dict
    description: str = ""

    def check(self, value: Any, path: str, issues: Issues) -> Any:
        if value is None:
            value = {}
        if not isinstance(value, dict):
            issues.add(path, "должно быть набором «ключ: значение»", "must be a mapping")
            return value
        out = {}
        for k, v in value.items():
            key = str(k)
            if self.key_pattern and not re.fullmatch(self.key_pattern, key):
                issues.add(_join(path, key), "недопустимый ключ", "invalid key")
            out[key] = self.value.check(v, _join(path, key), issues)
        return out


@dataclass
class Obj(Node):
    fields: dict[str, Node] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    allow_extra: bool = False
    default: Any = MISSING
    rules: tuple[Callable[[dict[str, Any], str, Issues], None], ...] = ()  # cross-field checks
    description: str = ""

    def default_value(self) -> Any:
        if self.default is not MISSING:
            return self.default() if callable(self.default) else self.default
        return {k: n.default_value() for k, n in self.fields.items() if n.default_value() is not MISSING}

    def check(self, value: Any, path: str, issues: Issues) -> Any:
        if value is None:
            value = {}
        if not isinstance(value, dict):
            issues.add(path, "должно быть набором полей", "must be a group of fields")
            return value
        out: dict[str, Any] = {}
        for key in value:
            if key not in self.fields and not self.allow_extra:
                issues.add(_join(path, key), "неизвестное поле", "unknown field")
        for key, node in self.fields.items():
            if key in value:
                out[key] = node.check(value[key], _join(path, key), issues)
            elif key in self.required:
                issues.add(_join(path, key), "обязательное поле не заполнено", "required field is missing")
            else:
                dv = node.default_value()
                if dv is not MISSING:
                    out[key] = dv
        if self.allow_extra:
            for key in value:
                if key not in self.fields:
                    out[key] = value[key]
        for rule in self.rules:
            rule(out, path, issues)
        return out


def validate(node: Node, value: Any, path: str = "") -> tuple[Any, Issues]:
    issues = Issues()
    out = node.check(value, path, issues)
    return out, issues
