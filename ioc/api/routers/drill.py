"""``GET /api/v1/kpis/{kpi}/events``: the stored events behind one KPI value (drill-through).

A KPI value is named by its KPI, area and span — a bucket of ``/kpis/{kpi}/series`` at its
resolution, or any ``from``/``to`` range (the board's tiles use their last 24 hours). The
answer lists the events behind the value's numerator or denominator (``part``), oldest
first, from the area and the areas under it (:mod:`ioc.kpis.drill`), in keyset pages: pass
``next_cursor`` back as ``cursor`` until it is null. ``format=csv`` returns the whole list as
one CSV file with Vietnamese headers (UTF-8 with a BOM, so Excel shows the diacritics), at
most :data:`ioc.kpis.drill.CSV_MAX_ROWS` rows: a larger list is refused (422) rather than cut.

The area is checked against the key's scope like every other endpoint (403 outside it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from ioc.api.context import ApiContext
from ioc.api.deps import Ctx, Reader, chosen_area
from ioc.api.models import DrillPage
from ioc.api.problems import Problem
from ioc.areas import Area
from ioc.kpis import Kpi, drill
from ioc.localtime import to_local

__all__ = ["router"]

router = APIRouter(tags=["kpis"])


_DESCRIPTION = f"""
The events behind one KPI value: those that added the KPI's numerator metric
(`part=numerator`, the default) or its denominator metric (`part=denominator`), in the area
or any area under it on the event's local day, in the value's span.

Name the span by **either** `bucket` (a bucket start from `/kpis/{{kpi}}/series`) with its
`resolution` (`1m`, `1h` default, `1d` = local days), **or** `from` and `to` (`[from, to)`).
Times need a UTC offset.

Pages are oldest first, keyed on (time, event id): pass `next_cursor` back as `cursor` for
the next page (null on the last). `limit` is {drill.DEFAULT_LIMIT} by default, at most
{drill.MAX_LIMIT}. The first page (no cursor) also gives `total`.

`format=csv` returns every event of the list as one CSV file (UTF-8 with BOM; Vietnamese
headers {", ".join(f"“{c}”" for c in drill.CSV_COLUMNS)}; times in Vietnam time and UTC), at
most {drill.CSV_MAX_ROWS:,} rows: a longer list is refused with 422 `export-too-large`;
narrow the range. The response carries `X-Total-Count`.

Errors (problem+json): 404 unknown KPI or area; 403 an area outside the key's scope; 422 a
span given twice or not at all, a time that starts no bucket, `to` not after `from`, a
cursor this API did not give, a limit out of range.
"""


def _local(at: datetime) -> str:
    return to_local(at).strftime("%Y%m%d-%H%M")


def _span(
    ctx: ApiContext,
    bucket: datetime | None,
    resolution: drill.Resolution | None,
    start: datetime | None,
    end: datetime | None,
) -> tuple[datetime, datetime]:
    if bucket is not None:
        if start is not None or end is not None:
            raise Problem(
                422,
                "ambiguous-span",
                "give either bucket (with resolution) or from and to, not both",
            )
        width = timedelta(seconds=ctx.settings.streams.window_seconds)
        return drill.bucket_span(bucket, resolution or "1h", width)
    if resolution is not None:
        raise Problem(
            422,
            "resolution-without-bucket",
            "resolution names the width of a bucket: give bucket too",
        )
    if start is None or end is None:
        missing = (
            "from and to" if start is None and end is None else "from" if start is None else "to"
        )
        raise Problem(
            422,
            "missing-span",
            f"{missing} missing: name the value's span by bucket (+ resolution) or by from and to",
        )
    return start, end


@router.get(
    "/kpis/{kpi}/events",
    summary="The events behind a KPI value: its numerator or denominator, paged or as CSV",
    description=_DESCRIPTION,
    response_model=DrillPage,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "a page of events (JSON) or, with format=csv, the CSV export",
        },
        404: {"description": "no such KPI or area"},
    },
)
async def kpi_events(
    ctx: Ctx,
    who: Reader,
    request: Request,
    kpi: str,
    area: Annotated[str | None, Query(description="area code; default: the key's area")] = None,
    part: Annotated[
        drill.Part, Query(description="whose events: the numerator's or the denominator's")
    ] = "numerator",
    bucket: Annotated[AwareDatetime | None, Query(description="a bucket start")] = None,
    resolution: Annotated[
        drill.Resolution | None, Query(description="the bucket's width; 1h when unset")
    ] = None,
    start: Annotated[AwareDatetime | None, Query(alias="from", description="span start")] = None,
    end: Annotated[
        AwareDatetime | None, Query(alias="to", description="span end, excluded")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=drill.MAX_LIMIT)] = drill.DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of a page")
    ] = None,
    format: Annotated[Literal["json", "csv"], Query(description="csv: the whole list")] = "json",
) -> Any:
    if kpi not in ctx.catalogue:
        raise Problem(404, "unknown-kpi", f"no KPI {kpi!r}; see GET /api/v1/kpis")
    chosen_kpi = ctx.catalogue.get(kpi)
    chosen = await chosen_area(ctx, request, who, area)
    try:
        first, last = _span(ctx, bucket, resolution, start, end)
        after = drill.Cursor.decode(cursor) if cursor else None
        if format == "csv":
            return await _csv(ctx, chosen_kpi, part, chosen, first, last)
        async with ctx.pool.acquire() as conn:
            page = await drill.events_behind(
                conn, chosen_kpi, part, chosen.code, first, last, limit=limit, after=after
            )
            total = (
                None
                if after
                else await drill.count_events(conn, chosen_kpi, part, chosen.code, first, last)
            )
    except drill.DrillError as err:
        slug = "invalid-cursor" if "cursor" in str(err) else "invalid-span"
        raise Problem(422, slug, str(err)) from None
    return {
        "kpi": kpi,
        "name_vi": chosen_kpi.name_vi,
        "name_en": chosen_kpi.name_en,
        "part": part,
        "metric": drill.metric_of(chosen_kpi, part),
        "area": chosen.code,
        "area_name_vi": chosen.name_vi,
        "from": first.astimezone(UTC).isoformat(),
        "to": last.astimezone(UTC).isoformat(),
        "limit": limit,
        "total": total,
        "items": [e.json() for e in page.items],
        "next_cursor": page.next_cursor.encode() if page.next_cursor else None,
    }


async def _csv(
    ctx: ApiContext,
    kpi: Kpi,
    part: drill.Part,
    area: Area,
    first: datetime,
    last: datetime,
) -> StreamingResponse:
    async with ctx.pool.acquire() as conn:
        total = await drill.count_events(conn, kpi, part, area.code, first, last)
    if total > drill.CSV_MAX_ROWS:
        raise Problem(
            422,
            "export-too-large",
            f"{total:,} events, at most {drill.CSV_MAX_ROWS:,} per file: narrow from/to (e.g. "
            "one day or one hour), or read the JSON pages",
        )

    async def lines() -> AsyncIterator[bytes]:
        yield "".join(drill.csv_lines([])).encode()
        # One connection and one query for the whole file (see drill.iter_events), sent on in
        # chunks as the rows come.
        async with ctx.pool.acquire() as conn:
            chunk: list[drill.Event] = []
            async for event in drill.iter_events(conn, kpi, part, area.code, first, last):
                chunk.append(event)
                if len(chunk) == 500:
                    yield "".join(drill.csv_lines(chunk, header=False)).encode()
                    chunk.clear()
            yield "".join(drill.csv_lines(chunk, header=False)).encode()

    name = f"su-kien-{kpi.id}-{part}-{area.code}-{_local(first)}-{_local(last)}.csv"
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Total-Count": str(total),
        },
    )
