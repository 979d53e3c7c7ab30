"""Overdue payments -> pre-trial claim.

For deals in the stages that await payment (and in the claim stage), the due date and the amounts come
from the 1C sync feature (``b24app.sync_1c.api.payment_status``) when it knows the deal, else from the
deal's own fields named in the settings (due date, paid amount, invoice number; the amount is the
deal's ``OPPORTUNITY``). As the days overdue grow, the configured steps run, each once per
(deal, invoice, step):

- ``remind_manager``: an im notification to the deal's responsible;
- ``lawyer_task``: a task «Досудебная претензия» for the lawyer with the debt, invoice and contract;
- ``move_to_claim``: the deal goes to the claim stage (another funnel: ``crm.item.update`` with
  ``categoryId``, as ``crm.deal.update`` drops a category change);
- ``claim_document``: the pre-trial claim document through the contracts feature
  (``b24app.contracts.service.issue_contract(ctx, deal_id, "claim")``); when that feature is missing the
  step logs "contracts feature not available" and is tried again by the next scan, the other steps run.

When the outstanding amount reaches zero the steps stop; if any step had run, the manager (and the
lawyer, when a claim task exists) are told once that the payment arrived.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from b24app import clock
from b24app.calendar.settings_section import business_calendar
from b24app.errors import B24AppError
from b24app.messages import t
from b24app.stages import items, render, repo
from b24app.stages.creation import lang_of
from b24app.stages.deadlines import days_overdue, parse_date, pay_steps_due, task_deadline
from b24app.stages.failures import permanent
from b24app.stages.model import PaymentsConfig, PayStep, sla_config
from b24app.stages.notify import Outbox
from b24app.stages.settings_schema import PRIORITIES, category_of
from b24app.stages.tasks import TaskSpec, ensure_task, item_lease
from b24app.store import effects

log = logging.getLogger("b24app.stages")

SELECT = ["ID", "TITLE", "STAGE_ID", "CATEGORY_ID", "ASSIGNED_BY_ID", "OPPORTUNITY", "CURRENCY_ID", "COMPANY_ID"]


@dataclass(frozen=True)
class PayState:
    source: str  # "1c" | "deal_fields"
    due_date: dt.date | None
    amount: Decimal
    paid: Decimal
    outstanding: Decimal
    last_payment_date: dt.date | None
    invoice_number: str | None

    @property
    def invoice_key(self) -> str:
        return self.invoice_number or (f"due-{self.due_date.isoformat()}" if self.due_date else "none")


def _optional(module: str, attr: str) -> Any:
    """``module.attr`` if that feature is installed, else None (its own import errors propagate)."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            return None
        raise
    return getattr(mod, attr, None)


def decimal(value: Any) -> Decimal:
    """Amounts as portals write them: ``150000.00``, ``150000|RUB``, ``150 000,50``."""
    text = str(value if value is not None else "").split("|", 1)[0].replace(" ", "").replace("\u00a0", "")
    text = text.replace(",", ".")
    try:
        return Decimal(text) if text else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def payment_status(ctx: Any, cfg: PaymentsConfig, deal: dict[str, Any], tz: dt.tzinfo) -> PayState | None:
    """The deal's invoice state: from 1C when the sync knows the deal, else from the deal's fields."""
    api = _optional("b24app.sync_1c.api", "payment_status")
    if api is not None:
        got = api(ctx.db, ctx.member_id, int(deal["ID"]))
        if got is not None:
            return PayState("1c", got.due_date, decimal(got.amount), decimal(got.paid), decimal(got.outstanding),
                            got.last_payment_date, got.invoice_number or None)
    if not cfg.due_date_field:
        return None
    due = parse_date(deal.get(cfg.due_date_field), tz)
    if due is None:
        return None
    amount = decimal(deal.get("OPPORTUNITY"))
    paid = decimal(deal.get(cfg.paid_field)) if cfg.paid_field else Decimal(0)
    invoice = str(deal.get(cfg.invoice_field) or "").strip() if cfg.invoice_field else ""
    return PayState("deal_fields", due, amount, paid, max(Decimal(0), amount - paid), None, invoice or None)


def select_fields(cfg: PaymentsConfig) -> list[str]:
    extra = [f for f in (cfg.due_date_field, cfg.paid_field, cfg.invoice_field, cfg.contract_field) if f]
    return [*SELECT, *dict.fromkeys(extra)]


def scan(ctx: Any) -> dict[str, Any]:
    """One pass over the deals awaiting payment (and those already on the claim path)."""
    settings = ctx.settings()
    cfg = sla_config(settings).payments
    if not cfg.enabled or not cfg.candidate_stages():
        return {"skipped": "overdue payments are off"}
    bc = business_calendar(settings)
    now = clock.utcnow()
    today = now.astimezone(bc.tz).date()
    run = _Run(ctx, settings, cfg, bc, today)
    seen: set[int] = set()
    for page in ctx.client.iter_pages("crm.deal.list", {"filter": {"@STAGE_ID": cfg.candidate_stages()},
                                                        "select": select_fields(cfg)}):
        for deal in page:
            seen.add(int(deal["ID"]))
            run.deal(deal)
        run.outbox.flush()
        ctx.extend_lease(600)
    # deals on the path that left the awaiting stages (e.g. the 1C sync moved them on payment)
    gone = sorted({int(r["deal_id"]) for r in repo.payments(ctx.db, ctx.member_id, "overdue")} - seen)
    for start in range(0, len(gone), 50):
        res = ctx.client.batch({f"d{i}": ("crm.deal.get", {"id": i}) for i in gone[start:start + 50]})
        for i in gone[start:start + 50]:
            deal = res.results.get(f"d{i}")
            if isinstance(deal, dict):
                run.deal(deal)
            else:  # deleted
                repo.set_deal_payment_status(ctx.db, ctx.member_id, i, "gone")
        run.outbox.flush()
    run.outbox.flush()
    return run.stats


class _Run:
    def __init__(self, ctx: Any, settings: dict[str, Any], cfg: PaymentsConfig, bc: Any, today: dt.date) -> None:
        self.ctx, self.settings, self.cfg, self.bc, self.today = ctx, settings, cfg, bc, today
        self.lang = lang_of(settings)
        self.outbox = Outbox(ctx)
        self.stats = {"deals": 0, "overdue": 0, "paid": 0, "steps": 0}

    def deal(self, deal: dict[str, Any]) -> None:
        ctx, cfg = self.ctx, self.cfg
        deal_id = int(deal["ID"])
        st = payment_status(ctx, cfg, deal, self.bc.tz)
        if st is None:
            return
        self.stats["deals"] += 1
        invoice = st.invoice_key
        days = days_overdue(st.due_date, self.today, cfg.count_days, self.bc)
        prev = repo.payment_of(ctx.db, ctx.member_id, deal_id, invoice)
        row = {"deal_id": deal_id, "invoice": invoice, "title": str(deal.get("TITLE") or ""),
               "assigned_by_id": items.assigned(deal), "source": st.source,
               "due_date": st.due_date.isoformat() if st.due_date else None, "amount": float(st.amount),
               "paid": float(st.paid), "outstanding": float(st.outstanding), "days_overdue": days}
        if st.outstanding <= Decimal("0.005"):
            self.stats["paid"] += 1
            if prev is not None and prev["status"] == "overdue" and prev["last_step"]:
                self._paid(deal, st)
            repo.put_payment(ctx.db, ctx.member_id, {**row, "status": "paid"})
            return
        due_steps = pay_steps_due(cfg.steps, days, float(st.outstanding))
        if not due_steps:
            repo.put_payment(ctx.db, ctx.member_id, {**row, "status": "overdue" if days > 0 else "not_due"})
            return
        self.stats["overdue"] += 1
        last = ""
        for step in due_steps:
            try:
                if self._step(deal, st, days, step):
                    last = step.code
            except B24AppError as exc:
                if not permanent(exc):
                    raise  # transient: the whole scan is retried (every step is keyed)
                repo.log_payment_step(ctx.db, ctx.member_id, deal_id, invoice, step.code, "error", exc.message)
                log.warning("overdue-payment step failed", extra={"member_id": ctx.member_id, "deal_id": deal_id,
                                                                  "step": step.code, "error": str(exc)})
        repo.put_payment(ctx.db, ctx.member_id, {**row, "status": "overdue", "last_step": last})

    # --- steps -------------------------------------------------------------------------------------
    def _words(self, deal: dict[str, Any], st: PayState, days: int) -> dict[str, Any]:
        client = self.ctx.client
        cur = str(deal.get("CURRENCY_ID") or "RUB")
        return {
            "title": str(deal.get("TITLE") or f"#{deal['ID']}"),
            "link": items.link(client.client_endpoint, "deal", int(deal["ID"])),
            "invoice": st.invoice_number or t("stages.pay.no_invoice", self.lang),
            "due": st.due_date.strftime("%d.%m.%Y") if st.due_date else "—",
            "days": days, "debt": render.money(st.outstanding, cur, self.lang),
            "amount": render.money(st.amount, cur, self.lang), "paid": render.money(st.paid, cur, self.lang),
        }

    def _key(self, deal_id: int, st: PayState, code: str) -> str:
        return f"stages:pay:{deal_id}:{st.invoice_key}:{code}"

    def _step(self, deal: dict[str, Any], st: PayState, days: int, step: PayStep) -> bool:
        """Run one step once; True when it is done (now or earlier)."""
        ctx = self.ctx
        deal_id = int(deal["ID"])
        key = self._key(deal_id, st, step.code)
        state = effects.get(ctx.db, ctx.member_id, key)
        if state is not None and state[0] == effects.DONE:
            return True
        words = self._words(deal, st, days)
        if step.action == "remind_manager":
            self.outbox.notify(key, items.assigned(deal), t("stages.pay.remind", self.lang, **words))
            self.outbox.flush()
            done = effects.get(ctx.db, ctx.member_id, key)
            ok = bool(done and done[0] == effects.DONE)
            repo.log_payment_step(ctx.db, ctx.member_id, deal_id, st.invoice_key, step.code,
                                  "done" if ok else "error", f"notified user {items.assigned(deal)}")
        elif step.action == "lawyer_task":
            task_id = self._lawyer_task(deal, st, words, key)
            repo.log_payment_step(ctx.db, ctx.member_id, deal_id, st.invoice_key, step.code, "done",
                                  f"task {task_id} for user {self.cfg.lawyer_id}")
        elif step.action == "move_to_claim":
            moved = self._move(deal, key)
            repo.log_payment_step(ctx.db, ctx.member_id, deal_id, st.invoice_key, step.code, "done",
                                  f"deal in {moved}")
        elif step.action == "claim_document":
            issue = _optional("b24app.contracts.service", "issue_contract")
            if issue is None:
                repo.log_payment_step(ctx.db, ctx.member_id, deal_id, st.invoice_key, step.code, "unavailable",
                                      t("stages.pay.contracts_unavailable", self.lang))
                log.warning("contracts feature not available: no claim document",
                            extra={"member_id": ctx.member_id, "deal_id": deal_id})
                return False
            accepted = inspect.signature(issue).parameters
            kwargs: dict[str, Any] = {"idempotency_key": key} if "idempotency_key" in accepted else {}
            if "extra" in accepted:  # the claim states the debt actually outstanding, not the deal amount
                kwargs["extra"] = {"debt": float(st.outstanding)}
            with item_lease(ctx, "deal", deal_id):
                doc = effects.ensure(ctx.db, ctx.member_id, key,
                                     lambda: issue(ctx, deal_id, type_code="claim", **kwargs))
            doc = doc if isinstance(doc, dict) else {"result": doc}
            repo.log_payment_step(ctx.db, ctx.member_id, deal_id, st.invoice_key, step.code, "done",
                                  f"document {doc.get('number', '')} {doc.get('date', '')} file {doc.get('file_id', '')}")
        self.stats["steps"] += 1
        return True

    def _lawyer_task(self, deal: dict[str, Any], st: PayState, words: dict[str, Any], key: str) -> int:
        ctx, cfg = self.ctx, self.cfg
        deal_id = int(deal["ID"])
        spec_cfg = cfg.lawyer_task
        company = render.related(ctx.client, deal, {"COMPANY"}).get("company") or words["title"]
        contract = str(deal.get(cfg.contract_field) or "").strip() if cfg.contract_field else ""
        manager_id = items.assigned(deal)
        from b24app.stages.org import load

        manager = load(ctx.client, ctx.member_id).name(manager_id) if manager_id else "—"
        words = {**words, "company": company, "contract": contract or t("stages.pay.no_contract", self.lang),
                 "manager": manager}
        fields = {**deal, "COMPANY": company, "CONTRACT": words["contract"], "DEBT": words["debt"],
                  "INVOICE": words["invoice"], "DUE": words["due"], "DAYS": str(words["days"]),
                  "LINK": words["link"], "MANAGER": manager}
        title = render.render(spec_cfg.get("title") or "", fields) or t("stages.pay.lawyer_task.title", self.lang,
                                                                          **words)
        description = render.render(spec_cfg.get("description") or "", fields) or t(
            "stages.pay.lawyer_task.description", self.lang, **words)
        lawyer = int(cfg.lawyer_id or 0)
        deadline = task_deadline(clock.utcnow(), spec_cfg.get("deadline") or {}, business_calendar(self.settings, lawyer))
        return ensure_task(ctx, TaskSpec(
            key=key, title=title, description=description, responsible_id=lawyer, entity="deal", item_id=deal_id,
            binding=f"D_{deal_id}", stage_id="payments", entry=st.invoice_key, template_id="claim",
            deadline=deadline, auditors=(manager_id,) if manager_id else (),
            priority=PRIORITIES.get(str(spec_cfg.get("priority") or "high"), 2),
        ), self.lang)

    def _move(self, deal: dict[str, Any], key: str) -> str:
        ctx, target = self.ctx, self.cfg.claim_stage
        deal_id = int(deal["ID"])

        def find() -> str | None:
            current = items.fetch(ctx.client, "deal", deal_id) or {}
            return target if current.get("STAGE_ID") == target else None

        def create() -> str:
            if str(deal.get("STAGE_ID")) != target:
                ctx.client.call("crm.item.update", {"entityTypeId": 2, "id": deal_id,
                                                    "fields": {"categoryId": category_of(target), "stageId": target}})
            return target

        with item_lease(ctx, "deal", deal_id):
            return str(effects.ensure(ctx.db, ctx.member_id, key, create, find))

    def _paid(self, deal: dict[str, Any], st: PayState) -> None:
        ctx = self.ctx
        deal_id = int(deal["ID"])
        words = self._words(deal, st, 0)
        message = t("stages.pay.paid", self.lang, **words)
        self.outbox.notify(self._key(deal_id, st, "paid:manager"), items.assigned(deal), message)
        if effects.get(ctx.db, ctx.member_id, self._key(deal_id, st, self._lawyer_code())) and self.cfg.lawyer_id:
            self.outbox.notify(self._key(deal_id, st, "paid:lawyer"), self.cfg.lawyer_id, message)
        repo.log_payment_step(ctx.db, ctx.member_id, deal_id, st.invoice_key, "paid", "done",
                              f"paid {st.paid} of {st.amount}")

    def _lawyer_code(self) -> str:
        for s in self.cfg.steps:
            if s.action == "lawyer_task":
                return s.code
        return "lawyer_task"

