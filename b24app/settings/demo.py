"""Facts about a portal that demo settings are built from (users, departments, sources, stages).

The МеталПром demo names people and stages; their ids differ per portal, so each feature's demo
section receives these facts and looks ids up with :func:`user_id` and friends.
"""

from __future__ import annotations

from typing import Any

from b24app.context import Services
from b24app.errors import ConfigError
from b24app.store import installations


def portal_facts(services: Services, member_id: str) -> dict[str, Any]:
    client = services.client(member_id)
    users = [u for u in client.get_all("user.get", {"FILTER": {"ACTIVE": "Y"}}) if isinstance(u, dict)]
    departments = client.get_all("department.get", {})
    statuses = client.get_all("crm.status.list", {})
    categories = client.call("crm.category.list", {"entityTypeId": 2}) or {}
    inst = installations.get(services.db, member_id)
    admin = inst.user_id if inst and inst.user_id else None
    by_entity: dict[str, list[dict[str, Any]]] = {}
    for s in statuses:
        by_entity.setdefault(str(s.get("ENTITY_ID")), []).append(s)
    for rows in by_entity.values():
        rows.sort(key=lambda r: int(r.get("SORT") or 0))
    return {
        "member_id": member_id,
        "admin_user_id": admin,
        "users": users,
        "departments": departments,
        "statuses": by_entity,
        "deal_categories": categories.get("categories", []) if isinstance(categories, dict) else [],
    }


def user_id(facts: dict[str, Any], last_name: str, first_name: str | None = None) -> int:
    """The id of the active user with this last (and first) name; ConfigError if absent."""
    for u in facts.get("users", []):
        if str(u.get("LAST_NAME", "")).strip() == last_name and (
            first_name is None or str(u.get("NAME", "")).strip() == first_name
        ):
            return int(u["ID"])
    raise ConfigError(f"demo settings: no active user {last_name} {first_name or ''} on the portal")


def user_by_position(facts: dict[str, Any], *words: str) -> int:
    """The first active user whose WORK_POSITION contains all ``words`` (case-insensitive)."""
    for u in facts.get("users", []):
        pos = str(u.get("WORK_POSITION", "")).lower()
        if all(w.lower() in pos for w in words):
            return int(u["ID"])
    raise ConfigError(f"demo settings: no active user whose position mentions {' '.join(words)}")


def department_id(facts: dict[str, Any], name_part: str) -> int:
    for d in facts.get("departments", []):
        if name_part.lower() in str(d.get("NAME", "")).lower():
            return int(d["ID"])
    raise ConfigError(f"demo settings: no department named like {name_part!r}")


def status_ids(facts: dict[str, Any], entity_id: str) -> list[str]:
    return [str(s["STATUS_ID"]) for s in facts.get("statuses", {}).get(entity_id, [])]
