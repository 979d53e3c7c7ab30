"""`b24app demo` sets everything up from nothing (sandbox with МеталПром, app, worker, scheduler,
install, demo settings, both 1C bases connected) and stops cleanly; the commands its banner offers
work on the demo portal."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_sets_up_and_exits(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("B24APP_")}
    out = subprocess.run(
        [sys.executable, "-m", "b24app", "demo", "--fresh", "--exit-after-setup", "--data", str(data),
         "--port", str(free_port()), "--sandbox-port", str(free_port())],
        env=env, capture_output=True, text=True, timeout=240,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "metalprom.bitrix24.ru" in out.stdout and "member_id" in out.stdout
    member_id = out.stdout.split("member_id ")[1].split()[0]
    app_env = dict(line.removeprefix("export ").split("=", 1) for line in
                   (data / "app.env").read_text().splitlines())
    app_env = {k: v.strip("'") for k, v in app_env.items()}
    shown = subprocess.run([sys.executable, "-m", "b24app", "portals", "show", member_id, "--json"],
                           env=env | app_env, capture_output=True, text=True, timeout=60)
    info = json.loads(shown.stdout)
    assert info["status"] == "active" and info["registered_at"]
    settings = subprocess.run([sys.executable, "-m", "b24app", "settings", "export", "--portal", member_id],
                              env=env | app_env, capture_output=True, text=True, timeout=60)
    assert "general:" in settings.stdout and "calendar:" in settings.stdout
    for section in ("distribution:", "stages:", "contracts:", "onec:"):
        assert section in settings.stdout, section

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "b24app", *args], env=env | app_env, capture_output=True,
                              text=True, timeout=120)

    bases = json.loads(cli("sync", "status", "--portal", member_id, "--json").stdout)
    assert len(bases) == 2 and {b["transport"] for b in bases} and all(not b["last_error"] for b in bases), bases
    for args in (("leads", "decisions"), ("contracts", "list"), ("report", "funnel")):
        got = cli(*args, "--portal", member_id, "--json")
        assert got.returncode == 0, (args, got.stderr[-2000:])
        json.loads(got.stdout)  # a listing in its --json form
        assert f"b24app {' '.join(args)} --portal {member_id}" in out.stdout  # the banner offers it
