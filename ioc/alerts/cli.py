"""`ioc alerts …`: list, acknowledge and silence alerts; run the evaluator and notifier."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

from ioc.config import Settings, get_settings
from ioc.datafile import DataFileError
from ioc.logs import configure_logging

__all__ = ["app", "build_evaluator"]

log = logging.getLogger(__name__)

app = typer.Typer(
    help=(
        "Alerts on KPIs: list them, acknowledge one (stops its escalation), silence a rule "
        "for a while, or run the evaluator (`ioc up` runs it)."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
console = Console(stderr=True, soft_wrap=True)


def build_evaluator(settings: Settings) -> Any:
    """The evaluator for these settings: catalogue, rules, areas, routing and the outbox."""
    from ioc.alerts.engine import Evaluator
    from ioc.alerts.rules import load_rules
    from ioc.areas import load_areas
    from ioc.kpis import load_kpis
    from ioc.notify.outbox import enqueue
    from ioc.notify.routing import load_recipients, route

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
        zone=ZoneInfo(settings.timezone),
        route=lambda transition: route(transition, recipients, areas),
        enqueue=enqueue,
    )


def _settings() -> Settings:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


async def _with_connection(settings: Settings, work: Any) -> Any:
    from ioc.db import connect

    conn = await connect(settings)
    try:
        return await work(conn)
    finally:
        await conn.close()


@app.command("list")
def list_alerts(
    state: Annotated[
        str | None, typer.Option(help="firing, acknowledged or resolved (default: open ones)")
    ] = None,
    area: Annotated[str | None, typer.Option(help="Only this area code.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
) -> None:
    """Alerts, newest first: rule, area, severity, state, since when, value vs target."""
    settings = _settings()
    zone = ZoneInfo(settings.timezone)

    async def fetch(conn: Any) -> list[Any]:
        states = [state] if state else ["firing", "acknowledged"]
        rows: list[Any] = await conn.fetch(
            "SELECT * FROM alerts WHERE state = ANY($1::text[]) AND ($2::text IS NULL OR "
            "area = $2) ORDER BY started_at DESC LIMIT $3",
            states,
            area,
            limit,
        )
        return rows

    rows = asyncio.run(_with_connection(settings, fetch))
    table = Table(title=f"{len(rows)} alerts")
    for column in ("id", "rule", "area", "severity", "state", "level", "since", "value", "target"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["rule_id"],
            r["area"],
            r["severity"],
            r["state"],
            str(r["level"]),
            f"{r['started_at'].astimezone(zone):%d/%m/%Y %H:%M}",
            "—" if r["last_value"] is None else f"{r['last_value']:.4g}",
            "—" if r["target"] is None else f"{r['target']:.4g}",
        )
    Console().print(table)


@app.command()
def ack(
    alert_id: Annotated[int, typer.Argument(help="The alert's id (`ioc alerts list`).")],
    by: Annotated[str, typer.Option("--by", help="Who takes it on (kept in the history).")],
) -> None:
    """Acknowledge a firing alert: it stops escalating and its recipients are told who."""
    settings = _settings()
    evaluator = _evaluator_or_exit(settings)

    async def work(conn: Any) -> Any:
        return await evaluator.acknowledge(conn, alert_id, by)

    try:
        transition = asyncio.run(_with_connection(settings, work))
    except LookupError as err:
        console.print(f"[red]{err}[/]")
        raise typer.Exit(2) from None
    console.print(transition.summary_vi)


@app.command()
def silence(
    rule: Annotated[str, typer.Option(help="A rule id, or a pattern such as dvc_*.")],
    duration: Annotated[str, typer.Option("--for", help="How long, e.g. 30m, 2h, 1d.")],
    reason: Annotated[str, typer.Option(help="Why (kept with the silence).")],
    by: Annotated[str, typer.Option("--by", help="Who silences it.")],
    area: Annotated[str | None, typer.Option(help="Only this area code.")] = None,
) -> None:
    """Hold a rule's notifications back for a while; its alerts still fire and are kept."""
    from ioc.connectors.scenarios import ScenarioError, parse_duration

    settings = _settings()
    try:
        length = parse_duration(duration)
    except ScenarioError as err:
        raise typer.BadParameter(str(err), param_hint="--for") from None
    now = datetime.now(UTC)

    async def work(conn: Any) -> int:
        silence_id: int = await conn.fetchval(
            "INSERT INTO silences (rule_pattern, area, starts_at, ends_at, reason, created_by) "
            "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            rule,
            area,
            now,
            now + length,
            reason,
            by,
        )
        return silence_id

    silence_id = asyncio.run(_with_connection(settings, work))
    until = (now + length).astimezone(ZoneInfo(settings.timezone))
    console.print(f"Silence {silence_id}: {rule} until {until:%d/%m/%Y %H:%M}.")


def _evaluator_or_exit(settings: Settings) -> Any:
    try:
        return build_evaluator(settings)
    except DataFileError as err:
        console.print(f"[red]{err}[/]")
        raise typer.Exit(2) from None


@app.command()
def run() -> None:
    """Evaluate the rules every IOC_ALERTS__EVALUATE_EVERY_SECONDS and deliver notifications.

    Each pass also keeps the KPI values of every area current at 1m, 1h and 1d (what the API,
    the live board and the Grafana boards read).

    Safe to run twice: passes take a database lock, and the outbox delivers each message once.
    """
    settings = _settings()
    evaluator = _evaluator_or_exit(settings)
    asyncio.run(_run(settings, evaluator))


async def _run(settings: Settings, evaluator: Any) -> None:
    from ioc.db import connect
    from ioc.kpi_values import keep_current
    from ioc.notify.notifier import Notifier

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    notifier = Notifier.from_settings(settings)
    delivering = asyncio.create_task(notifier.run())
    console.print("Alert evaluator running (Ctrl-C stops).")
    conn = None
    try:
        while not stop.is_set():
            try:
                if conn is None or conn.is_closed():
                    conn = await connect(settings)
                await evaluator.run_once(conn)
                await keep_current(conn, evaluator.catalogue)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
                log.warning("alert pass failed, retrying: %r", err)
                conn = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.alerts.evaluate_every_seconds)
    finally:
        notifier.stop()
        await delivering
        if conn is not None:
            conn.terminate()
