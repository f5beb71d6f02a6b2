"""faust-streaming: the textbook agent, one event at a time into a windowed Table.

`async for value in stream` (per event), our decode + measures, and per measure
`table[key].value()` → new [count, sum, min, max] → `table[key] = …` on a tumbling table
keyed by metric and area, windowed on the event time (`relative_to` the envelope's
`occurred_at`), with its changelog topic as faust keeps it. faust has no database sink: a
timer (`@app.timer`, every 0.5 s like the worker's flush) upserts the rows changed since the
last one, with the table's current values. One worker, so the table does not need
`group_by` (a repartition topic) to be co-partitioned with its keys; several workers would.
The table expires windows long after the input's span, so none is dropped.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import faust

from bench.peers._common import Report, load_config, parse, window_of, write_rows


def main(config_path: str) -> None:
    config = load_config(config_path)
    report = Report(config["out"])
    expected = config.get("expected")
    width = config["window_seconds"]
    app = faust.App(
        config["group"],
        broker=f"kafka://{config['bootstrap']}",
        store="memory://",
        value_serializer="raw",
        web_enabled=False,
        datadir=config["state_dir"],
        topic_partitions=6,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
    )
    source = app.topic(*config["topics"], value_serializer="raw")
    now = [0.0]  # event time of the event being processed
    table = (
        app.Table("windows", default=list, partitions=6)
        .tumbling(timedelta(seconds=width), expires=timedelta(days=60))
        .relative_to(lambda event: now[0])
    )
    changed: dict[tuple[datetime, str, str], list[float]] = {}
    lock = asyncio.Lock()
    conn: list[asyncpg.Connection] = []

    async def flush() -> None:
        async with lock:
            if not conn:
                conn.append(await asyncpg.connect(config["database_url"]))
            rows = dict(changed)
            changed.clear()
            async with conn[0].transaction():
                await write_rows(conn[0], rows)

    @app.timer(interval=config["flush_seconds"])
    async def write_changed() -> None:
        await flush()

    @app.agent(source)
    async def windows(stream: Any) -> None:
        async for value in stream:
            area, at, event_measures = parse(value)
            now[0] = at.timestamp()
            start = window_of(at, width)
            for metric, v in event_measures:
                key = f"{metric}|{area}"
                current = table[key].value()  # the window of relative_to
                if current:
                    new = [current[0] + 1, current[1] + v, min(current[2], v), max(current[3], v)]
                else:
                    new = [1, v, v, v]
                table[key] = new
                changed[(start, metric, area)] = new
            report.add()
            if expected is not None and report.count >= expected:
                await flush()
                report.write(done=True)

    faust.Worker(app, loglevel="WARNING", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main(sys.argv[1])
