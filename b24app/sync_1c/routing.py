"""Which 1C base a deal belongs to (a deal belongs to exactly one base).

Modes (settings ``onec.routing.mode``):
- ``legal_entity`` (default): the deal's "my company" (``mycompanyId``, readable only through
  ``crm.item.get`` with entityTypeId 2) -> the base whose ``mycompany_id`` is that company, or else
  the base whose 1C organization has the company's ИНН (from its requisites);
- ``funnel``: the deal's funnel id -> ``routing.funnels``;
- ``field``: a deal field holding a base name, or a value mapped by ``routing.field_values``.
Every mode falls back to ``routing.funnels`` and then ``routing.default_base``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from b24app.errors import BitrixError, DataError
from b24app.sync_1c import connections, state
from b24app.sync_1c.records import Organization

BASE_INFO_TTL_S = 3600.0


@dataclass
class Route:
    base: dict[str, Any]
    organization_inn: str  # "" = the base's main organization
    reason: str


def deal_item(client: Any, deal_id: int) -> dict[str, Any]:
    """The deal through crm.item.get (the only read that shows ``mycompanyId``)."""
    try:
        res = client.call("crm.item.get", {"entityTypeId": 2, "id": deal_id}) or {}
    except BitrixError as exc:
        if exc.code == "NOT_FOUND" or "not found" in exc.description.lower():
            raise DataError(f"deal {deal_id} not found in Bitrix24 / сделка {deal_id} не найдена") from exc
        raise
    item = res.get("item") if isinstance(res, dict) else None
    if not item:
        raise DataError(f"deal {deal_id} not found in Bitrix24 / сделка {deal_id} не найдена")
    return item


def company_inn(client: Any, company_id: int) -> tuple[str, str]:
    """(ИНН, КПП) from a company's first requisite ("", "" when none)."""
    rows = client.call("crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": company_id},
                                               "order": {"ID": "ASC"}}) or []
    for r in rows:
        if r.get("RQ_INN"):
            return str(r["RQ_INN"]).strip(), str(r.get("RQ_KPP") or "").strip()
    return "", ""


def base_organizations(services: Any, member_id: str, base: dict[str, Any], *, refresh: bool = False
                       ) -> list[Organization]:
    """The base's organizations, cached in sync_1c_bases for an hour."""
    from b24app import clock

    info = state.base_info(services.db, member_id, base["name"])
    if not refresh and info.get("organizations") is not None and clock.now() - info.get("at", 0) < BASE_INFO_TTL_S:
        return [Organization(**o) for o in info["organizations"]]
    orgs = connections.open_transport(services, member_id, base).organizations()
    state.put_base_info(services.db, member_id, base["name"],
                        {**info, "organizations": [o.__dict__ for o in orgs], "at": clock.now()})
    return orgs


def route(services: Any, member_id: str, settings: dict[str, Any], client: Any, deal: dict[str, Any]) -> Route:
    """The base of ``deal`` (a crm.item of entity 2), or DataError saying why there is none."""
    section = connections.section(settings)
    bases = connections.bases(settings)
    if not bases:
        raise DataError("no 1C base is connected: add one in the settings (onec.bases) / не подключена ни одна база 1С")
    by_name = {b["name"]: b for b in bases}
    routing = section.get("routing") or {}
    mode = routing.get("mode", "legal_entity")
    deal_id = deal.get("id")
    tried: list[str] = []
    if mode == "legal_entity":
        my = int(deal.get("mycompanyId") or 0)
        if my:
            for b in bases:
                if int(b.get("mycompany_id") or 0) == my:
                    return Route(b, str(b.get("organization_inn") or ""), f"моя компания {my}")
            inn, _ = company_inn(client, my)
            if inn:
                for b in bases:
                    if b.get("organization_inn") and b["organization_inn"] != inn:
                        continue
                    if any(o.inn == inn for o in base_organizations(services, member_id, b)):
                        return Route(b, inn, f"ИНН нашей компании {inn}")
                tried.append(f"no base has an organization with ИНН {inn} (my company {my})")
            else:
                tried.append(f"my company {my} has no ИНН in its requisites")
        else:
            tried.append("the deal has no legal entity (my company)")
    elif mode == "field":
        field = str(routing.get("field") or "")
        value = deal.get(field)
        if value is None:  # crm.item answers camelCase names of user fields
            camel = "ufCrm" + field[len("UF_CRM_"):].title().replace("_", "") if field.startswith("UF_CRM_") else field
            value = deal.get(camel, deal.get(field.lower()))
        text = str(value or "").strip()
        name = (routing.get("field_values") or {}).get(text, text)
        if name in by_name:
            return Route(by_name[name], str(by_name[name].get("organization_inn") or ""), f"поле {field} = {text}")
        tried.append(f"field {field} = {text!r} names no base")
    funnel = str(deal.get("categoryId", 0))
    name = (routing.get("funnels") or {}).get(funnel)
    if name in by_name:
        return Route(by_name[name], str(by_name[name].get("organization_inn") or ""), f"воронка {funnel}")
    if mode == "funnel":
        tried.append(f"funnel {funnel} has no base")
    default = routing.get("default_base") or ""
    if default in by_name:
        return Route(by_name[default], str(by_name[default].get("organization_inn") or ""), "база по умолчанию")
    if len(bases) == 1 and mode != "legal_entity":
        return Route(bases[0], str(bases[0].get("organization_inn") or ""), "единственная база")
    raise DataError(f"deal {deal_id}: no 1C base found ({'; '.join(tried) or mode}) / для сделки {deal_id} "
                    "не найдена база 1С: проверьте нашу компанию в сделке и маршрутизацию в настройках")
