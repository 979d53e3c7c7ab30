"""POST /install: the install URL of both kinds of app.

- With UI: the admin's browser posts the app page (AUTH_ID, REFRESH_ID, member_id, DOMAIN,
  APPLICATION_TOKEN ...). We prove the token against the OAuth server, store the installation,
  queue the registration of robots/events/widgets, and answer a page that calls
  ``BX24.installFinish()``.
- Without UI: the portal posts the ONAPPINSTALL event here; same proof, same registration.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, render_template

from b24app.handlers.common import ok, read_form, read_query
from b24app.handlers.pipeline import accept_event, store_install
from b24app.messages import normalize_lang, t
from b24app.portal.inbound import parse_event, parse_placement
from b24app.store import inbound
from b24app.web.app import services

bp = Blueprint("install", __name__)


@bp.post("/install")
def install() -> Any:
    form = read_form()
    if "event" in form:
        accept_event(services(), parse_event(form))
        return ok()
    page = parse_placement(form, read_query())
    svc = services()
    inst = store_install(svc, page.auth_id, page.refresh_id, None, page.auth_expires, page.member_id,
                         page.application_token, page.lang)
    key = "install-page:" + page.member_id + ":" + hashlib.sha256(page.auth_id.encode()).hexdigest()[:16]
    inbound.record_with_job(
        svc.db, member_id=page.member_id, kind="install", name="INSTALL_PAGE", dedupe_key=key,
        payload={"domain": page.domain, "lang": page.lang}, job_kind="app.register",
        job_payload={"reason": "install page"}, priority=50,
    )
    lang = normalize_lang(page.lang)
    return render_template("install.html", lang=lang, title=t("install.title", lang),
                           done=t("install.done", lang), domain=inst.domain)
