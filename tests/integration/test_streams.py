"""A stream worker on real Kafka and PostgreSQL: exact windows, DLQ, late corrections, metrics."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import asyncpg
import pytest

from ioc.codec import decode
from ioc.config import Settings, load_settings
from ioc.db import connect, migrate
from ioc.dlq import read_dead_letters
from ioc.kafka import ensure_topics, project_topics, topic_name
from ioc.streams.worker import StreamWorker
from ioc.telemetry import read_stream_metrics
from tests._kafka import read_topic
from tests._services import LocalService
from tests._streams import (
    build_workload,
    differences,
    produce,
    reasons,
    wait_caught_up,
    window_totals,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def stream_settings(settings: Settings) -> Settings:
    """The test's broker and database, topics of its own, a migrated schema."""
    assert settings.database_url is not None
    isolated = load_settings(
        kafka_bootstrap=settings.kafka_bootstrap,
        database_url=settings.database_url.get_secret_value(),
        state_dir=settings.state_dir,
        kafka={"topic_prefix": f"t{uuid.uuid4().hex[:10]}", "partitions": 3},
        streams={"flush_interval_ms": 200, "max_batch": 3000},
    )
    await ensure_topics(isolated, project_topics(isolated))
    conn = await connect(isolated)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return isolated


@pytest.fixture
async def conn(stream_settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    connection = await connect(stream_settings)
    yield connection
    await connection.close()


async def test_windows_equal_the_valid_events_counted_once(
    stream_settings: Settings, conn: asyncpg.Connection
) -> None:
    work = await build_workload(stream_settings, minutes=12)
    await produce(stream_settings, work.records)
    worker = StreamWorker(stream_settings, name="solo")
    task = asyncio.create_task(worker.run())
    try:
        await wait_caught_up(conn, stream_settings, worker=task)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 30)

    assert differences(work.expected, await window_totals(conn)) == []
    [metrics] = read_stream_metrics(stream_settings.state_dir)
    agents = metrics.agents
    assert metrics.state == "stopped"
    assert sum(a.duplicates for a in agents.values()) == work.duplicates
    assert sum(a.dead_lettered for a in agents.values()) == len(work.malformed)
    # Every held-back event was late on its partition and came back as a correction.
    late = sum(a.late for name, a in agents.items() if name != "late")
    assert late >= work.delayed
    assert agents["late"].read == late
    assert sum(a.lag for a in agents.values()) == 0

    letters = await read_dead_letters(stream_settings)
    assert Counter(letter.reason for _, letter in letters) == reasons(work.malformed)
    assert sorted(letter.original for _, letter in letters) == sorted(
        value for _, value in work.malformed
    )
    assert all(
        letter.stage == "stream" and letter.location.count("/") == 2 for _, letter in letters
    )
    late_records = await read_topic(stream_settings, topic_name(stream_settings, "late"), late)
    assert all(dict(r.headers)["ioc-late-from"] for r in late_records)
    assert len({decode(r.value).event_id for r in late_records}) == work.delayed


async def test_a_restarted_worker_resumes_from_the_stored_positions(
    stream_settings: Settings, conn: asyncpg.Connection
) -> None:
    work = await build_workload(stream_settings, minutes=10, seed=2)
    half = len(work.records) // 2
    await produce(stream_settings, work.records[:half])
    first = StreamWorker(stream_settings, name="first")
    task = asyncio.create_task(first.run())
    await wait_caught_up(conn, stream_settings, worker=task)
    first.stop()
    await asyncio.wait_for(task, 30)

    await produce(stream_settings, work.records[half:])
    second = StreamWorker(stream_settings, name="second")
    task = asyncio.create_task(second.run())
    try:
        await wait_caught_up(conn, stream_settings, worker=task)
    finally:
        second.stop()
        await asyncio.wait_for(task, 30)
    assert differences(work.expected, await window_totals(conn)) == []
    by_name = {m.name: m for m in read_stream_metrics(stream_settings.state_dir)}
    read_by = {name: sum(a.read for a in m.agents.values()) for name, m in by_name.items()}
    # The second worker read only what the first had not (plus the late corrections).
    assert read_by["first"] + read_by["second"] == len(work.records) + sum(
        m.agents["late"].read for m in by_name.values()
    )


async def test_a_worker_waits_out_a_database_restart(
    stream_settings: Settings, postgres: LocalService
) -> None:
    if not isinstance(postgres, LocalService):
        pytest.skip("an external database is not restarted by the tests")
    work = await build_workload(stream_settings, minutes=10, seed=3)
    third = len(work.records) // 3
    await produce(stream_settings, work.records[:third])
    worker = StreamWorker(stream_settings, name="patient")
    task = asyncio.create_task(worker.run())
    try:
        conn = await connect(stream_settings)
        await wait_caught_up(conn, stream_settings, worker=task)
        conn.terminate()
        await asyncio.to_thread(postgres.kill)
        await produce(stream_settings, work.records[third:])
        await asyncio.sleep(2)
        assert worker.metrics.state == "recovering"
        await asyncio.to_thread(postgres.start)
        conn = await connect(stream_settings)
        await wait_caught_up(conn, stream_settings, worker=task)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 30)
    assert worker.metrics.flush_errors >= 1
    assert differences(work.expected, await window_totals(conn)) == []
    await conn.close()


def test_settings_reject_a_window_that_does_not_divide_an_hour() -> None:
    from ioc.config import ConfigError

    with pytest.raises(ConfigError, match="IOC_STREAMS__WINDOW_SECONDS"):
        load_settings(streams={"window_seconds": 7})
