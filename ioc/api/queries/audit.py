"""The audit log: one line per refusal and per change, and its pages for admins."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from ioc.api.queries.common import page

__all__ = ["audit_page", "write_line"]


async def write_line(
    conn: asyncpg.Connection | asyncpg.Pool,
    key_id: str | None,
    actor: str | None,
    role: str | None,
    action: str,
    target: str,
    outcome: str,
    status: int,
    client: str,
    detail: dict[str, Any],
) -> None:
    """Append one audit line."""
    await conn.execute(
        "INSERT INTO audit_log (key_id, actor, role, action, target, outcome, status, "
        "client, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)",
        key_id,
        actor,
        role,
        action,
        target,
        outcome,
        status,
        client,
        json.dumps(detail, ensure_ascii=False),
    )


async def audit_page(
    conn: asyncpg.Connection, action: str | None, limit: int, offset: int
) -> dict[str, Any]:
    """Audit lines (of one action, or all), newest first, one page."""
    total = await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE $1::text IS NULL OR action = $1", action
    )
    rows = await conn.fetch(
        "SELECT at, actor, role, action, target, outcome, status, client, detail::text "
        "AS detail FROM audit_log WHERE $1::text IS NULL OR action = $1 "
        "ORDER BY id DESC LIMIT $2 OFFSET $3",
        action,
        limit,
        offset,
    )
    items = [dict(r) | {"at": r["at"].isoformat()} for r in rows]
    return page(items, limit, offset, total)
