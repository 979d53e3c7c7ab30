"""The ``B24Exchange`` SOAP service of an emulated base: envelopes, operations and faults.

Every operation answers ``<op>Response`` with ``return`` (a string holding JSON, as 1C custom services
often do) and the Out parameter ``ErrorMessage``. A business refusal (no such invoice, a product not
found, a posting error) comes back as an empty ``return`` and the 1C error text in ``ErrorMessage``; a
malformed call (missing parameter, unreadable JSON, a bad reference) is a SOAP Fault with HTTP 500 and
the text 1C would give, as an uncaught exception in a web-service module does.
"""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape

from flask import Response, request
from lxml import etree

from ..base import Base
from ..errors import ODataError
from ..feeds import invoice_changes, payments
from ..odata.views import guarded
from ..schema import EMPTY_GUID
from ..storage import norm_date, norm_guid
from .wsdl import NAMESPACE, OPS_BY_NAME, SERVICE, Operation, wsdl

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


class SoapFault(Exception):
    def __init__(self, text: str, client: bool = False) -> None:
        super().__init__(text)
        self.text = text
        self.client = client


def module_error(line: int, text: str) -> SoapFault:
    return SoapFault(f"{{ВебСервис.{SERVICE}.Модуль({line})}}: {text}")


def envelope(version: str, body: str) -> bytes:
    ns = SOAP12 if version == "1.2" else SOAP11
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="{ns}">'
            f"<soap:Header/><soap:Body>{body}</soap:Body></soap:Envelope>").encode()


def fault_body(version: str, fault: SoapFault) -> str:
    if version == "1.2":
        code = "soap:Sender" if fault.client else "soap:Receiver"
        return (f"<soap:Fault><soap:Code><soap:Value>{code}</soap:Value></soap:Code>"
                f'<soap:Reason><soap:Text xml:lang="ru">{escape(fault.text)}</soap:Text></soap:Reason>'
                "</soap:Fault>")
    code = "soap:Client" if fault.client else "soap:Server"
    return f"<soap:Fault><faultcode>{code}</faultcode><faultstring>{escape(fault.text)}</faultstring></soap:Fault>"


def response_body(op: str, result: str, error: str) -> str:
    attrs = 'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    return (f'<m:{op}Response xmlns:m="{NAMESPACE}">'
            f"<m:return {attrs}>{escape(result)}</m:return>"
            f"<m:ErrorMessage {attrs}>{escape(error)}</m:ErrorMessage>"
            f"</m:{op}Response>")


def content_type(version: str) -> str:
    return "application/soap+xml; charset=utf-8" if version == "1.2" else "text/xml; charset=utf-8"


def parse_call(raw: bytes) -> tuple[str, Operation, dict[str, Any]]:
    try:
        root = etree.fromstring(raw, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise SoapFault(f"Ошибка разбора XML: {exc}", client=True) from exc
    qn = etree.QName(root)
    if qn.localname != "Envelope" or qn.namespace not in (SOAP11, SOAP12):
        raise SoapFault("Неверный формат SOAP-сообщения", client=True)
    version = "1.2" if qn.namespace == SOAP12 else "1.1"
    body = root.find(f"{{{qn.namespace}}}Body")
    if body is None or len(body) == 0:
        raise SoapFault("Неверный формат SOAP-сообщения: нет тела", client=True)
    call = body[0]
    cq = etree.QName(call)
    op = OPS_BY_NAME.get(cq.localname)
    if op is None or cq.namespace != NAMESPACE:
        raise SoapFault(f"Операция {{{cq.namespace}}}{cq.localname} не найдена", client=True)
    params: dict[str, Any] = {}
    children = {etree.QName(c).localname: c for c in call if isinstance(c.tag, str)}
    for p in op.params:
        el = children.get(p.name)
        if el is None or el.get(f"{{{XSI}}}nil") in ("true", "1"):
            if not p.nillable and el is None:
                raise SoapFault(f"Ошибка преобразования данных XDTO:\nЧтение объекта типа: {{{NAMESPACE}}}{op.name}"
                                f"\nожидается элемент: {p.name}", client=True)
            params[p.name] = None
            continue
        text = el.text or ""
        if p.type == "xs:boolean":
            if text.strip() not in ("true", "false", "1", "0"):
                raise SoapFault(f"Ошибка преобразования данных XDTO: значение '{text}' не соответствует типу "
                                "{http://www.w3.org/2001/XMLSchema}boolean", client=True)
            params[p.name] = text.strip() in ("true", "1")
        elif p.type == "xs:int":
            try:
                params[p.name] = int(text.strip())
            except ValueError as exc:
                raise SoapFault(f"Ошибка преобразования данных XDTO: значение '{text}' не соответствует типу "
                                "{http://www.w3.org/2001/XMLSchema}int", client=True) from exc
        else:
            params[p.name] = text
    return version, op, params


def _json_param(value: Any, line: int) -> dict[str, Any]:
    try:
        data = json.loads(value or "")
    except json.JSONDecodeError as exc:
        raise module_error(line, f"Ошибка при вызове метода контекста (ПрочитатьJSON): Ошибка чтения JSON: "
                                 f"{exc.msg} (позиция {exc.pos})") from exc
    if not isinstance(data, dict):
        raise module_error(line, "Ошибка при вызове метода контекста (ПрочитатьJSON): ожидается объект JSON")
    return data


def _ref(value: Any, name: str, line: int) -> str:
    g = norm_guid(str(value or ""))
    if g is None:
        raise module_error(line, f"Неверный уникальный идентификатор в параметре {name}: '{value}'")
    return g


def _date(value: Any, name: str, line: int) -> str:
    d = norm_date(str(value or ""))
    if d is None:
        raise module_error(line, f"Неверное значение даты в параметре {name}: '{value}'")
    return d


def _cp_view(ent: dict[str, Any]) -> dict[str, Any]:
    return {"ref": ent["Ref_Key"], "name": ent.get("Description"), "full_name": ent.get("НаименованиеПолное", ""),
            "inn": ent.get("ИНН", ""), "kpp": ent.get("КПП", ""), "code": ent.get("Code", ""),
            "deletion_mark": bool(ent.get("DeletionMark")), "partner_ref": ent.get("Партнер_Key", EMPTY_GUID)}


def run_operation(base: Base, op: Operation, p: dict[str, Any]) -> Any:
    """Execute one operation; returns the JSON-able result or raises ODataError / SoapFault."""
    logic = base.handlers
    name = op.name
    if name == "Ping":
        with base.read_session() as s:
            orgs = s.find("Catalog_Организации", "o.deletion_mark = 0")
            return {"ok": True, "base": base.name, "profile": base.profile_name,
                    "configuration": base.profile.configuration,
                    "organizations": [{"ref": o["Ref_Key"], "name": o.get("Description"), "inn": o.get("ИНН", ""),
                                       "kpp": o.get("КПП", "")} for o in orgs]}
    if name == "FindCounterparty":
        with base.read_session() as s:
            found = logic.find_counterparty(s, p["INN"] or "", p.get("KPP") or None)
            return {"found": bool(found), "items": [_cp_view(c) for c in found]}
    if name == "CreateCounterparty":
        data = _json_param(p["Data"], 41)
        with base.session() as s:
            ent, created = logic.create_counterparty(s, data)
            return {"ref": ent["Ref_Key"], "created": created, "counterparty": _cp_view(ent)}
    if name == "FindContract":
        cp = _ref(p["CounterpartyRef"], "CounterpartyRef", 57)
        date = _date(p["Date"], "Date", 58) if p.get("Date") else None
        org = _ref(p["OrganizationRef"], "OrganizationRef", 59) if p.get("OrganizationRef") else None
        with base.read_session() as s:
            found = logic.find_contract(s, cp, p.get("Number") or None, date, org)
            return {"found": bool(found), "items": [_contract_view(logic, c) for c in found]}
    if name == "CreateContract":
        cp = _ref(p["CounterpartyRef"], "CounterpartyRef", 71)
        data = _json_param(p["Data"], 72)
        if data.get("date"):
            data["date"] = _date(data["date"], "Data.date", 74)
        with base.session() as s:
            ent, created = logic.create_contract(s, cp, data)
            return {"ref": ent["Ref_Key"], "created": created, "contract": _contract_view(logic, ent)}
    if name == "FindProduct":
        with base.read_session() as s:
            found = logic.find_product(s, p.get("Article") or None, p.get("Name") or None)
            return {"found": bool(found), "items": [{"ref": x["Ref_Key"], "name": x.get("Description"),
                                                     "article": x.get("Артикул", ""), "code": x.get("Code", "")}
                                                    for x in found]}
    if name == "CreateInvoice":
        data = _json_param(p["Data"], 96)
        if data.get("counterparty_ref"):
            data["counterparty_ref"] = _ref(data["counterparty_ref"], "Data.counterparty_ref", 98)
        if data.get("contract_ref"):
            data["contract_ref"] = _ref(data["contract_ref"], "Data.contract_ref", 100)
        if data.get("date"):
            data["date"] = _date(data["date"], "Data.date", 102)
        key = str(data.get("idempotency_key") or "")
        if key and key not in str(data.get("comment") or ""):
            data["comment"] = (str(data.get("comment") or "") + " " + key).strip()
        with base.session() as s:
            if key:
                existing = logic.find_invoices_by_comment(s, key)
                if existing:
                    view = logic.invoice_view(s, existing[0])
                    return dict(view, created=False)
            ent = logic.create_invoice(s, data, bool(p.get("Post")))
            return dict(logic.invoice_view(s, ent), created=True)
    if name == "FindInvoiceByComment":
        if not (p.get("Key") or "").strip():
            raise module_error(131, "Не задан ключ поиска")
        with base.read_session() as s:
            found = logic.find_invoices_by_comment(s, p["Key"].strip())
            return {"found": bool(found), "items": [logic.invoice_view(s, e) for e in found]}
    if name == "GetInvoiceChanges":
        df = _date(p["DateFrom"], "DateFrom", 140) if p.get("DateFrom") else None
        dt_ = _date(p["DateTo"], "DateTo", 141) if p.get("DateTo") else None
        with base.read_session() as s:
            return invoice_changes(s, p.get("Cursor"), df, dt_, p.get("Limit"))
    if name == "GetPayments":
        df = _date(p["DateFrom"], "DateFrom", 150)
        dt_ = _date(p["DateTo"], "DateTo", 151)
        with base.read_session() as s:
            return payments(s, df, dt_, p.get("Cursor") or None, p.get("Limit"), bool(p.get("IncludeUnposted")))
    if name == "GetInvoiceStatus":
        ref = _ref(p["Ref"], "Ref", 160)
        with base.read_session() as s:
            return logic.invoice_status(s, ref)
    raise SoapFault(f"Операция {name} не реализована")


def _contract_view(logic: Any, c: dict[str, Any]) -> dict[str, Any]:
    names = logic.contract_fields()
    owner = c.get("Owner_Key") or c.get("Owner") or c.get("Контрагент_Key") or EMPTY_GUID
    return {"ref": c["Ref_Key"], "name": c.get("Description"), "number": c.get(names["number"], ""),
            "date": c.get(names["date"]), "kind": c.get(names["kind"], ""), "counterparty_ref": owner,
            "organization_ref": c.get("Организация_Key", EMPTY_GUID)}


def handle_wsdl(base: Base | None) -> Response:
    def run(error: ODataError | None) -> Response:
        assert base is not None
        if error is not None:
            return Response(error.message, 500, content_type="text/plain; charset=utf-8")
        address = request.host_url.rstrip("/") + f"/onec/{base.name}/ws/b24exchange"
        return Response(wsdl(address), 200, content_type="text/xml; charset=utf-8")

    return guarded(base, "wsdl", run)


def handle_call(base: Base | None) -> Response:
    def run(error: ODataError | None) -> Response:
        assert base is not None
        version = "1.2" if "application/soap+xml" in (request.content_type or "") else "1.1"
        try:
            version, op, params = parse_call(request.get_data())
            if error is not None:
                raise SoapFault(error.message)
            try:
                result = run_operation(base, op, params)
                body = response_body(op.name, json.dumps(result, ensure_ascii=False), "")
            except ODataError as err:
                body = response_body(op.name, "", err.message)
            return Response(envelope(version, body), 200, content_type=content_type(version))
        except SoapFault as fault:
            return Response(envelope(version, fault_body(version, fault)), 500, content_type=content_type(version))
        except Exception as exc:
            fault = module_error(1, f"{type(exc).__name__}: {exc}")
            return Response(envelope(version, fault_body(version, fault)), 500, content_type=content_type(version))

    return guarded(base, "soap", run)
