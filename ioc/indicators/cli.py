"""`ioc indicators …`: periodic indicators a department reports, from the command line.

`ioc indicators list` shows each indicator of an area with the period due now, its value
against the target and its state (reads the database); `ioc indicators template` writes the
upload template (needs only the files); `ioc indicators import FILE` imports a filled-in
template whole or not at all, the way `POST /api/v1/indicators/upload` does, with an audit
line naming who imported it.
"""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import typer
from rich.table import Table

from ioc._cli import command_settings, err_console, fail, out_console, print_json, with_connection
from ioc.areas import Area, AreaFileError, AreaRegistry, load_areas
from ioc.config import Settings
from ioc.indicators import files
from ioc.indicators.catalogue import IndicatorCatalogue, IndicatorFileError, load_indicators
from ioc.indicators.periods import due_date, latest_ended
from ioc.indicators.store import STATE_LABELS, IndicatorState, save, states, sync_catalogue
from ioc.localtime import local_today
from ioc.text import format_number, format_value

__all__ = ["app", "show_value"]

app = typer.Typer(
    help=(
        "Periodic indicators (chỉ tiêu định kỳ) a department enters monthly, quarterly or "
        "yearly: the catalogue is IOC_INDICATORS_FILE (unset: the one shipped for "
        "IOC_PROVINCE)."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

AreaOption = Annotated[
    str | None, typer.Option("--area", help="GSO code of the area; unset: the province.")
]


def show_value(value: float | None, unit: str) -> str:
    """A value as people read it: 60 %, hạng 12, 1.234,5; "—" for none."""
    if value is None:
        return "—"
    if unit == "rank":
        return f"hạng {value:.0f}"
    if unit == "percent":
        return format_value(value, "percent")
    return format_number(value, 2)


def _load(settings: Settings) -> tuple[IndicatorCatalogue, AreaRegistry]:
    try:
        catalogue = load_indicators(settings.indicators_file, province=settings.province)
    except IndicatorFileError as err:
        fail(f"The indicator catalogue cannot be used; fix these and run again.\n{err}")
    try:
        areas = load_areas(settings.areas_file, province=settings.province)
    except AreaFileError as err:
        fail(f"The areas file cannot be used; fix these and run again.\n{err}")
    return catalogue, areas


def _area(areas: AreaRegistry, code: str | None) -> Area:
    today = local_today()
    if code is None:
        return areas.as_of(today).province
    try:
        return areas.get(code, today)
    except KeyError as err:
        fail(str(err.args[0]))


@app.command("list")
def list_indicators(
    area: AreaOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per indicator.")] = False,
) -> None:
    """Each indicator of the area: the period due now, value vs target, due day, state."""
    settings = command_settings()
    catalogue, areas = _load(settings)
    chosen = _area(areas, area)

    async def work(conn: asyncpg.Connection) -> list[IndicatorState]:
        await sync_catalogue(conn, catalogue)
        return await states(conn, catalogue, chosen, local_today())

    found = asyncio.run(with_connection(settings, work))
    if as_json:
        print_json([_json(s) for s in found])
        return
    table = Table(title=f"Chỉ tiêu định kỳ — {chosen.name_vi}")
    for column in ("chỉ tiêu", "kỳ", "giá trị", "mục tiêu", "hạn", "trạng thái", "sở, ngành"):
        table.add_column(column)
    for s in found:
        unit = s.indicator.unit
        estimate = " (ước tính)" if s.indicator.target and s.indicator.target.estimate else ""
        state = STATE_LABELS[s.state][0]
        table.add_row(
            s.indicator.name_vi,
            s.period.label_vi,
            show_value(s.value, unit),
            show_value(s.target, unit) + estimate,
            f"{s.due:%d/%m/%Y}" + (" (ước tính)" if s.indicator.due_estimate else ""),
            f"[red bold]{state}[/]" if s.state == "late" else state,
            catalogue.department(s.indicator).name_vi,
        )
    out_console().print(table)


def _json(s: IndicatorState) -> dict[str, Any]:
    return {
        "id": s.indicator.id,
        "area": s.area.code,
        "period": s.period.label,
        "due": s.due,
        "state": s.state,
        "value": s.value,
        "target": s.target,
        "meets": s.meets,
        "entered_by": s.entered_by,
        "entered_at": s.entered_at,
    }


@app.command()
def template(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the file.")],
    area: AreaOption = None,
    communes: Annotated[
        bool, typer.Option("--communes", help="Also a row for each commune below.")
    ] = False,
) -> None:
    """Write the upload template (.xlsx or .csv, by the file name) for the periods due now."""
    settings = command_settings()
    catalogue, areas = _load(settings)
    chosen = _area(areas, area)
    fmt: files.Format = "csv" if output.suffix.lower() == ".csv" else "xlsx"
    today = local_today()
    places = [chosen]
    if communes:
        places += [a for a in areas.descendants(chosen.code, today) if a.level.value == "commune"]
    rows = []
    for indicator in catalogue:
        period = latest_ended(indicator.period, today)
        rows += [
            (indicator, place, period, due_date(indicator, period))
            for place in places
            if place.level in indicator.levels
        ]
    output.write_bytes(files.template(catalogue, rows, fmt))
    err_console.print(f"{len(rows)} rows to fill in written to {output}.")


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="A filled-in template (.xlsx or .csv).")],
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who entered the values (kept with each); default: your login."),
    ] = None,
) -> None:
    """Import a filled-in template: every row, or none (each bad row is listed)."""
    settings = command_settings()
    catalogue, areas = _load(settings)
    who = by or f"cli:{getpass.getuser()}"

    async def work(conn: asyncpg.Connection) -> tuple[int, int]:
        from ioc.api.queries.audit import write_line

        # The file is read once the database answers: an import that cannot be stored is
        # told so first, whatever the file holds.
        try:
            data = file.read_bytes()
        except OSError as err:
            fail(f"Cannot read {file}: {err}")
        try:
            entries, skipped = files.entries_of(data, catalogue, areas, local_today())
        except files.UploadError as err:
            fail(
                f"{file}: {len(err.problems)} problem(s), nothing imported; fix these and run "
                "again:\n" + "\n".join(f"  - {p.text()}" for p in err.problems)
            )
        await sync_catalogue(conn, catalogue)
        saved = await save(conn, entries, by=who, key_id=None, via="cli")
        await write_line(
            conn,
            None,
            who,
            None,
            "indicators.import",
            str(file),
            "ok",
            0,
            "cli",
            {
                "imported": len(saved),
                "skipped": skipped,
                "entries": [
                    {
                        "indicator": s.entry.indicator.id,
                        "area": s.entry.area.code,
                        "period": s.entry.period.label,
                        "value": s.entry.value,
                        "previous": s.previous,
                    }
                    for s in saved
                ],
            },
        )
        return len(saved), skipped

    count, skipped = asyncio.run(with_connection(settings, work))
    err_console.print(f"{count} value(s) imported by {who}; {skipped} row(s) without a value.")
