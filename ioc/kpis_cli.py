"""`ioc kpis …`: the KPI catalogue, and where one KPI stands against its target.

`ioc kpis list` needs nothing but the catalogue file; `ioc kpis show` reads the database:
it first (re)computes the KPI's values for the range it shows, so it is always current.
`ioc kpis events` lists the stored events behind a KPI's numerator or denominator
(:mod:`ioc.drill_cli`).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from ioc.areas import Area, AreaFileError, AreaRegistry, load_areas
from ioc.config import Settings, get_settings
from ioc.forecast import Forecast
from ioc.kpi_values import Status, compute, current
from ioc.kpis import Kpi, KpiCatalogue, KpiFileError, load_kpis
from ioc.localtime import local_day_start, local_today, to_local
from ioc.text import LEVEL_LABELS, format_number, format_value

__all__ = ["app"]

app = typer.Typer(
    help=(
        "KPIs (chỉ tiêu): ratios of window sums with a target, deadline and legal source. "
        "The catalogue is a YAML file the province edits (IOC_ALERTS__KPIS_FILE; unset = "
        "the shipped ioc/data/kpis.yaml)."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
err_console = Console(stderr=True, soft_wrap=True)

_DIRECTION_VI = {"higher": "càng cao càng tốt", "lower": "càng thấp càng tốt"}
_STATUS_VI = {
    "met": "đã đạt",
    "on_track": "dự kiến đạt",
    "moving_away": "không đạt: xu hướng đi xa mục tiêu",
    "flat": "không đạt: xu hướng đi ngang",
    "beyond_horizon": "không đạt trong 10 năm với xu hướng hiện tại",
    "too_few_days": "chưa đủ số ngày để dự báo",
}

CatalogueFile = Annotated[
    Path | None,
    typer.Option(
        "--file",
        help="KPI catalogue to read instead of IOC_ALERTS__KPIS_FILE / the shipped one.",
        exists=True,
        dir_okay=False,
    ),
]


def _fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(message, markup=False)
    raise typer.Exit(code)


def _catalogue(path: Path | None, settings: Settings | None) -> KpiCatalogue:
    if path is None and settings is not None:
        path = settings.alerts.kpis_file
    try:
        return load_kpis(path)
    except KpiFileError as err:
        _fail(f"The KPI catalogue cannot be used; fix these and run again.\n{err}")


def _number(value: float, decimals: int) -> str:
    """A Vietnamese number with exactly ``decimals`` decimals (columns, rates of change)."""
    return format_number(value, decimals, fixed=True)


def _level(level: str) -> str:
    return LEVEL_LABELS["vi"][level].lower()


def _points(value: float, unit: str, signed: bool = False) -> str:
    """A difference in the KPI's units: percentage points for percent KPIs."""
    sign = "+" if signed and value > 0 else ""
    if unit == "percent":
        return f"{sign}{_number(value * 100, 2)} điểm %"
    return f"{sign}{_number(value, 4)}"


def _target_text(kpi: Kpi) -> str:
    if kpi.target is None:
        return "chưa đặt"
    text = f"{format_value(kpi.target.value, kpi.unit)}"
    if kpi.target.by_level:
        levels = ", ".join(
            f"{_level(lv.value)} {format_value(v, kpi.unit)}"
            for lv, v in kpi.target.by_level.items()
        )
        text += f" ({levels})"
    if kpi.target.deadline is not None:
        text += f" trước {kpi.target.deadline:%d/%m/%Y}"
    return f"{text} — {kpi.target.source}"


def _formula_text(kpi: Kpi) -> str:
    """Numerator over denominator; a distinct-count KPI says what it counts once."""
    text = f"{kpi.numerator}\n/ {kpi.denominator}"
    if kpi.distinct is not None:
        text = f"đếm riêng biệt {kpi.distinct}:\n{text}"
    return text


def _context_text(kpi: Kpi) -> str | None:
    """A reported figure shown for comparison: not a target, nothing is judged against it."""
    if kpi.context is None:
        return None
    c = kpi.context
    return (
        f"tham chiếu: {format_value(c.value, kpi.unit)} ({c.area}, {c.year}) — {c.source} "
        "(số liệu báo cáo, không phải mục tiêu)"
    )


@app.command("list")
def list_kpis(
    file: CatalogueFile = None,
    feed: Annotated[str | None, typer.Option(help="Only this feed's KPIs (dvc, payment…).")] = None,
) -> None:
    """List the KPIs: id, name, formula, unit, direction, target, deadline, source, context.

    A distinct-count KPI's formula says what it counts once (e.g. "đếm riêng biệt
    procedure_code"); a figure reported elsewhere is shown under the target as "tham chiếu",
    for comparison only.
    """
    catalogue = _catalogue(file, None if file is not None else get_settings())
    kpis = catalogue.for_feed(feed) if feed is not None else list(catalogue)
    table = Table(title=f"{len(kpis)} chỉ tiêu — {catalogue.source}", show_lines=True)
    table.add_column("id", no_wrap=True)
    for column in ("tên", "công thức (tử số / mẫu số)", "đơn vị", "chiều", "mục tiêu / tham chiếu"):
        table.add_column(column, overflow="fold")
    for kpi in kpis:
        table.add_row(
            kpi.id,
            f"{kpi.name_vi}\n[dim]{kpi.name_en}[/]",
            _formula_text(kpi),
            kpi.unit,
            _DIRECTION_VI[kpi.direction],
            "\n".join(t for t in (_target_text(kpi), _context_text(kpi)) if t is not None),
        )
    Console().print(table)


def _resolve_area(registry: AreaRegistry, query: str | None, day: date) -> Area:
    if query is None:
        return registry.as_of(day).province
    matches = registry.find(query, on=day)
    if not matches:
        _fail(
            f"No area {query!r} exists on {day} in {registry.source}. Give a code (e.g. 325) "
            "or a name (e.g. 'Văn Lâm'); `ioc kpis show … --area` defaults to the province."
        )
    return matches[0]


def _forecast_text(kpi: Kpi, forecast: Forecast | None) -> str:
    if forecast is None:
        return "không có (chỉ tiêu chưa có mục tiêu)"
    text = _STATUS_VI[forecast.status]
    if forecast.reach_date is not None:
        text += f" ngày {forecast.reach_date:%d/%m/%Y}"
    deadline = kpi.target.deadline if kpi.target is not None else None
    if deadline is not None and forecast.status != "met":
        if forecast.reach_date is None or forecast.reach_date > deadline:
            text += f" — [red]không kịp hạn {deadline:%d/%m/%Y}[/]"
        else:
            text += f" — kịp hạn {deadline:%d/%m/%Y}"
    return text


def _print_status(kpi: Kpi, area: Area, status: Status, days: int) -> None:
    out = Console()
    out.print(f"[bold]{kpi.name_vi}[/] ({kpi.name_en}) — {kpi.id}")
    counted = f"đếm riêng biệt {kpi.distinct}: " if kpi.distinct is not None else ""
    out.print(
        f"Công thức: {counted}{kpi.numerator} / {kpi.denominator}; {_DIRECTION_VI[kpi.direction]}",
        markup=False,
    )
    out.print(f"Địa bàn: {area.name_vi} ({area.code}, cấp {_level(area.level.value)})")
    span = f"{to_local(status.start):%d/%m %H:%M}–{to_local(status.end):%d/%m %H:%M}"
    out.print(
        f"Hiện tại ({span}): [bold]{format_value(status.value, kpi.unit)}[/] "
        f"({_number(status.numerator, 0)} / {_number(status.denominator, 0)})"
    )
    if status.target is None:
        out.print("Mục tiêu: chưa đặt")
    else:
        assert kpi.target is not None  # a level target implies a target
        deadline = f" trước {kpi.target.deadline:%d/%m/%Y}" if kpi.target.deadline else ""
        out.print(
            f"Mục tiêu cấp {_level(status.level.value)}: "
            f"{format_value(status.target, kpi.unit)}{deadline} — {kpi.target.source}"
        )
        if status.gap is not None:
            state = "đạt" if status.meets else "chưa đạt"
            word = "thiếu" if status.gap > 0 else "vượt"
            out.print(f"Chênh lệch: {state}, {word} {_points(abs(status.gap), kpi.unit)}")
    context = _context_text(kpi)
    if context is not None:
        out.print(context[0].upper() + context[1:], markup=False)
    trend = status.trend_per_day
    out.print(
        f"Xu hướng ({days} ngày): "
        + (
            f"{_points(trend, kpi.unit, signed=True)}/ngày"
            if trend is not None
            else "chưa đủ dữ liệu"
        )
    )
    out.print(f"Dự báo: {_forecast_text(kpi, status.forecast)}")
    if status.forecast is not None:
        mae = status.forecast.mae
        error = _points(mae, kpi.unit) if mae is not None else "chưa đủ ngày để đo"
        out.print(
            f"  Mô hình: {status.forecast.model}; sai số dự báo 1 ngày (MAE, kiểm tra lùi trên "
            f"{status.forecast.days_used} ngày): {error}"
        )
    if status.daily:
        table = Table(title="Theo ngày (giờ Việt Nam)")
        for column in ("ngày", "tử số", "mẫu số", "giá trị"):
            table.add_column(column, justify="right")
        for point in status.daily[-14:]:
            table.add_row(
                f"{to_local(point.bucket):%d/%m/%Y}",
                _number(point.numerator, 0),
                _number(point.denominator, 0),
                format_value(point.value, kpi.unit),
            )
        out.print(table)


async def _refresh_and_read(
    settings: Settings, kpi: Kpi, area: Area, now: datetime, days: int
) -> Status:
    import asyncpg

    from ioc.db import connect

    try:
        conn = await connect(settings)
    except (OSError, asyncpg.PostgresError) as err:
        _fail(
            f"Cannot reach the database ({type(err).__name__}: {err}). Start it with `ioc up` "
            "or point IOC_DATABASE_URL at it.",
            code=1,
        )
    try:
        window = timedelta(days=1)
        today = local_day_start(now)
        # Recompute what is shown, so late events and edits of the areas file are included.
        await compute(conn, [kpi], today - timedelta(days=days), now, "1d")
        hour = (now - window).replace(minute=0, second=0, microsecond=0)
        await compute(conn, [kpi], hour, now, "1h")
        if not await conn.fetchval("SELECT count(*) FROM areas"):
            err_console.print(
                "The areas table is empty: district and province figures need it. "
                "Run `ioc db migrate` to copy the areas file into the database."
            )
        return await current(conn, kpi, area.code, area.level, now, window=window, days=days)
    except asyncpg.UndefinedTableError as err:
        _fail(f"The database is not migrated ({err}). Run `ioc db migrate` first.", code=1)
    finally:
        await conn.close()


@app.command()
def show(
    kpi_id: Annotated[str, typer.Argument(help="The KPI's id (see `ioc kpis list`).")],
    area: Annotated[
        str | None,
        typer.Option(help="Area code or name (e.g. 325 or 'Văn Lâm'). Default: the province."),
    ] = None,
    days: Annotated[
        int, typer.Option(min=2, max=730, help="Days of daily values for trend and forecast.")
    ] = 30,
    file: CatalogueFile = None,
) -> None:
    """Show one KPI in one area: value, target, gap, trend and forecast.

    The value covers the last 24 h; the target is the one of the area's level; the trend is
    per day over the last DAYS days; the forecast gives the day the target is met at that
    trend, with the model's measured one-day-ahead error. The KPI's hourly values for the
    last day and daily values for the last DAYS days are recomputed from the window rows
    first, so the figures include every event counted so far. A distinct-count KPI (e.g.
    dvc_services_with_online_dossiers) is counted from the event store: its 24 h value over
    the whole span, its daily values per local day.
    """
    settings = get_settings()
    catalogue = _catalogue(file, settings)
    try:
        kpi = catalogue.get(kpi_id)
    except KeyError as err:
        _fail(str(err.args[0]))
    try:
        registry = load_areas(settings.areas_file)
    except AreaFileError as err:
        _fail(f"The areas file cannot be used; fix these and run again.\n{err}")
    now = datetime.now(UTC)
    chosen = _resolve_area(registry, area, local_today(now))
    status = asyncio.run(_refresh_and_read(settings, kpi, chosen, now, days))
    _print_status(kpi, chosen, status, days)


# `ioc kpis events`, in its own module (it imports this one's helpers when it runs).
from ioc.drill_cli import events as _events  # noqa: E402

app.command("events")(_events)
