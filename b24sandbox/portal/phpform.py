"""PHP form encoding, both ways: ``parse_str`` for what clients send, ``http_build_query`` for what
the portal sends (events, robot calls, the app-page POST).

The real portal is PHP: a form body or query string ``fields[TITLE]=X&fields[PHONE][0][VALUE]=1``
becomes nested arrays, ``a[]=`` appends, and the top-level name has ``.`` and `` `` replaced by
``_``. Batch sub-commands are parsed the same way. Outbound bodies are
``application/x-www-form-urlencoded`` with bracket keys (``auth%5Baccess_token%5D=...``).

Nested PHP arrays are returned as Python dicts; a dict whose keys are exactly ``0..n-1`` in
insertion order (what PHP's ``array_is_list`` accepts) is returned as a list, so a handler sees the
same shape whether the client sent JSON or a form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote_plus, unquote_plus

_CANONICAL_INT = re.compile(r"^(0|-?[1-9][0-9]*)$")


class _PhpArray(dict):  # type: ignore[type-arg]
    """A dict that remembers PHP's next free integer key (for ``a[]=``)."""

    next_index: int = 0

    def append(self, value: Any) -> str:
        key = str(self.next_index)
        self[key] = value
        self.next_index += 1
        return key

    def set(self, key: str, value: Any) -> None:
        self[key] = value
        if _CANONICAL_INT.match(key):
            n = int(key)
            if n >= self.next_index:
                self.next_index = n + 1


def _split_name(raw: str) -> tuple[str, list[str | None]] | None:
    """PHP's php_register_variable_ex name parsing: base name plus bracket indices (None = ``[]``)."""
    name = raw.lstrip(" ")
    if not name:
        return None
    pos = name.find("[")
    if pos == -1:
        base = name
        rest = ""
    else:
        base = name[:pos]
        rest = name[pos:]
    base = base.replace(" ", "_").replace(".", "_")
    indices: list[str | None] = []
    if rest:
        # an opening bracket without a closing one: PHP turns the first '[' into '_' and keeps the rest
        if "]" not in rest:
            tail = rest[1:].replace(" ", "_").replace(".", "_").replace("[", "_")
            return (base + "_" + tail, []) if base else None
        i = 0
        while i < len(rest) and rest[i] == "[":
            close = rest.find("]", i + 1)
            if close == -1:
                break
            idx = rest[i + 1:close]
            indices.append(idx if idx != "" else None)
            i = close + 1
            # anything after ']' that is not '[' ends the parsing (PHP ignores it)
    if base == "":
        return None
    return base, indices


def parse_pairs(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Build PHP arrays from decoded ``(name, value)`` pairs (the core of :func:`parse_str`)."""
    root = _PhpArray()
    for raw_name, value in pairs:
        parsed = _split_name(raw_name)
        if parsed is None:
            continue
        base, indices = parsed
        if not indices:
            root.set(base, value)
            continue
        cur = root.get(base)
        if not isinstance(cur, _PhpArray):
            cur = _PhpArray()
            root.set(base, cur)
        for n, idx in enumerate(indices):
            last = n == len(indices) - 1
            if last:
                if idx is None:
                    cur.append(value)
                else:
                    cur.set(idx, value)
                break
            if idx is None:
                nxt = _PhpArray()
                cur.append(nxt)
            else:
                nxt = cur.get(idx)
                if not isinstance(nxt, _PhpArray):
                    nxt = _PhpArray()
                    cur.set(idx, nxt)
            cur = nxt
    return _finish(root)


def _finish(node: Any) -> Any:
    if isinstance(node, dict):
        items = {k: _finish(v) for k, v in node.items()}
        keys = list(items)
        if keys and all(k == str(i) for i, k in enumerate(keys)):
            return [items[k] for k in keys]
        return items
    return node


def parse_str(query: str | bytes) -> dict[str, Any]:
    """PHP ``parse_str``: ``"a[b][]=1&a[b][]=2&c=x"`` -> ``{"a": {"b": ["1", "2"]}, "c": "x"}``."""
    if isinstance(query, bytes):
        query = query.decode("utf-8", errors="replace")
    pairs: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        if "=" in part:
            k, v = part.split("=", 1)
        else:
            k, v = part, ""
        pairs.append((unquote_plus(k), unquote_plus(v)))
    return parse_pairs(pairs)


def _php_urlencode(s: str) -> str:
    # PHP urlencode: like quote_plus but '~' is encoded too
    return quote_plus(s, safe="").replace("~", "%7E")


def _scalar(v: Any) -> str | None:
    if v is None:
        return None
    if v is True:
        return "1"
    if v is False:
        return "0"
    if isinstance(v, float) and v.is_integer():
        return str(int(v)) if abs(v) < 1e15 else repr(v)
    return str(v)


def flatten(data: Mapping[str, Any] | list[Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested data as PHP bracket pairs: ``{"auth": {"a": 1}}`` -> ``[("auth[a]", "1")]``. None is
    dropped, True/False become ``1``/``0`` (PHP ``http_build_query``); an empty array yields nothing."""
    out: list[tuple[str, str]] = []
    items = data.items() if isinstance(data, Mapping) else enumerate(data)
    for k, v in items:
        key = f"{prefix}[{k}]" if prefix else str(k)
        if isinstance(v, (Mapping, list, tuple)):
            out.extend(flatten(v if not isinstance(v, tuple) else list(v), key))
        else:
            s = _scalar(v)
            if s is not None:
                out.append((key, s))
    return out


def http_build_query(data: Mapping[str, Any]) -> str:
    """PHP ``http_build_query`` (RFC 1738 encoding: spaces as ``+``, brackets percent-encoded)."""
    return "&".join(f"{_php_urlencode(k)}={_php_urlencode(v)}" for k, v in flatten(data))
