"""Entities as 1C writes them: JSON (minimal/no/full metadata) and Atom.

JSON minimalmetadata, as captured from live БП 3.0 (spec 1.2): collections ``{"odata.metadata":
"<root>/$metadata#<Set>", "value": [...]}``, single entities with ``#<Set>/@Element`` and no wrapper,
``Edm.Int64`` as strings, integral doubles without a fraction, empty guid/date sentinels, composites as
``X`` + ``X_Type``, ``<Nav>@navigationLinkUrl`` after the properties; tabular rows in lists carry
``Ref_Key`` and ``LineNumber``, in single-entity answers only ``LineNumber`` and the attributes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ..schema import NS, EntityType, Field, Profile
from ..storage import OBJECT_SELECT, object_row_to_entity, wire
from .query import Selection

ATOM_NS = "http://www.w3.org/2005/Atom"
D_NS = "http://schemas.microsoft.com/ado/2007/08/dataservices"
M_NS = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"
SCHEME = "http://schemas.microsoft.com/ado/2007/08/dataservices/scheme"
RELATED = "http://schemas.microsoft.com/ado/2007/08/dataservices/related/"
TAIL_STD = ("Predefined", "PredefinedDataName")


@dataclass
class Ctx:
    """What serialization needs to know about the request."""

    profile: Profile
    root: str  # http://host/onec/<base>/odata/standard.odata
    fmt: str = "json"
    meta: str = "minimal"
    conn: Any = None  # read connection for $expand

    @property
    def metadata_url(self) -> str:
        return f"{self.root}/$metadata"


def key_literal(et: EntityType, ent: dict[str, Any]) -> str:
    """The by-key address of an entity: ``Set(guid'…')`` or ``Set(Name=value, …)``."""
    if et.kind in ("Catalog", "Document"):
        return f"{et.set_name}(guid'{ent['Ref_Key']}')"
    parts = []
    for k in et.key:
        f = et.by_name[k]
        v = ent.get(k, f.default)
        if f.kind in ("guid", "ref"):
            parts.append(f"{k}=guid'{v}'")
        elif f.kind == "int":
            parts.append(f"{k}={int(v)}")
        elif f.kind == "date":
            parts.append(f"{k}=datetime'{v}'")
        else:
            parts.append(f"{k}='{str(v).replace(chr(39), chr(39) * 2)}'")
    return f"{et.set_name}({', '.join(parts)})"


def _row_key(tab_set: str, ref: str, line: int) -> str:
    return f"{tab_set}(Ref_Key=guid'{ref}', LineNumber={line})"


# -- JSON -----------------------------------------------------------------------------------------------
def json_entity(ctx: Ctx, et: EntityType, ent: dict[str, Any], *, in_list: bool, sel: Selection | None = None,
                expand: dict[str, dict] | None = None, nested: bool = False) -> dict[str, Any]:
    sel = sel or Selection()
    out: dict[str, Any] = {}
    if et.kind == "AccumRecordSet":
        rec_et = ctx.profile.sets[f"{et.set_name}_RecordType"]
        out["Recorder"] = ent["Recorder"]
        out["RecordSet"] = [{f.name: wire(f, r.get(f.name, f.default)) for f in rec_et.fields}
                            for r in ent.get("RecordSet", [])]
        out["Recorder_Type"] = ent["Recorder_Type"]
        return out
    if ctx.meta == "full":
        out["odata.type"] = f"{NS}.{et.set_name}"
        out["odata.id"] = f"{ctx.root}/{key_literal(et, ent)}"
        out["odata.editLink"] = key_literal(et, ent)
    tail = []
    for f in et.fields:
        if f.name in TAIL_STD and et.kind == "Catalog":
            tail.append(f)
            continue
        if sel.wants(f.name):
            out[f.name] = wire(f, ent.get(f.name, f.default))
    for tp in et.tabular:
        if not sel.wants_tab(tp.name):
            continue
        sub = sel.tabular.get(tp.name)
        rows = []
        for r in ent.get(tp.name, []):
            row: dict[str, Any] = {}
            line = int(r.get("LineNumber", 0))
            if in_list:
                row["Ref_Key"] = ent["Ref_Key"]
            row["LineNumber"] = str(line)
            for f in tp.fields:
                if sub is None or f.name in sub:
                    row[f.name] = wire(f, r.get(f.name, f.default))
            if in_list and ctx.meta != "none":
                for nav, f in ctx.profile.navigations(et, tp.fields):
                    if sub is None or f.name in sub:
                        row[f"{nav}@navigationLinkUrl"] = f"{_row_key(tp.set_name, ent['Ref_Key'], line)}/{nav}"
            rows.append(row)
        out[tp.name] = rows
    for f in tail:
        if sel.wants(f.name):
            out[f.name] = wire(f, ent.get(f.name, f.default))
    for base_name in sel.presentations:
        _add_presentations(ctx, et, ent, base_name, out)
    key = key_literal(et, ent)
    for nav, f in ctx.profile.navigations(et):
        selected = sel.wants(f.name) or nav in sel.nav
        if not selected:
            continue
        if ctx.meta != "none" and not nested:
            out[f"{nav}@navigationLinkUrl"] = f"{key}/{nav}"
        if expand and nav in expand:
            out[nav] = _expanded(ctx, f, ent.get(f.name), expand[nav], sel.nav.get(nav))
    return out


def _expanded(ctx: Ctx, f: Field, ref: Any, sub_expand: dict[str, dict], sub_sel: set[str] | None) -> Any:
    target = ctx.profile.sets.get(f.target or "")
    if target is None or not ref or ctx.conn is None:
        return None
    row = ctx.conn.execute(f"SELECT {OBJECT_SELECT} FROM objects o WHERE o.ref=? AND o.set_name=?",
                           (ref, target.set_name)).fetchone()
    if row is None:
        return None
    ent = object_row_to_entity(target, row)
    sel = Selection() if sub_sel is None else Selection(all=False, props=set(sub_sel))
    return json_entity(ctx, target, ent, in_list=True, sel=sel, expand=sub_expand, nested=True)


def _add_presentations(ctx: Ctx, et: EntityType, ent: dict[str, Any], base_name: str, out: dict[str, Any]) -> None:
    names = [f.name for f in et.fields] if base_name == "*" else [base_name]
    if base_name == "":
        out["Presentation"] = presentation_of(ctx, et, ent)
        return
    for name in names:
        f = et.by_name.get(name) or et.by_name.get(name + "_Key")
        if f is None:
            continue
        value = ent.get(f.name, f.default)
        text = str(value)
        if f.kind == "ref" and ctx.conn is not None and f.target in ctx.profile.sets:
            text = ref_presentation(ctx, ctx.profile.sets[f.target], value)
        elif f.kind == "bool":
            text = "Да" if value else "Нет"
        out[f"{f.attr}____Presentation"] = text


def ref_presentation(ctx: Ctx, et: EntityType, ref: str) -> str:
    if ctx.conn is None:
        return ""
    row = ctx.conn.execute(f"SELECT {OBJECT_SELECT} FROM objects o WHERE o.ref=?", (ref,)).fetchone()
    if row is None:
        return ""
    return presentation_of(ctx, et, object_row_to_entity(et, row))


def presentation_of(ctx: Ctx, et: EntityType, ent: dict[str, Any]) -> str:
    from ..logic.session import presentation

    return presentation(et, ent)


def json_single(ctx: Ctx, et: EntityType, ent: dict[str, Any], sel: Selection | None = None,
                expand: dict[str, dict] | None = None) -> bytes:
    body: dict[str, Any] = {}
    if ctx.meta != "none":
        body["odata.metadata"] = f"{ctx.metadata_url}#{et.set_name}/@Element"
    body.update(json_entity(ctx, et, ent, in_list=False, sel=sel, expand=expand))
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def json_feed(ctx: Ctx, et: EntityType, entities: Iterable[dict[str, Any]], count: int | None,
              sel: Selection | None = None, expand: dict[str, dict] | None = None,
              metadata_fragment: str | None = None) -> Iterator[bytes]:
    """A collection, streamed: the header, one entity at a time, the footer."""
    head: dict[str, Any] = {}
    if ctx.meta != "none":
        head["odata.metadata"] = f"{ctx.metadata_url}#{metadata_fragment or et.set_name}"
    if count is not None:
        head["odata.count"] = str(count)
    text = json.dumps(head, ensure_ascii=False)
    yield (text[:-1] + (", " if head else "") + '"value": [').encode("utf-8")
    first = True
    for ent in entities:
        chunk = json.dumps(json_entity(ctx, et, ent, in_list=True, sel=sel, expand=expand), ensure_ascii=False)
        yield (chunk if first else ", " + chunk).encode("utf-8")
        first = False
    yield b"]}"


def json_plain_feed(ctx: Ctx, fragment: str, rows: Iterable[dict[str, Any]]) -> bytes:
    body: dict[str, Any] = {}
    if ctx.meta != "none":
        body["odata.metadata"] = f"{ctx.metadata_url}#{fragment}"
    body["value"] = list(rows)
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


# -- Atom -----------------------------------------------------------------------------------------------
def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _atom_value(f: Field, value: Any) -> tuple[str, str]:
    v = wire(f, value)
    if f.edm == "Edm.String":
        return "", escape(str(v))
    if f.edm == "Edm.Boolean":
        return f' m:type="{f.edm}"', "true" if v else "false"
    return f' m:type="{f.edm}"', escape(str(v))


def atom_properties(et: EntityType, ent: dict[str, Any], sel: Selection | None = None) -> str:
    sel = sel or Selection()
    parts = []
    for f in et.fields:
        if not sel.wants(f.name):
            continue
        attr, text = _atom_value(f, ent.get(f.name, f.default))
        parts.append(f"<d:{f.name}{attr}>{text}</d:{f.name}>")
    for tp in et.tabular:
        if not sel.wants_tab(tp.name):
            continue
        row_type = f"{NS}.{tp.set_name}_RowType"
        rows = []
        for r in ent.get(tp.name, []):
            cells = [f'<d:LineNumber m:type="Edm.Int64">{int(r.get("LineNumber", 0))}</d:LineNumber>']
            for f in tp.fields:
                attr, text = _atom_value(f, r.get(f.name, f.default))
                cells.append(f"<d:{f.name}{attr}>{text}</d:{f.name}>")
            rows.append(f'<d:element m:type="{row_type}">{"".join(cells)}</d:element>')
        parts.append(f'<d:{tp.name} m:type="Collection({row_type})">{"".join(rows)}</d:{tp.name}>')
    return "<m:properties>" + "".join(parts) + "</m:properties>"


def atom_entry(ctx: Ctx, et: EntityType, ent: dict[str, Any], sel: Selection | None = None,
               expand: dict[str, dict] | None = None, top: bool = False) -> str:
    key = key_literal(et, ent)
    links = [f'<link rel="edit" title={quoteattr(et.set_name)} href={quoteattr(key)}/>']
    for nav, f in ctx.profile.navigations(et):
        inline = ""
        if expand and nav in expand:
            target = ctx.profile.sets.get(f.target or "")
            row = None
            if target is not None and ctx.conn is not None:
                row = ctx.conn.execute(f"SELECT {OBJECT_SELECT} FROM objects o WHERE o.ref=? AND o.set_name=?",
                                       (ent.get(f.name), target.set_name)).fetchone()
            body = atom_entry(ctx, target, object_row_to_entity(target, row), expand=expand[nav]) if row else ""
            inline = f"<m:inline>{body}</m:inline>"
        links.append(
            f'<link rel="{RELATED}{escape(nav)}" type="application/atom+xml;type=entry" title={quoteattr(nav)} '
            f'href={quoteattr(key + "/" + nav)}>{inline}</link>'
            if inline else
            f'<link rel="{RELATED}{escape(nav)}" type="application/atom+xml;type=entry" title={quoteattr(nav)} '
            f'href={quoteattr(key + "/" + nav)}/>'
        )
    ns = (f' xmlns="{ATOM_NS}" xmlns:d="{D_NS}" xmlns:m="{M_NS}" xml:base={quoteattr(ctx.root + "/")}'
          if top else "")
    return (
        f"<entry{ns}><id>{escape(ctx.root + '/' + key)}</id>"
        f'<category term="{NS}.{escape(et.set_name)}" scheme="{SCHEME}"/>'
        f'<title type="text"/><updated>{_now()}</updated><author/><summary/>'
        + "".join(links)
        + f'<content type="application/xml">{atom_properties(et, ent, sel)}</content></entry>'
    )


def atom_single(ctx: Ctx, et: EntityType, ent: dict[str, Any], sel: Selection | None = None,
                expand: dict[str, dict] | None = None) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + atom_entry(ctx, et, ent, sel, expand, top=True)
            ).encode("utf-8")


def atom_feed(ctx: Ctx, et: EntityType, entities: Iterable[dict[str, Any]], count: int | None,
              sel: Selection | None = None, expand: dict[str, dict] | None = None) -> Iterator[bytes]:
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<feed xmlns="{ATOM_NS}" xmlns:d="{D_NS}" xmlns:m="{M_NS}" xml:base={quoteattr(ctx.root + "/")}>'
        f"<id>{escape(ctx.root + '/' + et.set_name)}</id>"
        f'<title type="text">{escape(et.set_name)}</title><updated>{_now()}</updated>'
        f'<link rel="self" href={quoteattr(et.set_name)} title={quoteattr(et.set_name)}/>'
    )
    if count is not None:
        head += f"<m:count>{count}</m:count>"
    yield head.encode("utf-8")
    for ent in entities:
        yield atom_entry(ctx, et, ent, sel, expand).encode("utf-8")
    yield b"</feed>"


def atom_service_document(root: str, sets: list[str]) -> bytes:
    cols = "".join(f'<collection href={quoteattr(s)}><atom:title type="text">{escape(s)}</atom:title></collection>'
                   for s in sets)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<service xmlns="http://www.w3.org/2007/app" xmlns:atom="{ATOM_NS}" xml:base={quoteattr(root + "/")}>'
        f'<workspace><atom:title type="text">Default</atom:title>{cols}</workspace></service>'
    ).encode()


def json_service_document(root: str, sets: list[str]) -> bytes:
    body = {"odata.metadata": root, "value": [{"name": s, "url": s} for s in sets]}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")
