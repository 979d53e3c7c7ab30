from __future__ import annotations

import pytest

from b24app.errors import Action, BitrixError, OAuthError, OneCError, TransportError, classify
from b24app.settings import document
from b24app.settings.schema import Int, List, Obj, Str, validate


@pytest.mark.parametrize("source, status, code, action", [
    ("bitrix", 503, "QUERY_LIMIT_EXCEEDED", Action.RATE_LIMITED),
    ("bitrix", 429, "OPERATION_TIME_LIMIT", Action.RATE_LIMITED),
    ("bitrix", 401, "expired_token", Action.REFRESH_THEN_RETRY),
    ("bitrix", 401, "insufficient_scope", Action.FAIL_CONFIG),
    ("bitrix", 403, "WRONG_AUTH_TYPE", Action.FAIL_CONFIG),
    ("bitrix", 404, "ERROR_METHOD_NOT_FOUND", Action.FAIL_CONFIG),
    ("bitrix", 500, "", Action.RETRY),
    ("bitrix", 502, "anything", Action.RETRY),
    ("bitrix", 400, "", Action.FAIL_DATA),
    ("bitrix", 400, "ERROR_CORE", Action.FAIL_DATA),
    ("oauth", 400, "invalid_grant", Action.FAIL_CONFIG),
    ("oauth", 502, "", Action.RETRY),
    ("transport", None, "", Action.RETRY),
    ("onec", 500, "-1", Action.FAIL_DATA),
    ("onec", 500, "", Action.RETRY),
    ("onec", 401, "", Action.FAIL_CONFIG),
    ("onec", 200, "html_answer", Action.FAIL_CONFIG),
    ("onec", 503, "html_answer", Action.RETRY),
    ("onec", 500, "lock", Action.RETRY),
    ("app", None, "busy", Action.RETRY),
    ("app", None, "config", Action.FAIL_CONFIG),
])
def test_error_table(source: str, status: int | None, code: str, action: Action) -> None:
    assert classify(source, status, code).action == action


def test_error_objects_carry_their_rule() -> None:
    assert BitrixError("QUERY_LIMIT_EXCEEDED", "Too many requests", 503).action == Action.RATE_LIMITED
    assert "Not found" in str(BitrixError("", "Not found", 400, "crm.deal.get"))
    assert OAuthError("x", code="invalid_grant").action == Action.FAIL_CONFIG
    assert TransportError("timeout").action == Action.RETRY
    assert OneCError("Поле не заполнено", code="-1", status=500).action == Action.FAIL_DATA


def test_schema_collects_every_problem_with_its_path() -> None:
    node = Obj(fields={
        "name": Str(min_len=1),
        "rules": List(item=Obj(fields={"id": Str(min_len=1), "weight": Int(min=0, max=100)}, required=("id",)),
                      unique_by="id"),
    }, required=("name",))
    _, issues = validate(node, {"rules": [{"id": "a", "weight": 500}, {"id": "a", "x": 1}, {"weight": "w"}]})
    texts = [i.text("en") for i in issues]
    assert "name: required field is missing" in texts
    assert "rules[0].weight: must be at most 100" in texts
    assert "rules[1].x: unknown field" in texts
    assert "rules[2].id: required field is missing" in texts
    assert "rules[2].weight: must be a whole number" in texts
    assert "rules[1].id: value 'a' repeats item 1" in texts
    assert any("обязательное поле" in i.text("ru") for i in issues)


def test_document_defaults_validate_and_yaml_round_trip(services) -> None:
    doc = document.defaults()
    assert doc["general"]["timezone"] == "Europe/Moscow"
    document.save(services.db, "m", doc)
    text = document.to_yaml(document.load(services.db, "m"))
    assert document.from_yaml(text) == document.load(services.db, "m")
    with pytest.raises(document.SettingsInvalid) as err:
        document.save(services.db, "m", {"general": {"lang": "de", "bogus": 1}})
    lines = err.value.lines("ru")
    assert any(line.startswith("general.lang") for line in lines)
    assert any(line.startswith("general.bogus") for line in lines)
    with pytest.raises(document.SettingsInvalid):
        document.from_yaml("general: [unclosed")


def test_before_save_hooks_run_only_when_secrets_are_given(services) -> None:
    from b24app.settings.sections import SECTIONS

    doc = document.defaults()
    doc["onec"]["bases"] = [{"name": "main", "transport": "odata", "url": "https://1c.example.ru/base/odata/standard.odata/",
                             "user": "b24sync", "password": "Секрет-1", "profile": "bp30", "legal_entity": "MP"}]
    assert SECTIONS["onec"].before_save is not None
    with pytest.raises(document.SettingsInvalid):  # a person's clear-text password is not stored as is
        document.save(services.db, "m", doc)
    document.save(services.db, "m", doc, secrets=services.secrets)
    stored = services.db.scalar("SELECT document FROM settings WHERE member_id = 'm'")
    assert "Секрет-1" not in stored and "***" in stored
