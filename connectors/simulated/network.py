"""Simulated digital-infrastructure telemetry: the special data network, LANs, cells, broadband.

Defaults at rate 1 (one province):

- 200 connection points of the special data network (mạng truyền số liệu chuyên dùng), one at
  every commune's People's Committee (level xã; more than 200 if the province has more communes)
  and the rest at province-level agencies (tỉnh, a quarter of them) and district-level ones
  (huyện, where the start day has districts), spread by population; ids
  `TSL-<X|H|T>-<commune>-<n>` (xã, huyện, tỉnh). A profile
  (`-o profile=hung-yen-2024`, see `profiles`) sets the count and the levels reached;
- 100 agency LANs (`LAN-…`) by population;
- 300 cell sites (`BTS-…`), a quarter of them 5G, by population;
- 8 broadband aggregation points (`OLT-…`) by households.

Every point sits inside its commune's bounding box (`_base.place`); samples carry its `lat`/`lon`.

Each point is sampled every 30 s (phases staggered so samples spread over the ticks): up or
down, latency (fibre 5–20 ms, 4G 30–60 ms, 5G 10–25 ms, higher under load and when degraded),
packet loss and throughput following a daily curve (office hours for government networks,
evenings for cells and broadband). About 0.2% of points start an outage each hour (30 min on
average) and 1% a degradation (neither under a scenario with `background: false`). That makes
1,751,000 samples a day (≈ 20/s); `rate` scales the number of points. Once a local day per
commune (at the first tick after local midnight, and at startup) a `network.subscriptions`
event gives households, fixed-broadband (85–92%) and fibre households, population and 4G
(≈ 99%) / 5G (growing since 2024) coverage, consistent with the area file's figures. A
`network_outage` incident takes down every point of its area (a share equal to the intensity).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, timedelta
from typing import ClassVar, Final, Literal

import numpy as np

from ioc.connectors.base import ConnectorContext, ConnectorError
from ioc.connectors.simulated._base import (
    EventIds,
    FloatArray,
    IntArray,
    Outages,
    SimulatedConnector,
    Tick,
    WeeklyProfile,
    down_at,
    leaf_weights,
    ordinals,
    place,
    schedule,
    spread,
    stable_hash,
    to_ms,
)
from ioc.connectors.simulated.profiles import PROFILES, SpecialLevel, profile_of
from ioc.events import Envelope, NetworkPointKind, NetworkSample, NetworkSubscriptions

__all__ = ["NetworkSimulator"]

_INTERVAL_MS: Final = 30_000
# Kinds of point: (kind, count at rate 1, areas weighted by, id prefix).
_FLEET: Final[
    tuple[tuple[NetworkPointKind, int, Literal["population", "households"], str], ...]
] = (
    (NetworkPointKind.SPECIAL_NETWORK, 200, "population", "TSL"),
    (NetworkPointKind.AGENCY_LAN, 100, "population", "LAN"),
    (NetworkPointKind.CELL_SITE, 300, "population", "BTS"),
    (NetworkPointKind.BROADBAND, 8, "households", "OLT"),
)
_FIVE_G_SHARE: Final = 0.25
# Special-network points beyond the communes' own: the share at province-level agencies.
_PROVINCE_SHARE: Final = 0.25
_LEVEL_LETTER: Final[dict[SpecialLevel, str]] = {"province": "T", "district": "H", "commune": "X"}
_PEOPLE_PER_HOUSEHOLD: Final = 3.3
_SUBSCRIPTION_EPOCH: Final = date(2024, 1, 1)

# Utilisation (0..1) of government networks: office hours on working days.
_OFFICE = WeeklyProfile(
    weekday=[0.05, 0.05, 0.05, 0.05, 0.05, 0.06, 0.15, 0.55, 0.85, 0.9, 0.9, 0.7,
             0.35, 0.6, 0.85, 0.9, 0.8, 0.45, 0.15, 0.08, 0.06, 0.05, 0.05, 0.05],
    saturday=[0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.08, 0.2, 0.3, 0.3, 0.25, 0.15,
              0.08, 0.07, 0.07, 0.07, 0.06, 0.06, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05],
    sunday=[0.05] * 24,
)  # fmt: skip
# Utilisation of consumer networks: an evening peak every day.
_CONSUMER = WeeklyProfile(
    weekday=[0.35, 0.25, 0.18, 0.15, 0.15, 0.2, 0.35, 0.5, 0.55, 0.55, 0.55, 0.6,
             0.65, 0.6, 0.55, 0.55, 0.6, 0.65, 0.75, 0.85, 0.92, 0.95, 0.8, 0.55],
    saturday=[0.4, 0.3, 0.2, 0.15, 0.15, 0.18, 0.3, 0.45, 0.55, 0.6, 0.65, 0.7,
              0.7, 0.65, 0.65, 0.65, 0.7, 0.75, 0.85, 0.92, 0.95, 0.97, 0.85, 0.6],
)  # fmt: skip


class NetworkSimulator(SimulatedConnector):
    """Simulated network telemetry: special data network, LANs, 4G/5G cells, broadband.

    About 600 points sampled every 30 s at rate 1 (≈ 20 events/s) plus daily subscription
    counters per commune; see the module docstring. Samples are keyed by point id.
    """

    feed = "network"
    step: ClassVar[timedelta] = timedelta(seconds=5)
    options_help: ClassVar[Mapping[str, str]] = {
        "profile": "the special network of a province's reported year: "
        + ", ".join(PROFILES)
        + " (ioc/connectors/simulated/profiles.py)",
    }

    def __init__(self, context: ConnectorContext) -> None:
        """Build the points (from the seed and the areas valid on the start day)."""
        super().__init__(context)
        rng = self.entity_rng
        profile = profile_of(context.options.get("profile"))
        reached: tuple[SpecialLevel, ...] = (
            profile.special_network_levels
            if profile is not None
            else ("province", "district", "commune")
        )
        if not context.areas.by_level("district", on=self.start_day):
            reached = tuple(level for level in reached if level != "district")  # two tiers
        areas: list[IntArray] = []
        kinds: list[NetworkPointKind] = []
        ids: list[str] = []
        self.special_levels: list[SpecialLevel] = []
        """Level of each special-network point, in point order (province, district, commune)."""
        for kind, count, basis, prefix in _FLEET:
            special = kind is NetworkPointKind.SPECIAL_NETWORK
            wanted = self.scaled(count)
            if special and profile is not None and profile.special_network_points is not None:
                wanted = self.scaled(profile.special_network_points)  # the reported count
            elif special and context.rate >= 1 and "commune" in reached:
                # Every commune's People's Committee is connected, however many communes the
                # province has (a merged province's history has hundreds).
                wanted = max(wanted, round(len(self.leaves) * context.rate))
            weights = leaf_weights(self.leaves, basis)
            if special and profile is not None:
                weights = self._within(weights, profile.province_code)
            placed = spread(rng, wanted, weights, one_each=special and "commune" in reached)
            areas.append(placed)
            kinds.extend([kind] * placed.size)
            numbers = ordinals(placed).tolist()
            if special:
                self.special_levels = self._levels(numbers, reached)
                prefixes = [f"{prefix}-{_LEVEL_LETTER[lv]}" for lv in self.special_levels]
            else:
                prefixes = [prefix] * placed.size
            ids.extend(
                f"{head}-{self.codes[a]}-{n:02d}"
                for head, a, n in zip(prefixes, placed.tolist(), numbers, strict=True)
            )
        self._area = np.concatenate(areas)
        count = self._area.size
        self._kind = kinds
        self._ids = ids
        self._area_code = [self.codes[a] for a in self._area.tolist()]
        # A generator of its own, so that placing the points leaves the other draws as they were.
        where = np.random.default_rng([*self.key, stable_hash("place")])
        self._lat, self._lon = place(where, self.leaves, self._area, self.province)
        cell = np.array([k is NetworkPointKind.CELL_SITE for k in kinds])
        five_g = cell & (rng.random(count) < _FIVE_G_SHARE)
        self._technology: list[Literal["fiber", "4g", "5g"]] = [
            "5g" if f else "4g" if c else "fiber"
            for c, f in zip(cell.tolist(), five_g.tolist(), strict=True)
        ]
        self._office = np.array(
            [k in (NetworkPointKind.SPECIAL_NETWORK, NetworkPointKind.AGENCY_LAN) for k in kinds]
        )
        self._latency = np.where(
            five_g,
            rng.uniform(10, 22, count),
            np.where(cell, rng.uniform(30, 52, count), rng.uniform(5, 16, count)),
        )
        capacity = {
            NetworkPointKind.SPECIAL_NETWORK: 100.0,
            NetworkPointKind.AGENCY_LAN: 1000.0,
            NetworkPointKind.CELL_SITE: 300.0,
            NetworkPointKind.BROADBAND: 10_000.0,
        }
        self._capacity = np.array([capacity[k] for k in kinds]) * np.where(five_g, 5.0, 1.0)
        self._utilisation = rng.uniform(0.4, 0.9, count)
        phase = rng.integers(0, _INTERVAL_MS, count)
        outage_draw = rng.random(count)

        self._due = schedule(phase, _INTERVAL_MS, self.step_ms)

        self._outages = Outages(
            key=self.key,
            stream=1,
            count=count,
            per_hour=self.background(0.002),
            mean=timedelta(minutes=30),
            longest=timedelta(hours=4),
            fixed=self.scenario_intervals("network_outage", self._area, outage_draw),
        )
        self._degraded = Outages(
            key=self.key,
            stream=2,
            count=count,
            per_hour=self.background(0.01),
            mean=timedelta(minutes=20),
            longest=timedelta(hours=2),
        )
        self._subscriptions_day: date | None = None

    def _within(self, weights: FloatArray, province: str) -> FloatArray:
        """Keep only the communes that belonged to ``province`` on the start day.

        A merged province's history holds the provinces merged into it as former units (Thái
        Bình under Hưng Yên before 1/7/2025); a year's profile describes one of them.
        """
        day = self.start_day
        areas = self.context.areas
        inside = np.array(
            [
                next(a.code for a in areas.ancestors(leaf.code, day) if a.level == "province")
                == province
                for leaf in self.leaves
            ]
        )
        if not inside.any():
            raise ConnectorError(f"no commune of province {province} on {day}")
        kept: FloatArray = np.where(inside, weights, 0.0)
        return kept / float(kept.sum())

    def _levels(self, numbers: list[int], reached: tuple[SpecialLevel, ...]) -> list[SpecialLevel]:
        """The level of each special-network point, from its number within its commune.

        The first point of a commune is its People's Committee when communes are reached; the
        others are province- or district-level agencies located there. Drawn from a stream of
        their own, so the rest of the fleet is the same with or without levels.
        """
        draw = np.random.default_rng([*self.key, 11]).random(len(numbers)).tolist()
        out: list[SpecialLevel] = []
        for n, u in zip(numbers, draw, strict=True):
            if n == 1 and "commune" in reached:
                out.append("commune")
            elif "district" in reached and (u >= _PROVINCE_SHARE or "province" not in reached):
                out.append("district")
            else:
                out.append("province")
        return out

    def tick(self, tick: Tick) -> list[Envelope]:
        """Samples of the points whose 30 s come round in this tick, and the daily counters."""
        points, offsets = self._due[(tick.start_ms % _INTERVAL_MS) // self.step_ms]
        times = tick.start_ms + offsets
        size = points.size
        rng = tick.rng
        ids = EventIds(rng, size)
        load = np.clip(
            self._utilisation[points]
            * np.where(self._office[points], _OFFICE.at(tick.local), _CONSUMER.at(tick.local))
            * rng.lognormal(0.0, 0.15, size),
            0.01,
            0.98,
        )
        latency = self._latency[points] * (1 + 0.6 * load**2) * rng.lognormal(0.0, 0.1, size)
        loss = rng.beta(0.6, 3000.0, size)
        throughput = self._capacity[points] * load
        slowdown = rng.uniform(3.0, 6.0, size)
        bad_loss = rng.uniform(0.02, 0.12, size)

        down = down_at(points, times, self._outages.overlapping(tick.start_ms, tick.end_ms))
        degraded = down_at(points, times, self._degraded.overlapping(tick.start_ms, tick.end_ms))
        latency = np.where(degraded, latency * slowdown, latency)
        loss = np.where(degraded, bad_loss, loss)
        throughput = np.where(degraded, throughput * 0.4, throughput)

        out: list[Envelope] = self._subscriptions(tick)
        for j, (point, at, is_down, ms, lost, mbps) in enumerate(
            zip(
                points.tolist(),
                times.tolist(),
                down.tolist(),
                np.round(latency, 1).tolist(),
                np.round(loss, 4).tolist(),
                np.round(throughput, 1).tolist(),
                strict=True,
            )
        ):
            sample = NetworkSample(
                point_id=self._ids[point],
                point_kind=self._kind[point],
                up=not is_down,
                technology=self._technology[point],
                latency_ms=None if is_down else ms,
                packet_loss=1.0 if is_down else lost,
                throughput_mbps=0.0 if is_down else mbps,
                interval_seconds=_INTERVAL_MS // 1000,
                lat=self._lat[point],
                lon=self._lon[point],
            )
            out.append(
                self.envelope(
                    area=self._area_code[point],
                    key=self._ids[point],
                    at_ms=at,
                    event_id=ids(j),
                    payload=sample,
                )
            )
        return out

    def _subscriptions(self, tick: Tick) -> list[Envelope]:
        """Once a local day (and at startup): subscription counters of every commune."""
        day = tick.local.date()
        if day == self._subscriptions_day:
            return []
        self._subscriptions_day = day
        leaves = self.context.areas.leaves(on=day)
        known_h = [a.households for a in leaves if a.households is not None]
        known_p = [a.population for a in leaves if a.population is not None]
        years = (day - _SUBSCRIPTION_EPOCH).days / 365.25
        ids = EventIds(tick.stream(2), len(leaves))
        at = max(tick.start_ms, to_ms(self.started_at))
        out: list[Envelope] = []
        for n, area in enumerate(leaves):
            households = area.households
            population = area.population
            if households is None:
                households = round(
                    population / _PEOPLE_PER_HOUSEHOLD
                    if population is not None
                    else (sum(known_h) / len(known_h) if known_h else 3000)
                )
            if population is None:
                population = round(
                    households * _PEOPLE_PER_HOUSEHOLD
                    if area.households is not None
                    else (sum(known_p) / len(known_p) if known_p else 10_000)
                )
            # An area's mix depends on the seed and the area, not on the day it is reported.
            rng = np.random.default_rng([*self.key, 7, stable_hash(area.code)])
            broadband_share, fibre_share, share_4g, urban_boost = rng.uniform(
                [0.85, 0.93, 0.985, 0.8], [0.895, 0.99, 0.998, 1.0]
            ).tolist()
            broadband_share = min(0.92, broadband_share + min(0.025, 0.01 * max(years, 0.0)))
            if area.name_vi.startswith(("Phường", "Thị trấn", "Thành phố", "Thị xã")):
                urban_boost += 0.4
            share_5g = min(share_4g, max(0.02, 0.1 + 0.22 * years) * urban_boost)
            broadband = math.floor(households * broadband_share)
            payload = NetworkSubscriptions(
                households=households,
                fixed_broadband_households=broadband,
                fibre_households=math.floor(broadband * fibre_share),
                population=population,
                population_covered_4g=math.floor(population * share_4g),
                population_covered_5g=math.floor(population * share_5g),
            )
            out.append(
                self.envelope(
                    area=area.code, key=area.code, at_ms=at, event_id=ids(n), payload=payload
                )
            )
        return out
