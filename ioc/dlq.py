"""The dead-letter topic `ioc.dlq`: what could not be turned into (or read as) an event.

A dead letter keeps the input byte for byte as the Kafka record value, so replaying it is
sending the value again; everything said about it travels in headers (`ioc-dlq-*`), so the
DLQ can be browsed and grouped by reason without parsing the value. Connectors (a mapping
rejected a line) and stream workers (a record failed to decode) write the same shape.

Example:
    >>> letter = DeadLetter(original=b'{"amount": "x"}', reason="conversion",
    ...     detail="amount_vnd: 'x' is not an integer", source="hospital-payments",
    ...     stage="ingest", location="/data/pay.jsonl:7")
    >>> DeadLetter.from_record(letter.original, letter.headers()) == letter
    True
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from ioc.codec import HEADER_SOURCE
from ioc.config import Settings
from ioc.events import utc_now

__all__ = ["DETAIL_LIMIT", "ORIGINAL_LIMIT", "DeadLetter", "Stage", "read_dead_letters"]

DETAIL_LIMIT = 2000  # characters; headers are not the place for a whole stack trace
# Bytes of the original a dead letter keeps: far below the broker's record limit
# (ioc.kafka.RECORD_MAX_BYTES), so a dead letter is always deliverable. A longer original is
# cut, and its full size and SHA-256 travel in headers so that it can still be identified.
ORIGINAL_LIMIT = 64 * 1024

Stage = Literal["ingest", "stream"]

_REASON = "ioc-dlq-reason"
_DETAIL = "ioc-dlq-detail"
_STAGE = "ioc-dlq-stage"
_LOCATION = "ioc-dlq-location"
_FAILED_AT = "ioc-dlq-failed-at"
_ORIGINAL_SIZE = "ioc-dlq-original-size"
_ORIGINAL_SHA256 = "ioc-dlq-original-sha256"


@dataclass(frozen=True)
class DeadLetter:
    """One rejected input.

    Attributes:
        original: the input exactly as received; the Kafka record value.
        reason: a short code to count and group by (`not_json`, `invalid`, `unknown_area`…).
        detail: exactly what was wrong (truncated to `DETAIL_LIMIT` characters).
        source: the connector (or stream worker) that rejected it.
        stage: `ingest` (a connector could not map it) or `stream` (a worker could not
            decode a record from an events topic).
        location: where it came from: `file:line`, `http:<request id>#<index>`, or
            `topic/partition/offset`.
        failed_at: when it was rejected (UTC).
        original_size: set when `original` was cut (see `bounded`): the size of the whole.
        original_sha256: set with `original_size`: the hex SHA-256 of the whole original.
    """

    original: bytes
    reason: str
    detail: str
    source: str
    stage: Stage
    location: str | None = None
    failed_at: datetime = field(default_factory=utc_now)
    original_size: int | None = None
    original_sha256: str | None = None

    def bounded(self, limit: int = ORIGINAL_LIMIT) -> DeadLetter:
        """This letter with its original cut to `limit` bytes, its size and hash kept.

        Example:
            >>> letter = DeadLetter(b"x" * 10, "too_large", "", "s", "ingest").bounded(4)
            >>> letter.original, letter.original_size, letter.original_sha256[:8]
            (b'xxxx', 10, 'fc11d6f2')
        """
        if len(self.original) <= limit:
            return self
        return dataclasses.replace(
            self,
            original=self.original[:limit],
            original_size=len(self.original),
            original_sha256=hashlib.sha256(self.original).hexdigest(),
        )

    def headers(self) -> list[tuple[str, bytes]]:
        """The Kafka headers that describe this dead letter."""
        pairs = [
            (_REASON, self.reason),
            (_DETAIL, self.detail[:DETAIL_LIMIT]),
            (HEADER_SOURCE, self.source),
            (_STAGE, self.stage),
            (_FAILED_AT, self.failed_at.isoformat()),
        ]
        if self.location is not None:
            pairs.append((_LOCATION, self.location))
        if self.original_size is not None and self.original_sha256 is not None:
            pairs.append((_ORIGINAL_SIZE, str(self.original_size)))
            pairs.append((_ORIGINAL_SHA256, self.original_sha256))
        return [(name, value.encode("utf-8")) for name, value in pairs]

    @classmethod
    def from_record(cls, value: bytes | None, headers: Iterable[tuple[str, bytes]]) -> DeadLetter:
        """Rebuild a dead letter from a record read off `ioc.dlq`."""
        fields = {name: raw.decode("utf-8", "replace") for name, raw in headers}
        stage = fields.get(_STAGE, "ingest")
        return cls(
            original=value or b"",
            reason=fields.get(_REASON, "unknown"),
            detail=fields.get(_DETAIL, ""),
            source=fields.get(HEADER_SOURCE, "unknown"),
            stage="stream" if stage == "stream" else "ingest",
            location=fields.get(_LOCATION),
            failed_at=datetime.fromisoformat(fields[_FAILED_AT])
            if _FAILED_AT in fields
            else utc_now(),
            original_size=int(size) if (size := fields.get(_ORIGINAL_SIZE, "")).isdigit() else None,
            original_sha256=fields.get(_ORIGINAL_SHA256),
        )


async def read_dead_letters(
    settings: Settings,
    *,
    source: str | None = None,
    reason: str | None = None,
    limit: int | None = None,
    idle_seconds: float = 2.0,
) -> list[tuple[int, DeadLetter]]:
    """The dead letters on `ioc.dlq` from the beginning, as (offset, letter), oldest first.

    A record rejected again at the same location (a connector or worker that crashed before
    recording its progress reads it again) is listed once, at its first offset.

    Args:
        settings: where the broker is and the topic prefix.
        source: only those rejected by this connector.
        reason: only those with this reason code.
        limit: at most this many (the oldest that match).
        idle_seconds: stop once nothing new arrived for this long (the end of the topic).
    """
    from ioc.kafka import make_consumer, topic_name

    consumer = make_consumer(settings, topic_name(settings, "dlq"), group_id=None)
    await consumer.start()
    found: list[tuple[int, DeadLetter]] = []
    seen: set[tuple[str, str]] = set()
    try:
        while limit is None or len(found) < limit:
            batch = await asyncio.wait_for(
                consumer.getmany(timeout_ms=int(idle_seconds * 1000)), idle_seconds + 30
            )
            if not batch:
                break
            for record in (r for records in batch.values() for r in records):
                letter = DeadLetter.from_record(record.value, record.headers)
                if letter.location is not None:
                    where = (letter.source, letter.location)
                    if where in seen:
                        continue
                    seen.add(where)
                if (source is None or letter.source == source) and (
                    reason is None or letter.reason == reason
                ):
                    found.append((record.offset, letter))
    finally:
        await consumer.stop()
    return found[:limit] if limit is not None else found
