"""``$filter`` and ``$orderby`` of the 1C OData interface: a parser and a compiler to SQLite SQL.

Grammar (1C docs 17.4.5.2): ``eq ne gt ge lt le``, ``and or not``, ``add sub mul div mod``,
parentheses, literals (``'text'`` with doubled quotes, numbers, ``true``/``false``/``null``,
``guid'…'``, ``datetime'…'``), property paths with navigation (``Контрагент/ИНН``), functions
(``substringof startswith endswith like concat substring year month day hour minute second quarter
dayofweek dayofyear dateadd datedifference round cast isof``) and lambdas over tabular parts
(``Товары/any(d: d/Цена gt 10000)``, ``all``).

1C's own rules kept on purpose:
- a composite property compared with a bare ``guid'…'`` matches nothing; compare with
  ``cast(guid'…', 'Document_X')`` (value and type must both match);
- a ``+`` in the filter text (a space encoded as ``+`` by the client) answers 500
  ``Операция не разрешена в предложении "ГДЕ"``;
- string comparisons ignore letter case (as 1C's queries do);
- ``length indexof replace tolower toupper trim floor ceiling`` and friends are not supported.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ..errors import ODataError, filter_error, option_error, path_segment_not_found, plus_in_query
from ..schema import NS
from ..storage import norm_date, norm_guid
from .sources import Col, ObjectSource, Source, TabularSource, json_col

KEYWORD_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}
SQL_CMP = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
ARITH = {"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%"}
UNSUPPORTED = {"length", "indexof", "replace", "tolower", "toupper", "trim", "years", "days", "hours",
               "minutes", "seconds", "floor", "ceiling"}

TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<typed>(?:guid|datetime|datetimeoffset|time|binary|X)'(?:[^']|'')*')
  | (?P<str>'(?:[^']|'')*')
  | (?P<num>-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[mMdDfFlL]?)
  | (?P<name>[^\W\d][\w]*|\$it|\*)
  | (?P<punct>[(),:/])
  | (?P<other>.)
    """,
    re.VERBOSE | re.UNICODE,
)


@dataclass
class Tok:
    kind: str
    value: str


def tokenize(text: str) -> list[Tok]:
    out: list[Tok] = []
    for m in TOKEN_RE.finditer(text):
        kind = m.lastgroup or ""
        value = m.group()
        if kind == "ws":
            continue
        if kind == "other":
            if value == "+":
                raise plus_in_query()
            raise filter_error()
        out.append(Tok(kind, value))
    return out


class Parser:
    """Recursive descent over tokens -> a small tuple AST."""

    def __init__(self, text: str) -> None:
        self.toks = tokenize(text)
        self.i = 0

    def peek(self, k: int = 0) -> Tok | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def take(self) -> Tok:
        t = self.peek()
        if t is None:
            raise filter_error()
        self.i += 1
        return t

    def expect(self, value: str) -> None:
        t = self.take()
        if t.value != value:
            raise filter_error()

    def at_word(self, *words: str) -> bool:
        t = self.peek()
        return t is not None and t.kind == "name" and t.value in words

    def parse(self) -> tuple:
        node = self.expr()
        if self.peek() is not None:
            raise filter_error()
        return node

    def expr(self) -> tuple:
        left = self.and_expr()
        while self.at_word("or"):
            self.take()
            left = ("or", left, self.and_expr())
        return left

    def and_expr(self) -> tuple:
        left = self.not_expr()
        while self.at_word("and"):
            self.take()
            left = ("and", left, self.not_expr())
        return left

    def not_expr(self) -> tuple:
        if self.at_word("not"):
            self.take()
            return ("not", self.not_expr())
        return self.cmp_expr()

    def cmp_expr(self) -> tuple:
        left = self.add_expr()
        if self.at_word(*KEYWORD_OPS):
            op = self.take().value
            right = self.add_expr()
            return ("cmp", op, left, right)
        return left

    def add_expr(self) -> tuple:
        left = self.mul_expr()
        while self.at_word("add", "sub"):
            op = self.take().value
            left = ("arith", op, left, self.mul_expr())
        return left

    def mul_expr(self) -> tuple:
        left = self.unary()
        while self.at_word("mul", "div", "mod"):
            op = self.take().value
            left = ("arith", op, left, self.unary())
        return left

    def unary(self) -> tuple:
        return self.primary()

    def primary(self) -> tuple:
        t = self.take()
        if t.kind == "punct" and t.value == "(":
            node = self.expr()
            self.expect(")")
            return node
        if t.kind == "str":
            return ("lit", t.value[1:-1].replace("''", "'"), "Edm.String")
        if t.kind == "num":
            return self.number(t.value)
        if t.kind == "typed":
            prefix, _, rest = t.value.partition("'")
            body = rest[:-1].replace("''", "'")
            if prefix == "guid":
                g = norm_guid(body)
                if g is None:
                    raise filter_error()
                return ("lit", g, "Edm.Guid")
            if prefix in ("datetime", "datetimeoffset"):
                d = norm_date(body)
                if d is None:
                    raise filter_error()
                return ("lit", d, "Edm.DateTime")
            raise filter_error()
        if t.kind == "name":
            low = t.value
            if low in KEYWORD_OPS or low in ARITH or low in ("and", "or"):
                raise filter_error()
            if low in ("true", "false"):
                return ("lit", low == "true", "Edm.Boolean")
            if low == "null":
                return ("lit", None, "null")
            nxt = self.peek()
            if nxt is not None and nxt.value == "(":
                return self.function(low)
            return self.path(t.value)
        raise filter_error()

    def number(self, text: str) -> tuple:
        core = text.rstrip("mMdDfFlL")
        try:
            value = float(core) if any(c in core for c in ".eE") else int(core)
        except ValueError as exc:
            raise filter_error() from exc
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            raise filter_error()
        return ("lit", value, "Edm.Double" if isinstance(value, float) else "Edm.Int64")

    def path(self, first: str) -> tuple:
        segs = [first]
        while self.peek() is not None and self.peek().value == "/":
            self.take()
            nxt = self.take()
            if nxt.kind != "name":
                raise filter_error()
            if nxt.value in ("any", "all") and self.peek() is not None and self.peek().value == "(":
                self.take()
                if self.peek() is not None and self.peek().value == ")":
                    self.take()
                    return ("lambda", nxt.value, segs, None, None)
                var = self.take()
                if var.kind != "name":
                    raise filter_error()
                self.expect(":")
                body = self.expr()
                self.expect(")")
                return ("lambda", nxt.value, segs, var.value, body)
            segs.append(nxt.value)
        return ("path", segs)

    def function(self, name: str) -> tuple:
        self.expect("(")
        args: list[tuple] = []
        if self.peek() is not None and self.peek().value == ")":
            self.take()
        else:
            while True:
                args.append(self.expr())
                t = self.take()
                if t.value == ")":
                    break
                if t.value != ",":
                    raise filter_error()
        if name in UNSUPPORTED:
            raise filter_error()
        return ("func", name, args)


def parse_filter(text: str) -> tuple:
    return Parser(text).parse()


@dataclass
class Val:
    """A compiled operand: SQL, its parameters, its kind and (composites/casts) its type SQL."""

    sql: str
    params: list[Any]
    kind: str  # string|number|int|bool|date|guid|ref|enum|composite|composite_type|null|cast|expr
    type_sql: str | None = None
    type_params: list[Any] | None = None
    literal: Any = None
    is_literal: bool = False


class Compiler:
    """Compiles the AST against a :class:`Source` into a boolean SQL expression with parameters."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.scopes: dict[str, tuple[Source, str]] = {}
        self.depth = 0

    # -- entry points -------------------------------------------------------------------------------
    def condition(self, node: tuple) -> tuple[str, list[Any]]:
        v = self.bool_expr(node)
        return v.sql, v.params

    def value_of_path(self, segs: list[str]) -> Val:
        return self.path(segs)

    # -- boolean -------------------------------------------------------------------------------------
    def bool_expr(self, node: tuple) -> Val:
        tag = node[0]
        if tag in ("and", "or"):
            a, b = self.bool_expr(node[1]), self.bool_expr(node[2])
            return Val(f"({a.sql} {tag.upper()} {b.sql})", a.params + b.params, "bool")
        if tag == "not":
            a = self.bool_expr(node[1])
            return Val(f"(NOT {a.sql})", a.params, "bool")
        if tag == "cmp":
            return self.compare(node[1], self.value(node[2]), self.value(node[3]))
        if tag == "lambda":
            return self.lambda_(node)
        v = self.value(node)
        if v.kind == "bool" or v.kind == "expr":
            return Val(f"({v.sql} = 1)" if not v.is_literal else ("1" if v.literal else "0"), v.params, "bool")
        raise filter_error()

    def compare(self, op: str, a: Val, b: Val) -> Val:
        cmp = SQL_CMP[op]
        if a.is_literal and not b.is_literal:
            a, b = b, a
            cmp = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(cmp, cmp)
        # null
        if b.kind == "null":
            sql = f"({a.sql} IS NULL)" if op == "eq" else f"({a.sql} IS NOT NULL)"
            return Val(sql, a.params, "bool")
        # composite (X + X_Type)
        if a.kind == "composite":
            if b.kind == "cast" and b.type_sql is not None:
                sql = f"({a.sql} = {b.sql} AND {a.type_sql} = {b.type_sql})"
                params = a.params + b.params + (a.type_params or []) + (b.type_params or [])
                return Val(sql if op == "eq" else f"(NOT {sql})", params, "bool")
            if b.kind == "guid" and b.is_literal:
                # 1C: a composite compared with a bare guid never matches
                return Val("0" if op == "eq" else "1", [], "bool")
            if b.kind in ("string",):
                return Val(f"(ci({a.sql}) {cmp} ci({b.sql}))", a.params + b.params, "bool")
            return Val(f"({a.sql} {cmp} {b.sql})", a.params + b.params, "bool")
        if b.kind == "cast":
            b = Val(b.sql, b.params, "guid")
        if a.kind in ("string", "enum", "composite_type") or b.kind == "string":
            if a.kind in ("number", "int") and b.kind == "string":
                return Val(f"({a.sql} {cmp} {b.sql})", a.params + b.params, "bool")
            return Val(f"(ci({a.sql}) {cmp} ci({b.sql}))", a.params + b.params, "bool")
        if a.kind in ("guid", "ref") or b.kind in ("guid", "ref"):
            if a.kind in ("guid", "ref") and b.kind in ("guid", "ref"):
                # both sides are stored/normalized lower-case: a plain comparison keeps the key index usable
                return Val(f"({a.sql} {cmp} {b.sql})", a.params + b.params, "bool")
            return Val(f"(lower({a.sql}) {cmp} lower({b.sql}))", a.params + b.params, "bool")
        if a.kind == "bool" or b.kind == "bool":
            return Val(f"(({a.sql}) {cmp} ({b.sql}))", a.params + b.params, "bool")
        return Val(f"({a.sql} {cmp} {b.sql})", a.params + b.params, "bool")

    # -- values ---------------------------------------------------------------------------------------
    def value(self, node: tuple) -> Val:
        tag = node[0]
        if tag == "lit":
            _, v, edm = node
            if edm == "null":
                return Val("NULL", [], "null", is_literal=True)
            kind = {"Edm.String": "string", "Edm.Guid": "guid", "Edm.DateTime": "date", "Edm.Boolean": "bool",
                    "Edm.Double": "number", "Edm.Int64": "int"}[edm]
            if kind == "bool":
                return Val("1" if v else "0", [], "bool", literal=v, is_literal=True)
            return Val("?", [v], kind, literal=v, is_literal=True)
        if tag == "path":
            return self.path(node[1])
        if tag == "arith":
            a, b = self.value(node[2]), self.value(node[3])
            return Val(f"({a.sql} {ARITH[node[1]]} {b.sql})", a.params + b.params, "number")
        if tag == "neg":
            a = self.value(node[1])
            return Val(f"(-{a.sql})", a.params, "number")
        if tag == "func":
            return self.func(node[1], node[2])
        if tag in ("and", "or", "not", "cmp", "lambda"):
            v = self.bool_expr(node)
            return Val(v.sql, v.params, "expr")
        raise filter_error()

    def path(self, segs: list[str]) -> Val:
        src = self.source
        if segs[0] in self.scopes:
            src = self.scopes[segs[0]][0]
            segs = segs[1:]
            if not segs:
                raise filter_error()
        f, col = _resolve(src, segs[0], more=len(segs) > 1)
        sql, type_sql = col.sql, col.type_sql
        cur = src
        for seg in segs[1:]:
            if f is None or f.kind != "ref" or not f.target or not cur.profile.published(f.target):
                raise path_segment_not_found(seg)
            self.depth += 1
            target = cur.profile.sets[f.target]
            nxt = ObjectSource(cur.profile, target)
            tf = _field_or_nav(target, seg, more=seg != segs[-1])
            col = cur.nav_column(sql, f.target, tf.name, self.depth)
            f, sql, type_sql, cur = tf, col.sql, col.type_sql, nxt
        return Val(sql, [], f.kind if f else "string", type_sql=type_sql, type_params=[])

    def func(self, name: str, args: list[tuple]) -> Val:
        if name == "cast":
            if len(args) != 2 or args[1][0] != "lit" or args[1][2] != "Edm.String":
                raise filter_error()
            inner = self.value(args[0])
            tname = str(args[1][1])
            if tname.startswith("Edm."):
                kind = {"Edm.String": "string", "Edm.Guid": "guid", "Edm.DateTime": "date", "Edm.Boolean": "bool",
                        "Edm.Double": "number", "Edm.Int64": "int", "Edm.Int32": "int", "Edm.Int16": "int"}.get(tname)
                if kind is None:
                    raise filter_error()
                return Val(inner.sql, inner.params, kind, literal=inner.literal, is_literal=inner.is_literal)
            full_type = tname if tname.startswith(NS + ".") else f"{NS}.{tname}"
            return Val(inner.sql, inner.params, "cast", type_sql="?", type_params=[full_type],
                       literal=inner.literal, is_literal=inner.is_literal)
        if name == "isof":
            if len(args) != 2 or args[1][0] != "lit":
                raise filter_error()
            target = self.value(args[0])
            tname = str(args[1][1])
            full_type = tname if tname.startswith(NS + ".") else f"{NS}.{tname}"
            if target.type_sql is None:
                return Val("0", [], "bool")
            return Val(f"({target.type_sql} = ?)", (target.type_params or []) + [full_type], "bool")
        vals = [self.value(a) for a in args]
        params = [p for v in vals for p in v.params]
        if name == "substringof":
            self._arity(vals, 2)
            return Val(f"(instr(ci({vals[1].sql}), ci({vals[0].sql})) > 0)", vals[1].params + vals[0].params, "bool")
        if name == "startswith":
            self._arity(vals, 2)
            return Val(f"(substr(ci({vals[0].sql}), 1, length(ci({vals[1].sql}))) = ci({vals[1].sql}))",
                       vals[0].params + vals[1].params + vals[1].params, "bool")
        if name == "endswith":
            self._arity(vals, 2)
            return Val(f"(substr(ci({vals[0].sql}), -length(ci({vals[1].sql}))) = ci({vals[1].sql}))",
                       vals[0].params + vals[1].params + vals[1].params, "bool")
        if name == "like":
            self._arity(vals, 2)
            return Val(f"(like1c({vals[0].sql}, {vals[1].sql}) = 1)", params, "bool")
        if name == "concat":
            self._arity(vals, 2)
            return Val(f"({vals[0].sql} || {vals[1].sql})", params, "string")
        if name == "substring":
            if len(vals) == 2:
                return Val(f"substr({vals[0].sql}, ({vals[1].sql}) + 1)", params, "string")
            self._arity(vals, 3)
            return Val(f"substr({vals[0].sql}, ({vals[1].sql}) + 1, {vals[2].sql})", params, "string")
        if name in ("year", "month", "day", "hour", "minute", "second"):
            self._arity(vals, 1)
            start, length = {"year": (1, 4), "month": (6, 2), "day": (9, 2), "hour": (12, 2), "minute": (15, 2),
                             "second": (18, 2)}[name]
            return Val(f"CAST(substr({vals[0].sql}, {start}, {length}) AS INTEGER)", params, "int")
        if name in ("quarter", "dayofweek", "dayofyear"):
            self._arity(vals, 1)
            return Val(f"datepart1c({vals[0].sql}, '{name}')", params, "int")
        if name == "dateadd":
            self._arity(vals, 3)
            return Val(f"dateadd1c({vals[0].sql}, {vals[1].sql}, {vals[2].sql})", params, "date")
        if name == "datedifference":
            self._arity(vals, 3)
            return Val(f"datediff1c({vals[0].sql}, {vals[1].sql}, {vals[2].sql})", params, "int")
        if name == "round":
            self._arity(vals, 1)
            return Val(f"round({vals[0].sql})", params, "number")
        raise filter_error()

    @staticmethod
    def _arity(vals: list[Val], n: int) -> None:
        if len(vals) != n:
            raise filter_error()

    def lambda_(self, node: tuple) -> Val:
        _, kind, segs, var, body = node
        src = self.source
        if len(segs) != 1 or segs[0] not in src.et.tab_by_name:
            raise path_segment_not_found(segs[-1])
        tp = src.et.tab_by_name[segs[0]]
        self.depth += 1
        alias = f"lt{self.depth}"
        tab_et = src.profile.sets[tp.set_name]
        inner = _LambdaSource(src.profile, tab_et, alias)
        from_sql = f"json_each({src.alias if src.alias != 't' else 'o'}.data, '{_path(tp.name)}') {alias}"
        if body is None:
            return Val(f"EXISTS (SELECT 1 FROM {from_sql})", [], "bool")
        saved = dict(self.scopes)
        self.scopes[var] = (inner, alias)
        try:
            cond = self.bool_expr(body)
        finally:
            self.scopes = saved
        if kind == "any":
            return Val(f"EXISTS (SELECT 1 FROM {from_sql} WHERE {cond.sql})", cond.params, "bool")
        return Val(f"NOT EXISTS (SELECT 1 FROM {from_sql} WHERE NOT ({cond.sql}))", cond.params, "bool")


def _path(name: str) -> str:
    return '$."' + name.replace('"', '\\"') + '"'


class _LambdaSource(TabularSource):
    """Rows of a tabular part seen from inside ``any``/``all`` (alias of the json_each row)."""

    def __init__(self, profile: Any, et: Any, alias: str) -> None:
        super().__init__(profile, et)
        self.row_alias = alias

    def column_sql(self, f: Any) -> str:
        if f.name == "LineNumber":
            return f"CAST(json_extract({self.row_alias}.value, '$.LineNumber') AS INTEGER)"
        return json_col(f"{self.row_alias}.value", f)


def _field_or_nav(et: Any, name: str, *, more: bool) -> Any:
    f = et.by_name.get(name)
    if f is None and more:
        f = et.by_name.get(name + "_Key")
    if f is None:
        raise path_segment_not_found(name)
    return f


def _resolve(src: Source, name: str, *, more: bool) -> tuple[Any, Col]:
    """A first path segment: a property, or (when the path goes on) a navigation property ``X`` of ``X_Key``."""
    f = _field_or_nav(src.et, name, more=more)
    return f, src.column(f.name)


def compile_filter(source: Source, text: str) -> tuple[str, list[Any]]:
    """``$filter`` text -> (SQL condition, parameters); raises :class:`ODataError`."""
    try:
        node = parse_filter(text)
        return Compiler(source).condition(node)
    except ODataError:
        raise
    except (IndexError, KeyError, ValueError, TypeError) as exc:
        raise filter_error() from exc


def compile_orderby(source: Source, text: str) -> tuple[str, list[Any]]:
    """``$orderby=A asc, Контрагент/ИНН desc`` -> (SQL ORDER BY list, parameters)."""
    parts: list[str] = []
    params: list[Any] = []
    for item in _split_commas(text):
        item = item.strip()
        if not item:
            raise option_error("$orderby")
        if "+" in item:
            raise path_segment_not_found(item)
        words = item.split()
        direction = "ASC"
        if len(words) == 2 and words[1].lower() in ("asc", "desc"):
            direction = words[1].upper()
        elif len(words) != 1:
            raise option_error("$orderby")
        segs = words[0].split("/")
        val = Compiler(source).value_of_path(segs)
        expr = f"ci({val.sql})" if val.kind == "string" else val.sql
        parts.append(f"{expr} {direction}")
        params.extend(val.params)
    return ", ".join(parts), params


def _split_commas(text: str) -> list[str]:
    out, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def split_commas(text: str) -> list[str]:
    return [x.strip() for x in _split_commas(text)]


__all__ = ["Col", "Compiler", "compile_filter", "compile_orderby", "parse_filter", "split_commas", "tokenize"]
