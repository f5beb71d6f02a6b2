"""Benchmark: events/s of one connector publishing to Kafka, next to a bare aiokafka producer.

Run: `.venv/bin/python bench/connector_publish.py` (add `--events 500000` for a longer run).

In one run, against one broker:
1. **connector**: `payment-sim` backfills a time range through `ConnectorRunner` (generation,
   envelope validation, encoding, producing, acknowledgements);
2. **generate only**: the same connector and range with no Kafka at all (where time goes);
3. **bare producer**: the exact records of run 1 (values, keys, headers), read back from the
   topic, sent by a bare `AIOKafkaProducer` with the same options, timed to the last ack.
The ratio connector / bare producer is the cost of everything we add. Results go to
`bench/results/connector_publish.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench._broker import kafka_bootstrap
from ioc.areas import load_areas
from ioc.config import Settings, load_settings
from ioc.connectors import ConnectorContext, VirtualClock
from ioc.connectors.registry import load_connector
from ioc.connectors.runner import ConnectorRunner
from ioc.events import utc_now
from ioc.kafka import ensure_topics, make_consumer, make_producer, project_topics, topic_name

RESULTS = Path(__file__).parent / "results" / "connector_publish.json"
CONNECTOR = "payment-sim"
PAYMENTS_PER_DAY_AT_RATE_1 = 100_000  # payment-sim's documented default volume


def _context(settings: Settings, events: int, rate: float) -> ConnectorContext:
    days = events / (PAYMENTS_PER_DAY_AT_RATE_1 * rate)
    end = utc_now().replace(microsecond=0)
    return ConnectorContext(
        name=CONNECTOR,
        settings=settings,
        areas=load_areas(),
        clock=VirtualClock(end - timedelta(days=days), end),
        seed=1,
        rate=rate,
    )


async def _generate_only(settings: Settings, events: int, rate: float) -> tuple[int, float]:
    connector = load_connector(CONNECTOR)(_context(settings, events, rate))
    count = 0
    started = time.perf_counter()
    async for _ in connector.events():
        count += 1
    return count, time.perf_counter() - started


async def _connector(settings: Settings, events: int, rate: float) -> tuple[int, float]:
    connector = load_connector(CONNECTOR)(_context(settings, events, rate))
    runner = ConnectorRunner(connector, settings)
    started = time.perf_counter()
    metrics = await runner.run()
    elapsed = time.perf_counter() - started
    assert metrics.spool_records == 0 and metrics.sent == metrics.yielded
    return metrics.sent, elapsed


async def _read_back(settings: Settings, topic: str, count: int) -> list[Any]:
    consumer = make_consumer(settings, topic, group_id=None, max_partition_fetch_bytes=8 << 20)
    await consumer.start()
    records: list[Any] = []
    try:
        while len(records) < count:
            batch = await consumer.getmany(timeout_ms=1000, max_records=50_000)
            records += [r for part in batch.values() for r in part]
    finally:
        await consumer.stop()
    return records


async def _bare(settings: Settings, topic: str, records: list[Any]) -> float:
    options = {
        "linger_ms": settings.connectors.linger_ms,
        "max_batch_size": 256 * 1024,
    }
    producer = make_producer(settings, **options)
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [
            await producer.send(topic, r.value, key=r.key, headers=list(r.headers)) for r in records
        ]
        await asyncio.gather(*futures)
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def main(events: int, rate: float) -> dict[str, Any]:
    with kafka_bootstrap() as bootstrap:
        prefix = f"bench{uuid.uuid4().hex[:8]}"
        settings = load_settings(
            kafka_bootstrap=bootstrap,
            state_dir=Path(tempfile.mkdtemp(prefix="ioc-bench-state-")),
            kafka={"topic_prefix": prefix},
        )
        await ensure_topics(settings, project_topics(settings))
        results: dict[str, Any] = {}
        with Progress(console=Console(stderr=True)) as progress:
            step = progress.add_task("connector → Kafka", total=3)
            sent, elapsed = await _connector(settings, events, rate)
            results["connector"] = {"events": sent, "seconds": elapsed}
            progress.update(step, advance=1, description="generate only")
            count, gen_elapsed = await _generate_only(settings, events, rate)
            results["generate_only"] = {"events": count, "seconds": gen_elapsed}
            progress.update(step, advance=1, description="bare producer")
            topic = topic_name(settings, "events", "payment")
            bare_topic_settings = load_settings(
                kafka_bootstrap=bootstrap, kafka={"topic_prefix": prefix + "bare"}
            )
            await ensure_topics(bare_topic_settings, project_topics(bare_topic_settings))
            records = await _read_back(settings, topic, sent)
            bare_elapsed = await _bare(
                settings, topic_name(bare_topic_settings, "events", "payment"), records
            )
            results["bare_producer"] = {"events": len(records), "seconds": bare_elapsed}
            progress.update(step, advance=1)
    for row in results.values():
        row["events_per_second"] = row["events"] / row["seconds"]
    results["ratio_connector_to_bare"] = (
        results["connector"]["events_per_second"] / results["bare_producer"]["events_per_second"]
    )
    results["meta"] = {
        "date": utc_now().isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "connector": CONNECTOR,
        "rate": rate,
    }
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="about this many events")
    parser.add_argument("--rate", type=float, default=20.0, help="volume multiplier")
    args = parser.parse_args()
    outcome = asyncio.run(main(args.events, args.rate))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(outcome, indent=2) + "\n", encoding="utf-8")
    table = Table(title=f"{CONNECTOR} publishing, {outcome['connector']['events']:,} events")
    for column in ("run", "events/s", "seconds"):
        table.add_column(column)
    for name in ("connector", "generate_only", "bare_producer"):
        row = outcome[name]
        table.add_row(name, f"{row['events_per_second']:,.0f}", f"{row['seconds']:.1f}")
    Console().print(table)
    Console().print(f"connector / bare producer = {outcome['ratio_connector_to_bare']:.2f}")
