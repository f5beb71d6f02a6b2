"""API keys: a role and an area scope each; only a hash of the secret is stored.

A key reads ``ioc_<id>_<secret>``: the id finds the row, the secret is 256 random bits compared
by its SHA-256 in constant time. A fast hash is enough for a secret that long (nobody can guess
2**256 values, so a slow password hash would add nothing but latency to every request).

Example:
    >>> key_id, secret = split_key("ioc_0123456789ab_" + "x" * 43)
    >>> key_id
    '0123456789ab'
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal, get_args

import asyncpg

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "Permission",
    "Principal",
    "Role",
    "create_first_key",
    "create_key",
    "find_principal",
    "list_keys",
    "revoke_key",
    "split_key",
]

Role = Literal["operator", "leader", "engineer", "admin", "department"]
Permission = Literal["read", "ack", "silence", "dlq", "metrics", "audit", "keys", "report"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)
# operator: watches and acknowledges; leader: also silences (decides what may wait);
# engineer: keeps the pipeline healthy (silences for maintenance, DLQ, metrics); department:
# a department (sở, ngành) that enters its periodic indicators' values (ioc.indicators);
# admin: all.
PERMISSIONS: Final[dict[Role, frozenset[Permission]]] = {
    "operator": frozenset({"read", "ack"}),
    "leader": frozenset({"read", "ack", "silence"}),
    "engineer": frozenset({"read", "silence", "dlq", "metrics"}),
    "department": frozenset({"read", "report"}),
    "admin": frozenset(get_args(Permission)),
}
_PREFIX = "ioc_"
_LAST_USED_EVERY = timedelta(minutes=1)  # one write per key per minute, not per request


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's holder, role and scope.

    Attributes:
        key_id: the public id of the key.
        name: who holds it ("Trực ban IOC ca 1"); audit lines and acknowledgements say this.
        role: operator, leader, engineer, department or admin.
        area: the area the key is limited to (it and everything below); None = the province.
        department: the department (an id of the indicator catalogue) whose periodic
            indicators the key may enter; None = any.
    """

    key_id: str
    name: str
    role: Role
    area: str | None
    department: str | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        """What the role may do."""
        return PERMISSIONS[self.role]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(key: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed key, else None."""
    if not key.startswith(_PREFIX):
        return None
    key_id, sep, secret = key[len(_PREFIX) :].partition("_")
    if not sep or len(key_id) != 12 or len(secret) < 32:
        return None
    return key_id, secret


async def create_key(
    conn: asyncpg.Connection,
    name: str,
    role: Role,
    area: str | None,
    created_by: str,
    department: str | None = None,
) -> tuple[str, str]:
    """Store a new key and return (id, key); the key is shown once and never stored.

    ``department`` limits the key to that department's periodic indicators.
    """
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if not name.strip():
        raise ValueError("a key needs a name: who holds it (audit lines say this name)")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    await conn.execute(
        "INSERT INTO api_keys (id, name, role, area, secret_hash, created_by, department) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        key_id,
        name.strip(),
        role,
        area,
        _digest(secret),
        created_by,
        department,
    )
    return key_id, f"{_PREFIX}{key_id}_{secret}"


async def create_first_key(
    conn: asyncpg.Connection, name: str, created_by: str, keep: Callable[[str], None]
) -> bool:
    """Create an admin key if no key exists yet, and hand it to ``keep``; False if one exists.

    ``keep`` runs inside the transaction: a key it fails to keep (a file it cannot write) is
    not stored either, and two processes starting at once create one key, not two.
    """
    async with conn.transaction():
        await conn.execute("LOCK TABLE api_keys IN EXCLUSIVE MODE")
        if await conn.fetchval("SELECT count(*) FROM api_keys"):
            return False
        _, key = await create_key(conn, name, "admin", None, created_by)
        keep(key)
    return True


async def find_principal(conn: asyncpg.Connection, key: str) -> Principal | None:
    """The holder of a valid, unrevoked key; None for anything else."""
    parts = split_key(key)
    if parts is None:
        return None
    key_id, secret = parts
    row = await conn.fetchrow(
        "SELECT name, role, area, department, secret_hash, last_used_at FROM api_keys "
        "WHERE id = $1 AND revoked_at IS NULL",
        key_id,
    )
    if row is None or not hmac.compare_digest(row["secret_hash"], _digest(secret)):
        return None
    now = datetime.now(UTC)
    if row["last_used_at"] is None or now - row["last_used_at"] > _LAST_USED_EVERY:
        await conn.execute("UPDATE api_keys SET last_used_at = $2 WHERE id = $1", key_id, now)
    return Principal(key_id, row["name"], row["role"], row["area"], row["department"])


async def list_keys(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every key, newest first, without secrets."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, name, role, area, department, created_at, created_by, revoked_at, "
        "last_used_at FROM api_keys ORDER BY created_at DESC"
    )
    return rows


async def revoke_key(conn: asyncpg.Connection, key_id: str) -> bool:
    """Revoke a key at once; False if there is no such unrevoked key."""
    status: str = await conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", key_id
    )
    return status.endswith(" 1")
