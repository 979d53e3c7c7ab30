"""1C passwords never leave the app: not on any page (every page an administrator can reach,
crawled), not in any CLI listing or command output, not in the logs the run produced (the
in-process log records at DEBUG and a worker process's own output at DEBUG), not in the clear in
the store's files — neither the right password nor a wrong one that makes 1C answer 401."""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from b24app.jobs.registry import load_plugins
from b24app.store import jobs as jobs_repo
from tests.scenarios.analytics.conftest import portal_post, session_of
from tests.scenarios.sync_1c.conftest import MP, Portal
from tests.security.pages import crawl

RIGHT = "Пароль-1С-Секрет-7731"
WRONG = "Неверный-Пароль-9911"


def leaked(text: str, users: dict[str, str]) -> list[str]:
    found = [p for p in (RIGHT, WRONG) if p in text]
    for user in users.values():
        for p in (RIGHT, WRONG):
            found += [f"basic({user})" for enc in (base64.b64encode(f"{user}:{p}".encode()).decode(),) if enc in text]
    return found


def text_of(result: object) -> str:
    """What a CLI call printed (the harness returns the parsed JSON of a successful --json call)."""
    output = getattr(result, "output", None)
    return output if isinstance(output, str) else json.dumps(result, ensure_ascii=False, default=str)


@pytest.fixture
def secret_bases(mp: Portal) -> dict[str, str]:
    """The БП base's password changed (in 1C and in the app) to RIGHT; the УТ base given WRONG in the app."""
    bases = mp.bases()
    mp.onec("PATCH", mp.main, "", {"password": RIGHT})
    mp.cli("sync", "set-password", "--portal", mp.member_id, "--base", mp.main, "--password-stdin", input=RIGHT + "\n")
    mp.cli("sync", "set-password", "--portal", mp.member_id, "--base", mp.trade, "--password-stdin", input=WRONG + "\n")
    return {name: b["user"] for name, b in bases.items()}


def test_passwords_in_no_page_listing_log_or_file(sandbox, mp: Portal, secret_bases, caplog, tmp_path: Path) -> None:
    caplog.set_level(logging.DEBUG)
    outputs: dict[str, str] = {}
    # work that talks to both bases: an invoice pushed to the БП base, pulls of both (the УТ one fails 401)
    deal_id = mp.deal_of(MP, stage="UC_AWAIT_PAYMENT")
    pushed = mp.cli("sync", "push-invoice", "--portal", mp.member_id, "--deal", str(deal_id), "--json")
    outputs["push-invoice"] = text_of(pushed)
    load_plugins().periodic["sync_1c.schedule"].enqueue(mp.app.services)
    mp.app.drain()
    pulls = jobs_repo.list_jobs(mp.app.db, kind="sync_1c.pull", member_id=mp.member_id, limit=100)
    assert pulls and any(j.last_error and "401" in j.last_error for j in pulls), [j.public() for j in pulls]
    # a worker process at DEBUG, its own output captured
    jobs_repo.purge(mp.app.db, status=jobs_repo.DONE)
    load_plugins().periodic["sync_1c.schedule"].enqueue(mp.app.services)
    for j in jobs_repo.list_jobs(mp.app.db, status=jobs_repo.QUEUED, member_id=mp.member_id, limit=100):
        mp.app.db.execute("UPDATE jobs SET run_at = 0 WHERE id = ?", (j.id,))
    env = mp.app.env() | {"B24APP_LOG_LEVEL": "DEBUG", "B24APP_LOG_FORMAT": "text"}
    worker = subprocess.run([sys.executable, "-m", "b24app", "worker", "--until-idle", "--max-jobs", "20"], env=env,
                            capture_output=True, text=True, timeout=180)
    outputs["worker"] = worker.stdout + worker.stderr
    assert "sync_1c.pull" in outputs["worker"] or "job" in outputs["worker"], outputs["worker"][-2000:]
    # every listing and command an operator runs
    m = mp.member_id
    commands = [("settings", "export", "--portal", m), ("sync", "status", "--portal", m, "--json"),
                ("sync", "dead-letters", "--portal", m, "--all", "--json"),
                ("sync", "test-connection", "--portal", m, "--base", mp.main, "--json"),
                ("sync", "test-connection", "--portal", m, "--base", mp.trade, "--json"),
                ("portals", "list", "--json"), ("portals", "show", m, "--json"), ("jobs", "list", "--json", "--limit", "1000"),
                ("jobs", "list", "--status", "dead", "--json"), ("config", "--json"), ("db", "status", "--json"),
                ("sync", "run", "--portal", m, "--json")]
    for args in commands:
        outputs[" ".join(args[:3])] = text_of(mp.cli(*args, ok=False))
    for job in jobs_repo.list_jobs(mp.app.db, member_id=m, limit=1000):
        if job.kind.startswith("sync_1c") or job.last_error:
            outputs[f"jobs show {job.id}"] = text_of(mp.cli("jobs", "show", str(job.id), "--json", ok=False))
    checked = [mp.cli("sync", "test-connection", "--portal", m, "--base", b, "--json", ok=False) for b in (mp.main, mp.trade)]
    texts = [text_of(c) for c in checked]
    assert '"ok": true' in texts[0] and '"step": "auth"' in texts[1] and '"ok": false' in texts[1], texts
    outputs["test-connection both"] = "\n".join(texts)
    # every page an administrator reaches
    portal = sandbox.control("GET", f"/portals/{m}")
    url, form = portal_post(sandbox, mp.app, portal, 1)  # the app page as the portal posts it (admin)
    token, _ = session_of(requests.post(url, data=form, timeout=30).text)
    pages = crawl(mp.app.url, token).pages
    assert len(pages) >= 3, pages.keys()
    users = secret_bases
    for name, text in list(outputs.items()) + [(f"page {p}", h) for p, h in pages.items()]:
        assert not leaked(text, users), (name, leaked(text, users))
    assert not leaked(caplog.text, users), "in-process log records"
    assert not leaked("\n".join(str(r.__dict__) for r in caplog.records), users)
    # at rest: the store's files never hold a password in the clear
    store = Path(mp.app.config.sqlite_path)
    for f in [store, *store.parent.glob(store.name + "-*")]:
        data = f.read_bytes()
        for p in (RIGHT, WRONG):
            assert p.encode() not in data, f.name
