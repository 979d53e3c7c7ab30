"""The ``B24Exchange`` web service description, generated in the shape 1C's platform gives a WSDL.

Shape of ``fixtures/1c/wsdl_custom_service_neofly.wsdl``: ``definitions`` with prefixes ``soap12bind``,
``soapbind``, ``tns``, ``wsp``, ``wsu``, ``xsd``, ``xsd1``; one inline ``xs:schema`` (qualified elements)
with an element ``<op>`` (In parameters) and ``<op>Response`` (``return`` then the Out parameters);
messages ``<op>RequestMessage``/``<op>ResponseMessage`` with part ``parameters``; portType
``B24ExchangePortType``; document/literal bindings ``B24ExchangeSoapBinding`` (SOAP 1.1) and
``B24ExchangeSoap12Binding`` with ``soapAction="<ns>#B24Exchange:<op>"``; service ``B24Exchange`` with
ports ``B24ExchangeSoap`` and ``B24ExchangeSoap12``; address ``…/ws/b24exchange`` (no ``.1cws``).
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

SERVICE = "B24Exchange"
NAMESPACE = "http://b24app.ru/1c/B24Exchange"
FILE_NAME = "b24exchange"


@dataclass(frozen=True)
class Param:
    name: str
    type: str = "xs:string"
    nillable: bool = False


@dataclass(frozen=True)
class Operation:
    name: str
    params: tuple[Param, ...]
    doc: str


OPERATIONS: tuple[Operation, ...] = (
    Operation("Ping", (), "Проверка связи: конфигурация, версия, организации базы."),
    Operation("FindCounterparty", (Param("INN"), Param("KPP", nillable=True)),
              "Поиск контрагента по ИНН и КПП (помеченные на удаление не возвращаются)."),
    Operation("CreateCounterparty", (Param("Data"),),
              "Создание контрагента с реквизитами (JSON); существующий с теми же ИНН+КПП возвращается без дубля."),
    Operation("FindContract", (Param("CounterpartyRef"), Param("Number", nillable=True),
                               Param("Date", nillable=True), Param("OrganizationRef", nillable=True)),
              "Поиск договора контрагента по номеру и дате."),
    Operation("CreateContract", (Param("CounterpartyRef"), Param("Data")),
              "Создание договора (номер, дата, вид); существующий с тем же номером и датой возвращается."),
    Operation("FindProduct", (Param("Article", nillable=True), Param("Name", nillable=True)),
              "Поиск номенклатуры по артикулу, затем по наименованию."),
    Operation("CreateInvoice", (Param("Data"), Param("Post", "xs:boolean")),
              "Создание счета покупателю со строками и НДС; ключ идемпотентности проверяется до создания."),
    Operation("FindInvoiceByComment", (Param("Key"),),
              "Поиск счета по ключу идемпотентности в комментарии."),
    Operation("GetInvoiceChanges", (Param("Cursor", nillable=True), Param("DateFrom", nillable=True),
                                    Param("DateTo", nillable=True), Param("Limit", "xs:int", nillable=True)),
              "Изменения счетов после курсора (номер изменения), с пометками удаления и удалениями."),
    Operation("GetPayments", (Param("DateFrom"), Param("DateTo"), Param("Cursor", nillable=True),
                              Param("Limit", "xs:int", nillable=True), Param("IncludeUnposted", "xs:boolean",
                                                                          nillable=True)),
              "Поступления (банк и касса) за период с расшифровкой по счетам, страницами по курсору."),
    Operation("GetInvoiceStatus", (Param("Ref"),), "Состояние оплаты счета: сумма, оплачено, статус, платежи."),
)
OPS_BY_NAME = {op.name: op for op in OPERATIONS}
OUT_PARAMS = (Param("ErrorMessage"),)


def _element(p: Param, indent: str) -> str:
    nil = ' nillable="true"' if p.nillable else ""
    return f"{indent}<xs:element name={quoteattr(p.name)} type={quoteattr(p.type)}{nil}/>\n"


def wsdl(address: str) -> bytes:
    """The WSDL document with ``soap:address`` pointing to ``address``."""
    ns = NAMESPACE
    ind = "\t\t\t"
    schema = []
    for op in OPERATIONS:
        schema.append(f'{ind}<xs:element name="{op.name}">\n{ind}\t<xs:complexType>\n{ind}\t\t<xs:sequence>\n')
        schema.extend(_element(p, ind + "\t\t\t") for p in op.params)
        schema.append(f"{ind}\t\t</xs:sequence>\n{ind}\t</xs:complexType>\n{ind}</xs:element>\n")
        schema.append(f'{ind}<xs:element name="{op.name}Response">\n{ind}\t<xs:complexType>\n'
                      f"{ind}\t\t<xs:sequence>\n")
        schema.append(f'{ind}\t\t\t<xs:element name="return" type="xs:string"/>\n')
        schema.extend(_element(p, ind + "\t\t\t") for p in OUT_PARAMS)
        schema.append(f"{ind}\t\t</xs:sequence>\n{ind}\t</xs:complexType>\n{ind}</xs:element>\n")
    messages = []
    port_ops = []
    soap11 = []
    soap12 = []
    for op in OPERATIONS:
        messages.append(
            f'\t<message name="{op.name}RequestMessage">\n\t\t<part name="parameters" element="tns:{op.name}"/>\n'
            f'\t</message>\n\t<message name="{op.name}ResponseMessage">\n'
            f'\t\t<part name="parameters" element="tns:{op.name}Response"/>\n\t</message>\n'
        )
        port_ops.append(
            f'\t\t<operation name="{op.name}">\n\t\t\t<input message="tns:{op.name}RequestMessage"/>\n'
            f'\t\t\t<output message="tns:{op.name}ResponseMessage"/>\n\t\t</operation>\n'
        )
        for prefix, out in (("soapbind", soap11), ("soap12bind", soap12)):
            out.append(
                f'\t\t<operation name="{op.name}">\n'
                f'\t\t\t<{prefix}:operation style="document" soapAction="{ns}#{SERVICE}:{op.name}"/>\n'
                f'\t\t\t<input>\n\t\t\t\t<{prefix}:body use="literal"/>\n\t\t\t</input>\n'
                f'\t\t\t<output>\n\t\t\t\t<{prefix}:body use="literal"/>\n\t\t\t</output>\n\t\t</operation>\n'
            )
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"\n'
        '\t\txmlns:soap12bind="http://schemas.xmlsoap.org/wsdl/soap12/"\n'
        '\t\txmlns:soapbind="http://schemas.xmlsoap.org/wsdl/soap/"\n'
        f'\t\txmlns:tns="{ns}"\n'
        '\t\txmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy"\n'
        '\t\txmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"\n'
        '\t\txmlns:xsd="http://www.w3.org/2001/XMLSchema"\n'
        f'\t\txmlns:xsd1="{ns}"\n'
        f'\t\tname="{SERVICE}"\n'
        f'\t\ttargetNamespace="{ns}">\n'
        "\t<types>\n"
        '\t\t<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"\n'
        f'\t\t\t\txmlns:xs1="{ns}"\n'
        f'\t\t\t\ttargetNamespace="{ns}"\n'
        '\t\t\t\tattributeFormDefault="unqualified"\n'
        '\t\t\t\telementFormDefault="qualified">\n'
        + "".join(schema)
        + "\t\t</xs:schema>\n\t</types>\n"
        + "".join(messages)
        + f'\t<portType name="{SERVICE}PortType">\n' + "".join(port_ops) + "\t</portType>\n"
        + f'\t<binding name="{SERVICE}SoapBinding" type="tns:{SERVICE}PortType">\n'
        '\t\t<soapbind:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>\n'
        + "".join(soap11) + "\t</binding>\n"
        + f'\t<binding name="{SERVICE}Soap12Binding" type="tns:{SERVICE}PortType">\n'
        '\t\t<soap12bind:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>\n'
        + "".join(soap12) + "\t</binding>\n"
        + f'\t<service name="{SERVICE}">\n'
        f'\t\t<port name="{SERVICE}Soap" binding="tns:{SERVICE}SoapBinding">\n'
        "\t\t\t<documentation> \n"
        '\t\t\t\t<wsi:Claim xmlns:wsi="http://ws-i.org/schemas/conformanceClaim/" '
        'conformsTo="http://ws-i.org/profiles/basic/1.1"/>\n'
        "\t\t\t</documentation>\n"
        f"\t\t\t<soapbind:address location={quoteattr(address)}/>\n"
        "\t\t</port>\n"
        f'\t\t<port name="{SERVICE}Soap12" binding="tns:{SERVICE}Soap12Binding">\n'
        f"\t\t\t<soap12bind:address location={quoteattr(address)}/>\n"
        "\t\t</port>\n"
        "\t</service>\n"
        "</definitions>\n"
    )
    return text.encode("utf-8")
