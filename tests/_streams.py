"""A known workload for stream-worker tests, and what the database must hold after it.

The simulated feeds are backfilled over a short span; then, as real feeds do, some events
are delivered twice (connector retries, spool replays), some arrive out of order within the
allowed lateness, some arrive after it (late), and a few records are malformed. Whatever the
worker goes through, the window rows must equal the measures of the valid events counted once.
"""

from __future__ import annotations

import asyncio
import math
import random
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

from ioc.areas import load_areas
from ioc.codec import encode, headers
from ioc.config import Settings, load_settings
from ioc.connectors.base import ConnectorContext, VirtualClock
from ioc.connectors.registry import load_connector
from ioc.db import connect, migrate, sync_areas
from ioc.events import (
    FEEDS,
    CameraHeartbeat,
    DossierEvent,
    Envelope,
    NetworkSample,
    PaymentTransaction,
)
from ioc.kafka import end_offsets, ensure_topics, make_producer, project_topics, topic_name
from ioc.kpis.measures import measures
from ioc.streams.sink import window_start


def _a_recent_monday() -> datetime:
    """08:00 in Hưng Yên on the Monday one to two weeks ago: office hours for the DVC feed,
    and always inside the event store's retention, whatever day the tests run."""
    today = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0)
    return today - timedelta(days=7 + today.weekday())


START = _a_recent_monday()
SIMULATORS = ("camera-sim", "dvc-sim", "payment-sim", "network-sim", "feedback-sim")

Key = tuple[datetime, str, str]


@dataclass
class Record:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


@dataclass
class Workload:
    """Records in the order they are produced, and what they must add up to."""

    records: list[Record] = field(default_factory=list)
    expected: dict[Key, tuple[int, float]] = field(default_factory=dict)
    malformed: list[tuple[str, bytes]] = field(default_factory=list)  # (reason, value)
    duplicates: int = 0
    delayed: int = 0  # sent after their window closed on their partition (late)


async def _simulated(settings: Settings, minutes: int, rate: float) -> list[Envelope]:
    areas = load_areas(settings.areas_file)
    found: list[Envelope] = []
    for name in SIMULATORS:
        clock = VirtualClock(START, START + timedelta(minutes=minutes))
        context = ConnectorContext(
            name=name, settings=settings, areas=areas, clock=clock, seed=7, rate=rate
        )
        async for item in load_connector(name)(context).events():
            if isinstance(item, Envelope):
                found.append(item)
    return found


def _bad_records(settings: Settings, sample: Envelope) -> list[tuple[str, str, bytes]]:
    """(topic, reason, value) of records that must end up on the DLQ and nowhere else."""
    at = START + timedelta(minutes=1)
    camera = topic_name(settings, "events", "camera")
    payment = topic_name(settings, "events", "payment")
    network = topic_name(settings, "events", "network")
    wrong_feed = Envelope.create(
        source="test",
        area=sample.area,
        occurred_at=at,
        payload=PaymentTransaction(
            transaction_id="x1", amount_vnd=1000, channel="qr", sector="school", success=True
        ),
    )
    unknown_area = Envelope.create(
        source="test",
        area="99999",
        occurred_at=at,
        payload=CameraHeartbeat(camera_id="cam-x", online=True),
    )
    inconsistent = Envelope.create(
        source="test",
        area=sample.area,
        occurred_at=at,
        payload=PaymentTransaction(
            transaction_id="x2",
            amount_vnd=5000,
            channel="card",
            sector="hospital",
            success=True,
            failure_reason="declined",
        ),
    )
    down_with_traffic = Envelope.create(
        source="test",
        area=sample.area,
        occurred_at=at,
        payload=NetworkSample(
            point_id="p-x", point_kind="special_network", up=False, throughput_mbps=5.0
        ),
    )
    return [
        (camera, "invalid", b"{not json"),
        (camera, "empty", b""),
        (payment, "invalid", b'{"event_id": "nope"}'),
        (camera, "wrong_feed", encode(wrong_feed)),
        (camera, "unknown_area", encode(unknown_area)),
        (payment, "inconsistent", encode(inconsistent)),
        (network, "inconsistent", encode(down_with_traffic)),
        (payment, "not_utf8", b"\xff\xfe\x00"),
    ]


async def isolated_settings(settings: Settings, *, with_areas: bool = False) -> Settings:
    """The test's broker and database, topics of its own, a migrated schema (and the areas)."""
    assert settings.database_url is not None
    isolated = load_settings(
        kafka_bootstrap=settings.kafka_bootstrap,
        database_url=settings.database_url.get_secret_value(),
        state_dir=settings.state_dir,
        kafka={"topic_prefix": f"t{uuid.uuid4().hex[:10]}", "partitions": 3},
        streams={"flush_interval_ms": 200, "max_batch": 3000},
    )
    await ensure_topics(isolated, project_topics(isolated))
    conn = await connect(isolated)
    try:
        await migrate(conn)
        if with_areas:
            await sync_areas(conn, load_areas(isolated.areas_file))
    finally:
        await conn.close()
    return isolated


async def build_workload(
    settings: Settings, *, minutes: int = 20, rate: float = 1.0, seed: int = 1
) -> Workload:
    """Simulated events over `minutes`, with repeats, disorder, late events and bad records.

    Late events are held back and sent after everything else, when every partition's
    watermark has moved at least `minutes - 3` minutes past them (more than the default
    window plus allowed lateness when `minutes` >= 10).
    """
    rng = random.Random(seed)
    events = await _simulated(settings, minutes, rate)
    events.sort(key=lambda e: e.occurred_at)
    # Out of order within the lateness: swap neighbours a few seconds apart.
    for i in range(0, len(events) - 1, 50):
        events[i], events[i + 1] = events[i + 1], events[i]
    held = [
        e for e in events if e.occurred_at < START + timedelta(minutes=2) and rng.random() < 0.02
    ]
    held_ids = {e.event_id for e in held}
    work = Workload(delayed=len(held))

    def add(env: Envelope) -> None:
        work.records.append(
            Record(
                topic_name(settings, "events", env.feed),
                env.key.encode(),
                encode(env),
                headers(env),
            )
        )

    recent: list[Envelope] = []
    for env in events:
        if env.event_id in held_ids:
            continue
        add(env)
        recent.append(env)
        if rng.random() < 0.01:  # a retry delivers an event sent a little earlier again
            add(rng.choice(recent[-200:]))
            work.duplicates += 1
    for env in held:
        add(env)
    for env in held[: max(1, len(held) // 10)]:  # a late event repeated: still counted once
        add(env)
        work.duplicates += 1
    bad = _bad_records(settings, events[0])
    for n, (topic, reason, value) in enumerate(bad):
        position = (n + 1) * len(work.records) // (len(bad) + 1)
        work.records.insert(position, Record(topic, b"bad", value, []))
        work.malformed.append((reason, value))

    totals: dict[Key, list[float]] = defaultdict(lambda: [0, 0.0])
    width = timedelta(seconds=settings.streams.window_seconds)
    for env in events:
        for metric, value in measures(env):
            total = totals[(window_start(env.occurred_at, width), metric, env.area)]
            total[0] += 1
            total[1] += value
    work.expected = {k: (int(v[0]), v[1]) for k, v in totals.items()}
    return work


async def produce(settings: Settings, records: list[Record]) -> None:
    """Send the records in order (per partition order is what matters)."""
    producer = make_producer(settings, linger_ms=10)
    await producer.start()
    try:
        futures = [
            await producer.send(r.topic, r.value, key=r.key, headers=r.headers) for r in records
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def stream_topics(settings: Settings) -> list[str]:
    """The topics a worker reads."""
    return [topic_name(settings, "events", f) for f in FEEDS] + [topic_name(settings, "late")]


async def caught_up(conn: asyncpg.Connection, settings: Settings) -> bool:
    """True once the stored positions reach the end of every topic the workers read."""
    ends = await end_offsets(settings, stream_topics(settings))
    rows = await conn.fetch(
        "SELECT topic, partition, next_offset FROM stream_offsets WHERE consumer_group = $1",
        settings.streams.group,
    )
    stored = {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
    return all(stored.get(tp, 0) >= end for tp, end in ends.items())


async def wait_caught_up(
    conn: asyncpg.Connection,
    settings: Settings,
    timeout: float = 120.0,
    worker: asyncio.Task[None] | None = None,
) -> None:
    """Wait until `caught_up` holds twice in a row, a second apart (late records settle).

    With `worker`, fail at once if that task ended (it crashed) instead of waiting it out.
    """
    async with asyncio.timeout(timeout):
        streak = 0
        while streak < 2:
            if worker is not None and worker.done():
                worker.result()
                raise AssertionError("the worker stopped before catching up")
            streak = streak + 1 if await caught_up(conn, settings) else 0
            await asyncio.sleep(1.0)


async def window_totals(conn: asyncpg.Connection) -> dict[Key, tuple[int, float]]:
    """What the database holds, in the shape of `Workload.expected`."""
    rows = await conn.fetch("SELECT window_start, metric, area, count, sum FROM window_metrics")
    return {(r["window_start"], r["metric"], r["area"]): (r["count"], r["sum"]) for r in rows}


def differences(
    expected: dict[Key, tuple[int, float]], actual: dict[Key, tuple[int, float]]
) -> list[str]:
    """Every row that differs (counts exactly, sums to float rounding), at most 10."""
    problems = []
    for key in sorted(expected.keys() | actual.keys()):
        want, got = expected.get(key), actual.get(key)
        if (
            want is None
            or got is None
            or want[0] != got[0]
            or not math.isclose(want[1], got[1], rel_tol=1e-9, abs_tol=1e-6)
        ):
            problems.append(f"{key}: expected {want}, got {got}")
    return problems[:10] + ([f"… {len(problems) - 10} more"] if len(problems) > 10 else [])


def reasons(malformed: list[tuple[str, bytes]]) -> Counter[str]:
    return Counter(reason for reason, _ in malformed)


def dossier_record(settings: Settings, at: datetime, area: str = "11953") -> Record:
    """One new dossier received online at `at` in `area` (Phường Phố Hiến), as a DVC record."""
    envelope = Envelope.create(
        source="test",
        area=area,
        occurred_at=at,
        payload=DossierEvent(
            dossier_id=f"HS-{uuid.uuid4().hex[:8]}",
            stage="received",
            procedure_code="1.001",
            procedure_name="Đăng ký khai sinh",
            agency_code="UBND",
            channel="online",
            service_level="full",
        ),
    )
    return Record(
        topic_name(settings, "events", "dvc"),
        envelope.key.encode(),
        encode(envelope),
        headers(envelope),
    )
