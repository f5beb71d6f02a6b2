"""What the live hub polls: has ``kpi_values`` changed, which alert transitions are new."""

from __future__ import annotations

from datetime import datetime

import asyncpg

__all__ = ["kpis_mark", "last_transition", "transitions_after"]


async def kpis_mark(conn: asyncpg.Connection) -> datetime | None:
    """When the hourly KPI values were last computed: a change means new tiles."""
    mark: datetime | None = await conn.fetchval(
        "SELECT max(computed_at) FROM kpi_values WHERE resolution = '1h'"
    )
    return mark


async def last_transition(conn: asyncpg.Connection) -> int:
    """The newest ``alert_history`` id (0: none yet)."""
    newest: int = await conn.fetchval("SELECT coalesce(max(id), 0) FROM alert_history")
    return newest


async def transitions_after(conn: asyncpg.Connection, after: int) -> list[asyncpg.Record]:
    """Alert transitions newer than ``after``, oldest first: each its kind and the alert row."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT h.id AS history_id, h.kind, a.* FROM alert_history h "
        "JOIN alerts a ON a.id = h.alert_id WHERE h.id > $1 ORDER BY h.id LIMIT 500",
        after,
    )
    return rows
