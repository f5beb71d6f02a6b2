"""Every asyncpg connection and pool of the project is made here, with the SSL settings."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import asyncpg

from ioc.config import Settings
from ioc.runstate import resolve_database_url


def _with_ssl_params(url: str, settings: Settings) -> str:
    """Add sslmode/sslrootcert from settings unless the URL already says them."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("sslmode", settings.database.sslmode)
    if settings.database.sslrootcert is not None:
        query.setdefault("sslrootcert", str(settings.database.sslrootcert))
    return parts._replace(query=urlencode(query)).geturl()


def connect_kwargs(settings: Settings, url: str | None = None) -> dict[str, Any]:
    """Keyword arguments for `asyncpg.connect` / `create_pool`."""
    return {
        "dsn": _with_ssl_params(url or resolve_database_url(settings), settings),
        "command_timeout": settings.database.command_timeout_seconds,
        "statement_cache_size": settings.database.statement_cache_size,
        "server_settings": {"application_name": "ioc-monitor", "timezone": "UTC"},
    }


async def connect(settings: Settings, url: str | None = None) -> asyncpg.Connection:
    """One connection (migrations, CLI commands)."""
    return await asyncpg.connect(**connect_kwargs(settings, url))


async def create_pool(settings: Settings, url: str | None = None) -> asyncpg.Pool:
    """A pool sized by `IOC_DATABASE__POOL_MIN_SIZE` / `IOC_DATABASE__POOL_MAX_SIZE`."""
    return await asyncpg.create_pool(
        **connect_kwargs(settings, url),
        min_size=settings.database.pool_min_size,
        max_size=settings.database.pool_max_size,
    )


async def database_health(settings: Settings, url: str | None = None, timeout: float = 5.0) -> str:
    """Connect and ask the server its version; returns a short description or raises."""
    async with asyncio.timeout(timeout):
        conn = await connect(settings, url)
        try:
            version = await conn.fetchval("SHOW server_version")
            timescale = await conn.fetchval(
                "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
            )
        finally:
            await conn.close()
    return f"PostgreSQL {version}" + (f", TimescaleDB {timescale}" if timescale else "")
