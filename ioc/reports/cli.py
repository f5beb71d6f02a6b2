"""`ioc reports build`: the period report of an area as an Excel workbook and a PDF."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import asyncpg
import typer

from ioc._cli import command_settings, err_console, fail, with_connection
from ioc.areas import Area, AreaFileError, AreaRegistry, load_areas
from ioc.kpis import KpiCatalogue, KpiFileError, load_kpis
from ioc.kpis.periods import Period, PeriodError
from ioc.localtime import local_today
from ioc.reports import Report, gather

__all__ = ["app"]

app = typer.Typer(
    help="Period reports for leaders: every KPI of a month, quarter or year against its target.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def _area(registry: AreaRegistry, query: str | None, period: Period) -> tuple[Area, str]:
    """The area (default: the province) and the province's name, as of the period's last day."""
    day = min(period.last, local_today())
    province = registry.as_of(day).province
    if query is None:
        return province, province.name_vi
    matches = registry.find(query, on=day)
    if not matches:
        fail(f"No area {query!r} exists on {day} in {registry.source}; give a code or a name.")
    return matches[0], province.name_vi


@app.command()
def build(
    period: Annotated[
        str,
        typer.Option(help="2025-07-14 (a day), 2025-07 (a month), 2025-Q3, 2025 or ytd."),
    ],
    area: Annotated[
        str | None, typer.Option(help="Area code or name (e.g. 33). Default: the province.")
    ] = None,
    out: Annotated[
        Path, typer.Option(help="Folder to write the two files in.", file_okay=False)
    ] = Path(),
) -> None:
    """Write the period's report: `bao-cao-<area>-<period>.xlsx` and `.pdf`.

    Each KPI against its target and deadline, its trend over the period, the forecast at the
    period's end, the worst communes and agencies, and the alerts of the period. The period's
    KPI values are recomputed from the stored window rows and events first, so the report
    includes every event counted so far; its figures are those of
    `GET /api/v1/kpis/periods?period=…&area=…`.
    """
    from ioc.reports.pdf import pdf_bytes
    from ioc.reports.xlsx import workbook_bytes

    settings = command_settings()
    try:
        chosen_period = Period.parse(period)
    except PeriodError as err:
        fail(str(err))
    try:
        catalogue: KpiCatalogue = load_kpis(settings.alerts.kpis_file)
        registry = load_areas(settings.areas_file)
    except (KpiFileError, AreaFileError) as err:
        fail(f"A data file cannot be used; fix it and run again.\n{err}")
    chosen, province = _area(registry, area, chosen_period)

    async def read(conn: asyncpg.Connection) -> Report:
        return await gather(
            conn,
            catalogue,
            chosen,
            chosen_period,
            province=province,
            now=datetime.now(UTC),
            recompute=True,
        )

    report = asyncio.run(with_connection(settings, read))  # unreachable: ioc._cli.run_app
    out.mkdir(parents=True, exist_ok=True)
    for suffix, content in (("xlsx", workbook_bytes(report)), ("pdf", pdf_bytes(report))):
        path = out / f"{report.file_stem}.{suffix}"
        path.write_bytes(content)
        err_console.print(f"Đã ghi {path}", markup=False)
