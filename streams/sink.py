"""The exactly-counted sink: window deltas, counted event ids and Kafka offsets, one transaction.

For each batch of events read from Kafka, one PostgreSQL transaction

1. records the batch's event ids in `counted_events`; only ids not there yet (and the first
   copy of an id repeated inside the batch) are counted — a duplicate is counted once, whether
   it comes from a connector retry, a spool replay, or a worker that lost its partitions but
   has not noticed yet;
2. adds the counted events' measures to `window_metrics` with additive upserts keyed by
   (window start, metric, area), batched through `unnest` (works on PostgreSQL, TimescaleDB and
   through every proxy);
3. stores, per partition, the Kafka offset after the batch and the partition's watermark (its
   newest event time) in `stream_offsets`.

A worker resumes from `stream_offsets`, never from Kafka's committed offsets, so whatever a
crash interrupts is either wholly in the database or wholly read again.

The worker adds each event to a `Batch` as it reads it: the event's id, window, topic and
partition go into columns, and its measures straight into the batch's window totals. The
transaction then returns only the ids that were *not* new (almost always none), and only then
are the totals recomputed without them; a repeated id costs a second pass, a fresh batch none.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from ioc.events import Envelope
from ioc.measures import Measure, measures

__all__ = [
    "Batch",
    "BatchResult",
    "Counted",
    "Position",
    "load_positions",
    "prune_counted",
    "refresh_rollups",
    "to_counted",
    "window_start",
    "write_batch",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The roll-ups bin days from local midnight in Asia/Ho_Chi_Minh (see 0002_windows.sql).
_DAY_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC) - timedelta(hours=7)

# Both statements insert in key order (sorted by PostgreSQL): B-tree pages are then visited in
# order, about 10% less time than in arrival order (measured, 20k-event batches).
# Every copy of an id that this statement did not insert: all copies of an id already counted,
# and the second and later copies of an id repeated inside the batch (EXCEPT ALL is a
# multiset difference). Returning only these, not all 20,000 ids, saves decoding them.
_INSERT_IDS = """
WITH inserted AS (
    INSERT INTO counted_events (event_id, window_start, topic, partition)
    SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::integer[]) ORDER BY 1
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id
)
SELECT event_id FROM unnest($1::uuid[]) AS batch(event_id)
EXCEPT ALL
SELECT event_id FROM inserted
"""

_UPSERT_WINDOWS = """
INSERT INTO window_metrics AS w (window_start, metric, area, count, sum, min, max)
SELECT * FROM unnest(
    $1::timestamptz[], $2::text[], $3::text[], $4::bigint[],
    $5::float8[], $6::float8[], $7::float8[]
) AS batch ORDER BY 1, 2, 3
ON CONFLICT (window_start, metric, area) DO UPDATE SET
    count = w.count + EXCLUDED.count,
    sum = w.sum + EXCLUDED.sum,
    min = LEAST(w.min, EXCLUDED.min),
    max = GREATEST(w.max, EXCLUDED.max),
    updated_at = now()
"""

# GREATEST: a worker that lost a partition and writes late must not move it backwards (what it
# counted twice is caught by counted_events).
_UPSERT_POSITIONS = """
INSERT INTO stream_offsets AS o (consumer_group, topic, partition, next_offset, watermark)
SELECT $1, * FROM unnest($2::text[], $3::integer[], $4::bigint[], $5::timestamptz[])
ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET
    next_offset = GREATEST(o.next_offset, EXCLUDED.next_offset),
    watermark = GREATEST(o.watermark, EXCLUDED.watermark),
    updated_at = now()
"""


def window_start(at: datetime, width: timedelta) -> datetime:
    """The start of the tumbling window of `width` (aligned on the epoch) holding `at`."""
    step = int(width.total_seconds() * 1_000_000)
    micros = (at - _EPOCH) // timedelta(microseconds=1)
    return _EPOCH + timedelta(microseconds=micros - micros % step)


@dataclass(frozen=True, slots=True)
class Counted:
    """One event as the sink counts it, and the partition it was read from."""

    event_id: uuid.UUID
    window_start: datetime
    area: str
    measures: Sequence[Measure]
    topic: str
    partition: int


def to_counted(envelope: Envelope, width: timedelta, topic: str, partition: int) -> Counted:
    """The event's id, window, area and measures."""
    return Counted(
        envelope.event_id,
        window_start(envelope.occurred_at, width),
        envelope.area,
        measures(envelope),
        topic,
        partition,
    )


@dataclass(frozen=True)
class Position:
    """Where a partition stands: the next offset to read and its watermark (newest event time)."""

    next_offset: int
    watermark: datetime | None = None


@dataclass(frozen=True)
class BatchResult:
    """What one batch changed: events counted and repeats skipped (by topic), rows upserted."""

    counted: Counter[str]
    duplicates: Counter[str]
    rows: int


_Totals = dict[tuple[datetime, str, str], list[float]]


def _add(totals: _Totals, start: datetime, area: str, event_measures: Sequence[Measure]) -> None:
    for metric, value in event_measures:
        key = (start, metric, area)
        total = totals.get(key)
        if total is None:
            totals[key] = [1, value, value, value]
        else:
            total[0] += 1
            total[1] += value
            if value < total[2]:
                total[2] = value
            if value > total[3]:
                total[3] = value


class Batch:
    """Events to count in one transaction: columns for `counted_events`, and window totals.

    `add` is called once per event as it is read, so the totals are ready when the batch is
    written; `write_batch` subtracts what turns out to be a repeat.
    """

    __slots__ = ("areas", "ids", "measures", "partitions", "topics", "totals", "windows")

    def __init__(self, events: Iterable[Counted] = ()) -> None:
        self.ids: list[uuid.UUID] = []
        self.windows: list[datetime] = []
        self.areas: list[str] = []
        self.measures: list[Sequence[Measure]] = []
        self.topics: list[str] = []
        self.partitions: list[int] = []
        self.totals: _Totals = {}
        for e in events:
            self.add(e.event_id, e.window_start, e.area, e.measures, e.topic, e.partition)

    def __len__(self) -> int:
        return len(self.ids)

    def add(
        self,
        event_id: uuid.UUID,
        start: datetime,
        area: str,
        event_measures: Sequence[Measure],
        topic: str,
        partition: int,
    ) -> None:
        """One event read from `topic`/`partition`, whose window starts at `start`."""
        self.ids.append(event_id)
        self.windows.append(start)
        self.areas.append(area)
        self.measures.append(event_measures)
        self.topics.append(topic)
        self.partitions.append(partition)
        _add(self.totals, start, area, event_measures)

    def recount(self, repeats: Sequence[uuid.UUID]) -> tuple[_Totals, Counter[str], Counter[str]]:
        """Totals and per-topic counts without `repeats` (the copies the database refused).

        An id all of whose copies came back was counted before: every copy is a repeat.
        Otherwise the first copy in the batch counts and the later ones are repeats.
        """
        returned = Counter(repeats)
        in_batch = Counter(i for i in self.ids if i in returned)
        earlier = {i for i, n in returned.items() if n >= in_batch[i]}
        seen: set[uuid.UUID] = set()
        totals: _Totals = {}
        counted: Counter[str] = Counter()
        duplicates: Counter[str] = Counter()
        for i, event_id in enumerate(self.ids):
            topic = self.topics[i]
            if event_id in returned and (event_id in earlier or event_id in seen):
                duplicates[topic] += 1
                continue
            seen.add(event_id)
            counted[topic] += 1
            _add(totals, self.windows[i], self.areas[i], self.measures[i])
        return totals, counted, duplicates


async def write_batch(
    conn: asyncpg.Connection,
    consumer_group: str,
    events: Batch | Sequence[Counted],
    positions: Mapping[tuple[str, int], Position],
) -> BatchResult:
    """Count a batch exactly once and move the group's positions past it, atomically.

    Args:
        conn: a connection (not inside a transaction).
        consumer_group: whose positions these are.
        events: the batch, in any order; duplicates (same event id) are fine.
        positions: (topic, partition) → where the partition stands after the batch.
    """
    batch = events if isinstance(events, Batch) else Batch(events)
    async with conn.transaction():
        totals = batch.totals
        counted: Counter[str] = Counter()
        duplicates: Counter[str] = Counter()
        if batch.ids:
            repeats = await conn.fetch(
                _INSERT_IDS, batch.ids, batch.windows, batch.topics, batch.partitions
            )
            if repeats:
                totals, counted, duplicates = batch.recount([r[0] for r in repeats])
            else:
                counted = Counter(batch.topics)
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
        if positions:
            parts = list(positions)
            await conn.execute(
                _UPSERT_POSITIONS,
                consumer_group,
                [p[0] for p in parts],
                [p[1] for p in parts],
                [positions[p].next_offset for p in parts],
                [positions[p].watermark for p in parts],
            )
    return BatchResult(counted, duplicates, len(totals))


async def load_positions(
    conn: asyncpg.Connection, consumer_group: str, topics: Iterable[str]
) -> dict[tuple[str, int], Position]:
    """(topic, partition) → where the group stands, as last committed with the window rows."""
    rows = await conn.fetch(
        "SELECT topic, partition, next_offset, watermark FROM stream_offsets "
        "WHERE consumer_group = $1 AND topic = ANY($2::text[])",
        consumer_group,
        list(topics),
    )
    return {(r["topic"], r["partition"]): Position(r["next_offset"], r["watermark"]) for r in rows}


async def prune_counted(
    conn: asyncpg.Connection, topic: str, partition: int, before: datetime
) -> int:
    """Forget the counted ids read from one partition whose window starts before `before`."""
    status: str = await conn.execute(
        "DELETE FROM counted_events WHERE topic = $1 AND partition = $2 AND window_start < $3",
        topic,
        partition,
        before,
    )
    return int(status.rsplit(" ", 1)[-1])


def _bucket(at: datetime, width: timedelta, origin: datetime) -> datetime:
    return origin + (at - origin) // width * width


async def refresh_rollups(conn: asyncpg.Connection, windows: Iterable[datetime]) -> int:
    """Re-materialise the hourly and daily roll-up buckets holding `windows` (TimescaleDB).

    On plain PostgreSQL the roll-ups are views and always current: nothing to do. Must run
    outside a transaction (TimescaleDB refuses to refresh inside one).

    Returns:
        How many buckets were refreshed.
    """
    timescale = await conn.fetchval(
        "SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'"
    )
    if not timescale:
        return 0
    done = 0
    for view, width in (
        ("window_metrics_1h", timedelta(hours=1)),
        ("window_metrics_1d", timedelta(days=1)),
    ):
        for start in sorted({_bucket(w, width, _DAY_ORIGIN) for w in windows}):
            # One bucket either side: TimescaleDB aligns refresh windows on its own bucket
            # origin and refuses a window it cannot fit one whole bucket in.
            await conn.execute(
                f"CALL refresh_continuous_aggregate('{view}', $1::timestamptz, $2::timestamptz)",
                start - width,
                start + 2 * width,
            )
            done += 1
    return done
