"""``/api/v1/alerts``: lists, one alert with its causes, its history, and acknowledging one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field

from ioc.api.context import ApiContext
from ioc.api.deps import (
    LIMIT_DEFAULT,
    Acknowledging,
    Ctx,
    Evaluator,
    Limit,
    Offset,
    Reader,
    scope_of,
)
from ioc.api.keys import Principal
from ioc.api.models import Alert, AlertHistoryPage, AlertPage
from ioc.api.problems import Problem
from ioc.api.queries.alerts import AlertFilter, alert_json, alert_page, alert_row, history_page
from ioc.api.security import audit, hidden, in_scope, sees

__all__ = ["AckBody", "router"]

router = APIRouter(tags=["alerts"])

_OPEN = ["firing", "acknowledged"]


@router.get(
    "/alerts",
    response_model=AlertPage,
    summary="Alerts, newest first, filtered; open = firing or acknowledged",
)
async def alerts(
    ctx: Ctx,
    who: Reader,
    request: Request,
    state: Literal["open", "firing", "acknowledged", "resolved"] | None = None,
    severity: Literal["info", "warning", "critical"] | None = None,
    rule: str | None = None,
    kpi: str | None = None,
    area: str | None = None,
    limit: Limit = LIMIT_DEFAULT,
    offset: Offset = 0,
) -> dict[str, Any]:
    if area is not None:
        await in_scope(ctx, request, who, area)
    states = _OPEN if state == "open" else [state] if state else None
    chosen = AlertFilter(states, severity, rule, kpi, area, scope_of(ctx, who))
    async with ctx.pool.acquire() as conn:
        return await alert_page(ctx, conn, chosen, limit, offset)


async def _alert_row(
    ctx: ApiContext, request: Request, who: Principal, alert_id: int
) -> asyncpg.Record:
    """The alert, if it exists and is within the key's scope (404 alike otherwise)."""
    row = None
    if 1 <= alert_id < 2**63:  # larger ids are no bigint: they exist nowhere
        async with ctx.pool.acquire() as conn:
            row = await alert_row(conn, alert_id)
    if row is not None and not sees(ctx, who, row["area"]):
        await hidden(ctx, request, who, f"alert {alert_id}", row["area"])
        row = None
    if row is None:
        raise Problem(404, "unknown-alert", f"alert {alert_id} does not exist")
    return row


@router.get(
    "/alerts/{alert_id}",
    response_model=Alert,
    responses={404: {"description": "no such alert"}},
    summary="One alert",
)
async def alert(ctx: Ctx, who: Reader, request: Request, alert_id: int) -> dict[str, Any]:
    return alert_json(ctx, await _alert_row(ctx, request, who, alert_id))


@router.get(
    "/alerts/{alert_id}/history",
    response_model=AlertHistoryPage,
    responses={404: {"description": "no such alert"}},
    summary="Every transition of one alert, oldest first",
)
async def alert_history(
    ctx: Ctx,
    who: Reader,
    request: Request,
    alert_id: int,
    limit: Limit = LIMIT_DEFAULT,
    offset: Offset = 0,
) -> dict[str, Any]:
    await _alert_row(ctx, request, who, alert_id)
    async with ctx.pool.acquire() as conn:
        return await history_page(conn, alert_id, limit, offset)


class AckBody(BaseModel):
    """An acknowledgement; the key's holder is recorded as who took the alert on."""

    note: str | None = Field(default=None, max_length=500)


@router.post(
    "/alerts/{alert_id}/ack",
    response_model=Alert,
    responses={404: {"description": "no such alert"}, 409: {"description": "not firing"}},
    summary="Acknowledge a firing alert (stops escalation)",
)
async def acknowledge(
    ctx: Ctx,
    request: Request,
    who: Acknowledging,
    evaluator: Evaluator,
    alert_id: int,
    body: Annotated[AckBody | None, Body()] = None,
) -> dict[str, Any]:
    await _alert_row(ctx, request, who, alert_id)
    note = body.note if body else None
    try:
        async with ctx.pool.acquire() as conn:
            await evaluator.acknowledge(conn, alert_id, who.name)
    except LookupError as err:
        await audit(ctx, request, who, "alerts.ack", "failed", 409, f"alert {alert_id}")
        raise Problem(409, "not-firing", str(err)) from None
    await audit(ctx, request, who, "alerts.ack", "ok", 200, f"alert {alert_id}", {"note": note})
    return alert_json(ctx, await _alert_row(ctx, request, who, alert_id))
