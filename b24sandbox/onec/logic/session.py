"""One write transaction against a base: read, write, post and unpost objects, write register records.

Everything that changes data goes through :class:`Session` so the platform's rules hold in one place:
``DataVersion`` grows on every write (even a no-op PATCH or a deletion-mark change), the base's change
sequence (used by the SOAP change feed) grows with it, new objects get 1C-like references, numbers and
codes, strings are cut to their attribute length, tabular parts are replaced whole and renumbered,
and configuration handlers (fill, post, unpost per profile) run around the write.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from ..errors import ODataError, business_error, internal_error, not_found
from ..schema import EMPTY_DATE, EMPTY_GUID, EntityType, Profile
from ..storage import (
    OBJECT_SELECT,
    Tx,
    coerce,
    entity_to_columns,
    full,
    info_dims_key,
    new_ref,
    object_row_to_entity,
    record_row_to_entity,
    record_to_row,
)

if TYPE_CHECKING:
    from ..base import Base


def now_1c() -> str:
    """The base's local time as 1C writes dates (no zone; the sandbox runs in Moscow time, UTC+3)."""
    moscow = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)
    return moscow.strftime("%Y-%m-%dT%H:%M:%S")


def presentation(et: EntityType, ent: dict[str, Any]) -> str:
    """How 1C names a document in messages: ``Счет на оплату покупателю МП00-000001 от 23.11.2026 10:00:00``."""
    if et.kind == "Document":
        d = ent.get("Date") or EMPTY_DATE
        when = f"{d[8:10]}.{d[5:7]}.{d[0:4]} {d[11:19]}"
        return f"{et.synonym} {ent.get('Number', '')} от {when}"
    return str(ent.get("Description") or ent.get("Ref_Key"))


class Session:
    """A write transaction of one base with the configuration's behaviour around it."""

    def __init__(self, base: Base, tx: Tx) -> None:
        self.base = base
        self.tx = tx
        self.conn = tx.conn
        self.profile: Profile = base.profile
        self.handlers = base.handlers
        self.data_load = False  # the 1C_OData-DataLoadMode header: skip configuration handlers

    # -- reads ------------------------------------------------------------------------------------------
    def et(self, set_name: str) -> EntityType:
        et = self.profile.sets.get(set_name)
        if et is None:
            raise ODataError(404, "6", f"Сегмент пути {set_name} не найден!")
        return et

    def get(self, set_name: str, ref: str) -> dict[str, Any] | None:
        et = self.profile.sets.get(set_name)
        if et is None:
            return None
        row = self.conn.execute(f"SELECT {OBJECT_SELECT} FROM objects o WHERE o.ref=? AND o.set_name=?",
                                (ref, set_name)).fetchone()
        return object_row_to_entity(et, row) if row else None

    def get_any(self, ref: str) -> tuple[EntityType, dict[str, Any]] | None:
        row = self.conn.execute(f"SELECT o.set_name, {OBJECT_SELECT} FROM objects o WHERE o.ref=?", (ref,)).fetchone()
        if not row or row[0] not in self.profile.sets:
            return None
        et = self.profile.sets[row[0]]
        return et, object_row_to_entity(et, row[1:])

    def find(self, set_name: str, where: str = "1", params: tuple = (), limit: int | None = None,
             order: str = "o.rowid") -> list[dict[str, Any]]:
        """Objects of a set by a raw SQL condition over alias ``o`` (internal helper for handlers)."""
        et = self.et(set_name)
        sql = f"SELECT {OBJECT_SELECT} FROM objects o WHERE o.set_name=? AND ({where}) ORDER BY {order}"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [object_row_to_entity(et, r) for r in self.conn.execute(sql, (set_name, *params))]

    def by_attr(self, set_name: str, name: str, value: Any) -> list[dict[str, Any]]:
        return self.find(set_name, "ci(COALESCE(json_extract(o.data, ?), '')) = ci(?)", (f'$."{name}"', value))

    # -- object writes ----------------------------------------------------------------------------------
    def build(self, et: EntityType, payload: dict[str, Any], base_ent: dict[str, Any] | None = None,
              *, replace: bool = False) -> dict[str, Any]:
        """Client properties -> an entity (1C's silent rules: unknown ignored, strings cut, parts whole)."""
        ent = dict(base_ent) if base_ent is not None and not replace else full(et.fields, {})
        if base_ent is None and not self.data_load:
            ent.update(self.handlers.defaults(self, et))
        if base_ent is not None and replace:
            for keep in ("Ref_Key", "Number", "Code", "Posted", "DeletionMark", "Date"):
                if keep in base_ent:
                    ent[keep] = base_ent[keep]
        for tp in et.tabular:
            if base_ent is not None and not replace:
                ent[tp.name] = [dict(r) for r in base_ent.get(tp.name, [])]
            else:
                ent.setdefault(tp.name, [])
        for key, value in payload.items():
            if key.endswith("@odata.bind") or key.endswith("@odata.type") or key.startswith("odata."):
                if key.endswith("@odata.bind"):
                    self._bind(et, ent, key[: -len("@odata.bind")], value)
                continue
            if key in ("Ref_Key", "DataVersion", "Posted"):
                continue  # Ref_Key in PATCH ignored; DataVersion/Posted are not writable
            if key in et.tab_by_name:
                ent[key] = self._rows(et.tab_by_name[key], value)
                continue
            f = et.by_name.get(key)
            if f is None:
                continue  # unknown properties are ignored
            ent[key] = coerce(f, value)
        return ent

    def _bind(self, et: EntityType, ent: dict[str, Any], nav: str, value: Any) -> None:
        f = et.by_name.get(nav + "_Key")
        if f is None or not isinstance(value, str):
            return
        inner = value[value.find("(") + 1 : value.rfind(")")] if "(" in value else value
        inner = inner.split("=", 1)[-1].strip()
        if inner.startswith("guid'"):
            inner = inner[5:-1]
        ent[f.name] = coerce(f, inner)

    def _rows(self, tp: Any, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise internal_error()
        rows = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise internal_error()
            row = full(tp.fields, {})
            for k, v in item.items():
                f = tp.by_name.get(k)
                if f is not None:
                    row[k] = coerce(f, v)
            row["LineNumber"] = i + 1
            rows.append(row)
        return rows

    def insert(self, et: EntityType, ent: dict[str, Any]) -> dict[str, Any]:
        """Write a new object (runs the fill handler, gives it a ref, number/code and DataVersion 0)."""
        if not ent.get("Ref_Key") or ent["Ref_Key"] == EMPTY_GUID:
            ent["Ref_Key"] = new_ref()
        elif self.conn.execute("SELECT 1 FROM objects WHERE ref=?", (ent["Ref_Key"],)).fetchone():
            raise ODataError(400, "15", "Сущность с таким ключом уже существует")
        if et.kind == "Document" and (not ent.get("Date") or ent["Date"] == EMPTY_DATE):
            ent["Date"] = now_1c()
        self._assign_number(et, ent)  # the platform numbers a new object before ПередЗаписью runs
        if not self.data_load:
            self.handlers.fill(self, et, ent, True)
        cols = entity_to_columns(et, ent)
        seq = self.tx.next_counter("change_seq")
        self.conn.execute(
            "INSERT INTO objects(ref, set_name, data, version, seq, date, number, posted, deletion_mark, "
            "description, code) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
            (cols["ref"], et.set_name, cols["data"], 0, seq, cols["date"], cols["number"], cols["posted"],
             cols["deletion_mark"], cols["description"], cols["code"]),
        )
        return self.get(et.set_name, ent["Ref_Key"]) or ent

    def update(self, et: EntityType, ent: dict[str, Any], *, run_handlers: bool = True) -> dict[str, Any]:
        """Rewrite an existing object; DataVersion and the change sequence grow even if nothing changed."""
        if run_handlers and not self.data_load:
            self.handlers.fill(self, et, ent, False)
        self._assign_number(et, ent)
        cols = entity_to_columns(et, ent)
        seq = self.tx.next_counter("change_seq")
        cur = self.conn.execute(
            "UPDATE objects SET data=?, version=version+1, seq=?, date=?, number=?, posted=?, deletion_mark=?, "
            "description=?, code=? WHERE ref=? AND set_name=?",
            (cols["data"], seq, cols["date"], cols["number"], cols["posted"], cols["deletion_mark"],
             cols["description"], cols["code"], cols["ref"], et.set_name),
        )
        if cur.rowcount == 0:
            raise not_found(et.object_name)
        return self.get(et.set_name, ent["Ref_Key"]) or ent

    def delete(self, et: EntityType, ref: str) -> None:
        """Physical deletion (what OData DELETE does), with the object's register movements."""
        ent = self.get(et.set_name, ref)
        if ent is None:
            raise not_found(et.object_name)
        if et.kind == "Document":
            self.clear_records(ref)
        self.conn.execute("DELETE FROM objects WHERE ref=?", (ref,))
        self.tx.next_counter("change_seq")
        self.base.note_deleted(self, et, ref)

    def _assign_number(self, et: EntityType, ent: dict[str, Any]) -> None:
        if et.kind == "Document" and not ent.get("Number"):
            ent["Number"] = self.next_number(et, ent)
        if et.kind == "Catalog" and et.code_length and not ent.get("Code") and not ent.get("IsFolder"):
            n = self.tx.next_counter(f"code:{et.set_name}")
            ent["Code"] = format_code(n, et.code_length)

    def next_number(self, et: EntityType, ent: dict[str, Any]) -> str:
        """``<org prefix><base prefix>-<serial>`` within the year, like БП/УТ/УНФ number their documents."""
        org_prefix = ""
        org_ref = ent.get("Организация_Key")
        if org_ref and org_ref != EMPTY_GUID:
            org = self.get("Catalog_Организации", org_ref)
            if org:
                org_prefix = str(org.get("Префикс") or "")
        base_prefix = self.base.number_prefix
        prefix = (org_prefix + base_prefix)[: max(et.number_length - 7, 0)] or "0000"
        prefix = prefix.ljust(4, "0")
        year = (ent.get("Date") or now_1c())[:4]
        n = self.tx.next_counter(f"num:{et.set_name}:{year}:{prefix}")
        width = max(et.number_length - len(prefix) - 1, 1)
        return f"{prefix}-{n:0{width}d}"

    # -- posting --------------------------------------------------------------------------------------
    def post(self, et: EntityType, ref: str, *, operational: bool = False) -> dict[str, Any]:
        """Post (or re-post) a document: the profile's posting handler writes its movements."""
        ent = self.get(et.set_name, ref)
        if ent is None:
            raise not_found(et.object_name)
        if not et.postable:
            raise ODataError(400, "6", "Метод не найден")
        if ent.get("DeletionMark"):
            raise business_error(
                f'Не удалось провести "{presentation(et, ent)}"!\nПомеченный на удаление документ не может быть проведен.'
            )
        self.handlers.fill(self, et, ent, False)
        self.clear_records(ref)
        messages: list[str] = []
        self.handlers.post(self, et, ent, messages)
        if messages:
            raise business_error(f'Не удалось провести "{presentation(et, ent)}"!\n' + "\n".join(messages))
        ent["Posted"] = True
        return self.update(et, ent, run_handlers=False)

    def unpost(self, et: EntityType, ref: str) -> dict[str, Any]:
        ent = self.get(et.set_name, ref)
        if ent is None:
            raise not_found(et.object_name)
        if not et.postable:
            raise ODataError(400, "6", "Метод не найден")
        self.clear_records(ref)
        self.handlers.unpost(self, et, ent)
        ent["Posted"] = False
        return self.update(et, ent, run_handlers=False)

    def set_deletion_mark(self, et: EntityType, ref: str, mark: bool) -> dict[str, Any]:
        """Like ``УстановитьПометкуУдаления``: marking a posted document unposts it first."""
        ent = self.get(et.set_name, ref)
        if ent is None:
            raise not_found(et.object_name)
        if mark and et.kind == "Document" and ent.get("Posted"):
            ent = self.unpost(et, ref)
        ent["DeletionMark"] = mark
        return self.update(et, ent, run_handlers=False)

    # -- register records -----------------------------------------------------------------------------
    def clear_records(self, recorder: str) -> list[str]:
        """Delete the movements of a recorder; returns the registers touched."""
        regs = [r[0] for r in self.conn.execute("SELECT DISTINCT register FROM acc_records WHERE recorder=?",
                                                (recorder,))]
        self.conn.execute("DELETE FROM acc_records WHERE recorder=?", (recorder,))
        return regs

    def write_records(self, register: str, recorder: str, recorder_type: str, period: str,
                      records: list[dict[str, Any]]) -> None:
        et = self.profile.sets[f"{register}_RecordType"]
        invoice_field = self.base.invoice_fields.get(register)
        rows = []
        for i, rec in enumerate(records):
            ent = full(et.fields, {})
            ent.update(rec)
            ent["Recorder"] = recorder
            ent["Recorder_Type"] = recorder_type
            ent["LineNumber"] = i + 1
            ent["Period"] = rec.get("Period", period)
            ent["Active"] = rec.get("Active", True)
            rows.append(record_to_row(et, ent, register, invoice_field))
        self.conn.executemany("INSERT INTO acc_records VALUES(?,?,?,?,?,?,?,?)", rows)

    def records(self, register: str, where: str = "1", params: tuple = ()) -> list[dict[str, Any]]:
        et = self.profile.sets[f"{register}_RecordType"]
        sql = (f"SELECT recorder, recorder_type, line, period, active, data FROM acc_records "
               f"WHERE register=? AND ({where}) ORDER BY period, recorder, line")
        return [record_row_to_entity(et, r) for r in self.conn.execute(sql, (register, *params))]

    def records_for_invoice(self, register: str, invoice_ref: str) -> list[dict[str, Any]]:
        return self.records(register, "invoice=?", (invoice_ref,))

    # -- information registers ------------------------------------------------------------------------
    def info_put(self, set_name: str, values: dict[str, Any]) -> dict[str, Any]:
        et = self.et(set_name)
        ent = full(et.fields, {})
        ent.update(values)
        key = info_dims_key(et, ent)
        self.conn.execute(
            "INSERT INTO info_records(register, dims, data) VALUES(?,?,?) "
            "ON CONFLICT(register, dims) DO UPDATE SET data=excluded.data",
            (set_name, key, json.dumps(ent, ensure_ascii=False)),
        )
        self.tx.next_counter("change_seq")
        return ent

    def info_get(self, set_name: str, dims: dict[str, Any]) -> dict[str, Any] | None:
        et = self.et(set_name)
        ent = full(et.fields, {})
        ent.update(dims)
        row = self.conn.execute("SELECT data FROM info_records WHERE register=? AND dims=?",
                                (set_name, info_dims_key(et, ent))).fetchone()
        return full(et.fields, json.loads(row[0])) if row else None

    def info_find(self, set_name: str, name: str, value: Any) -> list[dict[str, Any]]:
        et = self.et(set_name)
        rows = self.conn.execute(
            "SELECT data FROM info_records WHERE register=? AND json_extract(data, ?) = ?",
            (set_name, f'$."{name}"', value),
        )
        return [full(et.fields, json.loads(r[0])) for r in rows]

    def info_delete(self, set_name: str, dims: dict[str, Any]) -> bool:
        et = self.et(set_name)
        ent = full(et.fields, {})
        ent.update(dims)
        cur = self.conn.execute("DELETE FROM info_records WHERE register=? AND dims=?",
                                (set_name, info_dims_key(et, ent)))
        self.tx.next_counter("change_seq")
        return cur.rowcount > 0


def format_code(n: int, length: int) -> str:
    """Catalog codes as typical configurations number them: ``00-000123`` (base prefix) or ``000000123``."""
    if length >= 9:
        return "00-" + str(n).zfill(length - 3)
    return str(n).zfill(length)
