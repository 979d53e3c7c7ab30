"""Requisite check digits: published real-world values, independent recomputation and properties."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b24sandbox.seed import checksums as cs

from .independent import corr_ok, inn_ok, ogrn_ok, ogrnip_ok, settlement_ok

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


def body(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


# --- published values of real organisations and banks -----------------------------------------------


@pytest.mark.parametrize("inn", ["7707083893", "7728168971", "7702070139", "500100732259"])
def test_real_inns_are_valid(inn: str) -> None:
    assert cs.is_valid_inn(inn)
    assert inn_ok(inn)


@pytest.mark.parametrize("inn", ["7707083890", "7707083894", "500100732250", "50010073225", "77070838931",
                                 "77O7083893", "", "７７０７０８３８９３"])
def test_wrong_inns_are_rejected(inn: str) -> None:
    assert not cs.is_valid_inn(inn)


def test_real_ogrn_ogrnip_kpp() -> None:
    assert cs.is_valid_ogrn("1027700132195")  # ПАО Сбербанк
    assert not cs.is_valid_ogrn("1027700132196")
    assert not cs.is_valid_ogrn("3027700132195")
    assert cs.is_valid_ogrnip("304500116000157")
    assert not cs.is_valid_ogrnip("304500116000158")
    assert cs.is_valid_kpp("773601001")
    assert cs.is_valid_kpp("7736AB001")
    assert not cs.is_valid_kpp("7736ab001")
    assert not cs.is_valid_kpp("77360100")


@pytest.mark.parametrize(
    ("bik", "corr"),
    [
        ("044525225", "30101810400000000225"),  # ПАО Сбербанк
        ("044525593", "30101810200000000593"),  # АО «Альфа-Банк»
        ("044525187", "30101810700000000187"),  # Банк ВТБ (ПАО)
        ("044525974", "30101810145250000974"),  # АО «ТБанк»
    ],
)
def test_real_correspondent_accounts(bik: str, corr: str) -> None:
    assert cs.is_valid_correspondent_account(corr, bik)
    assert corr_ok(corr, bik)
    middle = corr[9:17]
    assert cs.correspondent_account(bik, middle) == corr


def test_bik_shape() -> None:
    assert cs.is_valid_bik("044525225")
    for bad in ("144525225", "04452522", "0445252250", "04452522x", None, 44525225):
        assert not cs.is_valid_bik(bad)


# --- properties ------------------------------------------------------------------------------------


@given(body(9))
def test_inn10_generated_is_valid_and_check_digit_matters(b: str) -> None:
    inn = b + str(cs.inn10_check_digit(b))
    assert cs.is_valid_inn10(inn) and inn_ok(inn)
    for d in "0123456789":
        if d != inn[9]:
            assert not cs.is_valid_inn10(inn[:9] + d)


@given(body(10))
def test_inn12_generated_is_valid_and_both_check_digits_matter(b: str) -> None:
    inn = b + cs.inn12_check_digits(b)
    assert cs.is_valid_inn12(inn) and inn_ok(inn)
    for pos in (10, 11):
        for d in "0123456789":
            if d != inn[pos]:
                assert not cs.is_valid_inn12(inn[:pos] + d + inn[pos + 1 :])


@given(st.integers(2002, 2030), body(2), body(2), body(5))
def test_ogrn_generated_is_valid(year: int, region: str, office: str, serial: str) -> None:
    ogrn = cs.make_ogrn(year, region, office, serial)
    assert cs.is_valid_ogrn(ogrn) and ogrn_ok(ogrn)
    wrong = ogrn[:12] + str((int(ogrn[12]) + 1) % 10)
    assert not cs.is_valid_ogrn(wrong)


@given(st.integers(2004, 2030), body(2), body(9))
def test_ogrnip_generated_is_valid(year: int, region: str, serial: str) -> None:
    ogrnip = cs.make_ogrnip(year, region, serial)
    assert cs.is_valid_ogrnip(ogrnip) and ogrnip_ok(ogrnip)
    wrong = ogrnip[:14] + str((int(ogrnip[14]) + 3) % 10)
    assert not cs.is_valid_ogrnip(wrong)


@given(body(7), body(4), body(7), st.sampled_from(["40702", "40802", "40817"]))
def test_settlement_account_generated_is_valid(bik7: str, branch: str, serial: str, balance: str) -> None:
    bik = "04" + bik7
    acc = cs.settlement_account(bik, balance, branch, serial)
    assert len(acc) == 20 and acc.startswith(balance + "810")
    assert cs.is_valid_settlement_account(acc, bik) and settlement_ok(acc, bik)


@given(body(7), body(20), st.integers(0, 19), st.integers(1, 9))
def test_any_single_digit_error_in_an_account_is_detected(bik7: str, raw: str, pos: int, delta: int) -> None:
    """Weights 7, 1, 3 are coprime with 10, so changing any one digit breaks the key."""
    bik = "04" + bik7
    acc = cs.settlement_account(bik, raw[:5], raw[9:13], raw[13:20], raw[5:8])
    assert cs.is_valid_settlement_account(acc, bik)
    broken = acc[:pos] + str((int(acc[pos]) + delta) % 10) + acc[pos + 1 :]
    assert not cs.is_valid_settlement_account(broken, bik)


@given(body(7), body(8))
def test_correspondent_account_generated_is_valid(bik7: str, middle: str) -> None:
    bik = "04" + bik7
    corr = cs.correspondent_account(bik, middle)
    assert corr.startswith("30101810") and corr.endswith(bik[-3:])
    assert cs.is_valid_correspondent_account(corr, bik) and corr_ok(corr, bik)


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=25), st.none(), st.integers(), st.binary(max_size=5)))
def test_validators_never_raise(value: object) -> None:
    for fn in (cs.is_valid_inn, cs.is_valid_inn10, cs.is_valid_inn12, cs.is_valid_kpp, cs.is_valid_ogrn,
               cs.is_valid_ogrnip, cs.is_valid_bik):
        assert fn(value) in (True, False)
    assert cs.is_valid_settlement_account(value, "044525225") in (True, False)
    assert cs.is_valid_correspondent_account(value, value) in (True, False)


@given(st.integers(0, 2**32))
def test_random_generators_agree_with_the_independent_rules(seed: int) -> None:
    rng = random.Random(seed)
    assert inn_ok(cs.random_inn10(rng, "66"))
    assert inn_ok(cs.random_inn12(rng, "02"))
    assert ogrn_ok(cs.random_ogrn(rng, "74"))
    assert ogrnip_ok(cs.random_ogrnip(rng, "45"))
    assert settlement_ok(cs.random_settlement_account(rng, "047501602"), "047501602")


def test_generator_inputs_are_checked() -> None:
    with pytest.raises(ValueError):
        cs.inn10_check_digit("12345678")
    with pytest.raises(ValueError):
        cs.inn12_check_digits("12345678901")
    with pytest.raises(ValueError):
        cs.ogrn_check_digit("1" * 13)
    with pytest.raises(ValueError):
        cs.correspondent_account("123")
    with pytest.raises(ValueError):
        cs.make_kpp("77", "01", 1)
