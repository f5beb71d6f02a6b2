"""`ioc alerts …`: list, acknowledge and silence alerts; run the evaluator and notifier.

The commands only read options and print: the services they start are built in
`ioc.services`, silences are written by `ioc.alerts.silences`.
"""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING, Annotated, TypeVar

import asyncpg
import typer
from rich.table import Table

from ioc._cli import command_settings, err_console, fail, out_console, print_json, with_connection
from ioc.alerts.model import AlertState
from ioc.config import Settings
from ioc.datafile import DataFileError
from ioc.kpis import load_kpis
from ioc.localtime import parse_duration, to_local
from ioc.text import QUIET_LABEL, format_value

if TYPE_CHECKING:
    from ioc.alerts.engine import Evaluator
    from ioc.alerts.model import Transition

__all__ = ["app"]

_T = TypeVar("_T")

app = typer.Typer(
    help=(
        "Alerts on KPIs: list them, acknowledge one (stops its escalation), silence a rule "
        "for a while, or run the evaluator (`ioc up` runs it)."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@app.command("list")
def list_alerts(
    state: Annotated[
        AlertState | None, typer.Option(help="Only this state (default: the open ones).")
    ] = None,
    area: Annotated[str | None, typer.Option(help="Only this area code.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Alerts, newest first: rule, area, severity, state, since when, value vs target."""
    settings = command_settings()

    async def fetch(conn: asyncpg.Connection) -> list[asyncpg.Record]:
        states = [state.value] if state else [AlertState.FIRING, AlertState.ACKNOWLEDGED]
        rows: list[asyncpg.Record] = await conn.fetch(
            "SELECT * FROM alerts WHERE state = ANY($1::text[]) AND ($2::text IS NULL OR "
            "area = $2) ORDER BY started_at DESC LIMIT $3",
            states,
            area,
            limit,
        )
        return rows

    rows = asyncio.run(with_connection(settings, fetch))
    try:
        units = {kpi.id: kpi.unit for kpi in load_kpis(settings.alerts.kpis_file)}
    except DataFileError as err:
        fail(f"The KPI catalogue cannot be used; fix these and run again.\n{err}")
    if as_json:
        print_json(
            [
                {
                    "id": r["id"],
                    "rule": r["rule_id"],
                    "kpi": r["kpi_id"],
                    "area": r["area"],
                    "severity": r["severity"],
                    "state": r["state"],
                    "level": r["level"],
                    "started_at": r["started_at"].isoformat(),
                    "value": r["last_value"],
                    "target": r["target"],
                    "unit": units.get(r["kpi_id"], "number"),
                }
                for r in rows
            ]
        )
        return
    table = Table(title=f"{len(rows)} alerts")
    for column in ("id", "rule", "area", "severity", "state", "level", "since", "value", "target"):
        table.add_column(column, no_wrap=column in ("id", "rule", "area"))
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["rule_id"],
            r["area"],
            r["severity"],
            r["state"],
            str(r["level"]),
            f"{to_local(r['started_at']):%d/%m/%Y %H:%M}",
            format_value(r["last_value"], units.get(r["kpi_id"], "number")),
            format_value(r["target"], units.get(r["kpi_id"], "number")),
        )
    out_console().print(table)


@app.command()
def quiet(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Feeds "yên lặng như dự kiến" (quiet as expected), where and since when.

    Silent outside office hours or on a public holiday (`ioc/data/feed_calendar.yaml`), so
    their no-data rules do not fire.
    """
    from ioc.alerts.store import QuietArea, quiet_areas

    settings = command_settings()

    async def fetch(conn: asyncpg.Connection) -> list[QuietArea]:
        return await quiet_areas(conn)

    found = asyncio.run(with_connection(settings, fetch))
    if as_json:
        print_json(
            [
                {
                    "rule": q.rule_id,
                    "area": q.area,
                    "state": "quiet",
                    "since": q.since.isoformat(),
                    "reason_vi": q.reason_vi,
                }
                for q in found
            ]
        )
        return
    table = Table(title=f"{QUIET_LABEL['vi']} / {QUIET_LABEL['en']}: {len(found)}")
    for column in ("rule", "area", "since", "why"):
        table.add_column(column, no_wrap=column in ("rule", "area"))
    for q in found:
        table.add_row(q.rule_id, q.area, f"{to_local(q.since):%d/%m/%Y %H:%M}", q.reason_vi)
    out_console().print(table)


@app.command()
def ack(
    alert_id: Annotated[int, typer.Argument(help="The alert's id (`ioc alerts list`).")],
    by: Annotated[str, typer.Option("--by", help="Who takes it on (kept in the history).")],
) -> None:
    """Acknowledge a firing alert: it stops escalating and its recipients are told who."""
    settings = command_settings()
    evaluator = _evaluator_or_exit(settings)

    async def work(conn: asyncpg.Connection) -> Transition:
        return await evaluator.acknowledge(conn, alert_id, by)

    try:
        transition = asyncio.run(with_connection(settings, work))
    except LookupError as err:
        err_console.print(f"[red]{err}[/]")
        raise typer.Exit(2) from None
    err_console.print(transition.summary_vi)


@app.command()
def silence(
    rule: Annotated[str, typer.Option(help="A rule id, or a pattern such as dvc_*.")],
    duration: Annotated[str, typer.Option("--for", help="How long, e.g. 30m, 2h, 1d.")],
    reason: Annotated[str, typer.Option(help="Why (kept with the silence).")],
    by: Annotated[str, typer.Option("--by", help="Who silences it.")],
    area: Annotated[str | None, typer.Option(help="Only this area code.")] = None,
) -> None:
    """Hold a rule's notifications back for a while; its alerts still fire and are kept."""
    from ioc.alerts import silences

    settings = command_settings()
    try:
        length = parse_duration(duration)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--for") from None

    async def work(conn: asyncpg.Connection) -> silences.Silence:
        return await silences.create(conn, rule, length, reason=reason, by=by, area=area)

    made = asyncio.run(with_connection(settings, work))
    until = to_local(made.ends_at)
    err_console.print(f"Silence {made.id}: {rule} until {until:%d/%m/%Y %H:%M}.")


def _evaluator_or_exit(settings: Settings) -> Evaluator:
    from ioc.services import build_evaluator

    try:
        return build_evaluator(settings)
    except DataFileError as err:
        err_console.print(f"[red]{err}[/]")
        raise typer.Exit(2) from None


@app.command()
def run() -> None:
    """Evaluate the rules every IOC_ALERTS__EVALUATE_EVERY_SECONDS and deliver notifications.

    Each pass also keeps the KPI values of every area current at 1m, 1h and 1d (what the API,
    the live board and the Grafana boards read).

    Safe to run twice: passes take a database lock, and the outbox delivers each message once.
    """
    settings = command_settings()
    evaluator = _evaluator_or_exit(settings)

    async def main() -> None:
        from ioc.health_server import AlertPasses, alert_probes, serve_health
        from ioc.services import run_alerts

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        err_console.print("Alert evaluator running (Ctrl-C stops).")
        passes = AlertPasses()
        probes = alert_probes(passes, settings.alerts.evaluate_every_seconds)
        async with serve_health(settings.health_port, probes):
            await run_alerts(settings, evaluator, stop, passes)

    asyncio.run(main())
