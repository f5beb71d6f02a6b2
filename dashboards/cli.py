"""`ioc dashboards`: build the Grafana boards, push them, give Grafana's role its password."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ioc._cli import out_console, print_json
from ioc.config import get_settings, mask_url

__all__ = ["app"]

app = typer.Typer(
    help=(
        "Grafana boards as code: the province overview, one board per feed and the alerts "
        "board, built from the KPI catalogue (IOC_ALERTS__KPIS_FILE)."
    ),
    no_args_is_help=True,
)
err = Console(stderr=True, soft_wrap=True)


@app.command()
def build(
    out: Annotated[
        Path | None,
        typer.Option(help="Folder to write into (default: dashboards/json, what Grafana loads)."),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Write nothing; exit 1 if the files differ from a fresh build (for CI).",
        ),
    ] = False,
) -> None:
    """Write every board as JSON: `<uid>.json`, sorted keys, the same bytes on every build.

    Rebuild after changing the KPI catalogue (a target, a new KPI) or a board's code, and
    commit the JSON: docker compose provisions Grafana from it.
    """
    from ioc.dashboards import JSON_DIR, build_all, context_from_settings, render

    folder = out or JSON_DIR
    boards = build_all(context_from_settings(get_settings()))
    if check:
        stale = [
            f"{uid}.json"
            for uid, board in boards.items()
            if not (folder / f"{uid}.json").is_file()
            or (folder / f"{uid}.json").read_bytes() != render(board)
        ]
        extra = sorted(p.name for p in folder.glob("*.json") if p.stem not in boards)
        if stale or extra:
            err.print(
                f"[red]Boards out of date in {folder}:[/] {', '.join(stale + extra)}. "
                "Run `ioc dashboards build` and commit the result."
            )
            raise typer.Exit(1)
        err.print(f"{len(boards)} boards in {folder} match the catalogue and the code.")
        return
    from ioc.dashboards import write_json

    changed, removed = write_json(boards, folder)
    for path in changed:
        err.print(f"wrote {path}")
    for path in removed:
        err.print(f"removed {path} (no such board any more)")
    err.print(f"{len(boards)} boards in {folder}; {len(changed)} changed, {len(removed)} removed.")


@app.command("list")
def list_boards(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the boards: uid, title, panels, variables."""
    from ioc.dashboards import build_all, context_from_settings

    boards = build_all(context_from_settings(get_settings()))
    if as_json:
        print_json(
            [
                {
                    "uid": uid,
                    "title": board["title"],
                    "panels": len([p for p in board.get("panels", []) if p.get("type") != "row"]),
                    "variables": [v["name"] for v in board.get("templating", {}).get("list", [])],
                }
                for uid, board in boards.items()
            ]
        )
        return
    table = Table(title=f"{len(boards)} boards")
    for column in ("uid", "title", "panels", "variables"):
        table.add_column(column)
    for uid, board in boards.items():
        panels = [p for p in board.get("panels", []) if p.get("type") != "row"]
        variables = [v["name"] for v in board.get("templating", {}).get("list", [])]
        table.add_row(uid, board["title"], str(len(panels)), ", ".join(variables))
    out_console().print(table)


@app.command()
def push(
    url: Annotated[
        str | None, typer.Option(help="Grafana's address (default: IOC_GRAFANA__URL).")
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace boards changed by hand in Grafana, and send the database password again.",
        ),
    ] = False,
    datasource: Annotated[
        bool,
        typer.Option(help="Also create or update the datasource (read-only role ioc_grafana)."),
    ] = True,
) -> None:
    """Create the folder "IOC", the datasource and every board in Grafana; safe to repeat.

    A second push changes nothing. A board someone changed in Grafana since the last push is
    left as it is (exit code 1) unless --force is given. Credentials: IOC_GRAFANA__TOKEN, or
    IOC_GRAFANA__USERNAME and IOC_GRAFANA__PASSWORD. The datasource logs in as ioc_grafana with
    IOC_DATABASE__GRAFANA_PASSWORD.
    """
    from ioc.dashboards import build_all, context_from_settings
    from ioc.dashboards.push import PushError, connect, datasource_model
    from ioc.dashboards.push import push as run_push
    from ioc.runstate import resolve_database_url

    settings = get_settings()
    target = mask_url(url or settings.grafana.url)
    boards = build_all(context_from_settings(settings))
    model = datasource_model(settings, resolve_database_url(settings)) if datasource else None
    password = settings.database.grafana_password
    try:
        changes = run_push(
            connect(settings, url),
            boards,
            model,
            password=password.get_secret_value() if password is not None else None,
            force=force,
        )
    except PushError as error:
        err.print(f"[red]Push to {escape(target)} failed.[/] {escape(str(error))}")
        raise typer.Exit(1) from None
    table = Table(title=f"Grafana at {target}")
    for column in ("kind", "uid", "action", "detail"):
        table.add_column(column, overflow="fold")
    for change in changes:
        colour = {"refused": "red", "replaced": "yellow", "kept": "yellow"}.get(change.action)
        action = f"[{colour}]{change.action}[/]" if colour else change.action
        table.add_row(change.kind, change.uid, action, change.detail)
    out_console().print(table)
    if model is not None and password is None:
        err.print(
            "Note: IOC_DATABASE__GRAFANA_PASSWORD is unset, so the datasource has no password "
            "unless it had one already."
        )
    if any(c.action == "refused" for c in changes):
        raise typer.Exit(1)


@app.command("db-role")
def db_role() -> None:
    """Give the read-only role ioc_grafana its login and password (IOC_DATABASE__GRAFANA_PASSWORD).

    The migrations create the role without a login, with SELECT on what the boards read and
    nothing else. Run this after `ioc db migrate`, and again to change the password.
    """
    from ioc.dashboards.role import set_reader_password
    from ioc.db import connect

    settings = get_settings()
    if settings.database.grafana_password is None:
        err.print(
            "[red]IOC_DATABASE__GRAFANA_PASSWORD is unset.[/] Set it to the password Grafana's "
            "datasource uses (IOC_GRAFANA_DB_PASSWORD in docker compose)."
        )
        raise typer.Exit(2)
    password = settings.database.grafana_password.get_secret_value()

    async def run() -> None:
        conn = await connect(settings)
        try:
            await set_reader_password(conn, password)
        finally:
            await conn.close()

    try:
        asyncio.run(run())
    except (LookupError, ValueError) as error:
        err.print(f"[red]Cannot set the password of ioc_grafana.[/] {error}")
        raise typer.Exit(1) from None
    err.print("Role ioc_grafana can log in with IOC_DATABASE__GRAFANA_PASSWORD.")
