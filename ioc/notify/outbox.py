"""The notification outbox: messages are written to the database first, then sent until accepted.

Flow:

1. `enqueue(conn, transition, deliveries)` renders the message once per language and inserts
   one row per (recipient, channel) into `notification_outbox`. It runs *inside the
   caller's transaction* — the alert engine calls it in the transaction that records the
   transition, so a transition is never recorded without its messages, nor the reverse. The
   unique key `(alert_id, transition, level, recipient, channel)` with `ON CONFLICT DO
   NOTHING` makes a second enqueue of the same transition a no-op: exactly one row per
   transition, recipient and channel.
2. `deliver_due(conn, channels)` claims due rows (`FOR UPDATE SKIP LOCKED`, so several
   notifiers never claim the same row), pushes `next_attempt_at` forward by a lease, sends,
   and then marks each row delivered — only after the channel accepted it (SMTP 250, HTTP
   2xx) — or schedules a retry with exponential backoff and jitter (10 s, 20 s, 40 s, …
   capped at 15 min), recording `attempts` and `last_error`. A channel that is down
   therefore receives every message when it returns. Nothing is ever dropped: a row is
   retried until delivered, and `outbox_depth` shows what waits and for how long.
3. `ioc.notify.notifier.Notifier` loops `deliver_due` every second and, if asked, enqueues
   the daily digest.

At least once, made exactly once at the receiver: if the process dies (or the database goes
away) after a channel accepted a message but before the row is marked delivered, the row is
sent again once its lease expires. Receivers drop such a repeat by the outbox id, which is
the same on every attempt: webhooks get `X-IOC-Delivery` / `Idempotency-Key` headers and
`delivery_id` in the body; emails carry `Message-ID: <ioc-outbox-<id>@…>`, which mail
clients and most servers collapse. The window is one send long; a clean stop never opens it.

Example (the alert engine's side, through `ioc.services.outbox_sink`)::

    async with conn.transaction():
        ...                                                     # the engine's own writes
        await enqueue(conn, transition, route(transition, recipients, areas))
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

import asyncpg

from ioc.alerts.model import Transition
from ioc.notify.channels import Attachment, Channel, DeliveryError, OutboundMessage
from ioc.notify.routing import Delivery
from ioc.notify.templates import DEFAULT_TIMEZONE, Message, render

__all__ = [
    "BACKOFF_BASE_SECONDS",
    "BACKOFF_CAP_SECONDS",
    "DeliveryReport",
    "OutboxDepth",
    "OutboxRow",
    "deliver_due",
    "enqueue",
    "enqueue_rows",
    "outbox_depth",
    "retry_delay",
]

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS: Final = 10.0
BACKOFF_CAP_SECONDS: Final = 15 * 60.0
# A claimed row is not claimed again for this long. It must exceed the time one batch takes:
# ceil(batch / concurrency) rounds of at most MAX_SEND_SECONDS each (5 × 60 s by default).
DEFAULT_LEASE: Final = timedelta(minutes=10)
MAX_SEND_SECONDS: Final = 60.0
_ERROR_CHARS: Final = 2000


@dataclass(frozen=True)
class OutboxRow:
    """One message to store: who, over what, and the rendered text."""

    recipient: str
    channel: str
    address: str
    language: str
    message: Message


async def enqueue_rows(
    conn: asyncpg.Connection,
    alert_id: int,
    transition: str,
    level: int,
    rows: Sequence[OutboxRow],
) -> int:
    """Insert outbox rows under one (alert_id, transition, level) key; repeats are skipped.

    Works inside the caller's transaction (one statement, no transaction of its own).

    Returns:
        How many rows were new.
    """
    if not rows:
        return 0
    status = await conn.execute(
        """INSERT INTO notification_outbox
               (alert_id, transition, level, recipient, channel, address, language,
                subject, body, payload)
           SELECT $1, $2, $3, u.recipient, u.channel, u.address, u.language,
                  u.subject, u.body, u.payload::jsonb
           FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                       $10::text[])
                AS u(recipient, channel, address, language, subject, body, payload)
           ON CONFLICT (alert_id, transition, level, recipient, channel) DO NOTHING""",
        alert_id,
        transition,
        level,
        [r.recipient for r in rows],
        [r.channel for r in rows],
        [r.address for r in rows],
        [r.language for r in rows],
        [r.message.subject for r in rows],
        [r.message.text for r in rows],
        [json.dumps(r.message.data, ensure_ascii=False) for r in rows],
    )
    return int(status.split()[-1])


async def enqueue(
    conn: asyncpg.Connection,
    transition: Transition,
    deliveries: Iterable[Delivery],
    tz: str = DEFAULT_TIMEZONE,
) -> int:
    """Store the messages of one transition for its deliveries; idempotent.

    Call it inside the transaction that records the transition. Enqueueing the same
    transition (same alert, kind and level) again adds nothing.

    Args:
        conn: a connection, typically inside the caller's transaction.
        transition: what happened.
        deliveries: from `ioc.notify.routing.route`.
        tz: time zone of the times in the text.

    Returns:
        How many rows were new (0 on a repeat).
    """
    rendered: dict[str, Message] = {}
    rows: dict[tuple[str, str], OutboxRow] = {}
    for d in deliveries:
        if d.language not in rendered:
            rendered[d.language] = render(transition, d.language, tz)
        rows.setdefault(
            (d.recipient_id, d.channel_type),
            OutboxRow(d.recipient_id, d.channel_type, d.address, d.language, rendered[d.language]),
        )
    return await enqueue_rows(
        conn, transition.alert_id, transition.kind.value, transition.level, list(rows.values())
    )


def retry_delay(
    attempts: int,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_CAP_SECONDS,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: doubling from `base`, ±20 %.

    The jitter spreads retries of many messages to one channel that just came back.
    """
    raw = base * 2.0 ** min(max(attempts - 1, 0), 30)
    # Not cryptographic: jitter only spreads load.
    jitter = (rng or random).uniform(0.8, 1.2)
    return min(cap, raw * jitter)


@dataclass(frozen=True)
class DeliveryReport:
    """What one `deliver_due` call did."""

    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    errors: tuple[str, ...] = ()


async def _claim(
    conn: asyncpg.Connection, types: list[str], now: datetime, batch: int, lease: timedelta
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            """UPDATE notification_outbox o
                  SET attempts = o.attempts + 1, next_attempt_at = $2
                 FROM (SELECT id FROM notification_outbox
                        WHERE delivered_at IS NULL AND next_attempt_at <= $1
                          AND channel = ANY($3::text[])
                        ORDER BY next_attempt_at, id
                        LIMIT $4
                        FOR UPDATE SKIP LOCKED) due
                WHERE o.id = due.id
            RETURNING o.id, o.recipient, o.channel, o.address, o.language, o.subject, o.body,
                      o.payload, o.attempts""",
            now,
            now + lease,
            types,
            batch,
        )
    )


async def _attachments(conn: asyncpg.Connection, row: asyncpg.Record) -> tuple[Attachment, ...]:
    """The stored files an email row names in `payload.attachments` (a period report).

    Only emails carry files; a file that is missing (its table pruned by hand) is left out
    rather than holding the message back for ever: the text says what the report was.
    """
    if row["channel"] != "email":
        return ()
    payload = row["payload"]
    refs = (json.loads(payload) if isinstance(payload, str) else payload).get("attachments")
    if not refs:
        return ()
    found = await conn.fetch(
        """SELECT f.filename, f.media_type, f.content
             FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY
                  AS u(area, period, format, n)
             JOIN report_files f USING (area, period, format)
            ORDER BY u.n""",
        [r["area"] for r in refs],
        [r["period"] for r in refs],
        [r["format"] for r in refs],
    )
    if len(found) < len(refs):
        log.warning("outbox %s: %d attached report(s) missing", row["id"], len(refs) - len(found))
    return tuple(Attachment(r["filename"], r["media_type"], bytes(r["content"])) for r in found)


async def deliver_due(
    conn: asyncpg.Connection,
    channels: Iterable[Channel],
    now: datetime | None = None,
    batch: int = 50,
    *,
    lease: timedelta = DEFAULT_LEASE,
    concurrency: int = 10,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Send the due messages of the configured channels, once each.

    Rows of a channel type not in `channels` stay queued untouched (no attempt is counted),
    so messages wait for a channel that is not configured yet.

    Args:
        conn: a connection *outside* a transaction: claims must commit before sending.
        channels: one per type (`email`, `webhook`).
        now: the time that decides what is due and when retries fall (default: now).
        batch: at most this many rows per call.
        lease: a claimed row is not claimed again for this long (a crashed sender's rows
            come back after it).
        concurrency: messages sent at the same time.
        rng: jitter source (tests).

    Returns:
        Counts of claimed, delivered and failed rows, and the first errors.

    Raises:
        RuntimeError: `conn` is inside a transaction.
    """
    if conn.is_in_transaction():
        raise RuntimeError(
            "deliver_due sends over the network and must commit its claims first; "
            "call it outside a transaction"
        )
    now = now or datetime.now(UTC)
    by_type = {channel.type: channel for channel in channels}
    rows = await _claim(conn, sorted(by_type), now, batch, lease)
    if not rows:
        return DeliveryReport()

    gate = asyncio.Semaphore(max(1, concurrency))
    # Read here, one row after another: the sends below share no connection.
    files = {row["id"]: await _attachments(conn, row) for row in rows}

    async def attempt(row: asyncpg.Record) -> str | None:
        payload = row["payload"]
        message = OutboundMessage(
            id=row["id"],
            recipient=row["recipient"],
            address=row["address"],
            subject=row["subject"],
            text=row["body"],
            payload=json.loads(payload) if isinstance(payload, str) else dict(payload),
            language=row["language"],
            attachments=files[row["id"]],
        )
        async with gate:
            try:
                async with asyncio.timeout(MAX_SEND_SECONDS):
                    await by_type[row["channel"]].send(message)
            except DeliveryError as err:
                return err.reason
            except TimeoutError:
                return f"no answer within {MAX_SEND_SECONDS:.0f} s"
            except Exception as err:
                # A bug in one channel must not stop the others; the row keeps its error
                # and is retried, and the traceback goes to the log.
                log.exception(
                    "outbox %s: unexpected error in the %s channel", row["id"], row["channel"]
                )
                return f"{type(err).__name__}: {err}"
        return None

    outcomes = await asyncio.gather(*(attempt(row) for row in rows))
    delivered = [row["id"] for row, error in zip(rows, outcomes, strict=True) if error is None]
    failed = [(row, error) for row, error in zip(rows, outcomes, strict=True) if error is not None]
    if delivered:
        await conn.execute(
            "UPDATE notification_outbox SET delivered_at = clock_timestamp() "
            "WHERE id = ANY($1::bigint[]) AND delivered_at IS NULL",
            delivered,
        )
    if failed:
        await conn.execute(
            """UPDATE notification_outbox o
                  SET next_attempt_at = u.next_attempt_at, last_error = u.error
                 FROM unnest($1::bigint[], $2::timestamptz[], $3::text[])
                      AS u(id, next_attempt_at, error)
                WHERE o.id = u.id AND o.delivered_at IS NULL""",
            [row["id"] for row, _ in failed],
            [now + timedelta(seconds=retry_delay(row["attempts"], rng=rng)) for row, _ in failed],
            [error[:_ERROR_CHARS] for _, error in failed],
        )
    errors = tuple(f"outbox {row['id']} ({row['channel']}): {error}" for row, error in failed)
    if errors:
        # One line per call, not per message: an outage with a long queue stays readable.
        log.warning("%d message(s) not delivered, will retry; first: %s", len(errors), errors[0])
    return DeliveryReport(
        claimed=len(rows), delivered=len(delivered), failed=len(failed), errors=errors[:10]
    )


@dataclass(frozen=True)
class OutboxDepth:
    """What waits in the outbox, for metrics and health checks.

    Attributes:
        pending: rows not delivered yet.
        retrying: of those, rows that failed at least once.
        oldest_pending_at: when the oldest undelivered row was enqueued.
        by_channel: pending rows per channel type.
    """

    pending: int
    retrying: int
    oldest_pending_at: datetime | None
    by_channel: dict[str, int] = field(default_factory=dict)


async def outbox_depth(conn: asyncpg.Connection) -> OutboxDepth:
    """Count what waits in the outbox."""
    rows = await conn.fetch(
        """SELECT channel, count(*) AS pending, count(*) FILTER (WHERE attempts > 0) AS retrying,
                  min(created_at) AS oldest
             FROM notification_outbox WHERE delivered_at IS NULL GROUP BY channel"""
    )
    oldest = [row["oldest"] for row in rows if row["oldest"] is not None]
    return OutboxDepth(
        pending=sum(row["pending"] for row in rows),
        retrying=sum(row["retrying"] for row in rows),
        oldest_pending_at=min(oldest) if oldest else None,
        by_channel={row["channel"]: row["pending"] for row in rows},
    )
