"""KPIs: the catalogue, each KPI's current value in an area (the board's tiles), a KPI's series."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import asyncpg

from ioc.api.context import ApiContext
from ioc.api.queries.areas import area_json
from ioc.api.queries.common import floor, iso, ratio
from ioc.api.queries.feeds import FRESH, last_windows
from ioc.areas import Area
from ioc.kpis import Kpi
from ioc.kpis.forecast import Forecast, forecast_target_date
from ioc.kpis.values import Point, Resolution, series, totals
from ioc.localtime import local_date, local_day_start
from ioc.text import forecast_error_text, forecast_text

__all__ = [
    "FORECAST_DAYS",
    "catalogue_json",
    "current",
    "forecast_json",
    "kpis_current",
    "series_json",
]

FORECAST_DAYS: Final = 30
"""Complete local days the board's forecast is drawn from, as ``ioc kpis show`` by default."""

_LOW_VOLUME: Final = 20  # a ratio of fewer events than this is shown, but flagged


def catalogue_json(ctx: ApiContext) -> dict[str, Any]:
    """The KPI catalogue with targets, deadlines and legal sources."""
    return {
        "items": [
            {
                "id": k.id,
                "name_vi": k.name_vi,
                "name_en": k.name_en,
                "feed": k.feed,
                "unit": k.unit,
                "direction": k.direction,
                "target": k.target.value if k.target else None,
                "by_level": dict(k.target.by_level) if k.target else {},
                "deadline": k.target.deadline.isoformat()
                if k.target and k.target.deadline
                else None,
                "source": k.target.source if k.target else None,
                # Distinct-count KPIs: what is counted once (None: a ratio of sums).
                "distinct": k.distinct,
                "slo": k.target.slo if k.target else None,
                # Results reported for the KPI, shown beside it; never targets.
                "reported": [r.model_dump(mode="json") for r in k.reported],
            }
            for k in ctx.catalogue
        ]
    }


async def current(ctx: ApiContext, area: Area) -> dict[str, Any]:
    """:func:`kpis_current`, read once per cache period for every client asking."""
    return await ctx.cached(("kpis", area.code), lambda conn: kpis_current(ctx, conn, area))


async def series_json(
    conn: asyncpg.Connection,
    kpi: Kpi,
    area: Area,
    first: datetime,
    last: datetime,
    resolution: Resolution,
) -> dict[str, Any]:
    """The KPI's buckets in the area over [first, last), each with numerator and denominator."""
    # The Kpi, not its id: a distinct-count KPI is counted from the event store.
    points = await series(conn, kpi, area.code, first, last, resolution)
    return {
        "kpi": kpi.id,
        "area": area.code,
        "resolution": resolution,
        "start": first.isoformat(),
        "end": last.isoformat(),
        "points": [
            {
                "bucket": p.bucket.isoformat(),
                "value": p.value,
                "numerator": p.numerator,
                "denominator": p.denominator,
            }
            for p in points
        ],
    }


def forecast_json(kpi: Kpi, forecast: Forecast | None) -> dict[str, Any] | None:
    """A forecast as the API returns it: status, date, its words, model and backtest error.

    None when the KPI has no target (nothing to forecast). ``reach_date`` is None when no date
    is honest (``flat``, ``moving_away``, ``beyond_horizon``, ``too_few_days``); the words say
    why, in both languages (:func:`ioc.text.forecast_text`).
    """
    if forecast is None:
        return None
    deadline = kpi.target.deadline if kpi.target is not None else None
    return {
        "status": forecast.status,
        "reach_date": forecast.reach_date.isoformat() if forecast.reach_date else None,
        "deadline": deadline.isoformat() if deadline else None,
        "text_vi": forecast_text(forecast.status, forecast.reach_date, deadline, "vi"),
        "text_en": forecast_text(forecast.status, forecast.reach_date, deadline, "en"),
        "error_vi": forecast_error_text(forecast.mae, kpi.unit, "vi"),
        "error_en": forecast_error_text(forecast.mae, kpi.unit, "en"),
        "model": forecast.model,
        "slope_per_day": forecast.slope_per_day,
        "mae": forecast.mae,
        "days_used": forecast.days_used,
    }


async def _forecasts(
    ctx: ApiContext, conn: asyncpg.Connection, area: Area, now: datetime
) -> dict[str, dict[str, Any] | None]:
    """Each KPI's forecast in the area, as :func:`ioc.kpis.values.current` draws it.

    The stored local days (``1d``) of the :data:`FORECAST_DAYS` complete days before today,
    in one read for every KPI; the same model, days and weighting as ``ioc kpis show``.
    """
    today = local_day_start(now)
    rows = await conn.fetch(
        "SELECT kpi, bucket, numerator / denominator AS value FROM kpi_values "
        "WHERE resolution = '1d' AND area = $1 AND bucket >= $2 AND bucket < $3 "
        "AND denominator > 0 ORDER BY bucket",
        area.code,
        today - timedelta(days=FORECAST_DAYS),
        today,
    )
    days: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for row in rows:
        days[row["kpi"]].append((local_date(row["bucket"]).toordinal(), float(row["value"])))
    out: dict[str, dict[str, Any] | None] = {}
    for kpi in ctx.catalogue:
        target = kpi.target_for(area.level)
        points = days.get(kpi.id, [])
        forecast = (
            None
            if target is None
            else forecast_target_date(
                [d for d, _ in points],
                [v for _, v in points],
                target,
                kpi.direction,
                today=local_date(now),
            )
        )
        out[kpi.id] = forecast_json(kpi, forecast)
    return out


def _ahead(kpi: Kpi, value: float | None, level: str) -> float | None:
    """Value - target, signed so that positive = better than the target."""
    gap = kpi.gap(value, level)
    return None if gap is None else -gap


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
    first = floor(now, timedelta(hours=1)) - timedelta(hours=23)
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
    feeds_last = await last_windows(conn)
    by_kpi: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_kpi[row["kpi"]].append(row)
    distinct = await _distinct_24h(ctx, conn, area, first, now)
    forecasts = await _forecasts(ctx, conn, area, now)
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
        value = ratio(numerator, denominator)
        fed = feeds_last.get(kpi.feed)
        if denominator == 0:
            quality = "no_data"
        elif fed is None or now - fed > FRESH + timedelta(minutes=2):
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
                        "bucket": iso(hour),
                        "value": ratio(
                            float(buckets[hour]["numerator"]), float(buckets[hour]["denominator"])
                        )
                        if hour in buckets
                        else None,
                    }
                    for hour in hours
                ],
                "quality": quality,
                "last_bucket": iso(last.get(kpi.id)),
                "numerator": numerator,
                "denominator": denominator,
                # What a distinct-count KPI counts once, and the results reported for it.
                "distinct": kpi.distinct,
                "reported": [r.model_dump(mode="json") for r in kpi.reported],
                # When the target is met at the trend of the last 30 days (None: no target).
                "forecast": forecasts[kpi.id],
            }
        )
    return {"area": area_json(area), "at": iso(now), "items": items}
