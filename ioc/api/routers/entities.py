"""``GET /api/v1/entities``: which cameras, network points and online services are down now.

The rows come from ``entity_status`` (kept current by the stream workers) through
:mod:`ioc.entities`, the same query the CLI, the board and the alert evaluator use. A key
limited to an area sees only the entities of its area and below, whatever it asks.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from ioc.api.deps import Ctx, Reader, scope_of
from ioc.api.models import EntitiesPage
from ioc.api.problems import Problem
from ioc.api.security import in_scope
from ioc.entities import EntityFilter, InvalidCursor, feeds_with_states, list_entities
from ioc.localtime import local_date

__all__ = ["router"]

router = APIRouter(tags=["feeds"])


@router.get(
    "/entities",
    response_model=EntitiesPage,
    summary="Cameras, network points and online services: down first, since when, last seen",
    description=(
        "Each entity's latest state as reported by its feed. `state`: `down` (its latest "
        "report says down), `silent` (it said up, but not for `silent_minutes`), `up`. "
        "Ordered down first, then silent, then up, each by `since` (longest first). `area` "
        "is the area or anything under it. `counts` gives the matches in each state (every "
        "filter but `state` applied). Page with `cursor` = the previous page's `next_cursor`; "
        "a walk judges every page at the first page's moment (`at`)."
    ),
    responses={
        400: {"description": "cursor not from this list"},
        403: {"description": "area outside the key's scope"},
        404: {"description": "unknown area"},
        422: {"description": "unknown feed or invalid parameter"},
    },
)
async def entities(
    ctx: Ctx,
    who: Reader,
    request: Request,
    feed: Annotated[
        list[str] | None,
        Query(
            max_length=len(feeds_with_states()),
            description="a feed whose events report states (camera, network, dvc, or a "
            "declared one); repeat for several",
        ),
    ] = None,
    kind: Annotated[
        str | None,
        Query(
            max_length=40,
            pattern=r"^[a-z0-9_]+$",
            description="camera, special_network, agency_lan, cell_site, broadband, service",
        ),
    ] = None,
    area: Annotated[str | None, Query(max_length=20, description="area code")] = None,
    state: Literal["down", "silent", "up"] | None = None,
    silent_minutes: Annotated[
        int, Query(ge=1, le=7 * 24 * 60, description="minutes without a report = silent")
    ] = 10,
    limit: Annotated[int, Query(ge=1, le=500, description="page size")] = 50,
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor")] = None,
) -> dict[str, Any]:
    with_states = feeds_with_states()
    for one in feed or ():
        if one not in with_states:
            raise Problem(
                422,
                "unknown-feed",
                f"feed {one!r} reports no entity states; use one of {', '.join(with_states)}",
            )
    feeds = tuple(sorted(set(feed))) if feed else None
    if area is not None:
        await in_scope(ctx, request, who, area)
    scope = scope_of(ctx, who)
    chosen = EntityFilter(
        feed=feeds,
        kind=kind,
        area=area,
        state=state,
        scope=scope,
        silent_after=timedelta(minutes=silent_minutes),
    )
    try:
        async with ctx.pool.acquire() as conn:
            page = await list_entities(conn, chosen, limit=limit, cursor=cursor)
    except InvalidCursor as err:
        raise Problem(400, "invalid-cursor", str(err)) from None
    day = local_date(page.at)
    return {
        "at": page.at.isoformat(),
        "filters": {
            "feed": list(feeds) if feeds else None,
            "kind": kind,
            "area": area,
            "state": state,
            "silent_minutes": silent_minutes,
        },
        "counts": page.counts,
        "items": [e.json(ctx.areas, day) for e in page.items],
        "limit": limit,
        "next_cursor": page.next_cursor,
    }
