"""What the simulated feeds share: the tick loop, seeded randomness, curves, areas, outages.

Time advances in fixed event-time ticks (`SimulatedConnector.step`) on a grid anchored at the
Unix epoch. Everything random in a tick comes from a generator seeded with
`(seed, crc32(connector name), tick index)`, so a tick's events depend only on the seed, the
connector name, the tick's time, the rate and the scenario, never on when the run started: a
backfill of [08:00, 10:00) and one of [09:00, 10:00) agree on every event after 09:00 (the dvc
feed excepted for dossiers received before its start, see `DvcSimulator`). Entity tables
(cameras, connection points, procedures) are drawn once, from `(seed, crc32(name))` and the
areas valid on the local day the run starts.
"""

from __future__ import annotations

import math
import uuid
import zlib
from abc import abstractmethod
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import ClassVar, Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from ioc.areas import Area
from ioc.connectors.base import Connector, ConnectorContext, ConnectorError, Item
from ioc.connectors.scenarios import Incident
from ioc.events import Envelope, utc_now
from ioc.localtime import ZONE

__all__ = [
    "EventIds",
    "Interval",
    "Outages",
    "SimulatedConnector",
    "Tick",
    "WeeklyProfile",
    "down_at",
    "leaf_weights",
    "ms_to_datetime",
    "ordinals",
    "place",
    "schedule",
    "spread",
    "stable_hash",
    "status_changes",
    "to_ms",
    "uuid_from",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

Interval = tuple[int, int, int]
"""An entity index and the [start, end) of a period it is down, in epoch milliseconds."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
RELEASE_GRAIN = timedelta(milliseconds=100)
"""Live, a tick's events are sent in groups this long of event time: one wake-up, and about one
produce request, per group (at 20 ms the bench's four feeds at 10× took 13.7% of a core, against
3.1% with whole ticks at once)."""
_HOUR_MS = 3_600_000
_DAY_S = 86_400


def stable_hash(text: str) -> int:
    """A hash of `text` that is the same in every process (unlike `hash()`)."""
    return zlib.crc32(text.encode("utf-8"))


def to_ms(at: datetime) -> int:
    """Epoch milliseconds of an aware datetime, exactly (no float rounding)."""
    return (at - _EPOCH) // _MS


def ms_to_datetime(ms: int) -> datetime:
    """The aware UTC datetime of epoch milliseconds."""
    return _EPOCH + timedelta(milliseconds=ms)


def uuid_from(raw: bytes, index: int = 0) -> uuid.UUID:
    """A version-4 UUID from the 16 bytes at slot `index` of random bytes."""
    return uuid.UUID(bytes=raw[16 * index : 16 * index + 16], version=4)


class EventIds:
    """Event ids (UUID version 4) drawn from a tick's generator, made only when asked for.

    Drawing a fixed number of ids per entity, used or not, keeps each event's id the same
    whether or not a scenario suppresses its neighbours.
    """

    __slots__ = ("_raw",)

    def __init__(self, rng: np.random.Generator, count: int) -> None:
        self._raw = rng.bytes(16 * count) if count > 0 else b""

    def __call__(self, index: int) -> uuid.UUID:
        """The id in slot `index`."""
        return uuid_from(self._raw, index)

    def raw(self, index: int, count: int = 1) -> bytes:
        """The raw bytes of `count` slots from `index`, to make ids later (`uuid_from`)."""
        return self._raw[16 * index : 16 * (index + count)]

    def hex(self, index: int, digits: int = 20) -> str:
        """The first `digits` hex digits of slot `index`, for a business id (upper case)."""
        return self._raw[16 * index : 16 * index + (digits + 1) // 2].hex()[:digits].upper()


class WeeklyProfile:
    """A time-of-day curve per weekday, evaluated in local time.

    Values are given per equal slot of the day (24 for hours, 48 for half hours) for a working
    day, and optionally for Saturday and Sunday. With `smooth`, values are interpolated between
    slot centres (traffic does not jump on the hour); without, each slot is flat (office hours
    open and close on the minute).
    """

    def __init__(
        self,
        weekday: Sequence[float],
        saturday: Sequence[float] | None = None,
        sunday: Sequence[float] | None = None,
        *,
        smooth: bool = True,
        normalise: bool = False,
    ) -> None:
        """Build the curve.

        Args:
            weekday: values for Monday to Friday, one per slot.
            saturday: values for Saturday; defaults to `weekday`.
            sunday: values for Sunday; defaults to `saturday`.
            smooth: interpolate between slot centres.
            normalise: divide every value by the weekday mean, so that a daily total times
                the value is an intensity (per day) and a weekday sums to that total.
        """
        sat = saturday if saturday is not None else weekday
        sun = sunday if sunday is not None else sat
        days = [list(weekday)] * 5 + [list(sat), list(sun)]
        if len({len(d) for d in days}) != 1 or _DAY_S % len(weekday):
            raise ValueError("every day needs the same number of slots, dividing the day evenly")
        table = np.array(days, dtype=np.float64)
        if normalise:
            table /= table[0].mean()
        self._flat = table.ravel()
        self._slots = len(weekday)
        self._slot_s = _DAY_S // self._slots
        self._smooth = smooth

    def at(self, local: datetime) -> float:
        """The value at a local time."""
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        x = seconds / self._slot_s
        base = local.weekday() * self._slots
        if not self._smooth:
            return float(self._flat[base + int(x)])
        x -= 0.5
        i = math.floor(x)
        frac = x - i
        size = self._flat.size
        left = self._flat[(base + i) % size]
        right = self._flat[(base + i + 1) % size]
        return float(left + (right - left) * frac)

    def day_mean(self, weekday: int) -> float:
        """Mean value over a day (0 = Monday), e.g. to turn a daily total into a rate."""
        day = self._flat[weekday * self._slots : (weekday + 1) * self._slots]
        return float(day.mean())


def leaf_weights(leaves: Sequence[Area], by: Literal["population", "households"]) -> FloatArray:
    """Each leaf area's share of the province by population or households.

    `AreaRegistry.weights` weights one tier, but leaves may mix tiers (a district whose
    communes a partial file leaves out is a leaf), so its rule is applied to the leaves here:
    an area without the figure gets the average of the others; no figures means equal shares.
    """
    figures = [getattr(a, by) for a in leaves]
    known = [f for f in figures if f is not None]
    fill = sum(known) / len(known) if known else 1.0
    values = np.array([f if f is not None else fill for f in figures], dtype=np.float64)
    total = values.sum()
    if total <= 0:
        return np.full(len(leaves), 1.0 / len(leaves))
    values /= total
    return values


def place(
    rng: np.random.Generator, areas: Sequence[Area], area_of: IntArray, around: Area | None
) -> tuple[list[float | None], list[float | None]]:
    """A plausible point for each entity inside its area's bounding box.

    Points gather towards the area's own point (where the settlement usually is): each
    coordinate is drawn between the point and the edge of the box, at most 70% of the way (from
    the box's centre if the point lies outside its box).
    An area without a box gets points within about 1 km of its point; an area without a
    point gets those of `around` (the province); with nothing known the point is None.

    Args:
        rng: the entity generator.
        areas: the leaf areas.
        area_of: each entity's index into `areas`.
        around: the area to fall back on, usually the province.

    Returns:
        Latitudes and longitudes, rounded to 5 decimals (about a metre).
    """
    lats: list[float | None] = []
    lons: list[float | None] = []
    draws = rng.uniform(-0.7, 0.7, (area_of.size, 2))
    for i, index in enumerate(area_of.tolist()):
        area = areas[index]
        if area.lat is None or area.lon is None:
            area = around if around is not None else area
        if area.lat is None or area.lon is None:
            lats.append(None)
            lons.append(None)
            continue
        west, south, east, north = area.bounds or (
            area.lon - 0.01,
            area.lat - 0.01,
            area.lon + 0.01,
            area.lat + 0.01,
        )
        lat0, lon0 = area.lat, area.lon
        if not (south <= lat0 <= north and west <= lon0 <= east):
            # A geocoded point outside its own box (a few former communes): trust the box.
            lat0, lon0 = (south + north) / 2, (west + east) / 2
        dy, dx = draws[i]
        lat = lat0 + dy * ((north - lat0) if dy > 0 else (lat0 - south))
        lon = lon0 + dx * ((east - lon0) if dx > 0 else (lon0 - west))
        lats.append(round(lat, 5))
        lons.append(round(lon, 5))
    return lats, lons


def spread(
    rng: np.random.Generator, count: int, weights: FloatArray, *, one_each: bool = False
) -> IntArray:
    """Place `count` entities on areas (indices into `weights`), sorted by area.

    Args:
        rng: the entity generator.
        count: how many entities.
        weights: the share of each area.
        one_each: give every area one entity first when there are enough (every commune's
            People's Committee is on the special data network), the rest by weight.
    """
    candidates = np.flatnonzero(weights > 0)  # a profile may leave some areas out
    fixed = candidates if one_each and count >= candidates.size else np.array([], int)
    drawn = rng.choice(weights.size, size=count - fixed.size, p=weights)
    return np.sort(np.concatenate([fixed, drawn])).astype(np.int64)


def schedule(phase_ms: IntArray, interval_ms: int, step_ms: int) -> list[tuple[IntArray, IntArray]]:
    """Which entities report in each tick of their interval, in time order.

    Entity `i` reports every `interval_ms` at offset `phase_ms[i]`. Entry `k` of the result is
    (entities, their offsets within the tick) for the k-th tick of the interval.
    """
    slot_of = phase_ms // step_ms
    due: list[tuple[IntArray, IntArray]] = []
    for slot in range(interval_ms // step_ms):
        members = np.flatnonzero(slot_of == slot)
        members = members[np.argsort(phase_ms[members], kind="stable")]
        due.append((members.astype(np.int64), phase_ms[members] - slot * step_ms))
    return due


def ordinals(groups: IntArray) -> IntArray:
    """1-based position of each entity within its group (groups sorted), for readable ids."""
    out = np.ones(groups.size, dtype=np.int64)
    for i in range(1, groups.size):
        if groups[i] == groups[i - 1]:
            out[i] = out[i - 1] + 1
    return out


class Outages:
    """Down periods of a set of entities, as a pure function of time.

    Each hour, each entity starts an outage with a small probability, at a random minute, for
    a random (capped) length; the draws for an hour come from `(seed, name, stream, hour)`,
    so whether an entity is down at a moment does not depend on when the run started. Fixed
    intervals (a scenario's) are added to the random ones.
    """

    def __init__(
        self,
        *,
        key: tuple[int, int],
        stream: int,
        count: int,
        per_hour: float,
        mean: timedelta,
        longest: timedelta,
        fixed: Sequence[Interval] = (),
    ) -> None:
        """Describe the outages.

        Args:
            key: (seed, name hash) of the connector.
            stream: tells this process apart from the connector's other random processes.
            count: number of entities.
            per_hour: probability that an entity starts an outage in a given hour.
            mean: mean length of an outage (exponential).
            longest: cap on the length.
            fixed: intervals that always apply (from a scenario).
        """
        self._entropy = [*key, 0, stream]
        self._count = count
        self._per_hour = per_hour
        self._mean_ms = mean / _MS
        self._longest_ms = int(longest / _MS)
        self._cache: dict[int, tuple[IntArray, IntArray, IntArray]] = {}
        fixed = sorted(fixed)
        self._fixed = (
            np.array([f[0] for f in fixed], dtype=np.int64),
            np.array([f[1] for f in fixed], dtype=np.int64),
            np.array([f[2] for f in fixed], dtype=np.int64),
        )

    def _hour(self, hour: int) -> tuple[IntArray, IntArray, IntArray]:
        cached = self._cache.get(hour)
        if cached is None:
            rng = np.random.default_rng([*self._entropy, hour])
            hit = np.flatnonzero(rng.random(self._count) < self._per_hour).astype(np.int64)
            starts = hour * _HOUR_MS + (rng.random(hit.size) * _HOUR_MS).astype(np.int64)
            lengths = np.minimum(rng.exponential(self._mean_ms, hit.size), self._longest_ms)
            cached = (hit, starts, starts + 60_000 + lengths.astype(np.int64))
            self._cache[hour] = cached
            for old in [h for h in self._cache if h < hour - self._longest_ms // _HOUR_MS - 2]:
                del self._cache[old]
        return cached

    def overlapping(self, start_ms: int, end_ms: int) -> list[Interval]:
        """The down periods that overlap [start_ms, end_ms) or end at its start.

        Those ending right at the start are kept so that the recovery can be seen at that
        moment (`status_changes`).
        """
        first = (start_ms - self._longest_ms - 60_000) // _HOUR_MS
        last = (end_ms - 1) // _HOUR_MS
        parts = [self._hour(h) for h in range(first, last + 1)] if self._per_hour > 0 else []
        parts.append(self._fixed)
        entity = np.concatenate([p[0] for p in parts])
        begin = np.concatenate([p[1] for p in parts])
        end = np.concatenate([p[2] for p in parts])
        keep = (end >= start_ms) & (begin < end_ms)
        return list(
            zip(entity[keep].tolist(), begin[keep].tolist(), end[keep].tolist(), strict=True)
        )


def down_at(entities: IntArray, times_ms: IntArray, intervals: Sequence[Interval]) -> BoolArray:
    """Whether each (entity, time) pair falls in one of `intervals`."""
    down = np.zeros(entities.size, dtype=np.bool_)
    if not intervals:
        return down
    periods: dict[int, list[tuple[int, int]]] = {}
    for entity, begin, end in intervals:
        periods.setdefault(entity, []).append((begin, end))
    candidates = np.flatnonzero(np.isin(entities, list(periods)))
    for j, entity, at in zip(
        candidates.tolist(),
        entities[candidates].tolist(),
        times_ms[candidates].tolist(),
        strict=True,
    ):
        down[j] = any(begin <= at < end for begin, end in periods[entity])
    return down


def status_changes(
    intervals: Sequence[Interval], start_ms: int, end_ms: int
) -> list[tuple[int, int, bool]]:
    """The moments in [start_ms, end_ms) when an entity goes down or comes back.

    `intervals` must hold every interval that overlaps the span (`Outages.overlapping`).

    Returns:
        (time ms, entity, down after the change), in time order.
    """
    periods: dict[int, list[tuple[int, int]]] = {}
    for entity, begin, end in intervals:
        periods.setdefault(entity, []).append((begin, end))
    found: set[tuple[int, int, bool]] = set()
    for entity, spans in periods.items():
        for moment in {t for span in spans for t in span if start_ms <= t < end_ms}:
            before = any(begin < moment <= end for begin, end in spans)
            after = any(begin <= moment < end for begin, end in spans)
            if before != after:
                found.add((moment, entity, after))
    return sorted(found)


class Tick:
    """One step of event time: [start, end), its local time and its random generator."""

    __slots__ = ("_entropy", "_rng", "end", "end_ms", "index", "local", "start", "start_ms")

    def __init__(self, index: int, step_ms: int, key: tuple[int, int], tz: ZoneInfo) -> None:
        self.index = index
        self.start_ms = index * step_ms
        self.end_ms = self.start_ms + step_ms
        self.start = ms_to_datetime(self.start_ms)
        self.end = ms_to_datetime(self.end_ms)
        self.local = self.start.astimezone(tz)
        self._entropy = [*key, index]
        self._rng: np.random.Generator | None = None

    @property
    def rng(self) -> np.random.Generator:
        """The tick's generator, seeded by (seed, name hash, tick index); made on first use."""
        if self._rng is None:
            self._rng = np.random.default_rng(self._entropy)
        return self._rng

    def stream(self, number: int) -> np.random.Generator:
        """A second generator for this tick, independent of `rng` (for optional events)."""
        return np.random.default_rng([*self._entropy, number])


class SimulatedConnector(Connector):
    """Base of the simulated feeds: subclasses set `feed` and `step` and implement `tick`."""

    step: ClassVar[timedelta]
    """Length of a tick of event time; a whole number of milliseconds dividing a minute."""

    def __init__(self, context: ConnectorContext) -> None:
        """Check the context and prepare what every simulator needs.

        Raises:
            ConnectorError: the rate is not a positive number or no area is valid on the
                start day.
        """
        super().__init__(context)
        if not (math.isfinite(context.rate) and context.rate > 0):
            raise ConnectorError(f"rate must be a positive number, got {context.rate}")
        self.step_ms = int(self.step / _MS)
        self.tz = ZONE
        # SeedSequence wants non-negative entropy; wrapping keeps negative seeds distinct.
        # The events follow the feed and the seed, not the instance's name (`--as`): another
        # instance over a range already produced makes the same events, repeats the event
        # store recognises (e.g. a backfill while `ioc up` runs); `--seed` makes other ones.
        self.key = (context.seed % 2**64, stable_hash(f"{self.feed}-sim"))
        # Whole milliseconds: event times are built from ms, and an event stamped at the start
        # must not fall before it by the microseconds the clock had.
        self.started_at = ms_to_datetime(to_ms(context.clock.now()))
        self.start_day = self.local_day(self.started_at)
        self.leaves = context.areas.leaves(on=self.start_day)
        if not self.leaves:
            raise ConnectorError(
                f"no area of {context.areas.source} is valid on {self.start_day}: "
                "check the areas file's valid_from/valid_to"
            )
        self.codes = [a.code for a in self.leaves]
        tops = [
            a for a in context.areas.by_level("province", on=self.start_day) if a.parent is None
        ]
        self.province: Area | None = tops[0] if tops else None
        """The province on the start day (its point is the fallback for areas without one)."""
        self.entity_rng = np.random.default_rng(list(self.key))

    def local_day(self, at: datetime) -> date:
        """The local calendar day of an instant (the day the area file's dates refer to)."""
        return at.astimezone(self.tz).date()

    def scaled(self, count: float) -> int:
        """An entity count at this rate, never below one."""
        return max(1, round(count * self.context.rate))

    def incidents(self, kind: str) -> list[Incident]:
        """The scenario's incidents of one kind (none without a scenario)."""
        scenario = self.context.scenario
        return scenario.of_kind(kind) if scenario is not None else []

    def background(self, per_hour: float) -> float:
        """The chance per entity and hour of an everyday random fault: 0 if the scenario says so."""
        scenario = self.context.scenario
        return per_hour if scenario is None or scenario.background else 0.0

    def covered(self, incident: Incident) -> BoolArray:
        """Which leaf areas (in `self.leaves` order) an incident's area covers."""
        return np.array(
            [incident.covers(code, self.context.areas, self.start_day) for code in self.codes],
            dtype=np.bool_,
        )

    def scenario_intervals(self, kind: str, area_of: IntArray, draw: FloatArray) -> list[Interval]:
        """Down intervals that a scenario imposes on entities.

        An entity is hit by an incident when the incident covers its area and its fixed draw
        (uniform in [0, 1), one per entity) is below the intensity, so the same entities stay
        hit for the whole incident.
        """
        intervals: list[Interval] = []
        for incident in self.incidents(kind):
            hit = self.covered(incident)[area_of] & (draw < incident.intensity)
            begin, end = to_ms(incident.start), to_ms(incident.end)
            intervals.extend((int(e), begin, end) for e in np.flatnonzero(hit))
        return intervals

    def envelope(
        self, *, area: str, key: str, at_ms: int, payload: object, event_id: uuid.UUID
    ) -> Envelope:
        """Wrap a payload; `published_at` is left to now, the real time of publication."""
        return Envelope.create(
            source=self.context.name,
            area=area,
            key=key,
            occurred_at=ms_to_datetime(at_ms),
            payload=payload,
            event_id=event_id,
        )

    @abstractmethod
    def tick(self, tick: Tick) -> list[Envelope]:
        """The events of one tick, in time order; must depend only on the tick and the seed."""

    async def events(self) -> AsyncIterator[Item]:
        """Run tick after tick until the clock finishes (a live clock never does).

        The first tick starts on the grid at or before the clock's start and the last may end
        after the clock's end; events outside [start, end) are dropped, so a backfill yields
        exactly its window.

        A tick still to come in real time is made at its start, and its events are sent as their
        time comes (`RELEASE_GRAIN` late at most, plus the event loop's own delay), the way a
        camera or a payment gateway sends them, not bundled at the tick's end. A tick in the
        past (a backfill, or `ioc up`'s history) is made and sent at once.
        """
        clock = self.context.clock
        low = self.started_at
        index = to_ms(low) // self.step_ms
        while not clock.finished:
            tick = Tick(index, self.step_ms, self.key, self.tz)
            live = clock.ahead(tick.end)
            await clock.sleep_until(tick.start if live else tick.end)
            high = clock.end
            clip = tick.start < low or (high is not None and tick.end > high)
            due = tick.start
            for envelope in self.tick(tick):
                at = envelope.occurred_at
                if clip and (at < low or (high is not None and at >= high)):
                    continue
                if live:
                    if at >= due:  # wait for it, and send what falls in the grain after it
                        due = at + RELEASE_GRAIN
                        await clock.sleep_until(due)
                    envelope = envelope.model_copy(update={"published_at": utc_now()})
                yield envelope
            index += 1
