"""Silences: those in force, one by id, a new one, and ending one now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

__all__ = ["create", "end", "find", "in_force", "silence_json"]


def silence_json(row: asyncpg.Record) -> dict[str, Any]:
    """A silence as the API shows it."""
    return {
        "id": row["id"],
        "rule": row["rule_pattern"],
        "area": row["area"],
        "starts_at": row["starts_at"].isoformat(),
        "ends_at": row["ends_at"].isoformat(),
        "reason": row["reason"],
        "created_by": row["created_by"],
    }


async def in_force(conn: asyncpg.Connection) -> dict[str, Any]:
    """Every silence in force now, ending soonest first."""
    rows = await conn.fetch("SELECT * FROM silences WHERE ends_at > now() ORDER BY ends_at, id")
    return {"items": [silence_json(r) for r in rows]}


async def find(conn: asyncpg.Connection, silence_id: int) -> asyncpg.Record | None:
    """The stored silence, or None (also for an id no bigint can hold)."""
    if not 1 <= silence_id < 2**63:
        return None
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM silences WHERE id = $1", silence_id
    )
    return row


async def create(
    conn: asyncpg.Connection,
    rule: str,
    area: str | None,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    created_by: str,
) -> dict[str, Any]:
    """Store a silence; return it as the API shows it."""
    row = await conn.fetchrow(
        "INSERT INTO silences (rule_pattern, area, starts_at, ends_at, reason, created_by) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        rule,
        area,
        starts_at,
        ends_at,
        reason,
        created_by,
    )
    assert row is not None  # INSERT … RETURNING returns the row
    return silence_json(row)


async def end(conn: asyncpg.Connection, silence_id: int) -> None:
    """End a silence now (never before it started: ends_at stays after starts_at)."""
    await conn.execute(
        "UPDATE silences SET ends_at = greatest(starts_at + interval '1 microsecond', now()) "
        "WHERE id = $1",
        silence_id,
    )
