"""Reading a 1C OData request: the raw query string, the response format, ``$select`` and ``$expand``.

The query string is decoded by hand with ``%XX`` -> UTF-8 only: a ``+`` stays a ``+`` (1C does not read
it as a space), which is how the ``$filter=ИНН+eq+'…'`` client bug reaches 1C and fails there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from ..errors import ODataError, path_segment_not_found
from ..schema import EntityType, Profile
from .filter import split_commas


def parse_query(raw: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in raw.split(b"&"):
        if not part:
            continue
        k, _, v = part.partition(b"=")
        key = unquote_to_bytes(k).decode("utf-8", "replace")
        out[key] = unquote_to_bytes(v).decode("utf-8", "replace")
    return out


def response_format(options: dict[str, str], accept: str) -> tuple[str, str]:
    """(``json``|``atom``, ``minimal``|``none``|``full``) from ``$format`` or the Accept header."""
    fmt = options.get("$format", "").strip().lower()
    meta = "minimal"
    source = fmt or accept.lower()
    if "odata=nometadata" in source:
        meta = "none"
    elif "odata=fullmetadata" in source:
        meta = "full"
    if fmt:
        if fmt == "json" or fmt.startswith("application/json"):
            return "json", meta
        if fmt in ("atom", "xml") or fmt.startswith("application/atom+xml") or fmt.startswith("application/xml"):
            return "atom", meta
        raise ODataError(400, "3", f"Тип представления '{options['$format']}' не поддерживается")
    if "application/json" in source:
        return "json", meta
    return "atom", meta


@dataclass
class Selection:
    """What ``$select`` asked for (``None`` everywhere = everything)."""

    all: bool = True
    no_tabular: bool = False
    props: set[str] = field(default_factory=set)
    tabular: dict[str, set[str] | None] = field(default_factory=dict)
    nav: dict[str, set[str] | None] = field(default_factory=dict)
    presentations: set[str] = field(default_factory=set)

    def wants(self, name: str) -> bool:
        return self.all or name in self.props

    def wants_tab(self, name: str) -> bool:
        if self.all:
            return not self.no_tabular or name in self.tabular
        return name in self.tabular


def nav_fields(profile: Profile, et: EntityType) -> dict[str, str]:
    """Navigation property name -> key field (only references whose target is published)."""
    out = {nav: f.name for nav, f in profile.navigations(et)}
    return out


def parse_select(profile: Profile, et: EntityType, text: str | None) -> Selection:
    if text is None or not text.strip():
        return Selection()
    sel = Selection(all=False)
    navs = nav_fields(profile, et)
    for item in split_commas(text):
        if not item:
            raise ODataError(400, "14", "Ошибка при разборе опции запроса $select")
        if item == "*":
            sel.all = True
            continue
        if item == "**":
            sel.all = True
            sel.no_tabular = True
            continue
        if item.endswith("____Presentation"):
            base = item[: -len("____Presentation")]
            if base and base != "*" and base not in et.by_name and base not in navs:
                raise path_segment_not_found(item)
            sel.presentations.add(base)
            continue
        head, _, rest = item.partition("/")
        if head in et.tab_by_name:
            tp = et.tab_by_name[head]
            if rest:
                if rest not in tp.by_name and rest != "LineNumber":
                    raise path_segment_not_found(rest)
                cur = sel.tabular.get(head, set())
                if cur is not None:
                    cur.add(rest)
                sel.tabular[head] = cur
            else:
                sel.tabular[head] = None
            continue
        if head in navs and rest:
            cur_nav = sel.nav.setdefault(head, set())
            if cur_nav is not None:
                cur_nav.add(rest)
            continue
        if head in navs and not rest:
            sel.nav[head] = None
            sel.props.add(navs[head])
            continue
        if head not in et.by_name or rest:
            raise path_segment_not_found(head if head not in et.by_name else rest)
        sel.props.add(head)
    return sel


def parse_expand(profile: Profile, et: EntityType, text: str | None, depth: int = 0) -> dict[str, dict]:
    """``Контрагент,Контрагент/ГоловнойКонтрагент`` -> ``{"Контрагент": {"ГоловнойКонтрагент": {}}}``."""
    tree: dict[str, dict] = {}
    if text is None or not text.strip():
        return tree
    for item in split_commas(text):
        if not item:
            raise ODataError(400, "14", "Ошибка при разборе опции запроса $expand")
        if item == "*":
            for nav in nav_fields(profile, et):
                tree.setdefault(nav, {})
            continue
        segs = item.split("/")
        cur_et = et
        node = tree
        for seg in segs:
            navs = nav_fields(profile, cur_et)
            if seg not in navs:
                if seg in cur_et.by_name and cur_et.by_name[seg].kind == "composite":
                    break  # composite expansion (X/Document_Y) is not emulated: silently not expanded
                if seg.startswith(("Document_", "Catalog_")):
                    break
                raise path_segment_not_found(seg)
            node = node.setdefault(seg, {})
            target = cur_et.by_name[navs[seg]].target
            cur_et = profile.sets[target]  # type: ignore[index]
        if len(segs) > 4:
            raise ODataError(400, "14", "Ошибка при разборе опции запроса $expand")
    return tree
