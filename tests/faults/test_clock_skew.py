"""A connector whose clock is minutes off the worker's: what the stream worker counts.

Real Kafka and PostgreSQL. The topics stamp records with the broker's clock
(`LogAppendTime`), so the worker compares each event's own time with when the broker got it:

- a few minutes ahead (up to `FUTURE_TOLERANCE`, 5 min): counted in the window its time names;
- more than that ahead: not counted, a dead letter with reason `future` (it would push the
  partition's event-time clock forward and make every honest event after it late);
- minutes behind: counted in the window its time names (a late correction when that window
  is past the allowed lateness), never dropped.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import asyncpg

from ioc.config import Settings, load_settings
from ioc.db import connect, migrate
from ioc.dlq import read_dead_letters
from ioc.events import utc_now
from ioc.kafka import ensure_topics, project_topics
from ioc.streams.worker import FUTURE_TOLERANCE, StreamWorker
from tests._streams import dossier_record, produce, wait_caught_up

SKEWS = {  # connector clock minus broker clock → events sent with it
    timedelta(0): 3,
    timedelta(minutes=3): 2,
    timedelta(minutes=10): 2,
    timedelta(minutes=-4): 2,
    timedelta(minutes=-30): 1,
}


def _window(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


async def test_events_from_a_skewed_clock_are_counted_or_dead_lettered_as_documented(
    settings: Settings,
) -> None:
    assert settings.database_url is not None
    isolated = load_settings(
        kafka_bootstrap=settings.kafka_bootstrap,
        database_url=settings.database_url.get_secret_value(),
        state_dir=settings.state_dir,
        kafka={"topic_prefix": f"t{uuid.uuid4().hex[:10]}", "partitions": 1},
        streams={"flush_interval_ms": 200},
    )
    await ensure_topics(isolated, project_topics(isolated))
    conn: asyncpg.Connection = await connect(isolated)
    try:
        await migrate(conn)
        now = utc_now().replace(microsecond=0)
        if now.second > 50:  # keep "now" and its events in one window
            await asyncio.sleep(61 - now.second)
            now = utc_now().replace(microsecond=0)
        records = [
            dossier_record(isolated, now + skew)
            for skew, count in SKEWS.items()
            for _ in range(count)
        ]
        await produce(isolated, records)
        worker = StreamWorker(isolated, name="skew")
        task = asyncio.create_task(worker.run())
        try:
            await wait_caught_up(conn, isolated, worker=task)
        finally:
            worker.stop()
            await asyncio.wait_for(task, 30)

        rows = await conn.fetch(
            "SELECT window_start, count FROM window_metrics "
            "WHERE metric = 'dvc.events' AND area = '11953'"
        )
        counted = {r["window_start"].astimezone(UTC): r["count"] for r in rows}
        assert counted == {
            _window(now + skew): count for skew, count in SKEWS.items() if skew < FUTURE_TOLERANCE
        }
        letters = await read_dead_letters(isolated)
        assert Counter(letter.reason for _, letter in letters) == {"future": 2}
        assert all("after the broker received it" in letter.detail for _, letter in letters)
    finally:
        await conn.close()
