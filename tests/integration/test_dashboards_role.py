"""The read-only role on a real PostgreSQL server: created by migration 0006, given a login.

Roles belong to the server, so each test first puts the role in a known state. The embedded
server trusts local connections (no password check): what is shown here is the role's
login flag, its stored SCRAM verifier, its session defaults and its privileges; that the
verifier matches the password is shown against RFC 7677 in tests/unit/test_dashboards.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from typer.testing import CliRunner

from ioc.dashboards.cli import app
from ioc.dashboards.role import READER_ROLE, set_reader_password
from ioc.db import migrate


def _as_reader(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{READER_ROLE}@{parts.hostname}:{parts.port}"))


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    await migrate(connection)
    await connection.execute(f"ALTER ROLE {READER_ROLE} NOLOGIN PASSWORD NULL")
    yield connection
    await connection.close()


async def test_the_role_cannot_log_in_until_it_has_a_password(
    conn: asyncpg.Connection, database_url: str
) -> None:
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match="not permitted"):
        await asyncpg.connect(_as_reader(database_url))
    await set_reader_password(conn, "s3cret-reader")
    row = await conn.fetchrow(
        "SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = $1", READER_ROLE
    )
    assert row["rolcanlogin"] is True
    assert row["rolpassword"].startswith("SCRAM-SHA-256$4096:")  # hashed before it was sent

    reader = await asyncpg.connect(_as_reader(database_url))
    try:
        assert await reader.fetchval("SHOW default_transaction_read_only") == "on"
        assert await reader.fetchval("SHOW statement_timeout") == "30s"
        assert await reader.fetchval("SELECT count(*) FROM kpi_values") == 0
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await reader.execute("DELETE FROM kpi_values")
        # A session may switch the default off; the missing privileges still stop it.
        await reader.execute("SET default_transaction_read_only = off")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await reader.execute("DELETE FROM kpi_values")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await reader.fetch("SELECT * FROM notification_outbox")
    finally:
        await reader.close()


async def test_a_non_ascii_password_is_hashed_by_the_server(conn: asyncpg.Connection) -> None:
    await set_reader_password(conn, "mật-khẩu-đọc")
    stored = await conn.fetchval(
        "SELECT rolpassword FROM pg_authid WHERE rolname = $1", READER_ROLE
    )
    assert stored.startswith("SCRAM-SHA-256$") and "mật" not in stored


async def test_the_migration_runs_again_where_the_role_exists(
    conn: asyncpg.Connection, database_url: str
) -> None:
    # Another database of the same server: the role exists already, the grants are per database.
    other = database_url.rpartition("/")[0] + "/postgres"
    admin = await asyncpg.connect(other)
    try:
        await admin.execute('DROP DATABASE IF EXISTS "second_ioc" WITH (FORCE)')
        await admin.execute('CREATE DATABASE "second_ioc"')
        second = await asyncpg.connect(database_url.rpartition("/")[0] + "/second_ioc")
        try:
            assert "0006_grafana_reader" in await migrate(second)
            granted = await second.fetchval(
                "SELECT has_table_privilege($1, 'window_metrics_1d', 'SELECT')", READER_ROLE
            )
            assert granted is True
        finally:
            await second.close()
        await admin.execute('DROP DATABASE "second_ioc" WITH (FORCE)')
    finally:
        await admin.close()


def test_the_command_sets_the_password_and_says_what_is_missing(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ioc.config import get_settings

    async def prepare() -> None:
        connection = await asyncpg.connect(database_url)
        try:
            await migrate(connection)
            await connection.execute(f"ALTER ROLE {READER_ROLE} NOLOGIN PASSWORD NULL")
        finally:
            await connection.close()

    async def can_login() -> bool:
        connection = await asyncpg.connect(database_url)
        try:
            query = "SELECT rolcanlogin FROM pg_roles WHERE rolname = $1"
            return bool(await connection.fetchval(query, READER_ROLE))
        finally:
            await connection.close()

    asyncio.run(prepare())  # the command runs its own event loop: this test has none
    monkeypatch.setenv("IOC_DATABASE_URL", database_url)
    monkeypatch.setenv("IOC_DATABASE__SSLMODE", "disable")
    monkeypatch.delenv("IOC_DATABASE__GRAFANA_PASSWORD", raising=False)
    runner = CliRunner()
    missing = runner.invoke(app, ["db-role"])
    assert missing.exit_code == 2 and "IOC_DATABASE__GRAFANA_PASSWORD" in missing.output
    monkeypatch.setenv("IOC_DATABASE__GRAFANA_PASSWORD", "from-the-environment")
    get_settings.cache_clear()
    done = runner.invoke(app, ["db-role"])
    assert done.exit_code == 0, done.output
    assert "from-the-environment" not in done.output
    assert asyncio.run(can_login())
