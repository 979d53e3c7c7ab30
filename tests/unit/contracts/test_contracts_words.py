"""Numbers and amounts in words: spot checks, declension rules and a round trip through a word parser."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b24app.contracts.words import (
    amount_in_words_en,
    amount_in_words_ru,
    format_amount_ru,
    number_to_words_en,
    number_to_words_ru,
    plural_ru,
    to_amount,
    vat_amount,
    vat_in_words_ru,
)


@pytest.mark.parametrize(
    ("n", "gender", "words"),
    [
        (0, "m", "ноль"),
        (1, "m", "один"),
        (1, "f", "одна"),
        (1, "n", "одно"),
        (2, "f", "две"),
        (2, "n", "два"),
        (10, "m", "десять"),
        (11, "m", "одиннадцать"),
        (19, "m", "девятнадцать"),
        (20, "m", "двадцать"),
        (21, "f", "двадцать одна"),
        (40, "m", "сорок"),
        (99, "m", "девяносто девять"),
        (100, "m", "сто"),
        (101, "m", "сто один"),
        (110, "m", "сто десять"),
        (200, "m", "двести"),
        (999, "m", "девятьсот девяносто девять"),
        (1000, "m", "одна тысяча"),
        (1001, "m", "одна тысяча один"),
        (2000, "m", "две тысячи"),
        (4000, "m", "четыре тысячи"),
        (5000, "m", "пять тысяч"),
        (11000, "m", "одиннадцать тысяч"),
        (12000, "m", "двенадцать тысяч"),
        (21000, "m", "двадцать одна тысяча"),
        (22000, "m", "двадцать две тысячи"),
        (111000, "m", "сто одиннадцать тысяч"),
        (120000, "m", "сто двадцать тысяч"),
        (1_000_000, "m", "один миллион"),
        (2_000_000, "m", "два миллиона"),
        (5_000_000, "m", "пять миллионов"),
        (21_000_000, "m", "двадцать один миллион"),
        (1_000_001, "f", "один миллион одна"),
        (1_002_003, "m", "один миллион две тысячи три"),
        (1_000_000_000, "m", "один миллиард"),
        (3_000_000_000, "m", "три миллиарда"),
        (1_000_000_000_000, "m", "один триллион"),
        (14_000_000_000_000, "m", "четырнадцать триллионов"),
        (-5, "m", "минус пять"),
    ],
)
def test_number_to_words_ru(n, gender, words):
    assert number_to_words_ru(n, gender) == words


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("120000"), "Сто двадцать тысяч рублей 00 копеек"),
        (Decimal("0"), "Ноль рублей 00 копеек"),
        (Decimal("1"), "Один рубль 00 копеек"),
        (Decimal("2.01"), "Два рубля 01 копейка"),
        (Decimal("5.02"), "Пять рублей 02 копейки"),
        (Decimal("11.11"), "Одиннадцать рублей 11 копеек"),
        (Decimal("21.21"), "Двадцать один рубль 21 копейка"),
        (Decimal("112.14"), "Сто двенадцать рублей 14 копеек"),
        (Decimal("1000"), "Одна тысяча рублей 00 копеек"),
        (Decimal("2000"), "Две тысячи рублей 00 копеек"),
        (Decimal("1234567.89"), "Один миллион двести тридцать четыре тысячи пятьсот шестьдесят семь рублей 89 копеек"),
        (Decimal("1000000000000"), "Один триллион рублей 00 копеек"),
        ("150 129,50", "Сто пятьдесят тысяч сто двадцать девять рублей 50 копеек"),
        (7, "Семь рублей 00 копеек"),
    ],
)
def test_amount_in_words_ru(amount, text):
    assert amount_in_words_ru(amount) == text


def test_rounding_half_up_to_kopecks():
    assert amount_in_words_ru(Decimal("0.005")) == "Ноль рублей 01 копейка"
    assert amount_in_words_ru(Decimal("0.004")) == "Ноль рублей 00 копеек"
    assert amount_in_words_ru(Decimal("1.125")) == "Один рубль 13 копеек"  # not banker's rounding
    assert amount_in_words_ru(Decimal("0.995")) == "Один рубль 00 копеек"
    assert amount_in_words_ru(Decimal("-0.001")) == "Ноль рублей 00 копеек"  # rounds to zero, not negative
    assert to_amount(0.1) == Decimal("0.10")


def test_negative_and_junk_are_rejected():
    with pytest.raises(ValueError, match="negative"):
        amount_in_words_ru(Decimal("-1"))
    with pytest.raises(ValueError):
        amount_in_words_ru("abc")
    with pytest.raises(ValueError):
        amount_in_words_ru(Decimal("NaN"))
    with pytest.raises(ValueError, match="too large"):
        amount_in_words_ru(Decimal(10**15))
    with pytest.raises(TypeError):
        amount_in_words_ru(True)
    with pytest.raises(ValueError, match="unsupported currency"):
        amount_in_words_ru(1, "XYZ")
    with pytest.raises(ValueError):
        number_to_words_ru(1, "x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        number_to_words_ru(1.5)  # type: ignore[arg-type]


def test_other_currencies_and_minor_in_words():
    assert amount_in_words_ru(Decimal("21.01"), "USD") == "Двадцать один доллар США 01 цент"
    assert amount_in_words_ru(Decimal("3"), "EUR") == "Три евро 00 евроцентов"
    assert amount_in_words_ru(Decimal("2.02"), "KZT") == "Два тенге 02 тиына"
    assert amount_in_words_ru(Decimal("1.22"), minor_in_words=True) == "Один рубль двадцать две копейки"


def test_english():
    assert amount_in_words_en(Decimal("120000")) == "One hundred twenty thousand rubles 00 kopecks"
    assert amount_in_words_en(Decimal("1.01")) == "One ruble 01 kopeck"
    assert amount_in_words_en(Decimal("0")) == "Zero rubles 00 kopecks"
    assert amount_in_words_en(Decimal("21.5"), "USD") == "Twenty-one US dollars 50 cents"
    assert number_to_words_en(1_002_003_004) == "one billion two million three thousand four"
    assert number_to_words_en(115) == "one hundred fifteen"
    with pytest.raises(ValueError):
        amount_in_words_en(-3)


def test_vat():
    assert vat_amount(Decimal("120000"), 20) == Decimal("20000.00")
    assert vat_amount(Decimal("100"), 20) == Decimal("16.67")
    assert vat_amount(Decimal("100"), 22, included=False) == Decimal("22.00")
    assert vat_in_words_ru(Decimal("120000"), 20) == "в т.ч. НДС 20 % — 20 000,00 (Двадцать тысяч рублей 00 копеек)"
    assert vat_in_words_ru(Decimal("1000"), "10%", included=False) == (
        "кроме того НДС 10 % — 100,00 (Сто рублей 00 копеек)"
    )
    assert vat_in_words_ru(Decimal("1000"), None) == "Без НДС"
    assert vat_in_words_ru(Decimal("1050"), Decimal("5.0")).startswith("в т.ч. НДС 5 % — 50,00 ")
    with pytest.raises(ValueError):
        vat_amount(1, 120)


def test_format_amount_ru():
    assert format_amount_ru(Decimal("120000")) == "120 000,00"
    assert format_amount_ru("1234567.891") == "1 234 567,89"
    assert format_amount_ru(5, group_sep="\u00a0") == "5,00"
    assert format_amount_ru(1000, group_sep="\u00a0") == "1\u00a0000,00"


# --- properties -------------------------------------------------------------------------------------

_VALUES = {
    "ноль": 0, "один": 1, "одна": 1, "одно": 1, "два": 2, "две": 2, "три": 3, "четыре": 4, "пять": 5,
    "шесть": 6, "семь": 7, "восемь": 8, "девять": 9, "десять": 10, "одиннадцать": 11, "двенадцать": 12,
    "тринадцать": 13, "четырнадцать": 14, "пятнадцать": 15, "шестнадцать": 16, "семнадцать": 17,
    "восемнадцать": 18, "девятнадцать": 19, "двадцать": 20, "тридцать": 30, "сорок": 40, "пятьдесят": 50,
    "шестьдесят": 60, "семьдесят": 70, "восемьдесят": 80, "девяносто": 90, "сто": 100, "двести": 200,
    "триста": 300, "четыреста": 400, "пятьсот": 500, "шестьсот": 600, "семьсот": 700, "восемьсот": 800,
    "девятьсот": 900,
}  # fmt: skip
_SCALES = {"тысяч": 10**3, "миллион": 10**6, "миллиард": 10**9, "триллион": 10**12}


def _parse_ru(text: str) -> int:
    """An independent reader of Russian number words (the inverse of number_to_words_ru)."""
    total, group = 0, 0
    for word in text.split():
        if word in _VALUES:
            group += _VALUES[word]
            continue
        stem = next(s for s in _SCALES if word.startswith(s))
        total += group * _SCALES[stem]
        group = 0
    return total + group


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 10**12))
def test_words_round_trip(n):
    assert _parse_ru(number_to_words_ru(n)) == n


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 10**12), st.integers(0, 99))
def test_declension_rules(rubles, kopecks):
    text = amount_in_words_ru(Decimal(rubles) + Decimal(kopecks) / 100)
    words = text.split()
    assert words[-1] == plural_ru(kopecks, "копейка", "копейки", "копеек")
    assert words[-2] == f"{kopecks:02d}"
    rub = words[-3]
    if 11 <= rubles % 100 <= 14:
        assert rub == "рублей"
    elif rubles % 10 == 1:
        assert rub == "рубль"
    elif 2 <= rubles % 10 <= 4:
        assert rub == "рубля"
    else:
        assert rub == "рублей"
    assert text[0].isupper() and text[1:] == text[1:].lower()


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 999), st.integers(0, 999))
def test_thousands_are_feminine(thousands, rest):
    words = number_to_words_ru(thousands * 1000 + rest)
    last = thousands % 10
    teen = 11 <= thousands % 100 <= 14
    if last == 1 and not teen:
        assert "одна тысяча" in words
    elif last == 2 and not teen:
        assert "две тысячи" in words
    elif 3 <= last <= 4 and not teen:
        assert "тысячи" in words.split()
    else:
        assert "тысяч" in words.split()
    assert "один тысяч" not in words and "два тысяч" not in words
