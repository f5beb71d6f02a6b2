"""``GET /api/v1/me``: who the calling key is."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ioc.api.deps import Ctx, Reader
from ioc.api.models import Me
from ioc.localtime import local_today

__all__ = ["router"]

router = APIRouter(tags=["me"])


@router.get(
    "/me", response_model=Me, summary="The calling key: holder, role, scope and permissions"
)
async def me(ctx: Ctx, who: Reader) -> dict[str, Any]:
    area = ctx.area(who.area, local_today()) if who.area else None
    return {
        "name": who.name,
        "role": who.role,
        "area": who.area,
        "area_name_vi": area.name_vi if area else None,
        "permissions": sorted(who.permissions),
    }
