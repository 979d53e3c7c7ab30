"""``b24app report ...`` through click, on a store the test filled (the contract of item 5)."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from b24app.cli import main
from b24app.store import installations
from b24sandbox.seed import generator as gen


@pytest.fixture
def cli(services, loader, monkeypatch: pytest.MonkeyPatch):
    installations.save_verified(services.db, member_id="portal-a", domain="metalprom.bitrix24.ru",
                                client_endpoint="http://127.0.0.1:9/rest/", server_endpoint="", access_token="t",
                                refresh_token="r", expires_at=time.time() + 3600, application_token="at",
                                scopes="crm", user_id=1)
    ld = loader()
    ld.dictionaries()
    ld.users({3: "Иванов Иван", 4: "Петров Иван", 5: "Зуева Софья"})
    ld.leads(gen.metalprom_lead_funnel(1, today=dt.date(2026, 11, 2)))
    monkeypatch.setenv("B24APP_INSTANCE_PATH", services.config.instance_path)
    monkeypatch.setenv("B24APP_SECRET_KEY", "test-secret")
    monkeypatch.setenv("B24APP_LOG_FORMAT", "text")
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        res = runner.invoke(main, list(args), catch_exceptions=False)
        return res.exit_code, res.output

    return run


def test_report_funnel_json_carries_the_contract_keys(cli) -> None:
    code, out = cli("report", "funnel", "--portal", "portal-a", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert {k: data[k] for k in ("leads", "active", "converted", "junk", "loss_pct", "conversion_pct")} == {
        "leads": 188, "active": 99, "converted": 31, "junk": 58, "loss_pct": 30.85, "conversion_pct": 31.31}
    assert data["tables"]["lead_funnel"]["rows"] == [{"leads": 188, "active": 99, "converted": 31, "junk": 58,
                                                      "loss_pct": 30.85, "conversion_pct": 31.31}]
    defs = {c["key"]: c["definition"] for c in data["tables"]["lead_funnel"]["columns"]}
    assert "некачественные / все лиды" in defs["loss_pct"]


def test_report_commands_with_filters_xlsx_and_text(cli, tmp_path: Path) -> None:
    xlsx = tmp_path / "managers.xlsx"
    code, out = cli("report", "managers", "--portal", "portal-a", "--manager", "4", "--xlsx", str(xlsx), "--json")
    assert code == 0, out
    rows = json.loads(out)["tables"]["managers"]["rows"]
    assert [(r["manager"], r["leads"], r["junk"]) for r in rows] == [("Петров Иван", 70, 21)]
    wb = load_workbook(xlsx)
    assert wb.sheetnames[0] == "Эффективность менеджеров"
    for name in ("channels", "stages", "clients", "lights"):
        code, out = cli("report", name, "--portal", "portal-a", "--from", "2026-08-01", "--to", "2026-11-01")
        assert code == 0, out
    code, out = cli("report", "funnel", "--portal", "portal-a", "--lang", "ru")
    assert "Воронка лидов" in out and "30.85" in out
    code, out = cli("report", "funnel", "--portal", "portal-a", "--from", "not-a-date")
    assert code == 2 and "not a date" in out
    code, out = cli("report", "funnel", "--portal", "nobody")
    assert code == 1 and "not installed" in out


def test_spend_import_and_listing(cli, tmp_path: Path) -> None:
    f = tmp_path / "spend.csv"
    f.write_text("source,month,amount\nUC_YANDEX,2026-09,300000\nUC_GOOGLE,2026-09,120000\n", encoding="utf-8")
    code, out = cli("report", "spend-import", "--portal", "portal-a", str(f), "--json")
    assert code == 0 and json.loads(out)["imported"] == 2
    code, out = cli("report", "spend", "--portal", "portal-a", "--json")
    assert sorted((r["source_id"], r["amount"]) for r in json.loads(out)) == [("UC_GOOGLE", 120000.0),
                                                                              ("UC_YANDEX", 300000.0)]
    code, out = cli("report", "channels", "--portal", "portal-a", "--from", "2026-09-01", "--to", "2026-09-30",
                    "--json")
    rows = {r["source"]: r for r in json.loads(out)["tables"]["channels"]["rows"]}
    assert rows["Яндекс"]["spend"] == 300000.0
    bad = tmp_path / "bad.csv"
    bad.write_text("source,month,amount\nUC_YANDEX,2026-99,1\n", encoding="utf-8")
    code, out = cli("report", "spend-import", "--portal", "portal-a", str(bad))
    assert code == 2 and "line 2" in out
