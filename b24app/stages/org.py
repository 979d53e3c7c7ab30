"""The company structure as the stages feature needs it: a user's head from the departments'
``UF_HEAD`` (walking up to a parent when a department has no head of its own, or when the user heads it),
members of a department, names. Loaded with two list calls and kept for a few minutes per process."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

ORG_TTL_S = 120.0


@dataclass
class Org:
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    departments: dict[int, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, users: list[dict[str, Any]], departments: list[dict[str, Any]]) -> Org:
        org = cls()
        for u in users:
            if isinstance(u, dict) and u.get("ID") is not None:
                org.users[int(u["ID"])] = u
        for d in departments:
            if isinstance(d, dict) and d.get("ID") is not None:
                org.departments[int(d["ID"])] = d
        return org

    def active(self, user_id: int) -> bool:
        u = self.users.get(user_id)
        return bool(u) and u.get("ACTIVE") not in (False, "N", "false", 0, "0")

    def name(self, user_id: int | None) -> str:
        u = self.users.get(int(user_id)) if user_id else None
        if not u:
            return f"#{user_id}" if user_id else "—"
        return " ".join(p for p in (str(u.get("NAME") or "").strip(), str(u.get("LAST_NAME") or "").strip()) if p) \
            or f"#{user_id}"

    def departments_of(self, user_id: int) -> list[int]:
        raw = (self.users.get(user_id) or {}).get("UF_DEPARTMENT") or []
        if not isinstance(raw, list):
            raw = [raw]
        return [int(d) for d in raw if str(d).isdigit()]

    def _head_field(self, dept: dict[str, Any]) -> int | None:
        raw = dept.get("UF_HEAD")
        return int(raw) if raw not in (None, "", "0", 0) and str(raw).isdigit() else None

    def head_of(self, user_id: int) -> int | None:
        """The head of the user's (first) department; a department without a head, or headed by the user,
        passes the question to its parent."""
        for dept_id in self.departments_of(user_id):
            seen: set[int] = set()
            current: int | None = dept_id
            while current is not None and current not in seen:
                seen.add(current)
                dept = self.departments.get(current)
                if dept is None:
                    break
                head = self._head_field(dept)
                if head and head != user_id and self.active(head):
                    return head
                parent = dept.get("PARENT")
                current = int(parent) if parent not in (None, "", "0", 0) and str(parent).isdigit() else None
            return None
        return None

    def members(self, department_id: int) -> list[int]:
        return sorted(uid for uid in self.users if department_id in self.departments_of(uid) and self.active(uid))

    def team_of(self, head_id: int) -> list[int]:
        """Active users whose head is ``head_id``."""
        return sorted(uid for uid in self.users if uid != head_id and self.active(uid) and self.head_of(uid) == head_id)

    def heads(self) -> list[int]:
        return sorted({h for d in self.departments.values() if (h := self._head_field(d)) and self.active(h)})


_CACHE: dict[str, tuple[float, Org]] = {}


def load(client: Any, member_id: str, *, fresh: bool = False) -> Org:
    hit = _CACHE.get(member_id)
    if hit is not None and not fresh and time.monotonic() - hit[0] < ORG_TTL_S:
        return hit[1]
    users = client.get_all("user.get", {})
    departments = client.get_all("department.get", {})
    org = Org.from_rows([u for u in users if isinstance(u, dict)], [d for d in departments if isinstance(d, dict)])
    _CACHE[member_id] = (time.monotonic(), org)
    return org


def forget(member_id: str | None = None) -> None:
    for key in [k for k in _CACHE if member_id is None or k == member_id]:
        _CACHE.pop(key, None)
