"""What the settings pages show and do beside the document itself: paused managers (distribution),
the next contract numbers and uploaded templates (contracts), connection tests, sync status and
dead letters (1C). Every function takes the page session and reads or writes only its portal."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from b24app import clock
from b24app.errors import B24AppError
from b24app.messages import t
from b24app.web.auth import PageSession
from b24app.web.views import portal_dicts

log = logging.getLogger("b24app.web.settings")


def tz_of(doc: dict[str, Any]) -> str:
    return str((doc.get("general") or {}).get("timezone") or "Europe/Moscow")


def when(ts: Any, doc: dict[str, Any]) -> str:
    """A moment (unix seconds or ISO text) in the portal's time zone, as people read it."""
    if ts in (None, "", 0):
        return "—"
    try:
        zone = ZoneInfo(tz_of(doc))
    except Exception:  # a bad zone in the settings must not break the page
        zone = ZoneInfo("Europe/Moscow")
    try:
        moment = dt.datetime.fromtimestamp(float(ts), zone) if not isinstance(ts, str) else \
            dt.datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(zone)
    except (TypeError, ValueError):
        return str(ts)
    return moment.strftime("%d.%m.%Y %H:%M")


# --- distribution: pauses ---------------------------------------------------------------------------
def distribution_panel(services: Any, page: PageSession, doc: dict[str, Any]) -> dict[str, Any]:
    from b24app.leads import store

    portal = portal_dicts.dicts(services, page.member_id)
    paused = []
    for uid, row in store.paused(services.db, page.member_id).items():
        paused.append({"user_id": uid, "name": portal.user_name(uid) or f"#{uid}",
                       "by": portal.user_name(row.get("paused_by")) or (f"#{row['paused_by']}" if row.get("paused_by")
                                                                        else "—"),
                       "reason": row.get("reason") or "", "at": when(row.get("paused_at"), doc)})
    users = [{"id": int(u["ID"]), "name": portal_dicts.user_label(u)} for u in portal.users]
    return {"paused": paused, "pause_users": users}


# --- contracts: next numbers, templates -------------------------------------------------------------
def _as_bool(text: str) -> bool | None:
    if text in ("", None):
        return None
    return str(text).lower() in ("1", "true", "y", "yes", "on")


def _as_int(text: Any) -> int | None:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


def number_preview(services: Any, page: PageSession, doc: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """The next number of a contract type as it is being typed, for each of our legal entities: the
    format rendered with the value the counter would give now (the register's counter + step)."""
    from b24app.contracts import numbering, register
    from b24app.contracts.service import plan_number
    from b24app.contracts.types import effective_type

    lang = page.lang
    code = str(args.get("code") or "").strip() or "type"
    raw: dict[str, Any] = {"code": code}
    for key in ("format", "prefix", "reset", "sequence", "legal_entity"):
        if str(args.get(key) or "").strip():
            raw[key] = str(args[key]).strip()
    for key in ("start", "step"):
        if _as_int(args.get(key)) is not None:
            raw[key] = _as_int(args.get(key))
    if _as_bool(args.get("per_legal_entity", "")) is not None:
        raw["per_legal_entity"] = _as_bool(args.get("per_legal_entity", ""))
    configured = next((dict(x) for x in (doc.get("contracts") or {}).get("types") or []
                       if isinstance(x, dict) and x.get("code") == code), {})
    configured.update(raw)
    typ = effective_type(configured)
    tz = tz_of(doc)
    now = clock.utcnow()
    if typ.get("reset") not in numbering.RESETS:
        typ["reset"] = "yearly"
    check = numbering.preview(str(typ.get("format") or ""), at=now, tz=tz, reset=typ["reset"])
    warnings = [w["message"] if lang == "ru" else w["message_en"] for w in check.warnings]
    if not check.ok:
        err = check.error or {}
        return {"ok": False, "error": err.get("message") if lang == "ru" else err.get("message_en"),
                "position": err.get("position"), "items": [], "warnings": warnings}
    entities = [le for le in (doc.get("contracts") or {}).get("legal_entities") or [] if isinstance(le, dict)]
    if typ.get("legal_entity"):
        entities = [le for le in entities if le.get("code") == typ["legal_entity"]]
    items = []
    for le in entities or [None]:
        try:
            plan = plan_number(typ, le, tz, now, 1234)
        except B24AppError as exc:
            items.append({"legal_entity": (le or {}).get("code") or "", "text": None, "error": str(exc)})
            continue
        last = register.counter_value(services.db, page.member_id, typ["sequence"], plan.counter_le, plan.period)
        nxt = int(typ["start"]) if last is None else last + int(typ["step"])
        try:
            text = plan.make_number(nxt)
        except numbering.NumberFormatError as exc:
            items.append({"legal_entity": (le or {}).get("code") or "", "text": None,
                          "error": exc.message if lang == "ru" else str(exc)})
            continue
        items.append({"legal_entity": (le or {}).get("code") or "", "number_code": (le or {}).get("number_code")
                      or (le or {}).get("code") or "", "text": text, "seq": nxt, "last": last, "period": plan.period})
    return {"ok": True, "items": items, "warnings": warnings, "error": None,
            "note": t("ui.settings.preview_note", lang)}


def contracts_panel(services: Any, page: PageSession, doc: dict[str, Any]) -> dict[str, Any]:
    from b24app.contracts.types import label

    section = doc.get("contracts") or {}
    templates = []
    for code, tpl in (section.get("templates") or {}).items():
        if not isinstance(tpl, dict):
            continue
        size = len(base64.b64decode(str(tpl.get("base64") or ""), validate=False)) if tpl.get("base64") else None
        used = [str(x.get("code")) for x in section.get("types") or []
                if isinstance(x, dict) and x.get("template") == code]
        templates.append({"code": code, "title": tpl.get("title") or code, "path": tpl.get("path") or "",
                          "size_kb": None if size is None else max(1, round(size / 1024)), "used_by": used})
    previews = []
    for i, typ in enumerate(section.get("types") or []):
        if not isinstance(typ, dict):
            continue
        got = number_preview(services, page, doc, {"code": typ.get("code", "")})
        previews.append({"index": i, "code": typ.get("code"), "label": typ.get("label") or label(str(typ.get("code")),
                                                                                                page.lang),
                         "preview": got})
    return {"templates": templates, "previews": previews}


# --- 1C: connections, status, dead letters --------------------------------------------------------
def _lag(seconds: Any, lang: str) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    if seconds < 3600:
        return t("ui.settings.onec.lag_min", lang, n=max(0, seconds // 60))
    return t("ui.settings.onec.lag_h", lang, n=f"{seconds / 3600:.1f}")


def onec_status(services: Any, page: PageSession, doc: dict[str, Any]) -> list[dict[str, Any]]:
    from b24app.sync_1c.engine import status

    rows = []
    for r in status(services, page.member_id, doc):
        streams = r.get("streams") or {}
        rows.append({
            "base": r["base"], "transport": r.get("transport"), "profile": r.get("profile"),
            "enabled": r.get("enabled", True),
            "payments_cursor": (streams.get("payments") or {}).get("cursor"),
            "payments_lag": _lag((streams.get("payments") or {}).get("lag_s"), page.lang),
            "invoices_cursor": (streams.get("invoices") or {}).get("cursor"),
            "invoices_lag": _lag((streams.get("invoices") or {}).get("lag_s"), page.lang),
            "last_run": when(r.get("last_run_at"), doc), "last_success": when(r.get("last_success_at"), doc),
            "last_error": (r.get("last_error") or "")[:500], "last_error_at": when(r.get("last_error_at"), doc),
            "dead_letters": r.get("dead_letters", 0), "portal_queue": r.get("portal_queue", 0),
            "running": bool(r.get("running")),
        })
    return rows


def onec_panel(services: Any, page: PageSession, doc: dict[str, Any]) -> dict[str, Any]:
    from b24app.sync_1c import state

    try:
        status_rows = onec_status(services, page, doc)
        status_error = ""
    except B24AppError as exc:
        status_rows, status_error = [], str(exc)
    dead = []
    for r in state.dead_letters(services.db, page.member_id, limit=100):
        dead.append({"id": r.get("id"), "base": r["base"], "stream": r["stream"], "key": r["record_key"],
                     "reason": (r.get("reason") or "")[:400], "attempts": r.get("attempts"),
                     "at": when(r.get("updated_at"), doc)})
    return {"onec_status": status_rows, "onec_status_error": status_error, "dead_letters": dead}


def test_connection(services: Any, page: PageSession, base: str) -> tuple[dict[str, Any], int]:
    """Walk the saved connection ``base`` step by step (b24app.sync_1c.connections.test_connection,
    the function ``b24app sync test-connection`` runs); passwords are never part of the answer."""
    from b24app.settings import document
    from b24app.sync_1c import connections

    if not base:
        return {"ok": False, "error": t("ui.settings.onec.no_base", page.lang)}, 400
    settings = document.load(services.db, page.member_id)
    try:
        cfg = connections.base_config(settings, base)
    except B24AppError:
        return {"ok": False, "error": t("ui.settings.onec.unknown_base", page.lang, base=base)}, 404
    try:
        report = connections.test_connection(services, page.member_id, cfg)
    except B24AppError as exc:
        return {"ok": False, "base": base, "error": str(exc), "steps": []}, 200
    out = report.as_dict()
    out["summary"] = (t("ui.settings.onec.test_ok", page.lang) if report.ok else
                      t("ui.settings.onec.test_failed", page.lang, step=out.get("failed_step") or "?"))
    log.info("1C connection tested from the settings page", extra={"member_id": page.member_id, "base": base,
                                                                   "ok": report.ok})
    return out, 200


def retry_dead_letters(services: Any, page: PageSession, base: str | None) -> int:
    """What ``b24app sync retry-dead`` does for portal writes (queue them again), plus a re-read of
    1C from before the oldest failed record for invoices and payments; then a pull is queued."""
    from b24app.settings import document
    from b24app.sync_1c import connections, state
    from b24app.sync_1c.plugin import enqueue_pull

    settings = document.load(services.db, page.member_id)
    known = {b["name"] for b in connections.bases(settings, enabled_only=False)}
    n = 0
    since: dict[str, float] = {}
    touched: set[str] = set()
    for row in state.dead_letters(services.db, page.member_id, base, limit=10_000):
        if row["base"] not in known:
            continue
        touched.add(row["base"])
        if row["stream"] == "portal":
            n += state.mark_dirty(services.db, page.member_id, row["base"], {row["record_key"]}, "retry", force=True)
        else:
            created = _ts(row.get("created_at"))
            if created is not None:
                since[row["base"]] = min(since.get(row["base"], created), created)
            n += 1
    lookback = int(((settings.get("onec") or {}).get("pull") or {}).get("lookback_days", 7))
    for name in sorted(touched):
        start = None
        if name in since:
            start = (dt.datetime.fromtimestamp(since[name], dt.UTC).date() - dt.timedelta(days=lookback)).isoformat()
        enqueue_pull(services.db, page.member_id, name, since=start)
    log.info("1C dead letters retried from the settings page", extra={"member_id": page.member_id, "count": n})
    return n


def _ts(iso: Any) -> float | None:
    if not iso:
        return None
    try:
        return dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def run_pulls(services: Any, page: PageSession, base: str | None) -> int:
    from b24app.settings import document
    from b24app.sync_1c import connections
    from b24app.sync_1c.plugin import enqueue_pull

    settings = document.load(services.db, page.member_id)
    n = 0
    for b in connections.bases(settings):
        if base and b["name"] != base:
            continue
        _, created = enqueue_pull(services.db, page.member_id, b["name"])
        n += int(created)
    return n
