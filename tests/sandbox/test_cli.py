"""``python -m b24sandbox serve`` as a separate process, stopped and started again on the same data."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "b24sandbox", "serve", "--port", str(port), "--data", str(data)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/_sandbox/", timeout=1)
            return proc
        except requests.ConnectionError:
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "sandbox exited") from None
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the sandbox did not start")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def test_serve_and_restart(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(tmp_path / "data", port)
    try:
        made = requests.post(base + "/_sandbox/portals", json={"domain": "cli.bitrix24.ru"}, timeout=30).json()
        assert made["rest_url"] == f"{base}/p/cli.bitrix24.ru/rest/"
        assert made["oauth_url"] == f"{base}/oauth/"
        hook = requests.post(f"{base}/_sandbox/portals/{made['member_id']}/webhooks", json={"user_id": 1},
                             timeout=10).json()["url"]
        assert requests.post(hook + "scope", timeout=10).status_code == 200
    finally:
        _stop(proc)
    proc = _start(tmp_path / "data", port)
    try:
        assert [p["domain"] for p in requests.get(base + "/_sandbox/portals", timeout=10).json()] == ["cli.bitrix24.ru"]
        assert requests.post(hook + "scope", timeout=10).status_code == 200
    finally:
        _stop(proc)
