"""A 30-day backfill survives Kafka's retention check (the topics use LogAppendTime).

Control: the records older than the retention period, produced with their event time as the
record timestamp (the naive way) to a CreateTime topic with the same retention, are deleted
by the broker's next retention check — the failure this design prevents. The test broker
checks every 2 s.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from aiokafka import TopicPartition

from ioc.areas import load_areas
from ioc.codec import decode
from ioc.config import Settings, load_settings
from ioc.connectors import ConnectorContext, VirtualClock
from ioc.connectors.registry import load_connector
from ioc.connectors.runner import ConnectorRunner
from ioc.events import utc_now
from ioc.kafka import (
    TopicSpec,
    ensure_topics,
    make_consumer,
    make_producer,
    project_topics,
    topic_name,
)
from tests._kafka import read_topic


async def _offsets(settings: Settings, topic: str, partitions: int) -> tuple[int, int]:
    """(records still there, records ever written) over all partitions."""
    consumer = make_consumer(settings, group_id=None)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(partitions)]
        begin = await consumer.beginning_offsets(parts)
        end = await consumer.end_offsets(parts)
    finally:
        await consumer.stop()
    return sum(end.values()) - sum(begin.values()), sum(end.values())


async def test_a_30_day_backfill_survives_the_retention_check(settings: Settings) -> None:
    settings = load_settings(
        kafka_bootstrap=settings.kafka_bootstrap,
        state_dir=settings.state_dir,
        kafka={"topic_prefix": f"t{uuid.uuid4().hex[:10]}", "partitions": 2},
    )
    await ensure_topics(settings, project_topics(settings))
    events_topic = topic_name(settings, "events", "payment")
    control = topic_name(settings, "control")
    retention = project_topics(settings)[0].config["retention.ms"]
    await ensure_topics(
        settings,
        [
            TopicSpec(
                control, 1, 1, {"message.timestamp.type": "CreateTime", "retention.ms": retention}
            )
        ],
    )

    end = utc_now()
    start = end - timedelta(days=30)
    cls = load_connector("payment-sim")
    context = ConnectorContext(
        name="payment-sim",
        settings=settings,
        areas=load_areas(),
        clock=VirtualClock(start, end),
        seed=3,
        rate=0.005,
    )
    metrics = await ConnectorRunner(cls(context), settings).run()
    assert metrics.sent > 5_000 and metrics.spool_records == 0

    records = await read_topic(settings, events_topic, metrics.sent)
    times = sorted(decode(r.value).occurred_at for r in records)
    assert times[0] - start < timedelta(days=1) and end - times[-1] < timedelta(days=1)

    # The control gets the part of the backfill older than the retention period.
    cutoff = end - timedelta(milliseconds=int(retention)) - timedelta(days=1)
    old = [r for r in records if decode(r.value).occurred_at < cutoff]
    assert len(old) > len(records) / 2
    producer = make_producer(settings)
    await producer.start()
    try:
        for record in old:
            timestamp = int(decode(record.value).occurred_at.timestamp() * 1000)
            await producer.send(control, record.value, timestamp_ms=timestamp)
        await producer.flush()
    finally:
        await producer.stop()

    # Wait until the broker has deleted the control's expired records (a few checks).
    for _ in range(60):
        remaining, written = await _offsets(settings, control, 1)
        if remaining == 0:
            break
        await asyncio.sleep(1)
    assert (remaining, written) == (0, len(old)), "control: history on record time is deleted"

    kept, written = await _offsets(settings, events_topic, settings.kafka.partitions)
    assert kept == written == metrics.sent, "the backfill is still all there"
