"""List-method helpers: page size 50, ``start``/``next``/``total``, filter operators, ``order``, ``select``.

Every REST list method of the sandbox answers through :func:`paginate`, so paging, filtering and
selecting behave the same everywhere and as the real portal does (reference §5.4, §5.5):

- page size is fixed at 50 (``LIST_LIMIT``); ``start`` is an offset (0, 50, 100 ...); ``total`` is the
  number of matching rows and ``next`` (= start + rows returned) is present only when more rows exist;
- ``start=-1`` skips the count: up to 50 rows, no ``total`` and no ``next`` (``ListResult.total`` is None);
- filter keys carry an operator prefix: ``=`` (default), ``!``/``!=`` (not equal), ``>``, ``>=``, ``<``,
  ``<=``, ``%`` (substring LIKE), ``=%``/``%=`` (LIKE with explicit ``%``/``_`` wildcards), ``!%``,
  ``!=%``/``!%=`` (NOT LIKE), ``@`` (IN), ``!@`` (NOT IN), ``><`` / ``!><`` (between two values);
  a list value with ``=``/``!`` means IN/NOT IN; ``""``/None with ``=``/``!`` test for emptiness;
  string comparison is case-insensitive (as MySQL's default collation); multiple-value fields
  (lists, multifields ``[{"VALUE": ...}]``) match when any element matches;
  nested groups ``{"logic": "OR", "0": {...}, "1": {...}}`` (as ``crm.item.list`` accepts) are supported;
- ``order`` is ``{FIELD: "ASC"|"DESC"}`` (several fields allowed; None sorts first on ASC);
- ``select`` is a list: ``*`` = all standard fields (no user fields, no multifields), ``UF_*`` = all user
  fields, multifields (``PHONE``, ``EMAIL``, ``WEB``, ``IM``, ``LINK``) only when named explicitly.

Efficiency (100,000 rows): pass ``rows`` as a sequence sorted by ``id_field`` ascending (or say
``sorted_by_id=False``). Then ``>ID``/``>=ID``/``<ID``/``<=ID``/``=ID`` narrow the scan by bisection,
and with no order or ``order={"ID": "ASC"|"DESC"}`` and ``start=-1`` only the rows of the page are
visited, so the export pattern ``filter={">ID": last}, order={"ID": "ASC"}, start=-1`` costs O(log n + 50).

Typical use in a method module::

    from b24sandbox.portal.listing import paginate

    @rest_method("crm.deal.list", "crm")
    def deal_list(call):
        rows = deals_sorted_by_id(call.portal)          # list of dicts, ID ascending
        page = paginate(rows, filter=call.param("filter"), order=call.param("order"),
                        select=call.param("select"), start=call.param("start"),
                        field_types=DEAL_FIELD_TYPES)
        page.items = [render_legacy(r) for r in page.items]   # e.g. ints -> strings
        return page                                        # a ListResult

``field_types`` maps a field name to its Bitrix type (``integer``, ``double``, ``string``, ``char``
(Y/N), ``boolean``, ``date``, ``datetime``, ``user``, ``crm_status`` ...). Without a type the value's
Python type decides (numbers compare as numbers; ISO date strings as dates; other strings
case-insensitively).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .api import ListResult, RestError

LIST_LIMIT = 50

MULTIFIELDS = ("PHONE", "EMAIL", "WEB", "IM", "LINK")

# Operator prefixes, longest first so that ``>=`` wins over ``>``.
_OPERATORS = (
    "!><", "!=%", "!%=", "><", ">=", "<=", "=%", "%=", "!%", "!=", "!@",
    "!", ">", "<", "=", "%", "@",
)

_INT_TYPES = {
    "int", "integer", "user", "employee", "crm_company", "crm_contact", "crm_lead", "crm_deal",
    "crm_category", "crm_currency_id_int", "iblock_element", "iblock_section",
}
_FLOAT_TYPES = {"double", "float", "money", "number", "decimal"}
_BOOL_TYPES = {"char", "boolean", "bool"}
_DATE_TYPES = {"date"}
_DATETIME_TYPES = {"datetime"}

_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?)?$")
_RU_DATE_RE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$")

UnknownFieldError = Callable[[str, str], Exception]
"""``(kind, field) -> exception`` where kind is ``"filter"``, ``"order"`` or ``"select"``."""


class FilterValueError(ValueError):
    """A filter value that cannot be compared (internal; such conditions match nothing)."""


# --------------------------------------------------------------------------------------------
# small parsers (public: method modules use them for their own parameters)


def parse_start(value: Any) -> int:
    """The ``start`` parameter as an int: missing/invalid -> 0; any negative -> -1 (no count)."""
    if value is None or value == "":
        return 0
    try:
        n = int(float(str(value).strip()))
    except (TypeError, ValueError):
        return 0
    return -1 if n < 0 else n


def normalize_order(order: Any) -> list[tuple[str, bool]]:
    """``order`` as ``[(field, descending)]``. Accepts a dict ``{F: "ASC"|"DESC"}``, a list of
    such dicts, or a list of field names (ascending)."""
    out: list[tuple[str, bool]] = []
    if not order:
        return out
    if isinstance(order, Mapping):
        items: Iterable[tuple[Any, Any]] = order.items()
    elif isinstance(order, (list, tuple)):
        pairs: list[tuple[Any, Any]] = []
        for entry in order:
            if isinstance(entry, Mapping):
                pairs.extend(entry.items())
            else:
                pairs.append((entry, "ASC"))
        items = pairs
    else:
        return out
    for field, direction in items:
        name = str(field).strip()
        if not name:
            continue
        out.append((name, str(direction).strip().upper() == "DESC"))
    return out


def normalize_select(select: Any) -> list[str]:
    """``select`` as a list of names (a comma string or a dict of names is accepted too)."""
    if select is None or select == "":
        return []
    if isinstance(select, str):
        return [s.strip() for s in select.split(",") if s.strip()]
    if isinstance(select, Mapping):
        return [str(v).strip() for v in select.values() if str(v).strip()]
    return [str(s).strip() for s in select if str(s).strip()]


def split_operator(key: str) -> tuple[str, str]:
    """``">=DATE_CREATE"`` -> ``(">=", "DATE_CREATE")``; no prefix -> ``("=", key)``."""
    k = key.strip()
    for op in _OPERATORS:
        if k.startswith(op) and len(k) > len(op):
            return op, k[len(op):].strip()
    return "=", k


# --------------------------------------------------------------------------------------------
# value coercion


def _kind_of(field_type: str | None, sample: Any) -> str:
    if field_type:
        t = field_type.lower()
        if t in _INT_TYPES or t in _FLOAT_TYPES:
            return "num"
        if t in _BOOL_TYPES:
            return "bool"
        if t in _DATE_TYPES:
            return "date"
        if t in _DATETIME_TYPES:
            return "datetime"
        return "str"
    if isinstance(sample, bool):
        return "bool"
    if isinstance(sample, (int, float)):
        return "num"
    if isinstance(sample, dt.datetime):
        return "datetime"
    if isinstance(sample, dt.date):
        return "date"
    if isinstance(sample, str) and _ISO_DATE_RE.match(sample):
        return "datetime" if len(sample) > 10 else "date"
    return "str"


def _to_num(v: Any) -> float:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    s = str(v).strip().replace(",", ".")
    try:
        return float(s)
    except ValueError as exc:
        raise FilterValueError(s) from exc


def _to_bool(v: Any) -> str:
    if isinstance(v, bool):
        return "Y" if v else "N"
    if isinstance(v, (int, float)):
        return "Y" if v else "N"
    s = str(v).strip()
    if s in ("Y", "y", "1"):
        return "Y"
    if s in ("N", "n", "0", ""):
        return "N"
    return s  # e.g. the string "True" sent by some clients: compares unequal, as on the real portal


def _to_dt(v: Any, tz: dt.tzinfo) -> dt.datetime:
    if isinstance(v, dt.datetime):
        return v if v.tzinfo else v.replace(tzinfo=tz)
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day, tzinfo=tz)
    s = str(v).strip()
    m = _RU_DATE_RE.match(s)
    if m:
        d, mo, y, hh, mm, ss = m.groups()
        return dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=tz)
    try:
        parsed = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError as exc:
        raise FilterValueError(s) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _coerce(kind: str, v: Any, tz: dt.tzinfo) -> Any:
    if kind == "num":
        return _to_num(v)
    if kind == "bool":
        return _to_bool(v)
    if kind == "datetime":
        return _to_dt(v, tz)
    if kind == "date":
        return _to_dt(v, tz).date()
    return str(v).casefold()


def _elements(v: Any) -> list[Any]:
    """The comparable elements of a stored value (multiple fields and multifields flatten)."""
    if isinstance(v, (list, tuple)):
        out: list[Any] = []
        for e in v:
            out.append(e.get("VALUE") if isinstance(e, Mapping) else e)
        return out
    if isinstance(v, Mapping) and "VALUE" in v:
        return [v.get("VALUE")]
    return [v]


def _like_regex(pattern: str, explicit: bool) -> re.Pattern[str]:
    if not explicit:
        return re.compile(re.escape(pattern), re.IGNORECASE | re.DOTALL)
    out = []
    for ch in pattern:
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("^" + "".join(out) + "$", re.IGNORECASE | re.DOTALL)


def _listify(v: Any) -> list[Any]:
    if isinstance(v, (list, tuple, set)):
        return list(v)
    if isinstance(v, Mapping):
        return list(v.values())
    if isinstance(v, str) and "," in v:
        return [p.strip() for p in v.split(",")]
    return [v]


# --------------------------------------------------------------------------------------------
# filter compilation

Predicate = Callable[[Mapping[str, Any]], bool]


class _FieldResolver:
    """Maps a requested field name to the row's key (exact, then case-insensitive)."""

    def __init__(self, known: Iterable[str]) -> None:
        self.exact = set(known)
        self.lower: dict[str, str] = {}
        for k in self.exact:
            self.lower.setdefault(k.lower(), k)

    def resolve(self, name: str) -> str | None:
        if name in self.exact:
            return name
        return self.lower.get(name.lower())


def _condition(op: str, field: str, value: Any, ftype: str | None, tz: dt.tzinfo) -> Predicate:
    negate = op.startswith("!")
    base = op[1:] if negate else op
    if base == "":
        base = "="
    if base == "=" and isinstance(value, (list, tuple, set, Mapping)):
        base = "@"

    def with_kind(stored: Any) -> str:
        return _kind_of(ftype, stored)

    if base in ("=",) and (value is None or value == ""):
        zero_is_empty = bool(ftype) and str(ftype).lower() in _INT_TYPES

        def pred_empty(row: Mapping[str, Any]) -> bool:
            v = row.get(field)
            empty = v is None or v == "" or v == [] or (zero_is_empty and v in (0, "0"))
            return empty != negate
        return pred_empty

    if base in ("%", "=%", "%="):
        rx = _like_regex(str(value if value is not None else ""), explicit=(base != "%"))

        def pred_like(row: Mapping[str, Any]) -> bool:
            hit = any(e is not None and rx.search(str(e)) for e in _elements(row.get(field)))
            return hit != negate
        return pred_like

    if base == "@":
        wanted = _listify(value)

        def pred_in(row: Mapping[str, Any]) -> bool:
            els = [e for e in _elements(row.get(field)) if e is not None and e != ""]
            hit = False
            for e in els:
                kind = with_kind(e)
                try:
                    ce = _coerce(kind, e, tz)
                except FilterValueError:
                    continue
                for w in wanted:
                    try:
                        if _coerce(kind, w, tz) == ce:
                            hit = True
                            break
                    except FilterValueError:
                        continue
                if hit:
                    break
            return hit != negate
        return pred_in

    if base == "><":
        bounds = _listify(value)
        if len(bounds) < 2:
            return lambda row: False
        lo, hi = bounds[0], bounds[1]

        def pred_between(row: Mapping[str, Any]) -> bool:
            hit = False
            for e in _elements(row.get(field)):
                if e is None or e == "":
                    continue
                kind = with_kind(e)
                try:
                    ce = _coerce(kind, e, tz)
                    hit = _coerce(kind, lo, tz) <= ce <= _coerce(kind, hi, tz)
                except (FilterValueError, TypeError):
                    hit = False
                if hit:
                    break
            return hit != negate
        return pred_between

    cmp: Callable[[Any, Any], bool]
    if base == "=":
        def cmp(a: Any, b: Any) -> bool:
            return a == b
    elif base == ">":
        def cmp(a: Any, b: Any) -> bool:
            return a > b
    elif base == ">=":
        def cmp(a: Any, b: Any) -> bool:
            return a >= b
    elif base == "<":
        def cmp(a: Any, b: Any) -> bool:
            return a < b
    elif base == "<=":
        def cmp(a: Any, b: Any) -> bool:
            return a <= b
    else:  # pragma: no cover - every operator is handled above
        raise ValueError(op)

    def pred(row: Mapping[str, Any]) -> bool:
        hit = False
        for e in _elements(row.get(field)):
            if e is None or e == "":
                continue
            kind = with_kind(e)
            try:
                hit = cmp(_coerce(kind, e, tz), _coerce(kind, value, tz))
            except (FilterValueError, TypeError):
                hit = False
            if hit:
                break
        return hit != negate
    return pred


def compile_filter(
    flt: Any,
    *,
    known_fields: Iterable[str] = (),
    field_types: Mapping[str, str] | None = None,
    tz: dt.tzinfo = dt.UTC,
    unknown_field_error: UnknownFieldError | None = None,
) -> Predicate:
    """Compile a REST ``filter`` into a row predicate.

    ``known_fields`` are the field names rows may carry (used for case-insensitive matching and for
    unknown-field detection). An unknown field is ignored unless ``unknown_field_error`` is given,
    in which case its exception is raised (e.g. ``INVALID_ARG_VALUE`` for ``crm.item.list``)."""
    types = dict(field_types or {})
    resolver = _FieldResolver(list(known_fields) + list(types))
    return _compile_group(flt, resolver, types, tz, unknown_field_error)


def _compile_group(
    flt: Any,
    resolver: _FieldResolver,
    types: Mapping[str, str],
    tz: dt.tzinfo,
    unknown_field_error: UnknownFieldError | None,
) -> Predicate:
    if not flt:
        return lambda row: True
    if isinstance(flt, (list, tuple)):
        flt = {str(i): v for i, v in enumerate(flt)}
    if not isinstance(flt, Mapping):
        return lambda row: True
    logic = "AND"
    preds: list[Predicate] = []
    for raw_key, value in flt.items():
        key = str(raw_key)
        if key.upper() == "LOGIC":
            logic = "OR" if str(value).strip().upper() == "OR" else "AND"
            continue
        if isinstance(value, Mapping) and (key.isdigit() or key.startswith("__") or key == ""):
            preds.append(_compile_group(value, resolver, types, tz, unknown_field_error))
            continue
        op, name = split_operator(key)
        field = resolver.resolve(name)
        if field is None:
            if not resolver.exact:
                field = name  # no schema given: take the name as is
            elif unknown_field_error is not None:
                raise unknown_field_error("filter", name)
            else:
                continue
        preds.append(_condition(op, field, value, types.get(field), tz))
    if not preds:
        return lambda row: True
    if logic == "OR":
        return lambda row: any(p(row) for p in preds)
    if len(preds) == 1:
        return preds[0]
    return lambda row: all(p(row) for p in preds)


# --------------------------------------------------------------------------------------------
# ordering


def _sort_key(kind: str, tz: dt.tzinfo) -> Callable[[Any], tuple[int, Any]]:
    def key(v: Any) -> tuple[int, Any]:
        if isinstance(v, (list, tuple)):
            v = _elements(v)[0] if v else None
        if v is None or v == "":
            return (0, 0)
        try:
            return (1, _coerce(kind, v, tz))
        except (FilterValueError, TypeError):
            return (1, str(v).casefold()) if kind == "str" else (0, 0)
    return key


def sort_rows(
    rows: list[Mapping[str, Any]],
    order: list[tuple[str, bool]],
    *,
    field_types: Mapping[str, str] | None = None,
    tz: dt.tzinfo = dt.UTC,
) -> list[Mapping[str, Any]]:
    """Sort rows by ``[(field, descending)]`` (stable; None/empty first on ASC, last on DESC)."""
    types = field_types or {}
    out = list(rows)
    for field, desc in reversed(order):
        sample = next((r.get(field) for r in out if r.get(field) not in (None, "")), None)
        kind = _kind_of(types.get(field), sample)
        keyf = _sort_key(kind, tz)
        try:
            out.sort(key=lambda r, f=field, k=keyf: k(r.get(f)), reverse=desc)
        except TypeError:
            out.sort(key=lambda r, f=field: str(r.get(f) or ""), reverse=desc)
    return out


# --------------------------------------------------------------------------------------------
# select


def project(
    row: Mapping[str, Any],
    select: Sequence[str],
    *,
    multifields: Sequence[str] = MULTIFIELDS,
    uf_prefix: str = "UF_",
    always: Sequence[str] = (),
) -> dict[str, Any]:
    """The selected part of one row (keys keep the row's order and spelling).

    ``*`` = every field that is neither a user field (``uf_prefix``) nor a multifield; ``UF_*`` (or
    ``<uf_prefix>*``) = every user field; other names are taken case-insensitively. An empty select
    means ``*``."""
    keys = _projection(tuple(row), tuple(select), tuple(multifields), uf_prefix, tuple(always))
    return {k: row[k] for k in keys}


@functools.lru_cache(maxsize=512)
def _projection(row_keys: tuple[str, ...], select: tuple[str, ...], multifields: tuple[str, ...], uf_prefix: str,
                always: tuple[str, ...]) -> tuple[str, ...]:
    """The keys :func:`project` takes from a row with these keys (rows of a table share a few layouts,
    so a page decides once)."""
    if not select:
        select = ("*",)
    mf_upper = {m.upper() for m in multifields}
    uf_up = uf_prefix.upper()
    want_all = False
    want_uf = False
    named: set[str] = set()
    for s in select + always:
        su = s.upper()
        if su == "*":
            want_all = True
        elif su in ("UF_*", uf_up + "*"):
            want_uf = True
        else:
            named.add(su)
    out: list[str] = []
    for k in row_keys:
        ku = k.upper()
        if ku in named:
            out.append(k)
            continue
        is_uf = ku.startswith(uf_up)
        if is_uf:
            if want_uf:
                out.append(k)
            continue
        if ku in mf_upper:
            continue
        if want_all:
            out.append(k)
    return tuple(out)


# --------------------------------------------------------------------------------------------
# the main entry point


def _id_value(row: Mapping[str, Any], id_field: str) -> float:
    v = row.get(id_field)
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("-inf")


class _IdKeys(Sequence[float]):
    """A lazy view of the rows' IDs for :mod:`bisect` (no list of 100,000 floats is built)."""

    def __init__(self, rows: Sequence[Mapping[str, Any]], id_field: str) -> None:
        self.rows = rows
        self.id_field = id_field

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> float:  # type: ignore[override]
        return _id_value(self.rows[i], self.id_field)


def _id_bounds(flt: Any, id_field: str) -> tuple[float, bool, float, bool] | None:
    """Top-level AND conditions on the ID as ``(lo, lo_inclusive, hi, hi_inclusive)``."""
    if not isinstance(flt, Mapping) or not flt:
        return None
    if any(str(k).upper() == "LOGIC" and str(v).upper() == "OR" for k, v in flt.items()):
        return None
    lo, lo_inc, hi, hi_inc = float("-inf"), True, float("inf"), True
    found = False
    for raw_key, value in flt.items():
        op, name = split_operator(str(raw_key))
        if name.upper() != id_field.upper() or isinstance(value, (list, tuple, Mapping)):
            continue
        try:
            n = float(str(value).strip())
        except ValueError:
            continue
        if op in (">", ">="):
            if n > lo or (n == lo and op == ">"):
                lo, lo_inc = n, op == ">="
            found = True
        elif op in ("<", "<="):
            if n < hi or (n == hi and op == "<"):
                hi, hi_inc = n, op == "<="
            found = True
        elif op == "=":
            lo, lo_inc, hi, hi_inc = max(lo, n), True, min(hi, n), True
            found = True
    return (lo, lo_inc, hi, hi_inc) if found else None


def paginate(
    rows: Sequence[Mapping[str, Any]] | Iterable[Mapping[str, Any]],
    *,
    filter: Any = None,
    order: Any = None,
    select: Any = None,
    start: Any = 0,
    field_types: Mapping[str, str] | None = None,
    known_fields: Iterable[str] | None = None,
    default_order: Any = None,
    id_field: str = "ID",
    sorted_by_id: bool = True,
    multifields: Sequence[str] = MULTIFIELDS,
    uf_prefix: str = "UF_",
    always_select: Sequence[str] = (),
    page_size: int = LIST_LIMIT,
    tz: dt.tzinfo = dt.UTC,
    unknown_field_error: UnknownFieldError | None = None,
) -> ListResult:
    """Filter, order, page and project ``rows``; return a :class:`ListResult`.

    ``rows``: the entity's rows as dicts with every field (standard, ``UF_*``, multifields). When
    ``sorted_by_id`` (the default) they must be sorted by ``id_field`` ascending — this enables the
    bisection fast path. ``known_fields`` defaults to the keys of ``field_types`` plus the first
    row's keys. ``default_order`` applies when ``order`` is empty (None keeps the rows' order, i.e.
    ID ascending). ``select`` empty = ``*``. Returns ``ListResult(items, total, next)``; ``total`` is
    None for ``start=-1``."""
    seq: Sequence[Mapping[str, Any]] = rows if isinstance(rows, Sequence) else list(rows)
    types = dict(field_types or {})
    if known_fields is None:
        known = set(types)
        if seq:
            known.update(seq[0].keys())
    else:
        known = set(known_fields) | set(types)
    resolver = _FieldResolver(known)

    ord_list = normalize_order(order) or normalize_order(default_order)
    resolved_order: list[tuple[str, bool]] = []
    for field, desc in ord_list:
        f = resolver.resolve(field)
        if f is None:
            if unknown_field_error is not None and known:
                raise unknown_field_error("order", field)
            continue
        resolved_order.append((f, desc))

    sel = normalize_select(select)
    if unknown_field_error is not None and known:
        mf_upper = {m.upper() for m in multifields}
        for s in sel:
            su = s.upper()
            if su in ("*", "UF_*", uf_prefix.upper() + "*") or su in mf_upper:
                continue
            if resolver.resolve(s) is None:
                raise unknown_field_error("select", s)

    pred = compile_filter(filter, known_fields=known, field_types=types, tz=tz,
                          unknown_field_error=unknown_field_error)
    offset = parse_start(start)
    count = offset >= 0
    offset = max(offset, 0)

    id_real = resolver.resolve(id_field) or id_field
    id_order_only = not resolved_order or (len(resolved_order) == 1 and resolved_order[0][0] == id_real)
    if sorted_by_id and id_order_only:
        lo_i, hi_i = 0, len(seq)
        bounds = _id_bounds(filter, id_field)
        if bounds is not None:
            keys = _IdKeys(seq, id_real)
            lo, lo_inc, hi, hi_inc = bounds
            lo_i = bisect.bisect_left(keys, lo) if lo_inc else bisect.bisect_right(keys, lo)
            hi_i = bisect.bisect_right(keys, hi) if hi_inc else bisect.bisect_left(keys, hi)
            hi_i = max(hi_i, lo_i)
        desc = bool(resolved_order) and resolved_order[0][1]
        index_range = range(hi_i - 1, lo_i - 1, -1) if desc else range(lo_i, hi_i)
        page: list[Mapping[str, Any]] = []
        matched = 0
        for i in index_range:
            row = seq[i]
            if not pred(row):
                continue
            if offset <= matched < offset + page_size:
                page.append(row)
            matched += 1
            if not count and len(page) >= page_size:
                break
        total = matched if count else None
    else:
        matching = [r for r in seq if pred(r)]
        ordered = sort_rows(matching, resolved_order, field_types=types, tz=tz) if resolved_order else matching
        page = list(ordered[offset:offset + page_size])
        total = len(matching) if count else None

    items = [project(r, sel, multifields=multifields, uf_prefix=uf_prefix, always=always_select)
             for r in page]
    nxt = None
    if total is not None and offset + len(items) < total:
        nxt = offset + len(items)
    return ListResult(items, total, nxt)


def invalid_arg_error(kind: str, field: str) -> RestError:
    """The ``crm.item.list``-style error for an unknown filter/order/select field (usable as
    ``unknown_field_error``)."""
    return RestError("INVALID_ARG_VALUE", f"Unknown field definition `{field}`", 400)
