"""`ioc streams …`: run a stream worker, probe its health."""

from __future__ import annotations

import asyncio
import signal
import socket
from typing import Annotated

import typer
from rich.console import Console

from ioc.config import get_settings
from ioc.logs import configure_logging
from ioc.streams.worker import StreamWorker
from ioc.telemetry import health_problem, read_stream_metrics

__all__ = ["app"]

app = typer.Typer(
    help=(
        "Stream workers: read the event topics, count events into event-time windows in the "
        "database, exactly once. Workers of one group (IOC_STREAMS__GROUP) split the "
        "partitions between them: more workers than IOC_KAFKA__PARTITIONS sit idle."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
console = Console(stderr=True, soft_wrap=True)

Name = Annotated[
    str | None,
    typer.Option(help="This worker's name (metrics file, client id). Default: the host name."),
]


async def _run(worker: StreamWorker) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, worker.stop)
    await worker.run()


@app.command()
def run(name: Name = None) -> None:
    """Run one worker until Ctrl-C or SIGTERM.

    It resumes from the positions stored in the database with the window rows, so it can be
    killed at any moment (even with SIGKILL) and restarted without losing or doubling a count.
    Metrics go to IOC_STATE_DIR/streams/NAME.json (`ioc status`, `ioc streams health`).
    """
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    worker = StreamWorker(settings, name or socket.gethostname())
    console.print(
        f"Stream worker {worker.metrics.name} in group {worker.group}: "
        f"{settings.streams.window_seconds} s windows, "
        f"{settings.streams.allowed_lateness_seconds} s allowed lateness."
    )
    try:
        asyncio.run(_run(worker))
    except RuntimeError as err:
        console.print(f"[red]{err}[/]")
        raise typer.Exit(2) from None


@app.command()
def health(
    name: Name = None,
    within: Annotated[
        float, typer.Option(help="Unhealthy if its metrics are older than this (seconds).")
    ] = 30.0,
) -> None:
    """Exit 0 if the worker runs and reported within WITHIN seconds (liveness probes)."""
    settings = get_settings()
    wanted = name or socket.gethostname()
    found = next((m for m in read_stream_metrics(settings.state_dir) if m.name == wanted), None)
    problem = health_problem(found, within, healthy=("running", "starting"))
    if problem is not None:
        console.print(f"stream worker {wanted}: {problem}")
        raise typer.Exit(1)
    console.print(f"stream worker {wanted}: healthy")
