"""Two МеталПром portals with the same app: a session of portal A — administrator or not — never
sees or changes portal B's data, whatever portal it names in the URL or the form (every page and
form under /app reachable from the home page, found by crawling, plus every POST route); every
state-changing form needs the CSRF token of its own session (none, a made-up one and portal B's
are refused) — for the pages that exist now and any added later."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from b24app.analytics.plugin import enqueue_refresh
from b24app.store import jobs as jobs_repo
from tests.scenarios.analytics.conftest import install_app, open_app, session_of
from tests.security.pages import crawl, post_routes

ADMIN, HEAD_OF_SALES = 1, 2
B_AMOUNT = "987654.32"
B_SHOWN = ("987 654", "987\u00a0654", "987654", "987,654")


@pytest.fixture
def portals(sandbox, app_factory) -> dict[str, Any]:
    app = app_factory()
    out: dict[str, Any] = {"app": app}
    for key in ("a", "b"):
        portal = sandbox.new_portal("metalprom")
        install_app(sandbox, app, portal["member_id"])
        enqueue_refresh(app.services, portal["member_id"], reason="test")
        out[key] = portal
    app.drain()
    for key in ("a", "b"):
        m = out[key]["member_id"]
        out[key + "_admin"] = session_of(open_app(sandbox, app, m, ADMIN)["body"])
        out[key + "_head"] = session_of(open_app(sandbox, app, m, HEAD_OF_SALES)["body"])
    token, csrf = out["b_admin"]
    r = requests.post(app.url + "/app/analytics/spend", data={"s": token, "csrf": csrf, "source": "UC_YANDEX",
                                                               "month": "2026-09", "amount": B_AMOUNT},
                      timeout=15, allow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    return out


def b_state(app: Any, member_b: str) -> tuple[Any, ...]:
    spend = app.db.query("SELECT source_id, month, amount FROM analytics_spend WHERE member_id = ? ORDER BY 1, 2",
                         (member_b,))
    return tuple(tuple(r.values()) for r in spend), jobs_repo.counts(app.db, member_b)["queued"]


def leaks(text: str, portal_b: dict[str, Any]) -> list[str]:
    found = [s for s in (portal_b["member_id"], portal_b["domain"]) if s in text]
    return found + [s for s in B_SHOWN if s in text]


def test_portal_a_sessions_never_see_portal_b(portals) -> None:
    app, b = portals["app"], portals["b"]
    own = crawl(app.url, portals["b_admin"][0])
    assert any(any(s in html for s in B_SHOWN) for html in own.pages.values()), "B's own pages show its spend"
    for who in ("a_admin", "a_head"):
        token = portals[who][0]
        site = crawl(app.url, token)
        assert len(site.pages) >= 3, site.pages.keys()
        for path, html in site.pages.items():
            assert not leaks(html, b), (who, path, leaks(html, b))
            sep = "&" if "?" in path else "?"
            for name in ("member_id", "portal", "member", "domain", "DOMAIN"):
                value = b["domain"] if name.lower() == "domain" else b["member_id"]
                r = requests.get(app.url + path + f"{sep}{name}={value}", headers={"X-B24App-Session": token},
                                 timeout=30)
                assert not leaks(r.text, b), (who, path, name, leaks(r.text, b))


def test_portal_a_forms_never_change_portal_b(sandbox, portals) -> None:
    app, b = portals["app"], portals["b"]
    before = b_state(app, b["member_id"])
    token, csrf = portals["a_admin"]
    site = crawl(app.url, token)
    forms = [f for f in site.forms if f.method == "post"]
    assert forms, "the admin pages have forms"
    for form in forms:
        for name in ("member_id", "portal", "member"):
            data = {**form.fields, "s": token, "csrf": csrf, name: b["member_id"]}
            r = requests.post(app.url + form.action, data=data, timeout=30, allow_redirects=False)
            assert r.status_code < 500, (form.action, r.status_code, r.text[:300])
            assert not leaks(r.text, b)
    for route in post_routes(app.server.app):
        r = requests.post(app.url + route, data={"s": token, "csrf": csrf, "member_id": b["member_id"]},
                          timeout=30, allow_redirects=False)
        assert r.status_code < 500, (route, r.status_code)
    assert b_state(app, b["member_id"]) == before


def test_the_deal_tab_of_portal_a_is_portal_as(sandbox, portals) -> None:
    app, a, b = portals["app"], portals["a"], portals["b"]
    res = open_app(sandbox, app, a["member_id"], ADMIN, placement="CRM_DEAL_DETAIL_TAB",
                   options={"ID": "5", "member_id": b["member_id"]})
    assert res["status"] == 200 and res["url"].endswith("/placement/deal_tab")
    assert not leaks(res["body"], b)
    token, _ = session_of(res["body"])
    for path in crawl(app.url, token).pages:
        r = requests.get(app.url + path, headers={"X-B24App-Session": token}, params={"member_id": b["member_id"]},
                         timeout=30)
        assert not leaks(r.text, b), path


def test_every_state_changing_form_needs_its_own_csrf_token(portals) -> None:
    app, a = portals["app"], portals["a"]
    token, csrf = portals["a_admin"]
    _b_token, b_csrf = portals["b_admin"]
    spend_before = app.db.scalar("SELECT COUNT(*) FROM analytics_spend WHERE member_id = ?", (a["member_id"],))
    queued_before = jobs_repo.counts(app.db, a["member_id"])["queued"]
    site = crawl(app.url, token)
    targets = {f.action: f.fields for f in site.forms if f.method == "post"}
    for route in post_routes(app.server.app):
        targets.setdefault(route, {})
    assert "/app/analytics/spend" in targets and "/app/analytics/refresh" in targets
    for action, fields in targets.items():
        base = {k: v for k, v in fields.items() if k not in ("s", "csrf")}
        for bad in (None, "", "x" * 43, b_csrf):
            data = {**base, "s": token}
            if bad is not None:
                data["csrf"] = bad
            r = requests.post(app.url + action, data=data, timeout=30, allow_redirects=False)
            assert r.status_code == 403, (action, bad, r.status_code, r.text[:200])
            r = requests.post(app.url + action, data={**base, "s": token},
                              headers={"X-CSRF-Token": bad or "y" * 43}, timeout=30, allow_redirects=False)
            assert r.status_code == 403, (action, "header", r.status_code)
    assert app.db.scalar("SELECT COUNT(*) FROM analytics_spend WHERE member_id = ?", (a["member_id"],)) == spend_before
    assert jobs_repo.counts(app.db, a["member_id"])["queued"] == queued_before
    # the right token is accepted (the refusals above were for the token alone)
    r = requests.post(app.url + "/app/analytics/refresh", data={"s": token, "csrf": csrf}, timeout=30,
                      allow_redirects=False)
    assert r.status_code == 303
