"""The REST endpoints under ``/api/v1`` and ``/metrics``; every one needs a key (see security)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, Field

from ioc.alerts import silences as alert_silences
from ioc.api import queries
from ioc.api.context import ApiContext
from ioc.api.keys import Principal
from ioc.api.problems import Problem
from ioc.api.security import Ctx, audit, in_scope, require
from ioc.areas import Area
from ioc.localtime import local_today

__all__ = ["metrics_router", "router"]

router = APIRouter(prefix="/api/v1")
metrics_router = APIRouter()

Reader = Annotated[Principal, require("read")]
Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="items to skip")]
Resolution = Literal["1m", "1h", "1d"]
_MAX_POINTS = 20_000  # per series request; a wider range needs a coarser resolution
_STEP = {"1m": timedelta(minutes=1), "1h": timedelta(hours=1), "1d": timedelta(days=1)}
_LIMIT_DEFAULT = 50
Reading = Callable[[ApiContext, asyncpg.Connection], Awaitable[dict[str, Any]]]


def _page(items: list[Any], limit: int, offset: int, total: int) -> dict[str, Any]:
    return {
        "items": items,
        "limit": limit,
        "offset": offset,
        "total": total,
        "next_offset": offset + limit if offset + limit < total else None,
    }


def _today() -> Any:
    return local_today()


async def _area(ctx: ApiContext, request: Request, who: Principal, code: str | None) -> Area:
    """The area asked for (default: the key's own area, else the province), checked in scope."""
    code = code or who.area or ctx.areas.as_of(_today()).province.code
    await in_scope(ctx, request, who, code)
    area = ctx.area(code, _today())
    assert area is not None  # in_scope refused unknown codes
    return area


def _scope(ctx: ApiContext, who: Principal) -> frozenset[str] | None:
    return ctx.scope(who.area) if who.area is not None else None


def _range(start: datetime | None, end: datetime | None, resolution: str) -> tuple[Any, Any]:
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


# --- who am I, areas, catalogue --------------------------------------------------------------


@router.get("/me", summary="The calling key: holder, role, scope and permissions")
async def me(ctx: Ctx, who: Reader) -> dict[str, Any]:
    area = ctx.area(who.area, _today()) if who.area else None
    return {
        "name": who.name,
        "role": who.role,
        "area": who.area,
        "area_name_vi": area.name_vi if area else None,
        "permissions": sorted(who.permissions),
    }


@router.get("/areas", summary="Areas valid today within the key's scope")
async def areas(ctx: Ctx, who: Reader) -> dict[str, Any]:
    scope = _scope(ctx, who)
    listed = [a for a in ctx.areas.as_of(_today()) if scope is None or a.code in scope]
    return {"items": [queries.area_json(a) for a in listed]}


@router.get("/areas/{code}", summary="One area")
async def area(ctx: Ctx, who: Reader, request: Request, code: str) -> dict[str, Any]:
    return queries.area_json(await _area(ctx, request, who, code))


@router.get("/kpis", summary="The KPI catalogue with targets, deadlines and legal sources")
async def kpis(ctx: Ctx, who: Reader) -> dict[str, Any]:
    return {
        "items": [
            {
                "id": k.id,
                "name_vi": k.name_vi,
                "name_en": k.name_en,
                "feed": k.feed,
                "unit": k.unit,
                "direction": k.direction,
                "target": k.target.value if k.target else None,
                "by_level": dict(k.target.by_level) if k.target else {},
                "deadline": k.target.deadline.isoformat()
                if k.target and k.target.deadline
                else None,
                "source": k.target.source if k.target else None,
                # Distinct-count KPIs: what is counted once (None: a ratio of sums).
                "distinct": k.distinct,
                # A figure reported elsewhere, for comparison; not a target.
                "context": k.context.model_dump() if k.context else None,
            }
            for k in ctx.catalogue
        ]
    }


@router.get(
    "/kpis/current",
    summary="Every KPI in one area: last 24 h value, target, gap, hourly trend, data quality",
)
async def kpis_current(
    ctx: Ctx, who: Reader, request: Request, area: str | None = None
) -> dict[str, Any]:
    chosen = await _area(ctx, request, who, area)
    return await _cached_current(ctx, chosen)


async def _cached(ctx: ApiContext, key: tuple[str, str | None], read: Reading) -> dict[str, Any]:
    """A read shared by every client asking the same within the cache period."""

    async def compute() -> dict[str, Any]:
        async with ctx.pool.acquire() as conn:
            return await read(ctx, conn)

    result: dict[str, Any] = await ctx.cache.get(key, compute)
    return result


async def _cached_current(ctx: ApiContext, chosen: Area) -> dict[str, Any]:
    return await _cached(
        ctx, ("kpis", chosen.code), lambda c, conn: queries.kpis_current(c, conn, chosen)
    )


@router.get("/kpis/{kpi}/series", summary="One KPI's stored buckets over a range")
async def kpi_series(
    ctx: Ctx,
    who: Reader,
    request: Request,
    kpi: str,
    area: str | None = None,
    resolution: Resolution = "1h",
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
) -> dict[str, Any]:
    """The KPI's buckets in the area over [start, end), each with its numerator and denominator.

    A distinct-count KPI (``distinct`` in `GET /api/v1/kpis`) is never summed: its `1d`
    buckets are the stored local days, and its `1h` and `1m` buckets are counted from the
    event store when asked.
    """
    from ioc.kpi_values import series

    if kpi not in ctx.catalogue:
        raise Problem(404, "unknown-kpi", f"no KPI {kpi!r}; see GET /api/v1/kpis")
    chosen = await _area(ctx, request, who, area)
    first, last = _range(start, end, resolution)
    async with ctx.pool.acquire() as conn:
        # The Kpi, not its id: a distinct-count KPI is counted from the event store.
        points = await series(conn, ctx.catalogue.get(kpi), chosen.code, first, last, resolution)
    return {
        "kpi": kpi,
        "area": chosen.code,
        "resolution": resolution,
        "start": first.isoformat(),
        "end": last.isoformat(),
        "points": [
            {
                "bucket": p.bucket.isoformat(),
                "value": p.value,
                "numerator": p.numerator,
                "denominator": p.denominator,
            }
            for p in points
        ],
    }


@router.get("/map", summary="The area's children today, coloured by status, for the board's map")
async def area_map(
    ctx: Ctx, who: Reader, request: Request, area: str | None = None
) -> dict[str, Any]:
    chosen = await _area(ctx, request, who, area)
    return await _cached(
        ctx, ("map", chosen.code), lambda c, conn: queries.map_children(c, conn, chosen)
    )


@router.get("/feeds", summary="Each feed: events per minute, freshness, connectors, stream lag")
async def feeds(ctx: Ctx, who: Reader) -> dict[str, Any]:
    return await _cached_feeds(ctx, who)


async def _cached_feeds(ctx: ApiContext, who: Principal) -> dict[str, Any]:
    scope = _scope(ctx, who)
    return await _cached(ctx, ("feeds", who.area), lambda c, conn: queries.feeds(c, conn, scope))


@router.get("/windows", summary="Window rows of one metric: 1m windows or the 1h/1d roll-ups")
async def windows(
    ctx: Ctx,
    who: Reader,
    request: Request,
    metric: str,
    area: str | None = None,
    resolution: Resolution = "1m",
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
    limit: Limit = _LIMIT_DEFAULT,
    offset: Offset = 0,
) -> dict[str, Any]:
    from ioc.measures import METRICS

    if metric not in METRICS:
        raise Problem(404, "unknown-metric", f"no metric {metric!r}; see `ioc/measures.py`")
    first, last = _range(start, end, resolution)
    codes: list[str] | None
    if area is not None:
        await in_scope(ctx, request, who, area)
        codes = [area]
    else:
        scope = _scope(ctx, who)
        codes = sorted(scope) if scope is not None else None
    table, column = (
        ("window_metrics", "window_start")
        if resolution == "1m"
        else (f"window_metrics_{resolution}", "bucket")
    )
    where = (
        f"WHERE metric = $1 AND {column} >= $2 AND {column} < $3 "
        "AND ($4::text[] IS NULL OR area = ANY($4::text[]))"
    )
    async with ctx.pool.acquire() as conn:
        # Table and column names come from the Resolution literal above, never from input.
        count_sql = f"SELECT count(*) FROM {table} {where}"  # noqa: S608
        total = await conn.fetchval(count_sql, metric, first, last, codes)
        rows = await conn.fetch(
            f"SELECT {column} AS window_start, metric, area, count, sum, min, max "  # noqa: S608
            f"FROM {table} {where} ORDER BY {column}, area LIMIT $5 OFFSET $6",
            metric,
            first,
            last,
            codes,
            limit,
            offset,
        )
    items = [dict(r) | {"window_start": r["window_start"].isoformat()} for r in rows]
    return _page(items, limit, offset, total)


# --- alerts and silences -----------------------------------------------------------------------


@router.get("/alerts", summary="Alerts, newest first, filtered; open = firing or acknowledged")
async def alerts(
    ctx: Ctx,
    who: Reader,
    request: Request,
    state: Literal["open", "firing", "acknowledged", "resolved"] | None = None,
    severity: Literal["info", "warning", "critical"] | None = None,
    rule: str | None = None,
    kpi: str | None = None,
    area: str | None = None,
    limit: Limit = _LIMIT_DEFAULT,
    offset: Offset = 0,
) -> dict[str, Any]:
    if area is not None:
        await in_scope(ctx, request, who, area)
    states = {
        None: None,
        "open": ["firing", "acknowledged"],
    }.get(state, [state] if state else None)
    scope = _scope(ctx, who)
    where = (
        "WHERE ($1::text[] IS NULL OR state = ANY($1::text[])) "
        "AND ($2::text IS NULL OR severity = $2) AND ($3::text IS NULL OR rule_id = $3) "
        "AND ($4::text IS NULL OR kpi_id = $4) AND ($5::text IS NULL OR area = $5) "
        "AND ($6::text[] IS NULL OR area = ANY($6::text[]))"
    )
    args = [states, severity, rule, kpi, area, sorted(scope) if scope is not None else None]
    async with ctx.pool.acquire() as conn:
        total = await conn.fetchval(f"SELECT count(*) FROM alerts {where}", *args)  # noqa: S608
        rows = await conn.fetch(
            f"SELECT * FROM alerts {where} ORDER BY started_at DESC, id DESC "  # noqa: S608
            "LIMIT $7 OFFSET $8",
            *args,
            limit,
            offset,
        )
    return _page([queries.alert_json(ctx, r) for r in rows], limit, offset, total)


async def _alert_row(
    ctx: ApiContext, request: Request, who: Principal, alert_id: int
) -> asyncpg.Record:
    row = await ctx.pool.fetchrow("SELECT * FROM alerts WHERE id = $1", alert_id)
    if row is None:
        raise Problem(404, "unknown-alert", f"alert {alert_id} does not exist")
    await in_scope(ctx, request, who, row["area"])
    return row


@router.get("/alerts/{alert_id}", summary="One alert")
async def alert(ctx: Ctx, who: Reader, request: Request, alert_id: int) -> dict[str, Any]:
    return queries.alert_json(ctx, await _alert_row(ctx, request, who, _valid_id(alert_id)))


def _valid_id(value: int) -> int:
    if not 1 <= value < 2**63:
        raise Problem(404, "unknown-alert", f"alert {value} does not exist")
    return value


@router.get("/alerts/{alert_id}/history", summary="Every transition of one alert, oldest first")
async def alert_history(
    ctx: Ctx,
    who: Reader,
    request: Request,
    alert_id: int,
    limit: Limit = _LIMIT_DEFAULT,
    offset: Offset = 0,
) -> dict[str, Any]:
    await _alert_row(ctx, request, who, _valid_id(alert_id))
    async with ctx.pool.acquire() as conn:
        total = await conn.fetchval(
            "SELECT count(*) FROM alert_history WHERE alert_id = $1", alert_id
        )
        rows = await conn.fetch(
            "SELECT kind, at, level, actor, value, notified FROM alert_history "
            "WHERE alert_id = $1 ORDER BY at, id LIMIT $2 OFFSET $3",
            alert_id,
            limit,
            offset,
        )
    items = [dict(r) | {"at": r["at"].isoformat()} for r in rows]
    return _page(items, limit, offset, total)


class AckBody(BaseModel):
    """An acknowledgement; the key's holder is recorded as who took the alert on."""

    note: str | None = Field(default=None, max_length=500)


@router.post("/alerts/{alert_id}/ack", summary="Acknowledge a firing alert (stops escalation)")
async def acknowledge(
    ctx: Ctx,
    request: Request,
    who: Annotated[Principal, require("ack")],
    alert_id: int,
    body: Annotated[AckBody | None, Body()] = None,
) -> dict[str, Any]:
    await _alert_row(ctx, request, who, _valid_id(alert_id))
    evaluator = ctx.extras["evaluator"]
    note = body.note if body else None
    try:
        async with ctx.pool.acquire() as conn:
            await evaluator.acknowledge(conn, alert_id, who.name)
    except LookupError as err:
        await audit(ctx, request, who, "alerts.ack", "failed", 409, f"alert {alert_id}")
        raise Problem(409, "not-firing", str(err)) from None
    await audit(ctx, request, who, "alerts.ack", "ok", 200, f"alert {alert_id}", {"note": note})
    return queries.alert_json(ctx, await _alert_row(ctx, request, who, alert_id))


def _silence_json(silence: alert_silences.Silence) -> dict[str, Any]:
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
    return {"items": [_silence_json(s) for s in await alert_silences.in_force(ctx.pool)]}


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
    ctx: Ctx,
    request: Request,
    who: Annotated[Principal, require("silence")],
    body: SilenceBody,
) -> dict[str, Any]:
    if body.area is not None:
        await in_scope(ctx, request, who, body.area)
    elif who.area is not None:
        await audit(ctx, request, who, "scope.denied", "denied", 403, detail={"silence": "all"})
        raise Problem(
            403, "out-of-scope", f"this key may only silence area {who.area} and below: set area"
        )
    silence = await alert_silences.create(
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
async def delete_silence(
    ctx: Ctx,
    request: Request,
    who: Annotated[Principal, require("silence")],
    silence_id: int,
) -> Response:
    row = await alert_silences.get(ctx.pool, silence_id)
    if row is None or row.ends_at <= datetime.now(UTC):
        raise Problem(404, "unknown-silence", f"no silence {silence_id} in force")
    if who.area is not None and (row.area is None or row.area not in ctx.scope(who.area)):
        await audit(ctx, request, who, "scope.denied", "denied", 403, f"silence {silence_id}")
        raise Problem(403, "out-of-scope", f"silence {silence_id} is not within this key's scope")
    await alert_silences.end(ctx.pool, silence_id)
    await audit(ctx, request, who, "silences.end", "ok", 204, f"silence {silence_id}")
    return Response(status_code=204)


# --- dead letters, audit -------------------------------------------------------------------------


def _dead_letters(ctx: ApiContext) -> Any:
    index = ctx.extras.get("dead_letters")
    if index is None or not index.ready.is_set():
        raise Problem(
            503,
            "dlq-loading",
            "the dead-letter index is still reading ioc.dlq (or the broker is away); retry",
            headers={"Retry-After": "2"},
        )
    return index


def _province_wide(who: Principal) -> None:
    if who.area is not None:
        raise Problem(403, "out-of-scope", "the dead-letter topic needs a province-wide key")


@router.get("/dlq", summary="Dead letters, newest first, with counts by source and reason")
async def dead_letters(
    ctx: Ctx,
    who: Annotated[Principal, require("dlq")],
    source: str | None = None,
    reason: str | None = None,
    limit: Limit = _LIMIT_DEFAULT,
    offset: Offset = 0,
) -> dict[str, Any]:
    _province_wide(who)
    index = _dead_letters(ctx)
    entries, total, summary = index.page(source, reason, limit, offset)
    page = _page([e.json(ctx.settings) for e in entries], limit, offset, total)
    return page | {"summary": summary}


class ReplayBody(BaseModel):
    """The dead letters to send back to their topics."""

    ids: list[Annotated[str, Field(pattern=r"^\d+:\d+$")]] = Field(min_length=1, max_length=1000)


@router.post("/dlq/replay", summary="Send chosen dead letters back to the topic they came from")
async def replay(
    ctx: Ctx,
    request: Request,
    who: Annotated[Principal, require("dlq")],
    body: ReplayBody,
) -> dict[str, Any]:
    _province_wide(who)
    index = _dead_letters(ctx)
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


@router.get("/audit", summary="The audit log, newest first (admin)")
async def audit_log(
    ctx: Ctx,
    who: Annotated[Principal, require("audit")],
    action: str | None = None,
    limit: Limit = _LIMIT_DEFAULT,
    offset: Offset = 0,
) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        total = await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE $1::text IS NULL OR action = $1", action
        )
        rows = await conn.fetch(
            "SELECT at, actor, role, action, target, outcome, status, client, detail::text "
            "AS detail FROM audit_log WHERE $1::text IS NULL OR action = $1 "
            "ORDER BY id DESC LIMIT $2 OFFSET $3",
            action,
            limit,
            offset,
        )
    items = [dict(r) | {"at": r["at"].isoformat()} for r in rows]
    return _page(items, limit, offset, total)


# --- live stream, metrics ------------------------------------------------------------------------


@router.get(
    "/stream",
    summary="Server-sent events: `kpis` tiles of the area, `feeds` every 5 s, `alert` changes",
    response_class=StreamingResponse,
)
async def stream(
    ctx: Ctx, who: Reader, request: Request, area: str | None = None
) -> StreamingResponse:
    chosen = await _area(ctx, request, who, area)
    hub = ctx.extras["hub"]
    sub = hub.subscribe(_scope(ctx, who))
    return StreamingResponse(
        hub.stream(sub, lambda: _cached_current(ctx, chosen), lambda: _cached_feeds(ctx, who)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@metrics_router.get("/metrics", summary="Pipeline health in the Prometheus text format")
async def metrics(ctx: Ctx, who: Annotated[Principal, require("metrics")]) -> Response:
    from ioc.api.metrics import render

    return Response(await render(ctx), media_type="text/plain; version=0.0.4; charset=utf-8")
