"""``$metadata`` of an emulated base: CSDL in the shape of the real БП 3.0 and УТ 11 excerpts.

- ``edmx:Edmx Version="1.0"`` / ``edmx:DataServices m:DataServiceVersion="3.0"`` / ``Schema
  Namespace="StandardODATA"`` with EntityTypes, ``*_RowType`` / ``*_Turnover`` / ``*_Balance`` ComplexTypes,
  EnumTypes (members without ``Value``, underlying ``Edm.Int32``) and Associations (roles ``Begin`` ``*`` /
  ``End`` ``0..1``);
- ``EntityContainer Name="EnterpriseV8" m:IsDefaultEntityContainer="true"``: the БП profile places it in
  a second ``Schema Namespace="Default"`` (as the БП excerpt does), УТ and УНФ inside ``StandardODATA``
  (as the УТ excerpt does) — clients must accept both;
- bound FunctionImports without ``EntitySet``/``m:HttpMethod``: ``Post``/``Unpost`` per postable
  document (``bindingParameter`` + ``PostingModeOperational``), ``Turnovers`` per accumulation register
  and ``Balance``/``BalanceAndTurnovers`` for balance registers.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from ..schema import NS, EntityType, Field, Profile


def _prop(f: Field | None, name: str | None = None, edm: str | None = None, nullable: bool = True) -> str:
    n = name or (f.name if f else "")
    t = edm or (f.edm if f else "Edm.String")
    nl = "true" if (nullable if f is None else f.nullable and nullable) else "false"
    return f'<Property Name={quoteattr(n)} Type="{t}" Nullable="{nl}"/>'


def _split_types(fields: list[Field]) -> tuple[list[Field], list[Field]]:
    main = [f for f in fields if f.kind != "composite_type"]
    types = [f for f in fields if f.kind == "composite_type"]
    return main, types


def _object_properties(profile: Profile, et: EntityType, assoc: list[str]) -> str:
    by = et.by_name
    parts: list[str] = [_prop(by["Ref_Key"], nullable=False)]
    if et.kind == "Catalog":
        order = ["Predefined", "PredefinedDataName", "DataVersion", "Description", "Code", "Parent_Key", "IsFolder",
                 "Owner_Key", "Owner", "DeletionMark"]
    else:
        order = ["DataVersion", "Number", "Date", "DeletionMark", "Posted"]
    std = {"Ref_Key", *order, "Owner_Type"}
    for n in order:
        if n in by:
            parts.append(_prop(by[n]))
    attrs = [f for f in et.fields if f.name not in std]
    main, types = _split_types(attrs)
    parts += [_prop(f) for f in main]
    for tp in et.tabular:
        parts.append(f'<Property Name={quoteattr(tp.name)} Type="Collection({NS}.{tp.set_name}_RowType)" '
                     f'Nullable="true"/>')
    if "Owner_Type" in by:
        parts.append(_prop(by["Owner_Type"]))
    parts += [_prop(f) for f in types]
    parts += _navigations(profile, et, et.fields, assoc)
    return "".join(parts)


def _navigations(profile: Profile, et: EntityType, fields: list[Field], assoc: list[str]) -> list[str]:
    out = []
    for nav, f in profile.navigations(et, fields):
        rel = f"{et.set_name}_{nav}"
        out.append(f'<NavigationProperty Name={quoteattr(nav)} Relationship="{NS}.{rel}" FromRole="Begin" '
                   f'ToRole="End"/>')
        assoc.append(
            f'<Association Name={quoteattr(rel)}><End Role="Begin" Type="{NS}.{et.set_name}" Multiplicity="*"/>'
            f'<End Role="End" Type="{NS}.{f.target}" Multiplicity="0..1"/></Association>'
        )
    return out


def _key(names: list[str]) -> str:
    return "<Key>" + "".join(f"<PropertyRef Name={quoteattr(n)}/>" for n in names) + "</Key>"


def _entity_type(profile: Profile, et: EntityType, assoc: list[str], complex_types: list[str]) -> str:
    open_attr = ' OpenType="true"' if et.open_type else ""
    head = f"<EntityType Name={quoteattr(et.set_name)}{open_attr}>{_key(et.key)}"
    if et.kind in ("Catalog", "Document"):
        body = _object_properties(profile, et, assoc)
    elif et.kind == "Tabular":
        main, types = _split_types(et.fields)
        body = "".join(_prop(f, nullable=f.name not in et.key) for f in main) + "".join(_prop(f) for f in types)
        body += "".join(_navigations(profile, et, et.fields, assoc))
        row_fields = [f for f in et.fields if f.name != "Ref_Key"]
        rmain, rtypes = _split_types(row_fields)
        complex_types.append(
            f"<ComplexType Name={quoteattr(et.set_name + '_RowType')}>"
            + "".join(_prop(f, nullable=f.name != "LineNumber") for f in rmain)
            + "".join(_prop(f) for f in rtypes) + "</ComplexType>"
        )
    elif et.kind == "AccumRecordSet":
        body = (_prop(et.by_name["Recorder"], nullable=False)
                + f'<Property Name="RecordSet" Type="Collection({NS}.{et.set_name}_RowType)" Nullable="false"/>'
                + _prop(et.by_name["Recorder_Type"], nullable=False))
    elif et.kind == "AccumRecord":
        main, types = _split_types([f for f in et.fields if f.name != "Recorder_Type"])
        fields_xml = "".join(_prop(f, nullable=f.name not in et.key) for f in main)
        fields_xml += "".join(_prop(f) for f in types) + _prop(et.by_name["Recorder_Type"], nullable=False)
        body = fields_xml + "".join(_navigations(profile, et, et.fields, assoc))
        reg = et.parent or et.set_name
        complex_types.append(f"<ComplexType Name={quoteattr(reg + '_RowType')}>{fields_xml}</ComplexType>")
        complex_types.extend(_virtual_types(profile, et, reg))
    else:  # InfoRegister
        main, types = _split_types(et.fields)
        body = "".join(_prop(f, nullable=f.name not in et.key) for f in main)
        body += "".join(_prop(f, nullable=f.name not in et.key) for f in types)
        body += "".join(_navigations(profile, et, et.fields, assoc))
    return head + body + "</EntityType>"


def _virtual_types(profile: Profile, rec: EntityType, reg: str) -> list[str]:
    dims = [rec.by_name[n] for n in rec.dimensions]
    res = [rec.by_name[n] for n in rec.resources]
    dim_main, dim_types = _split_types(dims)
    dim_xml = "".join(_prop(f) for f in dim_main)
    tail = "".join(_prop(f) for f in dim_types)
    out = []
    turnover = "".join(_prop(None, f"{r.name}Turnover", r.edm) for r in res)
    if rec.register_type == "Balance":
        turnover = "".join(_prop(None, f"{r.name}{s}", r.edm) for r in res for s in ("Receipt", "Expense", "Turnover"))
        balance = "".join(_prop(None, f"{r.name}Balance", r.edm) for r in res)
        bat = "".join(_prop(None, f"{r.name}{s}", r.edm) for r in res
                      for s in ("OpeningBalance", "Receipt", "Expense", "Turnover", "ClosingBalance"))
        out.append(f"<ComplexType Name={quoteattr(reg + '_Balance')}>{dim_xml}{balance}{tail}</ComplexType>")
        out.append(f"<ComplexType Name={quoteattr(reg + '_BalanceAndTurnover')}>{dim_xml}{bat}{tail}</ComplexType>")
    out.insert(0, f"<ComplexType Name={quoteattr(reg + '_Turnover')}>{dim_xml}{turnover}{tail}</ComplexType>")
    return out


def _function_imports(profile: Profile) -> str:
    parts = []
    for name in profile.order:
        et = profile.sets[name]
        if et.kind == "Document" and et.postable:
            for fn in ("Post", "Unpost"):
                parts.append(
                    f'<FunctionImport Name="{fn}" IsBindable="true" IsSideEffecting="true">'
                    f'<Parameter Name="bindingParameter" Type="{NS}.{et.set_name}"/>'
                    '<Parameter Name="PostingModeOperational" Type="Edm.Boolean"/></FunctionImport>'
                )
        if et.kind == "AccumRecordSet":
            reg = et.set_name
            if et.register_type == "Balance":
                parts.append(
                    f'<FunctionImport Name="Balance" IsBindable="true" IsSideEffecting="false" '
                    f'ReturnType="Collection({NS}.{reg}_Balance)">'
                    f'<Parameter Name="bindingParameter" Type="{NS}.{reg}"/>'
                    '<Parameter Name="Condition" Type="Edm.String"/><Parameter Name="Dimensions" Type="Edm.String"/>'
                    '<Parameter Name="Period" Type="Edm.DateTime"/></FunctionImport>'
                )
            parts.append(
                f'<FunctionImport Name="Turnovers" IsBindable="true" IsSideEffecting="false" '
                f'ReturnType="Collection({NS}.{reg}_Turnover)">'
                f'<Parameter Name="bindingParameter" Type="{NS}.{reg}"/>'
                '<Parameter Name="Condition" Type="Edm.String"/><Parameter Name="Dimensions" Type="Edm.String"/>'
                '<Parameter Name="EndPeriod" Type="Edm.DateTime"/><Parameter Name="StartPeriod" Type="Edm.DateTime"/>'
                "</FunctionImport>"
            )
            if et.register_type == "Balance":
                parts.append(
                    f'<FunctionImport Name="BalanceAndTurnovers" IsBindable="true" IsSideEffecting="false" '
                    f'ReturnType="Collection({NS}.{reg}_BalanceAndTurnover)">'
                    f'<Parameter Name="bindingParameter" Type="{NS}.{reg}"/>'
                    '<Parameter Name="Condition" Type="Edm.String"/><Parameter Name="Dimensions" Type="Edm.String"/>'
                    '<Parameter Name="EndPeriod" Type="Edm.DateTime"/>'
                    '<Parameter Name="StartPeriod" Type="Edm.DateTime"/></FunctionImport>'
                )
    return "".join(parts)


def metadata_xml(profile: Profile) -> bytes:
    """The CSDL document of a profile view (cached per profile object)."""
    cached = profile.__dict__.get("_metadata_xml")
    if cached is not None:
        return cached
    assoc: list[str] = []
    complex_types: list[str] = []
    entity_types = [_entity_type(profile, profile.sets[n], assoc, complex_types) for n in profile.order]
    enums = [
        f'<EnumType Name={quoteattr(name)} UnderlyingType="Edm.Int32">'
        + "".join(f"<Member Name={quoteattr(v)}/>" for v in values) + "</EnumType>"
        for name, values in profile.enums.items()
    ]
    sets = "".join(f'<EntitySet Name={quoteattr(n)} EntityType="{NS}.{n}"/>' for n in profile.order)
    container_body = sets + _function_imports(profile)
    separate = profile.name == "bp30"
    container = f'<EntityContainer Name="EnterpriseV8" m:IsDefaultEntityContainer="true">{container_body}</EntityContainer>'
    schema = (
        f'<Schema xmlns="http://schemas.microsoft.com/ado/2009/11/edm" Namespace="{NS}">'
        + "".join(entity_types) + "".join(complex_types) + "".join(enums) + "".join(assoc)
        + ("" if separate else container) + "</Schema>"
    )
    if separate:
        schema += f'<Schema Namespace="Default" xmlns="http://docs.oasis-open.org/odata/ns/edm">{container}</Schema>'
    doc = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<edmx:Edmx xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" Version="1.0">'
        '<edmx:DataServices xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" '
        'm:DataServiceVersion="3.0" m:MaxDataServiceVersion="3.0">'
        + schema + "</edmx:DataServices></edmx:Edmx>"
    ).encode("utf-8")
    profile.__dict__["_metadata_xml"] = doc
    return doc
