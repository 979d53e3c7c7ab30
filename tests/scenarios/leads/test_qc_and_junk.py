"""Quality control and junk: an e-mail lead goes to the QC operator first; when QC moves it to
"В обработке" it is distributed to sales (found by the QC watch: one request, no update events);
a lead QC marks as junk stays there. Spam (links, emoji, spam words) and blocked e-mail domains
are moved to "Некачественный лид" with the reason in the timeline."""

from __future__ import annotations

from b24app.leads import plugin
from b24app.store import jobs
from b24sandbox.seed.metalprom import PETROV_ID, QC_ID, ZUEVA_ID


def test_quality_control_releases_to_sales(mp) -> None:
    good = mp.add_lead("EMAIL", TITLE="Письмо: арматура 12 мм", EMAIL=[{"VALUE": "snab@stroy-ural.ru",
                                                                         "VALUE_TYPE": "WORK"}])
    bad = mp.add_lead("WEBFORM", TITLE="Форма: непонятно что")
    mp.settle()
    for lead_id in (good, bad):
        d = mp.intake(lead_id)
        assert d.kind == "qc" and d.user_id == QC_ID and int(mp.lead(lead_id)["ASSIGNED_BY_ID"]) == QC_ID
        assert "Лид направлен на контроль качества" in mp.comments(lead_id)[0]["COMMENT"]
    note = [n for n in mp.notifications(QC_ID) if n["tag"] == f"b24app_lead_lead_{good}"]
    assert len(note) == 1 and "ждёт контроля качества" in note[0]["message"]
    assert "Переведите его в статус «В обработке»" in note[0]["message"]
    plugin.enqueue_qc_watch(mp.app.services)  # nothing moved yet: the watch finds nothing to release
    mp.app.drain()
    assert mp.decisions(kind="assign") == []

    mp.rest("crm.lead.update", {"id": good, "fields": {"STATUS_ID": "IN_PROCESS"}}, user_id=QC_ID)
    mp.rest("crm.lead.update", {"id": bad, "fields": {"STATUS_ID": "JUNK"}}, user_id=QC_ID)
    mp.sandbox.wait_deliveries()
    since = mp.last_request_id()
    mp.clock.shift(61)  # the watch runs once a minute
    plugin.enqueue_qc_watch(mp.app.services)
    assert jobs.list_jobs(mp.app.db, kind="leads.qc_watch", status="queued")
    mp.app.drain()
    released = mp.decisions(kind="assign")
    assert [d.entity_id for d in released] == [good] and released[0].phase == "release"
    assert released[0].user_id in (PETROV_ID, ZUEVA_ID)
    assert int(mp.lead(good)["ASSIGNED_BY_ID"]) == released[0].user_id
    assert mp.lead(good)["STATUS_ID"] == "IN_PROCESS"  # QC's status is kept
    assert "прошёл контроль качества" in mp.comments(good)[-1]["COMMENT"]
    assert int(mp.lead(bad)["ASSIGNED_BY_ID"]) == QC_ID and mp.lead(bad)["STATUS_ID"] == "JUNK"
    assert mp.intake(bad).status == "closed"
    assert any(r["method"] == "crm.lead.list" for r in mp.requests_log(since))
    mp.clock.shift(61)
    plugin.enqueue_qc_watch(mp.app.services)  # nothing waits any more: no job
    assert not jobs.list_jobs(mp.app.db, kind="leads.qc_watch", status="queued")


def test_spam_and_blocked_domains_are_junk(mp) -> None:
    links = mp.add_lead("UC_SOCIAL", COMMENTS="Выгодно! https://a.example http://b.example www.c.example")
    emoji = mp.add_lead("UC_SEO", COMMENTS="Привет 🔥🔥🔥💰💰💰 пиши")
    words = mp.add_lead("CALL", COMMENTS="Заработок без вложений, звоните")
    domain = mp.add_lead("UC_YANDEX", EMAIL=[{"VALUE": "Bot@Mailinator.com", "VALUE_TYPE": "WORK"}])
    fine = mp.add_lead("UC_YANDEX", COMMENTS="Нужна арматура, см. https://stroy.example/spec")
    mp.settle()
    expected = {links: "links", emoji: "emoji", words: "pattern", domain: "blocked_domain"}
    for lead_id, code in expected.items():
        d = mp.intake(lead_id)
        assert d.kind == "junk" and d.explanation["junk"]["code"] == code, (lead_id, d.reason)
        lead = mp.lead(lead_id)
        assert lead["STATUS_ID"] == "JUNK" and int(lead["ASSIGNED_BY_ID"]) == 1
        assert "Лид отмечен как некачественный" in mp.comments(lead_id)[0]["COMMENT"]
    assert "mailinator.com" in mp.comments(domain)[0]["COMMENT"]
    assert mp.intake(fine).kind == "assign"
