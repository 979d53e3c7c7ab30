"""The "onec" settings section, passwords at rest, the API other features call, and small pieces of
the profiles and the SOAP client (payment matching per profile, links, the endpoint override)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from b24app.context import Services
from b24app.errors import ConfigError
from b24app.settings import document
from b24app.sync_1c import api, credentials, state
from b24app.sync_1c.profiles import profile
from b24app.sync_1c.records import InvoiceRec, PaymentRec
from b24app.sync_1c.settings_schema import MASK, demo
from b24app.sync_1c.soap import endpoint_for

M = "member-1"
BASE = {"name": "bp", "transport": "odata", "url": "https://1c.example.ru/bp/odata/standard.odata/",
        "user": "b24sync", "profile": "bp30"}


def issues(onec: dict) -> list[str]:
    _, found = document.check({"onec": onec})
    return [i.text("en") for i in found]


def test_the_demo_section_validates_and_routes_by_legal_entity() -> None:
    facts = {"statuses": {"DEAL_STAGE": [{"STATUS_ID": s} for s in ("UC_AWAIT_PAYMENT", "UC_PARTIAL_PAID", "UC_PAID")]}}
    section = demo(facts)
    assert issues(section) == []
    assert section["routing"]["mode"] == "legal_entity"
    assert section["stages"]["0"] == {"unpaid": "UC_AWAIT_PAYMENT", "partial": "UC_PARTIAL_PAID", "paid": "UC_PAID"}
    assert section["invoice_stages"]["1"]["paid"] == "DT31_1:P"


def test_the_section_refuses_clear_text_passwords_and_dangling_routes() -> None:
    assert issues({"bases": [dict(BASE, password=MASK)]}) == []
    assert issues({"bases": [dict(BASE, password="enc:v1:abc")]}) == []
    got = issues({"bases": [dict(BASE, password="secret")]})
    assert len(got) == 1 and "onec.bases[0].password" in got[0] and "set-password" in got[0]
    got = issues({"bases": [BASE], "routing": {"mode": "funnel", "funnels": {"1": "nope"}, "default_base": "gone"}})
    assert any("routing.funnels.1" in g for g in got) and any("routing.default_base" in g for g in got)
    got = issues({"bases": [dict(BASE, url="ftp://x/y")]})
    assert any("http" in g for g in got)
    got = issues({"bases": [dict(BASE, url="https://1c.example.ru/bp/ws/x.1cws?wsdl")]})
    assert any("standard.odata" in g for g in got)  # an OData connection needs the OData root
    assert issues({"bases": [BASE, BASE]})  # names are unique


def test_passwords_are_stored_encrypted_and_shown_masked(services: Services) -> None:
    box = services.secrets
    section = {"bases": [dict(BASE, password="Пароль-1С"), dict(BASE, name="ut", password=MASK)]}
    cleaned = credentials.take_secrets(services.db, box, M, section)
    assert [b["password"] for b in cleaned["bases"]] == [MASK, MASK]
    row = services.db.one("SELECT password_enc FROM sync_1c_credentials WHERE member_id = ? AND base = 'bp'", (M,))
    assert row["password_enc"].startswith("enc:v1:") and "Пароль" not in row["password_enc"]
    assert credentials.password_for(services.db, box, M, cleaned["bases"][0]) == "Пароль-1С"
    assert credentials.masked({"bases": [dict(BASE, password="enc:v1:zz")]})["bases"][0]["password"] == MASK
    with pytest.raises(ConfigError, match="set-password"):  # *** with nothing stored
        credentials.password_for(services.db, box, M, dict(BASE, name="ut", password=MASK))
    assert credentials.password_for(services.db, box, M, dict(BASE, name="none", password="")) == ""
    credentials.take_secrets(services.db, box, M, {"bases": [dict(BASE, password="")]})
    assert not credentials.has(services.db, M, "bp")


def test_payment_status_and_payments_for_analytics(services: Services) -> None:
    db = services.db
    assert api.payment_status(db, M, 5) is None
    state.record_invoice(db, M, "bp", InvoiceRec(ref="i1", number="MP00-000012", date="2026-11-01T10:00:00",
                                                 amount=1000.0, posted=True, due_date="2026-11-06"),
                         origin="b24", deal_id=5)
    for ref, day, amount, posted in (("p1", "2026-11-02T09:00:00", 300.0, True), ("p2", "2026-11-04T09:00:00", 200.5, True),
                                     ("p3", "2026-11-05T09:00:00", 99.0, False)):
        state.put_payment(db, M, "bp", PaymentRec(ref=ref, date=day, amount=amount, posted=posted), [("i1", amount)])
    state.recompute_paid(db, M, "bp", "i1")
    st = api.payment_status(db, M, 5)
    assert st == api.PaymentStatus(due_date=dt.date(2026, 11, 6), amount=Decimal("1000.00"), paid=Decimal("500.50"),
                                   outstanding=Decimal("499.50"), last_payment_date=dt.date(2026, 11, 4),
                                   invoice_number="MP00-000012", base="bp", ref_key="i1", status="partial")
    got = api.payments_for_analytics(db, M, dt.date(2026, 11, 3), dt.date(2026, 11, 30))
    assert [(p["deal_id"], p["amount"], p["date"]) for p in got] == [(5, 200.5, "2026-11-04")]
    assert isinstance(got[0]["amount"], float)
    state.update_invoice_from_1c(db, M, "bp", InvoiceRec(ref="i1", number="MP00-000012", date="2026-11-01T10:00:00",
                                                         amount=1000.0, deletion_mark=True))
    assert api.payment_status(db, M, 5) is None  # marked for deletion in 1C: no live invoice


def test_payments_are_matched_to_invoices_per_profile() -> None:
    bp = profile("bp30").parse_payment("Document_ПоступлениеНаРасчетныйСчет", "bank", {
        "Ref_Key": "p", "Number": "12", "Date": "2026-11-20T10:00:00", "Posted": True, "DeletionMark": False,
        "СуммаДокумента": 300, "ВидОперации": "ОплатаПокупателя", "Контрагент": "cp",
        "Контрагент_Type": "StandardODATA.Catalog_Контрагенты",
        "РасшифровкаПлатежа": [{"СчетНаОплату_Key": "i1", "СуммаПлатежа": 200},
                               {"СчетНаОплату_Key": "00000000-0000-0000-0000-000000000000", "СуммаПлатежа": 100}]})
    assert [(a.target_ref, a.amount) for a in bp.allocations] == [("i1", 200.0)] and bp.active
    ret = profile("bp30").parse_payment("Document_ПоступлениеНаРасчетныйСчет", "bank", {
        "Ref_Key": "r", "Date": "2026-11-20T10:00:00", "Posted": True, "ВидОперации": "ВозвратОтПоставщика",
        "СуммаДокумента": 5, "ДокументОснование": "i1",
        "ДокументОснование_Type": "StandardODATA.Document_СчетНаОплатуПокупателю", "РасшифровкаПлатежа": []})
    assert not ret.active and [a.target_ref for a in ret.allocations] == ["i1"]  # header basis as a fallback
    ut = profile("ut11").parse_payment("Document_ПриходныйКассовыйОрдер", "cash", {
        "Ref_Key": "u", "Date": "2026-11-20T10:00:00", "Posted": True, "ХозяйственнаяОперация": "ПоступлениеОплатыОтКлиента",
        "СуммаДокумента": 30, "РасшифровкаПлатежа": [
            {"ОснованиеПлатежа": "inv", "ОснованиеПлатежа_Type": "StandardODATA.Document_СчетНаОплатуКлиенту", "Сумма": 10},
            {"ОснованиеПлатежа": "ord", "ОснованиеПлатежа_Type": "StandardODATA.Document_ЗаказКлиента", "Сумма": 20}]})
    assert [(a.target, a.target_ref, a.amount) for a in ut.allocations] == [("invoice", "inv", 10.0),
                                                                              ("order", "ord", 20.0)]
    unf = profile("unf").parse_payment("Document_ПоступлениеНаСчет", "bank", {
        "Ref_Key": "n", "Date": "2026-11-20T10:00:00", "Posted": True, "DeletionMark": True, "ВидОперации": "ОтПокупателя",
        "СуммаДокумента": 7, "РасшифровкаПлатежа": [
            {"СчетНаОплату": "x", "СчетНаОплату_Type": "StandardODATA.Document_СчетНаОплату", "СуммаПлатежа": 7}]})
    assert [a.target_ref for a in unf.allocations] == ["x"] and not unf.active  # marked for deletion


def test_links_and_the_soap_endpoint_override() -> None:
    link = profile("bp30").web_link("http://1c.local/bp", "8d04ce3c-6360-11e9-dd92-fa163e8ba11d")
    assert link == "http://1c.local/bp/#e1cib/data/Документ.СчетНаОплатуПокупателю?ref=dd92fa163e8ba11d11e963608d04ce3c"
    wsdl = "https://1c.metalprom.ru/bp/ws/b24exchange.1cws?wsdl"
    assert endpoint_for(wsdl, "http://srv-1c-01/bp/ws/b24exchange") == "https://1c.metalprom.ru/bp/ws/b24exchange.1cws"
    assert endpoint_for(wsdl, "https://1c.metalprom.ru/bp/ws/b24exchange") == "https://1c.metalprom.ru/bp/ws/b24exchange"
    assert endpoint_for(wsdl, "http://srv-1c-01/x", "https://gw.example/ws") == "https://gw.example/ws"
