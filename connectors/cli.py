"""`ioc connectors …`: list, describe, run and backfill the registered feeds."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import signal
import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, ParamSpec, Protocol, TypeVar, runtime_checkable

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from ioc._cli import command_settings, err_console, out_console, print_json, tune_gc
from ioc.areas import load_areas
from ioc.config import Settings, get_settings
from ioc.connectors.base import (
    Clock,
    Connector,
    ConnectorContext,
    ConnectorError,
    VirtualClock,
    WallClock,
)
from ioc.connectors.registry import RegistryError, load_connector, registered
from ioc.connectors.runner import ConnectorRunner
from ioc.connectors.scenarios import load_scenario
from ioc.datafile import DataFileError
from ioc.events import utc_now
from ioc.health_server import connector_probes, serve_health
from ioc.localtime import ZONE_NAME, parse_duration, parse_start, to_local
from ioc.telemetry import ConnectorMetrics, health_problem, read_connector_metrics

__all__ = ["app"]

app = typer.Typer(
    help=(
        "Feeds: list and describe the registered connectors, run one live, or backfill a "
        "past time range at full speed. Connectors are registered in the entry-point group "
        "`ioc.connectors`; see the README, 'Plugging in'."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def _when(text: str, now: datetime, option: str) -> datetime:
    """`30d` (ago), `now`, `-2h`, or an ISO date/time (naive = Asia/Ho_Chi_Minh) → UTC."""
    text = text.strip()
    if text and text[0].isdigit():
        with contextlib.suppress(ValueError):
            return now - parse_duration(text)
    try:
        return parse_start(text, now)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint=option) from None


P = ParamSpec("P")
R = TypeVar("R")


def _friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a wrong registration, option, scenario or mapping into one message and exit 2."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (RegistryError, ConnectorError, DataFileError) as err:
            err_console.print(f"[red]{err}[/]")
            raise typer.Exit(2) from None

    return wrapper


def _options(pairs: list[str]) -> dict[str, str]:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r}: options are KEY=VALUE", param_hint="-o")
        options[key.strip()] = value
    return options


def _context(
    name: str,
    instance: str | None,
    settings: Settings,
    clock: Clock,
    *,
    seed: int,
    rate: float | None,
    scenario: str | None,
    options: list[str],
) -> ConnectorContext:
    areas = load_areas(settings.areas_file)
    return ConnectorContext(
        name=instance or name,
        settings=settings,
        areas=areas,
        clock=clock,
        seed=seed,
        rate=settings.connectors.rate if rate is None else rate,
        scenario=load_scenario(scenario, now=clock.now(), areas=areas) if scenario else None,
        options=_options(options),
    )


@runtime_checkable
class _Finite(Protocol):
    """A connector that can tell how far through a finite input it is (a one-shot import)."""

    def progress(self) -> tuple[int, int] | None:
        """(done, total), 0 total while unknown; None when this run has no end."""


_Where = Callable[[], tuple[float, float]]
"""How far a run is: (done, total) in any unit, 0 total while unknown."""


def _bar(name: str) -> Progress:
    """The progress bar of a run with an end: how far, what was delivered, and how fast.

    The bar takes the width the rest leaves, so the rate stays whole on an 80-column terminal.
    """
    return Progress(
        TextColumn(f"[bold]{name}[/]"),
        BarColumn(bar_width=None),
        TextColumn(
            "{task.percentage:>3.0f}%  {task.fields[sent]:,} sent  "
            "{task.fields[rate]:,.0f} events/s"
        ),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )


async def _run(
    runner: ConnectorRunner,
    progress: Progress | None,
    where: _Where | None = None,
    health_port: int | None = None,
) -> float:
    """Run the connector (with its bar if `progress`); the seconds it took."""
    tune_gc()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, runner.stop)
    async with serve_health(health_port, connector_probes(runner.metrics)):
        return await _follow(runner, progress, where)


async def _follow(
    runner: ConnectorRunner, progress: Progress | None, where: _Where | None
) -> float:
    began = time.monotonic()
    task = asyncio.create_task(runner.run())
    if progress is not None and where is not None:
        # While it runs, the rate is the runner's (acknowledged records over the last 10 s);
        # once done, the whole run's, as the summary line says.
        bar = progress.add_task("run", total=None, sent=0, rate=0.0)
        while not task.done():
            done, total = where()
            progress.update(
                bar,
                completed=done,
                total=total or None,
                sent=runner.metrics.sent,
                rate=runner.metrics.rate,
            )
            await asyncio.wait([task], timeout=0.25)
        total = where()[1] or 1
        rate = runner.metrics.sent / max(time.monotonic() - began, 1e-9)
        progress.update(bar, completed=total, total=total, sent=runner.metrics.sent, rate=rate)
    await task
    return time.monotonic() - began


def _summary(metrics: ConnectorMetrics, seconds: float | None = None) -> str:
    """The line a run ends with; with its duration, the whole run's rate too."""
    rate = (
        f" in {seconds:,.1f} s ({metrics.sent / max(seconds, 1e-9):,.0f} events/s)"
        if seconds is not None
        else ""
    )
    return (
        f"{metrics.name}: {metrics.yielded:,} items, {metrics.sent:,} delivered{rate}, "
        f"{metrics.dead_lettered:,} to the DLQ, {metrics.spool_records:,} left in the spool"
    )


Seed = Annotated[int, typer.Option(help="Seed of the simulated feeds (same seed, same events).")]
Rate = Annotated[
    float | None,
    typer.Option(help="Volume multiplier (1 = one province). Default IOC_CONNECTORS__RATE."),
]
ScenarioOpt = Annotated[
    str | None,
    typer.Option(
        help="Incidents to inject: a YAML file, or inline such as "
        "`network_outage:area=11950,start=+5m,duration=15m`."
    ),
]
InstanceOpt = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Name of this instance: the events' source and the key of its spool, metrics and "
        "read positions (default: the connector's name). Two instances need two names.",
    ),
]
OptionsOpt = Annotated[
    list[str], typer.Option("--option", "-o", help="Connector option KEY=VALUE (repeatable).")
]


@app.command("list")
@_friendly
def list_connectors(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List every registered connector: name, feed, description and package."""
    rows: list[dict[str, str | None]] = []
    table = Table(title="Registered connectors (entry-point group ioc.connectors)")
    for column in ("name", "feed", "description", "package"):
        table.add_column(column)
    broken = []
    for name, entry in registered().items():
        try:
            cls = entry.load()
        except RegistryError as err:
            broken.append(str(err))
            table.add_row(name, "-", "[red]cannot be loaded[/]", entry.distribution)
            rows.append(_connector_json(name, None, entry.distribution, str(err)))
            continue
        table.add_row(name, cls.feed or "(mapping)", cls.description(), entry.distribution)
        rows.append(_connector_json(name, cls, entry.distribution, None))
    if as_json:
        print_json(rows)
    else:
        out_console().print(table)
    for problem in broken:
        err_console.print(f"[red]{problem}[/]")
    if broken:
        raise typer.Exit(1)


def _connector_json(
    name: str, cls: type[Connector] | None, package: str | None, error: str | None
) -> dict[str, str | None]:
    return {
        "name": name,
        "feed": cls.feed if cls is not None else None,
        "description": cls.description() if cls is not None else None,
        "package": package,
        "error": error,
    }


@app.command()
@_friendly
def describe(
    name: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show what a connector does, its feed and its options."""
    entry = registered().get(name)
    cls = load_connector(name)
    if as_json:
        print_json(
            _connector_json(name, cls, entry.distribution if entry else None, None)
            | {
                "class": entry.target if entry else cls.__qualname__,
                "options": dict(cls.options_help),
            }
        )
        return
    out = out_console()
    out.print(f"[bold]{name}[/] — {cls.description()}")
    if cls.feed:
        out.print(f"feed: {cls.feed} (topic ioc.events.{cls.feed})")
    else:
        out.print("feed: each event's own, set by its mapping (topic ioc.events.<feed>)")
    out.print(f"class: {entry.target if entry else cls.__qualname__}")
    out.print(f"package: {entry.distribution if entry else '-'}")
    doc = (inspect.getdoc(cls) or "").split("\n", 1)
    if len(doc) > 1:
        out.print(doc[1].strip())
    if cls.options_help:
        table = Table(title="options (-o KEY=VALUE)")
        table.add_column("option")
        table.add_column("meaning")
        for key, meaning in cls.options_help.items():
            table.add_row(key, meaning)
        out.print(table)


@app.command()
@_friendly
def run(
    name: str,
    seed: Seed = 0,
    rate: Rate = None,
    scenario: ScenarioOpt = None,
    option: OptionsOpt = [],  # noqa: B006 - typer reads the default, never mutates it
    instance: InstanceOpt = None,
    history: Annotated[
        str | None,
        typer.Option(
            help="Begin this far in the past (e.g. 24h), or where this connector's last run "
            "stopped if that is later, and catch up at full speed before going live."
        ),
    ] = None,
) -> None:
    """Run one connector live until Ctrl-C, publishing to Kafka.

    While the broker is unreachable, events are spooled to disk under IOC_STATE_DIR and
    delivered in order when it is back; `ioc status` shows the counters.
    """
    settings = command_settings()
    start = None
    if history:
        now = utc_now()
        try:
            start = now - parse_duration(history)
        except ValueError as err:
            raise typer.BadParameter(str(err), param_hint="--history") from None
        metrics = {m.name: m for m in read_connector_metrics(settings.state_dir)}
        previous = metrics.get(instance or name)
        if previous is not None and previous.last_event_time:
            start = max(start, datetime.fromisoformat(previous.last_event_time))
    clock = WallClock(start)
    context = _context(
        name, instance, settings, clock, seed=seed, rate=rate, scenario=scenario, options=option
    )
    connector = load_connector(name)(context)
    runner = ConnectorRunner(connector, settings)
    err_console.print(
        f"Running {context.name} (Ctrl-C stops; events are flushed or spooled first)."
    )
    if isinstance(connector, _Finite) and connector.progress() is not None:
        # A one-shot import (jsonl -o follow=false): a bar over its input, like a backfill's.
        finite = connector

        def where() -> tuple[float, float]:
            return finite.progress() or (0, 0)

        err_console.print(f"{context.name}: one pass to the end of its input")
        with _bar(context.name) as progress:
            seconds = asyncio.run(_run(runner, progress, where, settings.health_port))
        err_console.print(_summary(runner.metrics, seconds))
        return
    asyncio.run(_run(runner, None, None, settings.health_port))
    err_console.print(_summary(runner.metrics))


@app.command()
@_friendly
def backfill(
    name: str,
    from_: Annotated[
        str,
        typer.Option(
            "--from", help="Start: 30d (ago), 2026-10-01 or 2026-10-01T08:00 (local time)."
        ),
    ],
    to: Annotated[str, typer.Option(help="End (exclusive), same forms; default now.")] = "now",
    seed: Seed = 0,
    rate: Rate = None,
    scenario: ScenarioOpt = None,
    option: OptionsOpt = [],  # noqa: B006
    instance: InstanceOpt = None,
) -> None:
    """Generate a past time range at full speed with correct event times.

    Records are stamped with the broker's append time (the topics use LogAppendTime), so
    Kafka's retention does not delete old history on arrival; event time is in the envelope.
    """
    settings = command_settings()
    now = utc_now()
    start = _when(from_, now, "--from")
    end = _when(to, now, "--to")
    if end <= start:
        raise typer.BadParameter(f"--to {to} is not after --from {from_}")
    clock = VirtualClock(start, end)
    context = _context(
        name, instance, settings, clock, seed=seed, rate=rate, scenario=scenario, options=option
    )
    runner = ConnectorRunner(load_connector(name)(context), settings)

    def local(when: datetime) -> str:
        return f"{to_local(when):%Y-%m-%d %H:%M}"

    def where() -> tuple[float, float]:  # event time covered, of the range
        return (clock.now() - start).total_seconds(), (end - start).total_seconds()

    err_console.print(f"{context.name}: {local(start)} → {local(end)} ({ZONE_NAME})")
    with _bar(context.name) as progress:
        seconds = asyncio.run(_run(runner, progress, where))
    err_console.print(_summary(runner.metrics, seconds))
    if runner.metrics.spool_records:
        raise typer.Exit(1)


@app.command()
def health(
    name: Annotated[str, typer.Argument(help="The connector (or its --as instance name).")],
    within: Annotated[
        float, typer.Option(help="Unhealthy if its metrics are older than this (seconds).")
    ] = 30.0,
) -> None:
    """Exit 0 if the connector runs and reported within WITHIN seconds (liveness probes).

    Spooling (the broker is away) counts as alive: the connector keeps every event on disk and
    restarting it would not help. Back-pressure (spool full) and disk-full (the spool's disk
    refuses writes) do too, for the same reason; `ioc status` shows both as DOWN.
    """
    settings = get_settings()
    found = next((m for m in read_connector_metrics(settings.state_dir) if m.name == name), None)
    problem = health_problem(
        found, within, healthy=("starting", "running", "spooling", "back-pressure", "disk-full")
    )
    if problem is not None:
        err_console.print(f"connector {name}: {problem}")
        raise typer.Exit(1)
    err_console.print(f"connector {name}: healthy")
