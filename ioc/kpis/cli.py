"""`ioc kpis …`: the KPI catalogue, and where one KPI stands against its target.

`ioc kpis list` needs nothing but the catalogue file; `ioc kpis show` reads the database:
it first (re)computes the KPI's values for the range it shows, so it is always current.
`ioc kpis events` lists the stored events behind a KPI's numerator or denominator
(the query is :mod:`ioc.kpis.drill`, the same the API and the board use).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ioc._cli import err_console, fail, out_console, print_json
from ioc.areas import Area, AreaFileError, AreaRegistry, load_areas
from ioc.config import Settings, get_settings
from ioc.kpis import Kpi, KpiCatalogue, KpiFileError, drill, load_kpis
from ioc.kpis.forecast import Forecast
from ioc.kpis.values import Status, compute, current
from ioc.localtime import aware, local_day_start, local_today, to_local
from ioc.text import LEVEL_LABELS, forecast_text, format_number, format_value

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

_DIRECTION_VI = {"higher": "càng cao càng tốt", "lower": "càng thấp càng tốt"}

CatalogueFile = Annotated[
    Path | None,
    typer.Option(
        "--file",
        help="KPI catalogue to read instead of IOC_ALERTS__KPIS_FILE / the shipped one.",
        exists=True,
        dir_okay=False,
    ),
]


def _catalogue(path: Path | None, settings: Settings | None) -> KpiCatalogue:
    if path is None and settings is not None:
        path = settings.alerts.kpis_file
    try:
        return load_kpis(path)
    except KpiFileError as err:
        fail(f"The KPI catalogue cannot be used; fix these and run again.\n{err}")


def _kpi_in_area(
    file: Path | None, kpi_id: str, area: str | None
) -> tuple[Settings, Kpi, Area, datetime]:
    """The settings, the KPI and the area a command names, and now; a clear line if not."""
    settings = get_settings()
    try:
        kpi = _catalogue(file, settings).get(kpi_id)
    except KeyError as err:
        fail(str(err.args[0]))
    try:
        registry = load_areas(settings.areas_file)
    except AreaFileError as err:
        fail(f"The areas file cannot be used; fix these and run again.\n{err}")
    now = datetime.now(UTC)
    return settings, kpi, _resolve_area(registry, area, local_today(now)), now


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
    if kpi.target.slo:
        text += " (SLO vận hành)"
    return f"{text} — {kpi.target.source}"


def _formula_text(kpi: Kpi) -> str:
    """Numerator over denominator; a distinct-count KPI says what it counts once."""
    text = f"{kpi.numerator}\n/ {kpi.denominator}"
    if kpi.distinct is not None:
        text = f"đếm riêng biệt {kpi.distinct}:\n{text}"
    return text


def _reported_text(kpi: Kpi) -> str | None:
    """Results reported for the KPI: not targets, nothing is judged against them."""
    if not kpi.reported:
        return None
    lines = [
        f"đã báo cáo: {format_value(r.value, kpi.unit)} ({r.area}, {r.period}"
        f"{', năm ước tính' if r.estimate else ''}) — {r.source} (kết quả, không phải mục tiêu)"
        for r in kpi.reported
    ]
    return "\n".join(lines)


@app.command("list")
def list_kpis(
    file: CatalogueFile = None,
    feed: Annotated[str | None, typer.Option(help="Only this feed's KPIs (dvc, payment…).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the KPIs: id, name, formula, unit, direction, target, deadline, source, results.

    A distinct-count KPI's formula says what it counts once (e.g. "đếm riêng biệt
    procedure_code"); an operational target says "SLO"; a result reported for the KPI is
    shown under the target as "đã báo cáo", for comparison only.
    """
    catalogue = _catalogue(file, None if file is not None else get_settings())
    kpis = catalogue.for_feed(feed) if feed is not None else list(catalogue)
    if as_json:
        # The catalogue's own fields (its YAML schema), so a script reads what the file says.
        print_json([kpi.model_dump(mode="json") for kpi in kpis])
        return
    table = Table(title=f"{len(kpis)} chỉ tiêu — {catalogue.source}", show_lines=True)
    table.add_column("id", no_wrap=True)
    for column in ("tên", "công thức (tử số / mẫu số)", "đơn vị", "chiều", "mục tiêu / đã báo cáo"):
        table.add_column(column, overflow="fold")
    for kpi in kpis:
        table.add_row(
            kpi.id,
            f"{kpi.name_vi}\n[dim]{kpi.name_en}[/]",
            _formula_text(kpi),
            kpi.unit,
            _DIRECTION_VI[kpi.direction],
            "\n".join(t for t in (_target_text(kpi), _reported_text(kpi)) if t is not None),
        )
    out_console().print(table)


def _resolve_area(registry: AreaRegistry, query: str | None, day: date) -> Area:
    if query is None:
        return registry.as_of(day).province
    matches = registry.find(query, on=day)
    if not matches:
        fail(
            f"No area {query!r} exists on {day} in {registry.source}. Give a code (e.g. 325) "
            "or a name (e.g. 'Văn Lâm'); `ioc kpis show … --area` defaults to the province."
        )
    return matches[0]


def _forecast_text(kpi: Kpi, forecast: Forecast | None) -> str:
    text = forecast_text(
        forecast.status if forecast is not None else None,
        forecast.reach_date if forecast is not None else None,
        kpi.target.deadline if kpi.target is not None else None,
    )
    head, late, deadline = text.partition(" — không kịp hạn")
    return f"{head} — [red]không kịp hạn{deadline}[/]" if late else text


def _status_json(kpi: Kpi, area: Area, status: Status, days: int) -> dict[str, Any]:
    forecast = status.forecast
    return {
        "kpi": kpi.id,
        "unit": kpi.unit,
        "direction": kpi.direction,
        "area": {"code": area.code, "name_vi": area.name_vi, "level": area.level.value},
        "start": status.start.isoformat(),
        "end": status.end.isoformat(),
        "value": status.value,
        "numerator": status.numerator,
        "denominator": status.denominator,
        "target": status.target,
        "deadline": kpi.target.deadline.isoformat() if kpi.target and kpi.target.deadline else None,
        "gap": status.gap,
        "meets": status.meets,
        "trend_days": days,
        "trend_per_day": status.trend_per_day,
        "forecast": None
        if forecast is None
        else {
            "status": forecast.status,
            "reach_date": forecast.reach_date.isoformat() if forecast.reach_date else None,
            "model": forecast.model,
            "slope_per_day": forecast.slope_per_day,
            "mae": forecast.mae,
            "days_used": forecast.days_used,
        },
        "daily": [
            {
                "bucket": p.bucket.isoformat(),
                "value": p.value,
                "numerator": p.numerator,
                "denominator": p.denominator,
            }
            for p in status.daily
        ],
    }


def _print_status(kpi: Kpi, area: Area, status: Status, days: int) -> None:
    out = out_console()
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
        slo = " (SLO vận hành)" if kpi.target.slo else ""
        out.print(
            f"Mục tiêu cấp {_level(status.level.value)}: "
            f"{format_value(status.target, kpi.unit)}{deadline}{slo} — {kpi.target.source}"
        )
        if status.gap is not None:
            state = "đạt" if status.meets else "chưa đạt"
            word = "thiếu" if status.gap > 0 else "vượt"
            out.print(f"Chênh lệch: {state}, {word} {_points(abs(status.gap), kpi.unit)}")
    reported = _reported_text(kpi)
    if reported is not None:
        for line in reported.splitlines():
            out.print(line[0].upper() + line[1:], markup=False)
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

    conn = await connect(settings)  # out of reach: one line and exit 3 (ioc._cli.run_app)
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
        fail(f"The database is not migrated ({err}). Run `ioc db migrate` first.", code=1)
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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
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
    settings, kpi, chosen, now = _kpi_in_area(file, kpi_id, area)
    status = asyncio.run(_refresh_and_read(settings, kpi, chosen, now, days))
    if as_json:
        print_json(_status_json(kpi, chosen, status, days))
    else:
        _print_status(kpi, chosen, status, days)


# --- ioc kpis events: the stored events behind a KPI value (ioc.kpis.drill) ---------------

_PART_VI = {"numerator": "tử số", "denominator": "mẫu số"}


def _when(text: str, option: str) -> datetime:
    """An ISO time or date; without an offset it is Vietnam time (a date: local midnight)."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        fail(
            f"{option} {text!r} is not a time: write e.g. 2026-11-23, "
            "2026-11-23T08:00 (giờ Việt Nam) or 2026-11-23T01:00Z"
        )
    return aware(at)


def _details(payload: dict[str, object]) -> str:
    return "; ".join(
        f"{k}={json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v}"
        for k, v in payload.items()
    )


@app.command("events")
def events(
    kpi_id: Annotated[str, typer.Argument(help="The KPI's id (see `ioc kpis list`).")],
    area: Annotated[
        str | None,
        typer.Option(
            help="Area code or name (e.g. 33 or 'Phố Hiến'); the areas under it count too. "
            "Default: the province."
        ),
    ] = None,
    part: Annotated[
        drill.Part,
        typer.Option(help="Whose events: the numerator's (tử số) or the denominator's (mẫu số)."),
    ] = "numerator",
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Start (included): ISO time or date; no offset = Vietnam time. Default: 24 h ago.",
        ),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="End (excluded), as --from. Default: now.")
    ] = None,
    bucket: Annotated[
        str | None,
        typer.Option(
            help="Instead of --from/--to: a bucket start of the KPI's series (see --resolution)."
        ),
    ] = None,
    resolution: Annotated[
        drill.Resolution,
        typer.Option(help="The bucket's width: 1m (a stream window), 1h, 1d (a local day)."),
    ] = "1h",
    limit: Annotated[
        int, typer.Option(min=1, max=drill.MAX_LIMIT, help="Events to show (the oldest first).")
    ] = 20,
    csv_file: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            help=f"Write every event (at most {drill.CSV_MAX_ROWS:,}) to this CSV file: "
            "Vietnamese headers, UTF-8 with a BOM so Excel shows the diacritics.",
            dir_okay=False,
            writable=True,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the events behind a KPI's numerator or denominator in an area and period.

    The events are those stored by the stream workers that added the KPI's numerator (or
    denominator) metric, in the area or any area under it on the event's day, in [--from,
    --to) or in one bucket of the KPI's series (--bucket with --resolution). The default
    period is the last 24 hours. The table shows the oldest --limit events; --csv writes them
    all to a file Excel opens with its Vietnamese intact.
    """
    settings, kpi, chosen, now = _kpi_in_area(None, kpi_id, area)
    try:
        if bucket is not None:
            if start is not None or end is not None:
                fail("Give either --bucket (with --resolution) or --from/--to, not both.")
            width = timedelta(seconds=settings.streams.window_seconds)
            first, last = drill.bucket_span(_when(bucket, "--bucket"), resolution, width)
        else:
            last = _when(end, "--to") if end else now
            first = _when(start, "--from") if start else last - timedelta(days=1)
        drill.metric_of(kpi, part)
    except drill.DrillError as err:
        fail(str(err))
    asyncio.run(
        _show(
            settings, kpi, part, chosen.code, chosen.name_vi, first, last, limit, csv_file, as_json
        )
    )


async def _show(
    settings: Settings,
    kpi: Kpi,
    part: drill.Part,
    area: str,
    area_name: str,
    first: datetime,
    last: datetime,
    limit: int,
    csv_file: Path | None,
    as_json: bool,
) -> None:
    import asyncpg

    from ioc.db import connect

    conn = await connect(settings)  # out of reach: one line and exit 3 (ioc._cli.run_app)
    try:
        total = await drill.count_events(conn, kpi, part, area, first, last)
        page = await drill.events_behind(conn, kpi, part, area, first, last, limit=limit)
        if csv_file is not None:
            if total > drill.CSV_MAX_ROWS:
                fail(
                    f"{total:,} events, at most {drill.CSV_MAX_ROWS:,} per file: narrow "
                    "--from/--to and export in several files."
                )
            with csv_file.open("w", encoding="utf-8", newline="") as out:
                rows = drill.write_csv(
                    out, [e async for e in drill.iter_events(conn, kpi, part, area, first, last)]
                )
    except drill.DrillError as err:
        fail(str(err))
    except asyncpg.UndefinedTableError as err:
        fail(f"The database is not migrated ({err}). Run `ioc db migrate` first.", code=1)
    finally:
        await conn.close()
    if as_json:
        print_json(
            {
                "kpi": kpi.id,
                "part": part,
                "metric": drill.metric_of(kpi, part),
                "area": area,
                "from": first.isoformat(),
                "to": last.isoformat(),
                "total": total,
                "events": [e.json() for e in page.items],
                "csv_rows": rows if csv_file is not None else None,
            }
        )
        return
    screen = out_console()
    span = f"{to_local(first):%d/%m/%Y %H:%M}–{to_local(last):%d/%m/%Y %H:%M} (giờ Việt Nam)"
    screen.print(f"[bold]{kpi.name_vi}[/] — {kpi.id}")
    metric = drill.metric_of(kpi, part)
    screen.print(
        f"Sự kiện của {_PART_VI[part]} ({metric}), {area_name} ({area}), {span}: "
        f"[bold]{format_number(total, 0)}[/]"
    )
    if page.items:
        table = Table()
        for column in ("thời điểm", "địa bàn", "đối tượng", "loại", "nguồn", "chi tiết"):
            table.add_column(column, overflow="fold")
        for event in page.items:
            table.add_row(
                f"{to_local(event.occurred_at):%d/%m/%Y %H:%M:%S}",
                f"{event.area_name_vi or ''} ({event.area})",
                event.entity,
                event.kind,
                event.source,
                _details(event.payload),
            )
        screen.print(table)
    if total > len(page.items) and csv_file is None:
        screen.print(
            f"Hiển thị {len(page.items)} sự kiện đầu tiên; --limit (tối đa {drill.MAX_LIMIT}) hoặc "
            "--csv FILE để lấy tất cả."
        )
    if csv_file is not None:
        screen.print(f"Đã ghi {format_number(rows, 0)} sự kiện vào {csv_file}")
