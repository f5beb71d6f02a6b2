"""Retention: delete the rows of growing tables once they are older than their settings.

`kpi_values` (per resolution), `audit_log`, `alert_history` (of alerts resolved long ago) and
delivered `notification_outbox` rows would otherwise grow forever (`IOC_RETENTION__*`, see
:class:`ioc.config.RetentionSettings`). `ioc alerts run` calls :func:`apply_retention` every
`IOC_RETENTION__EVERY_MINUTES`.

Each run deletes at most ``batches × batch`` rows per table, in short statements, so a first
run on a table that has grown for months neither holds locks long nor delays the alert pass:
the rest goes on later runs.

KPI values: cutoffs fall on a local midnight, so whole hours and days go. Before 1m rows go,
their cutoff is recorded (``alert_cursor`` row ``kpi_values_1m_kept_from``) under the lock
that :func:`ioc.kpis.values.keep_current` takes: late window rows for an hour older than it
are then computed at 1h from the window rows instead of being rolled up from minutes that are
gone (likewise days from hours).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

import asyncpg

from ioc.config import RetentionSettings
from ioc.localtime import local_day_start

__all__ = ["KEPT_FROM", "apply_retention"]

# The alert_cursor rows naming, per resolution, the first bucket still kept.
KEPT_FROM: Final = {"1m": "kpi_values_1m_kept_from", "1h": "kpi_values_1h_kept_from"}
_BATCH: Final = 10_000
_BATCHES: Final = 20  # per table and run: at most 200,000 rows

# One statement per batch: the rows' ctids first (bounded), then the delete.
_DELETES: Final = {
    "audit_log": "DELETE FROM audit_log WHERE ctid = ANY(ARRAY("
    "SELECT ctid FROM audit_log WHERE at < $1 LIMIT $2))",
    "alert_history": "DELETE FROM alert_history WHERE ctid = ANY(ARRAY("
    "SELECT h.ctid FROM alert_history h JOIN alerts a ON a.id = h.alert_id "
    "WHERE a.state = 'resolved' AND a.resolved_at < $1 AND h.at < $1 LIMIT $2))",
    # An open alert's rows stay: their unique key is what keeps a transition sent once.
    "notification_outbox": "DELETE FROM notification_outbox WHERE ctid = ANY(ARRAY("
    "SELECT o.ctid FROM notification_outbox o WHERE o.delivered_at < $1 AND NOT EXISTS ("
    "SELECT 1 FROM alerts a WHERE a.id = o.alert_id AND a.state <> 'resolved') LIMIT $2))",
    # A monthly report's files, once no message still waiting to be sent names them.
    "report_files": "DELETE FROM report_files WHERE ctid = ANY(ARRAY("
    "SELECT r.ctid FROM report_files r WHERE r.made_at < $1 AND NOT EXISTS ("
    "SELECT 1 FROM notification_outbox o WHERE o.delivered_at IS NULL "
    "AND o.payload->'attachments' @> jsonb_build_array(jsonb_build_object("
    "'area', r.area, 'period', r.period))) LIMIT $2))",
}
_KPI_DELETE: Final = (
    "DELETE FROM kpi_values WHERE ctid = ANY(ARRAY("
    "SELECT ctid FROM kpi_values WHERE kpi = $1 AND resolution = $2 AND bucket < $3 LIMIT $4))"
)
# The KPIs present, one index probe each (a loose index scan), not a scan of the table.
_KPIS: Final = """
WITH RECURSIVE k (kpi) AS (
    (SELECT kpi FROM kpi_values ORDER BY kpi LIMIT 1)
    UNION ALL
    SELECT (SELECT kpi FROM kpi_values WHERE kpi > k.kpi ORDER BY kpi LIMIT 1) FROM k
    WHERE k.kpi IS NOT NULL
)
SELECT kpi FROM k WHERE kpi IS NOT NULL
"""


async def apply_retention(
    conn: asyncpg.Connection,
    retention: RetentionSettings,
    now: datetime,
    *,
    batch: int = _BATCH,
    batches: int = _BATCHES,
) -> dict[str, int]:
    """Delete what is older than its retention; return the rows deleted per table.

    Args:
        conn: a connection to a migrated database.
        retention: the settings (a 0 keeps that table's rows).
        now: the present (aware); cutoffs are counted back from its local midnight.
        batch: rows per statement.
        batches: statements per table (and per KPI resolution) in this run.
    """
    today = local_day_start(now)
    deleted: dict[str, int] = {}
    for table, days in (
        ("audit_log", retention.audit_days),
        ("alert_history", retention.alert_history_days),
        ("notification_outbox", retention.outbox_delivered_days),
        ("report_files", retention.outbox_delivered_days),
    ):
        if days:
            deleted[table] = await _in_batches(
                conn, _DELETES[table], (today - timedelta(days=days),), batch, batches
            )
    kpi_days = (
        ("1m", retention.kpi_minute_days),
        ("1h", retention.kpi_hour_days),
        ("1d", retention.kpi_day_days),
    )
    if any(days for _, days in kpi_days):
        deleted["kpi_values"] = 0
        for resolution, days in kpi_days:
            if days:
                cutoff = today - timedelta(days=days)
                deleted["kpi_values"] += await _kpi_values(conn, resolution, cutoff, batch, batches)
    return deleted


async def _in_batches(
    conn: asyncpg.Connection, sql: str, args: tuple[object, ...], batch: int, batches: int
) -> int:
    """Run a bounded delete until it deletes less than a batch, at most ``batches`` times."""
    total = 0
    for _ in range(batches):
        status: str = await conn.execute(sql, *args, batch)
        done = int(status.split()[-1])
        total += done
        if done < batch:
            break
    return total


async def _kpi_values(
    conn: asyncpg.Connection, resolution: str, cutoff: datetime, batch: int, batches: int
) -> int:
    """Delete one resolution's buckets before ``cutoff`` (``batches`` statements in all)."""
    async with conn.transaction():
        # The lock keep_current takes: a pass never rolls up from minutes being deleted.
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext('ioc-kpi-values'))"):
            return 0  # a pass is running; next time
        if resolution in KEPT_FROM:
            await conn.execute(
                "INSERT INTO alert_cursor (name, evaluated_until) VALUES ($1, $2) "
                "ON CONFLICT (name) DO UPDATE SET evaluated_until = "
                "greatest(alert_cursor.evaluated_until, EXCLUDED.evaluated_until)",
                KEPT_FROM[resolution],
                cutoff,
            )
        total, left = 0, batches
        for row in await conn.fetch(_KPIS):
            for _ in range(left):
                left -= 1
                status: str = await conn.execute(_KPI_DELETE, row["kpi"], resolution, cutoff, batch)
                done = int(status.split()[-1])
                total += done
                if done < batch:
                    break
            if not left:
                break
        return total
