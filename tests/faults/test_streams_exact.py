"""Exact window totals while workers are SIGKILLed, join and leave, and services restart.

Two `ioc streams run` processes share the group on real Kafka and PostgreSQL while a producer
streams a known workload (duplicates, out-of-order, late and malformed records in every
feed). Mid-stream: worker A is SIGKILLed and restarted while B joins (rebalance), PostgreSQL
is killed and restarted, B is SIGKILLed (its partitions move back to A), and the broker is
restarted. At the end the database must hold exactly the valid events counted once, and the
DLQ exactly the malformed records (each location once).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ioc.config import Settings, load_settings
from ioc.db import connect, migrate
from ioc.dlq import read_dead_letters
from ioc.kafka import ensure_topics, project_topics
from ioc.telemetry import read_stream_metrics
from tests._services import LocalService
from tests._streams import (
    Record,
    build_workload,
    differences,
    produce,
    reasons,
    wait_caught_up,
    window_totals,
)

CHUNK = 2_000


class Worker:
    """One `ioc streams run` process with its log."""

    def __init__(self, name: str, env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.log = logs / f"worker-{name}.log"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ioc", "streams", "run", "--name", name],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        if worker.process.poll() is None:
            worker.kill()


def _env(settings: Settings) -> dict[str, str]:
    assert settings.database_url is not None and settings.kafka_bootstrap is not None
    return os.environ | {
        "IOC_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "IOC_DATABASE_URL": settings.database_url.get_secret_value(),
        "IOC_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix,
        "IOC_KAFKA__PARTITIONS": str(settings.kafka.partitions),
        "IOC_STATE_DIR": str(settings.state_dir),
        "IOC_STREAMS__FLUSH_INTERVAL_MS": "200",
        "IOC_STREAMS__MAX_BATCH": "2000",
        "IOC_STREAMS__SESSION_TIMEOUT_MS": "6000",
    }


def _running(settings: Settings, *names: str) -> bool:
    """Every named worker is running and owns partitions."""
    by_name = {m.name: m for m in read_stream_metrics(settings.state_dir)}
    return all(
        n in by_name and by_name[n].state == "running" and by_name[n].partitions for n in names
    )


async def _until(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - polls a counter another task moves
            await asyncio.sleep(0.1)
    assert condition(), what


async def test_totals_are_exact_through_kills_rebalances_and_restarts(
    settings: Settings,
    kafka: LocalService,
    postgres: LocalService,
    workers: list[Worker],
    tmp_path: Path,
) -> None:
    if not (isinstance(kafka, LocalService) and isinstance(postgres, LocalService)):
        pytest.skip("external services are not restarted by the tests")
    assert settings.database_url is not None
    settings = load_settings(
        kafka_bootstrap=settings.kafka_bootstrap,
        database_url=settings.database_url.get_secret_value(),
        state_dir=settings.state_dir,
        kafka={"topic_prefix": f"t{uuid.uuid4().hex[:10]}", "partitions": 4},
    )
    await ensure_topics(settings, project_topics(settings))
    conn = await connect(settings)
    await migrate(conn)
    conn.terminate()
    work = await build_workload(settings, minutes=20, rate=2)
    env = _env(settings)

    produced = [0]
    flowing = asyncio.Event()
    flowing.set()

    async def stream(records: list[Record]) -> None:
        for start in range(0, len(records), CHUNK):
            await flowing.wait()
            await produce(settings, records[start : start + CHUNK])
            produced[0] = min(start + CHUNK, len(records))
            await asyncio.sleep(0.05)

    def share(fraction: float) -> Callable[[], bool]:
        return lambda: produced[0] >= fraction * len(work.records)

    workers.append(Worker("a", env, tmp_path))
    producer = asyncio.create_task(stream(work.records))

    await _until(share(0.15), "15% produced")
    workers[0].kill()  # mid-window, mid-batch
    workers.append(Worker("a", env, tmp_path))
    workers.append(Worker("b", env, tmp_path))  # joins: partitions are split

    await _until(share(0.40), "40% produced")
    await _until(lambda: _running(settings, "a", "b"), "a and b share the partitions", 60)
    await asyncio.to_thread(postgres.kill)
    await asyncio.sleep(3)
    await asyncio.to_thread(postgres.start)
    await _until(lambda: _running(settings, "a", "b"), "a and b recover", 30)

    await _until(share(0.65), "65% produced")
    workers[2].kill()  # B leaves without a word: A takes its partitions after the session

    await _until(share(0.80), "80% produced")
    flowing.clear()
    await asyncio.to_thread(kafka.restart)
    flowing.set()
    await asyncio.wait_for(producer, 180)

    conn = await connect(settings)
    try:
        await wait_caught_up(conn, settings, timeout=180)
        health = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "ioc", "streams", "health", "--name", "a"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert health.returncode == 0, health.stdout + health.stderr
        assert workers[1].stop() == 0, workers[1].log.read_text()[-3000:]

        problems = differences(work.expected, await window_totals(conn))
        assert problems == [], "\n".join(problems)
    finally:
        conn.terminate()

    # The faults really happened: flushes failed and were redone, partitions moved.
    by_name = {m.name: m for m in read_stream_metrics(settings.state_dir)}
    assert by_name["a"].flush_errors + by_name["b"].flush_errors >= 1
    assert by_name["a"].partitions and by_name["b"].state != "stopped"  # b was SIGKILLed
    print(
        {
            n: (m.flushes, m.flush_errors, sum(a.read for a in m.agents.values()))
            for n, m in by_name.items()
        }
    )

    letters = await read_dead_letters(settings)
    assert len({letter.location for _, letter in letters}) == len(letters)
    assert Counter(letter.reason for _, letter in letters) == reasons(work.malformed)
