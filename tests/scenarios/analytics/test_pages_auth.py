"""Pages inside Bitrix24 over real HTTP: the portal's POST is verified before anything is shown,
sessions are signed, short-lived and bound to one portal, forms need the CSRF token, admin pages are
closed to other users, and nothing is framed away."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import requests
import time_machine
from itsdangerous import URLSafeTimedSerializer

from b24app.analytics import pull
from b24app.analytics.plugin import enqueue_refresh
from b24app.settings import document
from b24app.web import auth
from tests.scenarios.analytics.conftest import install_app, open_app, portal_post, session_of

ADMIN, HEAD_OF_SALES, PETROV = 1, 2, 4


@pytest.fixture
def metalprom(sandbox, app_factory) -> tuple[Any, dict[str, Any]]:
    """The app installed into a МеталПром portal, its data pulled; reports for the head of sales."""
    portal = sandbox.new_portal("metalprom")
    app = app_factory()
    install_app(sandbox, app, portal["member_id"])
    enqueue_refresh(app.services, portal["member_id"], reason="test")
    app.drain()
    doc = document.load(app.db, portal["member_id"])
    doc["analytics"] = {**doc["analytics"], "viewers": [HEAD_OF_SALES]}
    document.save(app.db, portal["member_id"], doc)
    return app, portal


def get(app, path: str, token: str, **params: Any) -> requests.Response:
    return requests.get(app.url + path, params={"s": token, **params}, timeout=15, allow_redirects=False)


def post(app, path: str, token: str, csrf: str | None, **data: Any) -> requests.Response:
    form = {"s": token, **data}
    if csrf is not None:
        form["csrf"] = csrf
    return requests.post(app.url + path, data=form, timeout=15, allow_redirects=False)


def test_admin_opens_the_app_verified_at_the_portal(sandbox, metalprom) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    mark = max([r["id"] for r in sandbox.control("GET", f"/portals/{m}/requests")] or [0])
    res = open_app(sandbox, app, m, ADMIN)
    assert res["status"] == 200
    assert 'data-admin="Y"' in res["body"] and "Андрей Сергеев" in res["body"]
    assert re.search(r'data-key="leads">120<', res["body"])  # the home page shows the portal's lead figures
    # the check ran at the portal, with the user's own token, from our app
    calls = sandbox.control("GET", f"/portals/{m}/requests?since={mark}&client_id={app.config.client_id}")
    batch = [c for c in calls if c["method"] == "batch"]
    assert batch and batch[-1]["user_id"] == ADMIN and batch[-1]["auth_kind"] == "oauth"
    assert {s["method"] if isinstance(s, dict) else s for s in batch[-1]["sub_calls"]} >= {"user.current",
                                                                                          "user.admin"}
    token, _csrf = session_of(res["body"])
    r = get(app, "/app/analytics", token)
    assert r.status_code == 200 and "Аналитика продаж" in r.text
    assert "X-Frame-Options" not in r.headers and "frame-ancestors" not in r.headers["Content-Security-Policy"]
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Referrer-Policy"] == "same-origin"
    assert "https://" not in re.sub(r'xmlns="[^"]+"', "", r.text)  # nothing loaded from another origin
    r = requests.get(app.url + "/app/analytics", headers={auth.HEADER: token}, timeout=15)
    assert r.status_code == 200  # the header carries the session as well as the URL does


def test_forged_and_foreign_tokens_are_refused(sandbox, metalprom, app_factory) -> None:
    app, portal = metalprom
    url, form = portal_post(sandbox, app, portal, ADMIN, AUTH_ID="0" * 32)
    r = requests.post(url, data=form, timeout=15)
    assert r.status_code == 401 and "Портал не подтвердил вход" in r.text and "b24app-session" not in r.text
    # another installed portal's member_id with this portal's token
    other = sandbox.new_portal("empty")
    install_app(sandbox, app, other["member_id"])
    url, form = portal_post(sandbox, app, portal, ADMIN, member_id=other["member_id"])
    assert requests.post(url, data=form, timeout=15).status_code == 401
    # a portal that never installed the app
    url, form = portal_post(sandbox, app, portal, ADMIN, member_id="f" * 32)
    r = requests.post(url, data=form, timeout=15)
    assert r.status_code == 401 and "не установлено" in r.text
    # a token of another application on the same portal
    stranger = app_factory("stranger")
    install_app(sandbox, stranger, portal["member_id"])
    _url, foreign = portal_post(sandbox, stranger, portal, ADMIN)
    url, form = portal_post(sandbox, app, portal, ADMIN, AUTH_ID=foreign["AUTH_ID"])
    assert requests.post(url, data=form, timeout=15).status_code == 401
    # a forged DOMAIN does not move the check away from the stored portal
    url, form = portal_post(sandbox, app, portal, ADMIN, DOMAIN="evil.example.com")
    r = requests.post(url, data=form, timeout=15)
    assert r.status_code == 200 and portal["domain"] in r.text and "evil.example.com" not in r.text
    # a body that is not a page open at all
    assert requests.post(app.url + "/", data={"member_id": portal["member_id"]}, timeout=15).status_code == 400


def test_non_admins_get_read_only_views_or_403(sandbox, metalprom) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    head = open_app(sandbox, app, m, HEAD_OF_SALES)
    assert head["status"] == 200 and 'data-admin="N"' in head["body"]
    token, csrf = session_of(head["body"])
    assert "analytics.dashboard" in head["body"] and "analytics.data" not in head["body"]
    assert get(app, "/app/analytics/r/managers", token).status_code == 200
    spend_page = get(app, "/app/analytics/spend", token)
    assert spend_page.status_code == 200 and 'id="read-only"' in spend_page.text and 'id="spend-form"' not in spend_page.text
    r = get(app, "/app/analytics/data", token)
    assert r.status_code == 403 and "только для администраторов" in r.text
    r = post(app, "/app/analytics/spend", token, csrf, source="UC_YANDEX", month="2026-09", amount="1")
    assert r.status_code == 403
    r = post(app, "/app/analytics/refresh", token, csrf)
    assert r.status_code == 403
    assert app.db.scalar("SELECT COUNT(*) FROM analytics_spend WHERE member_id = ?", (m,)) == 0
    # a manager who is not among the viewers sees no reports at all
    petrov = open_app(sandbox, app, m, PETROV)
    ptoken, _ = session_of(petrov["body"])
    assert "analytics.dashboard" not in petrov["body"]
    r = get(app, "/app/analytics", ptoken)
    assert r.status_code == 403 and "Аналитика" in r.text
    assert get(app, "/app/analytics/r/funnel/lead_funnel.csv", ptoken).status_code == 403


def test_admin_forms_need_the_csrf_token(sandbox, metalprom) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    token, csrf = session_of(open_app(sandbox, app, m, ADMIN)["body"])
    assert post(app, "/app/analytics/spend", token, None, source="UC_YANDEX", month="2026-09",
                amount="100").status_code == 403
    assert post(app, "/app/analytics/spend", token, "x" * 40, source="UC_YANDEX", month="2026-09",
                amount="100").status_code == 403
    r = post(app, "/app/analytics/spend", token, csrf, source="UC_YANDEX", month="2026-09", amount="125 000")
    assert r.status_code == 303 and "msg=saved" in r.headers["Location"]
    assert app.db.scalar("SELECT amount FROM analytics_spend WHERE member_id = ?", (m,)) == 125000.0
    r = requests.post(app.url + "/app/analytics/refresh", data={"s": token},
                      headers={auth.CSRF_HEADER: csrf}, timeout=15, allow_redirects=False)
    assert r.status_code == 303 and "msg=queued" in r.headers["Location"]
    assert app.db.scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'analytics.refresh' AND status = 'queued'") == 1


def test_sessions_are_signed_short_lived_and_bound_to_one_portal(sandbox, metalprom, app_factory) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    token, _ = session_of(open_app(sandbox, app, m, ADMIN)["body"])
    assert get(app, "/app/analytics", token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")).status_code == 401
    forged = URLSafeTimedSerializer("another-secret", salt=auth.SALT).dumps(
        {"v": 1, "member_id": m, "user_id": 1, "is_admin": True, "started": dt.datetime.now().timestamp()})
    r = get(app, "/app/analytics", forged)
    assert r.status_code == 401 and "Сеанс недействителен" in r.text
    assert get(app, "/app/analytics", "").status_code == 401
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=auth.IDLE_S + 60)):
        r = get(app, "/app/analytics", token)
    assert r.status_code == 401 and "Сеанс истёк" in r.text
    # another portal's data cannot be named from the URL: the session's portal is the only portal
    other = sandbox.new_portal("empty")
    install_app(sandbox, app, other["member_id"])
    enqueue_refresh(app.services, other["member_id"], reason="test")
    app.drain()
    other_token, _ = session_of(open_app(sandbox, app, other["member_id"], ADMIN)["body"])
    r = get(app, "/app/analytics/r/funnel/lead_funnel.csv", other_token, member_id=m, portal=m)
    assert r.status_code == 200 and r.text.splitlines()[1].startswith("0,0,0,0")
    r = get(app, "/app/analytics/r/funnel/lead_funnel.csv", token, member_id=other["member_id"])
    assert r.text.splitlines()[1].startswith("120,60,32,28")
    # the session of an uninstalled portal stops working
    sandbox.control("POST", f"/portals/{other['member_id']}/apps/{app.config.client_id}/uninstall", {"clean": False})
    sandbox.wait_deliveries()
    app.drain()
    r = get(app, "/app/analytics", other_token)
    assert r.status_code == 401 and "не установлено" in r.text
    assert pull.last_summary(app.db, m)["rows"]["leads"] == 120


def test_widget_opens_through_the_same_check(sandbox, metalprom) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    res = open_app(sandbox, app, m, PETROV, placement="CRM_DEAL_DETAIL_TAB", options={"ID": "5"})
    assert res["status"] == 200 and res["url"].endswith("/placement/deal_tab")
    token, _ = session_of(res["body"])
    page = auth.PageSession(**{k: v for k, v in URLSafeTimedSerializer(app.config.secret_key, salt=auth.SALT)
                               .loads(token).items() if k != "v"})
    assert page.placement == "CRM_DEAL_DETAIL_TAB" and page.options == {"ID": "5"} and page.user_id == PETROV
    url, form = portal_post(sandbox, app, portal, PETROV, placement="CRM_DEAL_DETAIL_TAB", path="/placement/deal_tab",
                            AUTH_ID="bad")
    assert requests.post(url, data=form, timeout=15).status_code == 401


def test_english_pages_filter_errors_and_exports(sandbox, metalprom) -> None:
    app, portal = metalprom
    url, form = portal_post(sandbox, app, portal, ADMIN, lang="en")
    r = requests.post(url, data=form, timeout=15)
    assert r.status_code == 200 and '<html lang="en">' in r.text and "Hello, Андрей Сергеев!" in r.text
    token, _ = session_of(r.text)
    page = get(app, "/app/analytics/r/funnel", token)
    assert "Lead funnel" in page.text and "Losses = junk / all leads × 100." in page.text
    assert get(app, "/app", token).status_code == 200
    bad = get(app, "/app/analytics/r/managers", token, **{"from": "yesterday"})
    assert bad.status_code == 200 and "Filter not understood" in bad.text  # shown, not a crash
    assert get(app, "/app/analytics/r/nothing", token).status_code == 404
    csv_text = get(app, "/app/analytics/spend.csv", token).content.decode("utf-8-sig")
    assert csv_text.splitlines() == ["source,month,amount"]
    filtered = get(app, "/app/analytics/r/funnel/lead_funnel.csv", token, manager=str(PETROV))
    assert filtered.status_code == 200 and filtered.headers["Content-Disposition"].endswith("funnel-lead_funnel.csv")
