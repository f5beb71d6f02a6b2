"""Simulated citizen feedback through the real worker: windows, KPIs by commune, drill-through."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from ioc.areas import load_areas
from ioc.codec import encode, headers
from ioc.config import Settings
from ioc.connectors.base import ConnectorContext, VirtualClock
from ioc.connectors.registry import load_connector
from ioc.db import connect
from ioc.events import Envelope
from ioc.kafka import topic_name
from ioc.kpis import load_kpis
from ioc.kpis.drill import events_behind
from ioc.kpis.measures import measures
from ioc.kpis.periods import Period, agency_sums
from ioc.kpis.values import compute, totals
from ioc.localtime import to_local
from ioc.streams.worker import StreamWorker
from tests._streams import START, Record, isolated_settings, produce, wait_caught_up

KPIS = load_kpis().for_feed("feedback")
PROVINCE = "33"


@pytest.fixture
async def stream_settings(settings: Settings) -> Settings:
    return await isolated_settings(settings, with_areas=True)


@pytest.fixture
async def conn(stream_settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    connection = await connect(stream_settings)
    yield connection
    await connection.close()


async def _simulated(settings: Settings, days: int) -> list[Envelope]:
    # Rate 5: a busy province's week in two days, enough answers for every commune's figures.
    clock = VirtualClock(START, START + timedelta(days=days))
    context = ConnectorContext(
        name="feedback-sim",
        settings=settings,
        areas=load_areas(settings.areas_file),
        clock=clock,
        seed=7,
        rate=5,
    )
    connector = load_connector("feedback-sim")(context)
    return [e async for e in connector.events() if isinstance(e, Envelope)]


async def test_feedback_reaches_windows_kpis_by_commune_and_the_drill_through(
    stream_settings: Settings, conn: asyncpg.Connection
) -> None:
    events = await _simulated(stream_settings, days=2)
    topic = topic_name(stream_settings, "events", "feedback")
    records = [Record(topic, e.key.encode(), encode(e), headers(e)) for e in events]
    await produce(stream_settings, records)
    worker = StreamWorker(stream_settings, name="solo")
    task = asyncio.create_task(worker.run())
    try:
        await wait_caught_up(conn, stream_settings, worker=task)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 30)

    # What the KPIs must add up to: every event's measures, in the province and per commune.
    sums: dict[tuple[str, str], float] = defaultdict(float)
    for env in events:
        for metric, value in measures(env):
            sums[(metric, env.area)] += value
            if env.area != PROVINCE:
                sums[(metric, PROVINCE)] += value
    start, end = START, START + timedelta(days=2)  # START is on the hour
    await compute(conn, KPIS, start, end, "1h")

    answered = sums[("feedback.answered", PROVINCE)]
    assert answered > 300
    by_commune = sorted(
        (n, area)
        for (metric, area), n in sums.items()
        if metric == "feedback.answered" and area != PROVINCE
    )
    busiest = by_commune[-1][1]
    for kpi in KPIS:
        for area in (PROVINCE, busiest):
            got = await totals(conn, kpi, area, start, end, "1h")
            want = (sums[(kpi.numerator, area)], sums[(kpi.denominator, area)])
            assert (got.numerator, got.denominator) == pytest.approx(want), (kpi.id, area)
    on_time = await totals(conn, "feedback_on_time_rate", PROVINCE, start, end, "1h")
    mean = await totals(conn, "feedback_mean_answer_hours", PROVINCE, start, end, "1h")
    assert on_time.value is not None and 0.8 < on_time.value < 1.0  # history brings late ones
    assert mean.value is not None and 1 < mean.value < 24 * 15

    # The drill-through lists the cases behind the on-time rate, each with its agency.
    kpi = next(k for k in KPIS if k.id == "feedback_on_time_rate")
    listed = []
    page = await events_behind(conn, kpi, "denominator", PROVINCE, start, end, limit=500)
    listed += page.items
    while page.next_cursor is not None:
        page = await events_behind(
            conn, kpi, "denominator", PROVINCE, start, end, limit=500, after=page.next_cursor
        )
        listed += page.items
    assert len(listed) == answered
    assert all(e.kind == "feedback.case" and e.payload["stage"] == "answered" for e in listed)
    agencies = {e.payload["agency_code"] for e in listed}
    assert {"TT-PVHCC", "SO-XD"} <= agencies and any(a.startswith("UBND-") for a in agencies)
    # By agency: the answered cases of the first local day, per agency that answered them.
    day = to_local(START).date()
    want: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for env in events:
        payload = env.payload
        if (
            getattr(payload, "stage", None) == "answered"
            and to_local(env.occurred_at).date() == day
        ):
            want[payload.agency_code][0] += payload.on_time
            want[payload.agency_code][1] += 1
    areas = load_areas(stream_settings.areas_file)
    province = areas.get(PROVINCE, on=day)
    got = await agency_sums(conn, kpi, province, Period("day", day, day))
    assert {a.agency: [a.numerator, a.denominator] for a in got} == want
    assert len(want) > 20

    in_time = await events_behind(conn, kpi, "numerator", busiest, start, end, limit=500)
    assert in_time.items
    assert all(e.payload["on_time"] is True and e.area == busiest for e in in_time.items)
