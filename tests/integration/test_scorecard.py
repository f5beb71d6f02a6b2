"""The QĐ 766 scorecard and the forecast in the API, on a month of DVC events.

October 2026 is the month of tests/integration/test_reports.py (two wards, two agencies);
September adds resolved dossiers only, so the month's change is known; the last days before
today add a flat on-time rate and a rising online rate, for the forecast of `/kpis/current`.
Every figure is counted here from what was sent, independently of the code under test.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from ioc.areas import load_areas
from ioc.events import DossierEvent, Envelope, SatisfactionRating
from ioc.kpis import load_kpis
from ioc.kpis.periods import Period, refresh
from ioc.kpis.values import compute, current
from ioc.localtime import local_day_start, local_today
from ioc.streams.sink import to_counted, write_batch
from tests._api import OTHER_WARD, WARD
from tests.integration.test_api import Stack, _problem, stack  # noqa: F401 (module fixture)
from tests.integration.test_reports import AGENCIES, MINUTE, PROVINCE, _envelope, _month_of_events

PERIOD = "2026-10"


def _resolved(
    at: datetime, area: str, key: str, agency: str, on_time: bool, online: bool
) -> Envelope:
    return _envelope(
        at,
        area,
        key,
        DossierEvent(
            dossier_id=key,
            stage="resolved",
            procedure_code="1.000",
            procedure_name="Đăng ký khai sinh",
            agency_code=agency,
            channel="online" if online else "desk",
            service_level="full",
            on_time=on_time,
        ),
    )


def _received(at: datetime, area: str, key: str, agency: str, online: bool) -> Envelope:
    return _envelope(
        at,
        area,
        key,
        DossierEvent(
            dossier_id=key,
            stage="received",
            procedure_code="1.000",
            procedure_name="Đăng ký khai sinh",
            agency_code=agency,
            channel="online" if online else "desk",
            service_level="full",
        ),
    )


def _september() -> list[Envelope]:
    """SO-TU-PHAP resolves all 10 on time, UBND-XA 5 of 10: scores 100 % and 50 %."""
    at = local_day_start(date(2026, 9, 15)) + timedelta(hours=9)
    out = []
    for n in range(10):
        out.append(_resolved(at + n * MINUTE, WARD, f"S-A-{n}", AGENCIES[0], True, False))
        out.append(_resolved(at + n * MINUTE, WARD, f"S-B-{n}", AGENCIES[1], n < 5, False))
    return out


def _recent(today: date) -> list[Envelope]:
    """The 20 days before today: on time 4 of 5 every day; online share rising 1 … 15 of 20."""
    out = []
    for back in range(20, 0, -1):
        at = local_day_start(today - timedelta(days=back)) + timedelta(hours=9)
        for n in range(5):
            out.append(
                _resolved(at + n * MINUTE, OTHER_WARD, f"R-{back}-{n}", AGENCIES[0], n < 4, True)
            )
        online = 1 + (20 - back) * 3 // 4  # 1 … 15 of 20: short of 80 % on the last day
        for n in range(20):
            out.append(
                _received(at + n * MINUTE, OTHER_WARD, f"Q-{back}-{n}", AGENCIES[0], n < online)
            )
    return out


def _by_agency(envelopes: list[Envelope]) -> dict[str, Counter[str]]:
    """Per agency: received, resolved, on_time, ratings, satisfied of October."""
    out: dict[str, Counter[str]] = {a: Counter() for a in AGENCIES}
    for e in envelopes:
        p = e.payload
        if isinstance(p, DossierEvent):
            c = out[p.agency_code]
            if p.stage == "received":
                c["received"] += 1
                c["online"] += p.channel == "online"
            elif p.stage == "resolved":
                c["resolved"] += 1
                c["on_time"] += bool(p.on_time)
        elif isinstance(p, SatisfactionRating):
            out[p.agency_code]["ratings"] += 1
            out[p.agency_code]["satisfied"] += p.satisfied
    return out


@pytest.fixture(scope="module")
async def sent(stack: Stack) -> AsyncIterator[dict[str, Counter[str]]]:  # noqa: F811
    october, _ = _month_of_events()
    today = local_today()
    conn = await asyncpg.connect(stack.database_url)
    try:
        envelopes = october + _september() + _recent(today)
        batch = [to_counted(e, MINUTE, "ioc.events.dvc", 0) for e in envelopes]
        for i in range(0, len(batch), 500):
            await write_batch(conn, "scorecard-test", batch[i : i + 500], {})
        now = datetime.now(UTC)
        for period in ("2026-09", PERIOD):
            await refresh(conn, load_kpis(), Period.parse(period), now)
        await compute(
            conn,
            list(load_kpis()),
            local_day_start(today) - timedelta(days=31),
            local_day_start(today),
            "1d",
        )
    finally:
        await conn.close()
    yield _by_agency(october)


async def _get(stack: Stack, key: str, path: str, **params: str) -> Any:  # noqa: F811
    async with stack.api.client(key) as client:
        return await client.get(path, params=params)


def _component(unit: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for c in unit["components"] if c["id"] == cid)


async def test_scorecard_by_agency_scores_what_was_sent_ranked_with_the_change(
    stack: Stack,  # noqa: F811
    sent: dict[str, Counter[str]],
) -> None:
    response = await _get(
        stack, stack.leader, "/api/v1/scorecard", period=PERIOD, by="agency", area=PROVINCE
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["period"]["label_vi"] == "Tháng 10/2026"
    assert body["previous_period"]["label"] == "2026-09"
    assert "766/QĐ-TTg" in body["decision"] and "ước tính" in body["estimate_note"]
    groups = body["groups"]
    assert [g["name_vi"] for g in groups] == [
        "Công khai, minh bạch",
        "Tiến độ, kết quả giải quyết",
        "Số hóa hồ sơ",
        "Cung cấp dịch vụ trực tuyến",
        "Mức độ hài lòng",
    ]
    assert [g["max_points"] for g in groups] == [18, 20, 22, 22, 18]
    # Components no feed carries say where their data would come from, and have no figure.
    missing = {c["id"] for g in groups for c in g["components"] if c["missing_source"]}
    assert {"1.1", "1.2", "4.1", "4.2"} <= missing
    # Citizen feedback (the feedback feed) measures 5.2 and 5.3: shown, not scored.
    assert not {"5.2", "5.3"} & missing

    units = {u["code"]: u for u in body["units"]}
    assert set(units) == set(AGENCIES)
    expected = {}
    for agency, c in sent.items():
        on_time = c["on_time"] / c["resolved"]
        sat = max(c["on_time"] - (c["ratings"] - c["satisfied"]), 0) / c["resolved"]
        unit = units[agency]
        assert _component(unit, "2.1")["value"] == on_time
        assert _component(unit, "2.1")["points"] == pytest.approx(20 * on_time)
        assert _component(unit, "3.3")["value"] == c["online"] / c["received"]
        assert _component(unit, "3.3")["points"] is None  # its own maximum is not known
        assert _component(unit, "5.4")["value"] == pytest.approx(sat)
        points = 20 * on_time + (6.0 if sat >= 0.9 else sat * 6 / 0.9)
        possible = 26.0
        if agency == "UBND-XA":  # offers 1.001, the fee-bearing procedure paid online
            assert _component(unit, "3.5")["value"] == 1.0
            points, possible = points + 2, possible + 2
        else:
            assert _component(unit, "3.5")["value"] is None
        for cid in missing:
            assert _component(unit, cid)["value"] is None
        assert unit["points"] == pytest.approx(points)
        assert unit["possible"] == possible
        assert unit["score"] == pytest.approx(points / possible)
        expected[agency] = points / possible
    ranked = sorted(expected, key=lambda a: -expected[a])
    assert [u["code"] for u in body["units"]] == ranked
    assert [u["rank"] for u in body["units"]] == [1, 2]
    # September: SO-TU-PHAP 10 of 10 on time, UBND-XA 5 of 10 (2.1 alone is scored).
    before = {"SO-TU-PHAP": 1.0, "UBND-XA": 0.5}
    for agency, unit in units.items():
        assert unit["previous_score"] == pytest.approx(before[agency])
        assert unit["change"] == pytest.approx(expected[agency] - before[agency])
    assert units["SO-TU-PHAP"]["previous_rank"] == 1
    # The province as a whole: September's 15 of 20 on time.
    assert body["total"]["previous_score"] == pytest.approx(0.75)
    assert body["total"]["rank"] is None


async def test_scorecard_by_commune_and_its_scope(
    stack: Stack,  # noqa: F811
    sent: dict[str, Counter[str]],
) -> None:
    response = await _get(
        stack, stack.leader, "/api/v1/scorecard", period=PERIOD, by="commune", area=PROVINCE
    )
    assert response.status_code == 200, response.text
    body = response.json()
    ranked = [u for u in body["units"] if u["rank"] is not None]
    assert {u["code"] for u in ranked} == {WARD, OTHER_WARD}
    assert ranked[0]["score"] >= ranked[1]["score"]
    total = body["total"]
    assert _component(total, "2.1")["denominator"] == sum(c["resolved"] for c in sent.values())
    # A ward's operator sees its ward, not the province; a bad period is a problem.
    _problem(
        await _get(stack, stack.ward_operator, "/api/v1/scorecard", period=PERIOD, area=PROVINCE),
        403,
    )
    _problem(await _get(stack, stack.leader, "/api/v1/scorecard", period="2026-13"), 422)
    _problem(await _get(stack, stack.leader, "/api/v1/scorecard", by="district"), 422)


async def test_current_kpis_carry_the_forecast_of_ioc_kpis_show(
    stack: Stack,  # noqa: F811
    sent: dict[str, Counter[str]],
) -> None:
    response = await _get(stack, stack.leader, "/api/v1/kpis/current", area=PROVINCE)
    assert response.status_code == 200, response.text
    items = {i["kpi"]: i for i in response.json()["items"]}
    area = load_areas().get(PROVINCE, local_today())
    conn = await asyncpg.connect(stack.database_url)
    try:
        for kpi_id in ("dvc_on_time_rate", "dvc_full_online_dossier_rate"):
            kpi = load_kpis().get(kpi_id)
            status = await current(
                conn, kpi, PROVINCE, area.level, datetime.now(UTC), resolution="1d"
            )
            api = items[kpi_id]["forecast"]
            assert status.forecast is not None
            assert api["status"] == status.forecast.status
            assert api["mae"] == status.forecast.mae
            assert api["reach_date"] == (
                status.forecast.reach_date.isoformat() if status.forecast.reach_date else None
            )
    finally:
        await conn.close()
    # 4 of 5 on time every day: no date is the honest answer.
    flat = items["dvc_on_time_rate"]["forecast"]
    assert flat["status"] == "flat" and flat["reach_date"] is None
    assert flat["text_vi"].startswith("không có ngày: xu hướng đi ngang")
    assert flat["text_en"].startswith("no date: flat trend")
    rising = items["dvc_full_online_dossier_rate"]["forecast"]
    assert rising["status"] == "on_track" and rising["reach_date"] is not None
    assert "±" in rising["error_vi"]
    # A KPI without a target has no forecast.
    no_target = [i for i in items.values() if i["target"] is None]
    assert all(i["forecast"] is None for i in no_target)


async def test_the_digest_has_each_kpi_against_its_target_as_the_api_has_it(
    stack: Stack,  # noqa: F811
    sent: dict[str, Counter[str]],
) -> None:
    from ioc.notify.digest import daily_digest

    api = (
        await _get(stack, stack.leader, "/api/v1/kpis/periods", period=PERIOD, area=PROVINCE)
    ).json()
    by_kpi = {i["kpi"]: i for i in api["items"]}
    conn = await asyncpg.connect(stack.database_url)
    try:
        # 31 October: the month to date is the whole of October, as /kpis/periods has it.
        october = await daily_digest(
            conn, date(2026, 10, 31), "vi", PROVINCE, areas=load_areas(), catalogue=load_kpis()
        )
        yesterday = local_today() - timedelta(days=1)
        ward = await daily_digest(
            conn, yesterday, "vi", OTHER_WARD, areas=load_areas(), catalogue=load_kpis()
        )
        english = await daily_digest(
            conn, yesterday, "en", OTHER_WARD, areas=load_areas(), catalogue=load_kpis()
        )
    finally:
        await conn.close()
    section = october.data["kpis"]
    assert (section["first_day"], section["last_day"]) == ("2026-10-01", "2026-10-31")
    assert "Chỉ tiêu so với mục tiêu (lũy kế tháng, 01/10–31/10/2026):" in october.text
    items = {i["kpi"]: i for i in section["items"]}
    assert items and all(i["target"] is not None for i in items.values())
    for kpi_id, item in items.items():
        figure = by_kpi[kpi_id]
        assert (item["value"], item["target"], item["gap"]) == (
            figure["value"],
            figure["target"],
            figure["gap"],
        )
        assert item["forecast_text"] == figure["forecast"]["text_vi"]
    on_time = items["dvc_on_time_rate"]
    assert on_time["value"] == sum(c["on_time"] for c in sent.values()) / sum(
        c["resolved"] for c in sent.values()
    )
    # 4 of 5 on time every day in Phường Sơn Nam: short of 95 % by 15 points, and no date.
    line = next(x for x in ward.text.splitlines() if "Tỷ lệ hồ sơ giải quyết đúng hạn" in x)
    assert "80 % / mục tiêu 95 % — chưa đạt, thiếu 15 điểm" in line
    assert line.endswith("dự báo: không có ngày: xu hướng đi ngang")
    assert "forecast: no date: flat trend" in english.text


async def test_the_grafana_forecast_panel_says_what_ioc_kpis_show_says(
    stack: Stack,  # noqa: F811
    sent: dict[str, Counter[str]],
) -> None:
    """The overview board's forecast table, run as Grafana's role, on the province and a ward."""
    from ioc.dashboards import build_all, context_from_settings
    from tests._grafana_sql import TimeRange, Variable, expand
    from tests.integration.test_dashboards_panels import run_as_reader

    ctx = context_from_settings(stack.settings)
    board = build_all(ctx)["ioc-overview"]
    panel = next(p for p in board["panels"] if p.get("title") == "Dự báo ngày đạt mục tiêu")
    now = datetime.now(UTC)
    kpis = list(load_kpis())
    conn = await asyncpg.connect(stack.database_url)
    try:
        for code in (PROVINCE, OTHER_WARD):
            variables = {
                "area": Variable("area", [(code, code)], code),
                "kpi": Variable(
                    "kpi", [(k.name_vi, k.id) for k in kpis], [k.id for k in kpis], multi=True
                ),
            }
            sql = expand(
                panel["targets"][0]["rawSql"],
                TimeRange(now - timedelta(days=1), now),
                variables,
                interval=None,
                timescaledb=False,
            )
            rows = {r["kpi"]: r for r in await run_as_reader(conn, sql)}
            level = load_areas().get(code, local_today()).level
            with_target = [k for k in kpis if k.target_for(level) is not None]
            assert set(rows) == {k.id for k in kpis if k.target is not None}
            for kpi in with_target:
                status = await current(conn, kpi, code, level, now, resolution="1d")
                assert status.forecast is not None
                row = rows[kpi.id]
                assert (row["status"], row["reach_date"], row["days_used"]) == (
                    status.forecast.status,
                    status.forecast.reach_date,
                    status.forecast.days_used,
                ), kpi.id
            rising = rows["dvc_full_online_dossier_rate"]
            assert rising["status"] == "on_track" and rising["reach_date"] > local_today()
            flat = rows["dvc_on_time_rate"]
            assert (flat["status"], flat["forecast"]) == (
                "flat",
                "không có ngày: xu hướng đi ngang",
            )
    finally:
        await conn.close()
