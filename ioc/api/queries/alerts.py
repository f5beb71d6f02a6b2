"""Alerts: lists, one alert with its causes, its history, and the counts /metrics reports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from ioc.api.context import ApiContext
from ioc.api.queries.common import iso, page
from ioc.localtime import local_date
from ioc.text import LANGUAGES, alert_summary, no_data_name

__all__ = [
    "AlertFilter",
    "alert_explanation",
    "alert_json",
    "alert_page",
    "alert_row",
    "counts_by_state",
    "history_page",
]


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts a list shows; None in a field: any.

    Attributes:
        states: firing, acknowledged, resolved (any of them).
        severity: info, warning or critical.
        rule: a rule id.
        kpi: a KPI id.
        area: an area code (that area only, not below).
        scope: the area codes the caller's key may see (None: the whole province).
    """

    states: Sequence[str] | None = None
    severity: str | None = None
    rule: str | None = None
    kpi: str | None = None
    area: str | None = None
    scope: frozenset[str] | None = None

    def args(self) -> list[Any]:
        """The query's parameters $1 to $6, in the order of ``_WHERE``."""
        scope = sorted(self.scope) if self.scope is not None else None
        states = list(self.states) if self.states is not None else None
        return [states, self.severity, self.rule, self.kpi, self.area, scope]


_WHERE = (
    "WHERE ($1::text[] IS NULL OR state = ANY($1::text[])) "
    "AND ($2::text IS NULL OR severity = $2) AND ($3::text IS NULL OR rule_id = $3) "
    "AND ($4::text IS NULL OR kpi_id = $4) AND ($5::text IS NULL OR area = $5) "
    "AND ($6::text[] IS NULL OR area = ANY($6::text[]))"
)


async def alert_page(
    ctx: ApiContext, conn: asyncpg.Connection, chosen: AlertFilter, limit: int, offset: int
) -> dict[str, Any]:
    """Alerts that match, newest first, one page."""
    total = await conn.fetchval(f"SELECT count(*) FROM alerts {_WHERE}", *chosen.args())  # noqa: S608
    rows = await conn.fetch(
        f"SELECT * FROM alerts {_WHERE} ORDER BY started_at DESC, id DESC "  # noqa: S608
        "LIMIT $7 OFFSET $8",
        *chosen.args(),
        limit,
        offset,
    )
    return page([alert_json(ctx, r) for r in rows], limit, offset, total)


async def alert_row(conn: asyncpg.Connection, alert_id: int) -> asyncpg.Record | None:
    """The stored alert, or None."""
    row: asyncpg.Record | None = await conn.fetchrow("SELECT * FROM alerts WHERE id = $1", alert_id)
    return row


async def history_page(
    conn: asyncpg.Connection, alert_id: int, limit: int, offset: int
) -> dict[str, Any]:
    """Every transition of one alert, oldest first, one page."""
    total = await conn.fetchval("SELECT count(*) FROM alert_history WHERE alert_id = $1", alert_id)
    rows = await conn.fetch(
        "SELECT kind, at, level, actor, value, notified FROM alert_history "
        "WHERE alert_id = $1 ORDER BY at, id LIMIT $2 OFFSET $3",
        alert_id,
        limit,
        offset,
    )
    items = [dict(r) | {"at": r["at"].isoformat()} for r in rows]
    return page(items, limit, offset, total)


async def counts_by_state(conn: asyncpg.Connection) -> list[tuple[str, str, int]]:
    """(state, severity, count) of open alerts and of those resolved within a day."""
    rows = await conn.fetch(
        "SELECT state, severity, count(*) AS n FROM alerts "
        "WHERE state <> 'resolved' OR resolved_at > now() - interval '1 day' GROUP BY 1, 2"
    )
    return [(r["state"], r["severity"], r["n"]) for r in rows]


def alert_json(ctx: ApiContext, row: asyncpg.Record) -> dict[str, Any]:
    """An alert row as the API shows it, with names and a one-line summary in both languages."""
    day = local_date(row["started_at"])
    area = ctx.area(row["area"], day)
    kpi = ctx.catalogue.get(row["kpi_id"]) if row["kpi_id"] in ctx.catalogue else None
    rule = next((r for r in ctx.rules.rules if r.id == row["rule_id"]), None)
    summary = {}
    for language in LANGUAGES:
        # As the engine names what a transition is about (ioc.alerts.engine), so the summary
        # here and the one in the alert's messages are the same line.
        if kpi is not None:
            what = kpi.name_vi if language == "vi" else kpi.name_en
        else:
            what = no_data_name((rule.feed if rule else None) or row["rule_id"], language)
        summary[language] = alert_summary(
            what,
            area.name_vi if area is not None else row["area"],
            row["last_value"],
            row["target"],
            kpi.unit if kpi else "ratio",
            row["started_at"],
            language,
        )
    return {
        "id": row["id"],
        "rule": row["rule_id"],
        "kpi": row["kpi_id"],
        "kpi_name_vi": kpi.name_vi if kpi else None,
        "kpi_name_en": kpi.name_en if kpi else None,
        "area": row["area"],
        "area_name_vi": area.name_vi if area else None,
        "area_name_en": area.name_en if area else None,
        "severity": row["severity"],
        "state": row["state"],
        "level": row["level"],
        "started_at": iso(row["started_at"]),
        "fired_at": iso(row["fired_at"]),
        "acknowledged_at": iso(row["acknowledged_at"]),
        "acknowledged_by": row["acknowledged_by"],
        "resolved_at": iso(row["resolved_at"]),
        "value": row["last_value"],
        "target": row["target"],
        "summary_vi": summary["vi"],
        "summary_en": summary["en"],
    } | alert_explanation(ctx, row)


def alert_explanation(ctx: ApiContext, row: asyncpg.Record) -> dict[str, Any]:
    """What an alert row says about its causes, as ``GET /api/v1/alerts/{id}`` shows it.

    ``contributors``: the child areas ranked by how much they moved the KPI in the bad
    direction (a province's or district's alert; the same list the e-mail and webhook carry);
    ``entities``: for an availability KPI, the points down in the area when it fired, longest
    down first (at most 20); ``entities_down``: how many were down in all.
    """
    day = local_date(row["started_at"])

    def named(code: str) -> dict[str, str | None]:
        area = ctx.area(code, day)
        return {
            "area_name_vi": area.name_vi if area else None,
            "area_name_en": area.name_en if area else None,
        }

    contributors = [
        {
            "area": c["area"],
            **named(c["area"]),
            "value": c["value"],
            "numerator": c["numerator"],
            "denominator": c["denominator"],
            "gap": c["gap"],
            "volume_effect": c["volume_effect"],
            "rate_effect": c["rate_effect"],
        }
        for c in _json_list(row, "contributors")
    ]
    entities = [
        {
            "feed": e["feed"],
            "entity": e["entity"],
            "kind": e["kind"],
            "area": e["area"],
            **named(e["area"]),
            "since": e["since"],
            "last_seen": e["last_seen"],
        }
        for e in _json_list(row, "entities")
    ]
    down = row.get("entities_down") or 0
    return {"contributors": contributors, "entities": entities, "entities_down": down}


def _json_list(row: asyncpg.Record, column: str) -> list[dict[str, Any]]:
    value = row.get(column)
    found = json.loads(value) if isinstance(value, str) else value
    return list(found or [])
