"""Parsing the resource path of a 1C OData URL: sets, keys, navigation, actions and virtual tables.

``Catalog_Контрагенты(guid'…')/ГоловнойКонтрагент``, ``Document_X(guid'…')/Post()``,
``InformationRegister_СтатусыДокументов(Организация_Key=guid'…', Документ='…', Документ_Type='…')``,
``AccumulationRegister_X/Turnovers(StartPeriod=datetime'…', Condition='Поле eq ''значение''')``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import ODataError
from ..storage import norm_date, norm_guid

LITERAL_RE = re.compile(
    r"""\s*(?:
      (?P<guid>guid'(?P<g>[^']*)')
    | (?P<dt>datetime'(?P<d>[^']*)')
    | (?P<str>'(?P<s>(?:[^']|'')*)')
    | (?P<bool>true|false)
    | (?P<num>-?\d+(?:\.\d+)?)
    )\s*""",
    re.VERBOSE,
)


@dataclass
class Segment:
    name: str
    args: str | None = None  # text inside (...) or None


@dataclass
class Resource:
    set_name: str = ""
    key: str | None = None  # raw key text
    rest: list[Segment] = field(default_factory=list)
    metadata: bool = False
    service: bool = False


def split_segments(path: str) -> list[Segment]:
    """Split on ``/`` outside quotes and parentheses; ``Name(args)`` becomes a segment with args."""
    segs: list[Segment] = []
    cur: list[str] = []
    depth = 0
    quote = False
    i = 0
    while i < len(path):
        ch = path[i]
        if ch == "'":
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        if ch == "/" and depth == 0 and not quote:
            segs.append(_segment("".join(cur)))
            cur = []
        else:
            cur.append(ch)
        i += 1
    if cur:
        segs.append(_segment("".join(cur)))
    return segs


def _segment(text: str) -> Segment:
    if text.endswith(")") and "(" in text:
        idx = text.index("(")
        return Segment(text[:idx], text[idx + 1 : -1])
    return Segment(text)


def parse_resource(path: str) -> Resource:
    path = path.strip("/")
    if not path:
        return Resource(service=True)
    segs = split_segments(path)
    if segs[0].name == "$metadata":
        return Resource(metadata=True)
    return Resource(set_name=segs[0].name, key=segs[0].args, rest=segs[1:])


def parse_literal(text: str) -> Any:
    m = LITERAL_RE.fullmatch(text)
    if not m:
        raise ODataError(400, "1", f"Не удалось разобрать строку '{text.strip()}' как значение ключа!")
    if m.group("guid"):
        g = norm_guid(m.group("g"))
        if g is None:
            raise ODataError(400, "1", f"Не удалось разобрать строку '{m.group('g')}' как значение типа Edm.Guid!")
        return g
    if m.group("dt"):
        d = norm_date(m.group("d"))
        if d is None:
            raise ODataError(400, "1", f"Не удалось разобрать строку '{m.group('d')}' как значение типа Edm.DateTime!")
        return d
    if m.group("str") is not None:
        return m.group("s").replace("''", "'")
    if m.group("bool"):
        return m.group("bool") == "true"
    num = m.group("num")
    return float(num) if "." in num else int(num)


def split_args(text: str) -> list[str]:
    out, cur, quote, depth = [], [], False, 0
    for ch in text:
        if ch == "'":
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        if ch == "," and not quote and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur))
    return out


def parse_key(text: str) -> tuple[Any, dict[str, Any]]:
    """``guid'…'`` -> (value, {}); ``A=…, B=…`` -> (None, {"A": …, "B": …})."""
    parts = split_args(text)
    if len(parts) == 1 and "=" not in _outside_quotes(parts[0]):
        return parse_literal(parts[0]), {}
    named: dict[str, Any] = {}
    for p in parts:
        name, sep, value = p.partition("=")
        if not sep:
            raise ODataError(400, "7", "Неверный формат ключа")
        named[name.strip()] = parse_literal(value)
    return None, named


def _outside_quotes(text: str) -> str:
    out, quote = [], False
    for ch in text:
        if ch == "'":
            quote = not quote
            continue
        if not quote:
            out.append(ch)
    return "".join(out)
