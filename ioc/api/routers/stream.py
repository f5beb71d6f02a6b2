"""``GET /api/v1/stream``: the live board's server-sent events (see :mod:`ioc.api.live`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from ioc.api.deps import Ctx, LiveHub, Reader, chosen_area, scope_of
from ioc.api.queries import feeds, kpis
from ioc.api.security import still_valid

__all__ = ["router"]

router = APIRouter(tags=["live"])


@router.get(
    "/stream",
    summary="Server-sent events: `kpis` tiles of the area, `feeds` every 5 s, `alert` changes",
    description="The key is checked again every IOC_API__STREAM_RECHECK_SECONDS (30 s): once "
    "it is revoked the stream sends `end` and closes.",
    response_class=StreamingResponse,
)
async def stream(
    ctx: Ctx, who: Reader, hub: LiveHub, request: Request, area: str | None = None
) -> StreamingResponse:
    chosen = await chosen_area(ctx, request, who, area)
    sub = hub.subscribe(scope_of(ctx, who))
    return StreamingResponse(
        hub.stream(
            sub,
            lambda: kpis.current(ctx, chosen),
            lambda: feeds.current(ctx, who.area),
            lambda: still_valid(ctx, request, who),
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
