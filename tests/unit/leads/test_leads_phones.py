"""Phone and e-mail normalisation: a table of real-world spellings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b24app.leads.phones import normalize_email, normalize_phone, phone_variants, same_phone

SAME_NUMBER = [
    "8 (912) 345-67-89",
    "+7 912 345 67 89",
    "79123456789",
    "8-912-345-67-89",
    "9123456789",
    "+7 (912) 345-67-89",
    "+7(912)3456789",
    "8 912 345 6789",
    "8.912.345.67.89",
    "+7 912 345–67–89",  # en dashes from a word processor
    "+7\u00a0912\u00a0345\u00a067\u00a089",  # non-breaking spaces
    " 89123456789 ",
    "tel:+79123456789",
    "+8 912 345-67-89",  # a common slip for +7
    "8 (912) 345-67-89 доб. 123",
    "8 (912) 345-67-89 доб 123",
    "+7 912 345-67-89 ext. 5",
    "+7 912 345-67-89 x5",
    "+7 912 345-67-89 #12",
    "89123456789, 84951234567",  # a list keeps its first number
    "007 912 345 67 89",
    79123456789,
]


@pytest.mark.parametrize("raw", SAME_NUMBER)
def test_russian_spellings_are_one_number(raw):
    assert normalize_phone(raw) == "79123456789"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+7 (495) 123-45-67 доб. 321", "74951234567"),
        ("8 (812) 555-12-34", "78125551234"),
        ("8 800 555-35-35", "78005553535"),
        ("(343) 222-33-44", "73432223344"),
        ("+7 701 123 45 67", "77011234567"),  # Kazakhstan shares +7
        ("+375 29 123-45-67", "375291234567"),
        ("+49 30 1234567", "49301234567"),
        ("0049 30 1234567", "49301234567"),
        ("8 10 49 30 1234567", "49301234567"),  # Russian international prefix 810
        ("+1 (415) 555-2671", "14155552671"),
        ("+86 138 0013 8000", "8613800138000"),
        ("+84 95 123 4567", "84951234567"),  # Vietnam: +8 followed by 4 is not the slip
    ],
)
def test_other_forms(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        "-",
        "12345",
        "345-67-89",  # no area code
        "8 912 345 67",  # too short
        "8 912 345 67 89 00",  # too long
        "89123456789123456",
        "нет телефона",
        "+7 912 ABC 67 89",
        "8912345678q",
        "+7 123 456 78 90",  # no Russian area code starts with 1
        "+7 999 999 99 99",  # placeholder
        "0000000000",
        "+",
        "+12",
        "1234567890",  # 10 digits without a Russian first digit
        "7+9123456789",
        True,
    ],
)
def test_junk_is_none(raw):
    assert normalize_phone(raw) is None


def test_other_default_country():
    assert normalize_phone("029 123-45-67", default_country="375") == "375291234567"
    assert normalize_phone("+7 912 345 67 89", default_country="375") == "79123456789"


def test_same_phone():
    assert same_phone("8 (912) 345-67-89", "+7 912 345 67 89")
    assert not same_phone("8 (912) 345-67-89", "8 (912) 345-67-80")
    assert not same_phone(None, None)


def test_phone_variants():
    v = phone_variants("8 (912) 345-67-89")
    assert v[:4] == ["+79123456789", "79123456789", "89123456789", "9123456789"]
    assert "+7 (912) 345-67-89" in v and "8-912-345-67-89" in v
    assert len(v) <= 20 and len(set(v)) == len(v)
    assert all(normalize_phone(x) == "79123456789" for x in v)
    assert phone_variants("+49 30 1234567") == ["+49301234567", "49301234567", "0049301234567", "81049301234567"]
    # a bare foreign number without "+" cannot be told from a national one: listed for search only
    assert [normalize_phone(x) for x in phone_variants("+49 30 1234567")] == [
        "49301234567", None, "49301234567", "49301234567"
    ]
    assert phone_variants("junk") == []
    assert len(phone_variants("89123456789", limit=3)) == 3


@settings(max_examples=300, deadline=None)
@given(st.sampled_from("3489"), st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_variants_all_normalise_back(first, rest):
    national = first + rest
    n = normalize_phone("8" + national)
    if len(set(national)) == 1:
        assert n is None
        return
    assert n == "7" + national
    for v in phone_variants(n):
        assert normalize_phone(v) == n


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_never_crashes_and_output_is_digits(raw):
    n = normalize_phone(raw)
    assert n is None or (n.isdigit() and 7 <= len(n) <= 15)


# --- e-mail -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ivan.Petrov@MetalProm.ru", "ivan.petrov@metalprom.ru"),
        ("  ivan@metalprom.ru  ", "ivan@metalprom.ru"),
        ("mailto:Ivan@MetalProm.ru", "ivan@metalprom.ru"),
        ("MAILTO:ivan@metalprom.ru?subject=Заявка", "ivan@metalprom.ru"),
        ("Иван Петров <Ivan@MetalProm.ru>", "ivan@metalprom.ru"),
        ('"ivan@metalprom.ru"', "ivan@metalprom.ru"),
        ("ivan@metalprom.ru.", "ivan@metalprom.ru"),
        ("i.v.a.n+crm@gmail.com", "i.v.a.n+crm@gmail.com"),  # kept as typed by default
        ("директор@почта.рф", "директор@почта.рф"),
        ("sales@xn--80a1acny.xn--p1ai", "sales@xn--80a1acny.xn--p1ai"),
        ("o'brien@example.co.uk", "o'brien@example.co.uk"),
    ],
)
def test_normalize_email(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "ivan",
        "ivan@",
        "@metalprom.ru",
        "ivan@metalprom",
        "ivan@@metalprom.ru",
        "iv an@metalprom.ru",
        ".ivan@metalprom.ru",
        "ivan.@metalprom.ru",
        "iv..an@metalprom.ru",
        "ivan@-metalprom.ru",
        "ivan@metalprom.r",
        "ivan@metal_prom.ru",
        "ivan@metalprom..ru",
        "a" * 65 + "@x.ru",
        12345,
    ],
)
def test_bad_emails(raw):
    assert normalize_email(raw) is None


def test_canonical_email():
    assert normalize_email("I.V.A.N+crm@GoogleMail.com", canonical=True) == "ivan@gmail.com"
    assert normalize_email("ivan.petrov+leads@ya.ru", canonical=True) == "ivan-petrov@yandex.ru"
    assert normalize_email("ivan-petrov@yandex.com", canonical=True) == "ivan-petrov@yandex.ru"
    assert normalize_email("ivan.petrov+x@mail.ru", canonical=True) == "ivan.petrov+x@mail.ru"
    assert normalize_email("+tag@gmail.com", canonical=True) is None
