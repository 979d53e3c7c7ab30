"""The "contracts" settings section: defaults, the МеталПром demo, readable errors with paths, numbering
rules that would repeat numbers, templates (path, base64, broken ones), and how a type is completed."""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import pytest

from b24app.contracts.settings_section import demo
from b24app.contracts.templates import BUILDERS, default_template, load
from b24app.contracts.types import BUILTIN_CODES, effective_type
from b24app.errors import ConfigError
from b24app.settings import document


def issues_of(section: dict[str, Any]) -> dict[str, str]:
    _, issues = document.check({"contracts": section})
    return {i.path: i.ru for i in issues}


def test_defaults_have_the_six_types_and_validate() -> None:
    doc = document.defaults()["contracts"]
    assert [t["code"] for t in doc["types"]] == list(BUILTIN_CODES)
    assert doc["legal_entities"] == [] and doc["enabled"] is True
    labels = [effective_type(t)["label"] for t in doc["types"]]
    assert labels == [
        "100% предоплата",
        "Отсрочка платежа",
        "Тендерный контракт",
        "Государственный контракт",
        "Дилерский договор",
        "Досудебная претензия",
    ]


def test_the_metalprom_demo_validates_and_numbers_per_legal_entity() -> None:
    section = demo({})
    assert issues_of(section) == {}
    assert [le["code"] for le in section["legal_entities"]] == ["MP", "MPT"]
    assert [le["number_code"] for le in section["legal_entities"]] == ["МП", "МПТ"]
    prepayment = effective_type(section["types"][0])
    assert prepayment["format"] == "Д-{YY}/{SEQ:4}-{COMPANY}" and prepayment["per_legal_entity"]
    assert prepayment["defaults"]["prepayment_days"] == 3 and prepayment["defaults"]["penalty_percent"] == 0.1


def test_effective_type_fills_builtin_and_generic_values_under_the_given_ones() -> None:
    t = effective_type({"code": "deferred", "defaults": {"deferral_days": 45}, "label": "Отсрочка 45"})
    assert t["label"] == "Отсрочка 45" and t["title"] == "Договор поставки с отсрочкой платежа"
    assert t["defaults"] == {"deferral_days": 45, "delivery_days": 10, "penalty_percent": 0.1}
    assert t["sequence"] == "deferred" and t["reset"] == "yearly" and t["start"] == 1
    custom = effective_type(
        {
            "code": "service",
            "label": "Договор услуг",
            "template": "prepayment",
            "format": "У-{SEQ}",
            "reset": "never",
        }
    )
    assert custom["title"] == "Договор услуг" and custom["require_products"] is True
    claim = effective_type({"code": "claim"})
    assert claim["write_deal_fields"] is False and claim["require_products"] is False


@pytest.mark.parametrize(
    ("change", "path", "text"),
    [
        (
            lambda s: s["types"][0].update(format="Д-{NUMBER}-{SEQ}"),
            "contracts.types[0].format",
            "неизвестный токен",
        ),
        (
            lambda s: s["types"][0].update(format="Д-{SEQ:4}-{COMPANY}"),
            "contracts.types[0].format",
            "нет года",
        ),
        (lambda s: s["types"][1].update(format="ДО-{YY}/{SEQ:4}"), "contracts.types[1].format", "{COMPANY}"),
        (
            lambda s: s["types"][5].update(format="П-{YY}/{SEQ:3}-{COMPANY}"),
            "contracts.types[5].format",
            "года/месяца",
        ),
        (
            lambda s: s["types"][1].update(format="Д-{YY}/{SEQ:4}-{COMPANY}"),
            "contracts.types[1].format",
            "совпадут с номерами типа 1",
        ),
        (lambda s: s["types"][2].update(legal_entity="XX"), "contracts.types[2].legal_entity", "«XX»"),
        (
            lambda s: s["types"][2].update(template="nope"),
            "contracts.types[2].template",
            "шаблона «nope» нет",
        ),
        (lambda s: s["types"][0].update(reset="weekly"), "contracts.types[0].reset", "не из списка"),
        (
            lambda s: s["types"][4].update(sequence="prepayment"),
            "contracts.types[4].sequence",
            "общая с типом 1",
        ),
        (lambda s: s.update(default_legal_entity="ZZ"), "contracts.default_legal_entity", "«ZZ»"),
        (lambda s: s["legal_entities"][0].update(inn="12345"), "contracts.legal_entities[0].inn", "формат"),
        (
            lambda s: s["legal_entities"][1].update(number_code="МП"),
            "contracts.legal_entities[1].number_code",
            "уже у юрлица 1",
        ),
        (lambda s: s["types"].append({"code": "prepayment"}), "contracts.types[6].code", "уже есть"),
        (lambda s: s["types"][3].update(step=0), "contracts.types[3].step", "меньше 1"),
        (
            lambda s: s["types"][3].update(
                prefix="ГК", format="{PREFIX}{SEQ}", reset="never", per_legal_entity=False
            ),
            "contracts.types[3].format",
            None,
        ),
    ],
)
def test_problems_are_reported_with_their_path(change: Any, path: str, text: str | None) -> None:
    section = copy.deepcopy(demo({}))
    change(section)
    found = issues_of(section)
    if text is None:
        assert found == {}
        return
    assert path in found, found
    assert text in found[path], found[path]


def test_prefix_is_required_when_the_format_uses_it() -> None:
    section = demo({})
    section["types"][4] = {"code": "dealer", "prefix": "", "format": "{PREFIX}-{SEQ}", "reset": "never"}
    assert "префикс не задан" in issues_of(section)["contracts.types[4].prefix"]


def test_company_token_needs_legal_entities() -> None:
    found = issues_of({"types": [{"code": "prepayment", "format": "Д-{YY}/{SEQ}-{COMPANY}"}]})
    assert "юрлица (legal_entities) не описаны" in found["contracts.types[0].format"]


def test_templates_from_base64_and_path_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B24APP_TEMPLATES_DIR", str(tmp_path))
    good = base64.b64encode(default_template("deferred")).decode()
    path = tmp_path / "supply.docx"
    path.write_bytes(default_template("prepayment"))
    section = demo({})
    section["templates"] = {"supply_b64": {"base64": good}, "supply_file": {"path": str(path)}}
    section["types"][0]["template"] = "supply_file"
    assert issues_of(section) == {}
    assert load(section, "supply_b64") == default_template("deferred")
    assert load(section, "supply_file") == default_template("prepayment")
    assert load(section, "claim") == default_template("claim")
    with pytest.raises(ConfigError, match="шаблона «nothing» нет"):
        load(section, "nothing")


def _docx_with(text: str) -> str:
    import io

    import docx

    d = docx.Document()
    d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.mark.parametrize(
    ("tpl", "text"),
    [
        ({"base64": "не base64"}, "base64 не читается"),
        ({"base64": base64.b64encode(b"plain text").decode()}, "не файл Word"),
        ({"path": "no_such_file.docx"}, "не найден"),
        ({}, "ровно одно"),
        ({"base64": _docx_with("№ {{ contract.number }")}, "ошибка в подстановках"),
        ({"base64": _docx_with("{{ client.inn }} {{ contract.number }}")}, "неизвестные переменные client"),
    ],
)
def test_broken_templates_are_refused_with_a_reason(
    tpl: dict[str, str], text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("B24APP_TEMPLATES_DIR", str(tmp_path))
    section = demo({})
    section["templates"] = {"broken": tpl}
    found = issues_of(section)
    assert text in found["contracts.templates.broken"], found


def test_every_default_template_is_a_valid_template() -> None:
    from b24app.contracts.settings_section import check_docx

    for code in BUILDERS:
        assert check_docx(default_template(code)) is None
    assert default_template("claim") is default_template("claim")  # built once per process


def test_server_templates_only_from_the_folder_the_operator_allows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A portal administrator must not make the server read (or tell the existence of) any file: without
    B24APP_TEMPLATES_DIR no path is read at all; with it, nothing outside it, also not through a link."""
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "supply.docx").write_bytes(default_template("prepayment"))
    secret = tmp_path / "secret.docx"
    secret.write_bytes(default_template("deferred"))
    (folder / "link.docx").symlink_to(secret)

    def why(path: str) -> str:
        section = demo({})
        section["templates"] = {"own_tpl": {"path": path}}
        return issues_of(section).get("contracts.templates.own_tpl", "")

    monkeypatch.delenv("B24APP_TEMPLATES_DIR", raising=False)
    assert "B24APP_TEMPLATES_DIR не задан" in why(str(folder / "supply.docx"))
    monkeypatch.setenv("B24APP_TEMPLATES_DIR", str(folder))
    assert why("supply.docx") == "" and why(str(folder / "supply.docx")) == ""
    section = demo({})
    section["templates"] = {"own_tpl": {"path": "supply.docx"}}
    assert load(section, "own_tpl") == default_template("prepayment")
    for outside in (str(secret), "../secret.docx", "link.docx", "/etc/passwd"):
        assert "вне папки шаблонов" in why(outside), outside
    assert "не найден" in why("missing.docx") and "не найден" in why("notes.txt")
