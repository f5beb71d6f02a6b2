"""`ioc kpis events`: the stored events behind a KPI's numerator or denominator.

Registered on the `ioc kpis` app by :mod:`ioc.kpis_cli`; the query is :mod:`ioc.drill`, the
same the API (`GET /api/v1/kpis/{kpi}/events`) and the board use.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from ioc import drill
from ioc.config import Settings
from ioc.kpis import Kpi
from ioc.localtime import aware, local_today, to_local
from ioc.text import format_number

__all__ = ["events"]

_PART_VI = {"numerator": "tử số", "denominator": "mẫu số"}
err_console = Console(stderr=True, soft_wrap=True)


def _fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(message, markup=False)
    raise typer.Exit(code)


def _when(text: str, option: str) -> datetime:
    """An ISO time or date; without an offset it is Vietnam time (a date: local midnight)."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        _fail(
            f"{option} {text!r} is not a time: write e.g. 2026-11-23, "
            "2026-11-23T08:00 (giờ Việt Nam) or 2026-11-23T01:00Z"
        )
    return aware(at)


def _details(payload: dict[str, object]) -> str:
    return "; ".join(
        f"{k}={json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v}"
        for k, v in payload.items()
    )


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
) -> None:
    """List the events behind a KPI's numerator or denominator in an area and period.

    The events are those stored by the stream workers that added the KPI's numerator (or
    denominator) metric, in the area or any area under it on the event's day, in [--from,
    --to) or in one bucket of the KPI's series (--bucket with --resolution). The default
    period is the last 24 hours. The table shows the oldest --limit events; --csv writes them
    all to a file Excel opens with its Vietnamese intact.
    """
    from ioc.areas import AreaFileError, load_areas
    from ioc.config import get_settings
    from ioc.kpis_cli import _catalogue, _resolve_area

    settings = get_settings()
    try:
        kpi = _catalogue(None, settings).get(kpi_id)
    except KeyError as err:
        _fail(str(err.args[0]))
    try:
        registry = load_areas(settings.areas_file)
    except AreaFileError as err:
        _fail(f"The areas file cannot be used; fix these and run again.\n{err}")
    now = datetime.now(UTC)
    chosen = _resolve_area(registry, area, local_today(now))
    try:
        if bucket is not None:
            if start is not None or end is not None:
                _fail("Give either --bucket (with --resolution) or --from/--to, not both.")
            width = timedelta(seconds=settings.streams.window_seconds)
            first, last = drill.bucket_span(_when(bucket, "--bucket"), resolution, width)
        else:
            last = _when(end, "--to") if end else now
            first = _when(start, "--from") if start else last - timedelta(days=1)
        drill.metric_of(kpi, part)
    except drill.DrillError as err:
        _fail(str(err))
    asyncio.run(
        _show(settings, kpi, part, chosen.code, chosen.name_vi, first, last, limit, csv_file)
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
) -> None:
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
        total = await drill.count_events(conn, kpi, part, area, first, last)
        page = await drill.events_behind(conn, kpi, part, area, first, last, limit=limit)
        if csv_file is not None:
            if total > drill.CSV_MAX_ROWS:
                _fail(
                    f"{total:,} events, at most {drill.CSV_MAX_ROWS:,} per file: narrow "
                    "--from/--to and export in several files."
                )
            with csv_file.open("w", encoding="utf-8", newline="") as out:
                rows = drill.write_csv(
                    out, [e async for e in drill.iter_events(conn, kpi, part, area, first, last)]
                )
    except drill.DrillError as err:
        _fail(str(err))
    except asyncpg.UndefinedTableError as err:
        _fail(f"The database is not migrated ({err}). Run `ioc db migrate` first.", code=1)
    finally:
        await conn.close()
    out_console = Console()
    span = f"{to_local(first):%d/%m/%Y %H:%M}–{to_local(last):%d/%m/%Y %H:%M} (giờ Việt Nam)"
    out_console.print(f"[bold]{kpi.name_vi}[/] — {kpi.id}")
    metric = drill.metric_of(kpi, part)
    out_console.print(
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
        out_console.print(table)
    if total > len(page.items) and csv_file is None:
        out_console.print(
            f"Hiển thị {len(page.items)} sự kiện đầu tiên; --limit (tối đa {drill.MAX_LIMIT}) hoặc "
            "--csv FILE để lấy tất cả."
        )
    if csv_file is not None:
        out_console.print(f"Đã ghi {format_number(rows, 0)} sự kiện vào {csv_file}")
