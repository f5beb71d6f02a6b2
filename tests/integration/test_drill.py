"""Drill-through on both database tiers: the events behind a KPI's numerator and denominator.

Events go in the way a worker writes them (real envelopes, `to_counted`, `write_batch`), the
areas file is synced as `ioc db migrate` does, and the lists are read with `ioc.kpis.drill`.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from typer.testing import CliRunner

from ioc.areas import load_areas
from ioc.db import migrate, sync_areas
from ioc.events import DossierEvent, Envelope
from ioc.kpis import load_kpis
from ioc.kpis.cli import app
from ioc.kpis.drill import (
    CSV_COLUMNS,
    Cursor,
    DrillError,
    bucket_span,
    count_events,
    events_behind,
    iter_events,
    write_csv,
)
from ioc.kpis.values import compute, series
from ioc.streams.sink import to_counted, write_batch
from tests._tiers import tier_connection

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 08:00 in Hưng Yên, after the 2025 reform
OLD = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)  # before it: 11953 was under district 323
WARD, OTHER_WARD, DISTRICT, PROVINCE = "11953", "11983", "323", "33"
KPI = load_kpis().get("dvc_online_dossier_rate")  # dvc.received_online / dvc.received


@pytest.fixture
async def conn(tier: tuple[str, str]) -> AsyncIterator[asyncpg.Connection]:
    """A migrated, empty database on each tier, with the areas file in it."""
    async with tier_connection(tier, areas=True) as connection:
        yield connection


def _dossier(at: datetime, area: str, online: bool, n: int, event_id: uuid.UUID | None = None):  # type: ignore[no-untyped-def]
    envelope = Envelope.create(
        source="dvc-sim",
        area=area,
        key=f"HS-{n}",
        occurred_at=at,
        event_id=event_id,
        payload=DossierEvent(
            dossier_id=f"HS-{n}",
            stage="received",
            procedure_code="1.001",
            procedure_name="Đăng ký khai sinh",
            agency_code=f"UBND-{area}",
            channel="online" if online else "desk",
            service_level="full",
        ),
    )
    return to_counted(envelope, MINUTE, "ioc.events.dvc", 0)


async def _ids(
    conn: asyncpg.Connection, part: str, area: str, start: datetime, end: datetime
) -> set[str]:
    page = await events_behind(conn, KPI, part, area, start, end, limit=1000)  # type: ignore[arg-type]
    assert page.next_cursor is None
    return {e.entity for e in page.items}


async def test_numerator_and_denominator_list_the_events_behind_each(
    conn: asyncpg.Connection,
) -> None:
    events = [
        _dossier(T0 + timedelta(seconds=5), WARD, True, 1),
        _dossier(T0 + timedelta(seconds=20), WARD, False, 2),
        _dossier(T0 + timedelta(seconds=40), WARD, True, 3),
    ]
    await write_batch(conn, "g", events, {})
    assert await _ids(conn, "numerator", WARD, T0, T0 + HOUR) == {"HS-1", "HS-3"}
    assert await _ids(conn, "denominator", WARD, T0, T0 + HOUR) == {"HS-1", "HS-2", "HS-3"}

    # The lists are the KPI value's own sums: numerator 2, denominator 3 in that minute.
    await compute(conn, [KPI], T0, T0 + MINUTE, "1m")
    [point] = await series(conn, KPI.id, WARD, T0, T0 + MINUTE, "1m")
    assert (point.numerator, point.denominator) == (2, 3)
    for part, total in (("numerator", 2), ("denominator", 3)):
        assert await count_events(conn, KPI, part, WARD, T0, T0 + MINUTE) == total  # type: ignore[arg-type]

    page = await events_behind(conn, KPI, "numerator", WARD, T0, T0 + HOUR)
    first = page.items[0]
    assert first.area_name_vi == "Phường Phố Hiến"  # the name on the event's day
    assert (first.kind, first.feed, first.source) == ("dvc.dossier", "dvc", "dvc-sim")
    assert first.payload["procedure_name"] == "Đăng ký khai sinh"
    assert first.payload["channel"] == "online"


async def test_a_parent_lists_the_events_of_the_areas_under_it_on_their_day(
    conn: asyncpg.Connection,
) -> None:
    await write_batch(
        conn,
        "g",
        [
            _dossier(T0, WARD, True, 1),
            _dossier(T0, OTHER_WARD, True, 2),
            _dossier(OLD, WARD, True, 3),
            _dossier(OLD, OTHER_WARD, True, 4),
        ],
        {},
    )
    now, then = (T0, T0 + HOUR), (OLD, OLD + HOUR)
    assert await _ids(conn, "denominator", PROVINCE, *now) == {"HS-1", "HS-2"}
    assert await _ids(conn, "denominator", PROVINCE, *then) == {"HS-3", "HS-4"}
    assert await _ids(conn, "denominator", WARD, *now) == {"HS-1"}
    # District 323 held both wards until 1/7/2025, and nothing after it was abolished.
    assert await _ids(conn, "denominator", DISTRICT, *then) == {"HS-3", "HS-4"}
    assert await _ids(conn, "denominator", DISTRICT, *now) == set()
    # The ward had another name then.
    page = await events_behind(conn, KPI, "denominator", WARD, *then)
    assert [e.area_name_vi for e in page.items] == ["Phường Hiến Nam"]

    # Exactly what the district's and province's KPI values add up.
    for at in (OLD, T0):
        await compute(conn, [KPI], at, at + MINUTE, "1m")
        for area in (DISTRICT, PROVINCE):
            points = await series(conn, KPI.id, area, at, at + MINUTE, "1m")
            stored = points[0].denominator if points else 0
            assert await count_events(conn, KPI, "denominator", area, at, at + MINUTE) == stored


async def test_a_bucket_holds_its_start_and_not_its_end(conn: asyncpg.Connection) -> None:
    day = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)  # local midnight of 23/11
    await write_batch(
        conn,
        "g",
        [
            _dossier(day - timedelta(microseconds=1), WARD, True, 1),
            _dossier(day, WARD, True, 2),
            _dossier(day + timedelta(days=1) - timedelta(microseconds=1), WARD, True, 3),
            _dossier(day + timedelta(days=1), WARD, True, 4),
        ],
        {},
    )
    span = bucket_span(day, "1d", MINUTE)
    assert span == (day, day + timedelta(days=1))
    assert await _ids(conn, "numerator", WARD, *span) == {"HS-2", "HS-3"}
    assert await _ids(conn, "numerator", WARD, *bucket_span(day, "1h", MINUTE)) == {"HS-2"}
    assert await _ids(conn, "numerator", WARD, *bucket_span(day, "1m", MINUTE)) == {"HS-2"}
    # A time that starts no bucket is refused, naming the bucket that holds it.
    with pytest.raises(DrillError, match="2026-11-22T17:00:00"):
        bucket_span(day + timedelta(hours=3), "1d", MINUTE)
    with pytest.raises(DrillError, match="does not start a 1m bucket"):
        bucket_span(day + timedelta(seconds=30), "1m", MINUTE)
    with pytest.raises(DrillError, match="must be after"):
        await events_behind(conn, KPI, "numerator", WARD, day, day)


async def test_pages_neither_repeat_nor_skip(conn: asyncpg.Connection) -> None:
    # 30 events, ten of them at one instant (the id breaks the tie), over 20 minutes.
    same = T0 + timedelta(minutes=7)
    events = [_dossier(T0 + timedelta(seconds=37 * i), WARD, True, i) for i in range(20)]
    events += [_dossier(same, WARD, True, 100 + i) for i in range(10)]
    await write_batch(conn, "g", events, {})
    expected = sorted((e.occurred_at, e.event_id) for e in events)
    seen: list[tuple[datetime, uuid.UUID]] = []
    after: Cursor | None = None
    pages = 0
    while True:
        page = await events_behind(
            conn, KPI, "numerator", PROVINCE, T0, T0 + HOUR, limit=7, after=after
        )
        seen += [(e.occurred_at, e.event_id) for e in page.items]
        pages += 1
        if page.next_cursor is None:
            break
        after = Cursor.decode(page.next_cursor.encode())  # through the token, as a client would
        if pages == 2:
            # An event stored meanwhile before the cursor does not shift later pages.
            await write_batch(conn, "g", [_dossier(T0, WARD, True, 999)], {})
    assert pages == 5 and len(page.items) == 2
    assert seen == expected
    # A full last page says there is no next one (no empty page to fetch).
    last = await events_behind(
        conn, KPI, "numerator", WARD, same, same + timedelta(seconds=1), limit=10
    )
    assert len(last.items) == 10 and last.next_cursor is None
    # The export reads the same list whole.
    out = io.StringIO(newline="")
    rows = write_csv(
        out, [e async for e in iter_events(conn, KPI, "numerator", WARD, T0, T0 + HOUR)]
    )
    text = out.getvalue()
    assert rows == 31 and text.startswith("\ufeff" + ",".join(CSV_COLUMNS) + "\r\n")
    assert "Phường Phố Hiến" in text and text.count("\r\n") == 32


def test_cli_lists_the_events_and_writes_the_csv(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`ioc kpis events` on the province: a table of the oldest, a count, the whole CSV."""

    async def seed() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await migrate(conn)
            await sync_areas(conn, load_areas())
            events = [_dossier(T0 + i * MINUTE, WARD, i % 3 != 0, i) for i in range(9)]
            events.append(_dossier(T0, OTHER_WARD, True, 50))
            await write_batch(conn, "g", events, {})
        finally:
            await conn.close()

    asyncio.run(seed())
    monkeypatch.setenv("IOC_DATABASE_URL", database_url)
    monkeypatch.setenv("IOC_DATABASE__SSLMODE", "disable")
    # Times without an offset are Vietnam time: [01:00, 02:00) UTC.
    args = ["events", KPI.id, "--from", "2026-11-23T08:00", "--to", "2026-11-23T09:00"]
    shown = CliRunner().invoke(app, [*args, "--area", "33", "--limit", "3"], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert "Sự kiện của tử số (dvc.received_online), Tỉnh Hưng Yên (33)" in shown.output
    assert ": 7" in shown.output  # 6 online in the ward + 1 in the other
    assert "Phường Phố Hiến (11953)" in shown.output and "23/11/2026 08:01:00" in shown.output
    assert "Hiển thị 3 sự kiện đầu tiên" in shown.output
    target = tmp_path / "sự kiện.csv"
    written = CliRunner().invoke(
        app, [*args, "--part", "denominator", "--area", WARD, "--csv", str(target)]
    )
    assert written.exit_code == 0, written.output
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf" + ",".join(CSV_COLUMNS).encode())
    assert data.count(b"\r\n") == 10  # header + the ward's 9 dossiers
    bad = CliRunner().invoke(
        app, ["events", KPI.id, "--bucket", "2026-11-23T08:30", "--area", WARD]
    )
    assert bad.exit_code == 2 and "does not start a 1h bucket" in bad.output
