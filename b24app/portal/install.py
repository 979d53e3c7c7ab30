"""Installing into a portal: storing a verified installation and (re)registering robots, event
handlers and widgets, idempotently (look first, then add what is missing, remove what is ours
and no longer wanted)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import b24app
from b24app.config import Config
from b24app.context import Services
from b24app.errors import BitrixError
from b24app.jobs.registry import load_plugins
from b24app.messages import both, t
from b24app.robots.registry import handler_url, robots
from b24app.store import installations

log = logging.getLogger("b24app.install")

ROBOT_PREFIX = "b24app_"
LIFECYCLE_EVENTS = ("ONAPPUPDATE", "ONAPPUNINSTALL")


@dataclass(frozen=True)
class Placement:
    code: str  # Bitrix24 placement code
    path: str  # our handler path
    title_key: str
    description_key: str | None = None


PLACEMENTS: tuple[Placement, ...] = (
    Placement("CRM_DEAL_DETAIL_TAB", "/placement/deal_tab", "placement.deal_tab.title",
              "placement.deal_tab.description"),
)


def wanted_events() -> list[str]:
    return sorted(set(load_plugins().bound_events()) | set(LIFECYCLE_EVENTS))


def _rows(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    return list(value or [])


def register(services: Services, member_id: str) -> dict[str, Any]:
    """Bring the portal's robots, event bindings and widgets in line with this version."""
    config: Config = services.config
    client = services.client(member_id)
    report: dict[str, Any] = {"robots_added": [], "robots_updated": [], "robots_deleted": [],
                              "events_bound": [], "events_unbound": [], "placements_bound": []}

    existing_robots = {str(c) for c in _rows(client.call("bizproc.robot.list"))}
    for code, robot in robots().items():
        payload = robot.registration(handler_url(config, code))
        if code in existing_robots:
            fields = {k: v for k, v in payload.items() if k != "CODE"}
            client.call("bizproc.robot.update", {"CODE": code, "FIELDS": fields})
            report["robots_updated"].append(code)
        else:
            try:
                client.call("bizproc.robot.add", payload)
            except BitrixError as exc:  # an earlier attempt added it and its answer was lost
                if exc.code not in ("ERROR_ACTIVITY_ALREADY_INSTALLED", "ERROR_ACTIVITY_ADD_FAILURE"):
                    raise
                fields = {k: v for k, v in payload.items() if k != "CODE"}
                client.call("bizproc.robot.update", {"CODE": code, "FIELDS": fields})
            report["robots_added"].append(code)
    for code in sorted(existing_robots - set(robots())):
        if code.startswith(ROBOT_PREFIX):
            client.call("bizproc.robot.delete", {"CODE": code})
            report["robots_deleted"].append(code)

    handler = config.url("/events")
    bound = {(str(e.get("event", "")).upper(), e.get("handler")) for e in _rows(client.call("event.get"))
             if isinstance(e, dict)}
    wanted = wanted_events()
    for event in wanted:
        if (event, handler) not in bound:
            try:
                client.call("event.bind", {"event": event, "handler": handler})
            except BitrixError as exc:
                if "already binded" not in exc.description:
                    raise
            report["events_bound"].append(event)
    offline_bound = {str(e.get("event", "")).upper() for e in _rows(client.call("event.get"))
                     if isinstance(e, dict) and str(e.get("offline", "0")) in ("1", "True", "true")}
    report["events_bound_offline"] = []
    for event in load_plugins().offline_events():
        if event not in offline_bound:
            try:
                client.call("event.bind", {"event": event, "event_type": "offline"})
            except BitrixError as exc:
                if "already binded" not in exc.description:
                    raise
            report["events_bound_offline"].append(event)
    for event, h in sorted(bound):
        if h == handler and event not in wanted:
            client.call("event.unbind", {"event": event, "handler": handler})
            report["events_unbound"].append(event)

    placed = {(str(p.get("placement", "")).upper(), p.get("handler"))
              for p in _rows(client.call("placement.get")) if isinstance(p, dict)}
    for pl in PLACEMENTS:
        url = config.url(pl.path)
        if (pl.code, url) in placed:
            continue
        params: dict[str, Any] = {"PLACEMENT": pl.code, "HANDLER": url, "TITLE": t(pl.title_key, "ru"),
                                  "LANG_ALL": {lang: {"TITLE": text} for lang, text in both(pl.title_key).items()}}
        if pl.description_key:
            params["DESCRIPTION"] = t(pl.description_key, "ru")
        client.call("placement.bind", params)
        report["placements_bound"].append(pl.code)

    installations.mark_registered(services.db, member_id, b24app.__version__)
    log.info("registered", extra={"member_id": member_id, **{k: len(v) for k, v in report.items()}})
    return report
