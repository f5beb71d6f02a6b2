"""The harness can stop, kill and restart the broker and the database; data survives."""

from __future__ import annotations

import asyncio

import asyncpg

from ioc.codec import decode, encode
from ioc.config import Settings
from ioc.events import CameraHeartbeat, Envelope, utc_now
from ioc.kafka import TopicSpec, ensure_topics, make_consumer, make_producer
from tests._services import LocalService


async def _send(settings: Settings, topic: str, count: int) -> set[str]:
    producer = make_producer(settings)
    await producer.start()
    ids = set()
    try:
        for i in range(count):
            env = Envelope.create(
                source="faults",
                area="33",
                occurred_at=utc_now(),
                payload=CameraHeartbeat(camera_id=f"c{i}", online=True),
            )
            await producer.send(topic, encode(env))
            ids.add(str(env.event_id))
        await producer.flush()
    finally:
        await producer.stop()
    return ids


async def _read(settings: Settings, topic: str, count: int) -> set[str]:
    consumer = make_consumer(settings, topic, group_id=None)
    await consumer.start()
    ids: set[str] = set()
    try:
        while len(ids) < count:
            batch = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), 30)
            ids |= {str(decode(r.value).event_id) for records in batch.values() for r in records}
    finally:
        await consumer.stop()
    return ids


async def test_broker_restart_keeps_events(
    kafka: LocalService, settings: Settings, unique_topic: str
) -> None:
    await ensure_topics(settings, [TopicSpec(unique_topic, 2, 1)])
    before = await _send(settings, unique_topic, 20)
    await asyncio.to_thread(kafka.restart)
    after = await _send(settings, unique_topic, 5)
    assert await _read(settings, unique_topic, 25) == before | after


async def test_database_killed_keeps_committed_rows(
    postgres: LocalService, database_url: str
) -> None:
    conn = await asyncpg.connect(database_url)
    await conn.execute("CREATE TABLE committed (n int)")
    await conn.executemany("INSERT INTO committed VALUES ($1)", [(i,) for i in range(100)])
    await conn.close()
    await asyncio.to_thread(postgres.kill)
    await asyncio.to_thread(postgres.start)
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM committed") == 100
    finally:
        await conn.close()
