"""`ioc api`: serve the API and live board; `ioc api keys …`: manage who may use it."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import asyncpg
import typer
from rich.table import Table

from ioc._cli import command_settings, err_console, out_console, print_json, with_connection
from ioc.api.keys import Role
from ioc.config import Environment, Settings
from ioc.localtime import to_local

if TYPE_CHECKING:
    import socket

    import uvicorn
    from fastapi import FastAPI

__all__ = ["ADMIN_KEY_FILE", "app"]

log = logging.getLogger(__name__)
ADMIN_KEY_FILE = "api-admin-key"  # under IOC_STATE_DIR, written on a local stack's first start
SHUTDOWN_GRACE_SECONDS = 3

app = typer.Typer(
    help=(
        "The API and the live board. `ioc api run` serves them on IOC_API_HOST:IOC_API_PORT "
        "(`ioc up` runs it); `ioc api keys` creates, lists and revokes API keys."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
keys_app = typer.Typer(help="API keys: a role and an optional area scope each.")
app.add_typer(keys_app, name="keys")


@app.command()
def run() -> None:
    """Serve the API, the live stream, `/metrics` and the board (http://IOC_API_HOST:IOC_API_PORT/)."""
    import uvicorn

    from ioc.api.app import create_app

    settings = command_settings()
    if settings.environment is Environment.LOCAL:
        asyncio.run(_first_admin_key(settings))
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,  # our logging (text or json) applies to uvicorn too
        access_log=False,
        server_header=False,
        proxy_headers=False,  # X-Forwarded-For is believed only from IOC_API__TRUSTED_PROXIES
        # A request still running this long after SIGTERM is cancelled (live streams end at
        # once, see _Server; this bounds anything else, e.g. a report being rendered).
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )
    err_console.print(f"API and live board on http://{settings.api_host}:{settings.api_port}/")
    _server(config, app).run()


def _server(config: uvicorn.Config, app: FastAPI) -> uvicorn.Server:
    """A uvicorn server that ends the live streams as soon as it is asked to stop."""
    import uvicorn

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            hub = getattr(app.state, "hub", None)
            if hub is not None:
                hub.close()
            await super().shutdown(sockets)

    return Server(config)


async def _first_admin_key(settings: Settings) -> None:
    """On a local stack with no key yet, create an admin key and keep it in a 0600 file."""
    from ioc.api.keys import create_first_key

    path = settings.state_dir / ADMIN_KEY_FILE

    def keep(key: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(key + "\n")

    async def work(conn: asyncpg.Connection) -> None:
        if await create_first_key(conn, "Quản trị (ioc up)", "ioc up", keep):
            log.info("first admin API key written to %s (open the board and paste it)", path)

    for attempt in range(30):
        try:
            await with_connection(settings, work)
            return
        except (OSError, asyncpg.PostgresError) as err:
            if attempt == 29:
                log.warning("no first admin key: %r; create one with `ioc api keys create`", err)
            await asyncio.sleep(1)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help='Who holds it, e.g. "Trực ban IOC ca 1".')],
    role: Annotated[Role, typer.Option(help="What the key may do.")],
    area: Annotated[
        str | None, typer.Option(help="Limit the key to this area code and below.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Write the key to this file (mode 0600) instead.")
    ] = None,
    department: Annotated[
        str | None,
        typer.Option(
            help="With --role department: the department (an id under departments: of the "
            "indicator catalogue, `ioc indicators list`) whose indicators the key may enter."
        ),
    ] = None,
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from ioc.api.keys import create_key
    from ioc.areas import load_areas

    settings = command_settings()
    if area is not None and not load_areas(settings.areas_file).versions(area):
        raise typer.BadParameter(f"no area has code {area!r}", param_hint="--area")
    if department is not None:
        from ioc.indicators import load_indicators

        if role != "department":
            raise typer.BadParameter(
                "only a key of role department has one", param_hint="--department"
            )
        known = load_indicators(settings.indicators_file, province=settings.province).departments
        if department not in known:
            raise typer.BadParameter(
                f"no department {department!r} (known: {', '.join(known)})",
                param_hint="--department",
            )

    async def work(conn: asyncpg.Connection) -> tuple[str, str]:
        return await create_key(conn, name, role, area, getpass.getuser(), department)

    key_id, key = asyncio.run(with_connection(settings, work))
    if output is not None:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(key + "\n")
        err_console.print(f"Key {key_id} for {name} ({role}) written to {output}.")
    else:
        print(key)
        err_console.print(f"Key {key_id} for {name} ({role}). It is shown once: keep it now.")


@keys_app.command("list")
def keys_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Every key: id, holder, role, scope, department, when created and last used, revoked."""
    from ioc.api.keys import list_keys

    settings = command_settings()
    rows = asyncio.run(with_connection(settings, list_keys))
    if as_json:

        def when(at: datetime | None) -> str | None:
            return at.isoformat() if at is not None else None

        print_json(
            [
                {
                    "id": r["id"],
                    "name": r["name"],
                    "role": r["role"],
                    "area": r["area"],
                    "department": r["department"],
                    "created_at": when(r["created_at"]),
                    "last_used_at": when(r["last_used_at"]),
                    "revoked_at": when(r["revoked_at"]),
                }
                for r in rows
            ]
        )
        return
    table = Table(title=f"{len(rows)} API keys")
    for column in ("id", "name", "role", "area", "department", "created", "last used", "revoked"):
        table.add_column(column, no_wrap=column == "id")
    for r in rows:
        table.add_row(
            r["id"],
            r["name"],
            r["role"],
            r["area"] or "province",
            r["department"] or "-",
            f"{to_local(r['created_at']):%d/%m/%Y %H:%M}",
            f"{to_local(r['last_used_at']):%d/%m/%Y %H:%M}" if r["last_used_at"] else "-",
            f"{to_local(r['revoked_at']):%d/%m/%Y %H:%M}" if r["revoked_at"] else "-",
        )
    out_console().print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (`ioc api keys list`).")],
) -> None:
    """Revoke a key (effective within seconds)."""
    from ioc.api.keys import revoke_key

    settings = command_settings()

    async def work(conn: asyncpg.Connection) -> bool:
        return await revoke_key(conn, key_id)

    if not asyncio.run(with_connection(settings, work)):
        err_console.print(f"[red]No unrevoked key {key_id}.[/] See `ioc api keys list`.")
        raise typer.Exit(2)
    err_console.print(f"Key {key_id} revoked.")
