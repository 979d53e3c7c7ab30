"""Contract numbering formats: parse, validate, render, preview, and read a number back.

A format is literal text with tokens in braces, e.g. ``"Д-{YY}/{SEQ:4}-{COMPANY}"`` -> ``"Д-26/0017-МП"``:

==============  ==================================================================
``{PREFIX}``    the contract type's prefix
``{YYYY}``      year, 4 digits          ``{YY}`` year, 2 digits
``{MM}``        month, 2 digits         ``{DD}`` day, 2 digits
``{SEQ:N}``     the sequence number zero-padded to N digits (N = 1..12); never cut: 12345 in
                ``{SEQ:4}`` renders as ``12345``
``{SEQ}``       the sequence number without padding
``{COMPANY}``   the code of our legal entity
``{DEAL_ID}``   the deal's id
``{TYPE}``      the contract type's code
``{{`` ``}}``   a literal brace
==============  ==================================================================

Exactly one SEQ token is required. Dates are taken in the portal's time zone, and so is the counter's
period (:func:`period_key`): 31 December 23:30 UTC is already 1 January in Moscow. Errors carry the
0-based ``position`` of the offending character in the format (:class:`NumberFormatError`).

Pure functions: no clock (the caller passes ``at``), no database (the counter lives in the store).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

TOKENS = ("PREFIX", "YYYY", "YY", "MM", "DD", "SEQ", "COMPANY", "DEAL_ID", "TYPE")
RESETS = ("yearly", "monthly", "never")
MAX_SEQ_WIDTH = 12
MAX_FORMAT_LENGTH = 200
ONEC_NUMBER_LENGTH = 50  # 1С:Бухгалтерия keeps a contract's «Номер» in 50 characters

Reset = Literal["yearly", "monthly", "never"]

SAMPLE_VALUES = {"prefix": "ДГ", "company": "МП", "deal_id": 1234, "type_code": "TYPE"}


class NumberFormatError(ValueError):
    """A numbering format (or the values to render it) is wrong.

    ``code`` is stable (``"unknown_token"``, ``"unclosed_brace"``, ``"missing_seq"`` ...), ``position`` the
    0-based index in the format string (``None`` when the error is not at one place).
    """

    def __init__(self, code: str, message: str, message_en: str, position: int | None = None):
        self.code = code
        self.message = message
        self.message_en = message_en
        self.position = position
        super().__init__(message_en if position is None else f"{message_en} (position {position})")

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "position": self.position, "message": self.message, "message_en": self.message_en}


@dataclass(frozen=True)
class Text:
    """Literal text of a format."""

    text: str
    position: int


@dataclass(frozen=True)
class Token:
    """A token of a format; ``width`` only for ``{SEQ:N}``."""

    name: str
    position: int
    width: int | None = None


Part = Text | Token


@dataclass(frozen=True)
class NumberFormat:
    """A parsed, valid numbering format."""

    source: str
    parts: tuple[Part, ...]

    @property
    def tokens(self) -> frozenset[str]:
        return frozenset(p.name for p in self.parts if isinstance(p, Token))

    @property
    def seq_width(self) -> int | None:
        for p in self.parts:
            if isinstance(p, Token) and p.name == "SEQ":
                return p.width
        return None


def _err(code: str, ru: str, en: str, position: int | None = None) -> NumberFormatError:
    where_ru = f" (символ {position + 1})" if position is not None else ""
    return NumberFormatError(code, ru + where_ru, en, position)


def parse_format(fmt: str | NumberFormat) -> NumberFormat:
    """Parse and validate a format string; raises :class:`NumberFormatError` at the first problem."""
    if isinstance(fmt, NumberFormat):
        return fmt
    if not isinstance(fmt, str):
        raise _err("not_a_string", "формат должен быть строкой", "the format must be a string")
    if not fmt.strip():
        raise _err("empty", "формат номера пуст", "the number format is empty")
    if len(fmt) > MAX_FORMAT_LENGTH:
        raise _err(
            "too_long",
            f"формат длиннее {MAX_FORMAT_LENGTH} символов",
            f"the format is longer than {MAX_FORMAT_LENGTH} characters",
        )
    parts: list[Part] = []
    literal: list[str] = []
    literal_start = 0
    i, n = 0, len(fmt)

    def flush(at: int) -> None:
        nonlocal literal_start
        if literal:
            parts.append(Text("".join(literal), literal_start))
            literal.clear()
        literal_start = at

    while i < n:
        c = fmt[i]
        if c == "{":
            if i + 1 < n and fmt[i + 1] == "{":
                if not literal:
                    literal_start = i
                literal.append("{")
                i += 2
                continue
            close = fmt.find("}", i + 1)
            nested = fmt.find("{", i + 1)
            if close == -1 or (nested != -1 and nested < close):
                raise _err("unclosed_brace", "незакрытая фигурная скобка", "unclosed brace", i)
            flush(close + 1)
            parts.append(_parse_token(fmt[i + 1 : close], i))
            i = close + 1
            continue
        if c == "}":
            if i + 1 < n and fmt[i + 1] == "}":
                if not literal:
                    literal_start = i
                literal.append("}")
                i += 2
                continue
            raise _err("unmatched_brace", "лишняя закрывающая скобка", "unmatched closing brace", i)
        if not c.isprintable():
            raise _err("bad_char", "недопустимый символ (перевод строки, табуляция)", "control character", i)
        if not literal:
            literal_start = i
        literal.append(c)
        i += 1
    flush(n)
    seqs = [p for p in parts if isinstance(p, Token) and p.name == "SEQ"]
    if not seqs:
        raise _err(
            "missing_seq", "в формате нет порядкового номера {SEQ} или {SEQ:N}", "the format has no {SEQ} token"
        )
    if len(seqs) > 1:
        raise _err(
            "duplicate_seq",
            "порядковый номер {SEQ} указан больше одного раза",
            "{SEQ} appears more than once",
            seqs[1].position,
        )
    return NumberFormat(fmt, tuple(parts))


def _parse_token(body: str, position: int) -> Token:
    name, sep, arg = body.partition(":")
    if name not in TOKENS:
        hint_ru = hint_en = ""
        if name.upper() in TOKENS:
            hint_ru, hint_en = f"; возможно, {{{name.upper()}}}", f"; did you mean {{{name.upper()}}}"
        raise _err(
            "unknown_token",
            f"неизвестный токен {{{body}}}{hint_ru}; допустимы: " + ", ".join(f"{{{t}}}" for t in TOKENS),
            f"unknown token {{{body}}}{hint_en}",
            position,
        )
    if not sep:
        return Token(name, position)
    if name != "SEQ":
        raise _err(
            "unexpected_argument",
            f"у токена {{{name}}} не бывает параметра",
            f"token {{{name}}} takes no argument",
            position,
        )
    if not arg.isdigit() or not 1 <= int(arg) <= MAX_SEQ_WIDTH:
        raise _err(
            "bad_width",
            f"ширина номера в {{SEQ:N}} должна быть от 1 до {MAX_SEQ_WIDTH}",
            f"the width N of {{SEQ:N}} must be 1..{MAX_SEQ_WIDTH}",
            position,
        )
    return Token(name, position, int(arg))


def _zone(tz: str | dt.tzinfo) -> dt.tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def _local(at: dt.datetime, tz: str | dt.tzinfo) -> dt.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"aware datetime required, got naive {at.isoformat()}")
    return at.astimezone(_zone(tz))


def _render_seq(seq: int, width: int | None) -> str:
    return str(seq).zfill(width) if width else str(seq)


def render(
    fmt: str | NumberFormat,
    seq: int,
    at: dt.datetime,
    tz: str | dt.tzinfo,
    prefix: str | None = None,
    company: str | None = None,
    deal_id: int | str | None = None,
    type_code: str | None = None,
) -> str:
    """The contract number for sequence value ``seq`` issued at ``at`` (dates in ``tz``).

    Every token the format uses needs its value: a missing one raises :class:`NumberFormatError`
    (code ``"missing_value"``) rather than rendering a number with a hole in it.
    """
    nf = parse_format(fmt)
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise _err("bad_seq", "порядковый номер должен быть целым ≥ 0", "the sequence value must be an int >= 0")
    local = _local(at, tz)
    values: dict[str, str | None] = {
        "PREFIX": prefix,
        "COMPANY": company,
        "TYPE": type_code,
        "DEAL_ID": None if deal_id is None else str(deal_id),
        "YYYY": f"{local.year:04d}",
        "YY": f"{local.year % 100:02d}",
        "MM": f"{local.month:02d}",
        "DD": f"{local.day:02d}",
    }
    out: list[str] = []
    for p in nf.parts:
        if isinstance(p, Text):
            out.append(p.text)
        elif p.name == "SEQ":
            out.append(_render_seq(seq, p.width))
        else:
            value = values[p.name]
            if value is None or value == "":
                raise _err(
                    "missing_value",
                    f"нет значения для {{{p.name}}}",
                    f"no value for {{{p.name}}}",
                    p.position,
                )
            out.append(value)
    return "".join(out)


def period_key(reset: Reset | str, at: dt.datetime, tz: str | dt.tzinfo) -> str:
    """The counter bucket of ``at`` in the portal's time zone: ``"2026"``, ``"2026-01"`` or ``"all"``."""
    local = _local(at, tz)
    if reset == "yearly":
        return f"{local.year:04d}"
    if reset == "monthly":
        return f"{local.year:04d}-{local.month:02d}"
    if reset == "never":
        return "all"
    raise ValueError(f"reset must be one of {', '.join(RESETS)}, got {reset!r}")


def format_warnings(fmt: str | NumberFormat, reset: Reset | str | None = None) -> list[dict[str, str]]:
    """Problems that do not make a format invalid but deserve a warning in the settings UI.

    ``reset_without_period``: the counter restarts every year/month but the number shows no year/month, so
    the same number would be issued again; ``ambiguous``: a number cannot be read back reliably (two
    variable-width tokens side by side) unless the known values are given.
    """
    nf = parse_format(fmt)
    out: list[dict[str, str]] = []
    tokens = nf.tokens
    has_year = bool(tokens & {"YYYY", "YY"})
    if (reset == "yearly" and not has_year) or (reset == "monthly" and not (has_year and "MM" in tokens)):
        out.append(
            {
                "code": "reset_without_period",
                "message": "счётчик сбрасывается, а в номере нет года/месяца: номера будут повторяться",
                "message_en": "the counter resets but the number shows no year/month: numbers will repeat",
            }
        )
    if _ambiguity(nf, known=set()) is not None:
        out.append(
            {
                "code": "ambiguous",
                "message": "два переменных поля подряд без разделителя: номер нельзя надёжно разобрать обратно",
                "message_en": "two variable-width fields without a separator: a number cannot be read back reliably",
            }
        )
    return out


@dataclass(frozen=True)
class Preview:
    """What the settings UI shows next to a format being typed."""

    ok: bool
    text: str | None
    error: dict[str, Any] | None = None
    warnings: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "text": self.text, "error": self.error, "warnings": self.warnings}


def preview(
    fmt: str,
    *,
    at: dt.datetime,
    tz: str | dt.tzinfo = "Europe/Moscow",
    seq: int = 1,
    prefix: str | None = None,
    company: str | None = None,
    deal_id: int | str | None = None,
    type_code: str | None = None,
    reset: Reset | str | None = None,
) -> Preview:
    """Render ``fmt`` with sample values for anything not given; never raises for a bad format."""
    try:
        nf = parse_format(fmt)
        text = render(
            nf,
            seq,
            at,
            tz,
            prefix=prefix or SAMPLE_VALUES["prefix"],  # type: ignore[arg-type]
            company=company or SAMPLE_VALUES["company"],  # type: ignore[arg-type]
            deal_id=deal_id if deal_id is not None else SAMPLE_VALUES["deal_id"],  # type: ignore[arg-type]
            type_code=type_code or SAMPLE_VALUES["type_code"],  # type: ignore[arg-type]
        )
    except NumberFormatError as exc:
        return Preview(False, None, exc.to_dict(), [])
    warnings = format_warnings(nf, reset)
    if len(text) > ONEC_NUMBER_LENGTH:
        warnings.append(
            {
                "code": "too_long_for_1c",
                "message": f"номер длиннее {ONEC_NUMBER_LENGTH} символов: в 1С:Бухгалтерии он не поместится",
                "message_en": f"the number is longer than {ONEC_NUMBER_LENGTH} characters, too long for 1C",
            }
        )
    return Preview(True, text, None, warnings)


# --- reading a number back ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedNumber:
    """The parts of a number read back with its format (``None`` for what the format does not show)."""

    seq: int
    year: int | None = None
    month: int | None = None
    day: int | None = None
    prefix: str | None = None
    company: str | None = None
    deal_id: str | None = None
    type_code: str | None = None

    def period_key(self, reset: Reset | str) -> str | None:
        """The counter bucket this number belongs to, when the number shows enough of the date."""
        if reset == "never":
            return "all"
        if reset == "yearly":
            return None if self.year is None else f"{self.year:04d}"
        if reset == "monthly":
            return None if self.year is None or self.month is None else f"{self.year:04d}-{self.month:02d}"
        raise ValueError(f"reset must be one of {', '.join(RESETS)}, got {reset!r}")


_FIXED = {"YYYY": r"\d{4}", "YY": r"\d{2}", "MM": r"0[1-9]|1[0-2]", "DD": r"0[1-9]|[12]\d|3[01]"}
_KNOWN_KEYS = {"PREFIX": "prefix", "COMPANY": "company", "DEAL_ID": "deal_id", "TYPE": "type_code"}


def _ambiguity(nf: NumberFormat, known: set[str]) -> Token | None:
    """The second of two variable-width tokens with no literal text between them, if any."""
    last_variable: Token | None = None
    for p in nf.parts:
        if isinstance(p, Text):
            last_variable = None
            continue
        variable = p.name == "SEQ" or (p.name in _KNOWN_KEYS and p.name not in known)
        if not variable:
            continue
        if last_variable is not None:
            return p
        last_variable = p
    return None


def parse_number(
    fmt: str | NumberFormat,
    number: str,
    *,
    prefix: str | None = None,
    company: str | None = None,
    deal_id: int | str | None = None,
    type_code: str | None = None,
) -> ParsedNumber | None:
    """Read ``number`` back with ``fmt``: its sequence value and what the number shows of date and codes.

    Returns ``None`` when the number does not follow the format exactly (including the zero padding of
    ``{SEQ:N}``: ``"0017"`` matches ``{SEQ:4}``, ``"017"`` and ``"00017"`` do not). Known values narrow the
    match (pass the prefix and company codes you expect). Raises :class:`NumberFormatError` with code
    ``"ambiguous"`` when two variable-width fields touch and the number cannot be split reliably.
    """
    nf = parse_format(fmt)
    given = {"PREFIX": prefix, "COMPANY": company, "DEAL_ID": deal_id, "TYPE": type_code}
    known = {k for k, v in given.items() if v not in (None, "")}
    bad = _ambiguity(nf, known)
    if bad is not None:
        raise _err(
            "ambiguous",
            f"номер нельзя разобрать: {{{bad.name}}} стоит вплотную к другому полю переменной длины",
            f"cannot read the number: {{{bad.name}}} touches another variable-width field",
            bad.position,
        )
    pattern: list[str] = []
    seen: set[str] = set()
    for p in nf.parts:
        if isinstance(p, Text):
            pattern.append(re.escape(p.text))
            continue
        if p.name in known:
            pattern.append(re.escape(str(given[p.name])))
            continue
        if p.name in seen:
            pattern.append(f"(?P={p.name})")
            continue
        seen.add(p.name)
        if p.name == "SEQ":
            body = rf"\d{{{p.width},}}" if p.width else r"\d+"
        elif p.name in _FIXED:
            body = _FIXED[p.name]
        elif p.name == "DEAL_ID":
            body = r"\d+"
        else:
            body = r".+?"
        pattern.append(f"(?P<{p.name}>{body})")
    m = re.fullmatch("".join(pattern), number.strip() if isinstance(number, str) else "")
    if m is None:
        return None
    groups = m.groupdict()
    seq_text = groups["SEQ"]
    seq = int(seq_text)
    if _render_seq(seq, nf.seq_width) != seq_text:
        return None  # not the canonical padding of this format
    year: int | None = int(groups["YYYY"]) if groups.get("YYYY") else None
    if groups.get("YY"):
        yy = 2000 + int(groups["YY"])
        if year is not None and year != yy:
            return None
        year = yy
    month = int(groups["MM"]) if groups.get("MM") else None
    day = int(groups["DD"]) if groups.get("DD") else None
    if year is not None and month is not None and day is not None:
        try:
            dt.date(year, month, day)
        except ValueError:
            return None

    def value(token: str) -> str | None:
        if token in known:
            return str(given[token])
        return groups.get(token)

    return ParsedNumber(
        seq=seq,
        year=year,
        month=month,
        day=day,
        prefix=value("PREFIX"),
        company=value("COMPANY"),
        deal_id=value("DEAL_ID"),
        type_code=value("TYPE"),
    )
