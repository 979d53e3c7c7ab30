"""The settings pages over real HTTP against the МеталПром sandbox portal: every section drawn for an
administrator (editable) and a manager (read-only); a page's own form posted back unchanged stores
the same document (nothing lost or invented by drawing and reading); edits land in the store;
problems come back next to their fields with nothing stored; a concurrent save is refused; YAML
export and import; pauses; template upload; non-administrators cannot save."""

from __future__ import annotations

import base64
import copy

import lxml.html
import requests
import yaml

from b24app.contracts.templates import default_template
from b24app.leads import store as leads_store
from b24app.settings import document
from b24app.web.views.settings import section_names
from tests.scenarios.analytics.conftest import portal_post, session_of
from tests.scenarios.ui.conftest import (
    ADMIN,
    HEAD_OF_SALES,
    PETROV,
    ZUEVA,
    errors_for,
    form_fields,
    open_page,
    replace,
    stored,
)

SECTIONS = ("general", "calendar", "distribution", "stages", "sla", "contracts", "onec", "analytics")


def test_every_section_round_trips_unchanged(sandbox, metalprom) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    assert set(SECTIONS) <= set(section_names())
    admin = open_page(sandbox, app, m, ADMIN)
    for name in SECTIONS:
        before, version = stored(app, m)
        r = admin.get(f"/app/settings/s/{name}")
        assert r.status_code == 200, (name, r.text[:500])
        assert 'id="save"' in r.text and 'id="read-only"' not in r.text
        fields = form_fields(r.text, "settings-form")
        assert ("_version", str(version)) in fields
        saved = admin.post(f"/app/settings/s/{name}", fields)
        assert saved.status_code == 303, (name, saved.status_code, _problems(saved.text))
        after, new_version = stored(app, m)
        assert new_version == version + 1
        a, b = document.check(after)[0], document.check(before)[0]
        assert a == b, (name, _diff(b, a))


def _diff(old: object, new: object, path: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        return [d for k in sorted(set(old) | set(new), key=str) for d in _diff(old.get(k, "<none>"),
                                                                               new.get(k, "<none>"), f"{path}.{k}")]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for i, (o, n) in enumerate(zip(old, new, strict=True)) for d in _diff(o, n, f"{path}[{i}]")]
    return [] if old == new else [f"{path}: {old!r} -> {new!r}"]


def _problems(html: str) -> list[str]:
    tree = lxml.html.fromstring(html)
    return [li.text_content().strip() for li in tree.xpath('//*[@id="problems"]//li')][:20]


def test_distribution_edit_reorder_weight_and_schedule(sandbox, metalprom) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    admin = open_page(sandbox, app, m, ADMIN)
    page = admin.get("/app/settings/s/distribution")
    fields = form_fields(page.text, "settings-form")
    doc, _ = stored(app, m)
    rules = [r["name"] for r in doc["distribution"]["rules"]]
    pools = list(doc["distribution"]["pools"])
    ads = pools.index("ads")
    # the last rule first (the page sends items in their order on the page)
    last = len(rules) - 1
    moved = [f for f in fields if f[0].startswith(f"distribution.rules.{last}.")]
    rest = [f for f in fields if not f[0].startswith(f"distribution.rules.{last}.")]
    at = next(i for i, f in enumerate(rest) if f[0].startswith("distribution.rules.0."))
    fields = rest[:at] + moved + rest[at:]
    # Петров's weight in the ads pool 2 -> 5; Зуева's own hours
    petrov_row = next(n.rsplit(".", 1)[0] for n, v in fields
                      if n.startswith(f"distribution.pools.{ads}.v.weights.") and n.endswith(".k") and v == str(PETROV))
    fields = replace(fields, petrov_row + ".v", "5")
    fields += [("calendar.users.77.k", str(ZUEVA)), ("calendar.users.77.v.hours", "10:00-19:00")]
    r = admin.post("/app/settings/s/distribution", fields)
    assert r.status_code == 303, _problems(r.text)
    doc, _ = stored(app, m)
    assert [x["name"] for x in doc["distribution"]["rules"]] == [rules[last]] + rules[:last]
    assert doc["distribution"]["pools"]["ads"]["weights"] == {str(PETROV): 5, str(ZUEVA): 1}
    assert doc["distribution"]["pools"]["ads"]["users"] == [PETROV, ZUEVA]
    assert doc["calendar"]["users"][str(ZUEVA)] == {"hours": "10:00-19:00"}
    again = admin.get("/app/settings/s/distribution", saved="1")
    assert "Настройки сохранены" in again.text


def test_problems_are_shown_next_to_their_fields_and_nothing_is_stored(sandbox, metalprom) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    admin = open_page(sandbox, app, m, ADMIN)
    before = stored(app, m)
    fields = form_fields(admin.get("/app/settings/s/distribution").text, "settings-form")
    doc = before[0]
    ads = list(doc["distribution"]["pools"]).index("ads")
    petrov_row = next(n.rsplit(".", 1)[0] for n, v in fields
                      if n.startswith(f"distribution.pools.{ads}.v.weights.") and n.endswith(".k") and v == str(PETROV))
    fields = replace(fields, petrov_row + ".v", "-3")
    fields = replace(fields, "distribution.rules.2.pool", "")
    fields = replace(fields, "distribution.caps.daily", "много")
    r = admin.post("/app/settings/s/distribution", fields)
    assert r.status_code == 422
    assert errors_for(r.text, f"distribution.pools.ads.weights.{PETROV}") == ["не может быть меньше 0"]
    assert errors_for(r.text, "distribution.rules[2].pool")
    assert errors_for(r.text, "distribution.caps.daily") == ["должно быть целым числом"]
    assert "Не сохранено" in r.text
    # the page keeps what the person typed
    tree = lxml.html.fromstring(r.text)
    assert tree.xpath(f'//input[@name="{petrov_row}.v"]')[0].get("value") == "-3"
    assert stored(app, m) == before


def test_stage_pickers_and_stages_unknown_to_the_portal(sandbox, metalprom) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    admin = open_page(sandbox, app, m, ADMIN)
    page = admin.get("/app/settings/s/stages")
    tree = lxml.html.fromstring(page.text)
    select = tree.xpath('//select[@name="stages.rules.0.stage"]')[0]
    groups = [g.get("label") for g in select.xpath("./optgroup")]
    assert "Лиды" in groups and any(g.startswith("Сделки") for g in groups)
    assert "UC_APPROVAL" in [o.get("value") for o in select.xpath(".//option")]
    fields = replace(form_fields(page.text, "settings-form"), "stages.rules.0.stage", "UC_NO_SUCH")
    r = admin.post("/app/settings/s/stages", fields)
    assert r.status_code == 422
    assert any("нет на портале" in e for e in errors_for(r.text, "stages.rules[0].stage"))


def test_a_concurrent_save_is_refused_with_a_clear_message(sandbox, metalprom) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    first = open_page(sandbox, app, m, ADMIN)
    second = open_page(sandbox, app, m, ADMIN)
    f1 = form_fields(first.get("/app/settings/s/analytics").text, "settings-form")
    f2 = form_fields(second.get("/app/settings/s/analytics").text, "settings-form")
    assert first.post("/app/settings/s/analytics", replace(f1, "analytics.stuck_days", "21")).status_code == 303
    r = second.post("/app/settings/s/analytics", replace(f2, "analytics.stuck_days", "30"))
    assert r.status_code == 409
    assert "сохранил кто-то другой" in lxml.html.fromstring(r.text).xpath('//*[@id="conflict"]')[0].text_content()
    assert stored(app, m)[0]["analytics"]["stuck_days"] == 21


def test_non_administrators_read_but_cannot_save(sandbox, metalprom) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    head = open_page(sandbox, app, m, HEAD_OF_SALES)
    admin = open_page(sandbox, app, m, ADMIN)
    fields = form_fields(admin.get("/app/settings/s/distribution").text, "settings-form")
    before = stored(app, m)
    for name in SECTIONS:
        r = head.get(f"/app/settings/s/{name}")
        if name == "onec":  # 1C addresses and logins: administrators only
            assert r.status_code == 403 and "только администраторам" in r.text
            continue
        assert r.status_code == 200
        assert 'id="read-only"' in r.text and 'id="save"' not in r.text and 'method="post"' not in r.text, name
    forged = [(n, v) for n, v in fields if n not in ("s", "csrf")]
    r = head.post("/app/settings/s/distribution", forged)
    assert r.status_code == 403 and "только для администраторов" in r.text
    for path, data in (("/app/settings/import", {"yaml": "general: {lang: en}"}),
                       ("/app/settings/distribution/pause", {"user_id": str(PETROV)}),
                       ("/app/settings/contracts/template/delete", {"code": "x"}),
                       ("/app/settings/onec/test", {"base": "x"}), ("/app/settings/onec/retry", {}),
                       ("/app/settings/onec/run", {})):
        assert head.post(path, data).status_code == 403, path
    assert head.get("/app/settings/export.yaml").status_code == 403
    assert head.get("/app/settings/onec/status.json").status_code == 403
    assert 'data-section="onec"' not in head.get("/app/settings").text
    assert stored(app, m) == before
    assert leads_store.paused(app.db, m) == {}


def test_yaml_export_and_import(sandbox, metalprom) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    admin = open_page(sandbox, app, m, ADMIN)
    r = admin.get("/app/settings/export.yaml")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/yaml")
    assert "attachment" in r.headers["Content-Disposition"]
    exported = yaml.safe_load(r.text)
    assert exported == document.load(app.db, m)
    changed = copy.deepcopy(exported)
    changed["analytics"]["contract_days"] = 9
    _, version = stored(app, m)
    text = yaml.safe_dump(changed, allow_unicode=True)
    r = admin.post("/app/settings/import", {"_version": str(version)},
                   files={"file": ("settings.yaml", text.encode(), "text/yaml")})
    assert r.status_code == 303, _problems(r.text)
    assert stored(app, m) == (document.check(changed)[0], version + 1)
    # a file with several problems: every one listed, nothing stored
    bad = copy.deepcopy(changed)
    bad["distribution"]["rules"][1]["pool"] = "nobody"
    bad["contracts"]["types"][0]["format"] = "Д-{NUMBER}"
    bad["general"]["timezone"] = "Europe Moscow"
    before = stored(app, m)
    r = admin.post("/app/settings/import", {"_version": str(version + 1),
                                            "yaml": yaml.safe_dump(bad, allow_unicode=True)})
    assert r.status_code == 422
    listed = " | ".join(_problems(r.text))
    for path in ("distribution.rules[1].pool", "contracts.types[0].format", "general.timezone"):
        assert path in listed, listed
    assert stored(app, m) == before
    r = admin.post("/app/settings/import", {"yaml": "general: [unclosed"})
    assert r.status_code == 422 and "YAML" in " ".join(_problems(r.text))


def test_pause_and_resume_a_manager(sandbox, metalprom) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    admin = open_page(sandbox, app, m, ADMIN)
    r = admin.post("/app/settings/distribution/pause", {"user_id": str(PETROV), "reason": "Отпуск"})
    assert r.status_code == 303
    paused = leads_store.paused(app.db, m)
    assert list(paused) == [PETROV] and paused[PETROV]["reason"] == "Отпуск" and paused[PETROV]["paused_by"] == ADMIN
    page = admin.get("/app/settings/s/distribution")
    row = lxml.html.fromstring(page.text).xpath(f'//tr[@data-paused="{PETROV}"]')[0].text_content()
    assert "Петров" in row and "Отпуск" in row
    assert admin.post("/app/settings/distribution/resume", {"user_id": str(PETROV)}).status_code == 303
    assert leads_store.paused(app.db, m) == {}
    assert admin.post("/app/settings/distribution/pause", {"user_id": "abc"}).status_code == 400


def test_contract_template_upload_checked_and_removed(sandbox, metalprom) -> None:
    app, portal = metalprom
    m = portal["member_id"]
    admin = open_page(sandbox, app, m, ADMIN)
    _, version = stored(app, m)
    data = default_template("prepayment")
    r = admin.post("/app/settings/contracts/template", {"code": "supply_2027", "title": "Поставка 2027",
                                                        "_version": str(version)},
                   files={"file": ("supply.docx", data, "application/octet-stream")})
    assert r.status_code == 303, _problems(r.text)
    doc, _ = stored(app, m)
    tpl = doc["contracts"]["templates"]["supply_2027"]
    assert tpl["title"] == "Поставка 2027" and base64.b64decode(tpl["base64"]) == data
    page = admin.get("/app/settings/s/contracts")
    assert 'data-template-code="supply_2027"' in page.text
    assert tpl["base64"][:40] not in page.text  # the file itself is never put into the page
    # the contracts form posted back keeps the uploaded template (it is not part of the form)
    fields = form_fields(page.text, "settings-form")
    assert admin.post("/app/settings/s/contracts", fields).status_code == 303
    assert stored(app, m)[0]["contracts"]["templates"]["supply_2027"]["base64"] == tpl["base64"]
    before = stored(app, m)
    r = admin.post("/app/settings/contracts/template", {"code": "broken"},
                   files={"file": ("broken.docx", b"not a zip", "application/octet-stream")})
    assert r.status_code == 422
    assert errors_for(r.text, "contracts.templates.broken") == ["это не файл Word .docx"]
    assert stored(app, m) == before
    assert admin.post("/app/settings/contracts/template/delete", {"code": "supply_2027"}).status_code == 303
    assert "supply_2027" not in stored(app, m)[0]["contracts"]["templates"]


def test_pages_in_english(sandbox, metalprom) -> None:
    app, portal = metalprom
    url, form = portal_post(sandbox, app, portal, ADMIN, lang="en")
    token, _ = session_of(requests.post(url, data=form, timeout=30).text)
    page = requests.get(app.url + "/app/settings/s/distribution", params={"s": token}, timeout=30).text
    assert "Pools of managers" in page and "Rules (the first that matches wins)" in page
    assert ">Save<" in page and "Сохранить" not in page
    tree = lxml.html.fromstring(page)
    assert [o.text for o in tree.xpath('//select[@name="distribution.rules.0.strategy"]/option')] == [
        "Round robin", "By weight", "Least loaded", "Random"]
