"""`ioc entities …`: which cameras, network points and online services are down now.

Reads ``entity_status`` (kept current by the stream workers) through :mod:`ioc.entities`,
the same query as ``GET /api/v1/entities`` and the board.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from ioc._cli import command_settings, err_console, out_console, print_json
from ioc.config import Settings
from ioc.entities import State
from ioc.localtime import local_date, local_today, to_local

__all__ = ["app"]

app = typer.Typer(
    help=(
        "Cameras, network points and online services as their feeds last reported them: "
        "down (the latest report says down), silent (it said up, but long ago) or up."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

_STATE_VI = {"down": "ngừng hoạt động", "silent": "mất tín hiệu", "up": "hoạt động"}
_STYLE = {"down": "bold red", "silent": "yellow", "up": "green"}


def _resolve_area(settings: Settings, text: str) -> str:
    """An area code from a code or a name ("Phố Hiến"); exits with a hint when unclear."""
    from ioc.areas import load_areas

    areas = load_areas(settings.areas_file)
    if areas.versions(text):
        return text
    found = areas.find(text, on=local_today())
    if len(found) == 1:
        return found[0].code
    if not found:
        err_console.print(
            f"[red]No area is called or coded {text!r}.[/red] Give a code (e.g. 11953) or a "
            'name (e.g. "Phố Hiến").'
        )
    else:
        options = ", ".join(f"{a.code} {a.name_vi}" for a in found[:8])
        err_console.print(f"[red]{text!r} matches several areas:[/red] {options}. Give the code.")
    raise typer.Exit(2)


@app.command("list")
def list_entities(
    feed: Annotated[
        str | None,
        typer.Option(
            help="A feed whose events report states: camera, network, dvc (online services) "
            "or a declared one."
        ),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(help="camera, special_network, agency_lan, cell_site, broadband, service."),
    ] = None,
    state: Annotated[State | None, typer.Option(help="Default: all, down first.")] = None,
    area: Annotated[
        str | None, typer.Option(help="An area code or name: the area and everything under it.")
    ] = None,
    silent_minutes: Annotated[
        int, typer.Option(help="Minutes without a report after which an up entity is silent.")
    ] = 10,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Entities down first (longest first), then silent, then up; times in local time.

    Example: `ioc entities list --feed network --state down --area "Phố Hiến"`.
    """
    from ioc.areas import load_areas
    from ioc.entities import EntityFilter, EntityPage, feeds_with_states
    from ioc.entities import list_entities as query

    if not 1 <= limit <= 10_000 or silent_minutes < 1:
        err_console.print("[red]--limit must be 1…10000 and --silent-minutes at least 1.[/red]")
        raise typer.Exit(2)
    if feed is not None and feed not in feeds_with_states():
        err_console.print(
            f"[red]--feed {feed}: reports no entity states; use one of "
            f"{', '.join(feeds_with_states())}.[/red]"
        )
        raise typer.Exit(2)
    settings = command_settings()
    code = _resolve_area(settings, area) if area else None
    chosen = EntityFilter(
        feed=feed,
        kind=kind,
        area=code,
        state=state,
        silent_after=timedelta(minutes=silent_minutes),
    )

    async def fetch() -> EntityPage:
        from ioc.db import connect

        conn = await connect(settings)
        try:
            return await query(conn, chosen, limit=limit)
        finally:
            await conn.close()

    page = asyncio.run(fetch())
    areas = load_areas(settings.areas_file)
    day = local_date(page.at)
    if as_json:
        out: dict[str, Any] = {
            "at": page.at.isoformat(),
            "counts": page.counts,
            "items": [e.json(areas, day) for e in page.items],
            "more": page.next_cursor is not None,
        }
        print_json(out)
        return
    counts = page.counts
    title = (
        f"{counts['down']} ngừng hoạt động · {counts['silent']} mất tín hiệu · "
        f"{counts['up']} hoạt động — lúc {to_local(page.at):%H:%M %d/%m/%Y}"
    )
    table = Table(title=title)
    for column in ("state", "feed", "kind", "entity", "area", "since", "last seen"):
        table.add_column(column, no_wrap=column == "entity")
    for e in page.items:
        table.add_row(
            f"[{_STYLE[e.state]}]{_STATE_VI[e.state]}[/]",
            e.feed,
            e.kind,
            e.entity,
            _area_name(areas, e.area, day),
            f"{to_local(e.since):%H:%M %d/%m/%Y}",
            f"{to_local(e.last_seen):%H:%M %d/%m/%Y}",
        )
    out_console().print(table)
    if page.next_cursor is not None:
        shown = len(page.items)
        total = counts[state] if state else counts["total"]
        err_console.print(f"{shown} of {total} shown; raise --limit or narrow the filters.")


def _area_name(areas: Any, code: str, day: Any) -> str:
    from ioc.entities import area_name

    return area_name(areas, code, day)
