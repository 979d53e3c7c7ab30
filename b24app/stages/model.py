"""Typed views of the validated "stages" and "sla" settings sections (see settings_schema.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from b24app.stages.settings_schema import PRIORITIES, category_of


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    description: str
    responsible: dict[str, Any]
    accomplices: tuple[dict[str, Any], ...] = ()
    auditors: tuple[dict[str, Any], ...] = ()
    deadline: dict[str, Any] = field(default_factory=dict)
    checklist: tuple[str, ...] = ()
    priority: int = 1
    group_id: int = 0
    approval: bool = False

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Template:
        return cls(
            id=str(raw["id"]), title=str(raw["title"]), description=str(raw.get("description") or ""),
            responsible=dict(raw.get("responsible") or {"type": "assignee"}),
            accomplices=tuple(raw.get("accomplices") or ()), auditors=tuple(raw.get("auditors") or ()),
            deadline=dict(raw.get("deadline") or {}), checklist=tuple(raw.get("checklist") or ()),
            priority=PRIORITIES.get(str(raw.get("priority") or "normal"), 1), group_id=int(raw.get("group_id") or 0),
            approval=bool(raw.get("approval")),
        )


@dataclass(frozen=True)
class StageRule:
    entity: str
    stage: str
    skipped: bool | None
    close_on_leave: bool
    on_approved: str
    on_rejected: str
    tasks: tuple[Template, ...]

    @property
    def category(self) -> int:
        return category_of(self.stage) if self.entity == "deal" else 0


@dataclass(frozen=True)
class StagesConfig:
    enabled: bool
    detect_changes: bool
    skipped_default: bool
    rules: dict[tuple[str, str], StageRule]

    def rule(self, entity: str, stage: str) -> StageRule | None:
        return self.rules.get((entity, stage))

    def creates_skipped(self, rule: StageRule) -> bool:
        return self.skipped_default if rule.skipped is None else rule.skipped

    def entities(self) -> set[str]:
        return {e for e, _ in self.rules}

    def template(self, template_id: str) -> tuple[StageRule, Template] | None:
        for rule in self.rules.values():
            for tpl in rule.tasks:
                if tpl.id == template_id:
                    return rule, tpl
        return None


def stages_config(settings: dict[str, Any]) -> StagesConfig:
    raw = settings.get("stages") or {}
    rules: dict[tuple[str, str], StageRule] = {}
    for r in raw.get("rules") or []:
        rule = StageRule(
            entity=str(r.get("entity") or "deal"), stage=str(r["stage"]),
            skipped=r.get("skipped_stages") if isinstance(r.get("skipped_stages"), bool) else None,
            close_on_leave=bool(r.get("close_tasks_on_leave")), on_approved=str(r.get("on_approved") or ""),
            on_rejected=str(r.get("on_rejected") or ""),
            tasks=tuple(Template.parse(t) for t in r.get("tasks") or ()),
        )
        rules[(rule.entity, rule.stage)] = rule
    return StagesConfig(enabled=bool(raw.get("enabled", True)), detect_changes=bool(raw.get("detect_changes", True)),
                        skipped_default=bool(raw.get("skipped_stages", False)), rules=rules)


# --- SLA -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    after_hours: float
    action: str
    task_deadline_hours: float = 4.0

    @property
    def code(self) -> str:
        return f"{self.action}@{self.after_hours:g}"


@dataclass(frozen=True)
class Limit:
    entity: str
    stage: str
    working_hours: float | None
    working_days: int | None
    date_field: str
    empty_date: str
    escalation: tuple[Step, ...]

    @property
    def category(self) -> int:
        return category_of(self.stage) if self.entity == "deal" else 0


@dataclass(frozen=True)
class PayStep:
    days: int
    action: str

    @property
    def code(self) -> str:
        return f"{self.action}@{self.days}"


@dataclass(frozen=True)
class PaymentsConfig:
    enabled: bool
    stages: tuple[str, ...]
    count_days: str
    lawyer_id: int | None
    claim_stage: str
    contract_field: str
    due_date_field: str
    paid_field: str
    invoice_field: str
    steps: tuple[PayStep, ...]
    lawyer_task: dict[str, Any]

    def candidate_stages(self) -> list[str]:
        out = list(self.stages)
        if self.claim_stage and self.claim_stage not in out:
            out.append(self.claim_stage)
        return out


@dataclass(frozen=True)
class DigestConfig:
    enabled: bool
    heads: tuple[int, ...]
    stuck_lead_days: int
    minutes_before_end: int
    send_empty: bool


@dataclass(frozen=True)
class SlaConfig:
    enabled: bool
    scan_every_minutes: int
    set_flag: bool
    flag_field: str
    limits: dict[tuple[str, str], Limit]
    payments: PaymentsConfig
    digest: DigestConfig

    def limit(self, entity: str, stage: str) -> Limit | None:
        return self.limits.get((entity, stage)) if self.enabled else None

    def entities(self) -> set[str]:
        return {e for e, _ in self.limits} if self.enabled else set()

    def stages_of(self, entity: str) -> list[str]:
        return [s for e, s in self.limits if e == entity]


def _steps(raw: list[dict[str, Any]]) -> tuple[Step, ...]:
    return tuple(Step(float(s.get("after_hours") or 0), str(s["action"]), float(s.get("task_deadline_hours") or 4))
                 for s in raw)


def sla_config(settings: dict[str, Any]) -> SlaConfig:
    raw = settings.get("sla") or {}
    default_steps = _steps(raw.get("escalation") or [])
    limits: dict[tuple[str, str], Limit] = {}
    for r in raw.get("limits") or []:
        lim = Limit(
            entity=str(r.get("entity") or "deal"), stage=str(r["stage"]),
            working_hours=float(r["working_hours"]) if r.get("working_hours") is not None else None,
            working_days=int(r["working_days"]) if r.get("working_days") is not None else None,
            date_field=str(r.get("date_field") or ""), empty_date=str(r.get("empty_date") or "skip"),
            escalation=_steps(r["escalation"]) if "escalation" in r else default_steps,
        )
        limits[(lim.entity, lim.stage)] = lim
    p = raw.get("payments") or {}
    payments = PaymentsConfig(
        enabled=bool(p.get("enabled")), stages=tuple(p.get("stages") or ()), count_days=str(p.get("count_days") or
                                                                                              "calendar"),
        lawyer_id=int(p["lawyer_id"]) if p.get("lawyer_id") else None, claim_stage=str(p.get("claim_stage") or ""),
        contract_field=str(p.get("contract_field") or ""), due_date_field=str(p.get("due_date_field") or ""),
        paid_field=str(p.get("paid_field") or ""), invoice_field=str(p.get("invoice_field") or ""),
        steps=tuple(sorted((PayStep(int(s["days"]), str(s["action"])) for s in p.get("steps") or ()),
                           key=lambda s: (s.days, PAY_ORDER.index(s.action)))),
        lawyer_task=dict(p.get("lawyer_task") or {}),
    )
    d = raw.get("digest") or {}
    digest = DigestConfig(enabled=bool(d.get("enabled")), heads=tuple(int(h) for h in d.get("heads") or ()),
                          stuck_lead_days=int(d.get("stuck_lead_days") or 2),
                          minutes_before_end=int(d.get("minutes_before_end") or 0), send_empty=bool(d.get("send_empty")))
    return SlaConfig(enabled=bool(raw.get("enabled", True)), scan_every_minutes=int(raw.get("scan_every_minutes") or 5),
                     set_flag=bool(raw.get("set_flag", True)),
                     flag_field=str(raw.get("flag_field") or "UF_CRM_B24APP_OVERDUE"), limits=limits,
                     payments=payments, digest=digest)


PAY_ORDER = ("remind_manager", "lawyer_task", "move_to_claim", "claim_document")
