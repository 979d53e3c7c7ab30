"""Jobs as people read them on the audit page and the deal tab: a job's last error in plain words
(without the error table's ``[source status code]`` prefix or a traceback) and its state."""

from __future__ import annotations

import re
from typing import Any

from b24app.messages import t
from b24app.store import jobs as jobs_repo

PREFIX = re.compile(r"^\[(?P<source>[a-z]+)(?: (?P<status>\d{3}))?(?: (?P<code>[^\]]+))?\]\s*")
BUG = re.compile(r"^(?P<cls>[A-Z][A-Za-z0-9_]*(?:Error|Exception|Exit)): ")
SOURCES = {"onec": "ui.job.src.onec", "bitrix": "ui.job.src.bitrix", "transport": "ui.job.src.transport",
           "oauth": "ui.job.src.oauth"}


def readable_error(text: str | None, lang: str) -> str:
    """The first line of a job's last error, said plainly: who answered what, or that the app failed."""
    if not text:
        return ""
    line = next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "")
    m = PREFIX.match(line)
    if m:
        rest = line[m.end():].strip()
        source = m.group("source")
        code = (m.group("code") or "").strip()
        if source == "app" and code == "config":
            return t("ui.job.config", lang, text=rest)
        if source in SOURCES:
            return t(SOURCES[source], lang, text=rest)
        return rest
    b = BUG.match(line)
    if b:
        return t("ui.job.bug", lang, cls=b.group("cls"))
    if line.startswith("unknown job kind"):
        return t("ui.job.unknown_kind", lang)
    return line


def state_of(job: jobs_repo.Job) -> str:
    """queued | retrying | running | done | dead."""
    if job.status == jobs_repo.QUEUED and job.attempts and job.last_error:
        return "retrying"
    return job.status


def job_view(job: jobs_repo.Job, lang: str) -> dict[str, Any]:
    """What a page shows of a job (never its whole payload: it may carry data people should not see)."""
    state = state_of(job)
    error = readable_error(job.last_error, lang)
    if state == "dead":
        message = t("ui.job.dead", lang, error=error or "—")
    elif state == "retrying":
        message = t("ui.job.retrying", lang, attempt=job.attempts, of=job.max_attempts, error=error or "—")
    else:
        message = t(f"ui.job.state.{state}", lang)
    return {"id": job.id, "kind": job.kind, "status": job.status, "state": state, "attempts": job.attempts,
            "max_attempts": job.max_attempts, "error": error, "message": message,
            "done": state == "done", "failed": state == "dead"}
