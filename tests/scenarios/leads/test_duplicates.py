"""Repeat clients and duplicates on arrival (ONCRMLEADADD, one lead at a time): the phone of an
existing contact written in another format (crm.duplicate.findbycomm with every spelling, then the
owners) hands the lead to the contact's owner — through the contact's open deal — or, when the owner
is on vacation, to the rule's pool; an e-mail in another letter case finds its contact too; the
second lead of a pair from two channels follows the first; with ``action: mark_junk`` a duplicate is
marked as junk instead. The timeline names the duplicate and its owner."""

from __future__ import annotations

from b24sandbox.seed.metalprom import IVANOV_ID, PETROV_ID, QC_ID, ZUEVA_ID


def fire_add(mp, lead_id: int) -> None:
    mp.sandbox.control("POST", f"/portals/{mp.member_id}/fire-event",
                       {"event": "ONCRMLEADADD", "data": {"FIELDS": {"ID": str(lead_id)}}})
    mp.settle()


def test_repeat_clients_and_duplicates_on_arrival(mp) -> None:
    for r in mp.story["repeat_client_leads"]:
        fire_add(mp, r["lead_id"])
        d = mp.intake(r["lead_id"])
        lead = mp.lead(r["lead_id"])
        text = " ".join(c["COMMENT"] for c in mp.comments(r["lead_id"]))
        if r["owner_id"] == IVANOV_ID:
            assert d.kind == "assign" and d.user_id in (PETROV_ID, ZUEVA_ID)
            assert "Ответственный по клиенту Иванов Иван сейчас не может принять лид" in text
        else:
            assert d.kind == "repeat_client" and d.user_id == r["owner_id"], d.reason
            assert "Повторный клиент" in text and f"#{r['contact_id']}" in text
            assert ("Петров" if r["owner_id"] == PETROV_ID else "Зуева") in text
            if r["match"] == "email":
                assert "e-mail" in text and d.explanation["match"]["via"] == "email"
        assert int(lead["ASSIGNED_BY_ID"]) == d.user_id

    (a, b), (c, e) = mp.story["duplicate_lead_pairs"]
    fire_add(mp, a)
    fire_add(mp, b)
    first, second = mp.intake(a), mp.intake(b)
    assert first.kind == "qc" and first.user_id == QC_ID  # a site form: quality control first
    assert second.kind == "duplicate" and second.user_id == QC_ID and second.explanation["match"]["id"] == a
    assert f"лидом #{a}" in mp.comments(b)[0]["COMMENT"] and "Орлов" in mp.comments(b)[0]["COMMENT"]

    mp.configure(duplicates__action="mark_junk")
    fire_add(mp, c)
    fire_add(mp, e)
    assert mp.intake(c).kind == "qc"
    junk = mp.intake(e)
    assert junk.kind == "junk" and junk.new_status == "JUNK" and junk.explanation["junk"]["code"] == "duplicate"
    assert mp.lead(e)["STATUS_ID"] == "JUNK" and int(mp.lead(e)["ASSIGNED_BY_ID"]) == 1
    assert "дубль" in mp.comments(e)[0]["COMMENT"]
