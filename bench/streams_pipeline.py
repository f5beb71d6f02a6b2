"""Benchmark: the stream worker (Kafka → windows in PostgreSQL) next to bare consumers and faust.

Run: `.venv/bin/python -m bench.streams_pipeline` (about 5 minutes on 2 cores; `--quick` for a
short check, `--events 500000` for a longer backlog, `--profile` to add a py-spy profile).

In one run, on one broker (the embedded Apache Kafka, or `IOC_KAFKA_BOOTSTRAP`) and an
embedded PostgreSQL the bench starts on loopback:

1. **produce** (not timed against anything): the four simulated connectors backfill a past
   stretch of a Monday morning through `ConnectorRunner` onto fresh topics (6 partitions each);
2. **backlog**, every reader from the first record to the last, on the same topics:
   a. *bare read*: an `AIOKafkaConsumer` `getmany` loop touching each record (the ceiling);
   b. *bare decode*: the same loop plus `ioc.codec.decode` of every record;
   c. *worker*: `ioc streams run` (a subprocess, its own consumer group and a freshly migrated
      database) until its stored positions (`stream_offsets`) reach the end offsets, i.e.
      every event is in `window_metrics`; the event store must then hold every event;
   d. *faust*: a faust-streaming agent (a subprocess) with `stream.take_events(10_000, 0.5)`
      decoding every record with `ioc.codec.decode` (no database);
3. **live**: the four connectors live at `--live-rate` (10× a province) and one worker, for
   `--live-seconds`; latency of a window row = its `updated_at` (the `now()` of the
   transaction that last wrote it) minus its window's end, over the windows wholly inside the
   run (ending at least 5 s before the connectors stop). Repeated for each `--flush-ms`.

Results go to `bench/results/streams_pipeline-<date>[-quick].json` and a table is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import numpy as np
import psutil
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench._broker import kafka_bootstrap
from ioc.areas import AreaRegistry, load_areas
from ioc.codec import decode
from ioc.config import Settings, load_settings
from ioc.connectors import ConnectorContext, VirtualClock, WallClock
from ioc.connectors.registry import load_connector
from ioc.connectors.runner import ConnectorRunner
from ioc.db import connect, migrate
from ioc.embedded.postgres import PostgresNode
from ioc.embedded.process import ManagedProcess, ProcessSpec
from ioc.events import FEEDS, utc_now
from ioc.kafka import (
    end_offsets,
    ensure_topics,
    make_consumer,
    project_topics,
    topic_name,
)
from ioc.localtime import ZONE, to_local
from ioc.telemetry import StreamMetrics, read_stream_metrics

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
SIMULATORS = ("camera-sim", "dvc-sim", "payment-sim", "network-sim")
PARTITIONS = 6
MAX_RECORDS = 20_000  # = IOC_STREAMS__MAX_BATCH, the worker's getmany size
FETCH_BYTES = 4 << 20  # = the worker's max_partition_fetch_bytes
FAUST_BATCH = 10_000
BARE_RUNS = 2  # the bare loops take seconds: best of two
MAX_SPAN = timedelta(minutes=50)  # event time of one live run
POLL = 0.1
START_TIMEOUT = 90.0
CAUGHT_UP_TIMEOUT = 600.0


# --- processes and CPU ----------------------------------------------------------------------


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def _service_cpu() -> dict[str, dict[int, float]]:
    """CPU seconds so far of the broker and database processes this bench started."""
    found: dict[str, dict[int, float]] = {"kafka": {}, "postgres": {}}
    for proc in psutil.Process().children(recursive=True):
        try:
            name = proc.name()
            kind = "postgres" if name.startswith("postgres") else "kafka" if name == "java" else ""
            if kind:
                found[kind][proc.pid] = _cpu(proc)
        except psutil.Error:
            continue
    return found


def _service_delta(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]], seconds: float
) -> dict[str, float]:
    """CPU% (100 = one core) of each service between two `_service_cpu` snapshots."""
    out = {}
    for kind, now in after.items():
        used = sum(t - before.get(kind, {}).get(pid, 0.0) for pid, t in now.items())
        out[f"{kind}_cpu_percent"] = 100 * used / seconds if seconds > 0 else 0.0
    return out


@dataclass
class Sampler:
    """CPU and peak RSS of one process over a measured interval."""

    proc: psutil.Process
    cpu_start: float = 0.0
    rss_peak: int = 0

    def sample(self) -> None:
        with contextlib.suppress(psutil.Error):
            self.rss_peak = max(self.rss_peak, self.proc.memory_info().rss)

    def begin(self) -> None:
        self.cpu_start = _cpu(self.proc)
        self.sample()

    def cpu_since_begin(self) -> float:
        return _cpu(self.proc) - self.cpu_start


# --- services -------------------------------------------------------------------------------


@dataclass
class Bench:
    """The broker, the database server and where everything of this run lives."""

    bootstrap: str
    postgres: PostgresNode
    root: Path
    progress: Progress
    postgres_version: str = ""
    databases: list[str] = field(default_factory=list)

    def settings(self, prefix: str, **overrides: Any) -> Settings:
        return load_settings(
            kafka_bootstrap=self.bootstrap,
            state_dir=self.root / f"state-{prefix}",
            kafka={"topic_prefix": prefix, "partitions": PARTITIONS},
            **overrides,
        )

    async def database(self, stem: str, tree: Path | None = None) -> str:
        """A new database, migrated by this checkout or by the code in `tree`; its URL.

        A `--before` tree gets its own release's schema (its worker may write tables a later
        migration replaced).
        """
        name = f"bench_{stem}_{uuid.uuid4().hex[:6]}"
        admin = await asyncpg.connect(self.postgres.url_for("postgres"))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            self.postgres_version = await admin.fetchval("SHOW server_version")
        finally:
            await admin.close()
        url = self.postgres.url_for(name)
        self.databases.append(name)
        if tree is not None:
            await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "ioc", "db", "migrate"],
                cwd=tree,
                env={
                    **os.environ,
                    "PYTHONPATH": str(tree),
                    "IOC_DATABASE_URL": url,
                    "IOC_DATABASE__SSLMODE": "disable",
                },
                check=True,
                capture_output=True,
            )
            return url
        conn = await connect(load_settings(database={"sslmode": "disable"}), url)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        return url

    def worker(
        self,
        settings: Settings,
        database_url: str,
        name: str,
        env: dict[str, str] | None = None,
        wrap: list[str] | None = None,
    ) -> ManagedProcess:
        """`python -m ioc streams run --name NAME` with its own settings, started."""
        spec = ProcessSpec(
            name=f"worker-{name}",
            argv=[sys.executable, *(wrap or ["-m"]), "ioc", "streams", "run", "--name", name],
            env={
                "IOC_KAFKA_BOOTSTRAP": self.bootstrap,
                "IOC_DATABASE_URL": database_url,
                "IOC_DATABASE__SSLMODE": "disable",
                "IOC_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix,
                "IOC_KAFKA__PARTITIONS": str(PARTITIONS),
                "IOC_STATE_DIR": str(settings.state_dir),
                "IOC_STREAMS__GROUP": settings.streams.group,
                "IOC_LOG_LEVEL": "WARNING",
                **(env or {}),
            },
            cwd=REPO,
        )
        process = ManagedProcess(spec, self.root)
        process.start()
        return process


@contextlib.contextmanager
def postgres_server(root: Path) -> Iterator[PostgresNode]:
    """The embedded PostgreSQL (loopback only), stopped afterwards."""
    node = PostgresNode(root, port=0, database="postgres")
    process = ManagedProcess(node.prepare(), root)
    process.start()
    try:
        process.wait_ready(START_TIMEOUT)
        yield node
    finally:
        process.stop(10.0)


@contextlib.asynccontextmanager
async def _connection(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


def _event_topics(settings: Settings) -> list[str]:
    return [topic_name(settings, "events", feed) for feed in FEEDS]


async def _positions(conn: asyncpg.Connection, group: str) -> dict[tuple[str, int], int]:
    rows = await conn.fetch(
        "SELECT topic, partition, next_offset FROM stream_offsets WHERE consumer_group = $1",
        group,
    )
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


def _metrics(settings: Settings, name: str) -> StreamMetrics | None:
    return next((m for m in read_stream_metrics(settings.state_dir) if m.name == name), None)


def _alive(process: ManagedProcess) -> None:
    if not process.running():
        raise RuntimeError(
            f"{process.spec.name} exited with code {process.poll()}; last lines of "
            f"{process.log_file}:\n{process.log_tail()}"
        )


# --- 1. the backlog -------------------------------------------------------------------------


def _backlog_start(settings: Settings) -> datetime:
    """08:00 local on the most recent Monday at least two hours ago (a busy, ordinary hour)."""
    local = to_local(utc_now() - timedelta(hours=2))
    day = local.date() - timedelta(days=local.weekday())
    start = datetime(day.year, day.month, day.day, 8, tzinfo=ZONE)
    if start > local:
        start -= timedelta(days=7)
    return start.astimezone(ZoneInfo("UTC"))


def _context(
    name: str, settings: Settings, areas: AreaRegistry, clock: Any, rate: float
) -> ConnectorContext:
    return ConnectorContext(
        name=name, settings=settings, areas=areas, clock=clock, seed=1, rate=rate
    )


async def _per_second(
    settings: Settings, areas: AreaRegistry, start: datetime, rate: float
) -> float:
    """Events per second of event time of the four simulators at `rate`, from 2 minutes."""
    sample = timedelta(minutes=2)
    count = 0
    for name in SIMULATORS:
        connector = load_connector(name)(
            _context(name, settings, areas, VirtualClock(start, start + sample), rate)
        )
        async for _ in connector.events():
            count += 1
    return count / sample.total_seconds()


async def produce(bench: Bench, settings: Settings, events: int, rate: float) -> dict[str, Any]:
    """Backfill the four feeds onto fresh topics; returns what was produced and how fast."""
    areas = load_areas(settings.areas_file)
    start = _backlog_start(settings)
    per_second = await _per_second(settings, areas, start, rate)
    span = timedelta(seconds=events / per_second)
    if span > MAX_SPAN:  # more volume per second instead: the check needs no pruned ids
        rate *= span / MAX_SPAN
        per_second = await _per_second(settings, areas, start, rate)
        span = timedelta(seconds=events / per_second)
    end = start + span
    runners = [
        ConnectorRunner(
            load_connector(name)(_context(name, settings, areas, VirtualClock(start, end), rate)),
            settings,
            state_dir=bench.root / "produce-state",
        )
        for name in SIMULATORS
    ]
    task = bench.progress.add_task("produce (4 connectors)", total=events)
    started = time.perf_counter()
    runs = [asyncio.create_task(r.run()) for r in runners]
    while not all(r.done() for r in runs):
        bench.progress.update(task, completed=sum(r.metrics.sent for r in runners))
        await asyncio.wait(runs, timeout=0.25)
    elapsed = time.perf_counter() - started
    sent = {r.name: (await run).sent for r, run in zip(runners, runs, strict=True)}
    bench.progress.update(task, completed=sum(sent.values()), total=sum(sent.values()))
    ends = await end_offsets(settings, _event_topics(settings))
    total = sum(ends.values())
    if total != sum(sent.values()):
        raise RuntimeError(f"{sum(sent.values())} events acknowledged but {total} on the topics")
    return {
        "events": total,
        "by_connector": sent,
        "seconds": elapsed,
        "events_per_second": total / elapsed,
        "rate": rate,
        "event_time_from": start.isoformat(),
        "event_time_to": end.isoformat(),
        "partitions": len(ends),
    }


async def bare_consumer(
    bench: Bench, settings: Settings, total: int, decode_each: bool
) -> dict[str, Any]:
    """A bare getmany loop over the feed topics (no group), reading and maybe decoding."""
    label = "bare decode" if decode_each else "bare read"
    task = bench.progress.add_task(label, total=total)
    consumer = make_consumer(
        settings, *_event_topics(settings), group_id=None, max_partition_fetch_bytes=FETCH_BYTES
    )
    me = Sampler(psutil.Process())
    me.begin()
    services = _service_cpu()
    started = time.perf_counter()
    await consumer.start()
    count = touched = 0
    first: tuple[float, int, float] | None = None
    try:
        while count < total:
            batch = await consumer.getmany(timeout_ms=500, max_records=MAX_RECORDS)
            for records in batch.values():
                if decode_each:
                    for record in records:
                        decode(record.value)
                else:
                    for record in records:
                        touched += len(record.value or b"")
                count += len(records)
            if first is None and count:
                first = (time.perf_counter(), count, _cpu(me.proc))
            bench.progress.update(task, completed=count)
        ended = time.perf_counter()
        cpu_end = _cpu(me.proc)
        me.sample()
    finally:
        await consumer.stop()
    assert first is not None
    sustained = ended - first[0]
    return {
        "events": count,
        "seconds_from_start": ended - started,
        "events_per_second_from_start": count / (ended - started),
        "seconds": sustained,
        "events_per_second": (count - first[1]) / sustained,
        "cpu_us_per_event": 1e6 * (cpu_end - first[2]) / (count - first[1]),
        "cpu_percent": 100 * (cpu_end - first[2]) / sustained,
        **_service_delta(services, _service_cpu(), ended - started),
    }


async def best_of(runs: int, measure: Any, *args: Any) -> dict[str, Any]:
    """The fastest of `runs` measurements (short runs: one hiccup of the machine shows)."""
    tries = [await measure(*args) for _ in range(runs)]
    best: dict[str, Any] = max(tries, key=lambda r: r["events_per_second"])
    best["all_runs_events_per_second"] = [r["events_per_second"] for r in tries]
    return best


async def _drain(
    bench: Bench,
    settings: Settings,
    database_url: str,
    process: ManagedProcess,
    total: int,
    label: str,
    on_first: Any = None,
) -> dict[str, Any]:
    """Wait until the worker's stored positions reach `total`; time it from its first flush."""
    task = bench.progress.add_task(label, total=total)
    group = settings.streams.group
    topics = _event_topics(settings)
    sampler = Sampler(psutil.Process(process.pid))
    services = _service_cpu()
    spawned = process.started_at
    cpu_start = _cpu(sampler.proc)
    first: tuple[float, int, float] | None = None
    async with _connection(database_url) as conn:
        async with asyncio.timeout(CAUGHT_UP_TIMEOUT):
            while True:
                _alive(process)
                done = await conn.fetchval(
                    "SELECT coalesce(sum(next_offset), 0)::bigint FROM stream_offsets "
                    "WHERE consumer_group = $1 AND topic = ANY($2::text[])",
                    group,
                    topics,
                )
                now = time.monotonic()
                sampler.sample()
                if first is None and done:
                    first = (now, done, _cpu(sampler.proc))
                    services = _service_cpu()
                    if on_first is not None:
                        await on_first()
                bench.progress.update(task, completed=done)
                if done >= total:
                    break
                await asyncio.sleep(POLL)
            ended = time.monotonic()
            cpu_end = _cpu(sampler.proc)
            service_use = _service_delta(services, _service_cpu(), ended - (first or (0,))[0])
            # A late event is forwarded to the late topic and counted from there: wait for it.
            late_topic = topic_name(settings, "late")
            while True:
                ends = await end_offsets(settings, [late_topic])
                stored = await _positions(conn, group)
                if all(stored.get(tp, 0) >= end for tp, end in ends.items()):
                    break
                await asyncio.sleep(0.5)
    assert first is not None
    if first[1] >= total:  # a backlog read in one batch: only the time from the start is known
        first = (spawned, 0, cpu_start)
    sustained = ended - first[0]
    return {
        "events": total,
        "seconds_from_start": ended - spawned,
        "events_per_second_from_start": total / (ended - spawned),
        "seconds": sustained,
        "events_per_second": (total - first[1]) / sustained,
        "cpu_us_per_event": 1e6 * (cpu_end - first[2]) / (total - first[1]),
        "cpu_percent": 100 * (cpu_end - first[2]) / sustained,
        "rss_mb_peak": sampler.rss_peak / 2**20,
        **service_use,
    }


async def _stored(conn: asyncpg.Connection) -> int:
    """Events the worker recorded: the event store, or the ids table of a release before it
    (a `--before` tree)."""
    table = "events" if await conn.fetchval("SELECT to_regclass('events')") else "counted_events"
    count: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return count


async def _check(settings: Settings, database_url: str, name: str, expected: int) -> dict[str, Any]:
    """What the database and the worker's metrics say after a drain."""
    async with _connection(database_url) as conn:
        counted = await _stored(conn)
        rows = await conn.fetchval("SELECT count(*) FROM window_metrics")
        contributions = await conn.fetchval("SELECT sum(count) FROM window_metrics")
    metrics = _metrics(settings, name)
    agents = metrics.agents.values() if metrics is not None else []
    out = {
        "stored_events": counted,
        "window_rows": rows,
        "measure_contributions": int(contributions or 0),
        "flushes": metrics.flushes if metrics else None,
        "flush_errors": metrics.flush_errors if metrics else None,
        "dead_lettered": sum(a.dead_lettered for a in agents),
        "late": sum(a.late for a in agents),
        "duplicates": sum(a.duplicates for a in agents),
    }
    out["exact"] = counted == expected
    return out


async def worker_backlog(
    bench: Bench, settings: Settings, total: int, flush_ms: int
) -> dict[str, Any]:
    """`ioc streams run` on the backlog, fresh group and database, until every event is in."""
    group = f"bench-{uuid.uuid4().hex[:8]}"
    settings = settings.model_copy(
        update={"streams": settings.streams.model_copy(update={"group": group})}
    )
    url = await bench.database("backlog")
    process = bench.worker(
        settings, url, "bench-backlog", {"IOC_STREAMS__FLUSH_INTERVAL_MS": str(flush_ms)}
    )
    try:
        result = await _drain(bench, settings, url, process, total, "worker (backlog)")
    finally:
        process.stop(15.0)
    result["check"] = await _check(settings, url, "bench-backlog", total)
    return result


# --- faust ----------------------------------------------------------------------------------


def faust_child(config_file: str) -> None:
    """Entry point of the faust subprocess: count and decode every record, report to a file."""
    import faust

    config = json.loads(Path(config_file).read_text(encoding="utf-8"))
    out = Path(config["out"])
    app = faust.App(
        config["app_id"],
        broker=f"kafka://{config['bootstrap']}",
        value_serializer="raw",
        web_enabled=False,  # = --without-web
        datadir=config["datadir"],  # = --datadir
        topic_allow_declare=False,
        topic_disable_leader=True,
        table_standby_replicas=0,
        consumer_auto_offset_reset="earliest",
    )
    topic = app.topic(*config["topics"], value_serializer="raw", acks=False)
    expected = int(config["expected"])
    state: dict[str, Any] = {"count": 0, "first": None}

    def report(done: bool) -> None:
        state["at"] = time.time()
        state["cpu"] = time.process_time()
        state["done"] = done
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.replace(tmp, out)

    @app.agent(topic)
    async def count(stream: Any) -> None:
        async for events in stream.take_events(FAUST_BATCH, within=0.5):
            for event in events:
                decode(event.value)
            state["count"] += len(events)
            if state["first"] is None:
                state["first"] = {
                    "at": time.time(),
                    "count": state["count"],
                    "cpu": time.process_time(),
                }
            report(state["count"] >= expected)

    faust.Worker(app, loglevel="WARNING", quiet=True).execute_from_commandline()


async def faust_backlog(bench: Bench, settings: Settings, total: int) -> dict[str, Any]:
    """The faust agent in a subprocess, timed from its first batch to its last."""
    task = bench.progress.add_task("faust (take_events)", total=total)
    folder = bench.root / "faust"
    folder.mkdir()
    out = folder / "progress.json"
    config = folder / "config.json"
    config.write_text(
        json.dumps(
            {
                "app_id": f"bench-faust-{uuid.uuid4().hex[:8]}",
                "bootstrap": bench.bootstrap,
                "topics": _event_topics(settings),
                "expected": total,
                "datadir": str(folder / "data"),
                "out": str(out),
            }
        ),
        encoding="utf-8",
    )
    spec = ProcessSpec(
        name="faust",
        argv=[sys.executable, "-m", "bench.streams_pipeline", "--faust-child", str(config)],
        cwd=REPO,
    )
    process = ManagedProcess(spec, bench.root)
    spawned = time.time()
    process.start()
    sampler = Sampler(psutil.Process(process.pid))
    services = _service_cpu()
    state: dict[str, Any] = {}
    try:
        async with asyncio.timeout(CAUGHT_UP_TIMEOUT):
            while not state.get("done"):
                _alive(process)
                sampler.sample()
                with contextlib.suppress(OSError, ValueError):
                    state = json.loads(out.read_text(encoding="utf-8"))
                bench.progress.update(task, completed=state.get("count", 0))
                await asyncio.sleep(POLL)
        service_use = _service_delta(services, _service_cpu(), time.time() - spawned)
    finally:
        process.stop(5.0)  # faust can ignore SIGTERM for long (streams/RESEARCH.md): SIGKILL
    first = state["first"]
    sustained = state["at"] - first["at"]
    return {
        "events": state["count"],
        "seconds_from_start": state["at"] - spawned,
        "events_per_second_from_start": state["count"] / (state["at"] - spawned),
        "seconds": sustained,
        "events_per_second": (state["count"] - first["count"]) / sustained,
        "cpu_us_per_event": 1e6 * (state["cpu"] - first["cpu"]) / (state["count"] - first["count"]),
        "cpu_percent": 100 * (state["cpu"] - first["cpu"]) / sustained,
        "rss_mb_peak": sampler.rss_peak / 2**20,
        **service_use,
    }


# --- profile --------------------------------------------------------------------------------


def _frame(frame: str) -> str:
    """`name (path/file.py:12)` → `name (path/file.py)`."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name


def _hot_spots(raw: Path, top: int = 15) -> dict[str, Any]:
    """Self and inclusive shares of py-spy's collapsed stacks (`--format raw --idle`)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = idle = 0
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame(f) for f in stack.split(";")]
        total += count
        if frames[-1].split(" (")[0].endswith(("select", "poll")):  # EpollSelector.select
            idle += count  # the event loop waiting for Kafka or PostgreSQL
            continue
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    busy = max(total - idle, 1)
    project = ("ioc/", "streams/", "connectors/")
    roots = ("ioc/cli.py", "ioc/__main__.py", "streams/cli.py")  # the whole run

    def share(counter: collections.Counter[str], keep: Any) -> list[dict[str, Any]]:
        return [
            {"function": f, "percent_of_busy": 100 * n / busy, "percent_of_wall": 100 * n / total}
            for f, n in counter.most_common()
            if keep(f)
        ][:top]

    return {
        "samples": total,
        "idle_percent": 100 * idle / max(total, 1),
        "self": share(own, lambda f: True),
        "inclusive_project": share(
            inclusive,
            lambda f: any(p in f for p in project) and not any(r in f for r in roots),
        ),
        "inclusive_libraries": share(
            inclusive,
            lambda f: any(lib in f for lib in ("pydantic", "asyncpg", "aiokafka", "json", "uuid")),
        ),
    }


async def profile_backlog(bench: Bench, settings: Settings, total: int) -> dict[str, Any]:
    """The worker on the backlog again, sampled by py-spy from its first flush to the end."""
    spy = shutil.which(
        "py-spy", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    )
    if spy is None:
        return {"error": "py-spy is not installed: `.venv/bin/pip install py-spy`"}
    group = f"bench-prof-{uuid.uuid4().hex[:8]}"
    settings = settings.model_copy(
        update={"streams": settings.streams.model_copy(update={"group": group})}
    )
    url = await bench.database("profile")
    process = bench.worker(settings, url, "bench-profile")
    raw = bench.root / "py-spy.txt"
    spies: list[asyncio.subprocess.Process] = []

    async def attach() -> None:
        assert process.pid is not None
        spies.append(
            await asyncio.create_subprocess_exec(
                spy,
                "record",
                "--pid",
                str(process.pid),
                "--rate",
                "200",
                "--idle",
                "--function",
                "--nonblocking",
                "--format",
                "raw",
                "-o",
                str(raw),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        )

    try:
        result = await _drain(bench, settings, url, process, total, "worker under py-spy", attach)
        for proc in spies:  # Ctrl-C makes py-spy write what it sampled
            proc.send_signal(signal.SIGINT)
            _, err = await asyncio.wait_for(proc.communicate(), 60)
            if proc.returncode not in (0, None) and not raw.exists():
                return {"error": f"py-spy failed: {err.decode(errors='replace')[-500:]}"}
    finally:
        for proc in spies:
            if proc.returncode is None:
                proc.kill()
        process.stop(15.0)
    return {"events_per_second_under_py_spy": result["events_per_second"], **_hot_spots(raw)}


# --- 2. live --------------------------------------------------------------------------------


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    p50, p99 = np.percentile(np.array(values), [50, 99])
    return {"p50": float(p50), "p99": float(p99), "max": max(values)}


async def live(
    bench: Bench, seconds: float, rate: float, flush_ms: int, window_seconds: int
) -> dict[str, Any]:
    """Four connectors live at `rate` and one worker; latency from window end to its row."""
    prefix = f"benchlive{uuid.uuid4().hex[:8]}"
    settings = bench.settings(prefix, streams={"group": f"bench-live-{prefix}"})
    await ensure_topics(settings, project_topics(settings))
    url = await bench.database(f"live{flush_ms}")
    name = f"bench-live-{flush_ms}"
    process = bench.worker(
        settings,
        url,
        name,
        {
            "IOC_STREAMS__FLUSH_INTERVAL_MS": str(flush_ms),
            "IOC_STREAMS__WINDOW_SECONDS": str(window_seconds),
        },
    )
    task = bench.progress.add_task(f"live, flush {flush_ms} ms", total=seconds)
    expected_partitions = len(FEEDS) * PARTITIONS + 1
    try:
        async with asyncio.timeout(START_TIMEOUT):  # the worker owns its partitions
            while True:
                _alive(process)
                found = _metrics(settings, name)
                if (
                    found
                    and found.state == "running"
                    and len(found.partitions) == expected_partitions
                ):
                    break
                await asyncio.sleep(0.2)
        areas = load_areas(settings.areas_file)
        runners = [
            ConnectorRunner(
                load_connector(n)(_context(n, settings, areas, WallClock(), rate)),
                settings,
                state_dir=bench.root / f"live-state-{flush_ms}",
            )
            for n in SIMULATORS
        ]
        sampler = Sampler(psutil.Process(process.pid))
        started = utc_now()
        clock0 = time.monotonic()
        sampler.begin()
        services = _service_cpu()
        runs = [asyncio.create_task(r.run()) for r in runners]
        while (elapsed := time.monotonic() - clock0) < seconds:
            _alive(process)
            sampler.sample()
            bench.progress.update(task, completed=elapsed)
            await asyncio.sleep(0.5)
        for runner in runners:
            runner.stop()
        stopped = utc_now()
        wall = time.monotonic() - clock0
        cpu = sampler.cpu_since_begin()
        service_use = _service_delta(services, _service_cpu(), wall)
        sent = sum(m.sent for m in await asyncio.gather(*runs))
        bench.progress.update(task, completed=seconds)
        ends = await end_offsets(settings, [*_event_topics(settings), topic_name(settings, "late")])
        async with _connection(url) as conn:
            async with asyncio.timeout(60):
                while True:
                    stored = await _positions(conn, settings.streams.group)
                    if all(stored.get(tp, 0) >= end for tp, end in ends.items()):
                        break
                    await asyncio.sleep(0.2)
    finally:
        process.stop(15.0)
    width = timedelta(seconds=window_seconds)
    async with _connection(url) as conn:
        counted = await _stored(conn)
        rows = await conn.fetch(
            "SELECT window_start, updated_at FROM window_metrics "
            "WHERE window_start >= $1 AND window_start + $3::interval <= $2",
            started,
            stopped - timedelta(seconds=5),
            width,
        )
    lags = [(r["updated_at"] - (r["window_start"] + width)).total_seconds() for r in rows]
    by_window: dict[datetime, float] = {}
    for r, lag in zip(rows, lags, strict=True):
        by_window[r["window_start"]] = max(by_window.get(r["window_start"], lag), lag)
    after_close = [lag for lag in lags if lag > 0]
    metrics = _metrics(settings, name)
    return {
        "flush_interval_ms": flush_ms,
        "window_seconds": window_seconds,
        "rate": rate,
        "seconds": wall,
        "events_sent": sent,
        "events_counted": counted,
        "counted_per_second": counted / wall,
        "windows": len(by_window),
        "rows": len(lags),
        "rows_final_before_close_percent": 100 * (len(lags) - len(after_close)) / max(len(lags), 1),
        # Time after its window's end until a row holds its final value (0 if it did before).
        "row_latency_seconds": _percentiles([max(lag, 0.0) for lag in lags]),
        # Rows written after their window closed: the pipeline's delay for the last events.
        "row_latency_after_close_seconds": _percentiles(after_close),
        # Per window: until its last row was final.
        "window_latency_seconds": _percentiles(list(by_window.values())),
        "worker_cpu_percent": 100 * cpu / wall,
        "worker_rss_mb_peak": sampler.rss_peak / 2**20,
        "flushes": metrics.flushes if metrics else None,
        "late": sum(a.late for a in metrics.agents.values()) if metrics else None,
        **service_use,
    }


# --- the run --------------------------------------------------------------------------------


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def _machine() -> str:
    model = platform.processor() or "cpu"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = psutil.virtual_memory().total / 2**30
    return f"{platform.machine()}, {os.cpu_count()} × {model}, {memory:.0f} GiB"


async def main(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    progress = Progress(
        TextColumn("{task.description:<26}"),
        BarColumn(),
        TextColumn("{task.completed:>10,.0f} / {task.total:,.0f}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )
    with (
        progress,
        tempfile.TemporaryDirectory(prefix="ioc-bench-streams-") as tmp,
        kafka_bootstrap() as bootstrap,
        postgres_server(Path(tmp)) as node,
    ):
        bench = Bench(bootstrap, node, Path(tmp), progress)
        settings = bench.settings(f"bench{uuid.uuid4().hex[:8]}")
        await ensure_topics(settings, project_topics(settings))
        results["produce"] = await produce(bench, settings, args.events, args.rate)
        total = results["produce"]["events"]
        backlog: dict[str, Any] = {}
        for key, decode_each in (("bare_read", False), ("bare_decode", True)):
            backlog[key] = await best_of(
                BARE_RUNS, bare_consumer, bench, settings, total, decode_each
            )
        backlog["worker"] = await worker_backlog(bench, settings, total, args.flush_ms[0])
        if not args.no_faust:
            try:
                backlog["faust"] = await faust_backlog(bench, settings, total)
            except (RuntimeError, TimeoutError) as err:
                backlog["faust"] = {"error": str(err)}
        results["backlog"] = backlog
        if args.profile:
            results["profile"] = await profile_backlog(bench, settings, total)
        results["live"] = [
            await live(bench, args.live_seconds, args.live_rate, flush, args.window_seconds)
            for flush in args.flush_ms
        ]
        results["meta"] = {
            "date": utc_now().isoformat(timespec="seconds"),
            "machine": _machine(),
            "python": sys.version.split()[0],
            "kafka": "external"
            if os.environ.get("IOC_KAFKA_BOOTSTRAP")
            else (f"Apache Kafka {settings.embedded.kafka_version} (embedded, loopback)"),
            "postgresql": f"{bench.postgres_version} (embedded, loopback, fsync on)",
            **{p: _version(p) for p in ("aiokafka", "faust-streaming", "asyncpg", "pydantic")},
        }
    rate = {k: v.get("events_per_second") for k, v in backlog.items()}
    results["ratios"] = {
        "worker_to_bare_decode": rate["worker"] / rate["bare_decode"],
        "worker_to_bare_read": rate["worker"] / rate["bare_read"],
        "bare_decode_to_bare_read": rate["bare_decode"] / rate["bare_read"],
    }
    if rate.get("faust"):
        results["ratios"]["faust_to_bare_decode"] = rate["faust"] / rate["bare_decode"]
        results["ratios"]["worker_to_faust"] = rate["worker"] / rate["faust"]
    results["parameters"] = {
        "events": args.events,
        "rate": args.rate,
        "partitions_per_topic": PARTITIONS,
        "getmany_max_records": MAX_RECORDS,
        "max_partition_fetch_bytes": FETCH_BYTES,
        "faust_take_events": [FAUST_BATCH, 0.5],
        "bare_runs_best_of": BARE_RUNS,
        "live_seconds": args.live_seconds,
        "live_rate": args.live_rate,
        "flush_interval_ms": args.flush_ms,
        "live_window_seconds": args.window_seconds,
        "quick": args.quick,
    }
    return results


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:,.0f}"


def render(outcome: dict[str, Any]) -> None:
    out = Console(width=max(Console().width, 150))
    produced = outcome["produce"]
    table = Table(
        title=f"Backlog: {produced['events']:,} events, 4 topics × {PARTITIONS} partitions "
        f"(rate {produced['rate']:g}, {produced['event_time_from'][:16]} → "
        f"{produced['event_time_to'][11:16]} UTC)"
    )
    for column in (
        "run",
        "events/s",
        "events/s incl. start",
        "CPU µs/event",
        "CPU %",
        "RSS MB",
        "PG CPU %",
        "Kafka CPU %",
    ):
        table.add_column(column, justify="left" if column == "run" else "right")
    labels = {
        "bare_decode": "a. bare aiokafka + decode",
        "bare_read": "b. bare aiokafka, read only",
        "worker": "c. stream worker → PostgreSQL",
        "faust": "d. faust agent + decode",
    }
    for key in ("bare_decode", "bare_read", "worker", "faust"):
        row = outcome["backlog"].get(key)
        if row is None:
            continue
        if "error" in row:
            table.add_row(labels[key], "failed", row["error"][:60], "", "", "", "", "")
            continue
        table.add_row(
            labels[key],
            f"{row['events_per_second']:,.0f}",
            f"{row['events_per_second_from_start']:,.0f}",
            f"{row['cpu_us_per_event']:.1f}",
            f"{row['cpu_percent']:.0f}",
            f"{row['rss_mb_peak']:.0f}" if "rss_mb_peak" in row else "(bench)",
            f"{row.get('postgres_cpu_percent', 0):.0f}",
            f"{row.get('kafka_cpu_percent', 0):.0f}",
        )
    table.add_row(
        "(produce: 4 connectors → Kafka)",
        f"{produced['events_per_second']:,.0f}",
        "",
        "",
        "",
        "",
        "",
        "",
    )
    out.print(table)
    for name, value in outcome["ratios"].items():
        out.print(f"{name.replace('_to_', ' / ').replace('_', ' ')} = [bold]{value:.3f}[/]")
    check = outcome["backlog"]["worker"]["check"]
    out.print(
        f"worker check: stored events {check['stored_events']:,} of {produced['events']:,} "
        f"({'exact' if check['exact'] else 'MISMATCH'}), dead letters {check['dead_lettered']}, "
        f"late {check['late']}, flushes {check['flushes']}"
    )
    live_table = Table(title="Live: 4 connectors + 1 worker (latency = updated_at − window end)")
    for column in (
        "flush ms",
        "window s",
        "seconds",
        "counted/s",
        "rows",
        "final at close %",
        "row p50 ms",
        "row p99 ms",
        "after-close p50/p99 ms",
        "window max ms",
        "worker CPU %",
        "RSS MB",
    ):
        live_table.add_column(column, justify="right")
    for row in outcome["live"]:
        lat, after, window = (
            row["row_latency_seconds"],
            row["row_latency_after_close_seconds"],
            row["window_latency_seconds"],
        )
        live_table.add_row(
            str(row["flush_interval_ms"]),
            str(row["window_seconds"]),
            f"{row['seconds']:.0f}",
            f"{row['counted_per_second']:,.0f}",
            f"{row['rows']:,} in {row['windows']}",
            f"{row['rows_final_before_close_percent']:.0f}",
            _ms(lat["p50"]),
            _ms(lat["p99"]),
            f"{_ms(after['p50'])} / {_ms(after['p99'])}",
            _ms(window["max"]),
            f"{row['worker_cpu_percent']:.1f}",
            f"{row['worker_rss_mb_peak']:.0f}",
        )
    out.print(live_table)
    profile = outcome.get("profile")
    if profile:
        if "error" in profile:
            out.print(f"profile: {profile['error']}")
        else:
            hot = Table(
                title=f"Worker profile (py-spy, {profile['samples']:,} samples, "
                f"{profile['idle_percent']:.0f}% waiting)"
            )
            for column in ("self time", "% busy", "inclusive (project code)", "% busy "):
                hot.add_column(column)
            for own, incl in zip(profile["self"], profile["inclusive_project"], strict=False):
                hot.add_row(
                    own["function"],
                    f"{own['percent_of_busy']:.1f}",
                    incl["function"],
                    f"{incl['percent_of_busy']:.1f}",
                )
            out.print(hot)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000, help="backlog size (about)")
    parser.add_argument("--rate", type=float, default=10.0, help="backlog volume multiplier")
    parser.add_argument("--live-seconds", type=float, default=150.0)
    parser.add_argument("--live-rate", type=float, default=10.0, help="live volume multiplier")
    parser.add_argument(
        "--flush-ms",
        type=int,
        action="append",
        help="IOC_STREAMS__FLUSH_INTERVAL_MS; repeat for one live run each (default 500)",
    )
    parser.add_argument("--window-seconds", type=int, default=None, help="live window width")
    parser.add_argument("--quick", action="store_true", help="50k events, 70 s live, 30 s windows")
    parser.add_argument("--no-faust", action="store_true", help="skip the faust agent")
    parser.add_argument("--profile", action="store_true", help="add a py-spy run of the worker")
    parser.add_argument("--label", help="suffix of the results file, e.g. `tuning`")
    parser.add_argument("--faust-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.flush_ms = args.flush_ms or [500]
    if args.quick:
        args.events = min(args.events, 50_000)
        args.live_seconds = min(args.live_seconds, 70.0)
        args.window_seconds = args.window_seconds or 30
    args.window_seconds = args.window_seconds or 60
    return args


if __name__ == "__main__":
    arguments = _arguments()
    if arguments.faust_child:
        faust_child(arguments.faust_child)
        sys.exit(0)
    outcome = asyncio.run(main(arguments))
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "".join(f"-{s}" for s in ("quick" if arguments.quick else "", arguments.label) if s)
    path = RESULTS / f"streams_pipeline-{utc_now().date().isoformat()}{suffix}.json"
    path.write_text(json.dumps(outcome, indent=2, default=str) + "\n", encoding="utf-8")
    render(outcome)
    Console().print(f"results: {path.relative_to(REPO)}")
