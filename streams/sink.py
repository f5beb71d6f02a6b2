"""The exactly-counted sink: the event store, window deltas and Kafka offsets, one transaction.

For each batch of events read from Kafka, one PostgreSQL transaction

1. stores the batch's events in the event store (`events`, keyed by event id and event time);
   only events not stored yet (and the first copy of an event repeated inside the batch) are
   counted. A repeat changes nothing at any age within the store's retention, whether it comes
   from a connector retry, a spool re-sent after a long outage, a file imported twice, a dead
   letter replayed twice, an overlapping backfill, a new consumer group reading the retained
   topics, or a worker that lost its partitions but has not noticed yet;
2. adds the counted events' measures to `window_metrics` with additive upserts keyed by
   (window start, metric, area), batched through `unnest` (works on PostgreSQL, TimescaleDB and
   through every proxy);
3. keeps `entity_status` current from the counted events that report a state (a camera
   online, a network point down);
4. stores, per partition, the Kafka offset after the batch and the partition's watermark (its
   newest event time) in `stream_offsets`.

A worker resumes from `stream_offsets`, never from Kafka's committed offsets, so whatever a
crash interrupts is either wholly in the database or wholly read again.

The worker adds each event to a `Batch` as it reads it: the event's store columns go into
lists, and its measures straight into the batch's window totals. The transaction then returns
only the events that were *not* new (almost always none), and only then are the totals
recomputed without them; a repeated event costs a second pass, a fresh batch none.
"""

from __future__ import annotations

import uuid
import weakref
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from ioc.events import Envelope
from ioc.kpis.measures import Measure, measures
from ioc.localtime import DAY_ORIGIN
from ioc.store import entity_of, fields_of, status_of

__all__ = [
    "Batch",
    "BatchResult",
    "Counted",
    "Position",
    "ensure_days",
    "expire_events",
    "load_positions",
    "refresh_rollups",
    "to_counted",
    "window_start",
    "write_batch",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Every copy of an event that this statement did not store: all copies of an event stored
# before, and the second and later copies of one repeated inside the batch (EXCEPT ALL is a
# multiset difference). Returning only these, not all 20,000 ids, saves decoding them.
# Metric names hold no comma: a batch passes each event's list as one comma-joined string.
_STORE_EVENTS = """
WITH batch AS (
    SELECT * FROM unnest(
        $1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
        $7::text[], $8::text[], $9::text[]
    ) AS b(event_id, occurred_at, feed, kind, area, entity, metrics, payload, source)
),
stored AS (
    INSERT INTO events (event_id, occurred_at, feed, kind, area, entity, metrics, payload, source)
    SELECT event_id, occurred_at, feed, kind, area, entity,
           string_to_array(metrics, ','), payload::jsonb, source
    FROM batch ORDER BY 1, 2
    ON CONFLICT (event_id, occurred_at) DO NOTHING
    RETURNING event_id, occurred_at
)
SELECT event_id, occurred_at FROM batch
EXCEPT ALL
SELECT event_id, occurred_at FROM stored
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

# One row per entity: its newest state in the batch and when that state began in the batch.
# Only a newer report moves a row (history imported after live data does not). `$8` lists the
# `feed/entity` whose state changed inside the batch: their `since` is the batch's own. For the
# others the state held through the whole batch, so it began at or before the stored `since`
# when the stored state is the same.
_UPSERT_STATUS = """
INSERT INTO entity_status AS s (feed, entity, kind, area, up, since, last_seen)
SELECT * FROM unnest(
    $1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::timestamptz[],
    $7::timestamptz[]
) AS b ORDER BY 1, 2
ON CONFLICT (feed, entity) DO UPDATE SET
    kind = EXCLUDED.kind,
    area = EXCLUDED.area,
    up = EXCLUDED.up,
    since = CASE
        WHEN s.up = EXCLUDED.up AND NOT (EXCLUDED.feed || '/' || EXCLUDED.entity = ANY($8::text[]))
        THEN s.since ELSE EXCLUDED.since END,
    last_seen = EXCLUDED.last_seen,
    updated_at = now()
WHERE EXCLUDED.last_seen > s.last_seen
"""

# GREATEST: a worker that lost a partition and writes late must not move it backwards (what it
# counted twice is recognised by the event store).
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
    """One event as the sink stores and counts it, and the partition it was read from.

    The keyword fields are the event store's columns; left out, they describe an event of the
    feed its first metric names, at its window's start, about its area (what a test of window
    arithmetic needs, not what a worker writes: the worker uses `to_counted`).
    """

    event_id: uuid.UUID
    window_start: datetime
    area: str
    measures: Sequence[Measure]
    topic: str
    partition: int
    occurred_at: datetime | None = None
    kind: str = ""
    entity: str = ""
    fields: str = "{}"
    source: str = ""
    status: tuple[str, bool] | None = None


def to_counted(envelope: Envelope, width: timedelta, topic: str, partition: int) -> Counted:
    """The event's id, window, area, measures and store columns."""
    return Counted(
        envelope.event_id,
        window_start(envelope.occurred_at, width),
        envelope.area,
        measures(envelope),
        topic,
        partition,
        occurred_at=envelope.occurred_at,
        kind=envelope.event_type,
        entity=entity_of(envelope),
        fields=fields_of(envelope),
        source=envelope.source,
        status=status_of(envelope),
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
    """Events to count in one transaction: the store's columns, and window totals.

    `add` is called once per event as it is read, so the totals are ready when the batch is
    written; `write_batch` subtracts what turns out to be a repeat.
    """

    __slots__ = (
        "areas",
        "entities",
        "feeds",
        "fields",
        "ids",
        "kinds",
        "measures",
        "metric_lists",
        "partitions",
        "sources",
        "statuses",
        "times",
        "topics",
        "totals",
        "windows",
    )

    def __init__(self, events: Iterable[Counted] = ()) -> None:
        self.ids: list[uuid.UUID] = []
        self.times: list[datetime] = []
        self.windows: list[datetime] = []
        self.feeds: list[str] = []
        self.kinds: list[str] = []
        self.areas: list[str] = []
        self.entities: list[str] = []
        self.metric_lists: list[str] = []
        self.fields: list[str] = []
        self.sources: list[str] = []
        self.statuses: list[tuple[str, bool] | None] = []
        self.measures: list[Sequence[Measure]] = []
        self.topics: list[str] = []
        self.partitions: list[int] = []
        self.totals: _Totals = {}
        for e in events:
            feed = (e.kind or (e.measures[0][0] if e.measures else "?")).split(".", 1)[0]
            self.add(
                e.event_id,
                e.occurred_at or e.window_start,
                e.window_start,
                feed,
                e.kind or feed,
                e.area,
                e.entity or e.area,
                e.measures,
                e.fields,
                e.source,
                e.status,
                e.topic,
                e.partition,
            )

    def __len__(self) -> int:
        return len(self.ids)

    def add(
        self,
        event_id: uuid.UUID,
        occurred_at: datetime,
        start: datetime,
        feed: str,
        kind: str,
        area: str,
        entity: str,
        event_measures: Sequence[Measure],
        fields: str,
        source: str,
        status: tuple[str, bool] | None,
        topic: str,
        partition: int,
    ) -> None:
        """One event read from `topic`/`partition`, whose window starts at `start`."""
        self.ids.append(event_id)
        self.times.append(occurred_at)
        self.windows.append(start)
        self.feeds.append(feed)
        self.kinds.append(kind)
        self.areas.append(area)
        self.entities.append(entity)
        self.metric_lists.append(",".join([m[0] for m in event_measures]))
        self.fields.append(fields)
        self.sources.append(source)
        self.statuses.append(status)
        self.measures.append(event_measures)
        self.topics.append(topic)
        self.partitions.append(partition)
        _add(self.totals, start, area, event_measures)

    def days(self) -> set[date]:
        """The UTC days the batch's events fall on (the store's daily partitions)."""
        return {t.astimezone(UTC).date() for t in self.times}

    def recount(
        self, repeats: Sequence[tuple[uuid.UUID, datetime]]
    ) -> tuple[_Totals, Counter[str], Counter[str], list[bool]]:
        """Totals, per-topic counts and which events count, without `repeats`.

        `repeats` are the copies the store refused. An event all of whose copies came back
        was stored before: every copy is a repeat. Otherwise the first copy in the batch
        counts and the later ones are repeats.
        """
        returned = Counter(repeats)
        keys = list(zip(self.ids, self.times, strict=True))
        in_batch = Counter(k for k in keys if k in returned)
        earlier = {k for k, n in returned.items() if n >= in_batch[k]}
        seen: set[tuple[uuid.UUID, datetime]] = set()
        totals: _Totals = {}
        counted: Counter[str] = Counter()
        duplicates: Counter[str] = Counter()
        counts: list[bool] = []
        for i, key in enumerate(keys):
            topic = self.topics[i]
            if key in returned and (key in earlier or key in seen):
                duplicates[topic] += 1
                counts.append(False)
                continue
            seen.add(key)
            counted[topic] += 1
            counts.append(True)
            _add(totals, self.windows[i], self.areas[i], self.measures[i])
        return totals, counted, duplicates, counts

    def status_rows(self, counts: Sequence[bool] | None) -> tuple[list[list[Any]], list[str]]:
        """The newest state of each entity reported by the counted events.

        Returns the seven column arrays of `_UPSERT_STATUS`, and the `feed/entity` whose state
        changed inside the batch.
        """
        newest: dict[tuple[str, str], list[Any]] = {}
        changed: list[str] = []
        reporting = [
            i
            for i, status in enumerate(self.statuses)
            if status is not None and (counts is None or counts[i])
        ]
        for i in sorted(reporting, key=self.times.__getitem__):
            kind, up = self.statuses[i]  # type: ignore[misc]
            key = (self.feeds[i], self.entities[i])
            at = self.times[i]
            row = newest.get(key)
            if row is None:
                newest[key] = [key[0], key[1], kind, self.areas[i], up, at, at]
                continue
            if row[4] != up:
                row[4], row[5] = up, at
                changed.append(f"{key[0]}/{key[1]}")
            row[2], row[3], row[6] = kind, self.areas[i], at
        rows = list(newest.values())
        return [[r[c] for r in rows] for c in range(7)], sorted(set(changed))


# Days each connection has made sure of: one call per new day, not one per flush. A day
# dropped meanwhile by expiry only held expired events: the insert fails, the worker resets
# on a new connection, and the events read again are refused as expired.
_READY_DAYS: weakref.WeakKeyDictionary[asyncpg.Connection, set[date]] = weakref.WeakKeyDictionary()


async def ensure_days(conn: asyncpg.Connection, days: Iterable[date]) -> None:
    """Make sure the store can take events on `days` (daily partitions on PostgreSQL)."""
    ready = _READY_DAYS.setdefault(conn, set())
    wanted = sorted(set(days) - ready)
    if wanted:
        await conn.execute("SELECT ioc_event_days($1::date[])", wanted)
        ready.update(wanted)


async def expire_events(conn: asyncpg.Connection, cutoff: datetime) -> int:
    """Drop the store's days (partitions or chunks) wholly before `cutoff`; how many went."""
    dropped: int = await conn.fetchval("SELECT ioc_expire_events($1)", cutoff)
    _READY_DAYS.pop(conn, None)
    return dropped


async def write_batch(
    conn: asyncpg.Connection,
    consumer_group: str,
    events: Batch | Sequence[Counted],
    positions: Mapping[tuple[str, int], Position],
) -> BatchResult:
    """Store and count a batch exactly once and move the group's positions past it, atomically.

    Args:
        conn: a connection (not inside a transaction).
        consumer_group: whose positions these are.
        events: the batch, in any order; duplicates (same event id and time) are fine.
        positions: (topic, partition) → where the partition stands after the batch.
    """
    batch = events if isinstance(events, Batch) else Batch(events)
    await ensure_days(conn, batch.days())
    async with conn.transaction():
        totals = batch.totals
        counted: Counter[str] = Counter()
        duplicates: Counter[str] = Counter()
        counts: list[bool] | None = None
        if batch.ids:
            repeats = await conn.fetch(
                _STORE_EVENTS,
                batch.ids,
                batch.times,
                batch.feeds,
                batch.kinds,
                batch.areas,
                batch.entities,
                batch.metric_lists,
                batch.fields,
                batch.sources,
            )
            if repeats:
                totals, counted, duplicates, counts = batch.recount([(r[0], r[1]) for r in repeats])
            else:
                counted = Counter(batch.topics)
        if totals:
            # Columns by transposing (in C): starts, metrics, areas; counts, sums, mins, maxes.
            window_columns = (*zip(*totals, strict=True), *zip(*totals.values(), strict=True))
            await conn.execute(_UPSERT_WINDOWS, *window_columns)
        if any(s is not None for s in batch.statuses):
            columns, changed = batch.status_rows(counts)
            if columns[0]:
                await conn.execute(_UPSERT_STATUS, *columns, changed)
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
        for start in sorted({_bucket(w, width, DAY_ORIGIN) for w in windows}):
            # One bucket either side: TimescaleDB aligns refresh windows on its own bucket
            # origin and refuses a window it cannot fit one whole bucket in.
            await conn.execute(
                f"CALL refresh_continuous_aggregate('{view}', $1::timestamptz, $2::timestamptz)",
                start - width,
                start + 2 * width,
            )
            done += 1
    return done
