"""Phone numbers and e-mail addresses normalised for duplicate search.

``normalize_phone`` turns the ways people write a Russian number into one key of E.164 digits without
the plus: ``8 (912) 345-67-89``, ``+7 912 345 67 89``, ``79123456789``, ``8-912-345-67-89`` and
``9123456789`` are all ``"79123456789"``. Rules, in order:

1. ``tel:`` is dropped; an extension (``доб. 123``, ``доб 123``, ``вн. 12``, ``ext. 5``, ``x5``, ``#5``) and
   anything after it is dropped; a list (``"..., ..."`` or ``"...; ..."``) keeps its first number;
2. only digits, spaces, ``- ( ) . /`` and dashes may remain, with ``+`` only in front; letters -> ``None``;
3. international forms: ``+CC...``, ``00CC...`` and the Russian ``810CC...`` keep their country code;
   ``+8 9xx ...`` (a common slip for ``+7``; no country code starts with 89) becomes ``7 9xx ...``;
4. national forms (no ``+``): 11 digits starting ``8`` or ``7`` -> ``7`` + the 10 digits; 10 digits
   starting ``3 4 6 7 8 9`` (Russian and Kazakh area and mobile codes) -> ``7`` + them;
5. a ``7`` number must have 11 digits and an area code starting ``3 4 6 7 8 9``, and not all ten national
   digits the same (``+7 999 999-99-99`` is a placeholder); other countries 7..15 digits (E.164).
Anything else is junk: ``None``.

``normalize_email`` lower-cases, trims, drops ``mailto:`` and a display name (``Иван <ivan@x.ru>``) and
checks the shape; Cyrillic domains (``почта.рф``) are accepted as written. Gmail dots and ``+tags`` are kept
as typed by default, because for most providers they are part of the address; with ``canonical=True``
Gmail addresses lose dots and ``+tags`` (``googlemail.com`` -> ``gmail.com``) and Yandex addresses lose
``+tags``, get ``-`` for ``.`` in the login and the domain ``yandex.ru`` (its aliases ``ya.ru``, ``yandex.com``
... deliver to one mailbox). Use the canonical form as a duplicate key, never to send mail.

Pure functions: no I/O.
"""

from __future__ import annotations

import re

RU_AREA_FIRST_DIGITS = "346789"
_EXT_RE = re.compile(
    r"(?:доб(?:авочный)?\.?|вн(?:утр(?:енний)?)?\.?|ext(?:ension)?\.?|(?<=[\d\s)])x|#|[,;])",
    re.IGNORECASE,
)
_ALLOWED_RE = re.compile(r"^\+?[\d\s\-().\/\u2010-\u2015\u2212]*$")


def normalize_phone(raw: str | int | None, *, default_country: str = "7") -> str | None:
    """One duplicate key for a phone number (E.164 digits without ``+``), or ``None`` for junk.

    ``default_country`` is the code given to national numbers; only ``"7"`` has the Russian rules
    (trunk ``8``); for another code a national number loses its leading trunk ``0`` and gets the code.
    """
    if raw is None or isinstance(raw, bool):
        return None
    text = str(raw).strip().replace("\u00a0", " ")
    if text.lower().startswith("tel:"):
        text = text[4:]
    text = _EXT_RE.split(text, maxsplit=1)[0].strip()
    if not text or not _ALLOWED_RE.match(text):
        return None
    plus = text.startswith("+")
    digits = re.sub(r"\D", "", text)
    if not digits:
        return None
    if not plus and digits.startswith("00"):
        plus, digits = True, digits[2:]
    elif not plus and digits.startswith("810") and len(digits) > 11:
        plus, digits = True, digits[3:]
    if plus:
        if len(digits) == 11 and digits.startswith("89"):
            digits = "7" + digits[1:]
        if digits.startswith("7"):
            return _valid_7(digits)
        return digits if 7 <= len(digits) <= 15 and digits[0] != "0" else None
    if default_country != "7":
        national = digits.lstrip("0") if digits.startswith("0") else digits
        if national.startswith(default_country) and len(national) > 9:
            full = national
        else:
            full = default_country + national
        return full if 7 <= len(full) <= 15 else None
    if len(digits) == 11 and digits[0] in "78":
        return _valid_7("7" + digits[1:])
    if len(digits) == 10 and digits[0] in RU_AREA_FIRST_DIGITS:
        return _valid_7("7" + digits)
    return None


def _valid_7(digits: str) -> str | None:
    if len(digits) != 11 or digits[1] not in RU_AREA_FIRST_DIGITS:
        return None
    if len(set(digits[1:])) == 1:
        return None
    return digits


def same_phone(a: str | int | None, b: str | int | None) -> bool:
    """True when both normalise to the same number."""
    na = normalize_phone(a)
    return na is not None and na == normalize_phone(b)


def phone_variants(phone: str | int, *, limit: int = 20) -> list[str]:
    """Spellings of one number a CRM may hold, most likely first (at most ``limit``; ``crm.duplicate.
    findbycomm`` takes 20 values a call). Accepts a raw or normalised number; junk gives ``[]``."""
    n = normalize_phone(phone)
    if n is None:
        return []
    if n.startswith("7") and len(n) == 11:
        d = n[1:]
        a, b, c, e = d[:3], d[3:6], d[6:8], d[8:]
        out = [
            f"+7{d}",
            f"7{d}",
            f"8{d}",
            d,
            f"+7 ({a}) {b}-{c}-{e}",
            f"8 ({a}) {b}-{c}-{e}",
            f"+7 {a} {b}-{c}-{e}",
            f"+7 {a} {b} {c} {e}",
            f"8 {a} {b}-{c}-{e}",
            f"8-{a}-{b}-{c}-{e}",
            f"+7({a}){b}-{c}-{e}",
            f"8({a}){b}-{c}-{e}",
            f"+7 ({a}) {b} {c} {e}",
            f"8 ({a}) {b} {c} {e}",
            f"8 {a} {b} {c} {e}",
            f"+7-{a}-{b}-{c}-{e}",
        ]
    else:
        out = [f"+{n}", n, f"00{n}", f"810{n}"]
    return out[:limit]


# --- e-mail ---------------------------------------------------------------------------------------------

_DISPLAY_RE = re.compile(r"<([^<>]*)>")
_LOCAL_RE = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.\-\u0400-\u04ff]+$")
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9\-\u0400-\u04ff]{1,63}(?<!-)$")
_TLD_RE = re.compile(r"^(?:[a-z\u0400-\u04ff]{2,63}|xn--[a-z0-9\-]{2,59})$")

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
YANDEX_DOMAINS = frozenset(
    {"yandex.ru", "ya.ru", "yandex.com", "yandex.by", "yandex.kz", "yandex.ua", "narod.ru"}
)


def normalize_email(raw: str | None, *, canonical: bool = False) -> str | None:
    """A lower-cased, trimmed, shape-checked address, or ``None``; see the module docstring."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    m = _DISPLAY_RE.search(text)
    if m:
        text = m.group(1).strip()
    text = text.strip("\"' ")
    if text.lower().startswith("mailto:"):
        text = text[7:].split("?", 1)[0].strip()
    text = text.lower().rstrip(".")
    if text.count("@") != 1 or len(text) > 254:
        return None
    local, domain = text.split("@")
    if not local or len(local) > 64 or not _LOCAL_RE.match(local):
        return None
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL_RE.match(label) for label in labels) or not _TLD_RE.match(labels[-1]):
        return None
    if canonical:
        if domain in GMAIL_DOMAINS:
            local = local.split("+", 1)[0].replace(".", "")
            domain = "gmail.com"
        elif domain in YANDEX_DOMAINS:
            local = local.split("+", 1)[0].replace(".", "-")
            domain = "yandex.ru"
        if not local:
            return None
    return f"{local}@{domain}"
