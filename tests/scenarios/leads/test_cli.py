"""``b24app leads explain|decisions|state|runs`` and the settings section's readable errors."""

from __future__ import annotations

import json

import yaml
from click.testing import CliRunner

from b24app.cli import main
from b24sandbox.seed.metalprom import PETROV_ID, ZUEVA_ID


def test_explain_decisions_and_state(mp) -> None:
    leads = [mp.add_lead("UC_GOOGLE", TITLE=f"Google Ads {i}") for i in range(3)]
    mp.settle()
    text = mp.cli("explain", str(leads[1])).output
    assert "intake / assign (event, applied)" in text and "по весам" in text and "Зуева Софья" in text
    data = json.loads(mp.cli("explain", str(leads[1]), "--json").output)
    assert len(data) == 1 and data[0]["lead_id"] == leads[1] and data[0]["user_id"] == ZUEVA_ID
    assert data[0]["explanation"]["strategy"]["strategy"] == "weighted" and data[0]["summary"]
    listing = json.loads(mp.cli("decisions", "--json", "--limit", "2").output)
    assert [r["lead_id"] for r in listing] == [leads[2], leads[1]]
    assert {"lead_id", "user_id", "rule", "reason", "kind", "status"} <= set(listing[0])
    table = mp.cli("decisions", "--user", str(PETROV_ID)).output
    assert "Петров Иван" in table and "Зуева" not in table
    state = {r["key"]: r for r in json.loads(mp.cli("state", "--json").output)}
    weighted = state["weighted|Реклама: Яндекс и Google Ads|ads"]
    assert weighted["picks"] == 3 and weighted["state"] == {str(PETROV_ID): 0, str(ZUEVA_ID): 0}  # a full cycle
    assert json.loads(mp.cli("runs", "--json").output) == []
    nothing = mp.cli("explain", "999999").output
    assert "решений о распределении нет" in nothing


def test_settings_errors_are_readable(mp, tmp_path) -> None:
    doc = mp.settings()
    dist = doc["distribution"]
    dist["rules"][0]["pool"] = "нет-такого"
    dist["rules"][1]["strategy"] = "by_mood"
    dist["rules"][2]["when"]["title_regex"] = "(unclosed"
    dist["fallback"] = [{"head": True, "queue": True}]
    dist["deadline"]["remind_after_min"] = 45
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(main, ["settings", "validate", str(path)], env=mp.app.env())
    assert result.exit_code == 2
    out = result.output
    assert "distribution.rules[0].pool: нет пула «нет-такого» в pools" in out
    assert "distribution.rules[1].strategy: значение «by_mood» не из списка" in out
    assert "distribution.rules[2].when.title_regex: неверное регулярное выражение" in out
    assert "distribution.fallback[0]: укажите ровно одно: pool, head или queue" in out
    assert "distribution.deadline.remind_after_min: напоминание должно быть раньше переназначения" in out
