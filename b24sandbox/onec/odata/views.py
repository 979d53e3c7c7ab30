"""The standard OData interface of an emulated base, as one request handler.

``/onec/<base>/odata/standard.odata[/<resource>]`` answers like 1C's web extension: Basic auth, Atom
unless JSON is asked for, 1C's error codes and texts, 201 + ``Location`` (raw UTF-8 bytes, as 1C sends
them) + the full body on POST, 200 + full body on PATCH/PUT, 204 on DELETE, 200 with an empty body on
``Post``/``Unpost``. Lists are streamed from SQLite cursors.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from flask import Response, request

from ..base import Base
from ..errors import (
    ODataError,
    business_error,
    malformed_json,
    method_not_allowed,
    method_not_found,
    not_found,
    option_error,
    path_segment_not_found,
)
from ..faults import LOCK_TIMEOUT_TEXT
from ..schema import NS, EntityType
from ..storage import OBJECT_SELECT, coerce, connect, full, object_row_to_entity, record_row_to_entity
from .filter import compile_filter, compile_orderby, split_commas
from .metadata import metadata_xml
from .query import parse_expand, parse_query, parse_select, response_format
from .resource import Resource, parse_key, parse_literal, parse_resource, split_args
from .serialize import (
    Ctx,
    atom_feed,
    atom_service_document,
    atom_single,
    json_feed,
    json_plain_feed,
    json_service_document,
    json_single,
    key_literal,
)
from .sources import RecordSetSource, source_for

JSON_CT = "application/json;charset=utf-8"
ATOM_FEED_CT = "application/atom+xml;type=feed;charset=utf-8"
ATOM_ENTRY_CT = "application/atom+xml;type=entry;charset=utf-8"
XML_CT = "application/xml;charset=utf-8"
HTML_DOWN = (
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>503 Service Unavailable</title></head><body>"
    "<h1>Service Unavailable</h1><p>Сервер 1С:Предприятия недоступен. The server is temporarily unable to "
    "service your request.</p></body></html>"
)
HTML_ERROR = (
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{code}</title></head><body>"
    "<h1>Ошибка {code}</h1><p>Сервер 1С:Предприятия временно не может обработать запрос.</p></body></html>"
)
HTML_AUTH = (
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>1С:Предприятие</title></head><body>"
    "<h2>Ошибка авторизации</h2><p>Идентификация пользователя не выполнена. Неправильное имя пользователя или "
    "пароль.</p></body></html>"
)


def check_basic_auth(base: Base, header: str | None) -> bool:
    """HTTP Basic with the 1C user; the login is compared case-insensitively, bytes must be UTF-8."""
    import base64
    import binascii

    if not header or not header.lower().startswith("basic "):
        return False
    try:
        raw = base64.b64decode(header[6:].strip(), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    user, sep, password = text.partition(":")
    return bool(sep) and user.casefold() == base.user.casefold() and password == base.password


def auth_failure(base: Base) -> Response:
    if base.faults.config.html_auth_answer:
        return Response(HTML_AUTH, 200, content_type="text/html; charset=utf-8")
    return Response("Не удалось выполнить аутентификацию пользователя", 401,
                    headers={"WWW-Authenticate": 'Basic realm="1C:Enterprise"'},
                    content_type="text/plain; charset=utf-8")


def guarded(base: Base | None, kind: str, handler: Any) -> Response:
    """Faults, authentication and the request log around a base's endpoint (OData or SOAP)."""
    if base is None:
        return Response("<html><body><h1>404 Not Found</h1></body></html>", 404, content_type="text/html")
    started = time.monotonic()
    status = 0
    try:
        decision = base.faults.decide()
        if decision.down:
            status = 503
            return Response(HTML_DOWN, 503, content_type="text/html; charset=utf-8")
        if decision.sleep_before:
            time.sleep(decision.sleep_before)
        if not check_basic_auth(base, request.headers.get("Authorization")):
            resp = auth_failure(base)
            status = resp.status_code
            return resp
        if decision.error and base.faults.config.error_kind == "http":
            code = base.faults.config.error_status
            resp = Response(HTML_ERROR.format(code=code), code, content_type="text/html; charset=utf-8")
        elif decision.error:
            resp = handler(error=ODataError(500, "-1", LOCK_TIMEOUT_TEXT))
        else:
            resp = handler(error=None)
        status = resp.status_code
        if decision.sleep_after:
            if resp.is_streamed:
                typed = "Content-Type" in resp.headers
                resp = Response(b"".join(resp.response), resp.status_code, headers=resp.headers)  # type: ignore[arg-type]
                if not typed:
                    del resp.headers["Content-Type"]
            time.sleep(decision.sleep_after)
        return resp
    finally:
        base.requests.add(ts=time.time(), kind=kind, method=request.method, path=request.path,
                          query=request.query_string.decode("latin-1"), status=status,
                          ms=round((time.monotonic() - started) * 1000, 1))


def empty_ok() -> Response:
    """``200`` with an empty body, as 1C answers ``Post``/``Unpost``: no ``Content-Type`` at all (there is no
    content to type; werkzeug would otherwise label it ``text/html``), ``Content-Length: 0``."""
    resp = Response(b"", 200, headers={"DataServiceVersion": "3.0"})
    del resp.headers["Content-Type"]
    return resp


class RawLocationResponse(Response):
    """A response whose ``Location`` goes out as raw UTF-8 bytes (werkzeug would IRI-encode it)."""

    raw_location: str | None = None

    def get_wsgi_headers(self, environ: Any) -> Any:
        headers = super().get_wsgi_headers(environ)
        if self.raw_location is not None:
            headers["Location"] = self.raw_location
        return headers


def utf8_header(value: str) -> str:
    """A header value carrying raw UTF-8 bytes (what 1C puts into ``Location``), through latin-1 WSGI."""
    return value.encode("utf-8").decode("latin-1")


class ODataRequest:
    """One call to the OData interface of a base."""

    def __init__(self, base: Base, path: str) -> None:
        self.base = base
        self.profile = base.profile
        self.path = path
        self.options = parse_query(request.query_string)
        try:
            self.fmt, self.meta = response_format(self.options, request.headers.get("Accept", ""))
        except ODataError:
            self.fmt, self.meta = "json", "minimal"
            raise
        root = request.host_url.rstrip("/") + f"/onec/{base.name}/odata/standard.odata"
        self.ctx = Ctx(self.profile, root, self.fmt, self.meta)

    # -- responses --------------------------------------------------------------------------------------
    def error(self, err: ODataError) -> Response:
        if self.fmt == "json":
            return Response(err.json_body(), err.status, content_type=JSON_CT)
        return Response(err.xml_body(), err.status, content_type=XML_CT)

    def single(self, et: EntityType, ent: dict[str, Any], status: int = 200, sel: Any = None,
               expand: Any = None, conn: Any = None) -> Response:
        self.ctx.conn = conn
        if self.fmt == "json":
            body = json_single(self.ctx, et, ent, sel, expand)
            ct = JSON_CT
        else:
            body = atom_single(self.ctx, et, ent, sel, expand)
            ct = ATOM_ENTRY_CT
        return RawLocationResponse(body, status, content_type=ct, headers={"DataServiceVersion": "3.0"})

    # -- dispatch ---------------------------------------------------------------------------------------
    def handle(self) -> Response:
        res = parse_resource(self.path)
        method = request.method.upper()
        if method == "MERGE":
            method = "PATCH"
        if res.service:
            if method != "GET":
                raise method_not_allowed()
            return self.service_document()
        if res.metadata:
            return Response(metadata_xml(self.profile), 200, content_type=XML_CT)
        et = self.profile.sets.get(res.set_name)
        if et is None:
            raise path_segment_not_found(res.set_name, 404)
        if res.key is None:
            return self.collection(et, res, method)
        return self.entity(et, res, method)

    def service_document(self) -> Response:
        if self.fmt == "json":
            return Response(json_service_document(self.ctx.root, self.profile.order), 200, content_type=JSON_CT)
        return Response(atom_service_document(self.ctx.root, self.profile.order), 200,
                        content_type="application/atomsvc+xml;charset=utf-8")

    # -- collections --------------------------------------------------------------------------------------
    def collection(self, et: EntityType, res: Resource, method: str) -> Response:
        if res.rest:
            seg = res.rest[0]
            if seg.name == "$count" and method == "GET":
                return self.count(et)
            if et.kind == "AccumRecordSet" and seg.name in ("Balance", "Turnovers", "BalanceAndTurnovers"):
                return self.virtual_table(et, seg.name, seg.args or "")
            if seg.name in ("Balance", "Turnovers", "BalanceAndTurnovers", "SliceLast", "SliceFirst"):
                raise method_not_found()
            raise path_segment_not_found(seg.name)
        if method == "GET":
            return self.read_list(et)
        if method == "POST":
            return self.create(et)
        raise method_not_allowed()

    def _list_sql(self, et: EntityType, *, counting: bool = False) -> tuple[str, list[Any], Any]:
        src = source_for(self.profile, et, self.base.invoice_fields)
        where, params = src.where_sql()
        text = self.options.get("$filter")
        if text is not None and text.strip():
            fsql, fparams = compile_filter(src, text)
            where = f"{where} AND ({fsql})"
            params = params + fparams
        group = " GROUP BY r.recorder, r.recorder_type" if isinstance(src, RecordSetSource) else ""
        if counting:
            return f"SELECT count(*) FROM (SELECT 1 FROM {src.from_sql()} WHERE {where}{group})", params, src
        order_text = self.options.get("$orderby")
        order = src.order_sql
        if order_text is not None and order_text.strip():
            osql, oparams = compile_orderby(src, order_text)
            order = f"{osql}, {src.order_sql}"
            params = params + oparams
        sql = f"SELECT {src.select_sql()} FROM {src.from_sql()} WHERE {where}{group} ORDER BY {order}"
        top, skip = self._int_option("$top"), self._int_option("$skip")
        if top is not None or skip:
            sql += f" LIMIT {top if top is not None else -1} OFFSET {skip or 0}"
        return sql, params, src

    def _int_option(self, name: str) -> int | None:
        text = self.options.get(name)
        if text is None or text == "":
            return None
        if not text.strip().isdigit():
            raise option_error(name)
        return int(text)

    def count(self, et: EntityType) -> Response:
        sql, params, _ = self._list_sql(et, counting=True)
        with self.base.store.read() as conn:
            n = conn.execute(sql, params).fetchone()[0]
        return Response(str(n), 200, content_type="text/plain;charset=utf-8")

    def read_list(self, et: EntityType) -> Response:
        sel = parse_select(self.profile, et, self.options.get("$select"))
        expand = parse_expand(self.profile, et, self.options.get("$expand"))
        if expand and self.options.get("$select"):
            expand = {k: v for k, v in expand.items() if k in sel.nav or sel.wants(k + "_Key")}
        sql, params, src = self._list_sql(et)
        count = None
        inline = self.options.get("$inlinecount")
        if inline not in (None, "", "none", "allpages"):
            raise option_error("$inlinecount")
        if inline == "allpages":
            csql, cparams, _ = self._list_sql(et, counting=True)
            with self.base.store.read() as conn:
                count = conn.execute(csql, cparams).fetchone()[0]
        # validate the SQL before streaming so errors still get a proper status
        conn = connect(self.base.store.path)
        try:
            cursor = conn.execute(sql, params)
        except Exception:
            conn.close()
            raise
        self.ctx.conn = conn
        ctx = self.ctx

        def entities() -> Iterator[dict[str, Any]]:
            for row in cursor:
                if isinstance(src, RecordSetSource):
                    yield self._record_set(conn, et, row[0], row[1])
                else:
                    yield src.to_entity(row)

        def stream() -> Iterator[bytes]:
            try:
                if self.fmt == "json":
                    yield from json_feed(ctx, et, entities(), count, sel, expand)
                else:
                    yield from atom_feed(ctx, et, entities(), count, sel, expand)
            finally:
                conn.close()

        resp = Response(stream(), 200, content_type=JSON_CT if self.fmt == "json" else ATOM_FEED_CT)
        resp.call_on_close(conn.close)  # also when the body is never iterated
        return resp

    def _record_set(self, conn: Any, et: EntityType, recorder: str, recorder_type: str) -> dict[str, Any]:
        rec_et = self.profile.sets[f"{et.set_name}_RecordType"]
        rows = conn.execute(
            "SELECT recorder, recorder_type, line, period, active, data FROM acc_records "
            "WHERE register=? AND recorder=? ORDER BY line", (et.set_name, recorder)).fetchall()
        records = []
        for r in rows:
            ent = record_row_to_entity(rec_et, r)
            records.append({f.name: ent[f.name] for f in rec_et.fields})
        return {"Recorder": recorder, "Recorder_Type": recorder_type, "RecordSet": records}

    # -- single entities ------------------------------------------------------------------------------
    def entity(self, et: EntityType, res: Resource, method: str) -> Response:
        rest = res.rest
        if rest and rest[0].name in ("Post", "Unpost"):
            if method != "POST":
                raise method_not_allowed()
            if et.kind != "Document" or not et.postable:
                raise method_not_found()
            return self.post_action(et, res.key or "", rest[0].name)
        if et.kind in ("Catalog", "Document"):
            ref = self._object_key(et, res.key or "")
            if rest:
                if method != "GET":
                    raise method_not_allowed()
                return self.navigate(et, ref, rest)
            if method == "GET":
                return self.get_object(et, ref)
            if method in ("PATCH", "PUT"):
                return self.update_object(et, ref, replace=method == "PUT")
            if method == "DELETE":
                with self.base.session() as s:
                    s.delete(et, ref)
                return Response(b"", 204)
            if method == "POST":
                raise method_not_allowed()
            raise method_not_allowed()
        if et.kind == "Tabular":
            if method != "GET":
                raise ODataError(400, "13", "Непосредственное создание или изменение строк табличной части не "
                                            "поддерживается")
            return self.get_tabular_row(et, res.key or "")
        if et.kind == "InfoRegister":
            return self.info_entity(et, res.key or "", method)
        if et.kind in ("AccumRecord", "AccumRecordSet"):
            if method != "GET":
                raise method_not_allowed()
            return self.get_register_entity(et, res.key or "")
        raise method_not_allowed()

    def _object_key(self, et: EntityType, key: str) -> str:
        value, named = parse_key(key)
        if named:
            if set(named) != {"Ref_Key"}:
                raise ODataError(400, "7", "Неверный состав ключа: ожидается Ref_Key")
            value = named["Ref_Key"]
        if not isinstance(value, str) or len(value) != 36:
            raise ODataError(400, "1", f"Не удалось разобрать строку '{key}' как значение типа Edm.Guid!")
        return value

    def get_object(self, et: EntityType, ref: str) -> Response:
        """One object by key. ``$expand`` is not applied here: 1C expands only in collections (spec 1.6)."""
        sel = parse_select(self.profile, et, self.options.get("$select"))
        parse_expand(self.profile, et, self.options.get("$expand"))  # still validated
        expand: dict[str, dict] = {}
        with self.base.store.read() as conn:
            row = conn.execute(f"SELECT {OBJECT_SELECT} FROM objects o WHERE o.ref=? AND o.set_name=?",
                               (ref, et.set_name)).fetchone()
            if row is None:
                raise not_found(et.object_name)
            return self.single(et, object_row_to_entity(et, row), sel=sel, expand=expand, conn=conn)

    def navigate(self, et: EntityType, ref: str, rest: list[Any]) -> Response:
        with self.base.store.read() as conn:
            row = conn.execute(f"SELECT {OBJECT_SELECT} FROM objects o WHERE o.ref=? AND o.set_name=?",
                               (ref, et.set_name)).fetchone()
            if row is None:
                raise not_found(et.object_name)
            cur_et, ent = et, object_row_to_entity(et, row)
            for i, seg in enumerate(rest):
                navs = {nav: f for nav, f in self.profile.navigations(cur_et)}
                if seg.name in navs:
                    f = navs[seg.name]
                    target = self.profile.sets[f.target or ""]
                    trow = conn.execute(f"SELECT {OBJECT_SELECT} FROM objects o WHERE o.ref=? AND o.set_name=?",
                                        (ent.get(f.name), target.set_name)).fetchone()
                    if trow is None:
                        raise not_found(target.object_name)
                    cur_et, ent = target, object_row_to_entity(target, trow)
                    continue
                if seg.name in cur_et.by_name and i == len(rest) - 1:
                    f = cur_et.by_name[seg.name]
                    from ..storage import wire

                    body = {"odata.metadata": f"{self.ctx.metadata_url}#{f.edm}", "value": wire(f, ent.get(f.name))}
                    if self.meta == "none":
                        body.pop("odata.metadata")
                    return Response(json.dumps(body, ensure_ascii=False), 200, content_type=JSON_CT)
                raise path_segment_not_found(seg.name, 404)
            return self.single(cur_et, ent, conn=conn)

    def get_tabular_row(self, et: EntityType, key: str) -> Response:
        _, named = parse_key(key)
        if set(named) != {"Ref_Key", "LineNumber"}:
            raise ODataError(400, "7", "Неверный состав ключа: ожидаются Ref_Key, LineNumber")
        with self.base.store.read() as conn:
            row = conn.execute(f"SELECT {OBJECT_SELECT} FROM objects o WHERE o.ref=? AND o.set_name=?",
                               (named["Ref_Key"], et.parent)).fetchone()
            if row is None:
                raise not_found(et.object_name)
            owner = self.profile.sets[et.parent or ""]
            ent = object_row_to_entity(owner, row)
            for r in ent.get(et.tab_name or "", []):
                if int(r.get("LineNumber", 0)) == int(named["LineNumber"]):
                    return self.single(et, dict(r, Ref_Key=named["Ref_Key"]), conn=conn)
        raise not_found(et.object_name)

    def get_register_entity(self, et: EntityType, key: str) -> Response:
        _, named = parse_key(key)
        missing = [k for k in et.key if k not in named]
        if missing:
            raise ODataError(400, "7", f"Не указан элемент ключа {missing[0]}")
        with self.base.store.read() as conn:
            if et.kind == "AccumRecordSet":
                exists = conn.execute("SELECT 1 FROM acc_records WHERE register=? AND recorder=? AND recorder_type=?",
                                      (et.set_name, named["Recorder"], named["Recorder_Type"])).fetchone()
                if not exists:
                    raise not_found(et.object_name)
                ent = self._record_set(conn, et, named["Recorder"], named["Recorder_Type"])
                return self._record_set_response(et, ent)
            row = conn.execute(
                "SELECT recorder, recorder_type, line, period, active, data FROM acc_records WHERE register=? "
                "AND recorder=? AND recorder_type=? AND line=?",
                (et.parent, named["Recorder"], named["Recorder_Type"], int(named["LineNumber"]))).fetchone()
            if row is None:
                raise not_found(et.object_name)
            return self.single(et, record_row_to_entity(et, row), conn=conn)

    def _record_set_response(self, et: EntityType, ent: dict[str, Any]) -> Response:
        rec_et = self.profile.sets[f"{et.set_name}_RecordType"]
        from ..storage import wire

        rows = [{f.name: wire(f, r.get(f.name, f.default)) for f in rec_et.fields} for r in ent["RecordSet"]]
        body = {"odata.metadata": f"{self.ctx.metadata_url}#{et.set_name}/@Element", "Recorder": ent["Recorder"],
                "Recorder_Type": ent["Recorder_Type"], "RecordSet": rows}
        return Response(json.dumps(body, ensure_ascii=False), 200, content_type=JSON_CT)

    # -- writes -------------------------------------------------------------------------------------------
    def _body(self) -> dict[str, Any]:
        raw = request.get_data()
        ctype = (request.content_type or "").lower()
        if "xml" in ctype and raw.strip().startswith(b"<"):
            raise ODataError(400, "3", "Тип представления application/atom+xml не поддерживается при записи в "
                                       "эмуляторе; используйте JSON")
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise malformed_json() from exc
        if not isinstance(data, dict):
            raise ODataError(500, "-1", "Произошла внутренняя ошибка OData сервиса...")
        return data

    def _data_load(self) -> bool:
        """``1C_OData-DataLoadMode: true``; werkzeug's server drops header names with ``_``, so the sandbox
        also reads ``1C-OData-DataLoadMode``."""
        value = request.headers.get("1C_OData-DataLoadMode") or request.headers.get("1C-OData-DataLoadMode") or ""
        return value.strip().lower() == "true"

    def create(self, et: EntityType) -> Response:
        if et.kind == "Tabular":
            raise ODataError(400, "13", "Непосредственное создание строк табличной части не поддерживается")
        if et.kind in ("AccumRecord", "AccumRecordSet"):
            raise method_not_allowed()
        payload = self._body()
        if et.kind == "InfoRegister":
            ent = self._info_build(et, payload, None)
            with self.base.session() as s:
                s.info_put(et.set_name, ent)
            return self._created(et, ent)
        with self.base.session(data_load=self._data_load()) as s:
            ent = s.build(et, payload)
            if "Ref_Key" in payload and payload["Ref_Key"]:
                ent["Ref_Key"] = coerce(et.by_name["Ref_Key"], payload["Ref_Key"])
            ent = s.insert(et, ent)
        return self._created(et, ent)

    def _created(self, et: EntityType, ent: dict[str, Any]) -> Response:
        with self.base.store.read() as conn:
            resp = self.single(et, ent, status=201, conn=conn)
        assert isinstance(resp, RawLocationResponse)
        resp.raw_location = utf8_header(f"{self.ctx.root}/{key_literal(et, ent)}")
        return resp

    def update_object(self, et: EntityType, ref: str, *, replace: bool) -> Response:
        payload = self._body()
        with self.base.session(data_load=self._data_load()) as s:
            existing = s.get(et.set_name, ref)
            if existing is None:
                raise not_found(et.object_name)
            mark = payload.get("DeletionMark")
            if et.kind == "Document" and mark is True and existing.get("Posted"):
                existing = s.unpost(et, ref)
            ent = s.build(et, payload, existing, replace=replace)
            ent = s.update(et, ent)
        with self.base.store.read() as conn:
            return self.single(et, ent, conn=conn)

    def post_action(self, et: EntityType, key: str, action: str) -> Response:
        ref = self._object_key(et, key)
        operational = self.options.get("PostingModeOperational", "false").strip().lower() == "true"
        with self.base.session() as s:
            if action == "Post":
                s.post(et, ref, operational=operational)
            else:
                s.unpost(et, ref)
        return empty_ok()

    # -- information registers --------------------------------------------------------------------------
    def _info_build(self, et: EntityType, payload: dict[str, Any], base_ent: dict[str, Any] | None) -> dict:
        ent = dict(base_ent) if base_ent else full(et.fields, {})
        for k, v in payload.items():
            f = et.by_name.get(k)
            if f is not None:
                ent[k] = coerce(f, v)
        return ent

    def _info_dims(self, et: EntityType, key: str) -> dict[str, Any]:
        value, named = parse_key(key)
        if not named:
            raise ODataError(400, "7", f"Не указан элемент ключа {et.key[0]}")
        missing = [k for k in et.key if k not in named]
        if missing:
            raise ODataError(400, "7", f"Не указан элемент ключа {missing[0]}")
        return {k: coerce(et.by_name[k], named[k]) for k in et.key}

    def info_entity(self, et: EntityType, key: str, method: str) -> Response:
        dims = self._info_dims(et, key)
        if method == "GET":
            with self.base.session() as s:
                ent = s.info_get(et.set_name, dims)
            if ent is None:
                raise not_found(et.object_name)
            return self.single(et, ent)
        if method in ("PATCH", "PUT"):
            payload = self._body()
            with self.base.session() as s:
                ent = s.info_get(et.set_name, dims)
                if ent is None:
                    raise not_found(et.object_name)
                ent = self._info_build(et, payload, None if method == "PUT" else ent)
                ent.update(dims)
                s.info_put(et.set_name, ent)
            return self.single(et, ent)
        if method == "DELETE":
            with self.base.session() as s:
                if not s.info_delete(et.set_name, dims):
                    raise not_found(et.object_name)
            return Response(b"", 204)
        raise method_not_allowed()

    # -- virtual tables -----------------------------------------------------------------------------------
    def virtual_table(self, et: EntityType, name: str, args: str) -> Response:
        if name in ("Balance", "BalanceAndTurnovers") and et.register_type != "Balance":
            raise method_not_found()
        params: dict[str, Any] = {}
        for part in split_args(args):
            k, sep, v = part.partition("=")
            if not sep:
                raise option_error("параметров виртуальной таблицы")
            params[k.strip()] = parse_literal(v)
        for k, v in self.options.items():
            if k in ("Period", "StartPeriod", "EndPeriod", "Condition", "Dimensions") and k not in params:
                params[k] = parse_literal(v) if v.startswith(("datetime'", "'")) else v
        rec_et = self.profile.sets[f"{et.set_name}_RecordType"]
        src = source_for(self.profile, rec_et, self.base.invoice_fields)
        where, wparams = src.where_sql()
        cond = params.get("Condition")
        if isinstance(cond, str) and cond.strip():
            csql, cparams = compile_filter(src, cond)
            where += f" AND ({csql})"
            wparams = wparams + cparams
        dims_text = params.get("Dimensions")
        dims = [d for d in split_commas(dims_text)] if isinstance(dims_text, str) and dims_text.strip() else \
            [d for d in rec_et.dimensions if rec_et.by_name[d].kind != "composite_type"]
        group_fields = []
        for d in dims:
            f = rec_et.by_name.get(d) or rec_et.by_name.get(d + "_Key")
            if f is None or f.name not in rec_et.dimensions:
                raise path_segment_not_found(d)
            group_fields.append(f)
            if f.kind == "composite":
                group_fields.append(rec_et.by_name[f.name + "_Type"])
        res_fields = [rec_et.by_name[r] for r in rec_et.resources]
        sign = "(CASE WHEN json_extract(r.data, '$.RecordType') = 'Expense' THEN -1 ELSE 1 END)"
        cols = [src.column_sql(f) for f in group_fields]
        select_parts = [f"{c} AS g{i}" for i, c in enumerate(cols)]
        agg: list[tuple[str, str]] = []
        balance = et.register_type == "Balance"
        if name == "Turnovers":
            start, end = params.get("StartPeriod"), params.get("EndPeriod")
            period_sql, period_params = _period_sql(start, end)
            for f in res_fields:
                col = src.column_sql(f)
                if balance:
                    agg.append((f"{f.name}Receipt", f"SUM(CASE WHEN {sign} > 0 THEN {col} ELSE 0 END)"))
                    agg.append((f"{f.name}Expense", f"SUM(CASE WHEN {sign} < 0 THEN {col} ELSE 0 END)"))
                    agg.append((f"{f.name}Turnover", f"SUM({sign} * {col})"))
                else:
                    agg.append((f"{f.name}Turnover", f"SUM({col})"))
            where += period_sql
            wparams = wparams + period_params
        elif name == "Balance":
            period = params.get("Period")
            if period:
                where += " AND r.period < ?"
                wparams = wparams + [period]
            for f in res_fields:
                agg.append((f"{f.name}Balance", f"SUM({sign} * {src.column_sql(f)})"))
        else:
            start, end = params.get("StartPeriod"), params.get("EndPeriod")
            for f in res_fields:
                col = src.column_sql(f)
                before = "r.period < ?" if start else "0"
                inside = _inside(start, end)
                agg.append((f"{f.name}OpeningBalance", f"SUM(CASE WHEN {before} THEN {sign} * {col} ELSE 0 END)"))
                agg.append((f"{f.name}Receipt", f"SUM(CASE WHEN {inside} AND {sign} > 0 THEN {col} ELSE 0 END)"))
                agg.append((f"{f.name}Expense", f"SUM(CASE WHEN {inside} AND {sign} < 0 THEN {col} ELSE 0 END)"))
                agg.append((f"{f.name}Turnover", f"SUM(CASE WHEN {inside} THEN {sign} * {col} ELSE 0 END)"))
                agg.append((f"{f.name}ClosingBalance",
                            f"SUM(CASE WHEN {_until(end)} THEN {sign} * {col} ELSE 0 END)"))
            agg_params: list[Any] = []
            for _f in res_fields:
                agg_params += ([start] if start else []) + _inside_params(start, end) * 3 + _until_params(end)
            wparams = agg_params + wparams
        sql = (f"SELECT {', '.join(select_parts + [a for _, a in agg]) or '1'} FROM {src.from_sql()} WHERE {where}"
               + (f" GROUP BY {', '.join(cols)}" if cols else ""))
        with self.base.store.read() as conn:
            rows = conn.execute(sql, wparams).fetchall()
        out = []
        from ..storage import wire

        for row in rows:
            item: dict[str, Any] = {}
            for i, f in enumerate(group_fields):
                item[f.name] = wire(f, row[i])
            for j, (alias, _) in enumerate(agg):
                v = row[len(group_fields) + j] or 0
                item[alias] = int(v) if float(v).is_integer() else round(float(v), 2)
            if name == "Balance" and all(not item[a] for a, _ in agg):
                continue
            out.append(item)
        suffix = {"Turnovers": "_Turnover", "Balance": "_Balance", "BalanceAndTurnovers": "_BalanceAndTurnover"}[name]
        fragment = f"Collection({NS}.{et.set_name}{suffix})"
        if self.fmt == "json":
            return Response(json_plain_feed(self.ctx, fragment, out), 200, content_type=JSON_CT)
        from xml.sax.saxutils import escape

        items = "".join("<d:element>" + "".join(f"<d:{k}>{escape(str(v))}</d:{k}>" for k, v in item.items())
                        + "</d:element>" for item in out)
        xml = ('<?xml version="1.0" encoding="UTF-8"?>\n'
               f'<d:{name} xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
               f'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" '
               f'm:type="{escape(fragment)}">{items}</d:{name}>')
        return Response(xml.encode("utf-8"), 200, content_type=XML_CT)


def _period_sql(start: Any, end: Any) -> tuple[str, list[Any]]:
    sql, params = "", []
    if start:
        sql += " AND r.period >= ?"
        params.append(start)
    if end:
        sql += " AND r.period <= ?"
        params.append(end)
    return sql, params


def _inside(start: Any, end: Any) -> str:
    parts = []
    if start:
        parts.append("r.period >= ?")
    if end:
        parts.append("r.period <= ?")
    return "(" + (" AND ".join(parts) or "1") + ")"


def _inside_params(start: Any, end: Any) -> list[Any]:
    return ([start] if start else []) + ([end] if end else [])


def _until(end: Any) -> str:
    return "r.period <= ?" if end else "1"


def _until_params(end: Any) -> list[Any]:
    return [end] if end else []


def handle(base: Base, path: str) -> Response:
    """Entry point used by the Flask route."""

    def run(error: ODataError | None) -> Response:
        req = None
        try:
            req = ODataRequest(base, path)
            if error is not None:
                raise error
            return req.handle()
        except ODataError as err:
            if req is None:
                return Response(err.json_body(), err.status, content_type=JSON_CT)
            return req.error(err)
        except Exception as exc:
            err = business_error(f"Произошла внутренняя ошибка OData сервиса... {type(exc).__name__}: {exc}")
            return req.error(err) if req is not None else Response(err.json_body(), 500, content_type=JSON_CT)

    return guarded(base, "odata", run)
