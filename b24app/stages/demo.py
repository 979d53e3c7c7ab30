"""The МеталПром demo values of the "stages" and "sla" sections, built from the portal's facts.

Stage tasks: the head of sales approves invoices («Согласование счета», approval -> next stage, a
deferred or returned approval -> back to «Подготовка счета»), the lawyer prepares the contract with a
checklist («Подготовка договора», also when a deal jumps over it), the manager calls the client about
payment in 3 working days («Ожидание оплаты»). Limits for a few stages with the default escalation
(manager, then the head, then a task for the head); overdue payments at 3/10/20/30 days; the daily
digest for the heads.
"""

from __future__ import annotations

from typing import Any

from b24app.settings.demo import status_ids, user_by_position

CONTRACT_CHECKLIST = [
    "Проверить реквизиты клиента (ИНН, КПП, банк)",
    "Выбрать тип договора и шаблон",
    "Согласовать условия оплаты и поставки",
    "Отправить договор клиенту на подпись",
]


def _only_existing(facts: dict[str, Any], entity_id: str, stages: list[str]) -> set[str]:
    known = set(status_ids(facts, entity_id))
    return {s for s in stages if s in known}


def stages_demo(facts: dict[str, Any]) -> dict[str, Any]:
    head_of_sales = user_by_position(facts, "руководитель", "продаж")
    lawyer = user_by_position(facts, "юрист")
    have = _only_existing(facts, "DEAL_STAGE", ["PREPARATION", "UC_APPROVAL", "UC_CONTRACT", "UC_AWAIT_PAYMENT"])
    rules: list[dict[str, Any]] = []
    if "UC_APPROVAL" in have:
        rules.append({
            "entity": "deal", "stage": "UC_APPROVAL", "close_tasks_on_leave": True, "on_approved": "next",
            "on_rejected": "PREPARATION" if "PREPARATION" in have else "previous",
            "tasks": [{
                "id": "approve_invoice", "title": "Согласовать счёт по сделке «{TITLE}»",
                "description": "Клиент: {COMPANY}\nСумма: {AMOUNT}\nМенеджер: {MANAGER}\nСделка: {LINK}\n\n"
                               "Завершите задачу, если счёт согласован; отложите её или верните на доработку, "
                               "если нет — сделка вернётся на «Подготовку счёта».",
                "responsible": head_of_sales, "auditors": ["assignee"], "deadline": {"working_hours": 4},
                "priority": "high", "approval": True,
            }],
        })
    if "UC_CONTRACT" in have:
        rules.append({
            "entity": "deal", "stage": "UC_CONTRACT", "close_tasks_on_leave": True, "skipped_stages": True,
            "tasks": [{
                "id": "prepare_contract", "title": "Подготовить договор: {COMPANY}",
                "description": "Сделка «{TITLE}» на {AMOUNT}, менеджер {MANAGER}.\n{LINK}",
                "responsible": lawyer, "auditors": ["assignee"], "deadline": {"working_days": 2},
                "checklist": CONTRACT_CHECKLIST,
            }],
        })
    if "UC_AWAIT_PAYMENT" in have:
        rules.append({
            "entity": "deal", "stage": "UC_AWAIT_PAYMENT", "close_tasks_on_leave": True,
            "tasks": [{
                "id": "call_about_payment", "title": "Позвонить клиенту об оплате: {COMPANY}",
                "description": "Уточните сроки оплаты счёта по сделке «{TITLE}» ({AMOUNT}).\n{LINK}",
                "responsible": "assignee", "deadline": {"working_days": 3},
            }],
        })
    return {"enabled": True, "detect_changes": True, "skipped_stages": False, "rules": rules}


def sla_demo(facts: dict[str, Any]) -> dict[str, Any]:
    lawyer = user_by_position(facts, "юрист")
    deal_stages = _only_existing(facts, "DEAL_STAGE", ["NEW", "PREPARATION", "UC_APPROVAL", "UC_CONTRACT",
                                                        "UC_AWAIT_PAYMENT", "UC_PARTIAL_PAID"])
    lead_stages = _only_existing(facts, "STATUS", ["NEW", "IN_PROCESS"])
    wanted = [("deal", "NEW", {"working_hours": 8}), ("deal", "PREPARATION", {"working_days": 1}),
              ("deal", "UC_APPROVAL", {"working_hours": 4}), ("deal", "UC_CONTRACT", {"working_days": 2}),
              ("lead", "NEW", {"working_hours": 2}), ("lead", "IN_PROCESS", {"working_days": 3})]
    limits = [{"entity": e, "stage": s, **spec} for e, s, spec in wanted
              if s in (deal_stages if e == "deal" else lead_stages)]
    claim = "C2:NEW" if "C2:NEW" in status_ids(facts, "DEAL_STAGE_2") else ""
    steps = [{"days": 3, "action": "remind_manager"}, {"days": 10, "action": "lawyer_task"}]
    if claim:
        steps.append({"days": 20, "action": "move_to_claim"})
    steps.append({"days": 30, "action": "claim_document"})
    return {
        "enabled": True,
        "scan_every_minutes": 5,
        "set_flag": True,
        "flag_field": "UF_CRM_B24APP_OVERDUE",
        "escalation": [
            {"after_hours": 0, "action": "notify_assignee"},
            {"after_hours": 4, "action": "notify_head"},
            {"after_hours": 8, "action": "task_for_head", "task_deadline_hours": 4},
        ],
        "limits": limits,
        "payments": {
            "enabled": bool(deal_stages & {"UC_AWAIT_PAYMENT", "UC_PARTIAL_PAID"}),
            "stages": sorted(deal_stages & {"UC_AWAIT_PAYMENT", "UC_PARTIAL_PAID"}),
            "count_days": "calendar", "lawyer_id": lawyer, "claim_stage": claim,
            "steps": steps,
            "lawyer_task": {"deadline": {"working_days": 5}, "priority": "high"},
        },
        "digest": {"enabled": True, "heads": [], "stuck_lead_days": 2, "minutes_before_end": 0},
    }
