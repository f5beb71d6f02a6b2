"""``/api/v1/dlq``: dead letters, newest first, and replaying chosen ones (province-wide keys)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ioc.api.deps import LIMIT_DEFAULT, Ctx, DeadLetterKeeper, DeadLetters, Limit, Offset
from ioc.api.models import DeadLetterPage, ReplayResult
from ioc.api.queries.common import page
from ioc.api.security import audit

__all__ = ["ReplayBody", "router"]

router = APIRouter(tags=["dead letters"])


@router.get(
    "/dlq",
    response_model=DeadLetterPage,
    summary="Dead letters, newest first, with counts by source and reason",
)
async def dead_letters(
    ctx: Ctx,
    who: DeadLetterKeeper,
    index: DeadLetters,
    source: str | None = None,
    reason: str | None = None,
    limit: Limit = LIMIT_DEFAULT,
    offset: Offset = 0,
) -> dict[str, Any]:
    entries, total, summary = index.page(source, reason, limit, offset)
    listed = page([e.json(ctx.settings) for e in entries], limit, offset, total)
    return listed | {"summary": summary}


class ReplayBody(BaseModel):
    """The dead letters to send back to their topics."""

    ids: list[Annotated[str, Field(pattern=r"^\d+:\d+$")]] = Field(min_length=1, max_length=1000)


@router.post(
    "/dlq/replay",
    response_model=ReplayResult,
    summary="Send chosen dead letters back to the topic they came from",
)
async def replay(
    ctx: Ctx, request: Request, who: DeadLetterKeeper, index: DeadLetters, body: ReplayBody
) -> dict[str, Any]:
    replayed, refused = await index.replay(body.ids)
    await audit(
        ctx,
        request,
        who,
        "dlq.replay",
        "ok" if replayed else "failed",
        200,
        f"{len(replayed)} dead letters",
        {"replayed": replayed, "refused": [r["id"] for r in refused]},
    )
    return {"replayed": replayed, "refused": refused}
