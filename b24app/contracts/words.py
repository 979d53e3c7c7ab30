"""Numbers and money amounts in words, Russian and English, for contracts and invoices.

``amount_in_words_ru(Decimal("120000"))`` -> ``"Сто двадцать тысяч рублей 00 копеек"``: the whole part in
words with the currency declined by the last digits (1 рубль, 2-4 рубля, 5-20 рублей, 11-14 always
рублей), the minor part as two digits with its own declension, the first letter capitalised. Amounts are
rounded half-up to kopecks first (0.995 -> 1.00). Negative amounts are rejected: a contract sum is never
negative. Supported up to 999 999 999 999 999.99 (триллионы).

Pure functions: no I/O, no locale, deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

Gender = Literal["m", "f", "n"]

MAX_NUMBER = 10**15 - 1

_UNITS = {
    "m": ("", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"),
    "f": ("", "одна", "две", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"),
    "n": ("", "одно", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"),
}
_TEENS = (
    "десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать",
    "пятнадцать", "шестнадцать", "семнадцать", "восемнадцать", "девятнадцать",
)  # fmt: skip
_TENS = ("", "", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят", "восемьдесят", "девяносто")
_HUNDREDS = ("", "сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот", "восемьсот", "девятьсот")

# (gender, one, few, many) of each power of a thousand
_SCALES_RU: tuple[tuple[Gender, str, str, str], ...] = (
    ("f", "тысяча", "тысячи", "тысяч"),
    ("m", "миллион", "миллиона", "миллионов"),
    ("m", "миллиард", "миллиарда", "миллиардов"),
    ("m", "триллион", "триллиона", "триллионов"),
)


def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """The Russian form for ``n``: 1, 21, 101 -> one; 2-4, 22-24 -> few; 0, 5-20, 11-14, 25-30 -> many."""
    n = abs(n)
    if 11 <= n % 100 <= 14:
        return many
    last = n % 10
    if last == 1:
        return one
    if 2 <= last <= 4:
        return few
    return many


def _check_int(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"an int is required, got {type(n).__name__}")
    if abs(n) > MAX_NUMBER:
        raise ValueError(f"number too large for words: {n} (max {MAX_NUMBER})")
    return n


def _triad_ru(n: int, gender: Gender) -> list[str]:
    words = [_HUNDREDS[n // 100]]
    rest = n % 100
    if 10 <= rest <= 19:
        words.append(_TEENS[rest - 10])
    else:
        words.append(_TENS[rest // 10])
        words.append(_UNITS[gender][rest % 10])
    return [w for w in words if w]


def number_to_words_ru(n: int, gender: Gender = "m") -> str:
    """``n`` in Russian words, lower case; ``gender`` agrees the last word: 1 -> один/одна/одно, 2 -> два/две.

    ``number_to_words_ru(21000)`` -> ``"двадцать одна тысяча"``; negative numbers get ``"минус"``.
    """
    n = _check_int(n)
    if gender not in _UNITS:
        raise ValueError(f"gender must be 'm', 'f' or 'n', got {gender!r}")
    if n == 0:
        return "ноль"
    if n < 0:
        return "минус " + number_to_words_ru(-n, gender)
    triads: list[int] = []
    while n:
        triads.append(n % 1000)
        n //= 1000
    words: list[str] = []
    for power in range(len(triads) - 1, -1, -1):
        t = triads[power]
        if t == 0:
            continue
        if power == 0:
            words.extend(_triad_ru(t, gender))
        else:
            g, one, few, many = _SCALES_RU[power - 1]
            words.extend(_triad_ru(t, g))
            words.append(plural_ru(t, one, few, many))
    return " ".join(words)


@dataclass(frozen=True)
class Currency:
    """How a currency is named in words (Russian forms one/few/many with the gender, English one/many)."""

    code: str
    major_ru: tuple[Gender, str, str, str]
    minor_ru: tuple[Gender, str, str, str]
    major_en: tuple[str, str]
    minor_en: tuple[str, str]


CURRENCIES: dict[str, Currency] = {
    "RUB": Currency(
        "RUB",
        ("m", "рубль", "рубля", "рублей"),
        ("f", "копейка", "копейки", "копеек"),
        ("ruble", "rubles"),
        ("kopeck", "kopecks"),
    ),
    "USD": Currency(
        "USD",
        ("m", "доллар США", "доллара США", "долларов США"),
        ("m", "цент", "цента", "центов"),
        ("US dollar", "US dollars"),
        ("cent", "cents"),
    ),
    "EUR": Currency(
        "EUR",
        ("m", "евро", "евро", "евро"),
        ("m", "евроцент", "евроцента", "евроцентов"),
        ("euro", "euros"),
        ("cent", "cents"),
    ),
    "KZT": Currency(
        "KZT",
        ("m", "тенге", "тенге", "тенге"),
        ("m", "тиын", "тиына", "тиынов"),
        ("tenge", "tenge"),
        ("tiyn", "tiyn"),
    ),
}

_CENT = Decimal("0.01")


def to_amount(amount: Decimal | int | str | float) -> Decimal:
    """A non-negative amount rounded half-up to two decimals; raises ``ValueError`` for anything else.

    Floats are taken by their shortest decimal form (``0.1`` -> ``Decimal("0.1")``).
    """
    if isinstance(amount, bool):
        raise TypeError("amount must be a number, not bool")
    try:
        if isinstance(amount, float):
            value = Decimal(repr(amount))
        elif isinstance(amount, Decimal | int):
            value = Decimal(amount)
        elif isinstance(amount, str):
            value = Decimal(amount.strip().replace(" ", "").replace("\u00a0", "").replace(",", "."))
        else:
            raise TypeError(f"amount must be Decimal, int or str, got {type(amount).__name__}")
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {amount!r}") from exc
    if not value.is_finite():
        raise ValueError(f"amount must be finite: {amount!r}")
    value = value.quantize(_CENT, rounding=ROUND_HALF_UP)
    if value < 0:
        raise ValueError(f"amount must not be negative: {amount}")
    if value > MAX_NUMBER:
        raise ValueError(f"amount too large for words: {amount} (max {MAX_NUMBER})")
    return value


def _currency(code: str) -> Currency:
    try:
        return CURRENCIES[code.upper()]
    except KeyError:
        raise ValueError(f"unsupported currency {code!r}; supported: {', '.join(CURRENCIES)}") from None


def _split(value: Decimal) -> tuple[int, int]:
    cents = int(value * 100)
    return cents // 100, cents % 100


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def amount_in_words_ru(
    amount: Decimal | int | str | float,
    currency: str = "RUB",
    *,
    minor_in_words: bool = False,
) -> str:
    """``"Сто двадцать тысяч рублей 00 копеек"``; with ``minor_in_words`` the kopecks are words too."""
    cur = _currency(currency)
    major, minor = _split(to_amount(amount))
    g, one, few, many = cur.major_ru
    mg, mone, mfew, mmany = cur.minor_ru
    minor_text = number_to_words_ru(minor, mg) if minor_in_words else f"{minor:02d}"
    text = (
        f"{number_to_words_ru(major, g)} {plural_ru(major, one, few, many)} "
        f"{minor_text} {plural_ru(minor, mone, mfew, mmany)}"
    )
    return _capitalize(text)


# --- English --------------------------------------------------------------------------------------------

_EN_ONES = (
    "", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_EN_SCALES = ("thousand", "million", "billion", "trillion")


def _triad_en(n: int) -> list[str]:
    words: list[str] = []
    if n >= 100:
        words += [_EN_ONES[n // 100], "hundred"]
    rest = n % 100
    if rest >= 20:
        words.append(_EN_TENS[rest // 10] + (f"-{_EN_ONES[rest % 10]}" if rest % 10 else ""))
    elif rest:
        words.append(_EN_ONES[rest])
    return words


def number_to_words_en(n: int) -> str:
    """``n`` in English words (short scale, no "and"): 120021 -> "one hundred twenty thousand twenty-one"."""
    n = _check_int(n)
    if n == 0:
        return "zero"
    if n < 0:
        return "minus " + number_to_words_en(-n)
    triads: list[int] = []
    while n:
        triads.append(n % 1000)
        n //= 1000
    words: list[str] = []
    for power in range(len(triads) - 1, -1, -1):
        t = triads[power]
        if t == 0:
            continue
        words += _triad_en(t)
        if power:
            words.append(_EN_SCALES[power - 1])
    return " ".join(words)


def amount_in_words_en(amount: Decimal | int | str | float, currency: str = "RUB") -> str:
    """``"One hundred twenty thousand rubles 00 kopecks"`` (same rounding and checks as Russian)."""
    cur = _currency(currency)
    major, minor = _split(to_amount(amount))
    major_word = cur.major_en[0] if major == 1 else cur.major_en[1]
    minor_word = cur.minor_en[0] if minor == 1 else cur.minor_en[1]
    return _capitalize(f"{number_to_words_en(major)} {major_word} {minor:02d} {minor_word}")


# --- figures and VAT ------------------------------------------------------------------------------------


def format_amount_ru(amount: Decimal | int | str | float, *, group_sep: str = " ") -> str:
    """``Decimal("120000")`` -> ``"120 000,00"`` (Russian style: groups of three, decimal comma)."""
    major, minor = _split(to_amount(amount))
    groups = f"{major:,}".replace(",", group_sep)
    return f"{groups},{minor:02d}"


def _rate(rate: Decimal | int | str) -> Decimal:
    if isinstance(rate, bool):
        raise TypeError("VAT rate must be a number")
    try:
        value = Decimal(str(rate).strip().rstrip("%").strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a VAT rate: {rate!r}") from exc
    if not value.is_finite() or value < 0 or value >= 100:
        raise ValueError(f"VAT rate must be 0..99 percent: {rate!r}")
    return value


def _rate_text(rate: Decimal) -> str:
    text = format(rate.normalize(), "f")
    return text.replace(".", ",")


def vat_amount(
    amount: Decimal | int | str | float, rate: Decimal | int | str, *, included: bool = True
) -> Decimal:
    """VAT of ``amount`` at ``rate`` percent, rounded half-up to kopecks.

    ``included=True``: the amount already contains VAT (``amount * rate / (100 + rate)``);
    ``included=False``: VAT is charged on top (``amount * rate / 100``).
    """
    value = to_amount(amount)
    r = _rate(rate)
    vat = value * r / (100 + r) if included else value * r / 100
    return vat.quantize(_CENT, rounding=ROUND_HALF_UP)


def vat_in_words_ru(
    amount: Decimal | int | str | float,
    rate: Decimal | int | str | None,
    *,
    included: bool = True,
    currency: str = "RUB",
) -> str:
    """The VAT line of a contract.

    - ``included``: ``"в т.ч. НДС 20 % — 20 000,00 (Двадцать тысяч рублей 00 копеек)"``;
    - on top: ``"кроме того НДС 20 % — ..."``;
    - ``rate=None``: ``"Без НДС"`` (the seller does not pay VAT).
    """
    if rate is None:
        return "Без НДС"
    r = _rate(rate)
    vat = vat_amount(amount, r, included=included)
    lead = "в т.ч." if included else "кроме того"
    return f"{lead} НДС {_rate_text(r)} % — {format_amount_ru(vat)} ({amount_in_words_ru(vat, currency)})"
