"""PostgreSQL out of connections: the alert service waits, says so, and carries on.

Every connection the server allows is held by the test (superuser reserve included), so
`ioc alerts run`'s evaluator and notifier get `TooManyConnectionsError` from their first
connect. Neither dies; the notifier reports itself failing (what `ioc status`, `/healthz` and
`/metrics` read); once connections are free again the evaluator passes and the notifier
is healthy, without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import asyncpg
import pytest

from ioc.areas import load_areas
from ioc.config import load_settings
from ioc.db import migrate, sync_areas
from ioc.services import build_evaluator, run_alerts
from ioc.telemetry import notifier_problems, read_notifier_metrics


async def _hold_every_connection(url: str) -> list[asyncpg.Connection]:
    held: list[asyncpg.Connection] = []
    while True:
        try:
            held.append(await asyncpg.connect(url))
        except asyncpg.TooManyConnectionsError:
            return held
        except asyncpg.PostgresError:
            return held  # "remaining connection slots are reserved": full for non-superusers
        if len(held) > 1_000:
            pytest.fail("the server allows more than 1,000 connections")


async def _until(condition: object, seconds: float = 60) -> None:
    async with asyncio.timeout(seconds):
        while not (callable(condition) and await condition()):  # noqa: ASYNC110 - polls
            await asyncio.sleep(0.1)


async def test_alert_service_waits_for_a_connection_and_resumes(
    database_url: str, tmp_path: Path
) -> None:
    settings = load_settings(
        database_url=database_url,
        state_dir=tmp_path / "state",
        alerts={"evaluate_every_seconds": 0.2},
        notify={"poll_seconds": 0.1},
    )
    conn = await asyncpg.connect(database_url)
    await migrate(conn)
    await sync_areas(conn, load_areas())
    await conn.close()

    held = await _hold_every_connection(database_url)
    stop = asyncio.Event()
    service = asyncio.create_task(run_alerts(settings, build_evaluator(settings), stop))
    try:

        async def notifier_failing() -> bool:
            return bool(notifier_problems(settings.state_dir)) or service.done()

        await _until(notifier_failing)
        assert not service.done()
        (problem,) = notifier_problems(settings.state_dir).values()
        assert "TooManyConnectionsError" in problem or "connection slots" in problem

        # Connections free again: both carry on by themselves.
        for c in held[: len(held) // 2]:
            await c.close()
        held = held[len(held) // 2 :]

        async def evaluated() -> bool:
            probe = await asyncpg.connect(database_url, timeout=5)
            try:
                found = await probe.fetchval("SELECT 1 FROM alert_cursor WHERE name = 'main'")
                return found is not None
            finally:
                await probe.close()

        await _until(evaluated)

        async def notifier_healthy() -> bool:
            return notifier_problems(settings.state_dir) == {}

        await _until(notifier_healthy, seconds=90)
        (metrics,) = read_notifier_metrics(settings.state_dir)
        assert metrics.state == "running"
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(service, 30)
        for c in held:
            await c.close()
