"""The alert engine's tables: rule states, alerts, their history and the evaluation cursor.

Every function runs on the caller's connection, inside the pass's transaction (the engine
opens it), so a pass writes all of this or nothing. The tables (migration 0004):

- `alert_rule_state`: a (rule, area)'s streaks and anomaly EWMA (`ioc.alerts.judge.State`);
- `alerts`: one row per alert lifecycle; `alert_history`: one row per transition;
- `alert_cursor`: how far the windows have been evaluated (row `main`), and when each period
  rule was last evaluated (rows `period:<rule id>`).

Silences, the one other table the engine reads, have their own owner: `ioc.alerts.silences`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from ioc.alerts.judge import State
from ioc.alerts.model import AlertState, Contributor, EntityAtFault, TransitionKind
from ioc.alerts.rules import Rule

__all__ = [
    "OpenAlert",
    "QuietArea",
    "acknowledge",
    "escalate",
    "fire",
    "last_reports",
    "load_open",
    "load_states",
    "lock",
    "period_sums",
    "quiet_areas",
    "read_cursor",
    "record",
    "resolve",
    "save",
    "window_values",
    "write_cursor",
]


@dataclass
class OpenAlert:
    """An alert that is not resolved yet."""

    id: int
    rule_id: str
    area: str
    state: AlertState
    level: int
    since: datetime
    fired_at: datetime
    last_value: float | None
    target: float | None


async def lock(conn: asyncpg.Connection) -> None:
    """One evaluator at a time, whatever the number of processes (until the transaction ends)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('ioc-alerts'))")


@dataclass(frozen=True)
class QuietArea:
    """A no-data rule's area that is silent while its feed is expected to be quiet."""

    rule_id: str
    area: str
    since: datetime
    reason_vi: str


async def read_cursor(conn: asyncpg.Connection, name: str = "main") -> datetime | None:
    """The end of the windows evaluated so far (None before the first pass).

    Args:
        conn: the pass's connection.
        name: ``main`` for the windows; ``period:<rule id>`` for a period rule's last
            evaluation.
    """
    cursor: datetime | None = await conn.fetchval(
        "SELECT evaluated_until FROM alert_cursor WHERE name = $1", name
    )
    return cursor


async def write_cursor(conn: asyncpg.Connection, name: str, at: datetime) -> None:
    """Set one cursor row (see :func:`read_cursor`)."""
    await conn.execute(
        "INSERT INTO alert_cursor (name, evaluated_until) VALUES ($1, $2) "
        "ON CONFLICT (name) DO UPDATE SET evaluated_until = EXCLUDED.evaluated_until",
        name,
        at,
    )


async def quiet_areas(conn: asyncpg.Connection) -> list[QuietArea]:
    """The (no-data rule, area)s "quiet as expected" as the last pass left them."""
    rows = await conn.fetch(
        "SELECT rule_id, area, quiet_since, quiet_reason FROM alert_rule_state "
        "WHERE quiet_since IS NOT NULL ORDER BY rule_id, area"
    )
    return [
        QuietArea(r["rule_id"], r["area"], r["quiet_since"], r["quiet_reason"] or "") for r in rows
    ]


async def period_sums(
    conn: asyncpg.Connection, kpi_id: str, start: datetime, end: datetime
) -> dict[str, tuple[float, float]]:
    """A ratio-of-sums KPI's (numerator, denominator) per area over the stored local days.

    The days of [start, end) at resolution ``1d``: the sums :func:`ioc.kpis.values.totals`
    gives per area, read for every area in one statement.
    """
    rows = await conn.fetch(
        "SELECT area, sum(numerator) AS n, sum(denominator) AS d FROM kpi_values "
        "WHERE kpi = $1 AND resolution = '1d' AND bucket >= $2 AND bucket < $3 GROUP BY area",
        kpi_id,
        start,
        end,
    )
    return {r["area"]: (float(r["n"]), float(r["d"])) for r in rows}


async def window_values(
    conn: asyncpg.Connection, start: datetime, end: datetime
) -> dict[datetime, dict[tuple[str, str], float | None]]:
    """The 1m KPI values of [start, end): window start → (kpi, area) → value (None: no data)."""
    rows = await conn.fetch(
        "SELECT kpi, area, bucket, numerator, denominator FROM kpi_values "
        "WHERE resolution = '1m' AND bucket >= $1 AND bucket < $2",
        start,
        end,
    )
    out: dict[datetime, dict[tuple[str, str], float | None]] = {}
    for r in rows:
        value = r["numerator"] / r["denominator"] if r["denominator"] else None
        out.setdefault(r["bucket"], {})[(r["kpi"], r["area"])] = value
    return out


async def last_reports(
    conn: asyncpg.Connection, feed: str, since: datetime
) -> list[tuple[str, datetime]]:
    """(area, start of its newest window) per leaf area the feed reported from since `since`."""
    rows = await conn.fetch(
        "SELECT area, max(window_start) AS last FROM window_metrics "
        "WHERE metric LIKE $1 AND window_start >= $2 GROUP BY area",
        f"{feed}.%",
        since,
    )
    return [(r["area"], r["last"]) for r in rows]


async def load_states(conn: asyncpg.Connection) -> dict[tuple[str, str], State]:
    """Every (rule, area)'s state as the last pass left it."""
    rows = await conn.fetch("SELECT * FROM alert_rule_state")
    return {
        (r["rule_id"], r["area"]): State(
            r["breach_streak"],
            r["clear_streak"],
            r["first_breach"],
            r["ewma_mean"],
            r["ewma_var"],
            r["ewma_n"],
            r["quiet_since"],
            r["quiet_reason"],
        )
        for r in rows
    }


async def load_open(conn: asyncpg.Connection) -> dict[tuple[str, str], OpenAlert]:
    """The alerts not resolved yet, by (rule, area)."""
    rows = await conn.fetch("SELECT * FROM alerts WHERE state <> 'resolved'")
    return {
        (r["rule_id"], r["area"]): OpenAlert(
            r["id"],
            r["rule_id"],
            r["area"],
            AlertState(r["state"]),
            r["level"],
            r["started_at"],
            r["fired_at"],
            r["last_value"],
            r["target"],
        )
        for r in rows
    }


async def save(
    conn: asyncpg.Connection,
    states: dict[tuple[str, str], State],
    open_alerts: Sequence[OpenAlert],
    cursor: datetime,
) -> None:
    """Write what a pass changed: the states, the open alerts' values and the cursor."""
    if states:
        keys = list(states)
        rows = [states[k] for k in keys]
        await conn.execute(
            "INSERT INTO alert_rule_state AS s (rule_id, area, breach_streak, clear_streak, "
            "first_breach, ewma_mean, ewma_var, ewma_n, quiet_since, quiet_reason) "
            "SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], "
            "$5::timestamptz[], $6::float8[], $7::float8[], $8::int[], $9::timestamptz[], "
            "$10::text[]) "
            "ON CONFLICT (rule_id, area) DO UPDATE SET breach_streak = EXCLUDED.breach_streak, "
            "clear_streak = EXCLUDED.clear_streak, first_breach = EXCLUDED.first_breach, "
            "ewma_mean = EXCLUDED.ewma_mean, ewma_var = EXCLUDED.ewma_var, "
            "ewma_n = EXCLUDED.ewma_n, quiet_since = EXCLUDED.quiet_since, "
            "quiet_reason = EXCLUDED.quiet_reason",
            [k[0] for k in keys],
            [k[1] for k in keys],
            [s.breach_streak for s in rows],
            [s.clear_streak for s in rows],
            [s.first_breach for s in rows],
            [s.mean for s in rows],
            [s.var for s in rows],
            [s.n for s in rows],
            [s.quiet_since for s in rows],
            [s.quiet_reason for s in rows],
        )
    for alert in open_alerts:
        await conn.execute(
            "UPDATE alerts SET last_value = $2 WHERE id = $1", alert.id, alert.last_value
        )
    await write_cursor(conn, "main", cursor)


async def fire(
    conn: asyncpg.Connection,
    rule: Rule,
    area: str,
    value: float | None,
    target: float | None,
    since: datetime,
    at: datetime,
    contributors: Sequence[Contributor],
    entities: Sequence[EntityAtFault],
    entities_down: int,
) -> int:
    """Insert a firing alert (level 0); returns its id."""
    alert_id: int = await conn.fetchval(
        "INSERT INTO alerts (rule_id, area, severity, kpi_id, state, level, started_at, "
        "fired_at, last_value, target, contributors, entities, entities_down) "
        "VALUES ($1, $2, $3, $4, 'firing', 0, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11) "
        "RETURNING id",
        rule.id,
        area,
        rule.severity.value,
        rule.kpi,
        since,
        at,
        value,
        target,
        json.dumps([c.__dict__ for c in contributors], ensure_ascii=False),
        json.dumps([_entity_json(e) for e in entities], ensure_ascii=False),
        entities_down,
    )
    return alert_id


async def resolve(
    conn: asyncpg.Connection, alert_id: int, at: datetime, value: float | None
) -> None:
    """Mark an alert resolved at `at` with its last value."""
    await conn.execute(
        "UPDATE alerts SET state = 'resolved', resolved_at = $2, last_value = $3 WHERE id = $1",
        alert_id,
        at,
        value,
    )


async def escalate(
    conn: asyncpg.Connection, alert_id: int, level: int
) -> tuple[tuple[EntityAtFault, ...], int] | None:
    """Move a still firing alert to `level`; returns its points at fault and their count.

    The pass read its open alerts at its start; somebody may have acknowledged (or the pass
    resolved) this one since. The statement re-reads the row as committed now, and waits
    for an acknowledgement in flight, so an acknowledged alert is never escalated.

    Returns:
        The points at fault stored with the alert and their count, or None: the alert is
        no longer firing (acknowledged or resolved meanwhile) and was left as it is.
    """
    stored = await conn.fetchrow(
        "UPDATE alerts SET level = $2 WHERE id = $1 AND state = 'firing' "
        "RETURNING entities, entities_down",
        alert_id,
        level,
    )
    if stored is None:
        return None
    return _entities_from_json(stored["entities"]), stored["entities_down"]


async def acknowledge(
    conn: asyncpg.Connection, alert_id: int, actor: str, at: datetime
) -> asyncpg.Record:
    """Mark a firing alert acknowledged by `actor`; returns its row.

    Raises:
        LookupError: no such alert, or it is already resolved or acknowledged.
    """
    row: asyncpg.Record | None = await conn.fetchrow(
        "UPDATE alerts SET state = 'acknowledged', acknowledged_at = $2, "
        "acknowledged_by = $3 WHERE id = $1 AND state = 'firing' RETURNING *",
        alert_id,
        at,
        actor,
    )
    if row is None:
        state = await conn.fetchval("SELECT state FROM alerts WHERE id = $1", alert_id)
        raise LookupError(
            f"alert {alert_id} does not exist"
            if state is None
            else f"alert {alert_id} is {state}, only a firing alert can be acknowledged"
        )
    return row


async def record(
    conn: asyncpg.Connection,
    alert_id: int,
    kind: TransitionKind,
    at: datetime,
    *,
    level: int,
    actor: str | None,
    value: float | None,
    notified: bool,
) -> None:
    """Add one transition to `alert_history` (`notified`: whether its messages were queued)."""
    await conn.execute(
        "INSERT INTO alert_history (alert_id, kind, at, level, actor, value, notified) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        alert_id,
        kind.value,
        at,
        level,
        actor,
        value,
        notified,
    )


def _entity_json(e: EntityAtFault) -> dict[str, Any]:
    return e.__dict__ | {"since": e.since.isoformat(), "last_seen": e.last_seen.isoformat()}


def _entities_from_json(text: str | None) -> tuple[EntityAtFault, ...]:
    """The points at fault as stored with an alert (see :func:`_entity_json`)."""
    out = []
    for item in json.loads(text or "[]"):
        item["since"] = datetime.fromisoformat(item["since"])
        item["last_seen"] = datetime.fromisoformat(item["last_seen"])
        out.append(EntityAtFault(**item))
    return tuple(out)
