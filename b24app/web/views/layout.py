"""The shared page layout of the app inside Bitrix24: navigation, placement routing, rendering.

Other view modules use three things (see docs/ui.md):

- :func:`nav_item` — add a top navigation entry (``admin=True``: shown to administrators only);
- :func:`placement_view` — say which endpoint renders a widget (``/placement/<name>`` POST, e.g.
  ``deal_tab``); the verified POST is answered by calling that view directly;
- :func:`render_page` — render a template that extends ``base.html`` with the session, the
  navigation, the texts (``t``) and the number formatters (``num``) in its context.

This module has no ``bp``: it is a helper, not a set of routes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import render_template, request
from markupsafe import Markup

from b24app.messages import t
from b24app.web.auth import CSRF_HEADER, HEADER, current_page, hidden_fields, url


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    title_key: str
    order: int = 100
    admin: bool = False
    visible: Callable[[Any], bool] | None = None  # (PageSession) -> bool, beyond admin


NAV: list[NavItem] = []
PLACEMENTS: dict[str, Callable[[], Any]] = {}


def nav_item(endpoint: str, title_key: str, *, order: int = 100, admin: bool = False,
             visible: Callable[[Any], bool] | None = None) -> None:
    """Add (once) a navigation entry pointing at ``endpoint`` with the text ``title_key``."""
    if any(n.endpoint == endpoint for n in NAV):
        return
    NAV.append(NavItem(endpoint, title_key, order, admin, visible))
    NAV.sort(key=lambda n: n.order)


def placement_view(name: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Decorator: the function renders widget ``name`` (``/placement/<name>``) for the verified
    session (``current_page()``; ``current_page().options`` holds PLACEMENT_OPTIONS, e.g. ``ID``)."""

    def deco(fn: Callable[[], Any]) -> Callable[[], Any]:
        PLACEMENTS[name] = fn
        return fn

    return deco


def visible_nav() -> list[dict[str, Any]]:
    page = current_page()
    items = []
    for n in NAV:
        if n.admin and not page.is_admin:
            continue
        if n.visible is not None and not n.visible(page):
            continue
        items.append({"url": url(n.endpoint), "title": t(n.title_key, page.lang), "endpoint": n.endpoint,
                      "active": request.endpoint == n.endpoint})
    return items


# --- number formatting ---------------------------------------------------------------------------
def _group(int_part: str, sep: str) -> str:
    out = []
    while len(int_part) > 3:
        out.insert(0, int_part[-3:])
        int_part = int_part[:-3]
    out.insert(0, int_part)
    return sep.join(out)


def num(value: Any, kind: str = "num", lang: str = "ru") -> str:
    """A number as people read it: ``1 234 567,89`` (ru) or ``1,234,567.89`` (en); ``—`` for none."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value
    places = {"int": 0, "money": 0, "pct": 2, "days": 1, "hours": 1, "num": 2}.get(kind, 2)
    q = Decimal(1).scaleb(-places) if places else Decimal(1)
    d = Decimal(repr(float(value))).quantize(q, rounding=ROUND_HALF_UP)
    sign = "-" if d < 0 else ""
    text = f"{abs(d):.{places}f}"
    int_part, _, frac = text.partition(".")
    thousands, decimal = ("\u202f", ",") if lang == "ru" else (",", ".")
    out = sign + _group(int_part, thousands) + (decimal + frac if frac else "")
    return out + ("\u00a0%" if kind == "pct" else "")


def date_text(value: Any, lang: str = "ru") -> str:
    if not value:
        return "—"
    try:
        d = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return d.strftime("%d.%m.%Y") if lang == "ru" else d.isoformat()


def render_page(template: str, *, title: str, **context: Any) -> str:
    """Render ``template`` (extending ``base.html``) for the current session."""
    page = current_page()
    lang = page.lang
    return render_template(
        template,
        page=page,
        lang=lang,
        title=title,
        nav=visible_nav(),
        token=page.token(),
        csrf=page.csrf,
        session_header=HEADER,
        csrf_header=CSRF_HEADER,
        hidden_fields=hidden_fields,
        url=url,
        t=lambda key, **kw: t(key, lang, **kw),
        num=lambda value, kind="num": num(value, kind, lang),
        date_text=lambda value: date_text(value, lang),
        Markup=Markup,
        **context,
    )
