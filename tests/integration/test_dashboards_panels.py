"""Every panel of every board, run on the real database as Grafana would run it.

The database is filled by the pipeline's code (tests/_grafana_data.py): two working days, one
before and one after the 1/7/2025 reform. For each scenario (a time range, an area chosen
through the province → district → commune variables, a choice of the multi-value
variables), each board's variable queries and panel queries are expanded the way Grafana's
PostgreSQL datasource expands them (tests/_grafana_sql.py), run as the read-only role
``ioc_grafana`` in a read-only transaction, and checked for what the panel type needs:

- timeseries (format ``time_series``): a ``time`` column, numeric values, rows ascending in
  time (Grafana refuses to turn unsorted long data into series);
- stat: a numeric column with a value;
- table: the columns its overrides and data links name;
- every panel: rows come back.

Both database tiers: plain PostgreSQL (roll-ups are views; the datasource without its
TimescaleDB switch) and TimescaleDB (continuous aggregates; ``$__timeGroup`` is
``time_bucket``).
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from ioc.areas import load_areas
from ioc.config import load_settings
from ioc.dashboards import READER_ROLE, BoardContext, build_all, context_from_settings
from ioc.db import migrate, sync_areas
from ioc.indicators import load_indicators
from ioc.indicators.periods import latest_ended
from ioc.indicators.store import check_entry, save, sync_catalogue
from ioc.localtime import local_today
from tests._grafana_data import DAYS, THREE_TIER, TWO_TIER, at, fill_day
from tests._grafana_sql import (
    ALL_VALUE,
    TimeRange,
    Variable,
    calculate_interval,
    custom_options,
    expand,
    metric_find_values,
)
from tests._services import ExternalService, LocalService
from tests._timescale import close, reset

SETTINGS = load_settings()
CTX: BoardContext = context_from_settings(SETTINGS)
BOARDS = build_all(CTX)
DATA_LINK_FIELD = re.compile(r"\$\{__data\.fields\.(\w+)\}")


@dataclass(frozen=True)
class Scenario:
    """A time range, the area to reach through the variables, and multi-value choices.

    Attributes:
        name: Test id.
        time_range: The board's range.
        district: The district option to choose (None: the first one, "whole province").
        area: The area option to choose (None: the first one, the district as a whole).
        choices: Values of the multi-value variables; a variable not named takes "All".
        districts: The district options the scenario expects (its shape), if given.
    """

    name: str
    time_range: TimeRange
    district: str | None = None
    area: str | None = None
    choices: dict[str, list[str]] = field(default_factory=dict)
    districts: list[str] | None = None


THREE_TIER_DISTRICTS = ["33", "323", *(str(code) for code in range(325, 334))]
SCENARIOS = [
    Scenario(
        "two-tier-province-8h",
        TimeRange(at(TWO_TIER, 7), at(TWO_TIER, 15)),
        districts=["33"],  # two tiers: "whole province" is the only district option
    ),
    Scenario(
        "two-tier-commune-some-values",
        TimeRange(at(TWO_TIER, 7), at(TWO_TIER, 15)),
        area="12142",
        choices={
            # One KPI of each feed: a feed with none chosen has, rightly, an empty trend.
            "kpi": [
                "dvc_online_dossier_rate",
                "payment_success_rate",
                "network_special_availability",
                "camera_online_rate",
                "feedback_on_time_rate",
                "air_good_share",  # the test plug-in's feed (tests/plugins/ioc-test-airquality)
            ],
            "channel": ["qr", "card"],
            "point_kind": ["special_network"],
            "detection": ["camera.vehicles"],
            "severity": ["critical"],
            "state": ["acknowledged"],
        },
    ),
    Scenario(
        "three-tier-district-commune-8h",
        TimeRange(at(THREE_TIER, 7), at(THREE_TIER, 15)),
        district="326",
        area="12019",
        districts=THREE_TIER_DISTRICTS,
    ),
    Scenario(
        "three-tier-district-8h",
        TimeRange(at(THREE_TIER, 7), at(THREE_TIER, 15)),
        district="329",
    ),
    Scenario(  # a week: hourly roll-ups and 1h KPI values
        "two-tier-week",
        TimeRange(at(TWO_TIER, 0) - timedelta(days=6), at(TWO_TIER, 0) + timedelta(days=1)),
    ),
    Scenario(  # both shapes in one range: daily roll-ups and 1d KPI values
        "across-the-reform",
        TimeRange(at(THREE_TIER, 0) - timedelta(days=30), at(TWO_TIER, 0) + timedelta(days=7)),
        districts=THREE_TIER_DISTRICTS,
    ),
]


# --- the database ---------------------------------------------------------------------------


async def _filled(connection: asyncpg.Connection) -> None:
    await migrate(connection)
    areas = load_areas()
    await sync_areas(connection, areas)
    for day in DAYS:
        await fill_day(connection, SETTINGS, day)
    # The periodic indicators' catalogue as the API writes it, and one value entered.
    indicators = load_indicators()
    await sync_catalogue(connection, indicators)
    today = local_today()
    entry, problems = check_entry(
        indicators,
        areas,
        indicator="documents_electronic",
        area="33",
        period=latest_ended("monthly", today).label,
        value=0.99,
        today=today,
    )
    assert entry is not None, problems
    await save(connection, [entry], by="Văn phòng UBND tỉnh", key_id=None, via="cli")


@pytest.fixture(scope="module", params=["postgresql", "timescaledb"])
async def tier(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """(tier, connection) to a database filled once per module and tier."""
    if request.param == "postgresql":
        server: LocalService | ExternalService = request.getfixturevalue("postgres")
        name = f"boards_{uuid.uuid4().hex[:10]}"
        admin = await asyncpg.connect(server.address)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        conn = await asyncpg.connect(server.address.rpartition("/")[0] + f"/{name}")
        try:
            await _filled(conn)
            yield "postgresql", conn
        finally:
            await conn.close()
            admin = await asyncpg.connect(server.address)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    else:
        server = request.getfixturevalue("timescaledb")
        # One server and one session for the whole test run: it cannot create databases.
        conn = await asyncpg.connect(server.address, statement_cache_size=0)
        try:
            await migrate(conn)
            await reset(conn)
            await _filled(conn)
            yield "timescaledb", conn
        finally:
            await reset(conn)
            await close(conn)


async def run_as_reader(conn: asyncpg.Connection, sql: str) -> list[asyncpg.Record]:
    """Run SQL as Grafana's role would: read-only, with only the role's privileges."""
    async with conn.transaction(readonly=True):
        # SET LOCAL ends with the transaction: the TimescaleDB tier has one session for
        # every connection, so a plain SET ROLE would outlive this test.
        await conn.execute(f"SET LOCAL ROLE {READER_ROLE}")
        return await conn.fetch(sql)


# --- variables ------------------------------------------------------------------------------


async def resolve_variables(
    conn: asyncpg.Connection, board: dict[str, Any], scenario: Scenario, timescaledb: bool
) -> dict[str, Variable]:
    """Each variable's options (queries run like Grafana's metricFindQuery) and its choice."""
    chosen: dict[str, Variable] = {}
    wanted = {"district": scenario.district, "area": scenario.area}
    for spec in board["templating"]["list"]:
        name = spec["name"]
        if spec["type"] == "query":
            sql = expand(
                spec["query"], scenario.time_range, chosen, interval=None, timescaledb=timescaledb
            )
            rows = await run_as_reader(conn, sql)
            columns = list(rows[0].keys()) if rows else []
            options = metric_find_values(columns, [tuple(r.values()) for r in rows])
            assert options, f"variable {name} has no options in {scenario.name}"
            values = [v for _, v in options]
            if name == "district" and scenario.districts is not None:
                assert values == scenario.districts, f"district options in {scenario.name}"
            pick = wanted.get(name) or values[0]  # Grafana takes the first option by default
            assert pick in values, f"{name}={pick} is not an option in {scenario.name}: {values}"
            chosen[name] = Variable(
                name, options, pick, spec.get("multi", False), spec.get("includeAll", False)
            )
        elif spec["type"] == "custom":
            options = custom_options(spec["query"])
            assert spec["current"]["value"] == [ALL_VALUE], f"{name} must default to All"
            values = [v for _, v in options]
            pick_list = scenario.choices.get(name)
            assert pick_list is None or set(pick_list) <= set(values), (name, pick_list)
            selected: str | list[str] = pick_list if pick_list is not None else [ALL_VALUE]
            chosen[name] = Variable(
                name, options, selected, spec["multi"], spec["includeAll"], spec.get("allValue")
            )
        else:
            raise AssertionError(f"variable type {spec['type']} is not covered by this test")
    return chosen


# --- what each panel type needs --------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _override_names(panel: dict[str, Any]) -> set[str]:
    return {
        o["matcher"]["options"]
        for o in panel.get("fieldConfig", {}).get("overrides", [])
        if o["matcher"]["id"] == "byName"
    }


def check_panel(
    panel: dict[str, Any], target: dict[str, Any], rows: list[asyncpg.Record]
) -> list[str]:
    """What is wrong with a panel's result, as Grafana would see it; empty when fine."""
    title = f"panel {panel['id']} ({panel['title']})"
    if not rows:
        return [f"{title}: no rows"]
    columns = list(rows[0].keys())
    problems: list[str] = []
    numeric = [c for c in columns if any(_is_number(r[c]) for r in rows)]
    if target["format"] == "time_series":
        if "time" not in columns:
            return [f"{title}: time_series without a column named time: {columns}"]
        times = [r["time"] for r in rows]
        if any(t is None for t in times):
            problems.append(f"{title}: null time values")
        elif not all(isinstance(t, datetime) or _is_number(t) for t in times):
            problems.append(f"{title}: time column is neither a timestamp nor epoch seconds")
        elif any(a > b for a, b in itertools.pairwise(times)):
            problems.append(f"{title}: rows not in ascending time order")
        values = [c for c in numeric if c != "time"]
        if not values:
            problems.append(f"{title}: no numeric value column besides time: {columns}")
        if not any(r[c] is not None for r in rows for c in values):
            problems.append(f"{title}: every value is null")
    elif panel["type"] == "stat" and not any(r[c] is not None for r in rows for c in numeric):
        problems.append(f"{title}: no numeric value (stat shows 'no data'): {dict(rows[0])}")
    missing = (_override_names(panel) | set(DATA_LINK_FIELD.findall(str(panel)))) - set(columns)
    if target["format"] == "table" and missing:
        problems.append(f"{title}: overrides or links name missing columns {sorted(missing)}")
    return problems


def query_panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p.get("targets")]


# --- tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
# Not the test plug-in's board: drawn from its declaration with one panel per AQI band, and the
# rarer bands rightly have no rows in this data (tests/e2e/test_plugin_feed.py runs its panel).
@pytest.mark.parametrize("uid", [uid for uid in BOARDS if uid != "ioc-air"])
async def test_every_panel_returns_what_its_type_needs(
    tier: tuple[str, asyncpg.Connection], uid: str, scenario: Scenario
) -> None:
    name, conn = tier
    timescaledb = name == "timescaledb"
    board = BOARDS[uid]
    variables = await resolve_variables(conn, board, scenario, timescaledb)
    problems: list[str] = []
    for panel in query_panels(board):
        interval = calculate_interval(
            scenario.time_range, panel["maxDataPoints"], panel.get("interval")
        )
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "ioc-timescaledb"
            sql = expand(
                target["rawSql"],
                scenario.time_range,
                variables,
                interval=interval,
                timescaledb=timescaledb,
            )
            try:
                rows = await run_as_reader(conn, sql)
            except asyncpg.PostgresError as err:
                problems.append(f"panel {panel['id']} ({panel['title']}): {err!r}\n{sql}")
                continue
            problems += check_panel(panel, target, rows)
    assert not problems, f"{uid} on {name}, {scenario.name}:\n" + "\n".join(problems)


async def test_the_area_chain_follows_the_shape_of_the_day(
    tier: tuple[str, asyncpg.Connection],
) -> None:
    name, conn = tier
    board = BOARDS["ioc-overview"]
    three = await resolve_variables(conn, board, SCENARIOS[2], name == "timescaledb")
    # Huyện Văn Giang and its eleven communes of 2024 (the national data).
    van_giang = [str(c) for c in range(12019, 12050, 3)]
    assert [v for _, v in three["area"].options] == ["326", *van_giang]
    assert three["area"].options[0][0] == "— Toàn huyện —"
    two = await resolve_variables(conn, board, SCENARIOS[0], name == "timescaledb")
    assert two["district"].options == [("— Toàn tỉnh —", "33")]
    communes = [v for _, v in two["area"].options[1:]]
    assert len(communes) == 104 and "12019" in communes and "326" not in communes


async def test_the_reader_role_reads_the_boards_tables_and_writes_nothing(
    tier: tuple[str, asyncpg.Connection],
) -> None:
    _, conn = tier
    for table in (
        "kpi_values",
        "window_metrics",
        "window_metrics_1h",
        "window_metrics_1d",
        "areas",
        "area_ancestors",
        "alerts",
        "alert_history",
        "silences",
        "events",  # distinct-count KPIs are counted from the store (migration 0009)
        "indicators",  # the periodic indicators (migration 0014)
        "indicator_values",
    ):
        assert await run_as_reader(conn, f"SELECT count(*) FROM {table}")
    for forbidden in (
        "SELECT count(*) FROM notification_outbox",
        "SELECT count(*) FROM stream_offsets",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await run_as_reader(conn, forbidden)
    writes = [
        "INSERT INTO kpi_values (kpi, resolution, area, bucket, numerator, denominator) "
        "VALUES ('x', '1m', '33', now(), 1, 1)",
        "UPDATE alerts SET state = 'resolved'",
        "DELETE FROM window_metrics",
        "CREATE TABLE grafana_scratch (x int)",
    ]
    for sql in writes:
        # Not relying on the read-only transaction: the role itself must lack the privilege.
        async with conn.transaction():
            await conn.execute(f"SET LOCAL ROLE {READER_ROLE}")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(sql)
