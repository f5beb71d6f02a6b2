"""The notifier survives a database that turns read-only (a failover to a standby) and says so.

Real PostgreSQL: the notifier's own role is switched to read-only transactions and its
connections are cut, so its next claim fails with `ReadOnlySQLTransactionError` (SQLSTATE
25006, what a hot standby answers); the API, under another role, keeps working. The
notifier keeps running, reports itself failing in its health file, which `ioc status`,
`/healthz` and `/metrics` read (the last two checked on a running `ioc api`), and delivers
the message that waited once the database is writable again.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from ioc.config import load_settings
from ioc.db import migrate
from ioc.notify.channels import WebhookChannel
from ioc.notify.notifier import Notifier
from ioc.notify.outbox import OutboxRow, enqueue_rows
from ioc.notify.templates import Message
from ioc.telemetry import notifier_problems, read_notifier_metrics
from tests._api import add_key, api_env, running_api
from tests._notify import HookReceiver, free_port


@pytest.fixture
async def hooks() -> AsyncIterator[HookReceiver]:
    receiver = HookReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


async def _enqueue(conn: asyncpg.Connection, hooks: HookReceiver, alert_id: int) -> None:
    message = Message(subject=f"Cảnh báo {alert_id}", text="…", data={"alert_id": alert_id})
    row = OutboxRow("chu-tich-ubnd-tinh", "webhook", hooks.url("/zalo"), "vi", message)
    await enqueue_rows(conn, alert_id, "escalated", 1, [row])


async def _until(condition: Callable[[], bool], seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - polls state another task moves
            await asyncio.sleep(0.05)


async def _cut(conn: asyncpg.Connection, role: str) -> None:
    """End the role's sessions: the notifier's pool must reconnect."""
    await conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role
    )


async def test_a_read_only_database_delays_messages_is_reported_and_delivery_resumes(
    database_url: str, hooks: HookReceiver, tmp_path: Path
) -> None:
    conn = await asyncpg.connect(database_url)
    await migrate(conn)
    engineer = await add_key(conn, "engineer", "engineer")
    role = f"notifier_{uuid.uuid4().hex[:8]}"
    await conn.execute(f'CREATE ROLE "{role}" LOGIN')
    await conn.execute(f'GRANT SELECT, UPDATE ON notification_outbox TO "{role}"')
    parts = urlsplit(database_url)
    as_role = urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}"))
    # No broker in this test: the API's dead-letter reader waits for one, nothing else needs it.
    settings = load_settings(
        database_url=database_url, state_dir=tmp_path, kafka_bootstrap=f"127.0.0.1:{free_port()}"
    )
    pool = await asyncpg.create_pool(as_role, min_size=0, max_size=2)
    notifier = Notifier(pool, [WebhookChannel(timeout=5)], interval=0.05, state_dir=tmp_path)
    running = asyncio.create_task(notifier.run())
    with running_api(settings, tmp_path / "logs") as api:
        try:
            await _enqueue(conn, hooks, 1)
            await _until(lambda: len(hooks.received) == 1)
            assert notifier_problems(tmp_path) == {}

            # Failover to a read-only standby: the notifier's next claim is refused.
            await _enqueue(conn, hooks, 2)  # written before the switch: it waits in the outbox
            await conn.execute(f'ALTER ROLE "{role}" SET default_transaction_read_only = on')
            await _cut(conn, role)
            await _until(lambda: bool(notifier_problems(tmp_path)) or running.done())
            assert not running.done(), running.exception()  # the task did not die
            (problem,) = notifier_problems(tmp_path).values()
            assert "failing" in problem and "ReadOnlySQLTransactionError" in problem
            (metrics,) = read_notifier_metrics(tmp_path)
            assert metrics.state == "failing" and metrics.failing_since is not None
            async with api.client() as anonymous, api.client(engineer) as engineer_client:
                health = await anonymous.get("/healthz")
                assert health.status_code == 200  # liveness: the API itself is fine
                assert health.json()["status"] == "degraded"
                assert "ReadOnlySQLTransactionError" in health.json()["notifier"]["notifier"]
                scraped = (await engineer_client.get("/metrics")).text
                assert 'ioc_notifier_delivering{notifier="notifier"} 0.0' in scraped
                assert 'ioc_notifier_up{notifier="notifier",state="failing"} 1.0' in scraped
            status = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "ioc", "status", "--json"],
                env=api_env(settings, free_port()),
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert status.returncode == 1
            (part,) = [
                p for p in json.loads(status.stdout)["parts"] if p["name"] == "notifier notifier"
            ]
            assert not part["healthy"] and "NOT DELIVERING" in part["detail"]
            assert "ReadOnlySQLTransactionError" in part["detail"]
            await asyncio.sleep(0.5)  # backoff: a handful of attempts, not one every 50 ms
            assert len(hooks.received) == 1

            # The primary is back: delivery resumes by itself, and health with it.
            await conn.execute(f'ALTER ROLE "{role}" RESET default_transaction_read_only')
            await _cut(conn, role)
            await _until(lambda: len(hooks.received) == 2, seconds=90)
            assert hooks.received[1].json["alert_id"] == 2
            await _until(lambda: notifier_problems(tmp_path) == {})
            (metrics,) = read_notifier_metrics(tmp_path)
            assert metrics.state == "running" and metrics.delivered == 2
            async with api.client() as anonymous:
                assert (await anonymous.get("/healthz")).json() == {"status": "ok"}
        finally:
            notifier.stop()
            await asyncio.wait_for(running, 30)
            await pool.close()
            await conn.execute(f'REVOKE ALL ON notification_outbox FROM "{role}"')
            await conn.execute(f'DROP ROLE "{role}"')
            await conn.close()
    assert read_notifier_metrics(tmp_path)[0].state == "stopped"
