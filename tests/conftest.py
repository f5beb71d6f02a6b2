"""Shared fixtures. Services start lazily: a unit-test run starts none of them.

`IOC_TEST_KAFKA_BOOTSTRAP` / `IOC_TEST_DATABASE_URL` point the tests at existing services;
otherwise the session starts Apache Kafka and PostgreSQL with the code `ioc up` uses.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from ioc.config import Settings, get_settings, load_settings
from ioc.embedded.kafka import KafkaNode
from ioc.embedded.postgres import PostgresNode
from tests._services import ExternalService, LocalService

REPO = Path(__file__).resolve().parent.parent
TIERS = ("unit", "tools", "contract", "integration", "e2e", "faults")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with its tier, from the folder it lives in.

    The docstring examples in `ioc/` (`--doctest-modules`) are pure code: tier `unit`.
    """
    for item in items:
        path = Path(str(item.fspath))
        if not path.is_relative_to(REPO / "tests"):
            item.add_marker(pytest.mark.unit)
            continue
        tier = path.relative_to(REPO / "tests").parts[0]
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Each test reads the environment anew (monkeypatched IOC_* variables take effect)."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def state_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ioc-state")


@pytest.fixture(scope="session")
def kafka(state_root: Path) -> Iterator[LocalService | ExternalService]:
    external = os.environ.get("IOC_TEST_KAFKA_BOOTSTRAP")
    if external:
        yield ExternalService(external)
        return
    # A retention check every 2 s instead of 5 min, so a test can watch retention act.
    node = KafkaNode(
        state_root,
        load_settings().cache_dir,
        port=0,
        properties={"log.retention.check.interval.ms": "2000"},
    )
    service = LocalService(node.prepare(), state_root, node.bootstrap)
    service.start()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def postgres(state_root: Path) -> Iterator[LocalService | ExternalService]:
    external = os.environ.get("IOC_TEST_DATABASE_URL")
    if external:
        yield ExternalService(external)
        return
    node = PostgresNode(state_root, port=0, database="postgres")
    service = LocalService(node.prepare(), state_root, node.url)
    service.start()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def timescaledb(state_root: Path) -> Iterator[LocalService]:
    """TimescaleDB (WASM) on loopback, migrated once; see tests/_timescale.py for its quirks."""
    from tests._timescale import prepare

    spec, url = prepare(load_settings().cache_dir, state_root / "timescaledb-data", state_root)
    service = LocalService(spec, state_root, url)
    service.start()
    yield service
    service.stop()


@pytest.fixture(params=["postgresql", "timescaledb"])
def tier(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(tier, URL): a fresh PostgreSQL database, or the session's TimescaleDB server.

    Open it with `tests._tiers.tier_connection`: a test using it runs on both tiers.
    """
    if request.param == "postgresql":
        return "postgresql", request.getfixturevalue("database_url")
    return "timescaledb", request.getfixturevalue("timescaledb").address


@pytest.fixture
async def database_url(postgres: LocalService | ExternalService) -> AsyncIterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres.address)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, _ = postgres.address.rpartition("/")
    yield f"{base}/{name}"
    admin = await asyncpg.connect(postgres.address)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def unique_topic(request: pytest.FixtureRequest) -> str:
    """A topic name no other test uses."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:60]
    return f"test.{stem}.{uuid.uuid4().hex[:8]}"


@pytest.fixture
def settings(kafka: LocalService | ExternalService, database_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the test broker and a fresh database."""
    return load_settings(
        kafka_bootstrap=kafka.address, database_url=database_url, state_dir=tmp_path / "state"
    )


@pytest.fixture
async def topics_settings(settings: Settings) -> Settings:
    """Settings with a topic prefix of this test's own, and the project's topics created."""
    from ioc.kafka import ensure_topics, project_topics

    isolated = load_settings(
        kafka_bootstrap=settings.kafka_bootstrap,
        state_dir=settings.state_dir,
        kafka={"topic_prefix": f"t{uuid.uuid4().hex[:10]}", "partitions": 3},
    )
    await ensure_topics(isolated, project_topics(isolated))
    return isolated
