"""What every ``ioc`` command shares: its settings, one database connection, a failure line.

The command modules (``ioc/cli.py``, ``ioc/*/cli.py``, ``connectors/cli.py``, …) read options
and print; these helpers keep the three things each of them needs written once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import asyncpg
import typer
from rich.console import Console

from ioc.config import Settings, get_settings
from ioc.logs import configure_logging

__all__ = ["command_settings", "err_console", "fail", "with_connection"]

T = TypeVar("T")

err_console = Console(stderr=True, soft_wrap=True)
"""Where commands write messages for people (stdout stays for what a script reads)."""


def command_settings() -> Settings:
    """The settings (``IOC_*``, ``.env``), with logging configured as they say."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


async def with_connection(
    settings: Settings, work: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T:
    """Run ``work`` on one database connection, closed afterwards whatever happens."""
    from ioc.db import connect

    conn = await connect(settings)
    try:
        return await work(conn)
    finally:
        await conn.close()


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` (as written: no markup) on stderr and exit with ``code``."""
    err_console.print(message, markup=False)
    raise typer.Exit(code)
