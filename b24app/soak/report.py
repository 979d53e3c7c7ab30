"""The soak's report: per-portal results merged into one (an invariant holds only when it holds on
every portal; counts are summed; what failed is prefixed with its portal) and its text form."""

from __future__ import annotations

import json
import re
from typing import Any

from b24app.soak import invariants

# the same on every portal (the jobs table and the process-wide faults): taken once, not summed
GLOBAL_COUNTS = ("jobs", "worker_kills", "app_down_s", "onec_down_s")
_BASE_SUFFIX = re.compile(r"_[0-9a-f]{8}(?=/)")  # metalprom_main_1a2b3c4d/Document_… -> metalprom_main/…


def _add(into: dict[str, Any], key: str, value: Any) -> None:
    if isinstance(value, dict):
        sub = into.setdefault(key, {})
        for k, v in value.items():
            _add(sub, k, v)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        into[key] = round(into.get(key, 0) + value, 1) if isinstance(value, float) else into.get(key, 0) + value
    else:
        into[key] = value


def merge_counts(per_portal: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum the portals' counts (nested dicts key by key); 1C base names lose their portal suffix."""
    out: dict[str, Any] = {}
    for counts in per_portal:
        for key, value in counts.items():
            if key in GLOBAL_COUNTS:
                out[key] = value
            elif key == "onec_invoices":
                _add(out, key, {_BASE_SUFFIX.sub("", k): v for k, v in value.items()})
            else:
                _add(out, key, value)
    return out


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """``parts``: one ``{"portal", "member_id", "invariants", "details", "counts", "story_errors",
    "story_notes"}`` per portal. One portal: its report as it is. Several: merged, with
    ``per_portal`` keeping each portal's invariants and counts."""
    if len(parts) == 1:
        p = parts[0]
        return {k: p[k] for k in ("invariants", "counts", "details", "story_errors", "story_notes")}
    names = list(parts[0]["invariants"])
    results = {n: all(p["invariants"].get(n, False) for p in parts) for n in names}
    details: dict[str, list[Any]] = {}
    for p in parts:
        for name, why in p["details"].items():
            items = why if isinstance(why, list) else [why]
            details.setdefault(name, []).extend(f"[{p['portal']}] {w}" for w in items)
    return {
        "invariants": results,
        "counts": merge_counts([p["counts"] for p in parts]),
        "details": details,
        "story_errors": [f"[{p['portal']}] {e}" for p in parts for e in p["story_errors"]],
        "story_notes": {f"{p['portal']}/{deal}": notes for p in parts for deal, notes in p["story_notes"].items()},
        "per_portal": {p["portal"]: {"member_id": p["member_id"], "invariants": p["invariants"],
                                     "counts": p["counts"]} for p in parts},
    }


def report_text(report: dict[str, Any]) -> str:
    """The human-readable report: invariants with their titles, then the counts."""
    lines = ["Invariants / инварианты:"]
    for name, ok in report["invariants"].items():
        lines.append(f"  {'PASS' if ok else 'FAIL'}  {name} — {invariants.TITLES.get(name, '')}")
        for why in (report.get("details") or {}).get(name, [])[:10] if not ok else []:
            lines.append(f"          {why}")
    lines.append("Counts / счётчики:")
    for k, v in report["counts"].items():
        lines.append(f"  {k}: {json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v}")
    per = report.get("per_portal") or {}
    if per:
        lines.append(f"Portals / порталы: {len(per)}")
        for domain, p in per.items():
            c = p["counts"]
            failed = [n for n, ok in p["invariants"].items() if not ok]
            figures = ", ".join(f"{k} {c.get(k, 0)}" for k in ("leads", "deals", "contracts", "payments"))
            lines.append(f"  {domain}: {figures}; {'FAIL ' + ', '.join(failed) if failed else 'all invariants hold'}")
    lines.append("Seconds: " + json.dumps(report.get("seconds", {})))
    if report.get("story_errors"):
        lines.append("People's errors (retried or given up):")
        lines += [f"  {e}" for e in report["story_errors"][:10]]
    return "\n".join(lines)
