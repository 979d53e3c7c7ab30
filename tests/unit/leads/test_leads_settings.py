"""The "distribution" settings section: the МеталПром demo validates and says what the issue asks;
mistakes are reported with their place, in Russian and English."""

from __future__ import annotations

import pytest

from b24app.errors import ConfigError
from b24app.leads.settings_section import demo
from b24app.settings import document
from tests.unit.leads.conftest import HEAD, IVANOV, PETROV, QC, ZUEVA, demo_settings, facts


def issues_of(dist: dict) -> dict[str, str]:
    _, issues = document.check({"distribution": dist})
    return {i.path: i.ru for i in issues}


def test_demo_section() -> None:
    dist = demo_settings()["distribution"]
    assert dist["pools"]["ads"] == {"users": [PETROV, ZUEVA], "weights": {str(PETROV): 2, str(ZUEVA): 1},
                                    "subdepartments": True, "exclude_heads": True, "department": None}
    rules = {r["name"]: r for r in dist["rules"]}
    assert rules["Реклама: Яндекс и Google Ads"]["strategy"] == "weighted"
    assert rules["Реклама: Яндекс и Google Ads"]["when"]["source"] == ["UC_YANDEX", "UC_GOOGLE"]
    assert dist["pools"]["managers"]["users"] == [IVANOV, PETROV, ZUEVA]
    assert rules["Соц-сети и SEO"]["strategy"] == "least_loaded"
    assert rules["E-mail и форма на сайте через контроль качества"]["qc"] is True
    assert dist["pools"]["qc"]["users"] == [QC] and dist["qc"]["release_status"] == "IN_PROCESS"
    assert dist["rules"][-1]["when"]["source"] == [] and dist["rules"][-1]["pool"] == "sales"
    assert dist["head_user_id"] == HEAD and dist["fallback"][0]["head"] and dist["fallback"][1]["queue"]
    assert dist["junk"]["enabled"] and dist["duplicates"]["action"] == "to_owner"
    assert dist["deadline"]["enabled"] and dist["caps"]["daily"] == 150
    assert document.defaults()["distribution"]["rules"] == []  # nothing happens until configured


def test_demo_needs_the_metalprom_people() -> None:
    f = facts()
    f["users"] = [u for u in f["users"] if u["LAST_NAME"] != "Зуева"]
    with pytest.raises(ConfigError, match="Зуева"):
        demo(f)


def test_readable_errors() -> None:
    dist = demo(facts())
    dist["pools"]["empty"] = {}
    dist["pools"]["ads"]["weights"] = {"Петров": 2}
    dist["pools"]["managers"]["users"] = [3, 3]
    dist["rules"].append({"name": "Соц-сети и SEO", "pool": "nowhere", "strategy": "round_robin",
                          "when": {"amount_min": 10, "amount_max": 5, "comment_regex": "[", "hours": "sometimes",
                                   "fields": {"utm_source": "x"}}})
    dist["rules"].append({"strategy": "round_robin"})
    dist["qc"]["pool"] = None
    dist["fallback"] = [{"pool": "nowhere"}, {}]
    dist["junk"]["patterns"] = ["(?"]
    got = issues_of(dist)
    assert got["distribution.pools.empty"] == "укажите сотрудников (users) или отдел (department)"
    assert got["distribution.pools.ads.weights.Петров"] == "недопустимый ключ"
    assert got["distribution.pools.managers.users"] == "сотрудник указан дважды"
    assert got["distribution.rules[4].name"] == "правило «Соц-сети и SEO» уже есть"
    assert got["distribution.rules[4].pool"] == "нет пула «nowhere» в pools"
    assert got["distribution.rules[4].when"] == "amount_min больше amount_max"
    assert got["distribution.rules[4].when.comment_regex"].startswith("неверное регулярное выражение")
    assert got["distribution.rules[4].when.hours"].startswith("значение «sometimes» не из списка")
    assert got["distribution.rules[4].when.fields.utm_source"] == "недопустимый ключ"
    assert got["distribution.rules[5].name"] == "обязательное поле не заполнено"
    assert got["distribution.rules[5].pool"] == "обязательное поле не заполнено"
    assert got["distribution.qc.pool"].startswith("правило отправляет лиды на контроль качества")
    assert got["distribution.fallback[0].pool"] == "нет пула «nowhere»"
    assert got["distribution.fallback[1]"] == "укажите ровно одно: pool, head или queue"
    assert got["distribution.junk.patterns[0]"].startswith("неверное регулярное выражение")
    _, issues = document.check({"distribution": dist})
    assert any(i.en == "no pool 'nowhere' in pools" for i in issues)
