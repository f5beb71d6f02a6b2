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
3. `Notifier` loops `deliver_due` every second and, if asked, enqueues the daily digest.

At least once, made exactly once at the receiver: if the process dies (or the database goes
away) after a channel accepted a message but before the row is marked delivered, the row is
sent again once its lease expires. Receivers drop such a repeat by the outbox id, which is
the same on every attempt: webhooks get `X-IOC-Delivery` / `Idempotency-Key` headers and
`delivery_id` in the body; emails carry `Message-ID: <ioc-outbox-<id>@…>`, which mail
clients and most servers collapse. The window is one send long; a clean stop never opens it.

Example (the alert engine's side)::

    async with conn.transaction():
        alert_id = await record_transition(conn, ...)          # the engine's own write
        await enqueue(conn, transition, route(transition, recipients, areas))
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

import asyncpg

from ioc.alerts.model import Transition
from ioc.areas import AreaRegistry
from ioc.config import Settings
from ioc.notify.channels import (
    Channel,
    DeliveryError,
    OutboundMessage,
    SmtpChannel,
    WebhookChannel,
)
from ioc.notify.routing import Delivery, Recipient, load_recipients, webhook_secrets
from ioc.notify.templates import DEFAULT_TIMEZONE, Message, render

__all__ = [
    "BACKOFF_BASE_SECONDS",
    "BACKOFF_CAP_SECONDS",
    "DeliveryReport",
    "Notifier",
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
) -> list[Any]:
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

    async def attempt(row: Any) -> str | None:
        payload = row["payload"]
        message = OutboundMessage(
            id=row["id"],
            recipient=row["recipient"],
            address=row["address"],
            subject=row["subject"],
            text=row["body"],
            payload=json.loads(payload) if isinstance(payload, str) else dict(payload),
            language=row["language"],
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


PoolSource = Callable[[], Awaitable[asyncpg.Pool]]
# What a database that is restarting, shutting down or full looks like to a client.
_DATABASE_AWAY: Final = (
    OSError,  # refused, reset, timed out
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,  # shutting down, starting up
    asyncpg.InsufficientResourcesError,  # too many connections
    asyncpg.InterfaceError,
)


class Notifier:
    """Sends the outbox every second; optionally enqueues the daily digest each morning.

    Run it as a component: `await Notifier(pool, channels, ...).run()` until `stop()`. Several
    notifiers may run against one database: claims skip each other's rows. A database outage
    only delays messages (they live in the database); the loop waits for it to return.

    Args:
        pool: an asyncpg pool, or a coroutine function making one on first use (that pool
            is then closed by `run()`).
        channels: the configured channels; `run()` closes them when it ends.
        interval: seconds between polls when the outbox is drained.
        batch: rows per `deliver_due` call.
        recipients: for the digest.
        areas: for the digest (each recipient's scope).
        digest_at: local time after which yesterday's digest is enqueued; None = no digest.
        tz: the province's time zone.
    """

    def __init__(
        self,
        pool: asyncpg.Pool | PoolSource,
        channels: Sequence[Channel],
        *,
        interval: float = 1.0,
        batch: int = 50,
        recipients: Sequence[Recipient] = (),
        areas: AreaRegistry | None = None,
        digest_at: time | None = None,
        tz: str = DEFAULT_TIMEZONE,
    ) -> None:
        if isinstance(pool, asyncpg.Pool):
            self._pool: asyncpg.Pool | None = pool
            self._make_pool: PoolSource | None = None
        else:
            self._pool, self._make_pool = None, pool
        self.channels = list(channels)
        self.interval = interval
        self.batch = batch
        self.recipients = list(recipients)
        self.areas = areas
        self.digest_at = digest_at
        self.tz = tz
        self.last_report = DeliveryReport()
        self._stopping = asyncio.Event()
        self._digest_day: date | None = None
        self._database_down_since: datetime | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Notifier:
        """A notifier for these settings: SMTP if `IOC_NOTIFY__SMTP_HOST` is set, webhooks.

        Reads the recipients file (`IOC_ALERTS__RECIPIENTS_FILE`, for the digest and the
        per-URL webhook secrets) and the areas file; the pool is made when `run()` starts.

        Raises:
            DataFileError: the recipients file has problems (each with its line).
            AreaFileError: the areas file has problems.
            ValueError: a webhook `secret_env` variable is not set.
        """
        from ioc.areas import load_areas
        from ioc.db import create_pool

        # The `notify` group of Settings (IOC_NOTIFY__*); the defaults until it exists.
        options = settings.notify
        areas = load_areas(settings.areas_file)
        recipients = load_recipients(settings.alerts.recipients_file, areas)
        channels: list[Channel] = [
            WebhookChannel(
                timeout=options.webhook_timeout_seconds,
                secret=options.webhook_secret,
                secrets=webhook_secrets(recipients),
            )
        ]
        if options.smtp_host:
            channels.append(
                SmtpChannel(
                    host=options.smtp_host,
                    port=options.smtp_port,
                    sender=options.smtp_sender,
                    username=options.smtp_username,
                    password=options.smtp_password,
                    starttls=options.smtp_starttls,
                    use_tls=options.smtp_use_tls,
                    timeout=options.smtp_timeout_seconds,
                )
            )
        else:
            log.warning(
                "IOC_NOTIFY__SMTP_HOST is not set: emails are kept in the outbox and sent "
                "once it is"
            )

        async def make_pool() -> asyncpg.Pool:
            return await create_pool(settings)

        return cls(
            make_pool,
            channels,
            interval=options.poll_seconds,
            batch=options.batch,
            recipients=recipients,
            areas=areas,
            digest_at=options.digest_at,
        )

    def stop(self) -> None:
        """Ask `run()` to return after the batch in flight."""
        self._stopping.set()

    async def _digest_due(self, conn: asyncpg.Connection) -> None:
        if self.digest_at is None or self.areas is None or not self.recipients:
            return
        local = datetime.now(ZoneInfo(self.tz))
        if local.time() < self.digest_at or self._digest_day == local.date():
            return
        # Imported here: the digest module builds on this one's enqueue_rows.
        from ioc.notify.digest import enqueue_digests

        day = local.date() - timedelta(days=1)
        try:
            added = await enqueue_digests(conn, day, self.recipients, self.areas, self.tz)
        except asyncpg.UndefinedTableError:
            log.warning("no alerts table yet (migration 0004); skipping the digest of %s", day)
            added = 0
        self._digest_day = local.date()
        if added:
            log.info("enqueued %s digest message(s) for %s", added, day)

    async def run_once(self) -> DeliveryReport:
        """One poll: the digest if due, then one batch. A database outage is logged, not raised."""
        try:
            if self._pool is None and self._make_pool is not None:
                self._pool = await self._make_pool()
            assert self._pool is not None
            async with self._pool.acquire() as conn:
                await self._digest_due(conn)
                report = await deliver_due(conn, self.channels, batch=self.batch)
        except _DATABASE_AWAY as err:
            # The outbox lives in the database: while it is away nothing can be lost, only
            # delayed. Say so once, not every second.
            if self._database_down_since is None:
                self._database_down_since = datetime.now(UTC)
                log.warning("database unavailable (%s); notifications wait until it returns", err)
            return DeliveryReport()
        if self._database_down_since is not None:
            log.info("database back; delivering notifications again")
            self._database_down_since = None
        self.last_report = report
        return report

    async def run(self) -> None:
        """Deliver until `stop()`; drains back-to-back while full batches keep coming."""
        try:
            while not self._stopping.is_set():
                report = await self.run_once()
                if report.claimed >= self.batch:
                    continue
                wait = self.interval if self._database_down_since is None else 5 * self.interval
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=wait)
        finally:
            for channel in self.channels:
                await channel.aclose()
            if self._make_pool is not None and self._pool is not None:
                await self._pool.close()
                self._pool = None
