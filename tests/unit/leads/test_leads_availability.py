"""Pools from users and departments, heads up the structure, availability with reasons."""

from __future__ import annotations

import datetime as dt

from b24app.leads import availability as av
from tests.unit.leads.conftest import (
    ADMIN,
    HEAD,
    IVANOV,
    KOZLOV,
    PETROV,
    QC,
    TUESDAY_11,
    ZUEVA,
    demo_settings,
    make_world,
)


def test_pools_and_heads(world) -> None:
    p = world.people
    assert av.pool_members({"users": [ZUEVA, PETROV]}, p) == [ZUEVA, PETROV]
    assert av.pool_members({"department": 2, "subdepartments": True, "exclude_heads": True}, p) == \
        [IVANOV, PETROV, ZUEVA, KOZLOV]
    assert av.pool_members({"department": 2, "subdepartments": False, "exclude_heads": False}, p) == \
        [HEAD, IVANOV, PETROV, KOZLOV]
    assert av.subdepartments(p, 1) == [1, 2, 6, 3]
    assert av.head_of(p, PETROV) == HEAD
    assert av.head_of(p, ZUEVA) == HEAD  # her group has no head: one level up
    assert av.head_of(p, HEAD) == ADMIN  # the head's head
    assert av.head_of(p, QC) == ADMIN
    assert av.head_of(p, 777, default=42) == 42


def check(world, uids, now=TUESDAY_11):
    return av.check_users(uids, people=world.people, presence=world.presence, paused=world.paused,
                          settings=world.settings, now=now)


def test_reasons() -> None:
    s = demo_settings(availability={"absence": True, "schedule": True, "timeman": True})
    world = make_world(s, paused={QC})
    world.presence["timeman"] = {"4": "OPENED", "5": "PAUSED", "2": "OPENED"}
    ok, why = check(world, [IVANOV, PETROV, ZUEVA, QC, KOZLOV, HEAD, 999])
    assert ok == [PETROV, HEAD]
    assert {u: s.reason for u, s in why.items()} == {IVANOV: "absent", ZUEVA: "not_clocked_in", QC: "paused",
                                                     KOZLOV: "inactive", 999: "inactive"}
    assert why[IVANOV].detail == "2026-10-11" and why[ZUEVA].detail == "PAUSED"


def test_schedules_per_user_with_breaks_and_time_zones() -> None:
    s = demo_settings()
    s["calendar"]["users"] = {str(PETROV): {"hours": "10:00-19:00", "breaks": ["12:00-12:30"]},
                              str(ZUEVA): {"timezone": "Asia/Yekaterinburg"}}
    world = make_world(s)
    msk = dt.timezone(dt.timedelta(hours=3))
    def who(h: int, m: int) -> list[int]:
        return check(world, [PETROV, ZUEVA], dt.datetime(2026, 10, 6, h, m, tzinfo=msk))[0]

    assert who(9, 30) == [ZUEVA]  # he starts at 10:00; it is 11:30 in Yekaterinburg
    assert who(10, 15) == [PETROV, ZUEVA]
    assert who(11, 15) == [PETROV]  # 13:15 in Yekaterinburg: her lunch break
    assert who(12, 15) == [ZUEVA]  # his own break
    assert who(16, 30) == [PETROV]  # 18:30 in Yekaterinburg: her day is over
    assert check(world, [PETROV, ZUEVA], dt.datetime(2026, 10, 10, 11, 0, tzinfo=msk))[0] == []  # Saturday
    off = make_world(demo_settings(availability={"absence": False, "schedule": False, "timeman": False}))
    assert check(off, [IVANOV, PETROV], dt.datetime(2026, 10, 10, 3, 0, tzinfo=msk))[0] == [IVANOV, PETROV]
