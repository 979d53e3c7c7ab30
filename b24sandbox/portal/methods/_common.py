"""Shared helpers of the sandbox's business methods: portal time, value coercion, JSON-backed tables.

Every business table is stored as ``(id INTEGER PRIMARY KEY, data TEXT)`` in the portal's own SQLite
file and mirrored in ``portal.cache`` as an id-ordered dict, so lists over 100,000 rows stay fast and
a restart rebuilds the in-memory copy lazily from the file.

Lookups that would otherwise scan a whole table (rows of one owner, one task's checklist, one
entity type's stage history ...) go through :class:`TableIndex` objects attached to the table
(``Table.index``): built once on first use and then kept in step with every ``save``/``save_many``/
``delete``, so neither a write nor the next read pays for the whole table again. List methods answer
through :func:`fast_paginate`, which gives ``paginate``'s answer but counts an ID-only filter by
bisection (``start=0, 50, ...`` pages over 1,000,000 rows cost the same as the first one).
"""

from __future__ import annotations

import abc
import bisect
import datetime as dt
import json
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from ..api import Call, ListResult, Platform, RestError, legacy_crm_error
from ..listing import LIST_LIMIT, normalize_order, paginate, parse_start, split_operator

MSK = dt.timezone(dt.timedelta(hours=3))


# --------------------------------------------------------------------------- time


def portal_tz(portal: Platform) -> dt.tzinfo:
    """The time zone answers are written in (the demo portals live in Europe/Moscow, UTC+3)."""
    tz = getattr(portal, "tz", None)
    return tz if isinstance(tz, dt.tzinfo) else MSK


def now_iso(portal: Platform) -> str:
    """The portal clock as Bitrix24 writes datetimes: ``2026-10-05T11:20:00+03:00``."""
    return portal.now().astimezone(portal_tz(portal)).replace(microsecond=0).isoformat()


def now_dt(portal: Platform) -> dt.datetime:
    return portal.now().astimezone(portal_tz(portal)).replace(microsecond=0)


_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_RU_DATE_RE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})(?:\s+(\d{2}):(\d{2})(?::(\d{2}))?)?$")


def parse_datetime(value: Any, tz: dt.tzinfo = MSK) -> dt.datetime | None:
    """Accept what clients send for date/datetime fields (ISO 8601 with or without offset, a bare
    date, ``DD.MM.YYYY [HH:MM[:SS]]``); None for empty or unreadable values."""
    if value is None or value == "" or value is False:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=tz)
    text = str(value).strip()
    m = _DATE_RE.match(text)
    if m:
        return dt.datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=tz)
    m = _RU_DATE_RE.match(text)
    if m:
        return dt.datetime(int(m[3]), int(m[2]), int(m[1]), int(m[4] or 0), int(m[5] or 0),
                           int(m[6] or 0), tzinfo=tz)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def iso(value: Any, tz: dt.tzinfo = MSK) -> str | None:
    """Normalize a date/datetime value to ``YYYY-MM-DDTHH:MM:SS+03:00`` (None if empty)."""
    parsed = parse_datetime(value, tz)
    if parsed is None:
        return None
    return parsed.astimezone(tz).replace(microsecond=0).isoformat()


def iso_date(value: Any, tz: dt.tzinfo = MSK) -> str | None:
    """A date field: midnight of that day in the portal's zone."""
    parsed = parse_datetime(value, tz)
    if parsed is None:
        return None
    local = parsed.astimezone(tz) if parsed.tzinfo else parsed
    return dt.datetime(local.year, local.month, local.day, tzinfo=tz).isoformat()


# --------------------------------------------------------------------------- coercion


def to_int(value: Any, default: int | None = None) -> int | None:
    if value is None or value == "" or isinstance(value, (list, dict)):
        return default
    if isinstance(value, bool):
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(str(value).replace(",", ".")))
        except (TypeError, ValueError):
            return default


def php_intval(value: Any) -> int:
    """PHP's ``intval()``: leading digits of a string (``"12abc"`` -> 12, ``"abc"`` -> 0), floats
    truncated, booleans 0/1, anything else 0. Used where the platform casts a parameter blindly."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        m = re.match(r"\s*([+-]?\d+)", value)
        return int(m.group(1)) if m else 0
    return 0


def to_float(value: Any, default: float | None = None) -> float | None:
    if value is None or value == "" or isinstance(value, (list, dict)):
        return default
    try:
        return float(str(value).replace(",", ".").replace(" ", ""))
    except (TypeError, ValueError):
        return default


def yn(value: Any, default: str = "N") -> str:
    """Bitrix Y/N flags from whatever a client sends (Y/N, true/false, 1/0)."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return "Y" if value else "N"
    text = str(value).strip().upper()
    if text in ("Y", "1", "TRUE", "YES"):
        return "Y"
    if text in ("N", "0", "FALSE", "NO"):
        return "N"
    return default


def as_list(value: Any) -> list[Any]:
    """A PHP array from JSON or form input: lists stay lists, ``{"0": a, "1": b}`` becomes a list,
    a scalar becomes a one-item list, empty values an empty list."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return [value]


def money(value: float | None) -> str:
    return f"{(value or 0.0):.2f}"


def number_out(value: float | None) -> float | int:
    """crm.item writes whole amounts as ints (``19000``) and others as floats (``999.99``)."""
    v = value or 0.0
    return int(v) if float(v).is_integer() else v


def lower_keys(params: dict[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in params.items()}


def legacy_fields(call: Call, key: str = "fields") -> dict[str, Any]:
    """The ``fields`` parameter of a legacy CRM method (upper-cased keys)."""
    raw = call.param(key)
    if not isinstance(raw, dict):
        raise legacy_crm_error("Parameter 'fields' must be array.")
    return {str(k).upper(): v for k, v in raw.items()}


def legacy_id(call: Call, key: str = "id") -> int:
    value = to_int(call.param(key))
    if value is None or value <= 0:
        raise legacy_crm_error("ID is not defined or invalid.")
    return value


def user_exists(portal: Platform, user_id: int | None) -> bool:
    from . import users  # local import: users registers methods too

    return user_id is not None and users.get_user(portal, user_id) is not None


# --------------------------------------------------------------------------- tables


class Table:
    """One JSON-backed table: the SQLite rows and an id-ordered in-memory mirror."""

    def __init__(self, portal: Platform, name: str) -> None:
        self.portal = portal
        self.name = name
        self.rows: dict[int, dict[str, Any]] = {}
        self.ids: list[int] = []
        self.indexes: dict[str, TableIndex] = {}
        db = portal.db
        db.execute(f'CREATE TABLE IF NOT EXISTS "{name}" (id INTEGER PRIMARY KEY, data TEXT NOT NULL)')
        for rid, data in db.execute(f'SELECT id, data FROM "{name}" ORDER BY id'):
            self.rows[rid] = json.loads(data)
            self.ids.append(rid)

    # sequences survive deletions (ids are never reused, as in the real portal)
    def next_id(self) -> int:
        return next_seq(self.portal, self.name, self.ids[-1] if self.ids else 0)

    def get(self, rid: int | None) -> dict[str, Any] | None:
        return self.rows.get(rid) if rid is not None else None

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, rid: object) -> bool:
        return rid in self.rows

    def values(self) -> Iterator[dict[str, Any]]:
        rows = self.rows
        for rid in list(self.ids):
            row = rows.get(rid)
            if row is not None:
                yield row

    def values_from(self, min_id: int) -> Iterator[dict[str, Any]]:
        """Rows with id >= min_id in id order (the ``>ID`` fast path)."""
        pos = bisect.bisect_left(self.ids, min_id)
        rows = self.rows
        for rid in self.ids[pos:]:
            row = rows.get(rid)
            if row is not None:
                yield row

    def index(self, name: str, factory: Callable[[], TableIndex]) -> TableIndex:
        """The index ``name`` of this table, built from every row on first use (``factory()`` makes
        it empty); afterwards each write updates it."""
        idx = self.indexes.get(name)
        if idx is None:
            idx = factory()
            rows = self.rows
            for rid in self.ids:
                idx.add(rid, rows[rid])
            self.indexes[name] = idx
        return idx

    def _indexed(self, rid: int, old: dict[str, Any] | None, row: dict[str, Any] | None) -> None:
        for idx in self.indexes.values():
            if old is not None:
                idx.remove(rid, old)
            if row is not None:
                idx.add(rid, row)

    def save(self, rid: int, row: dict[str, Any]) -> None:
        """Insert or replace one row."""
        old = self.rows.get(rid)
        if old is None:
            if self.ids and rid < self.ids[-1]:
                bisect.insort(self.ids, rid)
            else:
                self.ids.append(rid)
            bump_seq(self.portal, self.name, rid)
        self.rows[rid] = row
        if self.indexes:
            self._indexed(rid, old, row)
        db = self.portal.db
        db.execute(f'INSERT OR REPLACE INTO "{self.name}" (id, data) VALUES (?, ?)',
                   [rid, json.dumps(row, ensure_ascii=False)])
        commit(self.portal)

    def save_many(self, rows: Iterable[tuple[int, dict[str, Any]]]) -> None:
        """Bulk insert (seed loading and the generator)."""
        batch = []
        top = 0
        indexed = bool(self.indexes)
        for rid, row in rows:
            old = self.rows.get(rid)
            if old is None:
                self.ids.append(rid)
            self.rows[rid] = row
            if indexed:
                self._indexed(rid, old, row)
            top = max(top, rid)
            batch.append((rid, json.dumps(row, ensure_ascii=False)))
        self.ids.sort()
        conn = self.portal.db.conn
        conn.executemany(f'INSERT OR REPLACE INTO "{self.name}" (id, data) VALUES (?, ?)', batch)
        bump_seq(self.portal, self.name, top)
        commit(self.portal)

    def delete(self, rid: int) -> None:
        old = self.rows.pop(rid, None)
        if old is None:
            return
        if self.indexes:
            self._indexed(rid, old, None)
        pos = bisect.bisect_left(self.ids, rid)
        if pos < len(self.ids) and self.ids[pos] == rid:
            del self.ids[pos]
        self.portal.db.execute(f'DELETE FROM "{self.name}" WHERE id = ?', [rid])
        commit(self.portal)


def commit(portal: Platform) -> None:
    """Write pending sequence values and commit the portal's connection."""
    dirty = portal.cache.pop("methods.seq_dirty", None)
    if dirty:
        seqs = _seqs(portal)
        portal.db.conn.executemany("INSERT OR REPLACE INTO crm_sequences (name, value) VALUES (?, ?)",
                                   [(n, seqs[n]) for n in dirty])
    conn = portal.db.conn
    if conn.in_transaction:
        conn.commit()


def table(portal: Platform, name: str) -> Table:
    """The portal's table ``name`` (loaded on first use)."""
    tables = portal.cache.setdefault("methods.tables", {})
    t = tables.get(name)
    if t is None:
        t = tables[name] = Table(portal, name)
    return t


def _seqs(portal: Platform) -> dict[str, int]:
    seqs = portal.cache.get("methods.seq")
    if seqs is None:
        db = portal.db
        db.execute("CREATE TABLE IF NOT EXISTS crm_sequences (name TEXT PRIMARY KEY, value INTEGER)")
        seqs = {n: v for n, v in db.execute("SELECT name, value FROM crm_sequences")}
        portal.cache["methods.seq"] = seqs
    return seqs


def next_seq(portal: Platform, name: str, floor: int = 0) -> int:
    seqs = _seqs(portal)
    value = max(seqs.get(name, 0), floor) + 1
    seqs[name] = value
    portal.cache.setdefault("methods.seq_dirty", set()).add(name)
    return value


def bump_seq(portal: Platform, name: str, used: int) -> None:
    seqs = _seqs(portal)
    if seqs.get(name, 0) < used:
        seqs[name] = used
        portal.cache.setdefault("methods.seq_dirty", set()).add(name)


def d7_error(code: str, text: str, status: int = 400) -> RestError:
    return RestError(code, text, status)


# --------------------------------------------------------------------------- indexes


class TableIndex(abc.ABC):
    """Derived data of one :class:`Table`, kept in step with its writes (see ``Table.index``).

    ``add(rid, row)`` is called for every stored row (in id order when the index is built) and for
    each new version of a row; ``remove(rid, old)`` with the version being replaced or deleted."""

    @abc.abstractmethod
    def add(self, rid: int, row: dict[str, Any]) -> None:
        """Take in a stored row (or a row's new version)."""

    @abc.abstractmethod
    def remove(self, rid: int, row: dict[str, Any]) -> None:
        """Forget the version ``row`` of row ``rid`` (replaced or deleted)."""


class GroupIndex(TableIndex):
    """``key -> ids`` (ascending) of the rows whose ``keys(row)`` include the key.

    With ``memo`` (the default) the index remembers the keys it derived for each row, so a caller that
    changed a stored row in place before saving it cannot leave stale entries behind; tables whose
    rows are never changed (the stage history) may save that memory with ``memo=False``."""

    def __init__(self, keys: Callable[[dict[str, Any]], Iterable[Hashable]], *, memo: bool = True) -> None:
        self.keys = keys
        self.groups: dict[Hashable, list[int]] = {}
        self.memo: dict[int, tuple[Hashable, ...]] | None = {} if memo else None

    def add(self, rid: int, row: dict[str, Any]) -> None:
        keys = tuple(dict.fromkeys(self.keys(row)))
        if not keys:
            return
        if self.memo is not None:
            self.memo[rid] = keys
        for key in keys:
            ids = self.groups.get(key)
            if ids is None:
                self.groups[key] = [rid]
            elif ids[-1] < rid:
                ids.append(rid)
            else:
                pos = bisect.bisect_left(ids, rid)
                if pos == len(ids) or ids[pos] != rid:
                    ids.insert(pos, rid)

    def remove(self, rid: int, row: dict[str, Any]) -> None:
        if self.memo is not None:
            keys: tuple[Hashable, ...] = self.memo.pop(rid, ())
        else:
            keys = tuple(dict.fromkeys(self.keys(row)))
        for key in keys:
            ids = self.groups.get(key)
            if not ids:
                continue
            pos = bisect.bisect_left(ids, rid)
            if pos < len(ids) and ids[pos] == rid:
                del ids[pos]
            if not ids:
                del self.groups[key]

    def ids(self, key: Hashable) -> list[int]:
        """The ids of the key's rows, ascending (the index's own list: do not change it)."""
        return self.groups.get(key) or []


class TimeIndex(TableIndex):
    """Rows by a datetime field within groups: ``group -> [(unix seconds, id)]`` ascending.

    New rows are collected unsorted and merged at the next query (a bulk load of 1,000,000 history
    rows does not insert one by one into a sorted list). Rows whose value is empty or unreadable are
    kept apart and returned by every query (the caller's filter decides about them)."""

    def __init__(self, field: str, group: Callable[[dict[str, Any]], Hashable], tz: dt.tzinfo = MSK) -> None:
        self.field = field
        self.group = group
        self.tz = tz
        self.sorted: dict[Hashable, list[tuple[float, int]]] = {}
        self.pending: dict[Hashable, list[tuple[float, int]]] = {}
        self.unreadable: dict[Hashable, set[int]] = {}
        self.cache: dict[tuple[Any, ...], tuple[int, list[int]]] = {}

    def _stamp(self, row: dict[str, Any]) -> float | None:
        parsed = parse_datetime(row.get(self.field), self.tz)
        return parsed.timestamp() if parsed is not None else None

    def add(self, rid: int, row: dict[str, Any]) -> None:
        self.cache.clear()
        g = self.group(row)
        ts = self._stamp(row)
        if ts is None:
            self.unreadable.setdefault(g, set()).add(rid)
        else:
            self.pending.setdefault(g, []).append((ts, rid))

    def remove(self, rid: int, row: dict[str, Any]) -> None:
        self.cache.clear()
        g = self.group(row)
        ts = self._stamp(row)
        if ts is None:
            self.unreadable.get(g, set()).discard(rid)
            return
        pending = self.pending.get(g)
        if pending and (ts, rid) in pending:
            pending.remove((ts, rid))
            return
        entries = self.sorted.get(g) or []
        pos = bisect.bisect_left(entries, (ts, rid))
        if pos < len(entries) and entries[pos] == (ts, rid):
            del entries[pos]

    def ids_between(self, g: Hashable, lo: float, hi: float, limit: int | None = None) -> list[int] | None:
        """Ids (ascending) of the group's rows with lo <= stamp <= hi, plus its unreadable rows; None
        when more than ``limit`` rows have a time in the range (then a walk in id order is cheaper)."""
        key = (g, lo, hi)
        hit = self.cache.get(key)
        if hit is None:
            pending = self.pending.pop(g, None)
            entries = self.sorted.setdefault(g, [])
            if pending:
                entries.extend(pending)
                entries.sort()
            start = bisect.bisect_left(entries, (lo, -1))
            end = bisect.bisect_right(entries, (hi, float("inf")))
            if limit is not None and end - start > limit:
                return None
            ids = [rid for _, rid in entries[start:end]]
            ids.extend(self.unreadable.get(g, ()))
            ids.sort()
            if len(self.cache) >= 16:
                self.cache.clear()
            hit = self.cache[key] = (end - start, ids)
        if limit is not None and hit[0] > limit:
            return None
        return hit[1]


# --------------------------------------------------------------------------- list views


class IdView(Sequence[dict[str, Any]]):
    """Rows given by an ascending id list, as the id-sorted sequence ``listing.paginate`` bisects.

    ``render`` (optional) turns a stored row into the form the method filters and answers (the
    stage history's string ids, the comments' files map ...); it runs only for the rows paginate
    actually looks at, so a ``>ID`` page over 1,000,000 rows renders about 50 of them."""

    def __init__(self, ids: list[int], rows: Mapping[int, dict[str, Any]],
                 render: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        self.ids = ids
        self.rows = rows
        self.render = render

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i):  # type: ignore[override]
        render = self.render
        if isinstance(i, slice):
            picked = [self.rows[r] for r in self.ids[i]]
            return [render(r) for r in picked] if render else picked
        row = self.rows[self.ids[i]]
        return render(row) if render else row

    def sub(self, ids: list[int]) -> IdView:
        """The same rows and rendering over other ids."""
        return IdView(ids, self.rows, self.render)


class TableView(IdView):
    """Every row of a :class:`Table`, id ascending (the table's live id list)."""

    def __init__(self, tbl: Table, render: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        super().__init__(tbl.ids, tbl.rows, render)
        self.tbl = tbl


def _scalar_number(value: Any) -> float | None:
    """A filter value as the number ``listing`` would compare (None: not a plain number)."""
    if isinstance(value, bool) or value is None or isinstance(value, (list, tuple, set, Mapping)):
        return None
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def id_only_bounds(flt: Any, id_field: str = "ID") -> tuple[float, bool, float, bool] | None:
    """``(lo, lo_inclusive, hi, hi_inclusive)`` when the filter holds nothing but plain numeric
    ``=``/``>``/``>=``/``<``/``<=`` conditions on the id (an empty filter: unbounded); None otherwise."""
    lo, lo_inc, hi, hi_inc = float("-inf"), True, float("inf"), True
    if flt is None or flt == "" or flt == [] or (isinstance(flt, Mapping) and not flt):
        return lo, lo_inc, hi, hi_inc
    if not isinstance(flt, Mapping):
        return None
    for raw_key, value in flt.items():
        op, name = split_operator(str(raw_key))
        if name.upper() != id_field.upper() or op not in ("=", ">", ">=", "<", "<="):
            return None
        n = _scalar_number(value)
        if n is None:
            return None
        if op in (">", ">=") and (n > lo or (n == lo and op == ">")):
            lo, lo_inc = n, op == ">="
        elif op in ("<", "<=") and (n < hi or (n == hi and op == "<")):
            hi, hi_inc = n, op == "<="
        elif op == "=":  # AND with what is there: an equal exclusive bound stays exclusive
            if n > lo:
                lo, lo_inc = n, True
            if n < hi:
                hi, hi_inc = n, True
    return lo, lo_inc, hi, hi_inc


def _id_resolves(view: IdView, flt: Any, id_field: str, kwargs: Mapping[str, Any]) -> bool:
    """Whether ``paginate`` reads every key of ``flt`` as the id field (its field resolution: the known
    fields, exact name first, then without case; no known fields: names as given)."""
    if not isinstance(flt, Mapping) or not flt:
        return True
    known = set(kwargs.get("field_types") or {})
    if kwargs.get("known_fields") is not None:
        known |= set(kwargs["known_fields"])
    elif len(view):
        known |= set(view[0])
    lower: dict[str, str] = {}
    for k in sorted(known):
        lower.setdefault(k.lower(), k)

    def resolve(name: str) -> str | None:
        if not known:
            return name
        return name if name in known else lower.get(name.lower())

    target = resolve(id_field) or id_field
    return all(resolve(split_operator(str(k))[1]) == target for k in flt)


_NUMERIC_TYPES = {"int", "integer"}


def _id_never_matches(view: IdView, flt: Any, id_field: str, kwargs: Mapping[str, Any]) -> bool:
    """Whether an ANDed top-level ``>``/``>=``/``<``/``<=`` condition on a numeric id has a value that is no
    number (a list, a map, an empty value): ``listing`` compares such a value with no row."""
    types = {str(k).upper(): str(v).lower() for k, v in (kwargs.get("field_types") or {}).items()}
    if types.get(id_field.upper()) not in _NUMERIC_TYPES:
        return False
    conds = top_level_and(flt)
    if not conds:
        return False
    probe = {k: v for k, v in flt.items() if split_operator(str(k))[1].upper() == id_field.upper()}
    if not _id_resolves(view, probe, id_field, kwargs):
        return False
    return any(name == id_field.upper() and op in (">", ">=", "<", "<=") and _num(value) is None
               for op, name, value in conds)


def fast_paginate(view: IdView, *, filter: Any = None, order: Any = None, start: Any = 0,
                  default_order: Any = None, id_field: str = "ID", page_size: int = LIST_LIMIT,
                  **kwargs: Any) -> ListResult:
    """``listing.paginate(view, ...)`` with the same answer, but when the filter only bounds the id and
    the order is the id's (or none) the page and the ``total`` come from bisecting the id list, so a
    counted page costs O(log n + page) instead of a walk over every matching row."""
    bounds = id_only_bounds(filter, id_field)
    ordr = normalize_order(order) or normalize_order(default_order)
    id_ordered = not ordr or (len(ordr) == 1 and ordr[0][0].upper() == id_field.upper())
    common = {"order": order, "default_order": default_order, "id_field": id_field, "page_size": page_size,
              **kwargs}
    if bounds is None and _id_never_matches(view, filter, id_field, kwargs):
        # e.g. the last pages of a chained export: ``>ID`` got the previous page's whole (short) item
        # list; such a condition matches no row, and finding that out must not walk every row
        return paginate(view.sub([]), filter=filter, start=start, **common)
    if bounds is None or not id_ordered or not _id_resolves(view, filter, id_field, kwargs):
        return paginate(view, filter=filter, start=start, **common)
    lo, lo_inc, hi, hi_inc = bounds
    ids = view.ids
    lo_i = bisect.bisect_left(ids, lo) if lo_inc else bisect.bisect_right(ids, lo)
    hi_i = bisect.bisect_right(ids, hi) if hi_inc else bisect.bisect_left(ids, hi)
    hi_i = max(hi_i, lo_i)
    offset = parse_start(start)
    count = offset >= 0
    offset = max(offset, 0)
    if ordr and ordr[0][1]:
        end = hi_i - offset
        begin = max(lo_i, end - page_size)
    else:
        begin = lo_i + offset
        end = min(hi_i, begin + page_size)
    picked = ids[begin:end] if begin < end else []
    # paginate over just the page's rows: the same validation, ordering and projection
    page = paginate(view.sub(picked), filter=filter, start=0 if count else -1, **common)
    total = hi_i - lo_i if count else None
    nxt = offset + len(page.items) if total is not None and offset + len(page.items) < total else None
    return ListResult(page.items, total, nxt)


def top_level_and(flt: Any) -> list[tuple[str, str, Any]] | None:
    """The filter's top-level conditions as ``(operator, FIELD upper-cased, value)`` when they are ANDed
    (no ``LOGIC: OR``); nested groups are left out (they can only narrow further). None for a filter
    that is not a mapping."""
    if not isinstance(flt, Mapping):
        return None
    out = []
    for raw_key, value in flt.items():
        key = str(raw_key)
        if key.upper() == "LOGIC":
            if str(value).strip().upper() == "OR":
                return None
            continue
        if isinstance(value, Mapping) and (key.isdigit() or key.startswith("__") or key == ""):
            continue
        op, name = split_operator(key)
        out.append((op, name.upper(), value))
    return out


def _value_list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple, set)):
        return list(value)
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, str) and "," in value:
        return [p.strip() for p in value.split(",")]
    return [value]


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip().replace(",", "."))
    except (TypeError, ValueError):
        return None


def int_values(conds: list[tuple[str, str, Any]], field: str) -> set[int] | None:
    """The integer values a numeric field must take under ANDed conditions ``=`` (scalar or list) and
    ``@`` — as ``listing`` compares numbers — or None when the field is not pinned that way."""
    result: set[int] | None = None
    for op, name, value in conds:
        if name != field:
            continue
        if op == "=" and not isinstance(value, (list, tuple, set, Mapping)):
            if value is None or value == "":
                continue
            n = _num(value)
            wanted = {int(n)} if n is not None and n.is_integer() else set()
        elif op == "@" or (op == "=" and isinstance(value, (list, tuple, set, Mapping))):
            wanted = set()
            for v in _value_list(value):
                if v is None or v == "":
                    continue
                n = _num(v)
                if n is not None and n.is_integer():
                    wanted.add(int(n))
        else:
            continue
        result = wanted if result is None else result & wanted
    return result


def time_bounds(conds: list[tuple[str, str, Any]], field: str, tz: dt.tzinfo = MSK) -> tuple[float, float] | None:
    """``(lo, hi)`` unix seconds a datetime field must lie within under ANDed ``=``, ``>``, ``>=``, ``<``,
    ``<=`` and ``><`` conditions, widened by a second on each side (the caller's filter still decides);
    None when the field is not bounded or a value cannot be read."""
    lo, hi = float("-inf"), float("inf")
    found = False
    for op, name, value in conds:
        if name != field or op not in ("=", ">", ">=", "<", "<=", "><"):
            continue
        if op == "><":
            parts = _value_list(value)
            if len(parts) < 2:
                continue
            a, b = parse_datetime(parts[0], tz), parse_datetime(parts[1], tz)
            if a is None or b is None:
                return None
            lo, hi = max(lo, a.timestamp() - 1), min(hi, b.timestamp() + 1)
            found = True
            continue
        if value is None or value == "" or isinstance(value, (list, tuple, set, Mapping)):
            if op == "=":
                return None
            continue
        moment = parse_datetime(value, tz)
        if moment is None:
            return None
        ts = moment.timestamp()
        if op in ("=", ">", ">="):
            lo = max(lo, ts - 1)
        if op in ("=", "<", "<="):
            hi = min(hi, ts + 1)
        found = True
    return (lo, hi) if found else None
