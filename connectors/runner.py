"""The runner: drives one connector and owns its Kafka producer.

It pulls items from `Connector.events()` and publishes them: envelopes to
`ioc.events.<feed>` (key = envelope key, headers = type/version/source), rejected inputs to
`ioc.dlq`. The producer is idempotent with acks=all, lz4 compression and batching (linger).

Two modes:

- **direct**: records go straight to the producer; at most `max_in_flight` are unacknowledged.
- **spooling**: entered when a delivery fails or is not acknowledged within
  `IOC_CONNECTORS__DELIVERY_TIMEOUT_SECONDS` (the broker is away). Every unacknowledged
  record, then every new one, is appended to the on-disk spool, in order. A drainer
  reconnects with backoff and sends the spool oldest first; once it is empty the runner goes
  back to direct, so per-key order is kept. A full spool stops pulling from the connector
  (back-pressure), it never drops. Records that were in flight when the broker went away may
  be delivered twice; downstream counts an event id once. A disk that refuses the spool's
  writes (full) is back-pressure too (state `disk-full`): the record is kept, tried again
  every second, and nothing is committed to the connector until it is written.

A record the broker can never take (over `ioc.kafka.RECORD_MAX_BYTES`, or refused as too
large or corrupt by the broker) is not "the broker is away": it becomes a `too_large` dead
letter holding the first `ioc.dlq.ORIGINAL_LIMIT` bytes of it with its size and SHA-256, and
the records behind it are sent. Dead letters from the connector are cut the same way.

A clean stop delivers everything still in flight, or spools it when the broker is away; the
spool is delivered by the next run. Metrics (`ioc.telemetry.ConnectorMetrics`) are written
every second for `ioc status` and the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    CorruptRecordException,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from ioc.codec import encode, headers
from ioc.config import Settings
from ioc.connectors.base import Connector, ConnectorError, Item, Rejected
from ioc.connectors.spool import Spool, SpoolRecord
from ioc.dlq import DeadLetter
from ioc.events import FEEDS, Envelope, utc_now
from ioc.kafka import RECORD_MAX_BYTES, make_producer, topic_name
from ioc.telemetry import ConnectorMetrics

__all__ = ["ConnectorRunner"]

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 20_000
CHECK_EVERY = 256  # records between looks at acknowledgements (a look per record costs 7%)
DRAIN_BATCH = 2_000
COMMIT_INTERVAL_SECONDS = 1.0
METRICS_INTERVAL_SECONDS = 1.0
_BACKOFF_MAX_SECONDS = 10.0
DISK_FULL_RETRY_SECONDS = 1.0  # how often a full spool disk is tried again
# Errors about one record, not about the broker: retrying cannot help (checked before _TRANSIENT).
_PERMANENT = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    CorruptRecordException,
)
_TRANSIENT = (KafkaError, OSError, TimeoutError)


class ConnectorRunner:
    """Publish everything one connector yields. See the module docstring for the modes.

    Args:
        connector: the connector instance to drive.
        settings: project settings (Kafka security, topic prefix, spool size, timeouts).
        bootstrap: broker address; default resolved from settings or the running `ioc up`.
        state_dir: where the spool and metrics live; default `settings.state_dir`.
        producer_options: extra aiokafka producer options (tests, benchmarks).
    """

    def __init__(
        self,
        connector: Connector,
        settings: Settings,
        *,
        bootstrap: str | None = None,
        state_dir: Path | None = None,
        producer_options: dict[str, Any] | None = None,
    ) -> None:
        self.connector = connector
        self.settings = settings
        self.name = connector.context.name
        self._bootstrap = bootstrap
        self._state_dir = state_dir or settings.state_dir
        options = settings.connectors
        self._timeout = options.delivery_timeout_seconds
        self._producer_options = {
            "linger_ms": options.linger_ms,
            "max_batch_size": 256 * 1024,
            "request_timeout_ms": int(self._timeout * 1000),
        } | (producer_options or {})
        self._max_record = int(self._producer_options.get("max_request_size", RECORD_MAX_BYTES))
        self.spool = Spool(self._state_dir / "spool" / self.name, options.spool_max_mb * 2**20)
        self.metrics = ConnectorMetrics(self.name, type(connector).feed or "configured")
        self._topics = {feed: topic_name(settings, "events", feed) for feed in FEEDS}
        self._dlq_topic = topic_name(settings, "dlq")
        self._producer: AIOKafkaProducer | None = None
        self._generation = 0  # deliveries of a retired producer are not counted
        self._in_flight: deque[tuple[SpoolRecord, asyncio.Future[Any], float]] = deque()
        self._drainer: asyncio.Task[None] | None = None
        self._room = asyncio.Event()
        self._stopping = False
        self._draining = False
        self._uncommitted = False
        self._last_event_time: datetime | None = None
        self._since_check = 0
        # Records accepted but not yet in the spool because its disk refused them.
        self._backlog: list[bytes] = []
        self._disk_full_since: float | None = None
        self._pulling = False
        self._pump: asyncio.Task[None] | None = None
        self._rate_samples: deque[tuple[float, int]] = deque(maxlen=11)
        self._commits = type(connector).commit is not Connector.commit

    # --- public ---------------------------------------------------------------------------
    async def run(self) -> ConnectorMetrics:
        """Run until the connector ends or `stop()` is called; returns the final metrics."""
        reporter = asyncio.create_task(self._report_forever())
        idle_commits = asyncio.create_task(self._commit_when_idle()) if self._commits else None
        try:
            if self.spool.empty:
                await self._connect_direct()
            else:
                self._enter_spooling("records left in the spool by a previous run")
            self._pump = asyncio.create_task(self._pump_items())
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            await self._finish()
        finally:
            for task in (reporter, idle_commits):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            self.spool.close()
            self._write_metrics("stopped")
        return self.metrics

    def stop(self) -> None:
        """Ask the runner to stop: nothing more is pulled; what was pulled is delivered.

        A connector that accepted input it has not yielded yet (an HTTP endpoint) drains it:
        its `request_stop()` returns True and its `events()` ends once it is all yielded.
        """
        if self._stopping:
            return
        self._stopping = True
        self._room.set()
        self._draining = self.connector.request_stop()
        # Interrupt only a pull (the connector is waiting for its source), never a publish.
        if not self._draining and self._pulling and self._pump is not None:
            self._pump.cancel()

    # --- pulling --------------------------------------------------------------------------
    async def _pump_items(self) -> None:
        events = self.connector.events()
        last_commit = time.monotonic()
        try:
            while self._draining or not self._stopping:
                self._pulling = True
                try:
                    item = await anext(events)
                except StopAsyncIteration:
                    break
                finally:
                    self._pulling = False
                await self._publish(self._record(item))
                if self._commits and time.monotonic() - last_commit >= COMMIT_INTERVAL_SECONDS:
                    await self._commit()
                    last_commit = time.monotonic()
        finally:
            await _close_generator(events)
            await self.connector.aclose()

    def _record(self, item: Item) -> SpoolRecord:
        self.metrics.yielded += 1
        self._uncommitted = True
        if isinstance(item, Envelope):
            self._last_event_time = item.occurred_at
            topic = self._topics[item.feed]
            record = SpoolRecord(topic, item.key.encode(), encode(item), headers(item))
            if _size(record) > self._max_record:
                return self._too_large(record, f"over {self._max_record} bytes")
            return record
        if isinstance(item, Rejected):
            letter = DeadLetter(
                original=item.original,
                reason=item.reason,
                detail=item.detail,
                source=self.name,
                stage="ingest",
                location=item.location,
            )
            return self._letter(letter)
        raise TypeError(f"connector {self.name!r} yielded {type(item).__name__}, not an Envelope")

    def _letter(self, letter: DeadLetter) -> SpoolRecord:
        self.metrics.dead_lettered += 1
        letter = letter.bounded()
        return SpoolRecord(self._dlq_topic, self.name.encode(), letter.original, letter.headers())

    def _too_large(self, record: SpoolRecord, why: str) -> SpoolRecord:
        """The dead letter that replaces a record the broker will never take."""
        log.warning(
            "connector %s: a %d-byte record for %s cannot be sent (%s); dead-lettered",
            self.name,
            _size(record),
            record.topic,
            why,
        )
        headers = dict(record.headers)
        return self._letter(
            DeadLetter(
                original=record.value,
                reason="too_large",
                detail=f"a {_size(record)}-byte record for {record.topic} cannot be sent: {why}",
                source=headers.get("ioc-source", self.name.encode()).decode("utf-8", "replace"),
                stage="ingest",
                location=headers.get("ioc-dlq-location", b"").decode("utf-8", "replace") or None,
            )
        )

    async def _commit(self) -> None:
        """Let the connector save its position once everything it yielded is durable."""
        if self._drainer is None:
            await self._settle_in_flight()
        if self._durable_commit():
            self._uncommitted = False
            await self.connector.commit()

    def _durable_commit(self) -> bool:
        """Force spooled records to disk before a commit says they are safe.

        Durable means acknowledged by the broker or fsynced in the spool: an http-ingest 202
        with ack=committed must survive a power cut. No await between this and the commit, so
        nothing yielded in between is counted as synced. At most one fsync per commit (a
        second), and none while the broker takes everything.

        Returns:
            False, and nothing may be committed, while records wait for room on a full
            disk or the disk refuses the fsync.
        """
        if self._backlog:
            return False
        try:
            self.spool.sync()
        except OSError as err:
            self._disk_full(err)
            return False
        return True

    async def _commit_when_idle(self) -> None:
        """Commit while the connector waits for input, so its last items get committed too.

        Only when the pump is inside `events()` (every item it yielded has been handed to the
        producer or the spool) and nothing is left unacknowledged.
        """
        while True:
            await asyncio.sleep(COMMIT_INTERVAL_SECONDS)
            if not (self._pulling and self._uncommitted):
                continue
            if self._drainer is None:
                self._check_deliveries()
            idle = self._pulling and (self._drainer is not None or not self._in_flight)
            if idle and self._durable_commit():
                self._uncommitted = False
                await self.connector.commit()

    # --- publishing -----------------------------------------------------------------------
    async def _publish(self, record: SpoolRecord) -> None:
        self._since_check += 1
        if self._drainer is None and self._since_check >= CHECK_EVERY:
            self._since_check = 0
            self._check_deliveries()
        if self._drainer is None and self._producer is not None:
            if len(self._in_flight) >= MAX_IN_FLIGHT:
                await self._wait_oldest()
            if self._drainer is None:
                try:
                    # No timeout of ours here: it costs a timer per record, and aiokafka's
                    # send() gives up after request_timeout_ms (= the delivery timeout).
                    future = await self._producer.send(
                        record.topic, record.value, key=record.key, headers=record.headers
                    )
                except _PERMANENT as err:
                    await self._publish(self._too_large(record, repr(err)))
                    return
                except _TRANSIENT as err:
                    self._enter_spooling(f"send failed: {err!r}")
                else:
                    self._track(record, future)
                    return
        await self._spool(record)

    def _track(self, record: SpoolRecord, future: asyncio.Future[Any]) -> None:
        generation = self._generation

        def delivered(done: asyncio.Future[Any]) -> None:
            if generation == self._generation and _succeeded(done):
                self.metrics.sent += 1

        future.add_done_callback(delivered)
        self._in_flight.append((record, future, time.monotonic()))

    def _check_deliveries(self) -> None:
        """Forget acknowledged records; switch to spooling on a failure or a stuck record."""
        while self._in_flight and self._in_flight[0][1].done():
            future = self._in_flight[0][1]
            if not _succeeded(future):
                error = None if future.cancelled() else future.exception()
                self._enter_spooling(f"delivery failed: {error!r}")
                return
            self._in_flight.popleft()
        if self._in_flight and time.monotonic() - self._in_flight[0][2] > self._timeout:
            self._enter_spooling(f"no acknowledgement for {self._timeout:g} s")

    async def _wait_oldest(self) -> None:
        _record, future, sent_at = self._in_flight[0]
        remaining = max(0.0, self._timeout - (time.monotonic() - sent_at))
        await asyncio.wait([future], timeout=remaining)
        self._check_deliveries()

    async def _settle_in_flight(self) -> None:
        """Wait until every in-flight record is acknowledged or spooled."""
        while self._in_flight and self._drainer is None:
            await self._wait_oldest()

    async def _spool(self, record: SpoolRecord) -> None:
        frame = record.encode()
        # When stopping, the record already pulled is kept even past the bound.
        while not self.spool.has_room(len(frame)) and not self._stopping:
            self.metrics.state = "back-pressure"
            self._room.clear()
            await self._room.wait()
            self.metrics.state = "spooling"
        await self._write_spool([frame])
        self.metrics.spooled += 1

    async def _write_spool(self, frames: list[bytes]) -> None:
        """Append to the spool (after the backlog); while the disk refuses, wait and retry.

        Nothing is dropped and nothing more is pulled from the connector meanwhile
        (back-pressure, state `disk-full`: unhealthy in `ioc status`). A stop with the disk
        still full raises instead: what was not written was not committed either, so the
        source gives it again (a file is re-read from its last committed position, an
        http-ingest client has no 202 and retries).
        """
        while True:
            try:
                self.spool.append(self._backlog + frames)
            except OSError as err:
                self._disk_full(err)
                if self._stopping:
                    raise ConnectorError(
                        f"connector {self.name}: stopped with the spool's disk full ({err}); "
                        "what was not written was not committed: the source gives it again"
                    ) from err
                await asyncio.sleep(DISK_FULL_RETRY_SECONDS)
                continue
            self._backlog = []
            if self._disk_full_since is not None:
                log.info("connector %s: the spool's disk has room again", self.name)
                self._disk_full_since = None
                self.metrics.state = "spooling"
            return

    def _disk_full(self, err: OSError) -> None:
        if self._disk_full_since is None:
            self._disk_full_since = time.monotonic()
            log.error(
                "connector %s: cannot write the spool %s (%s); the source waits until there "
                "is room",
                self.name,
                self.spool.directory,
                err,
            )
        self.metrics.state = "disk-full"

    # --- broker away / back ---------------------------------------------------------------
    def _enter_spooling(self, why: str) -> None:
        """Move every unacknowledged record to the spool, in order, and start draining."""
        log.warning("connector %s: broker unavailable (%s); spooling to disk", self.name, why)
        self._generation += 1
        pending = [record for record, future, _ in self._in_flight if not _succeeded(future)]
        self._in_flight.clear()
        self.metrics.state = "spooling"
        if pending:
            # Not bounded: these were already accepted; the bound applies to new records.
            frames = [r.encode() for r in pending]
            try:
                self.spool.append(frames)
            except OSError as err:
                # Kept in memory, oldest first: written before anything else once there
                # is room (`_write_spool`), and never committed before that.
                self._backlog = frames
                self._disk_full(err)
            self.metrics.spooled += len(pending)
            self.metrics.failed += len(pending)
        if self._producer is not None:
            _retire(self._producer)
            self._producer = None
        self._drainer = asyncio.create_task(self._drain())

    async def _connect_direct(self) -> None:
        """Start a producer; when the broker cannot be reached, start in spooling mode."""
        try:
            self._producer = await self._start_producer()
        except _TRANSIENT as err:
            self._enter_spooling(f"cannot connect: {err!r}")
            return
        self.metrics.state = "running"

    async def _start_producer(self) -> AIOKafkaProducer:
        producer = make_producer(self.settings, self._bootstrap, **self._producer_options)
        try:
            async with asyncio.timeout(self._timeout):
                await producer.start()
        except BaseException:
            _retire(producer)
            raise
        return producer

    async def _drain(self) -> None:
        """Deliver the spool oldest first, reconnecting with backoff, then go direct."""
        backoff = 0.5
        while True:
            producer = None
            records: list[SpoolRecord] = []
            try:
                producer = await self._start_producer()
                while True:
                    if self._backlog:
                        await self._write_spool([])
                    records, upto = self.spool.peek(DRAIN_BATCH)
                    try:
                        async with asyncio.timeout(self._timeout):
                            futures = [
                                await producer.send(r.topic, r.value, key=r.key, headers=r.headers)
                                for r in records
                            ]
                            await asyncio.gather(*futures)
                    except _PERMANENT:
                        # Some record of the batch can never be sent: send them one by one,
                        # each that fails so as a dead letter (a batch may repeat: counted once).
                        _retire(producer)
                        producer = await self._start_producer()
                        producer = await self._send_each(producer, records)
                    self.spool.consume(upto, len(records))
                    self.metrics.sent += len(records)
                    self._room.set()
                    if self.spool.empty and not self._backlog:
                        # No await between the last consume and this switch: a record
                        # spooled meanwhile would otherwise be overtaken.
                        self._producer, producer = producer, None
                        self._drainer = None
                        self.metrics.state = "running"
                        log.info("connector %s: broker back, spool delivered", self.name)
                        return
                    backoff = 0.5
            except _TRANSIENT as err:
                log.debug("connector %s: spool delivery failed: %r", self.name, err)
                self.metrics.failed += len(records)
                if producer is not None:
                    _retire(producer)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX_SECONDS)

    async def _send_each(
        self, producer: AIOKafkaProducer, records: list[SpoolRecord]
    ) -> AIOKafkaProducer:
        """Send records one at a time, a dead letter instead of each the broker refuses.

        Returns the producer to go on with: after a refused batch an idempotent producer's
        sequence numbers have a gap, so each refusal starts a new one.
        """
        for record in records:
            try:
                async with asyncio.timeout(self._timeout):
                    await (
                        await producer.send(
                            record.topic, record.value, key=record.key, headers=record.headers
                        )
                    )
                continue
            except _PERMANENT as err:
                letter = self._too_large(record, repr(err))
            _retire(producer)
            producer = await self._start_producer()
            async with asyncio.timeout(self._timeout):
                await (
                    await producer.send(
                        letter.topic, letter.value, key=letter.key, headers=letter.headers
                    )
                )
        return producer

    async def _finish(self) -> None:
        """Deliver what is in flight (or spool it), then give the drainer a last chance."""
        if self._drainer is None:
            await self._settle_in_flight()
        if self._drainer is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._drainer), self._timeout)
        if self._drainer is not None:
            self._drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drainer
            log.warning(
                "connector %s: stopped with %d records spooled; the next run delivers them",
                self.name,
                len(self.spool),
            )
        if self._producer is not None:
            with contextlib.suppress(*_TRANSIENT):
                async with asyncio.timeout(self._timeout):
                    await self._producer.stop()
        # Everything yielded is acknowledged or in the spool by now (unless the disk is full).
        if self._commits and self._durable_commit():
            await self.connector.commit()

    # --- metrics --------------------------------------------------------------------------
    async def _report_forever(self) -> None:
        while True:
            self._write_metrics()
            await asyncio.sleep(METRICS_INTERVAL_SECONDS)

    def _write_metrics(self, state: str | None = None) -> None:
        metrics = self.metrics
        if state is not None:
            metrics.state = state
        now = time.monotonic()
        self._rate_samples.append((now, metrics.sent))
        first_at, first_sent = self._rate_samples[0]
        metrics.rate = (metrics.sent - first_sent) / (now - first_at) if now > first_at else 0.0
        metrics.spool_records = len(self.spool)
        metrics.spool_bytes = self.spool.size_bytes
        metrics.updated_at = utc_now().isoformat()
        if self._last_event_time is not None:
            metrics.last_event_time = self._last_event_time.isoformat()
        metrics.save(self._state_dir)


_retiring: set[asyncio.Task[None]] = set()


def _retire(producer: AIOKafkaProducer) -> None:
    """Stop a producer in the background: with the broker away, stop() can take a while."""

    async def stop() -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(producer.stop(), 5.0)

    task = asyncio.create_task(stop())
    _retiring.add(task)
    task.add_done_callback(_retiring.discard)


def _size(record: SpoolRecord) -> int:
    """The bytes a record takes as aiokafka counts them against its max_request_size."""
    return int(
        DefaultRecordBatchBuilder.estimate_size_in_bytes(record.key, record.value, record.headers)
    )


def _succeeded(future: asyncio.Future[Any]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None


async def _close_generator(events: AsyncIterator[Item]) -> None:
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()
