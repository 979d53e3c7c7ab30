"""Where each kind of entity set lives in SQLite, and how its properties read as SQL expressions.

A :class:`Source` gives the ``FROM`` clause, the base ``WHERE`` and, for a property name, the SQL
expression that yields the value in storage form (``COALESCE(json_extract(...), <empty value>)`` for
sparse JSON). The ``$filter``/``$orderby`` compilers and the list readers use nothing else, so one
code path serves catalogs, documents, tabular-part sets, register records and information registers.
"""

from __future__ import annotations

import abc
import json
from dataclasses import dataclass
from typing import Any

from ..errors import path_segment_not_found
from ..schema import EntityType, Field, Profile
from ..storage import (
    OBJECT_COLUMNS,
    OBJECT_SELECT,
    RECORD_COLUMNS,
    full,
    json_path,
    object_row_to_entity,
    record_row_to_entity,
    sql_literal,
)


@dataclass
class Col:
    """A property as SQL: its expression, the field it reads and, for composites, the ``_Type`` SQL."""

    sql: str
    field: Field | None
    type_sql: str | None = None


def json_col(data_sql: str, f: Field) -> str:
    return f"COALESCE(json_extract({data_sql}, '{json_path(f.name)}'), {sql_literal(f.default)})"


def object_col(et: EntityType, f: Field, alias: str) -> str:
    if f.name == "DataVersion":
        return f"dataversion1c({alias}.version)"
    col = OBJECT_COLUMNS.get(f.name)
    if col:
        return f"{alias}.{col}"
    return json_col(f"{alias}.data", f)


class Source(abc.ABC):
    """Base: one entity set read through SQL."""

    alias = "o"
    order_sql = "o.rowid"

    def __init__(self, profile: Profile, et: EntityType) -> None:
        self.profile = profile
        self.et = et
        self._depth = 0

    def field(self, name: str) -> Field:
        f = self.et.by_name.get(name)
        if f is None:
            raise path_segment_not_found(name)
        return f

    def column(self, name: str) -> Col:
        f = self.field(name)
        col = Col(self.column_sql(f), f)
        if f.kind == "composite":
            col.type_sql = self.column_sql(self.et.by_name[f.name + "_Type"])
        return col

    @abc.abstractmethod
    def column_sql(self, f: Field) -> str:
        """The SQL expression of field ``f`` in this source's rows."""

    def nav_column(self, ref_sql: str, target: str, name: str, depth: int) -> Col:
        """A property of the object a reference points to (``Контрагент/ИНН``), as a scalar subquery."""
        tet = self.profile.sets[target]
        f = tet.by_name.get(name)
        if f is None:
            raise path_segment_not_found(name)
        alias = f"n{depth}"
        sub = f"(SELECT {object_col(tet, f, alias)} FROM objects {alias} WHERE {alias}.ref = {ref_sql})"
        col = Col(sub, f)
        if f.kind == "composite":
            tf = tet.by_name[f.name + "_Type"]
            col.type_sql = f"(SELECT {object_col(tet, tf, alias)} FROM objects {alias} WHERE {alias}.ref = {ref_sql})"
        return col

    @abc.abstractmethod
    def from_sql(self) -> str:
        """The FROM clause of the set."""

    @abc.abstractmethod
    def where_sql(self) -> tuple[str, list[Any]]:
        """The set's own WHERE condition and its parameters."""

    @abc.abstractmethod
    def select_sql(self) -> str:
        """The columns a row is read with."""

    @abc.abstractmethod
    def to_entity(self, row: tuple) -> dict[str, Any]:
        """One SQL row as the OData entity."""


class ObjectSource(Source):
    """Catalog items and documents (table ``objects``)."""

    alias = "o"
    order_sql = "o.rowid"

    def column_sql(self, f: Field) -> str:
        return object_col(self.et, f, "o")

    def from_sql(self) -> str:
        return "objects o"

    def where_sql(self) -> tuple[str, list[Any]]:
        return "o.set_name = ?", [self.et.set_name]

    def select_sql(self) -> str:
        return OBJECT_SELECT

    def to_entity(self, row: tuple) -> dict[str, Any]:
        return object_row_to_entity(self.et, row)


class TabularSource(Source):
    """Rows of one tabular part of every object of the owner set (``Document_X_Товары``)."""

    alias = "t"
    order_sql = "o.rowid, CAST(t.key AS INTEGER)"

    def __init__(self, profile: Profile, et: EntityType) -> None:
        super().__init__(profile, et)
        self.owner = profile.sets[et.parent] if et.parent else et

    def column_sql(self, f: Field) -> str:
        if f.name == "Ref_Key":
            return "o.ref"
        if f.name == "LineNumber":
            return "CAST(json_extract(t.value, '$.LineNumber') AS INTEGER)"
        return json_col("t.value", f)

    def from_sql(self) -> str:
        return f"objects o, json_each(o.data, '{json_path(self.et.tab_name or '')}') t"

    def where_sql(self) -> tuple[str, list[Any]]:
        return "o.set_name = ?", [self.et.parent]

    def select_sql(self) -> str:
        return "o.ref, t.value"

    def to_entity(self, row: tuple) -> dict[str, Any]:
        ref, value = row[0], row[1]
        stored = json.loads(value)
        ent = full(self.et.fields, stored)
        ent["Ref_Key"] = ref
        ent["LineNumber"] = int(stored.get("LineNumber", 0))
        return ent


class RecordSource(Source):
    """Individual accumulation register records (``AccumulationRegister_X_RecordType``)."""

    alias = "r"
    order_sql = "r.period, r.recorder, r.line"

    def __init__(self, profile: Profile, et: EntityType, invoice_field: str | None = None) -> None:
        super().__init__(profile, et)
        self.invoice_field = invoice_field

    def column_sql(self, f: Field) -> str:
        col = RECORD_COLUMNS.get(f.name)
        if col:
            return f"r.{col}"
        if self.invoice_field and f.name == self.invoice_field:
            # the denormalized, indexed copy; '' means the empty value
            return f"COALESCE(NULLIF(r.invoice, ''), {sql_literal(f.default)})"
        return json_col("r.data", f)

    def from_sql(self) -> str:
        return "acc_records r"

    def where_sql(self) -> tuple[str, list[Any]]:
        return "r.register = ?", [self.et.parent or self.et.set_name]

    def select_sql(self) -> str:
        return "r.recorder, r.recorder_type, r.line, r.period, r.active, r.data"

    def to_entity(self, row: tuple) -> dict[str, Any]:
        return record_row_to_entity(self.et, row)


class RecordSetSource(Source):
    """Record sets of an accumulation register, one entity per recorder (key Recorder+Recorder_Type)."""

    alias = "r"
    order_sql = "MIN(r.period), r.recorder"

    def column_sql(self, f: Field) -> str:
        return "r.recorder" if f.name == "Recorder" else "r.recorder_type"

    def from_sql(self) -> str:
        return "acc_records r"

    def where_sql(self) -> tuple[str, list[Any]]:
        return "r.register = ?", [self.et.set_name]

    def select_sql(self) -> str:
        return "r.recorder, r.recorder_type"

    def to_entity(self, row: tuple) -> dict[str, Any]:
        return {"Recorder": row[0], "Recorder_Type": row[1]}


class InfoSource(Source):
    """Records of an independent information register (table ``info_records``)."""

    alias = "i"
    order_sql = "i.rowid"

    def column_sql(self, f: Field) -> str:
        return json_col("i.data", f)

    def from_sql(self) -> str:
        return "info_records i"

    def where_sql(self) -> tuple[str, list[Any]]:
        return "i.register = ?", [self.et.set_name]

    def select_sql(self) -> str:
        return "i.data"

    def to_entity(self, row: tuple) -> dict[str, Any]:
        return full(self.et.fields, json.loads(row[0]))


def source_for(profile: Profile, et: EntityType, invoice_fields: dict[str, str] | None = None) -> Source:
    if et.kind in ("Catalog", "Document"):
        return ObjectSource(profile, et)
    if et.kind == "Tabular":
        return TabularSource(profile, et)
    if et.kind == "AccumRecord":
        return RecordSource(profile, et, (invoice_fields or {}).get(et.parent or ""))
    if et.kind == "AccumRecordSet":
        return RecordSetSource(profile, et)
    if et.kind == "InfoRegister":
        return InfoSource(profile, et)
    raise ValueError(et.kind)
