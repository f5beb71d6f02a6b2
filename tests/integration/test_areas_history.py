"""A merged province's history rolls up into today's province: continuous series across 1/7/2025.

The areas table is synced from the shipped national data for Hưng Yên (with the former Tỉnh
Hưng Yên and Tỉnh Thái Bình until 2025-07-01). Window rows are written with the stream sink on
both sides of the reform day: before it in former communes of both former provinces, after it
in today's communes. The province's daily series must count all of them, with no gap and no
jump caused by the reform.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import asyncpg
import pytest

from ioc.areas import load_areas
from ioc.kpis import load_kpis
from ioc.kpis.values import compute, series
from ioc.localtime import ZONE
from ioc.streams.sink import Counted, write_batch
from tests._tiers import tier_connection

ONLINE = load_kpis().get("dvc_online_dossier_rate")
DAY = timedelta(days=1)
FIRST = datetime(2025, 6, 28, tzinfo=ZONE)  # four days before the reform, three after
AREAS = load_areas()
# Before: Thị trấn Ân Thi (former Hưng Yên) and Xã Vũ Hội (Huyện Vũ Thư, former Thái Bình).
AN_THI_TT, VU_HOI = "12142", AREAS.find("Xã Vũ Hội", on=FIRST.date())[0].code
# After: Xã Ân Thi (12142 reused) and Xã Thư Vũ, Xã Vũ Hội's successor.
THU_VU = AREAS.current(VU_HOI, on=(FIRST + 6 * DAY).date()).code


def received(at: datetime, area: str, total: float, online: float) -> Counted:
    measures = (("dvc.received", total), ("dvc.received_online", online))
    return Counted(uuid.uuid4(), at, area, measures, "dvc", 0)


@pytest.fixture
async def conn(tier: tuple[str, str]) -> AsyncIterator[asyncpg.Connection]:
    async with tier_connection(tier, areas=True) as connection:
        yield connection


async def refresh(conn: asyncpg.Connection) -> None:
    if await conn.fetchval("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'"):
        for view in ("window_metrics_1h", "window_metrics_1d"):
            await conn.execute(f"CALL refresh_continuous_aggregate('{view}', NULL, NULL)")


async def test_province_series_is_continuous_across_the_reform(conn: asyncpg.Connection) -> None:
    assert THU_VU != VU_HOI and AREAS.get(THU_VU, on=(FIRST + 6 * DAY).date()).parent == "33"
    rows = []
    for i in range(7):
        at = FIRST + i * DAY + timedelta(hours=9)
        if at.date() < datetime(2025, 7, 1).date():
            # Former Hưng Yên 40 dossiers (20 online), former Thái Bình 60 (15 online).
            rows += [received(at, AN_THI_TT, 40, 20), received(at, VU_HOI, 60, 15)]
        else:
            rows += [received(at, AN_THI_TT, 40, 20), received(at, THU_VU, 60, 15)]
    await write_batch(conn, "g", rows, {})
    await refresh(conn)
    end = FIRST + 7 * DAY
    await compute(conn, [ONLINE], FIRST, end, "1d")

    province = await series(conn, ONLINE.id, "33", FIRST, end, "1d")
    # Seven days, every one 35/100: Thái Bình's dossiers count for Hưng Yên before the merger.
    assert [(p.numerator, p.denominator) for p in province] == [(35, 100)] * 7
    assert [p.bucket.astimezone(ZONE).date() for p in province] == [
        (FIRST + i * DAY).date() for i in range(7)
    ]
    # Before the reform Tỉnh Thái Bình and its district still have their own series.
    thai_binh = await series(conn, ONLINE.id, "34", FIRST, end, "1d")
    assert [(p.numerator, p.denominator) for p in thai_binh] == [(15, 60)] * 3
    district = AREAS.get(VU_HOI, on=FIRST.date()).parent
    assert district is not None
    assert len(await series(conn, ONLINE.id, district, FIRST, end, "1d")) == 3


async def test_every_province_syncs_and_rolls_up_in_the_database(
    conn: asyncpg.Connection,
) -> None:
    """What `ioc up` does with the areas, for each of the 34 provinces in turn."""
    from ioc.areas import province_codes
    from ioc.db import sync_areas

    for code in province_codes():
        areas = load_areas(province=code)
        assert await sync_areas(conn, areas) == len(areas)
        # Before and after the reform every commune rolls up to today's province code.
        rows = await conn.fetch(
            "SELECT d.day, count(DISTINCT a.code) AS communes, count(DISTINCT an.area) AS up "
            "FROM (VALUES ('2024-06-01'::date), ('2026-01-01'::date)) d (day) "
            "JOIN areas a ON a.level = 'commune' "
            "AND coalesce(a.valid_from, '-infinity') <= d.day "
            "AND d.day < coalesce(a.valid_to, 'infinity') "
            "LEFT JOIN area_ancestors an ON an.area = a.code AND an.ancestor = $1 "
            "AND an.valid_from <= d.day AND d.day < an.valid_to "
            "GROUP BY d.day ORDER BY d.day",
            code,
        )
        assert [(r["communes"], r["up"]) for r in rows] == [
            (len(areas.by_level("commune", on=day)),) * 2
            for day in (datetime(2024, 6, 1).date(), datetime(2026, 1, 1).date())
        ], code
