"""Rule matching (source, fields incl. UF_* and UTM, regexes, amount, hours; first match wins) and
the junk rules (links, emoji, spam words, blocked domains and phones)."""

from __future__ import annotations

import pytest

from b24app.errors import ConfigError
from b24app.leads import junk, rules

LEAD = {"ID": "1", "TITLE": "Заявка: арматура 12 мм", "SOURCE_ID": "UC_YANDEX", "OPPORTUNITY": "150000.00",
        "COMMENTS": "Нужна арматура А500С", "UTM_SOURCE": "yandex", "UF_CRM_REGION": ["12", "14"],
        "UF_CRM_WHOLESALE": "1"}


def rule(name: str = "r", **when) -> dict:
    return {"name": name, "pool": "p", "strategy": "round_robin", "when": when}


@pytest.mark.parametrize("when, ok", [
    ({}, True),
    ({"source": ["UC_YANDEX", "UC_GOOGLE"]}, True),
    ({"source": ["EMAIL"]}, False),
    ({"fields": {"UTM_SOURCE": ["yandex"]}}, True),
    ({"fields": {"UF_CRM_REGION": ["14"]}}, True),  # a multiple field matches by any value
    ({"fields": {"UF_CRM_REGION": ["99"]}}, False),
    ({"fields": {"UF_CRM_MISSING": ["x"]}}, False),
    ({"fields": {"UF_CRM_MISSING": [""]}}, True),  # "" asks for an empty field
    ({"title_regex": r"арматур"}, True),
    ({"title_regex": r"^Звонок"}, False),
    ({"comment_regex": r"А500С"}, True),
    ({"amount_min": 100000, "amount_max": 200000}, True),
    ({"amount_min": 200000}, False),
    ({"hours": "working"}, True),
    ({"hours": "non_working"}, False),
])
def test_conditions(when, ok) -> None:
    assert rules.matches(rule(**when), LEAD, working_time=True) is ok


def test_first_match_wins_and_disabled_rules_are_skipped() -> None:
    lst = [dict(rule("off", source=["UC_YANDEX"]), enabled=False), rule("ads", source=["UC_YANDEX"]), rule("all")]
    assert rules.first_match(lst, LEAD)["name"] == "ads"
    assert rules.first_match(lst, {**LEAD, "SOURCE_ID": "CALL"})["name"] == "all"
    assert rules.first_match(lst[:2], {**LEAD, "SOURCE_ID": "CALL"}) is None
    assert rules.matches(rule(hours="working"), LEAD, working_time=None) is False
    assert rules.referenced_fields([rule(fields={"UF_CRM_REGION": ["1"]})]) == {"UF_CRM_REGION"}


def test_rule_sets() -> None:
    dist = {"rules": [rule("main")], "rule_sets": {"tenders": [rule("t")]}}
    assert [r["name"] for r in rules.rules_for(dist)] == ["main"]
    assert [r["name"] for r in rules.rules_for(dist, "tenders")] == ["t"]
    with pytest.raises(ConfigError, match="no rule set 'x'"):
        rules.rules_for(dist, "x")


JUNK = {"enabled": True, "max_links": 2, "max_emoji": 5, "patterns": [r"(?i)казино"],
        "blocked_domains": ["mailinator.com"], "blocked_phones": ["8 (900) 000-00-00"]}


@pytest.mark.parametrize("item, code", [
    ({"COMMENTS": "см. https://a.ru и http://b.ru"}, None),
    ({"COMMENTS": "https://a.ru http://b.ru www.c.ru"}, "links"),
    ({"COMMENTS": "t.me/x t.me/y t.me/z"}, "links"),
    ({"COMMENTS": "🔥🔥🔥🔥🔥"}, None),
    ({"TITLE": "🔥🔥🔥", "COMMENTS": "💰💰💰"}, "emoji"),
    ({"COMMENTS": "Лучшее КАЗИНО"}, "pattern"),
    ({"EMAIL": [{"VALUE": "Bot <bot@MAILINATOR.com>"}]}, "blocked_domain"),
    ({"EMAIL": [{"VALUE": "x@sub.mailinator.com"}]}, "blocked_domain"),
    ({"EMAIL": [{"VALUE": "x@notmailinator.com"}]}, None),
    ({"PHONE": [{"VALUE": "+7 900 000 00 00"}]}, "blocked_phone"),
    ({"PHONE": [{"VALUE": "+7 912 345 67 89"}]}, None),
])
def test_junk(item, code) -> None:
    verdict = junk.check(item, JUNK)
    assert (verdict.code if verdict else None) == code
    assert junk.check(item, {**JUNK, "enabled": False}) is None
