"""Markdown tables of a run, for bench/RESULTS.md: ``python -m bench.tables RESULTS.json [SOAK.json]``.

Prints the machine and date, one table per benchmark (its ``summary`` rows, or its scalar figures),
and — given the JSON of ``b24app soak --json`` — the soak's invariants and counts.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from bench.__main__ import table


def cell(v: Any) -> str:
    text = json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else str(v)
    return text.replace("|", "\\|")


def bench_tables(run: dict[str, Any]) -> str:
    meta = run.get("meta", {})
    out = [f"Machine: `{meta.get('machine')}`; date: {meta.get('date')}; quick: {meta.get('quick')}.", ""]
    for name, res in run["results"].items():
        try:
            module = importlib.import_module(f"bench.bench_{name}")
        except ModuleNotFoundError:
            module = None
        rows = table(module, res) if module is not None else [(k, v) for k, v in res.items()]
        out += [f"### {name}", "", "| figure | value |", "|---|---|"]
        out += [f"| {cell(k)} | {cell(v)} |" for k, v in rows]
        out.append("")
    return "\n".join(out)


def soak_tables(report: dict[str, Any]) -> str:
    out = ["| invariant | holds |", "|---|---|"]
    out += [f"| `{k}` | {'yes' if ok else '**no**'} |" for k, ok in report["invariants"].items()]
    out += ["", "| count | value |", "|---|---|"]
    out += [f"| {k} | {cell(v)} |" for k, v in report["counts"].items()]
    out += ["", "| seconds | value |", "|---|---|"]
    out += [f"| {k} | {cell(v)} |" for k, v in (report.get("seconds") or {}).items()]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    run = json.loads(Path(argv[0]).read_text())
    print(bench_tables(run))
    if len(argv) > 1:
        print("\n### soak\n")
        print(soak_tables(json.loads(Path(argv[1]).read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
