"""What routers ask FastAPI for: the context, the caller with a permission, the services.

Each dependency is an ``Annotated`` alias, so a handler's signature says what it needs and
mypy knows its type: ``async def acknowledge(ctx: Ctx, who: Acknowledging,
evaluator: Evaluator, …)``. The shared request parameters (page size, offset, resolution)
and the checks several routers make (the chosen area in scope, a time range) live here too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import Depends, Query, Request

from ioc.api.context import Acknowledger, ApiContext, context
from ioc.api.dead_letters import DeadLetterIndex
from ioc.api.keys import Permission, Principal
from ioc.api.live import Hub
from ioc.api.problems import Problem
from ioc.api.security import audit, in_scope, require
from ioc.areas import Area
from ioc.kpis.values import Resolution
from ioc.localtime import local_today

__all__ = [
    "LIMIT_DEFAULT",
    "Acknowledging",
    "Auditor",
    "Ctx",
    "DeadLetterKeeper",
    "DeadLetters",
    "Evaluator",
    "Limit",
    "LiveHub",
    "Offset",
    "Reader",
    "Reporting",
    "Scraper",
    "Silencing",
    "chosen_area",
    "scope_of",
    "time_range",
]

Ctx = Annotated[ApiContext, Depends(context)]

# The caller, authenticated, rate-limited and allowed one permission (see ioc.api.keys).
Reader = Annotated[Principal, require("read")]
Acknowledging = Annotated[Principal, require("ack")]
Silencing = Annotated[Principal, require("silence")]
Reporting = Annotated[Principal, require("report")]  # enters periodic indicators' values


def _province_wide(permission: Permission, what: str) -> Any:
    """A dependency: the caller allowed ``permission`` with a key for the whole province."""
    allowed = require(permission)  # a default, not an annotation: annotations are strings here

    async def dependency(ctx: Ctx, request: Request, who: Principal = allowed) -> Principal:
        if who.area is not None:
            await audit(
                ctx, request, who, "scope.denied", "denied", 403, detail={"needs": "province"}
            )
            raise Problem(403, "out-of-scope", f"{what} needs a key for the whole province")
        return who

    return Depends(dependency)


# Metrics, the audit log and dead letters are about every area's sources and people: only a
# key for the whole province sees them (an area key's role does not widen its scope).
Auditor = Annotated[Principal, _province_wide("audit", "the audit log")]
Scraper = Annotated[Principal, _province_wide("metrics", "/metrics")]
DeadLetterKeeper = Annotated[Principal, _province_wide("dlq", "the dead-letter topic")]


def _evaluator(ctx: Ctx) -> Acknowledger:
    return ctx.evaluator


def _hub(request: Request) -> Hub:
    hub: Hub | None = getattr(request.app.state, "hub", None)
    if hub is None:
        raise Problem(
            503, "starting", "the live stream is starting; retry", headers={"Retry-After": "2"}
        )
    return hub


def _dead_letters(ctx: Ctx) -> DeadLetterIndex:
    index = ctx.dead_letters
    if index is None or not index.ready.is_set():
        raise Problem(
            503,
            "dlq-loading",
            "the dead-letter index is still reading ioc.dlq (or the broker is away); retry",
            headers={"Retry-After": "2"},
        )
    return index


Evaluator = Annotated[Acknowledger, Depends(_evaluator)]
LiveHub = Annotated[Hub, Depends(_hub)]
DeadLetters = Annotated[DeadLetterIndex, Depends(_dead_letters)]

LIMIT_DEFAULT: Final = 50
Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="items to skip")]
_MAX_POINTS: Final = 20_000  # per series request; a wider range needs a coarser resolution
_STEP: Final = {"1m": timedelta(minutes=1), "1h": timedelta(hours=1), "1d": timedelta(days=1)}


async def chosen_area(ctx: ApiContext, request: Request, who: Principal, code: str | None) -> Area:
    """The area asked for (default: the key's own area, else the province), checked in scope."""
    today = local_today()
    code = code or who.area or ctx.areas.as_of(today).province.code
    await in_scope(ctx, request, who, code)
    area = ctx.area(code, today)
    assert area is not None  # in_scope refused unknown codes
    return area


def scope_of(ctx: ApiContext, who: Principal) -> frozenset[str] | None:
    """The area codes the caller's key may see; None: the whole province."""
    return ctx.scope(who.area) if who.area is not None else None


def time_range(
    start: datetime | None, end: datetime | None, resolution: Resolution
) -> tuple[datetime, datetime]:
    """[start, end) of a series: default the last 60 buckets; refused if empty or too long."""
    end = end or datetime.now(UTC)
    start = start or end - _STEP[resolution] * 60
    if end <= start:
        raise Problem(422, "empty-range", f"end ({end.isoformat()}) must be after start")
    points = (end - start) / _STEP[resolution]
    if points > _MAX_POINTS:
        raise Problem(
            422,
            "range-too-long",
            f"{points:.0f} buckets of {resolution} asked, at most {_MAX_POINTS}: "
            "use a coarser resolution (1h, 1d) or a shorter range",
        )
    return start, end
