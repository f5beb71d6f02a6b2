"""Window rows of one metric: the 1m windows or their 1h/1d roll-ups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from ioc.api.queries.common import page
from ioc.kpis.values import Resolution

__all__ = ["windows_page"]

# Table and time column of each resolution; names come from here, never from input.
_TABLES = {
    "1m": ("window_metrics", "window_start"),
    "1h": ("window_metrics_1h", "bucket"),
    "1d": ("window_metrics_1d", "bucket"),
}


async def windows_page(
    conn: asyncpg.Connection,
    metric: str,
    resolution: Resolution,
    first: datetime,
    last: datetime,
    codes: list[str] | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """The metric's rows in [first, last) of the areas ``codes`` (None: all), one page."""
    table, column = _TABLES[resolution]
    where = (
        f"WHERE metric = $1 AND {column} >= $2 AND {column} < $3 "
        "AND ($4::text[] IS NULL OR area = ANY($4::text[]))"
    )
    count_sql = f"SELECT count(*) FROM {table} {where}"  # noqa: S608
    total = await conn.fetchval(count_sql, metric, first, last, codes)
    rows = await conn.fetch(
        f"SELECT {column} AS window_start, metric, area, count, sum, min, max "  # noqa: S608
        f"FROM {table} {where} ORDER BY {column}, area LIMIT $5 OFFSET $6",
        metric,
        first,
        last,
        codes,
        limit,
        offset,
    )
    items = [dict(r) | {"window_start": r["window_start"].isoformat()} for r in rows]
    return page(items, limit, offset, total)
