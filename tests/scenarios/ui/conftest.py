"""Fixtures and helpers of the settings UI, audit and deal-tab scenarios: the МеталПром portal with the
app installed (page URL registered) and the demo settings, page sessions of any user opened the way
the portal opens them, and a reader of forms that submits them as a browser would."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import lxml.html
import pytest
import requests

from b24app.settings import document
from b24app.settings.demo import portal_facts
from b24app.store import installations
from tests.scenarios.analytics.conftest import install_app, open_app, session_of
from tests.scenarios.harness import AppUnderTest, Sandbox
from tests.scenarios.sync_1c.conftest import mp  # noqa: F401  (fixture: МеталПром with both 1C bases connected)

ADMIN, HEAD_OF_SALES, IVANOV, PETROV, ZUEVA = 1, 2, 3, 4, 5
GRANT_META = re.compile(r'name="b24app-deal" content="([^"]+)"')


@dataclass
class Page:
    """A page session of one user: GET and POST with the session token and CSRF token (``html``: the
    beginning of the page the portal's POST got, as the sandbox reports it)."""

    app: AppUnderTest
    token: str
    csrf: str
    html: str = ""

    def get(self, path: str, **params: Any) -> requests.Response:
        return requests.get(self.app.url + path, params={"s": self.token, **params}, timeout=60,
                            allow_redirects=False)

    def post(self, path: str, data: Any = None, *, csrf: str | None = None, files: Any = None,
             headers: dict[str, str] | None = None, follow: bool = False) -> requests.Response:
        body: Any = list(data.items()) if isinstance(data, dict) else list(data or [])
        body += [("s", self.token), ("csrf", self.csrf if csrf is None else csrf)]
        return requests.post(self.app.url + path, data=body, files=files, headers=headers or {}, timeout=120,
                             allow_redirects=follow)


def open_page(sandbox: Sandbox, app: AppUnderTest, member_id: str, user_id: int, **kw: Any) -> Page:
    res = open_app(sandbox, app, member_id, user_id, **kw)
    assert res["status"] == 200, (res["status"], res["body"][:500])
    token, csrf = session_of(res["body"])
    return Page(app, token, csrf, res["body"])


def grant_of(html: str) -> str:
    m = GRANT_META.search(html)
    assert m, html[:800]
    return m.group(1)


def form_fields(html: str, form_id: str) -> list[tuple[str, str]]:
    """The name/value pairs a browser submits for form ``form_id``: enabled inputs (checked
    checkboxes only), the selected option of each select (or its first), text areas; nothing inside
    ``<template>`` elements (inert until a script clones them)."""
    tree = lxml.html.fromstring(html)
    found = tree.xpath(f'//form[@id="{form_id}"]')
    assert found, f"no form {form_id}"
    out: list[tuple[str, str]] = []
    for el in found[0].iter("input", "select", "textarea"):
        if any(a.tag == "template" for a in el.iterancestors()):
            continue
        name = el.get("name")
        if not name or el.get("disabled") is not None:
            continue
        if el.tag == "input":
            kind = (el.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and el.get("checked") is None:
                continue
            if kind in ("file", "submit", "button"):
                continue
            out.append((name, el.get("value") or ("on" if kind in ("checkbox", "radio") else "")))
        elif el.tag == "select":
            opts = el.xpath(".//option")
            chosen = [o for o in opts if o.get("selected") is not None]
            if chosen or opts:
                o = chosen[-1] if chosen else opts[0]
                out.append((name, o.get("value") if o.get("value") is not None else (o.text or "")))
        else:
            out.append((name, el.text or ""))
    return out


def replace(fields: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    assert any(n == name for n, _ in fields), f"no field {name}"
    return [(n, value if n == name else v) for n, v in fields]


def errors_for(html: str, path: str) -> list[str]:
    tree = lxml.html.fromstring(html)
    return [e.text_content().strip() for e in tree.xpath(f'//*[@data-error-for="{path}"]')]


def stored(app: AppUnderTest, member_id: str) -> tuple[dict[str, Any], int]:
    from b24app.store import settings_repo

    doc, version = settings_repo.load(app.db, member_id)
    return doc or {}, version


@pytest.fixture
def metalprom(sandbox: Sandbox, app_factory: Any) -> tuple[AppUnderTest, dict[str, Any]]:
    """The app in a МеталПром portal with the demo settings of every section (no 1C connection)."""
    app = app_factory()
    portal = sandbox.new_portal("metalprom")
    m = portal["member_id"]
    install_app(sandbox, app, m)
    sandbox.control("PUT", f"/portals/{m}/limits", {"enabled": False})
    installations.set_limits(app.db, m, drain=200, burst=2000)
    document.save(app.db, m, document.demo_document(portal_facts(app.services, m)), updated_by="test")
    return app, portal
