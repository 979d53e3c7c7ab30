"""PHP-style form bodies: ``data[FIELDS][ID]=5&auth[member_id]=x&document_id[0]=crm``.

Bitrix24 posts events, robot calls and app pages as ``application/x-www-form-urlencoded`` with
PHP bracket keys. :func:`unflatten` turns the flat pairs into nested dicts; dicts whose keys are
exactly 0..n-1 become lists (as PHP arrays serialize). :func:`flatten` does the reverse for
building batch commands.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

MAX_DEPTH = 10
MAX_PAIRS = 5000

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


class FormError(ValueError):
    """The body cannot be read as PHP form data; the message says which key and why."""


def unflatten(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    count = 0
    for key, value in pairs:
        count += 1
        if count > MAX_PAIRS:
            raise FormError(f"too many form fields (more than {MAX_PAIRS})")
        m = _KEY.match(key)
        if not m:
            raise FormError(f"malformed key {key[:80]!r}: brackets do not balance")
        parts = [m.group(1)] + _PART.findall(m.group(2))
        if len(parts) > MAX_DEPTH:
            raise FormError(f"key {key[:80]!r} nests deeper than {MAX_DEPTH} levels")
        node: dict[str, Any] = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                part = str(_next_index(node))
            if last:
                if isinstance(node.get(part), dict):
                    raise FormError(f"key {key[:80]!r} is both a value and a group")
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise FormError(f"key {key[:80]!r} is both a value and a group")
                node = child
    return {k: _listify(v) for k, v in root.items()}  # the top level stays a map, even for keys 0..n


def _next_index(node: dict[str, Any]) -> int:
    ints = [int(k) for k in node if k.isdigit()]
    return max(ints) + 1 if ints else 0


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: _listify(v) for k, v in value.items()}
        keys = list(converted)
        if keys and keys == [str(i) for i in range(len(keys))]:
            return [converted[k] for k in keys]
        return converted
    return value


def php_scalar(value: Any) -> str:
    """How a value travels in a PHP form: booleans as Y/N (Bitrix24's convention), None empty."""
    if value is True:
        return "Y"
    if value is False:
        return "N"
    if value is None:
        return ""
    return str(value)


def flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested data -> PHP bracket pairs (lists as ``k[0]``, ``k[1]``; empty containers dropped)."""
    out: list[tuple[str, str]] = []
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            out.extend(flatten(value, name))
        elif isinstance(value, list | tuple):
            out.extend(flatten({str(i): v for i, v in enumerate(value)}, name))
        else:
            out.append((name, php_scalar(value)))
    return out


def build_query(data: Mapping[str, Any]) -> str:
    """``http_build_query`` equivalent (percent-encoding, never ``+`` for a space)."""
    return "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in flatten(data))
