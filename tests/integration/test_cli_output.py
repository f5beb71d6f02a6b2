"""What `ioc` commands print for a script: `--json`, whole rows when piped, choices refused.

The installed `ioc` runs in a child process with its output piped, as in a shell pipeline
or a cron job, against a real, freshly migrated PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from ioc.kpis import load_kpis

IOC = shutil.which("ioc") or str(Path(sys.executable).parent / "ioc")
# Longer than a column of an 80-column table can hold.
HOLDER = "Trực ban Trung tâm Giám sát, điều hành đô thị thông minh tỉnh Hưng Yên — ca đêm số 1"


@pytest.fixture
def run(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")} | {
        "IOC_DATABASE_URL": database_url,
        "IOC_DATABASE__SSLMODE": "disable",
        "IOC_STATE_DIR": str(tmp_path / "state"),
        "COLUMNS": "80",
    }

    def ioc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [IOC, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )

    migrated = ioc("db", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    return ioc


def test_api_keys_list_as_json_and_as_a_piped_table(run) -> None:  # type: ignore[no-untyped-def]
    made = run("api", "keys", "create", "--name", HOLDER, "--role", "operator")
    assert made.returncode == 0, made.stderr
    listed = run("api", "keys", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    keys = json.loads(listed.stdout)
    assert [set(k) for k in keys] == [
        {"id", "name", "role", "area", "department", "created_at", "last_used_at", "revoked_at"}
    ]
    assert keys[0]["name"] == HOLDER and keys[0]["role"] == "operator"
    assert keys[0]["area"] is None and keys[0]["revoked_at"] is None
    table = run("api", "keys", "list")
    assert table.returncode == 0, table.stderr
    # Piped, a row stays on one line with the id and the holder whole (grep finds both).
    rows = [line for line in table.stdout.splitlines() if keys[0]["id"] in line]
    assert len(rows) == 1 and HOLDER in rows[0], table.stdout


def test_alerts_list_json_and_states_as_choices(run) -> None:  # type: ignore[no-untyped-def]
    for args in ([], ["--state", "resolved"]):
        listed = run("alerts", "list", "--json", *args)
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout) == []
    refused = run("alerts", "list", "--state", "bogus")
    assert refused.returncode == 2
    message = " ".join(refused.stderr.replace("│", " ").split())
    assert "'bogus' is not one of 'firing', 'acknowledged', 'resolved'" in message


def test_kpis_list_json_is_the_catalogue(run) -> None:  # type: ignore[no-untyped-def]
    listed = run("kpis", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    kpis = json.loads(listed.stdout)
    assert [k["id"] for k in kpis] == [k.id for k in load_kpis(None)]
    assert {"id", "name_vi", "numerator", "denominator", "unit", "target"} <= set(kpis[0])


def test_kpis_show_json_on_an_empty_store(run) -> None:  # type: ignore[no-untyped-def]
    shown = run("kpis", "show", "dvc_on_time_rate", "--area", "Phố Hiến", "--json")
    assert shown.returncode == 0, shown.stderr
    status = json.loads(shown.stdout)
    assert status["kpi"] == "dvc_on_time_rate" and status["area"]["name_vi"] == "Phường Phố Hiến"
    assert status["value"] is None and status["daily"] == [] and status["trend_days"] == 30
    assert {"start", "end", "target", "gap", "meets", "trend_per_day", "forecast"} <= set(status)


def test_alerts_quiet_lists_feeds_quiet_as_expected(run, database_url: str) -> None:  # type: ignore[no-untyped-def]
    assert json.loads(run("alerts", "quiet", "--json").stdout) == []

    async def night() -> None:
        conn = await asyncpg.connect(database_url)
        await conn.execute(
            "INSERT INTO alert_rule_state (rule_id, area, breach_streak, clear_streak, "
            "quiet_since, quiet_reason) VALUES ('dvc_no_data', '33', 0, 1, "
            "'2025-09-03 10:00+00', 'ngoài giờ làm việc')"
        )
        await conn.close()

    asyncio.run(night())
    listed = run("alerts", "quiet", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {
            "rule": "dvc_no_data",
            "area": "33",
            "state": "quiet",
            "since": "2025-09-03T10:00:00+00:00",
            "reason_vi": "ngoài giờ làm việc",
        }
    ]
    table = run("alerts", "quiet")
    assert "Yên lặng như dự kiến" in table.stdout and "03/09/2025 17:00" in table.stdout
