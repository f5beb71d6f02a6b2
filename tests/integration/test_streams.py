"""A stream worker on real Kafka and PostgreSQL: exact windows, DLQ, late corrections, metrics."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from ioc.config import Settings, load_settings
from ioc.db import connect
from ioc.dlq import read_dead_letters
from ioc.events import FEEDS
from ioc.kafka import ensure_topics, make_admin, project_topics, topic_name
from ioc.streams.cli import seek_position
from ioc.streams.worker import StreamWorker
from ioc.telemetry import health_problem, read_stream_metrics
from tests._services import LocalService
from tests._streams import (
    START,
    build_workload,
    caught_up,
    differences,
    dossier_record,
    isolated_settings,
    produce,
    reasons,
    wait_caught_up,
    window_totals,
)

EVENT_METRICS = {f"{feed}.events" for feed in FEEDS}


@pytest.fixture
async def stream_settings(settings: Settings) -> Settings:
    return await isolated_settings(settings)


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
    # Every held-back event was late on its partition, and was counted in place as a correction.
    late = sum(a.late for name, a in agents.items() if name != "late")
    assert late >= work.delayed
    assert agents["late"].read == 0
    assert sum(a.lag for a in agents.values()) == 0

    letters = await read_dead_letters(stream_settings)
    assert Counter(letter.reason for _, letter in letters) == reasons(work.malformed)
    assert sorted(letter.original for _, letter in letters) == sorted(
        value for _, value in work.malformed
    )
    assert all(
        letter.stage == "stream" and letter.location.count("/") == 2 for _, letter in letters
    )
    # The store holds every valid event once: as many as the `<feed>.events` windows count.
    valid = sum(n for (_, metric, _), (n, _) in work.expected.items() if metric in EVENT_METRICS)
    assert await conn.fetchval("SELECT count(*) FROM events") == valid


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


async def _recreate(settings: Settings, topic: str) -> None:
    """Delete a topic and create it again, empty (what an operator's mistake looks like)."""
    admin = make_admin(settings)
    await admin.start()
    try:
        await admin.delete_topics([topic])
        async with asyncio.timeout(60):
            while topic in set(await admin.list_topics()):  # noqa: ASYNC110 - polls the broker
                await asyncio.sleep(0.5)
    finally:
        await admin.close()
    async with asyncio.timeout(60):
        while not await ensure_topics(settings, project_topics(settings)):  # noqa: ASYNC110
            await asyncio.sleep(0.5)  # still being deleted: created once it is gone


async def test_a_recreated_topic_is_reported_not_skipped(
    stream_settings: Settings, conn: asyncpg.Connection
) -> None:
    """A stored position past a partition's end blocks that partition until an operator seeks.

    Before, the worker sought to its stored offset on the new, shorter topic: it skipped
    every record below it, silently, with lag shown as 0.
    """
    work = await build_workload(stream_settings, minutes=4, seed=5)
    dvc = topic_name(stream_settings, "events", "dvc")
    await produce(stream_settings, work.records)
    worker = StreamWorker(stream_settings, name="before")
    task = asyncio.create_task(worker.run())
    await wait_caught_up(conn, stream_settings, worker=task)
    worker.stop()
    await asyncio.wait_for(task, 30)
    before = await window_totals(conn)

    await _recreate(stream_settings, dvc)
    # The DVC records come again on the new topic (a re-import), plus one new dossier.
    again = [r for r in work.records if r.topic == dvc and r.key != b"bad"]
    fresh = dossier_record(stream_settings, START + timedelta(minutes=2))
    await produce(stream_settings, [*again[:5], fresh])

    worker = StreamWorker(stream_settings, name="after")
    task = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(60):
            while not worker.metrics.position_errors:
                assert not task.done()
                await asyncio.sleep(0.5)
        blocked = sorted(worker.metrics.position_errors)
        assert blocked and all(where.startswith(f"{dvc}/") for where in blocked)
        assert "ioc streams seek" in next(iter(worker.metrics.position_errors.values()))
        await asyncio.sleep(2)
        assert worker.metrics.state == "blocked"
        [saved] = [m for m in read_stream_metrics(stream_settings.state_dir) if m.name == "after"]
        assert health_problem(saved, 30, healthy=("running",)) == "state blocked"
        assert await window_totals(conn) == before  # nothing read, nothing skipped

        for where in blocked:
            partition = int(where.rsplit("/", 1)[1])
            await seek_position(stream_settings, stream_settings.streams.group, dvc, partition)
        async with asyncio.timeout(60):
            while worker.metrics.position_errors or not await caught_up(conn, stream_settings):
                assert not task.done()
                await asyncio.sleep(0.5)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 30)
    after = await window_totals(conn)
    # The five re-imported dossiers changed nothing; the fresh one was counted.
    changed = {
        k: (after[k][0] - before.get(k, (0, 0))[0]) for k in after if after[k] != before.get(k)
    }
    assert changed and all(k[1].startswith("dvc.") and n == 1 for k, n in changed.items())
    assert worker.metrics.state == "stopped"
