"""API keys against real PostgreSQL: the first admin key `ioc up` makes, once and only once."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from ioc.api.keys import create_first_key, find_principal
from ioc.db import migrate

pytestmark = pytest.mark.integration


async def test_the_first_key_is_made_once_and_not_stored_if_it_cannot_be_kept(
    database_url: str,
) -> None:
    conns = [await asyncpg.connect(database_url) for _ in range(3)]
    try:
        await migrate(conns[0])

        def lost(key: str) -> None:
            raise OSError("read-only state directory")

        with pytest.raises(OSError, match="read-only"):
            await create_first_key(conns[0], "Quản trị (ioc up)", "ioc up", lost)
        assert await conns[0].fetchval("SELECT count(*) FROM api_keys") == 0
        kept: list[str] = []
        made = await asyncio.gather(
            *(create_first_key(c, "Quản trị (ioc up)", "ioc up", kept.append) for c in conns)
        )
        assert sorted(made) == [False, False, True] and len(kept) == 1
        admin = await find_principal(conns[0], kept[0])
        assert admin is not None and admin.role == "admin" and admin.name == "Quản trị (ioc up)"
    finally:
        for conn in conns:
            await conn.close()
