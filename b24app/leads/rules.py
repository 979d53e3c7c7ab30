"""Rule matching: ordered rules, the first that matches wins. Pure functions over a CRM item's fields
(as ``crm.lead.get``/``crm.lead.list`` return them: strings, lists for multiple fields).

A rule's ``when`` may name: ``source`` (SOURCE_ID, any of), ``fields`` (FIELD: value or values; UF_*,
UTM_* and any other field; a multiple field matches when one of its values does), ``title_regex`` and
``comment_regex`` (searched, case-insensitive), ``amount_min``/``amount_max`` (OPPORTUNITY) and
``hours`` (``working``/``non_working`` by the company calendar). An empty ``when`` matches everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

BASE_FIELDS = ("ID", "TITLE", "SOURCE_ID", "STATUS_ID", "ASSIGNED_BY_ID", "CREATED_BY_ID", "OPPORTUNITY",
               "COMMENTS", "DATE_CREATE", "NAME", "LAST_NAME", "COMPANY_TITLE")


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _values(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, list | tuple):
        out: list[str] = []
        for v in raw:
            out.extend(_values(v.get("VALUE") if isinstance(v, dict) else v))
        return out
    return [str(raw)]


def _amount(item: Mapping[str, Any]) -> float:
    try:
        return float(str(item.get("OPPORTUNITY") or 0).replace(",", "."))
    except ValueError:
        return 0.0


def matches(rule: Mapping[str, Any], item: Mapping[str, Any], *, working_time: bool | None = None) -> bool:
    """Does ``item`` meet the rule's conditions? ``working_time`` is None when unknown (then an
    ``hours`` condition does not match)."""
    if not rule.get("enabled", True):
        return False
    when = rule.get("when") or {}
    sources = when.get("source") or []
    if sources and str(item.get("SOURCE_ID") or "") not in sources:
        return False
    for name, wanted in (when.get("fields") or {}).items():
        wanted_list = [str(w) for w in (wanted if isinstance(wanted, list | tuple) else [wanted])]
        have = _values(item.get(name))
        if not have:
            if "" not in wanted_list:
                return False
        elif not any(h in wanted_list for h in have):
            return False
    if when.get("title_regex") and not _regex(when["title_regex"]).search(str(item.get("TITLE") or "")):
        return False
    if when.get("comment_regex") and not _regex(when["comment_regex"]).search(str(item.get("COMMENTS") or "")):
        return False
    amount = _amount(item)
    if when.get("amount_min") is not None and amount < float(when["amount_min"]):
        return False
    if when.get("amount_max") is not None and amount > float(when["amount_max"]):
        return False
    hours = when.get("hours") or "any"
    if hours != "any":
        if working_time is None:
            return False
        if (hours == "working") != working_time:
            return False
    return True


def first_match(rules: Sequence[Mapping[str, Any]], item: Mapping[str, Any], *,
                working_time: bool | None = None) -> Mapping[str, Any] | None:
    """The first enabled rule whose conditions hold, or None."""
    for rule in rules:
        if matches(rule, item, working_time=working_time):
            return rule
    return None


def referenced_fields(rules: Iterable[Mapping[str, Any]]) -> set[str]:
    """Item fields the rules look at (so list reads can select exactly these)."""
    out: set[str] = set()
    for rule in rules:
        when = rule.get("when") or {}
        out.update((when.get("fields") or {}).keys())
    return out


def rules_for(settings: Mapping[str, Any], rule_set: str | None = None) -> list[Mapping[str, Any]]:
    """The rules of the named set (the robot's property), or the main list."""
    if rule_set:
        sets = settings.get("rule_sets") or {}
        if rule_set not in sets:
            from b24app.errors import ConfigError

            raise ConfigError(f"distribution: no rule set {rule_set!r} (known: {', '.join(sorted(sets)) or '-'})")
        return list(sets[rule_set])
    return list(settings.get("rules") or [])
