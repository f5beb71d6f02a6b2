"""Invented API keys leave nothing in the API's memory; valid ones are looked up once."""

from __future__ import annotations

import secrets

import asyncpg

from ioc.api.context import ApiContext, RateLimiter, TtlCache
from ioc.api.keys import create_key
from ioc.api.security import find_principal_cached
from ioc.areas import load_areas
from ioc.config import load_settings
from ioc.db import migrate
from ioc.indicators import load_indicators
from ioc.services import build_evaluator


async def test_only_valid_keys_are_cached(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await migrate(conn)
        key_id, key = await create_key(conn, "Trực ban", "operator", None, "test")
    finally:
        await conn.close()
    settings = load_settings(database_url=database_url)
    evaluator = build_evaluator(settings)
    async with asyncpg.create_pool(database_url, min_size=1, max_size=2) as pool:
        cache = TtlCache(60.0)
        ctx = ApiContext(
            settings=settings,
            pool=pool,
            catalogue=evaluator.catalogue,
            rules=evaluator.rules,
            areas=load_areas(),
            limiter=RateLimiter(60, 10),
            auth_limiter=RateLimiter(60, 10),
            cache=cache,
            evaluator=evaluator,
            indicators=load_indicators(),
        )
        for _ in range(200):
            invented = f"ioc_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
            assert await find_principal_cached(ctx, invented) is None
        assert await find_principal_cached(ctx, "not a key") is None
        assert len(cache._values) == 0
        found = await find_principal_cached(ctx, key)
        assert found is not None and found.key_id == key_id
        assert len(cache._values) == 1
        assert key not in str(list(cache._values))  # kept under a hash, not the secret
