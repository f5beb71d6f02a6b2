"""The reads behind the API and the live board: plain functions of a connection, JSON-ready dicts.

Everything comes from the tables the Grafana boards read too: ``kpi_values`` (kept current at
1m, 1h and 1d by ``ioc alerts run``), ``window_metrics`` and its roll-ups, ``alerts``,
``alert_history``, ``silences``; plus the workers' and connectors' telemetry files.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import asyncpg

from ioc.api.context import ApiContext
from ioc.api.entities import alert_explanation
from ioc.areas import Area
from ioc.kpi_values import Point, by_child, series, totals
from ioc.kpis import Kpi
from ioc.localtime import local_date, local_today
from ioc.telemetry import (
    ConnectorMetrics,
    StreamMetrics,
    read_connector_metrics,
    read_stream_metrics,
)
from ioc.text import LANGUAGES, alert_summary, no_data_name

__all__ = [
    "FEEDS",
    "alert_json",
    "area_json",
    "feeds",
    "kpis_current",
    "map_children",
]

FEEDS: Final = ("camera", "dvc", "payment", "network")
_LOW_VOLUME: Final = 20  # a ratio of fewer events than this is shown, but flagged
_FRESH: Final = timedelta(minutes=3)  # a feed whose newest window is older is not live
_STALE: Final = timedelta(minutes=15)  # … and older than this, down (unless idle)


def _floor(at: datetime, step: timedelta) -> datetime:
    seconds = step.total_seconds()
    return datetime.fromtimestamp(at.timestamp() // seconds * seconds, UTC)


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None


def area_json(area: Area) -> dict[str, Any]:
    """An area as the API shows it."""
    return {
        "code": area.code,
        "name_vi": area.name_vi,
        "name_en": area.name_en,
        "level": area.level.value,
        "parent": area.parent,
        "population": area.population,
        "households": area.households,
    }


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _ahead(kpi: Kpi, value: float | None, level: str) -> float | None:
    """Value - target, signed so that positive = better than the target."""
    gap = kpi.gap(value, level)
    return None if gap is None else -gap


async def _feed_last_windows(conn: asyncpg.Connection) -> dict[str, datetime | None]:
    rows = await conn.fetch(
        "SELECT f.feed, (SELECT max(window_start) FROM window_metrics "
        "WHERE metric = f.feed || '.events') AS last FROM unnest($1::text[]) AS f(feed)",
        list(FEEDS),
    )
    return {r["feed"]: r["last"] for r in rows}


async def _distinct_24h(
    ctx: ApiContext, conn: asyncpg.Connection, area: Area, first: datetime, now: datetime
) -> dict[str, tuple[list[Point], float, float]]:
    """Distinct-count KPIs from the event store: hourly points and the 24 h counts."""
    out: dict[str, tuple[list[Point], float, float]] = {}
    for kpi in ctx.catalogue:
        if kpi.distinct is not None:
            points = await series(conn, kpi, area.code, first, now, "1h")
            whole = await totals(conn, kpi, area.code, first, now, "1h")
            out[kpi.id] = (points, whole.numerator, whole.denominator)
    return out


async def kpis_current(ctx: ApiContext, conn: asyncpg.Connection, area: Area) -> dict[str, Any]:
    """Each KPI in one area: value over the last 24 h, target, gap, hourly trend, quality.

    A distinct-count KPI (``Kpi.distinct``) is counted from the event store: each hour of the
    trend, and the 24 h value over the whole span (not a sum of hours).
    """
    now = datetime.now(UTC)
    first = _floor(now, timedelta(hours=1)) - timedelta(hours=23)
    rows = await conn.fetch(
        "SELECT kpi, bucket, numerator, denominator FROM kpi_values "
        "WHERE resolution = '1h' AND area = $1 AND bucket >= $2 ORDER BY bucket",
        area.code,
        first,
    )
    last_rows = await conn.fetch(
        "SELECT kpi, max(bucket) AS last FROM kpi_values WHERE resolution = '1m' AND area = $1 "
        "AND bucket >= $2 AND denominator > 0 GROUP BY kpi",
        area.code,
        now - timedelta(days=1),
    )
    last = {r["kpi"]: r["last"] for r in last_rows}
    feeds_last = await _feed_last_windows(conn)
    by_kpi: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_kpi[row["kpi"]].append(row)
    distinct = await _distinct_24h(ctx, conn, area, first, now)
    for kpi_id, (points, _, _) in distinct.items():
        by_kpi[kpi_id] = [p._asdict() for p in points]
        last[kpi_id] = max((p.bucket for p in points if p.denominator), default=None)
    hours = [first + timedelta(hours=i) for i in range(24)]
    items = []
    for kpi in ctx.catalogue:
        buckets = {r["bucket"]: r for r in by_kpi.get(kpi.id, [])}
        numerator = sum(float(r["numerator"]) for r in buckets.values())
        denominator = sum(float(r["denominator"]) for r in buckets.values())
        if kpi.id in distinct:  # counted once over the 24 h, not a sum of hours
            _, numerator, denominator = distinct[kpi.id]
        value = _ratio(numerator, denominator)
        fed = feeds_last.get(kpi.feed)
        if denominator == 0:
            quality = "no_data"
        elif fed is None or now - fed > _FRESH + timedelta(minutes=2):
            quality = "stale"
        elif denominator < _LOW_VOLUME:
            quality = "low_volume"
        else:
            quality = "ok"
        level = area.level.value
        items.append(
            {
                "kpi": kpi.id,
                "name_vi": kpi.name_vi,
                "name_en": kpi.name_en,
                "unit": kpi.unit,
                "direction": kpi.direction,
                "feed": kpi.feed,
                "value": value,
                "target": kpi.target_for(level),
                "gap": _ahead(kpi, value, level),
                # None: no data, or no target to judge against (shown, not judged).
                "meets": None
                if value is None or kpi.target_for(level) is None
                else kpi.meets(value, level),
                "trend": [
                    {
                        "bucket": _iso(hour),
                        "value": _ratio(
                            float(buckets[hour]["numerator"]), float(buckets[hour]["denominator"])
                        )
                        if hour in buckets
                        else None,
                    }
                    for hour in hours
                ],
                "quality": quality,
                "last_bucket": _iso(last.get(kpi.id)),
                "numerator": numerator,
                "denominator": denominator,
                # What a distinct-count KPI counts once, and a figure reported for comparison.
                "distinct": kpi.distinct,
                "context": kpi.context.model_dump() if kpi.context else None,
            }
        )
    return {"area": area_json(area), "at": _iso(now), "items": items}


async def map_children(ctx: ApiContext, conn: asyncpg.Connection, area: Area) -> dict[str, Any]:
    """The area's children today, each with a status: its worst open alert, else data or not."""
    now = datetime.now(UTC)
    today = local_today(now)
    children = ctx.areas.children(area.code, today)
    codes = [c.code for c in children]
    alert_rows = await conn.fetch(
        "SELECT an.ancestor AS child, a.severity, count(*) AS n FROM alerts a "
        "JOIN area_ancestors an ON an.area = a.area "
        "AND an.valid_from <= $2 AND $2 < an.valid_to "
        "WHERE a.state <> 'resolved' AND an.ancestor = ANY($1::text[]) GROUP BY 1, 2",
        codes,
        today,
    )
    event_rows = await conn.fetch(
        "SELECT an.ancestor AS child, sum(w.sum) AS n FROM window_metrics w "
        "JOIN area_ancestors an ON an.area = w.area "
        "AND an.valid_from <= $3 AND $3 < an.valid_to "
        "WHERE w.metric = ANY($2::text[]) AND w.window_start >= $4 "
        "AND an.ancestor = ANY($1::text[]) GROUP BY 1",
        codes,
        [f"{feed}.events" for feed in FEEDS],
        today,
        now - timedelta(hours=1),
    )
    value_rows = await conn.fetch(
        "SELECT kpi, area, sum(numerator) AS n, sum(denominator) AS d FROM kpi_values "
        "WHERE resolution = '1h' AND area = ANY($1::text[]) AND bucket >= $2 GROUP BY 1, 2",
        codes,
        _floor(now, timedelta(hours=1)) - timedelta(hours=23),
    )
    severities: dict[str, dict[str, int]] = defaultdict(dict)
    for r in alert_rows:
        severities[r["child"]][r["severity"]] = int(r["n"])
    events = {r["child"]: int(r["n"] or 0) for r in event_rows}
    below: dict[str, int] = defaultdict(int)
    for r in value_rows:
        kpi = ctx.catalogue.get(r["kpi"]) if r["kpi"] in ctx.catalogue else None
        if kpi is not None and kpi.distinct is not None:
            continue  # no hourly rows are kept; counted from the store below
        child = next((c for c in children if c.code == r["area"]), None)
        value = _ratio(float(r["n"]), float(r["d"]))
        if kpi is not None and child is not None and value is not None:
            below[r["area"]] += not kpi.meets(value, child.level.value)
    first = _floor(now, timedelta(hours=1)) - timedelta(hours=23)
    for kpi in ctx.catalogue:
        if kpi.distinct is None:
            continue
        for c in await by_child(conn, kpi, area.code, first, now, "1h"):
            level = next((x.level.value for x in children if x.code == c.area), None)
            if level is not None and c.value is not None:
                below[c.area] += not kpi.meets(c.value, level)
    out = []
    for child in children:
        open_by = severities.get(child.code, {})
        if open_by.get("critical"):
            status = "critical"
        elif open_by:
            status = "warning"
        elif not events.get(child.code):
            status = "no_data"
        else:
            status = "ok"
        out.append(
            area_json(child)
            | {
                "status": status,
                "firing": sum(open_by.values()),
                "below_target": below.get(child.code, 0),
                "events_last_hour": events.get(child.code, 0),
                "has_children": bool(ctx.areas.children(child.code, today)),
            }
        )
    return {"area": area_json(area), "children": out}


def _idle(feed: str, connectors: list[ConnectorMetrics], workers: list[StreamMetrics]) -> bool:
    """A quiet source, not a broken pipe: its connector runs and nothing waits to be counted.

    DVC, for one, receives no dossiers outside office hours: its feed has no new windows then,
    yet nothing is wrong.
    """
    sending = any(c.feed == feed and c.live and c.state == "running" for c in connectors)
    counting = [w.agents[feed] for w in workers if w.state == "running" and feed in w.agents]
    return sending and bool(counting) and all(a.lag == 0 for a in counting)


async def feeds(
    ctx: ApiContext, conn: asyncpg.Connection, scope: frozenset[str] | None
) -> dict[str, Any]:
    """Each feed: events per minute over the last hour, freshness, connectors, stream worker."""
    now = datetime.now(UTC)
    since = _floor(now, timedelta(minutes=1)) - timedelta(minutes=59)
    metrics = [f"{feed}.events" for feed in FEEDS]
    rows = await conn.fetch(
        "SELECT metric, window_start, sum(sum) AS n FROM window_metrics "
        "WHERE metric = ANY($1::text[]) AND window_start >= $2 "
        "AND ($3::text[] IS NULL OR area = ANY($3::text[])) GROUP BY 1, 2",
        metrics,
        since,
        sorted(scope) if scope is not None else None,
    )
    last = await _feed_last_windows(conn)
    per_minute: dict[str, dict[datetime, int]] = defaultdict(dict)
    for r in rows:
        per_minute[r["metric"].split(".", 1)[0]][r["window_start"]] = int(r["n"])
    state_dir = ctx.settings.state_dir
    connectors = [m for m in read_connector_metrics(state_dir)]
    workers = [w for w in read_stream_metrics(state_dir) if w.live]
    minutes = [since + timedelta(minutes=i) for i in range(60)]
    items = []
    for feed in FEEDS:
        counts = per_minute.get(feed, {})
        newest = last.get(feed)
        agents = [w.agents[feed] for w in workers if feed in w.agents]
        if newest is not None and now - newest <= _FRESH:
            state = "ok"
        elif _idle(feed, connectors, workers):
            state = "idle"
        elif newest is not None and now - newest <= _STALE:
            state = "stale"
        else:
            state = "down"
        stream = (
            {
                "lag": sum(a.lag for a in agents),
                "rate": sum(a.rate for a in agents),
                "counted": sum(a.counted for a in agents),
                "duplicates": sum(a.duplicates for a in agents),
                "dead_lettered": sum(a.dead_lettered for a in agents),
                "late": sum(a.late for a in agents),
                "watermark": max((a.watermark for a in agents if a.watermark), default=None),
            }
            if agents
            else None
        )
        items.append(
            {
                "feed": feed,
                "state": state,
                "last_window": _iso(newest),
                "events_last_5m": sum(counts.get(m, 0) for m in minutes[-5:]),
                "series": [{"bucket": _iso(m), "events": counts.get(m, 0)} for m in minutes],
                "connectors": [
                    {
                        "name": c.name,
                        "state": c.state,
                        "live": c.live,
                        "rate": c.rate,
                        "sent": c.sent,
                        "spooled": c.spooled,
                        "failed": c.failed,
                        "dead_lettered": c.dead_lettered,
                    }
                    for c in connectors
                    if c.feed == feed
                ],
                "stream": stream,
            }
        )
    return {"at": _iso(now), "items": items}


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
        elif rule is not None and rule.feed is not None:
            what = no_data_name(rule.feed, language)
        else:
            what = row["rule_id"]
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
        "started_at": _iso(row["started_at"]),
        "fired_at": _iso(row["fired_at"]),
        "acknowledged_at": _iso(row["acknowledged_at"]),
        "acknowledged_by": row["acknowledged_by"],
        "resolved_at": _iso(row["resolved_at"]),
        "value": row["last_value"],
        "target": row["target"],
        "summary_vi": summary["vi"],
        "summary_en": summary["en"],
    } | alert_explanation(ctx, row)
