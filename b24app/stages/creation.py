"""Tasks of a stage entry from the stage's templates: who is responsible, when it is due, what it says.

One call per (item, stage entry): :func:`create_for_entry` resolves every template of the stage into
task specs and creates each once (b24app.stages.tasks.ensure_task). The effect key is
``stages:task:<entity>:<item>:<stage>:<entry>:<template>`` (plus ``:u<user>`` when a template gives a
task to each member of a department or list), so the event path, the robot and ``stages apply`` meet on
the same key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from b24app import clock
from b24app.calendar.settings_section import business_calendar
from b24app.stages import items, render
from b24app.stages import org as org_mod
from b24app.stages.deadlines import task_deadline
from b24app.stages.model import StageRule, Template
from b24app.stages.tasks import TaskSpec, ensure_task
from b24app.store import effects

log = logging.getLogger("b24app.stages")


def lang_of(settings: dict[str, Any]) -> str:
    return str((settings.get("general") or {}).get("lang") or "ru")


@dataclass(frozen=True)
class Created:
    task_id: int
    template_id: str
    responsible_id: int
    new: bool  # False: the task existed already (an earlier trigger made it)


class OrgSource:
    """Loads the company structure once, only if a template needs it."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self._org: org_mod.Org | None = None

    def get(self) -> org_mod.Org:
        if self._org is None:
            self._org = org_mod.load(self.ctx.client, self.ctx.member_id)
        return self._org


def resolve_users(ref: dict[str, Any], assignee: int | None, orgs: OrgSource) -> list[int]:
    """User ids a responsible/co-executor/auditor reference names for an item."""
    kind = ref.get("type")
    if kind == "assignee":
        return [assignee] if assignee else []
    if kind == "head":
        if not assignee:
            return []
        head = orgs.get().head_of(assignee)
        return [head] if head else []
    if kind == "user":
        return [int(ref["user_id"])]
    if kind == "users":
        return [int(u) for u in ref.get("user_ids") or []]
    if kind == "department":
        return orgs.get().members(int(ref["department_id"]))
    return []


def _needs_org(tpl: Template) -> bool:
    refs = [tpl.responsible, *tpl.accomplices, *tpl.auditors]
    return any(r.get("type") in ("head", "department") for r in refs)


def build_specs(ctx: Any, settings: dict[str, Any], entity: str, item: dict[str, Any], stage_id: str, entry: str,
                templates: list[Template], orgs: OrgSource, related: dict[str, str] | None = None) -> list[TaskSpec]:
    """Task specs of ``templates`` for one item's stage entry (may read the portal for names, unless
    ``related`` already holds the company and contact names: b24app.stages.bulk reads a page at once)."""
    if not templates:
        return []
    client = ctx.client
    lang = lang_of(settings)
    item_id = int(item["ID"])
    assignee = items.assigned(item)
    wanted = render.placeholders([t.title for t in templates] + [t.description for t in templates])
    if related is not None:
        extra = related
    else:
        extra = render.related(client, item, wanted) if wanted & render.NEEDS_REST else {}
    manager = orgs.get().name(assignee) if "MANAGER" in wanted else ""
    stage_name = items.stage_name(client, ctx.member_id, entity, stage_id) if "STAGE" in wanted else stage_id
    fields = render.item_fields(entity, item, link=items.link(client.client_endpoint, entity, item_id),
                                stage=stage_name, manager=manager, company=extra.get("company", ""),
                                contact=extra.get("contact", ""), lang=lang)
    now = clock.utcnow()
    specs: list[TaskSpec] = []
    for tpl in templates:
        if _needs_org(tpl):
            orgs.get()
        people = resolve_users(tpl.responsible, assignee, orgs)
        multi = tpl.responsible.get("type") in ("users", "department")
        if not people:
            if tpl.responsible.get("type") == "head" and assignee:
                log.warning("no head found for the responsible; the task goes to the responsible",
                            extra={"member_id": ctx.member_id, "user_id": assignee, "template": tpl.id})
                people = [assignee]
            else:
                log.warning("template names nobody; no task", extra={"member_id": ctx.member_id, "template": tpl.id,
                                                                     "entity": entity, "item_id": item_id})
                continue
        accomplices = tuple(u for ref in tpl.accomplices for u in resolve_users(ref, assignee, orgs))
        auditors = tuple(u for ref in tpl.auditors for u in resolve_users(ref, assignee, orgs))
        for person in people:
            bc = business_calendar(settings, person)
            key = f"stages:task:{entity}:{item_id}:{stage_id}:{entry}:{tpl.id}" + (f":u{person}" if multi else "")
            specs.append(TaskSpec(
                key=key, title=render.render(tpl.title, fields), description=render.render(tpl.description, fields),
                responsible_id=person, entity=entity, item_id=item_id,
                binding=f"{items.meta(entity).binding}_{item_id}", stage_id=stage_id, entry=entry,
                template_id=tpl.id, deadline=task_deadline(now, tpl.deadline, bc), accomplices=accomplices,
                auditors=auditors, priority=tpl.priority, group_id=tpl.group_id, checklist=tpl.checklist,
                approval=tpl.approval,
            ))
    return specs


def split_done(ctx: Any, rule: StageRule, entity: str, item: dict[str, Any], stage_id: str, entry: str,
               only: set[str] | None = None) -> tuple[list[Created], list[Template]]:
    """The entry's tasks that exist already (answered from the store) and the templates still to do."""
    out: list[Created] = []
    pending: list[Template] = []
    for tpl in rule.tasks:
        if only is not None and tpl.id not in only:
            continue
        if _all_done(ctx, entity, item, stage_id, entry, tpl):
            out += [Created(int(r), tpl.id, 0, False) for r in _done_for(ctx, entity, item, stage_id, entry, tpl).values()]
        else:
            pending.append(tpl)
    return out, pending


def create_for_entry(ctx: Any, settings: dict[str, Any], rule: StageRule, entity: str, item: dict[str, Any],
                     stage_id: str, entry: str, *, only: set[str] | None = None,
                     orgs: OrgSource | None = None) -> list[Created]:
    """Create (once) the tasks of ``rule``'s templates for this stage entry of the item. Templates whose
    task exists already are answered from the store, without a REST call."""
    orgs = orgs or OrgSource(ctx)
    out, pending = split_done(ctx, rule, entity, item, stage_id, entry, only)
    if not pending:
        return out
    lang = lang_of(settings)
    for spec in build_specs(ctx, settings, entity, item, stage_id, entry, pending, orgs):
        state = effects.get(ctx.db, ctx.member_id, spec.key)
        task_id = ensure_task(ctx, spec, lang)
        out.append(Created(task_id, spec.template_id, spec.responsible_id, not (state and state[0] == effects.DONE)))
    return out


def _prefix(entity: str, item: dict[str, Any], stage_id: str, entry: str, tpl: Template) -> str:
    return f"stages:task:{entity}:{int(item['ID'])}:{stage_id}:{entry}:{tpl.id}"


def _done_for(ctx: Any, entity: str, item: dict[str, Any], stage_id: str, entry: str,
              tpl: Template) -> dict[str, Any]:
    prefix = _prefix(entity, item, stage_id, entry, tpl)
    got = effects.done_keys(ctx.db, ctx.member_id, prefix)
    return {k: v for k, v in got.items() if k == prefix or k.startswith(prefix + ":u")}


def _all_done(ctx: Any, entity: str, item: dict[str, Any], stage_id: str, entry: str, tpl: Template) -> bool:
    """Whether the template's task(s) for this entry exist (for one-per-item templates: exactly known)."""
    if tpl.responsible.get("type") in ("users", "department"):
        return False  # the member list may have grown: resolve it again
    state = effects.get(ctx.db, ctx.member_id, _prefix(entity, item, stage_id, entry, tpl))
    return bool(state and state[0] == effects.DONE)
