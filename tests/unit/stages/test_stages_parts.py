"""Parts of the stages feature without a portal: the head from the department structure, funnel order
and skipped stages, placeholders, the rejection rule, task fields and markers, amounts and the optional
features (1C sync, contracts) looked up lazily."""

from __future__ import annotations

import datetime as dt
import sys
import types
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

import pytest

from b24app.stages import items, render
from b24app.stages.approvals import is_rejection
from b24app.stages.model import PaymentsConfig
from b24app.stages.org import Org
from b24app.stages.payments import _optional, decimal, payment_status
from b24app.stages.tasks import TaskSpec, marker_of, task_fields
from b24sandbox.seed import metalprom

MSK = ZoneInfo("Europe/Moscow")


@cache
def metalprom_org() -> Org:
    data = metalprom.build(1)
    users = [{**u, "UF_DEPARTMENT": u.get("UF_DEPARTMENT") or [u.get("DEPARTMENT")]} for u in data["users"]]
    return Org.from_rows(users, [{k: (str(v) if v is not None else None) for k, v in d.items()}
                                 for d in data["departments"]])


def test_the_head_comes_from_the_department_structure() -> None:
    org = metalprom_org()
    assert org.head_of(metalprom.PETROV_ID) == metalprom.HEAD_OF_SALES_ID
    # Зуева's group has no head: the question goes one level up, to the head of sales
    assert org.head_of(metalprom.ZUEVA_ID) == metalprom.HEAD_OF_SALES_ID
    # the head of sales heads her own department: her head is the director's
    assert org.head_of(metalprom.HEAD_OF_SALES_ID) == metalprom.ADMIN_ID
    assert org.head_of(metalprom.ADMIN_ID) is None
    team = org.team_of(metalprom.HEAD_OF_SALES_ID)
    assert {metalprom.PETROV_ID, metalprom.ZUEVA_ID, metalprom.IVANOV_ID} <= set(team)
    assert metalprom.FORMER_MANAGER_ID not in team  # inactive
    assert org.members(4) == [metalprom.LAWYER_ID]
    assert org.name(metalprom.PETROV_ID) == "Иван Петров" and org.name(None) == "—"


def test_an_inactive_head_is_skipped_upwards() -> None:
    org = Org.from_rows(
        [{"ID": "1", "ACTIVE": True, "UF_DEPARTMENT": [1]}, {"ID": "2", "ACTIVE": False, "UF_DEPARTMENT": [2]},
         {"ID": "3", "ACTIVE": True, "UF_DEPARTMENT": [2]}],
        [{"ID": "1", "UF_HEAD": "1"}, {"ID": "2", "PARENT": "1", "UF_HEAD": "2"}])
    assert org.head_of(3) == 1


STAGES = [items.StageInfo("NEW", "Новая", 10, "process"), items.StageInfo("PREPARATION", "Счёт", 20, "process"),
          items.StageInfo("UC_APPROVAL", "Согласование", 30, "process"),
          items.StageInfo("UC_CONTRACT", "Договор", 40, "process"), items.StageInfo("WON", "Успех", 50, "success"),
          items.StageInfo("LOSE", "Провал", 60, "failure")]


def test_skipped_stages_are_the_process_stages_of_a_forward_jump() -> None:
    assert items.skipped_between(STAGES, "NEW", "UC_CONTRACT") == ["PREPARATION", "UC_APPROVAL"]
    assert items.skipped_between(STAGES, "NEW", "PREPARATION") == []
    assert items.skipped_between(STAGES, "UC_CONTRACT", "NEW") == []  # backwards
    assert items.skipped_between(STAGES, "NEW", "LOSE") == ["PREPARATION", "UC_APPROVAL", "UC_CONTRACT"]
    assert items.skipped_between(STAGES, "NEW", "C2:NEW") == []  # another funnel


def test_next_and_previous_stage() -> None:
    assert items.neighbour(STAGES, "UC_APPROVAL", 1) == "UC_CONTRACT"
    assert items.neighbour(STAGES, "UC_APPROVAL", -1) == "PREPARATION"
    assert items.neighbour(STAGES, "UC_CONTRACT", 1) == "WON"
    assert items.neighbour(STAGES, "WON", 1) is None  # never into the failure stage
    assert items.neighbour(STAGES, "NEW", -1) is None


def test_entry_identity_and_moments() -> None:
    item = {"ID": "5", "STAGE_ID": "C2:NEW", "MOVED_TIME": "2026-11-02T10:00:00+03:00",
            "DATE_CREATE": "2026-10-01T09:00:00+03:00", "ASSIGNED_BY_ID": "4"}
    assert items.entry_token(item) == "2026-11-02T10:00:00+03:00"
    assert items.entered_at(item) == dt.datetime(2026, 11, 2, 10, tzinfo=MSK)
    assert items.category_id("deal", item) == 2 and items.assigned(item) == 4
    assert items.entry_token({"DATE_CREATE": "2026-10-01T09:00:00+03:00"}) == "2026-10-01T09:00:00+03:00"
    assert items.link("https://mp.bitrix24.ru/rest/", "deal", 5) == "https://mp.bitrix24.ru/crm/deal/details/5/"


def test_placeholders() -> None:
    fields = render.item_fields("deal", {"ID": "7", "TITLE": "Арматура", "OPPORTUNITY": "1234567.5",
                                         "CURRENCY_ID": "RUB", "UF_CRM_CONTRACT": "Д-7"},
                                link="L", stage="Согласование счета", manager="Иван Петров", company="ООО «Сталь»")
    text = render.render("{TITLE} {AMOUNT} {COMPANY} {MANAGER} {STAGE} {UF_CRM_CONTRACT} {LINK} {NOPE}", fields)
    assert text == "Арматура 1 234 567,50 руб. ООО «Сталь» Иван Петров Согласование счета Д-7 L {NOPE}"
    assert render.placeholders(["{TITLE} и {COMPANY}", "{LINK}"]) == {"TITLE", "COMPANY", "LINK"}
    assert render.money("150000|RUB", "RUB", "en") == "150,000.00 RUB"


@pytest.mark.parametrize(("previous", "current", "rejected"), [
    (2, 6, True), (3, 6, True),  # deferred
    (4, 2, True), (4, 3, True),  # returned from "awaiting control" for rework
    (2, 5, False), (4, 5, False),  # completed / approved by the controller
    (5, 2, False),  # a completed task reopened is not a rejection
    (2, 3, False),  # started
])
def test_what_a_rejection_is(previous: int, current: int, rejected: bool) -> None:
    assert is_rejection(previous, current) is rejected


def test_task_fields_carry_the_marker_binding_and_people() -> None:
    spec = TaskSpec(key="stages:task:deal:5:UC_APPROVAL:t:approve", title="T", description="D", responsible_id=2,
                    entity="deal", item_id=5, binding="D_5", stage_id="UC_APPROVAL", entry="t", template_id="approve",
                    deadline=dt.datetime(2026, 11, 2, 10, tzinfo=MSK), accomplices=(3, 2, 3), auditors=(5, 3, 2),
                    priority=2, group_id=7)
    f = task_fields(spec, "ru")
    marker = marker_of(spec.key)
    assert f["XML_ID"] == marker and f["DESCRIPTION"].startswith("D\n\n") and marker in f["DESCRIPTION"]
    assert f["UF_CRM_TASK"] == ["D_5"] and f["DEADLINE"] == "2026-11-02T10:00:00+03:00"
    assert f["ACCOMPLICES"] == [3] and f["AUDITORS"] == [5]  # no duplicates, not the responsible
    assert f["PRIORITY"] == 2 and f["GROUP_ID"] == 7 and f["RESPONSIBLE_ID"] == 2
    assert marker_of(spec.key) != marker_of(spec.key + "x")


def test_amounts_as_portals_write_them() -> None:
    assert decimal("150000.00") == Decimal("150000.00")
    assert decimal("150000|RUB") == Decimal("150000")
    assert decimal("150 000,50") == Decimal("150000.50")
    assert decimal(None) == Decimal(0) and decimal("abc") == Decimal(0)


PAY = PaymentsConfig(enabled=True, stages=("UC_AWAIT_PAYMENT",), count_days="calendar", lawyer_id=6,
                     claim_stage="C2:NEW", contract_field="", due_date_field="UF_CRM_DUE", paid_field="UF_CRM_PAID",
                     invoice_field="UF_CRM_INV", steps=(), lawyer_task={})


def test_payment_status_falls_back_to_the_deals_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "b24app.sync_1c.api", None)
    ctx = types.SimpleNamespace(db=None, member_id="m")
    deal = {"ID": "9", "OPPORTUNITY": "120000.00", "UF_CRM_DUE": "2026-10-21T00:00:00+03:00",
            "UF_CRM_PAID": "20000", "UF_CRM_INV": "СЧ-1"}
    st = payment_status(ctx, PAY, deal, MSK)
    assert st is not None and st.source == "deal_fields" and st.due_date == dt.date(2026, 10, 21)
    assert (st.amount, st.paid, st.outstanding) == (Decimal("120000.00"), Decimal("20000"), Decimal("100000.00"))
    assert st.invoice_key == "СЧ-1"
    assert payment_status(ctx, PAY, {**deal, "UF_CRM_DUE": ""}, MSK) is None
    assert payment_status(ctx, PAY, {**deal, "UF_CRM_INV": None}, MSK).invoice_key == "due-2026-10-21"


def test_payment_status_prefers_1c_and_falls_back_when_1c_does_not_know_the_deal(monkeypatch) -> None:
    got = types.SimpleNamespace(due_date=dt.date(2026, 10, 1), amount=Decimal(10), paid=Decimal(4),
                                outstanding=Decimal(6), last_payment_date=None, invoice_number="00БП-1")
    fake = types.SimpleNamespace(payment_status=lambda db, m, deal_id: got if deal_id == 1 else None)
    monkeypatch.setitem(sys.modules, "b24app.sync_1c.api", fake)
    ctx = types.SimpleNamespace(db=None, member_id="m")
    st = payment_status(ctx, PAY, {"ID": "1"}, MSK)
    assert st.source == "1c" and st.outstanding == Decimal(6) and st.invoice_key == "00БП-1"
    st = payment_status(ctx, PAY, {"ID": "2", "OPPORTUNITY": "5", "UF_CRM_DUE": "01.10.2026"}, MSK)
    assert st.source == "deal_fields" and st.outstanding == Decimal(5)


def test_optional_features_missing_or_broken(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "b24app.contracts.service", None)
    assert _optional("b24app.contracts.service", "issue_contract") is None
    assert _optional("b24app.no_such_feature.api", "x") is None
    # a feature that is installed but lacks the function: treated as missing
    pkg = tmp_path / "feature_stub_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "api.py").write_text("def other():\n    return 1\n")
    (pkg / "broken.py").write_text("import dependency_that_is_not_installed_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _optional("feature_stub_pkg.api", "payment_status") is None
    # an import error inside an installed feature is its defect and is not hidden
    with pytest.raises(ModuleNotFoundError):
        _optional("feature_stub_pkg.broken", "x")
