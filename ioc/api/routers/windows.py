"""``GET /api/v1/windows``: the window rows of one metric."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import AwareDatetime

from ioc.api.deps import (
    LIMIT_DEFAULT,
    Ctx,
    Limit,
    Offset,
    Reader,
    scope_of,
    time_range,
)
from ioc.api.models import WindowPage
from ioc.api.problems import Problem
from ioc.api.queries.windows import windows_page
from ioc.api.security import in_scope
from ioc.kpis.measures import METRICS
from ioc.kpis.values import Resolution

__all__ = ["router"]

router = APIRouter(tags=["windows"])


@router.get(
    "/windows",
    response_model=WindowPage,
    responses={404: {"description": "no such metric"}},
    summary="Window rows of one metric: 1m windows or the 1h/1d roll-ups",
)
async def windows(
    ctx: Ctx,
    who: Reader,
    request: Request,
    metric: str,
    area: str | None = None,
    resolution: Resolution = "1m",
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
    limit: Limit = LIMIT_DEFAULT,
    offset: Offset = 0,
) -> dict[str, Any]:
    if metric not in METRICS:
        feed = metric.split(".", 1)[0]
        near = sorted(m for m in METRICS if m.startswith(f"{feed}.")) or sorted(
            m for m in METRICS if m.endswith(".events")
        )
        raise Problem(
            404,
            "unknown-metric",
            f"no metric {metric!r}; a metric is <feed>.<measure>, e.g. {', '.join(near[:6])}",
        )
    first, last = time_range(start, end, resolution)
    codes: list[str] | None
    if area is not None:
        await in_scope(ctx, request, who, area)
        codes = [area]
    else:
        scope = scope_of(ctx, who)
        codes = sorted(scope) if scope is not None else None
    async with ctx.pool.acquire() as conn:
        return await windows_page(conn, metric, resolution, first, last, codes, limit, offset)
