"""The "onec" section of the settings document: 1C connections, routing of deals to bases, how
invoices are pushed and payments pulled, which stages payments move deals and smart invoices to,
and the deal fields the sync writes.

```yaml
onec:
  enabled: true
  bases:
    - name: metalprom_main                  # our name of the base (letters, digits, _ and -)
      title: 1С:Бухгалтерия МеталПром
      transport: odata                      # odata | soap
      url: https://1c.metalprom.ru/bp/odata/standard.odata/   # soap: the WSDL URL
      address: ""                           # soap: endpoint when the WSDL names an internal host
      user: b24sync
      password: "***"                       # set with `b24app sync set-password`; never shown
      profile: bp30                         # bp30 | ut11 | unf
      legal_entity: MP                      # our legal entity's code (from the base's Префикс)
      mycompany_id: 0                       # Bitrix24 "my company" id; 0 = found by the ИНН of the base's organization
      organization_inn: ""                  # which 1C organization (several in one base); "" = the main one
      timezone: Europe/Moscow               # 1C dates carry no zone
  routing: {mode: legal_entity, funnels: {}, field: "", field_values: {}, default_base: ""}
  push: {post: true, missing_products: fail, default_contract: "", payment_days: 5,
         smart_invoice: link_or_create, on_smart_invoice_add: true}
  pull: {interval_min: 5, lookback_days: 7, start_days: 30, slice_days: 7, page_size: 500,
         import_invoices: true}
  stages: {"0": {unpaid: UC_AWAIT_PAYMENT, partial: UC_PARTIAL_PAID, paid: UC_PAID}}
  invoice_stages: {"1": {unpaid: "DT31_1:S", partial: "DT31_1:UC_PARTIAL", paid: "DT31_1:P"}}
```
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from b24app.settings.schema import Bool, Int, Issues, List, Map, Num, Obj, Str

MASK = "***"
ENC_PREFIX = "enc:v1:"
PROFILES = ("bp30", "ut11", "unf")
TRANSPORTS = ("odata", "soap")
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}"
FIELD_PATTERN = r"UF_CRM_[A-Z0-9_]{1,43}"

FIELD_DEFAULTS = {
    "invoice_number": "UF_CRM_B24APP_1C_NUMBER",
    "invoice_date": "UF_CRM_B24APP_1C_DATE",
    "invoice_ref": "UF_CRM_B24APP_1C_REF",
    "invoice_link": "UF_CRM_B24APP_1C_LINK",
    "base": "UF_CRM_B24APP_1C_BASE",
    "paid": "UF_CRM_B24APP_1C_PAID",
    "remaining": "UF_CRM_B24APP_1C_DEBT",
    "last_payment_date": "UF_CRM_B24APP_1C_LASTPAY",
    "payments": "UF_CRM_B24APP_1C_PAYMENTS",
}

STAGES = Obj(fields={
    "unpaid": Str(default="", description="stage while nothing is paid (a reversal moves back here)"),
    "partial": Str(default="", description="stage after the first partial payment"),
    "paid": Str(default="", description="stage when the invoice is paid in full"),
})

BASE = Obj(
    fields={
        "name": Str(pattern=NAME_PATTERN, min_len=1, description="our name of the base"),
        "title": Str(default="", max_len=200),
        "enabled": Bool(default=True),
        "transport": Str(default="odata", choices=TRANSPORTS),
        "url": Str(min_len=1, max_len=2000, description="OData service root, or the WSDL URL for SOAP"),
        "address": Str(default="", max_len=2000, description="SOAP endpoint overriding the WSDL's address"),
        "user": Str(default="", max_len=200),
        "password": Str(default="", description="*** when set; stored encrypted outside the document"),
        "profile": Str(default="bp30", choices=PROFILES),
        "legal_entity": Str(default="", max_len=50),
        "mycompany_id": Int(default=0, min=0),
        "organization_inn": Str(default="", pattern=r"(\d{10}|\d{12})?"),
        "timezone": Str(default="Europe/Moscow", pattern=r"[A-Za-z_]+(/[A-Za-z0-9_+\-]+)*"),
        "timeout_s": Num(default=30.0, min=1, max=600),
        "web_url": Str(default="", max_len=2000, description="1C web client URL for links (default: from url)"),
    },
    required=("name", "url"),
)


def _check_base(value: dict[str, Any], path: str, issues: Issues) -> None:
    url = str(value.get("url") or "")
    if url and urlsplit(url).scheme not in ("http", "https"):
        issues.add(f"{path}.url", "адрес должен начинаться с http:// или https://", "must start with http:// or https://")
    if value.get("transport") == "odata" and url and "standard.odata" not in url:
        issues.add(f"{path}.url", "для OData укажите адрес публикации …/odata/standard.odata/",
                   "for OData give the publication URL …/odata/standard.odata/")
    pw = str(value.get("password") or "")
    if pw and pw != MASK and not pw.startswith(ENC_PREFIX):
        issues.add(f"{path}.password",
                   "пароль не хранится в файле настроек открытым текстом: задайте его командой "
                   "«b24app sync set-password» или «b24app sync connect» (в настройках он показывается как ***)",
                   "a password is not kept in the settings file in clear text: set it with "
                   "'b24app sync set-password' or 'b24app sync connect' (settings show it as ***)")


BASE.rules = (_check_base,)

SECTION = Obj(fields={
    "enabled": Bool(default=True),
    "bases": List(item=BASE, unique_by="name"),
    "routing": Obj(fields={
        "mode": Str(default="legal_entity", choices=("legal_entity", "funnel", "field"),
                    description="how a deal finds its base"),
        "funnels": Map(value=Str(pattern=NAME_PATTERN), key_pattern=r"\d+",
                       description="deal funnel id -> base name (mode funnel; also a fallback)"),
        "field": Str(default="", description="deal field holding the base name or a value of field_values"),
        "field_values": Map(value=Str(pattern=NAME_PATTERN)),
        "default_base": Str(default=""),
    }),
    "push": Obj(fields={
        "post": Bool(default=True, description="post the invoice in 1C after creating it"),
        "missing_products": Str(default="fail", choices=("create", "fail")),
        "default_contract": Str(default="", max_len=100,
                                description="contract name when the contracts feature gives none ('' = no contract)"),
        "payment_days": Int(default=5, min=0, max=365, description="due date = invoice date + these days"),
        "smart_invoice": Str(default="link_or_create", choices=("off", "link", "link_or_create")),
        "smart_invoice_category": Int(default=-1, min=-1, description="-1: the default smart-invoice funnel"),
        "on_smart_invoice_add": Bool(default=True,
                                     description="a smart invoice created in Bitrix24 issues the 1C invoice"),
    }),
    "pull": Obj(fields={
        "interval_min": Int(default=5, min=1, max=1440),
        "lookback_days": Int(default=7, min=0, max=365),
        "start_days": Int(default=30, min=1, max=3650, description="how far back the first run reads"),
        "slice_days": Int(default=7, min=1, max=366),
        "page_size": Int(default=500, min=10, max=5000),
        "import_invoices": Bool(default=False,
                                description="invoices made in 1C for a known counterparty become smart invoices"),
    }),
    "stages": Map(value=STAGES, key_pattern=r"\d+", description="deal funnel id -> payment stages"),
    "invoice_stages": Map(value=STAGES, key_pattern=r"\d+", description="smart-invoice funnel id -> stages"),
    "fields": Obj(fields={k: Str(default=v, pattern=FIELD_PATTERN) for k, v in FIELD_DEFAULTS.items()}),
})


def _check_section(value: dict[str, Any], path: str, issues: Issues) -> None:
    names = {b.get("name") for b in value.get("bases") or [] if isinstance(b, dict)}
    routing = value.get("routing") or {}
    for key, base in (routing.get("funnels") or {}).items():
        if base not in names:
            issues.add(f"{path}.routing.funnels.{key}", f"нет подключения «{base}»", f"no connection '{base}'")
    for key, base in (routing.get("field_values") or {}).items():
        if base not in names:
            issues.add(f"{path}.routing.field_values.{key}", f"нет подключения «{base}»", f"no connection '{base}'")
    default = routing.get("default_base") or ""
    if default and default not in names:
        issues.add(f"{path}.routing.default_base", f"нет подключения «{default}»", f"no connection '{default}'")
    if routing.get("mode") == "field" and not re.fullmatch(r"[A-Z_][A-Z0-9_]*", str(routing.get("field") or "")):
        issues.add(f"{path}.routing.field", "укажите код поля сделки (например UF_CRM_1C_BASE)",
                   "give the deal field code (e.g. UF_CRM_1C_BASE)")


SECTION.rules = (_check_section,)


def demo(facts: dict[str, Any]) -> dict[str, Any]:
    """МеталПром: routing by legal entity (each deal's "my company" -> the base of that organization),
    stage moves in the sales funnel and the smart-invoice funnel. The connections themselves come
    from ``b24app sync connect --portal M --from-sandbox URL`` (the sandbox knows their URLs and
    passwords; the portal's facts do not)."""
    deal_stages = {s.get("STATUS_ID") for s in facts.get("statuses", {}).get("DEAL_STAGE", [])}
    stages: dict[str, Any] = {}
    wanted = {"unpaid": "UC_AWAIT_PAYMENT", "partial": "UC_PARTIAL_PAID", "paid": "UC_PAID"}
    if not deal_stages or all(v in deal_stages for v in wanted.values()):
        stages["0"] = dict(wanted)
    return {
        "enabled": True,
        "bases": [],
        "routing": {"mode": "legal_entity", "funnels": {}, "field": "", "field_values": {}, "default_base": ""},
        "push": {"post": True, "missing_products": "fail", "default_contract": "", "payment_days": 5,
                 "smart_invoice": "link_or_create", "smart_invoice_category": 1, "on_smart_invoice_add": True},
        "pull": {"interval_min": 5, "lookback_days": 7, "start_days": 30, "slice_days": 7, "page_size": 500,
                 "import_invoices": True},
        "stages": stages,
        "invoice_stages": {"1": {"unpaid": "DT31_1:S", "partial": "DT31_1:UC_PARTIAL", "paid": "DT31_1:P"}},
        "fields": dict(FIELD_DEFAULTS),
    }
