"""The notifier: the process side of the outbox, sending it every second and the digest daily.

`ioc.notify.outbox` is the store (enqueue, claim, deliver, depth); this module composes it
with the channels, the recipients and areas files, a database pool and the daily digest
(`ioc.notify.digest`) and the monthly report (`ioc.notify.monthly`), so those stay free of
process concerns:

    notifier → outbox, digest, monthly, channels, routing
    digest   → outbox, routing, templates
    monthly  → outbox, routing, templates, ioc.reports
    outbox   → channels, routing, templates
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import asyncpg

from ioc.areas import AreaRegistry, load_areas
from ioc.config import Settings
from ioc.db import create_pool
from ioc.events import utc_now
from ioc.kpis import KpiCatalogue, load_kpis
from ioc.notify.channels import Channel, SmtpChannel, WebhookChannel
from ioc.notify.digest import enqueue_digests, summarise_stale
from ioc.notify.monthly import enqueue_monthly_reports, previous_month
from ioc.notify.outbox import DeliveryReport, deliver_due
from ioc.notify.routing import Recipient, load_recipients, webhook_secrets
from ioc.notify.templates import DEFAULT_TIMEZONE
from ioc.telemetry import NotifierMetrics

__all__ = ["BACKOFF_CAP_SECONDS", "Notifier", "PoolSource"]

log = logging.getLogger(__name__)

PoolSource = Callable[[], Awaitable[asyncpg.Pool]]
# What a database that is restarting, shutting down, full or read-only (a failover to a
# standby) looks like to a client: every one only delays messages, which live in the database.
_DATABASE_AWAY: Final = (
    OSError,  # refused, reset, timed out
    TimeoutError,
    asyncpg.PostgresError,  # any server error: read-only standby, too many connections, …
    asyncpg.InterfaceError,
)
BACKOFF_CAP_SECONDS: Final = 60.0


class Notifier:
    """Sends the outbox every second; optionally the daily digest and the monthly report.

    Run it as a component: `await Notifier(pool, channels, ...).run()` until `stop()`. Several
    notifiers may run against one database: claims skip each other's rows. A database outage
    or any database error only delays messages (they live in the database): the loop retries
    with backoff (doubling from `interval` up to a minute), reports itself `failing` in its
    telemetry file while it cannot deliver (`ioc status`, `/healthz`, `/metrics` read it),
    and resumes by itself. An unexpected error is logged with its traceback and retried the
    same way: the one path by which alerts reach people must not end silently.

    Args:
        pool: an asyncpg pool, or a coroutine function making one on first use (that pool
            is then closed by `run()`).
        channels: the configured channels; `run()` closes them when it ends.
        interval: seconds between polls when the outbox is drained.
        batch: rows per `deliver_due` call.
        recipients: for the digest.
        areas: for the digest (each recipient's scope).
        digest_at: local time after which yesterday's digest is enqueued, and on the 1st of
            a month last month's report for recipients with `reports: monthly` (it needs
            `catalogue` too); None = neither.
        tz: the province's time zone.
        stale_after: alert messages whose transition is older than this are folded into one
            summary per recipient and channel before each batch
            (`ioc.notify.digest.summarise_stale`); None = each is sent on its own.
        state_dir: where to write its health (`ioc.telemetry.NotifierMetrics`); None = nowhere.
        name: its name there.
        catalogue: the KPIs, for the digest's KPI section and the monthly report.
        clock: the present (aware); tests set it to the 1st of a month.
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
        stale_after: timedelta | None = None,
        state_dir: Path | None = None,
        name: str = "notifier",
        catalogue: KpiCatalogue | None = None,
        clock: Callable[[], datetime] = utc_now,
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
        self.catalogue = catalogue  # the digest's KPI-against-target section
        self.digest_at = digest_at
        self.tz = tz
        self.stale_after = stale_after
        self.last_report = DeliveryReport()
        self._stopping = asyncio.Event()
        self._digest_day: date | None = None
        self._report_month: date | None = None
        self.clock = clock
        self._failures = 0
        self.state_dir = state_dir
        self.metrics = NotifierMetrics(name)

    @classmethod
    def from_settings(cls, settings: Settings) -> Notifier:
        """A notifier for these settings: SMTP if `IOC_NOTIFY__SMTP_HOST` is set, webhooks.

        Reads the recipients file (`IOC_ALERTS__RECIPIENTS_FILE`, for the digest and the
        per-URL webhook secrets) and the areas file; the pool is made when `run()` starts.

        Raises:
            DataFileError: the recipients file has problems (each with its line).
            AreaFileError: the areas file has problems.
            KpiFileError: the KPI catalogue (for the digest) has problems.
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
            stale_after=timedelta(minutes=options.stale_after_minutes)
            if options.stale_after_minutes
            else None,
            state_dir=settings.state_dir,
            catalogue=load_kpis(settings.alerts.kpis_file),
        )

    def stop(self) -> None:
        """Ask `run()` to return after the batch in flight."""
        self._stopping.set()

    async def _digest_due(self, conn: asyncpg.Connection) -> None:
        if self.digest_at is None or self.areas is None or not self.recipients:
            return
        local = self.clock().astimezone(ZoneInfo(self.tz))
        if local.time() < self.digest_at or self._digest_day == local.date():
            return
        day = local.date() - timedelta(days=1)
        try:
            added = await enqueue_digests(
                conn, day, self.recipients, self.areas, self.tz, self.catalogue
            )
        except asyncpg.UndefinedTableError:
            log.warning("no alerts table yet (migration 0004); skipping the digest of %s", day)
            added = 0
        self._digest_day = local.date()
        if added:
            log.info("enqueued %s digest message(s) for %s", added, day)

    async def _reports_due(self, conn: asyncpg.Connection) -> None:
        """Last month's reports, from digest_at on the 1st (or later, if the notifier was down).

        Once per month in this process; across restarts the outbox knows who has theirs.
        """
        if self.digest_at is None or self.areas is None or self.catalogue is None:
            return
        now = self.clock()
        local = now.astimezone(ZoneInfo(self.tz))
        month = local.date().replace(day=1)
        if self._report_month == month or (local.day == 1 and local.time() < self.digest_at):
            return
        if not any(r.reports == "monthly" for r in self.recipients):
            return
        period = previous_month(local.date())
        try:
            added = await enqueue_monthly_reports(
                conn, period, self.recipients, self.areas, self.catalogue, now
            )
        except asyncpg.UndefinedTableError:
            log.warning("tables missing (run `ioc db migrate`); no report for %s", period.label)
            added = 0
        self._report_month = month
        if added:
            log.info("enqueued %s monthly report message(s) for %s", added, period.label)

    async def run_once(self) -> DeliveryReport:
        """One poll: the digest if due, then one batch. A failure is logged, not raised."""
        try:
            if self._pool is None and self._make_pool is not None:
                self._pool = await self._make_pool()
            assert self._pool is not None
            async with self._pool.acquire() as conn:
                await self._digest_due(conn)
                await self._reports_due(conn)
                if self.stale_after is not None:
                    await summarise_stale(conn, self.clock(), self.stale_after, self.tz)
                report = await deliver_due(conn, self.channels, batch=self.batch)
        except Exception as err:
            self._failed(err)
            return DeliveryReport()
        if self._failures:
            log.info("outbox reachable again; delivering notifications")
        self._failures = 0
        self.last_report = report
        m = self.metrics
        m.state, m.failing_since, m.last_error = "running", None, None
        m.delivered += report.delivered
        m.failed += report.failed
        if report.delivered:
            m.last_delivered_at = utc_now().isoformat()
        self._save()
        return report

    def _failed(self, err: Exception) -> None:
        """Note a failed poll: say so once per streak, keep the health file current."""
        self._failures += 1
        m = self.metrics
        if m.failing_since is None:
            m.failing_since = utc_now().isoformat()
            if isinstance(err, _DATABASE_AWAY):
                # The outbox lives in the database: nothing is lost, only delayed.
                log.warning("outbox unavailable (%r); notifications wait and are retried", err)
            else:
                log.exception("notifier poll failed; notifications wait and are retried")
        m.state, m.last_error = "failing", f"{type(err).__name__}: {err}"[:500]
        self._save()

    def _save(self) -> None:
        if self.state_dir is None:
            return
        try:
            self.metrics.save(self.state_dir)
        except OSError as err:  # a full disk must not stop delivery
            log.debug("notifier metrics not written: %s", err)

    def _wait(self) -> float:
        """Seconds until the next poll: `interval`, doubling while polls fail."""
        if not self._failures:
            return self.interval
        return min(BACKOFF_CAP_SECONDS, self.interval * 2.0 ** min(self._failures, 16))

    async def run(self) -> None:
        """Deliver until `stop()`; drains back-to-back while full batches keep coming."""
        try:
            while not self._stopping.is_set():
                report = await self.run_once()
                if report.claimed >= self.batch:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self._wait())
        finally:
            self.metrics.state = "stopped"
            self._save()
            for channel in self.channels:
                await channel.aclose()
            if self._make_pool is not None and self._pool is not None:
                await self._pool.close()
                self._pool = None
