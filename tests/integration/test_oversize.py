"""Records the broker can never take become bounded dead letters; the feed goes on (issue 17).

Before: every KafkaError meant "broker away", so one record over the producer's 1 MiB
max_request_size (or over a topic's max.message.bytes) was retried forever from the head of the
spool and nothing behind it was sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from typing import ClassVar

from ioc.areas import load_areas
from ioc.codec import decode
from ioc.config import Settings, load_settings
from ioc.connectors.base import Connector, ConnectorContext, Item, Rejected
from ioc.connectors.runner import ConnectorRunner, _size
from ioc.connectors.spool import Spool, SpoolRecord
from ioc.dlq import ORIGINAL_LIMIT, DeadLetter
from ioc.events import Envelope, PaymentTransaction, utc_now
from ioc.kafka import (
    RECORD_MAX_BYTES,
    TOPIC_MAX_MESSAGE_BYTES,
    TopicSpec,
    ensure_topics,
    project_topics,
    topic_name,
)
from tests._kafka import read_topic
from tests._sequence import sequence_connector, spool_dir


class _Items(Connector):
    feed: ClassVar[str] = "payment"

    def __init__(self, context: ConnectorContext, items: list[Item]) -> None:
        super().__init__(context)
        self.items = items

    async def events(self) -> AsyncIterator[Item]:
        for item in self.items:
            yield item


def _payment(n: int, reason: str | None = None) -> Envelope:
    return Envelope.create(
        source="items",
        area="33",
        key=f"k{n}",
        occurred_at=utc_now(),
        payload=PaymentTransaction(
            transaction_id=f"t-{n}",
            amount_vnd=10_000 + n,
            channel="qr",
            sector="retail",
            success=reason is None,
            failure_reason=reason,
        ),
    )


def _run(settings: Settings, items: list[Item], **options: object) -> ConnectorRunner:
    context = ConnectorContext(name="items", settings=settings, areas=load_areas())
    return ConnectorRunner(_Items(context, items), settings, producer_options=dict(options))


async def test_a_dead_letter_over_the_record_limit_is_cut_and_the_records_behind_it_are_sent(
    topics_settings: Settings,
) -> None:
    huge = os.urandom(2 * RECORD_MAX_BYTES)  # e.g. a 2 MiB non-JSON body to http-ingest
    bad = Rejected(huge, "not_json", "not JSON", "http:r1")
    items: list[Item] = [_payment(0), bad, _payment(1)]
    metrics = await asyncio.wait_for(_run(topics_settings, items).run(), 60)

    events = await read_topic(topics_settings, topic_name(topics_settings, "events", "payment"), 2)
    assert {decode(r.value).payload.transaction_id for r in events} == {"t-0", "t-1"}  # type: ignore[union-attr]
    [record] = await read_topic(topics_settings, topic_name(topics_settings, "dlq"), 1)
    letter = DeadLetter.from_record(record.value, record.headers)
    assert letter.original == huge[:ORIGINAL_LIMIT]
    assert letter.original_size == len(huge)
    assert letter.original_sha256 == hashlib.sha256(huge).hexdigest()
    assert (letter.reason, letter.location) == ("not_json", "http:r1")
    assert (metrics.sent, metrics.dead_lettered, metrics.spool_records) == (3, 1, 0)


async def test_an_oversize_record_left_in_the_spool_does_not_block_the_records_behind_it(
    topics_settings: Settings,
) -> None:
    topic = topic_name(topics_settings, "events", "payment")
    huge = SpoolRecord(topic, b"k", b"x" * (RECORD_MAX_BYTES + 10), [("ioc-source", b"old")])
    small = SpoolRecord(topic, b"k", b"behind", [])
    with Spool(spool_dir(topics_settings), 2**30) as spool:
        spool.append([huge.encode(), small.encode()])

    runner = ConnectorRunner(sequence_connector(topics_settings, 0), topics_settings)
    metrics = await asyncio.wait_for(runner.run(), 60)

    assert metrics.spool_records == 0
    assert [r.value for r in await read_topic(topics_settings, topic, 1)] == [b"behind"]
    [record] = await read_topic(topics_settings, topic_name(topics_settings, "dlq"), 1)
    letter = DeadLetter.from_record(record.value, record.headers)
    assert (letter.reason, letter.source, letter.original_size) == (
        "too_large",
        "old",
        RECORD_MAX_BYTES + 10,
    )
    assert letter.original == b"x" * ORIGINAL_LIMIT


async def test_a_record_the_topic_refuses_is_dead_lettered_and_the_feed_goes_on(
    settings: Settings,
) -> None:
    """A topic made elsewhere with a smaller max.message.bytes than the producer's limit."""
    isolated = load_settings(
        kafka_bootstrap=settings.kafka_bootstrap,
        state_dir=settings.state_dir,
        kafka={"topic_prefix": f"t{os.urandom(5).hex()}", "partitions": 1},
        connectors={"delivery_timeout_seconds": 5},
    )
    payments = topic_name(isolated, "events", "payment")
    await ensure_topics(isolated, [TopicSpec(payments, 1, 1, {"max.message.bytes": "900"})])
    await ensure_topics(isolated, project_topics(isolated))
    big = _payment(1, reason=os.urandom(240).hex()[:480])  # ~1 KiB uncompressed
    items: list[Item] = [_payment(0), big, _payment(2), _payment(3)]

    metrics = await asyncio.wait_for(
        _run(isolated, items, compression_type=None, linger_ms=0).run(), 90
    )

    events = await read_topic(isolated, payments, 3, settle=1.0)
    assert {decode(r.value).payload.transaction_id for r in events} == {"t-0", "t-2", "t-3"}  # type: ignore[union-attr]
    [record] = await read_topic(isolated, topic_name(isolated, "dlq"), 1)
    letter = DeadLetter.from_record(record.value, record.headers)
    assert letter.reason == "too_large"
    assert decode(letter.original) == big
    assert metrics.spool_records == 0


async def test_the_largest_record_a_producer_sends_is_taken_by_the_project_topics(
    topics_settings: Settings,
) -> None:
    """Producer and topic limits agree: a record of exactly max_request_size, incompressible
    (lz4 makes it a little larger), is stored; Kafka's default topic limit would refuse it."""
    topic = topic_name(topics_settings, "events", "payment")
    value = os.urandom(RECORD_MAX_BYTES - 100)
    while _size(SpoolRecord(topic, b"k", value + b"x", [])) <= RECORD_MAX_BYTES:
        value += b"x"
    assert _size(SpoolRecord(topic, b"k", value, [])) == RECORD_MAX_BYTES
    with Spool(spool_dir(topics_settings), 2**30) as spool:
        spool.append([SpoolRecord(topic, b"k", value, []).encode()])

    runner = ConnectorRunner(sequence_connector(topics_settings, 0), topics_settings)
    metrics = await asyncio.wait_for(runner.run(), 60)

    assert (metrics.spool_records, metrics.dead_lettered) == (0, 0)
    [record] = await read_topic(topics_settings, topic, 1)
    assert record.value == value
    assert TOPIC_MAX_MESSAGE_BYTES > 1_048_588  # Kafka's default message.max.bytes
