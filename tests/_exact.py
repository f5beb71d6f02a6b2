"""Helpers for the exactness tests: isolated settings, a worker run to caught-up, known inputs.

Every input here is a real thing a user feeds the product (a DVC portal export, a simulated
feed, a dead letter), and every expectation is computed from the events themselves: the
measures of each distinct event, counted once.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from ioc.areas import load_areas
from ioc.config import Settings, load_settings
from ioc.connectors.base import ConnectorContext, VirtualClock
from ioc.connectors.ingest.jsonl import JsonLinesConnector
from ioc.connectors.ingest.mapping import EXAMPLES
from ioc.connectors.registry import load_connector
from ioc.connectors.runner import ConnectorRunner
from ioc.db import connect, migrate
from ioc.events import Envelope
from ioc.kafka import ensure_topics, project_topics
from ioc.kpis.measures import measures
from ioc.streams.sink import window_start
from ioc.streams.worker import StreamWorker
from ioc.telemetry import ConnectorMetrics
from tests._streams import Key, wait_caught_up

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
WARD = "11986"  # Xã Như Quỳnh, valid since 2025-07-01


async def isolated(settings: Settings, partitions: int = 3, **streams: Any) -> Settings:
    """Settings with topics of the test's own, created, and a migrated database."""
    assert settings.database_url is not None
    own = load_settings(
        kafka_bootstrap=settings.kafka_bootstrap,
        database_url=settings.database_url.get_secret_value(),
        state_dir=settings.state_dir,
        kafka={"topic_prefix": f"t{uuid.uuid4().hex[:10]}", "partitions": partitions},
        streams={"flush_interval_ms": 200, "max_batch": 3000, **streams},
    )
    await ensure_topics(own, project_topics(own))
    conn = await connect(own)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return own


def regrouped(settings: Settings, group: str, **changes: Any) -> Settings:
    """The same broker, topics and database, another consumer group (and other changes)."""
    return settings.model_copy(
        update={"streams": settings.streams.model_copy(update={"group": group}), **changes}
    )


# The worker before the event store forgot counted ids once a minute of wall time (those an
# hour of event time behind the watermark); a repeat read sooner was still recognised. So a
# repeat here comes after the worker has run this long, as it does for a user (minutes later).
A_MINUTE_LATER = 65.0


class Running:
    """A real worker running through a test, as `ioc up` keeps one running.

    Example:
        async with Running(settings, conn, "w1") as worker:
            ...  # produce
            await worker.caught_up()
    """

    def __init__(self, settings: Settings, conn: asyncpg.Connection, name: str) -> None:
        self.settings = settings
        self.conn = conn
        self.worker = StreamWorker(settings, name=name)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Running:
        self.task = asyncio.create_task(self.worker.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.worker.stop()
        assert self.task is not None
        await asyncio.wait_for(self.task, 30)

    async def caught_up(self, timeout: float = 120.0) -> None:
        """Wait until the stored positions reach the end of every topic the worker reads."""
        await wait_caught_up(self.conn, self.settings, timeout=timeout, worker=self.task)

    async def a_minute_later(self) -> None:
        """Let the worker run on for a minute of wall time (see `A_MINUTE_LATER`)."""
        assert self.task is not None
        done, _ = await asyncio.wait([self.task], timeout=A_MINUTE_LATER)
        if done:
            self.task.result()
            raise AssertionError("the worker stopped")

    def counts(self) -> Counter[str]:
        """Events counted, repeats recognised and late events so far, over every agent."""
        agents = self.worker.metrics.agents.values()
        return Counter(
            counted=sum(a.counted for a in agents),
            duplicates=sum(a.duplicates for a in agents),
            late=sum(a.late for a in agents),
            read=sum(a.read for a in agents),
        )


async def run_worker(
    settings: Settings, conn: asyncpg.Connection, name: str, timeout: float = 120.0
) -> StreamWorker:
    """A real worker, from its group's stored positions to the end of every topic; stopped."""
    async with Running(settings, conn, name) as running:
        await running.caught_up(timeout)
    return running.worker


def totals_of(events: Iterable[Envelope], settings: Settings) -> dict[Key, tuple[int, float]]:
    """Window totals of the distinct events (by id), in the shape of `window_totals`."""
    width = timedelta(seconds=settings.streams.window_seconds)
    distinct = {e.event_id: e for e in events}
    sums: dict[Key, list[float]] = defaultdict(lambda: [0, 0.0])
    for env in distinct.values():
        for metric, value in measures(env):
            total = sums[(window_start(env.occurred_at, width), metric, env.area)]
            total[0] += 1
            total[1] += value
    return {k: (int(v[0]), v[1]) for k, v in sums.items()}


# --- simulated feeds --------------------------------------------------------------------------
def _context(
    settings: Settings, name: str, start: datetime, end: datetime, seed: int, rate: float
) -> ConnectorContext:
    return ConnectorContext(
        name=name,
        settings=settings,
        areas=load_areas(settings.areas_file),
        clock=VirtualClock(start, end),
        seed=seed,
        rate=rate,
    )


async def simulate(
    settings: Settings,
    connector: str,
    start: datetime,
    end: datetime,
    *,
    seed: int = 0,
    rate: float = 0.05,
    name: str | None = None,
) -> list[Envelope]:
    """The events a simulated feed makes over [start, end), without sending them."""
    context = _context(settings, name or connector, start, end, seed, rate)
    return [e async for e in load_connector(connector)(context).events() if isinstance(e, Envelope)]


async def backfill(
    settings: Settings,
    connector: str,
    start: datetime,
    end: datetime,
    *,
    seed: int = 0,
    rate: float = 0.05,
    name: str | None = None,
) -> ConnectorMetrics:
    """`ioc connectors backfill` in this process: the real runner at full speed."""
    context = _context(settings, name or connector, start, end, seed, rate)
    metrics = await ConnectorRunner(load_connector(connector)(context), settings).run()
    assert metrics.spool_records == 0
    return metrics


# --- a DVC portal export ----------------------------------------------------------------------
MALFORMED = {  # line → the reason the jsonl connector gives it
    b'{"ma_ho_so": "X-1", "thoi_diem": "2026-11-16T08': "not_json",
    b"[1, 2]": "not_object",
    b"\xff\xfe{}": "not_utf8",
}


def dvc_export(
    path: Path, day: date, dossiers: int, online: int, *, area: str = WARD, seed: int = 0
) -> Path:
    """A DVC portal export of `dossiers` received in `area` on `day` (local), `online` of them
    online, and seven malformed lines among them (see `MALFORMED_REASONS`).

    The shape is the shipped example's (connectors/ingest/examples/dvc-dossiers.jsonl).
    """
    rng = random.Random(seed)
    chosen = set(rng.sample(range(dossiers), online))
    lines: list[bytes] = []
    agency = "000.00.12.H31"

    def record(i: int, **changes: Any) -> dict[str, Any]:
        minute = 7 * 60 + 30 + i * 9 * 60 // dossiers  # 07:30 to 16:30, local time
        at = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=ZONE)
        out: dict[str, Any] = {
            "ma_ho_so": f"{agency}-{day:%y%m%d}-{i:04d}",
            "thoi_diem": at.isoformat(),
            "trang_thai": "Mới tiếp nhận",
            "thu_tuc": {"ma": "1.001757", "ten": "Đăng ký khai sinh", "muc_do": "Toàn trình"},
            "don_vi": {"ma": agency, "ma_xa": area},
            "kenh_nop": "Trực tuyến" if i in chosen else ("Trực tiếp" if i % 7 else "Bưu chính"),
            "co_phi": "không",
            "han_xu_ly": f"{day + timedelta(days=3):%d/%m/%Y} 17:00",
        }
        out.update(changes)
        return out

    def dump(value: dict[str, Any]) -> bytes:
        return json.dumps(value, ensure_ascii=False).encode()

    bad = [
        *MALFORMED,
        dump(record(0, kenh_nop="Fax", ma_ho_so="X-2")),  # unmapped_value
        dump(record(0, don_vi={"ma": agency, "ma_xa": "99999"}, ma_ho_so="X-3")),  # unknown_area
        dump({k: v for k, v in record(0, ma_ho_so="X-4").items() if k != "thoi_diem"}),
        dump(record(0, thoi_diem="0001-01-01T00:00:00+07:00", ma_ho_so="X-5")),  # bad_time
    ]
    for i in range(dossiers):
        lines.append(dump(record(i)))
        if i % (dossiers // len(bad) + 1) == 1 and bad:
            lines.append(bad.pop(0))
    lines.extend(bad)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


MALFORMED_REASONS = {
    "not_json": 1,
    "not_object": 1,
    "not_utf8": 1,
    "unmapped_value": 1,
    "unknown_area": 1,
    "missing_field": 1,
    "bad_time": 1,
}


async def import_export(settings: Settings, path: Path, name: str) -> ConnectorMetrics:
    """`ioc connectors run jsonl --as NAME -o path=… -o mapping=… -o follow=false`."""
    context = ConnectorContext(
        name=name,
        settings=settings,
        areas=load_areas(settings.areas_file),
        options={
            "path": str(path),
            "mapping": str(EXAMPLES / "dvc-dossiers.yaml"),
            "follow": "false",
        },
    )
    return await ConnectorRunner(JsonLinesConnector(context), settings).run()
