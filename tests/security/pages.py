"""Helpers of the security tests: a crawler over the app's pages as one portal session sees them
(every link and form under ``/app`` reachable from the home page), so the checks cover every page
that exists now and every page added later (the settings UI, the deal tab ...) without a list."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

HREF = re.compile(r'href="([^"]+)"')
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')
INPUT = re.compile(r"<(input|select|textarea)\b([^>]*)>", re.I)


@dataclass
class Form:
    action: str  # path with its query
    method: str
    fields: dict[str, str]


@dataclass
class Site:
    pages: dict[str, str] = field(default_factory=dict)  # path?query (without the session) -> HTML
    forms: list[Form] = field(default_factory=list)


def _strip_session(url: str) -> str:
    parts = urlsplit(unescape(url))
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "s"]
    return parts.path + ("?" + urlencode(query) if query else "")


def crawl(base: str, token: str, start: str = "/app", limit: int = 80) -> Site:
    """Every page under /app reachable by links from ``start`` (GET, the session in the header),
    with the forms on them."""
    site = Site()
    todo = [start]
    while todo and len(site.pages) < limit:
        path = todo.pop(0)
        if path in site.pages:
            continue
        r = requests.get(base + path, headers={"X-B24App-Session": token}, timeout=30)
        ctype = r.headers.get("Content-Type", "")
        site.pages[path] = r.text if "html" in ctype or "text" in ctype or "json" in ctype else ""
        if "html" not in ctype:
            continue
        for href in HREF.findall(r.text):
            target = _strip_session(href)
            if target.startswith("/app") and target not in site.pages and target not in todo:
                todo.append(target)
        for attrs, body in FORM.findall(r.text):
            a = dict(ATTR.findall(attrs))
            fields: dict[str, str] = {}
            for _tag, iattrs in INPUT.findall(body):
                ia = dict(ATTR.findall(iattrs))
                if ia.get("name"):
                    fields[ia["name"]] = unescape(ia.get("value", ""))
            action = _strip_session(a.get("action") or path)
            site.forms.append(Form(action, (a.get("method") or "get").lower(), fields))
    return site


def post_routes(flask_app: Any) -> list[str]:
    """Every POST route of the app's pages (``/app/...``) without URL arguments."""
    out = []
    for rule in flask_app.url_map.iter_rules():
        if "POST" in (rule.methods or ()) and rule.rule.startswith("/app") and not rule.arguments:
            out.append(rule.rule)
    return sorted(out)
