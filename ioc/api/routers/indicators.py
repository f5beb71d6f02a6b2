"""``/api/v1/indicators``: periodic indicators a department enters, their state, the upload.

- ``GET /indicators``: each indicator of an area with the period due now, its value against
  the target, the due day and the state (reported, due, late = "Chưa báo cáo");
- ``POST /indicators/values``: enter one value (a key whose role may ``report``: department
  or admin; a key made for one department enters only that department's indicators); a
  value for a period already entered is a correction, kept in the history;
- ``GET /indicators/template.xlsx`` / ``.csv``: the upload template for the periods due now;
- ``POST /indicators/upload``: a filled-in template (XLSX or CSV as the request body), imported
  whole or not at all: every bad row is listed in the 422's ``errors``;
- ``GET /indicators/{id}/history``: every entry of one indicator in one area, with who and when.

Each entry and each upload, refused or not, leaves a line in the audit log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from ioc.api.deps import Ctx, Reader, Reporting, chosen_area, scope_of
from ioc.api.models import IndicatorEntry, IndicatorHistory, IndicatorList, IndicatorUpload
from ioc.api.problems import Problem
from ioc.api.queries import indicators as queries
from ioc.api.security import audit
from ioc.indicators import files
from ioc.indicators.store import check_entry, save
from ioc.localtime import local_today

__all__ = ["EntryBody", "router"]

router = APIRouter(tags=["indicators"])


@router.get(
    "/indicators",
    response_model=IndicatorList,
    responses={404: {"description": "no such area"}},
    summary="Periodic indicators of an area: value of the period due now, target, due day, state",
)
async def indicators(
    ctx: Ctx, who: Reader, request: Request, area: str | None = None
) -> dict[str, Any]:
    """Every indicator the area's level reports, as of today in Vietnam.

    ``state`` is ``reported`` when the period that ended last has a value, ``due`` while its
    due day has not passed, ``late`` once it has (the board shows "Chưa báo cáo"); ``late``
    also names an earlier period still missing past its own due day.
    """
    chosen = await chosen_area(ctx, request, who, area)
    return await queries.indicator_list(ctx, chosen, local_today())


class EntryBody(BaseModel):
    """One value of one indicator, area and period."""

    indicator: str = Field(max_length=100, description="its id, e.g. work_files_online")
    area: str | None = Field(
        default=None,
        max_length=20,
        description="GSO code; unset: the key's area, else the province",
    )
    period: str = Field(max_length=20, description="2025-07, 2025-Q3 or 2025, as the indicator")
    value: float = Field(
        allow_inf_nan=False,
        description="in the indicator's unit: a fraction 0–1 for percent (0.6 = 60 %), a whole "
        "number from 1 for rank",
    )
    note: str | None = Field(default=None, max_length=500)


@router.post(
    "/indicators/values",
    status_code=201,
    response_model=IndicatorEntry,
    responses={404: {"description": "no such indicator or area"}},
    summary="Enter (or correct) one indicator's value for an area and a period",
)
async def enter_value(
    ctx: Ctx, request: Request, who: Reporting, body: EntryBody
) -> dict[str, Any]:
    if body.indicator not in ctx.indicators:
        raise Problem(
            404, "unknown-indicator", f"no indicator {body.indicator!r}; see GET /api/v1/indicators"
        )
    indicator = ctx.indicators.get(body.indicator)
    if who.department is not None and indicator.department != who.department:
        await audit(
            ctx,
            request,
            who,
            "scope.denied",
            "denied",
            403,
            detail={"indicator": indicator.id, "department": who.department},
        )
        raise Problem(
            403,
            "other-department",
            f"{indicator.id} is reported by {ctx.indicators.department(indicator).name_vi}; "
            f"this key enters only the indicators of department {who.department}",
        )
    chosen = await chosen_area(ctx, request, who, body.area)
    entry, problems = check_entry(
        ctx.indicators,
        ctx.areas,
        indicator=body.indicator,
        area=chosen.code,
        period=body.period,
        value=body.value,
        today=local_today(),
        note=body.note,
    )
    target = f"indicator {body.indicator} area {chosen.code} period {body.period}"
    if entry is None:
        await audit(ctx, request, who, "indicators.enter", "failed", 422, target, body.model_dump())
        raise Problem(
            422,
            "invalid-entry",
            "; ".join(f"{field}: {reason}" for field, reason in problems),
            errors=[{"loc": ["body", field], "msg": reason} for field, reason in problems],
        )
    async with ctx.pool.acquire() as conn:
        (saved,) = await save(conn, [entry], by=who.name, key_id=who.key_id, via="api")
    result = queries.entry_json(saved, who.name, "api")
    await audit(
        ctx,
        request,
        who,
        "indicators.enter",
        "ok",
        201,
        target,
        {k: result[k] for k in ("value", "previous", "revision", "note")},
    )
    ctx.cache.clear()
    return result


_TEMPLATE_MEDIA = {
    200: {
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in files.MEDIA_TYPES.values()
        }
    },
    404: {"description": "no such template or area"},
}


@router.get(
    "/indicators/template.{fmt}",
    summary="The upload template (xlsx or csv) for the periods due now",
    response_class=Response,
    responses=_TEMPLATE_MEDIA,  # type: ignore[arg-type]
)
async def indicator_template(
    ctx: Ctx,
    who: Reader,
    request: Request,
    fmt: str,
    area: str | None = None,
    communes: Annotated[bool, Query(description="also a row for each commune below")] = False,
) -> Response:
    """One row per indicator the area reports, with the period due now and its due day.

    With ``communes``, also one per commune below. The ``value`` column is left to fill in.
    """
    if fmt not in files.MEDIA_TYPES:
        raise Problem(404, "not-found", f"no template .{fmt}; ask for template.xlsx or .csv")
    chosen = await chosen_area(ctx, request, who, area)
    today = local_today()
    kind: files.Format = "xlsx" if fmt == "xlsx" else "csv"
    content = queries.template_file(ctx, chosen, today, kind, communes)
    name = f"chi-tieu-dinh-ky-{chosen.code}-{today:%Y-%m-%d}.{fmt}"
    return Response(
        content,
        media_type=files.MEDIA_TYPES[kind],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/indicators/upload",
    status_code=201,
    response_model=IndicatorUpload,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in files.MEDIA_TYPES.values()
            },
        }
    },
    responses={413: {"description": "the file is larger than 2 MB"}},
    summary="Import a filled-in template (XLSX or CSV as the body): every row, or none",
)
async def upload(ctx: Ctx, request: Request, who: Reporting) -> dict[str, Any]:
    """Import the file whole, or not at all.

    Every bad row is listed (row number as the spreadsheet shows it, column, reason) in the
    422's ``errors``, and nothing is imported until the file has none. Rows whose value is
    empty are skipped and counted. Values of percent indicators are in percent (60 or 60%).
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > files.MAX_BYTES:
        raise Problem(413, "upload-too-large", f"the file is larger than {files.MAX_BYTES:,} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > files.MAX_BYTES:
            raise Problem(
                413, "upload-too-large", f"the file is larger than {files.MAX_BYTES:,} bytes"
            )
    try:
        entries, skipped = files.entries_of(
            bytes(data),
            ctx.indicators,
            ctx.areas,
            local_today(),
            scope_of(ctx, who),
            who.department,
        )
    except files.UploadError as err:
        await audit(
            ctx,
            request,
            who,
            "indicators.upload",
            "failed",
            422,
            detail={"bytes": len(data), "problems": len(err.problems)},
        )
        shown = err.problems[:20]
        more = len(err.problems) - len(shown)
        raise Problem(
            422,
            "invalid-upload",
            f"{len(err.problems)} problem(s), nothing imported: "
            + "; ".join(p.text() for p in shown)
            + (f"; and {more} more in errors" if more else ""),
            errors=[
                {"loc": ["row", str(p.row), *([p.column] if p.column else [])], "msg": p.reason}
                for p in err.problems
            ],
        ) from None
    async with ctx.pool.acquire() as conn:
        saved = await save(conn, entries, by=who.name, key_id=who.key_id, via="upload")
    items = [queries.entry_json(s, who.name, "upload") for s in saved]
    await audit(
        ctx,
        request,
        who,
        "indicators.upload",
        "ok",
        201,
        detail={
            "imported": len(items),
            "skipped": skipped,
            "entries": [
                {k: i[k] for k in ("indicator", "area", "period", "value", "previous")}
                for i in items
            ],
        },
    )
    ctx.cache.clear()
    return {"imported": len(items), "skipped": skipped, "items": items}


@router.get(
    "/indicators/{indicator}/history",
    response_model=IndicatorHistory,
    responses={404: {"description": "no such indicator or area"}},
    summary="Every entry of one indicator in one area, newest first: who, when, what it replaced",
)
async def indicator_history(
    ctx: Ctx, who: Reader, request: Request, indicator: str, area: str | None = None
) -> dict[str, Any]:
    if indicator not in ctx.indicators:
        raise Problem(
            404, "unknown-indicator", f"no indicator {indicator!r}; see GET /api/v1/indicators"
        )
    chosen = await chosen_area(ctx, request, who, area)
    return await queries.history_json(ctx, indicator, chosen)
