"""Stage tasks against the sandbox МеталПром portal with a frozen clock: a deal moved through the funnel
gets exactly the templated tasks (responsible from the settings and the department structure, deadlines
in business time over a weekend, a shortened day and a holiday); approval tasks move the deal forward
when completed and back when deferred; jumps create skipped-stage tasks only when configured."""

from __future__ import annotations

from tests.scenarios.stages.conftest import msk

ZUEVA, PETROV, HEAD_OF_SALES, LAWYER = 5, 4, 2, 6


def by_title(tasks: list[dict], word: str) -> dict:
    found = [t for t in tasks if word in t["title"]]
    assert len(found) == 1, [t["title"] for t in tasks]
    return found[0]


def test_a_deal_moved_through_the_funnel_gets_exactly_the_templated_tasks(stage) -> None:
    company = stage.rest("crm.company.list", {"order": {"ID": "ASC"}, "filter": {">ID": 2},
                                              "select": ["ID", "TITLE"]})[0]
    deal = stage.new_deal("Арматура А500С 12 мм, 20 т", ZUEVA, COMPANY_ID=int(company["ID"]), OPPORTUNITY=250000)
    stage.settle()
    stage.move(deal, "PREPARATION", at=msk(2026, 10, 30, 14, 55))
    assert stage.tasks(deal) == []  # no templates on these stages
    stage.move(deal, "UC_APPROVAL", at=msk(2026, 10, 30, 15, 0))  # Friday 15:00

    approval = by_title(stage.tasks(deal), "Согласовать счёт")
    assert approval["responsibleId"] == str(HEAD_OF_SALES)
    assert approval["deadline"] == "2026-11-02T10:00:00+03:00"  # 4 working hours: 15-18 Fri, 09-10 Mon
    assert approval["auditors"] == [str(ZUEVA)] and approval["priority"] == "2"
    assert company["TITLE"] in approval["description"] and "250 000,00 руб." in approval["description"]
    assert "Зуева" in approval["description"]  # {MANAGER}

    # the head of sales completes the approval: the deal goes on to «Подготовка договора» by itself
    stage.at(msk(2026, 11, 2, 9, 30))
    stage.rest("tasks.task.complete", {"taskId": approval["id"]}, user_id=HEAD_OF_SALES)
    stage.settle()
    assert stage.deal(deal)["STAGE_ID"] == "UC_CONTRACT"
    lawyer = by_title(stage.tasks(deal), "Подготовить договор")
    assert lawyer["responsibleId"] == str(LAWYER) and lawyer["title"] == f"Подготовить договор: {company['TITLE']}"
    # 2 working days from Monday 09:30: Tuesday, then Thursday (Wednesday 4 November is a holiday)
    assert lawyer["deadline"] == "2026-11-05T09:30:00+03:00"
    assert stage.checklist(int(lawyer["id"])) == [
        "Проверить реквизиты клиента (ИНН, КПП, банк)", "Выбрать тип договора и шаблон",
        "Согласовать условия оплаты и поставки", "Отправить договор клиенту на подпись"]

    stage.move(deal, "UC_DOCS", at=msk(2026, 11, 2, 11, 0))  # leaving: the open lawyer task is closed
    assert by_title(stage.tasks(deal), "Подготовить договор")["status"] == "5"
    stage.move(deal, "UC_AWAIT_PAYMENT", at=msk(2026, 11, 2, 12, 0))
    call = by_title(stage.tasks(deal), "Позвонить клиенту")
    assert call["responsibleId"] == str(ZUEVA)
    assert call["deadline"] == "2026-11-06T12:00:00+03:00"  # 3 working days: Tue, Thu, Fri
    assert call["status"] == "2"
    assert len(stage.tasks(deal)) == 3
    assert stage.dead() == []


def test_a_deferred_approval_sends_the_deal_back_and_a_returned_one_too(stage) -> None:
    deal = stage.new_deal("Профильная труба 60x40", PETROV)
    stage.settle()
    stage.move(deal, "PREPARATION", at=msk(2026, 10, 30, 15, 0))
    stage.move(deal, "UC_APPROVAL", at=msk(2026, 10, 30, 15, 5))
    first = by_title(stage.tasks(deal), "Согласовать счёт")
    assert first["responsibleId"] == str(HEAD_OF_SALES)
    stage.at(msk(2026, 10, 30, 16, 0))
    stage.rest("tasks.task.defer", {"taskId": first["id"]}, user_id=HEAD_OF_SALES)  # rejected: deferred
    stage.settle()
    assert stage.deal(deal)["STAGE_ID"] == "PREPARATION"

    # back in approval: a new entry, a new approval task (the old one is closed, not reused)
    stage.move(deal, "UC_APPROVAL", at=msk(2026, 11, 2, 10, 0))
    tasks = [t for t in stage.tasks(deal) if "Согласовать счёт" in t["title"]]
    assert len(tasks) == 2
    second = tasks[1]
    assert second["id"] != first["id"] and second["status"] == "2"
    # the approver checks it under control: completed by the responsible -> awaiting control,
    # then returned for rework by the creator ("disapprove"): also a rejection
    stage.rest("tasks.task.update", {"taskId": second["id"], "fields": {"TASK_CONTROL": "Y"}})
    stage.rest("tasks.task.complete", {"taskId": second["id"]}, user_id=HEAD_OF_SALES)
    stage.settle()
    assert stage.deal(deal)["STAGE_ID"] == "UC_APPROVAL"  # awaiting control is not a decision yet
    stage.at(msk(2026, 11, 2, 11, 0))
    stage.rest("tasks.task.disapprove", {"taskId": second["id"]})
    stage.settle()
    assert stage.deal(deal)["STAGE_ID"] == "PREPARATION"
    assert stage.dead() == []


def _jump(stage, title: str, at) -> int:
    deal = stage.new_deal(title, PETROV)
    stage.settle()
    stage.move(deal, "UC_AWAIT_PAYMENT", at=at)  # NEW -> UC_AWAIT_PAYMENT skips 4 stages
    return deal


def test_a_jump_creates_skipped_stage_tasks_only_when_configured(stage) -> None:
    # demo: only «Подготовка договора» asks for its tasks when skipped
    deal = _jump(stage, "Скачок 1", msk(2026, 10, 30, 15, 0))
    titles = sorted(t["title"].split(":")[0] for t in stage.tasks(deal))
    assert titles == ["Подготовить договор", "Позвонить клиенту об оплате"]

    doc = stage.settings()
    for rule in doc["stages"]["rules"]:
        rule.pop("skipped_stages", None)
    doc["stages"]["skipped_stages"] = False
    stage.save_settings(doc)
    deal = _jump(stage, "Скачок 2", msk(2026, 10, 30, 15, 10))
    assert [t["title"].split(":")[0] for t in stage.tasks(deal)] == ["Позвонить клиенту об оплате"]

    doc["stages"]["skipped_stages"] = True
    stage.save_settings(doc)
    deal = _jump(stage, "Скачок 3", msk(2026, 10, 30, 15, 20))
    tasks = stage.tasks(deal)
    assert sorted(t["title"].split(" ")[0] for t in tasks) == ["Подготовить", "Позвонить", "Согласовать"]
    # skipped stages' tasks are due from the moment of the jump, like the target stage's
    assert by_title(tasks, "Согласовать счёт")["deadline"] == "2026-11-02T10:20:00+03:00"
    # a backward move skips nothing
    stage.move(deal, "PREPARATION", at=msk(2026, 10, 30, 15, 30))
    assert len(stage.tasks(deal)) == 3
    assert stage.dead() == []


def test_a_deal_moved_twice_before_its_event_is_handled_gets_the_tasks_of_the_stage_it_passed(stage) -> None:
    """Events carry only the id: by the time the first update is handled the deal is already a stage
    further. The stage it passed through is read from the portal's stage history; its task is created
    once (and closed, as the stage closes its tasks on leave) and the current stage's task too."""
    deal = stage.new_deal("Лист г/к 4 мм, 12 т", ZUEVA, OPPORTUNITY=180000)
    stage.settle()
    stage.at(msk(2026, 10, 30, 15, 0))
    stage.rest("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "UC_APPROVAL"}})
    stage.at(msk(2026, 10, 30, 15, 5))
    stage.rest("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "UC_CONTRACT"}})
    stage.settle()
    tasks = stage.tasks(deal)
    assert len(tasks) == 2, [t["title"] for t in tasks]
    approval, lawyer = by_title(tasks, "Согласовать счёт"), by_title(tasks, "Подготовить договор")
    assert approval["responsibleId"] == str(HEAD_OF_SALES) and lawyer["responsibleId"] == str(LAWYER)
    assert lawyer["status"] == "2"

    # created in one stage and moved on before the add event was handled: the same
    other = stage.new_deal("Швеллер 16П, 8 т", PETROV, "UC_APPROVAL", OPPORTUNITY=95000)
    stage.at(msk(2026, 10, 30, 15, 10))
    stage.rest("crm.deal.update", {"id": other, "fields": {"STAGE_ID": "UC_CONTRACT"}})
    stage.settle()
    got = stage.tasks(other)
    assert len(got) == 2 and by_title(got, "Согласовать счёт") and by_title(got, "Подготовить договор")
    stage.settle()  # late duplicates change nothing
    assert len(stage.tasks(deal)) == 2 and len(stage.tasks(other)) == 2
    assert stage.dead() == []
