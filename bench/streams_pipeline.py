"""Benchmark: the stream worker (Kafka → windows in PostgreSQL) next to bare consumers and faust.

Run: `.venv-bench/bin/python -m bench.streams_pipeline` (about 5 minutes on 2 cores; `--quick` for a
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
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import psutil
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench._broker import kafka_bootstrap
from bench.harness import (
    FETCH_BYTES,
    MAX_RECORDS,
    PARTITIONS,
    POLL,
    REPO,
    RESULTS,
    SIMULATORS,
    START_TIMEOUT,
    Bench,
    Sampler,
    bare_consumer,
    best_of,
    check_alive,
    drain,
    event_topics,
    latency_percentiles,
    machine_description,
    package_version,
    peer_rates,
    pg_connection,
    postgres_server,
    profile_backlog,
    service_cpu,
    service_cpu_delta,
    stored_positions,
    worker_metrics,
)
from ioc.areas import AreaRegistry, load_areas
from ioc.codec import decode
from ioc.config import Settings
from ioc.connectors import ConnectorContext, VirtualClock, WallClock
from ioc.connectors.registry import load_connector
from ioc.connectors.runner import ConnectorRunner
from ioc.embedded.process import ManagedProcess, ProcessSpec
from ioc.events import FEEDS, utc_now
from ioc.kafka import (
    end_offsets,
    ensure_topics,
    project_topics,
    topic_name,
)
from ioc.localtime import ZONE, to_local

FAUST_BATCH = 10_000
BARE_RUNS = 2  # the bare loops take seconds: best of two
MAX_SPAN = timedelta(minutes=50)  # event time of one live run


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
    ends = await end_offsets(settings, event_topics(settings))
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


async def _stored(conn: asyncpg.Connection) -> int:
    """Events the worker recorded: the event store, or the ids table of a release before it
    (a `--before` tree)."""
    table = "events" if await conn.fetchval("SELECT to_regclass('events')") else "counted_events"
    count: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return count


async def _check(settings: Settings, database_url: str, name: str, expected: int) -> dict[str, Any]:
    """What the database and the worker's metrics say after a drain."""
    async with pg_connection(database_url) as conn:
        counted = await _stored(conn)
        rows = await conn.fetchval("SELECT count(*) FROM window_metrics")
        contributions = await conn.fetchval("SELECT sum(count) FROM window_metrics")
    metrics = worker_metrics(settings, name)
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
        result = await drain(bench, settings, url, process, total, "worker (backlog)")
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
                "topics": event_topics(settings),
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
    services = service_cpu()
    state: dict[str, Any] = {}
    try:
        async with asyncio.timeout(bench.caught_up_timeout):
            while not state.get("done"):
                check_alive(process)
                sampler.sample()
                with contextlib.suppress(OSError, ValueError):
                    state = json.loads(out.read_text(encoding="utf-8"))
                bench.progress.update(task, completed=state.get("count", 0))
                await asyncio.sleep(POLL)
        service_use = service_cpu_delta(services, service_cpu(), time.time() - spawned)
    finally:
        process.stop(5.0)  # faust can ignore SIGTERM for long (streams/RESEARCH.md): SIGKILL
    return {
        **peer_rates(state, spawned),
        "rss_mb_peak": sampler.rss_peak / 2**20,
        **service_use,
    }


# --- 2. live --------------------------------------------------------------------------------


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
                check_alive(process)
                found = worker_metrics(settings, name)
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
        services = service_cpu()
        runs = [asyncio.create_task(r.run()) for r in runners]
        while (elapsed := time.monotonic() - clock0) < seconds:
            check_alive(process)
            sampler.sample()
            bench.progress.update(task, completed=elapsed)
            await asyncio.sleep(0.5)
        for runner in runners:
            runner.stop()
        stopped = utc_now()
        wall = time.monotonic() - clock0
        cpu = sampler.cpu_since_begin()
        service_use = service_cpu_delta(services, service_cpu(), wall)
        sent = sum(m.sent for m in await asyncio.gather(*runs))
        bench.progress.update(task, completed=seconds)
        ends = await end_offsets(settings, [*event_topics(settings), topic_name(settings, "late")])
        async with pg_connection(url) as conn:
            async with asyncio.timeout(60):
                while True:
                    stored = await stored_positions(conn, settings.streams.group)
                    if all(stored.get(tp, 0) >= end for tp, end in ends.items()):
                        break
                    await asyncio.sleep(0.2)
    finally:
        process.stop(15.0)
    width = timedelta(seconds=window_seconds)
    async with pg_connection(url) as conn:
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
    metrics = worker_metrics(settings, name)
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
        "row_latency_seconds": latency_percentiles([max(lag, 0.0) for lag in lags]),
        # Rows written after their window closed: the pipeline's delay for the last events.
        "row_latency_after_close_seconds": latency_percentiles(after_close),
        # Per window: until its last row was final.
        "window_latency_seconds": latency_percentiles(list(by_window.values())),
        "worker_cpu_percent": 100 * cpu / wall,
        "worker_rss_mb_peak": sampler.rss_peak / 2**20,
        "flushes": metrics.flushes if metrics else None,
        "late": sum(a.late for a in metrics.agents.values()) if metrics else None,
        **service_use,
    }


# --- the run --------------------------------------------------------------------------------


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
            "machine": machine_description(),
            "python": sys.version.split()[0],
            "kafka": "external"
            if os.environ.get("IOC_KAFKA_BOOTSTRAP")
            else (f"Apache Kafka {settings.embedded.kafka_version} (embedded, loopback)"),
            "postgresql": f"{bench.postgres_version} (embedded, loopback, fsync on)",
            **{
                p: package_version(p)
                for p in ("aiokafka", "faust-streaming", "asyncpg", "pydantic")
            },
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
