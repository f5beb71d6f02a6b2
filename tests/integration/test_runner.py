"""The connector runner against a real broker: delivery, keys, headers, DLQ, metrics."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from ioc.codec import decode
from ioc.config import Settings, load_settings
from ioc.connectors.runner import ConnectorRunner
from ioc.dlq import DeadLetter
from ioc.embedded.kafka import free_port
from ioc.events import Envelope
from ioc.kafka import topic_name
from ioc.telemetry import connector_metrics_path, read_connector_metrics
from tests._kafka import read_topic
from tests._sequence import sequence_connector


async def test_every_event_arrives_once_and_decodes_to_the_same_envelope(
    topics_settings: Settings,
) -> None:
    connector = sequence_connector(topics_settings, 2_000)
    metrics = await ConnectorRunner(connector, topics_settings).run()

    records = await read_topic(
        topics_settings, topic_name(topics_settings, "events", "payment"), 2_000, settle=1.0
    )
    received = [decode(r.value) for r in records]
    assert len(received) == 2_000
    assert {e.event_id: e for e in received} == {
        e.event_id: e for e in connector.yielded if isinstance(e, Envelope)
    }
    for record, env in zip(records, received, strict=True):
        assert record.key == env.key.encode()
        assert dict(record.headers) == {
            "ioc-type": b"payment.transaction",
            "ioc-version": b"1",
            "ioc-source": b"sequence",
        }
    assert (metrics.yielded, metrics.sent, metrics.spooled, metrics.failed) == (2000, 2000, 0, 0)
    assert metrics.state == "stopped"


async def test_rejected_inputs_go_to_the_dlq_with_reason_and_original_bytes(
    topics_settings: Settings,
) -> None:
    connector = sequence_connector(topics_settings, 100, reject_every=10)
    metrics = await ConnectorRunner(connector, topics_settings).run()

    letters = [
        DeadLetter.from_record(r.value, r.headers)
        for r in await read_topic(topics_settings, topic_name(topics_settings, "dlq"), 10)
    ]
    assert [(d.original, d.reason, d.source, d.stage, d.location) for d in letters] == [
        (f"line {n}".encode(), "not_json", "sequence", "ingest", f"f:{n}")
        for n in range(9, 100, 10)
    ]
    assert letters[0].detail == "line 9 is not JSON"
    assert metrics.dead_lettered == 10
    events = await read_topic(topics_settings, topic_name(topics_settings, "events", "payment"), 90)
    assert len(events) == 90


async def test_metrics_file_is_what_ioc_status_reads(topics_settings: Settings) -> None:
    await ConnectorRunner(sequence_connector(topics_settings, 50), topics_settings).run()

    path = connector_metrics_path(topics_settings.state_dir, "sequence")
    assert json.loads(path.read_text())["sent"] == 50
    [metrics] = read_connector_metrics(topics_settings.state_dir)
    assert (metrics.name, metrics.feed, metrics.sent) == ("sequence", "payment", 50)
    assert metrics.last_event_time is not None


async def test_unreachable_broker_spools_and_the_next_run_delivers(
    topics_settings: Settings,
) -> None:
    away = load_settings(
        kafka_bootstrap=f"127.0.0.1:{free_port()}",  # nothing listens there
        state_dir=topics_settings.state_dir,
        kafka={"topic_prefix": topics_settings.kafka.topic_prefix},
        connectors={"delivery_timeout_seconds": 2},
    )
    first = await ConnectorRunner(sequence_connector(away, 300), away).run()
    assert (first.sent, first.spooled, first.spool_records) == (0, 300, 300)

    second = await ConnectorRunner(sequence_connector(topics_settings, 0), topics_settings).run()
    assert (second.sent, second.spool_records) == (300, 0)
    records = await read_topic(
        topics_settings, topic_name(topics_settings, "events", "payment"), 300, settle=1.0
    )
    assert len({decode(r.value).event_id for r in records}) == 300


async def test_a_full_spool_slows_the_source_instead_of_dropping(tmp_path: Path) -> None:
    away = load_settings(
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        state_dir=tmp_path,
        connectors={"delivery_timeout_seconds": 1, "spool_max_mb": 1},
    )
    connector = sequence_connector(away, 1_000_000)
    runner = ConnectorRunner(connector, away)
    run = asyncio.create_task(runner.run())
    for _ in range(100):
        await asyncio.sleep(0.1)
        if runner.metrics.state == "back-pressure":
            break
    pulled = len(connector.yielded)
    await asyncio.sleep(1.0)

    assert runner.metrics.state == "back-pressure"
    assert len(connector.yielded) == pulled, "a full spool stops pulling from the source"
    assert runner.spool.size_bytes <= 2**20
    runner.stop()
    metrics = await asyncio.wait_for(run, 30)
    assert metrics.spool_records == len(connector.yielded) == metrics.yielded < 1_000_000
