"""SQLite storage of one emulated 1C base, and the values' codecs between storage and the wire.

One file per base (``<data_dir>/onec/<name>.sqlite``, WAL mode). Catalog items and documents live in
``objects`` (indexed columns for the standard fields, the other properties as *sparse* JSON: only the
values that differ from the empty value of their type are stored, SQL reads them back through
``COALESCE(json_extract(...), <empty value>)``). Accumulation register movements live in
``acc_records``, independent information register records in ``info_records``. Lists are read with
SQL cursors and paged in SQL, so a set of 100,000 documents is served without building it in memory.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import ODataError, internal_error
from .schema import EMPTY_DATE, EMPTY_GUID, UNDEFINED_TYPE, EntityType, Field, Profile

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects(
    ref TEXT PRIMARY KEY,
    set_name TEXT NOT NULL,
    data TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL DEFAULT 0,
    date TEXT NOT NULL DEFAULT '0001-01-01T00:00:00',
    number TEXT NOT NULL DEFAULT '',
    posted INTEGER NOT NULL DEFAULT 0,
    deletion_mark INTEGER NOT NULL DEFAULT 0,
    description TEXT NOT NULL DEFAULT '',
    code TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS ix_objects_set_date ON objects(set_name, date);
CREATE INDEX IF NOT EXISTS ix_objects_set_seq ON objects(set_name, seq);
CREATE INDEX IF NOT EXISTS ix_objects_set_number ON objects(set_name, number);
CREATE INDEX IF NOT EXISTS ix_objects_set_description ON objects(set_name, description);
CREATE TABLE IF NOT EXISTS acc_records(
    register TEXT NOT NULL,
    recorder TEXT NOT NULL,
    recorder_type TEXT NOT NULL,
    line INTEGER NOT NULL,
    period TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    invoice TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL,
    PRIMARY KEY(register, recorder, line)
);
CREATE INDEX IF NOT EXISTS ix_acc_period ON acc_records(register, period);
CREATE INDEX IF NOT EXISTS ix_acc_invoice ON acc_records(register, invoice);
CREATE TABLE IF NOT EXISTS info_records(
    register TEXT NOT NULL,
    dims TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY(register, dims)
);
CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deletions(ref TEXT PRIMARY KEY, set_name TEXT NOT NULL, seq INTEGER NOT NULL);
"""

# Standard object fields kept in columns of ``objects`` (the rest goes to the sparse JSON).
OBJECT_COLUMNS = {
    "Ref_Key": "ref",
    "DeletionMark": "deletion_mark",
    "Posted": "posted",
    "Number": "number",
    "Date": "date",
    "Description": "description",
    "Code": "code",
}
RECORD_COLUMNS = {
    "Recorder": "recorder",
    "Recorder_Type": "recorder_type",
    "LineNumber": "line",
    "Period": "period",
    "Active": "active",
}

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
INT_RE = re.compile(r"^\s*[+-]?\d+\s*$")
NUM_RE = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")


def new_ref() -> str:
    """A reference like 1C's: a time-based UUID (version nibble 1) with a random node."""
    return str(uuid.uuid1(node=uuid.getnode() ^ uuid.uuid4().int & 0xFFFFFFFFFFFF))


def data_version(counter: int) -> str:
    """DataVersion as 1C shows it on a live base: base64 of an 8-byte counter (``AAAAAAAAAAA=`` = 0)."""
    return base64.b64encode(int(counter).to_bytes(8, "big", signed=False)).decode("ascii")


def norm_guid(value: str) -> str | None:
    value = value.strip().strip("{}")
    return value.lower() if GUID_RE.match(value) else None


def norm_date(value: str) -> str | None:
    m = DATE_RE.match(value.strip())
    if not m:
        return None
    y, mo, d, h, mi, s = (int(x) if x else 0 for x in m.groups())
    try:
        if y > 1:
            dt.datetime(y, mo, d, h, mi, s)
    except ValueError:
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"


def parse_error(value: Any, edm: str) -> ODataError:
    return ODataError(400, "1", f"Не удалось разобрать строку '{value}' как значение типа {edm}!")


def coerce(f: Field, value: Any) -> Any:
    """A JSON value sent by a client -> storage form of the field (1C's silent rules, see P8 probes)."""
    if value is None:
        return f.default
    if isinstance(value, (list, dict)) and f.kind != "composite":
        raise internal_error()
    k = f.kind
    if k in ("guid", "ref"):
        if not isinstance(value, str):
            raise parse_error(value, "Edm.Guid")
        g = norm_guid(value) if value else EMPTY_GUID
        if g is None:
            raise parse_error(value, "Edm.Guid")
        return g
    if k == "bool":
        if isinstance(value, bool):
            return value
        raise parse_error(value, "Edm.Boolean")
    if k == "int":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, (int, float)):
            return int(value)
        if isinstance(value, str) and INT_RE.match(value):
            return int(value)
        return 0
    if k == "number":
        if isinstance(value, bool):
            return float(value)
        if isinstance(value, (int, float)):
            return round(float(value), f.fraction or 2)
        if isinstance(value, str) and NUM_RE.match(value):
            return round(float(value), f.fraction or 2)
        return 0.0
    if k == "date":
        if not isinstance(value, str):
            raise parse_error(value, "Edm.DateTime")
        if not value:
            return EMPTY_DATE
        d = norm_date(value)
        if d is None:
            raise parse_error(value, "Edm.DateTime")
        return d
    if k in ("string", "enum", "composite_type"):
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if f.length and len(text) > f.length:
            text = text[: f.length]
        return text
    if k == "composite":
        if isinstance(value, (list, dict)):
            raise internal_error()
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else json.dumps(value)
    return value


def wire(f: Field, value: Any) -> Any:
    """Storage form -> the JSON value 1C writes (Int64 as strings, integral doubles without '.0')."""
    if f.kind == "int":
        return str(int(value or 0))
    if f.kind == "number":
        v = float(value or 0)
        return int(v) if v.is_integer() and abs(v) < 1e15 else v
    return value


def sparse(fields: list[Field], entity: dict[str, Any], skip: set[str] | frozenset[str] = frozenset()) -> dict:
    """Only the values that differ from their field's empty value (what ``objects.data`` keeps)."""
    out = {}
    for f in fields:
        if f.name in skip or f.name not in entity:
            continue
        v = entity[f.name]
        if v != f.default:
            out[f.name] = v
    return out


def full(fields: list[Field], stored: dict[str, Any]) -> dict[str, Any]:
    """Sparse stored values -> every field of the type (empty values filled in, field order kept)."""
    return {f.name: stored.get(f.name, f.default) for f in fields}


def json_path(name: str) -> str:
    return '$."' + name.replace('"', '\\"') + '"'


def sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _ci(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _like1c(value: Any, pattern: Any) -> int:
    """1C's ПОДОБНО: ``%`` any, ``_`` one char, ``[...]``/``[^...]`` sets; case-insensitive."""
    if not isinstance(value, str) or not isinstance(pattern, str):
        return 0
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        elif c == "[":
            j = pattern.find("]", i)
            if j < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j]
                neg = body.startswith("^")
                body = body[1:] if neg else body
                out.append("[" + ("^" if neg else "") + body.replace("\\", "\\\\") + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return 1 if re.fullmatch("".join(out), value, re.IGNORECASE | re.DOTALL) else 0


def _date_part(value: Any, part: str) -> int | None:
    if not isinstance(value, str) or len(value) < 19:
        return None
    d = dt.datetime.fromisoformat(value[:19])
    if part == "quarter":
        return (d.month - 1) // 3 + 1
    if part == "dayofweek":
        return d.isoweekday()
    if part == "dayofyear":
        return d.timetuple().tm_yday
    return None


def _dateadd(value: Any, unit: Any, n: Any) -> str | None:
    if not isinstance(value, str) or len(value) < 19:
        return None
    d = dt.datetime.fromisoformat(value[:19])
    n = int(n or 0)
    unit = str(unit).lower()
    if unit in ("second", "minute", "hour", "day"):
        d = d + dt.timedelta(**{unit + "s": n})
    elif unit in ("month", "quarter", "year"):
        months = n * {"month": 1, "quarter": 3, "year": 12}[unit]
        y, m = divmod(d.month - 1 + months, 12)
        d = d.replace(year=d.year + y, month=m + 1, day=min(d.day, 28))
    return d.strftime("%Y-%m-%dT%H:%M:%S")


def _datediff(a: Any, b: Any, unit: Any) -> int | None:
    if not isinstance(a, str) or not isinstance(b, str):
        return None
    da, db = dt.datetime.fromisoformat(a[:19]), dt.datetime.fromisoformat(b[:19])
    secs = (db - da).total_seconds()
    div = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}.get(str(unit).lower())
    if div:
        return int(secs // div)
    months = (db.year - da.year) * 12 + db.month - da.month
    return {"month": months, "quarter": months // 3, "year": db.year - da.year}.get(str(unit).lower())


def _dataversion(v: Any) -> str:
    return data_version(int(v or 0))


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.create_function("ci", 1, _ci, deterministic=True)
    conn.create_function("like1c", 2, _like1c, deterministic=True)
    conn.create_function("datepart1c", 2, _date_part, deterministic=True)
    conn.create_function("dateadd1c", 3, _dateadd, deterministic=True)
    conn.create_function("datediff1c", 3, _datediff, deterministic=True)
    conn.create_function("dataversion1c", 1, _dataversion, deterministic=True)
    return conn


class Store:
    """The SQLite file of one base: connections, transactions, counters, objects and records."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(path)
        try:
            conn.executescript(SCHEMA_SQL)
        finally:
            conn.close()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        conn = connect(self.path)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """One write transaction; the base's lock serializes writers inside the process."""
        with self.lock:
            conn = connect(self.path)
            try:
                conn.execute("BEGIN IMMEDIATE")
                tx = Tx(conn)
                yield tx
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            finally:
                conn.close()

    def meta_get(self, key: str, default: Any = None) -> Any:
        with self.read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def meta_set(self, key: str, value: Any) -> None:
        with self.write() as tx:
            tx.meta_set(key, value)


class Tx:
    """Helpers over one open write transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def meta_set(self, key: str, value: Any) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, json.dumps(value, ensure_ascii=False)),
        )

    def meta_get(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def next_counter(self, name: str, step: int = 1) -> int:
        """Increment and return a named counter (numbering, change sequence)."""
        row = self.conn.execute(
            "INSERT INTO counters(name, value) VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET value=value+? "
            "RETURNING value",
            (name, step, step),
        ).fetchone()
        return int(row[0])

    def counter(self, name: str) -> int:
        row = self.conn.execute("SELECT value FROM counters WHERE name=?", (name,)).fetchone()
        return int(row[0]) if row else 0


def object_row_to_entity(et: EntityType, row: sqlite3.Row | tuple) -> dict[str, Any]:
    """A row ``(ref, data, version, date, number, posted, deletion_mark, description, code)`` -> entity."""
    ref, data, version, date, number, posted, mark, description, code = row[:9]
    stored = json.loads(data)
    ent: dict[str, Any] = {}
    for f in et.fields:
        n = f.name
        if n == "Ref_Key":
            ent[n] = ref
        elif n == "DataVersion":
            ent[n] = data_version(version)
        elif n == "DeletionMark":
            ent[n] = bool(mark)
        elif n == "Posted":
            ent[n] = bool(posted)
        elif n == "Number":
            ent[n] = number
        elif n == "Date":
            ent[n] = date
        elif n == "Description":
            ent[n] = description
        elif n == "Code":
            ent[n] = code
        else:
            ent[n] = stored.get(n, f.default)
    for tp in et.tabular:
        rows = stored.get(tp.name) or []
        ent[tp.name] = [dict(full(tp.fields, r), LineNumber=int(r.get("LineNumber", i + 1)))
                        for i, r in enumerate(rows)]
    return ent


OBJECT_SELECT = "o.ref, o.data, o.version, o.date, o.number, o.posted, o.deletion_mark, o.description, o.code"


def entity_to_columns(et: EntityType, ent: dict[str, Any]) -> dict[str, Any]:
    """Split an entity into the ``objects`` columns and its sparse JSON."""
    skip = set(OBJECT_COLUMNS) | {"DataVersion"}
    data = sparse(et.fields, ent, skip)
    for tp in et.tabular:
        rows = ent.get(tp.name) or []
        if rows:
            data[tp.name] = [dict(sparse(tp.fields, r), LineNumber=int(r.get("LineNumber", i + 1)))
                             for i, r in enumerate(rows)]
    return {
        "ref": ent["Ref_Key"],
        "data": json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        "date": ent.get("Date", EMPTY_DATE),
        "number": ent.get("Number", ""),
        "posted": 1 if ent.get("Posted") else 0,
        "deletion_mark": 1 if ent.get("DeletionMark") else 0,
        "description": ent.get("Description", ""),
        "code": ent.get("Code", ""),
    }


def record_to_row(et: EntityType, rec: dict[str, Any], register: str, invoice_field: str | None) -> tuple:
    skip = set(RECORD_COLUMNS)
    data = sparse(et.fields, rec, skip)
    invoice = str(rec.get(invoice_field, "") or "") if invoice_field else ""
    if invoice == EMPTY_GUID:
        invoice = ""
    return (
        register,
        rec["Recorder"],
        rec["Recorder_Type"],
        int(rec["LineNumber"]),
        rec.get("Period", EMPTY_DATE),
        1 if rec.get("Active", True) else 0,
        invoice,
        json.dumps(data, ensure_ascii=False, separators=(",", ":")),
    )


def record_row_to_entity(et: EntityType, row: tuple) -> dict[str, Any]:
    recorder, recorder_type, line, period, active, data = row[:6]
    stored = json.loads(data)
    ent = {}
    for f in et.fields:
        n = f.name
        if n == "Recorder":
            ent[n] = recorder
        elif n == "Recorder_Type":
            ent[n] = recorder_type
        elif n == "LineNumber":
            ent[n] = line
        elif n == "Period":
            ent[n] = period
        elif n == "Active":
            ent[n] = bool(active)
        else:
            ent[n] = stored.get(n, f.default)
    return ent


def info_dims_key(et: EntityType, ent: dict[str, Any]) -> str:
    return json.dumps([ent.get(k, et.by_name[k].default) for k in et.key], ensure_ascii=False)


def is_empty_ref(value: Any) -> bool:
    return value in (None, "", EMPTY_GUID)


__all__ = [
    "EMPTY_DATE",
    "EMPTY_GUID",
    "OBJECT_COLUMNS",
    "OBJECT_SELECT",
    "RECORD_COLUMNS",
    "UNDEFINED_TYPE",
    "Profile",
    "Store",
    "Tx",
    "coerce",
    "data_version",
    "entity_to_columns",
    "full",
    "info_dims_key",
    "is_empty_ref",
    "json_path",
    "new_ref",
    "norm_date",
    "norm_guid",
    "object_row_to_entity",
    "record_row_to_entity",
    "record_to_row",
    "sparse",
    "sql_literal",
    "wire",
]
