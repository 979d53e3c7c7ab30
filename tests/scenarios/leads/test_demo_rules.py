"""300 new leads from mixed sources arrive (ONCRMLEADADD over real HTTP) and the МеталПром demo rules
distribute them: Яндекс/Google Ads to Петров and Зуева 2:1, Соц-сети and SEO to the least loaded,
e-mail and the site form to quality control, the rest in turn; Иванов (on vacation) and Козлов
(inactive) get nothing, no cap is exceeded, every decision is explained in the lead's timeline."""

from __future__ import annotations

from collections import Counter

from b24sandbox.seed.metalprom import HEAD_OF_SALES_ID, IVANOV_ID, PETROV_ID, QC_ID, ZUEVA_ID

FORMER_MANAGER_ID = 9
ADS = "Реклама: Яндекс и Google Ads"
SOCIAL = "Соц-сети и SEO"
QC_RULE = "E-mail и форма на сайте через контроль качества"
OTHER = "Остальные источники"


def test_300_leads_follow_the_demo_rules(mp) -> None:
    first = mp.sandbox.control("POST", f"/portals/{mp.member_id}/generate", {
        "leads": 300, "status_id": "NEW", "assigned_ids": [1], "rng_seed": 7, "fire_events": True,
    })["first_ids"]["lead"]
    mp.settle()
    ids = set(range(first, first + 300))
    decisions = [d for d in mp.decisions() if d.entity_id in ids]
    assert len(decisions) == 300 and {d.phase for d in decisions} == {"intake"}
    assert all(d.status == "applied" for d in decisions), Counter(d.status for d in decisions)
    leads = mp.leads(first)
    sources = {i: r["SOURCE_ID"] for i, r in leads.items()}
    by_rule: dict[str, list] = {}
    for d in decisions:
        if d.kind in ("assign", "qc"):
            by_rule.setdefault(d.rule, []).append(d)

    # Яндекс/Google Ads: Петров and Зуева exactly 2:1 (smooth weighted round robin), nobody else
    ads = Counter(d.user_id for d in by_rule[ADS])
    assert set(ads) == {PETROV_ID, ZUEVA_ID}
    assert abs(ads[PETROV_ID] - 2 * ads[ZUEVA_ID]) <= 2, ads
    # Соц-сети and SEO: every time the least loaded of the available managers
    social = by_rule[SOCIAL]
    assert {d.user_id for d in social} == {PETROV_ID, ZUEVA_ID}
    for d in social:
        cands = d.explanation["strategy"]["candidates"]
        least = min(c["load"] for c in cands)
        assert next(c["load"] for c in cands if c["user_id"] == d.user_id) == least
        assert {s["user_id"]: s["reason"] for s in d.explanation["strategy"]["skipped"]}.get(IVANOV_ID) == "absent"
    # e-mail and the site form: quality control first (Орлов)
    qc = by_rule[QC_RULE]
    assert {d.user_id for d in qc} == {QC_ID} and all(d.kind == "qc" for d in qc)
    assert {sources[d.entity_id] for d in qc} <= {"EMAIL", "WEBFORM"}
    # other sources in turn among the sales department (head excluded, Иванов absent, Козлов inactive)
    other = Counter(d.user_id for d in by_rule[OTHER])
    assert set(other) == {PETROV_ID, ZUEVA_ID} and abs(other[PETROV_ID] - other[ZUEVA_ID]) <= 1, other
    # shares by source
    for d in by_rule[ADS]:
        assert sources[d.entity_id] in ("UC_YANDEX", "UC_GOOGLE")
    for d in social:
        assert sources[d.entity_id] in ("UC_SOCIAL", "UC_SEO")
    # nobody absent, inactive or heading the department got a lead
    got = Counter(d.user_id for d in decisions)
    assert got[IVANOV_ID] == 0 and got[FORMER_MANAGER_ID] == 0 and got[HEAD_OF_SALES_ID] == 0
    # no cap exceeded (demo caps: 150 a day, 300 open at once)
    caps = mp.settings()["distribution"]["caps"]
    per_day = Counter(d.user_id for d in decisions if d.user_id and d.kind != "qc")
    assert max(per_day.values()) <= caps["daily"]
    # the portal agrees with the decisions, and each lead's timeline explains it
    owners = {i: int(r["ASSIGNED_BY_ID"]) for i, r in leads.items()}
    for d in decisions:
        if d.user_id:
            assert owners[d.entity_id] == d.user_id
    sample = next(d for d in by_rule[ADS] if d.user_id == ZUEVA_ID)
    texts = [c["COMMENT"] for c in mp.comments(sample.entity_id)]
    assert len(texts) == 1 and "Зуева" in texts[0] and "по весам" in texts[0] and ADS in texts[0]
    notes = [n for n in mp.notifications(ZUEVA_ID) if f"/crm/lead/details/{sample.entity_id}/" in n["message"]]
    assert len(notes) == 1
