"""``/api/v1/areas`` and ``/api/v1/map``: the areas in the key's scope, and an area's children.

The map's answer carries the areas' points and bounds and, when the site set one, the basemap
tile URL the board draws under them (``IOC_API__BASEMAP_URL``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ioc.api.deps import Ctx, Reader, chosen_area, scope_of
from ioc.api.models import Area, AreaList, MapResponse
from ioc.api.queries.areas import area_json, basemap, map_children
from ioc.localtime import local_today

__all__ = ["router"]

router = APIRouter(tags=["areas"])


@router.get("/areas", response_model=AreaList, summary="Areas valid today within the key's scope")
async def areas(ctx: Ctx, who: Reader) -> dict[str, Any]:
    scope = scope_of(ctx, who)
    today = ctx.areas.as_of(local_today())
    return {"items": [area_json(a) for a in today if scope is None or a.code in scope]}


@router.get(
    "/areas/{code}",
    response_model=Area,
    responses={404: {"description": "no such area"}},
    summary="One area",
)
async def area(ctx: Ctx, who: Reader, request: Request, code: str) -> dict[str, Any]:
    return area_json(await chosen_area(ctx, request, who, code))


@router.get(
    "/map",
    response_model=MapResponse,
    responses={404: {"description": "no such area"}},
    summary="The area's children today, coloured by status, for the board's map",
)
async def area_map(
    ctx: Ctx, who: Reader, request: Request, area: str | None = None
) -> dict[str, Any]:
    chosen = await chosen_area(ctx, request, who, area)
    found = await ctx.cached(("map", chosen.code), lambda conn: map_children(ctx, conn, chosen))
    return found | {"basemap": basemap(ctx.settings)}
