"""What the event store costs on disk per event, on PostgreSQL and on TimescaleDB.

``python -m bench.store_cost [--hours 1]`` simulates the four feeds of one province over
``--hours`` of event time (about 34 events/s, the product's ``--rate 1``), writes them through
the stream sink (``write_batch``, 20,000 events a transaction, as a worker does) into

- the embedded PostgreSQL (daily partitions): heap, TOAST and both indexes;
- the TimescaleDB WASM tier used by the tests (``tests/_timescale.py``): the hypertable before
  and after compressing its chunks (what every chunk older than 7 days becomes);

and prints bytes per event for each, and the projection for one province's full volume
(about 2.9 million events a day) over the default retention (400 days).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from ioc.areas import load_areas
from ioc.config import load_settings
from ioc.connectors.base import ConnectorContext, VirtualClock
from ioc.connectors.registry import load_connector
from ioc.db import migrate
from ioc.embedded.postgres import PostgresNode
from ioc.embedded.process import ManagedProcess
from ioc.events import Envelope
from ioc.streams.sink import Counted, to_counted, write_batch

SIMULATORS = ("camera-sim", "dvc-sim", "payment-sim", "network-sim")
BATCH = 20_000
PROVINCE_EVENTS_PER_DAY = 2.9e6
RETENTION_DAYS = 400


async def _events(hours: float) -> list[Counted]:
    settings = load_settings()
    areas = load_areas(settings.areas_file)
    # A Monday in office hours, inside the store's retention whatever the day.
    today = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=7 + today.weekday())
    found: list[Counted] = []
    for name in SIMULATORS:
        clock = VirtualClock(start, start + timedelta(hours=hours))
        context = ConnectorContext(name=name, settings=settings, areas=areas, clock=clock, seed=7)
        async for item in load_connector(name)(context).events():
            if isinstance(item, Envelope):
                found.append(to_counted(item, timedelta(minutes=1), f"ioc.events.{item.feed}", 0))
    return found


async def _write(conn: asyncpg.Connection, events: list[Counted]) -> None:
    await migrate(conn)
    for first in range(0, len(events), BATCH):
        await write_batch(conn, "store-cost", events[first : first + BATCH], {})


async def _postgres(root: Path, events: list[Counted]) -> float:
    node = PostgresNode(root, port=0, database="postgres")
    process = ManagedProcess(node.prepare(), root)
    process.start()
    try:
        process.wait_ready(120)
        conn = await asyncpg.connect(node.url)
        try:
            await _write(conn, events)
            await conn.execute("VACUUM ANALYZE events")
            size = await conn.fetchval(
                "SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits "
                "WHERE inhparent = 'events'::regclass"
            )
        finally:
            await conn.close()
    finally:
        process.stop(15)
    return float(size) / len(events)


async def _timescaledb(root: Path, events: list[Counted]) -> tuple[float, float]:
    from tests._timescale import close, prepare

    spec, url = prepare(load_settings().cache_dir, root / "tsdb", root)
    process = ManagedProcess(spec, root)
    process.start()
    try:
        process.wait_ready(180)
        conn = await asyncpg.connect(url, statement_cache_size=0)
        try:
            await _write(conn, events)
            before: int = await conn.fetchval("SELECT hypertable_size('events')")
            await conn.execute("SELECT compress_chunk(c) FROM show_chunks('events') c")
            after: int = await conn.fetchval("SELECT hypertable_size('events')")
        finally:
            await close(conn)
    finally:
        process.stop(15)
    return before / len(events), after / len(events)


def _line(label: str, per_event: float) -> str:
    total = per_event * PROVINCE_EVENTS_PER_DAY * RETENTION_DAYS / 1e9
    return (
        f"{label}: {per_event:,.0f} B/event; a province over {RETENTION_DAYS} days: {total:,.0f} GB"
    )


async def main(hours: float) -> None:
    """Measure and print."""
    events = await _events(hours)
    print(f"{len(events):,} simulated events over {hours:g} h of event time")
    with tempfile.TemporaryDirectory(prefix="store-cost-") as tmp:
        root = Path(tmp)
        print(
            _line("PostgreSQL (partitions, heap + TOAST + indexes)", await _postgres(root, events))
        )
        raw, compressed = await _timescaledb(root, events)
        print(_line("TimescaleDB, uncompressed (the last 7 days)", raw))
        print(_line("TimescaleDB, compressed (older chunks)", compressed))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=1.0, help="event time to simulate")
    asyncio.run(main(parser.parse_args().hours))
