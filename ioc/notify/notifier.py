"""The notifier: the process side of the outbox, sending it every second and the digest daily.

`ioc.notify.outbox` is the store (enqueue, claim, deliver, depth); this module composes it
with the channels, the recipients and areas files, a database pool and the daily digest
(`ioc.notify.digest`), so both of those stay free of process concerns:

    notifier → outbox, digest, channels, routing
    digest   → outbox, routing, templates
    outbox   → channels, routing, templates
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import asyncpg

from ioc.areas import AreaRegistry, load_areas
from ioc.config import Settings
from ioc.db import create_pool
from ioc.notify.channels import Channel, SmtpChannel, WebhookChannel
from ioc.notify.digest import enqueue_digests
from ioc.notify.outbox import DeliveryReport, deliver_due
from ioc.notify.routing import Recipient, load_recipients, webhook_secrets
from ioc.notify.templates import DEFAULT_TIMEZONE

__all__ = ["Notifier", "PoolSource"]

log = logging.getLogger(__name__)

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
