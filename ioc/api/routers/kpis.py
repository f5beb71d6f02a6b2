"""``/api/v1/kpis``: the catalogue, every KPI's current value in an area, one KPI's series."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import AwareDatetime

from ioc.api.deps import Ctx, Reader, chosen_area, time_range
from ioc.api.models import KpiCatalogue, KpisCurrent, KpiSeries
from ioc.api.problems import Problem
from ioc.api.queries import kpis as queries
from ioc.kpis.values import Resolution

__all__ = ["router"]

router = APIRouter(tags=["kpis"])


@router.get(
    "/kpis",
    response_model=KpiCatalogue,
    summary="The KPI catalogue with targets, deadlines and legal sources",
)
async def kpis(ctx: Ctx, who: Reader) -> dict[str, Any]:
    return queries.catalogue_json(ctx)


@router.get(
    "/kpis/current",
    response_model=KpisCurrent,
    responses={404: {"description": "no such area"}},
    summary="Every KPI in one area: last 24 h value, target, gap, hourly trend, data quality",
)
async def kpis_current(
    ctx: Ctx, who: Reader, request: Request, area: str | None = None
) -> dict[str, Any]:
    return await queries.current(ctx, await chosen_area(ctx, request, who, area))


@router.get(
    "/kpis/{kpi}/series",
    response_model=KpiSeries,
    responses={404: {"description": "no such KPI or area"}},
    summary="One KPI's stored buckets over a range",
)
async def kpi_series(
    ctx: Ctx,
    who: Reader,
    request: Request,
    kpi: str,
    area: str | None = None,
    resolution: Resolution = "1h",
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
) -> dict[str, Any]:
    """The KPI's buckets in the area over [start, end), each with its numerator and denominator.

    A distinct-count KPI (``distinct`` in `GET /api/v1/kpis`) is never summed: its `1d`
    buckets are the stored local days, and its `1h` and `1m` buckets are counted from the
    event store when asked.
    """
    if kpi not in ctx.catalogue:
        raise Problem(404, "unknown-kpi", f"no KPI {kpi!r}; see GET /api/v1/kpis")
    chosen = await chosen_area(ctx, request, who, area)
    first, last = time_range(start, end, resolution)
    async with ctx.pool.acquire() as conn:
        return await queries.series_json(
            conn, ctx.catalogue.get(kpi), chosen, first, last, resolution
        )
