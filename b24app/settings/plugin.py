"""The core's own settings section: language, time zone, who hears about the app's errors."""

from __future__ import annotations

from typing import Any

from b24app.settings.schema import Int, List, Obj, Str
from b24app.settings.sections import section

TIMEZONE_PATTERN = r"[A-Za-z_]+(/[A-Za-z0-9_+\-]+)*"

GENERAL = Obj(fields={
    "lang": Str(default="ru", choices=("ru", "en"), description="language of texts written into the portal"),
    "timezone": Str(default="Europe/Moscow", pattern=TIMEZONE_PATTERN, description="the portal's time zone"),
    "admins_to_notify": List(item=Int(min=1), default=list,
                             description="users told about errors that need an administrator"),
})


def _demo(facts: dict[str, Any]) -> dict[str, Any]:
    admin = facts.get("admin_user_id")
    return {"lang": "ru", "timezone": "Europe/Moscow", "admins_to_notify": [admin] if admin else []}


section("general", GENERAL, demo=_demo, title_ru="Общие", title_en="General")
