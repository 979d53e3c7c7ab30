"""1C sync: pulling and applying payments from a sandbox base (БП 3.0 over OData).

For each size the sandbox (its own process) generates invoices and bank/cash receipts paying them;
then, each in a fresh process so its peak memory can be read:
- ``plain``: a plain paged fetch of the same OData sets ($top/$skip, the same $select and $orderby),
  JSON decoded and dropped — the floor any client pays;
- ``sync``: the app's payment stream (date slices, pages committed with the cursor, allocations
  stored, every touched invoice's paid sum recomputed, the outbox marked) into a fresh SQLite store
  where the generated invoices are tracked.

Reported: payments/s, the ratio sync/plain, HTTP requests, and the peak RSS of each process at two
sizes (memory must stay flat as the data grows: pages are streamed, nothing accumulates).
The portal writes that follow (one per changed deal) are bounded by the portal's REST budget and
measured by the core's benchmarks, so the invoices here are not bound to deals.

``python -m bench --only sync [--quick]`` or ``python bench/bench_sync.py [--quick]``.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

DATE_FROM, DATE_TO = "2026-01-05T09:00:00", "2026-10-30T18:00:00"
USER, PASSWORD = "b24sync", "Bench-Пароль"
PAGE = 1000


def _rss_mb() -> float:
    """Peak resident memory of this process in MB. ``VmHWM`` belongs to the process's own address
    space; ``ru_maxrss`` would also carry the parent's size at fork (Linux keeps it across exec), so a
    child of a big ``python -m bench`` process would report its parent."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def child_plain(odata_url: str) -> dict[str, Any]:
    from b24app.sync_1c.odata import ODataClient
    from b24app.sync_1c.profiles import profile

    prof = profile("bp30")
    client = ODataClient(odata_url, USER, PASSWORD, timeout=300, allow_private=True)
    started = time.perf_counter()
    rows = 0
    for set_name, _kind in prof.payment_sets:
        for _skip, page in client.pages(set_name, select=prof.payment_select(set_name), orderby="Date,Ref_Key",
                                        page_size=PAGE):
            rows += len(page)
    seconds = time.perf_counter() - started
    return {"payments": rows, "seconds": round(seconds, 3), "requests": client.requests_sent, "rss_mb": _rss_mb()}


def child_sync(odata_url: str, name: str) -> dict[str, Any]:
    from b24app.config import Config
    from b24app.context import Services
    from b24app.sync_1c import state
    from b24app.sync_1c.odata import ODataClient
    from b24app.sync_1c.profiles import profile
    from b24app.sync_1c.streams import Options, PaymentStream
    from b24app.sync_1c.transport import ODataTransport

    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    services = Services.open(Config.from_env({}, instance_path=str(tmp), secret_key="bench", allow_private_networks=True))
    member = "bench-member"
    prof = profile("bp30")
    client = ODataClient(odata_url, USER, PASSWORD, timeout=300, allow_private=True)
    # setup (not timed): track every generated invoice, streamed page by page
    tracked = 0
    for _skip, page in client.pages(prof.invoice_set, select=prof.invoice_select(), orderby="Ref_Key", page_size=PAGE):
        with services.db.transaction():
            for e in page:
                state.record_invoice(services.db, member, name, prof.parse_invoice(e), origin="onec", company_id=1)
        tracked += len(page)
    transport = ODataTransport(name, prof, client)
    sent_before = client.requests_sent
    opts = Options(page_size=PAGE, slice_days=30, since=dt.datetime.fromisoformat(DATE_FROM[:10]))
    started = time.perf_counter()
    report = PaymentStream(services.db, member, name, transport, opts).run(dt.datetime.fromisoformat(DATE_TO) +
                                                                            dt.timedelta(days=1))
    seconds = time.perf_counter() - started
    paid = services.db.scalar("SELECT COUNT(*) FROM sync_1c_invoices WHERE member_id = ? AND paid > 0", (member,))
    allocations = services.db.scalar("SELECT COUNT(*) FROM sync_1c_payments WHERE member_id = ?", (member,))
    return {"payments": report.read, "seconds": round(seconds, 3), "requests": client.requests_sent - sent_before,
            "pages": report.pages, "slices": report.slices, "invoices_tracked": tracked, "invoices_paid": paid,
            "allocations_stored": allocations, "dead": report.dead, "rss_mb": _rss_mb()}


def _child(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"bench child {args[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(stack: Any, count: int) -> dict[str, Any]:
    name = f"bench_bp_{uuid.uuid4().hex[:6]}"
    base = stack.control("POST", "/onec", {
        "name": name, "profile": "bp30", "user": USER, "password": PASSWORD,
        "organization": {"name": "ООО «МеталПром»", "inn": "7448053174", "kpp": "744801001", "code": "MP"},
        "counterparties": [{"name": f"ООО «Клиент {i}»", "inn": f"66580000{i:02d}", "kpp": "665801001"}
                           for i in range(1, 21)],
        "products": [{"NAME": "Арматура А500С 12 мм", "XML_ID": "MP-ARM-12", "MEASURE_NAME": "т", "VAT_RATE": 20},
                     {"NAME": "Лист г/к 4 мм", "XML_ID": "MP-LST-4", "MEASURE_NAME": "т", "VAT_RATE": 20}]})
    started = time.perf_counter()
    gen = stack.control("POST", f"/onec/{name}/generate-payments", {"count": count, "date_from": DATE_FROM,
                                                                    "date_to": DATE_TO, "kind": "mixed", "seed": 7})
    generated_s = time.perf_counter() - started
    plain = _child("plain", base["odata_url"])
    sync = _child("sync", base["odata_url"], name)
    stack.control("DELETE", f"/onec/{name}")
    return {
        "payments": gen.get("payments", count), "invoices": gen.get("invoices"), "generate_s": round(generated_s, 1),
        "plain": plain, "sync": sync,
        "sync_payments_per_s": round(sync["payments"] / max(sync["seconds"], 1e-9)),
        "plain_payments_per_s": round(plain["payments"] / max(plain["seconds"], 1e-9)),
        "ratio_sync_to_plain": round(sync["seconds"] / max(plain["seconds"], 1e-9), 2),
        "all_read": sync["payments"] == plain["payments"] == gen.get("payments", count),
    }


def run(quick: bool = False) -> dict[str, Any]:
    from bench.stack import Stack

    sizes = [2_000, 10_000] if quick else [10_000, 100_000]
    with Stack() as stack:
        stack.start_sandbox()
        runs = [measure(stack, n) for n in sizes]
    small, big = runs
    growth = round(big["sync"]["rss_mb"] - small["sync"]["rss_mb"], 1)
    return {
        "sizes": sizes,
        "runs": runs,
        "payments_per_s": big["sync_payments_per_s"],
        "ratio_to_plain_fetch": big["ratio_sync_to_plain"],
        "peak_rss_mb": {str(n): r["sync"]["rss_mb"] for n, r in zip(sizes, runs, strict=True)},
        "rss_growth_mb": growth,
        "memory_flat": growth < 0.25 * small["sync"]["rss_mb"],
        "all_read": all(r["all_read"] for r in runs),
    }


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        what = sys.argv[2]
        result = child_plain(sys.argv[3]) if what == "plain" else child_sync(sys.argv[3], sys.argv[4])
        print(json.dumps(result))
    else:
        print(json.dumps(run(quick="--quick" in sys.argv), indent=2, ensure_ascii=False))
