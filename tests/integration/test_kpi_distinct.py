"""Distinct-count KPIs from the event store: exact per commune, district, province, day, month.

Realistic events (``ioc.events`` envelopes through the stream sink) are stored on both tiers;
the figures are hand-computed distinct counts, chosen so that adding communes' or days'
counts up would give a different answer at every level.

Three communes of 2024 (three-tier shape): Như Quỳnh and Lạc Đạo in Văn Lâm (325), Thị trấn
Văn Giang in Văn Giang (326). Procedures P1…P5.

Day 1 (4/3/2024):
    catalogue   Như Quỳnh P1, P2 online, P3 not online; Lạc Đạo P1, P4 online;
                Văn Giang P5 online.
    dossiers    Như Quỳnh 50 online for P1 and one at the desk for P2; Lạc Đạo one online
                for P4.
Day 2 (5/3/2024): the same catalogue again (it is sent daily); online dossiers: Như Quỳnh P1
    and P2, Văn Giang P5.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import asyncpg
import pytest

from ioc.areas import load_areas
from ioc.db import migrate, sync_areas
from ioc.events import DossierEvent, DvcService, Envelope
from ioc.kpis import Kpi, catalogue_file_for, load_kpis
from ioc.kpis.values import by_child, compute, current, keep_current, series, totals
from ioc.streams.sink import Counted, to_counted, write_batch
from tests._tiers import tier_connection

KPIS = load_kpis(catalogue_file_for("33"))  # Hưng Yên: its 2024 results
KPI = KPIS.get("dvc_services_with_online_dossiers")
# Offerings (agency/procedure, the store's entity) with full-process online ÷ offered online.
OFFERINGS = Kpi(
    id="dvc_full_offerings",
    name_vi="Tỷ lệ lượt cung cấp toàn trình",
    name_en="Full-process offerings",
    feed="dvc",
    numerator="dvc.services_full",
    denominator="dvc.services_online",
    distinct="entity",
    unit="percent",
    direction="higher",
)
NHU_QUYNH, LAC_DAO, VAN_GIANG_TT = "11986", "11989", "12019"
VAN_LAM, VAN_GIANG, PROVINCE = "325", "326", "33"
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
DAY1 = datetime(2024, 3, 3, 17, 0, tzinfo=UTC)  # 4/3/2024 00:00 in Hưng Yên
DAY2 = DAY1 + DAY
MONTH = (datetime(2024, 2, 29, 17, 0, tzinfo=UTC), datetime(2024, 3, 31, 17, 0, tzinfo=UTC))


@pytest.fixture
async def conn(tier: tuple[str, str]) -> AsyncIterator[asyncpg.Connection]:
    """A migrated database with the shipped areas, on plain PostgreSQL and on TimescaleDB."""
    async with tier_connection(tier, areas=True) as connection:
        yield connection


def _service(at: datetime, area: str, procedure: str, level: str) -> Counted:
    agency = f"UBND-{area}"
    envelope = Envelope.create(
        source="dvc-sim",
        area=area,
        key=f"{agency}/{procedure}",
        occurred_at=at,
        payload=DvcService(
            procedure_code=procedure,
            procedure_name=f"Thủ tục {procedure}",
            agency_code=agency,
            service_level=level,
            eligible_full=True,
        ),
    )
    return to_counted(envelope, MINUTE, "ioc.events.dvc", 0)


def _dossier(at: datetime, area: str, procedure: str, n: int, channel: str = "online") -> Counted:
    dossier = f"HS-{area}-{procedure}-{at:%d}-{n}"
    envelope = Envelope.create(
        source="dvc-sim",
        area=area,
        key=dossier,
        occurred_at=at,
        payload=DossierEvent(
            dossier_id=dossier,
            stage="received",
            procedure_code=procedure,
            procedure_name=f"Thủ tục {procedure}",
            agency_code=f"UBND-{area}",
            channel=channel,
            service_level="partial",
        ),
    )
    return to_counted(envelope, MINUTE, "ioc.events.dvc", 0)


def _catalogue(day: datetime) -> list[Counted]:
    at = day + HOUR  # 01:00 local: the daily snapshot
    return [
        _service(at, NHU_QUYNH, "P1", "full"),
        _service(at, NHU_QUYNH, "P2", "partial"),
        _service(at, NHU_QUYNH, "P3", "none"),
        _service(at, LAC_DAO, "P1", "partial"),
        _service(at, LAC_DAO, "P4", "full"),
        _service(at, VAN_GIANG_TT, "P5", "partial"),
    ]


def _day1() -> list[Counted]:
    at = DAY1 + 9 * HOUR
    return [
        *_catalogue(DAY1),
        *(_dossier(at + i * MINUTE, NHU_QUYNH, "P1", i) for i in range(50)),
        _dossier(at, NHU_QUYNH, "P2", 0, channel="desk"),
        _dossier(at + HOUR, LAC_DAO, "P4", 0),
    ]


def _day2() -> list[Counted]:
    at = DAY2 + 10 * HOUR
    return [
        *_catalogue(DAY2),
        _dossier(at, NHU_QUYNH, "P1", 0),
        _dossier(at, NHU_QUYNH, "P2", 0),
        _dossier(at + 7 * HOUR, VAN_GIANG_TT, "P5", 0),  # 17:00 local, still day 2
    ]


async def _store(conn: asyncpg.Connection, events: list[Counted]) -> None:
    await write_batch(conn, "g", events, {})


async def _days(conn: asyncpg.Connection) -> dict[tuple[str, datetime], tuple[float, float]]:
    rows = await conn.fetch(
        "SELECT area, bucket, numerator, denominator FROM kpi_values "
        "WHERE kpi = $1 AND resolution = '1d'",
        KPI.id,
    )
    return {(r["area"], r["bucket"]): (r["numerator"], r["denominator"]) for r in rows}


# Hand-computed: (distinct procedures with an online dossier, distinct procedures online).
EXPECTED_DAY1 = {
    NHU_QUYNH: (1, 2),  # {P1} / {P1, P2}: 50 dossiers count once; P3 is not online
    LAC_DAO: (1, 2),  # {P4} / {P1, P4}
    VAN_GIANG_TT: (0, 1),  # {} / {P5}
    VAN_LAM: (2, 3),  # {P1, P4} / {P1, P2, P4}: P1 in both communes counts once (sum: 2 / 4)
    VAN_GIANG: (0, 1),
    PROVINCE: (2, 4),  # {P1, P4} / {P1, P2, P4, P5}  (sum of communes: 2 / 5)
}
EXPECTED_DAY2 = {
    NHU_QUYNH: (2, 2),
    LAC_DAO: (0, 2),
    VAN_GIANG_TT: (1, 1),
    VAN_LAM: (2, 3),
    VAN_GIANG: (1, 1),
    PROVINCE: (3, 4),  # {P1, P2, P5} / {P1, P2, P4, P5}
}
# The month: {P1, P2, P4, P5} / {P1, P2, P4, P5} = 100 %; adding the days would give 5 / 8.
EXPECTED_MONTH = {
    NHU_QUYNH: (2, 2),
    LAC_DAO: (1, 2),
    VAN_GIANG_TT: (1, 1),
    VAN_LAM: (3, 3),
    VAN_GIANG: (1, 1),
    PROVINCE: (4, 4),
}


def test_the_shipped_kpi_counts_procedures_and_quotes_hung_yen() -> None:
    assert (KPI.distinct, KPI.numerator, KPI.denominator) == (
        "procedure_code",
        "dvc.received_online",
        "dvc.services_online",
    )
    assert KPI.name_vi == "Tỷ lệ DVC có phát sinh hồ sơ trực tuyến"
    assert KPI.target is None  # a reported figure, not a legal target
    assert [(r.value, r.year) for r in KPI.reported] == [(0.882, 2024)]


async def test_days_are_distinct_counts_at_every_level(conn: asyncpg.Connection) -> None:
    await _store(conn, _day1() + _day2())
    written = await compute(conn, [KPI], DAY1, DAY2 + DAY, "1d")
    assert written == len(EXPECTED_DAY1) + len(EXPECTED_DAY2)
    assert await _days(conn) == {
        **{(area, DAY1): nd for area, nd in EXPECTED_DAY1.items()},
        **{(area, DAY2): nd for area, nd in EXPECTED_DAY2.items()},
    }
    # Read back through series at 1d: the stored days.
    points = await series(conn, KPI, PROVINCE, DAY1, DAY2 + DAY, "1d")
    assert [(p.bucket, p.numerator, p.denominator, p.value) for p in points] == [
        (DAY1, 2, 4, 0.5),
        (DAY2, 3, 4, 0.75),
    ]
    # Not computed at 1m or 1h: those are counted from the store when read.
    assert await compute(conn, [KPI], DAY1, DAY2 + DAY, "1h") == 0
    assert await conn.fetchval("SELECT count(*) FROM kpi_values WHERE resolution <> '1d'") == 0


async def test_a_month_is_distinct_over_the_month_not_a_sum_of_days(
    conn: asyncpg.Connection,
) -> None:
    await _store(conn, _day1() + _day2())
    await compute(conn, [KPI], DAY1, DAY2 + DAY, "1d")
    for area, (n, d) in EXPECTED_MONTH.items():
        month = await totals(conn, KPI, area, *MONTH, "1d")
        assert (month.numerator, month.denominator, month.buckets) == (n, d, 2), area
    # Given only the id, the stored days are added up: what the Kpi avoids.
    added = await totals(conn, KPI.id, PROVINCE, *MONTH, "1d")
    assert (added.numerator, added.denominator) == (5, 8)
    # One day through totals equals the stored day.
    day1 = await totals(conn, KPI, PROVINCE, DAY1, DAY1 + DAY, "1d")
    assert (day1.numerator, day1.denominator) == EXPECTED_DAY1[PROVINCE]
    # Hours from the store: the 09:00-10:00 hour of day 1 has P1 and P2 dossiers, no catalogue.
    hour = await totals(conn, KPI, NHU_QUYNH, DAY1 + 9 * HOUR, DAY1 + 10 * HOUR, "1h")
    assert (hour.numerator, hour.denominator) == (1, 0) and hour.value is None
    hours = await series(conn, KPI, PROVINCE, DAY1, DAY1 + DAY, "1h")
    assert [(p.bucket, p.numerator, p.denominator) for p in hours] == [
        (DAY1 + HOUR, 0, 4),
        (DAY1 + 9 * HOUR, 1, 0),
        (DAY1 + 10 * HOUR, 1, 0),
    ]


async def test_children_are_counted_apart_and_do_not_add_up(conn: asyncpg.Connection) -> None:
    await _store(conn, _day1() + _day2())
    districts = {c.area: c for c in await by_child(conn, KPI, PROVINCE, *MONTH, "1d")}
    # Every district of 2024 and Tỉnh Thái Bình (merged in on 1/7/2025), those without data
    # at 0 / 0.
    assert len(districts) == 10 + 1 and "34" in districts
    assert (districts[VAN_LAM].numerator, districts[VAN_LAM].denominator) == EXPECTED_MONTH[VAN_LAM]
    assert (districts[VAN_GIANG].numerator, districts[VAN_GIANG].denominator) == (1, 1)
    assert (districts["329"].numerator, districts["329"].denominator) == (0, 0)
    communes = await by_child(conn, KPI, VAN_LAM, DAY1, DAY1 + DAY, "1d")
    assert [(c.area, c.numerator, c.denominator) for c in communes if c.denominator] == [
        (NHU_QUYNH, 1, 2),
        (LAC_DAO, 1, 2),
    ]
    assert communes[0].name_vi == "Thị trấn Như Quỳnh"


async def test_a_repeated_event_changes_nothing(conn: asyncpg.Connection) -> None:
    first = _day1()
    await _store(conn, first + first)  # every event twice in one batch
    await compute(conn, [KPI], DAY1, DAY1 + DAY, "1d")
    before = await _days(conn)
    assert before == {(area, DAY1): nd for area, nd in EXPECTED_DAY1.items()}
    await _store(conn, first)  # and again, later
    await compute(conn, [KPI], DAY1, DAY1 + DAY, "1d")
    assert await _days(conn) == before
    assert await conn.fetchval("SELECT count(*) FROM events") == len(first)
    month = await totals(conn, KPI, PROVINCE, *MONTH, "1d")
    assert (month.numerator, month.denominator) == EXPECTED_DAY1[PROVINCE]


async def test_distinct_entity_counts_offerings(conn: asyncpg.Connection) -> None:
    """``distinct: entity`` counts the store's entity: P1 offered by two agencies is two."""
    await _store(conn, _day1() + _day2())
    province = await totals(conn, OFFERINGS, PROVINCE, *MONTH, "1d")
    # Full: Như Quỳnh/P1, Lạc Đạo/P4; online: those and Như Quỳnh/P2, Lạc Đạo/P1, Văn Giang/P5.
    assert (province.numerator, province.denominator) == (2, 5)


async def test_keep_current_keeps_the_days_current(conn: asyncpg.Connection) -> None:
    """`ioc alerts run` keeps the distinct KPI's days current, late events included."""
    await keep_current(conn, [KPI])  # the first pass: the last two local days (empty)
    await _store(conn, _day1())  # events of 2024, stored now
    await keep_current(conn, [KPI])
    assert await _days(conn) == {(area, DAY1): nd for area, nd in EXPECTED_DAY1.items()}
    # A late online dossier for P5 on day 1 reaches the day's values on the next pass.
    await _store(conn, [_dossier(DAY1 + 20 * HOUR, VAN_GIANG_TT, "P5", 99)])
    await keep_current(conn, [KPI])
    days = await _days(conn)
    assert days[(VAN_GIANG_TT, DAY1)] == (1, 1)
    assert days[(PROVINCE, DAY1)] == (3, 4)
    assert await conn.fetchval("SELECT count(*) FROM kpi_values WHERE resolution <> '1d'") == 0


async def test_current_counts_the_span_from_the_store(conn: asyncpg.Connection) -> None:
    await _store(conn, _day1() + _day2())
    await compute(conn, [KPI], DAY1, DAY2 + DAY, "1d")
    now = DAY2 + DAY + 2 * HOUR  # 6/3 02:00: the days before are complete
    status = await current(conn, KPI, PROVINCE, "province", now, window=2 * DAY + 2 * HOUR)
    assert (status.numerator, status.denominator, status.value) == (4, 4, 1.0)
    assert [(p.numerator, p.denominator) for p in status.daily] == [(2, 4), (3, 4)]
    assert status.target is None and status.meets


async def test_the_api_tiles_and_map_count_the_last_24_hours_once(
    conn: asyncpg.Connection,
) -> None:
    """The board's tiles (`/kpis/current`) and map (`/map`) read a distinct KPI from the store."""
    from ioc.api.context import ApiContext
    from ioc.api.queries.areas import map_children
    from ioc.api.queries.kpis import kpis_current
    from ioc.kpis import KpiCatalogue, Target
    from ioc.localtime import local_today

    ward, other = "11953", "11983"  # Phường Phố Hiến, Phường Sơn Nam (two-tier, today)
    at = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - 2 * HOUR
    await _store(
        conn,
        [
            _service(at, ward, "P1", "full"),
            _service(at, ward, "P2", "partial"),
            _service(at, other, "P1", "partial"),
            *(_dossier(at + i * MINUTE, ward, "P1", i) for i in range(3)),
            _dossier(at + HOUR, other, "P1", 0),
        ],
    )
    judged = KPI.model_copy(update={"target": Target(value=0.9, slo=True, source="thử")})
    registry = load_areas()
    ctx = cast(ApiContext, SimpleNamespace(catalogue=KpiCatalogue([judged]), areas=registry))
    province = registry.as_of(local_today()).province
    tiles = await kpis_current(ctx, conn, province)
    (tile,) = tiles["items"]
    # {P1} / {P1, P2} over the 24 h; the hours are {P1} / {P1, P2} and {P1} / {}.
    assert (tile["numerator"], tile["denominator"], tile["value"]) == (1, 2, 0.5)
    trend = {t["bucket"]: t["value"] for t in tile["trend"] if t["value"] is not None}
    assert trend == {at.isoformat(): 0.5}
    assert tile["last_bucket"] == at.isoformat()
    assert tile["distinct"] == "procedure_code" and tile["reported"][0]["value"] == 0.882
    shown = await map_children(ctx, conn, province)
    below = {c["code"]: c["below_target"] for c in shown["children"]}
    # Phố Hiến 1/2 and Sơn Nam 1/1 against 0.9: one of them is below.
    assert (below[ward], below[other]) == (1, 0)


async def test_the_grafana_panels_count_the_range_once(
    conn: asyncpg.Connection, tier: tuple[str, str]
) -> None:
    """The dvc board's tile, trend and by-area table, as Grafana runs them with its role."""
    from ioc.config import load_settings
    from ioc.dashboards import READER_ROLE, context_from_settings
    from ioc.dashboards._common import by_area_table, kpi_stat, kpi_trend
    from tests._grafana_sql import Interval, TimeRange, Variable, expand

    await _store(conn, _day1() + _day2())
    ctx = context_from_settings(load_settings())

    async def run(panel: Any, start: datetime, end: datetime, area: str) -> list[asyncpg.Record]:
        raw = panel.build().targets[0].to_json()["rawSql"]
        variables = {
            name: Variable(name, selected=value)
            for name, value in (("area", area), ("district", area), ("province", PROVINCE))
        }
        sql = expand(
            raw,
            TimeRange(start, end),
            variables,
            interval=Interval("1h", 3_600_000),
            timescaledb=tier[0] == "timescaledb",
        )
        async with conn.transaction(readonly=True):
            await conn.execute(f"SET LOCAL ROLE {READER_ROLE}")
            return await conn.fetch(sql)

    tile = kpi_stat(ctx, KPI)
    assert [tuple(r) for r in await run(tile, *MONTH, PROVINCE)] == [(1.0,)]  # 4 / 4
    assert [tuple(r) for r in await run(tile, DAY1, DAY2, PROVINCE)] == [(0.5,)]  # 2 / 4
    assert [tuple(r) for r in await run(tile, DAY1, DAY2, VAN_LAM)] == [(2 / 3,)]
    trend = await run(kpi_trend(ctx, KPI), *MONTH, PROVINCE)
    assert [(r[0], r[1]) for r in trend] == [(DAY1, 0.5), (DAY2, 0.75)]  # steps of a day
    table = await run(by_area_table(ctx, "ioc-dvc", "x", [KPI]), DAY1, DAY2, PROVINCE)
    values = {r["code"]: r[KPI.id] for r in table}
    assert values[PROVINCE] == 0.5 and values[VAN_LAM] == 2 / 3 and values[VAN_GIANG] == 0
    assert values["329"] is None  # a district without events


def test_cli_show_counts_from_the_store_and_quotes_the_reported_result(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ioc kpis show` on the province, today: what it counts, the 24 h value, the result."""
    import asyncio

    from typer.testing import CliRunner

    from ioc.kpis.cli import app
    from ioc.localtime import local_day_start

    now = datetime.now(UTC)
    ward, other = "11953", "11983"  # two-tier communes of today
    first = max(local_day_start(now), now - 20 * HOUR)  # today, in the last 24 h
    at = first + (now - first) / 2

    async def seed() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await migrate(conn)
            await sync_areas(conn, load_areas())
            await _store(
                conn,
                [
                    _service(at, ward, "P1", "full"),
                    _service(at, ward, "P2", "partial"),
                    _service(at, other, "P3", "partial"),
                    *(_dossier(at, ward, "P1", i) for i in range(5)),
                    _dossier(at, other, "P3", 0),
                ],
            )
        finally:
            await conn.close()

    asyncio.run(seed())
    monkeypatch.setenv("IOC_DATABASE_URL", database_url)
    monkeypatch.setenv("IOC_DATABASE__SSLMODE", "disable")
    monkeypatch.setenv("IOC_ALERTS__KPIS_FILE", str(catalogue_file_for("33")))
    result = CliRunner().invoke(
        app, ["show", "dvc_services_with_online_dossiers", "--days", "5"], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "đếm riêng biệt procedure_code: dvc.received_online / dvc.services_online" in out
    assert "66,7 % (2 / 3)" in out  # {P1, P3} / {P1, P2, P3}: five P1 dossiers count once
    assert "Mục tiêu: chưa đặt" in out
    assert "Đã báo cáo: 88,2 % (tỉnh Hưng Yên, 2024)" in out
