"""Documents from deal data without a portal: parties from CRM requisites with the settings as fallback,
product rows with VAT and totals in words, what is missing (named per entity and field), every shipped
template filled and read back with python-docx, payment terms with placeholders, PDF through a
LibreOffice command."""

from __future__ import annotations

import datetime as dt
import io
import os
import stat
from decimal import Decimal
from pathlib import Path
from typing import Any

import docx
import pytest

from b24app.contracts import document
from b24app.contracts.portal_data import DealData, Requisite
from b24app.contracts.settings_section import DEMO_LEGAL_ENTITIES
from b24app.contracts.templates import BUILDERS, default_template
from b24app.contracts.types import effective_type
from b24app.contracts.words import amount_in_words_ru

MP = DEMO_LEGAL_ENTITIES[0]

ORG_REQ = Requisite(
    {
        "ID": "11",
        "PRESET_ID": "1",
        "NAME": "ООО «ГрадСтрой»",
        "RQ_COMPANY_NAME": "ООО «ГрадСтрой»",
        "RQ_COMPANY_FULL_NAME": "Общество с ограниченной ответственностью «ГрадСтрой»",
        "RQ_INN": "7451234560",
        "RQ_KPP": "745101001",
        "RQ_OGRN": "1127451000011",
        "RQ_DIRECTOR": "Белов Пётр Ильич",
    },
    bank={
        "RQ_BANK_NAME": "ПАО Сбербанк",
        "RQ_BIK": "047501602",
        "RQ_ACC_NUM": "40702810900000012345",
        "RQ_COR_ACC_NUM": "30101810700000000602",
    },
    address={
        "TYPE_ID": "6",
        "POSTAL_CODE": "454091",
        "PROVINCE": "Челябинская область",
        "CITY": "Челябинск",
        "ADDRESS_1": "ул. Кирова, д. 5",
    },
)
IP_REQ = Requisite(
    {
        "ID": "12",
        "PRESET_ID": "2",
        "NAME": "ИП Кузнецов Андрей Петрович",
        "RQ_COMPANY_NAME": "ИП Кузнецов А. П.",
        "RQ_INN": "450112345678",
        "RQ_KPP": "",
        "RQ_OGRNIP": "304450100012345",
        "RQ_LAST_NAME": "Кузнецов",
        "RQ_FIRST_NAME": "Андрей",
        "RQ_SECOND_NAME": "Петрович",
    },
    bank={
        "RQ_BANK_NAME": "АО «Альфа-Банк»",
        "RQ_BIK": "044525593",
        "RQ_ACC_NUM": "40802810000000000001",
        "RQ_COR_ACC_NUM": "30101810200000000593",
    },
    address={"TYPE_ID": "6", "CITY": "Курган", "ADDRESS_1": "ул. Ленина, д. 1"},
)
ROWS = [
    {
        "ID": "1",
        "PRODUCT_NAME": "Арматура А500С Ø12 мм",
        "PRICE": "58400",
        "QUANTITY": "5.1",
        "TAX_RATE": "20",
        "MEASURE_NAME": "т",
        "SORT": "10",
    },
    {
        "ID": "2",
        "PRODUCT_NAME": "Уголок 50х50х5",
        "PRICE": "61900.5",
        "QUANTITY": "2",
        "TAX_RATE": 20,
        "MEASURE_NAME": "т",
        "SORT": "20",
    },
]


def deal_data(
    rows: list[dict[str, Any]] | None = None,
    requisite: Requisite | None = ORG_REQ,
    company: dict[str, Any] | None = None,
) -> DealData:
    return DealData(
        deal_id=77,
        deal={
            "ID": "77",
            "TITLE": "Арматура для ЖК «Северный»",
            "OPPORTUNITY": "421620.00",
            "CURRENCY_ID": "RUB",
            "COMPANY_ID": "5",
            "CONTACT_ID": "9",
            "ASSIGNED_BY_ID": "4",
        },
        mycompany_id=1,
        rows=ROWS if rows is None else rows,
        company=company or {"ID": "5", "TITLE": "ГрадСтрой", "PHONE": [{"VALUE": "+7 351 200-00-00"}]},
        requisite=requisite,
        contact={
            "NAME": "Олег",
            "LAST_NAME": "Смирнов",
            "POST": "снабженец",
            "PHONE": [{"VALUE": "+79120000000"}],
        },
        my_company={"ID": "1", "TITLE": "ООО «МеталПром»"},
        my_requisite=None,
        manager={"NAME": "Иван", "LAST_NAME": "Петров", "WORK_PHONE": "+7 351 220-45-68"},
    )


def text_of(data: bytes) -> str:
    d = docx.Document(io.BytesIO(data))
    lines = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            lines.extend(c.text for c in row.cells)
    return "\n".join(lines)


def seller() -> dict[str, Any]:
    return document.merge_settings(document.party_from_requisite(None, None), MP)


# --- formatting ------------------------------------------------------------------------------------


def test_small_formatters() -> None:
    assert document.date_text(dt.date(2026, 3, 5)) == "«05» марта 2026 г."
    assert document.short_name("Сергеев Андрей Николаевич") == "Сергеев А. Н."
    assert document.short_name("Оглы") == "Оглы"
    assert document.number_text("2.50") == "2,5" and document.number_text(20.0) == "20"
    assert document.money("120000") == "120 000,00"
    assert (
        document.format_address(
            {
                "POSTAL_CODE": "620075",
                "PROVINCE": "Свердловская область",
                "CITY": "Екатеринбург",
                "ADDRESS_1": "ул. Бажова, д. 68",
            }
        )
        == "620075, Свердловская область, г. Екатеринбург, ул. Бажова, д. 68"
    )
    assert document.format_address({"CITY": "пос. Рощино"}) == "пос. Рощино"


# --- parties -----------------------------------------------------------------------------------------


def test_organisation_and_individual_entrepreneur_parties() -> None:
    org = document.finish_party(document.party_from_requisite(ORG_REQ, {"TITLE": "ГрадСтрой"}))
    assert org["name"] == "ООО «ГрадСтрой»" and org["kpp"] == "745101001" and org["ogrn_label"] == "ОГРН"
    assert org["address"] == "454091, Челябинская область, г. Челябинск, ул. Кирова, д. 5"
    assert org["acting"] == "от имени которого действует руководитель Белов Пётр Ильич на основании Устава"
    assert org["director_short"] == "Белов П. И." and org["bank"]["bik"] == "047501602"
    ip = document.finish_party(document.party_from_requisite(IP_REQ, None))
    assert (
        ip["is_ip"] and ip["kpp"] == "" and ip["ogrn"] == "304450100012345" and ip["ogrn_label"] == "ОГРНИП"
    )
    assert ip["director"] == "Кузнецов Андрей Петрович"
    assert ip["director_position"] == "Индивидуальный предприниматель"
    assert "ОГРНИП 304450100012345" in ip["acting"]
    assert document.party_missing(ip) == []


def test_our_legal_entity_takes_the_portal_first_and_the_settings_for_the_rest() -> None:
    portal = document.party_from_requisite(
        Requisite(
            {
                "ID": "1",
                "RQ_INN": "7448053174",
                "RQ_COMPANY_NAME": "МеталПром (CRM)",
                "RQ_DIRECTOR": "Сергеев Андрей Николаевич",
            }
        ),
        None,
    )
    merged = document.merge_settings(portal, MP)
    assert merged["name"] == "МеталПром (CRM)"  # the portal's value wins
    assert (
        merged["kpp"] == MP["kpp"] and merged["bank"]["account"] == MP["bank"]["account"]
    )  # settings fill in
    assert merged["director_position"] == "Генеральный директор"
    assert document.party_missing(merged) == []
    assert document.party_missing(
        document.merge_settings(document.party_from_requisite(None, None), None)
    ) == [
        "name",
        "inn",
        "kpp",
        "ogrn",
        "director",
        "address",
        "bank.name",
        "bank.bik",
        "bank.account",
        "bank.corr_account",
    ]


# --- rows and totals -----------------------------------------------------------------------------------


def test_rows_vat_and_totals_in_words() -> None:
    rows, totals = document.rows_and_totals(
        ROWS, vat_payer=True, fallback_amount=0, fallback_rate=20, currency="RUB"
    )
    assert [r["name"] for r in rows] == ["Арматура А500С Ø12 мм", "Уголок 50х50х5"]
    assert rows[0]["quantity"] == "5,1" and rows[0]["sum"] == "297 840,00" and rows[0]["vat_rate"] == "20 %"
    assert rows[1]["price"] == "61 900,50" and rows[1]["sum"] == "123 801,00"
    total = Decimal("297840") + Decimal("123801")
    assert totals["sum"] == "421 641,00" and totals["count"] == 2
    assert (
        totals["sum_words"]
        == amount_in_words_ru(total)
        == "Четыреста двадцать одна тысяча шестьсот сорок один рубль 00 копеек"
    )
    assert totals["vat"] == "70 273,50"  # 49 640,00 + 20 633,50, per row
    assert totals["vat_line"] == "в том числе НДС 20 % — 70 273,50 руб."


def test_mixed_rates_no_vat_and_no_rows() -> None:
    mixed = [dict(ROWS[0]), dict(ROWS[1], TAX_RATE="10")]
    _, totals = document.rows_and_totals(
        mixed, vat_payer=True, fallback_amount=0, fallback_rate=20, currency="RUB"
    )
    assert totals["vat_line"].startswith("в том числе НДС — ")
    rows, totals = document.rows_and_totals(
        ROWS, vat_payer=False, fallback_amount=0, fallback_rate=20, currency="RUB"
    )
    assert (
        totals["vat_line"] == "НДС не облагается."
        and rows[0]["vat_rate"] == "Без НДС"
        and totals["vat"] == "0,00"
    )
    rows, totals = document.rows_and_totals(
        [], vat_payer=True, fallback_amount="120000", fallback_rate=20, currency="RUB"
    )
    assert rows == [] and totals["sum"] == "120 000,00" and totals["vat"] == "20 000,00"
    assert totals["sum_words"] == "Сто двадцать тысяч рублей 00 копеек"


# --- what is missing ------------------------------------------------------------------------------------


def test_a_client_without_requisites_is_named_with_every_missing_field() -> None:
    t = effective_type({"code": "prepayment"})
    found = document.problems(
        deal_data(requisite=None, company={"ID": "31", "TITLE": "Новый Горизонт"}),
        t,
        seller(),
        ("«ООО «МеталПром»» (MP)", "MP"),
        "",
    )
    err = document.missing_error(found, "ru", t["label"])
    assert "компания «Новый Горизонт» (ID 5)" in err.message
    for field in ("ИНН", "КПП", "ОГРН", "юридический адрес", "банковские реквизиты"):
        assert field in err.message
    assert err.message.startswith("Нельзя сформировать документ «100% предоплата»: не хватает данных.")
    assert "\n" not in err.message  # the workflow shows the first line only
    assert "company 'Новый Горизонт'" in document.missing_error(found, "en", "x").message


def test_missing_fields_of_each_entity_are_listed_together() -> None:
    t = effective_type({"code": "prepayment"})
    partial = Requisite(dict(ORG_REQ.fields, RQ_KPP="", RQ_DIRECTOR=""), bank=None, address=None)
    poor_seller = document.merge_settings(
        document.party_from_requisite(None, None),
        {"code": "MP", "name": "ООО «МеталПром»", "inn": "7448053174"},
    )
    found = document.problems(
        deal_data(rows=[], requisite=partial),
        t,
        poor_seller,
        ("«ООО «МеталПром»» (MP)", "MP"),
        " (компания 1)",
    )
    texts = [m.text("ru") for m in found]
    assert texts[0] == (
        "компания «ГрадСтрой» (ID 5): не заполнено — КПП, руководитель, юридический адрес, "
        "банковские реквизиты — заполните реквизиты компании в CRM"
    )
    assert texts[1].startswith("наше юрлицо «ООО «МеталПром»» (MP) (компания 1): не заполнено — КПП, ОГРН")
    assert texts[2] == "сделка 77: не заполнено — товары (нет ни одной позиции)"
    dealer = effective_type({"code": "dealer"})  # a dealer agreement needs no products
    assert not any(
        "товары" in m.text() for m in document.problems(deal_data(rows=[]), dealer, seller(), ("", ""), "")
    )


def test_a_deal_without_company_and_with_an_unknown_currency() -> None:
    data = deal_data()
    data.deal = dict(data.deal, COMPANY_ID=None, CURRENCY_ID="XYZ")
    texts = [
        m.text()
        for m in document.problems(data, effective_type({"code": "deferred"}), seller(), ("", ""), "")
    ]
    assert texts == [
        "сделка 77: не заполнено — компания клиента",
        "сделка 77: не заполнено — валюта XYZ не поддерживается (RUB, USD, EUR, KZT)",
    ]


# --- documents -----------------------------------------------------------------------------------------


def context_for(code: str, **kw: Any) -> dict[str, Any]:
    t = effective_type({"code": code, **kw})
    return document.build_context(
        deal_data(),
        t,
        seller=seller(),
        number="Д-26/0007-МП",
        contract_date=dt.date(2026, 3, 5),
        le=MP,
        base_contract={"number": "Д-26/0001-МП", "date": "2026-01-15"},
        extra={"debt": "100000.5"},
        type_label=t["label"],
    )


@pytest.mark.parametrize("code", list(BUILDERS))
def test_every_shipped_template_is_filled_and_reads_back(code: str) -> None:
    out = document.render(default_template(code), context_for(code), code)
    text = text_of(out)
    assert "Д-26/0007-МП" in text and "«05» марта 2026 г." in text
    assert "7451234560" in text and "745101001" in text  # the client's ИНН and КПП
    assert "7448053174" in text and "40702810172000031457" in text  # ours
    assert "{{" not in text and "{%" not in text
    if code != "dealer":
        assert "Арматура А500С Ø12 мм" in text and "297 840,00" in text
        assert "Четыреста двадцать одна тысяча шестьсот сорок один рубль 00 копеек" in text
    if code == "claim":
        assert "договор № Д-26/0001-МП от 15.01.2026" in text
        assert "100 000,50 руб. (Сто тысяч рублей 50 копеек)" in text
        assert "Исполнитель: Петров Иван, тел. +7 351 220-45-68" in text
    if code == "government":
        assert "ГОСУДАРСТВЕННЫЙ КОНТРАКТ № Д-26/0007-МП" in text and "«Заказчик»" in text
        assert "Идентификационный код закупки: Арматура для ЖК «Северный»." in text
    if code == "dealer":
        assert "скидка 5 %" in text and "Уральский федеральный округ" in text
        assert "Арматура А500С Ø12 мм" in text  # the first order, since the deal has products
    if code in ("prepayment", "deferred", "tender"):
        assert "4.3. Контактное лицо Покупателя: Смирнов Олег (снабженец), тел. +79120000000." in text
    if code == "prepayment":
        assert "в течение 3 банковских дней" in text and "передать в собственность Покупателя" in text


def test_dealer_agreement_without_products_has_no_order_table() -> None:
    t = effective_type({"code": "dealer"})
    ctx = document.build_context(
        deal_data(rows=[]),
        t,
        seller=seller(),
        number="ДД-26/001-МП",
        contract_date=dt.date(2026, 3, 5),
        le=MP,
    )
    text = text_of(document.render(default_template("dealer"), ctx, "dealer"))
    assert "Первая заявка" not in text and "Наименование товара" not in text and "ДД-26/001-МП" in text


def test_payment_terms_text_from_the_settings_takes_the_terms() -> None:
    ctx = context_for(
        "deferred",
        defaults={
            "deferral_days": 45,
            "payment_terms": "Оплата {deferral_days} дн. после отгрузки, {unknown}",
        },
    )
    assert ctx["terms"]["payment_text"] == "Оплата 45 дн. после отгрузки, {unknown}"
    assert context_for("deferred")["terms"]["payment_text"].startswith(
        "Покупатель оплачивает товар в течение 30 "
    )


def test_values_are_escaped_in_the_document() -> None:
    ctx = context_for("prepayment")
    ctx["buyer"]["name"] = "ООО «A&B <Trade>»"
    text = text_of(document.render(default_template("prepayment"), ctx, "prepayment"))
    assert "ООО «A&B <Trade>»" in text


def test_a_template_that_cannot_be_rendered_is_a_settings_error() -> None:
    from b24app.errors import ConfigError

    d = docx.Document()
    d.add_paragraph("{{ contract.number | nosuchfilter }}")
    buf = io.BytesIO()
    d.save(buf)
    bad = buf.getvalue()
    with pytest.raises(ConfigError, match="шаблон «mine» не заполняется"):
        document.render(bad, context_for("prepayment"), "mine")


# --- PDF -----------------------------------------------------------------------------------------------

FAKE_SOFFICE = """#!/bin/sh
# A stand-in for LibreOffice: writes <outdir>/<stem>.pdf the way `soffice --convert-to pdf` does.
outdir=""; src=""; profile=""
while [ $# -gt 0 ]; do
  case "$1" in
    --outdir) outdir="$2"; shift ;;
    -env:UserInstallation=*) profile="$1" ;;
    --*) ;;
    pdf) ;;
    *) src="$1" ;;
  esac
  shift
done
[ -n "$profile" ] || exit 3
stem=$(basename "$src" .docx)
printf '%%PDF-1.4\\n%% converted from %s\\n%%%%EOF\\n' "$stem" > "$outdir/$stem.pdf"
"""


def fake_soffice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str = FAKE_SOFFICE) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "soffice"
    exe.write_text(body)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")


def test_pdf_is_made_by_libreoffice_when_present(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_soffice(tmp_path, monkeypatch)
    pdf = document.to_pdf(default_template("prepayment"), stem="contract")
    assert pdf is not None and pdf.startswith(b"%PDF-1.4") and b"contract" in pdf


def test_no_pdf_without_libreoffice_or_when_it_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing there
    assert document.soffice_path() is None
    assert document.to_pdf(b"docx") is None
    fake_soffice(tmp_path, monkeypatch, "#!/bin/sh\nexit 1\n")
    assert document.to_pdf(b"docx") is None


def test_templates_cannot_reach_python_internals() -> None:
    from b24app.errors import ConfigError

    d = docx.Document()
    d.add_paragraph("{{ contract.number.__class__.__mro__[1].__subclasses__() }}")
    buf = io.BytesIO()
    d.save(buf)
    with pytest.raises(ConfigError, match="не заполняется"):
        document.render(buf.getvalue(), context_for("prepayment"), "evil")


def test_a_dollar_deal_speaks_dollars() -> None:
    data = deal_data()
    data.deal = dict(data.deal, CURRENCY_ID="USD")
    t = effective_type({"code": "prepayment"})
    ctx = document.build_context(
        data, t, seller=seller(), number="Д-1", contract_date=dt.date(2026, 3, 5), le=MP
    )
    text = text_of(document.render(default_template("prepayment"), ctx, "prepayment"))
    assert "Итого: 421 641,00 долл. США" in text and "Цена, долл. США" in text
    assert "шестьсот сорок один доллар США 00 центов" in text and "руб." not in text
