"""CRM items (leads and deals) as the stages feature sees them: which stage, since when, in which funnel,
and the funnels' stage order.

The identity of a stage entry is the item's ``MOVED_TIME`` (set by the portal on every stage change,
``DATE_CREATE`` for an item never moved): the event path, the robot and ``stages apply`` all name the
same entry the same way, so whichever trigger comes first creates the tasks and the others find them.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from b24app.portal.placeholders import item_link
from b24app.stages.settings_schema import category_of


@dataclass(frozen=True)
class EntityMeta:
    name: str  # lead | deal
    type_id: int  # crm entityTypeId
    binding: str  # UF_CRM_TASK prefix
    stage_field: str
    api: str  # crm.lead | crm.deal


ENTITIES = {
    "lead": EntityMeta("lead", 1, "L", "STATUS_ID", "crm.lead"),
    "deal": EntityMeta("deal", 2, "D", "STAGE_ID", "crm.deal"),
}
LIST_FIELDS = ["ID", "TITLE", "ASSIGNED_BY_ID", "MOVED_TIME", "DATE_CREATE", "DATE_MODIFY"]


def meta(entity: str) -> EntityMeta:
    return ENTITIES[entity]


def stage_of(entity: str, item: dict[str, Any]) -> str:
    return str(item.get(ENTITIES[entity].stage_field) or "")


def category_id(entity: str, item: dict[str, Any]) -> int:
    if entity != "deal":
        return 0
    raw = item.get("CATEGORY_ID")
    if raw not in (None, ""):
        return int(raw)
    return category_of(stage_of(entity, item))


def entry_token(item: dict[str, Any]) -> str:
    """Identity of the item's current stage entry (see the module docstring)."""
    return str(item.get("MOVED_TIME") or item.get("DATE_CREATE") or "")


def entered_at(item: dict[str, Any]) -> dt.datetime | None:
    text = item.get("MOVED_TIME") or item.get("DATE_CREATE")
    return _moment(str(text)) if text else None


def assigned(item: dict[str, Any]) -> int | None:
    raw = item.get("ASSIGNED_BY_ID")
    return int(raw) if raw not in (None, "", "0", 0) else None


def link(client_endpoint: str, entity: str, item_id: int) -> str:
    return item_link(client_endpoint, entity, item_id)


def _moment(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def visited_between(client: Any, entity: str, item_id: int, seen_stage: str, seen_entry: str,
                    current_stage: str, current_entry: str) -> list[tuple[str, str]]:
    """Stage entries the item went through after the one we saw and before its current one, oldest
    first, as ``(stage, entry token)`` from the portal's stage history (``crm.stagehistory.list``): a
    deal moved twice before its first update event is handled still gets the tasks of the stage it
    passed through. The entry token of such a stage is the history row's time (the item's MOVED_TIME
    of that move)."""
    since, until = _moment(seen_entry), _moment(current_entry)
    if since is None or until is None or until <= since:
        return []
    answer = client.call_raw("crm.stagehistory.list", {
        "entityTypeId": ENTITIES[entity].type_id, "order": {"ID": "ASC"},
        "filter": {"OWNER_ID": item_id, ">=CREATED_TIME": seen_entry},
        "select": ["ID", "CREATED_TIME", "STAGE_ID", "STATUS_ID"]})
    result = answer.get("result") or {}
    rows = result.get("items") if isinstance(result, dict) else result
    out: list[tuple[str, str]] = []
    for row in rows or []:
        stage, when = str(row.get("STAGE_ID") or row.get("STATUS_ID") or ""), str(row.get("CREATED_TIME") or "")
        moment = _moment(when)
        if not stage or moment is None or moment < since or moment > until:
            continue
        if (stage, when) in ((seen_stage, seen_entry), (current_stage, current_entry)):
            continue
        out.append((stage, when))
    if out and out[-1][0] == current_stage:  # the current entry itself, its time written a moment apart
        out.pop()
    return out


def fetch(client: Any, entity: str, item_id: int) -> dict[str, Any] | None:
    """The item with every field (user fields included); None when it was deleted."""
    from b24app.errors import BitrixError

    try:
        item = client.call(f"{ENTITIES[entity].api}.get", {"id": item_id})
    except BitrixError as exc:
        if "not found" in exc.description.lower():
            return None
        raise
    return item if isinstance(item, dict) else None


# --- funnels ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StageInfo:
    id: str
    name: str
    sort: int
    semantics: str  # process | success | failure


def dictionary_of(entity: str, category: int) -> str:
    if entity == "lead":
        return "STATUS"
    return "DEAL_STAGE" if category == 0 else f"DEAL_STAGE_{category}"


_FUNNELS: dict[tuple[str, str], tuple[float, list[StageInfo]]] = {}
FUNNEL_TTL_S = 300.0


def funnel(client: Any, member_id: str, entity: str, category: int) -> list[StageInfo]:
    """The stages of a funnel in their order (cached for a few minutes per process)."""
    entity_id = dictionary_of(entity, category)
    key = (member_id, entity_id)
    hit = _FUNNELS.get(key)
    if hit is not None and time.monotonic() - hit[0] < FUNNEL_TTL_S:
        return hit[1]
    rows = client.call("crm.status.list", {"filter": {"ENTITY_ID": entity_id}, "order": {"SORT": "ASC"}}) or []
    stages = []
    for r in rows:
        sem = str((r.get("EXTRA") or {}).get("SEMANTICS") or r.get("SEMANTICS") or "process").lower()
        sem = {"p": "process", "s": "success", "f": "failure", "apology": "failure"}.get(sem, sem)
        stages.append(StageInfo(str(r["STATUS_ID"]), str(r.get("NAME") or r["STATUS_ID"]), int(r.get("SORT") or 0), sem))
    stages.sort(key=lambda s: (s.sort, s.id))
    _FUNNELS[key] = (time.monotonic(), stages)
    return stages


def forget_funnels(member_id: str | None = None) -> None:
    for key in [k for k in _FUNNELS if member_id is None or k[0] == member_id]:
        _FUNNELS.pop(key, None)


def stage_name(client: Any, member_id: str, entity: str, stage_id: str) -> str:
    for s in funnel(client, member_id, entity, category_of(stage_id) if entity == "deal" else 0):
        if s.id == stage_id:
            return s.name
    return stage_id


def skipped_between(stages: list[StageInfo], old: str, new: str) -> list[str]:
    """Process stages strictly between ``old`` and ``new`` of one funnel, for a forward jump."""
    ids = [s.id for s in stages]
    if old not in ids or new not in ids:
        return []
    i, j = ids.index(old), ids.index(new)
    if j <= i + 1:
        return []
    return [s.id for s in stages[i + 1:j] if s.semantics == "process"]


def neighbour(stages: list[StageInfo], stage: str, step: int) -> str | None:
    """The next (``step=1``) or previous (``-1``) stage of the funnel; the next of the last process
    stage is the success stage, the previous of the first is none."""
    ids = [s.id for s in stages]
    if stage not in ids:
        return None
    k = ids.index(stage) + step
    if k < 0 or k >= len(ids):
        return None
    if step > 0:
        nxt = stages[k]
        if nxt.semantics == "failure":
            return None
    return ids[k]
