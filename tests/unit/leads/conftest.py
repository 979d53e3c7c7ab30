"""A МеталПром-like world without a portal: people, presence and the demo settings, for the decision
engine's unit tests."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from b24app.leads.engine import World
from b24app.leads.snapshots import people_from
from b24app.settings import document

MSK = ZoneInfo("Europe/Moscow")
TUESDAY_11 = dt.datetime(2026, 10, 6, 11, 0, tzinfo=MSK)
ADMIN, HEAD, IVANOV, PETROV, ZUEVA, QC, KOZLOV = 1, 2, 3, 4, 5, 8, 9

USERS = [
    {"ID": "1", "LAST_NAME": "Сергеев", "NAME": "Андрей", "ACTIVE": True, "UF_DEPARTMENT": [1]},
    {"ID": "2", "LAST_NAME": "Смирнова", "NAME": "Ольга", "ACTIVE": True, "UF_DEPARTMENT": [2]},
    {"ID": "3", "LAST_NAME": "Иванов", "NAME": "Иван", "ACTIVE": True, "UF_DEPARTMENT": [2]},
    {"ID": "4", "LAST_NAME": "Петров", "NAME": "Иван", "ACTIVE": True, "UF_DEPARTMENT": [2]},
    {"ID": "5", "LAST_NAME": "Зуева", "NAME": "Софья", "ACTIVE": True, "UF_DEPARTMENT": [3]},
    {"ID": "8", "LAST_NAME": "Орлов", "NAME": "Дмитрий", "ACTIVE": True, "UF_DEPARTMENT": [6]},
    {"ID": "9", "LAST_NAME": "Козлов", "NAME": "Сергей", "ACTIVE": False, "UF_DEPARTMENT": [2]},
]
DEPARTMENTS = [
    {"ID": "1", "NAME": "ООО «МеталПром»", "UF_HEAD": "1"},
    {"ID": "2", "NAME": "Отдел продаж", "PARENT": "1", "UF_HEAD": "2"},
    {"ID": "3", "NAME": "Группа интернет-продаж", "PARENT": "2"},
    {"ID": "6", "NAME": "Отдел контроля качества", "PARENT": "1", "UF_HEAD": "8"},
]

STATUSES = [{"STATUS_ID": "NEW", "NAME": "Новый"}, {"STATUS_ID": "IN_PROCESS", "NAME": "В обработке"},
            {"STATUS_ID": "JUNK", "NAME": "Некачественный лид"}, {"STATUS_ID": "CONVERTED", "NAME": "Конвертирован"}]


def facts() -> dict[str, Any]:
    return {
        "admin_user_id": 1,
        "users": [{**u, "WORK_POSITION": "Специалист отдела контроля качества" if u["ID"] == "8" else "Менеджер"}
                  for u in USERS if u["ACTIVE"]],
        "departments": DEPARTMENTS,
        "statuses": {"STATUS": [{"STATUS_ID": s} for s in ("NEW", "IN_PROCESS", "JUNK", "CONVERTED")]},
    }


def demo_settings(**dist_changes: Any) -> dict[str, Any]:
    """The validated document with the demo distribution section (and changes to it)."""
    from b24app.leads.settings_section import demo

    dist = demo(facts())
    dist.update(dist_changes)
    doc, issues = document.check({"distribution": dist})
    assert not issues, [i.text("en") for i in issues]
    return doc


def make_world(settings: dict[str, Any] | None = None, *, absent: dict[str, str] | None = None,
               loads: dict[int, int] | None = None, paused: set[int] | None = None,
               now: dt.datetime = TUESDAY_11, member_id: str = "m1") -> World:
    return World(member_id, copy.deepcopy(settings or demo_settings()), people_from(USERS, DEPARTMENTS, STATUSES),
                 {"users": [], "absent": {"3": "2026-10-11"} if absent is None else absent, "timeman": {}},
                 dict(loads or {}), now.timestamp() - 5, set(paused or ()), now)


@pytest.fixture
def world() -> World:
    return make_world()
