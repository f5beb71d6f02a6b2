"""`ioc up` as a user runs it: start, status, Ctrl-C, restart keeping data, crashes, bad input."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest

from ioc.codec import decode, encode, headers
from ioc.config import load_settings
from ioc.events import CameraHeartbeat, Envelope, utc_now
from ioc.kafka import make_consumer, make_producer
from ioc.telemetry import read_connector_metrics
from tests._notify import free_port

IOC = [sys.executable, "-m", "ioc"]
START_TIMEOUT = 180.0


def _env(state: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    return (
        env
        | {
            "IOC_STATE_DIR": str(state),
            "IOC_EMBEDDED__KAFKA_PORT": "0",
            "IOC_EMBEDDED__POSTGRES_PORT": "0",
            "IOC_EMBEDDED__STOP_GRACE_SECONDS": "10",
            "IOC_API_PORT": str(free_port()),  # never a user's 8000, nor another test's
            # The stack alone; test_up_runs_the_simulated_feeds turns the feeds on.
            "IOC_CONNECTORS__RUN": "[]",
            "IOC_ALERTS__RECIPIENTS_FILE": str(
                Path(__file__).with_name("recipients-email-only.yaml")
            ),
        }
        | extra
    )


def _get(url: str, key: str | None = None) -> int:
    """HTTP status of a GET (0 when nothing answers)."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        return httpx.get(url, headers=headers, timeout=5).status_code
    except httpx.HTTPError:
        return 0


def _wait_for(check: Callable[[], bool], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def _run(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*IOC, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _processes_under(state: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        try:
            if any(str(state) in part for part in proc.cmdline()):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


class Stack:
    """One `ioc up` in the background, as a terminal would run it."""

    def __init__(self, state: Path, env: dict[str, str]) -> None:
        self.state, self.env = state, env
        self.log = state.parent / "ioc-up.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        self.state.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*IOC, "up"], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        while time.monotonic() - started < START_TIMEOUT:
            assert self.proc.poll() is None, f"ioc up exited early:\n{self.log.read_text()}"
            ready = (self.state / "run.json").exists()  # external services are healthy sooner
            if ready and _run(self.env, "status").returncode == 0:
                return time.monotonic() - started
            time.sleep(0.5)
        raise AssertionError(f"not healthy after {START_TIMEOUT} s:\n{self.log.read_text()}")

    def run_state(self) -> dict[str, object]:
        return json.loads((self.state / "run.json").read_text())

    def interrupt(self) -> int:
        """Ctrl-C, and wait for the supervisor to finish."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=60)

    def ensure_stopped(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.interrupt()
        for proc in _processes_under(self.state):
            proc.kill()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    state = tmp_path / "state"
    s = Stack(state, _env(state))
    yield s
    s.ensure_stopped()


async def _produce(bootstrap: str, count: int) -> list[Envelope]:
    settings = load_settings(kafka_bootstrap=bootstrap)
    events = [
        Envelope.create(
            source="e2e",
            area="11950",
            key=f"cam-{i}",
            occurred_at=utc_now(),
            payload=CameraHeartbeat(camera_id=f"cam-{i}", online=i % 2 == 0),
        )
        for i in range(count)
    ]
    producer = make_producer(settings)
    await producer.start()
    try:
        for env in events:
            await producer.send(
                "ioc.events.camera", encode(env), key=env.key.encode(), headers=headers(env)
            )
        await producer.flush()
    finally:
        await producer.stop()
    return events


async def _consume_all(bootstrap: str, topic: str, expected: int) -> list[Envelope]:
    consumer = make_consumer(load_settings(kafka_bootstrap=bootstrap), topic, group_id=None)
    await consumer.start()
    seen: list[Envelope] = []
    try:
        deadline = time.monotonic() + 30
        while len(seen) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000)
            seen += [decode(record.value) for records in batch.values() for record in records]
    finally:
        await consumer.stop()
    return seen


def test_up_status_ctrl_c_and_restart_keep_every_event_and_row(stack: Stack) -> None:
    first = stack.start()
    state = stack.run_state()
    status = json.loads(_run(stack.env, "status", "--json").stdout)
    parts = {p["name"]: p["healthy"] for p in status["parts"]}
    assert {"kafka", "postgres", "alerts", "api"} <= set(parts) and all(parts.values()), parts
    api = f"http://127.0.0.1:{stack.env['IOC_API_PORT']}"
    assert _wait_for(lambda: _get(api + "/readyz") == 200)
    assert _get(api + "/api/v1/alerts") == 401  # a local stack is not an open one
    admin_key = (stack.state / "api-admin-key").read_text().strip()
    assert _get(api + "/api/v1/me", admin_key) == 200
    assert (stack.state / "api-admin-key").stat().st_mode & 0o777 == 0o600
    events = asyncio.run(_produce(str(state["kafka_bootstrap"]), 50))

    async def write_row() -> None:
        conn = await asyncpg.connect(str(state["database_url"]))
        await conn.execute("CREATE TABLE e2e_probe (name text)")
        await conn.execute("INSERT INTO e2e_probe VALUES ('Tiên Lữ')")
        await conn.close()

    asyncio.run(write_row())
    assert stack.interrupt() == 0
    assert _processes_under(stack.state) == [], "Ctrl-C left processes behind"
    assert not (stack.state / "run.json").exists()

    second = stack.start()
    state = stack.run_state()
    seen = asyncio.run(_consume_all(str(state["kafka_bootstrap"]), "ioc.events.camera", 50))
    assert sorted(e.event_id for e in seen) == sorted(e.event_id for e in events)  # 6 partitions
    assert len(seen) == len(events)

    async def read_rows() -> tuple[list[str], int]:
        conn = await asyncpg.connect(str(state["database_url"]))
        names = [r["name"] for r in await conn.fetch("SELECT name FROM e2e_probe")]
        migrations = await conn.fetchval("SELECT count(*) FROM schema_migrations")
        await conn.close()
        return names, migrations

    names, migrations = asyncio.run(read_rows())
    assert names == ["Tiên Lữ"]
    assert migrations >= 1
    assert _run(stack.env, "down").returncode == 0
    assert _processes_under(stack.state) == []
    print(f"\nioc up to healthy: first run {first:.1f} s, second run {second:.1f} s")


def test_stale_processes_of_a_crashed_run_are_cleaned(stack: Stack) -> None:
    stack.start()
    old = {name: pid for name, pid in stack.run_state()["pids"].items()}  # type: ignore[union-attr]
    assert stack.proc is not None
    stack.proc.kill()  # the supervisor dies; its children live on
    stack.proc.wait()
    assert all(psutil.pid_exists(pid) for pid in old.values())
    stack.start()
    for name, pid in old.items():
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, (
            name
        )
    assert set(stack.run_state()["pids"]) == set(old)  # type: ignore[arg-type]


def test_a_child_that_dies_is_restarted_and_reported(stack: Stack) -> None:
    stack.start()
    pid = stack.run_state()["pids"]["postgres"]  # type: ignore[index]
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        new = stack.run_state()["pids"]["postgres"]  # type: ignore[index]
        if new != pid and _run(stack.env, "status").returncode == 0:
            break
        time.sleep(0.5)
    else:
        raise AssertionError(stack.log.read_text())
    assert "postgres exited with code" in stack.log.read_text()


def test_unparsable_bootstrap_stops_startup_naming_the_variable(tmp_path: Path) -> None:
    result = _run(_env(tmp_path / "state", IOC_KAFKA_BOOTSTRAP="kafka-without-port"), "up")
    assert result.returncode == 2
    assert "IOC_KAFKA_BOOTSTRAP='kafka-without-port'" in result.stderr
    assert "host:port" in result.stderr


def test_port_in_use_stops_startup_naming_the_variable_and_leaves_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run(_env(state, IOC_EMBEDDED__KAFKA_PORT=str(port)), "up", timeout=120)
    assert result.returncode == 1
    assert f"Port {port}" in result.stderr and "IOC_EMBEDDED__KAFKA_PORT" in result.stderr
    assert _processes_under(state) == []


def test_without_java_the_message_says_what_to_install(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = _run(_env(tmp_path / "state", PATH=str(empty)), "up")
    assert result.returncode == 1
    for hint in ("Java 17+", "apt install", "IOC_KAFKA_BOOTSTRAP", "docker compose"):
        assert hint in result.stderr


def test_external_broker_and_database_are_used_instead_of_embedded(
    kafka: object, database_url: str, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    bootstrap = kafka.address  # type: ignore[attr-defined]
    stack = Stack(state, _env(state, IOC_KAFKA_BOOTSTRAP=bootstrap, IOC_DATABASE_URL=database_url))
    try:
        stack.start()
        # Nothing embedded was started: only the project's own worker runs.
        assert set(stack.run_state()["pids"]) == {"streams-1", "alerts", "api"}  # type: ignore[arg-type]
        assert stack.run_state()["kafka_bootstrap"] == bootstrap

        async def migrated() -> int:
            conn = await asyncpg.connect(database_url)
            try:
                return int(await conn.fetchval("SELECT count(*) FROM areas"))
            finally:
                await conn.close()

        assert asyncio.run(migrated()) > 0
    finally:
        stack.ensure_stopped()
    assert _processes_under(state) == []


async def _feeds_with_windows(database_url: str) -> set[str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT DISTINCT split_part(metric, '.', 1) FROM window_metrics")
    finally:
        await conn.close()
    return {r[0] for r in rows}


def test_up_runs_the_simulated_feeds_with_history_then_live(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = _env(state, IOC_CONNECTORS__HISTORY_HOURS="1", IOC_CONNECTORS__RATE="0.3")
    del env["IOC_CONNECTORS__RUN"]  # the default: the five simulated feeds
    stack = Stack(state, env)
    try:
        stack.start()  # waits until `ioc status` is all healthy, connectors included
        feeds = {"camera-sim", "dvc-sim", "payment-sim", "network-sim", "feedback-sim"}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status = json.loads(_run(stack.env, "status", "--json").stdout)
            live = {c["name"]: c for c in status["connectors"] if c["live"]}
            if set(live) == feeds and all(c["sent"] > 0 for c in live.values()):
                break
            time.sleep(1)
        else:
            raise AssertionError(f"feeds not all live and sending: {status}")
        assert {p["name"] for p in status["parts"]} >= {f"connector {f}" for f in feeds}

        # The stream worker turns every feed into window rows.
        database_url = str(stack.run_state()["database_url"])
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            feeds_in_windows = asyncio.run(_feeds_with_windows(database_url))
            if feeds_in_windows == {"camera", "dvc", "payment", "network", "feedback"}:
                break
            time.sleep(1)
        else:
            raise AssertionError(f"window rows only for {feeds_in_windows}")
        status = json.loads(_run(stack.env, "status", "--json").stdout)
        [worker] = [w for w in status["streams"] if w["live"]]
        assert worker["state"] == "running" and worker["partitions"], worker
        assert {"streams worker-1"} <= {p["name"] for p in status["parts"] if p["healthy"]}

        bootstrap = str(stack.run_state()["kafka_bootstrap"])
        for feed in ("camera", "payment", "network"):
            events = asyncio.run(_consume_all(bootstrap, f"ioc.events.{feed}", 200))
            times = [e.occurred_at for e in events]
            assert utc_now() - min(times) > timedelta(minutes=50), f"{feed}: an hour of history"
        assert stack.interrupt() == 0
    finally:
        stack.ensure_stopped()
    stopped = {c.name: c for c in read_connector_metrics(state)}
    assert set(stopped) == feeds
    for metrics in stopped.values():
        assert metrics.state == "stopped" and metrics.spool_records == 0, metrics
        assert metrics.sent == metrics.yielded, "a clean stop delivers everything pulled"
