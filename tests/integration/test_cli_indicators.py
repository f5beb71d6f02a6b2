"""`ioc indicators template | import | list` as a user runs them, against real PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from ioc.indicators.periods import latest_ended
from ioc.localtime import local_today

IOC = shutil.which("ioc") or str(Path(sys.executable).parent / "ioc")


@pytest.fixture
def run(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")} | {
        "IOC_DATABASE_URL": database_url,
        "IOC_DATABASE__SSLMODE": "disable",
        "IOC_STATE_DIR": str(tmp_path / "state"),
    }

    def ioc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [IOC, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )

    migrated = ioc("db", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    return ioc


async def _fetch(url: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


def test_template_import_and_list(run, database_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    made = run("indicators", "template", "-o", "mau.csv")
    assert made.returncode == 0, made.stderr
    rows = list(csv.reader(io.StringIO((tmp_path / "mau.csv").read_text(encoding="utf-8-sig"))))
    month = latest_ended("monthly", local_today()).label
    assert ["documents_electronic", "33", month] == [rows[3][0], rows[3][2], rows[3][4]]
    rows[3][5] = "98,5"
    with (tmp_path / "mau.csv").open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    imported = run("indicators", "import", "mau.csv", "--by", "Văn phòng UBND tỉnh")
    assert imported.returncode == 0, imported.stderr
    assert "1 value(s) imported by Văn phòng UBND tỉnh; 5 row(s) without a value" in imported.stderr
    listed = run("indicators", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    found = {i["id"]: i for i in json.loads(listed.stdout)}
    assert found["documents_electronic"]["state"] == "reported"
    assert found["documents_electronic"]["value"] == 0.985
    assert found["documents_electronic"]["entered_by"] == "Văn phòng UBND tỉnh"
    table = run("indicators", "list")
    assert "Tỷ lệ văn bản đi/đến" in table.stdout and "Đã báo cáo" in table.stdout
    audit = asyncio.run(
        _fetch(
            database_url,
            "SELECT actor, client, detail::text AS d FROM audit_log "
            "WHERE action = 'indicators.import'",
        )
    )
    assert [(a["actor"], a["client"]) for a in audit] == [("Văn phòng UBND tỉnh", "cli")]
    assert '"value": 0.985' in audit[0]["d"]


def test_a_bad_file_is_refused_whole(run, database_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    month = latest_ended("monthly", local_today()).label
    (tmp_path / "sai.csv").write_text(
        "indicator,area,period,value\n"
        f"documents_electronic,33,{month},99\n"
        f"documents_electronic,33,{month},abc\n"
        "dti_rank,33,2025,0\n",
        encoding="utf-8",
    )
    refused = run("indicators", "import", "sai.csv")
    assert refused.returncode == 2
    assert "2 problem(s), nothing imported" in refused.stderr
    assert "row 3: value: 'abc' is not a number" in refused.stderr
    assert "row 4: value: 0 is not a rank" in refused.stderr
    stored = asyncio.run(_fetch(database_url, "SELECT count(*) AS n FROM indicator_values"))
    assert stored[0]["n"] == 0
    made = run(
        "api", "keys", "create", "--name", "Sở Nội vụ", "--role", "department",
        "--department", "so_noi_vu",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    keys = json.loads(run("api", "keys", "list", "--json").stdout)
    assert [(k["role"], k["department"]) for k in keys] == [("department", "so_noi_vu")]
    unknown = run(
        "api", "keys", "create", "--name", "X", "--role", "department", "--department", "so_x"
    )
    assert unknown.returncode == 2 and "no department 'so_x'" in unknown.stderr
    wrong_role = run(
        "api", "keys", "create", "--name", "X", "--role", "operator", "--department", "so_khcn"
    )
    assert wrong_role.returncode == 2 and "only a key of role department" in wrong_role.stderr
