"""`ioc streams …`: run a stream worker, probe its health."""

from __future__ import annotations

import asyncio
import signal
import socket
from datetime import datetime
from typing import Annotated, Any

import typer
from aiokafka import TopicPartition
from rich.table import Table

from ioc._cli import (
    command_settings,
    err_console,
    out_console,
    print_json,
    quiet_kafka_client,
    tune_gc,
    unreachable,
)
from ioc.config import Settings, get_settings
from ioc.db import connect
from ioc.events import FEEDS
from ioc.health_server import serve_health, stream_probes
from ioc.kafka import make_admin, make_consumer, topic_name
from ioc.logs import configure_logging
from ioc.streams.sink import load_positions
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

Name = Annotated[
    str | None,
    typer.Option(help="This worker's name (metrics file, client id). Default: the host name."),
]


async def _run(worker: StreamWorker, health_port: int | None = None) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, worker.stop)
    async with serve_health(health_port, stream_probes(worker.metrics)):
        await worker.run()


def _start(value: str) -> str | datetime:
    if value in ("earliest", "latest"):
        return value
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r}: use earliest, latest, or a time with its offset, "
            "e.g. 2026-12-01T00:00:00+07:00"
        ) from None
    if at.tzinfo is None:
        raise typer.BadParameter(f"{value!r} has no offset: write e.g. {value}+07:00")
    return at


@app.command()
def run(
    name: Name = None,
    start_from: Annotated[
        str | None,
        typer.Option(
            "--from",
            help=(
                "Where partitions with no stored position start: earliest (default, safe: the "
                "event store counts nothing twice), latest, or a time such as "
                "2026-12-01T00:00:00+07:00. Default: IOC_STREAMS__START_FROM."
            ),
        ),
    ] = None,
) -> None:
    """Run one worker until Ctrl-C or SIGTERM.

    It resumes from the positions stored in the database with the window rows, so it can be
    killed at any moment (even with SIGKILL) and restarted without losing or doubling a count.
    Metrics go to IOC_STATE_DIR/streams/NAME.json (`ioc status`, `ioc streams health`).
    """
    settings = get_settings()
    if start_from is not None:
        streams = settings.streams.model_copy(update={"start_from": _start(start_from)})
        settings = settings.model_copy(update={"streams": streams})
    configure_logging(settings.log_level, settings.log_format)
    worker = StreamWorker(settings, name or socket.gethostname())
    err_console.print(
        f"Stream worker {worker.metrics.name} in group {worker.group}: "
        f"{settings.streams.window_seconds} s windows, "
        f"{settings.streams.allowed_lateness_seconds} s allowed lateness."
    )
    tune_gc()
    try:
        asyncio.run(_run(worker, settings.health_port))
    except RuntimeError as err:
        if unreachable(err) is not None:
            raise  # aiokafka's errors are RuntimeErrors too: one line and exit 4 (run_app)
        err_console.print(f"[red]{err}[/]")
        raise typer.Exit(2) from None


@app.command()
def health(
    name: Name = None,
    within: Annotated[
        float, typer.Option(help="Unhealthy if its metrics are older than this (seconds).")
    ] = 30.0,
    allow_blocked: Annotated[
        bool,
        typer.Option(
            help=(
                "Healthy even while a partition is left unread for an operator to resolve "
                "(`ioc streams positions`): for liveness probes, as a restart would not help."
            )
        ),
    ] = False,
) -> None:
    """Exit 0 if the worker runs and reported within WITHIN seconds (probes).

    A worker that leaves a partition unread (its stored position is past the partition's end)
    is unhealthy unless --allow-blocked: readiness shows the problem, liveness keeps the pod.
    """
    settings = get_settings()
    wanted = name or socket.gethostname()
    found = next((m for m in read_stream_metrics(settings.state_dir) if m.name == wanted), None)
    healthy = ("running", "starting", "blocked") if allow_blocked else ("running", "starting")
    problem = health_problem(found, within, healthy=healthy)
    if problem is not None and found is not None and found.position_errors:
        problem += "; " + "; ".join(f"{k}: {v}" for k, v in sorted(found.position_errors.items()))
    if problem is not None:
        err_console.print(f"stream worker {wanted}: {problem}")
        raise typer.Exit(1)
    err_console.print(f"stream worker {wanted}: healthy")


async def _partitions(settings: Settings, topics: list[str]) -> dict[str, list[int]]:
    """Topic → its partition numbers, for the topics that exist."""
    admin = make_admin(settings)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return {
        t["topic"]: sorted(p["partition"] for p in t["partitions"])
        for t in described
        if t["partitions"] and t["topic"] in topics
    }


async def group_positions(settings: Settings, group: str) -> list[dict[str, Any]]:
    """Each partition the workers read, and where `group` stands on it.

    Every row holds the stored position, the partition's first and end offsets, and a problem
    when the position is past the end or behind the first offset.
    """
    topics = [topic_name(settings, "events", feed) for feed in FEEDS]
    found = await _partitions(settings, [*topics, topic_name(settings, "late")])
    parts = [TopicPartition(t, p) for t, numbers in sorted(found.items()) for p in numbers]
    consumer = make_consumer(settings)
    await consumer.start()
    try:
        first = await consumer.beginning_offsets(parts)
        ends = await consumer.end_offsets(parts)
    finally:
        await consumer.stop()
    conn = await connect(settings)
    try:
        stored = await load_positions(conn, group, {tp.topic for tp in parts})
    finally:
        await conn.close()
    rows = []
    for tp in parts:
        position = stored.get((tp.topic, tp.partition))
        offset = None if position is None else position.next_offset
        problem = ""
        if offset is not None and offset > ends[tp]:
            problem = "past the end: topic re-created or offsets reset"
        elif offset is not None and offset < first[tp]:
            problem = f"{first[tp] - offset:,} records deleted by retention before being read"
        rows.append(
            {
                "topic": tp.topic,
                "partition": tp.partition,
                "stored": offset,
                "watermark": None if position is None else position.watermark,
                "first": first[tp],
                "end": ends[tp],
                "problem": problem,
            }
        )
    return rows


Group = Annotated[str | None, typer.Option(help="The consumer group. Default: IOC_STREAMS__GROUP.")]


@app.command()
def positions(
    group: Group = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Where a group stands on every partition, and any problem (exit code 1 then).

    Shows the stored position, the partition's first and end offsets, and a position past the
    end (not read until resolved with `ioc streams seek`) or behind the first offset.
    """
    settings = command_settings()
    quiet_kafka_client()
    wanted = group or settings.streams.group
    rows = asyncio.run(group_positions(settings, wanted))
    if as_json:
        print_json({"group": wanted, "partitions": rows})
        if any(r["problem"] for r in rows):
            raise typer.Exit(1)
        return
    table = Table(title=f"Positions of group {wanted}")
    for column in ("topic", "partition", "stored", "first", "end", "problem"):
        table.add_column(
            column, justify="right" if column in ("partition", "stored", "first", "end") else "left"
        )
    for r in rows:
        table.add_row(
            r["topic"],
            str(r["partition"]),
            "-" if r["stored"] is None else f"{r['stored']:,}",
            f"{r['first']:,}",
            f"{r['end']:,}",
            r["problem"],
        )
    out_console().print(table)
    if any(r["problem"] for r in rows):
        raise typer.Exit(1)


async def seek_position(
    settings: Settings, group: str, topic: str, partition: int, to: str = "earliest"
) -> int:
    """Store where `group` reads `topic`/`partition` next (see `seek`); returns the offset."""
    tp = TopicPartition(topic, partition)
    if partition not in (await _partitions(settings, [topic])).get(topic, []):
        raise typer.BadParameter(f"{topic} has no partition {partition}")
    consumer = make_consumer(settings)
    await consumer.start()
    try:
        offset: int
        if to == "earliest":
            offset = (await consumer.beginning_offsets([tp]))[tp]
        elif to == "latest":
            offset = (await consumer.end_offsets([tp]))[tp]
        elif to.isdigit():
            offset = int(to)
        else:
            at = _start(to)
            assert isinstance(at, datetime)
            found = (await consumer.offsets_for_times({tp: int(at.timestamp() * 1000)}))[tp]
            offset = int((await consumer.end_offsets([tp]))[tp] if found is None else found.offset)
    finally:
        await consumer.stop()
    conn = await connect(settings)
    try:
        # Not GREATEST, unlike a worker's flush: the operator decides, also to go backwards.
        await conn.execute(
            "INSERT INTO stream_offsets (consumer_group, topic, partition, next_offset) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (consumer_group, topic, partition) DO UPDATE "
            "SET next_offset = EXCLUDED.next_offset, updated_at = now()",
            group,
            topic,
            partition,
            offset,
        )
    finally:
        await conn.close()
    return offset


@app.command()
def seek(
    topic: Annotated[str, typer.Option(help="The topic, e.g. ioc.events.dvc.")],
    partition: Annotated[int, typer.Option(help="The partition number.", min=0)],
    to: Annotated[
        str,
        typer.Option(
            help=(
                "earliest (safe: the event store counts nothing twice), latest (skips what "
                "is there now), an offset, or a time such as 2026-12-01T00:00:00+07:00."
            )
        ),
    ],
    group: Group = None,
) -> None:
    """Move a group's stored position on one partition (e.g. after a topic was re-created).

    A running worker that left the partition unread picks the new position up within
    seconds; other workers read from it after their next rebalance or restart.
    """
    settings = command_settings()
    quiet_kafka_client()
    wanted = group or settings.streams.group
    offset = asyncio.run(seek_position(settings, wanted, topic, partition, to))
    err_console.print(f"group {wanted}: {topic}/{partition} will be read from offset {offset:,}")
