"""The dead-letter topic as the API sees it: an index kept in memory, and replay of chosen records.

The index tails ``ioc.dlq`` from the beginning (one consumer per API process, no group), keeps
each letter once per (source, location) like ``ioc dlq show``, and answers pages from memory,
so browsing never rereads the topic. A letter's id is ``<partition>:<offset>`` on ``ioc.dlq``.

Replay sends a stream-stage letter's original bytes back to the events topic it came from
(its location is ``topic/partition/offset``): a fixed areas file or agent rule then counts it;
still invalid, it returns to the DLQ at a new location. An ingest-stage letter is a foreign
system's record that a mapping rejected, not an event: it is refused with what to do instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from aiokafka.errors import KafkaError

from ioc.codec import decode
from ioc.config import Settings
from ioc.dlq import DeadLetter
from ioc.kafka import make_consumer, make_producer, topic_name

__all__ = ["DeadLetterIndex", "Entry"]

log = logging.getLogger(__name__)
_SHOWN_BYTES = 4096  # of the original, in a listing


@dataclass(frozen=True)
class Entry:
    """One indexed dead letter."""

    id: str
    letter: DeadLetter

    def events_topic(self, settings: Settings) -> str | None:
        """The events topic a stream-stage letter was read from, else None."""
        if self.letter.stage != "stream" or not self.letter.location:
            return None
        topic = self.letter.location.split("/", 1)[0]
        prefix = topic_name(settings, "events", "")
        return topic if topic.startswith(prefix) or topic == topic_name(settings, "late") else None

    def json(self, settings: Settings) -> dict[str, Any]:
        """As the API lists it."""
        letter = self.letter
        return {
            "id": self.id,
            "source": letter.source,
            "reason": letter.reason,
            "detail": letter.detail,
            "stage": letter.stage,
            "location": letter.location,
            "failed_at": letter.failed_at.isoformat(),
            "original": letter.original[:_SHOWN_BYTES].decode("utf-8", "replace"),
            "original_bytes": len(letter.original),
            "replayable": self.events_topic(settings) is not None,
        }


class DeadLetterIndex:
    """Every dead letter, once, in topic order per partition; see the module docstring."""

    def __init__(self, settings: Settings, limit: int = 100_000) -> None:
        self.settings = settings
        self.limit = limit
        self.entries: list[Entry] = []
        self.by_id: dict[str, Entry] = {}
        self.dropped = 0  # letters beyond `limit` (oldest forgotten first)
        self.ready = asyncio.Event()  # set once the topic's end was reached
        self._seen: set[tuple[str, str]] = set()

    def _add(self, partition: int, offset: int, letter: DeadLetter) -> None:
        if letter.location is not None:
            where = (letter.source, letter.location)
            if where in self._seen:
                return
            self._seen.add(where)
        entry = Entry(f"{partition}:{offset}", letter)
        self.entries.append(entry)
        self.by_id[entry.id] = entry
        if len(self.entries) > self.limit:
            old = self.entries.pop(0)
            del self.by_id[old.id]
            self.dropped += 1

    async def run(self) -> None:
        """Tail the topic until cancelled; reconnects after broker outages."""
        delay = 1.0
        while True:
            consumer = make_consumer(self.settings, topic_name(self.settings, "dlq"))
            try:
                await consumer.start()
                # A fresh consumer rereads the topic: start from an empty index.
                self.entries, self.by_id, self._seen = [], {}, set()
                delay = 1.0
                while True:
                    batch = await consumer.getmany(timeout_ms=1000)
                    for tp, records in batch.items():
                        for record in records:
                            self._add(
                                tp.partition,
                                record.offset,
                                DeadLetter.from_record(record.value, record.headers),
                            )
                    if not batch:
                        self.ready.set()
            except (KafkaError, OSError) as err:
                log.warning("dead-letter index: %r; retrying in %.0f s", err, delay)
            finally:
                with contextlib.suppress(KafkaError, OSError):
                    await consumer.stop()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    def page(
        self, source: str | None, reason: str | None, limit: int, offset: int
    ) -> tuple[list[Entry], int, list[dict[str, Any]]]:
        """Newest first: (entries of the page, total matching, counts by source and reason)."""
        matching = [
            e
            for e in reversed(self.entries)
            if (source is None or e.letter.source == source)
            and (reason is None or e.letter.reason == reason)
        ]
        counts = Counter((e.letter.source, e.letter.reason) for e in self.entries)
        summary = [{"source": s, "reason": r, "count": n} for (s, r), n in counts.most_common()]
        return matching[offset : offset + limit], len(matching), summary

    async def replay(self, ids: list[str]) -> tuple[list[str], list[dict[str, str]]]:
        """Send the chosen letters' originals back to their topics: (replayed, refused)."""
        sends: list[tuple[str, str, bytes, bytes | None]] = []
        refused: list[dict[str, str]] = []
        for letter_id in dict.fromkeys(ids):
            entry = self.by_id.get(letter_id)
            topic = entry.events_topic(self.settings) if entry else None
            if entry is None:
                refused.append({"id": letter_id, "reason": "no dead letter has this id"})
            elif topic is None:
                refused.append(
                    {
                        "id": letter_id,
                        "reason": f"an input of connector {entry.letter.source} that its "
                        "mapping rejected, not an event: fix the mapping, then feed it back "
                        f"with `ioc dlq export --source {entry.letter.source}`",
                    }
                )
            else:
                sends.append((letter_id, topic, entry.letter.original, _key(entry.letter)))
        if sends:
            producer = make_producer(self.settings)
            await producer.start()
            try:
                for letter_id, topic, value, key in sends:
                    await producer.send_and_wait(
                        topic,
                        value,
                        key=key,
                        headers=[("ioc-replayed-from", f"dlq/{letter_id}".encode())],
                    )
            finally:
                await producer.stop()
        return [s[0] for s in sends], refused


def _key(letter: DeadLetter) -> bytes | None:
    """The event's own partition key when the original still decodes; else no key."""
    try:
        return decode(letter.original).key.encode()
    except ValueError:
        return None
