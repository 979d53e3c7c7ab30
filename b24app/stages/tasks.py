"""Creating and closing the app's tasks on the portal, exactly once.

Every task has an effect key (``stages:task:deal:5:UC_APPROVAL:<entry>:approve_invoice``). The key's
hash is written into the task as a marker (``XML_ID`` and the last line of the description), and the
task is bound to its CRM item (``UF_CRM_TASK``). If an attempt may have reached the portal but its
answer was lost, the retry lists the item's tasks and takes the one carrying the marker instead of
creating a second one (and completes its checklist if that part was lost). Creations for one CRM item
are serialized by a lease, so the robot, the event path and ``stages apply`` racing for the same entry
create one task.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from b24app.messages import t
from b24app.stages import repo
from b24app.store import effects, leases

log = logging.getLogger("b24app.stages")

MARKER_PREFIX = "b24app-st-"
COMPLETED, DEFERRED, AWAITING_CONTROL = 5, 6, 4


def marker_of(key: str) -> str:
    return MARKER_PREFIX + hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class TaskSpec:
    key: str  # effect key: one task per key, ever
    title: str
    description: str
    responsible_id: int
    entity: str
    item_id: int
    binding: str  # "D_5"
    stage_id: str
    entry: str
    template_id: str
    deadline: dt.datetime | None = None
    accomplices: tuple[int, ...] = ()
    auditors: tuple[int, ...] = ()
    priority: int = 1
    group_id: int = 0
    checklist: tuple[str, ...] = ()
    approval: bool = False


def holder(ctx: Any) -> str:
    return f"{getattr(ctx, 'worker_id', None) or f'pid{os.getpid()}'}:{threading.get_ident()}"


_held = threading.local()


@contextmanager
def item_lease(ctx: Any, entity: str, item_id: int) -> Iterator[None]:
    """Serialize work that creates things for one CRM item across workers (Busy -> the job retries
    soon). Re-entrant within a thread: an outer holder covers inner calls."""
    name = f"stages:{ctx.member_id}:{entity}:{item_id}"
    held: set[str] = getattr(_held, "names", None) or set()
    _held.names = held
    if name in held:
        yield
        return
    with leases.held(ctx.db, name, holder(ctx), ttl_s=300, wait_s=30):
        held.add(name)
        try:
            yield
        finally:
            held.discard(name)


def task_fields(spec: TaskSpec, lang: str) -> dict[str, Any]:
    marker = marker_of(spec.key)
    description = (spec.description.rstrip() + "\n\n" if spec.description.strip() else "") + \
        t("stages.task.marker", lang, marker=marker)
    fields: dict[str, Any] = {
        "TITLE": spec.title[:250],
        "DESCRIPTION": description,
        "RESPONSIBLE_ID": spec.responsible_id,
        "PRIORITY": spec.priority,
        "UF_CRM_TASK": [spec.binding],
        "XML_ID": marker,
    }
    if spec.deadline is not None:
        fields["DEADLINE"] = spec.deadline.isoformat(timespec="seconds")
    accomplices = [u for u in dict.fromkeys(spec.accomplices) if u != spec.responsible_id]
    auditors = [u for u in dict.fromkeys(spec.auditors) if u != spec.responsible_id and u not in accomplices]
    if accomplices:
        fields["ACCOMPLICES"] = accomplices
    if auditors:
        fields["AUDITORS"] = auditors
    if spec.group_id:
        fields["GROUP_ID"] = spec.group_id
    return fields


def _rows(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        value = value.get("tasks", value)
    if isinstance(value, dict):
        value = list(value.values())
    return [r for r in value or [] if isinstance(r, dict)]


def bound_tasks(client: Any, binding: str) -> list[dict[str, Any]]:
    """Tasks bound to a CRM item (``UF_CRM_TASK`` contains ``binding``)."""
    out: list[dict[str, Any]] = []
    start = 0
    while True:
        answer = client.call_raw("tasks.task.list", {
            "filter": {"UF_CRM_TASK": binding}, "order": {"ID": "ASC"},
            "select": ["ID", "TITLE", "XML_ID", "DESCRIPTION", "STATUS", "RESPONSIBLE_ID", "DEADLINE", "UF_CRM_TASK"],
            "start": start,
        })
        rows = _rows(answer.get("result"))
        out.extend(rows)
        nxt = answer.get("next")
        if not rows or nxt is None:
            return out
        start = int(nxt)


def _checklist_titles(client: Any, task_id: int) -> list[str]:
    rows = client.call("task.checklistitem.getlist", {"TASKID": task_id}) or []
    if isinstance(rows, dict):
        rows = list(rows.values())
    return [str(r.get("TITLE") or r.get("title") or "") for r in rows if isinstance(r, dict)]


def add_checklist(client: Any, task_id: int, items: list[tuple[int, str]]) -> None:
    if not items:
        return
    res = client.batch([(f"c{i}", "task.checklistitem.add",
                         {"TASKID": task_id, "FIELDS": {"TITLE": title, "SORT_INDEX": i}}) for i, title in items])
    for key, err in res.errors.items():
        log.warning("checklist item not added", extra={"task_id": task_id, "item": key, "error": str(err)})


def ensure_task(ctx: Any, spec: TaskSpec, lang: str = "ru") -> int:
    """Create the task of ``spec`` once (see the module docstring); returns its id."""
    client = ctx.client
    marker = marker_of(spec.key)
    fields = task_fields(spec, lang)

    def create() -> int:
        if not spec.checklist:
            answer = client.call("tasks.task.add", {"fields": fields})
            return int((answer or {})["task"]["id"])
        cmds: list[tuple[str, str, dict[str, Any]]] = [("task", "tasks.task.add", {"fields": fields})]
        for i, title in enumerate(spec.checklist, start=1):
            cmds.append((f"c{i}", "task.checklistitem.add",
                         {"TASKID": "$result[task][task][id]", "FIELDS": {"TITLE": title, "SORT_INDEX": i}}))
        res = client.batch(cmds, halt=True)
        task_id = int(res.get("task")["task"]["id"])
        missing = [(i, title) for i, title in enumerate(spec.checklist, start=1) if f"c{i}" not in res.results]
        if missing:  # the task exists; add what the batch did not
            add_checklist(client, task_id, missing)
        return task_id

    def find() -> int | None:
        for row in bound_tasks(client, spec.binding):
            if row.get("xmlId") == marker or row.get("XML_ID") == marker or marker in str(
                    row.get("description") or row.get("DESCRIPTION") or ""):
                task_id = int(row.get("id") or row.get("ID"))
                if spec.checklist:
                    have = set(_checklist_titles(client, task_id))
                    add_checklist(client, task_id, [(i, title) for i, title in enumerate(spec.checklist, start=1)
                                                     if title not in have])
                log.info("task found by its marker after an unanswered attempt",
                         extra={"member_id": ctx.member_id, "task_id": task_id, "key": spec.key})
                return task_id
        return None

    with item_lease(ctx, spec.entity, spec.item_id):
        task_id = int(effects.ensure(ctx.db, ctx.member_id, spec.key, create, find))
    repo.record_task(ctx.db, ctx.member_id, task_id=task_id, entity=spec.entity, item_id=spec.item_id,
                     stage_id=spec.stage_id, entry=spec.entry, template_id=spec.template_id, approval=spec.approval,
                     responsible_id=spec.responsible_id)
    return task_id


def close_tasks(ctx: Any, our: list[repo.OurTask]) -> list[int]:
    """Complete the app's open tasks (already closed ones are left alone); returns the ids closed."""
    open_ = [x for x in our if x.closed_at is None and x.status != COMPLETED]
    if not open_:
        return []
    res = ctx.client.batch([(f"t{x.task_id}", "tasks.task.complete", {"taskId": x.task_id}) for x in open_])
    closed = []
    for x in open_:
        key = f"t{x.task_id}"
        if key in res.errors:
            log.info("task not completed", extra={"member_id": ctx.member_id, "task_id": x.task_id,
                                                  "error": str(res.errors[key])})
            repo.set_task_status(ctx.db, ctx.member_id, x.task_id, x.status, closed=True)
            continue
        repo.set_task_status(ctx.db, ctx.member_id, x.task_id, COMPLETED, closed=True)
        closed.append(x.task_id)
    return closed


def statuses(client: Any, task_ids: list[int]) -> dict[int, int]:
    """Current statuses of tasks (a deleted task is missing from the answer)."""
    if not task_ids:
        return {}
    res = client.batch([(f"t{i}", "tasks.task.get", {"taskId": i, "select": ["ID", "STATUS"]}) for i in task_ids])
    out: dict[int, int] = {}
    for i in task_ids:
        got = res.results.get(f"t{i}")
        task = (got or {}).get("task") if isinstance(got, dict) else None
        if isinstance(task, dict) and task.get("status") is not None:
            out[i] = int(task["status"])
    return out
