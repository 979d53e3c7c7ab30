"""The МеталПром story the soak plays, as the portal's people would: leads keep arriving from mixed
sources (repeat clients and duplicates among them), managers move deals through the sales funnel, the
lawyer's contract comes from the robot (and, for some deals, from the operator's CLI), invoices go to
the two 1C bases through the robot, and the accountant registers payments in 1C — partial, then the
rest for some deals.

People act through an inbound webhook on the same faulty wire as the app (:mod:`b24app.soak.rest`)
and through the 1C sandbox's control API (the accountant works in 1C itself). Like people, they wait
to see the result of a step before the next one (a task on the deal, the contract number, the 1C
invoice): they read that from the app's store, which only paces the story — every invariant is then
checked against the portal and the 1C bases themselves (:mod:`b24app.soak.invariants`).

Everything they did is written to a :class:`Ledger`, the list the invariants are checked against.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from b24app.soak.rest import RestFailed, Webhook

SOURCES = ["UC_YANDEX", "UC_GOOGLE", "UC_SOCIAL", "UC_SEO", "EMAIL", "CALL", "WEBFORM", "UC_CHATBOT"]
MANAGERS = (4, 5)  # Петров, Зуева
FUNNEL = ["PREPARATION", "UC_APPROVAL", "UC_CONTRACT", "UC_DOCS", "UC_AWAIT_PAYMENT"]
TEMPLATED = {"UC_APPROVAL": "approve_invoice", "UC_CONTRACT": "prepare_contract", "UC_AWAIT_PAYMENT": "call_about_payment"}
MP, MPT = 1, 2  # "my company" ids of ООО «МеталПром» and ООО «МеталПром Трейд» in the seed


@dataclass
class LeadRec:
    lead_id: int
    kind: str  # new | repeat | duplicate | junk
    source: str
    created_at: float
    app_down: bool


@dataclass
class PaymentRec:
    deal_id: int
    base: str
    invoice_ref: str
    payment_ref: str
    amount: float
    full: bool


@dataclass
class DealRec:
    deal_id: int
    mycompany: int
    company_id: int
    stages: list[str] = field(default_factory=list)  # templated and other stages the deal entered
    cli_contract: str | None = None  # contract number the operator's CLI issued
    invoice: tuple[str, str] | None = None  # (base, ref) seen in the app's store
    amount: float = 0.0
    finished: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class Ledger:
    leads: dict[int, LeadRec] = field(default_factory=dict)
    deals: dict[int, DealRec] = field(default_factory=dict)
    payments: list[PaymentRec] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text[:500])


def msk_now(minutes_ago: float = 2.0) -> str:
    """A 1C date (Moscow time, no zone) a little in the past, so the app's next pull covers it."""
    now = dt.datetime.now(ZoneInfo("Europe/Moscow")) - dt.timedelta(minutes=minutes_ago)
    return now.replace(tzinfo=None, microsecond=0).isoformat()


def other_format(phone: str) -> str:
    """The same Russian number written another way (``+7 912 345-67-89`` -> ``8 (912) 345-67-89``)."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11 and digits[0] in "78":
        d = digits[1:]
        return f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}"
    return phone


class StoryOver(Exception):
    """The story's time is up: a deal in flight stays where it is (nothing new is started)."""


class InFlight:
    """Counts the managers' calls that make the portal call the app (stage moves fire robots and
    events). Before the app is taken down the runner clears ``app_up`` and waits here until none is
    in flight: a move retried through a 503 burst must not land while the app is down — the portal
    delivers a robot call once, and a robot call the app never got stays waiting for ever."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.n = 0

    def enter(self) -> None:
        with self.cond:
            self.n += 1

    def leave(self) -> None:
        with self.cond:
            self.n -= 1
            self.cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.n == 0, timeout)


class Story:
    """The people of МеталПром on one portal; threads started by :meth:`start`."""

    def __init__(self, *, services: Any, member_id: str, hook: Webhook, control: Callable[..., Any],
                 cli: Callable[..., Any], ledger: Ledger, seed: int, lead_every_s: float, pipelines: int,
                 app_up: threading.Event, stop_new: threading.Event, max_wait_s: float = 150.0,
                 in_flight: InFlight | None = None, app_stopped: threading.Event | None = None) -> None:
        self.services = services
        self.m = member_id
        self.hook = hook
        self.control = control  # (method, path, body) -> JSON, the sandbox's control API
        self.cli = cli  # (*args) -> CompletedProcess of `b24app ...`
        self.ledger = ledger
        self.rng = random.Random(seed)
        self.rng_lock = threading.Lock()
        self.lead_every_s = lead_every_s
        self.pipelines = pipelines
        self.app_up = app_up  # cleared while the app is down: managers wait (leads keep coming)
        # set only while the app's process is really stopped (app_up is cleared a few seconds before,
        # while the managers' calls in flight finish): a lead created then has its event lost
        self.app_stopped = app_stopped or threading.Event()
        self.in_flight = in_flight or InFlight()
        self.stop_new = stop_new  # set at the end of the story: nothing new starts
        self.max_wait_s = max_wait_s
        self.threads: list[threading.Thread] = []
        self.contacts: list[dict[str, Any]] = []
        self.templates: dict[int, list[tuple[int, list[dict[str, Any]]]]] = {MP: [], MPT: []}
        self.bases: dict[int, str] = {}
        self.counter = 0
        self.counter_lock = threading.Lock()
        self.recent_phones: list[str] = []

    # --- setup (before the faults) -----------------------------------------------------------
    def prepare(self) -> None:
        """Read what the people know: contacts (repeat clients), clients with requisites and goods."""
        rows = self.hook.pages("crm.contact.list", {"select": ["ID", "PHONE", "EMAIL", "ASSIGNED_BY_ID"],
                                                     "order": {"ID": "ASC"}})
        self.contacts = [c for c in rows if c.get("PHONE") or c.get("EMAIL")]
        for my in (MP, MPT):
            items = self.hook.call("crm.item.list", {"entityTypeId": 2, "filter": {"mycompanyId": my, "categoryId": 0},
                                                     "select": ["id", "companyId"], "order": {"id": "ASC"}})
            seen: set[int] = set()
            for item in items["items"]:
                company = int(item.get("companyId") or 0)
                if not company or company in seen:
                    continue
                reqs = self.hook.call("crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": company}})
                goods = self.hook.call("crm.deal.productrows.get", {"id": int(item["id"])})
                if not reqs or not goods or not reqs[0].get("RQ_INN") or reqs[0].get("PRESET_ID") not in ("1", 1):
                    continue
                rows_ = [{k: r[k] for k in ("PRODUCT_ID", "PRODUCT_NAME", "PRICE", "QUANTITY", "TAX_RATE",
                                            "TAX_INCLUDED", "MEASURE_NAME") if k in r} for r in goods]
                self.templates[my].append((company, rows_))
                seen.add(company)
                if len(seen) >= 6:
                    break
        for base in self.control("GET", f"/portals/{self.m}/onec"):
            self.bases[MP if base["name"].startswith("metalprom_main") else MPT] = base["name"]
        if not self.templates[MP] or not self.templates[MPT]:
            raise RuntimeError("the МеталПром seed has no clients with requisites and goods for both legal entities")

    def start(self, until: float) -> None:
        self.threads = [threading.Thread(target=self._guard, args=(self.lead_loop, until), name="soak-leads",
                                         daemon=True)]
        self.threads += [threading.Thread(target=self._guard, args=(self.pipeline_loop, until), name=f"soak-deals{i}",
                                          daemon=True) for i in range(self.pipelines)]
        for t in self.threads:
            t.start()

    def join(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self.threads)

    def _guard(self, fn: Callable[[float], None], until: float) -> None:
        try:
            fn(until)
        except StoryOver:
            return
        except Exception as exc:  # a person giving up is recorded; the invariants then say what is missing
            self.ledger.error(f"{threading.current_thread().name}: {exc.__class__.__name__}: {exc}")

    def _next(self) -> int:
        with self.counter_lock:
            self.counter += 1
            return self.counter

    # --- leads -------------------------------------------------------------------------------
    def lead_loop(self, until: float) -> None:
        while time.monotonic() < until and not self.stop_new.is_set():
            self.lead_now()
            with self.rng_lock:
                pause = self.rng.expovariate(1.0 / self.lead_every_s)
            self.stop_new.wait(min(pause, 4 * self.lead_every_s))  # the end of the story wakes it

    def lead_now(self) -> None:
        """One lead now; a lead the portal keeps refusing is recorded as a story error."""
        try:
            self.new_lead()
        except RestFailed as exc:
            self.ledger.error(f"lead: {exc}")

    def new_lead(self) -> int:
        n = self._next()
        with self.rng_lock:
            roll = self.rng.random()
            source = self.rng.choice(SOURCES)
            fields: dict[str, Any] = {"SOURCE_ID": source, "NAME": self.rng.choice(["Андрей", "Мария", "Олег", "Ирина"]),
                                      "LAST_NAME": self.rng.choice(["Смирнов", "Кузнецова", "Попов", "Волкова"])}
            if roll < 0.2 and self.contacts:
                kind = "repeat"
                contact = self.rng.choice(self.contacts)
                phones = contact.get("PHONE") or []
                if phones:
                    fields["PHONE"] = [{"VALUE": other_format(phones[0]["VALUE"]), "VALUE_TYPE": "WORK"}]
                else:
                    fields["EMAIL"] = [{"VALUE": contact["EMAIL"][0]["VALUE"].upper(), "VALUE_TYPE": "WORK"}]
            elif roll < 0.3 and self.recent_phones:
                kind = "duplicate"
                fields["PHONE"] = [{"VALUE": other_format(self.rng.choice(self.recent_phones[-20:])),
                                    "VALUE_TYPE": "WORK"}]
            elif roll < 0.38:
                kind = "junk"
                fields["COMMENTS"] = "Заработок без вложений! http://a.example http://b.example http://c.example"
                fields["PHONE"] = [{"VALUE": f"+7 900 {self.rng.randint(100, 999)}-00-{self.rng.randint(10, 99)}",
                                    "VALUE_TYPE": "WORK"}]
            else:
                kind = "new"
                phone = (f"+7 9{self.rng.randint(10, 99)} {self.rng.randint(100, 999)}-"
                         f"{self.rng.randint(10, 99)}-{self.rng.randint(10, 99)}")
                fields["PHONE"] = [{"VALUE": phone, "VALUE_TYPE": "WORK"}]
                self.recent_phones.append(phone)
        marker = f"soak-L{n}:"
        fields["TITLE"] = f"Заявка {marker} {kind}"
        down = self.app_stopped.is_set()
        lead_id = int(self.hook.call("crm.lead.add", {"fields": fields}, find=lambda: self._find("crm.lead.list", marker)))
        with self.ledger.lock:
            self.ledger.leads[lead_id] = LeadRec(lead_id, kind, source, time.time(), down or self.app_stopped.is_set())
        return lead_id

    def _find(self, method: str, marker: str) -> int | None:
        rows = self.hook.call(method, {"filter": {"%TITLE": marker}, "select": ["ID"]})
        return int(rows[0]["ID"]) if rows else None

    # --- deals -------------------------------------------------------------------------------
    def pipeline_loop(self, until: float) -> None:
        while time.monotonic() < until and not self.stop_new.is_set():
            try:
                self.deal_story()
            except RestFailed as exc:
                self.ledger.error(f"deal: {exc}")
            time.sleep(1.0)

    def _wait_app(self) -> None:
        while not self.app_up.wait(1.0):
            if self.stop_new.is_set():
                raise StoryOver

    @contextmanager
    def _app_call(self) -> Iterator[None]:
        """Wait for the app, then call with the call counted in flight (see :class:`InFlight`)."""
        while True:
            self._wait_app()
            self.in_flight.enter()
            if self.app_up.is_set():
                break
            self.in_flight.leave()  # the app went down between the wait and the count: wait again
        try:
            yield
        finally:
            self.in_flight.leave()

    def _wait(self, what: Callable[[], Any], rec: DealRec, label: str) -> Any:
        deadline = time.monotonic() + self.max_wait_s
        while time.monotonic() < deadline:
            got = what()
            if got:
                return got
            if self.stop_new.is_set():
                raise StoryOver
            time.sleep(2.0)
        rec.notes.append(f"gave up waiting for {label}")
        return None

    def move(self, rec: DealRec, stage: str) -> None:
        with self._app_call():
            if self.stop_new.is_set():
                raise StoryOver
            self.hook.call("crm.deal.update", {"id": rec.deal_id, "fields": {"STAGE_ID": stage}})
            rec.stages.append(stage)

    def deal_story(self) -> DealRec:
        n = self._next()
        with self.rng_lock:
            my = self.rng.choice((MP, MPT))
            company, rows = self.rng.choice(self.templates[my])
            manager = self.rng.choice(MANAGERS)
            cli_contract = n % 3 == 0
            full = self.rng.random() < 0.6
        marker = f"soak-D{n}:"
        with self._app_call():
            deal_id = int(self.hook.call("crm.deal.add", {"fields": {
                "TITLE": f"Поставка {marker} металлопрокат", "COMPANY_ID": company, "CATEGORY_ID": 0,
                "STAGE_ID": "NEW", "ASSIGNED_BY_ID": manager, "CURRENCY_ID": "RUB"}},
                find=lambda: self._find("crm.deal.list", marker)))
            rec = DealRec(deal_id, my, company)
            with self.ledger.lock:
                self.ledger.deals[deal_id] = rec
            self.hook.call("crm.item.update", {"entityTypeId": 2, "id": deal_id, "fields": {"mycompanyId": my}})
            self.hook.call("crm.deal.productrows.set", {"id": deal_id, "rows": rows})
        db, m = self.services.db, self.m
        from b24app.contracts import register
        from b24app.stages import repo
        from b24app.sync_1c import state

        def task_of(stage: str) -> Callable[[], Any]:
            return lambda: [t for t in repo.tasks_of_item(db, m, "deal", deal_id) if t.stage_id == stage]

        for stage in FUNNEL:
            self.move(rec, stage)
            if stage in TEMPLATED:
                self._wait(task_of(stage), rec, f"the task of {stage}")
            if stage == "UC_CONTRACT":
                self._wait(lambda: register.active_for(db, m, deal_id, "prepayment"), rec, "the robot's contract")
            elif stage == "UC_DOCS" and cli_contract:
                rec.cli_contract = self.cli_contract(rec)
            elif stage == "UC_AWAIT_PAYMENT":
                inv = self._wait(lambda: state.invoice_for_deal(db, m, deal_id), rec, "the 1C invoice")
                if inv is not None:
                    rec.invoice, rec.amount = (inv.base, inv.ref_key), float(inv.amount)
            else:
                time.sleep(1.0)
        if rec.invoice is not None and rec.amount > 0:
            self.pay(rec, round(rec.amount * 0.4, 2), full=False)
            if full:
                self.stop_new.wait(self.rng.uniform(5.0, 20.0))
                if self.stop_new.is_set():
                    raise StoryOver
                self.pay(rec, round(rec.amount - round(rec.amount * 0.4, 2), 2), full=True)
        rec.finished = True
        return rec

    def cli_contract(self, rec: DealRec) -> str | None:
        """The operator issues a deferred-payment contract for the deal with ``b24app contracts issue``
        (repeated, as an operator would, when the portal's faults make it fail)."""
        import json

        for attempt in range(6):
            self._wait_app()
            out = self.cli("contracts", "issue", "--portal", self.m, "--deal", str(rec.deal_id), "--type", "deferred",
                           "--json")
            if out.returncode == 0:
                return str(json.loads(out.stdout[out.stdout.index("{"):])["number"])
            rec.notes.append(f"contracts issue attempt {attempt + 1}: exit {out.returncode}: "
                             f"{(out.stderr or '').strip().splitlines()[-1:]}")
            time.sleep(3.0)
        return None

    def pay(self, rec: DealRec, amount: float, *, full: bool) -> None:
        """The accountant registers a bank payment against the deal's invoice in 1C."""
        assert rec.invoice is not None
        base, ref = rec.invoice
        got = self.control("POST", f"/onec/{base}/payments", {"invoice_ref": ref, "amount": amount,
                                                               "date": msk_now(2.0), "kind": "bank"})
        with self.ledger.lock:
            self.ledger.payments.append(PaymentRec(rec.deal_id, base, ref, got["ref_key"], amount, full))
