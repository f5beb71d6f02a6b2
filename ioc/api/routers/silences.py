"""``/api/v1/silences``: those in force, silencing a rule for a while, ending a silence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from ioc.alerts import silences as owner
from ioc.api.deps import Ctx, Reader, Silencing
from ioc.api.models import Silence, SilenceList
from ioc.api.problems import Problem
from ioc.api.security import audit, hidden, in_scope, sees

__all__ = ["SilenceBody", "router"]

router = APIRouter(tags=["silences"])


def _silence_json(silence: owner.Silence) -> dict[str, Any]:
    """A silence as the API shows it."""
    return {
        "id": silence.id,
        "rule": silence.rule_pattern,
        "area": silence.area,
        "starts_at": silence.starts_at.isoformat(),
        "ends_at": silence.ends_at.isoformat(),
        "reason": silence.reason,
        "created_by": silence.created_by,
    }


@router.get(
    "/silences", response_model=SilenceList, summary="Silences in force now, within the key's scope"
)
async def silences(ctx: Ctx, who: Reader) -> dict[str, Any]:
    # An area key sees the silences of its area and below; one for every area (area null)
    # only a province key sees: its reason and author are the province's business.
    found = await owner.in_force(ctx.pool)
    return {"items": [_silence_json(s) for s in found if sees(ctx, who, s.area)]}


class SilenceBody(BaseModel):
    """Hold a rule's notifications back for a while; its alerts still fire and are kept."""

    rule: str = Field(
        min_length=1, max_length=100, pattern=r"^[a-z0-9_*]+$", description="rule id or dvc_*"
    )
    area: str | None = Field(default=None, max_length=20, description="unset: every area")
    minutes: int = Field(
        ge=1,
        le=7 * 24 * 60,
        description="how long: at most a week with a province-wide key, at most "
        "IOC_API__AREA_SILENCE_MAX_MINUTES (default 12 h) with a key limited to an area",
    )
    reason: str = Field(min_length=3, max_length=500)


@router.post(
    "/silences",
    status_code=201,
    response_model=Silence,
    responses={404: {"description": "no such area"}},
    summary="Silence a rule (pattern) for a while",
    description="The rule's alerts still fire and show; nobody is told while it holds. A "
    "silence set with a key limited to an area lasts at most "
    "IOC_API__AREA_SILENCE_MAX_MINUTES and never holds an escalation to leaders above that "
    "area: the province still hears what its communes leave unacknowledged.",
)
async def create_silence(
    ctx: Ctx, request: Request, who: Silencing, body: SilenceBody
) -> dict[str, Any]:
    if body.area is not None:
        await in_scope(ctx, request, who, body.area)
    elif who.area is not None:
        await audit(ctx, request, who, "scope.denied", "denied", 403, detail={"silence": "all"})
        raise Problem(
            403, "out-of-scope", f"this key may only silence area {who.area} and below: set area"
        )
    longest = ctx.settings.api.area_silence_max_minutes
    if who.area is not None and body.minutes > longest:
        await audit(ctx, request, who, "scope.denied", "denied", 403, detail={"minutes": longest})
        raise Problem(
            403,
            "silence-too-long",
            f"a key limited to area {who.area} may silence for at most {longest} minutes; "
            "a longer silence needs a province-wide key",
        )
    silence = await owner.create(
        ctx.pool,
        body.rule,
        timedelta(minutes=body.minutes),
        reason=body.reason,
        by=who.name,
        area=body.area,
        scope=who.area,
    )
    await audit(
        ctx, request, who, "silences.create", "ok", 201, f"silence {silence.id}", body.model_dump()
    )
    return _silence_json(silence)


@router.delete(
    "/silences/{silence_id}",
    status_code=204,
    responses={404: {"description": "no such silence in force"}},
    summary="End a silence now",
)
async def delete_silence(ctx: Ctx, request: Request, who: Silencing, silence_id: int) -> Response:
    row = await owner.get(ctx.pool, silence_id)
    if row is not None and not sees(ctx, who, row.area):
        await hidden(ctx, request, who, f"silence {silence_id}", row.area)
        row = None  # answered as if it did not exist
    if row is None or row.ends_at <= datetime.now(UTC):
        raise Problem(404, "unknown-silence", f"no silence {silence_id} in force")
    await owner.end(ctx.pool, silence_id)
    await audit(ctx, request, who, "silences.end", "ok", 204, f"silence {silence_id}")
    return Response(status_code=204)
