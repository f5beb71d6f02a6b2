"""What every peer shares: its config, its progress report, parsing, and the row writer.

Parsing is the project's own (`ioc.codec.decode`, then `ioc.kpis.measures.measures`), so every
implementation validates the same way and produces the same (window, metric, area) rows; what
differs is the framework around it. The peers do not dead-letter, dedupe or judge lateness:
that is extra work only our worker does.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from ioc.codec import decode
from ioc.kpis.measures import measures

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Peers hold window totals, so they write absolute values (the worker adds deltas).
UPSERT_ABSOLUTE = """
INSERT INTO window_metrics AS w (window_start, metric, area, count, sum, min, max)
SELECT * FROM unnest(
    $1::timestamptz[], $2::text[], $3::text[], $4::bigint[],
    $5::float8[], $6::float8[], $7::float8[]
)
ON CONFLICT (window_start, metric, area) DO UPDATE SET
    count = EXCLUDED.count, sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max,
    updated_at = now()
"""

# A window's state: metric → [count, sum, min, max].
State = dict[str, list[float]]


def load_config(path: str) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return config


def parse(value: bytes | None) -> tuple[str, datetime, list[tuple[str, float]]]:
    """(area, event time, measures) of one record: the project's decode and measures."""
    envelope = decode(value)
    return envelope.area, envelope.occurred_at, measures(envelope)


def fold(state: State, event_measures: Iterable[tuple[str, float]]) -> State:
    """Add one event's measures to a window's state (in place) and return it."""
    for metric, value in event_measures:
        total = state.get(metric)
        if total is None:
            state[metric] = [1, value, value, value]
        else:
            total[0] += 1
            total[1] += value
            if value < total[2]:
                total[2] = value
            if value > total[3]:
                total[3] = value
    return state


def merge(a: State, b: State) -> State:
    for metric, (count, total, low, high) in b.items():
        mine = a.get(metric)
        if mine is None:
            a[metric] = [count, total, low, high]
        else:
            mine[0] += count
            mine[1] += total
            mine[2] = min(mine[2], low)
            mine[3] = max(mine[3], high)
    return a


class Report:
    """Progress for the bench: events processed, first and last times, done (JSON file)."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.count = 0
        self.first: dict[str, float] | None = None
        self.extra: dict[str, Any] = {}
        self.lock = threading.Lock()
        self.write(started=True)
        threading.Thread(target=self._every_quarter_second, daemon=True).start()

    def add(self, n: int = 1) -> None:
        self.count += n
        if self.first is None:
            self.first = {"at": time.time(), "cpu": time.process_time(), "count": self.count}

    def _every_quarter_second(self) -> None:
        written = -1
        while True:
            time.sleep(0.25)
            if self.count != written:
                written = self.count
                self.write()

    def write(self, **extra: Any) -> None:
        """Write the progress; `extra` (started, done) sticks to every later write too."""
        with self.lock:
            self.extra.update(extra)
            state = {
                "count": self.count,
                "first": self.first,
                "at": time.time(),
                "cpu": time.process_time(),
                **self.extra,
            }
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(state), encoding="utf-8")
            os.replace(tmp, self.path)


class RowWriter:
    """A blocking batch upsert of window rows through asyncpg, for frameworks with sync sinks."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.conn: asyncpg.Connection = self.loop.run_until_complete(asyncpg.connect(url))

    def write(self, rows: dict[tuple[datetime, str, str], list[float]]) -> None:
        self.loop.run_until_complete(write_rows(self.conn, rows))

    def close(self) -> None:
        self.loop.run_until_complete(self.conn.close())
        self.loop.close()


async def write_rows(
    conn: asyncpg.Connection, rows: dict[tuple[datetime, str, str], list[float]]
) -> None:
    """One transaction: upsert (window start, metric, area) → [count, sum, min, max]."""
    if not rows:
        return
    keys = list(rows)
    values = list(rows.values())
    await conn.execute(
        UPSERT_ABSOLUTE,
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
        [int(v[0]) for v in values],
        [float(v[1]) for v in values],
        [float(v[2]) for v in values],
        [float(v[3]) for v in values],
    )


def window_of(at: datetime, seconds: int) -> datetime:
    """The start of the epoch-aligned tumbling window holding `at` (as the worker does)."""
    ms = int((at - EPOCH) / timedelta(milliseconds=1))
    return EPOCH + timedelta(milliseconds=ms - ms % (seconds * 1000))
