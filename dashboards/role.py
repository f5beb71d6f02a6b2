"""The read-only database role Grafana logs in as, and how it gets its password.

Migration 0006 creates ``ioc_grafana`` without a login (a migration cannot know a secret) and
grants it SELECT on what the boards read. :func:`set_reader_password` gives it LOGIN and the
password from ``IOC_DATABASE__GRAFANA_PASSWORD``; ``ioc dashboards db-role`` runs it (the
docker compose file does so after every ``ioc db migrate``).

The password is sent as a SCRAM-SHA-256 verifier computed here, the form PostgreSQL stores
(RFC 5802 and RFC 7677; PostgreSQL's ``scram_build_secret``), so the clear text never reaches
the server, its statement log or ``pg_stat_activity``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import asyncpg

from ioc.dashboards._common import READER_ROLE

__all__ = ["READER_ROLE", "reader_exists", "scram_sha256_verifier", "set_reader_password"]

_ITERATIONS = 4096  # PostgreSQL's default scram_iterations


def scram_sha256_verifier(
    password: str, salt: bytes | None = None, iterations: int = _ITERATIONS
) -> str:
    """Return ``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` for a password.

    Args:
        password: Printable ASCII (PostgreSQL applies SASLprep, which leaves such text as it
            is; other text is hashed by the server instead, see :func:`set_reader_password`).
        salt: 16 random bytes by default.
        iterations: PBKDF2 iterations.

    Raises:
        ValueError: If the password is not printable ASCII.
    """
    if not password.isascii() or not password.isprintable():
        raise ValueError("only printable ASCII passwords are hashed here")
    salt = os.urandom(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


async def reader_exists(conn: asyncpg.Connection) -> bool:
    """Tell whether the role exists (migration 0006 has run on this server)."""
    found = await conn.fetchval("SELECT count(*) FROM pg_roles WHERE rolname = $1", READER_ROLE)
    return bool(found)


async def set_reader_password(conn: asyncpg.Connection, password: str) -> None:
    """Give the read-only role LOGIN and this password (again on each call: rotation).

    Args:
        conn: A connection as a role allowed to alter ``ioc_grafana`` (the migrations' owner).
        password: The password Grafana's datasource uses.

    Raises:
        ValueError: If the password is empty.
        LookupError: If the role does not exist; run ``ioc db migrate`` first.
    """
    if not password:
        raise ValueError("the password of ioc_grafana must not be empty")
    if not await reader_exists(conn):
        raise LookupError(
            f"role {READER_ROLE} does not exist on this server: run `ioc db migrate` first"
        )
    try:
        secret = scram_sha256_verifier(password)
    except ValueError:
        # Non-ASCII: let the server apply SASLprep and hash it (the text is then sent once).
        secret = password
    # ALTER ROLE takes no bind parameters; the server quotes the literal itself.
    quoted = await conn.fetchval("SELECT quote_literal($1::text)", secret)
    await conn.execute(f"ALTER ROLE {READER_ROLE} WITH LOGIN PASSWORD {quoted}")
