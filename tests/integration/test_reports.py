"""A month's report on `ioc api` and `ioc reports build`: every figure equals the API's.

A month (October 2026) of DVC events in two wards of Hưng Yên goes in the way a stream worker
writes it (real envelopes, `to_counted`, `write_batch`): dossiers received online or at the
desk, resolved on time or late, ratings, the daily catalogue of procedures, by two agencies.
`ioc reports build` writes the workbook and the PDF; the workbook is read back with openpyxl
and compared with `period_values` and `GET /api/v1/kpis/periods`; the PDF is rendered with
pdftoppm and its text read with pdftotext (diacritics intact).
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from openpyxl import load_workbook

from ioc.areas import load_areas
from ioc.events import DossierEvent, DvcService, Envelope, SatisfactionRating
from ioc.kpis import load_kpis
from ioc.kpis.periods import Period, period_values, refresh
from ioc.localtime import local_day_start
from ioc.reports.xlsx import SHEETS, SUMMARY_COLUMNS
from ioc.streams.sink import to_counted, write_batch
from tests._api import OTHER_WARD, WARD, api_env
from tests.integration.test_api import Stack, _problem, stack  # noqa: F401 (module fixture)

PERIOD = "2026-10"
FIRST = date(2026, 10, 1)
DAYS = 31
PROVINCE = "33"
AGENCIES = ("SO-TU-PHAP", "UBND-XA")
MINUTE = timedelta(minutes=1)


@dataclass
class Month:
    """What was sent, counted independently of the code under test."""

    received: int
    online: int
    resolved: int
    on_time: int
    online_by_agency: dict[str, tuple[int, int]]


def _envelope(at: datetime, area: str, key: str, payload: Any) -> Envelope:
    return Envelope.create(source="dvc-sim", area=area, key=key, occurred_at=at, payload=payload)


def _month_of_events() -> tuple[list[Envelope], Month]:
    """Each day, per ward: dossiers (the online share grows through the month), resolutions,
    ratings and the catalogue snapshot; WARD does worse than OTHER_WARD."""
    out: list[Envelope] = []
    received = online = resolved = on_time = 0
    by_agency = {a: [0, 0] for a in AGENCIES}
    for day in range(DAYS):
        morning = local_day_start(FIRST + timedelta(days=day)) + timedelta(hours=9)  # local
        for w, area in enumerate((WARD, OTHER_WARD)):
            for n in range(8):
                at = morning + timedelta(minutes=7 * n + w)
                dossier = f"HS-{area}-{day}-{n}"
                agency = AGENCIES[n % 2]
                is_online = n < 3 + day // 8 + w  # 3..6 of 8 (WARD), one more in OTHER_WARD
                out.append(
                    _envelope(
                        at,
                        area,
                        dossier,
                        DossierEvent(
                            dossier_id=dossier,
                            stage="received",
                            procedure_code=f"1.00{n % 4}",
                            procedure_name="Đăng ký khai sinh",
                            agency_code=agency,
                            channel="online" if is_online else "desk",
                            service_level="full",
                        ),
                    )
                )
                received += 1
                online += is_online
                by_agency[agency][0] += is_online
                by_agency[agency][1] += 1
                if n < 5:
                    late = (n + day + w) % 9 == 0
                    out.append(
                        _envelope(
                            at + timedelta(hours=3),
                            area,
                            dossier,
                            DossierEvent(
                                dossier_id=dossier,
                                stage="resolved",
                                procedure_code=f"1.00{n % 4}",
                                procedure_name="Đăng ký khai sinh",
                                agency_code=agency,
                                channel="online" if is_online else "desk",
                                service_level="full",
                                on_time=not late,
                            ),
                        )
                    )
                    resolved += 1
                    on_time += not late
                if n < 4:
                    out.append(
                        _envelope(
                            at + timedelta(hours=4),
                            area,
                            dossier,
                            SatisfactionRating(
                                dossier_id=dossier,
                                agency_code=agency,
                                score=5 - (n + w + day) % 3,
                                satisfied=(n + day) % 5 != 0,
                            ),
                        )
                    )
            for p in range(5):  # 1.004 is offered online but nobody used it
                out.append(
                    _envelope(
                        morning - timedelta(hours=1),
                        area,
                        f"{AGENCIES[p % 2]}/1.00{p}",
                        DvcService(
                            procedure_code=f"1.00{p}",
                            procedure_name="Đăng ký khai sinh",
                            agency_code=AGENCIES[p % 2],
                            service_level="full" if p < 3 else "partial",
                            eligible_full=True,
                            fee_bearing=p == 1,
                            online_payment=p == 1,
                        ),
                    )
                )
    agencies = {a: (n, d) for a, (n, d) in by_agency.items()}
    return out, Month(received, online, resolved, on_time, agencies)


@pytest.fixture(scope="module")
async def month(stack: Stack) -> AsyncIterator[Month]:  # noqa: F811
    envelopes, sent = _month_of_events()
    conn = await asyncpg.connect(stack.database_url)
    try:
        batch = [to_counted(e, MINUTE, "ioc.events.dvc", 0) for e in envelopes]
        for i in range(0, len(batch), 500):
            await write_batch(conn, "report-test", batch[i : i + 500], {})
        # An alert of the month (resolved), one before it and none after: only the first counts.
        await conn.execute(
            "INSERT INTO alerts (rule_id, area, severity, kpi_id, state, started_at, fired_at, "
            "resolved_at, last_value, target) VALUES "
            "('dvc_online_low', $1, 'warning', 'dvc_online_dossier_rate', 'resolved', $2, $2, "
            "$3, 0.4, 0.8), "
            "('dvc_online_low', $1, 'warning', 'dvc_online_dossier_rate', 'resolved', $4, $4, "
            "$5, 0.3, 0.8)",
            WARD,
            datetime(2026, 10, 10, 3, tzinfo=UTC),
            datetime(2026, 10, 11, 3, tzinfo=UTC),
            datetime(2026, 9, 10, 3, tzinfo=UTC),
            datetime(2026, 9, 11, 3, tzinfo=UTC),
        )
    finally:
        await conn.close()
    yield sent


@pytest.fixture(scope="module")
def built(stack: Stack, month: Month, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """`ioc reports build --period 2026-10 --area 33` as a user runs it."""
    out = tmp_path_factory.mktemp("report")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ioc",
            "reports",
            "build",
            "--period",
            PERIOD,
            "--area",
            PROVINCE,
            "--out",
            str(out),
        ],
        env=api_env(stack.settings, 0),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return out


async def _api(stack: Stack, key: str, **params: str) -> dict[str, Any]:  # noqa: F811
    async with stack.api.client(key) as client:
        response = await client.get("/api/v1/kpis/periods", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _same(cell: Any, figure: Any) -> bool:
    """A workbook figure is the API's: openpyxl writes a float with 16 significant digits (Excel
    keeps 15), so the last binary digit may differ; text, dates and None are equal."""
    if isinstance(figure, float) and isinstance(cell, int | float):
        return math.isclose(cell, figure, rel_tol=1e-14, abs_tol=1e-15)
    return bool(cell == figure)


def _same_rows(rows: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> bool:
    return len(rows) == len(expected) and all(
        len(r) == len(e) and all(_same(a, b) for a, b in zip(r, e, strict=True))
        for r, e in zip(rows, expected, strict=True)
    )


def _sheet_rows(path: Path, sheet: str) -> list[tuple[Any, ...]]:
    with closing(load_workbook(path, read_only=True)) as book:
        rows = list(book[sheet].iter_rows(min_row=7, values_only=True))
    return [r for r in rows if r and r[0] is not None]


async def test_period_values_are_the_sums_of_what_was_sent(
    stack: Stack,  # noqa: F811
    month: Month,
    built: Path,
) -> None:
    body = await _api(stack, stack.leader, period=PERIOD, area=PROVINCE)
    items = {i["kpi"]: i for i in body["items"]}
    assert body["period"]["label_vi"] == "Tháng 10/2026"
    assert body["area"]["code"] == PROVINCE

    rate = items["dvc_online_dossier_rate"]
    assert (rate["numerator"], rate["denominator"]) == (month.online, month.received)
    assert rate["value"] == month.online / month.received
    assert rate["target"] is None and rate["meets"] is None  # QĐ 942's 80 % is on full-process
    on_time = items["dvc_on_time_rate"]
    assert (on_time["numerator"], on_time["denominator"]) == (month.on_time, month.resolved)
    assert on_time["target"] == 0.95
    assert on_time["meets"] == (on_time["value"] >= on_time["target"])

    # The trend is the month's days; they add up to the month.
    days = rate["trend"]
    assert [d["label"] for d in days] == [f"{FIRST + timedelta(i):%Y-%m-%d}" for i in range(DAYS)]
    assert sum(d["numerator"] for d in days) == month.online
    assert days[0]["value"] < days[-1]["value"]  # the online share grows through the month

    # The worst ward first; the agencies from the events' agency_code.
    assert [c["area"] for c in rate["worst_children"]] == [WARD, OTHER_WARD]
    agencies = {a["agency"]: (a["numerator"], a["denominator"]) for a in rate["agencies"]}
    assert agencies == month.online_by_agency
    # A distinct KPI counts procedures over the month, not per day: 5 offered online, 4 of
    # them with online dossiers; per agency SO-TU-PHAP offers 1.000, 1.002, 1.004.
    services = items["dvc_services_with_online_dossiers"]
    assert (services["numerator"], services["denominator"]) == (4, 5)
    by_agency = {a["agency"]: (a["numerator"], a["denominator"]) for a in services["agencies"]}
    assert by_agency == {"SO-TU-PHAP": (2, 3), "UBND-XA": (2, 2)}

    # A forecast at the month's end, from the 30 days before it.
    assert rate["forecast"] is None  # no target, no forecast
    assert on_time["forecast"]["days_used"] == 30

    # The same as period_values on a connection of our own.
    conn = await asyncpg.connect(stack.database_url)
    try:
        area = load_areas().get(PROVINCE, date(2026, 10, 31))
        direct = await period_values(conn, load_kpis(), area, Period.parse(PERIOD))
    finally:
        await conn.close()
    for item in direct.items:
        api = items[item.kpi.id]
        assert (item.numerator, item.denominator, item.value) == (
            api["numerator"],
            api["denominator"],
            api["value"],
        )
        assert [p.value for p in item.trend] == [p["value"] for p in api["trend"]]


async def test_a_day_is_its_hours_and_a_quarter_its_months(
    stack: Stack,  # noqa: F811
    month: Month,
) -> None:
    kpis = [load_kpis().get("dvc_online_dossier_rate"), load_kpis().get("dvc_on_time_rate")]
    area = load_areas().get(PROVINCE, date(2026, 10, 31))
    now = datetime(2026, 12, 6, tzinfo=UTC)
    conn = await asyncpg.connect(stack.database_url)
    try:
        day, quarter, whole = (
            Period.parse("2026-10-15"),
            Period.parse("2026-Q4"),
            Period.parse(PERIOD),
        )
        for period in (day, quarter, whole):
            await refresh(conn, kpis, period, now)
        by_day = await period_values(conn, kpis, area, day, now=now)
        by_quarter = await period_values(conn, kpis, area, quarter, now=now)
        by_month = await period_values(conn, kpis, area, whole, now=now)
    finally:
        await conn.close()
    for d, q, m in zip(by_day.items, by_quarter.items, by_month.items, strict=True):
        hours = [p.label for p in d.trend if p.denominator]
        # Dossiers arrive from 09:00 local and are resolved three hours later.
        first = {"dvc_online_dossier_rate": "09:00", "dvc_on_time_rate": "12:00"}[d.kpi.id]
        assert len(d.trend) == 24 and hours[0] == first
        assert sum(p.numerator for p in d.trend) == d.numerator > 0
        assert sum(p.denominator for p in d.trend) == d.denominator
        assert [p.label for p in q.trend] == ["2026-10", "2026-11", "2026-12"]
        assert (q.trend[0].numerator, q.trend[0].denominator) == (m.numerator, m.denominator)
        assert (q.numerator, q.denominator) == (m.numerator, m.denominator)  # nothing after Oct
    # The 15th: 8 dossiers a ward, 3 + 14 // 8 = 4 online in WARD and 5 in OTHER_WARD.
    assert (by_day.items[0].numerator, by_day.items[0].denominator) == (9, 16)


async def test_the_workbook_holds_the_apis_figures(stack: Stack, built: Path) -> None:  # noqa: F811
    body = await _api(stack, stack.leader, period=PERIOD, area=PROVINCE)
    items = {i["kpi"]: i for i in body["items"]}
    path = built / f"bao-cao-{PROVINCE}-{PERIOD}.xlsx"
    with closing(load_workbook(path, read_only=True)) as book:
        assert book.sheetnames == list(SHEETS)
        head = [book[SHEETS[0]].cell(row=r, column=1).value for r in (1, 2, 3)]
    assert head[0] == "TỈNH HƯNG YÊN"
    assert head[1] == "Báo cáo chỉ tiêu chuyển đổi số — Tháng 10/2026"
    assert str(head[2]).startswith("Địa bàn: Tỉnh Hưng Yên (33)")

    summary = _sheet_rows(path, SHEETS[0])
    assert [r[0] for r in summary] == list(items)
    col = {name: i for i, name in enumerate(SUMMARY_COLUMNS)}
    for row in summary:
        api = items[row[0]]
        assert _same(row[col["Tử số"]], api["numerator"])
        assert _same(row[col["Mẫu số"]], api["denominator"])
        assert _same(row[col["Giá trị"]], api["value"])
        assert _same(row[col["Mục tiêu"]], api["target"])
        assert _same(row[col["Thiếu so với mục tiêu"]], api["gap"])
        deadline = row[col["Hạn"]]
        assert (deadline.date().isoformat() if deadline else None) == api["deadline"]
        forecast = api["forecast"]
        reach = row[col["Ngày dự báo đạt"]]
        assert (reach.date().isoformat() if reach else None) == (
            forecast["reach_date"] if forecast else None
        )
        assert row[col["Dự báo"]] == (
            forecast["text_vi"] if forecast else "không dự báo (chỉ tiêu chưa có mục tiêu)"
        )

    trend = _sheet_rows(path, SHEETS[1])
    assert _same_rows(
        trend,
        [
            (k, p["label"], p["numerator"], p["denominator"], p["value"])
            for k, i in items.items()
            for p in i["trend"]
        ],
    )
    children = _sheet_rows(path, SHEETS[2])
    assert _same_rows(
        children,
        [
            (k, c["area"], c["name_vi"], c["numerator"], c["denominator"], c["value"], c["gap"])
            for k, i in items.items()
            for c in i["worst_children"]
        ],
    )
    agencies = _sheet_rows(path, SHEETS[3])
    assert _same_rows(
        agencies,
        [
            (k, a["agency"], a["numerator"], a["denominator"], a["value"], a["gap"])
            for k, i in items.items()
            for a in i["agencies"]
        ],
    )
    assert agencies  # the DVC KPIs have agencies
    alerts = _sheet_rows(path, SHEETS[4])
    assert [(r[1], r[2], r[8]) for r in alerts] == [
        ("dvc_online_low", "dvc_online_dossier_rate", 0.4)
    ]


async def test_the_api_serves_the_same_files_and_checks_scope(
    stack: Stack,  # noqa: F811
    built: Path,
    tmp_path: Path,
) -> None:
    async with stack.api.client(stack.leader) as client:
        xlsx = await client.get(f"/api/v1/reports/{PERIOD}.xlsx", params={"area": PROVINCE})
        pdf = await client.get(f"/api/v1/reports/{PERIOD}.pdf", params={"area": PROVINCE})
        bad = await client.get("/api/v1/kpis/periods", params={"period": "2026-13"})
        odd = await client.get(f"/api/v1/reports/{PERIOD}.doc")
    assert xlsx.status_code == 200, xlsx.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert "bao-cao-33-2026-10.xlsx" in xlsx.headers["content-disposition"]
    assert "2026-13" in str(_problem(bad, 422)["detail"])
    _problem(odd, 404)
    served = tmp_path / "served.xlsx"
    served.write_bytes(xlsx.content)
    for sheet in SHEETS[:4]:
        assert _sheet_rows(served, sheet) == _sheet_rows(
            built / f"bao-cao-{PROVINCE}-{PERIOD}.xlsx", sheet
        )
    # A ward's key sees its ward, not the province.
    async with stack.api.client(stack.ward_operator) as client:
        refused = await client.get("/api/v1/kpis/periods", params={"period": PERIOD, "area": "33"})
        own = await client.get("/api/v1/kpis/periods", params={"period": PERIOD})
    _problem(refused, 403)
    assert own.json()["area"]["code"] == WARD


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils: see .ci/run")
def test_the_pdf_renders_with_its_diacritics(built: Path) -> None:
    pdf = built / f"bao-cao-{PROVINCE}-{PERIOD}.pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for words in (
        "TỈNH HƯNG YÊN",
        "Báo cáo chỉ tiêu chuyển đổi số — Tháng 10/2026",
        "Tỷ lệ hồ sơ",
        "Cảnh báo trong kỳ: 1",
        "Phường Phố Hiến",
    ):
        assert words in text, words
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "NotoSans" in fonts and "Helvetica" not in fonts
    png = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", "70", str(pdf), str(png)], check=True)
    pages = sorted(built.glob(f"{png.name}-*.png"))
    assert len(pages) >= 3
    assert all(p.stat().st_size > 10_000 for p in pages)
