"""Test support for the API: a database with a real outage in it, and `ioc api` as a process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from ioc.api.keys import Role, create_key
from ioc.areas import load_areas
from ioc.config import Settings
from ioc.db import migrate, sync_areas
from ioc.kpis.values import keep_current
from ioc.services import build_evaluator
from tests._notify import free_port

WARD = "11953"  # Phường Phố Hiến: its special-network points go down
OTHER_WARD = "11983"
MINUTE = timedelta(minutes=1)
FEEDS = ("camera", "dvc", "payment", "network")


def floor_minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


async def seed(conn: asyncpg.Connection, settings: Settings, minutes: int = 30) -> datetime:
    """Migrate, then write `minutes` of windows ending now and evaluate them as `ioc up` would.

    Every ward reports 4 special-network samples and events of all four feeds per minute; the
    WARD's points are down for the last 12 minutes, so the shipped rule `network_special_down`
    fires for the ward (and the province). Returns the start of the current minute.
    """
    await migrate(conn)
    await sync_areas(conn, load_areas())
    now = floor_minute(datetime.now(UTC))
    first = now - minutes * MINUTE
    rows = []
    for i in range(minutes + 1):
        start = first + i * MINUTE
        for area in (WARD, OTHER_WARD):
            up = 0 if area == WARD and i > minutes - 12 else 4
            rows.append((start, "network.special_network.samples", area, 4, 4.0, 1.0, 1.0))
            if up:
                rows.append((start, "network.special_network.up", area, up, float(up), 1.0, 1.0))
            rows.append((start, "payment.attempts", area, 10, 10.0, 1.0, 1.0))
            rows.append((start, "payment.succeeded", area, 9, 9.0, 1.0, 1.0))
            for n, feed in enumerate(FEEDS):
                rows.append((start, f"{feed}.events", area, n + 5, float(n + 5), 1.0, 1.0))
    await conn.executemany(
        "INSERT INTO window_metrics (window_start, metric, area, count, sum, min, max) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        rows,
    )
    evaluator = build_evaluator(settings)
    for i in range(1, minutes + 1):
        await evaluator.run_once(conn, first + i * MINUTE + timedelta(seconds=16))
    await keep_current(conn, evaluator.catalogue)
    return now


async def add_key(conn: asyncpg.Connection, name: str, role: Role, area: str | None = None) -> str:
    return (await create_key(conn, name, role, area, "test"))[1]


@dataclass
class RunningApi:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, key: str | None = None, **kwargs: object) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]


def api_env(settings: Settings, port: int, **extra: str) -> dict[str, str]:
    """The environment an `ioc api` child needs to use these settings."""
    assert settings.database_url is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env |= {
        "IOC_DATABASE_URL": settings.database_url.get_secret_value(),
        "IOC_KAFKA_BOOTSTRAP": settings.kafka_bootstrap or "",
        "IOC_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix,
        "IOC_STATE_DIR": str(settings.state_dir),
        "IOC_API_HOST": "127.0.0.1",
        "IOC_API_PORT": str(port),
        "IOC_ENVIRONMENT": "staging",  # no first admin key: tests make their own
    }
    return env | extra


@contextmanager
def running_api(settings: Settings, log_dir: Path, **extra: str) -> Iterator[RunningApi]:
    """`python -m ioc api run` on a free loopback port, until the block ends."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"api-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ioc", "api", "run"],
            env=api_env(settings, port, **extra),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    api = RunningApi(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"ioc api exited {process.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(api.url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"ioc api did not answer in 60 s:\n{log.read_text()}")
            time.sleep(0.2)
        yield api
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
