"""``/api/v1/kpis/periods`` and ``/api/v1/reports``: KPIs per official period, and the report.

A period is ``2025-07-14`` (a day), ``2025-07`` (a month), ``2025-Q3`` (a quarter), ``2025``
(a year) or ``ytd`` (1 January to today), in Vietnam's calendar. The report's figures are the
period values' (:mod:`ioc.api.queries.reports`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from ioc.api.deps import Ctx, Reader, chosen_area
from ioc.api.models import PeriodValues
from ioc.api.problems import Problem
from ioc.api.queries import reports as queries
from ioc.kpis.periods import Period, PeriodError

__all__ = ["router"]

router = APIRouter(tags=["reports"])


def _period(text: str) -> Period:
    try:
        return queries.parse_period(text)
    except PeriodError as err:
        raise Problem(422, "bad-period", str(err)) from None


@router.get(
    "/kpis/periods",
    response_model=PeriodValues,
    responses={404: {"description": "no such area"}},
    summary="Every KPI over a day, month, quarter, year or the year to date, against target",
)
async def kpi_periods(
    ctx: Ctx, who: Reader, request: Request, period: str, area: str | None = None
) -> dict[str, Any]:
    """Each KPI's exact value over the period, against its target.

    The value is the ratio of the period's sums (a distinct-count KPI is counted over the whole
    period), with target, gap, the trend per part of the period, the worst child areas, DVC
    agencies and the forecast at the period's end.
    """
    chosen_period = _period(period)
    return await queries.periods(ctx, await chosen_area(ctx, request, who, area), chosen_period)


@router.get(
    "/reports/{name}",
    summary="The period report as an Excel workbook or a PDF: /reports/2025-Q3.xlsx",
    response_class=Response,
    responses={
        200: {
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in queries.MEDIA_TYPES.values()
            }
        },
        404: {"description": "no such report or area"},
    },
)
async def report(
    ctx: Ctx, who: Reader, request: Request, name: str, area: str | None = None
) -> Response:
    """``{period}.xlsx`` or ``{period}.pdf``: the report ``ioc reports build`` writes."""
    period_text, _, fmt = name.rpartition(".")
    if fmt not in queries.MEDIA_TYPES or not period_text:
        raise Problem(404, "unknown-report", f"no report {name!r}; ask for 2025-Q3.xlsx or .pdf")
    chosen_period = _period(period_text)
    chosen = await chosen_area(ctx, request, who, area)
    content, media, filename = await queries.report_file(
        ctx, chosen, chosen_period, "xlsx" if fmt == "xlsx" else "pdf"
    )
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
