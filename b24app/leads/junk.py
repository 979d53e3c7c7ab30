"""Disqualification rules: spam patterns (links, emoji, words), blocked e-mail domains and phones.
Pure functions; "existing client" and "duplicate" are decided with the duplicate lookup (engine).

Returns a :class:`JunkVerdict` with a reason code and a detail shown to people:
``links`` (more links than allowed in the first message), ``emoji``, ``pattern`` (a spam word),
``blocked_domain``, ``blocked_phone``, ``existing_client``, ``duplicate``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from b24app.leads.phones import normalize_email, normalize_phone

LINK_RE = re.compile(r"(?:https?://|www\.|t\.me/)[^\s<>\"']+", re.IGNORECASE)
EMOJI_RE = re.compile(
    "[\U0001F000-\U0001FAFF\U00002600-\U000027BF\U0001F1E6-\U0001F1FF\U00002B00-\U00002BFF\U0000FE0F]"
)


@dataclass(frozen=True)
class JunkVerdict:
    code: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail}


def multi_values(item: Mapping[str, Any], key: str) -> list[str]:
    """Values of a multifield (``PHONE``/``EMAIL``: ``[{"VALUE": ...}]``)."""
    raw = item.get(key) or []
    if isinstance(raw, dict):
        raw = list(raw.values())
    out = []
    for v in raw if isinstance(raw, list) else [raw]:
        value = v.get("VALUE") if isinstance(v, dict) else v
        if value:
            out.append(str(value))
    return out


def count_links(text: str) -> int:
    return len(LINK_RE.findall(text or ""))


def count_emoji(text: str) -> int:
    return len([c for c in EMOJI_RE.findall(text or "") if c != "\ufe0f"])


def check(item: Mapping[str, Any], junk: Mapping[str, Any]) -> JunkVerdict | None:
    """The first spam or block rule the item breaks, or None (also when junk rules are off)."""
    if not junk.get("enabled"):
        return None
    message = str(item.get("COMMENTS") or "")
    text = f"{item.get('TITLE') or ''}\n{message}"
    max_links = junk.get("max_links")
    if max_links is not None:
        n = count_links(message)
        if n > max_links:
            return JunkVerdict("links", f"{n} > {max_links}")
    max_emoji = junk.get("max_emoji")
    if max_emoji is not None:
        n = count_emoji(text)
        if n > max_emoji:
            return JunkVerdict("emoji", f"{n} > {max_emoji}")
    for pattern in junk.get("patterns") or []:
        m = re.search(pattern, text, re.IGNORECASE)
        if m:
            return JunkVerdict("pattern", m.group(0)[:100])
    domains = {d.lower().lstrip("@").strip() for d in junk.get("blocked_domains") or []}
    if domains:
        for raw in multi_values(item, "EMAIL"):
            email = normalize_email(raw)
            if email is None:
                continue
            domain = email.split("@", 1)[1]
            if any(domain == d or domain.endswith("." + d) for d in domains):
                return JunkVerdict("blocked_domain", domain)
    phones = {p for p in (normalize_phone(x) for x in junk.get("blocked_phones") or []) if p}
    if phones:
        for raw in multi_values(item, "PHONE"):
            phone = normalize_phone(raw)
            if phone in phones:
                return JunkVerdict("blocked_phone", f"+{phone}")
    return None
