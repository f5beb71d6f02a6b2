"""``GET /api/v1/feeds``: each feed's health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ioc.api.deps import Ctx, Reader
from ioc.api.models import Feeds
from ioc.api.queries.feeds import current

__all__ = ["router"]

router = APIRouter(tags=["feeds"])


@router.get(
    "/feeds",
    response_model=Feeds,
    summary="Each feed: events per minute, freshness, connectors, stream lag",
    description=(
        "Every declared feed (the shipped four, a plugin's, the province's `IOC_FEEDS_DIR`), in "
        "the declarations' order, with its Vietnamese and English names."
    ),
)
async def feeds(ctx: Ctx, who: Reader) -> dict[str, Any]:
    return await current(ctx, who.area)
