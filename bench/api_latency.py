"""Benchmark: the API's latency for the live board's queries under 50 concurrent boards.

Run: `.venv/bin/python -m bench.api_latency` (about 2 minutes; `--quick` for a short check,
`--clients 100` for more boards, `--seconds 60` to run longer).

In one run, on an embedded PostgreSQL the bench starts on loopback:

1. **seed** (not timed): 24 hours of 1-minute windows for every commune of the shipped Hưng Yên
   file (events of the four feeds and the metrics of the payment, network and camera KPIs),
   a few open alerts, then `keep_current` brings `kpi_values` up to date at 1m, 1h and 1d —
   the state of a province's database after a day of `ioc up`;
2. **serve**: `ioc api` as a subprocess, as `ioc up` runs it;
3. **baseline**: `--clients` concurrent clients call `GET /healthz` (no database, no key) in a
   loop for `--seconds`: the server's own floor on this machine in this run;
4. **board**: the same number of clients, each also holding the live stream open
   (`/api/v1/stream`) like a wall screen, call what a board loads — KPI tiles, the area map,
   feed health and open alerts — in a loop for `--seconds`.

Reported per endpoint: requests, p50, p95, p99 and max in ms, and the board's p99 as a ratio of
the baseline's. Results go to `bench/results/api_latency-<date>[-quick].json`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np
from rich.console import Console
from rich.table import Table

from bench.harness import postgres_server
from ioc.api.keys import create_key
from ioc.areas import load_areas
from ioc.db import migrate, sync_areas
from ioc.kpis import load_kpis
from ioc.kpis.values import keep_current

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
BOARD = (
    ("kpi tiles", "/api/v1/kpis/current?area=33"),
    ("area map", "/api/v1/map?area=33"),
    ("feed health", "/api/v1/feeds"),
    ("open alerts", "/api/v1/alerts?state=open&limit=20"),
)
# (metric, count per commune per minute): enough for every board query to find data.
METRICS = (
    ("camera.events", 4),
    ("camera.heartbeats", 4),
    ("camera.online", 4),
    ("dvc.events", 1),
    ("dvc.received", 1),
    ("dvc.received_online", 1),
    ("payment.events", 1),
    ("payment.attempts", 1),
    ("payment.succeeded", 1),
    ("payment.cashless", 1),
    ("network.events", 2),
    ("network.special_network.samples", 2),
    ("network.special_network.up", 2),
)


async def seed(url: str, hours: int) -> tuple[int, str]:
    """Write `hours` of windows ending now, a few alerts, KPI values; returns (rows, admin key)."""
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        areas = load_areas()
        await sync_areas(conn, areas)
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        communes = [a.code for a in areas.as_of(now.date()).leaves()]
        await conn.execute(
            """
            INSERT INTO window_metrics (window_start, metric, area, count, sum, min, max)
            SELECT t, m.metric, a.code, m.n, m.n, 1, 1
            FROM generate_series($1::timestamptz, $2::timestamptz, interval '1 minute') t
            CROSS JOIN unnest($3::text[]) AS a(code)
            CROSS JOIN unnest($4::text[], $5::int[]) AS m(metric, n)
            """,
            now - timedelta(hours=hours),
            now,
            communes,
            [m for m, _ in METRICS],
            [n for _, n in METRICS],
        )
        rows = int(await conn.fetchval("SELECT count(*) FROM window_metrics"))
        for code in communes[:5]:
            await conn.execute(
                "INSERT INTO alerts (rule_id, area, severity, kpi_id, state, started_at, "
                "fired_at, last_value, target) VALUES ('network_special_down', $1, 'critical', "
                "'network_special_availability', 'firing', $2, $2, 0.5, 1.0)",
                code,
                now - timedelta(minutes=10),
            )
        catalogue = load_kpis()
        await keep_current(conn, catalogue, first_days=2)
        _, key = await create_key(conn, "bench", "admin", None, "bench")
        return rows, key
    finally:
        await conn.close()


@contextlib.contextmanager
def api_process(url: str, state: Path, port: int) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")} | {
        "IOC_DATABASE_URL": url,
        "IOC_KAFKA_BOOTSTRAP": "127.0.0.1:9",  # no broker: only the DLQ index needs one
        "IOC_STATE_DIR": str(state),
        "IOC_API_PORT": str(port),
        "IOC_ENVIRONMENT": "staging",
        "IOC_LOG_LEVEL": "ERROR",
        # 50 boards of one operator room share a key: its rate limit is not what is measured.
        "IOC_API__REQUESTS_PER_MINUTE": "1000000",
        "IOC_API__BURST": "100000",
    }
    log = (state / "api.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "ioc", "api"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((state / "api.log").read_text())
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        process.wait(15)
        log.close()


async def _client(
    base: str,
    key: str | None,
    paths: tuple[tuple[str, str], ...],
    until: float,
    samples: dict[str, list[float]],
    errors: list[str],
) -> None:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        while time.monotonic() < until:
            for name, path in paths:
                started = time.perf_counter()
                response = await client.get(path)
                samples[name].append(time.perf_counter() - started)
                if response.status_code != 200:
                    errors.append(f"{path}: {response.status_code}")


async def _stream(base: str, key: str, until: float) -> int:
    """Hold the live stream open like a wall screen; count the events received."""
    events = 0
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx.AsyncClient(base_url=base, headers=headers, timeout=None) as client,
        client.stream("GET", "/api/v1/stream?area=33") as response,
    ):
        async for line in response.aiter_lines():
            events += line.startswith("event: ")
            if time.monotonic() >= until:
                break
    return events


async def load(
    base: str, key: str | None, paths: tuple[tuple[str, str], ...], clients: int, seconds: float
) -> dict[str, Any]:
    samples: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    until = time.monotonic() + seconds
    streams = (
        [asyncio.create_task(_stream(base, key, until)) for _ in range(clients)] if key else []
    )
    started = time.perf_counter()
    await asyncio.gather(
        *(_client(base, key, paths, until, samples, errors) for _ in range(clients))
    )
    elapsed = time.perf_counter() - started
    pushed = sum(await asyncio.gather(*streams))
    out: dict[str, Any] = {"clients": clients, "seconds": round(elapsed, 1), "errors": errors[:5]}
    everything = [s for values in samples.values() for s in values]
    for name, values in [*samples.items(), ("all", everything)]:
        ms = np.array(values) * 1000
        out[name] = {
            "requests": len(values),
            "per_second": round(len(values) / elapsed, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "max_ms": round(float(ms.max()), 1),
        }
    if key:
        out["stream_events"] = pushed
    return out


async def main(args: argparse.Namespace) -> dict[str, Any]:
    console = Console(stderr=True)
    with (
        tempfile.TemporaryDirectory(prefix="ioc-bench-api-") as tmp,
        postgres_server(Path(tmp) / "pg") as node,
    ):
        url = node.url_for("postgres")
        console.print(f"seeding {args.hours} h of windows …")
        started = time.perf_counter()
        rows, key = await seed(url, args.hours)
        seeded = time.perf_counter() - started
        console.print(f"{rows:,} window rows and KPI values in {seeded:.0f} s; starting ioc api")
        from tests._notify import free_port

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with api_process(url, Path(tmp), port):
            console.print(f"baseline: {args.clients} clients × /healthz for {args.seconds} s")
            baseline = await load(
                base, None, (("healthz", "/healthz"),), args.clients, args.seconds
            )
            console.print(f"board: {args.clients} clients × board queries + live stream")
            board = await load(base, key, BOARD, args.clients, args.seconds)
    return {
        "benchmark": "api_latency",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average": os.getloadavg(),
        },
        "window_rows": rows,
        "seed_seconds": round(seeded, 1),
        "baseline": baseline,
        "board": board,
        "board_p99_over_baseline_p99": round(board["all"]["p99_ms"] / baseline["all"]["p99_ms"], 1),
    }


def render(outcome: dict[str, Any]) -> None:
    table = Table(title=f"API latency, {outcome['board']['clients']} concurrent boards")
    for column in ("endpoint", "requests/s", "p50 ms", "p95 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="right" if column != "endpoint" else "left")
    for part in ("baseline", "board"):
        for name, row in outcome[part].items():
            if isinstance(row, dict) and "p99_ms" in row:
                table.add_row(
                    f"{part}: {name}",
                    f"{row['per_second']:,}",
                    str(row["p50_ms"]),
                    str(row["p95_ms"]),
                    str(row["p99_ms"]),
                    str(row["max_ms"]),
                )
    Console().print(table)
    Console().print(f"board p99 / baseline p99 = {outcome['board_p99_over_baseline_p99']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s per phase, 6 h of data")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--hours", type=int, default=24)
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.seconds, arguments.hours = 10.0, 6
    outcome = asyncio.run(main(arguments))
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if arguments.quick else ""
    path = RESULTS / f"api_latency-{datetime.now(UTC).date().isoformat()}{suffix}.json"
    path.write_text(json.dumps(outcome, indent=2) + "\n", encoding="utf-8")
    render(outcome)
    Console().print(f"results: {path.relative_to(REPO)}")
