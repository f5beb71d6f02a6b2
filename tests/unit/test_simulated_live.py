"""Live, a simulated feed sends each event when its time comes, not 5 seconds of them at once.

A tick in the past (`ioc up`'s history, a backfill) is sent at once; a tick still to come is
made at its start and released as its events occur, with the same events as a backfill.
"""

from __future__ import annotations

import asyncio
import statistics
from datetime import datetime, timedelta

from ioc.areas import load_areas
from ioc.config import load_settings
from ioc.connectors.base import Clock, ConnectorContext, VirtualClock, WallClock
from ioc.connectors.simulated import CameraSimulator
from ioc.connectors.simulated._base import RELEASE_GRAIN
from ioc.events import Envelope, utc_now

HISTORY = timedelta(seconds=20)
LIVE = timedelta(seconds=6)  # more than one 5 s tick


def _camera(clock: Clock) -> CameraSimulator:
    context = ConnectorContext(
        name="camera-sim", settings=load_settings(), areas=load_areas(), clock=clock, rate=3.0
    )
    return CameraSimulator(context)


async def test_live_events_are_sent_as_they_occur_and_history_at_once() -> None:
    began = utc_now()
    live = _camera(WallClock(began - HISTORY))
    stop = began + LIVE
    got: list[tuple[Envelope, datetime]] = []
    async with asyncio.timeout(60):
        async for item in live.events():
            assert isinstance(item, Envelope)
            got.append((item, utc_now()))
            if item.occurred_at >= stop:
                break

    # The same events as a backfill of the same span.
    end = got[-1][0].occurred_at + timedelta(milliseconds=1)
    backfill = [e async for e in _camera(VirtualClock(live.started_at, end)).events()]
    assert [e.event_id for e, _ in got] == [e.event_id for e in backfill][: len(got)]

    history = [(e, at) for e, at in got if e.occurred_at < began]
    future = [(e, at) for e, at in got if e.occurred_at > began + RELEASE_GRAIN]
    assert len(history) > 50 and len(future) > 50, (len(history), len(future))
    # History is not paced: 20 s of it arrives at once.
    assert max(at for _, at in history) - began < timedelta(seconds=2)
    # Live: never before its time, published when sent, and not held to the tick's end (which
    # would make half of them 2.5 s late or more).
    late = [(at - e.occurred_at).total_seconds() for e, at in future]
    assert min(late) >= 0
    assert all(e.occurred_at <= e.published_at <= at for e, at in future)
    assert statistics.median(late) < RELEASE_GRAIN.total_seconds() + 0.2, statistics.median(late)
