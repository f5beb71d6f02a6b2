"""Exactness where users go: every way an event comes again, hours or days of event time later.

Each test runs real connectors and the real stream worker on real Kafka and PostgreSQL, and
repeats events hours or days of event time behind the partitions' watermarks. The worker
before the event store remembered event ids only until their window was an hour behind the
watermark, so each of these counted the repeats again; the docstrings say which promise each
test holds the product to. Event days are within the store's retention (400 days before now).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import asyncpg
import pytest

from ioc.areas import load_areas
from ioc.codec import encode, headers
from ioc.config import Settings, load_settings
from ioc.connectors.spool import Spool, SpoolRecord
from ioc.db import connect, migrate, sync_areas
from ioc.dlq import read_dead_letters
from ioc.events import DossierEvent, Envelope, PaymentTransaction, utc_now
from ioc.kafka import end_offsets, make_producer, topic_name
from ioc.kpis import load_kpis
from ioc.kpis.values import compute, totals
from ioc.localtime import local_day_start
from ioc.streams.sink import Counted, Position, to_counted, write_batch
from ioc.telemetry import read_stream_metrics
from tests._exact import (
    MALFORMED_REASONS,
    WARD,
    ZONE,
    Running,
    backfill,
    dvc_export,
    import_export,
    isolated,
    regrouped,
    run_worker,
    simulate,
    totals_of,
)
from tests._kafka import read_topic
from tests._services import LocalService
from tests._streams import differences, window_totals
from tests._timescale import close, reset

_TODAY = utc_now().astimezone(ZONE).date()
# A Monday three to four weeks ago: well within the store's retention, and days before now.
DAY = _TODAY - timedelta(days=21 + _TODAY.weekday())
ONLINE = load_kpis().get("dvc_online_dossier_rate")
_MINUTE_SETTINGS = load_settings(streams={"window_seconds": 60})


@pytest.fixture
async def exact(settings: Settings) -> Settings:
    return await isolated(settings)


@pytest.fixture
async def conn(exact: Settings) -> AsyncIterator[asyncpg.Connection]:
    connection = await connect(exact)
    await sync_areas(connection, load_areas())
    yield connection
    await connection.close()


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


async def online_rate(conn: asyncpg.Connection, day: date, area: str) -> tuple[float, float]:
    """The KPI "Tỷ lệ hồ sơ tiếp nhận trực tuyến" of a local day: (numerator, denominator)."""
    start = local_day_start(local(day, 12))
    await compute(conn, [ONLINE], start, start + timedelta(days=1), "1d")
    found = await totals(conn, ONLINE.id, area, start, start + timedelta(days=1), "1d")
    return found.numerator, found.denominator


async def ingest_letters(settings: Settings, source: str) -> Counter[str]:
    return Counter(letter.reason for _, letter in await read_dead_letters(settings, source=source))


# --- 1. a DVC export imported twice --------------------------------------------------------
async def test_an_export_imported_again_under_another_name_changes_no_figure(
    exact: Settings, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    """Promise: a crafted export imported twice under two names, minutes apart, leaves every
    figure unchanged (the issue's 882 / 1,000 that became 1,764 / 2,000), and its malformed
    lines are dead letters with their reasons, never counted.

    Before the store the second import was hours behind the watermark, its ids forgotten.
    """
    export = dvc_export(tmp_path / f"dvc-{DAY}.jsonl", DAY, 1000, 882)
    async with Running(exact, conn, "ioc-up") as worker:
        first = await import_export(exact, export, "dvc-portal")
        assert (first.yielded, first.dead_lettered) == (1007, 7)
        await worker.caught_up()
        assert await online_rate(conn, DAY, WARD) == (882, 1000)
        assert await online_rate(conn, DAY, "33") == (882, 1000)
        before, counts = await window_totals(conn), worker.counts()

        await worker.a_minute_later()
        second = await import_export(exact, export, "dvc-portal-again")
        assert (second.yielded, second.dead_lettered) == (1007, 7)
        await worker.caught_up()

    assert await online_rate(conn, DAY, WARD) == (882, 1000)
    assert await online_rate(conn, DAY, "33") == (882, 1000)
    assert differences(before, await window_totals(conn)) == []
    change = worker.counts() - counts
    assert (change["read"], change["duplicates"], change["counted"]) == (1000, 1000, 0)
    assert await ingest_letters(exact, "dvc-portal") == MALFORMED_REASONS
    assert await ingest_letters(exact, "dvc-portal-again") == MALFORMED_REASONS
    assert await conn.fetchval("SELECT count(*) FROM events") == 1000


async def test_an_export_imported_again_days_behind_the_watermark_changes_no_figure(
    exact: Settings, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    """Promise: the same export imported again days later in event time — after the export of
    a later day moved every partition's watermark three days on — changes no figure.

    Before the store the third import was late by three days: counted a second time.
    """
    later = DAY + timedelta(days=3)
    export = dvc_export(tmp_path / "day.jsonl", DAY, 300, 240, seed=1)
    other = dvc_export(tmp_path / "later.jsonl", later, 200, 150, seed=2)
    async with Running(exact, conn, "ioc-up") as worker:
        await import_export(exact, export, "import-d")
        await worker.caught_up()
        await import_export(exact, other, "import-d-plus-3")
        await worker.caught_up()
        positions = await conn.fetch(
            "SELECT watermark FROM stream_offsets WHERE topic = $1",
            topic_name(exact, "events", "dvc"),
        )
        assert len(positions) == 3 and all(p["watermark"] >= local(later, 7) for p in positions)
        before, counts = await window_totals(conn), worker.counts()

        await worker.a_minute_later()
        await import_export(exact, export, "import-d-again")
        await worker.caught_up()

    assert differences(before, await window_totals(conn)) == []
    assert await online_rate(conn, DAY, WARD) == (240, 300)
    assert await online_rate(conn, later, WARD) == (150, 200)
    # Three days behind every watermark: all late, all recognised.
    assert worker.counts() - counts == Counter(read=300, duplicates=300, late=300)


# --- 2. a dead letter replayed twice ------------------------------------------------------
async def test_a_dead_letter_replayed_twice_counts_once(settings: Settings, tmp_path: Path) -> None:
    """Promise: a dead letter replayed twice (`POST /api/v1/dlq/replay`, the API's replay) is
    counted once, although the replays come hours of event time behind the watermark.

    Two payments in a new commune are dead letters (`unknown_area`) until the areas file
    lists it; the operator adds it, replays both, and later replays them again.
    """
    from ioc.api.dead_letters import DeadLetterIndex

    exact = await isolated(settings, partitions=1)  # one partition: one watermark to outrun
    fixed = _areas_with_a_new_commune(tmp_path / "areas.yaml")
    new_area = [
        Envelope.create(
            source="payment-gateway",
            area="99001",
            occurred_at=local(DAY, hour),
            payload=PaymentTransaction(
                transaction_id=f"new-{hour}",
                amount_vnd=100_000 * hour,
                channel="qr",
                sector="public_service",
                success=True,
            ),
        )
        for hour in (8, 11)
    ]
    day = await simulate(exact, "payment-sim", local(DAY, 8), local(DAY, 14), rate=0.02)
    stream = sorted([*day, *new_area], key=lambda e: e.occurred_at)
    await _produce(exact, stream)
    conn = await connect(exact)
    try:
        await run_worker(exact, conn, "before-the-fix")
        assert differences(totals_of(day, exact), await window_totals(conn)) == []

        after = regrouped(exact, exact.streams.group, areas_file=fixed)
        index = DeadLetterIndex(after)
        tail = asyncio.create_task(index.run())
        try:
            await asyncio.wait_for(index.ready.wait(), 60)
            ids = [e.id for e in index.entries if e.letter.reason == "unknown_area"]
            assert len(ids) == 2
            async with Running(after, conn, "after-the-fix") as worker:
                replayed, refused = await index.replay(ids)
                assert (replayed, refused) == (ids, [])
                await worker.caught_up()
                once, counts = await window_totals(conn), worker.counts()
                await worker.a_minute_later()
                replayed, refused = await index.replay(ids)  # again, by mistake or habit
                assert (replayed, refused) == (ids, [])
                await worker.caught_up()
        finally:
            tail.cancel()
            await asyncio.gather(tail, return_exceptions=True)
        assert differences(totals_of(stream, exact), once) == []
        assert differences(once, await window_totals(conn)) == []
        assert worker.counts() - counts == Counter(read=2, duplicates=2, late=2)
        in_new_area = await conn.fetchval("SELECT count(*) FROM events WHERE area = '99001'")
        assert in_new_area == 2
    finally:
        await conn.close()


def _areas_with_a_new_commune(path: Path) -> Path:
    """The shipped overlay, with commune 99001 added under ``areas:`` (the operator's fix)."""
    shipped = Path(load_areas().source).read_text(encoding="utf-8")
    path.write_text(
        shipped + 'areas:\n  - code: "99001"\n    name_vi: "Xã Mới"\n    level: commune\n'
        f'    parent: "33"\n    valid_from: {DAY - timedelta(days=7)}\n',
        encoding="utf-8",
    )
    return path


async def _produce(settings: Settings, events: list[Envelope]) -> None:
    producer = make_producer(settings, linger_ms=10)
    await producer.start()
    try:
        futures = [
            await producer.send(
                topic_name(settings, "events", e.feed),
                encode(e),
                key=e.key.encode(),
                headers=headers(e),
            )
            for e in events
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


# --- 3. an overlapping backfill -------------------------------------------------------------
def _cli(settings: Settings, *args: str) -> str:
    """Run `ioc …` as a user would, against the test's broker and topics; its stderr."""
    assert settings.kafka_bootstrap is not None
    env = os.environ | {
        "IOC_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "IOC_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix,
        "IOC_KAFKA__PARTITIONS": str(settings.kafka.partitions),
        "IOC_STATE_DIR": str(settings.state_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "ioc", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def _backfill(settings: Settings, start: str, end: str) -> str:
    """`ioc connectors backfill payment-sim` of a local time range, seed 5, rate 0.05."""
    return _cli(settings, "connectors", "backfill", "payment-sim", "--from", start, "--to", end,
                "--seed", "5", "--rate", "0.05")  # fmt: skip


async def test_an_overlapping_backfill_equals_one_backfill_of_the_union(
    exact: Settings, conn: asyncpg.Connection
) -> None:
    """Promise: `ioc connectors backfill` over a range already produced counts nothing twice:
    08:00-12:00 then 10:00-16:00 (two hours of overlap, sent after the watermark reached
    12:00) totals exactly one backfill of 08:00-16:00.
    """
    async with Running(exact, conn, "ioc-up") as worker:
        await asyncio.to_thread(_backfill, exact, f"{DAY}T08:00", f"{DAY}T12:00")
        await worker.caught_up()
        await worker.a_minute_later()
        counts = worker.counts()
        await asyncio.to_thread(_backfill, exact, f"{DAY}T10:00", f"{DAY}T16:00")
        await worker.caught_up()

    union = await simulate(exact, "payment-sim", local(DAY, 8), local(DAY, 16), seed=5)
    overlap = [e for e in union if local(DAY, 10) <= e.occurred_at < local(DAY, 12)]
    assert len(union) > 1000 and len(overlap) > 100
    sent = sum((await end_offsets(exact, [topic_name(exact, "events", "payment")])).values())
    assert sent == len(union) + len(overlap), "the overlap was really sent twice"
    assert differences(totals_of(union, exact), await window_totals(conn)) == []
    assert (worker.counts() - counts)["duplicates"] == len(overlap)


# --- 4. a fresh consumer group --------------------------------------------------------------
async def test_a_fresh_consumer_group_reading_the_retained_topics_changes_nothing(
    exact: Settings, conn: asyncpg.Connection
) -> None:
    """Promise: a new or renamed consumer group (`IOC_STREAMS__GROUP`) reading every retained
    record from the beginning into the same database changes no figure.

    Six hours of four feeds: the new group's watermarks start empty, so to it nothing is late.
    """
    events: list[Envelope] = []
    for feed in ("payment-sim", "dvc-sim", "camera-sim", "network-sim"):
        await backfill(exact, feed, local(DAY, 6), local(DAY, 12), rate=0.01)
        events += await simulate(exact, feed, local(DAY, 6), local(DAY, 12), rate=0.01)
    expected = totals_of(events, exact)
    async with Running(exact, conn, "old-group") as old:
        await old.caught_up()
        await old.a_minute_later()
    assert differences(expected, await window_totals(conn)) == []

    renamed = regrouped(exact, "ioc-streams-renamed")
    worker = await run_worker(renamed, conn, "new-group")

    assert differences(expected, await window_totals(conn)) == []
    agents = worker.metrics.agents.values()
    assert sum(a.read for a in agents) == len(events)
    assert sum(a.duplicates for a in agents) == len(events)
    groups = await conn.fetch("SELECT DISTINCT consumer_group FROM stream_offsets")
    assert {g["consumer_group"] for g in groups} == {exact.streams.group, "ioc-streams-renamed"}


# --- 5. a spool re-sent after a long outage ---------------------------------------------------
async def test_a_spool_re_sent_hours_later_is_counted_once(
    exact: Settings, conn: asyncpg.Connection
) -> None:
    """Promise: a connector re-sending its spooled in-flight records after an outage of more
    than an hour (acknowledged just before it lost the broker, so spooled and sent again)
    counts them once, though the partitions' watermarks moved on by hours meanwhile.

    The gateway's records of 08:00-09:00 were delivered; its second instance carried the
    feed to 12:00; the first comes back, sends its spool first, then carries on from 12:00.
    """
    sent = await backfill(
        exact, "payment-sim", local(DAY, 8), local(DAY, 9), seed=1, name="gateway-a"
    )
    payments = topic_name(exact, "events", "payment")
    delivered = await read_topic(exact, payments, sent.sent, settle=1.0)
    assert len(delivered) == sent.sent
    async with Running(exact, conn, "ioc-up") as worker:
        await backfill(
            exact, "payment-sim", local(DAY, 9), local(DAY, 12), seed=2, name="gateway-b"
        )
        await worker.caught_up()
        await worker.a_minute_later()  # the outage
        counts = worker.counts()

        spool = Spool(exact.state_dir / "spool" / "gateway-a", 64 << 20)
        spool.append(
            [SpoolRecord(payments, r.key, r.value, list(r.headers)).encode() for r in delivered]
        )
        spool.close()
        after = await backfill(
            exact, "payment-sim", local(DAY, 12), local(DAY, 13), seed=1, name="gateway-a"
        )
        assert after.sent == after.yielded + len(delivered), "the spool went first"
        await worker.caught_up()

    events = [
        *await simulate(exact, "payment-sim", local(DAY, 8), local(DAY, 9), seed=1,
                        name="gateway-a"),
        *await simulate(exact, "payment-sim", local(DAY, 9), local(DAY, 12), seed=2,
                        name="gateway-b"),
        *await simulate(exact, "payment-sim", local(DAY, 12), local(DAY, 13), seed=1,
                        name="gateway-a"),
    ]  # fmt: skip
    assert len(delivered) > 100
    assert differences(totals_of(events, exact), await window_totals(conn)) == []
    change = worker.counts() - counts
    assert change["duplicates"] == len(delivered)
    assert change["late"] == len(delivered)  # three hours behind: late


# --- 6. too old, impossible times -----------------------------------------------------------
async def test_expired_and_impossible_times_are_dead_letters_and_the_worker_carries_on(
    exact: Settings, conn: asyncpg.Connection
) -> None:
    """Promise: an event older than the store's retention (`IOC_STREAMS__EVENT_RETENTION_DAYS`)
    is not counted and goes to the DLQ as `expired`; an impossible time (year 9999 or 0001,
    in UTC or in an offset that leaves the years a datetime holds) is a dead letter and the
    worker carries on with the records after it.

    The worker used to crash on 0001-01-01T00:00+07:00 (an OverflowError out of decoding,
    again at every restart on the same record).
    """
    valid = [
        Envelope.create(
            source="dvc-portal",
            area=WARD,
            occurred_at=local(DAY, 9, n),
            payload=DossierEvent(
                dossier_id=f"d-{n}",
                stage="received",
                procedure_code="1.001757",
                procedure_name="Đăng ký khai sinh",
                agency_code="000.00.12.H31",
                channel="online",
                service_level="full",
            ),
        )
        for n in range(3)
    ]
    retention = timedelta(days=exact.streams.event_retention_days)
    too_old = Envelope.create(
        source="dvc-portal",
        area=WARD,
        occurred_at=utc_now() - retention - timedelta(days=1),
        payload=valid[0].payload,
    )
    dvc = topic_name(exact, "events", "dvc")

    def at(when: str) -> bytes:
        raw = json.loads(encode(valid[0]))
        raw["occurred_at"] = when
        raw["event_id"] = str(uuid.uuid4())
        return json.dumps(raw).encode()

    impossible = {
        at("9999-12-31T23:59:59Z"): "future",
        at("0001-01-01T00:00:00Z"): "expired",
        at("0001-01-01T00:00:00+07:00"): "invalid",
        at("9999-12-31T23:59:59.5-07:00"): "invalid",
    }
    producer = make_producer(exact)
    await producer.start()
    try:
        await producer.send_and_wait(dvc, encode(valid[0]), key=b"k")
        await producer.send_and_wait(dvc, encode(too_old), key=b"k")
        for value in impossible:
            await producer.send_and_wait(dvc, value, key=b"k")
        for event in valid[1:]:
            await producer.send_and_wait(dvc, encode(event), key=b"k")
    finally:
        await producer.stop()
    worker = await run_worker(exact, conn, "careful")

    assert differences(totals_of(valid, exact), await window_totals(conn)) == []
    assert worker.metrics.agents["dvc"].counted == 3
    letters = [letter for _, letter in await read_dead_letters(exact)]
    assert Counter(letter.reason for letter in letters) == Counter(
        ["expired", *impossible.values()]
    )
    [old] = [letter for letter in letters if letter.original == encode(too_old)]
    assert old.reason == "expired" and "IOC_STREAMS__EVENT_RETENTION_DAYS" in old.detail
    assert await conn.fetchval("SELECT count(*) FROM events") == 3
    [metrics] = read_stream_metrics(exact.state_dir)
    assert metrics.agents["dvc"].dead_lettered == 5


# --- 7. the TimescaleDB tier: a repeat into a compressed chunk ------------------------------
@pytest.fixture
async def timescale_conn(timescaledb: LocalService) -> AsyncIterator[asyncpg.Connection]:
    """The session's TimescaleDB (WASM), migrated and emptied (see tests/_timescale.py)."""
    connection = await asyncpg.connect(timescaledb.address, statement_cache_size=0)
    await migrate(connection)  # once per session in effect: applied migrations are skipped
    await reset(connection)
    yield connection
    await close(connection)


def _dossiers(day: date, count: int, first: int = 0) -> list[Envelope]:
    return [
        Envelope.create(
            source="dvc-portal",
            area=WARD,
            key=f"hs-{day:%y%m%d}-{n}",
            occurred_at=local(day, 8) + timedelta(minutes=2 * n),
            payload=DossierEvent(
                dossier_id=f"hs-{day:%y%m%d}-{n}",
                stage="received",
                procedure_code="1.001757",
                procedure_name="Đăng ký khai sinh",
                agency_code="000.00.12.H31",
                channel="online" if n % 10 else "desk",
                service_level="full",
            ),
        )
        for n in range(first, first + count)
    ]


async def test_a_repeat_into_a_compressed_chunk_is_not_counted_again(
    timescale_conn: asyncpg.Connection,
) -> None:
    """Promise (TimescaleDB): a repeat of an event whose day is compressed — the store
    compresses a day after a week — is recognised and counted nothing, while a new event of
    that day is still stored and counted once.
    """
    conn = timescale_conn
    width = timedelta(minutes=1)
    old_day, recent_day = _TODAY - timedelta(days=26), _TODAY - timedelta(days=2)
    old, recent = _dossiers(old_day, 200), _dossiers(recent_day, 50)

    def counted(events: list[Envelope]) -> list[Counted]:
        return [to_counted(e, width, "topic", 0) for e in events]

    first = await write_batch(conn, "g", counted([*old, *recent]), {("topic", 0): Position(250)})
    # Chunks are UTC days: every chunk of the old day ends before this, the recent day's after.
    cutoff = datetime.combine(_TODAY - timedelta(days=5), time(), tzinfo=UTC)
    assert first.counted["topic"] == 250
    compressed = await conn.fetchval(
        "SELECT count(compress_chunk(c)) "
        "FROM show_chunks('events', older_than => $1::timestamptz) c",
        cutoff,
    )
    assert compressed >= 1
    assert await conn.fetchval(
        "SELECT count(*) FROM timescaledb_information.chunks "
        "WHERE hypertable_name = 'events' AND is_compressed AND range_end <= $1::timestamptz",
        cutoff,
    ) == compressed  # fmt: skip
    before = await _rows(conn)

    again = await write_batch(conn, "g", counted(old), {("topic", 0): Position(450)})
    assert (again.counted["topic"], again.duplicates["topic"]) == (0, 200)
    assert await _rows(conn) == before

    late = _dossiers(old_day, 5, first=200)
    mixed = await write_batch(
        conn, "g", counted([*late, old[0], late[0], *recent[:3]]), {("topic", 0): Position(460)}
    )
    assert (mixed.counted["topic"], mixed.duplicates["topic"]) == (5, 5)
    expected = totals_of([*old, *recent, *late], _MINUTE_SETTINGS)
    got = {k: (v[0], v[1]) for k, v in (await _rows(conn)).items()}
    assert differences(expected, got) == []
    assert await conn.fetchval("SELECT count(*) FROM events") == 255


async def _rows(conn: asyncpg.Connection) -> dict[tuple[datetime, str, str], tuple[int, float]]:
    rows = await conn.fetch("SELECT window_start, metric, area, count, sum FROM window_metrics")
    return {(r["window_start"], r["metric"], r["area"]): (r["count"], r["sum"]) for r in rows}
