"""An acknowledgement that lands while an evaluator pass runs is honoured by that pass.

The race is forced on real PostgreSQL: another session holds an exclusive lock on
`kpi_values`, so the pass stops after it read the open alerts (still firing) and before it
escalates; the alert is acknowledged from a third connection meanwhile; then the pass goes
on. Nobody above the ward may be told of an alert somebody is already on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from ioc.alerts.engine import Evaluator
from ioc.alerts.model import TransitionKind
from ioc.alerts.rules import load_rules
from ioc.areas import load_areas
from ioc.db import migrate, sync_areas
from ioc.kpis import load_kpis
from ioc.notify.routing import load_recipients
from ioc.services import outbox_sink

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 08:00 in Hưng Yên
MINUTE = timedelta(minutes=1)
GRACE = timedelta(seconds=15)
WARD = "11953"  # Phường Phố Hiến
RULES = """rules:
  - id: network_special_down
    kind: threshold
    kpi: network_special_availability
    below: 0.98
    for_windows: 3
    clear_windows: 2
    severity: critical
    levels: [commune]
    escalate_after_minutes: 5
"""


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    await migrate(connection)
    await sync_areas(connection, load_areas())
    yield connection
    await connection.close()


def _evaluator(tmp_path: Path) -> Evaluator:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES, encoding="utf-8")
    catalogue = load_kpis()
    areas = load_areas()
    return Evaluator(
        catalogue,
        load_rules(path, {k.id for k in catalogue}),
        areas,
        window=MINUTE,
        grace=GRACE,
        notify=outbox_sink(load_recipients(None, areas), areas),
    )


async def _write_down_minute(conn: asyncpg.Connection, minute: int) -> None:
    """The ward's special-network points all down in this minute."""
    await conn.execute(
        "INSERT INTO window_metrics (window_start, metric, area, count, sum, min, max) "
        "VALUES ($1, 'network.special_network.samples', $2, 4, 4.0, 1.0, 1.0)",
        T0 + minute * MINUTE,
        WARD,
    )


async def _blocked_on_kpi_values(conn: asyncpg.Connection) -> bool:
    waiting: int = await conn.fetchval(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'kpi_values'::regclass"
    )
    return waiting > 0


async def test_an_alert_acknowledged_during_a_pass_is_not_escalated(
    conn: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    evaluator = _evaluator(tmp_path)
    fired = []
    for minute in range(0, 5):  # fires at 08:03; escalation due at 08:08
        await _write_down_minute(conn, minute)
        fired += await evaluator.run_once(conn, T0 + (minute + 1) * MINUTE + GRACE)
    assert [(t.area, t.kind) for t in fired] == [(WARD, TransitionKind.FIRED)]
    alert_id = fired[0].alert_id

    # The next pass is due to escalate and has windows to compute: hold it there, between
    # reading the open alerts and escalating.
    holder = await asyncpg.connect(database_url)
    acker = await asyncpg.connect(database_url)
    passing = await asyncpg.connect(database_url)
    try:
        hold = holder.transaction()
        await hold.start()
        await holder.execute("LOCK TABLE kpi_values IN ACCESS EXCLUSIVE MODE")
        running = asyncio.create_task(evaluator.run_once(passing, T0 + 9 * MINUTE + GRACE))
        async with asyncio.timeout(30):
            while not await _blocked_on_kpi_values(acker):  # noqa: ASYNC110 - polls pg_locks
                await asyncio.sleep(0.05)
        # The pass has read the alert as firing; the duty officer acknowledges it now.
        await evaluator.acknowledge(acker, alert_id, "Trực ban IOC", T0 + 9 * MINUTE)
        await hold.rollback()
        transitions = await asyncio.wait_for(running, 30)
    finally:
        for c in (holder, acker, passing):
            await c.close()

    assert not [t for t in transitions if t.kind is TransitionKind.ESCALATED]
    messages = await conn.fetch(
        "SELECT transition, level, recipient FROM notification_outbox WHERE alert_id = $1",
        alert_id,
    )
    assert {r["transition"] for r in messages} == {"fired", "acknowledged"}
    assert {r["level"] for r in messages} == {0}  # the province's leaders were not told
    history = await conn.fetch(
        "SELECT kind FROM alert_history WHERE alert_id = $1 ORDER BY id", alert_id
    )
    assert [r["kind"] for r in history] == ["fired", "acknowledged"]
    row = await conn.fetchrow("SELECT state, level FROM alerts WHERE id = $1", alert_id)
    assert (row["state"], row["level"]) == ("acknowledged", 0)
