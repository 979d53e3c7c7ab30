"""The B24Exchange SOAP service: WSDL in the 1C shape, every operation through zeep, faults."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from lxml import etree
from zeep import Client
from zeep.exceptions import Fault
from zeep.transports import Transport

from .conftest import FIXTURES, PASSWORD, USER, basic, control, make_base

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XS = "http://www.w3.org/2001/XMLSchema"


class Utf8Auth(requests.auth.AuthBase):
    """Basic auth with a UTF-8 login (requests' own would encode a Cyrillic login as latin-1 and fail)."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers.update(basic(USER, PASSWORD))
        return r


def zeep_client(server: Any, name: str, suffix: str = ".1cws") -> Client:
    session = requests.Session()
    session.auth = Utf8Auth()
    return Client(f"{server.url}/onec/{name}/ws/b24exchange{suffix}?wsdl", transport=Transport(session=session,
                                                                                                 timeout=30))


def result(resp: Any) -> Any:
    assert not resp["ErrorMessage"], resp["ErrorMessage"]
    return json.loads(resp["return"])


def _wsdl_shape(root: etree._Element) -> dict[str, Any]:
    ns = root.get("targetNamespace")
    name = root.get("name")
    schema = root.find(f"{{{WSDL_NS}}}types/{{{XS}}}schema")
    ops = [o.get("name") for o in root.find(f"{{{WSDL_NS}}}portType")]
    op = ops[0]
    resp_el = [e for e in schema if e.get("name") == f"{op}Response"][0]
    msgs = {m.get("name"): m for m in root.findall(f"{{{WSDL_NS}}}message")}
    bindings = root.findall(f"{{{WSDL_NS}}}binding")
    b11 = bindings[0]
    soap_op = b11.find(f"{{{WSDL_NS}}}operation")[0]
    service = root.find(f"{{{WSDL_NS}}}service")
    ports = [p.get("name") for p in service]
    return {
        "prefixes": sorted(k for k in root.nsmap if k),
        "schema_form": (schema.get("elementFormDefault"), schema.get("attributeFormDefault")),
        "schema_tns": schema.get("targetNamespace") == ns,
        "first_response_child": resp_el.find(f".//{{{XS}}}element").get("name"),
        "messages": sorted({k.replace(op, "<op>") for k in msgs if k.startswith(op)}),
        "part": [p.get("name") for p in msgs[f"{op}RequestMessage"]],
        "porttype": root.find(f"{{{WSDL_NS}}}portType").get("name") == f"{name}PortType",
        "bindings": [b.get("name").replace(name, "<S>") for b in bindings],
        "style": (soap_op.get("style"), b11.find(f"{{{WSDL_NS}}}operation/{{{WSDL_NS}}}input")[0].get("use")),
        "soap_action": soap_op.get("soapAction") == f"{ns}#{name}:{op}",
        "ports": [p.replace(name, "<S>") for p in ports],
        "address_has_no_1cws": not service[0][-1].get("location").endswith(".1cws"),
    }


def test_wsdl_has_the_shape_of_the_1c_generated_one(server: Any) -> None:
    name = make_base(server, "bp30")
    r = requests.get(f"{server.url}/onec/{name}/ws/b24exchange.1cws?wsdl", headers=basic(USER, PASSWORD))
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/xml")
    ours = _wsdl_shape(etree.fromstring(r.content))
    ref = _wsdl_shape(etree.fromstring((FIXTURES / "wsdl_custom_service_neofly.wsdl").read_bytes()))
    assert ours == ref
    plain = requests.get(f"{server.url}/onec/{name}/ws/b24exchange?wsdl", headers=basic(USER, PASSWORD))
    assert plain.content == r.content
    assert b"/ws/b24exchange\"" in r.content
    assert requests.get(f"{server.url}/onec/{name}/ws/b24exchange.1cws?wsdl").status_code == 401


def test_every_operation_through_zeep(server: Any) -> None:
    for profile in ("bp30", "ut11", "unf"):
        name = make_base(server, profile, counterparties=[])
        c = zeep_client(server, name)
        ping = result(c.service.Ping())
        assert ping["ok"] and ping["profile"] == profile and ping["organizations"][0]["inn"] == "7704512345"
        assert result(c.service.FindCounterparty(INN="5024093941", KPP="502401001"))["found"] is False
        data = {"name": 'ООО "Ромашка"', "inn": "5024093941", "kpp": "502401001",
                "bank": {"name": "АО Альфа-Банк", "bik": "044525593", "account": "40702810201300012345"}}
        created = result(c.service.CreateCounterparty(Data=json.dumps(data)))
        assert created["created"] is True
        again = result(c.service.CreateCounterparty(Data=json.dumps(data)))
        assert again["created"] is False and again["ref"] == created["ref"]  # never a duplicate
        found = result(c.service.FindCounterparty(INN="5024093941", KPP=None))
        assert [x["ref"] for x in found["items"]] == [created["ref"]]
        contract = result(c.service.CreateContract(CounterpartyRef=created["ref"],
                                                   Data=json.dumps({"number": "МП-2026/15", "date": "2026-11-01",
                                                                    "kind": "sale"})))
        assert contract["contract"]["number"] == "МП-2026/15"
        fc = result(c.service.FindContract(CounterpartyRef=created["ref"], Number="МП-2026/15",
                                           Date="2026-11-01T00:00:00", OrganizationRef=None))
        assert fc["items"][0]["ref"] == contract["ref"]
        product = result(c.service.FindProduct(Article="MP-ARM-12", Name=None))["items"][0]
        assert product["article"] == "MP-ARM-12"
        by_name = result(c.service.FindProduct(Article=None, Name="Лист г/к 4 мм"))
        assert by_name["found"] is True
        inv_data = {"counterparty_ref": created["ref"], "contract_ref": contract["ref"],
                    "idempotency_key": f"b24:{profile}:deal:77", "date": "2026-11-20T12:00:00",
                    "rows": [{"article": "MP-ARM-12", "quantity": 2, "price": 65000, "vat_rate": 20},
                             {"product_ref": product["ref"], "quantity": 1, "price": 1000, "vat_rate": 20}]}
        inv = result(c.service.CreateInvoice(Data=json.dumps(inv_data), Post=True))
        assert inv["created"] is True and inv["posted"] is True and inv["amount"] == 131000 and inv["number"]
        dup = result(c.service.CreateInvoice(Data=json.dumps(inv_data), Post=True))
        assert dup["created"] is False and dup["ref"] == inv["ref"]  # a retry after a timeout makes no second invoice
        assert result(c.service.FindInvoiceByComment(Key=f"b24:{profile}:deal:77"))["items"][0]["ref"] == inv["ref"]
        control(server, "POST", f"/{name}/payments", json={"invoice_ref": inv["ref"], "amount": 31000,
                                                            "date": "2026-11-21T10:00:00"})
        control(server, "POST", f"/{name}/payments", json={"invoice_ref": inv["ref"], "amount": 100000, "kind": "cash",
                                                            "date": "2026-11-22T10:00:00"})
        st = result(c.service.GetInvoiceStatus(Ref=inv["ref"]))
        assert st["paid"] == 131000 and st["status"] == "Оплачен" and len(st["payments"]) == 2
        page1 = result(c.service.GetPayments(DateFrom="2026-11-01T00:00:00", DateTo="2026-11-30T23:59:59",
                                             Cursor=None, Limit=1, IncludeUnposted=False))
        assert len(page1["items"]) == 1 and page1["next"]
        assert page1["items"][0]["kind"] == "bank" and page1["items"][0]["rows"][0]["invoice_ref"] == inv["ref"]
        page2 = result(c.service.GetPayments(DateFrom="2026-11-01T00:00:00", DateTo="2026-11-30T23:59:59",
                                             Cursor=page1["next"], Limit=1, IncludeUnposted=False))
        assert page2["items"][0]["kind"] == "cash" and page2["next"] is None
        changes = result(c.service.GetInvoiceChanges(Cursor=None, DateFrom=None, DateTo=None, Limit=100))
        assert [i["ref"] for i in changes["items"]] == [inv["ref"]] and changes["items"][0]["status"] == "Оплачен"
        none = result(c.service.GetInvoiceChanges(Cursor=changes["cursor"], DateFrom=None, DateTo=None, Limit=100))
        assert none["items"] == []
        control(server, "POST", f"/{name}/invoices/{inv['ref']}/delete-mark")
        marked = result(c.service.GetInvoiceChanges(Cursor=changes["cursor"], DateFrom=None, DateTo=None, Limit=10))
        assert marked["items"][0]["deletion_mark"] is True


def test_business_refusals_come_in_error_message(server: Any) -> None:
    name = make_base(server, "bp30")
    c = zeep_client(server, name)
    r = c.service.GetInvoiceStatus(Ref="00000000-0000-0000-0000-00000000beef")
    assert not r["return"] and "не найден" in r["ErrorMessage"]
    cp = result(c.service.FindCounterparty(INN="5024093941", KPP="502401001"))["items"][0]["ref"]
    bad = c.service.CreateInvoice(Data=json.dumps({"counterparty_ref": cp, "rows": [{"article": "NO-SUCH"}]}), Post=False)
    assert not bad["return"] and bad["ErrorMessage"].startswith('Номенклатура "NO-SUCH" не найдена')


@pytest.mark.parametrize(("call", "text"), [
    (lambda c: c.service.CreateInvoice(Data="{broken", Post=False), "ПрочитатьJSON"),
    (lambda c: c.service.GetInvoiceStatus(Ref="not-a-guid"), "Неверный уникальный идентификатор"),
    (lambda c: c.service.GetPayments(DateFrom="вчера", DateTo="2026-11-30", Cursor=None, Limit=None,
                                     IncludeUnposted=None), "Неверное значение даты"),
])
def test_malformed_calls_are_soap_faults(server: Any, call: Any, text: str) -> None:
    c = zeep_client(server, "bp_main" if "bp_main" in server.registry.bases else make_base(server, "bp30"))
    with pytest.raises(Fault) as exc:
        call(c)
    assert text in exc.value.message
    assert exc.value.message.startswith("{ВебСервис.B24Exchange.Модуль(")


def test_soap12_and_missing_parameter_fault(server: Any) -> None:
    name = make_base(server, "bp30")
    url = f"{server.url}/onec/{name}/ws/b24exchange"
    env12 = ('<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" '
             'xmlns:m="http://b24app.ru/1c/B24Exchange"><soap:Body><m:FindCounterparty><m:INN>5024093941</m:INN>'
             '<m:KPP>502401001</m:KPP></m:FindCounterparty></soap:Body></soap:Envelope>')
    r = requests.post(url, data=env12.encode(), headers=dict(basic(USER, PASSWORD),
                                                             **{"Content-Type": "application/soap+xml; charset=utf-8"}))
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/soap+xml")
    root = etree.fromstring(r.content)
    ret = root.find(".//{http://b24app.ru/1c/B24Exchange}return")
    assert json.loads(ret.text)["found"] is True
    assert root.find(".//{http://b24app.ru/1c/B24Exchange}ErrorMessage") is not None
    env11 = ('<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
             'xmlns:m="http://b24app.ru/1c/B24Exchange"><soap:Body><m:FindCounterparty/></soap:Body></soap:Envelope>')
    f = requests.post(url, data=env11.encode(), headers=dict(basic(USER, PASSWORD), **{"Content-Type": "text/xml"}))
    assert f.status_code == 500
    fault = etree.fromstring(f.content).find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault")
    assert fault.findtext("faultcode") == "soap:Client" and "ожидается элемент: INN" in fault.findtext("faultstring")


def test_zeep_soap12_port_and_address_override(server: Any) -> None:
    name = make_base(server, "unf")
    c = zeep_client(server, name, suffix="")
    svc = c.bind("B24Exchange", "B24ExchangeSoap12")
    assert result(svc.Ping())["profile"] == "unf"
    override = c.create_service("{http://b24app.ru/1c/B24Exchange}B24ExchangeSoapBinding",
                                f"{server.url}/onec/{name}/ws/b24exchange.1cws")
    assert result(override.FindProduct(Article="MP-DLV", Name=None))["found"] is True
