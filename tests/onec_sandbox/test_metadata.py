"""``$metadata`` and the service document compared with the real 1C captures in fixtures/1c."""

from __future__ import annotations

import json
from typing import Any

from lxml import etree

from .conftest import FIXTURES, OData, make_base

EDMX = "http://schemas.microsoft.com/ado/2007/06/edmx"
EDM = "http://schemas.microsoft.com/ado/2009/11/edm"
OASIS = "http://docs.oasis-open.org/odata/ns/edm"
M = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"


def _tree(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _shape(root: etree._Element) -> dict[str, Any]:
    """Structural facts shared by the fixture excerpts and our documents."""
    ds = root.find(f"{{{EDMX}}}DataServices")
    schemas = [s for s in ds if isinstance(s.tag, str)]
    std = [s for s in schemas if s.get("Namespace") == "StandardODATA"][0]
    containers = root.iter(f"{{{EDM}}}EntityContainer", f"{{{OASIS}}}EntityContainer")
    container = next(iter(containers))
    fi = [x for x in container if _local(x) == "FunctionImport"]
    post = [x for x in fi if x.get("Name") == "Post"][0]
    return {
        "edmx_version": root.get("Version"),
        "dsv": ds.get(f"{{{M}}}DataServiceVersion"),
        "max_dsv": ds.get(f"{{{M}}}MaxDataServiceVersion"),
        "schema_ns": std.tag.split("}")[0][1:],
        "container_name": container.get("Name"),
        "default": container.get(f"{{{M}}}IsDefaultEntityContainer"),
        "post_attrs": sorted(k for k in post.attrib),
        "post_params": [(p.get("Name"), p.get("Type").split(".")[0]) for p in post if isinstance(p.tag, str)],
        "entityset_attrs": sorted({k for x in container if _local(x) == "EntitySet" for k in x.attrib}),
        "enum_members_have_value": any(m.get("Value") for m in root.iter(f"{{{EDM}}}Member")),
        "enum_underlying": {e.get("UnderlyingType") for e in root.iter(f"{{{EDM}}}EnumType")},
        "assoc_roles": sorted({(e.get("Role"), e.get("Multiplicity")) for e in root.iter(f"{{{EDM}}}End")}),
        "nav_roles": sorted({(n.get("FromRole"), n.get("ToRole")) for n in root.iter(f"{{{EDM}}}NavigationProperty")}),
        "container_in_std": container.getparent() is std,
    }


def test_bp_metadata_has_the_shape_of_the_bp_excerpt(server: Any, odata: OData) -> None:
    r = odata.get("$metadata", fmt=False)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/xml")
    ours = _shape(_tree(r.content))
    ref = _shape(_tree((FIXTURES / "bp30_metadata_excerpt_registers.xml").read_bytes()))
    for key in ("edmx_version", "dsv", "max_dsv", "schema_ns", "container_name", "default", "post_attrs",
                "post_params", "entityset_attrs", "enum_members_have_value", "enum_underlying", "assoc_roles",
                "nav_roles", "container_in_std"):
        assert ours[key] == ref[key], key


def test_ut_metadata_has_the_shape_of_the_ut_excerpt(server: Any) -> None:
    name = make_base(server, "ut11")
    r = OData(server.url, name).get("$metadata", fmt=False)
    ours = _shape(_tree(r.content))
    ref = _shape(_tree((FIXTURES / "ut11_metadata_excerpt_Kontragenty_Realizaciya.xml").read_bytes()))
    for key in ("edmx_version", "dsv", "schema_ns", "container_name", "default", "post_attrs", "post_params",
                "entityset_attrs", "assoc_roles", "nav_roles", "container_in_std"):
        assert ours[key] == ref[key], key
    root = _tree(r.content)
    types = {e.get("Name"): e for e in root.iter(f"{{{EDM}}}EntityType")}
    # the counterparty of УТ: no Code, keyed Ref_Key, the live field order starts the same way
    cp = types["Catalog_Контрагенты"]
    names = [p.get("Name") for p in cp.iter(f"{{{EDM}}}Property")]
    assert names[:6] == ["Ref_Key", "Predefined", "PredefinedDataName", "DataVersion", "Description", "DeletionMark"]
    assert "Code" not in names and "ИНН" in names and "Партнер_Key" in names
    # a catalog with several owner types: Owner + Owner_Type, OpenType
    acc = types["Catalog_БанковскиеСчетаКонтрагентов"]
    assert acc.get("OpenType") == "true"
    assert {"Owner", "Owner_Type"} <= {p.get("Name") for p in acc.iter(f"{{{EDM}}}Property")}
    # functions bound to the balance register, exactly as in the excerpt
    fis = [x for x in root.iter(f"{{{EDM}}}FunctionImport")]
    bal = [x for x in fis if x.get("Name") == "Balance"][0]
    assert bal.get("IsSideEffecting") == "false" and bal.get("EntitySet") is None
    assert [p.get("Name") for p in bal] == ["bindingParameter", "Condition", "Dimensions", "Period"]
    turn = [x for x in fis if x.get("Name") == "Turnovers"][0]
    assert [p.get("Name") for p in turn] == ["bindingParameter", "Condition", "Dimensions", "EndPeriod", "StartPeriod"]


def test_bp_metadata_details(odata: OData) -> None:
    root = _tree(odata.get("$metadata", fmt=False).content)
    types = {e.get("Name"): e for e in root.iter(f"{{{EDM}}}EntityType")}
    inv = types["Document_СчетНаОплатуПокупателю"]
    props = {p.get("Name"): p.get("Type") for p in inv.iter(f"{{{EDM}}}Property")}
    assert props["Ref_Key"] == "Edm.Guid" and props["Number"] == "Edm.String" and props["Date"] == "Edm.DateTime"
    assert props["КратностьВзаиморасчетов"] == "Edm.Int64" and props["СуммаДокумента"] == "Edm.Double"
    assert props["Товары"] == "Collection(StandardODATA.Document_СчетНаОплатуПокупателю_Товары_RowType)"
    assert props["ДокументОснование"] == "Edm.String" and props["ДокументОснование_Type"] == "Edm.String"
    navs = {n.get("Name") for n in inv.iter(f"{{{EDM}}}NavigationProperty")}
    assert {"Контрагент", "Организация", "ДоговорКонтрагента"} <= navs
    assert "Склад" not in navs  # target not in the OData composition: only the _Key property
    # record set of ОплатаСчетов keyed by Recorder + Recorder_Type, its records by Recorder + LineNumber
    rs = types["AccumulationRegister_ОплатаСчетов"]
    assert [k.get("Name") for k in rs.find(f"{{{EDM}}}Key")] == ["Recorder", "Recorder_Type"]
    rec = types["AccumulationRegister_ОплатаСчетов_RecordType"]
    assert [k.get("Name") for k in rec.find(f"{{{EDM}}}Key")] == ["Recorder", "LineNumber", "Recorder_Type"]
    st = types["InformationRegister_СтатусыДокументов"]
    assert [k.get("Name") for k in st.find(f"{{{EDM}}}Key")] == ["Организация_Key", "Документ", "Документ_Type"]
    complex_types = {c.get("Name") for c in root.iter(f"{{{EDM}}}ComplexType")}
    assert {"AccumulationRegister_ОплатаСчетов_RowType", "AccumulationRegister_ОплатаСчетов_Turnover",
            "Document_СчетНаОплатуПокупателю_Товары_RowType"} <= complex_types
    assert "AccumulationRegister_ОплатаСчетов_Balance" not in complex_types  # a turnovers register
    enums = {e.get("Name"): [m.get("Name") for m in e] for e in root.iter(f"{{{EDM}}}EnumType")}
    assert enums["СтатусОплатыСчета"] == ["Оплачен", "ОплаченЧастично", "НеОплачен", "Отменен"]
    # every navigation has its association and every association names both ends
    assocs = {a.get("Name"): a for a in root.iter(f"{{{EDM}}}Association")}
    for n in root.iter(f"{{{EDM}}}NavigationProperty"):
        assert n.get("Relationship").split(".", 1)[1] in assocs


def test_service_document_has_the_shape_of_the_capture(odata: OData) -> None:
    ref = json.loads((FIXTURES / "custombase_servicedoc.json").read_text(encoding="utf-8"))
    r = odata.get("", fmt=True)
    assert r.status_code == 200
    doc = r.json()
    assert list(doc) == list(ref)
    assert doc["odata.metadata"].endswith("/odata/standard.odata")
    assert all(list(item) == ["name", "url"] and item["name"] == item["url"] for item in doc["value"])
    names = [v["name"] for v in doc["value"]]
    # as in the capture: tabular-part and _RecordType sets right after their main set
    i = names.index("Document_СчетНаОплатуПокупателю")
    assert names[i + 1].startswith("Document_СчетНаОплатуПокупателю_")
    j = names.index("AccumulationRegister_ОплатаСчетов")
    assert names[j + 1] == "AccumulationRegister_ОплатаСчетов_RecordType"
    assert "InformationRegister_СтатусыДокументов" in names
    atom = odata.get("", fmt=False)
    assert atom.headers["Content-Type"].startswith("application/atomsvc+xml")
    assert b"<collection href=" in atom.content


def test_sets_left_out_of_the_composition_disappear(server: Any) -> None:
    name = make_base(server, "bp30", options={"unpublished": ["InformationRegister_СтатусыДокументов"]})
    client = OData(server.url, name)
    names = [v["name"] for v in client.get("").json()["value"]]
    assert "InformationRegister_СтатусыДокументов" not in names
    r = client.get("InformationRegister_СтатусыДокументов")
    assert r.status_code == 404 and r.json()["odata.error"]["code"] == "6"
