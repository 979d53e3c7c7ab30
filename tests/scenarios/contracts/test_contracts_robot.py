"""The robot «Сформировать договор» on the МеталПром sandbox portal, over real HTTP: the document read back
from Disk with python-docx, the deal's fields, the timeline, the register; retries (repeated runs, answers
lost after the portal committed) make no second number, file or comment; missing requisites end the robot
with a clear error in the workflow log and take no number."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from b24app.contracts import attach, register
from b24app.contracts.words import amount_in_words_ru
from b24app.store import jobs
from tests.scenarios.contracts.conftest import Portal, docx_text, lower_keys

MSK = ZoneInfo("Europe/Moscow")


def yy() -> str:
    return f"{dt.datetime.now(MSK).year % 100:02d}"


def enter_stage(p: Portal, deal_id: int, stage: str = "UC_CONTRACT") -> None:
    p.sandbox.control(
        "POST",
        f"/portals/{p.member_id}/stage-entered",
        {"entity": "deal", "id": deal_id, "category_id": 0, "stage_id": stage},
    )
    p.sandbox.wait_deliveries()
    p.app.drain()


def folder_files(p: Portal, file_id: int) -> tuple[str, list[dict[str, Any]]]:
    info = p.rest("disk.file.get", {"id": file_id})
    folder = p.rest("disk.folder.get", {"id": info["PARENT_ID"]})
    return folder["NAME"], p.rest("disk.folder.getchildren", {"id": info["PARENT_ID"]})


def comments(p: Portal, deal_id: int) -> list[dict[str, Any]]:
    return p.rest("crm.timeline.comment.list", {"filter": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"}})


def test_robot_makes_the_contract_of_a_metalprom_deal(metalprom: Portal) -> None:
    p = metalprom
    deal_id = p.deal_of(1)  # ООО «МеталПром»
    p.add_rule("UC_CONTRACT", {"contract_type": "prepayment", "output_format": "docx"})
    enter_stage(p, deal_id)

    run = p.done_run(deal_id)
    values = lower_keys(run["return_values"])
    assert values["ok"] in ("Y", True, 1, "1"), run
    number = values["number"]
    assert number == f"Д-{yy()}/0001-МП"
    today = dt.datetime.now(MSK).date()
    assert values["date"] == today.strftime("%d.%m.%Y")
    assert any(f"договор № {number}" in str(entry) for entry in run["log"])

    # the document on Disk, read back
    file_id = int(values["file_id"])
    folder, files = folder_files(p, file_id)
    assert folder == f"Сделка {deal_id}" and [f["NAME"] for f in files] == [
        f"Договор поставки Д-{yy()}-0001-МП.docx"
    ]
    _, data = p.file_bytes(file_id)
    text = docx_text(data)
    deal = p.rest("crm.deal.get", {"id": deal_id})
    requisite = p.rest(
        "crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": deal["COMPANY_ID"]}}
    )[0]
    rows = p.rest("crm.deal.productrows.get", {"id": deal_id})
    total = sum(Decimal(str(r["PRICE"])) * Decimal(str(r["QUANTITY"])) for r in rows)
    assert f"ДОГОВОР ПОСТАВКИ № {number}" in text
    assert f"ИНН {requisite['RQ_INN']}, КПП {requisite['RQ_KPP']}" in text
    assert "ИНН 7448053174, КПП 744801001" in text  # our legal entity
    for r in rows:
        assert r["PRODUCT_NAME"] in text
    assert amount_in_words_ru(total) in text
    assert f"{today.day:02d}» " in text

    # the deal's fields, the enumeration automation can branch on, the timeline, the register
    fields = {f["FIELD_NAME"]: f for f in p.rest("crm.deal.userfield.list")}
    enum = {i["XML_ID"]: i for i in fields[attach.FIELD_TYPE]["LIST"]}
    assert set(enum) == {"prepayment", "deferred", "tender", "government", "dealer", "claim"}
    assert enum["claim"]["VALUE"] == "Досудебная претензия"
    assert deal[attach.FIELD_NUMBER] == number
    assert str(deal[attach.FIELD_TYPE]) == str(enum["prepayment"]["ID"])
    assert deal[attach.FIELD_DATE].startswith(today.isoformat())
    assert deal[attach.FIELD_URL] == values["document_url"] != ""
    got = comments(p, deal_id)
    assert len(got) == 1 and number in got[0]["COMMENT"] and len(got[0]["FILES"]) == 1
    contract = register.contract_for_deal(p.app.db, p.member_id, deal_id)
    assert contract == {
        "number": number,
        "date": today.isoformat(),
        "type": "prepayment",
        "legal_entity": "MP",
        "status": "issued",
        "id": contract["id"],
        "file_id": file_id,
        "document_url": values["document_url"],
    }

    # entering the stage again (a retried or repeated robot) gives the same contract, nothing new
    enter_stage(p, deal_id)
    second = lower_keys(p.done_run(deal_id, count=2)["return_values"])
    assert second["number"] == number and int(second["file_id"]) == file_id
    assert len(folder_files(p, file_id)[1]) == 1 and len(comments(p, deal_id)) == 1
    assert len(register.list_contracts(p.app.db, p.member_id, deal_id=deal_id)) == 1


def test_answers_lost_after_the_portal_committed_make_no_second_file_or_comment(metalprom: Portal) -> None:
    p = metalprom
    deal_id = p.deal_of(2)  # ООО «МеталПром Трейд»: its own sequence
    p.add_rule("UC_CONTRACT", {"contract_type": "deferred"})
    p.sandbox.control(
        "PUT",
        f"/portals/{p.member_id}/faults",
        {"commit_then_500_rate": 1.0, "methods": ["disk.folder.uploadfile", "crm.timeline.comment.add"]},
    )
    try:
        enter_stage(p, deal_id)
    finally:
        p.sandbox.control("PUT", f"/portals/{p.member_id}/faults", {"commit_then_500_rate": 0})
    values = lower_keys(p.done_run(deal_id)["return_values"])
    assert values["ok"] in ("Y", True, 1, "1"), values
    assert values["number"] == f"ДО-{yy()}/0001-МПТ"
    calls = [
        (r["method"], r.get("fault")) for r in p.sandbox.control("GET", f"/portals/{p.member_id}/requests")
    ]
    # each create reached the portal once, its answer was lost, and the app found the object instead
    assert calls.count(("disk.folder.uploadfile", "commit_then_500")) == 1
    assert calls.count(("crm.timeline.comment.add", "commit_then_500")) == 1
    assert [m for m, _ in calls].count("disk.folder.uploadfile") == 1
    assert [m for m, _ in calls].count("crm.timeline.comment.add") == 1
    assert jobs.counts(p.app.db)["dead"] == 0
    _, files = folder_files(p, int(values["file_id"]))
    assert [f["NAME"] for f in files] == [f"Договор поставки с отсрочкой платежа ДО-{yy()}-0001-МПТ.docx"]
    assert len(comments(p, deal_id)) == 1
    assert (
        register.counter_value(p.app.db, p.member_id, "deferred", "MPT", str(dt.datetime.now(MSK).year)) == 1
    )


def test_missing_requisites_fail_the_robot_with_a_clear_error_and_take_no_number(metalprom: Portal) -> None:
    p = metalprom
    deal_id, company = p.incomplete_deal()
    p.add_rule("NEW", {"contract_type": "prepayment"})
    enter_stage(p, deal_id, "NEW")
    run = p.done_run(deal_id)
    values = lower_keys(run["return_values"])
    assert values["ok"] in ("N", False, 0, "0", ""), run
    error = values["error"]
    assert f"компания «{company['TITLE']}» (ID {company['ID']})" in error
    for field in ("ИНН", "КПП", "ОГРН", "юридический адрес", "банковские реквизиты"):
        assert field in error
    assert any("Ошибка приложения" in str(e) and "Новый Горизонт" in str(e) for e in run["log"])
    assert register.list_contracts(p.app.db, p.member_id) == []
    assert p.app.db.query("SELECT * FROM contracts_counters WHERE member_id = ?", (p.member_id,)) == []
    assert not p.rest("crm.deal.get", {"id": deal_id}).get(attach.FIELD_NUMBER)


def test_a_robot_retried_after_failing_mid_way_keeps_its_reserved_number(metalprom: Portal) -> None:
    from b24app.jobs.worker import Worker

    p = metalprom
    deal_id = p.deal_of(1)
    p.add_rule("UC_CONTRACT", {"contract_type": "tender"})
    p.sandbox.control(
        "PUT",
        f"/portals/{p.member_id}/faults",
        {"error_5xx_rate": 1.0, "methods": ["disk.folder.uploadfile"]},
    )
    p.sandbox.control(
        "POST",
        f"/portals/{p.member_id}/stage-entered",
        {"entity": "deal", "id": deal_id, "category_id": 0, "stage_id": "UC_CONTRACT"},
    )
    p.sandbox.wait_deliveries()
    worker = Worker(p.app.services, worker_id="once")
    while (job := worker.run_once()) is not None and job.kind != "robot":
        pass
    reserved = register.active_for(p.app.db, p.member_id, deal_id, "tender")
    assert reserved is not None and reserved["status"] == register.RESERVED  # numbered, not yet made
    assert reserved["number"] == f"Т-{yy()}/001-МП"
    p.sandbox.control("PUT", f"/portals/{p.member_id}/faults", {"error_5xx_rate": 0})
    p.app.drain()
    values = lower_keys(p.done_run(deal_id)["return_values"])
    assert values["ok"] in ("Y", True, 1, "1") and values["number"] == reserved["number"]
    robot_job = jobs.list_jobs(p.app.db, kind="robot")[0]
    assert robot_job.attempts == 2 and robot_job.status == "done"
    assert register.counter_value(p.app.db, p.member_id, "tender", "MP", str(dt.datetime.now(MSK).year)) == 1
    assert register.get(p.app.db, p.member_id, reserved["id"])["status"] == register.ISSUED


def test_robot_template_override_and_the_contract_job(metalprom: Portal) -> None:
    import base64
    import io

    import docx

    from b24app.settings import document

    p = metalprom
    own = docx.Document()
    own.add_paragraph(
        "ДОГОВОР ПОСТАВКИ (редакция юриста) № {{ contract.number }} от {{ contract.date_short }}"
    )
    own.add_paragraph("Покупатель: {{ buyer.name }}, ИНН {{ buyer.inn }}; сумма {{ totals.sum }} руб.")
    buf = io.BytesIO()
    own.save(buf)
    settings = document.load(p.app.db, p.member_id)
    settings["contracts"]["templates"] = {
        "lawyer_2026": {"title": "Редакция юриста", "base64": base64.b64encode(buf.getvalue()).decode()}
    }
    document.save(p.app.db, p.member_id, settings)

    deal_id = p.deal_of(1)
    p.add_rule("UC_CONTRACT", {"contract_type": "prepayment", "template": "lawyer_2026"})
    enter_stage(p, deal_id)
    values = lower_keys(p.done_run(deal_id)["return_values"])
    text = docx_text(p.file_bytes(int(values["file_id"]))[1])
    assert f"ДОГОВОР ПОСТАВКИ (редакция юриста) № {values['number']} от {values['date']}" in text
    assert register.by_number(p.app.db, p.member_id, values["number"])["template"] == "lawyer_2026"

    # the same through the job the deal widget enqueues
    other = p.deal_of(1, skip=(deal_id,))
    jobs.enqueue(
        p.app.db,
        "contracts.issue",
        {"deal_id": other, "type": "dealer", "created_by": "user 4"},
        member_id=p.member_id,
    )
    p.app.drain()
    made = register.contract_for_deal(p.app.db, p.member_id, other, "dealer")
    assert made is not None and made["number"] == f"ДД-{yy()}/001-МП" and made["status"] == "issued"
    assert register.by_number(p.app.db, p.member_id, made["number"])["created_by"] == "user 4"
