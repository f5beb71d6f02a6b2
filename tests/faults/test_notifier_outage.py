"""The notifier survives a database that turns read-only (a failover to a standby) and says so.

Real PostgreSQL: the database is switched to read-only transactions and the notifier's
connections are cut, so its next claim fails with `ReadOnlySQLTransactionError` (SQLSTATE
25006, what a hot standby answers). The notifier keeps running, reports itself failing in
its health file (what `ioc status`, `/healthz` and `/metrics` read), and delivers the message
that waited once the database is writable again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest

from ioc.db import migrate
from ioc.notify.channels import WebhookChannel
from ioc.notify.notifier import Notifier
from ioc.notify.outbox import OutboxRow, enqueue_rows
from ioc.notify.templates import Message
from ioc.telemetry import notifier_problems, read_notifier_metrics
from tests._notify import HookReceiver


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


async def _cut_others(conn: asyncpg.Connection) -> None:
    """End every other session on this database: the notifier's pool must reconnect."""
    await conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )


async def test_a_read_only_database_delays_messages_is_reported_and_delivery_resumes(
    database_url: str, hooks: HookReceiver, tmp_path: Path
) -> None:
    conn = await asyncpg.connect(database_url)
    await migrate(conn)
    name = await conn.fetchval("SELECT current_database()")
    pool = await asyncpg.create_pool(database_url, min_size=0, max_size=2)
    notifier = Notifier(pool, [WebhookChannel(timeout=5)], interval=0.05, state_dir=tmp_path)
    running = asyncio.create_task(notifier.run())
    try:
        await _enqueue(conn, hooks, 1)
        await _until(lambda: len(hooks.received) == 1)
        assert notifier_problems(tmp_path) == {}

        # Failover to a read-only standby: the notifier's next claim is refused.
        await _enqueue(conn, hooks, 2)  # written before the switch: it waits in the outbox
        await conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        await _cut_others(conn)
        await _until(lambda: bool(notifier_problems(tmp_path)) or running.done())
        assert not running.done(), running.exception()  # the task did not die
        (problem,) = notifier_problems(tmp_path).values()
        assert "failing" in problem and "ReadOnlySQLTransactionError" in problem
        (metrics,) = read_notifier_metrics(tmp_path)
        assert metrics.state == "failing" and metrics.failing_since is not None
        await asyncio.sleep(0.5)  # backoff: a handful of attempts, not one every 50 ms
        assert len(hooks.received) == 1

        # The primary is back: delivery resumes by itself, and health with it.
        await conn.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
        await _cut_others(conn)
        await _until(lambda: len(hooks.received) == 2, seconds=90)
        assert hooks.received[1].json["alert_id"] == 2
        await _until(lambda: notifier_problems(tmp_path) == {})
        (metrics,) = read_notifier_metrics(tmp_path)
        assert metrics.state == "running" and metrics.delivered == 2
    finally:
        notifier.stop()
        await asyncio.wait_for(running, 30)
        await pool.close()
        await conn.close()
    assert read_notifier_metrics(tmp_path)[0].state == "stopped"
