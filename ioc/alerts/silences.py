"""Silences: hold a rule's notifications back for a while; the one owner of `silences`.

A silence matches a rule id or a pattern (`network_*`) in one area or everywhere. While it
is in force the rule's alerts still fire, escalate and are kept; their transitions are
recorded with `notified = false` and nobody is told. `ioc alerts silence --for 2h` and
`POST /api/v1/silences` (`minutes`) both call `create`; the evaluator asks `holds`.

A silence set with an area key keeps that key's `scope`: it never holds an escalation to
leaders above that area (the unit being watched cannot hide its own outage from the province).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeAlias

import asyncpg

__all__ = ["Silence", "create", "end", "get", "holds", "in_force"]

# A connection, or a pool (each call is one statement, so no transaction is needed).
Database: TypeAlias = asyncpg.Connection | asyncpg.Pool


@dataclass(frozen=True)
class Silence:
    """One silence.

    Attributes:
        id: its number.
        rule_pattern: a rule id, or a pattern with `*` (`dvc_*`).
        area: the area code it covers, or None for every area.
        starts_at / ends_at: when it holds (`ends_at` excluded).
        reason: why, as its author wrote it.
        created_by: who silenced.
        scope: the area of the key that set it (None: the province or the CLI); it holds no
            escalation to an area outside that scope.
    """

    id: int
    rule_pattern: str
    area: str | None
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str
    scope: str | None = None

    @classmethod
    def _from_row(cls, row: asyncpg.Record) -> Silence:
        return cls(
            id=row["id"],
            rule_pattern=row["rule_pattern"],
            area=row["area"],
            starts_at=row["starts_at"],
            ends_at=row["ends_at"],
            reason=row["reason"],
            created_by=row["created_by"],
            scope=row["scope"],
        )


async def create(
    db: Database,
    rule_pattern: str,
    length: timedelta,
    *,
    reason: str,
    by: str,
    area: str | None = None,
    scope: str | None = None,
    now: datetime | None = None,
) -> Silence:
    """Silence `rule_pattern` (in `area`, or everywhere) from `now` for `length`.

    Args:
        db: a connection or a pool.
        rule_pattern: a rule id or a pattern such as `dvc_*`.
        length: how long it holds.
        reason: why (kept with the silence).
        by: who silences.
        area: only this area code (None: every area).
        scope: the area the author's key is limited to (None: the whole province).
        now: when it starts (default: now).
    """
    starts = now or datetime.now(UTC)
    row = await db.fetchrow(
        "INSERT INTO silences (rule_pattern, area, starts_at, ends_at, reason, created_by, scope) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        rule_pattern,
        area,
        starts,
        starts + length,
        reason,
        by,
        scope,
    )
    assert row is not None  # INSERT … RETURNING returns the row
    return Silence._from_row(row)


async def get(db: Database, silence_id: int) -> Silence | None:
    """One silence, in force or not (None: no such silence)."""
    if not 1 <= silence_id < 2**63:  # bigint: anything else cannot exist
        return None
    row = await db.fetchrow("SELECT * FROM silences WHERE id = $1", silence_id)
    return None if row is None else Silence._from_row(row)


async def in_force(db: Database) -> list[Silence]:
    """The silences not ended yet (including those that start later), ending soonest first."""
    rows = await db.fetch("SELECT * FROM silences WHERE ends_at > now() ORDER BY ends_at, id")
    return [Silence._from_row(r) for r in rows]


async def end(db: Database, silence_id: int) -> None:
    """End a silence now (kept, for the record: its end moves to now)."""
    # A silence ended before it started keeps a positive length: ends_at > starts_at.
    await db.execute(
        "UPDATE silences SET ends_at = greatest(starts_at + interval '1 microsecond', now()) "
        "WHERE id = $1",
        silence_id,
    )


async def holds(
    conn: asyncpg.Connection,
    rule_id: str,
    area: str,
    at: datetime,
    reach: Sequence[str] | None = None,
) -> bool:
    """True if a silence holds back the notifications of `rule_id` in `area` at `at`.

    Args:
        conn: a connection.
        rule_id: the alert's rule.
        area: the alert's area.
        at: when the transition happens.
        reach: for an escalated alert, the area it is escalated to and that area's ancestors:
            only a silence whose scope is one of them (or the whole province) holds it back.
            None: not escalated, any matching silence holds.
    """
    silenced = await conn.fetchval(
        "SELECT count(*) FROM silences WHERE starts_at <= $3 AND ends_at > $3 "
        "AND $1 LIKE replace(rule_pattern, '*', '%') AND (area IS NULL OR area = $2) "
        "AND ($4::text[] IS NULL OR scope IS NULL OR scope = ANY($4::text[]))",
        rule_id,
        area,
        at,
        list(reach) if reach is not None else None,
    )
    return bool(silenced)
