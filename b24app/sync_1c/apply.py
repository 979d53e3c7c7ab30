"""Local 1C state -> Bitrix24: the deal's fields, a timeline comment per payment (and per
reversal), stage moves, the smart invoice (linked, created for invoices made in 1C, moved through
its stages).

Everything here is idempotent: what was last written is kept in ``sync_1c_applied`` per invoice,
comments go through b24app.store.effects (key per payment and per activation), a repeat with the
same state writes nothing. Our own portal writes never come back as 1C changes (the pull compares
1C's DataVersion with the one we wrote), and the smart invoices we create carry ``xmlId =
1c:<base>:<ref>`` so the smart-invoice subscription does not push them back to 1C.
"""

from __future__ import annotations

import logging
from typing import Any

from b24app.errors import BitrixError, DataError
from b24app.messages import t
from b24app.store import effects
from b24app.sync_1c import connections, state
from b24app.sync_1c.settings_schema import FIELD_DEFAULTS

log = logging.getLogger("b24app.sync_1c.apply")

FIELD_TYPES = {
    "invoice_number": "string", "invoice_date": "date", "invoice_ref": "string", "invoice_link": "url",
    "base": "string", "paid": "double", "remaining": "double", "last_payment_date": "date", "payments": "string",
}
STATUS_ORDER = {"unpaid": 0, "partial": 1, "paid": 2}


def marker(base: str, ref: str) -> str:
    """``xmlId`` of a smart invoice bound to a 1C invoice."""
    return f"1c:{base}:{ref}"


def money(x: float) -> str:
    text = f"{x:,.2f}".replace(",", " ").replace(".", ",")
    return f"{text} ₽"


def ru_date(iso: str | None) -> str:
    if not iso:
        return ""
    return f"{iso[8:10]}.{iso[5:7]}.{iso[0:4]}"


def lang_of(settings: dict[str, Any]) -> str:
    return str((settings.get("general") or {}).get("lang") or "ru")


# -- deal fields ------------------------------------------------------------------------------------
def field_names(settings: dict[str, Any]) -> dict[str, str]:
    names = dict(FIELD_DEFAULTS)
    names.update(connections.section(settings).get("fields") or {})
    return names


def ensure_fields(services: Any, member_id: str, client: Any, settings: dict[str, Any]) -> None:
    """Create the deal user fields the sync writes (once; an effect key per set of names)."""
    names = field_names(settings)
    key = "sync_1c:fields:" + ",".join(f"{k}={names[k]}" for k in sorted(names))

    def create() -> list[str]:
        existing = {str(f.get("FIELD_NAME")) for f in client.get_all("crm.deal.userfield.list", {}) or []}
        added = []
        for what, name in names.items():
            if name in existing:
                continue
            label = {"ru": t(f"sync.field.{what}", "ru"), "en": t(f"sync.field.{what}", "en")}
            try:
                client.call("crm.deal.userfield.add", {"fields": {
                    "FIELD_NAME": name[len("UF_CRM_"):], "USER_TYPE_ID": FIELD_TYPES[what], "XML_ID": name,
                    "EDIT_FORM_LABEL": label, "LIST_COLUMN_LABEL": label, "LIST_FILTER_LABEL": label,
                    "SHOW_FILTER": "Y", "EDIT_IN_LIST": "N"}})
            except BitrixError as exc:
                if "exist" not in exc.description.lower() and "уже" not in exc.description.lower():
                    raise
            added.append(name)
        return added

    effects.ensure(services.db, member_id, key, create)


def payments_text(payments: list[dict[str, Any]]) -> str:
    lines = []
    for p in payments:
        if not p["active"]:
            continue
        doc = "ПКО" if p["kind"] == "cash" else "п/п"
        lines.append(f"{ru_date(p['pay_date'][:10])} — {money(float(p['amount']))} ({doc} № {p['number']})")
    return "\n".join(lines)


def deal_fields(settings: dict[str, Any], inv: state.Invoice, payments: list[dict[str, Any]]) -> dict[str, Any]:
    names = field_names(settings)
    return {
        names["invoice_number"]: inv.number,
        names["invoice_date"]: (inv.doc_date or "")[:10],
        names["invoice_ref"]: inv.ref_key,
        names["invoice_link"]: inv.link,
        names["base"]: inv.base,
        names["paid"]: round(inv.paid, 2),
        names["remaining"]: inv.outstanding,
        names["last_payment_date"]: inv.last_payment_date or "",
        names["payments"]: payments_text(payments),
    }


# -- stages -------------------------------------------------------------------------------------------
class Funnels:
    """Stage order and semantics of deal funnels (read once per run)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._cache: dict[int, dict[str, tuple[int, str]]] = {}

    def stages(self, category: int) -> dict[str, tuple[int, str]]:
        if category not in self._cache:
            entity = "DEAL_STAGE" if category == 0 else f"DEAL_STAGE_{category}"
            rows = self.client.call("crm.status.list", {"filter": {"ENTITY_ID": entity}}) or []
            self._cache[category] = {
                str(r["STATUS_ID"]): (int(r.get("SORT") or 0),
                                      str((r.get("EXTRA") or {}).get("SEMANTICS") or r.get("SEMANTICS") or "process"))
                for r in rows}
        return self._cache[category]


def stage_target(settings: dict[str, Any], category: int, status: str) -> str:
    conf = (connections.section(settings).get("stages") or {}).get(str(category)) or {}
    return str(conf.get(status) or "")


def decide_move(funnel: dict[str, tuple[int, str]], current: str, target: str, managed: set[str],
                forward: bool) -> bool:
    """Move forward only from an earlier open stage; move back only from a stage the payments put the
    deal in (so a deal already shipped or closed is never dragged back)."""
    if not target or target == current or target not in funnel or current not in funnel:
        return False
    cur_sort, cur_sem = funnel[current]
    tgt_sort, _ = funnel[target]
    if cur_sem not in ("process", "P", ""):
        return False
    if forward:
        return tgt_sort > cur_sort
    return current in managed and tgt_sort < cur_sort


# -- the writes ---------------------------------------------------------------------------------------
def apply_invoice(services: Any, member_id: str, settings: dict[str, Any], client: Any, inv: state.Invoice,
                  funnels: Funnels | None = None) -> dict[str, Any]:
    """Write an invoice's 1C state to its deal and smart invoice; returns what was done."""
    lang = lang_of(settings)
    prev = state.applied(services.db, member_id, inv.base, inv.ref_key)
    payments = state.payments_of_invoice(services.db, member_id, inv.base, inv.ref_key)
    done: dict[str, Any] = {"invoice": inv.ref_key, "comments": 0, "stage": None, "smart_invoice": None}
    prev_pay: dict[str, Any] = prev.get("payments") or {}
    new_pay: dict[str, Any] = {}
    events: list[tuple[str, dict[str, Any], int]] = []  # (kind, payment, activation no)
    for p in payments:
        before = prev_pay.get(p["ref_key"]) or {"active": False, "n": 0}
        n = int(before.get("n", 0))
        if p["active"] and not before.get("active"):
            n += 1
            events.append(("payment", p, n))
        elif not p["active"] and before.get("active"):
            events.append(("reversal", p, n))
        new_pay[p["ref_key"]] = {"active": bool(p["active"]), "n": n, "amount": float(p["amount"])}
    for ref, before in prev_pay.items():
        if ref not in new_pay:
            new_pay[ref] = {**before, "active": False}
            if before.get("active"):
                events.append(("reversal", {"ref_key": ref, "amount": before.get("amount", 0), "number": "",
                                            "pay_date": "", "kind": "bank", "active": 0}, int(before.get("n", 0))))
    status = inv.status if inv.live else "unpaid"
    new_state: dict[str, Any] = {"payments": new_pay, "status": status, "paid": inv.paid, "amount": inv.amount,
                                 "live": inv.live}
    if inv.deal_id:
        try:
            _apply_deal(services, member_id, settings, client, inv, payments, prev, new_state, events, lang,
                        funnels or Funnels(client), done)
        except BitrixError as exc:
            if exc.code in ("NOT_FOUND", "") and "not found" in exc.description.lower():
                raise DataError(f"deal {inv.deal_id} of 1C invoice {inv.number} no longer exists in Bitrix24 / "
                                f"сделка {inv.deal_id} удалена") from exc
            raise
    if inv.smart_invoice_id or (inv.origin == "onec" and inv.company_id):
        done["smart_invoice"] = _apply_smart_invoice(services, member_id, settings, client, inv, prev, new_state)
    state.put_applied(services.db, member_id, inv.base, inv.ref_key, new_state)
    return done


def _apply_deal(services: Any, member_id: str, settings: dict[str, Any], client: Any, inv: state.Invoice,
                payments: list[dict[str, Any]], prev: dict[str, Any], new_state: dict[str, Any],
                events: list[tuple[str, dict[str, Any], int]], lang: str, funnels: Funnels, done: dict[str, Any]) -> None:
    deal_id = int(inv.deal_id or 0)
    fields = deal_fields(settings, inv, payments)
    new_state["fields"] = fields
    if prev.get("fields") != fields:
        ensure_fields(services, member_id, client, settings)
        client.call("crm.deal.update", {"id": deal_id, "fields": fields})
    for kind, p, n in events:
        paid_then = _paid_until(payments, p) if kind == "payment" else inv.paid
        if kind == "payment":
            text = t("sync.comment.payment", lang, number=inv.number, invoice_date=ru_date(inv.doc_date[:10]),
                     amount=money(float(p["amount"])), doc=t("sync.doc." + p["kind"], lang), pay_number=p["number"],
                     pay_date=ru_date(p["pay_date"][:10]), paid=money(paid_then), total=money(inv.amount),
                     remaining=money(max(inv.amount - paid_then, 0.0)), base=inv.base)
        else:
            text = t("sync.comment.reversal", lang, number=inv.number, amount=money(float(p["amount"])),
                     pay_number=p.get("number") or "", pay_date=ru_date(str(p.get("pay_date") or "")[:10]),
                     paid=money(inv.paid), total=money(inv.amount), remaining=money(inv.outstanding), base=inv.base)
        key = f"sync_1c:comment:{inv.base}:{inv.ref_key}:{p['ref_key']}:{kind}:{n}"
        _comment(services, member_id, client, deal_id, key, text)
        done["comments"] += 1
    if prev.get("live", True) and not inv.live:
        text = t("sync.comment.invoice_gone", lang, number=inv.number, base=inv.base,
                 why=t("sync.why.deleted" if inv.deleted else "sync.why.marked", lang))
        _comment(services, member_id, client, deal_id, f"sync_1c:comment:{inv.base}:{inv.ref_key}:gone", text)
    # stage moves
    status = new_state["status"]
    old = prev.get("status", "unpaid")
    if status == old:
        return
    deal = client.call("crm.deal.get", {"id": deal_id}) or {}
    category = int(deal.get("CATEGORY_ID") or 0)
    current = str(deal.get("STAGE_ID") or "")
    target = stage_target(settings, category, status)
    conf = (connections.section(settings).get("stages") or {}).get(str(category)) or {}
    managed = {str(conf.get("partial") or ""), str(conf.get("paid") or "")} - {""}
    forward = STATUS_ORDER[status] > STATUS_ORDER.get(old, 0)
    if decide_move(funnels.stages(category), current, target, managed, forward):
        client.call("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": target}})
        done["stage"] = target
        if not forward:
            text = t("sync.comment.moved_back", lang, number=inv.number, stage=target)
            _comment(services, member_id, client, deal_id,
                     f"sync_1c:comment:{inv.base}:{inv.ref_key}:back:{current}:{target}:{len(events)}:"
                     f"{round(inv.paid, 2)}", text)


def _paid_until(payments: list[dict[str, Any]], p: dict[str, Any]) -> float:
    """The invoice's paid sum counting the active payments up to and including ``p`` (by date, ref)."""
    mark = (p["pay_date"], p["ref_key"])
    return round(sum(float(x["amount"]) for x in payments if x["active"] and (x["pay_date"], x["ref_key"]) <= mark), 2)


def _comment(services: Any, member_id: str, client: Any, deal_id: int, key: str, text: str) -> int:
    def create() -> int:
        return int(client.call("crm.timeline.comment.add", {"fields": {
            "ENTITY_ID": deal_id, "ENTITY_TYPE": "deal", "COMMENT": text}}))

    def find() -> int | None:
        rows = client.call("crm.timeline.comment.list", {
            "filter": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"}, "order": {"ID": "DESC"}}) or []
        for row in rows:
            if row.get("COMMENT") == text:
                return int(row["ID"])
        return None

    return int(effects.ensure(services.db, member_id, key, create, find))


# -- smart invoices -------------------------------------------------------------------------------------
def _smart_stage(settings: dict[str, Any], category: int, status: str) -> str:
    conf = (connections.section(settings).get("invoice_stages") or {}).get(str(category)) or {}
    return str(conf.get(status) or "")


def _apply_smart_invoice(services: Any, member_id: str, settings: dict[str, Any], client: Any,
                         inv: state.Invoice, prev: dict[str, Any], new_state: dict[str, Any]) -> int | None:
    smart_id = inv.smart_invoice_id
    if smart_id is None:
        smart_id = create_smart_invoice(services, member_id, settings, client, inv)
        if smart_id is None:
            return None
    try:
        item = (client.call("crm.item.get", {"entityTypeId": 31, "id": smart_id}) or {}).get("item") or {}
    except BitrixError as exc:
        if exc.code == "NOT_FOUND":
            return None  # deleted in Bitrix24: nothing to move
        raise
    category = int(item.get("categoryId") or 0)
    target = _smart_stage(settings, category, new_state["status"])
    current = str(item.get("stageId") or "")
    fields: dict[str, Any] = {}
    if target and target != current and not current.endswith(":D"):
        fields["stageId"] = target
    if inv.origin == "onec" and abs(float(item.get("opportunity") or 0) - inv.amount) > 0.005:
        fields["opportunity"] = inv.amount
    if fields:
        client.call("crm.item.update", {"entityTypeId": 31, "id": smart_id, "fields": fields})
    return smart_id


def create_smart_invoice(services: Any, member_id: str, settings: dict[str, Any], client: Any,
                         inv: state.Invoice, deal: dict[str, Any] | None = None) -> int | None:
    """A smart invoice for a 1C invoice (bound by ``xmlId``; created once, found again after a crash)."""
    push = connections.section(settings).get("push") or {}
    base = connections.base_config(settings, inv.base)
    mark = marker(inv.base, inv.ref_key)
    lang = lang_of(settings)

    def find() -> int | None:
        res = client.call("crm.item.list", {"entityTypeId": 31, "filter": {"xmlId": mark}, "select": ["id"]}) or {}
        items = res.get("items") if isinstance(res, dict) else None
        return int(items[0]["id"]) if items else None

    def create() -> int:
        fields: dict[str, Any] = {
            "title": t("sync.smart_invoice.title", lang, number=inv.number, date=ru_date(inv.doc_date[:10])),
            "xmlId": mark, "accountNumber": inv.number, "opportunity": inv.amount, "currencyId": "RUB",
            "begindate": inv.doc_date[:10] or None, "closedate": inv.due_date,
            "comments": t("sync.smart_invoice.comment", lang, base=inv.base, link=inv.link or inv.ref_key),
        }
        if inv.company_id:
            fields["companyId"] = inv.company_id
        if int(base.get("mycompany_id") or 0):
            fields["mycompanyId"] = int(base["mycompany_id"])
        if deal is not None:
            fields.update(parentId2=int(deal["id"]), assignedById=deal.get("assignedById"),
                          mycompanyId=deal.get("mycompanyId") or fields.get("mycompanyId"),
                          contactId=deal.get("contactId") or None)
        category = int(push.get("smart_invoice_category", -1))
        if category >= 0:
            fields["categoryId"] = category
        fields = {k: v for k, v in fields.items() if v not in (None, "")}
        res = client.call("crm.item.add", {"entityTypeId": 31, "fields": fields}) or {}
        return int((res.get("item") or {})["id"])

    smart_id = effects.ensure(services.db, member_id, f"sync_1c:smart:{inv.base}:{inv.ref_key}", create, find)
    state.link_invoice(services.db, member_id, inv.base, inv.ref_key, smart_invoice_id=int(smart_id))
    return int(smart_id)


def write_back(services: Any, member_id: str, settings: dict[str, Any], client: Any, inv: state.Invoice,
               deal: dict[str, Any], *, smart_invoice_id: int | None = None) -> int | None:
    """After a push: the deal's fields, and the smart invoice linked (or created) per settings."""
    push = connections.section(settings).get("push") or {}
    mode = str(push.get("smart_invoice") or "link_or_create")
    smart = smart_invoice_id or inv.smart_invoice_id
    if smart is None and mode != "off":
        res = client.call("crm.item.list", {"entityTypeId": 31, "filter": {"parentId2": int(deal["id"])},
                                            "select": ["id", "xmlId", "stageId"], "order": {"id": "DESC"}}) or {}
        for item in (res.get("items") or []) if isinstance(res, dict) else []:
            xml = str(item.get("xmlId") or "")
            if not xml or xml == marker(inv.base, inv.ref_key):
                smart = int(item["id"])
                break
        if smart is None and mode == "link_or_create":
            smart = create_smart_invoice(services, member_id, settings, client, inv, deal)
    if smart is not None and mode != "off":
        lang = lang_of(settings)
        client.call("crm.item.update", {"entityTypeId": 31, "id": smart, "fields": {
            "xmlId": marker(inv.base, inv.ref_key), "accountNumber": inv.number,
            "comments": t("sync.smart_invoice.comment", lang, base=inv.base, link=inv.link or inv.ref_key)}})
        state.link_invoice(services.db, member_id, inv.base, inv.ref_key, smart_invoice_id=smart)
    fresh = state.invoice(services.db, member_id, inv.base, inv.ref_key)
    if fresh is not None:
        apply_invoice(services, member_id, settings, client, fresh)
    return smart
