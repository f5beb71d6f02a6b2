"""Period reports for leaders: every KPI of a month, quarter or year against its target.

A report is what leaders send up the chain (to the provincial People's Committee, to the
ministry): an Excel workbook and a PDF. Both are drawn from one :class:`Report`, which
:func:`gather` reads:

- the KPIs over the period (:func:`ioc.kpis.periods.period_values`): value against target
  and deadline, the trend per part of the period, the worst child areas and agencies, the
  forecast at the period's end;
- the alerts of the period in the area and every area under it.

So the workbook (:mod:`ioc.reports.xlsx`), the PDF (:mod:`ioc.reports.pdf`) and the API
(``GET /api/v1/kpis/periods``, ``GET /api/v1/reports/{period}.xlsx|.pdf``) show the same
figures. ``ioc reports build`` (:mod:`ioc.reports.cli`) writes both files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import asyncpg

from ioc import text
from ioc.areas import Area
from ioc.kpis import Kpi, KpiCatalogue
from ioc.kpis.forecast import Forecast
from ioc.kpis.periods import Period, PeriodValues, period_values, refresh

__all__ = [
    "MAX_ALERTS",
    "AlertRow",
    "Report",
    "forecast_text",
    "gather",
    "report_alerts",
]

MAX_ALERTS: Final = 1000
"""At most this many alerts are listed (the newest); the report says when there were more."""


def forecast_text(kpi: Kpi, forecast: Forecast | None) -> str:
    """The forecast in one line (:func:`ioc.text.forecast_text`, the one wording)."""
    return text.forecast_text(
        forecast.status if forecast is not None else None,
        forecast.reach_date if forecast is not None else None,
        kpi.target.deadline if kpi.target is not None else None,
    )


@dataclass(frozen=True)
class AlertRow:
    """One alert that was open at some moment of the period."""

    id: int
    rule_id: str
    area: str
    area_name: str | None
    severity: str
    kpi_id: str | None
    state: str
    started_at: datetime
    resolved_at: datetime | None
    last_value: float | None
    target: float | None


@dataclass(frozen=True)
class Report:
    """What a period report shows.

    Attributes:
        province: The province's Vietnamese name (the header of every page).
        values: Every KPI over the period in the area.
        alerts: The alerts open at some moment of the period, oldest first.
        more_alerts: How many more there were than :data:`MAX_ALERTS`.
        made_at: When the report was made.
    """

    province: str
    values: PeriodValues
    alerts: list[AlertRow]
    more_alerts: int
    made_at: datetime

    @property
    def file_stem(self) -> str:
        """``bao-cao-<area>-<period>``: the name of both files."""
        return f"bao-cao-{self.values.area.code}-{self.values.period.label}"


# Alerts open at some moment of [start, end), on the area or any area ever under it.
_ALERTS = """
SELECT al.id, al.rule_id, al.area, al.severity, al.kpi_id, al.state, al.started_at,
       al.resolved_at, al.last_value, al.target,
       (SELECT a.name_vi FROM areas a WHERE a.code = al.area
        ORDER BY a.valid_from DESC NULLS LAST LIMIT 1) AS area_name,
       count(*) OVER () AS total
FROM alerts al
WHERE al.started_at < $3 AND (al.resolved_at IS NULL OR al.resolved_at >= $2)
  AND (al.area = $1 OR EXISTS (
      SELECT 1 FROM area_ancestors x WHERE x.area = al.area AND x.ancestor = $1))
ORDER BY al.started_at DESC, al.id DESC
LIMIT $4
"""


async def report_alerts(
    conn: asyncpg.Connection, area: str, period: Period
) -> tuple[list[AlertRow], int]:
    """The alerts open at some moment of the period in the area or under it, oldest first.

    Returns:
        At most :data:`MAX_ALERTS` alerts (the newest), and how many more there were.
    """
    rows = await conn.fetch(_ALERTS, area, period.start, period.end, MAX_ALERTS)
    total = int(rows[0]["total"]) if rows else 0
    alerts = [
        AlertRow(
            id=r["id"],
            rule_id=r["rule_id"],
            area=r["area"],
            area_name=r["area_name"],
            severity=r["severity"],
            kpi_id=r["kpi_id"],
            state=r["state"],
            started_at=r["started_at"],
            resolved_at=r["resolved_at"],
            last_value=r["last_value"],
            target=r["target"],
        )
        for r in reversed(rows)
    ]
    return alerts, total - len(alerts)


async def gather(
    conn: asyncpg.Connection,
    catalogue: KpiCatalogue | list[Kpi],
    area: Area,
    period: Period,
    *,
    province: str,
    now: datetime | None = None,
    recompute: bool = False,
) -> Report:
    """Read everything a report shows.

    Args:
        conn: A connection to a migrated database whose ``areas`` table is synced.
        catalogue: The KPIs.
        area: The report's area.
        period: The period.
        province: The province's name for the header.
        now: The present (aware); default the clock.
        recompute: Recompute the period's stored values from the window rows first
            (:func:`ioc.kpis.periods.refresh`), as ``ioc reports build`` does.
    """
    now = now or datetime.now(UTC)
    if recompute:
        await refresh(conn, catalogue, period, now)
    values = await period_values(conn, catalogue, area, period, now=now)
    alerts, more = await report_alerts(conn, area.code, period)
    return Report(province=province, values=values, alerts=alerts, more_alerts=more, made_at=now)
