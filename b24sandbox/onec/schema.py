"""The entity model of an emulated 1C base: entity sets, their fields and keys, built from a profile.

A profile (``profiles/<name>.json``) lists configuration objects with their 1C attributes. This module
turns them into what the standard OData interface publishes (1C docs ch. 17.4.3-17.4.4):

- a reference attribute ``X`` -> property ``X_Key`` (Edm.Guid) and a navigation property ``X`` when the
  target is published;
- a composite attribute ``X`` -> two Edm.String properties ``X`` and ``X_Type``;
- an enum -> Edm.String holding the member name; integers -> Edm.Int64; fractions -> Edm.Double;
- a tabular part ``T`` of ``Document_D`` -> a collection property ``T`` of
  ``Document_D_T_RowType`` and a separate entity set ``Document_D_T`` keyed ``Ref_Key``+``LineNumber``;
- an accumulation register -> a record-set entity keyed ``Recorder``+``Recorder_Type`` and a
  ``_RecordType`` entity set keyed ``Recorder``+``LineNumber``+``Recorder_Type``;
- an independent information register -> an entity keyed by its dimensions.

Values are kept inside the sandbox in "storage form": the OData property names as keys, Int64 as
Python int, Edm.Double as float, guids as lower-case strings, dates as ``YYYY-MM-DDTHH:MM:SS``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
EMPTY_DATE = "0001-01-01T00:00:00"
UNDEFINED_TYPE = "StandardODATA.Undefined"
NS = "StandardODATA"
PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
PROFILES = ("bp30", "ut11", "unf")

KIND_EDM = {
    "string": "Edm.String",
    "number": "Edm.Double",
    "int": "Edm.Int64",
    "bool": "Edm.Boolean",
    "date": "Edm.DateTime",
    "guid": "Edm.Guid",
    "ref": "Edm.Guid",
    "enum": "Edm.String",
    "composite": "Edm.String",
    "composite_type": "Edm.String",
}


def default_for(kind: str) -> Any:
    """The value a new object carries in a field of this kind (the platform's empty values)."""
    return {
        "string": "",
        "number": 0.0,
        "int": 0,
        "bool": False,
        "date": EMPTY_DATE,
        "guid": EMPTY_GUID,
        "ref": EMPTY_GUID,
        "enum": "",
        "composite": "",
        "composite_type": UNDEFINED_TYPE,
    }[kind]


@dataclass
class Field:
    """One OData property of an entity type (a composite attribute gives two fields)."""

    name: str
    kind: str
    edm: str
    attr: str = ""  # the 1C attribute name ("Контрагент" for "Контрагент_Key")
    length: int = 0  # string length, 0 = unlimited
    target: str | None = None  # published or not, the target set of a reference
    targets: tuple[str, ...] = ()  # composite: allowed types (set names / Edm types / Enum_X)
    enum: str | None = None
    standard: bool = False
    nullable: bool = True
    fraction: int = 2

    @property
    def default(self) -> Any:
        return default_for(self.kind)


@dataclass
class TabularPart:
    name: str
    set_name: str  # Document_X_Товары
    fields: list[Field]
    by_name: dict[str, Field] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_name = {f.name: f for f in self.fields}


@dataclass
class EntityType:
    """An entity set of the base and the type behind it."""

    set_name: str
    kind: str  # Catalog | Document | Tabular | AccumRecordSet | AccumRecord | InfoRegister
    object_name: str
    synonym: str = ""
    fields: list[Field] = field(default_factory=list)
    tabular: list[TabularPart] = field(default_factory=list)
    key: list[str] = field(default_factory=lambda: ["Ref_Key"])
    parent: str | None = None  # Tabular: owner set; AccumRecord: the register's record-set entity
    tab_name: str | None = None
    open_type: bool = False
    # catalogs
    code_length: int = 0
    description_length: int = 100
    hierarchical: bool = False
    owners: tuple[str, ...] = ()
    # documents
    number_length: int = 11
    postable: bool = False
    # registers
    register_type: str | None = None  # Turnovers | Balance
    recorders: tuple[str, ...] = ()
    dimensions: list[str] = field(default_factory=list)  # OData field names
    resources: list[str] = field(default_factory=list)
    origin: str = "derived"
    by_name: dict[str, Field] = field(default_factory=dict)
    tab_by_name: dict[str, TabularPart] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        self.by_name = {f.name: f for f in self.fields}
        self.tab_by_name = {t.name: t for t in self.tabular}

    @property
    def is_object(self) -> bool:
        return self.kind in ("Catalog", "Document")


@dataclass
class Profile:
    """All entity sets, enums and configuration facts of one configuration profile."""

    name: str
    configuration: dict[str, str]
    sets: dict[str, EntityType]
    enums: dict[str, list[str]]
    order: list[str]  # set names in service-document order
    raw: dict[str, Any]

    def entity(self, set_name: str) -> EntityType | None:
        return self.sets.get(set_name)

    def published(self, set_name: str | None) -> bool:
        return bool(set_name) and set_name in self.sets

    def navigations(self, et: EntityType, fields: list[Field] | None = None) -> list[tuple[str, Field]]:
        """(navigation property name, key field) for every reference whose target is published."""
        out = []
        for f in fields if fields is not None else et.fields:
            if f.kind == "ref" and f.target and self.published(f.target):
                out.append((f.attr, f))
        return out


def _fields_for(prop: dict[str, Any]) -> list[Field]:
    kind = prop["type"]
    name = prop["name"]
    if kind == "ref":
        return [Field(f"{name}_Key", "ref", "Edm.Guid", attr=name, target=prop.get("target"))]
    if kind == "composite":
        targets = tuple(prop.get("targets") or ())
        return [
            Field(name, "composite", "Edm.String", attr=name, targets=targets),
            Field(f"{name}_Type", "composite_type", "Edm.String", attr=name, targets=targets),
        ]
    return [
        Field(
            name,
            kind,
            KIND_EDM[kind],
            attr=name,
            length=int(prop.get("length") or 0),
            enum=prop.get("enum"),
            fraction=int(prop.get("fraction") or 0),
        )
    ]


def _std(name: str, kind: str, *, nullable: bool = True, length: int = 0, target: str | None = None,
         attr: str = "") -> Field:
    return Field(name, kind, KIND_EDM[kind], attr=attr or name, length=length, target=target, standard=True,
                 nullable=nullable)


def _object_entity(obj: dict[str, Any]) -> tuple[EntityType, list[EntityType]]:
    kind = obj["kind"]
    set_name = f"{kind}_{obj['name']}"
    fields: list[Field] = [_std("Ref_Key", "guid", nullable=False), _std("DataVersion", "string")]
    if kind == "Catalog":
        fields.append(_std("DeletionMark", "bool"))
        if obj.get("hierarchical"):
            fields.append(_std("Parent_Key", "ref", target=set_name, attr="Parent"))
        owners = obj.get("owners") or []
        if len(owners) == 1:
            fields.append(_std("Owner_Key", "ref", target=owners[0], attr="Owner"))
        elif len(owners) > 1:
            fields.append(Field("Owner", "composite", "Edm.String", attr="Owner", targets=tuple(owners), standard=True))
            fields.append(Field("Owner_Type", "composite_type", "Edm.String", attr="Owner", targets=tuple(owners),
                                standard=True))
        if obj.get("hierarchical"):
            fields.append(_std("IsFolder", "bool"))
        if int(obj.get("code_length") or 0) > 0:
            fields.append(_std("Code", "string", length=int(obj["code_length"])))
        fields.append(_std("Description", "string", length=int(obj.get("description_length") or 100)))
    else:
        fields.append(_std("DeletionMark", "bool"))
        fields.append(_std("Number", "string", length=int(obj.get("number_length") or 11)))
        fields.append(_std("Date", "date"))
        fields.append(_std("Posted", "bool"))
    for prop in obj.get("properties", []):
        fields.extend(_fields_for(prop))
    if kind == "Catalog":
        fields.append(_std("Predefined", "bool"))
        fields.append(_std("PredefinedDataName", "string"))
    tabular = []
    extra_sets = []
    for tp in obj.get("tabular_parts", []):
        row_fields: list[Field] = []
        for prop in tp.get("properties", []):
            row_fields.extend(_fields_for(prop))
        tab_set = f"{set_name}_{tp['name']}"
        tabular.append(TabularPart(tp["name"], tab_set, row_fields))
        extra_sets.append(
            EntityType(
                tab_set,
                "Tabular",
                obj["name"],
                synonym=obj.get("synonym", obj["name"]),
                fields=[_std("Ref_Key", "guid", nullable=False), _std("LineNumber", "int", nullable=False)]
                + row_fields,
                key=["Ref_Key", "LineNumber"],
                parent=set_name,
                tab_name=tp["name"],
                origin=obj.get("origin", "derived"),
            )
        )
    et = EntityType(
        set_name,
        kind,
        obj["name"],
        synonym=obj.get("synonym", obj["name"]),
        fields=fields,
        tabular=tabular,
        open_type=kind == "Document" or len(obj.get("owners") or []) > 1,
        code_length=int(obj.get("code_length") or 0),
        description_length=int(obj.get("description_length") or 100),
        hierarchical=bool(obj.get("hierarchical")),
        owners=tuple(obj.get("owners") or ()),
        number_length=int(obj.get("number_length") or 11),
        postable=bool(obj.get("postable", kind == "Document")),
        origin=obj.get("origin", "derived"),
    )
    return et, extra_sets


def _accum_register(obj: dict[str, Any]) -> list[EntityType]:
    set_name = f"AccumulationRegister_{obj['name']}"
    dims: list[Field] = []
    for p in obj.get("dimensions", []):
        dims.extend(_fields_for(p))
    res: list[Field] = []
    for p in obj.get("resources", []):
        res.extend(_fields_for(p))
    attrs: list[Field] = []
    for p in obj.get("properties", []):
        attrs.extend(_fields_for(p))
    recorders = tuple(obj.get("recorders") or ())
    balance = obj.get("register_type") == "Balance"
    rec_fields = [
        Field("Recorder", "composite", "Edm.String", attr="Recorder", targets=recorders, standard=True,
              nullable=False),
        _std("Period", "date"),
        _std("LineNumber", "int", nullable=False),
        _std("Active", "bool"),
    ]
    if balance:
        rec_fields.append(_std("RecordType", "string"))
    rec_fields += dims + res + attrs
    rec_fields.append(Field("Recorder_Type", "composite_type", "Edm.String", attr="Recorder", targets=recorders,
                            standard=True, nullable=False))
    common = dict(
        object_name=obj["name"],
        synonym=obj.get("synonym", obj["name"]),
        register_type=obj.get("register_type", "Turnovers"),
        recorders=recorders,
        dimensions=[f.name for f in dims],
        resources=[f.name for f in res],
        origin=obj.get("origin", "derived"),
        open_type=True,
    )
    record_set = EntityType(
        set_name,
        "AccumRecordSet",
        fields=[Field("Recorder", "composite", "Edm.String", attr="Recorder", targets=recorders, standard=True,
                      nullable=False),
                Field("Recorder_Type", "composite_type", "Edm.String", attr="Recorder", targets=recorders,
                      standard=True, nullable=False)],
        key=["Recorder", "Recorder_Type"],
        **common,
    )
    record = EntityType(
        f"{set_name}_RecordType",
        "AccumRecord",
        fields=rec_fields,
        key=["Recorder", "LineNumber", "Recorder_Type"],
        parent=set_name,
        **common,
    )
    return [record_set, record]


def _info_register(obj: dict[str, Any]) -> EntityType:
    set_name = f"InformationRegister_{obj['name']}"
    dims: list[Field] = []
    for p in obj.get("dimensions", []):
        dims.extend(_fields_for(p))
    res: list[Field] = []
    for p in obj.get("resources", []) + obj.get("properties", []):
        res.extend(_fields_for(p))
    fields = ([_std("Period", "date")] if obj.get("periodic") else []) + dims + res
    key = (["Period"] if obj.get("periodic") else []) + [f.name for f in dims]
    return EntityType(
        set_name,
        "InfoRegister",
        obj["name"],
        synonym=obj.get("synonym", obj["name"]),
        fields=fields,
        key=key,
        dimensions=[f.name for f in dims],
        resources=[f.name for f in res],
        origin=obj.get("origin", "derived"),
    )


def build_profile(doc: dict[str, Any]) -> Profile:
    sets: dict[str, EntityType] = {}
    order: list[str] = []
    enums: dict[str, list[str]] = {}
    for obj in doc["objects"]:
        kind = obj["kind"]
        if kind in ("Catalog", "Document"):
            et, extra = _object_entity(obj)
            for e in [et, *extra]:
                sets[e.set_name] = e
                order.append(e.set_name)
        elif kind == "AccumulationRegister":
            for e in _accum_register(obj):
                sets[e.set_name] = e
                order.append(e.set_name)
        elif kind == "InformationRegister":
            e = _info_register(obj)
            sets[e.set_name] = e
            order.append(e.set_name)
        elif kind == "Enum":
            enums[obj["name"]] = list(obj["values"])
    return Profile(doc["profile"], doc["configuration"], sets, enums, order, doc)


@cache
def load_profile(name: str) -> Profile:
    """The profile by name (``bp30``, ``ut11``, ``unf``), cached for the process."""
    if name not in PROFILES:
        raise KeyError(f"unknown 1C profile {name!r}; known: {', '.join(PROFILES)}")
    doc = json.loads((PROFILE_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return build_profile(doc)


def type_name(set_name: str) -> str:
    """``Catalog_Контрагенты`` -> ``StandardODATA.Catalog_Контрагенты``."""
    return f"{NS}.{set_name}"


def enum_type_name(profile: Profile, enum: str) -> str:
    """The ``_Type`` value of an enum member inside a composite field."""
    return f"{NS}.{enum}" if enum in profile.enums else f"UnavailableEnums.{enum}"
