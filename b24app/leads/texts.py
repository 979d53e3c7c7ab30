"""Readable explanations of decisions (timeline comments, ``b24app leads explain``) and the texts of
notifications, built from the message catalogue (Russian first, English second)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from b24app.leads.strategies import Explanation, reason_label
from b24app.messages import t


def _who(names: Mapping[str, str], uid: Any) -> str:
    if uid is None:
        return "—"
    return names.get(str(uid)) or f"#{uid}"


def format_value(via: str, value: str) -> str:
    """``79123456789`` -> ``+7 912 345-67-89``; e-mails as they are."""
    if via == "phone" and value.isdigit():
        if len(value) == 11 and value.startswith("7"):
            d = value[1:]
            return f"+7 {d[:3]} {d[3:6]}-{d[6:8]}-{d[8:]}"
        return f"+{value}"
    return value


def _strategy_text(data: Mapping[str, Any] | None, lang: str, names: Mapping[str, str]) -> str:
    if not data:
        return ""
    exp = Explanation.from_dict(data)
    return exp.text(lang, {int(k): v for k, v in names.items()})


def _caps_text(caps: Mapping[str, str] | None, lang: str, names: Mapping[str, str]) -> str:
    if not caps:
        return ""
    items = []
    for uid, detail in caps.items():
        code, _, figures = detail.partition(" ")
        items.append(f"{_who(names, uid)} — {reason_label(code, lang)} {figures}".strip())
    return t("leads.caps", lang, items="; ".join(items))


def summarize(d: Any, lang: str = "ru") -> str:
    """What happened to the item and why, in one paragraph (``d`` is a store.Decision)."""
    e = d.explanation or {}
    names = e.get("names") or {}
    user = _who(names, d.user_id)
    rule = d.rule or "—"
    pool = e.get("pool") or "—"
    parts: list[str] = []
    if e.get("no_rule"):
        parts.append(t("leads.head.no_rule", lang))
    for u in e.get("owner_unavailable") or []:
        parts.append(t("leads.owner_unavailable", lang, user=_who(names, u.get("user_id")),
                       why=reason_label(str(u.get("reason")), lang)))
    kind = d.kind
    if kind in ("repeat_client", "duplicate"):
        m = e.get("match") or {}
        via = t(f"leads.via.{m.get('via', 'phone')}", lang)
        value = format_value(str(m.get("via")), str(m.get("value", "")))
        if kind == "duplicate":
            parts.append(t("leads.head.duplicate", lang, via=via, value=value, id=m.get("id"),
                           title=m.get("title") or "", user=user))
        else:
            key = f"leads.what.{m.get('kind', 'contact')}"
            if m.get("kind") == "deal" and m.get("parent_kind") in ("contact", "company"):
                key = f"leads.what.deal_of_{m['parent_kind']}"
            what = t(key, lang, id=m.get("id"), title=m.get("title") or "", parent_id=m.get("parent_id"),
                     parent_title=m.get("parent_title") or "")
            parts.append(t("leads.head.repeat_client", lang, via=via, value=value, what=what, user=user))
        return " ".join(parts)
    if kind == "junk":
        j = e.get("junk") or {}
        why = t(f"leads.junk.{j.get('code')}", lang, detail=j.get("detail", "")) \
            if f"leads.junk.{j.get('code')}" in _catalogue() else str(j)
        parts.append(t("leads.head.junk", lang, status=e.get("new_status_name") or d.new_status or "", why=why))
        return " ".join(parts)
    if kind == "qc":
        parts.append(t("leads.head.qc", lang, user=user, rule=rule,
                       status=e.get("release_status_name") or e.get("release_status") or "",
                       pool=e.get("target_pool") or "—"))
    elif kind == "reroute":
        r = e.get("reroute") or {}
        parts.append(t("leads.head.reroute", lang, minutes=r.get("minutes", "?"), previous=_who(names, d.previous_user_id),
                       user=user, n=r.get("n", "?"), max=r.get("max", "?")))
    elif kind == "fallback_pool":
        parts.append(t("leads.head.fallback_pool", lang, from_pool=e.get("from_pool") or "—", pool=pool, user=user))
    elif kind == "head":
        parts.append(t("leads.head.head", lang, pool=pool, user=user))
    elif kind == "queued":
        parts.append(t("leads.head.queued", lang, pool=pool))
    elif d.phase == "release":
        parts.append(t("leads.head.release", lang, user=user, rule=rule, pool=pool))
    else:
        parts.append(t("leads.head.assign", lang, user=user, rule=rule, pool=pool))
    text = _strategy_text(e.get("strategy"), lang, names)
    if text:
        parts.append(text)
    if kind == "fallback_pool":
        fb = _strategy_text(e.get("fallback_strategy"), lang, names)
        if fb:
            parts.append(fb)
    caps = _caps_text(e.get("caps"), lang, names)
    if caps:
        parts.append(caps)
    return " ".join(p for p in parts if p)


def _catalogue() -> Mapping[str, Any]:
    from b24app.messages import CATALOGUE

    return CATALOGUE
