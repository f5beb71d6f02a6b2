"""``GET /metrics``: the pipeline's health for Prometheus (see :mod:`ioc.api.metrics`)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse

from ioc.api.deps import Ctx, Scraper
from ioc.api.metrics import render

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    summary="Pipeline health in the Prometheus text format",
)
async def metrics(ctx: Ctx, who: Scraper) -> Response:
    return Response(await render(ctx), media_type="text/plain; version=0.0.4; charset=utf-8")
