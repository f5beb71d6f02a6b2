"""Both database tiers for one test: a fresh PostgreSQL database, or the session's TimescaleDB.

A test module asks for the `tier` fixture (tests/conftest.py, parametrised) and opens its
connection with `tier_connection`, so every test using it runs on plain PostgreSQL (views for the
roll-ups, daily partitions for the event store) and on TimescaleDB (hypertables, continuous
aggregates, compression) under the same table names.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg

from ioc.areas import load_areas
from ioc.db import migrate, sync_areas
from tests._timescale import close, reset

__all__ = ["tier_connection"]

_TIMESCALE_MIGRATED: list[bool] = []


@contextlib.asynccontextmanager
async def tier_connection(
    tier: tuple[str, str], *, areas: bool = False
) -> AsyncIterator[asyncpg.Connection]:
    """A migrated, empty database on the tier (with the shipped areas file if `areas`)."""
    name, url = tier
    if name == "postgresql":
        connection = await asyncpg.connect(url)
        await migrate(connection)
    else:
        # One server for the session (it cannot create databases): migrate once, then empty it.
        connection = await asyncpg.connect(url, statement_cache_size=0)
        if not _TIMESCALE_MIGRATED:
            await migrate(connection)
            _TIMESCALE_MIGRATED.append(True)
        await reset(connection)
    try:
        if areas:
            await sync_areas(connection, load_areas())
        yield connection
    finally:
        await close(connection) if name == "timescaledb" else await connection.close()
