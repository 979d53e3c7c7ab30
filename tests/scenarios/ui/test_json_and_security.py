"""The JSON endpoints of the settings pages (next contract number, 1C status, connection test), the 1C
connections form (passwords never shown, typed ones stored encrypted), CSRF on every new form and
POST route, and no route of the settings UI, the audit page or the deal tab ever reading or changing
another portal."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from b24app.contracts import register
from b24app.leads import store as leads_store
from b24app.settings import document
from b24app.store import jobs as jobs_repo
from b24app.sync_1c import credentials
from b24app.sync_1c.settings_schema import MASK
from tests.scenarios.sync_1c.conftest import Portal
from tests.scenarios.ui.conftest import ADMIN, PETROV, errors_for, form_fields, open_page, replace, stored

OWN_ROUTES = ("/app/settings", "/app/audit", "/app/deal")


def _yy() -> str:
    return f"{dt.datetime.now(ZoneInfo('Europe/Moscow')).year % 100:02d}"


def test_next_contract_number_preview(mp: Portal) -> None:
    admin = open_page(mp.sandbox, mp.app, mp.member_id, ADMIN)
    got = admin.get("/app/settings/contracts/preview.json", code="prepayment").json()
    assert got["ok"] is True
    assert {i["legal_entity"]: i["text"] for i in got["items"]} == {"MP": f"Д-{_yy()}/0001-МП",
                                                                     "MPT": f"Д-{_yy()}/0001-МПТ"}
    year = str(dt.datetime.now(ZoneInfo("Europe/Moscow")).year)
    register.set_counter(mp.app.db, mp.member_id, sequence="prepayment", legal_entity="MP", period=year, value=57)
    got = admin.get("/app/settings/contracts/preview.json", code="prepayment").json()
    assert {i["legal_entity"]: i["text"] for i in got["items"]} == {"MP": f"Д-{_yy()}/0058-МП",
                                                                     "MPT": f"Д-{_yy()}/0001-МПТ"}
    # as it is being typed: another format and prefix, same counters
    got = admin.get("/app/settings/contracts/preview.json", code="prepayment", format="{PREFIX}{YYYY}-{SEQ:5}/{COMPANY}",
                    prefix="ПП").json()
    assert got["items"][0]["text"] == f"ПП{year}-00058/МП"
    bad = admin.get("/app/settings/contracts/preview.json", code="prepayment", format="Д-{NUMBER}").json()
    assert bad["ok"] is False and "NUMBER" in bad["error"] and bad["position"] == 2
    warn = admin.get("/app/settings/contracts/preview.json", code="x_new", format="Д/{SEQ}", reset="yearly").json()
    assert warn["ok"] is True and any("повторяться" in w for w in warn["warnings"])
    # the contracts page shows the preview next to each type
    page = admin.get("/app/settings/s/contracts").text
    assert f"Д-{_yy()}/0058-МП" in page


def test_onec_status_connection_test_and_passwords(mp: Portal) -> None:
    admin = open_page(mp.sandbox, mp.app, mp.member_id, ADMIN)
    bases = mp.bases()
    status = admin.get("/app/settings/onec/status.json").json()
    assert sorted(r["base"] for r in status) == sorted([mp.main, mp.trade])
    r = admin.post("/app/settings/onec/test", {"base": mp.main})
    report = r.json()
    assert r.status_code == 200 and report["ok"] is True and report["summary"] == "Подключение работает."
    assert report["steps"] and all(s["ok"] for s in report["steps"])
    assert bases[mp.main]["password"] not in r.text
    missing = admin.post("/app/settings/onec/test", {"base": "nope"})
    assert missing.status_code == 404 and "nope" in missing.json()["error"]

    page = admin.get("/app/settings/s/onec")
    for b in bases.values():
        assert b["password"] not in page.text
    fields = form_fields(page.text, "settings-form")
    pw = [n for n, _ in fields if n.startswith("onec.bases.") and n.endswith(".password")]
    assert len(pw) == 2 and all(dict(fields)[n] == "" for n in pw)
    assert all(dict(fields)[n + ".set"] == "1" for n in pw)
    # posted back unchanged: the stored passwords stay, the document keeps ***
    assert admin.post("/app/settings/s/onec", fields).status_code == 303
    doc, _ = stored(mp.app, mp.member_id)
    assert [b["password"] for b in doc["onec"]["bases"]] == [MASK, MASK]
    assert admin.post("/app/settings/onec/test", {"base": mp.main}).json()["ok"] is True
    # a password typed for one base: stored encrypted, never in the document or the page
    names = [n.rsplit(".", 1)[0] for n in pw]
    main_prefix = next(p for p in names if dict(fields)[p + ".name"] == mp.main)
    fields = form_fields(admin.get("/app/settings/s/onec").text, "settings-form")
    typed = "Новый-Пароль-1С-4417"
    assert admin.post("/app/settings/s/onec", replace(fields, main_prefix + ".password", typed)).status_code == 303
    doc, _ = stored(mp.app, mp.member_id)
    assert typed not in json.dumps(doc, ensure_ascii=False) and doc["onec"]["bases"][0]["password"] == MASK
    cfg = next(b for b in doc["onec"]["bases"] if b["name"] == mp.main)
    assert credentials.password_for(mp.app.db, mp.app.services.secrets, mp.member_id, cfg) == typed
    assert typed not in admin.get("/app/settings/s/onec").text
    # the 1C base now answers 401 to the wrong password: the test says so, step by step
    failed = admin.post("/app/settings/onec/test", {"base": mp.main}).json()
    assert failed["ok"] is False and failed["failed_step"] and "ошибка на шаге" in failed["summary"]
    # queue a sync now
    before = len(jobs_repo.list_jobs(mp.app.db, kind="sync_1c.pull", member_id=mp.member_id))
    assert admin.post("/app/settings/onec/run", {}).status_code == 303
    assert len(jobs_repo.list_jobs(mp.app.db, kind="sync_1c.pull", member_id=mp.member_id)) == before + 2


def _own_post_routes(app: Any) -> list[str]:
    out = []
    for rule in app.server.app.url_map.iter_rules():
        if "POST" in (rule.methods or ()) and rule.rule.startswith(OWN_ROUTES):
            out.append(rule.rule.replace("<name>", "distribution"))
    return sorted(out)


def test_every_new_form_needs_its_own_csrf_token(sandbox, metalprom, app_factory) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    admin = open_page(sandbox, app, m, ADMIN)
    other = open_page(sandbox, app, m, ADMIN)
    routes = _own_post_routes(app)
    assert {"/app/settings/s/distribution", "/app/settings/import", "/app/settings/distribution/pause",
            "/app/settings/contracts/template", "/app/settings/onec/test", "/app/audit/retry",
            "/app/deal/contract", "/app/deal/invoice"} <= set(routes)
    fields = dict(form_fields(admin.get("/app/settings/s/distribution").text, "settings-form"))
    before = stored(app, m)
    queued = jobs_repo.counts(app.db, m)["queued"]
    for route in routes:
        data = {k: v for k, v in fields.items() if k not in ("s", "csrf")} | {"user_id": str(PETROV), "yaml": "{}"}
        for bad in ("", "0" * 40, other.csrf):
            r = admin.post(route, data, csrf=bad)
            assert r.status_code == 403, (route, bad, r.status_code)
            assert "Форма устарела" in r.text
    assert stored(app, m) == before
    assert leads_store.paused(app.db, m) == {}
    assert jobs_repo.counts(app.db, m)["queued"] == queued


@pytest.fixture
def two_portals(sandbox, app_factory) -> dict[str, Any]:
    from b24app.settings.demo import portal_facts
    from tests.scenarios.analytics.conftest import install_app

    app = app_factory()
    out: dict[str, Any] = {"app": app}
    for key, stuck in (("a", 14), ("b", 77.5)):
        portal = sandbox.new_portal("metalprom")
        m = portal["member_id"]
        install_app(sandbox, app, m)
        doc = document.demo_document(portal_facts(app.services, m))
        doc["analytics"]["stuck_days"] = stuck
        document.save(app.db, m, doc)
        out[key] = portal
    return out


def test_no_new_route_reads_or_changes_another_portal(sandbox, two_portals) -> None:
    app, a, b = two_portals["app"], two_portals["a"], two_portals["b"]
    ma, mb = a["member_id"], b["member_id"]
    b_job, _ = jobs_repo.enqueue(app.db, "contracts.issue", {"deal_id": 999999, "type": "prepayment"}, member_id=mb,
                                 max_attempts=1)
    app.drain()
    assert jobs_repo.get(app.db, b_job).status == "dead"  # type: ignore[union-attr]
    leads_store.pause(app.db, mb, PETROV, by=ADMIN, reason="B-only")
    b_before = stored(app, mb)
    admin = open_page(sandbox, app, ma, ADMIN)
    foreign = {"member_id": mb, "portal": mb, "member": mb, "domain": b["domain"], "DOMAIN": b["domain"]}
    gets = ["/app/settings", "/app/settings/export.yaml", "/app/audit", "/app/settings/contracts/preview.json",
            "/app/settings/onec/status.json"] + [f"/app/settings/s/{n}" for n in
                                                 ("general", "calendar", "distribution", "stages", "sla",
                                                  "contracts", "onec", "analytics")]
    for path in gets:
        r = admin.get(path, **foreign)
        assert r.status_code == 200, path
        assert mb not in r.text and b["domain"] not in r.text and "B-only" not in r.text, path
        assert "77.5" not in r.text and "77,5" not in r.text, path
    assert 'value="14"' in admin.get("/app/settings/s/analytics", **foreign).text
    # forms naming portal B change portal A only
    fields = form_fields(admin.get("/app/settings/s/analytics").text, "settings-form")
    fields = replace(fields, "analytics.stuck_days", "15") + list(foreign.items())
    assert admin.post("/app/settings/s/analytics", fields).status_code == 303
    assert stored(app, ma)[0]["analytics"]["stuck_days"] == 15
    assert admin.post("/app/settings/distribution/pause", {"user_id": "5", **foreign}).status_code == 303
    assert list(leads_store.paused(app.db, ma)) == [5] and list(leads_store.paused(app.db, mb)) == [PETROV]
    assert admin.post("/app/settings/distribution/resume", {"user_id": str(PETROV), **foreign}).status_code == 303
    assert list(leads_store.paused(app.db, mb)) == [PETROV]
    # B's job does not exist for A: no retry, no status through a deal tab of A
    assert admin.post("/app/audit/retry", {"job_id": str(b_job), **foreign}).status_code == 404
    assert jobs_repo.get(app.db, b_job).status == "dead"  # type: ignore[union-attr]
    tab = open_page(sandbox, app, ma, ADMIN, placement="CRM_DEAL_DETAIL_TAB", options={"ID": "5", "member_id": mb})
    from tests.scenarios.ui.conftest import grant_of

    grant = grant_of(tab.html)
    r = tab.get(f"/app/deal/job/{b_job}", g=grant, **foreign)
    assert r.status_code == 404
    r = tab.get("/app/deal", g=grant, **foreign)
    assert r.status_code == 200 and mb not in r.text and b["domain"] not in r.text
    # an import naming portal B imports into A
    text = admin.get("/app/settings/export.yaml").text
    assert admin.post("/app/settings/import", {"yaml": text, **foreign}).status_code == 303
    assert stored(app, mb) == b_before


def test_validation_errors_are_shown_next_to_the_field_in_every_kind_of_field(sandbox, metalprom) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    admin = open_page(sandbox, app, m, ADMIN)
    cases = {
        "general": [("general.timezone", "Europe Moscow", "general.timezone", "неверный формат")],
        "contracts": [("contracts.types.0.format", "Д-{NUMBER}", "contracts.types[0].format", "NUMBER")],
        "sla": [("sla.scan_every_minutes", "0", "sla.scan_every_minutes", "не может быть меньше 1")],
        "calendar": [("calendar.schedule.hours", "25:00-26:00", "calendar.schedule.hours", "")],
    }
    for section, edits in cases.items():
        fields = form_fields(admin.get(f"/app/settings/s/{section}").text, "settings-form")
        for name, value, _path, _text in edits:
            fields = replace(fields, name, value)
        r = admin.post(f"/app/settings/s/{section}", fields)
        assert r.status_code == 422, section
        for _name, _value, path, text in edits:
            shown = errors_for(r.text, path)
            assert shown and all(text in e for e in shown), (section, path, shown)
    assert stored(app, m)[1] == 1
