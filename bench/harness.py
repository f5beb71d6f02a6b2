"""The harness the stream benchmarks share: services, process sampling, readers, the drain.

`bench.streams_pipeline` (the worker next to bare consumers and faust) and `bench.suite` (the
worker next to its peers, `make bench`) both run on it: a `Bench` holds the broker, the embedded
PostgreSQL and the run's folder; `drain` waits for a worker to store every event and times it;
`bare_consumer` is the ceiling a worker is compared with; `profile_backlog` samples a worker
with py-spy; CPU and memory come from psutil.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import importlib.metadata
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np
import psutil
from rich.progress import Progress

from bench._failure import excerpt
from ioc.codec import decode
from ioc.config import Settings, load_settings
from ioc.db import connect, migrate
from ioc.embedded.postgres import PostgresNode
from ioc.embedded.process import ManagedProcess, ProcessSpec
from ioc.events import FEEDS
from ioc.kafka import end_offsets, make_consumer, topic_name
from ioc.telemetry import StreamMetrics, read_stream_metrics

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
SIMULATORS = ("camera-sim", "dvc-sim", "payment-sim", "network-sim")
PARTITIONS = 6
MAX_RECORDS = 20_000  # = IOC_STREAMS__MAX_BATCH, the worker's getmany size
FETCH_BYTES = 4 << 20  # = the worker's max_partition_fetch_bytes
POLL = 0.1
START_TIMEOUT = 90.0
CAUGHT_UP_TIMEOUT = 600.0  # the default of `Bench.caught_up_timeout`


# --- processes and CPU ----------------------------------------------------------------------


def cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def service_cpu() -> dict[str, dict[int, float]]:
    """CPU seconds so far of the broker and database processes this bench started."""
    found: dict[str, dict[int, float]] = {"kafka": {}, "postgres": {}}
    for proc in psutil.Process().children(recursive=True):
        try:
            name = proc.name()
            kind = "postgres" if name.startswith("postgres") else "kafka" if name == "java" else ""
            if kind:
                found[kind][proc.pid] = cpu_seconds(proc)
        except psutil.Error:
            continue
    return found


def service_cpu_delta(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]], seconds: float
) -> dict[str, float]:
    """CPU% (100 = one core) of each service between two `service_cpu` snapshots."""
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
        self.cpu_start = cpu_seconds(self.proc)
        self.sample()

    def cpu_since_begin(self) -> float:
        return cpu_seconds(self.proc) - self.cpu_start


# --- services -------------------------------------------------------------------------------


@dataclass
class Bench:
    """The broker, the database server and where everything of this run lives."""

    bootstrap: str
    postgres: PostgresNode
    root: Path
    progress: Progress
    caught_up_timeout: float = CAUGHT_UP_TIMEOUT
    """How long `drain` waits for a worker to store every event."""
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
async def pg_connection(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


def event_topics(settings: Settings) -> list[str]:
    return [topic_name(settings, "events", feed) for feed in FEEDS]


async def stored_positions(conn: asyncpg.Connection, group: str) -> dict[tuple[str, int], int]:
    rows = await conn.fetch(
        "SELECT topic, partition, next_offset FROM stream_offsets WHERE consumer_group = $1",
        group,
    )
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


def worker_metrics(settings: Settings, name: str) -> StreamMetrics | None:
    return next((m for m in read_stream_metrics(settings.state_dir) if m.name == name), None)


def log_excerpt(process: ManagedProcess) -> str:
    """The last lines of a child's log that say something (`bench._failure.excerpt`)."""
    try:
        return excerpt(process.log_file.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return "(no log)"


def exited(process: ManagedProcess) -> RuntimeError:
    """The error for a child that stopped: its exit code and what its log says."""
    return RuntimeError(
        f"{process.spec.name} exited with code {process.poll()}; last lines of "
        f"{process.log_file}:\n{log_excerpt(process)}"
    )


def check_alive(process: ManagedProcess) -> None:
    if not process.running():
        raise exited(process)


# --- readers and the worker's drain ------------------------------------------------------


def read_rates(
    events: int,
    started: float,
    ended: float,
    first: tuple[float, int, float] | None,
    start_cpu: float,
    end_cpu: float,
) -> dict[str, float]:
    """Events/s from the start, and sustained: from the first batch read (time, count, CPU).

    A backlog read in one batch leaves nothing after its first batch to time; then the
    sustained figures are the ones from the start.
    """
    if first is None or first[1] >= events or ended <= first[0]:
        first = (started, 0, start_cpu)
    sustained = ended - first[0]
    after = events - first[1]
    return {
        "events": events,
        "seconds_from_start": ended - started,
        "events_per_second_from_start": events / (ended - started),
        "seconds": sustained,
        "events_per_second": after / sustained,
        "cpu_us_per_event": 1e6 * (end_cpu - first[2]) / after,
        "cpu_percent": 100 * (end_cpu - first[2]) / sustained,
    }


def peer_rates(state: dict[str, Any], spawned: float) -> dict[str, float]:
    """`read_rates` from a peer process's progress file (its CPU counted from its start)."""
    first = state.get("first")
    return read_rates(
        state["count"],
        spawned,
        state["at"],
        (first["at"], first["count"], first["cpu"]) if first else None,
        0.0,
        state["cpu"],
    )


async def bare_consumer(
    bench: Bench, settings: Settings, total: int, decode_each: bool
) -> dict[str, Any]:
    """A bare getmany loop over the feed topics (no group), reading and maybe decoding."""
    label = "bare decode" if decode_each else "bare read"
    task = bench.progress.add_task(label, total=total)
    consumer = make_consumer(
        settings, *event_topics(settings), group_id=None, max_partition_fetch_bytes=FETCH_BYTES
    )
    me = Sampler(psutil.Process())
    me.begin()
    services = service_cpu()
    started = time.perf_counter()
    start_cpu = cpu_seconds(me.proc)
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
                first = (time.perf_counter(), count, cpu_seconds(me.proc))
            bench.progress.update(task, completed=count)
        ended = time.perf_counter()
        cpu_end = cpu_seconds(me.proc)
        me.sample()
    finally:
        await consumer.stop()
    return {
        **read_rates(count, started, ended, first, start_cpu, cpu_end),
        **service_cpu_delta(services, service_cpu(), ended - started),
    }


async def best_of(runs: int, measure: Any, *args: Any) -> dict[str, Any]:
    """The fastest of `runs` measurements (short runs: one hiccup of the machine shows)."""
    tries = [await measure(*args) for _ in range(runs)]
    best: dict[str, Any] = max(tries, key=lambda r: r["events_per_second"])
    best["all_runs_events_per_second"] = [r["events_per_second"] for r in tries]
    return best


async def drain(
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
    topics = event_topics(settings)
    sampler = Sampler(psutil.Process(process.pid))
    services = service_cpu()
    spawned = process.started_at
    cpu_start = cpu_seconds(sampler.proc)
    first: tuple[float, int, float] | None = None
    async with pg_connection(database_url) as conn:
        async with asyncio.timeout(bench.caught_up_timeout):
            while True:
                check_alive(process)
                done = await conn.fetchval(
                    "SELECT coalesce(sum(next_offset), 0)::bigint FROM stream_offsets "
                    "WHERE consumer_group = $1 AND topic = ANY($2::text[])",
                    group,
                    topics,
                )
                now = time.monotonic()
                sampler.sample()
                if first is None and done:
                    first = (now, done, cpu_seconds(sampler.proc))
                    services = service_cpu()
                    if on_first is not None:
                        await on_first()
                bench.progress.update(task, completed=done)
                if done >= total:
                    break
                await asyncio.sleep(POLL)
            ended = time.monotonic()
            cpu_end = cpu_seconds(sampler.proc)
            service_use = service_cpu_delta(services, service_cpu(), ended - (first or (0,))[0])
            # A late event is forwarded to the late topic and counted from there: wait for it.
            late_topic = topic_name(settings, "late")
            while True:
                ends = await end_offsets(settings, [late_topic])
                stored = await stored_positions(conn, group)
                if all(stored.get(tp, 0) >= end for tp, end in ends.items()):
                    break
                await asyncio.sleep(0.5)
    return {
        **read_rates(total, spawned, ended, first, cpu_start, cpu_end),
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
        result = await drain(bench, settings, url, process, total, "worker under py-spy", attach)
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


# --- results ------------------------------------------------------------------------------


def latency_percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    p50, p99 = np.percentile(np.array(values), [50, 99])
    return {"p50": float(p50), "p99": float(p99), "max": max(values)}


def package_version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def machine_description() -> str:
    model = platform.processor() or "cpu"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = psutil.virtual_memory().total / 2**30
    return f"{platform.machine()}, {os.cpu_count()} × {model}, {memory:.0f} GiB"
