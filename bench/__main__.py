"""``python -m bench [--quick] [--json] [--only NAME ...] [--out FILE]``"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import bench


def discover() -> list[str]:
    return sorted(i.name.removeprefix("bench_") for i in pkgutil.iter_modules(bench.__path__)
                  if i.name.startswith("bench_"))


def flat(prefix: str, value: Any, out: dict[str, Any], depth: int = 99) -> None:
    if isinstance(value, dict):
        if depth <= 0:
            return
        for k, v in value.items():
            flat(f"{prefix}.{k}" if prefix else str(k), v, out, depth - 1)
    elif not isinstance(value, list):
        out[prefix] = value


def table(module: Any, res: dict[str, Any]) -> list[tuple[str, Any]]:
    """The rows printed for one benchmark: its own ``summary(result)`` when it has one, else its
    scalar figures two levels deep (the whole result is in the JSON file)."""
    if "error" not in res and hasattr(module, "summary"):
        return list(module.summary(res)) + [("_seconds", res.get("_seconds"))]
    rows: dict[str, Any] = {}
    flat("", res, rows, depth=2)
    return list(rows.items())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench")
    ap.add_argument("--quick", action="store_true", help="every benchmark at a size that finishes within a minute")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--only", nargs="*", default=None, help=f"names: {', '.join(discover())}")
    ap.add_argument("--out", default="bench/results.json", help="where to write the JSON results")
    args = ap.parse_args(argv)
    names = args.only or discover()
    results: dict[str, Any] = {}
    modules: dict[str, Any] = {}
    failed = False
    for name in names:
        module = modules[name] = importlib.import_module(f"bench.bench_{name}")
        started = time.monotonic()
        try:
            results[name] = module.run(quick=args.quick)
        except Exception as exc:  # one broken benchmark must not hide the others
            failed = True
            results[name] = {"error": f"{exc.__class__.__name__}: {exc}"}
            traceback.print_exc(file=sys.stderr)
        results[name]["_seconds"] = round(time.monotonic() - started, 1)
        print(f"[bench] {name} done in {results[name]['_seconds']} s", file=sys.stderr, flush=True)
    meta = {"machine": f"{platform.node()} {platform.machine()} {platform.python_version()}",
            "date": time.strftime("%Y-%m-%d %H:%M:%S"), "quick": args.quick}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"meta": meta, "results": results}, ensure_ascii=False, indent=2))
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for name, res in results.items():
            print(f"\n== {name}")
            rows = table(modules[name], res)
            width = max((len(k) for k, _ in rows), default=10)
            for k, v in rows:
                print(f"  {k:<{width}}  {v}")
        print(f"\nall figures: {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
