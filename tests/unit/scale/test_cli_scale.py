"""CLI in PostgreSQL mode: `db upgrade` applies our migrations and procrastinate's schema once,
`db status` reports both, `scheduler` explains it is not needed, `doctor` passes only when the
store, the public URL, the OAuth server and a worker answer."""

from __future__ import annotations

import json

from click.testing import CliRunner

from b24app import create_app
from b24app.cli import main
from b24app.config import Config
from b24app.context import Services
from b24app.jobs.pq import schema
from tests.unit.scale.conftest import wait_until


def env_for(config: Config, **extra: str) -> dict[str, str]:
    env = {"B24APP_DATABASE_URL": config.database_url, "B24APP_INSTANCE_PATH": config.instance_path,
           "B24APP_CLIENT_ID": config.client_id, "B24APP_CLIENT_SECRET": config.client_secret,
           "B24APP_SECRET_KEY": config.secret_key, "B24APP_LOG_FORMAT": "text", "B24APP_LOG_LEVEL": "WARNING",
           "B24APP_WORKER_STALLED_AFTER": "2"}
    env.update(extra)
    return env


def test_db_upgrade_applies_both_schemas_once_and_status_reports_them(config, pg_url) -> None:
    config.database_url = pg_url
    runner = CliRunner()
    first = runner.invoke(main, ["db", "upgrade"], env=env_for(config))
    assert first.exit_code == 0, first.output
    assert "applied: core_0001_init" in first.output
    assert f"applied: procrastinate schema {schema.package_version()}" in first.output
    second = runner.invoke(main, ["db", "upgrade"], env=env_for(config))
    assert second.exit_code == 0 and "applied:" not in second.output and "up to date" in second.output
    status = runner.invoke(main, ["db", "status", "--json"], env=env_for(config))
    data = json.loads(status.output)
    assert data["store"] == "postgres" and data["pending"] == []
    assert data["procrastinate"] == {"installed": True, "recorded_version": schema.package_version(),
                                     "package_version": schema.package_version(), "current": True}


def test_procrastinate_schema_of_another_version_is_reported_not_overwritten(config, pg_url) -> None:
    config.database_url = pg_url
    svc = Services.open(config)
    schema.install(svc.db)
    svc.db.execute("UPDATE schema_migrations SET id = 'procrastinate@3.0.0' WHERE id LIKE ?", ("procrastinate@%",))
    st = schema.status(svc.db)
    assert st.installed and not st.current and st.recorded == "3.0.0"
    result = CliRunner().invoke(main, ["db", "upgrade"], env=env_for(config))
    assert result.exit_code == 1 and "applied by version 3.0.0" in result.output
    svc.db.close()


def test_scheduler_is_not_needed_with_postgresql(config, pg_url) -> None:
    config.database_url = pg_url
    result = CliRunner().invoke(main, ["scheduler"], env=env_for(config))
    assert result.exit_code == 0 and "no scheduler process is needed" in result.output


def test_doctor_passes_with_a_worker_and_fails_without(pq_services, pq_worker, local_server) -> None:
    config = pq_services.config
    web = local_server(create_app(Config.from_env({}, **{k: getattr(config, k) for k in (
        "instance_path", "client_id", "client_secret", "secret_key", "database_url")})))
    env = env_for(config, B24APP_PUBLIC_URL=web.url, B24APP_OAUTH_URL=web.url + "/")
    runner = CliRunner()
    worker = pq_worker()
    wait_until(lambda: pq_services.db.scalar("SELECT COUNT(*) AS n FROM procrastinate_workers"), 20, "worker up")
    ok = runner.invoke(main, ["doctor", "--json"], env=env, catch_exceptions=False)
    data = json.loads(ok.output)
    by_name = {c["name"]: c for c in data["checks"]}
    assert ok.exit_code == 0 and data["ok"], ok.output
    assert {"config", "database", "migrations", "queue schema", "public URL", "OAuth server", "jobs", "workers",
            "scheduler"} <= set(by_name)
    assert by_name["workers"]["ok"] and by_name["workers"]["detail"].startswith("1 worker")
    worker.close()
    bad = runner.invoke(main, ["doctor"], env=env | {"B24APP_PUBLIC_URL": "http://127.0.0.1:9"})
    assert bad.exit_code == 1
    lines = bad.output.splitlines()
    assert any(line.startswith("FAIL  workers: no worker") for line in lines), bad.output
    assert any(line.startswith("FAIL  public URL: http://127.0.0.1:9/healthz") for line in lines)
    assert any(line.startswith("PASS  database: postgres reachable") for line in lines)
    assert lines[-1].startswith("FAILED: ")
