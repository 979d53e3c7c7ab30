"""An emulated 1C base (its profile, credentials, storage, faults, request log) and the registry of bases.

The registry (``<data_dir>/onec/registry.sqlite``) remembers every base: name, profile, Basic-auth
credentials, the portal (``member_id``) it belongs to and its options. Each base keeps its data in its
own SQLite file next to the registry, so bases survive a restart of the sandbox.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .faults import FaultState, RequestLog
from .logic import ProfileLogic, logic_for
from .logic.session import Session
from .schema import PROFILES, Profile, build_profile, load_profile
from .storage import Store

NAME_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def _profile_view(name: str, unpublished: tuple[str, ...]) -> Profile:
    """The profile as a base publishes it (sets left out of the OData composition disappear)."""
    if not unpublished:
        return load_profile(name)
    full = load_profile(name)
    doc = dict(full.raw)
    drop = set(unpublished)
    doc["objects"] = [o for o in full.raw["objects"] if f"{o['kind']}_{o['name']}" not in drop]
    return build_profile(doc)


class Base:
    """One emulated infobase: ``/onec/<name>/odata/standard.odata`` and ``/onec/<name>/ws/b24exchange``."""

    def __init__(self, root: Path, name: str, profile: str, user: str, password: str, member_id: str = "",
                 options: dict[str, Any] | None = None) -> None:
        self.name = name
        self.profile_name = profile
        self.user = user
        self.password = password
        self.member_id = member_id
        self.options: dict[str, Any] = dict(options or {})
        self.profile: Profile = _profile_view(profile, tuple(self.options.get("unpublished") or ()))
        self.store = Store(root / f"{name}.sqlite")
        self.handlers: ProfileLogic = logic_for(profile, self)
        self.invoice_fields = dict(self.handlers.invoice_fields)
        self.number_prefix = str(self.options.get("number_prefix", "00"))
        self.faults = FaultState(self.store)
        self.requests = RequestLog()

    @contextmanager
    def session(self, *, data_load: bool = False) -> Iterator[Session]:
        """A write transaction with the configuration's handlers."""
        with self.store.write() as tx:
            s = Session(self, tx)
            s.data_load = data_load
            yield s

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A read-only view with the same helpers (no lock, no transaction)."""
        from .storage import Tx

        with self.store.read() as conn:
            yield Session(self, Tx(conn))

    def note_deleted(self, s: Session, et: Any, ref: str) -> None:
        s.conn.execute("INSERT OR REPLACE INTO deletions VALUES(?, ?, ?)", (ref, et.set_name, s.tx.counter("change_seq")))

    def info(self, host_url: str) -> dict[str, Any]:
        """The control API's description of the base (connection settings for the app)."""
        root = host_url.rstrip("/")
        return {
            "name": self.name,
            "odata_url": f"{root}/onec/{self.name}/odata/standard.odata/",
            "wsdl_url": f"{root}/onec/{self.name}/ws/b24exchange.1cws?wsdl",
            "user": self.user,
            "password": self.password,
            "profile": self.profile_name,
            "member_id": self.member_id,
            "configuration": self.profile.configuration,
            "options": self.options,
        }


class Registry:
    """All bases of a sandbox data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "onec"
        self.root.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.bases: dict[str, Base] = {}
        self._db = self.root / "registry.sqlite"
        with self._conn() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS bases(name TEXT PRIMARY KEY, profile TEXT NOT NULL, user TEXT NOT NULL, "
                "password TEXT NOT NULL, member_id TEXT NOT NULL DEFAULT '', options TEXT NOT NULL DEFAULT '{}', "
                "created TEXT NOT NULL DEFAULT (datetime('now')))"
            )
            rows = conn.execute("SELECT name, profile, user, password, member_id, options FROM bases").fetchall()
        for name, profile, user, password, member_id, options in rows:
            self.bases[name] = Base(self.root, name, profile, user, password, member_id, json.loads(options))

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(str(self._db), timeout=30, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()

    def get(self, name: str) -> Base | None:
        return self.bases.get(name)

    def for_member(self, member_id: str) -> list[Base]:
        return sorted((b for b in self.bases.values() if b.member_id == member_id), key=lambda b: b.name)

    def create(self, name: str, profile: str, user: str, password: str, member_id: str = "",
               options: dict[str, Any] | None = None) -> Base:
        if not NAME_RE.match(name):
            raise ValueError("base name must be 1-64 characters of A-Z a-z 0-9 _ -")
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; use one of {', '.join(PROFILES)}")
        with self.lock:
            if name in self.bases:
                raise FileExistsError(name)
            base = Base(self.root, name, profile, user, password, member_id, options)
            with self._conn() as conn:
                conn.execute("INSERT INTO bases(name, profile, user, password, member_id, options) VALUES(?,?,?,?,?,?)",
                             (name, profile, user, password, member_id, json.dumps(options or {}, ensure_ascii=False)))
            self.bases[name] = base
            return base

    def update(self, base: Base) -> None:
        with self.lock, self._conn() as conn:
            conn.execute("UPDATE bases SET user=?, password=?, member_id=?, options=? WHERE name=?",
                         (base.user, base.password, base.member_id, json.dumps(base.options, ensure_ascii=False),
                          base.name))

    def delete(self, name: str) -> bool:
        with self.lock:
            base = self.bases.pop(name, None)
            if base is None:
                return False
            with self._conn() as conn:
                conn.execute("DELETE FROM bases WHERE name=?", (name,))
            for suffix in ("", "-wal", "-shm"):
                p = base.store.path.with_name(base.store.path.name + suffix)
                if p.exists():
                    p.unlink()
            return True
