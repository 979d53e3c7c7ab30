"""PostgreSQL behind the same adapter as SQLite (``B24APP_DATABASE_URL=postgresql://...``).

One connection per thread in autocommit mode; :meth:`transaction` opens a READ COMMITTED
transaction (nested calls join the outer one). Placeholders ``?`` are translated to ``%s`` and a
literal ``%`` in SQL text (``LIKE 'a%'``, the modulo operator) is escaped, so the same text runs
on both engines; a ``?`` inside a string literal is not supported (pass such values as parameters).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from b24app.store.db import Database

_PLACEHOLDER = re.compile(r"\?")


class PostgresDatabase(Database):
    dialect = "postgres"

    MACROS = {
        "{ID}": "BIGSERIAL PRIMARY KEY",
        "{REAL}": "DOUBLE PRECISION",
        "{BLOB}": "BYTEA",
        "{TEXT}": "TEXT",
        "{BIGINT}": "BIGINT",
    }

    def __init__(self, url: str) -> None:
        self.url = url.replace("postgresql+psycopg://", "postgresql://")
        self._local = threading.local()
        self.pq_state: tuple[bool, float] | None = None  # procrastinate installed? (b24app.jobs.pq)

    @property
    def conn(self) -> psycopg.Connection[Any]:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = psycopg.connect(self.url, autocommit=True, row_factory=dict_row)
            self._local.conn = conn
            self._local.depth = 0
        return conn

    @staticmethod
    def _sql(sql: str) -> str:
        return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cur = self.conn.execute(self._sql(sql), tuple(params))
        return cur.rowcount

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(self._sql(sql), tuple(params))
        if cur.description is None:
            return []
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
        self._local.depth = 1
        try:
            with conn.transaction():
                yield self
        finally:
            self._local.depth = 0

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed:
            conn.close()
        self._local.conn = None

    def ddl(self, sql: str) -> str:
        for macro, value in self.MACROS.items():
            sql = sql.replace(macro, value)
        return sql
