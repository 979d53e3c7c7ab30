"""Settings forms driven by the settings schema (b24app/settings/schema.py): what to draw for any
section, how to read the posted form back into the document, and where each problem goes.

Drawing: :func:`build` turns a schema node and its value into a tree of :class:`Field` (groups for
objects, items for lists, entries for maps, inputs for values) that the template
``settings/_fields.html`` renders. Pickers replace plain inputs where the portal knows the answer
(``WIDGETS``: stages of the portal's funnels, users, departments, lead sources, pools, legal entities,
1C connections); anything the generic renderer cannot picture (a custom node, ``Raw``) is edited as
JSON. Every field carries its document path (``distribution.rules[2].pool``), the path validation
issues use, so each problem is shown next to its field.

Reading: form names are the document path with list items and map entries numbered
(``distribution.rules.3.name``, ``distribution.pools.0.k`` for a key and ``distribution.pools.0.v.users.1``
for its value). Items are taken in the order they arrive (the order on the page after dragging), so
reordering needs no renumbering; the numbers only group an item's inputs and need not be dense or
sorted (new items get any fresh number). :func:`parse` gives ``MISSING`` for what the form did not
carry (kept as stored) and ``OMIT`` for an optional value the person emptied (the key is dropped, so
its default applies); :func:`merge` lays the parsed part over the stored document.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from b24app.messages import CATALOGUE, t
from b24app.settings.schema import MISSING, Bool, Int, Issue, List, Map, Node, Num, Obj, Raw, Str
from b24app.sync_1c.settings_schema import ENC_PREFIX, MASK
from b24app.web.views.portal_dicts import DEAL, INVOICE, LEAD, PortalDicts, user_label

OMIT: Any = type("Omit", (), {"__repr__": lambda self: "OMIT"})()
ITEM_RE = re.compile(r"\d+")

# --- pickers per field (label keys: the path without list indices and map keys) --------------------
WIDGETS: dict[str, str] = {
    "general.admins_to_notify": "user",
    "calendar.schedule": "schedule",
    "calendar.users": "schedule",
    "distribution.initial_status": "stage:lead",
    "distribution.unassigned_user_ids": "user",
    "distribution.working_statuses": "stage:lead",
    "distribution.pools.department": "department",
    "distribution.pools.users": "user",
    "distribution.rules.when.source": "sources",
    "distribution.rules.pool": "pool",
    "distribution.rule_sets.when.source": "sources",
    "distribution.rule_sets.pool": "pool",
    "distribution.fallback.pool": "pool",
    "distribution.head_user_id": "user",
    "distribution.alert_user_ids": "user",
    "distribution.junk.status": "stage:lead",
    "distribution.qc.pool": "pool",
    "distribution.qc.release_status": "stage:lead",
    "stages.rules.stage": "stage:any",
    "stages.rules.on_approved": "stage:any:next",
    "stages.rules.on_rejected": "stage:any:previous",
    "stages.rules.tasks.responsible": "userref",
    "stages.rules.tasks.accomplices": "userref",
    "stages.rules.tasks.auditors": "userref",
    "sla.limits.stage": "stage:any",
    "sla.payments.stages": "stage:deal",
    "sla.payments.claim_stage": "stage:deal",
    "sla.payments.lawyer_id": "user",
    "sla.digest.heads": "user",
    "contracts.default_legal_entity": "legal_entity",
    "contracts.types.legal_entity": "legal_entity",
    "contracts.types.template": "template",
    "onec.bases.password": "password",
    "onec.bases.legal_entity": "legal_entity",
    "onec.routing.funnels": "base",
    "onec.routing.field_values": "base",
    "onec.routing.default_base": "base",
    "onec.stages.unpaid": "stage:deal",
    "onec.stages.partial": "stage:deal",
    "onec.stages.paid": "stage:deal",
    "onec.invoice_stages.unpaid": "stage:invoice",
    "onec.invoice_stages.partial": "stage:invoice",
    "onec.invoice_stages.paid": "stage:invoice",
    "analytics.viewers": "user",
    "analytics.contract_stages": "stage:deal",
}
# the keys of maps keyed by something the portal knows
KEY_WIDGETS: dict[str, str] = {
    "distribution.caps.users": "user",
    "distribution.pools.weights": "user",
    "calendar.users": "user",
    "onec.routing.funnels": "deal_funnel",
    "onec.stages": "deal_funnel",
    "onec.invoice_stages": "invoice_funnel",
}
SCHEDULE_KEYS = ("timezone", "weekdays", "hours", "breaks", "shortened_by_minutes", "observe_calendar")
LONG_TEXT = 1000  # Str fields given a limit above this (descriptions, clauses) are drawn as text areas


@dataclass
class Option:
    value: str
    text: str


@dataclass
class Field:
    """One thing drawn on a settings page (see the module doc)."""

    kind: str  # group list item map entry text textarea number check tri select multi password raw
    # schedule userref pool_users
    name: str
    path: str
    lkey: str
    label: str = ""
    help: str = ""
    value: Any = None
    issues: list[str] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)
    groups: list[tuple[str, list[Option]]] = field(default_factory=list)
    template: Field | None = None
    key: Field | None = None
    depth: int = 0
    optional: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def child(self, key: str) -> Field | None:
        return next((c for c in self.children if c.lkey.rsplit(".", 1)[-1] == key), None)


class Parsed(dict):  # type: ignore[type-arg]
    """An object read from the form: its keys, and the keys the person emptied (``omitted``)."""

    def __init__(self) -> None:
        super().__init__()
        self.omitted: set[str] = set()


# --- labels ------------------------------------------------------------------------------------------
def _text(key: str, lang: str) -> str | None:
    return t(key, lang) if key in CATALOGUE else None


def label_of(lkey: str, lang: str) -> str:
    """The field's name for people: ``ui.settings.f.<lkey>``, else a common name of its last part,
    else the key itself made readable."""
    last = lkey.rsplit(".", 1)[-1]
    return (_text(f"ui.settings.f.{lkey}", lang) or _text(f"ui.settings.f._.{last}", lang)
            or last.replace("_", " ").capitalize())


def help_of(lkey: str, node: Node, lang: str) -> str:
    own = _text(f"ui.settings.h.{lkey}", lang)
    if own:
        return own
    return str(getattr(node, "description", "") or "") if lang == "en" else ""


def choice_text(value: str, lang: str) -> str:
    return _text(f"ui.settings.v.{value}", lang) or value


# --- paths -------------------------------------------------------------------------------------------
def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def is_opt(node: Node) -> bool:
    """The distribution section's ``Opt``: an optional value wrapping another node."""
    return isinstance(getattr(node, "node", None), Node)


def is_scalar(node: Node) -> bool:
    if is_opt(node):
        return is_scalar(node.node)  # type: ignore[attr-defined]
    return isinstance(node, Str | Int | Num | Bool)


def node_at(root: Node, path: str) -> Node:
    node = root
    for part in path.split("."):
        if not isinstance(node, Obj) or part not in node.fields:
            raise KeyError(path)
        node = node.fields[part]
    return node


def get_at(doc: dict[str, Any], path: str) -> Any:
    cur: Any = doc
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return MISSING
        cur = cur[part]
    return cur


def set_at(doc: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    cur = doc
    for part in parts[:-1]:
        nxt = cur.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            cur[part] = nxt
        cur = nxt
    if value is MISSING:
        return
    if value is OMIT:
        cur.pop(parts[-1], None)
    else:
        cur[parts[-1]] = value


# --- building the fields -------------------------------------------------------------------------
@dataclass
class FormContext:
    """What drawing needs besides the schema: language, the portal's dictionaries, the whole
    document being drawn (pools, legal entities, connections are choices), the issues by path."""

    lang: str
    portal: PortalDicts
    doc: dict[str, Any]
    issues: dict[str, list[str]] = field(default_factory=dict)
    skip: set[str] = field(default_factory=set)
    placed: set[str] = field(default_factory=set)
    template_mode: int = 0

    @classmethod
    def make(cls, lang: str, portal: PortalDicts, doc: dict[str, Any], issues: Iterable[Issue] = (),
             skip: Iterable[str] = ()) -> FormContext:
        by_path: dict[str, list[str]] = {}
        for i in issues:
            by_path.setdefault(i.path, []).append(i.ru if lang == "ru" else i.en)
        return cls(lang, portal, doc, by_path, set(skip))

    def take(self, path: str) -> list[str]:
        if self.template_mode or path not in self.issues:
            return []
        self.placed.add(path)
        return list(self.issues[path])

    def unplaced(self) -> list[tuple[str, str]]:
        return [(p, text) for p, texts in self.issues.items() if p not in self.placed for text in texts]


def _blank(node: Node) -> Any:
    if is_opt(node):
        return None
    dv = node.default_value()
    if dv is not MISSING:
        return copy.deepcopy(dv)
    if isinstance(node, Obj):
        return {}
    if isinstance(node, List):
        return []
    if isinstance(node, Map):
        return {}
    return None


def _display(value: Any) -> str:
    if value is None or value is MISSING:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def build(node: Node, value: Any, ctx: FormContext, *, name: str, path: str, lkey: str, depth: int = 0,
          label: str | None = None) -> Field:
    """The field tree of ``node`` holding ``value`` (see the module doc)."""
    lang = ctx.lang
    widget = WIDGETS.get(lkey, "")
    f = Field("text", name, path, lkey, label=label if label is not None else label_of(lkey, lang),
              help=help_of(lkey, node, lang), depth=depth)
    f.issues = ctx.take(path)
    optional = is_opt(node)
    inner = node.node if optional else node  # type: ignore[attr-defined]
    f.optional = optional or inner.default_value() is MISSING
    if widget == "schedule" and isinstance(inner, Map) and lkey == "calendar.schedule":
        return _schedule(f, value, ctx, partial=False)
    if isinstance(inner, Obj):
        return _group(f, inner, value, ctx)
    if isinstance(inner, List):
        return _list(f, inner, value, ctx, widget)
    if isinstance(inner, Map):
        return _map(f, inner, value, ctx)
    if widget == "schedule":
        return _schedule(f, value, ctx, partial=True)
    if widget == "password":
        f.kind = "password"
        f.value = ""
        f.extra["set"] = bool(value) and value is not MISSING
        return f
    if widget == "userref":
        return _userref(f, value, ctx)
    if isinstance(inner, Bool):
        f.kind = "check" if inner.default is not MISSING and not optional else "tri"
        f.value = value if isinstance(value, bool) else (inner.default if inner.default is not MISSING else None)
        return f
    f.value = _display(value)
    if widget and _picker(f, widget, ctx, value):
        return f
    if isinstance(inner, Str) and inner.choices:
        f.kind = "select"
        f.options = ([Option("", "—")] if f.optional else []) + [Option(c, choice_text(c, lang)) for c in inner.choices]
        _keep_unknown(f)
        return f
    if isinstance(inner, Int | Num):
        f.kind = "number"
        return f
    if isinstance(inner, Str):
        f.kind = "textarea" if LONG_TEXT < inner.max_len != Str().max_len else "text"
        return f
    f.kind = "raw"  # Raw or a node of a feature's own (UserRef, Values ...): JSON
    f.value = "" if value is None or value is MISSING else json.dumps(value, ensure_ascii=False)
    return f


def _keep_unknown(f: Field) -> None:
    """A stored value that is not among the choices stays selectable (marked), never silently lost."""
    known = {o.value for o in f.options} | {o.value for _, opts in f.groups for o in opts}
    if f.value and f.value not in known:
        f.options.append(Option(f.value, f"{f.value} (?)"))


def _group(f: Field, node: Obj, value: Any, ctx: FormContext) -> Field:
    f.kind = "group"
    data = value if isinstance(value, dict) else {}
    for key, child in node.fields.items():
        ck = f"{f.lkey}.{key}"
        if ck in ctx.skip:
            continue
        if f.lkey == "distribution.pools" and key == "weights":
            continue  # drawn with the users (one row: user and weight)
        if f.lkey == "distribution.pools" and key == "users":
            f.children.append(_pool_users(f, node, data, ctx))
            continue
        v = data.get(key, MISSING)
        if v is MISSING:
            v = _blank(child)
        f.children.append(build(child, v, ctx, name=f"{f.name}.{key}", path=join(f.path, key), lkey=ck,
                                depth=f.depth))
    return f


def _template(node: Node, ctx: FormContext, *, name: str, lkey: str, depth: int) -> Field:
    ctx.template_mode += 1
    try:
        return build(node, _blank(node), ctx, name=name, path="", lkey=lkey, depth=depth, label="")
    finally:
        ctx.template_mode -= 1


def _list(f: Field, node: List, value: Any, ctx: FormContext, widget: str) -> Field:
    items = value if isinstance(value, list) else []
    item = node.item
    choices = getattr(item, "choices", None)
    if widget == "sources" or (isinstance(item, Str) and choices):
        f.kind = "multi"
        f.value = [str(v) for v in items]
        opts = ctx.portal.sources if widget == "sources" else [(c, choice_text(c, ctx.lang)) for c in choices or ()]
        f.options = [Option(v, f"{text} ({v})" if widget == "sources" else text) for v, text in opts]
        known = {o.value for o in f.options}
        f.options += [Option(v, f"{v} (?)") for v in f.value if v not in known]
        if widget == "sources" and not ctx.portal.sources:
            f.kind = "list"  # the portal did not answer: plain inputs
        else:
            return f
    f.kind = "list"
    for i, v in enumerate(items):
        scalar = is_scalar(item)
        child = build(item, v, ctx, name=f"{f.name}.{i}", path=join(f.path, i), lkey=f.lkey, depth=f.depth + 1,
                      label="")
        row = Field("item", child.name, child.path, f.lkey, children=[child], depth=f.depth,
                    label="" if scalar else (item_title(v, f.lkey, ctx) or f"#{i + 1}"))
        _fold(row, child, opened=False)
        f.children.append(row)
    blank = _template(item, ctx, name=f"{f.name}.__i{f.depth}__", lkey=f.lkey, depth=f.depth + 1)
    f.template = Field("item", blank.name, "", f.lkey, children=[blank], depth=f.depth,
                       label=t("ui.settings.new_item", ctx.lang))
    _fold(f.template, blank, opened=True)
    f.extra["scalar"] = is_scalar(item) or WIDGETS.get(f.lkey) == "userref"
    return f


def item_title(value: Any, lkey: str, ctx: FormContext) -> str:
    """What a folded list item is called: its name (a rule also names its pool), code, stage ..."""
    if not isinstance(value, dict):
        return ""
    for key in ("name", "title", "label", "code", "id", "stage", "action"):
        if value.get(key) not in (None, ""):
            text = str(value[key])
            if key == "stage":
                entity = str(value.get("entity") or "deal")
                name = ctx.portal.stage_name(text, LEAD if entity == "lead" else DEAL)
                text = f"{choice_text(entity, ctx.lang)}: {name} ({text})" if name else f"{entity}: {text}"
            if lkey == "contracts.types" and key == "code" and not value.get("label"):
                from b24app.contracts.types import label

                text = f"{label(text, ctx.lang)} ({text})"
            if lkey in ("distribution.rules", "distribution.rule_sets") and value.get("pool"):
                text += f" → {value['pool']} ({choice_text(str(value.get('strategy') or 'round_robin'), ctx.lang)})"
            return text
    return ""


def has_issues(f: Field) -> bool:
    return bool(f.issues) or bool(f.key and f.key.issues) or any(has_issues(c) for c in f.children)


def _fold(row: Field, child: Field, *, opened: bool) -> None:
    """Big objects in lists and maps are drawn folded (a line with their title) so the list stays
    short enough to reorder by dragging; one with a problem inside, or a new one, is drawn open."""
    leaves = sum(1 for c in child.children if c.kind not in ("group", "list", "map", "pool_users", "schedule"))
    nested = any(c.kind in ("group", "list", "map", "pool_users") for c in child.children)
    if child.kind == "group" and (nested or leaves > 6):
        row.extra["fold"] = True
        row.extra["open"] = opened or has_issues(row)


def _map(f: Field, node: Map, value: Any, ctx: FormContext) -> Field:
    f.kind = "map"
    data = value if isinstance(value, dict) else {}
    for i, (k, v) in enumerate(data.items()):
        f.children.append(_entry(f, node, str(k), v, ctx, str(i)))
    ctx.template_mode += 1
    try:
        f.template = _entry(f, node, "", _blank(node.value), ctx, f"__i{f.depth}__")
    finally:
        ctx.template_mode -= 1
    f.extra["scalar"] = is_scalar(node.value)
    return f


def _entry(f: Field, node: Map, key: str, value: Any, ctx: FormContext, index: str) -> Field:
    path = join(f.path, key) if key else ""
    name = f"{f.name}.{index}"
    key_label = _text(f"ui.settings.k.{f.lkey}", ctx.lang) or t("ui.settings.key", ctx.lang)
    key_field = Field("text", f"{name}.k", path, f.lkey, label=key_label, value=key, depth=f.depth + 1)
    kw = KEY_WIDGETS.get(f.lkey)
    if kw:
        _picker(key_field, kw, ctx, key)
    val = build(node.value, value, ctx, name=f"{name}.v", path=path, lkey=f.lkey, depth=f.depth + 1, label="")
    shown = next((o.text for o in key_field.options if o.value == key), key) if key else t("ui.settings.new_item",
                                                                                             ctx.lang)
    entry = Field("entry", name, path, f.lkey, key=key_field, children=[val], depth=f.depth, label=shown)
    _fold(entry, val, opened=not key)
    return entry


def _pool_users(pool: Field, node: Obj, data: dict[str, Any], ctx: FormContext) -> Field:
    """A pool's users in round-robin order, each with its weight, in one draggable row."""
    users = data.get("users") if isinstance(data.get("users"), list) else []
    weights = data.get("weights") if isinstance(data.get("weights"), dict) else {}
    users_path, weights_path = join(pool.path, "users"), join(pool.path, "weights")
    f = Field("pool_users", f"{pool.name}.users", users_path, f"{pool.lkey}.users",
              label=label_of("distribution.pools.users", ctx.lang), help=help_of("distribution.pools.users",
                                                                                 node.fields["users"], ctx.lang),
              depth=pool.depth)
    f.issues = ctx.take(users_path) + ctx.take(weights_path)
    f.extra["weights_name"] = f"{pool.name}.weights"
    rows = []
    for i, uid in enumerate(users):
        row = _user_row(f, ctx, str(i), uid, weights.get(str(uid)), join(users_path, i),
                        join(weights_path, str(uid)))
        rows.append(row)
    f.children = rows
    listed = {str(u) for u in users}
    f.extra["other_weights"] = [(str(k), _display(v)) for k, v in weights.items() if str(k) not in listed]
    ctx.template_mode += 1
    try:
        f.template = _user_row(f, ctx, f"__i{pool.depth}__", None, None, "", "")
    finally:
        ctx.template_mode -= 1
    return f


def _user_row(f: Field, ctx: FormContext, index: str, uid: Any, weight: Any, user_path: str,
              weight_path: str) -> Field:
    user = Field("select", f"{f.name}.{index}", user_path, "distribution.pools.users", value=_display(uid),
                 label=label_of("distribution.pools.users", ctx.lang))
    _picker(user, "user", ctx, uid)
    user.issues = ctx.take(user_path) if user_path else []
    w = Field("number", f"{f.extra['weights_name']}.{index}.v", weight_path, "distribution.pools.weights",
              value=_display(weight), label=label_of("distribution.pools.weights", ctx.lang))
    w.issues = ctx.take(weight_path) if weight_path else []
    w.extra["key_name"] = f"{f.extra['weights_name']}.{index}.k"
    return Field("item", user.name, user_path, f.lkey, children=[user, w], depth=f.depth)


def _schedule(f: Field, value: Any, ctx: FormContext, *, partial: bool) -> Field:
    """A work schedule (company or a user's own): hours, breaks, weekdays, time zone; what the form
    does not show (per-date exceptions ...) is kept as JSON."""
    f.kind = "schedule"
    data = value if isinstance(value, dict) else {}
    for key in SCHEDULE_KEYS:
        v = data.get(key)
        if isinstance(v, list):
            v = ", ".join(str(x) for x in v)
        sub = Field("tri" if key == "observe_calendar" else "text", f"{f.name}.{key}", join(f.path, key),
                    f"calendar.schedule.{key}", label=label_of(f"calendar.schedule.{key}", ctx.lang),
                    value=v if key == "observe_calendar" else _display(v))
        sub.issues = ctx.take(sub.path)
        f.children.append(sub)
    rest = {k: v for k, v in data.items() if k not in SCHEDULE_KEYS}
    f.extra["rest"] = json.dumps(rest, ensure_ascii=False) if rest else ""
    f.extra["partial"] = partial
    return f


def _userref(f: Field, value: Any, ctx: FormContext) -> Field:
    """Who gets a task: the item's responsible, their head, a user; other forms as JSON."""
    f.kind = "userref"
    lang = ctx.lang
    f.options = [Option("", "—"), Option("assignee", t("ui.settings.v.assignee", lang)),
                 Option("head", t("ui.settings.v.head", lang))]
    f.options += [Option(f"user:{u['ID']}", f"{user_label(u)} (#{u['ID']})") for u in ctx.portal.users]
    json_text = ""
    selected = ""
    v = value
    if isinstance(v, dict) and v.get("type") in ("assignee", "head"):
        v = v["type"]
    if isinstance(v, dict) and v.get("type") == "user":
        v = v.get("user_id")
    if isinstance(v, str) and v.strip().lower() in ("assignee", "head"):
        selected = v.strip().lower()
    elif isinstance(v, int) or (isinstance(v, str) and v.strip().isdigit()):
        selected = f"user:{int(v)}"
        if selected not in {o.value for o in f.options}:
            f.options.append(Option(selected, f"#{int(v)} (?)"))
    elif v not in (None, MISSING, ""):
        json_text = json.dumps(v, ensure_ascii=False)
    f.value = selected
    f.extra["json"] = json_text
    return f


def _picker(f: Field, widget: str, ctx: FormContext, value: Any) -> bool:
    """Make ``f`` a select of what the portal or the document offers; False when there is nothing
    to choose from (the portal did not answer): ``f`` stays a plain input."""
    lang, portal, doc = ctx.lang, ctx.portal, ctx.doc
    current = _display(value)
    empty = [Option("", "—")]
    kind, _, rest = widget.partition(":")
    if kind == "user":
        if not portal.users:
            return False
        f.kind = "select"
        f.options = empty + [Option(str(u["ID"]), f"{user_label(u)} (#{u['ID']})") for u in portal.users]
    elif kind == "department":
        if not portal.departments:
            return False
        f.kind = "select"
        f.options = empty + [Option(str(i), f"{n} (#{i})") for i, n in portal.departments]
    elif kind == "stage":
        entity, _, special = rest.partition(":")
        funnels = [fn for fn in portal.funnels if entity == "any" and fn.kind in (LEAD, DEAL) or fn.kind == entity]
        if not funnels:
            return False
        f.kind = "select"
        f.options = list(empty)
        if special:
            f.options.append(Option(special, choice_text(special, lang)))
        for fn in funnels:
            f.groups.append((_funnel_title(fn.kind, fn.id, fn.name, lang),
                             [Option(s.id, f"{s.name} ({s.id})") for s in fn.stages]))
    elif kind in ("deal_funnel", "invoice_funnel"):
        funnels = [fn for fn in portal.funnels if fn.kind == (DEAL if kind == "deal_funnel" else INVOICE)]
        if not funnels:
            return False
        f.kind = "select"
        f.options = empty + [Option(str(fn.id), _funnel_title(fn.kind, fn.id, fn.name, lang)) for fn in funnels]
    elif kind == "pool":
        pools = list(((doc.get("distribution") or {}).get("pools") or {}).keys())
        f.kind = "select"
        f.options = empty + [Option(str(p), str(p)) for p in pools]
    elif kind == "legal_entity":
        entities = [le for le in ((doc.get("contracts") or {}).get("legal_entities") or []) if isinstance(le, dict)]
        if not entities:
            return False
        f.kind = "select"
        f.options = empty + [Option(str(le.get("code")), f"{le.get('name') or le.get('code')} ({le.get('code')})")
                             for le in entities]
    elif kind == "template":
        from b24app.contracts.types import BUILTIN_CODES, label

        own = list(((doc.get("contracts") or {}).get("templates") or {}).keys())
        f.kind = "select"
        f.options = empty + [Option(c, f"{label(c, lang)} ({c})") for c in BUILTIN_CODES] + \
            [Option(str(c), str(c)) for c in own]
    elif kind == "base":
        bases = [b for b in ((doc.get("onec") or {}).get("bases") or []) if isinstance(b, dict)]
        f.kind = "select"
        f.options = empty + [Option(str(b.get("name")), str(b.get("title") or b.get("name"))) for b in bases]
    else:
        return False
    f.value = current
    _keep_unknown(f)
    return True


def _funnel_title(kind: str, fid: int, name: str, lang: str) -> str:
    if kind == LEAD:
        return t("ui.settings.funnel.lead", lang)
    if kind == INVOICE:
        return t("ui.settings.funnel.invoice", lang, name=name or fid)
    return t("ui.settings.funnel.deal", lang, name=name or fid)


# --- reading the form back -----------------------------------------------------------------------
class FormData:
    """The posted form with an index of which items each list or map received, in arrival order."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.values: dict[str, list[str]] = {}
        self.kids: dict[str, list[str]] = {}
        seen: set[tuple[str, str]] = set()
        for name, value in pairs:
            self.values.setdefault(name, []).append(value)
            parts = name.split(".")
            for i in range(1, len(parts)):
                prefix, seg = ".".join(parts[:i]), parts[i]
                if (prefix, seg) not in seen:
                    seen.add((prefix, seg))
                    self.kids.setdefault(prefix, []).append(seg)

    def last(self, name: str) -> str | None:
        got = self.values.get(name)
        return got[-1] if got else None

    def getlist(self, name: str) -> list[str]:
        return list(self.values.get(name) or [])

    def has(self, name: str) -> bool:
        return name in self.values or name in self.kids

    def items(self, name: str) -> list[str]:
        """The item numbers a list or map received, in arrival order."""
        return [s for s in self.kids.get(name, []) if ITEM_RE.fullmatch(s)]


def parse(node: Node, form: FormData, name: str, lkey: str) -> Any:
    """The value of ``node`` posted under ``name`` (``MISSING``: not on the form; ``OMIT``: emptied)."""
    widget = WIDGETS.get(lkey, "")
    if is_opt(node):
        raw = form.last(name)
        if raw is None and not form.has(name):
            return MISSING
        if raw is not None and not raw.strip():
            return None
        got = parse(node.node, form, name, lkey)  # type: ignore[attr-defined]
        return None if got is OMIT else got
    if widget == "schedule" and (lkey == "calendar.schedule" or not isinstance(node, Map)):
        return _parse_schedule(form, name)
    if isinstance(node, Obj):
        return _parse_obj(node, form, name, lkey)
    if isinstance(node, List):
        return _parse_list(node, form, name, lkey, widget)
    if isinstance(node, Map):
        return _parse_map(node, form, name, lkey)
    if widget == "password":
        return _parse_password(form, name)
    if widget == "userref":
        return _parse_userref(form, name)
    raw = form.last(name)
    if isinstance(node, Bool):
        if raw is None:
            return MISSING
        if raw == "":
            return OMIT
        return raw in ("1", "true", "on", "y", "Y")
    if raw is None:
        return MISSING
    if isinstance(node, Int | Num):
        text = raw.strip().replace("\u00a0", "").replace(" ", "")
        if not text:
            return OMIT
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        if isinstance(node, Num):
            try:
                return float(text.replace(",", "."))
            except ValueError:
                return raw
        return raw  # the schema says "must be a whole number" next to the field
    if isinstance(node, Str):
        text = raw.replace("\r\n", "\n") if LONG_TEXT < node.max_len != Str().max_len else raw.strip()
        if not text and (node.default is MISSING or node.choices):
            return OMIT
        return text
    return _parse_raw(raw)


def _parse_raw(raw: str) -> Any:
    text = raw.strip()
    if not text:
        return OMIT
    try:
        return json.loads(text)
    except ValueError:
        pass
    if text[0] in "[{":
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            return text
    return text


def _parse_obj(node: Obj, form: FormData, name: str, lkey: str) -> Any:
    out = Parsed()
    seen = False
    for key, child in node.fields.items():
        v = parse(child, form, f"{name}.{key}", f"{lkey}.{key}")
        if v is MISSING:
            continue
        seen = True
        if v is OMIT:
            out.omitted.add(key)
        else:
            out[key] = v
    if not seen:
        return MISSING
    if not out and node.default_value() is MISSING:
        return OMIT  # an optional object left empty (a contract type's terms)
    return out


def _parse_list(node: List, form: FormData, name: str, lkey: str, widget: str) -> Any:
    marker = form.has(f"{name}.__n")
    multi = form.getlist(f"{name}.m")
    if multi or form.has(f"{name}.m") or (marker and not form.items(name) and
                                          (widget == "sources" or getattr(node.item, "choices", None))):
        return [v for v in (plain(parse(node.item, FormData([("x", m)]), "x", lkey)) for m in multi)
                if v is not MISSING and v is not OMIT]
    index = form.items(name)
    if not index and not marker:
        return MISSING
    out = []
    for seg in index:
        v = parse(node.item, form, f"{name}.{seg}", lkey)
        if v is MISSING or v is OMIT:
            continue
        out.append(plain(v))
    if not out and node.default is MISSING:
        return OMIT
    return out


def _parse_map(node: Map, form: FormData, name: str, lkey: str) -> Any:
    index = form.items(name)
    if not index and not form.has(f"{name}.__n"):
        return MISSING
    out: dict[str, Any] = {}
    for seg in index:
        key = (form.last(f"{name}.{seg}.k") or "").strip()
        v = parse(node.value, form, f"{name}.{seg}.v", lkey)
        if not key:
            continue
        if v is MISSING or v is OMIT:
            if is_scalar(node.value) or isinstance(node.value, Raw):
                continue
            v = {}
        out[key] = plain(v)
    if not out and node.default is MISSING:
        return OMIT
    return out


def _parse_password(form: FormData, name: str) -> Any:
    typed = form.last(name)
    if typed is None and not form.has(f"{name}.set"):
        return MISSING
    if typed:
        return typed  # clear text: the section's before_save hook stores it encrypted, leaving ***
    if form.last(f"{name}.clear") == "1":
        return ""
    return MASK if form.last(f"{name}.set") == "1" else ""


def _parse_userref(form: FormData, name: str) -> Any:
    sel = form.last(name)
    text = (form.last(f"{name}.json") or "").strip()
    if sel is None and not text:
        return MISSING
    if text:
        return _parse_raw(text)
    if not sel:
        return OMIT
    if sel.startswith("user:") and sel[5:].isdigit():
        return int(sel[5:])
    return sel


def _parse_schedule(form: FormData, name: str) -> Any:
    if not any(form.has(f"{name}.{k}") for k in SCHEDULE_KEYS) and not form.has(f"{name}.rest"):
        return MISSING
    out: dict[str, Any] = {}
    rest = _parse_raw(form.last(f"{name}.rest") or "")
    if isinstance(rest, dict):
        out.update(rest)
    for key in SCHEDULE_KEYS:
        raw = (form.last(f"{name}.{key}") or "").strip()
        if not raw:
            continue
        if key == "observe_calendar":
            out[key] = raw == "1"
        elif key in ("weekdays", "breaks"):
            parts = [p.strip() for p in re.split(r"[,;]", raw) if p.strip()]
            out[key] = [int(p) if p.isdigit() else p for p in parts]
        elif key == "shortened_by_minutes":
            out[key] = int(raw) if raw.isdigit() else raw
        else:
            out[key] = raw
    return out


def plain(value: Any) -> Any:
    """``Parsed`` objects to plain dicts (what is stored)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def merge(stored: Any, parsed: Any) -> Any:
    """Lay the parsed form over the stored value: objects key by key (what the form did not carry
    stays), lists and maps replaced as a whole (they are drawn whole, in the page's order)."""
    if parsed is MISSING:
        return stored
    if isinstance(parsed, Parsed):
        out = dict(stored) if isinstance(stored, dict) else {}
        for key in parsed.omitted:
            out.pop(key, None)
        for key, value in parsed.items():
            out[key] = merge(out.get(key, MISSING), value)
        return out
    return plain(parsed)


def apply_form(doc: dict[str, Any], root: Node, form: FormData, covers: Iterable[str]) -> dict[str, Any]:
    """A copy of ``doc`` with the parts ``covers`` (document paths the page drew) read from ``form``."""
    out = copy.deepcopy(doc)
    for path in covers:
        parsed = parse(node_at(root, path), form, path, path)
        if parsed is MISSING:
            continue
        if parsed is OMIT:
            set_at(out, path, OMIT)
            continue
        set_at(out, path, merge(get_at(out, path), parsed))
    return out


def typed_passwords_masked(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as it will be stored once typed 1C passwords went into the secret store (for
    checking it before saving: a typed password is not "clear text in the file")."""
    out = copy.deepcopy(doc)
    for base in ((out.get("onec") or {}).get("bases") or []):
        if isinstance(base, dict):
            pw = str(base.get("password") or "")
            if pw and pw != MASK and not pw.startswith(ENC_PREFIX):
                base["password"] = MASK
    return out


# --- checks that need the portal ------------------------------------------------------------------
def portal_issues(doc: dict[str, Any], portal: PortalDicts) -> list[Issue]:
    """Stage ids that the portal's funnels do not have (the schema checks only their shape)."""
    if not portal.funnels:
        return []
    lead_ids, deal_ids = portal.stage_ids(LEAD), portal.stage_ids(DEAL)
    out: list[Issue] = []

    def check(path: str, value: Any, entity: str, allowed: tuple[str, ...] = ()) -> None:
        if not isinstance(value, str) or not value or value in allowed:
            return
        ids = lead_ids if entity == "lead" else deal_ids
        if value not in ids:
            where = t("ui.settings.funnel.lead", "ru") if entity == "lead" else t("ui.settings.deal_funnels", "ru")
            where_en = t("ui.settings.funnel.lead", "en") if entity == "lead" else t("ui.settings.deal_funnels", "en")
            out.append(Issue(path, f"стадии «{value}» нет на портале ({where})",
                             f"the portal has no stage '{value}' ({where_en})"))

    def each(items: Any, fn: Callable[[int, Any], None]) -> None:
        for i, item in enumerate(items if isinstance(items, list) else []):
            fn(i, item)

    stages = doc.get("stages") or {}

    def stage_rule(i: int, r: Any) -> None:
        if isinstance(r, dict):
            entity = str(r.get("entity") or "deal")
            base = f"stages.rules[{i}]"
            check(f"{base}.stage", r.get("stage"), entity)
            check(f"{base}.on_approved", r.get("on_approved"), entity, ("next",))
            check(f"{base}.on_rejected", r.get("on_rejected"), entity, ("previous",))

    each(stages.get("rules"), stage_rule)
    sla = doc.get("sla") or {}
    each(sla.get("limits"), lambda i, r: isinstance(r, dict) and check(
        f"sla.limits[{i}].stage", r.get("stage"), str(r.get("entity") or "deal")))
    payments = sla.get("payments") or {}
    each(payments.get("stages"), lambda i, s: check(f"sla.payments.stages[{i}]", s, "deal"))
    check("sla.payments.claim_stage", payments.get("claim_stage"), "deal")
    each((doc.get("analytics") or {}).get("contract_stages"),
         lambda i, s: check(f"analytics.contract_stages[{i}]", s, "deal"))
    dist = doc.get("distribution") or {}
    if lead_ids:
        check("distribution.initial_status", dist.get("initial_status"), "lead")
        each(dist.get("working_statuses"), lambda i, s: check(f"distribution.working_statuses[{i}]", s, "lead"))
        check("distribution.junk.status", (dist.get("junk") or {}).get("status"), "lead")
        check("distribution.qc.release_status", (dist.get("qc") or {}).get("release_status"), "lead")
    return out
