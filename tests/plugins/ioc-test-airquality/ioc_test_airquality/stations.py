"""Simulated air-quality stations: one reading per station per minute.

One station in each commune of the province (``rate`` scales how many: 0.2 keeps every fifth),
named ``QTKK-<commune code>``. Each minute a station either reports that it is down (about 1
reading in 200) or measures PM2.5 and PM10 and computes its VN_AQI as the highest of the two
sub-indices, by the breakpoints of Quyết định 1459/QĐ-TCMT (2019). The concentrations are
made up: a station's own level of PM2.5 (6-14 µg/m³; 12-20 for the one station in eight that
stands by a main road), 40% higher in the rush hours (07:00-09:00 and 17:00-20:00 local), and
±15% noise: good air (VN_AQI 50 or less) except by main roads in the rush hours (moderate).
Every value depends only on the seed, the station and the minute, so a replay sends the same
events with the same ids.

Options: ``haze=<area code>`` sends the stations under that area into a haze episode (PM2.5
around 110 µg/m³, VN_AQI "Xấu") from ``haze_after`` minutes after the start of the run
(default 0) to its end: what a drill or a test uses to see an alert fire; ``faults=off``
stops the stations' random failures, so that only the haze changes anything.
"""

from __future__ import annotations

import math
import uuid
import zlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import ClassVar

from ioc.connectors import Connector, Item
from ioc.events import AirSample, AqiBand, Envelope
from ioc.localtime import to_local

__all__ = ["AirStations", "aqi_of"]

# QĐ 1459/QĐ-TCMT, Table 1: the breakpoints BP_i of the hourly concentrations (µg/m³) and
# the index I_i at each; between two, the sub-index is linear.
_INDEX = (0, 50, 100, 150, 200, 300, 400, 500)
_PM25 = (0, 25, 50, 80, 150, 250, 350, 500)
_PM10 = (0, 50, 150, 250, 350, 420, 500, 600)
_BANDS = (
    (50, AqiBand.GOOD),
    (100, AqiBand.MODERATE),
    (150, AqiBand.POOR),
    (200, AqiBand.BAD),
    (300, AqiBand.VERY_BAD),
    (500, AqiBand.HAZARDOUS),
)
_IDS = uuid.UUID("6f1d3c2a-8a51-4b0e-9d35-2b7e4a8c1f00")


def _sub_index(value: float, breakpoints: tuple[int, ...]) -> int:
    for i in range(1, len(breakpoints)):
        low, high = breakpoints[i - 1], breakpoints[i]
        if value <= high:
            share = (value - low) / (high - low)
            return math.ceil(_INDEX[i - 1] + share * (_INDEX[i] - _INDEX[i - 1]))
    return 500


def aqi_of(pm25: float, pm10: float) -> tuple[int, AqiBand]:
    """The VN_AQI of a reading and its band.

    Example:
        >>> aqi_of(20.0, 40.0)
        (40, <AqiBand.GOOD: 'good'>)
        >>> aqi_of(110.0, 120.0)[1].value
        'bad'
    """
    aqi = max(_sub_index(pm25, _PM25), _sub_index(pm10, _PM10))
    band = next(b for top, b in _BANDS if aqi <= top)
    return aqi, band


def _unit(*parts: object) -> float:
    """A number in [0, 1) fixed by `parts` (the same in every process)."""
    return zlib.crc32(":".join(map(str, parts)).encode()) / 2**32


class AirStations(Connector):
    """Air-quality stations: PM2.5, PM10 and VN_AQI each minute, one station per commune."""

    feed = "air"
    options_help: ClassVar[dict[str, str]] = {
        "haze": "area code whose stations go into a haze episode (VN_AQI 'Xấu')",
        "haze_after": "minutes after the start of the run when the haze begins (default 0)",
        "faults": "off: no station ever fails (only the haze changes anything)",
    }

    async def events(self) -> AsyncIterator[Item]:
        ctx = self.context
        clock = ctx.clock
        start = clock.now()
        leaves = ctx.areas.leaves(on=to_local(start).date())
        step = max(1, round(1 / ctx.rate)) if ctx.rate > 0 else 1
        haze = ctx.options.get("haze")
        hazy = {a.code for a in ctx.areas.descendants(haze)} | {haze} if haze else set()
        stations = [a for i, a in enumerate(leaves) if i % step == 0 or a.code in hazy]
        haze_from = start + timedelta(minutes=int(ctx.option("haze_after", "0")))
        faults = ctx.option("faults", "on") != "off"
        while not clock.finished:
            now = clock.now().replace(second=0, microsecond=0)
            hour = to_local(now).hour
            rush = 1.4 if hour in (7, 8, 17, 18, 19) else 1.0
            minute = int(now.timestamp()) // 60
            for area in stations:
                station = f"QTKK-{area.code}"
                if faults and _unit(ctx.seed, station, minute, "down") < 0.005:
                    payload = AirSample(station_id=station, up=False)
                else:
                    busy = _unit(ctx.seed, station, "site") < 1 / 8  # by a main road
                    share = _unit(ctx.seed, station)
                    level = 12 + 8 * share if busy else 6 + 8 * share
                    noise = 0.85 + 0.3 * _unit(ctx.seed, station, minute)
                    pm25 = level * rush * noise
                    if area.code in hazy and now >= haze_from:
                        pm25 = 100 + 20 * _unit(ctx.seed, station, minute, "haze")
                    pm10 = pm25 * 1.6
                    aqi, band = aqi_of(pm25, pm10)
                    payload = AirSample(
                        station_id=station,
                        up=True,
                        aqi=aqi,
                        band=band,
                        pm25=round(pm25, 1),
                        pm10=round(pm10, 1),
                        lat=area.lat,
                        lon=area.lon,
                    )
                yield Envelope.create(
                    source=ctx.name,
                    area=area.code,
                    key=station,
                    occurred_at=now,
                    payload=payload,
                    event_id=uuid.uuid5(_IDS, f"{ctx.seed}:{station}:{minute}"),
                )
            await clock.sleep(timedelta(minutes=1))
