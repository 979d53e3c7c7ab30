"""The app page (placement DEFAULT, ``POST /``) and widgets (``POST /placement/<name>``).

Opening a page is verified before anything is shown (b24app.web.auth.open_from_portal: installation,
the OAuth server's app.info, then user.current/user.admin with the user's own token at the stored
portal endpoint); the answer is the page itself, rendered for a fresh signed session whose token the
page's links and forms carry. Widgets are rendered by the view registered for their name with
``b24app.web.views.layout.placement_view``; a widget without one shows the home page with a notice.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from b24app.messages import t
from b24app.web import auth

bp = Blueprint("pages", __name__)
auth.install(bp)


@bp.post("/")
def index() -> Any:
    auth.open_from_portal()
    from b24app.web.views.home import render_home

    return render_home()


@bp.post("/placement/<name>")
def placement(name: str) -> Any:
    page = auth.open_from_portal()
    from b24app.web.views.home import render_home
    from b24app.web.views.layout import PLACEMENTS

    view = PLACEMENTS.get(name)
    if view is not None:
        return view()
    return render_home(notice=t("ui.home.placement_missing", page.lang, placement=name))
