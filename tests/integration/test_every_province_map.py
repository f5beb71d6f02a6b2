"""Each of the 34 provinces: the API starts with `IOC_PROVINCE` set to it and maps its communes.

Issue 18's done-when: "`ioc up` with the province setting set to each of the 34 codes starts and
the board shows that province's communes on the map". Starting the whole stack 34 times would
take most of an hour, so one PostgreSQL is shared and, for each province, the test does what
`ioc up` does for the API part (reading the setting from the environment as the processes do):
migrate and sync that province's areas into a fresh database, build the API app in-process with
`create_app(load_settings())` and run its real lifespan (catalogue, rules, areas, recipients,
the pool, the live hub and the dead-letter index), then ask `GET /api/v1/map` with an operator
key, as the board does on load.

What it skips of `ioc up`: the broker, the stream processors, the alert loop and the simulators
(their province handling is tested elsewhere), and the board's drawing, which
tests/e2e/test_board_map.py checks in Chromium from this same response.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest

from ioc.api.app import create_app
from ioc.areas import AreaLevel, load_areas, province_codes
from ioc.config import load_settings
from ioc.db import migrate, sync_areas
from ioc.localtime import local_today
from tests._api import add_key


@pytest.fixture
async def fresh_database(postgres: object) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """A factory of fresh databases on the session's PostgreSQL, all dropped afterwards."""
    address: str = postgres.address  # type: ignore[attr-defined]
    base = address.rpartition("/")[0]
    made: list[str] = []

    async def make() -> str:
        name = f"every_{uuid.uuid4().hex[:10]}"
        admin = await asyncpg.connect(address)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        made.append(name)
        return f"{base}/{name}"

    yield make
    admin = await asyncpg.connect(address)
    try:
        for name in made:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_each_of_the_34_provinces_starts_and_maps_its_communes(
    fresh_database: Callable[[], Awaitable[str]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    codes = province_codes()
    assert len(codes) == 34
    today = local_today()
    timings: dict[str, float] = {}
    for code in codes:
        started = time.monotonic()
        url = await fresh_database()
        # The processes read the setting from the environment, as `ioc up` passes it on.
        monkeypatch.setenv("IOC_PROVINCE", code)
        monkeypatch.setenv("IOC_DATABASE_URL", url)
        monkeypatch.setenv("IOC_KAFKA_BOOTSTRAP", "127.0.0.1:9")  # the map needs no broker
        monkeypatch.setenv("IOC_STATE_DIR", str(tmp_path / f"state-{code}"))
        monkeypatch.setenv("IOC_ENVIRONMENT", "staging")
        settings = load_settings()
        assert settings.province == code
        registry = load_areas(province=code)
        province = registry.as_of(today).province
        assert province.code == code
        communes = {a.code: a for a in registry.children(code, today)}
        assert communes, f"{code}: no communes today"
        assert {a.level for a in communes.values()} == {AreaLevel.COMMUNE}, code

        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
            await sync_areas(conn, registry)
            key = await add_key(conn, f"Trực ban {code} (kiểm thử)", "operator")
        finally:
            await conn.close()

        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://ioc",
                headers={"Authorization": f"Bearer {key}"},
            ) as client:
                answer = await client.get("/api/v1/map")
        assert answer.status_code == 200, (code, answer.text)
        body = answer.json()
        assert body["area"]["code"] == code
        assert body["area"]["name_vi"] == province.name_vi
        children = {c["code"]: c for c in body["children"]}
        assert children.keys() == communes.keys(), code
        for child_code, child in children.items():
            assert child["name_vi"] == communes[child_code].name_vi
            assert child["parent"] == code
            assert child["status"] == "no_data"  # nothing has reported yet
            assert isinstance(child["lat"], float) and isinstance(child["lon"], float), child
            west, south, east, north = child["bounds"]
            assert west <= child["lon"] <= east and south <= child["lat"] <= north, child
        timings[code] = time.monotonic() - started
    slowest = max(timings, key=lambda c: timings[c])
    print(
        f"34 provinces in {sum(timings.values()):.1f} s; slowest {slowest} {timings[slowest]:.1f} s"
    )
