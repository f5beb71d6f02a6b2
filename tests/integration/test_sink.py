"""The sink on both database tiers: exact counts, duplicates once, offsets atomic.

Every test runs on plain PostgreSQL (views for the roll-ups) and on TimescaleDB (hypertable,
continuous aggregates under the same names).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from ioc.db import migrate
from ioc.events import CameraHeartbeat, DossierEvent, Envelope
from ioc.streams.sink import (
    Counted,
    Position,
    expire_events,
    load_positions,
    refresh_rollups,
    to_counted,
    window_start,
    write_batch,
)
from tests._services import LocalService
from tests._tiers import tier_connection

MINUTE = timedelta(minutes=1)
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 08:00 in Hưng Yên


@pytest.fixture
async def conn(tier: tuple[str, str]) -> AsyncIterator[asyncpg.Connection]:
    """A migrated, empty database on each tier."""
    async with tier_connection(tier) as connection:
        yield connection


@pytest.fixture
async def timescale_conn(timescaledb: LocalService) -> AsyncIterator[asyncpg.Connection]:
    async with tier_connection(("timescaledb", timescaledb.address)) as connection:
        yield connection


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
    assert await conn.fetchval("SELECT count(*) FROM events") == 1
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


async def test_a_repeat_days_later_changes_nothing(conn: asyncpg.Connection) -> None:
    day_one = [_event(T0 + timedelta(minutes=m), "12142", ("dvc.received", 1)) for m in range(5)]
    await write_batch(conn, "g", day_one, {})
    before = await _rows(conn)
    # A week of other events later, the same five come again (a second import), one new.
    later = _event(T0 + timedelta(days=7), "12142", ("dvc.received", 1))
    again = await write_batch(conn, "g", [*day_one, later], {})
    assert (again.counted["topic"], again.duplicates["topic"]) == (1, 5)
    after = await _rows(conn)
    assert {k: v for k, v in after.items() if k[0] < T0 + timedelta(days=1)} == before
    assert await conn.fetchval("SELECT count(*) FROM events") == 6


async def test_the_store_keeps_typed_columns_of_a_real_envelope(conn: asyncpg.Connection) -> None:
    envelope = Envelope.create(
        source="dvc-sim",
        area="12142",
        key="HS-1",
        occurred_at=T0,
        payload=DossierEvent(
            dossier_id="HS-1",
            stage="received",
            procedure_code="1.001",
            procedure_name="Đăng ký khai sinh",
            agency_code="UBND-12142",
            channel="online",
            service_level="full",
        ),
    )
    await write_batch(conn, "g", [to_counted(envelope, MINUTE, "ioc.events.dvc", 0)], {})
    row = await conn.fetchrow("SELECT * FROM events")
    assert row["event_id"] == envelope.event_id and row["occurred_at"] == T0
    assert (row["feed"], row["kind"], row["area"], row["entity"]) == (
        "dvc",
        "dvc.dossier",
        "12142",
        "HS-1",
    )
    assert row["metrics"] == [
        "dvc.events",
        "dvc.received",
        "dvc.received_online",
        "dvc.received_full_online",
    ]
    assert json.loads(row["payload"])["procedure_name"] == "Đăng ký khai sinh"
    assert row["source"] == "dvc-sim"


def _heartbeat(camera: str, at: datetime, online: bool) -> Counted:
    envelope = Envelope.create(
        source="camera-sim",
        area="12142",
        key=camera,
        occurred_at=at,
        payload=CameraHeartbeat(camera_id=camera, online=online),
    )
    return to_counted(envelope, MINUTE, "ioc.events.camera", 0)


async def test_entity_status_follows_the_newest_report(conn: asyncpg.Connection) -> None:
    async def status() -> dict[str, tuple[bool, datetime, datetime]]:
        rows = await conn.fetch("SELECT entity, up, since, last_seen FROM entity_status")
        return {r["entity"]: (r["up"], r["since"], r["last_seen"]) for r in rows}

    t = [T0 + timedelta(minutes=m) for m in range(10)]
    await write_batch(conn, "g", [_heartbeat("a", t[0], True), _heartbeat("a", t[1], True)], {})
    assert (await status())["a"] == (True, t[0], t[1])
    # Still up: since stays; down inside a batch: since is when it went down.
    await write_batch(conn, "g", [_heartbeat("a", t[2], True)], {})
    assert (await status())["a"] == (True, t[0], t[2])
    await write_batch(conn, "g", [_heartbeat("a", t[3], True), _heartbeat("a", t[4], False)], {})
    assert (await status())["a"] == (False, t[4], t[4])
    # Down, then up, then down again inside one batch: the last change counts.
    await write_batch(
        conn,
        "g",
        [_heartbeat("a", t[7], False), _heartbeat("a", t[5], True), _heartbeat("a", t[6], False)],
        {},
    )
    assert (await status())["a"] == (False, t[6], t[7])
    # History arriving after live data does not move it, nor does a repeat.
    await write_batch(conn, "g", [_heartbeat("a", t[0] - timedelta(days=1), True)], {})
    assert (await status())["a"] == (False, t[6], t[7])


async def test_expiry_drops_whole_days_before_the_cutoff(conn: asyncpg.Connection) -> None:
    days = [_event(T0 + timedelta(days=d)) for d in range(4)]
    await write_batch(conn, "g", days, {})
    cutoff = T0 + timedelta(days=2)  # 01:00 UTC: the day it falls in is kept whole
    assert await expire_events(conn, cutoff) == 2
    left = await conn.fetch("SELECT occurred_at FROM events ORDER BY 1")
    assert [r[0] for r in left] == [T0 + timedelta(days=2), T0 + timedelta(days=3)]
    assert await expire_events(conn, cutoff) == 0


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


async def test_a_database_of_the_previous_release_upgrades_keeping_its_windows(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ioc.db import _migrate

    every = _migrate.load_migrations()
    monkeypatch.setattr(_migrate, "load_migrations", lambda: [m for m in every if m.version < 8])
    conn = await asyncpg.connect(database_url)
    try:
        await migrate(conn)
        await conn.execute(
            "INSERT INTO window_metrics (window_start, metric, area, count, sum) "
            "VALUES ($1, 'dvc.received', '12142', 7, 7)",
            T0,
        )
        monkeypatch.setattr(_migrate, "load_migrations", lambda: every)
        assert [name for name in await migrate(conn) if "event_store" in name]
        assert await _rows(conn) == {(T0, "dvc.received", "12142"): (7, 7.0, None, None)}
        assert await conn.fetchval("SELECT to_regclass('counted_events')") is None
        await write_batch(conn, "g", [_event(T0, "12142", ("dvc.received", 1))], {})
        assert (await _rows(conn))[(T0, "dvc.received", "12142")][:2] == (8, 8.0)
    finally:
        await conn.close()
