"""``GET /api/v1/stream``: the live board's server-sent events (see :mod:`ioc.api.live`).

FastAPI frames the events (``EventSourceResponse``) and sends a ``: ping`` comment when the
stream was quiet for 15 s, the silence the board's watchdog waits for before it reconnects.
The area is checked in a dependency, before the answer starts: a refusal is still a
problem+json response, not a broken stream.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from ioc.api.deps import Ctx, LiveHub, Reader, chosen_area, scope_of
from ioc.api.models import STREAM_EVENTS
from ioc.api.queries import feeds, kpis
from ioc.api.security import still_valid
from ioc.areas import Area

__all__ = ["router"]

router = APIRouter(tags=["live"])


async def _area(ctx: Ctx, who: Reader, request: Request, area: str | None = None) -> Area:
    return await chosen_area(ctx, request, who, area)


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    summary="Server-sent events: `kpis` tiles of the area, `feeds` every 5 s, `alert` changes",
    description="First `kpis` and `feeds`, then `kpis` whenever values change, `feeds` every "
    "5 s and `alert` for each transition the key may see; `: ping` after 15 s of quiet. The "
    "key is checked again every IOC_API__STREAM_RECHECK_SECONDS (30 s): once it is revoked "
    "the stream sends `end` and closes. Each event's `data` is JSON: "
    + ", ".join(f"`{name}`: {model.__name__}" for name, model in STREAM_EVENTS.items())
    + ".",
)
async def stream(
    ctx: Ctx,
    who: Reader,
    hub: LiveHub,
    request: Request,
    chosen: Annotated[Area, Depends(_area)],
) -> AsyncIterator[ServerSentEvent]:
    sub = hub.subscribe(scope_of(ctx, who))
    events = hub.stream(
        sub,
        lambda: kpis.current(ctx, chosen),
        lambda: feeds.current(ctx, who.area),
        lambda: still_valid(ctx, request, who),
    )
    async for event, data in events:
        # Written here rather than by FastAPI's encoder: Vietnamese stays readable (UTF-8).
        yield ServerSentEvent(event=event, raw_data=json.dumps(data, ensure_ascii=False))
