"""A province's data for the board tests, written by the pipeline's own code.

Two working days of the simulated feeds, one in each shape of local government: Monday
4 March 2024 (province → district → commune) and Monday 24 November 2025 (province →
commune). Each day: online public services (twelve times a province's volume, so dossiers are
resolved and rated within the day) and citizen feedback (forty times, so the chosen communes
have answered and rated cases) from 07:00 to 15:00 local time; cameras, payments and the
network from 08:00 to 08:20 (the test plug-in's air stations from 10:00 to 10:20), with two
network outages (Văn Giang from 08:02 for eight
minutes, Ân Thi from 08:10 until after the end). Events become window rows through the
stream sink (``to_counted``, ``write_batch``, ``refresh_rollups``), KPI values through
``ioc.kpis.values.compute`` at 1m, 1h and 1d, alerts through the production evaluator run
minute by minute (``ioc alerts run``'s ``build_evaluator``); an operator acknowledges the
Văn Giang alert during its outage and the Ân Thi one at the end; a silence is set as
``ioc alerts silence`` does.

Why 2025 and not a later day: on the TimescaleDB tier, materialising roll-ups moves the
continuous aggregates' watermark, which TRUNCATE does not move back, and the sink tests
(23 November 2026) read their roll-ups in real time above it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import asyncpg

from ioc.alerts import silences
from ioc.areas import load_areas
from ioc.config import Settings
from ioc.connectors.base import ConnectorContext, VirtualClock
from ioc.connectors.registry import load_connector
from ioc.connectors.scenarios import load_scenario
from ioc.events import Envelope
from ioc.kpis import load_kpis
from ioc.kpis.values import compute
from ioc.services import build_evaluator
from ioc.streams.sink import Counted, refresh_rollups, to_counted, write_batch

LOCAL = timezone(timedelta(hours=7))
THREE_TIER = date(2024, 3, 4)
TWO_TIER = date(2025, 11, 24)
DAYS = (THREE_TIER, TWO_TIER)
OUTAGE_RESOLVED = "12019"  # Thị trấn / Xã Văn Giang: a code valid in both shapes
OUTAGE_OPEN = "12142"  # Thị trấn / Xã Ân Thi, likewise
INCIDENTS = (
    f"network_outage:area={OUTAGE_RESOLVED},start=+2m,duration=8m;"
    f"network_outage:area={OUTAGE_OPEN},start=+10m,duration=2h"
)
ACKNOWLEDGED_BY = "Trực ban IOC"
BATCH = 10_000
SPAN_MINUTES = 20  # cameras, payments and the network run from 08:00 for this long


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A local time of a day, as an aware UTC datetime."""
    return datetime.combine(day, time(hour, minute, second), LOCAL).astimezone(UTC)


async def _events(
    settings: Settings, name: str, start: datetime, end: datetime, rate: float
) -> list[Envelope]:
    areas = load_areas(settings.areas_file)
    context = ConnectorContext(
        name=name,
        settings=settings,
        areas=areas,
        clock=VirtualClock(start, end),
        seed=11,
        rate=rate,
        scenario=load_scenario(INCIDENTS, now=start, areas=areas),
    )
    return [e async for e in load_connector(name)(context).events() if isinstance(e, Envelope)]


async def _write(conn: asyncpg.Connection, settings: Settings, events: list[Envelope]) -> None:
    width = timedelta(seconds=settings.streams.window_seconds)
    counted: list[Counted] = [to_counted(e, width, f"ioc.events.{e.feed}", 0) for e in events]
    for first in range(0, len(counted), BATCH):
        await write_batch(conn, "board-tests", counted[first : first + BATCH], {})
    await refresh_rollups(conn, {c.window_start for c in counted})


async def fill_day(conn: asyncpg.Connection, settings: Settings, day: date) -> None:
    """One working day of every feed, its KPI values, alerts, an acknowledgement, a silence."""
    # Rate 12: the province has 104 communes (381 in 2024), and the chosen commune must still
    # see resolved and rated dossiers in a day.
    events = await _events(settings, "dvc-sim", at(day, 7), at(day, 15), 12.0)
    # Citizen feedback: a few dozen cases a day at rate 1; its month of history brings answers,
    # ratings and a backlog from 07:00.
    events += await _events(settings, "feedback-sim", at(day, 7), at(day, 15), 40.0)
    for name in ("camera-sim", "payment-sim", "network-sim"):
        events += await _events(settings, name, at(day, 8), at(day, 8, SPAN_MINUTES), 1.0)
    # The test plug-in's feed (tests/plugins/ioc-test-airquality, installed) has a board too.
    # Its stations read from 10:00, outside the rush hours and the minutes evaluated below,
    # so no air alert joins the network ones the board tests count on.
    events += await _events(settings, "air-stations", at(day, 10), at(day, 10, SPAN_MINUTES), 1.0)
    await _write(conn, settings, events)

    # A fresh evaluator for each day: its first pass looks back ten windows, not to the
    # previous test day (which would mean evaluating every minute in between).
    await conn.execute("DELETE FROM alert_cursor WHERE name = 'main'")
    evaluator = build_evaluator(settings)
    grace = timedelta(seconds=settings.alerts.grace_seconds)
    # minute -> area whose alert an operator takes: Văn Giang during its outage, Ân Thi at the end
    acknowledge = {8: OUTAGE_RESOLVED, SPAN_MINUTES + 1: OUTAGE_OPEN}
    for minute in range(1, SPAN_MINUTES + 2):
        await evaluator.run_once(conn, at(day, 8, minute) + grace)
        if minute in acknowledge:
            firing = await conn.fetchval(
                "SELECT id FROM alerts WHERE area = $1 AND state = 'firing' ORDER BY id LIMIT 1",
                acknowledge[minute],
            )
            assert firing is not None, f"no alert firing in {acknowledge[minute]} on {day}"
            await evaluator.acknowledge(conn, firing, ACKNOWLEDGED_BY, at(day, 8, minute, 30))

    catalogue = load_kpis(settings.alerts.kpis_file)
    midnight = at(day, 0)
    for resolution in ("1m", "1h", "1d"):
        await compute(conn, catalogue, midnight, midnight + timedelta(days=1), resolution)
    await silences.create(
        conn,
        "network_*",
        at(day, 9) - at(day, 8, 10),
        reason="Bảo trì tuyến cáp quang",
        by="Kỹ sư trực",
        now=at(day, 8, 10),
    )
