"""What every ``ioc`` command shares: its settings, one database connection, failure lines.

The command modules (``ioc/cli.py``, ``ioc/*/cli.py``, ``connectors/cli.py``, …) read options
and print; these helpers keep what each of them needs written once. :func:`run_app` is the
one place where a database or broker that cannot be reached becomes one line and an exit code
(:data:`EXIT_DATABASE`, :data:`EXIT_BROKER`), whichever command met it.
"""

from __future__ import annotations

import gc
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, NoReturn, TypeVar

import asyncpg
import typer
from rich.console import Console

from ioc.config import ConfigError, Settings, get_settings, mask_url
from ioc.logs import configure_logging

__all__ = [
    "EXIT_BROKER",
    "EXIT_CODES_HELP",
    "EXIT_DATABASE",
    "Unreachable",
    "command_settings",
    "err_console",
    "fail",
    "out_console",
    "print_json",
    "quiet_kafka_client",
    "run_app",
    "unreachable",
    "with_connection",
]

T = TypeVar("T")

EXIT_DATABASE = 3
"""Exit code of any command that could not reach PostgreSQL."""
EXIT_BROKER = 4
"""Exit code of any command that could not reach the Kafka broker."""
EXIT_CODES_HELP = (
    "Exit codes: 0 done; 1 failed or unhealthy; 2 wrong usage, options or configuration; "
    f"{EXIT_DATABASE} the database cannot be reached (IOC_DATABASE_URL); "
    f"{EXIT_BROKER} the Kafka broker cannot be reached (IOC_KAFKA_BOOTSTRAP)."
)

err_console = Console(stderr=True, soft_wrap=True)
"""Where commands write messages for people (stdout stays for what a script reads)."""


def out_console() -> Console:
    """The console for a command's result on stdout.

    On a terminal rich fits tables to its width; piped, nothing is cut or wrapped to the
    default 80 columns (rows stay whole for ``grep`` and ids and addresses stay readable),
    since no width is known there.
    """
    if sys.stdout.isatty():
        return Console()
    return Console(width=10_000, soft_wrap=True)


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout (``--json``), Vietnamese left as is."""
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=_json_default))


def _json_default(value: object) -> object:
    """Times and dates as ISO 8601; anything else JSON cannot say as its text."""
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if callable(isoformat) else str(value)


def command_settings() -> Settings:
    """The settings (``IOC_*``, ``.env``), with logging configured as they say."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def tune_gc() -> None:
    """Collect garbage less often, in a process that moves events (a worker, a connector).

    Both allocate a few objects per event and make no reference cycles of their own, but
    CPython's default thresholds ran the cycle collector every 700 allocations, walking the
    batch being built and every object loaded at start each time: a third of a stream
    worker's time per event (a day of the bench's history: 23.7 → 16.3 µs), a sixth of a
    connector's (payment-sim: 22,400 → 27,200 events/s). Objects alive now (modules, compiled
    feeds, schemas) are frozen out of every collection, and young objects are collected every
    50,000 allocations instead of 700: garbage cycles still go, a little later.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def quiet_kafka_client() -> None:
    """For a command that asks the broker once: aiokafka logs no connection errors of its own.

    They would come before the one line :func:`run_app` prints when the broker is away, which
    says the same; daemons keep them (they retry, and the log is their only voice).
    """
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


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


@dataclass(frozen=True)
class Unreachable:
    """A service a command needed and could not reach."""

    what: str
    address: str
    fix: str
    code: int
    error: BaseException

    def line(self) -> str:
        """The one line a person reads: what, where, why, and which variable to fix."""
        name = type(self.error).__name__
        reason = str(self.error).splitlines()[0] if str(self.error) else ""
        reason = reason.removeprefix(f"{name}: ")  # aiokafka repeats its class name
        cause = name + (f": {reason}" if reason else "")
        return f"Cannot reach {self.what} at {self.address} ({cause}). {self.fix}"


def _chain(err: BaseException) -> Iterator[BaseException]:
    """``err`` and the exceptions it was raised from or while handling (each once)."""
    seen: set[int] = set()
    todo: list[BaseException] = [err]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def _modules(tb: TracebackType | None) -> Iterator[str]:
    while tb is not None:
        yield str(tb.tb_frame.f_globals.get("__name__", ""))
        tb = tb.tb_next


def _service_of(err: BaseException) -> str | None:
    """``"database"`` or ``"broker"`` when ``err`` means that service is out of reach."""
    from aiokafka.errors import KafkaConnectionError, NodeNotReadyError

    if isinstance(err, KafkaConnectionError | NodeNotReadyError):
        return "broker"
    if isinstance(err, asyncpg.CannotConnectNowError | asyncpg.PostgresConnectionError):
        return "database"
    if not isinstance(err, OSError | TimeoutError):
        return None
    # Both clients raise plain OSError (refused, no route, unknown host) or TimeoutError:
    # which client raised it tells the service apart.
    for module in _modules(err.__traceback__):
        if module.startswith("asyncpg") or module == "ioc.db._connect":
            return "database"
        if module.startswith("aiokafka"):
            return "broker"
    return None


def unreachable(err: BaseException, settings: Settings | None = None) -> Unreachable | None:
    """What ``err`` says could not be reached, or None when it is another failure."""
    from ioc.runstate import resolve_database_url, resolve_kafka_bootstrap

    for found in _chain(err):
        service = _service_of(found)
        if service is None:
            continue
        try:
            settings = settings or get_settings()
            if service == "database":
                address = mask_url(resolve_database_url(settings))
            else:
                address = resolve_kafka_bootstrap(settings)
        except ConfigError:
            address = "?"
        if service == "database":
            return Unreachable(
                "the database",
                address,
                "Start it with `ioc up`, or set IOC_DATABASE_URL to a reachable PostgreSQL.",
                EXIT_DATABASE,
                found,
            )
        return Unreachable(
            "the Kafka broker",
            address,
            "Start it with `ioc up`, or set IOC_KAFKA_BOOTSTRAP to a reachable broker (host:port).",
            EXIT_BROKER,
            found,
        )
    return None


def run_app(app: typer.Typer, args: list[str] | None = None) -> None:
    """Run ``app``; a database or broker out of reach ends it with one line and its exit code.

    Every command meets these the same way (in a query, a consumer, a migration), so they are
    told apart here once rather than in each command: no traceback, the masked address, the
    variable to set, and :data:`EXIT_DATABASE` or :data:`EXIT_BROKER`.
    """
    try:
        app(args=args, prog_name="ioc")
    except Exception as err:
        found = unreachable(err)
        if found is None:
            raise
        err_console.print(found.line(), markup=False)
        # A client left open by the failed start is reported when collected, after this line.
        logging.disable(logging.CRITICAL)
        sys.exit(found.code)
