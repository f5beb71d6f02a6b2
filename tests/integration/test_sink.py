"""The sink on both database tiers: exact counts, duplicates once, offsets atomic.

Every test runs on plain PostgreSQL (views for the roll-ups) and on TimescaleDB (hypertable,
continuous aggregates under the same names).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from ioc.db import migrate
from ioc.streams.sink import (
    Counted,
    Position,
    load_positions,
    prune_counted,
    refresh_rollups,
    window_start,
    write_batch,
)
from tests._services import LocalService
from tests._timescale import close, reset

MINUTE = timedelta(minutes=1)
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 08:00 in Hưng Yên


_TIMESCALE_MIGRATED: list[bool] = []


@pytest.fixture(params=["postgresql", "timescaledb"])
def tier(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(tier, URL): a fresh PostgreSQL database, or the session's TimescaleDB server."""
    if request.param == "postgresql":
        return "postgresql", request.getfixturevalue("database_url")
    return "timescaledb", request.getfixturevalue("timescaledb").address


async def _connect(tier: tuple[str, str]) -> asyncpg.Connection:
    name, url = tier
    if name == "postgresql":
        connection = await asyncpg.connect(url)
        await migrate(connection)
        return connection
    # One server for the session (it cannot create databases): migrate once, then empty it.
    connection = await asyncpg.connect(url, statement_cache_size=0)
    if not _TIMESCALE_MIGRATED:
        await migrate(connection)
        _TIMESCALE_MIGRATED.append(True)
    await reset(connection)
    return connection


@pytest.fixture
async def conn(tier: tuple[str, str]) -> AsyncIterator[asyncpg.Connection]:
    """A migrated, empty database on each tier."""
    connection = await _connect(tier)
    yield connection
    await close(connection) if tier[0] == "timescaledb" else await connection.close()


@pytest.fixture
async def timescale_conn(timescaledb: LocalService) -> AsyncIterator[asyncpg.Connection]:
    connection = await _connect(("timescaledb", timescaledb.address))
    yield connection
    await close(connection)


def _event(at: datetime, area: str = "12142", *measures: tuple[str, float]) -> Counted:
    return Counted(
        uuid.uuid4(), window_start(at, MINUTE), area, measures or (("m", 1),), "topic", 0
    )


def _at(offset: int, watermark: datetime | None = None) -> Position:
    return Position(offset, watermark)


async def _offsets(conn: asyncpg.Connection, group: str) -> dict[int, int]:
    positions = await load_positions(conn, group, ["topic"])
    return {partition: p.next_offset for (_, partition), p in positions.items()}


async def _rows(conn: asyncpg.Connection) -> dict[tuple[datetime, str, str], tuple[object, ...]]:
    rows = await conn.fetch("SELECT * FROM window_metrics")
    return {
        (r["window_start"], r["metric"], r["area"]): (r["count"], r["sum"], r["min"], r["max"])
        for r in rows
    }


def test_windows_are_tumbling_minutes_aligned_on_the_epoch() -> None:
    assert window_start(T0 + timedelta(seconds=59.999), MINUTE) == T0
    assert window_start(T0 + MINUTE, MINUTE) == T0 + MINUTE
    assert window_start(T0 + timedelta(minutes=7), timedelta(minutes=5)) == T0 + timedelta(
        minutes=5
    )


async def test_batches_add_up_and_a_duplicate_counts_once(conn: asyncpg.Connection) -> None:
    a = _event(T0, "12142", ("network.cell_site.latency_ms", 20), ("network.cell_site.up", 1))
    b = _event(T0 + timedelta(seconds=30), "12142", ("network.cell_site.latency_ms", 40))
    c = _event(T0 + MINUTE, "12073", ("network.cell_site.latency_ms", 5))
    first = await write_batch(conn, "g", [a, b, a], {("topic", 0): _at(3)})
    second = await write_batch(conn, "g", [b, c], {("topic", 0): _at(5), ("topic", 1): _at(1)})

    assert (first.counted["topic"], first.duplicates["topic"]) == (2, 1)
    assert (second.counted["topic"], second.duplicates["topic"]) == (1, 1)
    assert await _rows(conn) == {
        (T0, "network.cell_site.latency_ms", "12142"): (2, 60.0, 20.0, 40.0),
        (T0, "network.cell_site.up", "12142"): (1, 1.0, 1.0, 1.0),
        (T0 + MINUTE, "network.cell_site.latency_ms", "12073"): (1, 5.0, 5.0, 5.0),
    }
    assert await _offsets(conn, "g") == {0: 5, 1: 1}
    assert await _offsets(conn, "other-group") == {}


async def test_a_failed_batch_leaves_no_trace(conn: asyncpg.Connection) -> None:
    await write_batch(conn, "g", [_event(T0)], {("topic", 0): _at(1)})
    broken = Counted(uuid.uuid4(), T0, None, (("m", 1),), "topic", 0)  # type: ignore[arg-type]
    with pytest.raises(asyncpg.NotNullViolationError):
        await write_batch(conn, "g", [_event(T0), broken], {("topic", 0): _at(3)})

    assert await _rows(conn) == {(T0, "m", "12142"): (1, 1.0, 1.0, 1.0)}
    assert await conn.fetchval("SELECT count(*) FROM counted_events") == 1
    assert await _offsets(conn, "g") == {0: 1}


async def test_positions_never_move_backwards(conn: asyncpg.Connection) -> None:
    await write_batch(conn, "g", [], {("topic", 0): _at(10, T0 + MINUTE)})
    # A worker that lost the partition and has not noticed yet writes an older position.
    await write_batch(conn, "g", [], {("topic", 0): _at(4, T0)})
    assert await load_positions(conn, "g", ["topic"]) == {("topic", 0): _at(10, T0 + MINUTE)}


async def test_roll_ups_bin_by_the_hour_and_the_local_day(conn: asyncpg.Connection) -> None:
    late_evening = datetime(2026, 11, 23, 16, 59, tzinfo=UTC)  # 23:59 local
    next_morning = datetime(2026, 11, 23, 17, 1, tzinfo=UTC)  # 00:01 local, the next day
    await write_batch(
        conn, "g", [_event(T0), _event(T0 + MINUTE), _event(late_evening), _event(next_morning)], {}
    )
    hours = await conn.fetch("SELECT bucket, count FROM window_metrics_1h ORDER BY bucket")
    assert [(r["bucket"], r["count"]) for r in hours] == [
        (T0, 2),
        (datetime(2026, 11, 23, 16, 0, tzinfo=UTC), 1),
        (datetime(2026, 11, 23, 17, 0, tzinfo=UTC), 1),
    ]
    days = await conn.fetch("SELECT bucket, count FROM window_metrics_1d ORDER BY bucket")
    local_midnight = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)  # 2026-11-23 00:00 +07
    assert [(r["bucket"], r["count"]) for r in days] == [
        (local_midnight, 3),
        (local_midnight + timedelta(days=1), 1),
    ]


async def test_pruning_forgets_ids_of_closed_windows_only(conn: asyncpg.Connection) -> None:
    old, new = _event(T0), _event(T0 + timedelta(minutes=30))
    elsewhere = Counted(uuid.uuid4(), T0, "12142", (("m", 1),), "topic", 1)
    await write_batch(conn, "g", [old, new, elsewhere], {})
    assert await prune_counted(conn, "topic", 0, T0 + timedelta(minutes=10)) == 1
    again = await write_batch(conn, "g", [new, elsewhere], {})
    assert again.duplicates["topic"] == 2  # the other partition's old id was kept


async def test_timescaledb_has_hypertable_policies_and_aggregates_that_agree(
    timescale_conn: asyncpg.Connection,
) -> None:
    conn = timescale_conn
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM timescaledb_information.hypertables "
            "WHERE hypertable_name = 'window_metrics'"
        )
        == 1
    )
    views = await conn.fetch(
        "SELECT view_name FROM timescaledb_information.continuous_aggregates ORDER BY 1"
    )
    assert [r["view_name"] for r in views] == ["window_metrics_1d", "window_metrics_1h"]
    jobs = await conn.fetch("SELECT proc_name FROM timescaledb_information.jobs")
    assert {r["proc_name"] for r in jobs} >= {
        "policy_compression",
        "policy_retention",
        "policy_refresh_continuous_aggregate",
    }

    events = [_event(T0 + timedelta(minutes=m), area) for m in range(0, 180, 7) for area in "AB"]
    await write_batch(conn, "g", events, {})
    for view in ("window_metrics_1h", "window_metrics_1d"):
        await conn.execute(f"CALL refresh_continuous_aggregate('{view}', NULL, NULL)")
    expected = await conn.fetch(
        "SELECT date_bin('1 hour', window_start, TIMESTAMPTZ '2000-01-01 00:00:00+07') AS bucket,"
        " area, sum(count)::bigint AS count FROM window_metrics GROUP BY 1, 2 ORDER BY 1, 2"
    )
    materialized = await conn.fetch(
        "SELECT bucket, area, count FROM window_metrics_1h ORDER BY 1, 2"
    )
    assert [tuple(r) for r in materialized] == [tuple(r) for r in expected]
    assert sum(r["count"] for r in materialized) == len(events)


async def test_a_late_correction_reaches_the_roll_ups(conn: asyncpg.Connection) -> None:
    timescale = await conn.fetchval(
        "SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'"
    )
    day = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)  # 2026-11-23 00:00 +07
    await write_batch(conn, "g", [_event(T0), _event(T0 + MINUTE)], {})
    if timescale:  # materialise the buckets, as the refresh policy would
        for view in ("window_metrics_1h", "window_metrics_1d"):
            await conn.execute(f"CALL refresh_continuous_aggregate('{view}', NULL, NULL)")

    correction = _event(T0 + timedelta(seconds=10))
    await write_batch(conn, "g", [correction], {})
    if timescale:  # materialised buckets do not see the correction until refreshed
        assert await conn.fetchval("SELECT count FROM window_metrics_1h WHERE bucket=$1", T0) == 2
    assert await refresh_rollups(conn, [correction.window_start]) == (2 if timescale else 0)

    assert await conn.fetchval("SELECT count FROM window_metrics_1h WHERE bucket = $1", T0) == 3
    assert await conn.fetchval("SELECT count FROM window_metrics_1d WHERE bucket = $1", day) == 3
