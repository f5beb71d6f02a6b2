"""The benchmark suite: our pipeline next to its ceilings and the peers a user would pick.

Run: `make bench` (or `python -m bench`, `--quick` for a few-minute smoke run). One run, on
the Apache Kafka and PostgreSQL that `ioc up` provisions (started here on loopback, in a
temporary directory; `IOC_KAFKA_BOOTSTRAP` for another broker):

1. **inputs**: the four simulators backfill `--days` of history (`ioc connectors backfill`, one
   process per feed, as `ioc up` runs them) onto fresh topics, timed on its own; a *slice*, the
   first `--slice-days` of the same history (same seed, same events), onto other topics.
2. **slice** (every implementation on the same events; totals checked row by row against the
   totals computed from the input): bare aiokafka read and read+decode (the consumer ceiling),
   bare asyncpg batch upserts of the same window rows (the writer ceiling), our worker (and
   with `--before REF`, the worker as committed at REF), a py-spy profile of our worker,
   quixstreams, bytewax and a textbook faust agent.
3. **backfill**: the whole history (≥ 10 M events by default) through our worker, next to the
   bare consumer reading and decoding it.
4. **sustained**: the four feeds live at 1×, 10× and 100× one province's volume for
   `--seconds` each, through each implementation in turn: throughput, consumer lag, latency
   from window close to database row, CPU and memory of each process.

Results: `bench/results/bench-<date>[-quick].json` and a PNG chart next to it; the table in
`bench/README.md` is regenerated from the JSON (`python -m bench.report` does only that).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import io
import json
import math
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bench import report
from bench._broker import kafka_bootstrap
from bench._failure import describe
from bench.harness import (
    FETCH_BYTES,
    MAX_RECORDS,
    PARTITIONS,
    REPO,
    RESULTS,
    SIMULATORS,
    Bench,
    Sampler,
    bare_consumer,
    best_of,
    check_alive,
    cpu_seconds,
    drain,
    event_topics,
    exited,
    latency_percentiles,
    machine_description,
    package_version,
    peer_rates,
    pg_connection,
    postgres_server,
    profile_backlog,
    service_cpu,
    service_cpu_delta,
    worker_metrics,
)
from bench.peers._common import window_of
from ioc._cli import tune_gc
from ioc.areas import load_areas
from ioc.codec import decode
from ioc.config import Settings
from ioc.connectors import ConnectorContext, WallClock
from ioc.connectors.registry import load_connector
from ioc.connectors.runner import ConnectorRunner
from ioc.embedded.process import ManagedProcess, ProcessSpec
from ioc.events import FEEDS, utc_now
from ioc.kafka import end_offsets, ensure_topics, make_consumer, project_topics, topic_name
from ioc.kpis.measures import measures
from ioc.localtime import ZONE, local_today, to_local
from ioc.streams.sink import _UPSERT_WINDOWS

PEERS = {"quixstreams": "quix", "bytewax": "bytewax_flow", "faust": "faust_agent"}
FLUSH_MS = 500  # the worker's default flush; the peers checkpoint or flush as often
LOADS = (1.0, 10.0, 100.0)
LIVE_WINDOW_SECONDS = 10  # short windows, so a sustained run holds several
LIVE_GRACE_SECONDS = 10  # bytewax/quixstreams wait for out-of-order events this long
WARMUP_SECONDS = 10.0  # windows starting before this (after the feeds start) are not timed
COOLDOWN_SECONDS = 5.0  # nor windows ending in the last seconds (the feeds stopped within them)
# The shortest sustained run that always times a whole (epoch-aligned) window.
MIN_LIVE_SECONDS = WARMUP_SECONDS + 2 * LIVE_WINDOW_SECONDS + COOLDOWN_SECONDS
PEER_TIMEOUT = 1800.0
CAUGHT_UP_TIMEOUT = 3600.0  # the 30-day backfill takes longer than the harness's 10 min

Rows = dict[tuple[datetime, str, str], list[float]]


# --- inputs ---------------------------------------------------------------------------------


def _history_start(settings: Settings, days: float) -> datetime:
    """Local midnight, `days` (rounded up) + 1 days ago: the history ends before today."""
    first = local_today(utc_now()) - timedelta(days=math.ceil(days) + 1)
    return datetime(first.year, first.month, first.day, tzinfo=ZONE)


def _local(at: datetime, settings: Settings) -> str:
    return to_local(at).strftime("%Y-%m-%dT%H:%M")


async def backfill_topics(
    bench: Bench, settings: Settings, start: datetime, days: float, rate: float, label: str
) -> dict[str, Any]:
    """`ioc connectors backfill` for each feed (one process each), timed to the last one."""
    await ensure_topics(settings, project_topics(settings))
    end = start + timedelta(days=days)
    env = {
        "IOC_KAFKA_BOOTSTRAP": bench.bootstrap,
        "IOC_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix,
        "IOC_KAFKA__PARTITIONS": str(PARTITIONS),
        "IOC_STATE_DIR": str(bench.root / f"produce-{label}"),
        "IOC_LOG_LEVEL": "WARNING",
    }
    processes = []
    for name in SIMULATORS:
        argv = [sys.executable, "-m", "ioc", "connectors", "backfill", name]
        argv += ["--from", _local(start, settings), "--to", _local(end, settings)]
        argv += ["--rate", f"{rate:g}", "--seed", "1"]
        processes.append(
            ManagedProcess(
                ProcessSpec(name=f"backfill-{label}-{name}", argv=argv, env=env, cwd=REPO),
                bench.root,
            )
        )
    task = bench.progress.add_task(f"produce {label}", total=None)
    topics = event_topics(settings)
    started = time.perf_counter()
    for process in processes:
        process.start()
    while any(p.running() for p in processes):
        done = sum((await end_offsets(settings, topics)).values())
        bench.progress.update(task, completed=done)
        await asyncio.sleep(1.0)
    elapsed = time.perf_counter() - started
    for process in processes:
        if process.poll() != 0:
            raise exited(process)
    total = sum((await end_offsets(settings, topics)).values())
    bench.progress.update(task, completed=total, total=total)
    return {
        "events": total,
        "days": days,
        "rate": rate,
        "event_time_from": start.astimezone(UTC).isoformat(),
        "event_time_to": end.astimezone(UTC).isoformat(),
        "seconds": elapsed,
        "events_per_second": total / elapsed,
        "processes": len(processes),
        "how": "ioc connectors backfill, one process per feed",
    }


# What the simulated history is made from. A cache made by other code is another input: one made
# before the simulators moved to the real communes held 5% of events in areas that did not exist
# on their day, which the worker dead-letters.
HISTORY_SOURCES = (
    "bench/_history.py",
    "connectors/base.py",
    "connectors/simulated",
    "ioc/areas",
    "ioc/codec.py",
    "ioc/data",
    "ioc/datafile.py",
    "ioc/events.py",
    "ioc/localtime.py",
)


def _history_fingerprint(settings: Settings) -> str:
    """A digest of the code, data and province the history is generated from."""
    digest = hashlib.sha256()
    for source in HISTORY_SOURCES:
        path = REPO / source
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(REPO)).encode() + b"\0" + file.read_bytes())
    digest.update(f"{settings.province}|{settings.areas_file}".encode())
    if settings.areas_file is not None:
        digest.update(Path(settings.areas_file).read_bytes())
    return digest.hexdigest()[:12]


def _cache_dir(settings: Settings, start: datetime, days: float, rate: float) -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ioc-monitor"
    made_from = _history_fingerprint(settings)
    return root / "bench" / f"{start.strftime('%Y%m%d')}-{days:g}d-rate{rate:g}-seed1-{made_from}"


async def _wait_all(processes: list[ManagedProcess], tick: Callable[[], Any]) -> None:
    for process in processes:
        process.start()
    while any(p.running() for p in processes):
        await tick()
        await asyncio.sleep(1.0)
    for process in processes:
        if process.poll() != 0:
            raise exited(process)


async def history_topics(
    bench: Bench, settings: Settings, start: datetime, days: float, rate: float
) -> dict[str, Any]:
    """The history: generated once into a cache (`bench/_history.py`), replayed and timed."""
    await ensure_topics(settings, project_topics(settings))
    cache = _cache_dir(settings, start, days, rate)
    cache.mkdir(parents=True, exist_ok=True)
    end = start + timedelta(days=days)
    todo = [s for s in SIMULATORS if not (cache / f"{s}.count").exists()]
    generated = None
    if todo:
        task = bench.progress.add_task("generate history (once)", total=None)
        began = time.perf_counter()

        async def nothing() -> None:
            bench.progress.update(task, completed=time.perf_counter() - began)

        await _wait_all(
            [
                ManagedProcess(
                    ProcessSpec(
                        name=f"generate-{sim}",
                        argv=[
                            sys.executable,
                            "-m",
                            "bench._history",
                            "generate",
                            sim,
                            start.isoformat(),
                            end.isoformat(),
                            f"{rate:g}",
                            str(cache / f"{sim}.lz4"),
                        ],
                        env={"IOC_LOG_LEVEL": "WARNING"},
                        cwd=REPO,
                    ),
                    bench.root,
                )
                for sim in todo
            ],
            nothing,
        )
        generated = time.perf_counter() - began
    expected = sum(int((cache / f"{s}.count").read_text()) for s in SIMULATORS)
    topics = event_topics(settings)
    task = bench.progress.add_task("produce history (replay)", total=expected)

    async def tick() -> None:
        bench.progress.update(task, completed=sum((await end_offsets(settings, topics)).values()))

    began = time.perf_counter()
    await _wait_all(
        [
            ManagedProcess(
                ProcessSpec(
                    name=f"replay-{sim}",
                    argv=[
                        sys.executable,
                        "-m",
                        "bench._history",
                        "replay",
                        str(cache / f"{sim}.lz4"),
                        topic_name(settings, "events", sim.split("-")[0]),
                        bench.bootstrap,
                    ],
                    cwd=REPO,
                ),
                bench.root,
            )
            for sim in SIMULATORS
        ],
        tick,
    )
    elapsed = time.perf_counter() - began
    total = sum((await end_offsets(settings, topics)).values())
    if total != expected:
        raise RuntimeError(f"{expected} events cached but {total} on the topics")
    bench.progress.update(task, completed=total)
    return {
        "events": total,
        "days": days,
        "rate": rate,
        "event_time_from": start.astimezone(UTC).isoformat(),
        "event_time_to": end.astimezone(UTC).isoformat(),
        "seconds": elapsed,
        "events_per_second": total / elapsed,
        "how": "replayed from the cache by confluent-kafka producers, one process per feed",
        "generate_seconds": generated,
        "processes": len(SIMULATORS),
    }


async def expected_rows(
    bench: Bench, settings: Settings, total: int, width: int
) -> tuple[Rows, list[Rows]]:
    """Totals per (window, metric, area) computed from the input, and per 20k-record batch.

    Not timed. The per-batch rows are what the worker upserts per flush on a backlog: the
    bare writer writes exactly those.
    """
    task = bench.progress.add_task("expected totals", total=total)
    consumer = make_consumer(
        settings, *event_topics(settings), group_id=None, max_partition_fetch_bytes=FETCH_BYTES
    )
    await consumer.start()
    rows: Rows = {}
    batches: list[Rows] = []
    count = 0
    try:
        while count < total:
            fetched = await consumer.getmany(timeout_ms=500, max_records=MAX_RECORDS)
            batch: Rows = {}
            for records in fetched.values():
                for record in records:
                    envelope = decode(record.value)
                    start = window_of(envelope.occurred_at, width)
                    for metric, value in measures(envelope):
                        for target in (rows, batch):
                            key = (start, metric, envelope.area)
                            found = target.get(key)
                            if found is None:
                                target[key] = [1, value, value, value]
                            else:
                                found[0] += 1
                                found[1] += value
                                found[2] = min(found[2], value)
                                found[3] = max(found[3], value)
                count += len(records)
            if batch:
                batches.append(batch)
            bench.progress.update(task, completed=count)
    finally:
        await consumer.stop()
    return rows, batches


async def compare(url: str, expected: Rows) -> dict[str, Any]:
    """Row-by-row: count, min and max equal, sum equal to 1e-9 (addition order differs)."""
    async with pg_connection(url) as conn:
        found = await conn.fetch(
            "SELECT window_start, metric, area, count, sum, min, max FROM window_metrics"
        )
    got = {(r[0], r[1], r[2]): (r[3], r[4], r[5], r[6]) for r in found}
    missing = sum(1 for k in expected if k not in got)
    extra = sum(1 for k in got if k not in expected)
    differ = 0
    for key, (count, total, low, high) in expected.items():
        row = got.get(key)
        if row is None:
            continue
        if (
            row[0] != count
            or row[2] != low
            or row[3] != high
            or not math.isclose(row[1], total, rel_tol=1e-9, abs_tol=1e-6)
        ):
            differ += 1
    return {
        "rows": len(got),
        "expected_rows": len(expected),
        "contributions": int(sum(r[0] for r in got.values())),
        "expected_contributions": int(sum(v[0] for v in expected.values())),
        "missing_rows": missing,
        "extra_rows": extra,
        "different_rows": differ,
        "identical": missing == extra == differ == 0,
    }


# --- ceilings -------------------------------------------------------------------------------


async def bare_writer(bench: Bench, batches: list[Rows], events: int) -> dict[str, Any]:
    """asyncpg alone: the worker's window upsert, one transaction per 20k-record batch."""
    url = await bench.database("writer")
    task = bench.progress.add_task("bare asyncpg writer", total=len(batches))
    columns = []
    for rows in batches:
        keys, values = list(rows), list(rows.values())
        columns.append(
            (
                [k[0] for k in keys],
                [k[1] for k in keys],
                [k[2] for k in keys],
                [int(v[0]) for v in values],
                [float(v[1]) for v in values],
                [float(v[2]) for v in values],
                [float(v[3]) for v in values],
            )
        )
    services = service_cpu()
    me = psutil.Process()
    cpu0 = cpu_seconds(me)
    async with pg_connection(url) as conn:
        started = time.perf_counter()
        for n, args in enumerate(columns):
            async with conn.transaction():
                await conn.execute(_UPSERT_WINDOWS, *args)
            bench.progress.update(task, completed=n + 1)
        elapsed = time.perf_counter() - started
    return {
        "events": events,
        "rows_written": sum(len(c[0]) for c in columns),
        "transactions": len(columns),
        "seconds": elapsed,
        "events_per_second": events / elapsed,
        "rows_per_second": sum(len(c[0]) for c in columns) / elapsed,
        "cpu_percent": 100 * (cpu_seconds(me) - cpu0) / elapsed,
        **service_cpu_delta(services, service_cpu(), elapsed),
    }


# --- our worker -----------------------------------------------------------------------------


def _with_group(settings: Settings, group: str) -> Settings:
    return settings.model_copy(
        update={"streams": settings.streams.model_copy(update={"group": group})}
    )


def start_worker(
    bench: Bench,
    settings: Settings,
    url: str,
    name: str,
    env: dict[str, str] | None = None,
    tree: Path | None = None,
) -> ManagedProcess:
    """`python -m ioc streams run` (from `tree`, a checkout of another commit, if given)."""
    spec = ProcessSpec(
        name=f"worker-{name}",
        argv=[sys.executable, "-m", "ioc", "streams", "run", "--name", name],
        env={
            "IOC_KAFKA_BOOTSTRAP": bench.bootstrap,
            "IOC_DATABASE_URL": url,
            "IOC_DATABASE__SSLMODE": "disable",
            "IOC_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix,
            "IOC_KAFKA__PARTITIONS": str(PARTITIONS),
            "IOC_STATE_DIR": str(settings.state_dir),
            "IOC_STREAMS__GROUP": settings.streams.group,
            "IOC_STREAMS__FLUSH_INTERVAL_MS": str(FLUSH_MS),
            "IOC_LOG_LEVEL": "WARNING",
            **({"PYTHONPATH": str(tree)} if tree else {}),
            **(env or {}),
        },
        cwd=tree or REPO,
    )
    process = ManagedProcess(spec, bench.root)
    process.start()
    return process


async def ours_backlog(
    bench: Bench,
    settings: Settings,
    total: int,
    label: str,
    tree: Path | None = None,
    expected: Rows | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    """Our worker on a backlog, fresh group and database, timed until every event is in.

    With `workers` > 1, that many worker processes in the group share the partitions; CPU is
    then not reported (it is sampled on one process), peak memory is the first one's.
    """
    names = [f"bench-{label}"] + [f"bench-{label}-{n}" for n in range(2, workers + 1)]
    settings = _with_group(settings, f"bench-{label}-{uuid.uuid4().hex[:6]}")
    url = await bench.database(label.replace("-", "_"), tree=tree)
    processes = [start_worker(bench, settings, url, name, tree=tree) for name in names]
    try:
        result = await drain(bench, settings, url, processes[0], total, f"ours ({label})")
    finally:
        for process in processes:
            process.stop(15.0)
    if workers > 1:
        result.pop("cpu_us_per_event", None)
        result.pop("cpu_percent", None)
    every = [m for m in (worker_metrics(settings, name) for name in names) if m is not None]
    agents = [agent for metrics in every for agent in metrics.agents.values()]
    check: dict[str, Any] = {
        "counted": sum(a.counted for a in agents),
        "duplicates": sum(a.duplicates for a in agents),
        "dead_lettered": sum(a.dead_lettered for a in agents),
        "late": sum(a.late for a in agents),
        "flushes": sum(m.flushes for m in every) if every else None,
    }
    check["all_counted"] = check["counted"] == total and check["dead_lettered"] == 0
    if expected is not None:
        check |= await compare(url, expected)
    result["check"] = check
    return result


def checkout(ref: str, root: Path) -> Path:
    """The tree of commit `ref` in a directory (`git archive`: the checkout is not touched)."""
    tree = root / f"tree-{ref[:12]}"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref], cwd=REPO, capture_output=True, check=True
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, filter="fully_trusted")
    return tree


def _before_tree(before: str, root: Path) -> Path:
    """A source tree to run (a directory as given), or the tree of a git ref."""
    given = Path(before)
    return given.resolve() if given.is_dir() else checkout(before, root)


# --- peers ----------------------------------------------------------------------------------


def start_peer(bench: Bench, peer: str, config: dict[str, Any]) -> tuple[ManagedProcess, Path]:
    folder = bench.root / f"peer-{peer}-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    out = folder / "progress.json"
    config = {**config, "out": str(out), "state_dir": str(folder / "state")}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    spec = ProcessSpec(
        name=f"peer-{peer}",
        argv=[sys.executable, "-m", f"bench.peers.{PEERS[peer]}", str(folder / "config.json")],
        env={"PYTHONWARNINGS": "ignore"},
        cwd=REPO,
    )
    process = ManagedProcess(spec, bench.root)
    process.start()
    return process, out


def _progress(out: Path) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        found: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return found
    return {}


async def peer_backlog(
    bench: Bench, settings: Settings, peer: str, total: int, span: timedelta, expected: Rows
) -> dict[str, Any]:
    """One peer on the slice, timed from its first event to its last row written."""
    url = await bench.database(peer)
    task = bench.progress.add_task(peer, total=total)
    config = {
        "mode": "backlog",
        "bootstrap": bench.bootstrap,
        "topics": event_topics(settings),
        "database_url": url,
        "group": f"bench-{peer}-{uuid.uuid4().hex[:6]}",
        "window_seconds": 60,
        "grace_seconds": int(span.total_seconds()) + 86_400,
        "flush_seconds": FLUSH_MS / 1000,
        "expected": total,
    }
    spawned = time.time()
    process, out = start_peer(bench, peer, config)
    sampler = Sampler(psutil.Process(process.pid))
    services = service_cpu()
    state: dict[str, Any] = {}
    try:
        async with asyncio.timeout(PEER_TIMEOUT):
            while True:
                # Whether it runs, then its progress: a peer exits as soon as it has written
                # `done`, so a progress read after a look that found it running can hold it.
                running = process.running()
                sampler.sample()
                state = _progress(out) or state
                bench.progress.update(task, completed=state.get("count", 0))
                if state.get("done"):
                    break
                if not running:
                    raise exited(process)
                await asyncio.sleep(0.1)
        service_use = service_cpu_delta(services, service_cpu(), time.time() - spawned)
    finally:
        process.stop(5.0)
    first = state.get("first")
    if first is None or state["count"] <= first["count"]:
        raise RuntimeError(f"{peer} finished having read {state['count']} of {total} events")
    return {
        **peer_rates(state, spawned),
        "rss_mb_peak": sampler.rss_peak / 2**20,
        **service_use,
        "check": await compare(url, expected),
    }


# --- sustained ------------------------------------------------------------------------------


async def sustained(bench: Bench, impl: str, rate: float, seconds: float) -> dict[str, Any]:
    """The four feeds live at `rate` through one implementation for `seconds`."""
    prefix = f"live{uuid.uuid4().hex[:8]}"
    settings = _with_group(bench.settings(prefix), f"live-{prefix}")
    await ensure_topics(settings, project_topics(settings))
    url = await bench.database(f"live_{impl}")
    processed: Callable[[], int]
    if impl == "ours":
        name = f"live-{prefix}"
        process = start_worker(
            bench, settings, url, name, {"IOC_STREAMS__WINDOW_SECONDS": str(LIVE_WINDOW_SECONDS)}
        )
        expected_partitions = len(FEEDS) * PARTITIONS + 1

        def ready() -> bool:
            found = worker_metrics(settings, name)
            return (
                bool(found and found.state == "running")
                and len(found.partitions if found else []) == expected_partitions
            )

        def processed() -> int:
            found = worker_metrics(settings, name)
            return sum(a.read for a in found.agents.values()) if found else 0

    else:
        process, out = start_peer(
            bench,
            impl,
            {
                "mode": "live",
                "bootstrap": bench.bootstrap,
                "topics": event_topics(settings),
                "database_url": url,
                "group": f"live-{impl}-{prefix}",
                "window_seconds": LIVE_WINDOW_SECONDS,
                "grace_seconds": LIVE_GRACE_SECONDS,
                "flush_seconds": FLUSH_MS / 1000,
            },
        )
        began = time.monotonic()

        def ready() -> bool:  # the app is built; give it a few seconds to join its group
            return bool(_progress(out).get("started")) and time.monotonic() - began > 8

        def processed() -> int:
            return int(_progress(out).get("count", 0))

    task = bench.progress.add_task(f"{impl} at {rate:g}×", total=seconds)
    try:
        async with asyncio.timeout(90):
            while not ready():
                check_alive(process)
                await asyncio.sleep(0.2)
        areas = load_areas(settings.areas_file)
        runners = [
            ConnectorRunner(
                load_connector(n)(
                    ConnectorContext(
                        name=n, settings=settings, areas=areas, clock=WallClock(), seed=1, rate=rate
                    )
                ),
                settings,
                state_dir=bench.root / f"live-state-{prefix}",
            )
            for n in SIMULATORS
        ]
        sampler = Sampler(psutil.Process(process.pid))
        me = Sampler(psutil.Process())
        started = utc_now()
        clock0 = time.monotonic()
        sampler.begin()
        me.begin()
        services = service_cpu()
        runs = [asyncio.create_task(r.run()) for r in runners]
        lags = []
        while (elapsed := time.monotonic() - clock0) < seconds:
            check_alive(process)
            sampler.sample()
            me.sample()
            lags.append(max(sum(r.metrics.sent for r in runners) - processed(), 0))
            bench.progress.update(task, completed=elapsed)
            await asyncio.sleep(0.5)
        for runner in runners:
            runner.stop()
        stopped = utc_now()
        wall = time.monotonic() - clock0
        cpu = sampler.cpu_since_begin()
        cpu_feeds = me.cpu_since_begin()
        service_use = service_cpu_delta(services, service_cpu(), wall)
        sent = sum(m.sent for m in await asyncio.gather(*runs))
        caught_up = time.monotonic()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                while processed() < sent:
                    check_alive(process)
                    await asyncio.sleep(0.2)
        catch_up = time.monotonic() - caught_up
        await asyncio.sleep(LIVE_GRACE_SECONDS + 3)  # the last windows close and are written
        count = processed()
        sampler.sample()
    finally:
        process.stop(15.0)
    width = timedelta(seconds=LIVE_WINDOW_SECONDS)
    first_at = started + timedelta(seconds=WARMUP_SECONDS)
    last_at = stopped - timedelta(seconds=COOLDOWN_SECONDS)
    async with pg_connection(url) as conn:
        rows = await conn.fetch(
            "SELECT window_start, updated_at FROM window_metrics "
            "WHERE window_start >= $1 AND window_start + $3::interval <= $2",
            first_at,
            last_at,
            width,
        )
    lat = [(r["updated_at"] - (r["window_start"] + width)).total_seconds() for r in rows]
    by_window: dict[datetime, float] = {}
    for r, value in zip(rows, lat, strict=True):
        by_window[r["window_start"]] = max(by_window.get(r["window_start"], value), value)
    # Split each window's latency: until its last event was in Kafka (the feeds' share), and
    # from then to its last row (the implementation's share).
    arrived = await _arrivals(settings)
    feeds_share = [
        max((arrived[start] - (start + width)).total_seconds(), 0.0)
        for start in by_window
        if start in arrived
    ]
    own_share = [
        max(value - max((arrived[start] - (start + width)).total_seconds(), 0.0), 0.0)
        for start, value in by_window.items()
        if start in arrived
    ]
    bench.progress.update(task, completed=seconds)
    return {
        "impl": impl,
        "rate": rate,
        "seconds": wall,
        "events_sent": sent,
        "events_processed": count,
        "events_per_second": count / wall,
        "lag_events_max": max(lags, default=0),
        "lag_events_mean": sum(lags) / max(len(lags), 1),
        "catch_up_seconds": catch_up,
        "windows": len(by_window),
        "windows_timed": _whole_windows(first_at, last_at),
        **({"no_window": _no_window(first_at, last_at, wall, count)} if not by_window else {}),
        "rows": len(lat),
        "row_latency_seconds": latency_percentiles([max(v, 0.0) for v in lat]),
        "window_latency_seconds": latency_percentiles([max(v, 0.0) for v in by_window.values()]),
        "window_in_kafka_seconds": latency_percentiles(feeds_share),
        "window_kafka_to_row_seconds": latency_percentiles(own_share),
        "cpu_percent": 100 * cpu / wall,
        "cpu_us_per_event": 1e6 * cpu / max(count, 1),
        "rss_mb_peak": sampler.rss_peak / 2**20,
        "feeds_cpu_percent": 100 * cpu_feeds / wall,
        **service_use,
    }


async def _arrivals(settings: Settings) -> dict[datetime, datetime]:
    """Per live window: when its last event was appended to Kafka (the topics' LogAppendTime)."""
    topics = event_topics(settings)
    ends = await end_offsets(settings, topics)
    last: dict[datetime, datetime] = {}
    consumer = make_consumer(settings, *topics)
    await consumer.start()
    try:
        left = {tp: end for tp, end in ends.items() if end > 0}
        async with asyncio.timeout(120):
            while left:
                fetched = await consumer.getmany(timeout_ms=1000, max_records=20_000)
                for tp, records in fetched.items():
                    for record in records:
                        start = window_of(decode(record.value).occurred_at, LIVE_WINDOW_SECONDS)
                        at = datetime.fromtimestamp(record.timestamp / 1000, UTC)
                        if start not in last or at > last[start]:
                            last[start] = at
                    if records and records[-1].offset + 1 >= left.get(tp, 0):
                        left.pop(tp, None)
    finally:
        await consumer.stop()
    return last


def _whole_windows(first_at: datetime, last_at: datetime) -> int:
    """How many epoch-aligned live windows lie whole between `first_at` and `last_at`."""
    width = LIVE_WINDOW_SECONDS
    return max(0, math.floor(last_at.timestamp() / width) - math.ceil(first_at.timestamp() / width))


def _no_window(first_at: datetime, last_at: datetime, wall: float, processed: int) -> str:
    """Why a sustained row has no latency: what the table says instead of a number."""
    whole = _whole_windows(first_at, last_at)
    if whole == 0:
        return (
            f"no whole {LIVE_WINDOW_SECONDS} s window between {WARMUP_SECONDS:g} s after the "
            f"start and {COOLDOWN_SECONDS:g} s before the end of this {wall:.0f} s run "
            f"(--seconds {MIN_LIVE_SECONDS:g} or more always times one)"
        )
    if processed == 0:
        return "it processed no event"
    return (
        "no row written for the window timed"
        if whole == 1
        else f"no row written for any of the {whole} windows timed"
    )


# --- the run --------------------------------------------------------------------------------


def _ratio(
    a: dict[str, Any] | None, b: dict[str, Any] | None, key: str = "events_per_second"
) -> float | None:
    if not a or not b or not a.get(key) or not b.get(key):
        return None
    return a[key] / b[key]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "meta": {
            "date": utc_now().isoformat(timespec="seconds"),
            "load_average_at_start": list(os.getloadavg()),
            "machine": machine_description(),
            "python": sys.version.split()[0],
            **{
                p: package_version(p)
                for p in (
                    "aiokafka",
                    "asyncpg",
                    "pydantic",
                    "quixstreams",
                    "bytewax",
                    "confluent-kafka",
                    "faust-streaming",
                )
            },
        },
        "parameters": dict(vars(args)),
    }
    progress = Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TextColumn("{task.completed:>12,.0f} / {task.total}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )
    steps = 4 + len(LOADS) * (1 + len(PEERS))
    with (
        progress,
        tempfile.TemporaryDirectory(prefix="ioc-bench-") as tmp,
        kafka_bootstrap() as bootstrap,
        postgres_server(Path(tmp)) as node,
    ):
        overall = progress.add_task("[bold]benchmark", total=steps)
        bench = Bench(bootstrap, node, Path(tmp), progress, caught_up_timeout=CAUGHT_UP_TIMEOUT)
        base = bench.settings(f"bench{uuid.uuid4().hex[:6]}")
        start = _history_start(base, args.days)
        results["meta"]["kafka"] = (
            "external"
            if os.environ.get("IOC_KAFKA_BOOTSTRAP")
            else f"Apache Kafka {base.embedded.kafka_version} (embedded, loopback)"
        )

        # 1. inputs
        full = bench.settings(f"full{uuid.uuid4().hex[:6]}")
        inputs = {"backfill": await history_topics(bench, full, start, args.days, args.rate)}
        if args.slice_days < args.days:
            part = bench.settings(f"slice{uuid.uuid4().hex[:6]}")
            inputs["slice"] = await backfill_topics(
                bench, part, start, args.slice_days, args.rate, "slice"
            )
        else:
            part = full
            inputs["slice"] = inputs["backfill"]
        results["inputs"] = inputs
        progress.advance(overall)

        # 2. the slice: every implementation on the same events
        total = inputs["slice"]["events"]
        expected, batches = await expected_rows(bench, part, total, 60)
        results["expected"] = {
            "events": total,
            "rows": len(expected),
            "contributions": int(sum(v[0] for v in expected.values())),
        }
        sl: dict[str, Any] = {}
        for key, decode_each in (("bare_read", False), ("bare_decode", True)):
            sl[key] = await best_of(2, bare_consumer, bench, part, total, decode_each)
        sl["bare_writer"] = await bare_writer(bench, batches, total)
        del batches
        sl["ours"] = await ours_backlog(bench, part, total, "slice", expected=expected)
        try:  # both cores: does the database have room for a second worker?
            sl["ours_two"] = await ours_backlog(
                bench, part, total, "slice-two", expected=expected, workers=2
            )
        except (RuntimeError, TimeoutError) as err:
            sl["ours_two"] = {"error": describe(err)}
        if args.before:
            tree = _before_tree(args.before, bench.root)
            try:
                sl["ours_before"] = await ours_backlog(
                    bench, part, total, "slice-before", tree=tree, expected=expected
                )
            except (RuntimeError, TimeoutError) as err:
                sl["ours_before"] = {"error": describe(err)}
            sl["ours_before"]["ref"] = args.before
        span = timedelta(days=args.slice_days)
        for peer in args.peers:
            if peer == "faust":
                continue
            try:
                sl[peer] = await peer_backlog(bench, part, peer, total, span, expected)
            except (RuntimeError, TimeoutError, KeyError) as err:
                sl[peer] = {"error": describe(err)}
        results["slice"] = sl
        if "faust" in args.peers:
            # faust is too slow for the slice (a changelog record per table update): it gets a
            # smaller one, and ours runs on that too, for a ratio on the same events.
            small = bench.settings(f"small{uuid.uuid4().hex[:6]}")
            inputs["faust_slice"] = await backfill_topics(
                bench, small, start, args.faust_days, args.rate, "faust-slice"
            )
            small_total = inputs["faust_slice"]["events"]
            small_expected, _ = await expected_rows(bench, small, small_total, 60)
            fs: dict[str, Any] = {
                "ours": await ours_backlog(
                    bench, small, small_total, "faust-slice", expected=small_expected
                )
            }
            try:
                fs["faust"] = await peer_backlog(
                    bench,
                    small,
                    "faust",
                    small_total,
                    timedelta(days=args.faust_days),
                    small_expected,
                )
            except (RuntimeError, TimeoutError, KeyError) as err:
                fs["faust"] = {"error": describe(err)}
            results["faust_slice"] = fs
        if args.profile:
            results["profile"] = await profile_backlog(bench, part, total)
        progress.advance(overall)

        # 3. the whole history through our worker, next to the bare consumer
        full_total = inputs["backfill"]["events"]
        bf: dict[str, Any] = {}
        if full is not part:
            bf["bare_decode"] = await bare_consumer(bench, full, full_total, True)
        else:
            bf["bare_decode"] = sl["bare_decode"]
        try:
            bf["ours"] = await ours_backlog(bench, full, full_total, "history")
        except (RuntimeError, TimeoutError) as err:
            bf["ours"] = {"error": describe(err)}
        results["backfill"] = bf
        progress.advance(overall)

        # 4. sustained loads
        live = []
        for rate in LOADS:
            for impl in ("ours", *args.peers):
                try:
                    live.append(await sustained(bench, impl, rate, args.seconds))
                except (RuntimeError, TimeoutError) as err:
                    live.append({"impl": impl, "rate": rate, "error": describe(err)})
                progress.advance(overall)
        results["sustained"] = live
        results["meta"]["postgresql"] = f"{bench.postgres_version} (embedded, loopback, fsync on)"
        results["meta"]["load_average_at_end"] = list(os.getloadavg())
        progress.advance(overall)
    results["ratios"] = ratios(results)
    return results


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    sl, bf = results["slice"], results["backfill"]
    ours = sl["ours"]
    out: dict[str, Any] = {
        "slice": {
            "ours_to_bare_decode": _ratio(ours, sl.get("bare_decode")),
            "ours_to_bare_read": _ratio(ours, sl.get("bare_read")),
            "ours_to_bare_writer": _ratio(ours, sl.get("bare_writer")),
            **{f"ours_to_{p}": _ratio(ours, sl.get(p)) for p in PEERS if p != "faust"},
            "ours_to_ours_before": _ratio(ours, sl.get("ours_before")),
            "ours_two_to_ours": _ratio(sl.get("ours_two"), ours),
        },
        "backfill": {"ours_to_bare_decode": _ratio(bf["ours"], bf.get("bare_decode"))},
        "faust_slice": {
            "ours_to_faust": _ratio(
                results.get("faust_slice", {}).get("ours"),
                results.get("faust_slice", {}).get("faust"),
            )
        },
        "sustained": {},
    }
    for row in results.get("sustained", []):
        if row.get("impl") != "ours" or "error" in row:
            continue
        here: dict[str, Any] = {}
        for other in results["sustained"]:
            if other.get("rate") == row["rate"] and other.get("impl") in PEERS:
                here[f"ours_to_{other['impl']}_events_per_second"] = _ratio(row, other)
                here[f"{other['impl']}_cpu_to_ours_cpu"] = _ratio(other, row, "cpu_us_per_event")
        out["sustained"][f"{row['rate']:g}"] = here
    return out


def _arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="a few-minute smoke run")
    parser.add_argument("--days", type=float, default=30.0, help="history to backfill")
    parser.add_argument(
        "--rate", type=float, default=0.12, help="volume of the history (0.12: ≈ 10.5 M in 30 d)"
    )
    parser.add_argument(
        "--slice-days", type=float, default=1.0, help="the part every implementation runs on"
    )
    parser.add_argument(
        "--faust-days", type=float, default=0.1, help="the smaller part the faust agent runs on"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help=f"each sustained run (60; quick: 40; under {MIN_LIVE_SECONDS:g} a row may time no "
        "window)",
    )
    parser.add_argument(
        "--peer",
        dest="peers",
        action="append",
        choices=sorted(PEERS),
        help="only these peers (repeatable; default all)",
    )
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument(
        "--before",
        help="also run the worker as committed at this git ref, or from this source tree",
    )
    parser.add_argument("--label", help="suffix of the results file")
    args = parser.parse_args(argv)
    args.peers = args.peers or list(PEERS)
    if args.quick:
        args.days, args.rate, args.slice_days, args.faust_days = 1.0, 0.1, 0.25, 0.1
    # A quick run still times at least one whole window at each load (MIN_LIVE_SECONDS).
    args.seconds = args.seconds or (40.0 if args.quick else 60.0)
    return args


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    # The live feeds and the bare consumers run in this process: set up as `ioc connectors
    # run` and `ioc streams run` set themselves up.
    tune_gc()
    outcome = asyncio.run(run(args))
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "".join(f"-{s}" for s in ("quick" if args.quick else "", args.label) if s)
    path = RESULTS / f"bench-{utc_now().date().isoformat()}{suffix}.json"
    path.write_text(json.dumps(outcome, indent=2, default=str) + "\n", encoding="utf-8")
    report.publish(path)
    Console().print(f"results: {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
