"""Configuration from ``B24APP_*`` environment variables.

Every setting has one name, one default and one line of documentation here; README's
configuration table lists :data:`VARIABLES` (``b24app config`` prints them with their values here).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

VARIABLES: dict[str, tuple[str, str]] = {
    # name: (default, description)
    "CLIENT_ID": ("", "OAuth client_id of the application (local.* or app.*)"),
    "CLIENT_SECRET": ("", "OAuth client_secret of the application"),
    "PUBLIC_URL": ("http://127.0.0.1:5000", "public base URL of the app as the portal reaches it"),
    "OAUTH_URL": ("https://oauth.bitrix.info/", "trusted Bitrix24 OAuth server (token and app.info)"),
    "DATABASE": ("", "SQLite file path (default: <instance>/b24app.sqlite)"),
    "DATABASE_URL": ("", "postgresql://... switches the store to PostgreSQL"),
    "SECRET_KEY": ("", "secret for signed sessions and encryption of secrets at rest"),
    "LOG_LEVEL": ("INFO", "log level: DEBUG, INFO, WARNING, ERROR"),
    "LOG_FORMAT": ("auto", "log format: json, text or auto (json when not a TTY)"),
    "INSTANCE_PATH": ("", "instance folder (default: ./instance)"),
    "ALLOW_PRIVATE_NETWORKS": ("0", "1 lets 1C connection URLs point at private/loopback addresses"),
    "HTTP_TIMEOUT": ("30", "timeout in seconds of one outbound HTTP request"),
    "WORKER_LEASE": ("120", "seconds a worker holds a job before another may take it again"),
    "LANG": ("ru", "default language of user-facing texts: ru or en"),
    "WORKER_HEARTBEAT": ("10", "PostgreSQL mode: seconds between a worker's heartbeats"),
    "WORKER_STALLED_AFTER": ("30", "PostgreSQL mode: a worker silent this many seconds counts as dead"),
    "EXTRA_PLUGINS": ("", "comma-separated modules imported beside b24app/<pkg>/plugin.py (own job kinds)"),
    "RECOVER_EVERY": ("15", "PostgreSQL mode: seconds between recoveries of dead workers' jobs"),
    "TEMPLATES_DIR": ("", "folder of .docx templates that settings may name by path (empty: base64 only)"),
}


@dataclass
class Config:
    client_id: str = ""
    client_secret: str = ""
    public_url: str = "http://127.0.0.1:5000"
    oauth_url: str = "https://oauth.bitrix.info/"
    database: str = ""
    database_url: str = ""
    secret_key: str = ""
    log_level: str = "INFO"
    log_format: str = "auto"
    instance_path: str = ""
    allow_private_networks: bool = False
    http_timeout: float = 30.0
    worker_lease: float = 120.0
    lang: str = "ru"
    worker_heartbeat: float = 10.0
    worker_stalled_after: float = 30.0
    recover_every: float = 15.0
    extra_plugins: str = ""
    templates_dir: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Config:
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            key = "B24APP_" + f.name.upper()
            default = VARIABLES.get(f.name.upper(), ("", ""))[0]
            raw = env.get(key, default)
            if f.type in ("bool", bool):
                values[f.name] = str(raw).strip().lower() in ("1", "true", "yes", "y", "on")
            elif f.type in ("float", float):
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        values.update(overrides)
        cfg = cls(**values)
        cfg.public_url = cfg.public_url.rstrip("/")
        if not cfg.oauth_url.endswith("/"):
            cfg.oauth_url += "/"
        return cfg

    @property
    def instance_dir(self) -> Path:
        return Path(self.instance_path or "instance").resolve()

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database) if self.database else self.instance_dir / "b24app.sqlite"

    def url(self, path: str) -> str:
        """An absolute public URL of the app for ``path`` (e.g. ``/events``)."""
        return self.public_url + "/" + path.lstrip("/")
