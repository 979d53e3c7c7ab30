"""``b24app demo``: the sandbox portal with МеталПром's data and its 1C bases, the app installed
into it, a worker and the scheduler, in one process group on this machine.

Everything talks over real HTTP on 127.0.0.1. The sandbox is started as its own program
(``python -m b24sandbox``): the app does not import it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

DEMO_DOMAIN = "metalprom.bitrix24.ru"
DEMO_CLIENT_ID = "local.b24app0demo.metalprom"
SCOPES = ["crm", "bizproc", "task", "im", "user", "department", "placement", "disk", "timeman",
          "calendar", "documentgenerator"]


class Demo:
    def __init__(self, *, port: int, sandbox_port: int, data_dir: Path) -> None:
        self.port = port
        self.sandbox_port = sandbox_port
        self.data_dir = data_dir.resolve()
        self.sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        self.app_url = f"http://127.0.0.1:{port}"
        self.children: list[subprocess.Popen[bytes]] = []
        self.member_id = ""

    # --- processes ---------------------------------------------------------------------------
    def credentials(self) -> dict[str, str]:
        path = self.data_dir / "app-credentials.json"
        if path.exists():
            return json.loads(path.read_text())
        creds = {"client_id": DEMO_CLIENT_ID, "client_secret": secrets.token_hex(20),
                 "secret_key": secrets.token_hex(32)}
        path.write_text(json.dumps(creds))
        return creds

    def app_env(self) -> dict[str, str]:
        creds = self.credentials()
        env = dict(os.environ)
        env.update({
            "B24APP_CLIENT_ID": creds["client_id"],
            "B24APP_CLIENT_SECRET": creds["client_secret"],
            "B24APP_SECRET_KEY": creds["secret_key"],
            "B24APP_PUBLIC_URL": self.app_url,
            "B24APP_OAUTH_URL": self.sandbox_url + "/",
            "B24APP_DATABASE": str(self.data_dir / "app.sqlite"),
            "B24APP_INSTANCE_PATH": str(self.data_dir / "instance"),
            "B24APP_ALLOW_PRIVATE_NETWORKS": "1",
            "B24APP_LOG_FORMAT": env.get("B24APP_LOG_FORMAT", "text"),
        })
        return env

    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        log = open(self.data_dir / f"{name}.log", "ab")
        proc = subprocess.Popen([sys.executable, "-m", *args], env=env or dict(os.environ), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=False)
        self.children.append(proc)

    def wait_http(self, url: str, what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self.children:
                if proc.poll() is not None:
                    raise RuntimeError(f"{what} exited early (code {proc.returncode}); see {self.data_dir}/*.log")
            try:
                if requests.get(url, timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{what} did not answer at {url} within {timeout:.0f} s")

    def stop(self) -> None:
        for proc in reversed(self.children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.children:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()

    # --- sandbox control ---------------------------------------------------------------------
    def control(self, method: str, path: str, body: Any = None) -> Any:
        resp = requests.request(method, self.sandbox_url + path, json=body, timeout=120)
        if resp.status_code >= 400:
            raise RuntimeError(f"sandbox {method} {path}: HTTP {resp.status_code} {resp.text[:300]}")
        return resp.json() if resp.content else None

    def ensure_portal(self) -> dict[str, Any]:
        for p in self.control("GET", "/_sandbox/portals") or []:
            if p.get("domain") == DEMO_DOMAIN:
                return p
        return self.control("POST", "/_sandbox/portals", {"domain": DEMO_DOMAIN, "seed": "metalprom",
                                                          "plan": "standard"})

    def ensure_app(self) -> dict[str, Any]:
        creds = self.credentials()
        try:
            return self.control("GET", f"/_sandbox/portals/{self.member_id}/apps/{creds['client_id']}")
        except RuntimeError:
            self.control("POST", f"/_sandbox/portals/{self.member_id}/apps", {
                "client_id": creds["client_id"], "client_secret": creds["client_secret"],
                "install_url": self.app_url + "/install", "scopes": SCOPES, "ui": True,
            })
            return self.control("GET", f"/_sandbox/portals/{self.member_id}/apps/{creds['client_id']}")

    def b24app(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "b24app", *args], env=self.app_env(), text=True,
                              capture_output=True, timeout=300)

    def wait_registered(self, timeout: float = 90.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            out = self.b24app("portals", "show", self.member_id, "--json")
            if out.returncode == 0:
                last = json.loads(out.stdout)
                if last.get("registered_at"):
                    return last
            time.sleep(0.5)
        raise RuntimeError(f"the app did not finish registering in the portal: {last}")

    # --- the whole thing ---------------------------------------------------------------------
    def setup(self) -> dict[str, Any]:
        self.spawn("sandbox", ["b24sandbox", "serve", "--port", str(self.sandbox_port), "--data",
                               str(self.data_dir / "sandbox")])
        self.wait_http(self.sandbox_url + "/_sandbox/portals", "the sandbox")
        portal = self.ensure_portal()
        self.member_id = portal["member_id"]
        env = self.app_env()
        self.spawn("app", ["b24app", "serve", "--port", str(self.port)], env)
        self.spawn("worker", ["b24app", "worker", "--concurrency", "2"], env)
        self.spawn("scheduler", ["b24app", "scheduler"], env)
        self.wait_http(self.app_url + "/healthz", "the app")
        app = self.ensure_app()
        if not app.get("installed"):
            self.control("POST", f"/_sandbox/portals/{self.member_id}/apps/{self.credentials()['client_id']}/install")
        status = self.wait_registered()
        settings_note = "kept"
        exported = self.b24app("settings", "export", "--portal", self.member_id)
        if exported.returncode == 0 and "distribution" not in exported.stdout:
            imported = self.b24app("settings", "import", "--portal", self.member_id, "--demo")
            if imported.returncode != 0:
                raise RuntimeError("demo settings did not import:\n" + imported.stderr)
            settings_note = "imported"
        connected = self.b24app("sync", "connect", "--portal", self.member_id, "--from-sandbox", self.sandbox_url,
                                "--json")
        if connected.returncode != 0:
            raise RuntimeError("the 1C bases did not connect:\n" + connected.stderr[-2000:])
        webhook = self.control("POST", f"/_sandbox/portals/{self.member_id}/webhooks", {"user_id": 1})
        return {"portal": portal, "status": status, "settings": settings_note, "webhook": webhook.get("url")}

    def banner(self, info: dict[str, Any]) -> str:
        portal = info["portal"]
        hook = info["webhook"]
        return "\n".join([
            "",
            "b24app demo is running (Ctrl-C stops everything)",
            f"  sandbox portal   {portal['domain']}  member_id {self.member_id}",
            f"  portal REST      {portal.get('rest_url', '')}",
            f"  sandbox control  {self.sandbox_url}/_sandbox/portals",
            f"  app              {self.app_url}  (health: {self.app_url}/healthz)",
            f"  settings         {info['settings']} (b24app settings export --portal {self.member_id})",
            f"  data and logs    {self.data_dir}",
            "",
            "Try: add a lead through the portal's webhook and watch it being assigned:",
            f"  curl -s '{hook}crm.lead.add.json' -H 'Content-Type: application/json' \\",
            "    -d '{\"fields\": {\"TITLE\": \"Заявка с сайта\", \"SOURCE_ID\": \"UC_YANDEX\", "
            "\"PHONE\": [{\"VALUE\": \"+7 912 000-11-22\", \"VALUE_TYPE\": \"WORK\"}]}}'",
            f"  curl -s '{self.sandbox_url}/_sandbox/portals/{self.member_id}/notifications'",
            "  the reason is on the lead itself (field «Причина назначения (b24app)»):",
            f"  curl -s '{hook}crm.lead.list.json?order[ID]=DESC&select[]=ID&select[]=ASSIGNED_BY_ID"
            "&select[]=UF_CRM_B24APP_REASON'",
            "",
            f"With the variables of {self.data_dir}/app.env (source it first):",
            "  b24app jobs list                                    the durable jobs",
            f"  b24app leads decisions --portal {self.member_id}     who got which lead and why",
            f"  b24app sync status --portal {self.member_id}         the two 1C bases (БП 3.0, УТ 11)",
            f"  b24app contracts list --portal {self.member_id}      the contract register",
            f"  b24app report funnel --portal {self.member_id}       the lead and deal funnel",
            "",
        ])

    def write_env_file(self) -> None:
        keys = [k for k in self.app_env() if k.startswith("B24APP_")]
        env = self.app_env()
        (self.data_dir / "app.env").write_text("".join(f"export {k}={env[k]!r}\n" for k in keys))


def run_demo(*, port: int, sandbox_port: int, data_dir: Path, fresh: bool, exit_after_setup: bool) -> int:
    if fresh and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    demo = Demo(port=port, sandbox_port=sandbox_port, data_dir=data_dir)
    stopping = False

    def on_signal(*_a: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    try:
        info = demo.setup()
        demo.write_env_file()
        print(demo.banner(info), flush=True)
        if exit_after_setup:
            return 0
        while not stopping:
            for proc in demo.children:
                if proc.poll() is not None:
                    print(f"a demo process exited (code {proc.returncode}); see {data_dir}/*.log", file=sys.stderr)
                    return 1
            time.sleep(0.5)
        return 0
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        demo.stop()
