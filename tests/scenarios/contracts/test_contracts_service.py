"""issue_contract and the CLI against the МеталПром sandbox: the command line contract (issue --json, list,
void, set-number), an individual entrepreneur client, a pre-trial claim after the contract, two workers
issuing the same deal at once, PDF through LibreOffice, and contract_for_deal for the 1C sync."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from b24app.contracts import attach, register
from b24app.contracts.service import issue_contract
from b24app.errors import ConfigError
from b24app.settings import document
from tests.scenarios.contracts.conftest import Portal, docx_text

MSK = ZoneInfo("Europe/Moscow")


def yy() -> str:
    return f"{dt.datetime.now(MSK).year % 100:02d}"


def cli(p: Portal, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "b24app", "contracts", *args],
        env=p.app.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_issue_list_void_and_manual_numbers(metalprom: Portal) -> None:
    p = metalprom
    deal_id = p.deal_of(1)
    out = cli(p, "issue", "--portal", p.member_id, "--deal", str(deal_id), "--type", "deferred", "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    issued = json.loads(out.stdout)
    assert set(issued) == {"number", "date", "type", "file_id"}
    assert issued["number"] == f"ДО-{yy()}/0001-МП" and issued["type"] == "deferred"
    assert issued["date"] == dt.datetime.now(MSK).date().isoformat() and issued["file_id"] > 0

    again = json.loads(
        cli(
            p, "issue", "--portal", p.member_id, "--deal", str(deal_id), "--type", "deferred", "--json"
        ).stdout
    )
    assert again == issued  # the same deal and type: the same contract

    listed = json.loads(cli(p, "list", "--portal", p.member_id, "--json").stdout)
    assert [(r["number"], r["status"], r["deal_id"], r["legal_entity"]) for r in listed] == [
        (issued["number"], "issued", deal_id, "MP")
    ]
    table = cli(p, "list", "--portal", p.member_id).stdout
    assert issued["number"] in table and "issued" in table

    voided = cli(
        p,
        "void",
        "--portal",
        p.member_id,
        "--number",
        issued["number"],
        "--reason",
        "клиент отказался",
        "--json",
    )
    assert voided.returncode == 0, voided.stderr[-2000:]
    assert json.loads(voided.stdout)["status"] == "void"
    assert not p.rest("crm.deal.get", {"id": deal_id})[attach.FIELD_NUMBER]  # the deal no longer shows it
    comments = p.rest("crm.timeline.comment.list", {"filter": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"}})
    assert any(f"Договор № {issued['number']} аннулирован" in c["COMMENT"] for c in comments)

    reissued = json.loads(
        cli(
            p, "issue", "--portal", p.member_id, "--deal", str(deal_id), "--type", "deferred", "--json"
        ).stdout
    )
    assert reissued["number"] == f"ДО-{yy()}/0002-МП"  # the void number is never given again

    other = p.deal_of(1, skip=(deal_id,))
    taken = cli(
        p,
        "set-number",
        "--portal",
        p.member_id,
        "--deal",
        str(other),
        "--type",
        "deferred",
        "--number",
        issued["number"],
    )
    assert taken.returncode == 2 and "уже есть в реестре" in taken.stderr
    manual = cli(
        p,
        "set-number",
        "--portal",
        p.member_id,
        "--deal",
        str(other),
        "--type",
        "deferred",
        "--number",
        f"ДО-{yy()}/0100-МП",
        "--json",
    )
    assert manual.returncode == 0, manual.stderr[-2000:]
    assert json.loads(manual.stdout)["manual"] is True
    odd = cli(
        p,
        "set-number",
        "--portal",
        p.member_id,
        "--deal",
        str(p.deal_of(1, skip=(deal_id, other))),
        "--type",
        "deferred",
        "--number",
        "ДО-ручной-1",
    )
    assert odd.returncode == 0 and "не следует формату" in odd.stderr
    made = json.loads(
        cli(p, "issue", "--portal", p.member_id, "--deal", str(other), "--type", "deferred", "--json").stdout
    )
    assert made["number"] == f"ДО-{yy()}/0100-МП"
    _, data = p.file_bytes(made["file_id"])
    assert f"№ ДО-{yy()}/0100-МП" in docx_text(data)

    counters = json.loads(cli(p, "counters", "--portal", p.member_id, "--json").stdout)
    assert [(c["sequence"], c["legal_entity"], c["value"]) for c in counters] == [("deferred", "MP", 2)]
    unknown = cli(p, "issue", "--portal", p.member_id, "--deal", str(deal_id), "--type", "lease", "--json")
    assert unknown.returncode == 2 and "Тип договора «lease» не описан" in unknown.stderr


def test_the_cli_closes_its_portal_sessions_and_ends_with_its_own_error(metalprom: Portal) -> None:
    """A command that called the portal closes its HTTP sessions when it ends, on success and on an
    error exit: no "Unclosed client session" error at exit, and the error is the last line printed."""
    p = metalprom
    ok = cli(p, "issue", "--portal", p.member_id, "--deal", str(p.deal_of(1)), "--type", "deferred", "--json")
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "Unclosed" not in ok.stderr and '"level": "error"' not in ok.stderr
    missing = cli(p, "issue", "--portal", p.member_id, "--deal", "999999", "--type", "deferred", "--json")
    assert missing.returncode == 2 and "Unclosed" not in missing.stderr
    assert missing.stderr.strip().splitlines()[-1] == "сделка 999999 не найдена на портале / deal 999999 not found"


def test_an_individual_entrepreneur_client(metalprom: Portal) -> None:
    p = metalprom
    deal_id = p.deal_of(2, ip=True)
    res = issue_contract(p.ctx(), deal_id, "prepayment")
    assert res["number"] == f"Д-{yy()}/0001-МПТ" and res["legal_entity"] == "MPT"
    text = docx_text(p.file_bytes(res["file_id"])[1])
    req = p.rest(
        "crm.requisite.list",
        {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": p.rest("crm.deal.get", {"id": deal_id})["COMPANY_ID"]}},
    )[0]
    assert f"ОГРНИП {req['RQ_OGRNIP']}" in text and "Индивидуальный предприниматель" in text
    assert "ИНН 6671438065, КПП 667101001" in text and "Мельникова Т. Ю." in text  # МеталПром Трейд


def test_a_claim_refers_to_the_contract_and_leaves_the_deal_fields(metalprom: Portal) -> None:
    p = metalprom
    deal_id = p.deal_of(1)
    contract = issue_contract(p.ctx(), deal_id, "deferred")
    claim = issue_contract(p.ctx(), deal_id, "claim", extra={"debt": "150000.00"})
    month = dt.datetime.now(MSK).strftime("%y%m")
    assert claim["number"] == f"П-{month}/001-МП" and claim["type"] == "claim"
    text = docx_text(p.file_bytes(claim["file_id"])[1])
    contract_day = dt.date.fromisoformat(contract["date"]).strftime("%d.%m.%Y")
    assert f"договор № {contract['number']} от {contract_day}" in text
    assert "150 000,00 руб. (Сто пятьдесят тысяч рублей 00 копеек)" in text
    assert p.rest("crm.deal.get", {"id": deal_id})[attach.FIELD_NUMBER] == contract["number"]
    for_1c = register.contract_for_deal(p.app.db, p.member_id, deal_id)
    assert for_1c is not None and for_1c["number"] == contract["number"] and for_1c["type"] == "deferred"
    assert register.contract_for_deal(p.app.db, p.member_id, deal_id, "claim")["number"] == claim["number"]


def test_two_workers_issuing_the_same_deal_make_one_contract(metalprom: Portal) -> None:
    p = metalprom
    deal_id = p.deal_of(1)
    barrier = threading.Barrier(3)
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(issue_contract(p.ctx(), deal_id, "prepayment"))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            p.app.db.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert errors == []
    assert {r["number"] for r in results} == {f"Д-{yy()}/0001-МП"}
    assert {r["file_id"] for r in results} == {results[0]["file_id"]}
    info = p.rest("disk.file.get", {"id": results[0]["file_id"]})
    assert len(p.rest("disk.folder.getchildren", {"id": info["PARENT_ID"]})) == 1
    assert (
        len(p.rest("crm.timeline.comment.list", {"filter": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"}}))
        == 1
    )


def test_pdf_with_libreoffice_and_docx_without(
    metalprom: Portal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.unit.contracts.test_contracts_document import fake_soffice

    p = metalprom
    first, second = p.deal_of(1), p.deal_of(2)
    path = os.environ.get("PATH", "")
    monkeypatch.setenv("PATH", str(tmp_path))  # no LibreOffice: DOCX only, said in the result
    plain = issue_contract(p.ctx(), first, "prepayment", output="pdf")
    assert plain["output"] == "docx" and plain["pdf_file_id"] is None
    assert p.rest("disk.file.get", {"id": plain["file_id"]})["NAME"].endswith(".docx")
    monkeypatch.setenv("PATH", path)
    fake_soffice(tmp_path, monkeypatch)
    res = issue_contract(p.ctx(), second, "prepayment", output="pdf")
    assert res["output"] == "pdf" and res["pdf_file_id"] == res["file_id"]
    info, pdf = p.file_bytes(res["file_id"])
    assert info["NAME"] == f"Договор поставки Д-{yy()}-0001-МПТ.pdf" and pdf.startswith(b"%PDF")
    names = sorted(f["NAME"] for f in p.rest("disk.folder.getchildren", {"id": info["PARENT_ID"]}))
    assert names == [f"Договор поставки Д-{yy()}-0001-МПТ.docx", f"Договор поставки Д-{yy()}-0001-МПТ.pdf"]


def test_settings_problems_stop_before_a_number_is_taken(metalprom: Portal) -> None:
    p = metalprom
    deal_id = p.deal_of(2)
    settings = document.load(p.app.db, p.member_id)
    settings["contracts"]["legal_entities"] = settings["contracts"]["legal_entities"][:1]  # МПТ not described
    settings["contracts"]["types"][1]["enabled"] = False
    document.save(p.app.db, p.member_id, settings)
    with pytest.raises(ConfigError, match="Наша компания «ООО «МеталПром Трейд»» .* не описана"):
        issue_contract(p.ctx(), deal_id, "prepayment")
    with pytest.raises(ConfigError, match="выключен"):
        issue_contract(p.ctx(), deal_id, "deferred")
    assert register.list_contracts(p.app.db, p.member_id) == []


KILLED_MID_PRODUCE = """
import os, signal, sys
from b24app.cli_util import services
from b24app.contracts import service
from b24app.jobs.context import JobContext
service._produce = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)  # dies holding the lease
service.issue_contract(JobContext.for_portal(services(), sys.argv[1]), int(sys.argv[2]), "prepayment")
"""


def test_a_worker_killed_while_producing_does_not_hold_the_contract_back(metalprom: Portal) -> None:
    """A worker process reserves the number and is killed with SIGKILL while producing the document: its
    lease on the contract stays in the store. The next attempt takes the dead process's lease over at
    once (not after the lease's five minutes) and issues the same number."""
    import signal
    import time

    from b24app.contracts import service

    p = metalprom
    deal_id = p.deal_of(2)
    child = subprocess.run([sys.executable, "-c", KILLED_MID_PRODUCE, p.member_id, str(deal_id)],
                           env=p.app.env(), capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    row = register.active_for(p.app.db, p.member_id, deal_id, "prepayment")
    assert row is not None and row["status"] == register.RESERVED
    lease = p.app.db.one("SELECT holder FROM leases WHERE name = ?", (f"contracts:issue:{p.member_id}:{row['id']}",))
    assert lease is not None  # the killed process could not release it

    started = time.monotonic()
    res = issue_contract(p.ctx(), deal_id, "prepayment")
    assert time.monotonic() - started < service.LEASE_WAIT_S / 2  # no waiting out the dead holder's lease
    assert res["number"] == row["number"] and res["status"] == register.ISSUED
    assert register.active_for(p.app.db, p.member_id, deal_id, "prepayment")["status"] == register.ISSUED
