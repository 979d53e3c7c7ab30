"""The soak's invariants: what must hold after the story, the faults and the settle.

:func:`collect` reads the truth — the portal (through the webhook, with the faults off), the 1C bases
(the sandbox's document lists), the app's store (decisions, the contract register, the 1C payments,
the jobs) and the run's log files — into plain :class:`Facts`; the ``check_*`` functions are pure:
they compare the facts with the :class:`~b24app.soak.story.Ledger` of what the people did and
return ``(ok, details)``. Details name every offending item, so a failure says what broke.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from b24app.soak.story import TEMPLATED, Ledger

TASK_MARKER = "b24app-st-"
TEMPLATE_TITLES = {"approve_invoice": "Согласовать счёт", "prepare_contract": "Подготовить договор",
                   "call_about_payment": "Позвонить клиенту об оплате"}
INVOICE_SETS = {"bp30": ["Document_СчетНаОплатуПокупателю"], "ut11": ["Document_СчетНаОплатуКлиенту",
                                                                     "Document_ЗаказКлиента"]}
CONTRACT_COMMENT = "Сформирован документ"
PAYMENT_COMMENT = "Оплата по счёту № "
PAID_FIELD, CONTRACT_FIELD = "UF_CRM_B24APP_1C_PAID", "UF_CRM_B24APP_CONTRACT_NO"
KEY_RE = re.compile(r"\[b24app ([0-9A-Za-z]{1,8})-(\d+)-(\d+)\]")
ACTIONS = ("RETRY", "RATE_LIMITED", "REFRESH_THEN_RETRY", "FAIL_CONFIG", "FAIL_DATA")
ACCESS_TTL_S = 3600  # a portal's access token lives an hour: a long run may see natural expiries too

TITLES = {
    "leads_assigned_exactly_once": "каждый лид распределён ровно один раз / every lead assigned exactly once",
    "stage_tasks_created_once": "каждая задача стадии создана один раз / every stage task created once",
    "contract_numbers_unique_gapless": "номера договоров уникальны и без пропусков / contract numbers unique, gapless",
    "onec_invoices_created_once": "каждый счёт в 1С создан один раз / every 1C invoice created once",
    "payments_applied_once": "каждая оплата применена один раз / every payment applied once",
    "no_job_left_outside_done_or_dead": "ни одного задания вне done/dead / no job outside done or dead letters",
    "dead_letters_explained": "у каждого dead letter есть причина / every dead letter explained",
    "robots_answered": "каждый робот ответил / every robot call answered",
    "no_duplicate_token_refresh": "не больше одного обновления токена на истечение / one token refresh per expiry",
    "onec_passwords_not_logged": "пароли 1С не попали в журналы / 1C passwords in no log",
}


@dataclass
class Facts:
    member8: str = ""
    leads: dict[int, dict[str, Any]] = field(default_factory=dict)  # portal rows of the story's leads
    lead_comments: dict[int, int] = field(default_factory=dict)
    decisions: dict[int, dict[str, Any]] = field(default_factory=dict)  # intake decision per lead (the store)
    tasks: list[dict[str, Any]] = field(default_factory=list)  # every task on the portal
    contracts: list[dict[str, Any]] = field(default_factory=list)  # the app's register
    deals: dict[int, dict[str, Any]] = field(default_factory=dict)  # portal rows of the story's deals
    deal_comments: dict[int, list[str]] = field(default_factory=dict)
    onec_docs: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)  # base -> set -> docs
    onec_counterparties: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bases: dict[int, str] = field(default_factory=dict)  # my company -> base
    app_payments: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    job_counts: dict[str, int] = field(default_factory=dict)
    dead_jobs: list[dict[str, Any]] = field(default_factory=list)
    robot_runs: list[dict[str, Any]] = field(default_factory=list)
    secret_hits: list[str] = field(default_factory=list)
    token_refreshes: int = 0  # refresh grants of the app on this portal since the story began
    token_refresh_failures: int = 0
    token_expiries: int = 0  # times the portal's tokens were expired by the fault plan
    natural_expiries: int = 0  # expiries the token's own lifetime allows during the run


Check = Callable[[Facts, Ledger], tuple[bool, Any]]


def _bindings(task: dict[str, Any]) -> list[str]:
    value = task.get("ufCrmTask") or task.get("UF_CRM_TASK") or []
    return [str(v) for v in (value if isinstance(value, list) else [value]) if v]


def _xml(task: dict[str, Any]) -> str:
    return str(task.get("xmlId") or task.get("XML_ID") or "")


def _title(task: dict[str, Any]) -> str:
    return str(task.get("title") or task.get("TITLE") or "")


# --- the checks ---------------------------------------------------------------------------------
def check_leads(facts: Facts, ledger: Ledger) -> tuple[bool, Any]:
    """Every lead of the story (those the people know and any other lead carrying a story marker) has
    its one intake decision, applied; the portal shows it (the assignee, or the junk status); the
    timeline holds one comment per written attempt of the decision."""
    bad: list[str] = []
    ids = set(ledger.leads) | set(facts.leads)
    for lead_id in sorted(ids):
        d = facts.decisions.get(lead_id)
        row = facts.leads.get(lead_id)
        if row is None:
            bad.append(f"lead {lead_id}: not on the portal")
            continue
        if d is None:
            bad.append(f"lead {lead_id}: no decision (owner {row.get('ASSIGNED_BY_ID')}, status {row.get('STATUS_ID')})")
            continue
        if d["status"] != "applied":
            bad.append(f"lead {lead_id}: decision {d['id']} {d['kind']} is {d['status']} ({d.get('error') or ''})")
            continue
        if d["kind"] == "junk":
            if row.get("STATUS_ID") != d.get("new_status"):
                bad.append(f"lead {lead_id}: junk decision but status {row.get('STATUS_ID')}")
        elif d["kind"] == "queued":
            bad.append(f"lead {lead_id}: still held in the queue (nobody available)")
        elif str(row.get("ASSIGNED_BY_ID")) != str(d.get("user_id")):
            bad.append(f"lead {lead_id}: decided for {d.get('user_id')}, portal says {row.get('ASSIGNED_BY_ID')}")
        want = int(d.get("attempts") or 1)
        got = facts.lead_comments.get(lead_id, 0)
        if got != want:
            bad.append(f"lead {lead_id}: {got} distribution comments, expected {want}")
    return not bad, bad[:50]


def check_stage_tasks(facts: Facts, ledger: Ledger) -> tuple[bool, Any]:
    """No two of the app's tasks carry the same marker; every stage a deal of the story entered that
    has a template gave exactly one task of that template on the deal."""
    bad: list[str] = []
    ours = [t for t in facts.tasks if _xml(t).startswith(TASK_MARKER)]
    for marker, n in Counter(_xml(t) for t in ours).items():
        if n > 1:
            bad.append(f"marker {marker}: {n} tasks")
    by_deal: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in ours:
        for b in _bindings(t):
            by_deal[b].append(t)
    for deal_id, rec in sorted(ledger.deals.items()):
        for stage in rec.stages:
            tpl = TEMPLATED.get(stage)
            if tpl is None:
                continue
            prefix = TEMPLATE_TITLES[tpl]
            n = sum(1 for t in by_deal.get(f"D_{deal_id}", []) if _title(t).startswith(prefix))
            if n != 1:
                bad.append(f"deal {deal_id}: {n} tasks «{prefix}…» for stage {stage}")
    return not bad, bad[:50]


def check_contracts(facts: Facts, ledger: Ledger) -> tuple[bool, Any]:
    """The register's numbers are unique; every sequence (per legal entity and period) runs 1..N with
    no gap (void numbers stay taken); each deal of the story that reached «Подготовка договора» has one
    issued contract of the robot's type, one of the CLI's type when the operator issued one; the deal's
    field shows one of them; one «Сформирован документ» comment per contract."""
    bad: list[str] = []
    numbers = Counter(str(c["number"]) for c in facts.contracts)
    bad += [f"number {n} issued {k} times" for n, k in numbers.items() if k > 1]
    seqs: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for c in facts.contracts:
        if not c.get("manual") and c.get("seq") is not None:
            seqs[(str(c.get("sequence")), str(c.get("counter_le")), str(c.get("period")))].append(int(c["seq"]))
    for key, values in seqs.items():
        if sorted(values) != list(range(1, len(values) + 1)):
            missing = sorted(set(range(1, max(values) + 1)) - set(values))
            bad.append(f"sequence {key}: values {sorted(values)[:10]}…, gaps {missing[:10]}")
    by_deal: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for c in facts.contracts:
        if c.get("status") != "void":
            by_deal[int(c["deal_id"])].append(c)
    for deal_id, rec in sorted(ledger.deals.items()):
        mine = by_deal.get(deal_id, [])
        wanted = (["prepayment"] if "UC_CONTRACT" in rec.stages else []) + (["deferred"] if rec.cli_contract else [])
        for type_code in wanted:
            got = [c for c in mine if c["type_code"] == type_code]
            if len(got) != 1 or got[0].get("status") != "issued":
                bad.append(f"deal {deal_id}: {type_code} contracts {[(c['number'], c['status']) for c in got]}")
        if not wanted:
            continue
        row = facts.deals.get(deal_id) or {}
        if mine and str(row.get(CONTRACT_FIELD) or "") not in {str(c["number"]) for c in mine}:
            bad.append(f"deal {deal_id}: field {CONTRACT_FIELD}={row.get(CONTRACT_FIELD)!r}, register "
                       f"{[c['number'] for c in mine]}")
        comments = [c for c in facts.deal_comments.get(deal_id, []) if c.startswith(CONTRACT_COMMENT)]
        for c in mine:
            n = sum(1 for text in comments if f"№ {c['number']} " in text)
            if n != 1:
                bad.append(f"deal {deal_id}: {n} timeline comments for contract {c['number']}")
    return not bad, bad[:50]


def invoice_keys(facts: Facts) -> dict[tuple[str, str], dict[int, list[str]]]:
    """(base, set) -> deal -> refs of documents carrying the app's idempotency key for this portal."""
    out: dict[tuple[str, str], dict[int, list[str]]] = {}
    for base, sets in facts.onec_docs.items():
        for set_name, docs in sets.items():
            per: dict[int, list[str]] = defaultdict(list)
            for doc in docs:
                text = " ".join(str(v) for v in doc.values() if isinstance(v, str))
                for m8, deal, _gen in KEY_RE.findall(text):
                    if facts.member8 and m8 != facts.member8:
                        continue
                    per[int(deal)].append(str(doc.get("Ref_Key")))
                    break
            out[(base, set_name)] = per
    return out


def check_invoices(facts: Facts, ledger: Ledger) -> tuple[bool, Any]:
    """Each deal of the story that reached «Ожидание оплаты» has exactly one invoice document (and, in
    УТ, one customer order) in the base of its legal entity and none in the other; no counterparty is
    duplicated in a base (one per ИНН and КПП)."""
    bad: list[str] = []
    keys = invoice_keys(facts)
    for deal_id, rec in sorted(ledger.deals.items()):
        if "UC_AWAIT_PAYMENT" not in rec.stages:
            continue
        home = facts.bases.get(rec.mycompany)
        for (base, set_name), per in keys.items():
            n = len(per.get(deal_id, []))
            want = 1 if base == home else 0
            if n != want:
                bad.append(f"deal {deal_id}: {n} documents in {base}/{set_name}, expected {want}")
    for base, rows in facts.onec_counterparties.items():
        dup = Counter((str(r.get("ИНН") or ""), str(r.get("КПП") or "")) for r in rows if r.get("ИНН"))
        bad += [f"{base}: counterparty {inn}/{kpp} {n} times" for (inn, kpp), n in dup.items() if n > 1]
    return not bad, bad[:50]


def check_payments(facts: Facts, ledger: Ledger) -> tuple[bool, Any]:
    """Every payment the accountant registered is stored once, active, with its amount, against its
    invoice; each deal's paid field is the sum of its payments and its stage says partial or paid;
    one «Оплата по счёту» comment per payment."""
    bad: list[str] = []
    per_deal: dict[int, list[Any]] = defaultdict(list)
    for p in ledger.payments:
        per_deal[p.deal_id].append(p)
        rows = [r for r in facts.app_payments.get((p.base, p.invoice_ref), []) if r["ref_key"] == p.payment_ref]
        if len(rows) != 1 or not rows[0]["active"] or abs(float(rows[0]["amount"]) - p.amount) > 0.005:
            bad.append(f"payment {p.payment_ref} ({p.amount}) of deal {p.deal_id}: stored as {rows}")
    for deal_id, pays in sorted(per_deal.items()):
        rec = ledger.deals.get(deal_id)
        row = facts.deals.get(deal_id) or {}
        total = round(sum(p.amount for p in pays), 2)
        paid = round(float(row.get(PAID_FIELD) or 0), 2)
        if abs(paid - total) > 0.005:
            bad.append(f"deal {deal_id}: {PAID_FIELD}={paid}, payments {total}")
        amount = rec.amount if rec else 0.0
        stage = "UC_PAID" if total >= amount - 0.005 else "UC_PARTIAL_PAID"
        if row.get("STAGE_ID") != stage:
            bad.append(f"deal {deal_id}: stage {row.get('STAGE_ID')}, expected {stage} ({total} of {amount})")
        n = sum(1 for c in facts.deal_comments.get(deal_id, []) if PAYMENT_COMMENT in c)
        if n != len(pays):
            bad.append(f"deal {deal_id}: {n} payment comments for {len(pays)} payments")
    return not bad, bad[:50]


def check_jobs(facts: Facts, ledger: Ledger) -> tuple[bool, Any]:
    """Nothing running, due or waiting for a retry; a job planned for later by design and never
    tried (``scheduled``: tomorrow's digest) is a plan, not work left. Without that split (counts of
    the jobs table only) every queued job counts."""
    c = facts.job_counts
    keys = ("running", "due", "retrying") if "scheduled" in c else ("queued", "running")
    left = {k: v for k, v in c.items() if k in keys and v}
    return not left, left


def check_dead_letters(facts: Facts, ledger: Ledger) -> tuple[bool, Any]:
    """Every dead letter carries its reason and the error table's verdict; an unexpected exception
    (a traceback: a defect, not a classified answer) is not an explanation."""
    bad = [f"job {j['id']} {j['kind']}: {j.get('last_error_action')}: {(j.get('last_error') or '')[:200]}"
           for j in facts.dead_jobs
           if not (j.get("last_error") or "").strip() or j.get("last_error_action") not in ACTIONS
           or "Traceback" in (j.get("last_error") or "")]
    return not bad, bad[:50]


def check_robots(facts: Facts, ledger: Ledger) -> tuple[bool, Any]:
    bad = [f"robot run {r['id']} {r['code']} on {r.get('document_id')}: {r['state']}"
           for r in facts.robot_runs if r.get("state") != "done"]
    return not bad, bad[:50]


def check_token_refresh(facts: Facts, ledger: Ledger) -> tuple[bool, Any]:
    """Token refresh is single-flight per portal across processes: at most one refresh grant per
    expiry of the portal's tokens (however many workers and web processes met ``expired_token``),
    and no refresh refused (a rotated refresh token used twice is refused)."""
    bad: list[str] = []
    allowed = facts.token_expiries + facts.natural_expiries
    if facts.token_refreshes > allowed:
        bad.append(f"{facts.token_refreshes} token refreshes for {facts.token_expiries} expiries "
                   f"(+{facts.natural_expiries} by lifetime)")
    if facts.token_refresh_failures:
        bad.append(f"{facts.token_refresh_failures} refresh grants refused")
    return not bad, bad


def check_secrets(facts: Facts, ledger: Ledger) -> tuple[bool, Any]:
    return not facts.secret_hits, facts.secret_hits[:20]


CHECKS: dict[str, Check] = {
    "leads_assigned_exactly_once": check_leads,
    "stage_tasks_created_once": check_stage_tasks,
    "contract_numbers_unique_gapless": check_contracts,
    "onec_invoices_created_once": check_invoices,
    "payments_applied_once": check_payments,
    "no_job_left_outside_done_or_dead": check_jobs,
    "dead_letters_explained": check_dead_letters,
    "robots_answered": check_robots,
    "no_duplicate_token_refresh": check_token_refresh,
    "onec_passwords_not_logged": check_secrets,
}


def evaluate(facts: Facts, ledger: Ledger) -> tuple[dict[str, bool], dict[str, Any]]:
    results: dict[str, bool] = {}
    details: dict[str, Any] = {}
    for name, fn in CHECKS.items():
        ok, why = fn(facts, ledger)
        results[name] = bool(ok)
        if not ok:
            details[name] = why
    return results, details


# --- reading the truth --------------------------------------------------------------------------
def read_texts(paths: list[Path]) -> dict[str, str]:
    """``{file name: text}`` of the files that can be read (logs are read once per run)."""
    out = {}
    for path in paths:
        try:
            out[path.name] = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
    return out


def secrets_in_texts(texts: dict[str, str], secrets: list[str]) -> list[str]:
    """``name: secret…`` for every text that contains one of ``secrets`` (at least 6 characters)."""
    return [f"{name}: {s[:3]}…" for name, text in texts.items() for s in secrets if len(s) >= 6 and s in text]


def secrets_in_files(paths: list[Path], secrets: list[str]) -> list[str]:
    """``file: secret…`` for every file that contains one of ``secrets`` (at least 6 characters)."""
    return secrets_in_texts(read_texts(paths), secrets)


def collect(*, services: Any, member_id: str, hook: Any, control: Callable[..., Any], ledger: Ledger,
            lead_marker_from: int, log_texts: dict[str, str], extra_texts: list[str]) -> Facts:
    """Read everything the checks need (the faults must be off: the webhook reads without them)."""
    from b24app.contracts import register
    from b24app.leads import store as leads_store
    from b24app.leads.engine import INTAKE
    from b24app.store import jobs as jobs_repo
    from b24app.sync_1c import state

    db = services.db
    f = Facts(member8=member_id[:8])
    rows = hook.pages("crm.lead.list", {"filter": {">=ID": lead_marker_from, "%TITLE": "soak-L"},
                                        "select": ["ID", "TITLE", "ASSIGNED_BY_ID", "STATUS_ID", "SOURCE_ID"],
                                        "order": {"ID": "ASC"}})
    f.leads = {int(r["ID"]): r for r in rows}
    ids = sorted(set(f.leads) | set(ledger.leads))
    got = hook.batch([(f"l{i}", "crm.timeline.comment.list", {"filter": {"ENTITY_ID": i, "ENTITY_TYPE": "lead"}})
                      for i in ids])
    f.lead_comments = {i: len(got.get(f"l{i}") or []) for i in ids}
    f.decisions = {i: {**d.public(), "attempts": d.attempts} for i, d in
                   leads_store.get_decisions(db, member_id, "lead", ids, INTAKE).items()}
    f.tasks = hook.pages("tasks.task.list", {"select": ["ID", "TITLE", "XML_ID", "UF_CRM_TASK", "STATUS"],
                                             "order": {"ID": "ASC"}}, key="tasks")
    f.contracts = [dict(r) for r in register.list_contracts(db, member_id, limit=1_000_000)]
    deal_ids = sorted(ledger.deals)
    got = hook.batch([(f"d{i}", "crm.deal.get", {"id": i}) for i in deal_ids])
    f.deals = {i: got.get(f"d{i}") or {} for i in deal_ids}
    got = hook.batch([(f"c{i}", "crm.timeline.comment.list", {"filter": {"ENTITY_ID": i, "ENTITY_TYPE": "deal"}})
                      for i in deal_ids])
    f.deal_comments = {i: [str(c.get("COMMENT") or "") for c in got.get(f"c{i}") or []] for i in deal_ids}
    for base in control("GET", f"/portals/{member_id}/onec"):
        name, profile = base["name"], base.get("profile", "bp30")
        f.bases[1 if name.startswith("metalprom_main") else 2] = name
        f.onec_docs[name] = {s: control("GET", f"/onec/{name}/documents/{s}?limit=100000")
                             for s in INVOICE_SETS.get(profile, [])}
        f.onec_counterparties[name] = control("GET", f"/onec/{name}/documents/Catalog_Контрагенты?limit=100000")
    for p in ledger.payments:
        f.app_payments[(p.base, p.invoice_ref)] = state.payments_of_invoice(db, member_id, p.base, p.invoice_ref)
    f.job_counts = {**jobs_repo.counts(db), **jobs_repo.outstanding(db)}
    f.dead_jobs = [j.public() for j in jobs_repo.list_jobs(db, status=jobs_repo.DEAD, limit=100_000)]
    f.robot_runs = control("GET", f"/portals/{member_id}/robot-runs")
    passwords = [str(b.get("password") or "") for b in control("GET", f"/portals/{member_id}/onec")]
    f.secret_hits = secrets_in_texts(log_texts, passwords)
    for i, text in enumerate(extra_texts):
        f.secret_hits += [f"output {i}: {p[:3]}…" for p in passwords if len(p) >= 6 and p in text]
    return f
