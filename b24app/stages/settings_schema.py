"""The "stages" and "sla" sections of the portal settings document: schemas with their checks.

Stage ids are checked for shape here (``NEW``, ``UC_APPROVAL``, ``C2:NEW``: a deal stage of funnel N > 0
carries the ``C<N>:`` prefix, lead statuses carry none); whether they exist in the portal's funnels is
checked by the settings UI, which knows the portal.

```yaml
stages:
  detect_changes: true          # stage changes from ONCRMDEALUPDATE / ONCRMLEADUPDATE, no robot needed
  skipped_stages: false         # a jump over stages also creates the tasks of the stages skipped
  rules:
    - entity: deal
      stage: UC_APPROVAL
      close_tasks_on_leave: true
      on_approved: next         # all approval tasks completed -> the next stage (or a stage id)
      on_rejected: PREPARATION  # an approval task deferred or returned -> this stage ("previous" works too)
      tasks:
        - id: approve_invoice
          title: "Согласовать счёт: {TITLE}"
          responsible: head     # assignee | head | <user id> | {type: department, department_id: 4} | ...
          deadline: {working_hours: 4}
          approval: true
sla:
  limits:
    - {entity: deal, stage: UC_APPROVAL, working_hours: 4}
    - {entity: deal, stage: UC_SHIPMENT, date_field: UF_CRM_SHIP_DATE, empty_date: entry, working_days: 1}
  escalation:
    - {after_hours: 0, action: notify_assignee}
    - {after_hours: 4, action: notify_head}
    - {after_hours: 8, action: task_for_head, task_deadline_hours: 4}
  payments: {enabled: true, stages: [UC_AWAIT_PAYMENT], claim_stage: "C2:NEW", lawyer_id: 6, steps: [...]}
  digest: {enabled: true}
```
"""

from __future__ import annotations

import re
from typing import Any

from b24app.settings.schema import MISSING, Bool, Int, Issues, List, Node, Num, Obj, Str

ENTITIES = ("deal", "lead")
DEAL_STAGE_RE = re.compile(r"(C(\d+):)?[A-Z0-9_]{1,50}")
LEAD_STAGE_RE = re.compile(r"[A-Z0-9_]{1,50}")
FIELD_RE = r"(UF_CRM_[A-Z0-9_]{1,43}|[A-Z][A-Z_]{1,40})"
RESPONSIBLE_TYPES = ("assignee", "head", "user", "users", "department")
PRIORITIES = {"low": 0, "normal": 1, "high": 2}
SLA_ACTIONS = ("notify_assignee", "notify_head", "task_for_head")
PAY_ACTIONS = ("remind_manager", "lawyer_task", "move_to_claim", "claim_document")


def category_of(stage_id: str) -> int:
    """The deal funnel a stage id belongs to (``C2:NEW`` -> 2, ``NEW`` -> 0)."""
    m = DEAL_STAGE_RE.fullmatch(stage_id or "")
    return int(m.group(2)) if m and m.group(2) else 0


def stage_shape_ok(entity: str, stage_id: str) -> bool:
    return bool((LEAD_STAGE_RE if entity == "lead" else DEAL_STAGE_RE).fullmatch(stage_id or ""))


class UserRef(Node):
    """Who gets a task: ``assignee`` (the item's responsible), ``head`` (the responsible's head from the
    department structure), a user id, ``{type: users, user_ids: [..]}`` (each of them) or ``{type: department,
    department_id: N}`` (each member). Short forms are normalized to ``{type: ...}``."""

    def __init__(self, default: Any = MISSING, description: str = "") -> None:
        self.default = default
        self.description = description

    def check(self, value: Any, path: str, issues: Issues) -> Any:
        if isinstance(value, bool):
            issues.add(path, "укажите assignee, head, ID пользователя или {type: ...}",
                       "use assignee, head, a user ID or {type: ...}")
            return value
        if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
            uid = int(value)
            if uid < 1:
                issues.add(path, "ID пользователя должен быть больше 0", "a user ID must be above 0")
            return {"type": "user", "user_id": uid}
        if isinstance(value, str):
            text = value.strip().lower()
            if text in ("assignee", "head"):
                return {"type": text}
            issues.add(path, f"неизвестный получатель «{value}»: assignee, head или ID пользователя",
                       f"unknown recipient '{value}': assignee, head or a user ID")
            return value
        if not isinstance(value, dict):
            issues.add(path, "должно быть assignee, head, ID или {type: ...}", "must be assignee, head, an ID or {type: ...}")
            return value
        kind = str(value.get("type", "")).strip().lower()
        out: dict[str, Any] = {"type": kind}
        if kind not in RESPONSIBLE_TYPES:
            issues.add(f"{path}.type", f"тип «{kind}» не из списка: {', '.join(RESPONSIBLE_TYPES)}",
                       f"type '{kind}' is not one of: {', '.join(RESPONSIBLE_TYPES)}")
            return value
        if kind == "user":
            out["user_id"] = Int(min=1).check(value.get("user_id"), f"{path}.user_id", issues)
        elif kind == "users":
            out["user_ids"] = List(item=Int(min=1), min_items=1).check(value.get("user_ids"), f"{path}.user_ids",
                                                                        issues)
        elif kind == "department":
            out["department_id"] = Int(min=1).check(value.get("department_id"), f"{path}.department_id", issues)
        extra = set(value) - {"type", "user_id", "user_ids", "department_id"}
        for key in sorted(extra):
            issues.add(f"{path}.{key}", "неизвестное поле", "unknown field")
        return out


def _one_of(*names: str) -> Any:
    def rule(value: dict[str, Any], path: str, issues: Issues) -> None:
        given = [n for n in names if value.get(n) not in (None, MISSING)]
        if len(given) > 1:
            issues.add(path, f"укажите только одно из: {', '.join(names)}", f"give only one of: {', '.join(names)}")

    return rule


DEADLINE = Obj(
    fields={"working_days": Int(min=0, max=366, description="working days from the task's creation"),
            "working_hours": Num(min=0, max=5000, description="working hours from the task's creation")},
    default=dict, rules=(_one_of("working_days", "working_hours"),),
    description="deadline on the responsible's business calendar; empty: no deadline",
)

TEMPLATE = Obj(
    fields={
        "id": Str(min_len=1, max_len=40, pattern=r"[A-Za-z0-9_\-]+", description="code, unique in the section"),
        "title": Str(min_len=1, max_len=250, description="task title with placeholders {TITLE}, {COMPANY} ..."),
        "description": Str(default="", max_len=20_000),
        "responsible": UserRef(default=lambda: {"type": "assignee"}),
        "accomplices": List(item=UserRef(), default=list, max_items=20),
        "auditors": List(item=UserRef(), default=list, max_items=20),
        "deadline": DEADLINE,
        "checklist": List(item=Str(min_len=1, max_len=250), default=list, max_items=50),
        "priority": Str(default="normal", choices=tuple(PRIORITIES)),
        "group_id": Int(default=0, min=0, description="workgroup (0: none)"),
        "approval": Bool(default=False, description="an approval task: completing/rejecting it moves the item"),
    },
    required=("id", "title"),
)


def _stage_rule(value: dict[str, Any], path: str, issues: Issues) -> None:
    entity, stage = value.get("entity", "deal"), value.get("stage")
    if isinstance(stage, str) and not stage_shape_ok(entity, stage):
        issues.add(f"{path}.stage", f"«{stage}» не похоже на ID стадии ({'NEW, UC_…' if entity == 'lead' else 'NEW, UC_…, C2:NEW'})",
                   f"'{stage}' does not look like a stage id of a {entity}")
        return
    for key, word in (("on_approved", "next"), ("on_rejected", "previous")):
        target = value.get(key) or ""
        if not target or target == word:
            continue
        if not stage_shape_ok(entity, target):
            issues.add(f"{path}.{key}", f"«{target}» не похоже на ID стадии (или «{word}»)",
                       f"'{target}' is not a stage id (or '{word}')")
        elif entity == "deal" and isinstance(stage, str) and category_of(target) != category_of(stage):
            issues.add(f"{path}.{key}", "стадия из другой воронки", "the stage belongs to another funnel")
    has_approval = any(isinstance(t, dict) and t.get("approval") for t in value.get("tasks") or [])
    if (value.get("on_approved") or value.get("on_rejected")) and not has_approval:
        issues.add(f"{path}.tasks", "для on_approved/on_rejected нужна хотя бы одна задача с approval: true",
                   "on_approved/on_rejected need at least one task with approval: true")


STAGE_RULE = Obj(
    fields={
        "entity": Str(default="deal", choices=ENTITIES),
        "stage": Str(min_len=1, max_len=60),
        "skipped_stages": Bool(description="override of the section's skipped_stages for this stage"),
        "close_tasks_on_leave": Bool(default=False, description="complete our open tasks when the item leaves"),
        "on_approved": Str(default="", max_len=60, description="'next' or a stage id"),
        "on_rejected": Str(default="", max_len=60, description="'previous' or a stage id"),
        "tasks": List(item=TEMPLATE, default=list, max_items=30),
    },
    required=("stage",),
    rules=(_stage_rule,),
)


def _unique_stages(list_key: str) -> Any:
    def rule(value: dict[str, Any], path: str, issues: Issues) -> None:
        seen: dict[tuple[str, str], int] = {}
        for i, r in enumerate(value.get(list_key) or []):
            if not isinstance(r, dict):
                continue
            key = (r.get("entity", "deal"), r.get("stage"))
            if key in seen:
                issues.add(f"{path}.{list_key}[{i}].stage", f"стадия уже описана в элементе {seen[key] + 1}",
                           f"the stage is already described in item {seen[key] + 1}")
            seen.setdefault(key, i)

    return rule


def _unique_templates(value: dict[str, Any], path: str, issues: Issues) -> None:
    seen: set[str] = set()
    for i, r in enumerate(value.get("rules") or []):
        for j, tpl in enumerate((r.get("tasks") or []) if isinstance(r, dict) else []):
            tid = tpl.get("id") if isinstance(tpl, dict) else None
            if tid in seen:
                issues.add(f"{path}.rules[{i}].tasks[{j}].id", f"код шаблона «{tid}» уже занят",
                           f"template code '{tid}' is used twice")
            if tid:
                seen.add(tid)


STAGES = Obj(
    fields={
        "enabled": Bool(default=True),
        "detect_changes": Bool(default=True, description="detect stage changes from CRM update events"),
        "skipped_stages": Bool(default=False, description="a jump also creates the tasks of skipped stages"),
        "rules": List(item=STAGE_RULE, default=list, max_items=500),
    },
    rules=(_unique_stages("rules"), _unique_templates),
)

# --- SLA -------------------------------------------------------------------------------------------
STEP = Obj(
    fields={
        "after_hours": Num(default=0, min=0, max=5000, description="working hours after the deadline"),
        "action": Str(choices=SLA_ACTIONS),
        "task_deadline_hours": Num(default=4, min=0, max=5000, description="for task_for_head"),
    },
    required=("action",),
)


def _ordered_steps(value: list[Any], path: str, issues: Issues) -> None:
    last = -1.0
    for i, s in enumerate(value):
        if isinstance(s, dict) and isinstance(s.get("after_hours"), int | float):
            if s["after_hours"] < last:
                issues.add(f"{path}[{i}].after_hours", "шаги должны идти по возрастанию времени",
                           "steps must come in increasing time")
            last = float(s["after_hours"])


class Steps(List):
    """A list of escalation steps in increasing time."""

    def check(self, value: Any, path: str, issues: Issues) -> Any:
        out = super().check(value, path, issues)
        if isinstance(out, list):
            _ordered_steps(out, path, issues)
        return out


def default_escalation() -> list[dict[str, Any]]:
    return [{"after_hours": 0, "action": "notify_assignee", "task_deadline_hours": 4},
            {"after_hours": 4, "action": "notify_head", "task_deadline_hours": 4}]


def _limit_rule(value: dict[str, Any], path: str, issues: Issues) -> None:
    entity, stage = value.get("entity", "deal"), value.get("stage")
    if isinstance(stage, str) and not stage_shape_ok(entity, stage):
        issues.add(f"{path}.stage", f"«{stage}» не похоже на ID стадии", f"'{stage}' does not look like a stage id")
    has_time = value.get("working_hours") is not None or value.get("working_days") is not None
    if not has_time and not value.get("date_field"):
        issues.add(path, "укажите working_hours, working_days или date_field",
                   "give working_hours, working_days or date_field")


LIMIT = Obj(
    fields={
        "entity": Str(default="deal", choices=ENTITIES),
        "stage": Str(min_len=1, max_len=60),
        "working_hours": Num(min=0, max=5000),
        "working_days": Int(min=0, max=366),
        "date_field": Str(pattern=FIELD_RE, description="the limit is this date (plus the working time given)"),
        "empty_date": Str(default="skip", choices=("skip", "entry"),
                          description="date empty: not watched (skip) or counted from the stage entry"),
        "escalation": Steps(item=STEP, max_items=10, default=MISSING),
    },
    required=("stage",),
    rules=(_limit_rule, _one_of("working_hours", "working_days")),
)

LAWYER_TASK = Obj(fields={
    "title": Str(default="", max_len=250, description="empty: «Досудебная претензия: <клиент>»"),
    "description": Str(default="", max_len=20_000, description="empty: debt, invoice, contract, manager"),
    "deadline": DEADLINE,
    "priority": Str(default="high", choices=tuple(PRIORITIES)),
})

PAY_STEP = Obj(fields={"days": Int(min=0, max=3650), "action": Str(choices=PAY_ACTIONS)}, required=("days", "action"))


def _payments_rule(value: dict[str, Any], path: str, issues: Issues) -> None:
    steps = [s for s in value.get("steps") or [] if isinstance(s, dict)]
    actions = [s.get("action") for s in steps]
    for once in ("lawyer_task", "move_to_claim", "claim_document"):
        if actions.count(once) > 1:
            issues.add(f"{path}.steps", f"шаг {once} может быть только один", f"step {once} may appear once")
    if "lawyer_task" in actions and not value.get("lawyer_id"):
        issues.add(f"{path}.lawyer_id", "для шага lawyer_task укажите юриста", "lawyer_task needs lawyer_id")
    claim = value.get("claim_stage") or ""
    if "move_to_claim" in actions and not claim:
        issues.add(f"{path}.claim_stage", "для шага move_to_claim укажите стадию претензии",
                   "move_to_claim needs claim_stage")
    if claim and not stage_shape_ok("deal", claim):
        issues.add(f"{path}.claim_stage", f"«{claim}» не похоже на ID стадии сделки", f"'{claim}' is not a deal stage id")
    for i, st in enumerate(value.get("stages") or []):
        if isinstance(st, str) and not stage_shape_ok("deal", st):
            issues.add(f"{path}.stages[{i}]", f"«{st}» не похоже на ID стадии сделки", f"'{st}' is not a deal stage id")
    if value.get("enabled") and not value.get("stages"):
        issues.add(f"{path}.stages", "укажите стадии сделок, где ждут оплату", "list the deal stages awaiting payment")


PAYMENTS = Obj(
    fields={
        "enabled": Bool(default=False),
        "stages": List(item=Str(min_len=1, max_len=60), default=list, description="deal stages awaiting payment"),
        "count_days": Str(default="calendar", choices=("calendar", "working")),
        "lawyer_id": Int(min=1),
        "claim_stage": Str(default="", max_len=60, description="e.g. C2:NEW; moving funnels uses crm.item.update"),
        "contract_field": Str(default="", pattern=FIELD_RE, description="deal field with the contract number"),
        "due_date_field": Str(default="", pattern=FIELD_RE, description="without 1C: the due date field"),
        "paid_field": Str(default="", pattern=FIELD_RE, description="without 1C: the paid amount field"),
        "invoice_field": Str(default="", pattern=FIELD_RE, description="without 1C: the invoice number field"),
        "steps": List(item=PAY_STEP, default=list, max_items=20),
        "lawyer_task": LAWYER_TASK,
    },
    rules=(_payments_rule,),
)

DIGEST = Obj(fields={
    "enabled": Bool(default=False),
    "heads": List(item=Int(min=1), default=list, description="empty: every department head with a team"),
    "stuck_lead_days": Int(default=2, min=1, max=365),
    "minutes_before_end": Int(default=0, min=0, max=240),
    "send_empty": Bool(default=False),
})

SLA = Obj(
    fields={
        "enabled": Bool(default=True),
        "scan_every_minutes": Int(default=5, min=1, max=1440),
        "set_flag": Bool(default=True, description="set the «Просрочено» field the app creates"),
        "flag_field": Str(default="UF_CRM_B24APP_OVERDUE", pattern=r"UF_CRM_[A-Z0-9_]{1,43}"),
        "escalation": Steps(item=STEP, default=default_escalation, max_items=10),
        "limits": List(item=LIMIT, default=list, max_items=500),
        "payments": PAYMENTS,
        "digest": DIGEST,
    },
    rules=(_unique_stages("limits"),),
)
