"""A thin database adapter with one SQL dialect for both engines.

SQL is written once with ``?`` placeholders and portable constructs (``INSERT ... ON CONFLICT``,
``RETURNING``, JSON kept as text, times as unix seconds in REAL columns). The SQLite adapter runs
in autocommit mode and opens explicit ``BEGIN IMMEDIATE`` transactions, so two writers never
deadlock on a lock upgrade; the PostgreSQL adapter (b24app.store.pg) translates placeholders.
"""

from __future__ import annotations

import abc
import json
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

BUSY_TIMEOUT_MS = 30_000


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def loads(text: str | bytes | None, default: Any = None) -> Any:
    if text is None or text == "":
        return default
    return json.loads(text)


class Database(abc.ABC):
    """What repositories use. Implementations: :class:`SQLiteDatabase`, ``PostgresDatabase``."""

    dialect = "abstract"
    url = ""

    @abc.abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns the affected row count."""

    @abc.abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a query as dicts."""

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.one(sql, params)
        return None if row is None else next(iter(row.values()))

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[Database]:
        """A write transaction that takes the write lock at once (nested calls join the outer)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release this thread's connection."""

    def ddl(self, sql: str) -> str:
        """Expand the DDL macros of migrations for this dialect."""
        return sql

    @property
    def for_update(self) -> str:
        """`` FOR UPDATE`` where row locks exist (PostgreSQL); SQLite's BEGIN IMMEDIATE already
        holds the only write lock."""
        return " FOR UPDATE" if self.dialect == "postgres" else ""

    def serialize(self, key: int) -> None:
        """Inside a transaction: wait for and hold a named lock until it ends (PostgreSQL advisory
        transaction lock; SQLite's write lock already serializes writers)."""
        if self.dialect == "postgres":
            self.query("SELECT pg_advisory_xact_lock(?)", (key,))


class SQLiteDatabase(Database):
    """SQLite in WAL mode, one connection per thread, ``BEGIN IMMEDIATE`` transactions."""

    dialect = "sqlite"

    MACROS = {
        "{ID}": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "{REAL}": "REAL",
        "{BLOB}": "BLOB",
        "{TEXT}": "TEXT",
        "{BIGINT}": "INTEGER",
    }

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.url = f"sqlite:///{self.path}"
        self._local = threading.local()
        sqlite_utils.Database(self._connect()).enable_wal()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            self._local.depth = 0
        return conn

    @property
    def utils(self) -> sqlite_utils.Database:
        """sqlite-utils view of this thread's connection (introspection, bulk inserts)."""
        return sqlite_utils.Database(self.conn)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cur = self.conn.execute(sql, tuple(params))
        return cur.rowcount

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, tuple(params))
        return [dict(r) for r in cur.fetchall()]

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        conn = self.conn
        if self._local.depth:
            self._local.depth += 1
            try:
                yield self
            finally:
                self._local.depth -= 1
            return
        conn.execute("BEGIN IMMEDIATE")
        self._local.depth = 1
        try:
            yield self
        except BaseException:
            self._local.depth = 0
            conn.execute("ROLLBACK")
            raise
        self._local.depth = 0
        conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def ddl(self, sql: str) -> str:
        for macro, value in self.MACROS.items():
            sql = sql.replace(macro, value)
        return sql


_PG_URL = re.compile(r"^postgres(ql)?(\+\w+)?://")


def open_database(*, path: Path | str | None = None, url: str = "") -> Database:
    """SQLite at ``path`` unless ``url`` names PostgreSQL."""
    if url and _PG_URL.match(url):
        from b24app.store.pg import PostgresDatabase  # imported only when asked: optional extra

        return PostgresDatabase(url)
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
    if path is None:
        raise ValueError("open_database needs a SQLite path or a postgresql:// URL")
    return SQLiteDatabase(path)
