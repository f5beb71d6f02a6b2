"""The contracts of ioc/ against a real Apache Kafka and a real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError

from ioc.areas import load_areas
from ioc.codec import decode, encode, headers
from ioc.config import KafkaSettings, Settings, load_settings
from ioc.db import applied_migrations, connect, migrate, sync_areas
from ioc.embedded.kafka import KafkaNode
from ioc.events import Envelope, PaymentTransaction, utc_now
from ioc.kafka import (
    TopicSpec,
    ensure_topics,
    kafka_health,
    make_admin,
    make_consumer,
    make_producer,
    project_topics,
)
from tests._services import ExternalService, LocalService


def _payment(i: int) -> Envelope:
    return Envelope.create(
        source="it",
        area="12097",
        key=f"m-{i % 3}",
        occurred_at=utc_now(),
        payload=PaymentTransaction(
            transaction_id=f"t{i}",
            amount_vnd=10_000 + i,
            channel="qr",
            sector="school",
            success=True,
            merchant_id="Trường Tiểu học Ân Thi",
        ),
    )


async def test_events_round_trip_through_kafka_with_headers(
    settings: Settings, unique_topic: str
) -> None:
    await ensure_topics(settings, [TopicSpec(unique_topic, 3, 1)])
    sent = [_payment(i) for i in range(30)]
    producer = make_producer(settings)
    await producer.start()
    try:
        for env in sent:
            await producer.send(
                unique_topic, encode(env), key=env.key.encode(), headers=headers(env)
            )
    finally:
        await producer.stop()
    consumer = make_consumer(settings, unique_topic, group_id=None)
    await consumer.start()
    received = []
    try:
        while len(received) < len(sent):
            batch = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), 30)
            received += [r for records in batch.values() for r in records]
    finally:
        await consumer.stop()
    assert sorted(decode(r.value).event_id for r in received) == sorted(e.event_id for e in sent)
    assert all(dict(r.headers)["ioc-type"] == b"payment.transaction" for r in received)
    by_key: dict[bytes, set[int]] = {}
    for r in received:
        by_key.setdefault(r.key, set()).add(r.partition)
    assert all(len(parts) == 1 for parts in by_key.values()), "one key, one partition"
    assert decode(received[0].value).payload.merchant_id == "Trường Tiểu học Ân Thi"  # type: ignore[union-attr]


async def test_project_topics_are_created_once_with_log_append_time(
    kafka: LocalService | ExternalService, tmp_path: Path
) -> None:
    prefix = f"it{uuid.uuid4().hex[:8]}"
    settings = load_settings(
        kafka_bootstrap=kafka.address,
        state_dir=tmp_path,
        kafka=KafkaSettings(topic_prefix=prefix, partitions=4, retention_hours=24),
    )
    created = await ensure_topics(settings, project_topics(settings))
    # Five feeds, the test plug-in's air (tests/plugins/ioc-test-airquality), the dead-letter
    # and the late topic (no ioc.alerts: nothing writes it).
    assert f"{prefix}.events.dvc" in created and len(created) == 8
    assert await ensure_topics(settings, project_topics(settings)) == []
    admin = make_admin(settings)
    await admin.start()
    try:
        from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

        (response,) = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, f"{prefix}.events.dvc")]
        )
        configs = {entry[0]: entry[1] for entry in response.resources[0][4]}
        (described,) = await admin.describe_topics([f"{prefix}.events.dvc"])
    finally:
        await admin.close()
    assert configs["message.timestamp.type"] == "LogAppendTime"
    assert configs["retention.ms"] == str(24 * 3_600_000)
    assert len(described["partitions"]) == 4


async def test_migrations_apply_once_and_areas_keep_their_diacritics(settings: Settings) -> None:
    conn = await connect(settings)
    try:
        first = await migrate(conn)
        assert first and first[0] == "0001_areas"
        assert await migrate(conn) == []
        assert set(await applied_migrations(conn)) == {int(name[:4]) for name in first}
        registry = load_areas()
        assert await sync_areas(conn, registry) == len(registry)
        assert await sync_areas(conn, registry) == len(registry)  # idempotent
        names = {
            r["name_vi"]
            for r in await conn.fetch("SELECT name_vi FROM areas WHERE level = 'district'")
        }
    finally:
        await conn.close()
    assert "Huyện Ân Thi" in names and "Huyện Khoái Châu" in names


async def test_concurrent_migrations_do_not_collide(settings: Settings) -> None:
    conns = [await connect(settings) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
    finally:
        for c in conns:
            await c.close()
    assert sorted(len(r) for r in results)[:2] == [0, 0]
    assert sum(len(r) for r in results) == len(results[0] or results[1] or results[2])


async def test_sslmode_setting_reaches_the_connection(database_url: str, tmp_path: Path) -> None:
    # The embedded server has no TLS: `require` must refuse to fall back to plain text.
    strict = load_settings(
        database_url=database_url, state_dir=tmp_path, database={"sslmode": "require"}
    )
    with pytest.raises((ConnectionError, asyncpg.PostgresError, OSError)) as err:
        await connect(strict)
    assert "ssl" in str(err.value).lower()
    relaxed = load_settings(
        database_url=database_url, state_dir=tmp_path, database={"sslmode": "prefer"}
    )
    conn = await connect(relaxed)
    assert await conn.fetchval("SELECT 1") == 1
    await conn.close()


@pytest.fixture(scope="module")
def sasl_kafka(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    state = tmp_path_factory.mktemp("sasl")
    node = KafkaNode(
        state,
        load_settings().cache_dir,
        port=0,
        sasl_users={"broker": "broker-secret", "ioc": "ioc-secret"},
    )
    service = LocalService(node.prepare(), state, node.bootstrap)
    service.start()
    yield service
    service.stop()


async def test_sasl_credentials_reach_the_clients(
    sasl_kafka: LocalService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOC_KAFKA__SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("IOC_KAFKA__SASL_USERNAME", "ioc")
    monkeypatch.setenv("IOC_KAFKA__SASL_PASSWORD", "ioc-secret")
    good = load_settings(kafka_bootstrap=sasl_kafka.address, state_dir=tmp_path)
    assert "1 broker(s)" in await kafka_health(good)
    assert await ensure_topics(good, project_topics(good))  # admin client logs in too
    producer = make_producer(good)
    await producer.start()
    await producer.send_and_wait("ioc.dlq", b"x")
    await producer.stop()

    monkeypatch.setenv("IOC_KAFKA__SASL_PASSWORD", "wrong")
    bad = load_settings(kafka_bootstrap=sasl_kafka.address, state_dir=tmp_path)
    with pytest.raises(Exception) as err:
        await kafka_health(bad, timeout=10)
    assert err.type is not AssertionError
    monkeypatch.setenv("IOC_KAFKA__SECURITY_PROTOCOL", "PLAINTEXT")
    plain = load_settings(kafka_bootstrap=sasl_kafka.address, state_dir=tmp_path)
    with pytest.raises((KafkaConnectionError, TimeoutError, Exception)):
        await kafka_health(plain, timeout=5)
