"""JSON as the portal's PHP ``json_encode`` writes it.

Flags used by Bitrix (``Bitrix\\Main\\Web\\Json``): ``JSON_HEX_TAG | JSON_HEX_AMP | JSON_HEX_APOS |
JSON_HEX_QUOT | JSON_UNESCAPED_UNICODE`` without ``JSON_UNESCAPED_SLASHES``. So ``<`` -> ``\\u003C``,
``>`` -> ``\\u003E``, ``&`` -> ``\\u0026``, ``'`` -> ``\\u0027``, ``"`` -> ``\\u0022``, ``/`` -> ``\\/``,
Cyrillic stays as is, U+2028/U+2029 are escaped.

PHP has one array type: an array whose keys are ``0..n-1`` in order is written as a JSON list,
every other array as an object, and an *empty* array as ``[]`` (never ``{}``). Python dicts are
encoded with the same rule (integer keys or canonical digit strings both count), so a handler may
build ``{0: ..., 1: ...}`` and get a list, and ``{}`` is written ``[]``. Wrap a dict in
:class:`PhpObject` to force an object (PHP's ``stdClass``), even when empty.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
from collections.abc import Mapping
from typing import Any


class PhpObject(dict):  # type: ignore[type-arg]
    """A dict always encoded as a JSON object (``{}`` when empty)."""


_ESCAPES = {i: f"\\u{i:04x}" for i in range(0x20)}
_ESCAPES.update({
    0x08: "\\b", 0x0C: "\\f", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t",
    ord("\\"): "\\\\", ord("/"): "\\/",
    ord('"'): "\\u0022", ord("'"): "\\u0027", ord("<"): "\\u003C", ord(">"): "\\u003E",
    ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029",
})


# characters a string may hold that need more than quotes around it
_SPECIAL = re.compile("[\x00-\x1f\\\\/\"'<>&\u2028\u2029\ud800-\udfff]")


def encode_string(s: str) -> str:
    """A PHP-escaped JSON string literal (with the quotes)."""
    if _SPECIAL.search(s) is None:
        return '"' + s + '"'
    out = s.translate(_ESCAPES)
    try:
        out.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: PHP would fail; write the replacement character
        out = out.encode("utf-8", errors="replace").decode("utf-8")
    return '"' + out + '"'


def _encode_float(f: float) -> str:
    if math.isnan(f) or math.isinf(f):
        return "0"
    r = repr(f)
    if "e" in r or "E" in r:
        mant, exp = r.lower().split("e")
        if "." not in mant:
            mant += ".0"
        sign = "-" if exp.startswith("-") else "+"
        return f"{mant}e{sign}{exp.lstrip('+-').lstrip('0') or '0'}"
    return r


def is_list_like(d: Mapping[Any, Any]) -> bool:
    """True when PHP would write this array as a JSON list (keys 0..n-1 in order; empty too)."""
    for i, k in enumerate(d):
        if isinstance(k, bool):
            return False
        if isinstance(k, int):
            if k != i:
                return False
        elif str(k) != str(i):
            return False
    return True


# Flat rows (string keys; str, int, bool or None values) -- the bulk of a list answer -- are written
# by the standard library's C encoder, then given PHP's escapes: it already writes control
# characters and backslashes as PHP does and leaves other characters as they are
# (``ensure_ascii=False``); what differs is fixed on its output, where these characters can only
# stand inside string literals.
_native_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
_FLAT_VALUES = frozenset({str, int, bool, type(None)})
_BACKSLASH_PAIR = re.compile(r'\\(["\\])')  # one escape pair: a quote or a backslash
_PHP_ONLY = (("/", "\\/"), ("'", "\\u0027"), ("<", "\\u003C"), (">", "\\u003E"), ("&", "\\u0026"),
             ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def _is_flat(d: Any) -> bool:
    """A non-empty plain dict of string keys and scalar values, not keyed like a list."""
    if type(d) is not dict or not d:
        return False
    first = next(iter(d))
    if type(first) is not str or first == "0":
        return False
    flat = _FLAT_VALUES
    return all(type(k) is str for k in d) and all(type(v) in flat for v in d.values())


def _native(obj: Any) -> str:
    """``obj`` (flat rows only) through the C encoder, with PHP's escapes."""
    text = _native_encode(obj)
    if '\\"' in text:
        text = _BACKSLASH_PAIR.sub(lambda m: "\\u0022" if m.group(1) == '"' else "\\\\", text)
    for char, escaped in _PHP_ONLY:
        if char in text:
            text = text.replace(char, escaped)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (only inside strings): the replacement character
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    return text


def _encode(obj: Any, parts: list[str]) -> None:
    if obj is None:
        parts.append("null")
    elif obj is True:
        parts.append("true")
    elif obj is False:
        parts.append("false")
    elif isinstance(obj, str):
        parts.append(encode_string(obj))
    elif isinstance(obj, int):
        parts.append(str(int(obj)))
    elif isinstance(obj, float):
        parts.append(_encode_float(obj))
    elif isinstance(obj, decimal.Decimal):
        parts.append(_encode_float(float(obj)))
    elif isinstance(obj, Mapping):
        if not isinstance(obj, PhpObject) and is_list_like(obj):
            _encode_seq(list(obj.values()), parts)
            return
        if _is_flat(obj):
            parts.append(_native(obj))
            return
        parts.append("{")
        first = True
        for k, v in obj.items():
            if not first:
                parts.append(",")
            first = False
            key = "1" if k is True else "0" if k is False else str(k)
            parts.append(encode_string(key))
            parts.append(":")
            _encode(v, parts)
        parts.append("}")
    elif isinstance(obj, (list, tuple, set, frozenset)):
        _encode_seq(list(obj), parts)
    elif isinstance(obj, (dt.datetime, dt.date)):
        parts.append(encode_string(obj.isoformat()))
    else:
        parts.append(encode_string(str(obj)))


def _encode_seq(items: list[Any], parts: list[str]) -> None:
    if len(items) > 1 and all(_is_flat(v) for v in items):  # a page of rows: one call
        parts.append(_native(items))
        return
    parts.append("[")
    for i, v in enumerate(items):
        if i:
            parts.append(",")
        _encode(v, parts)
    parts.append("]")


def dumps(obj: Any) -> str:
    """Encode ``obj`` like PHP ``json_encode`` with Bitrix's flags."""
    parts: list[str] = []
    _encode(obj, parts)
    return "".join(parts)


def php_array(obj: Any) -> Any:
    """``obj`` with PHP's array rules applied (dicts with keys 0..n-1 become lists, empty dicts
    lists), i.e. what a client sees after decoding :func:`dumps` output."""
    if isinstance(obj, Mapping):
        if not isinstance(obj, PhpObject) and is_list_like(obj):
            return [php_array(v) for v in obj.values()]
        return {str(k): php_array(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [php_array(v) for v in obj]
    return obj
