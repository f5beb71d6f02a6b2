"""Retention on real PostgreSQL: the growing tables lose their old rows, nothing else does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from ioc.areas import load_areas
from ioc.config import RetentionSettings
from ioc.db import migrate, sync_areas
from ioc.db.retention import apply_retention
from ioc.kpis import load_kpis
from ioc.kpis.values import compute, keep_current

NOW = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=500)
WARD = "11953"
KPI = "network_special_availability"


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    await migrate(connection)
    await sync_areas(connection, load_areas())
    yield connection
    await connection.close()


async def _alert(conn: asyncpg.Connection, state: str, at: datetime) -> int:
    alert_id: int = await conn.fetchval(
        "INSERT INTO alerts (rule_id, area, severity, kpi_id, state, started_at, fired_at, "
        "resolved_at) VALUES ('r', $1, 'warning', 'k', $2, $3, $3, $4) RETURNING id",
        WARD,
        state,
        at,
        at + timedelta(hours=1) if state == "resolved" else None,
    )
    await conn.execute(
        "INSERT INTO alert_history (alert_id, kind, at, level, notified) "
        "VALUES ($1, 'fired', $2, 0, true)",
        alert_id,
        at,
    )
    return alert_id


async def _outbox(conn: asyncpg.Connection, alert_id: int, delivered: datetime | None) -> int:
    row_id: int = await conn.fetchval(
        "INSERT INTO notification_outbox (alert_id, transition, recipient, channel, address, "
        "language, subject, body, payload, created_at, delivered_at) VALUES "
        "($1, 'fired', $2, 'email', 'a@b.invalid', 'vi', 's', 'b', '{}', $3, $4) RETURNING id",
        alert_id,
        f"r{delivered}",
        delivered or OLD,
        delivered,
    )
    return row_id


async def test_old_rows_go_recent_open_and_undelivered_ones_stay(
    conn: asyncpg.Connection,
) -> None:
    await conn.executemany(
        "INSERT INTO audit_log (at, action, outcome, status) VALUES ($1, 'x', 'ok', 200)",
        [(OLD,), (OLD + timedelta(days=1),), (NOW - timedelta(days=1),)],
    )
    resolved = await _alert(conn, "resolved", OLD)
    still_open = await _alert(conn, "firing", OLD)
    recent = await _alert(conn, "resolved", NOW - timedelta(days=2))
    old_delivery = NOW - timedelta(days=40)
    gone_outbox = await _outbox(conn, resolved, old_delivery)
    kept_outbox = [
        await _outbox(conn, still_open, old_delivery),  # its alert is open: the key stays
        await _outbox(conn, recent, None),  # never delivered
        await _outbox(conn, recent, NOW - timedelta(days=1)),
    ]
    minute_rows = [(KPI, "1m", WARD, NOW - timedelta(days=d), 1.0, 1.0) for d in (40, 36, 1)]
    await conn.executemany(
        "INSERT INTO kpi_values (kpi, resolution, area, bucket, numerator, denominator) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        [*minute_rows, (KPI, "1h", WARD, NOW - timedelta(days=40), 60.0, 60.0)],
    )

    # Bounded: one row per statement, one statement per table in this run.
    first = await apply_retention(conn, RetentionSettings(), NOW, batch=1, batches=1)
    assert first == {
        "audit_log": 1,
        "alert_history": 1,
        "notification_outbox": 1,
        "report_files": 0,
        "kpi_values": 1,
    }
    rest = await apply_retention(conn, RetentionSettings(), NOW)
    assert rest == {
        "audit_log": 1,
        "alert_history": 0,
        "notification_outbox": 0,
        "report_files": 0,
        "kpi_values": 1,
    }
    assert await apply_retention(conn, RetentionSettings(), NOW) == dict.fromkeys(rest, 0)

    assert await conn.fetchval("SELECT count(*) FROM audit_log") == 1
    history = await conn.fetch("SELECT alert_id FROM alert_history ORDER BY alert_id")
    assert [r["alert_id"] for r in history] == [still_open, recent]
    assert await conn.fetchval("SELECT count(*) FROM alerts") == 3  # the alerts themselves stay
    outbox = {r["id"] for r in await conn.fetch("SELECT id FROM notification_outbox")}
    assert outbox == set(kept_outbox) and gone_outbox not in outbox
    kpis = await conn.fetch("SELECT resolution, bucket FROM kpi_values ORDER BY bucket")
    assert [(r["resolution"], r["bucket"]) for r in kpis] == [
        ("1h", NOW - timedelta(days=40)),  # hours are kept forever by default
        ("1m", NOW - timedelta(days=1)),
    ]
    # Zero keeps everything.
    assert await apply_retention(conn, RetentionSettings(audit_days=0, kpi_minute_days=0), NOW) == {
        "alert_history": 0,
        "notification_outbox": 0,
        "report_files": 0,
    }


async def test_a_late_window_for_an_hour_whose_minutes_are_gone_keeps_the_hour_whole(
    conn: asyncpg.Connection,
) -> None:
    """Late data for an old hour: rolled up from the few minutes recomputed, the hour would
    shrink to them; it is computed from the window rows instead."""
    catalogue = load_kpis()
    now = datetime.now(UTC)
    await keep_current(conn, catalogue)  # the first pass: the cursor is set
    hour = (now - timedelta(days=40)).replace(minute=0, second=0, microsecond=0)
    rows = []
    for minute in range(60):
        start = hour + timedelta(minutes=minute)
        rows += [
            (start, "network.special_network.samples", WARD, 4, 4.0),
            (start, "network.special_network.up", WARD, 3, 3.0),
        ]
    await conn.executemany(
        "INSERT INTO window_metrics (window_start, metric, area, count, sum, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, now() - interval '1 day')",
        rows,
    )
    for resolution in ("1m", "1h"):
        await compute(conn, catalogue, hour, hour + timedelta(hours=1), resolution)
    deleted = await apply_retention(conn, RetentionSettings(), now)
    assert deleted["kpi_values"] >= 60  # the hour's minutes, in the ward and above it

    # One late sample joins the hour's first minute.
    await conn.execute(
        "UPDATE window_metrics SET count = count + 1, sum = sum + 1, updated_at = now() "
        "WHERE window_start = $1 AND metric = 'network.special_network.samples' AND area = $2",
        hour,
        WARD,
    )
    await keep_current(conn, catalogue)
    value = await conn.fetchrow(
        "SELECT numerator, denominator FROM kpi_values "
        "WHERE kpi = $1 AND resolution = '1h' AND area = $2 AND bucket = $3",
        KPI,
        WARD,
        hour,
    )
    assert (value["numerator"], value["denominator"]) == (180.0, 241.0)


async def test_report_files_go_once_old_and_no_waiting_message_names_them(
    conn: asyncpg.Connection,
) -> None:
    """A monthly report's stored files outlive every message still to send them, and no more."""
    for period, made in (("2025-01", OLD), ("2025-02", OLD), ("2026-11", NOW)):
        for fmt in ("xlsx", "pdf"):
            await conn.execute(
                "INSERT INTO report_files (area, period, format, filename, media_type, content, "
                "made_at) VALUES ('33', $1, $2, 'f', 'm', '\\x00'::bytea, $3)",
                period,
                fmt,
                made,
            )
    # An old report whose e-mail still waits (the mail server away for weeks) keeps its files.
    await conn.execute(
        "INSERT INTO notification_outbox (alert_id, transition, recipient, channel, address, "
        "language, subject, body, payload, created_at) VALUES (0, 'report:2025-02', 'r', 'email', "
        "'a@b.invalid', 'vi', 's', 'b', $1::jsonb, $2)",
        '{"attachments": [{"area": "33", "period": "2025-02", "format": "xlsx"}]}',
        OLD,
    )
    deleted = await apply_retention(conn, RetentionSettings(), NOW)
    assert deleted["report_files"] == 2
    left = await conn.fetch("SELECT DISTINCT period FROM report_files ORDER BY 1")
    assert [r["period"] for r in left] == ["2025-02", "2026-11"]
