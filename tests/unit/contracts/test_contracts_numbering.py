"""Contract numbering formats: validation with positions, rendering, period keys at boundaries, read-back."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b24app.contracts.numbering import (
    NumberFormatError,
    Text,
    Token,
    format_warnings,
    parse_format,
    parse_number,
    period_key,
    preview,
    render,
)

MSK = ZoneInfo("Europe/Moscow")
UTC = dt.UTC
AT = dt.datetime(2026, 3, 5, 12, 0, tzinfo=MSK)


def test_parse_parts():
    nf = parse_format("Д-{YY}/{SEQ:4}-{COMPANY}")
    assert nf.parts == (
        Text("Д-", 0),
        Token("YY", 2),
        Text("/", 6),
        Token("SEQ", 7, 4),
        Text("-", 14),
        Token("COMPANY", 15),
    )
    assert nf.seq_width == 4
    assert nf.tokens == {"YY", "SEQ", "COMPANY"}
    assert parse_format(nf) is nf


@pytest.mark.parametrize(
    ("fmt", "code", "position"),
    [
        ("", "empty", None),
        ("   ", "empty", None),
        ("Д-{YY}", "missing_seq", None),
        ("{SEQ}-{SEQ:3}", "duplicate_seq", 6),
        ("Д-{SEQ", "unclosed_brace", 2),
        ("Д-{YY/{SEQ}", "unclosed_brace", 2),
        ("Д-}{SEQ}", "unmatched_brace", 2),
        ("{SEQ}}", "unmatched_brace", 5),
        ("{seq}", "unknown_token", 0),
        ("Д-{NUMBER}", "unknown_token", 2),
        ("{ SEQ }", "unknown_token", 0),
        ("{SEQ:0}", "bad_width", 0),
        ("{SEQ:13}", "bad_width", 0),
        ("{SEQ:}", "bad_width", 0),
        ("{SEQ:x}", "bad_width", 0),
        ("{YYYY:2}{SEQ}", "unexpected_argument", 0),
        ("Д\n{SEQ}", "bad_char", 1),
        ("x" * 201 + "{SEQ}", "too_long", None),
    ],
)
def test_format_errors_have_code_and_position(fmt, code, position):
    with pytest.raises(NumberFormatError) as e:
        parse_format(fmt)
    assert e.value.code == code
    assert e.value.position == position
    assert e.value.message and e.value.message_en
    if position is not None:
        assert f"символ {position + 1}" in e.value.message
    assert e.value.to_dict()["code"] == code


def test_unknown_token_suggests_upper_case():
    with pytest.raises(NumberFormatError) as e:
        parse_format("{seq:4}")
    assert "{SEQ}" in e.value.message


def test_render_all_tokens():
    fmt = "{PREFIX}-{YYYY}{MM}{DD}-{YY}/{SEQ:5}-{COMPANY}-{DEAL_ID}-{TYPE}"
    text = render(fmt, 42, AT, "Europe/Moscow", prefix="ДП", company="МП", deal_id=1017, type_code="prepayment")
    assert text == "ДП-20260305-26/00042-МП-1017-prepayment"
    assert render("{SEQ}", 42, AT, MSK) == "42"
    assert render("№{SEQ:3}", 12345, AT, MSK) == "№12345"  # never cut
    assert render("{{{SEQ:2}}}", 7, AT, MSK) == "{07}"
    assert render("{SEQ:1}", 0, AT, MSK) == "0"


def test_render_dates_in_the_portal_zone():
    late = dt.datetime(2025, 12, 31, 21, 30, tzinfo=UTC)  # 00:30 on 1 Jan 2026 in Moscow
    assert render("{YYYY}-{MM}-{DD}/{SEQ}", 1, late, "Europe/Moscow") == "2026-01-01/1"
    assert render("{YYYY}-{MM}-{DD}/{SEQ}", 1, late, "UTC") == "2025-12-31/1"


def test_render_errors():
    with pytest.raises(NumberFormatError) as e:
        render("{COMPANY}-{SEQ}", 1, AT, MSK)
    assert e.value.code == "missing_value"
    assert e.value.position == 0
    with pytest.raises(NumberFormatError):
        render("{PREFIX}{SEQ}", 1, AT, MSK, prefix="")
    with pytest.raises(NumberFormatError):
        render("{SEQ}", -1, AT, MSK)
    with pytest.raises(NumberFormatError):
        render("{SEQ}", True, AT, MSK)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        render("{SEQ}", 1, dt.datetime(2026, 1, 1), MSK)


@pytest.mark.parametrize(
    ("moment", "tz", "reset", "key"),
    [
        (dt.datetime(2025, 12, 31, 20, 59, 59, tzinfo=UTC), "Europe/Moscow", "yearly", "2025"),
        (dt.datetime(2025, 12, 31, 21, 0, 0, tzinfo=UTC), "Europe/Moscow", "yearly", "2026"),
        (dt.datetime(2025, 12, 31, 23, 30, tzinfo=UTC), "Europe/Moscow", "yearly", "2026"),
        (dt.datetime(2025, 12, 31, 23, 30, tzinfo=UTC), "UTC", "yearly", "2025"),
        (dt.datetime(2025, 12, 31, 14, 0, tzinfo=UTC), "Asia/Vladivostok", "yearly", "2026"),
        (dt.datetime(2026, 1, 31, 20, 59, tzinfo=UTC), "Europe/Moscow", "monthly", "2026-01"),
        (dt.datetime(2026, 1, 31, 21, 0, tzinfo=UTC), "Europe/Moscow", "monthly", "2026-02"),
        (dt.datetime(2026, 2, 28, 21, 0, tzinfo=UTC), "Europe/Moscow", "monthly", "2026-03"),
        (dt.datetime(2026, 3, 31, 22, 0, tzinfo=UTC), "Europe/Berlin", "monthly", "2026-04"),  # CEST
        (dt.datetime(2026, 3, 31, 21, 59, tzinfo=UTC), "Europe/Berlin", "monthly", "2026-03"),
        (dt.datetime(2026, 6, 1, tzinfo=UTC), "Europe/Moscow", "never", "all"),
    ],
)
def test_period_key_boundaries(moment, tz, reset, key):
    assert period_key(reset, moment, tz) == key


def test_period_key_errors():
    with pytest.raises(ValueError):
        period_key("weekly", AT, MSK)
    with pytest.raises(ValueError):
        period_key("yearly", dt.datetime(2026, 1, 1), MSK)


def test_preview():
    p = preview("Д-{YY}/{SEQ:4}-{COMPANY}", at=AT, seq=17, company="МП", reset="yearly")
    assert p.ok and p.text == "Д-26/0017-МП" and p.warnings == []
    sample = preview("{PREFIX}{TYPE}{DEAL_ID}-{SEQ}", at=AT)
    assert sample.ok and sample.text == "ДГTYPE1234-1"
    bad = preview("Д-{YY}/{SEQ:4", at=AT)
    assert not bad.ok and bad.text is None
    assert bad.error == {
        "code": "unclosed_brace",
        "position": 7,
        "message": bad.error["message"],
        "message_en": "unclosed brace",
    }
    assert bad.to_dict()["ok"] is False
    warned = preview("Д-{SEQ:4}", at=AT, reset="yearly")
    assert [w["code"] for w in warned.warnings] == ["reset_without_period"]
    monthly = preview("Д-{YYYY}-{SEQ}", at=AT, reset="monthly")
    assert [w["code"] for w in monthly.warnings] == ["reset_without_period"]
    long = preview("ДОГОВОР-ПОСТАВКИ-МЕТАЛЛОПРОКАТА-ОБЩЕСТВА-С-ОГРАНИЧЕННОЙ-{SEQ}", at=AT)
    assert [w["code"] for w in long.warnings] == ["too_long_for_1c"]


def test_format_warnings_ambiguous():
    assert [w["code"] for w in format_warnings("{SEQ}{DEAL_ID}")] == ["ambiguous"]
    assert format_warnings("{SEQ:4}{YY}") == []
    assert format_warnings("{YY}-{SEQ}", "yearly") == []
    assert format_warnings("{YY}{MM}-{SEQ}", "monthly") == []


def test_parse_number_examples():
    fmt = "Д-{YY}/{SEQ:4}-{COMPANY}"
    got = parse_number(fmt, "Д-26/0017-МП")
    assert got is not None
    assert (got.seq, got.year, got.company) == (17, 2026, "МП")
    assert got.period_key("yearly") == "2026"
    assert got.period_key("monthly") is None
    assert got.period_key("never") == "all"
    assert parse_number(fmt, "Д-26/0017-МП", company="МП").seq == 17
    assert parse_number(fmt, "Д-26/0017-МП", company="ТД") is None
    assert parse_number(fmt, "Д-26/017-МП") is None  # wrong padding
    assert parse_number(fmt, "Д-26/00017-МП") is None
    assert parse_number(fmt, "Д-26/12345-МП").seq == 12345  # overflowing the width is canonical
    assert parse_number(fmt, "Х-26/0017-МП") is None
    assert parse_number("{YYYY}{MM}{DD}-{SEQ}", "20260230-5") is None  # no 30 February
    assert parse_number("{YYYY}{MM}{DD}-{SEQ}", "20260228-5").period_key("monthly") == "2026-02"
    assert parse_number("{YYYY}/{YY}-{SEQ}", "2026/25-1") is None  # inconsistent years
    assert parse_number("{SEQ}", "007") is None
    assert parse_number("{SEQ}", "0").seq == 0
    with pytest.raises(NumberFormatError) as e:
        parse_number("{SEQ}{DEAL_ID}", "12345")
    assert e.value.code == "ambiguous"
    assert parse_number("{SEQ:4}{DEAL_ID}", "00121017", deal_id=1017).seq == 12


# --- properties -------------------------------------------------------------------------------------

LETTERS = st.text(alphabet="АБВГДЕКМНПРСТABCXYZ", min_size=1, max_size=4)
SEPARATORS = st.sampled_from(["-", "/", ".", "_", " ", "№", "-К-"])
VARIABLE = {"SEQ", "PREFIX", "COMPANY", "TYPE", "DEAL_ID"}


@st.composite
def formats(draw) -> str:
    others = draw(
        st.lists(st.sampled_from(["PREFIX", "YYYY", "YY", "MM", "DD", "COMPANY", "DEAL_ID", "TYPE"]), max_size=4)
    )
    tokens = others[:]
    tokens.insert(draw(st.integers(0, len(others))), "SEQ")
    out: list[str] = []
    prev_variable = False
    for name in tokens:
        variable = name in VARIABLE
        if out and (variable and prev_variable or draw(st.booleans())):
            out.append(draw(SEPARATORS))
        if name == "SEQ" and draw(st.booleans()):
            out.append(f"{{SEQ:{draw(st.integers(1, 12))}}}")
        else:
            out.append(f"{{{name}}}")
        prev_variable = variable
    if draw(st.booleans()):
        out.insert(0, draw(st.sampled_from(["Д-", "№", "ДГ/"])))
    return "".join(out)


moments = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31), timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(formats(), st.integers(0, 10**9), moments, LETTERS, LETTERS, st.integers(1, 10**7), LETTERS)
def test_render_then_parse_round_trip(fmt, seq, at, prefix, company, deal_id, type_code):
    text = render(fmt, seq, at, "Europe/Moscow", prefix=prefix, company=company, deal_id=deal_id, type_code=type_code)
    known = parse_number(fmt, text, prefix=prefix, company=company, deal_id=deal_id, type_code=type_code)
    assert known is not None and known.seq == seq
    local = at.astimezone(MSK)
    nf = parse_format(fmt)
    if nf.tokens & {"YYYY", "YY"}:
        assert known.year == local.year
    if "MM" in nf.tokens:
        assert known.month == local.month
    if not format_warnings(fmt):  # not ambiguous: readable without knowing the codes either
        unknown = parse_number(fmt, text)
        assert unknown is not None and unknown.seq == seq


@settings(max_examples=200, deadline=None)
@given(moments, st.sampled_from(["Europe/Moscow", "Asia/Vladivostok", "Europe/Berlin", "UTC"]))
def test_period_key_agrees_with_rendered_date(at, tz):
    assert period_key("yearly", at, tz) == render("{YYYY}{SEQ}", 0, at, tz)[:-1]
    assert period_key("monthly", at, tz) == render("{YYYY}-{MM}{SEQ}", 0, at, tz)[:-1]
