"""Russian phone numbers as people actually type them into CRM forms.

One number (11 digits, "7" + 3-digit code + 7 digits) is written in several formats on purpose, so
that duplicate detection has to normalise: ``8 (912) 345-67-89``, ``+7 912 345 67 89``,
``79123456789``, ``8-912-345-67-89``, ``+7 (912) 345-67-89``, ``89123456789``.
"""

from __future__ import annotations

import re

MOBILE_CODES: tuple[str, ...] = (
    "912", "919", "922", "932", "951", "904", "908", "982", "963", "967", "999", "900", "950", "953",
    "961", "902", "909", "915", "916", "917", "925", "926", "937", "987", "913", "923",
)

FORMATS: tuple[str, ...] = ("8_paren", "plus7_spaces", "plain7", "8_dash", "plus7_paren", "plain8")


def format_phone(digits11: str, fmt: str) -> str:
    """Write an 11-digit number ("7XXXXXXXXXX") in one of :data:`FORMATS`."""
    c, a, b, d = digits11[1:4], digits11[4:7], digits11[7:9], digits11[9:11]
    if fmt == "8_paren":
        return f"8 ({c}) {a}-{b}-{d}"
    if fmt == "plus7_spaces":
        return f"+7 {c} {a} {b} {d}"
    if fmt == "plain7":
        return digits11
    if fmt == "8_dash":
        return f"8-{c}-{a}-{b}-{d}"
    if fmt == "plus7_paren":
        return f"+7 ({c}) {a}-{b}-{d}"
    if fmt == "plain8":
        return "8" + digits11[1:]
    raise ValueError(f"unknown phone format {fmt!r}")


_NON_DIGITS = re.compile(r"\D+")


def normalize_phone(value: str) -> str:
    """Digits of a Russian number as "7XXXXXXXXXX" (8... and bare 10-digit forms mapped to 7...).
    Anything else is returned as its bare digits."""
    digits = _NON_DIGITS.sub("", value)
    if len(digits) == 11 and digits[0] in "78":
        return "7" + digits[1:]
    if len(digits) == 10:
        return "7" + digits
    return digits


def phone_format_of(value: str) -> str | None:
    """Which of :data:`FORMATS` ``value`` is written in (None if none)."""
    digits = normalize_phone(value)
    if len(digits) != 11:
        return None
    for fmt in FORMATS:
        if format_phone(digits, fmt) == value:
            return fmt
    return None
