"""A separate load process: POSTs form bodies at a fixed rate (open model: requests are sent on
schedule whether or not earlier ones answered) and prints latency figures as JSON.

``python -m bench.load URL RATE SECONDS KIND MEMBER_ID APP_TOKEN`` (KIND: event | robot)
Latency is measured from the scheduled send time, so a slow server cannot hide its queueing.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid

import aiohttp


def body(kind: str, member_id: str, token: str, n: int) -> dict[str, str]:
    auth = {"auth[member_id]": member_id, "auth[application_token]": token, "auth[domain]": "bench.bitrix24.ru"}
    if kind == "event":
        return {"event": "ONCRMLEADADD", "event_handler_id": "1", "data[FIELDS][ID]": str(n),
                "ts": str(1_700_000_000 + n), **auth}
    wf = uuid.uuid4().hex
    return {"workflow_id": wf, "code": "b24app_timeline_comment", "document_id[0]": "crm",
            "document_id[1]": "CCrmDocumentDeal", "document_id[2]": f"DEAL_{n}", "document_type[0]": "crm",
            "document_type[1]": "CCrmDocumentDeal", "document_type[2]": "DEAL",
            "event_token": f"{wf}|A1_{n}|{uuid.uuid4().hex}", "properties[text]": "x", "use_subscription": "Y",
            "timeout_duration": "0", "ts": str(int(time.time())), **auth}


async def run(url: str, rate: float, seconds: float, kind: str, member_id: str, token: str) -> dict:
    lat: list[float] = []
    errors = 0
    total = int(rate * seconds)
    conn = aiohttp.TCPConnector(limit=2000)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=30)) as session:
        start = time.perf_counter() + 0.2
        seed = int(time.time() * 1000) % 10_000_000 * 1000

        async def one(i: int) -> None:
            nonlocal errors
            scheduled = start + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            try:
                async with session.post(url, data=body(kind, member_id, token, seed + i)) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
            except (aiohttp.ClientError, TimeoutError):
                errors += 1
            lat.append(time.perf_counter() - scheduled)

        await asyncio.gather(*(one(i) for i in range(total)))
    lat.sort()

    def pct(p: float) -> float:
        return round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 2) if lat else 0.0

    return {"rate": rate, "sent": total, "errors": errors, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "max_ms": round(1000 * lat[-1], 2) if lat else 0.0}


if __name__ == "__main__":
    url, rate, seconds, kind, member_id, token = sys.argv[1:7]
    print(json.dumps(asyncio.run(run(url, float(rate), float(seconds), kind, member_id, token))))
