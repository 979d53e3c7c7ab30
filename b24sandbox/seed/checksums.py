"""Check digits of Russian requisites: ИНН, КПП, ОГРН/ОГРНИП, БИК and bank account keys.

Validators are pure functions (``str -> bool``) that never raise on bad input; generators build a
valid number from a random source (``random.Random``) or complete a body with its check digits.
Anything that validates requisites in the sandbox (the emulated 1C bases, the portal's requisite
methods, the tests) uses these same rules.

Algorithms (all public, summarised in each docstring):

* ИНН — structure and check digits as assigned by the ФНС (order of 29.06.2012 № ММВ-7-6/435@
  "Порядок и условия присвоения, применения, а также изменения ИНН"): weighted sums mod 11, then mod 10.
* КПП — nine characters ``NNNN PP XXX`` (same order of the ФНС): tax office code, reason code
  (two digits or two capital Latin letters A–Z since 2013), serial number; no check digit.
* ОГРН — Правила ведения ЕГРЮЛ (Постановление Правительства РФ от 19.06.2002 № 438): the 13th digit is
  the last digit of (first 12 digits as a number) mod 11.
* ОГРНИП — Правила ведения ЕГРИП (Постановление Правительства РФ от 16.10.2003 № 630): the 15th digit is
  the last digit of (first 14 digits as a number) mod 13.
* БИК — nine digits ``04 RR DD NNN`` (country code 04, region by ОКАТО, division, bank's own number);
  no check digit.
* Account control key — Порядок расчета контрольного ключа в номере лицевого счета (Банк России,
  08.09.1997 № 515): the 23 digits "3 digits of the bank + 20 digits of the account" weighted 7,1,3
  repeating must sum to a multiple of 10. For a settlement account held in a credit organisation the 3
  digits are the 7–9th digits of the БИК; for a correspondent account held at the Bank of Russia's
  settlement centre they are "0" + the 5–6th digits of the БИК. The key is the 9th digit of the account.
"""

from __future__ import annotations

import random
import re

__all__ = [
    "correspondent_account",
    "inn10_check_digit",
    "inn12_check_digits",
    "is_valid_bik",
    "is_valid_correspondent_account",
    "is_valid_inn",
    "is_valid_inn10",
    "is_valid_inn12",
    "is_valid_kpp",
    "is_valid_ogrn",
    "is_valid_ogrnip",
    "is_valid_settlement_account",
    "make_inn10",
    "make_inn12",
    "make_kpp",
    "make_ogrn",
    "make_ogrnip",
    "ogrn_check_digit",
    "ogrnip_check_digit",
    "random_inn10",
    "random_inn12",
    "random_ogrn",
    "random_ogrnip",
    "random_settlement_account",
    "settlement_account",
]

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_ACCOUNT_WEIGHTS = (7, 1, 3) * 8  # 24 >= 23 positions

# ASCII digits only: ``\d`` would also accept other scripts' digits (e.g. full-width ones)
_DIGITS_RE = re.compile(r"[0-9]+")
_KPP_RE = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")
_BIK_RE = re.compile(r"04[0-9]{7}")


def _digits(value: object, length: int) -> bool:
    return isinstance(value, str) and len(value) == length and _DIGITS_RE.fullmatch(value) is not None


def _weighted_check(body: str, weights: tuple[int, ...]) -> int:
    return sum(int(c) * w for c, w in zip(body, weights, strict=False)) % 11 % 10


# --- ИНН -----------------------------------------------------------------------------------------


def inn10_check_digit(body9: str) -> int:
    """Check digit of a legal entity's ИНН from its first 9 digits.

    Sum of the digits weighted (2, 4, 10, 3, 5, 9, 4, 6, 8), remainder mod 11, then mod 10.
    """
    if not _digits(body9, 9):
        raise ValueError(f"ИНН body must be 9 digits, got {body9!r}")
    return _weighted_check(body9, _INN10_WEIGHTS)


def inn12_check_digits(body10: str) -> str:
    """The two check digits of a person's (ИП) ИНН from its first 10 digits.

    11th digit: first 10 digits weighted (7, 2, 4, 10, 3, 5, 9, 4, 6, 8), mod 11, mod 10.
    12th digit: first 11 digits weighted (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8), mod 11, mod 10.
    """
    if not _digits(body10, 10):
        raise ValueError(f"ИНН body must be 10 digits, got {body10!r}")
    d11 = _weighted_check(body10, _INN11_WEIGHTS)
    d12 = _weighted_check(body10 + str(d11), _INN12_WEIGHTS)
    return f"{d11}{d12}"


def is_valid_inn10(value: object) -> bool:
    """True for a 10-digit legal entity ИНН whose 10th digit matches :func:`inn10_check_digit`."""
    return _digits(value, 10) and inn10_check_digit(value[:9]) == int(value[9])  # type: ignore[index]


def is_valid_inn12(value: object) -> bool:
    """True for a 12-digit ИНН (person / ИП) whose last two digits match :func:`inn12_check_digits`."""
    return _digits(value, 12) and inn12_check_digits(value[:10]) == value[10:]  # type: ignore[index]


def is_valid_inn(value: object) -> bool:
    """True for a valid 10-digit (organisation) or 12-digit (person, ИП) ИНН."""
    return is_valid_inn10(value) or is_valid_inn12(value)


def make_inn10(tax_office: str, serial5: str) -> str:
    """ИНН of an organisation: 4-digit tax office code (region + office) + 5-digit record + check."""
    body = f"{tax_office}{serial5}"
    return body + str(inn10_check_digit(body))


def make_inn12(tax_office: str, serial6: str) -> str:
    """ИНН of a person: 4-digit tax office code + 6-digit record + two check digits."""
    body = f"{tax_office}{serial6}"
    return body + inn12_check_digits(body)


def random_inn10(rng: random.Random, region: str = "74") -> str:
    """A valid organisation ИНН registered in ``region`` (2 digits) at a random tax office."""
    office = f"{region}{rng.randrange(1, 60):02d}"
    return make_inn10(office, f"{rng.randrange(100000):05d}")


def random_inn12(rng: random.Random, region: str = "74") -> str:
    """A valid person's ИНН registered in ``region`` at a random tax office."""
    office = f"{region}{rng.randrange(1, 60):02d}"
    return make_inn12(office, f"{rng.randrange(1000000):06d}")


# --- КПП -----------------------------------------------------------------------------------------


def is_valid_kpp(value: object) -> bool:
    """True for a КПП of the form NNNN PP XXX: 4 digits (tax office), 2 digits or capital Latin
    letters (reason: 01 = organisation's location, 02–05 separate divisions, 43 branch, 50 major
    taxpayer ...), 3 digits (serial). A КПП has no check digit, so only the shape is checked."""
    return isinstance(value, str) and _KPP_RE.fullmatch(value) is not None


def make_kpp(tax_office: str, reason: str = "01", serial: int = 1) -> str:
    """КПП for a registration at ``tax_office`` (4 digits) with ``reason`` code and ``serial``."""
    kpp = f"{tax_office}{reason}{serial:03d}"
    if not is_valid_kpp(kpp):
        raise ValueError(f"bad КПП parts: {tax_office!r}, {reason!r}, {serial!r}")
    return kpp


# --- ОГРН / ОГРНИП ---------------------------------------------------------------------------------


def ogrn_check_digit(body12: str) -> int:
    """Check digit of an ОГРН: (first 12 digits as an integer) mod 11, its last digit (10 -> 0)."""
    if not _digits(body12, 12):
        raise ValueError(f"ОГРН body must be 12 digits, got {body12!r}")
    return int(body12) % 11 % 10


def ogrnip_check_digit(body14: str) -> int:
    """Check digit of an ОГРНИП: (first 14 digits as an integer) mod 13, its last digit."""
    if not _digits(body14, 14):
        raise ValueError(f"ОГРНИП body must be 14 digits, got {body14!r}")
    return int(body14) % 13 % 10


def is_valid_ogrn(value: object) -> bool:
    """True for a 13-digit ОГРН starting with 1 or 5 whose last digit matches :func:`ogrn_check_digit`."""
    return (
        _digits(value, 13)
        and value[0] in "15"  # type: ignore[index]
        and ogrn_check_digit(value[:12]) == int(value[12])  # type: ignore[index]
    )


def is_valid_ogrnip(value: object) -> bool:
    """True for a 15-digit ОГРНИП starting with 3 whose last digit matches :func:`ogrnip_check_digit`."""
    return (
        _digits(value, 15)
        and value[0] == "3"  # type: ignore[index]
        and ogrnip_check_digit(value[:14]) == int(value[14])  # type: ignore[index]
    )


def make_ogrn(year: int, region: str, office: str, serial5: str, sign: str = "1") -> str:
    """ОГРН: sign (1 or 5) + 2 digits of the year + region (2) + tax office (2) + record (5) + check."""
    body = f"{sign}{year % 100:02d}{region}{office}{serial5}"
    return body + str(ogrn_check_digit(body))


def make_ogrnip(year: int, region: str, serial9: str) -> str:
    """ОГРНИП: 3 + 2 digits of the year + region (2) + record (9) + check."""
    body = f"3{year % 100:02d}{region}{serial9}"
    return body + str(ogrnip_check_digit(body))


def random_ogrn(rng: random.Random, region: str = "74", year: int | None = None) -> str:
    """A valid ОГРН registered in ``region`` (a random year 2002–2023 unless given)."""
    y = year if year is not None else rng.randrange(2002, 2024)
    return make_ogrn(y, region, f"{rng.randrange(1, 60):02d}", f"{rng.randrange(100000):05d}")


def random_ogrnip(rng: random.Random, region: str = "74", year: int | None = None) -> str:
    """A valid ОГРНИП registered in ``region`` (a random year 2004–2023 unless given)."""
    y = year if year is not None else rng.randrange(2004, 2024)
    return make_ogrnip(y, region, f"{rng.randrange(10**9):09d}")


# --- БИК and accounts ----------------------------------------------------------------------------


def is_valid_bik(value: object) -> bool:
    """True for a БИК of a Russian bank: 9 digits starting with the country code 04."""
    return isinstance(value, str) and _BIK_RE.fullmatch(value) is not None


def _account_sum(prefix3: str, account: str) -> int:
    return sum(int(c) * w for c, w in zip(prefix3 + account, _ACCOUNT_WEIGHTS, strict=False))


def _with_key(prefix3: str, account: str) -> str:
    """``account`` (20 digits, 9th digit ignored) with its 9th digit set to the control key."""
    zeroed = account[:8] + "0" + account[9:]
    key = _account_sum(prefix3, zeroed) % 10 * 3 % 10
    return account[:8] + str(key) + account[9:]


def _is_valid_account(prefix3: str, account: object) -> bool:
    return _digits(account, 20) and _account_sum(prefix3, account) % 10 == 0  # type: ignore[arg-type]


def is_valid_settlement_account(account: object, bik: object) -> bool:
    """True when a 20-digit account held in the bank with this БИК carries a correct control key:
    the digits "БИК[6:9] + account" weighted 7,1,3,7,1,3,... sum to a multiple of 10."""
    return is_valid_bik(bik) and _is_valid_account(bik[6:9], account)  # type: ignore[index]


def is_valid_correspondent_account(account: object, bik: object) -> bool:
    """True when a bank's correspondent account (30101...) carries a correct control key for its
    БИК: the digits "0 + БИК[4:6] + account" weighted 7,1,3,... sum to a multiple of 10."""
    return (
        is_valid_bik(bik)
        and isinstance(account, str)
        and account.startswith("30101")
        and _is_valid_account("0" + bik[4:6], account)  # type: ignore[index]
    )


def correspondent_account(bik: str, middle8: str = "00000000") -> str:
    """The bank's correspondent account at the Bank of Russia: 30101 810 K <8 digits> <БИК[6:9]>."""
    if not is_valid_bik(bik):
        raise ValueError(f"bad БИК {bik!r}")
    return _with_key("0" + bik[4:6], f"301018100{middle8}{bik[6:9]}")


def settlement_account(bik: str, balance: str, branch4: str, serial7: str, currency: str = "810") -> str:
    """A client's account in the bank with ``bik``: balance account (5 digits, e.g. 40702 for a
    company, 40802 for an ИП) + currency (810 = rouble) + key + branch (4) + serial (7)."""
    if not is_valid_bik(bik):
        raise ValueError(f"bad БИК {bik!r}")
    return _with_key(bik[6:9], f"{balance}{currency}0{branch4}{serial7}")


def random_settlement_account(rng: random.Random, bik: str, balance: str = "40702") -> str:
    """A valid random rouble account of the given balance account in the bank with ``bik``."""
    return settlement_account(bik, balance, f"{rng.randrange(10000):04d}", f"{rng.randrange(10**7):07d}")
