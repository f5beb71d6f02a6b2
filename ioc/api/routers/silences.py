"""``/api/v1/silences``: those in force, silencing a rule for a while, ending a silence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from ioc.alerts import silences as owner
from ioc.api.deps import Ctx, Reader, Silencing
from ioc.api.problems import Problem
from ioc.api.security import audit, in_scope

__all__ = ["SilenceBody", "router"]

router = APIRouter()


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


@router.get("/silences", summary="Silences in force now")
async def silences(ctx: Ctx, who: Reader) -> dict[str, Any]:
    return {"items": [_silence_json(s) for s in await owner.in_force(ctx.pool)]}


class SilenceBody(BaseModel):
    """Hold a rule's notifications back for a while; its alerts still fire and are kept."""

    rule: str = Field(
        min_length=1, max_length=100, pattern=r"^[a-z0-9_*]+$", description="rule id or dvc_*"
    )
    area: str | None = Field(default=None, max_length=20, description="unset: every area")
    minutes: int = Field(ge=1, le=7 * 24 * 60, description="how long, at most a week")
    reason: str = Field(min_length=3, max_length=500)


@router.post("/silences", status_code=201, summary="Silence a rule (pattern) for a while")
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
    silence = await owner.create(
        ctx.pool,
        body.rule,
        timedelta(minutes=body.minutes),
        reason=body.reason,
        by=who.name,
        area=body.area,
    )
    await audit(
        ctx, request, who, "silences.create", "ok", 201, f"silence {silence.id}", body.model_dump()
    )
    return _silence_json(silence)


@router.delete("/silences/{silence_id}", status_code=204, summary="End a silence now")
async def delete_silence(ctx: Ctx, request: Request, who: Silencing, silence_id: int) -> Response:
    row = await owner.get(ctx.pool, silence_id)
    if row is None or row.ends_at <= datetime.now(UTC):
        raise Problem(404, "unknown-silence", f"no silence {silence_id} in force")
    if who.area is not None and (row.area is None or row.area not in ctx.scope(who.area)):
        await audit(ctx, request, who, "scope.denied", "denied", 403, f"silence {silence_id}")
        raise Problem(403, "out-of-scope", f"silence {silence_id} is not within this key's scope")
    await owner.end(ctx.pool, silence_id)
    await audit(ctx, request, who, "silences.end", "ok", 204, f"silence {silence_id}")
    return Response(status_code=204)
