"""Simulated smart-surveillance cameras: heartbeats and AI detections.

Defaults at rate 1 (one province): 400 cameras, one in every commune and the rest by population, 75%
watching traffic and 25% public order, each placed inside its commune's bounding box (see
`_base.place`), so they land on the province's map wherever the province is.
Every camera sends a heartbeat every 60 s (and on every change of state); every online camera
reports once a minute:

- traffic cameras: a `vehicle_count` (about 25 vehicles a minute on an average road at midday,
  peaks at 07:00–08:30 and 16:30–18:30 local), `congestion` when the count passes the road's
  capacity, and `violation`s (red_light, wrong_lane, no_helmet, speeding) in proportion to
  traffic;
- public-order cameras: `crowding` when the people in view pass the site's threshold (mostly
  in the evening, more at weekends);
- any camera: a rare `fire_smoke` (about 3 a day in the province).

Cameras fail and recover at random (about 1% an hour start an outage, 45 min on average; none
under a scenario with `background: false`), so the online rate sits near 99%. That makes
about 1.0–1.1 million events a day (≈ 12/s): 576,000 heartbeats, 432,000 vehicle counts, the
rest detections. `rate` scales the number of cameras. A `cameras_dark` incident takes the
cameras of its area (or all) offline.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import ClassVar, Final

import numpy as np

from ioc.connectors.base import ConnectorContext
from ioc.connectors.simulated._base import (
    EventIds,
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
    status_changes,
)
from ioc.events import CameraDetection, CameraHeartbeat, DetectionKind, Envelope

__all__ = ["CameraSimulator"]

_CAMERAS: Final = 400
_TRAFFIC_SHARE: Final = 0.75
_INTERVAL_MS: Final = 60_000
_VIOLATIONS: Final = ("red_light", "wrong_lane", "no_helmet", "speeding")
# Violations per passing vehicle, by type.
_VIOLATION_RATES: Final = np.array([0.0006, 0.0004, 0.0008, 0.0004])
_FIRE_PER_CAMERA_MINUTE: Final = 3 / (_CAMERAS * 1440)
# Id slots per camera and interval: heartbeat, count, congestion, 4 violations, crowding, fire.
_SLOTS: Final = 9
_COUNT: Final = DetectionKind.VEHICLE_COUNT
_CONGESTION: Final = DetectionKind.CONGESTION
_VIOLATION: Final = DetectionKind.VIOLATION
_CROWDING: Final = DetectionKind.CROWDING
_FIRE: Final = DetectionKind.FIRE_SMOKE

# Traffic relative to an average midday hour, per local hour.
_TRAFFIC = WeeklyProfile(
    weekday=[0.15, 0.1, 0.08, 0.08, 0.15, 0.5, 1.2, 2.2, 2.0, 1.3, 1.1, 1.15,
             1.2, 1.05, 1.05, 1.2, 1.6, 2.2, 1.9, 1.3, 1.0, 0.8, 0.5, 0.3],
    saturday=[0.2, 0.12, 0.1, 0.1, 0.15, 0.35, 0.7, 1.1, 1.3, 1.3, 1.3, 1.25,
              1.2, 1.1, 1.1, 1.2, 1.4, 1.5, 1.4, 1.2, 1.0, 0.85, 0.6, 0.35],
    sunday=[0.25, 0.15, 0.1, 0.1, 0.12, 0.25, 0.5, 0.9, 1.1, 1.2, 1.2, 1.1,
            1.0, 1.0, 1.0, 1.1, 1.3, 1.4, 1.3, 1.1, 0.9, 0.7, 0.5, 0.3],
)  # fmt: skip
# People in view of a public-order camera relative to its usual daytime crowd.
_CROWD = WeeklyProfile(
    weekday=[0.1, 0.05, 0.05, 0.05, 0.1, 0.4, 0.6, 0.7, 0.6, 0.6, 0.7, 0.8,
             0.7, 0.6, 0.6, 0.7, 0.9, 1.1, 1.5, 1.9, 2.0, 1.6, 0.9, 0.3],
    saturday=[0.2, 0.1, 0.05, 0.05, 0.1, 0.4, 0.7, 0.9, 1.0, 1.1, 1.2, 1.2,
              1.1, 1.0, 1.0, 1.2, 1.4, 1.7, 2.2, 2.6, 2.7, 2.2, 1.4, 0.6],
    sunday=[0.3, 0.15, 0.05, 0.05, 0.1, 0.4, 0.8, 1.0, 1.1, 1.2, 1.2, 1.2,
            1.1, 1.0, 1.0, 1.2, 1.4, 1.7, 2.1, 2.4, 2.4, 1.9, 1.1, 0.4],
)  # fmt: skip


class CameraSimulator(SimulatedConnector):
    """Simulated smart cameras: heartbeats, vehicle counts, congestion, violations, crowds.

    About 400 cameras at rate 1 (≈ 12 events/s); see the module docstring for the volumes.
    Heartbeats and detections are keyed by camera id, so each camera's events stay in order.
    """

    feed = "camera"
    step: ClassVar[timedelta] = timedelta(seconds=5)

    def __init__(self, context: ConnectorContext) -> None:
        """Place the cameras (from the seed and the areas valid on the start day)."""
        super().__init__(context)
        rng = self.entity_rng
        count = self.scaled(_CAMERAS)
        # Every commune gets a camera first when there are enough (the province-wide camera
        # programmes cover every commune seat), the rest by population.
        self._area = spread(rng, count, leaf_weights(self.leaves, "population"), one_each=True)
        self._traffic = rng.random(count) < _TRAFFIC_SHARE
        phase = rng.integers(0, _INTERVAL_MS, count)
        # Vehicles a minute at the curve's 1.0 (traffic) or people in view (public order).
        self._base = np.where(
            self._traffic,
            rng.lognormal(math.log(25), 0.6, count),
            rng.lognormal(math.log(20), 0.5, count),
        )
        self._threshold = self._base * np.where(
            self._traffic, rng.uniform(2.4, 3.2, count), rng.uniform(2.6, 3.4, count)
        )
        self._lat, self._lon = place(rng, self.leaves, self._area, self.province)
        dark_draw = rng.random(count)
        numbers = ordinals(self._area).tolist()
        self._ids = [
            f"CAM-{self.codes[a]}-{n:03d}"
            for a, n in zip(self._area.tolist(), numbers, strict=True)
        ]
        self._area_code = [self.codes[a] for a in self._area.tolist()]

        self._due = schedule(phase, _INTERVAL_MS, self.step_ms)

        self._outages = Outages(
            key=self.key,
            stream=1,
            count=count,
            per_hour=self.background(0.01),
            mean=timedelta(minutes=45),
            longest=timedelta(hours=6),
            fixed=self.scenario_intervals("cameras_dark", self._area, dark_draw),
        )

    def tick(self, tick: Tick) -> list[Envelope]:
        """Heartbeats and detections of the cameras whose minute comes round in this tick."""
        cams, offsets = self._due[(tick.start_ms % _INTERVAL_MS) // self.step_ms]
        times = tick.start_ms + offsets
        size = cams.size
        rng = tick.rng
        ids = EventIds(rng, size * _SLOTS)
        # Every draw is made for every camera due, online or not, so a scenario that darkens
        # some cameras leaves the others' events unchanged.
        factor = np.where(
            self._traffic[cams], _TRAFFIC.at(tick.local), _CROWD.at(tick.local)
        ) * rng.lognormal(0.0, 0.2, size)
        counts = rng.poisson(self._base[cams] * factor)
        violations = rng.poisson(counts[:, None] * _VIOLATION_RATES[None, :])
        confidence = np.round(rng.uniform(0.7, 0.99, (size, _SLOTS)), 2)
        fire = rng.random(size) < _FIRE_PER_CAMERA_MINUTE

        intervals = self._outages.overlapping(tick.start_ms, tick.end_ms)
        down = down_at(cams, times, intervals).tolist()
        out: list[tuple[int, int, Envelope]] = []
        for j, (cam, at, n, v, c, f) in enumerate(
            zip(
                cams.tolist(),
                times.tolist(),
                counts.tolist(),
                violations.tolist(),
                confidence.tolist(),
                fire.tolist(),
                strict=True,
            )
        ):
            payloads: list[tuple[int, CameraHeartbeat | CameraDetection]] = [
                (0, self._heartbeat(cam, online=not down[j]))
            ]
            if not down[j]:
                payloads.extend(self._detections(cam, n, v, c, f))
            for slot, payload in payloads:
                envelope = self.envelope(
                    area=self._area_code[cam],
                    key=self._ids[cam],
                    at_ms=at,
                    event_id=ids(j * _SLOTS + slot),
                    payload=payload,
                )
                out.append((at, j * _SLOTS + slot, envelope))
        # A change of state gets its own heartbeat at the moment it happens.
        changes = status_changes(intervals, tick.start_ms, tick.end_ms)
        if changes:
            extra = EventIds(tick.stream(1), len(changes))
            for n, (at, cam, is_down) in enumerate(changes):
                envelope = self.envelope(
                    area=self._area_code[cam],
                    key=self._ids[cam],
                    at_ms=at,
                    event_id=extra(n),
                    payload=self._heartbeat(cam, online=not is_down),
                )
                out.append((at, -1, envelope))
        out.sort(key=lambda item: (item[0], item[1]))
        return [envelope for _, _, envelope in out]

    def _heartbeat(self, cam: int, *, online: bool) -> CameraHeartbeat:
        return CameraHeartbeat(
            camera_id=self._ids[cam], online=online, lat=self._lat[cam], lon=self._lon[cam]
        )

    def _detections(
        self, cam: int, count: int, violations: list[int], confidence: list[float], fire: bool
    ) -> list[tuple[int, CameraDetection]]:
        """What an online camera reports for its minute, each with its event-id slot."""
        found: list[tuple[int, DetectionKind, int, float, str | None]] = []
        threshold = float(self._threshold[cam])
        if self._traffic[cam]:
            found.append((1, _COUNT, count, 1.0, None))
            if count > threshold:
                certainty = round(min(0.99, 0.6 + 0.8 * (count / threshold - 1)), 2)
                found.append((2, _CONGESTION, count, certainty, None))
            found.extend(
                (3 + v, _VIOLATION, number, confidence[3 + v], _VIOLATIONS[v])
                for v, number in enumerate(violations)
                if number
            )
        elif count > threshold:
            found.append((7, _CROWDING, count, confidence[7], None))
        if fire:
            found.append((8, _FIRE, 1, confidence[8], None))
        return [
            (
                slot,
                CameraDetection(
                    camera_id=self._ids[cam],
                    detection=kind,
                    count=number,
                    confidence=certainty,
                    violation_type=violation,
                ),
            )
            for slot, kind, number, certainty, violation in found
        ]
