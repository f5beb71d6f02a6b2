"""The stream worker: Kafka events → the event store and event-time windows, exactly counted.

One worker is one aiokafka consumer in the group `IOC_STREAMS__GROUP`, subscribed to the four
`ioc.events.<feed>` topics (and to `ioc.late`, which releases before the event store filled with
late events: what is still there is counted like any other event). Workers in a group split the
partitions; each partition is read by one worker at a time.

For every record, in order (a fetch is taken 1,000 records at a time, with a yield between
slices so the flush in flight goes on; what a yield lets happen, a rebalance or a reset, moves
a partition's position, and a record is taken only at its partition's current position):
1. decode and check it (`ioc.codec`, then the feed's rules in `ioc.streams.rules`); a bad
   record becomes a dead letter on `ioc.dlq` with the reason and its topic/partition/offset.
   An event older than the store keeps (`IOC_STREAMS__EVENT_RETENTION_DAYS`) is one too
   (`expired`): the store could not recognise it if it came again;
2. judge its lateness on its partition's event-time clock (the watermark: the newest event time
   read from the partition). The exact rule: an event is *late* when
   `window_start + window + allowed_lateness <= watermark`, i.e. its window closed on that
   partition more than the allowed lateness ago. A late event is counted all the same (a
   correction) and reported as late; after the flush the hourly and daily roll-ups holding
   its window are refreshed;
3. add it to the pending batch: its store columns, and its measures into the window totals.

At least every `IOC_STREAMS__FLUSH_INTERVAL_MS` (or `MAX_BATCH` records) the worker flushes:
the dead letters are sent and acknowledged first, then one PostgreSQL transaction
(`ioc.streams.sink.write_batch`) stores the batch's events, adds those stored for the first
time to `window_metrics` and `entity_status`, and stores each partition's next offset and
watermark. A repeat of a stored event changes nothing, at any age within the store's
retention. Kafka's own committed offsets are never used: on start, after a rebalance, and
after any failed flush (database restarted, broker away) the worker drops what it holds in
memory and seeks to the positions in the database, so a crash or SIGKILL at any instant
neither loses nor doubles a count. What can repeat after a crash is a dead letter sent before
the transaction that would have recorded it; a dead letter is keyed by its location (`ioc
dlq` shows each location once).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord

from ioc.areas import load_areas
from ioc.codec import HEADER_SOURCE, DecodeError, decode
from ioc.config import Settings
from ioc.db import connect
from ioc.dlq import DeadLetter
from ioc.events import FEEDS, Envelope, utc_now
from ioc.kafka import ensure_topics, make_consumer, make_producer, project_topics, topic_name
from ioc.kpis.measures import measures
from ioc.localtime import local_date
from ioc.store import entity_of, fields_of, status_of
from ioc.streams.rules import FEED_RULES
from ioc.streams.sink import (
    Batch,
    Position,
    expire_events,
    load_positions,
    refresh_rollups,
    window_start,
    write_batch,
)
from ioc.telemetry import StreamMetrics

__all__ = ["LATE_AGENT", "StreamWorker"]

log = logging.getLogger(__name__)

LATE_AGENT = "late"
# An event stamped this far after the broker received it has a wrong clock; counting it would
# push its partition's watermark ahead and make every honest event after it look late.
FUTURE_TOLERANCE = timedelta(minutes=5)
FUTURE_TOLERANCE_MS = FUTURE_TOLERANCE.total_seconds() * 1000
EXPIRE_EVERY_SECONDS = 600.0
RECHECK_EVERY_SECONDS = 5.0
METRICS_EVERY_SECONDS = 1.0
RATE_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 10.0
# Records taken between two chances for the flush in flight to move (about 25 ms of work).
TAKE_SLICE = 1_000
AREA_CACHE_MAX = 100_000
WINDOW_CACHE_MAX = 100_000
# What a failed flush or reset can raise while the database or the broker is away.
# InternalClientError: a connection whose server died while it was idle is left mid-error.
_UNAVAILABLE = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    KafkaError,
    TimeoutError,
)


@dataclass
class _Partition:
    """What the worker knows about one partition it owns."""

    agent: str
    next_offset: int
    watermark: datetime | None
    committed: Position | None  # what the database holds; None = no row yet

    def position(self) -> Position:
        return Position(self.next_offset, self.watermark)


@dataclass
class _Pending:
    """Everything read since the last flush."""

    batch: Batch = field(default_factory=Batch)
    dead: list[tuple[bytes, DeadLetter]] = field(default_factory=list)
    corrected: set[datetime] = field(default_factory=set)
    late_by: collections.Counter[str] = field(default_factory=collections.Counter)
    dead_by: collections.Counter[str] = field(default_factory=collections.Counter)

    def __len__(self) -> int:
        return len(self.batch) + len(self.dead)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: StreamWorker) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self.worker._on_revoked()

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        await self.worker._on_assigned(list(assigned))


class StreamWorker:
    """One stream worker process. `await run()` until `stop()`.

    Example:
        >>> from ioc.config import load_settings
        >>> worker = StreamWorker(load_settings(), name="worker-1")
        >>> # asyncio.run(worker.run())  # needs Kafka and a migrated database
    """

    def __init__(self, settings: Settings, name: str) -> None:
        self.settings = settings
        options = settings.streams
        self.group = options.group
        self.width = timedelta(seconds=options.window_seconds)
        self.lateness = timedelta(seconds=options.allowed_lateness_seconds)
        self.retention = timedelta(days=options.event_retention_days)
        self.flush_interval = options.flush_interval_ms / 1000
        self.max_batch = options.max_batch
        self.agent_of = {topic_name(settings, "events", feed): feed for feed in FEEDS}
        self.late_topic = topic_name(settings, "late")
        self.agent_of[self.late_topic] = LATE_AGENT
        self.dlq_topic = topic_name(settings, "dlq")
        self.metrics = StreamMetrics(name=name, group=self.group)
        for agent in (*FEEDS, LATE_AGENT):
            self.metrics.agent(agent)
        self._areas = load_areas(settings.areas_file)
        self._known_areas: dict[tuple[str, date], bool] = {}
        self.width_seconds = options.window_seconds
        self._windows: dict[int, tuple[datetime, date]] = {}
        self._partitions: dict[TopicPartition, _Partition] = {}
        self._blocked: dict[TopicPartition, str] = {}  # not read until resolved, with why
        self._oldest = utc_now() - self.retention  # events before this are refused (expired)
        self._pending = _Pending()
        self._lock = asyncio.Lock()  # one transaction, reset or expiry at a time
        self._flush_gate = asyncio.Lock()  # one caller hands over a batch at a time
        self._inflight: asyncio.Task[bool] | None = None
        self._stopping = asyncio.Event()
        self._needs_reset = False
        self._conn: asyncpg.Connection | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._reads: collections.deque[tuple[float, dict[str, int]]] = collections.deque()

    def stop(self) -> None:
        """Ask the worker to flush what it holds and leave the group."""
        self._stopping.set()

    # --- the loop -------------------------------------------------------------------------

    async def run(self) -> None:
        """Consume until `stop()`; survives database and broker outages by resuming."""
        await ensure_topics(self.settings, project_topics(self.settings))
        await self._check_schema()
        options = self.settings.streams
        consumer = make_consumer(
            self.settings,
            group_id=self.group,
            client_id=f"{self.settings.kafka.client_id}-{self.metrics.name}",
            session_timeout_ms=options.session_timeout_ms,
            heartbeat_interval_ms=max(options.session_timeout_ms // 4, 1000),
            max_partition_fetch_bytes=4 << 20,
        )
        producer = make_producer(self.settings, linger_ms=5)
        self._consumer, self._producer = consumer, producer
        consumer.subscribe(sorted(self.agent_of), listener=_Rebalance(self))
        await producer.start()
        await consumer.start()
        self.metrics.state = "running"
        self._report_blocked()
        last_flush = last_expire = last_recheck = last_metrics = time.monotonic()
        try:
            while not self._stopping.is_set():
                if self._needs_reset:
                    await self._settle()
                    await self._recover()
                    continue
                # Wait no longer than the next flush is due, so a window's last events are
                # written within one interval of arriving.
                wait = max(last_flush + self.flush_interval - time.monotonic(), 0.0)
                batch = await consumer.getmany(
                    timeout_ms=int(wait * 1000), max_records=self.max_batch
                )
                self._oldest = utc_now() - self.retention
                for tp in await self._take_in_slices(batch):
                    await self._resync(tp)
                now = time.monotonic()
                if len(self._pending) >= self.max_batch or now - last_flush >= self.flush_interval:
                    await self._start_flush()
                    last_flush = now
                if self._blocked and now - last_recheck >= RECHECK_EVERY_SECONDS:
                    await self._recheck_blocked()
                    last_recheck = now
                if now - last_expire >= EXPIRE_EVERY_SECONDS:
                    await self._expire()
                    last_expire = now
                if now - last_metrics >= METRICS_EVERY_SECONDS:
                    self._save_metrics()
                    last_metrics = now
            await self._flush()
        finally:
            self.metrics.state = "stopped"
            with contextlib.suppress(*_UNAVAILABLE):
                await consumer.stop()  # leaves the group: the others take over at once
            with contextlib.suppress(*_UNAVAILABLE):
                await producer.stop()
            await self._drop_connection()
            self._save_metrics()

    async def _take_in_slices(
        self, batch: dict[TopicPartition, list[ConsumerRecord]]
    ) -> set[TopicPartition]:
        """`_take` a fetched batch a slice at a time, letting the flush in flight go on between.

        aiokafka hands over records it already holds without suspending, and a flush only
        moves while this loop is suspended: taking 20,000 records in one go left the database
        idle while they were decoded, then the decoding idle while they were written. What
        happens during a yield (a rebalance, a reset after a failed flush) is what `_take`
        already handles for a stale fetch: it goes by each partition's current position.
        """
        resync: set[TopicPartition] = set()
        for tp, records in batch.items():
            for first in range(0, len(records), TAKE_SLICE):
                found = self._take({tp: records[first : first + TAKE_SLICE]})
                await asyncio.sleep(0)
                if found:
                    resync |= found
                    break
        return resync

    def _take(self, batch: dict[TopicPartition, list[ConsumerRecord]]) -> set[TopicPartition]:
        """Classify a fetched batch into the pending one. Returns partitions to resync."""
        resync = set()
        for tp, records in batch.items():
            part = self._partitions.get(tp)
            if part is None:
                continue  # fetched before this worker lost the partition
            agent = self.metrics.agents[part.agent]
            for record in records:
                if record.offset < part.next_offset:
                    continue  # fetched before a seek back to the stored position
                if record.offset > part.next_offset:
                    resync.add(tp)  # a gap: records deleted, or a stale fetch
                    break
                part.next_offset = record.offset + 1
                agent.read += 1
                try:
                    self._one(tp, part, record)
                except Exception as err:
                    # Whatever a record makes fail, it must not stop the worker: it would read
                    # the same record after the restart and stop again, for ever.
                    log.exception("%s: record %s/%d failed", self.metrics.name, tp, record.offset)
                    self._dead(tp, part, record, "internal", f"{type(err).__name__}: {err}")
        return resync

    def _one(self, tp: TopicPartition, part: _Partition, record: ConsumerRecord) -> None:
        try:
            envelope = decode(record.value)
        except DecodeError as err:
            self._dead(tp, part, record, err.reason, err.detail)
            return
        problem = self._time_problem(envelope, record.timestamp)
        if problem is not None:
            self._dead(tp, part, record, *problem)
            return
        start, day = self._window(envelope.occurred_at)
        if part.agent == LATE_AGENT:
            # Forwarded by a release before the event store, after its checks: count it.
            self._add(tp, envelope, start, corrected=True)
            self._advance(part, envelope.occurred_at)
            return
        problem = self._check(part.agent, envelope, day)
        if problem is not None:
            self._dead(tp, part, record, *problem)
            return
        late = part.watermark is not None and start + self.width + self.lateness <= part.watermark
        if late:
            self._pending.late_by[part.agent] += 1
        self._add(tp, envelope, start, corrected=late)
        self._advance(part, envelope.occurred_at)

    def _add(
        self, tp: TopicPartition, envelope: Envelope, start: datetime, corrected: bool
    ) -> None:
        """Into the batch: the event's store columns, and its measures into the window totals.

        A late event (its window closed on the partition) is counted all the same: the store
        recognises a repeat at any age. Its roll-up buckets are refreshed after the flush.
        """
        self._pending.batch.add(
            envelope.event_id,
            envelope.occurred_at,
            start,
            envelope.feed,
            envelope.event_type,
            envelope.area,
            entity_of(envelope),
            measures(envelope),
            fields_of(envelope),
            envelope.source,
            status_of(envelope),
            tp.topic,
            tp.partition,
        )
        if corrected:
            self._pending.corrected.add(start)

    @staticmethod
    def _advance(part: _Partition, occurred_at: datetime) -> None:
        if part.watermark is None or occurred_at > part.watermark:
            part.watermark = occurred_at

    def _window(self, at: datetime) -> tuple[datetime, date]:
        """The window holding `at` and its local day, cached: most events share a window."""
        key = int(at.timestamp() // self.width_seconds)
        found = self._windows.get(key)
        if found is None:
            start = window_start(at, self.width)
            # Windows divide an hour and the zone's offset is whole hours (UTC+7): the
            # window's start and its events share a local day.
            found = (start, local_date(start))
            if len(self._windows) > WINDOW_CACHE_MAX:
                self._windows.clear()
            self._windows[key] = found
        return found

    def _time_problem(self, envelope: Envelope, appended_ms: int) -> tuple[str, str] | None:
        """(reason, detail) if the event's time cannot be counted: too old, or in the future."""
        if envelope.occurred_at < self._oldest:
            return (
                "expired",
                f"occurred_at {envelope.occurred_at.isoformat()} is older than the event store "
                f"keeps (IOC_STREAMS__EVENT_RETENTION_DAYS={self.retention.days}): it could not "
                "be recognised if it came again, so it is not counted",
            )
        if envelope.occurred_at.timestamp() * 1000 > appended_ms + FUTURE_TOLERANCE_MS:
            appended = datetime.fromtimestamp(appended_ms / 1000, UTC)
            return (
                "future",
                f"occurred_at {envelope.occurred_at.isoformat()} is after the broker received "
                f"it ({appended.isoformat()}) by more than {FUTURE_TOLERANCE}",
            )
        return None

    def _check(self, feed: str, envelope: Envelope, day: date) -> tuple[str, str] | None:
        """(reason, detail) if a decoded event cannot be counted on this feed's topic."""
        if envelope.feed != feed:
            return "wrong_feed", f"a {envelope.event_type} event on the {feed} topic"
        known = self._known_areas.get((envelope.area, day))
        if known is None:
            try:
                self._areas.get(envelope.area, on=day)
                known = True
            except KeyError:
                known = False
            if len(self._known_areas) > AREA_CACHE_MAX:  # bad codes must not grow it forever
                self._known_areas.clear()
            self._known_areas[(envelope.area, day)] = known
        if not known:
            return "unknown_area", f"area {envelope.area!r} does not exist on {day}"
        return FEED_RULES[feed].reject(envelope)

    def _dead(
        self,
        tp: TopicPartition,
        part: _Partition,
        record: ConsumerRecord,
        reason: str,
        detail: str,
    ) -> None:
        headers = dict(record.headers or ())
        location = f"{tp.topic}/{tp.partition}/{record.offset}"
        letter = DeadLetter(
            original=record.value or b"",
            reason=reason,
            detail=detail,
            source=headers.get(HEADER_SOURCE, b"").decode("utf-8", "replace")
            or f"streams/{part.agent}",
            stage="stream",
            location=location,
        ).bounded()
        self._pending.dead.append((location.encode(), letter))
        self._pending.dead_by[part.agent] += 1

    # --- flushing -------------------------------------------------------------------------

    async def _flush(self) -> bool:
        """Commit everything read so far and wait for it (rebalance, stop)."""
        await self._start_flush()
        return await self._settle()

    async def _start_flush(self) -> None:
        """Hand what is pending to a background transaction, at most one in flight.

        The worker keeps reading and decoding while the database writes (the write used to
        leave the worker idle a quarter of the time). Positions are snapshotted here, so the
        transaction commits exactly the records in its batch.
        """
        async with self._flush_gate:
            if not await self._settle():
                return  # the previous batch failed: everything since is dropped by the reset
            moved = {
                tp: (part, part.position())
                for tp, part in self._partitions.items()
                if part.committed != part.position()
            }
            pending, self._pending = self._pending, _Pending()
            if moved or len(pending):
                self._inflight = asyncio.create_task(self._commit(pending, moved))
                await asyncio.sleep(0)  # the transaction starts now, not at the next yield

    async def _settle(self) -> bool:
        """Wait for the transaction in flight; False if it failed."""
        task, self._inflight = self._inflight, None
        return True if task is None else await task

    async def _commit(
        self, pending: _Pending, moved: dict[TopicPartition, tuple[_Partition, Position]]
    ) -> bool:
        """Send dead letters and late records, then commit windows and positions in one go."""
        async with self._lock:
            return await self._commit_locked(pending, moved)

    async def _commit_locked(
        self, pending: _Pending, moved: dict[TopicPartition, tuple[_Partition, Position]]
    ) -> bool:
        try:
            await self._send(pending)
            conn = await self._connection()
            result = await write_batch(
                conn,
                self.group,
                pending.batch,
                {(tp.topic, tp.partition): position for tp, (_, position) in moved.items()},
            )
        except _UNAVAILABLE as err:
            log.warning("flush failed, resuming from the database's positions: %r", err)
            self.metrics.flush_errors += 1
            self._needs_reset = True
            await self._drop_connection()
            return False
        for part, position in moved.values():
            part.committed = position
        self.metrics.flushes += 1
        agent_of_topic = self.agent_of
        for topic, n in result.counted.items():
            self.metrics.agents[agent_of_topic[topic]].counted += n
        for topic, n in result.duplicates.items():
            self.metrics.agents[agent_of_topic[topic]].duplicates += n
        for agent, n in pending.late_by.items():
            self.metrics.agents[agent].late += n
        for agent, n in pending.dead_by.items():
            self.metrics.agents[agent].dead_lettered += n
        if pending.corrected:
            try:
                await refresh_rollups(conn, pending.corrected)
            except _UNAVAILABLE as err:  # the refresh policy catches up (start_offset NULL)
                log.warning("could not refresh the roll-ups of corrected windows: %r", err)
        return True

    async def _send(self, pending: _Pending) -> None:
        """Dead letters, acknowledged before their offsets are committed."""
        if not pending.dead:
            return
        assert self._producer is not None
        futures = [
            await self._producer.send(
                self.dlq_topic, letter.original, key=key, headers=letter.headers()
            )
            for key, letter in pending.dead
        ]
        await asyncio.gather(*futures)

    async def _expire(self) -> None:
        """Drop the store's days beyond its retention (whole partitions or chunks)."""
        async with self._lock:
            try:
                conn = await self._connection()
                dropped = await expire_events(conn, utc_now() - self.retention)
            except _UNAVAILABLE as err:
                log.warning("could not drop expired days of the event store (will retry): %r", err)
                await self._drop_connection()
                return
        if dropped:
            log.info("dropped %d days of the event store beyond its retention", dropped)

    # --- positions: start, rebalance, recovery ----------------------------------------------

    async def _on_revoked(self) -> None:
        await self._flush()  # if it fails, the next owner re-reads from the stored positions
        async with self._lock:
            self._partitions.clear()
            self._blocked.clear()
            self._pending = _Pending()

    async def _on_assigned(self, assigned: list[TopicPartition]) -> None:
        # aiokafka logs and swallows exceptions raised here: remember to retry instead.
        try:
            async with self._lock:
                await self._reset(assigned)
        except _UNAVAILABLE as err:
            log.warning("could not load stored positions, will retry: %r", err)
            self._needs_reset = True
        else:
            self._needs_reset = False

    async def _recover(self) -> None:
        """Reset to the stored positions, retrying with backoff until the services are back."""
        self.metrics.state = "recovering"
        delay = 0.5
        while not self._stopping.is_set():
            assert self._consumer is not None
            try:
                async with self._lock:
                    await self._reset(list(self._consumer.assignment()))
            except _UNAVAILABLE as err:
                log.warning("database or broker unavailable, retrying in %.1f s: %r", delay, err)
                await self._drop_connection()
                self._save_metrics()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                delay = min(delay * 2, 10.0)
                continue
            self._needs_reset = False
            self.metrics.state = "running"
            self._report_blocked()
            return

    async def _reset(self, assigned: list[TopicPartition]) -> None:
        """Forget everything held in memory; seek `assigned` to the stored positions.

        A partition with no stored position starts at `IOC_STREAMS__START_FROM`. A stored
        position past the partition's end (the topic was re-created, or its offsets reset) is
        not trusted and not "corrected" here: the partition is left unread, the problem is
        reported (log, `ioc status`, metrics, health), and `ioc streams seek` resolves it.
        """
        self._partitions.clear()
        self._pending = _Pending()
        self._blocked.clear()
        self.metrics.partitions = sorted(f"{tp.topic}/{tp.partition}" for tp in assigned)
        if not assigned:
            self._report_blocked()
            return
        assert self._consumer is not None
        conn = await self._connection()
        stored = await load_positions(conn, self.group, {tp.topic for tp in assigned})
        ends = await self._consumer.end_offsets(assigned)
        new = [tp for tp in assigned if (tp.topic, tp.partition) not in stored]
        first = await self._first_positions(new) if new else {}
        for tp in assigned:
            committed = stored.get((tp.topic, tp.partition))
            if committed is not None and committed.next_offset > ends[tp]:
                self._block(tp, committed.next_offset, ends[tp])
                continue
            start = committed or Position(first[tp])
            self._partitions[tp] = _Partition(
                self.agent_of[tp.topic], start.next_offset, start.watermark, committed
            )
            self._consumer.seek(tp, start.next_offset)
        self._consumer.pause(*self._blocked)
        self._consumer.resume(*self._partitions)
        self._report_blocked()
        log.info("reading %d partitions from their stored positions", len(self._partitions))

    async def _first_positions(self, new: list[TopicPartition]) -> dict[TopicPartition, int]:
        """Where partitions without a stored position start (IOC_STREAMS__START_FROM)."""
        assert self._consumer is not None
        start = self.settings.streams.start_from
        if start == "earliest":
            return dict(await self._consumer.beginning_offsets(new))
        ends: dict[TopicPartition, int] = await self._consumer.end_offsets(new)
        if start == "latest":
            return ends
        assert isinstance(start, datetime)
        found = await self._consumer.offsets_for_times(
            {tp: int(start.timestamp() * 1000) for tp in new}
        )
        # No record at or after the time: start at the end (nothing older is read).
        return {tp: ends[tp] if found[tp] is None else found[tp].offset for tp in new}

    def _block(self, tp: TopicPartition, stored: int, end: int) -> None:
        where = f"{tp.topic}/{tp.partition}"
        problem = (
            f"the stored position {stored:,} is past the partition's end {end:,}: the topic was "
            "re-created or its offsets reset. Nothing is skipped on its own; choose where to "
            f"read from: ioc streams seek --group {self.group} --topic {tp.topic} "
            f"--partition {tp.partition} --to earliest (safe: the event store counts nothing "
            "twice)"
        )
        log.error("not reading %s: %s", where, problem)
        self._blocked[tp] = problem

    def _report_blocked(self) -> None:
        self.metrics.position_errors = {
            f"{tp.topic}/{tp.partition}": problem for tp, problem in self._blocked.items()
        }
        if self.metrics.state in ("running", "blocked"):
            self.metrics.state = "blocked" if self._blocked else "running"

    async def _recheck_blocked(self) -> None:
        """Read a blocked partition again once an operator has moved its stored position."""
        if not self._blocked or self._consumer is None:
            return
        async with self._lock:
            try:
                conn = await self._connection()
                blocked = list(self._blocked)
                stored = await load_positions(conn, self.group, {tp.topic for tp in blocked})
                ends = await self._consumer.end_offsets(blocked)
            except _UNAVAILABLE as err:
                log.warning("could not recheck blocked partitions (will retry): %r", err)
                await self._drop_connection()
                return
            for tp in blocked:
                position = stored.get((tp.topic, tp.partition))
                if position is None or position.next_offset > ends[tp]:
                    continue
                if tp not in self._consumer.assignment():
                    continue  # moved to another worker meanwhile: it checks for itself
                del self._blocked[tp]
                self._partitions[tp] = _Partition(
                    self.agent_of[tp.topic], position.next_offset, position.watermark, position
                )
                self._consumer.seek(tp, position.next_offset)
                self._consumer.resume(tp)
                log.info(
                    "reading %s/%d again from %d", tp.topic, tp.partition, position.next_offset
                )
            self._report_blocked()

    async def _resync(self, tp: TopicPartition) -> None:
        """After a gap in offsets: skip what retention deleted, then seek to the position."""
        part = self._partitions.get(tp)
        if part is None or self._consumer is None:
            return
        try:
            start = (await self._consumer.beginning_offsets([tp]))[tp]
        except _UNAVAILABLE:
            self._needs_reset = True
            return
        if self._partitions.get(tp) is not part:
            return  # a rebalance happened meanwhile and sought the partition already
        if start > part.next_offset:
            lost = start - part.next_offset
            log.error(
                "%d records of %s/%d were deleted by retention before being read",
                lost,
                tp.topic,
                tp.partition,
            )
            self.metrics.lost_to_retention += lost
            part.next_offset = start
        self._consumer.seek(tp, part.next_offset)

    # --- helpers --------------------------------------------------------------------------

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
                self._conn = await connect(self.settings)
        return self._conn

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()  # close() can wait on a dead server

    async def _check_schema(self) -> None:
        conn = await self._connection()
        if await conn.fetchval("SELECT to_regclass('window_metrics')") is None:
            raise RuntimeError(
                "the database has no window_metrics table: run `ioc db migrate` first"
            )

    def _save_metrics(self) -> None:
        now = time.monotonic()
        consumer = self._consumer
        lag: collections.Counter[str] = collections.Counter()
        watermark: dict[str, datetime] = {}
        for tp, part in self._partitions.items():
            high = consumer.highwater(tp) if consumer is not None else None
            if high is not None:
                lag[part.agent] += max(high - part.next_offset, 0)
            if part.watermark is not None and (
                part.agent not in watermark or part.watermark > watermark[part.agent]
            ):
                watermark[part.agent] = part.watermark
        reads = {name: agent.read for name, agent in self.metrics.agents.items()}
        self._reads.append((now, reads))
        while now - self._reads[0][0] > RATE_SECONDS:
            self._reads.popleft()
        then, before = self._reads[0]
        for name, agent in self.metrics.agents.items():
            agent.lag = lag[name]
            agent.rate = (reads[name] - before[name]) / (now - then) if now > then else 0.0
            if name in watermark:
                agent.watermark = watermark[name].isoformat()
        self.metrics.updated_at = utc_now().isoformat()
        self.metrics.save(self.settings.state_dir)
