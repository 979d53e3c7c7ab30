"""Several portals in one soak report: an invariant holds only when it holds on every portal, what
broke is named with its portal, counts are summed (the process-wide ones taken once), and each
portal's own figures stay under ``per_portal``. One portal: the report keeps its single-portal form."""

from __future__ import annotations

from typing import Any

from b24app.soak.plan import SoakOptions
from b24app.soak.portal import portal_domain
from b24app.soak.report import merge, merge_counts, report_text


def part(domain: str, m8: str, *, leads: int, ok: bool = True) -> dict[str, Any]:
    return {
        "portal": domain, "member_id": m8 * 4,
        "invariants": {"leads_assigned_exactly_once": ok, "payments_applied_once": True},
        "details": {} if ok else {"leads_assigned_exactly_once": ["lead 7: no decision"]},
        "counts": {"leads": leads, "leads_by_kind": {"new": leads - 1, "junk": 1}, "app_down_s": 12.0,
                   "jobs": {"queued": 0, "done": 100}, "worker_kills": 2, "payments": 2,
                   "onec_invoices": {f"metalprom_main_{m8}/Document_СчетНаОплатуПокупателю": 1,
                                     f"metalprom_trade_{m8}/Document_ЗаказКлиента": 2}},
        "story_errors": [] if ok else ["deal: gave up"], "story_notes": {"12": ["gave up waiting"]},
    }


def test_one_portal_keeps_the_single_portal_report() -> None:
    p = part("metalprom-soak1.bitrix24.ru", "aaaaaaaa", leads=5)
    got = merge([p])
    assert set(got) == {"invariants", "counts", "details", "story_errors", "story_notes"}
    assert got["counts"] == p["counts"] and got["story_notes"] == {"12": ["gave up waiting"]}


def test_an_invariant_fails_when_one_portal_fails_and_says_which() -> None:
    got = merge([part("a.bitrix24.ru", "aaaaaaaa", leads=5), part("b.bitrix24.ru", "bbbbbbbb", leads=7, ok=False)])
    assert got["invariants"] == {"leads_assigned_exactly_once": False, "payments_applied_once": True}
    assert got["details"] == {"leads_assigned_exactly_once": ["[b.bitrix24.ru] lead 7: no decision"]}
    assert got["story_errors"] == ["[b.bitrix24.ru] deal: gave up"]
    assert set(got["story_notes"]) == {"a.bitrix24.ru/12", "b.bitrix24.ru/12"}
    assert got["per_portal"]["a.bitrix24.ru"]["invariants"]["leads_assigned_exactly_once"] is True
    assert got["per_portal"]["b.bitrix24.ru"]["counts"]["leads"] == 7
    text = report_text(got)
    assert "FAIL  leads_assigned_exactly_once" in text and "b.bitrix24.ru: leads 7" in text


def test_counts_are_summed_and_process_wide_ones_taken_once() -> None:
    c = merge_counts([part("a", "aaaaaaaa", leads=5)["counts"], part("b", "bbbbbbbb", leads=7)["counts"]])
    assert c["leads"] == 12 and c["payments"] == 4 and c["leads_by_kind"] == {"new": 10, "junk": 2}
    assert c["app_down_s"] == 12.0 and c["worker_kills"] == 2 and c["jobs"] == {"queued": 0, "done": 100}
    assert c["onec_invoices"] == {"metalprom_main/Document_СчетНаОплатуПокупателю": 2,
                                  "metalprom_trade/Document_ЗаказКлиента": 4}


def test_many_portals_share_the_lead_rate_and_get_their_own_domains() -> None:
    one, twenty = SoakOptions(), SoakOptions(portals=20)
    assert one.lead_every == 4.0 and one.pipelines_per_portal == 3
    assert twenty.lead_every == 80.0 and twenty.pipelines_per_portal == 1
    assert SoakOptions(portals=20, lead_every_s=30, pipelines=2).lead_every == 30
    assert portal_domain(one, 0) == "metalprom-soak1.bitrix24.ru"
    assert {portal_domain(twenty, i) for i in range(20)} == {f"metalprom{i:02d}-soak1.bitrix24.ru"
                                                              for i in range(1, 21)}
