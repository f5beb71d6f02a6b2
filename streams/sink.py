"""The exactly-counted sink: window deltas, counted event ids and Kafka offsets, one transaction.

For each batch of events read from Kafka, one PostgreSQL transaction

1. records the batch's event ids in `counted_events`; only ids not there yet (and the first
   copy of an id repeated inside the batch) are counted — a duplicate is counted once, whether
   it comes from a connector retry, a spool replay, or a worker that lost its partitions but
   has not noticed yet;
2. adds the counted events' measures to `window_metrics` with additive upserts keyed by
   (window start, metric, area), batched through `unnest` (works on PostgreSQL, TimescaleDB and
   through every proxy);
3. stores the Kafka offsets after the batch in `stream_offsets`.

A worker resumes from `stream_offsets`, never from Kafka's committed offsets, so whatever a
crash interrupts is either wholly in the database or wholly read again.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from ioc.events import Envelope
from ioc.measures import Measure, measures

__all__ = [
    "BatchResult",
    "Counted",
    "load_offsets",
    "prune_counted",
    "to_counted",
    "window_start",
    "write_batch",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_INSERT_IDS = """
INSERT INTO counted_events (event_id, window_start)
SELECT * FROM unnest($1::uuid[], $2::timestamptz[])
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""

_UPSERT_WINDOWS = """
INSERT INTO window_metrics AS w (window_start, metric, area, count, sum, min, max)
SELECT * FROM unnest(
    $1::timestamptz[], $2::text[], $3::text[], $4::bigint[],
    $5::float8[], $6::float8[], $7::float8[]
)
ON CONFLICT (window_start, metric, area) DO UPDATE SET
    count = w.count + EXCLUDED.count,
    sum = w.sum + EXCLUDED.sum,
    min = LEAST(w.min, EXCLUDED.min),
    max = GREATEST(w.max, EXCLUDED.max),
    updated_at = now()
"""

# GREATEST: a worker that lost a partition and writes late must not move it backwards.
_UPSERT_OFFSETS = """
INSERT INTO stream_offsets AS o (consumer_group, topic, partition, next_offset)
SELECT $1, * FROM unnest($2::text[], $3::integer[], $4::bigint[])
ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET
    next_offset = GREATEST(o.next_offset, EXCLUDED.next_offset),
    updated_at = now()
"""


def window_start(at: datetime, width: timedelta) -> datetime:
    """The start of the tumbling window of `width` (aligned on the epoch) holding `at`."""
    step = int(width.total_seconds() * 1_000_000)
    micros = (at - _EPOCH) // timedelta(microseconds=1)
    return _EPOCH + timedelta(microseconds=micros - micros % step)


@dataclass(frozen=True)
class Counted:
    """One event as the sink counts it."""

    event_id: uuid.UUID
    window_start: datetime
    area: str
    measures: Sequence[Measure]


def to_counted(envelope: Envelope, width: timedelta) -> Counted:
    """The event's id, window, area and measures."""
    return Counted(
        envelope.event_id,
        window_start(envelope.occurred_at, width),
        envelope.area,
        measures(envelope),
    )


@dataclass(frozen=True)
class BatchResult:
    """What one batch changed."""

    counted: int
    duplicates: int
    rows: int


async def write_batch(
    conn: asyncpg.Connection,
    consumer_group: str,
    events: Sequence[Counted],
    offsets: Mapping[tuple[str, int], int],
) -> BatchResult:
    """Count a batch exactly once and move the group's offsets past it, atomically.

    Args:
        conn: a connection (not inside a transaction).
        consumer_group: whose offsets these are.
        events: the batch, in any order; duplicates (same event id) are fine.
        offsets: (topic, partition) → the offset of the next record to read.
    """
    async with conn.transaction():
        fresh: set[uuid.UUID] = set()
        if events:
            rows = await conn.fetch(
                _INSERT_IDS, [e.event_id for e in events], [e.window_start for e in events]
            )
            fresh = {row[0] for row in rows}
        totals: dict[tuple[datetime, str, str], list[float]] = {}
        counted = 0
        for event in events:
            if event.event_id not in fresh:
                continue
            fresh.discard(event.event_id)  # a second copy inside the batch is a duplicate
            counted += 1
            for metric, value in event.measures:
                key = (event.window_start, metric, event.area)
                total = totals.get(key)
                if total is None:
                    totals[key] = [1, value, value, value]
                else:
                    total[0] += 1
                    total[1] += value
                    total[2] = min(total[2], value)
                    total[3] = max(total[3], value)
        if totals:
            keys = list(totals)
            values = list(totals.values())
            await conn.execute(
                _UPSERT_WINDOWS,
                [k[0] for k in keys],
                [k[1] for k in keys],
                [k[2] for k in keys],
                [int(v[0]) for v in values],
                [v[1] for v in values],
                [v[2] for v in values],
                [v[3] for v in values],
            )
        if offsets:
            parts = list(offsets)
            await conn.execute(
                _UPSERT_OFFSETS,
                consumer_group,
                [p[0] for p in parts],
                [p[1] for p in parts],
                [offsets[p] for p in parts],
            )
    return BatchResult(counted, len(events) - counted, len(totals))


async def load_offsets(conn: asyncpg.Connection, consumer_group: str, topic: str) -> dict[int, int]:
    """Partition → next offset to read, as last committed with the window rows."""
    rows = await conn.fetch(
        "SELECT partition, next_offset FROM stream_offsets "
        "WHERE consumer_group = $1 AND topic = $2",
        consumer_group,
        topic,
    )
    return {row["partition"]: row["next_offset"] for row in rows}


async def prune_counted(conn: asyncpg.Connection, before: datetime) -> int:
    """Forget counted ids of windows before `before` (they can no longer change)."""
    status: str = await conn.execute("DELETE FROM counted_events WHERE window_start < $1", before)
    return int(status.rsplit(" ", 1)[-1])
