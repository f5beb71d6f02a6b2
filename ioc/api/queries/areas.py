"""Areas: as the API shows one, and the map of an area's children coloured by status."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from ioc.api.context import ApiContext
from ioc.api.queries.common import floor, ratio
from ioc.areas import Area
from ioc.config import Settings
from ioc.events import FEEDS
from ioc.kpis.values import by_child
from ioc.localtime import local_today

__all__ = ["area_json", "basemap", "map_children"]


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
        "estimated": area.estimated,
        "lat": area.lat,
        "lon": area.lon,
        "bounds": list(area.bounds) if area.bounds is not None else None,
    }


def basemap(settings: Settings) -> dict[str, Any] | None:
    """The tiles the board's map draws under the areas, if the site configured a tile server."""
    if not settings.api.basemap_url:
        return None
    return {"url": settings.api.basemap_url, "attribution": settings.api.basemap_attribution}


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
        floor(now, timedelta(hours=1)) - timedelta(hours=23),
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
        value = ratio(float(r["n"]), float(r["d"]))
        if kpi is not None and child is not None and value is not None:
            below[r["area"]] += not kpi.meets(value, child.level.value)
    first = floor(now, timedelta(hours=1)) - timedelta(hours=23)
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
