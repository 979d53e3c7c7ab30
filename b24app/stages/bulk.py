"""Many stage tasks at once (``b24app stages apply``): the same effect keys, markers and leases as the
one-by-one path (b24app.stages.tasks.ensure_task), but the tasks of many items travel together, 50
commands per REST request (a task and its checklist items in the same request, the items pointing at
the task with ``$result[...]``), and the names the titles need (company, contact) are read for a whole
page of items at once.

Exactly once, as on the one-by-one path: every key of a request is marked pending before it is sent
and done with the task id after; the items' leases are held meanwhile, so the event path and the robot
wait for it. A request whose answer is lost leaves its keys pending: the next attempt of each goes
through ``ensure_task``, which looks for the task by its marker before creating it.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from typing import Any

from b24app.portal.client import BATCH_LIMIT
from b24app.stages import render, repo
from b24app.stages.tasks import TaskSpec, add_checklist, ensure_task, item_lease, task_fields
from b24app.store import effects

log = logging.getLogger("b24app.stages")



def related_many(client: Any, rows: list[dict[str, Any]], wanted: set[str]) -> dict[int, dict[str, str]]:
    """Company title and contact name of every item in ``rows`` (only those the templates name), read
    in batches of 50 distinct ids; ``{item id: {"company": ..., "contact": ...}}``."""
    want_company, want_contact = "COMPANY" in wanted, "CONTACT" in wanted
    companies = {str(r["COMPANY_ID"]) for r in rows if want_company and r.get("COMPANY_ID") not in (None, "", "0", 0)}
    contacts = {str(r["CONTACT_ID"]) for r in rows if want_contact and r.get("CONTACT_ID") not in (None, "", "0", 0)}
    cmds = [(f"co{i}", "crm.company.get", {"id": i}) for i in sorted(companies)]
    cmds += [(f"ct{i}", "crm.contact.get", {"id": i}) for i in sorted(contacts)]
    res = client.batch(cmds) if cmds else None
    names: dict[str, str] = {}
    for key, value in (res.results.items() if res else ()):
        if not isinstance(value, dict):
            continue
        names[key] = render.company_title(value) if key.startswith("co") else render.contact_name(value)
    out: dict[int, dict[str, str]] = {}
    for r in rows:
        got: dict[str, str] = {}
        if want_company and f"co{r.get('COMPANY_ID')}" in names:
            got["company"] = names[f"co{r.get('COMPANY_ID')}"]
        if want_contact and f"ct{r.get('CONTACT_ID')}" in names:
            got["contact"] = names[f"ct{r.get('CONTACT_ID')}"]
        out[int(r["ID"])] = got
    return out


def wanted_names(templates: list[Any]) -> set[str]:
    return render.placeholders([t.title for t in templates] + [t.description for t in templates]) & render.NEEDS_REST


def ensure_tasks(ctx: Any, specs: list[TaskSpec], lang: str = "ru") -> dict[str, tuple[int, bool]]:
    """Create the tasks of ``specs`` once each; ``{key: (task id, created now)}``."""
    out: dict[str, tuple[int, bool]] = {}
    chunk: list[TaskSpec] = []
    size = 0
    for spec in specs:
        n = 1 + len(spec.checklist)
        if chunk and size + n > BATCH_LIMIT:
            _flush(ctx, chunk, lang, out)
            chunk, size = [], 0
        chunk.append(spec)
        size += n
    if chunk:
        _flush(ctx, chunk, lang, out)
    return out


def _flush(ctx: Any, chunk: list[TaskSpec], lang: str, out: dict[str, tuple[int, bool]]) -> None:
    db, member_id = ctx.db, ctx.member_id
    with ExitStack() as held:
        for entity, item_id in dict.fromkeys((s.entity, s.item_id) for s in chunk):
            held.enter_context(item_lease(ctx, entity, item_id))
        fresh: list[TaskSpec] = []
        for spec in chunk:  # looked at under the leases: another path may have made it meanwhile
            state = effects.get(db, member_id, spec.key)
            if state is not None and state[0] == effects.DONE:
                out[spec.key] = (int(state[1]), False)
            elif state is not None:  # an earlier attempt may have reached the portal: find it first
                out[spec.key] = (ensure_task(ctx, spec, lang), True)
            elif len(spec.checklist) + 1 > BATCH_LIMIT:
                out[spec.key] = (ensure_task(ctx, spec, lang), True)
            else:
                fresh.append(spec)
        if not fresh:
            return
        cmds: list[tuple[str, str, dict[str, Any]]] = []
        for j, spec in enumerate(fresh):
            effects.mark_pending(db, member_id, spec.key)
            cmds.append((f"t{j}", "tasks.task.add", {"fields": task_fields(spec, lang)}))
            cmds += [(f"t{j}c{i}", "task.checklistitem.add",
                      {"TASKID": f"$result[t{j}][task][id]", "FIELDS": {"TITLE": title, "SORT_INDEX": i}})
                     for i, title in enumerate(spec.checklist, start=1)]
        res = ctx.client.batch(cmds)
        for j, spec in enumerate(fresh):
            got = res.results.get(f"t{j}")
            task = got.get("task") if isinstance(got, dict) else None
            if not isinstance(task, dict) or not task.get("id"):
                # refused by the portal (the error says why): the one-by-one path retries it and raises
                log.warning("task not created in a batch; trying it alone",
                            extra={"member_id": member_id, "key": spec.key, "error": str(res.errors.get(f"t{j}"))})
                out[spec.key] = (ensure_task(ctx, spec, lang), True)
                continue
            task_id = int(task["id"])
            effects.mark_done(db, member_id, spec.key, task_id)
            missing = [(i, title) for i, title in enumerate(spec.checklist, start=1) if f"t{j}c{i}" not in res.results]
            if missing:
                add_checklist(ctx.client, task_id, missing)
            repo.record_task(db, member_id, task_id=task_id, entity=spec.entity, item_id=spec.item_id,
                             stage_id=spec.stage_id, entry=spec.entry, template_id=spec.template_id,
                             approval=spec.approval, responsible_id=spec.responsible_id)
            out[spec.key] = (task_id, True)
