"""Periodic indicators through `ioc api` against real PostgreSQL: enter, upload, late, audit.

The API runs with a province file on top of the national catalogue whose due days put one
indicator past its due day whatever today is (0 days: due on the period's last day, which has
always passed) and another before it (366 days), so the states do not depend on the date.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from openpyxl import Workbook, load_workbook

from ioc.api.keys import create_key
from ioc.areas import load_areas
from ioc.config import load_settings
from ioc.dashboards import READER_ROLE, build_all, context_from_settings
from ioc.db import migrate, sync_areas
from ioc.indicators import catalogue_file_for
from ioc.indicators.periods import latest_ended
from ioc.localtime import local_today
from tests._api import WARD, RunningApi, add_key, running_api
from tests._grafana_sql import TimeRange, Variable, expand
from tests._services import ExternalService, LocalService

PROBLEM = "application/problem+json"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# On top of Hưng Yên's file (itself on the national one): a province's file may extend another.
HUNG_YEN = catalogue_file_for("33")
OVERLAY = f"""\
extends: {HUNG_YEN}
indicators:
  - id: documents_electronic
    due_days: 0
  - id: work_files_online
    due_days: 366
  - id: digital_economy_grdp
    due_days: 366
"""


@dataclass
class Stack:
    api: RunningApi
    url: str
    department: str  # Văn phòng UBND tỉnh, the whole province, its own indicators only
    ward_department: str  # a ward's office, WARD and below, any indicator
    operator: str
    science: str  # Sở Khoa học và Công nghệ, its own indicators only


@pytest.fixture(scope="module")
async def stack(
    kafka: LocalService | ExternalService,
    postgres: LocalService | ExternalService,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    name = f"test_ind_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres.address)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = f"{postgres.address.rpartition('/')[0]}/{name}"
    folder = tmp_path_factory.mktemp("indicators")
    overlay = folder / "indicators.yaml"
    overlay.write_text(OVERLAY, encoding="utf-8")
    settings = load_settings(
        kafka_bootstrap=kafka.address,
        database_url=url,
        state_dir=folder / "state",
        kafka={"topic_prefix": f"t{uuid.uuid4().hex[:10]}"},
    )
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        await sync_areas(conn, load_areas())
        keys = [
            (
                await create_key(
                    conn, "Văn phòng UBND tỉnh", "department", None, "test", "van_phong_ubnd"
                )
            )[1],
            await add_key(conn, "Văn phòng UBND phường Phố Hiến", "department", WARD),
            await add_key(conn, "Trực ban tỉnh", "operator"),
            (await create_key(conn, "Sở KH&CN", "department", None, "test", "so_khcn"))[1],
        ]
    finally:
        await conn.close()
    with running_api(settings, folder / "logs", IOC_INDICATORS_FILE=str(overlay)) as api:
        yield Stack(api, url, *keys)


def _problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, object] = response.json()
    return body


def _month() -> str:
    return latest_ended("monthly", local_today()).label


async def _rows(stack: Stack, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(stack.url)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def _items(
    client: httpx.AsyncClient, area: str | None = None
) -> dict[str, dict[str, object]]:
    response = await client.get("/api/v1/indicators", params={"area": area} if area else {})
    assert response.status_code == 200, response.text
    return {item["id"]: item for item in response.json()["items"]}


async def test_a_value_past_its_due_day_reads_not_reported_yet(stack: Stack) -> None:
    async with stack.api.client(stack.operator) as client:
        items = await _items(client)
    late = items["documents_electronic"]
    period = latest_ended("monthly", local_today())
    assert late["state"] == "late" and late["state_vi"] == "Chưa báo cáo"
    assert late["period"] == period.label and late["due"] == period.last.isoformat()
    assert late["value"] is None and late["meets"] is None
    assert late["target"] == 1.0 and late["department_vi"] == "Văn phòng UBND tỉnh"
    due = items["work_files_online"]
    assert due["state"] == "due" and due["state_vi"] == "Chờ báo cáo"
    assert date.fromisoformat(str(due["due"])) > local_today()
    assert due["target"] == 0.9  # the province's level
    # An estimated target says so, with how it was read.
    shared = items["shared_databases_connected"]
    assert shared["target_estimate"] is True and "749" in str(shared["target_source"])
    # Hưng Yên's result of 2024 (seed 000) is shown, never as the target.
    assert shared["reported"][0]["value"] == 0.6
    # A ward reports only what communes report.
    async with stack.api.client(stack.operator) as client:
        ward = await _items(client, WARD)
    assert "work_files_online" in ward and "dti_rank" not in ward
    assert ward["work_files_online"]["target"] == 0.6


async def test_entering_and_correcting_a_value_is_audited_with_who_and_when(stack: Stack) -> None:
    body = {"indicator": "documents_electronic", "period": _month(), "value": 0.97}
    async with stack.api.client(stack.operator) as operator:
        refused = _problem(await operator.post("/api/v1/indicators/values", json=body), 403)
        assert "may not report" in str(refused["detail"])
    async with stack.api.client(stack.department) as department:
        first = await department.post("/api/v1/indicators/values", json=body)
        assert first.status_code == 201, first.text
        assert first.json()["previous"] is None and first.json()["revision"] == 1
        items = await _items(department)
        entered = items["documents_electronic"]
        assert entered["state"] == "reported" and entered["value"] == 0.97
        assert entered["meets"] is False  # the target is 100 %
        assert entered["entered_by"] == "Văn phòng UBND tỉnh"
        fixed = await department.post(
            "/api/v1/indicators/values", json=body | {"value": 1.0, "note": "sửa số liệu"}
        )
        assert fixed.status_code == 201, fixed.text
        assert fixed.json()["previous"] == 0.97 and fixed.json()["revision"] == 2
        assert (await _items(department))["documents_electronic"]["meets"] is True
        history = (await department.get("/api/v1/indicators/documents_electronic/history")).json()[
            "items"
        ]
    assert [(h["value"], h["previous"], h["revision"]) for h in history[:2]] == [
        (1.0, 0.97, 2),
        (0.97, None, 1),
    ]
    audit = await _rows(
        stack,
        "SELECT at, actor, role, target, outcome, status, detail::text AS detail FROM audit_log "
        "WHERE action = 'indicators.enter' AND outcome = 'ok' ORDER BY id",
    )
    assert [(a["actor"], a["role"], a["status"]) for a in audit[-2:]] == [
        ("Văn phòng UBND tỉnh", "department", 201),
        ("Văn phòng UBND tỉnh", "department", 201),
    ]
    assert audit[-1]["target"] == f"indicator documents_electronic area 33 period {_month()}"
    assert '"previous": 0.97' in audit[-1]["detail"] and audit[-1]["at"] >= audit[-2]["at"]
    stored = await _rows(
        stack,
        "SELECT value, previous, entered_by, entered_at, via FROM indicator_value_history "
        "WHERE indicator = 'documents_electronic' AND area = '33' ORDER BY id",
    )
    assert [(s["value"], s["previous"], s["via"]) for s in stored[-2:]] == [
        (0.97, None, "api"),
        (1.0, 0.97, "api"),
    ]


async def test_a_bad_entry_names_each_field(stack: Stack) -> None:
    this_month = f"{local_today():%Y-%m}"
    async with stack.api.client(stack.department) as client:
        unknown = await client.post(
            "/api/v1/indicators/values",
            json={"indicator": "nope", "period": "2025", "value": 1},
        )
        assert _problem(unknown, 404)["type"] == "/problems/unknown-indicator"
        bad = _problem(
            await client.post(
                "/api/v1/indicators/values",
                json={"indicator": "documents_electronic", "period": this_month, "value": 60},
            ),
            422,
        )
    assert bad["type"] == "/problems/invalid-entry"
    fields = {e["loc"][-1]: e["msg"] for e in bad["errors"]}  # type: ignore[union-attr]
    assert "a value is entered once its period has ended" in fields["period"]
    assert "write 0.6 if you meant 60 %" in fields["value"]
    async with stack.api.client(stack.ward_department) as client:
        wrong_level = _problem(
            await client.post(
                "/api/v1/indicators/values",
                json={"indicator": "dti_rank", "area": WARD, "period": "2025", "value": 3},
            ),
            422,
        )
    assert "reported by province" in str(wrong_level["detail"])
    async with stack.api.client(stack.ward_department) as ward:
        out = _problem(
            await ward.post(
                "/api/v1/indicators/values",
                json={"indicator": "dti_rank", "area": "33", "period": "2025", "value": 3},
            ),
            403,
        )
    assert out["type"] == "/problems/out-of-scope"


def _fill_csv(template: bytes, values: dict[tuple[str, str], str]) -> bytes:
    rows = list(csv.reader(io.StringIO(template.decode("utf-8-sig"))))
    for row in rows[1:]:
        row[5] = values.get((row[0], row[2]), "")
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


async def test_upload_a_filled_in_csv_template(stack: Stack) -> None:
    async with stack.api.client(stack.department) as client:
        template = await client.get("/api/v1/indicators/template.csv")
        assert template.status_code == 200 and template.headers["content-type"].startswith(
            "text/csv"
        )
        assert "work_files_online" in template.text
        # The DTI rank is the Sở KH&CN's: this key's file may not carry it, and nothing of
        # the file is imported while it does.
        both = _fill_csv(
            template.content,
            {("work_files_online", "33"): "92,5%", ("dti_rank", "33"): "45"},
        )
        refused = _problem(
            await client.post(
                "/api/v1/indicators/upload", content=both, headers={"Content-Type": "text/csv"}
            ),
            422,
        )
        errors = refused["errors"]
        assert isinstance(errors, list) and len(errors) == 1
        assert errors[0]["loc"][2] == "indicator"
        assert "reported by Sở Khoa học và Công nghệ" in errors[0]["msg"]
        filled = _fill_csv(template.content, {("work_files_online", "33"): "92,5%"})
        response = await client.post(
            "/api/v1/indicators/upload", content=filled, headers={"Content-Type": "text/csv"}
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["imported"] == 1 and body["skipped"] == 5
        assert [(i["indicator"], i["area"], i["value"]) for i in body["items"]] == [
            ("work_files_online", "33", 0.925)
        ]
        items = await _items(client)
    assert items["work_files_online"]["state"] == "reported"
    assert items["work_files_online"]["meets"] is True  # 92,5 % ≥ 90 % for the province
    audit = await _rows(
        stack,
        "SELECT actor, detail->>'imported' AS imported FROM audit_log "
        "WHERE action = 'indicators.upload' AND outcome = 'ok'",
    )
    assert ("Văn phòng UBND tỉnh", "1") in [(a["actor"], a["imported"]) for a in audit]


async def test_a_department_key_enters_only_its_departments_indicators(stack: Stack) -> None:
    body = {"indicator": "dti_rank", "period": "2025", "value": 45}
    async with stack.api.client(stack.department) as office:
        other = _problem(await office.post("/api/v1/indicators/values", json=body), 403)
    assert other["type"] == "/problems/other-department"
    assert "reported by Sở Khoa học và Công nghệ" in str(other["detail"])
    async with stack.api.client(stack.science) as science:
        entered = await science.post("/api/v1/indicators/values", json=body)
        assert entered.status_code == 201, entered.text
        dti = (await _items(science))["dti_rank"]
    assert dti["state"] == "reported" and dti["value"] == 45 and dti["meets"] is None
    denied = await _rows(
        stack,
        "SELECT actor FROM audit_log WHERE action = 'scope.denied' "
        "AND detail->>'indicator' = 'dti_rank'",
    )
    assert [d["actor"] for d in denied] == ["Văn phòng UBND tỉnh"]


async def test_upload_a_filled_in_xlsx_template_with_communes(stack: Stack) -> None:
    async with stack.api.client(stack.ward_department) as client:
        template = await client.get("/api/v1/indicators/template.xlsx")
        assert template.headers["content-type"] == XLSX
        book = load_workbook(io.BytesIO(template.content))
        sheet = book.worksheets[0]
        filled = 0
        for row in sheet.iter_rows(min_row=2):
            if row[0].value == "work_files_online":
                row[5].value = 0.71
                row[5].number_format = "0%"  # a percentage cell holds the fraction
                filled += 1
        assert filled == 1
        out = io.BytesIO()
        book.save(out)
        response = await client.post(
            "/api/v1/indicators/upload", content=out.getvalue(), headers={"Content-Type": XLSX}
        )
        assert response.status_code == 201, response.text
        assert response.json()["items"][0]["area"] == WARD
        ward = await _items(client)
    assert ward["work_files_online"]["value"] == 0.71
    assert ward["work_files_online"]["meets"] is True  # commune target 60 % (QĐ 942)


async def test_a_bad_file_lists_every_bad_row_and_imports_nothing(stack: Stack) -> None:
    before = await _rows(stack, "SELECT count(*) AS n FROM indicator_value_history")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["indicator", "area", "period", "value", "note"])
    sheet.append(["documents_electronic", "33", _month(), "98", "tốt"])  # good
    sheet.append(["documents_electronc", "33", _month(), "98", None])  # typo in the id
    sheet.append(["documents_electronic", "99999", _month(), "98", None])  # no such area
    sheet.append(["documents_electronic", "33", "2025-Q3", "98", None])  # not a month
    sheet.append(["documents_electronic", "33", _month(), "chín mươi", None])  # not a number
    sheet.append(["dti_rank", WARD, "2025", "3", None])  # a ward does not report the DTI rank
    out = io.BytesIO()
    book.save(out)
    async with stack.api.client(stack.department) as client:
        bad = _problem(
            await client.post(
                "/api/v1/indicators/upload", content=out.getvalue(), headers={"Content-Type": XLSX}
            ),
            422,
        )
        errors = bad["errors"]
        assert isinstance(errors, list)
        where = sorted((e["loc"][1], e["loc"][2]) for e in errors)
        assert where == [
            ("3", "indicator"),
            ("4", "area"),
            ("5", "period"),
            ("6", "value"),
            ("7", "area"),
            ("7", "indicator"),  # and it is the Sở KH&CN's
        ]
        assert "did you mean 'documents_electronic'" in str(bad["detail"]).lower()
        assert "nothing imported" in str(bad["detail"])
        # Not UTF-8 (an old Vietnamese encoding), no value column, too large: refused too.
        latin = (
            b"indicator,area,period,value,note\ndocuments_electronic,33,2025-01,99,Th\xe1i B\xecnh"
        )
        not_utf8 = _problem(await client.post("/api/v1/indicators/upload", content=latin), 422)
        assert "save the CSV as UTF-8" in str(not_utf8["detail"])
        headless = b"indicator,area,period\nx,33,2025\n"
        no_value = _problem(await client.post("/api/v1/indicators/upload", content=headless), 422)
        assert "missing column(s) value" in str(no_value["detail"])
        huge = b"indicator,area,period,value\n" + b"x" * 2_100_000
        too_large = _problem(await client.post("/api/v1/indicators/upload", content=huge), 413)
        assert too_large["type"] == "/problems/upload-too-large"
    after = await _rows(stack, "SELECT count(*) AS n FROM indicator_value_history")
    assert after[0]["n"] == before[0]["n"]
    refused = await _rows(
        stack,
        "SELECT actor, status FROM audit_log WHERE action = 'indicators.upload' "
        "AND outcome = 'failed'",
    )
    assert ("Văn phòng UBND tỉnh", 422) in [(r["actor"], r["status"]) for r in refused]


async def test_the_grafana_panel_says_what_the_api_says(stack: Stack) -> None:
    """The overview's indicator table, run as Grafana's read-only role over a range ending now,
    judges every indicator of the province and of a ward as the API does."""
    rows = await _rows(stack, "SELECT id, target_commune, department_vi FROM indicators")
    by_id = {r["id"]: r for r in rows}
    assert by_id["work_files_online"]["target_commune"] == 0.6
    assert by_id["dti_rank"]["department_vi"] == "Sở Khoa học và Công nghệ"
    boards = build_all(context_from_settings(load_settings()))
    (panel,) = [
        p
        for p in boards["ioc-overview"]["panels"]
        if p.get("title", "").startswith("Chỉ tiêu định kỳ")
    ]
    now = datetime.now(UTC)
    for area in ("33", WARD):
        sql = expand(
            panel["targets"][0]["rawSql"],
            TimeRange(now - timedelta(hours=6), now),
            {"area": Variable("area", [(area, area)], area)},
            interval=None,
            timescaledb=False,
        )
        conn = await asyncpg.connect(stack.url)
        try:
            async with conn.transaction(readonly=True):
                await conn.execute(f"SET LOCAL ROLE {READER_ROLE}")
                grafana = await conn.fetch(sql)
        finally:
            await conn.close()
        async with stack.api.client(stack.operator) as client:
            api = await _items(client, area)
        assert {r["id"]: r["state"] for r in grafana} == {
            k: v["state_vi"] for k, v in api.items()
        }, area
        for row in grafana:
            assert row["due"].isoformat() == api[row["id"]]["due"], row
            assert (row["meets"] == "Đạt") == (api[row["id"]]["meets"] is True), row


def test_overlay_file_is_used(tmp_path: Path) -> None:
    from ioc.indicators import load_indicators

    path = tmp_path / "indicators.yaml"
    path.write_text(OVERLAY, encoding="utf-8")
    assert load_indicators(path).get("documents_electronic").due_days == 0
