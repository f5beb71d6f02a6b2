"""Service wiring: the alert evaluator and its loop, built from `Settings`.

The CLI (`ioc alerts …`), the API and the tests build their services here, never in one
another's modules: a typer module is an entry point, not a library.

- `build_evaluator(settings)`: the evaluator of the configured catalogue, rules and areas,
  telling the outbox of each transition (`outbox_sink`);
- `run_alerts(settings, evaluator, stop)`: what `ioc alerts run` (and so `ioc up`) runs until
  `stop` is set: an evaluation pass and keeping the KPI values current (what the API, the
  live board and the Grafana boards read) every `IOC_ALERTS__EVALUATE_EVERY_SECONDS`, and
  the notifier delivering the outbox beside it. When it stops, the boards go stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import asyncpg

from ioc.alerts.calendar import load_calendar
from ioc.alerts.engine import Evaluator
from ioc.alerts.model import Transition, TransitionSink
from ioc.alerts.rules import load_rules
from ioc.areas import AreaRegistry, load_areas
from ioc.config import Settings
from ioc.db import connect
from ioc.db.retention import apply_retention
from ioc.health_server import AlertPasses
from ioc.kpis import load_kpis
from ioc.kpis.values import keep_current
from ioc.notify.notifier import Notifier
from ioc.notify.outbox import enqueue
from ioc.notify.routing import Recipient, load_recipients, route

__all__ = ["build_evaluator", "outbox_sink", "run_alerts"]

log = logging.getLogger(__name__)


def outbox_sink(recipients: Sequence[Recipient], areas: AreaRegistry) -> TransitionSink:
    """A sink that routes each transition to its recipients and queues their messages.

    The messages are written on the evaluator's connection, inside the transaction that
    records the transition (`ioc.notify.outbox.enqueue`).
    """

    async def sink(conn: asyncpg.Connection, transition: Transition) -> None:
        await enqueue(conn, transition, route(transition, recipients, areas))

    return sink


def build_evaluator(settings: Settings) -> Evaluator:
    """The evaluator for these settings: catalogue, rules, areas, routing and the outbox.

    Raises:
        DataFileError: a KPI, rules, calendar, areas or recipients file has problems (each with its
            line).
    """
    options = settings.alerts
    catalogue = load_kpis(options.kpis_file)
    rules = load_rules(
        options.rules_file,
        {kpi.id for kpi in catalogue},
        {kpi.id for kpi in catalogue if kpi.distinct is not None},
    )
    areas = load_areas(settings.areas_file)
    recipients = load_recipients(options.recipients_file, areas)
    return Evaluator(
        catalogue,
        rules,
        areas,
        window=timedelta(seconds=settings.streams.window_seconds),
        grace=timedelta(seconds=options.grace_seconds),
        notify=outbox_sink(recipients, areas),
        calendar=load_calendar(options.calendar_file),
    )


async def run_alerts(
    settings: Settings,
    evaluator: Evaluator,
    stop: asyncio.Event,
    passes: AlertPasses | None = None,
) -> None:
    """Evaluate, keep the KPI values current and deliver notifications until `stop` is set.

    A database outage is logged and retried on the next pass; the notifier waits for the
    database by itself. Safe to run twice: passes take a database lock, and the outbox
    delivers each message once. `passes` counts them for the health port.
    """
    notifier = Notifier.from_settings(settings)
    delivering = asyncio.create_task(notifier.run())
    conn: asyncpg.Connection | None = None
    next_retention = 0.0  # monotonic time of the next retention run (ioc.db.retention)
    try:
        while not stop.is_set():
            try:
                if conn is None or conn.is_closed():
                    conn = await connect(settings)
                await evaluator.run_once(conn)
                await keep_current(conn, evaluator.catalogue)
                if time.monotonic() >= next_retention:
                    deleted = await apply_retention(conn, settings.retention, datetime.now(UTC))
                    log.info("retention: deleted %s", deleted)
                    next_retention = time.monotonic() + settings.retention.every_minutes * 60
                if passes is not None:
                    passes.ok()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
                log.warning("alert pass failed, retrying: %r", err)
                conn = None
                if passes is not None:
                    passes.failed(err)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.alerts.evaluate_every_seconds)
    finally:
        notifier.stop()
        await delivering
        if conn is not None:
            conn.terminate()
