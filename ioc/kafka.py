"""Kafka clients and topics.

Every client the project creates is built here, so the security settings
(`IOC_KAFKA__SECURITY_PROTOCOL`, SASL, SSL) reach all of them.

Topics are created by the project with explicit settings, never auto-created: in particular
`message.timestamp.type=LogAppendTime`, because Kafka's time-based retention runs on record
timestamps, and a backfill carrying event time as record time would be deleted on arrival.

Record sizes are limited on purpose, in one chain: envelope fields have a `max_length`
(`ioc.events`), so an event is a few KiB; a dead letter keeps at most `ioc.dlq.ORIGINAL_LIMIT`
bytes of its original; producers refuse a record over `RECORD_MAX_BYTES`
(`max_request_size`), and topics accept `TOPIC_MAX_MESSAGE_BYTES`, more than any batch such a
producer sends. A record that is still too large is dead-lettered by the connector runner, never
retried (`ioc.connectors.runner`).

Durability: with a replication factor of 3 or more, topics require two in-sync copies
(`min.insync.replicas=2`), so a write acknowledged under `acks=all` survives the loss of a broker
and one broker may be down without stopping producers. The dead-letter topic keeps its records
for good (`retention.ms=-1`): a rejected input is never dropped, it waits for a replay
(`ioc dlq export`). `ioc kafka topics` creates the topics and checks them against this.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from ioc.config import ConfigError, KafkaSettings, Settings
from ioc.feeds import feeds
from ioc.runstate import resolve_kafka_bootstrap

__all__ = [
    "MIN_INSYNC_REPLICAS",
    "RECORD_MAX_BYTES",
    "TOPIC_MAX_MESSAGE_BYTES",
    "TopicCheck",
    "TopicSpec",
    "check_topics",
    "client_options",
    "end_offsets",
    "ensure_topics",
    "kafka_health",
    "make_admin",
    "make_consumer",
    "make_producer",
    "project_topics",
    "topic_name",
]

log = logging.getLogger(__name__)

RECORD_MAX_BYTES = 1_048_576  # a producer's max_request_size: aiokafka's default, now chosen
# A batch holds one record over the batch size, so the topic must take a whole request plus the
# batch framing; Kafka's own default (1 MiB + 12 bytes) is too tight for that.
TOPIC_MAX_MESSAGE_BYTES = RECORD_MAX_BYTES + 64 * 1024
# Two copies acknowledge every write once there are three to spare one; with fewer replicas the
# broker default (1) stays, since requiring all of them would stop producers on any broker restart.
MIN_INSYNC_REPLICAS = 2


def _ssl_context(kafka: KafkaSettings) -> ssl.SSLContext | None:
    if not kafka.security_protocol.endswith("SSL"):
        return None
    context: ssl.SSLContext = create_ssl_context(
        cafile=kafka.ssl_cafile, certfile=kafka.ssl_certfile, keyfile=kafka.ssl_keyfile
    )
    context.check_hostname = kafka.ssl_check_hostname
    return context


def client_options(settings: Settings, bootstrap: str | None = None) -> dict[str, Any]:
    """Keyword arguments shared by every aiokafka client (address, identity, security)."""
    kafka = settings.kafka
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap or resolve_kafka_bootstrap(settings),
        "client_id": kafka.client_id,
        "security_protocol": kafka.security_protocol,
        "ssl_context": _ssl_context(kafka),
    }
    if kafka.security_protocol.startswith("SASL"):
        assert kafka.sasl_password is not None  # checked by KafkaSettings
        options |= {
            "sasl_mechanism": kafka.sasl_mechanism,
            "sasl_plain_username": kafka.sasl_username,
            "sasl_plain_password": kafka.sasl_password.get_secret_value(),
        }
    return options


def make_producer(
    settings: Settings, bootstrap: str | None = None, **extra: Any
) -> AIOKafkaProducer:
    """An idempotent producer (acks=all) with the project's security settings."""
    options = {
        "enable_idempotence": True,
        "acks": "all",
        "compression_type": "lz4",
        "max_request_size": RECORD_MAX_BYTES,
    } | extra
    return AIOKafkaProducer(**(client_options(settings, bootstrap) | options))


def make_consumer(
    settings: Settings, *topics: str, bootstrap: str | None = None, **extra: Any
) -> AIOKafkaConsumer:
    """A consumer with the project's security settings (offsets are committed by the caller)."""
    options = {"enable_auto_commit": False, "auto_offset_reset": "earliest"} | extra
    return AIOKafkaConsumer(*topics, **(client_options(settings, bootstrap) | options))


def make_admin(settings: Settings, bootstrap: str | None = None) -> AIOKafkaAdminClient:
    """An admin client with the project's security settings."""
    return AIOKafkaAdminClient(**client_options(settings, bootstrap), request_timeout_ms=10_000)


def topic_name(settings: Settings, *parts: str) -> str:
    """`topic_name(s, "events", "dvc")` is `ioc.events.dvc` with the default prefix."""
    return ".".join((settings.kafka.topic_prefix, *parts))


@dataclass(frozen=True)
class TopicSpec:
    """A topic the project owns, with the settings it is created with.

    ``partitions_from`` says where its partition count comes from, for the message that
    reports a topic with another count: the settings, or a feed's declaration.
    """

    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str] = field(default_factory=dict)
    partitions_from: str = "IOC_KAFKA__PARTITIONS"


def project_topics(settings: Settings) -> list[TopicSpec]:
    """Every topic the project writes: one per declared feed, the dead-letter and the late topics.

    A feed's declaration may set its topic's partitions and retention (``topic:``); what it
    leaves unset comes from the settings (``IOC_KAFKA__PARTITIONS``, ``…__RETENTION_HOURS``).

    Raises:
        ConfigError: a declaration keeps records longer than the event store keeps events (a
            record read again would be counted twice, as the settings themselves refuse).
    """
    kafka = settings.kafka
    kept = settings.streams.event_retention_days * 24
    longer = [f for f in feeds() if f.retention_hours is not None and f.retention_hours > kept]
    if longer:
        raise ConfigError(
            "; ".join(
                f"{f.source}: topic.retention_hours={f.retention_hours} keeps records longer "
                f"than the store keeps events (IOC_STREAMS__EVENT_RETENTION_DAYS="
                f"{settings.streams.event_retention_days})"
                for f in longer
            )
            + ": a record read again would be counted twice; lower the first or raise the second"
        )
    config = {
        "message.timestamp.type": "LogAppendTime",
        "retention.ms": str(kafka.retention_hours * 3_600_000),
        "cleanup.policy": "delete",
        "max.message.bytes": str(TOPIC_MAX_MESSAGE_BYTES),
    }
    if kafka.replication_factor > MIN_INSYNC_REPLICAS:
        config["min.insync.replicas"] = str(MIN_INSYNC_REPLICAS)
    specs = []
    for feed in feeds():
        retention = feed.retention_hours
        specs.append(
            TopicSpec(
                topic_name(settings, "events", feed.feed),
                feed.partitions or kafka.partitions,
                kafka.replication_factor,
                config
                if retention is None
                else config | {"retention.ms": str(retention * 3_600_000)},
                "IOC_KAFKA__PARTITIONS"
                if feed.partitions is None
                else f"topic.partitions in {feed.source}",
            )
        )
    specs.append(
        # Dead letters wait for a fix and a replay, however long that takes.
        TopicSpec(
            topic_name(settings, "dlq"),
            1,
            kafka.replication_factor,
            config | {"retention.ms": "-1"},
        )
    )
    specs.append(TopicSpec(topic_name(settings, "late"), 1, kafka.replication_factor, config))
    return specs


async def ensure_topics(
    settings: Settings, specs: list[TopicSpec], bootstrap: str | None = None
) -> list[str]:
    """Create the topics that do not exist yet; returns the names created (idempotent)."""
    admin = make_admin(settings, bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if not missing:
            return []
        new = [
            NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=s.config)
            for s in missing
        ]
        response = await admin.create_topics(new)
        created = []
        # Per-topic errors come back in the response, never raised: (name, code, message).
        for name, code, *message in response.topic_errors:
            if code == 0:
                created.append(name)
            elif code != TopicAlreadyExistsError.errno:  # made meanwhile by another process
                log.error("topic %s not created: error %d %s", name, code, "".join(message[:1]))
        if created:
            log.info("created topics %s", ", ".join(created))
        return created
    finally:
        await admin.close()


@dataclass
class TopicCheck:
    """One topic as the cluster has it, next to what the project wants (`ioc kafka topics`).

    `config` holds the cluster's values of the keys `spec.config` sets; `problems` says, in
    words, every way the topic differs from `spec` (empty when it matches).
    """

    spec: TopicSpec
    created: bool = False
    altered: bool = False
    partitions: int = 0
    replication_factor: int = 0
    config: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _differences(check: TopicCheck) -> list[str]:
    spec, problems = check.spec, []
    if check.partitions != spec.partitions:
        # Never fixed automatically: Kafka cannot remove partitions, and adding some moves keys.
        problems.append(
            f"{check.partitions} partitions, not {spec.partitions} ({spec.partitions_from}); "
            "partitions are never changed here (adding them re-keys events)"
        )
    if check.replication_factor != spec.replication_factor:
        problems.append(
            f"replication factor {check.replication_factor}, not {spec.replication_factor} "
            "(IOC_KAFKA__REPLICATION_FACTOR); reassign its partitions with Kafka's tools"
        )
    for key, wanted in sorted(spec.config.items()):
        have = check.config.get(key)
        if have != wanted:
            problems.append(f"{key}={have}, not {wanted}")
    return problems


def _config_differs(check: TopicCheck) -> bool:
    return any(check.config.get(key) != value for key, value in check.spec.config.items())


async def _describe(admin: AIOKafkaAdminClient, checks: list[TopicCheck]) -> None:
    by_name = {c.spec.name: c for c in checks}
    for topic in await admin.describe_topics(list(by_name)):
        check = by_name[topic["topic"]]
        check.partitions = len(topic["partitions"])
        check.replication_factor = max((len(p["replicas"]) for p in topic["partitions"]), default=0)
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in by_name]
    for response in await admin.describe_configs(resources):
        # Each resource: (error_code, error_message, type, name, [(key, value, ...), ...]).
        for resource in response.resources:
            check = by_name[resource[3]]
            check.config = {
                entry[0]: entry[1] for entry in resource[4] if entry[0] in check.spec.config
            }
    for check in checks:
        check.problems = _differences(check)


async def check_topics(
    settings: Settings, specs: list[TopicSpec], bootstrap: str | None = None, *, fix: bool = False
) -> list[TopicCheck]:
    """Create the missing topics, then compare every topic with its spec.

    With `fix`, a topic whose settings differ gets `spec.config` as its settings (Kafka's
    AlterConfigs: the topic's other per-topic overrides are removed); partitions and replicas
    are only reported.
    """
    created = set(await ensure_topics(settings, specs, bootstrap))
    checks = [TopicCheck(spec, created=spec.name in created) for spec in specs]
    admin = make_admin(settings, bootstrap)
    await admin.start()
    try:
        await _describe(admin, checks)
        # A broker learns of a topic created a moment ago from the metadata log shortly after.
        for _ in range(20):
            if not any(c.created and not c.partitions for c in checks):
                break
            await asyncio.sleep(0.5)
            await _describe(admin, checks)
        wrong = [c for c in checks if _config_differs(c)]
        if fix and wrong:
            await admin.alter_configs(
                [
                    ConfigResource(ConfigResourceType.TOPIC, c.spec.name, configs=c.spec.config)
                    for c in wrong
                ]
            )
            for check in wrong:
                check.altered = True
            log.info("set the configs of topics %s", ", ".join(c.spec.name for c in wrong))
            # Brokers apply a change from the metadata log a moment after it is accepted.
            for _ in range(20):
                await asyncio.sleep(0.5)
                await _describe(admin, checks)
                if not any(_config_differs(c) for c in wrong):
                    break
    finally:
        await admin.close()
    return checks


async def kafka_health(
    settings: Settings, bootstrap: str | None = None, timeout: float = 5.0
) -> str:
    """Ask the cluster who its brokers are; returns a short description or raises."""
    admin = make_admin(settings, bootstrap)
    try:
        async with asyncio.timeout(timeout):
            await admin.start()
            cluster = await admin.describe_cluster()
    finally:
        await admin.close()
    brokers = cluster.get("brokers", [])
    return f"{len(brokers)} broker(s), cluster {cluster.get('cluster_id')}"


async def end_offsets(settings: Settings, topics: list[str]) -> dict[tuple[str, int], int]:
    """(topic, partition) → the offset after its last record, for every partition of `topics`."""
    from aiokafka import TopicPartition

    admin = make_admin(settings)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    tps = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    consumer = make_consumer(settings, group_id=None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}
