"""Period values and period reports: what ``/kpis/periods`` and ``/reports/…`` return.

The JSON of :func:`period_json` and the files of :func:`report_file` come from the same
:func:`ioc.reports.gather` / :func:`ioc.kpis.periods.period_values`, so the figures of a
downloaded report are the API's.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, Literal

from ioc.api.context import ApiContext
from ioc.api.queries.areas import area_json
from ioc.api.queries.common import iso
from ioc.api.queries.kpis import forecast_json
from ioc.areas import Area
from ioc.kpis.periods import KpiPeriod, Period, PeriodValues, period_values
from ioc.localtime import local_today
from ioc.reports import gather

__all__ = ["ReportFormat", "period_info", "period_json", "periods", "report_file"]

ReportFormat = Literal["xlsx", "pdf"]
MEDIA_TYPES: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def _item_json(item: KpiPeriod) -> dict[str, Any]:
    kpi = item.kpi
    return {
        "kpi": kpi.id,
        "name_vi": kpi.name_vi,
        "unit": kpi.unit,
        "direction": kpi.direction,
        "distinct": kpi.distinct,
        "numerator": item.numerator,
        "denominator": item.denominator,
        "value": item.value,
        "target": item.target,
        # Positive = short of the target by that much (Kpi.gap), as in the report.
        "gap": item.gap,
        "meets": item.meets,
        "deadline": kpi.target.deadline.isoformat() if kpi.target and kpi.target.deadline else None,
        "source": kpi.target.source if kpi.target else None,
        "trend": [
            {
                "label": p.label,
                "start": iso(p.start),
                "numerator": p.numerator,
                "denominator": p.denominator,
                "value": p.value,
            }
            for p in item.trend
        ],
        "trend_per_day": item.trend_per_day,
        "forecast": forecast_json(item.kpi, item.forecast),
        "worst_children": [
            {
                "area": c.area,
                "name_vi": c.name_vi,
                "numerator": c.numerator,
                "denominator": c.denominator,
                "value": c.value,
                "gap": c.gap,
            }
            for c in item.worst_children
        ],
        "agencies": [
            {
                "agency": a.agency,
                "numerator": a.numerator,
                "denominator": a.denominator,
                "value": a.value,
                "gap": a.gap,
            }
            for a in item.agencies
        ],
    }


def period_info(period: Period) -> dict[str, Any]:
    """An official period as the API shows it (``PeriodInfo``)."""
    return {
        "kind": period.kind,
        "label": period.label,
        "label_vi": period.label_vi,
        "first_day": period.first.isoformat(),
        "last_day": period.last.isoformat(),
        "start": iso(period.start),
        "end": iso(period.end),
    }


def period_json(values: PeriodValues) -> dict[str, Any]:
    """Every KPI over one period in one area, as ``GET /api/v1/kpis/periods`` returns it."""
    period = values.period
    return {
        "area": area_json(values.area),
        "period": period_info(period),
        "as_of": iso(values.as_of),
        "items": [_item_json(item) for item in values.items],
    }


def parse_period(text: str) -> Period:
    """The period asked for; ``ytd`` ends today in Vietnam."""
    return Period.parse(text, today=local_today())


async def periods(ctx: ApiContext, area: Area, period: Period) -> dict[str, Any]:
    """:func:`period_json` of the stored values (kept current by ``ioc alerts run``)."""
    async with ctx.pool.acquire() as conn:
        values = await period_values(conn, list(ctx.catalogue), area, period)
    return period_json(values)


async def report_file(
    ctx: ApiContext, area: Area, period: Period, fmt: ReportFormat
) -> tuple[bytes, str, str]:
    """The report as a file: its bytes, media type and file name."""
    from ioc.reports.pdf import pdf_bytes
    from ioc.reports.xlsx import workbook_bytes

    province = ctx.areas.as_of(min(period.last, local_today())).province.name_vi
    async with ctx.pool.acquire() as conn:
        report = await gather(
            conn, list(ctx.catalogue), area, period, province=province, now=datetime.now(UTC)
        )
    # Rendering is CPU work (the PDF subsets its font): off the event loop.
    render = workbook_bytes if fmt == "xlsx" else pdf_bytes
    content = await asyncio.to_thread(render, report)
    return content, MEDIA_TYPES[fmt], f"{report.file_stem}.{fmt}"
