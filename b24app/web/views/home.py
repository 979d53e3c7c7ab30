"""The app's home page inside Bitrix24 (placement DEFAULT): who you are, where you can go.

``POST /`` (b24app/handlers/pages.py) verifies the portal's POST and answers with this page;
``GET /app`` shows it again for a running session (links carry the session token).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from b24app.messages import t
from b24app.web.auth import current_page, page_required
from b24app.web.views.layout import nav_item, render_page, visible_nav

bp = Blueprint("home", __name__)

nav_item("home.index", "ui.nav.home", order=0)


def render_home(notice: str | None = None) -> str:
    """The home page for the current session (``notice``: a text shown on top)."""
    page = current_page()
    sections = [n for n in visible_nav() if n["endpoint"] != "home.index"]
    summary: dict[str, Any] | None = None
    try:
        from b24app.web.views.analytics import home_summary

        summary = home_summary()
    except ImportError:  # analytics views absent
        summary = None
    return render_page("index.html", title=t("ui.home.title", page.lang), sections=sections, summary=summary,
                       notice=notice)


@bp.get("/app")
@page_required
def index() -> Any:
    return render_home()
