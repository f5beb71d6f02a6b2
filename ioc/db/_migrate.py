"""Versioned SQL migrations: `ioc/db/migrations/NNNN_name.sql`, applied once each, in order.

A migration may have a companion `NNNN_name.timescaledb.sql`, applied in the same
transaction right after it when the TimescaleDB extension is available (hypertables,
compression, continuous aggregates); on plain PostgreSQL the base file alone gives the same
table and view names. An applied file that was edited afterwards stops the run: write a new
migration instead.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING

import asyncpg

if TYPE_CHECKING:
    from ioc.areas import AreaRegistry

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Any constant works; it only has to be the same for every process migrating this database.
_LOCK_KEY = 0x10C_0001


class MigrationError(RuntimeError):
    """The migrations cannot be applied; the message names the file and what to do."""


@dataclass(frozen=True)
class Migration:
    """One migration file and its optional TimescaleDB companion."""

    version: int
    name: str
    sql: str
    timescaledb_sql: str | None

    @property
    def checksum(self) -> str:
        """Changes whenever either file changes."""
        return hashlib.sha256((self.sql + (self.timescaledb_sql or "")).encode()).hexdigest()


def _files() -> Traversable:
    return resources.files("ioc.db").joinpath("migrations")


def load_migrations() -> list[Migration]:
    """Every shipped migration, ordered by version."""
    folder = _files()
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if not match:
            continue
        companion = folder.joinpath(entry.name.removesuffix(".sql") + ".timescaledb.sql")
        found.append(
            Migration(
                version=int(match.group(1)),
                name=match.group(2),
                sql=entry.read_text(encoding="utf-8"),
                timescaledb_sql=companion.read_text(encoding="utf-8")
                if companion.is_file()
                else None,
            )
        )
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a version number: {versions}")
    return found


async def _timescaledb_available(conn: asyncpg.Connection) -> bool:
    available = await conn.fetchval(
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'"
    )
    if not available:
        return False
    await conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    return True


async def applied_migrations(conn: asyncpg.Connection) -> dict[int, str]:
    """Version → checksum of what this database has applied."""
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               version    integer PRIMARY KEY,
               name       text NOT NULL,
               checksum   text NOT NULL,
               timescaledb boolean NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )
    rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
    return {row["version"]: row["checksum"] for row in rows}


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply every pending migration; safe to run from several processes at once.

    Returns:
        The names of the migrations applied by this call.
    """
    migrations = load_migrations()
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        timescale = await _timescaledb_available(conn)
        applied = await applied_migrations(conn)
        done: list[str] = []
        for migration in migrations:
            label = f"{migration.version:04d}_{migration.name}"
            if migration.version in applied:
                if applied[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"migration {label} was changed after it was applied to this database; "
                        "restore the file and add a new migration for the change"
                    )
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                if timescale and migration.timescaledb_sql:
                    await conn.execute(migration.timescaledb_sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, timescaledb) "
                    "VALUES ($1, $2, $3, $4)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                    timescale,
                )
            log.info("applied migration %s%s", label, " (+timescaledb)" if timescale else "")
            done.append(label)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def sync_areas(conn: asyncpg.Connection, registry: AreaRegistry) -> int:
    """Upsert the areas file into the `areas` table (boards and queries join on it).

    Returns:
        The number of area rows written.
    """
    rows = [
        (
            a.code,
            a.name_vi,
            a.name_en,
            a.level.value,
            a.parent,
            a.population,
            a.households,
            a.valid_from,
            a.valid_to,
        )
        for a in registry
    ]
    async with conn.transaction():
        await conn.execute("DELETE FROM areas")
        await conn.executemany(
            "INSERT INTO areas (code, name_vi, name_en, level, parent, population, households, "
            "valid_from, valid_to) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            rows,
        )
    return len(rows)
