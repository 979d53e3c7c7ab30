"""The "distribution" section of the settings document: pools, ordered rules, caps, availability,
fallback, duplicates, junk, quality control and deadlines, validated with readable errors.

```yaml
distribution:
  enabled: true
  auto: true                          # distribute every new lead (ONCRMLEADADD); false: robot and CLI only
  initial_status: NEW
  unassigned_user_ids: [1]            # owners that mean "nobody yet" (administrator, integration user)
  pools:
    ads: {users: [4, 5], weights: {"4": 2, "5": 1}}
    sales: {department: 2, subdepartments: true}
    qc: {users: [8]}
  rules:                              # ordered; the first matching rule wins
    - {name: Реклама, when: {source: [UC_YANDEX, UC_GOOGLE]}, pool: ads, strategy: weighted}
    - {name: Соц-сети и SEO, when: {source: [UC_SOCIAL, UC_SEO]}, pool: sales, strategy: least_loaded}
    - {name: E-mail и сайт, when: {source: [EMAIL, WEBFORM]}, qc: true, pool: sales, strategy: round_robin}
    - {name: Остальные, pool: sales, strategy: round_robin}
  caps: {daily: 60, open: 150, users: {"4": {daily: 80}}}
  fallback: [{head: true}, {queue: true}]
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from b24app.settings.schema import Bool, Int, Issues, List, Map, Node, Num, Obj, Str


@dataclass
class Opt(Node):
    """An optional value: ``None`` (or an empty string) stays ``None``; anything else is checked."""

    node: Node = field(default_factory=Str)
    default: Any = None
    description: str = ""

    def check(self, value: Any, path: str, issues: Issues) -> Any:
        if value is None or value == "":
            return None
        return self.node.check(value, path, issues)


@dataclass
class Values(Node):
    """One value or a list of values, kept as a list of strings (``"UC_YANDEX"`` or ``[a, b]``)."""

    default: Any = list
    description: str = ""

    def check(self, value: Any, path: str, issues: Issues) -> Any:
        items = value if isinstance(value, list) else [value]
        out: list[str] = []
        for i, v in enumerate(items):
            if isinstance(v, bool) or not isinstance(v, str | int | float):
                issues.add(f"{path}[{i}]" if isinstance(value, list) else path, "должно быть строкой или числом",
                           "must be a string or a number")
                continue
            out.append(str(v))
        return out

STRATEGIES = ("round_robin", "weighted", "least_loaded", "random")
USER_KEY = r"\d+"

CONDITION = Obj(fields={
    "source": List(item=Str(min_len=1, max_len=100), description="SOURCE_ID values (any of)"),
    "fields": Map(value=Values(), key_pattern=r"[A-Z][A-Z0-9_]*",
                  description="FIELD: value or [values] (UF_*, UTM_*, any field of the item)"),
    "title_regex": Str(default="", max_len=500, description="regular expression searched in TITLE"),
    "comment_regex": Str(default="", max_len=500, description="regular expression searched in COMMENTS"),
    "amount_min": Opt(Num(min=0)),
    "amount_max": Opt(Num(min=0)),
    "hours": Str(default="any", choices=("any", "working", "non_working"),
                 description="company working hours (the calendar section)"),
})

POOL = Obj(fields={
    "users": List(item=Int(min=1), description="user IDs, in round-robin order"),
    "department": Opt(Int(min=1, description="a department's users")),
    "subdepartments": Bool(default=True, description="with the users of its sub-departments"),
    "exclude_heads": Bool(default=True, description="the heads of those departments take no leads"),
    "weights": Map(value=Int(min=0, max=1000), key_pattern=USER_KEY, description="weight per user ID (default 1)"),
})

RULE = Obj(fields={
    "name": Str(min_len=1, max_len=200),
    "enabled": Bool(default=True),
    "when": CONDITION,
    "pool": Str(min_len=1, max_len=100, description="the pool's name"),
    "strategy": Str(default="round_robin", choices=STRATEGIES),
    "qc": Bool(default=False, description="first to the quality-control pool, then to this pool"),
}, required=("name", "pool"))

CAP = Obj(fields={"daily": Opt(Int(min=0)), "open": Opt(Int(min=0))})

FALLBACK_STEP = Obj(fields={
    "pool": Opt(Str(max_len=100), description="try this pool (same strategy)"),
    "head": Bool(default=False, description="the head of the manager's department (or head_user_id)"),
    "queue": Bool(default=False, description="hold the lead unassigned and alert"),
})


def _check(value: dict[str, Any], path: str, issues: Issues) -> None:
    join = (lambda k: f"{path}.{k}") if path else (lambda k: k)
    pools = value.get("pools") or {}
    for name, pool in pools.items():
        if not isinstance(pool, dict):
            continue
        if not pool.get("users") and not pool.get("department"):
            issues.add(join(f"pools.{name}"), "укажите сотрудников (users) или отдел (department)",
                       "name users or a department")
        if len(set(pool.get("users") or [])) != len(pool.get("users") or []):
            issues.add(join(f"pools.{name}.users"), "сотрудник указан дважды", "a user is listed twice")
    names: set[str] = set()
    rule_lists = [("rules", value.get("rules") or [])]
    rule_lists += [(f"rule_sets.{k}", v) for k, v in (value.get("rule_sets") or {}).items() if isinstance(v, list)]
    any_qc = False
    for where, rules in rule_lists:
        names = set()
        for i, rule in enumerate(rules):
            if not isinstance(rule, dict):
                continue
            rp = join(f"{where}[{i}]")
            if rule.get("name") in names:
                issues.add(f"{rp}.name", f"правило «{rule.get('name')}» уже есть", f"rule '{rule.get('name')}' repeats")
            names.add(rule.get("name"))
            if rule.get("pool") and rule["pool"] not in pools:
                issues.add(f"{rp}.pool", f"нет пула «{rule['pool']}» в pools", f"no pool '{rule['pool']}' in pools")
            any_qc = any_qc or bool(rule.get("qc"))
            when = rule.get("when") or {}
            for key in ("title_regex", "comment_regex"):
                if when.get(key):
                    try:
                        re.compile(when[key])
                    except re.error as exc:
                        issues.add(f"{rp}.when.{key}", f"неверное регулярное выражение: {exc}",
                                   f"invalid regular expression: {exc}")
            lo, hi = when.get("amount_min"), when.get("amount_max")
            if isinstance(lo, int | float) and isinstance(hi, int | float) and lo > hi:
                issues.add(f"{rp}.when", "amount_min больше amount_max", "amount_min exceeds amount_max")
    for i, step in enumerate(value.get("fallback") or []):
        if not isinstance(step, dict):
            continue
        chosen = [k for k in ("pool", "head", "queue") if step.get(k)]
        if len(chosen) != 1:
            issues.add(join(f"fallback[{i}]"), "укажите ровно одно: pool, head или queue",
                       "give exactly one of pool, head, queue")
        if step.get("pool") and step["pool"] not in pools:
            issues.add(join(f"fallback[{i}].pool"), f"нет пула «{step['pool']}»", f"no pool '{step['pool']}'")
    qc = value.get("qc") or {}
    if any_qc and not qc.get("pool"):
        issues.add(join("qc.pool"), "правило отправляет лиды на контроль качества, но пул контроля не указан",
                   "a rule sends leads to quality control but qc.pool is empty")
    if qc.get("pool") and qc["pool"] not in pools:
        issues.add(join("qc.pool"), f"нет пула «{qc['pool']}»", f"no pool '{qc['pool']}'")
    deadline = value.get("deadline") or {}
    if deadline.get("enabled") and isinstance(deadline.get("remind_after_min"), int) and \
            isinstance(deadline.get("reroute_after_min"), int) and \
            deadline["remind_after_min"] and deadline["remind_after_min"] >= deadline["reroute_after_min"]:
        issues.add(join("deadline.remind_after_min"), "напоминание должно быть раньше переназначения",
                   "the reminder must come before the re-route")
    for pattern_path, patterns in (("junk.patterns", (value.get("junk") or {}).get("patterns") or []),):
        for i, p in enumerate(patterns):
            try:
                re.compile(str(p))
            except re.error as exc:
                issues.add(join(f"{pattern_path}[{i}]"), f"неверное регулярное выражение: {exc}",
                           f"invalid regular expression: {exc}")


SCHEMA = Obj(
    fields={
        "enabled": Bool(default=True),
        "auto": Bool(default=True, description="distribute new leads as they arrive (ONCRMLEADADD)"),
        "initial_status": Str(default="NEW", min_len=1, description="the status of a new, untouched lead"),
        "unassigned_user_ids": List(item=Int(min=1), default=lambda: [1],
                                    description="owners that mean 'not distributed yet'"),
        "creator_is_unassigned": Bool(default=True, description="a lead owned by its creator who is in no "
                                      "pool counts as not distributed"),
        "working_statuses": List(item=Str(min_len=1), default=lambda: ["NEW", "IN_PROCESS"],
                                 description="lead statuses counted in a manager's load"),
        "load_cache_s": Int(default=60, min=0, max=3600, description="how long loads read from the portal "
                            "are reused"),
        "pools": Map(value=POOL, key_pattern=r"[\w\-]+"),
        "rules": List(item=RULE, unique_by=None),
        "rule_sets": Map(value=List(item=RULE), key_pattern=r"[\w\-]+",
                         description="named rule lists for the robot's 'rule set' property"),
        "caps": Obj(fields={
            "daily": Opt(Int(min=0, description="leads per manager per day")),
            "open": Opt(Int(min=0, description="open leads and deals per manager at once")),
            "users": Map(value=CAP, key_pattern=USER_KEY),
        }),
        "availability": Obj(fields={
            "absence": Bool(default=True, description="skip users absent in the absence chart"),
            "schedule": Bool(default=True, description="skip users outside their work schedule"),
            "timeman": Bool(default=False, description="skip users whose work day is not open"),
        }),
        "fallback": List(item=FALLBACK_STEP, default=lambda: [{"head": True}, {"queue": True}]),
        "head_user_id": Opt(Int(min=1), description="the head for fallback and alerts "
                            "(default: the department head from the portal)"),
        "alert_user_ids": List(item=Int(min=1), description="who hears about held leads (default: the head)"),
        "duplicates": Obj(fields={
            "enabled": Bool(default=True),
            "action": Str(default="to_owner", choices=("to_owner", "mark_junk"),
                          description="hand to the existing owner, or mark the lead as a duplicate"),
            "search": List(item=Str(choices=("contact", "company", "lead", "deal")),
                           default=lambda: ["contact", "company", "lead", "deal"]),
        }),
        "junk": Obj(fields={
            "enabled": Bool(default=False),
            "status": Str(default="JUNK", min_len=1),
            "max_links": Opt(Int(min=0, description="more links than this in the comment = spam")),
            "max_emoji": Opt(Int(min=0, description="more emoji than this = spam")),
            "patterns": List(item=Str(min_len=1, max_len=500), description="regular expressions (spam words)"),
            "blocked_domains": List(item=Str(min_len=3, max_len=253)),
            "blocked_phones": List(item=Str(min_len=5, max_len=40)),
            "existing_client": Bool(default=False, description="a lead of an existing client is junk"),
            "duplicate": Bool(default=False, description="a duplicate of an open lead is junk"),
        }),
        "qc": Obj(fields={
            "pool": Opt(Str(max_len=100)),
            "strategy": Str(default="round_robin", choices=STRATEGIES),
            "release_status": Str(default="IN_PROCESS", min_len=1,
                                  description="QC moves the lead here to send it to sales"),
        }),
        "deadline": Obj(fields={
            "enabled": Bool(default=False),
            "remind_after_min": Int(default=15, min=0, max=100_000, description="working minutes"),
            "reroute_after_min": Int(default=30, min=1, max=100_000, description="working minutes"),
            "max_reroutes": Int(default=2, min=0, max=20),
            "notify_head": Bool(default=True),
        }),
        "notify": Obj(fields={
            "assignee": Bool(default=True, description="an im notification with the lead's link"),
            "timeline": Bool(default=True, description="a timeline comment explaining the decision"),
            "backlog_timeline": Bool(default=False, description="timeline comments also in a backlog run (one "
                                     "more write per lead; the reason field explains each lead anyway)"),
            "reason_field": Str(default="UF_CRM_B24APP_REASON", max_len=50, pattern=r"UF_CRM_[A-Z0-9_]{1,40}",
                                description="the lead's field that gets the reason with the assignment "
                                            "(made at first use; empty: none)"),
        }),
        "reconcile": Obj(fields={
            "enabled": Bool(default=True),
            "grace_min": Int(default=5, min=1, max=1440),
            "lookback_days": Int(default=3, min=1, max=365),
        }),
    },
    rules=(_check,),
)


def demo(facts: dict[str, Any]) -> dict[str, Any]:
    """МеталПром: Яндекс/Google Ads to Петров and Зуева 2:1; Соц-сети and SEO to the three managers by
    load; e-mail and site form through quality control (Орлов); other sources in turn; the head of
    sales as fallback, then the queue."""
    from b24app.settings.demo import department_id, status_ids, user_by_position, user_id

    petrov = user_id(facts, "Петров", "Иван")
    zueva = user_id(facts, "Зуева", "Софья")
    ivanov = user_id(facts, "Иванов", "Иван")
    qc = user_by_position(facts, "контроля качества")
    sales = department_id(facts, "Отдел продаж")
    head = None
    for d in facts.get("departments", []):
        if int(d.get("ID", 0)) == sales and d.get("UF_HEAD"):
            head = int(d["UF_HEAD"])
    statuses = status_ids(facts, "STATUS")
    initial = statuses[0] if statuses else "NEW"
    admin = facts.get("admin_user_id") or 1
    return {
        "enabled": True,
        "auto": True,
        "initial_status": initial,
        "unassigned_user_ids": [int(admin)],
        "creator_is_unassigned": True,
        "working_statuses": [s for s in statuses if s in ("NEW", "IN_PROCESS")] or ["NEW", "IN_PROCESS"],
        "load_cache_s": 60,
        "pools": {
            "ads": {"users": [petrov, zueva], "weights": {str(petrov): 2, str(zueva): 1}},
            "managers": {"users": [ivanov, petrov, zueva]},
            "sales": {"department": sales, "subdepartments": True, "exclude_heads": True},
            "qc": {"users": [qc]},
        },
        "rules": [
            {"name": "Реклама: Яндекс и Google Ads", "when": {"source": ["UC_YANDEX", "UC_GOOGLE"]},
             "pool": "ads", "strategy": "weighted"},
            {"name": "Соц-сети и SEO", "when": {"source": ["UC_SOCIAL", "UC_SEO"]},
             "pool": "managers", "strategy": "least_loaded"},
            {"name": "E-mail и форма на сайте через контроль качества", "when": {"source": ["EMAIL", "WEBFORM"]},
             "qc": True, "pool": "managers", "strategy": "round_robin"},
            {"name": "Остальные источники", "pool": "sales", "strategy": "round_robin"},
        ],
        "caps": {"daily": 150, "open": 300, "users": {}},
        "availability": {"absence": True, "schedule": True, "timeman": False},
        "fallback": [{"head": True}, {"queue": True}],
        "head_user_id": head,
        "alert_user_ids": [head] if head else [],
        "duplicates": {"enabled": True, "action": "to_owner", "search": ["contact", "company", "lead", "deal"]},
        "junk": {
            "enabled": True, "status": "JUNK", "max_links": 2, "max_emoji": 5,
            "patterns": [r"(?i)\b(casino|казино|viagra|крипто-?доход|заработок без вложений)\b"],
            "blocked_domains": ["mailinator.com", "spam-mail.ru"], "blocked_phones": ["+7 900 000-00-00"],
            "existing_client": False, "duplicate": False,
        },
        "qc": {"pool": "qc", "strategy": "round_robin", "release_status": "IN_PROCESS"},
        "deadline": {"enabled": True, "remind_after_min": 15, "reroute_after_min": 30, "max_reroutes": 2,
                     "notify_head": True},
        "notify": {"assignee": True, "timeline": True, "backlog_timeline": False,
                   "reason_field": "UF_CRM_B24APP_REASON"},
        "reconcile": {"enabled": True, "grace_min": 5, "lookback_days": 3},
    }
