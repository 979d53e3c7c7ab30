"""The "analytics" section of the settings document.

```yaml
analytics:
  refresh_minutes: 15          # how often the data is pulled from the portal
  viewers: [2]                 # who may see the reports besides administrators ([] = every user)
  stuck_days: 14               # an open deal this long in one stage is "stuck"
  contract_stages: [UC_CONTRACT]   # stages where the contract is being prepared
  contract_days: 5             # a deal longer than this in a contract stage: "contract overdue"
```
"""

from __future__ import annotations

from typing import Any

from b24app.settings.schema import Int, List, Num, Obj, Str

SCHEMA = Obj(fields={
    "refresh_minutes": Int(default=60, min=5, max=24 * 60,
                           description="how often the analytics data is pulled from the portal, minutes"),
    "viewers": List(item=Int(min=1), default=list, max_items=500,
                    description="users who may see the reports besides administrators; empty: everyone"),
    "stuck_days": Num(default=14, min=0.5, max=365, description="an open deal this long in one stage is stuck"),
    "contract_stages": List(item=Str(min_len=1, max_len=50, pattern=r"[A-Za-z0-9_:]+"), default=list, max_items=50,
                            description="deal stages where the contract is being prepared"),
    "contract_days": Num(default=5, min=0.5, max=365,
                         description="days in a contract stage after which the contract is overdue"),
})


def demo(facts: dict[str, Any]) -> dict[str, Any]:
    """МеталПром: the head of sales (Смирнова) sees the reports; contracts are prepared in the
    stage «Подготовка договора» (UC_CONTRACT) and should take at most 5 days."""
    from b24app.errors import ConfigError
    from b24app.settings.demo import user_id

    viewers: list[int] = []
    try:
        viewers.append(user_id(facts, "Смирнова", "Ольга"))
    except ConfigError:  # a portal without her: everyone may see the reports
        viewers = []
    stages = [s for s in ("UC_CONTRACT",) if s in _stage_ids(facts)]
    return {"refresh_minutes": 15, "viewers": viewers, "stuck_days": 14, "contract_stages": stages,
            "contract_days": 5}


def _stage_ids(facts: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for entity, rows in (facts.get("statuses") or {}).items():
        if str(entity).startswith("DEAL_STAGE"):
            out.update(str(r.get("STATUS_ID")) for r in rows)
    return out
