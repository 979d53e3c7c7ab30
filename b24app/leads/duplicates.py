"""Repeat clients and duplicates: a lead's phones and e-mails, normalized, are looked up among
contacts, companies, their open deals and open leads.

Two ways to fill an :class:`Index`:
- one lead (event, robot): ``crm.duplicate.findbycomm`` with the spellings of each phone a CRM may hold
  (:func:`b24app.leads.phones.phone_variants`) and the e-mails, plus our own index of leads we have
  distributed (``lead_comms``); then one batch reads the owners (and the open deals of the contacts
  and companies found) — two requests;
- a backlog: the contacts, companies, open deals and open leads are read once per run
  (b24app.leads.snapshots.read_lists) and matched in memory by normalized value, so tens of thousands
  of leads cost no extra request each.

Preference when several match: the latest open deal of a matched contact/company (as Bitrix24's own
open-line CRM check does), then the contact, the company, then an open lead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from b24app.leads import store
from b24app.leads.junk import multi_values
from b24app.leads.phones import normalize_email, normalize_phone, phone_variants
from b24app.store.db import Database

KIND_ORDER = {"deal": 0, "contact": 1, "company": 2, "lead": 3}
ENTITY_OF = {"contact": "CONTACT", "company": "COMPANY", "lead": "LEAD"}


@dataclass(frozen=True)
class Match:
    kind: str  # deal | contact | company | lead
    entity_id: int
    owner_id: int | None
    via: str  # phone | email
    value: str  # the normalized phone (digits) or e-mail
    title: str = ""
    parent_kind: str = ""  # a deal is found through its contact or company
    parent_id: int = 0
    parent_title: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": self.kind, "id": self.entity_id, "owner_id": self.owner_id, "via": self.via,
               "value": self.value, "title": self.title}
        if self.parent_kind:
            out.update({"parent_kind": self.parent_kind, "parent_id": self.parent_id,
                        "parent_title": self.parent_title})
        return out


def phone_keys(item: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for raw in multi_values(item, "PHONE"):
        n = normalize_phone(raw)
        if n and n not in out:
            out.append(n)
    return out


def email_keys(item: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for raw in multi_values(item, "EMAIL"):
        n = normalize_email(raw, canonical=True)
        if n and n not in out:
            out.append(n)
    return out


def keys_of(item: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``[("phone", "79123456789"), ("email", "ivan@x.ru")]``: the item's normalized comms."""
    return [("phone", p) for p in phone_keys(item)] + [("email", e) for e in email_keys(item)]


def _owner(row: Mapping[str, Any]) -> int | None:
    v = row.get("ASSIGNED_BY_ID")
    return int(v) if str(v or "").isdigit() and int(v) else None


def _person(row: Mapping[str, Any]) -> str:
    return " ".join(str(row.get(k) or "").strip() for k in ("NAME", "LAST_NAME") if row.get(k)).strip()


class Index:
    """Normalized value -> matches; deals are attached to the contact/company they belong to."""

    def __init__(self) -> None:
        self.by_value: dict[str, list[Match]] = {}
        self._deals: dict[tuple[str, int], list[Mapping[str, Any]]] = {}

    def _add(self, value: str, match: Match) -> None:
        lst = self.by_value.setdefault(value, [])
        if all((m.kind, m.entity_id) != (match.kind, match.entity_id) for m in lst):
            lst.append(match)

    def add_deals(self, deals: Iterable[Mapping[str, Any]]) -> None:
        for d in deals:
            for kind, key in (("contact", "CONTACT_ID"), ("company", "COMPANY_ID")):
                ref = d.get(key)
                if str(ref or "").isdigit() and int(ref):
                    self._deals.setdefault((kind, int(ref)), []).append(d)

    def add_entity(self, kind: str, row: Mapping[str, Any], *, owner: int | None = None,
                   values: Iterable[tuple[str, str]] | None = None) -> None:
        """Index a contact, company or lead row by its comms (or the given ``values``)."""
        title = str(row.get("TITLE") or "") if kind in ("company", "lead") else _person(row)
        if kind == "lead" and not title:
            title = _person(row)
        oid = owner if owner is not None else _owner(row)
        for via, value in (values if values is not None else keys_of(row)):
            self._add(value, Match(kind, int(row["ID"]), oid, via, value, title))
            if kind in ("contact", "company"):
                for d in sorted(self._deals.get((kind, int(row["ID"])), []), key=lambda r: -int(r["ID"])):
                    self._add(value, Match("deal", int(d["ID"]), _owner(d), via, value, str(d.get("TITLE") or ""),
                                           kind, int(row["ID"]), title))

    def add_lead(self, lead_id: int, owner: int | None, values: Iterable[tuple[str, str]], title: str = "") -> None:
        for via, value in values:
            self._add(value, Match("lead", lead_id, owner, via, value, title))

    def find(self, item: Mapping[str, Any], *, exclude: tuple[str, int] | None = None,
             kinds: Sequence[str] = ("deal", "contact", "company", "lead")) -> list[Match]:
        """Matches of the item's comms, best first (see the module docstring)."""
        found: list[Match] = []
        for _via, value in keys_of(item):
            for m in self.by_value.get(value, []):
                if exclude and (m.kind, m.entity_id) == exclude:
                    continue
                if m.kind not in kinds or m in found:
                    continue
                found.append(m)
        found.sort(key=lambda m: (KIND_ORDER[m.kind], -m.entity_id))
        return found


def index_from_lists(contacts: Iterable[Mapping[str, Any]], companies: Iterable[Mapping[str, Any]],
                     deals: Iterable[Mapping[str, Any]], leads: Iterable[Mapping[str, Any]]) -> Index:
    idx = Index()
    idx.add_deals(deals)
    for c in contacts:
        idx.add_entity("contact", c)
    for c in companies:
        idx.add_entity("company", c)
    for lead in leads:
        idx.add_entity("lead", lead)
    return idx


def backlog_specs(search: Sequence[str], pool_users: Sequence[int], working: Sequence[str]) -> dict[str, Any]:
    """The lists a backlog run reads once to match repeat clients and duplicates."""
    from b24app.leads.snapshots import ListSpec

    specs: dict[str, ListSpec] = {}
    if "contact" in search or "deal" in search:
        specs["contacts"] = ListSpec("crm.contact.list", {"select": ["ID", "NAME", "LAST_NAME", "ASSIGNED_BY_ID",
                                                                      "PHONE", "EMAIL"]})
    if "company" in search or "deal" in search:
        specs["companies"] = ListSpec("crm.company.list", {"select": ["ID", "TITLE", "ASSIGNED_BY_ID", "PHONE",
                                                                       "EMAIL"]})
    if "deal" in search:
        specs["deals"] = ListSpec("crm.deal.list", {"filter": {"CLOSED": "N"},
                                                    "select": ["ID", "TITLE", "ASSIGNED_BY_ID", "CONTACT_ID",
                                                               "COMPANY_ID"]})
    if "lead" in search and pool_users:
        specs["open_leads"] = ListSpec("crm.lead.list", {"filter": {"@ASSIGNED_BY_ID": sorted(set(pool_users)),
                                                                    "@STATUS_ID": list(working)},
                                                         "select": ["ID", "TITLE", "NAME", "LAST_NAME",
                                                                    "ASSIGNED_BY_ID", "PHONE", "EMAIL"]})
    return specs


def lookup_one(client: Any, db: Database, member_id: str, item: Mapping[str, Any], *, search: Sequence[str],
               working: Sequence[str], unassigned: Sequence[int]) -> list[Match]:
    """Matches of one lead: crm.duplicate.findbycomm (all spellings of its phones), our own index,
    then one batch for the owners and open deals. Empty when the lead has no usable phone or e-mail."""
    keys = keys_of(item)
    if not keys:
        return []
    lead_id = int(item["ID"])
    raw_emails = multi_values(item, "EMAIL")
    types = [ENTITY_OF[k] for k in ("contact", "company", "lead") if k in search or
             (k in ("contact", "company") and "deal" in search)]
    cmds: dict[str, tuple[str, dict]] = {}
    for i, (via, value) in enumerate(keys[:4]):
        if via == "phone":
            values = phone_variants(value)
        else:
            values = sorted({value, *[e.strip() for e in raw_emails if normalize_email(e, canonical=True) == value],
                             *[e.strip().lower() for e in raw_emails if normalize_email(e, canonical=True) == value]})
        for etype in types:
            cmds[f"f{i}_{etype}"] = ("crm.duplicate.findbycomm",
                                     {"type": "PHONE" if via == "phone" else "EMAIL", "values": values[:20],
                                      "entity_type": etype})
    ids: dict[str, set[int]] = {"CONTACT": set(), "COMPANY": set(), "LEAD": set()}
    via_of: dict[tuple[str, int], tuple[str, str]] = {}
    if cmds:
        res = client.batch(cmds)
        for key, value in res.results.items():
            i, etype = key[1:].split("_", 1)
            if isinstance(value, dict):
                for found_type, found_ids in value.items():
                    for fid in found_ids if isinstance(found_ids, list) else []:
                        if str(fid).isdigit():
                            ids.setdefault(str(found_type), set()).add(int(fid))
                            via_of.setdefault((str(found_type), int(fid)), keys[int(i)])
    for row in store.find_comms(db, member_id, [v for _, v in keys]):
        if row["entity_type"] == "lead" and int(row["entity_id"]) != lead_id:
            ids["LEAD"].add(int(row["entity_id"]))
            via_of.setdefault(("LEAD", int(row["entity_id"])), ("phone" if row["value"].isdigit() else "email",
                                                                row["value"]))
    ids["LEAD"].discard(lead_id)
    if not any(ids.values()):
        return []
    owners: dict[str, tuple[str, dict]] = {}
    if ids["CONTACT"]:
        owners["contacts"] = ("crm.contact.list", {"filter": {"@ID": sorted(ids["CONTACT"])},
                                                   "select": ["ID", "NAME", "LAST_NAME", "ASSIGNED_BY_ID"]})
        if "deal" in search:
            owners["deals_c"] = ("crm.deal.list", {"filter": {"@CONTACT_ID": sorted(ids["CONTACT"]), "CLOSED": "N"},
                                                   "select": ["ID", "TITLE", "ASSIGNED_BY_ID", "CONTACT_ID",
                                                              "COMPANY_ID"], "order": {"ID": "DESC"}})
    if ids["COMPANY"]:
        owners["companies"] = ("crm.company.list", {"filter": {"@ID": sorted(ids["COMPANY"])},
                                                    "select": ["ID", "TITLE", "ASSIGNED_BY_ID"]})
        if "deal" in search:
            owners["deals_co"] = ("crm.deal.list", {"filter": {"@COMPANY_ID": sorted(ids["COMPANY"]), "CLOSED": "N"},
                                                    "select": ["ID", "TITLE", "ASSIGNED_BY_ID", "CONTACT_ID",
                                                               "COMPANY_ID"], "order": {"ID": "DESC"}})
    if ids["LEAD"] and "lead" in search:
        owners["leads"] = ("crm.lead.list", {"filter": {"@ID": sorted(ids["LEAD"])},
                                             "select": ["ID", "TITLE", "NAME", "LAST_NAME", "ASSIGNED_BY_ID",
                                                        "STATUS_ID"]})
    if not owners:
        return []
    res = client.batch(owners)
    rows = {k: [r for r in (res.results.get(k) or []) if isinstance(r, dict)] for k in owners}
    idx = Index()
    idx.add_deals(rows.get("deals_c", []) + rows.get("deals_co", []))
    for kind, key, etype in (("contact", "contacts", "CONTACT"), ("company", "companies", "COMPANY"),
                             ("lead", "leads", "LEAD")):
        for row in rows.get(key, []):
            if kind == "lead":
                if str(row.get("STATUS_ID")) not in working or _owner(row) in unassigned or _owner(row) is None:
                    continue
            via = via_of.get((etype, int(row["ID"])))
            if via is not None:
                idx.add_entity(kind, row, values=[via])
    return idx.find(item, exclude=("lead", lead_id), kinds=tuple(search) if "deal" not in search
                    else ("deal", *[k for k in search if k != "deal"]))
