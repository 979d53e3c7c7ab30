"""Browser tests: real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

The app is served over HTTP (tests/scenarios harness) against the sandbox portal. A page opens the
way Bitrix24 opens it: a portal page holds an ``<iframe>``, and a form POSTs the app page into it
with the fields the portal sends (query ``DOMAIN, PROTOCOL, LANG, APP_SID``; form ``AUTH_ID,
AUTH_EXPIRES, REFRESH_ID, SERVER_ENDPOINT, member_id, status, PLACEMENT, PLACEMENT_OPTIONS,
APPLICATION_TOKEN, APPLICATION_SCOPE`` — b24sandbox/portal/apps.py ``page_post``). The user's token
comes from the sandbox's OAuth authorization-code flow for that user, so admin and non-admin users
can be opened. Screenshots of every page go to ``artifacts/browser/`` (gitignored).

Launch flags follow /work/shared/reference/engineering-patterns.md §4.4.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Frame, Page, sync_playwright

from tests.scenarios.analytics.conftest import portal_post
from tests.scenarios.conftest import app_factory, sandbox  # noqa: F401  (fixtures)
from tests.scenarios.harness import AppUnderTest, Sandbox
from tests.scenarios.sync_1c.conftest import mp  # noqa: F401  (fixture: МеталПром with both 1C bases connected)
from tests.scenarios.ui.conftest import metalprom  # noqa: F401  (fixture: МеталПром with the demo settings)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
FRAME = "b24app"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # module scope: Playwright's sync API keeps an asyncio loop running in the main thread while it is
    # open, and synchronous clients used by later test modules (fast-bitrix24's Bitrix) must not see it
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True, locale="ru-RU")
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot into artifacts/browser/<name>.png (the test's evidence)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def open_in_portal(page: Page, sb: Sandbox, app: AppUnderTest, portal: dict[str, Any], user_id: int,
                   **kw: Any) -> Frame:
    """Show a portal page whose iframe gets the app page POSTed into it; returns the iframe's frame
    once the app's page is in it."""
    action, form = portal_post(sb, app, portal, user_id, **kw)
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in form.items())
    page.set_content(
        f"<!doctype html><html><body style='margin:0'><div style='padding:6px;background:#2fc6f6'>"
        f"Битрикс24 · {html.escape(portal['domain'])}</div>"
        f"<iframe name='{FRAME}' style='width:100%;height:2400px;border:0'></iframe>"
        f"<form id='open' method='post' target='{FRAME}' action='{html.escape(action)}'>{inputs}</form>"
        f"<script>document.getElementById('open').submit();</script></body></html>"
    )
    frame = page.frame(name=FRAME)
    assert frame is not None
    frame.wait_for_selector("main", timeout=15000)
    return frame


def session_token(frame: Frame) -> str:
    """The page session token the app put into the frame's page."""
    token = frame.locator('meta[name="b24app-session"]').get_attribute("content")
    assert token
    return token
