"""Bulk payments for benchmarks: fast generation, paging by $top/$skip and date windows, flat memory."""

from __future__ import annotations

import gc
import time
import tracemalloc
from typing import Any

import pytest

from .conftest import OData, control, make_base

BANK = "Document_ПоступлениеНаРасчетныйСчет"
CASH = "Document_ПриходныйКассовыйОрдер"


@pytest.fixture(scope="module")
def big(server: Any) -> tuple[str, OData]:
    name = make_base(server, "bp30")
    t0 = time.monotonic()
    r = control(server, "POST", f"/{name}/generate-payments", json={"count": 6000, "date_from": "2026-01-01T00:00:00",
                                                                    "date_to": "2026-11-30T00:00:00", "seed": 3})
    assert r.status_code == 200, r.text
    assert r.json()["payments"] == 6000 and r.json()["invoices"] == 3000
    assert time.monotonic() - t0 < 20
    return name, OData(server.url, name)


def test_counts_and_register_consistency(big: tuple[str, OData]) -> None:
    _, c = big
    n_bank = int(c.get(f"{BANK}/$count", fmt=False).text)
    n_cash = int(c.get(f"{CASH}/$count", fmt=False).text)
    assert n_bank + n_cash == 6000 and n_cash > 0
    total_recs = int(c.get("AccumulationRegister_ОплатаСчетов_RecordType/$count", fmt=False).text)
    assert total_recs == 6000
    paid = c.values("InformationRegister_СтатусыДокументов", {"$filter": "Статус eq 'Оплачен'", "$top": "1"})
    assert paid and paid[0]["Статус_Type"] == "StandardODATA.СтатусОплатыСчета"


def test_paging_by_top_skip_covers_everything_once(big: tuple[str, OData]) -> None:
    _, c = big
    seen: set[str] = set()
    skip = 0
    while True:
        page = c.values(BANK, {"$select": "Ref_Key,Date", "$orderby": "Date, Ref_Key", "$top": "1000", "$skip": str(skip)})
        if not page:
            break
        seen.update(p["Ref_Key"] for p in page)
        skip += 1000
    assert len(seen) == int(c.get(f"{BANK}/$count", fmt=False).text)


def test_date_windows(big: tuple[str, OData]) -> None:
    _, c = big
    total = 0
    for month in range(1, 13):
        start = f"2026-{month:02d}-01T00:00:00"
        end = "2027-01-01T00:00:00" if month == 12 else f"2026-{month + 1:02d}-01T00:00:00"
        n = c.get(f"{BANK}/$count", {"$filter": f"Date ge datetime'{start}' and Date lt datetime'{end}' "
                                               f"and Posted eq true"}, fmt=False)
        total += int(n.text)
    assert total == int(c.get(f"{BANK}/$count", fmt=False).text)


def test_soap_payment_feed_pages_through_all(server: Any, big: tuple[str, OData]) -> None:
    import json

    from .test_soap import zeep_client

    name, _ = big
    client = zeep_client(server, name)
    cursor = None
    n = 0
    while True:
        r = json.loads(client.service.GetPayments(DateFrom="2026-01-01T00:00:00", DateTo="2026-12-31T23:59:59",
                                                  Cursor=cursor, Limit=2000, IncludeUnposted=False)["return"])
        n += len(r["items"])
        cursor = r["next"]
        if not cursor:
            break
    assert n == 6000


def test_a_full_list_is_streamed_with_flat_server_memory(big: tuple[str, OData]) -> None:
    """The whole set without $top: tens of megabytes go out while the process holds a few."""
    _, c = big
    assert c.get(BANK, {"$top": "10"}).status_code == 200  # warm the code paths up (first-use caches)
    gc.collect()
    tracemalloc.start()
    try:
        size = 0
        with c.http.get(c.url(BANK, {"$format": "json"}), headers=c.headers, stream=True, timeout=120) as r:
            assert r.status_code == 200
            for chunk in r.iter_content(65536):
                size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 30_000_000
    # a buffered answer would hold the whole body (≥ size) at once; streaming stays far below it
    assert peak < min(size / 2, 20_000_000), (peak, size)
