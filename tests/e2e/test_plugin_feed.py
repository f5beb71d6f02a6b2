"""A kind of feed nobody ships, end to end, from a separate package and no change to the core.

tests/plugins/ioc-test-airquality (installed by the Makefile) declares the feed ``air`` in one
YAML file and registers one connector class: simulated stations, one per commune. Here its
stations backfill 20 minutes through real Kafka, a haze settling over Phường Phố Hiến after
five; the stream worker counts them into window rows; the evaluator judges the windows with
the rules the declaration brings (read with the shipped ones); the alerts service's KPI pass
keeps the values current; then the API (`ioc api run`) shows the declaration's KPI among the ward's
tiles, the live board draws the tile in Chromium (screenshot in test-artifacts/board-plugin/),
and the Grafana boards as code have a panel whose SQL, run as Grafana runs it against the
same database, returns the new KPI.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from ioc.alerts.engine import Evaluator
from ioc.alerts.model import TransitionKind
from ioc.alerts.rules import RuleSet, load_rules
from ioc.areas import load_areas
from ioc.config import Settings, load_settings
from ioc.connectors.base import ConnectorContext, VirtualClock
from ioc.connectors.registry import load_connector, registered
from ioc.dashboards import READER_ROLE, BoardContext, build_all
from ioc.db import connect, migrate, sync_areas
from ioc.feeds import feed
from ioc.kafka import ensure_topics, project_topics
from ioc.kpis import load_kpis
from ioc.kpis.values import keep_current
from ioc.localtime import ZONE
from ioc.streams.worker import StreamWorker
from tests._api import add_key, running_api
from tests._grafana_sql import (
    ALL_VALUE,
    TimeRange,
    Variable,
    calculate_interval,
    custom_options,
    expand,
    metric_find_values,
)
from tests._streams import wait_caught_up
from tests.e2e.test_board_browser import CHROMIUM_ARGS, _chromium, _playwright

WARD = "11953"  # Phường Phố Hiến
MINUTE = timedelta(minutes=1)
GRACE = timedelta(seconds=15)
HAZE_AFTER = 5
SPAN = 20
KPI = "air_good_share"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "board-plugin"


def _start() -> datetime:
    """The start of the backfill: a whole minute, out of the rush hours (07-09, 17-20 local),
    when the ward's air is good until the haze, and recent enough for the last-24-h tiles."""
    at = (datetime.now(UTC) - (SPAN + 10) * MINUTE).replace(second=0, microsecond=0)
    while at.astimezone(ZONE).hour in (6, 7, 8, 16, 17, 18, 19):
        at -= 30 * MINUTE
    return at


async def _backfill(settings: Settings, start: datetime) -> None:
    from ioc.connectors.runner import ConnectorRunner

    context = ConnectorContext(
        name="air-stations",
        settings=settings,
        areas=load_areas(),
        clock=VirtualClock(start, start + SPAN * MINUTE),
        seed=7,
        options={"haze": WARD, "haze_after": str(HAZE_AFTER), "faults": "off"},
    )
    await ConnectorRunner(load_connector("air-stations")(context), settings).run()


async def _sums(conn: asyncpg.Connection, area: str, start: datetime) -> dict[str, float]:
    rows = await conn.fetch(
        "SELECT metric, sum(sum) AS total FROM window_metrics "
        "WHERE area = $1 AND metric LIKE 'air.%' AND window_start >= $2 GROUP BY metric",
        area,
        start,
    )
    return {r["metric"]: float(r["total"]) for r in rows}


async def _as_grafana(conn: asyncpg.Connection, sql: str) -> list[asyncpg.Record]:
    """Run a panel's SQL as Grafana's role would: read-only, with only its privileges."""
    async with conn.transaction(readonly=True):
        await conn.execute(f"SET LOCAL ROLE {READER_ROLE}")
        return await conn.fetch(sql)


async def _variables(
    conn: asyncpg.Connection, board: dict[str, Any], span: TimeRange
) -> dict[str, Variable]:
    """The board's variables as Grafana resolves them, the ward chosen, every other on All."""
    chosen: dict[str, Variable] = {}
    for spec in board["templating"]["list"]:
        name = spec["name"]
        if spec["type"] == "query":
            sql = expand(spec["query"], span, chosen, interval=None, timescaledb=False)
            rows = await _as_grafana(conn, sql)
            columns = list(rows[0].keys()) if rows else []
            options = metric_find_values(columns, [tuple(r.values()) for r in rows])
            values = [v for _, v in options]
            pick = WARD if name == "area" and WARD in values else (values[0] if values else "")
            multi, include_all = spec.get("multi", False), spec.get("includeAll", False)
            chosen[name] = Variable(name, options, pick, multi, include_all)
        elif spec["type"] == "custom":
            chosen[name] = Variable(
                name,
                custom_options(spec["query"]),
                [ALL_VALUE],
                spec["multi"],
                spec["includeAll"],
                spec.get("allValue"),
            )
    return chosen


async def _grafana_rows(
    conn: asyncpg.Connection, span: TimeRange, boards: dict[str, dict[str, Any]], names: set[str]
) -> list[str]:
    """Panels (board: title) whose query names one of `names` and, expanded as Grafana does,
    returns a value (of the KPI, in a table of every KPI)."""
    found: list[str] = []
    for uid, board in boards.items():
        variables = await _variables(conn, board, span)
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                if not any(name in target["rawSql"] for name in names):
                    continue
                interval = calculate_interval(span, panel["maxDataPoints"], panel.get("interval"))
                sql = expand(
                    target["rawSql"], span, variables, interval=interval, timescaledb=False
                )
                rows = await _as_grafana(conn, sql)
                for row in rows:
                    values = dict(row)
                    if values.get("kpi") not in (None, KPI):  # a table of every KPI: its row
                        continue
                    numbers = [v for k, v in values.items() if k != "time" and _number(v)]
                    if numbers:
                        found.append(f"{uid}: {panel['title']}")
                        break
    return found


async def _board_tile(url: str, key: str) -> str:
    """The text of the declared KPI's tile on the live board, in Chromium, for the ward."""
    from playwright.async_api import async_playwright, expect

    problems: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1440, "height": 900})
            page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
            await page.goto(url + f"/#area={WARD}")
            await page.get_by_label("Khóa API").fill(key)
            await page.get_by_role("button", name="Đăng nhập").click()
            # The board redraws its tiles when the feed list arrives: the locator (not an
            # element handle) finds the tile again each time.
            tile = page.locator(f"[data-kpi={KPI}]").first
            await expect(tile).to_contain_text("25,0")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "air-tile.png"), full_page=True)
            text = await tile.inner_text()
        finally:
            await browser.close()
    assert not problems, problems
    return text


def _number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


async def test_a_plugin_feed_reaches_windows_an_alert_the_api_tiles_and_a_grafana_panel(
    settings: Settings, tmp_path: Path
) -> None:
    _chromium()
    _playwright()
    assert registered()["air-stations"].distribution == "ioc-test-airquality"
    assert settings.database_url is not None
    settings = load_settings(
        kafka_bootstrap=settings.kafka_bootstrap,
        database_url=settings.database_url.get_secret_value(),
        state_dir=settings.state_dir,
        kafka={"topic_prefix": f"t{uuid.uuid4().hex[:10]}", "partitions": 3},
        streams={"flush_interval_ms": 200},
    )
    # The declaration's topic is one of the project's, with the partitions it asks for.
    topics = {t.name: t for t in project_topics(settings)}
    assert topics[f"{settings.kafka.topic_prefix}.events.air"].partitions == 3
    await ensure_topics(settings, project_topics(settings))
    conn = await connect(settings)
    try:
        await migrate(conn)
        areas = load_areas()
        await sync_areas(conn, areas)

        start = _start()
        haze = start + HAZE_AFTER * MINUTE
        await _backfill(settings, start)
        worker = StreamWorker(settings, name="e2e-air")
        task = asyncio.create_task(worker.run())
        try:
            await wait_caught_up(conn, settings, worker=task)
        finally:
            worker.stop()
            await asyncio.wait_for(task, 30)

        # Windows: one station in the ward, a reading a minute, good air until the haze.
        ward = await _sums(conn, WARD, start)
        assert ward["air.station_samples"] == SPAN
        assert ward["air.samples"] == SPAN and ward["air.band.good"] == HAZE_AFTER
        assert ward["air.band.bad"] == ward["air.samples"] - ward["air.band.good"]
        station = await conn.fetchrow(
            "SELECT kind, up FROM entity_status WHERE entity = $1", f"QTKK-{WARD}"
        )
        assert station is not None and station["kind"] == "air_station", station

        # The alert: the rules the declaration brings, read with the shipped ones (and only
        # they are evaluated here, so no other feed's rule speaks).
        catalogue = load_kpis()
        assert catalogue.get(KPI).feed == "air"
        shipped = load_rules(None, {k.id for k in catalogue})
        declared = {r["id"] for r in feed("air").alert_rules}
        rules = RuleSet(rules=tuple(r for r in shipped.rules if r.id in declared))
        assert (
            {r.id for r in rules.rules} == declared == {"air_good_share_low", "air_stations_silent"}
        )
        evaluator = Evaluator(catalogue, rules, areas, window=MINUTE, grace=GRACE)
        transitions = []
        for minute in range(SPAN):
            transitions += await evaluator.run_once(conn, start + (minute + 1) * MINUTE + GRACE)
        fired = [t for t in transitions if t.kind is TransitionKind.FIRED]
        ours = [t for t in fired if t.rule_id == "air_good_share_low" and t.area == WARD]
        assert len(ours) == 1, [(t.rule_id, t.area, t.at) for t in fired]
        assert haze + 2 * MINUTE < ours[0].at <= haze + 4 * MINUTE  # three bad windows
        assert ours[0].area_name_vi == "Phường Phố Hiến"
        assert "33" not in {t.area for t in fired if t.rule_id == "air_good_share_low"}

        # What `ioc alerts run` does each pass, then the tiles the board draws.
        await keep_current(conn, catalogue)
        key = await add_key(conn, "e2e-air", "leader")
    finally:
        await conn.close()
    with running_api(settings, tmp_path / "api") as api:
        async with api.client(key) as client:
            response = await client.get("/api/v1/kpis/current", params={"area": WARD})
            assert response.status_code == 200, response.text
            tiles = {t["kpi"]: t for t in response.json()["items"]}
            feeds = (await client.get("/api/v1/kpis")).json()
        shown = await _board_tile(api.url, key)
    tile = tiles[KPI]
    assert tile["feed"] == "air" and tile["name_vi"] == "Tỷ lệ mẫu có chất lượng không khí tốt"
    assert tile["numerator"] == ward["air.band.good"]
    assert tile["denominator"] == ward["air.samples"]
    assert tile["value"] == pytest.approx(ward["air.band.good"] / ward["air.samples"])
    assert tile["target"] == 0.8 and tile["meets"] is False
    assert KPI in str(feeds)
    assert "Tỷ lệ mẫu có chất lượng không khí tốt" in shown
    assert "25,0" in shown, shown  # 5 good readings of 20, as Vietnamese write it

    # Grafana: a panel of the boards as code returns the new KPI from the same database.
    conn = await connect(settings)
    try:
        span = TimeRange(start - 5 * MINUTE, start + (SPAN + 5) * MINUTE)
        boards = build_all(BoardContext(load_kpis(), 60))
        panels = await _grafana_rows(conn, span, boards, {KPI, *feed("air").metrics})
    finally:
        await conn.close()
    assert panels, "no Grafana panel returns the air KPI or an air metric"
