"""Test support: a database where the stream workers' sink has recorded real entity states.

Thirty minutes of camera heartbeats and special-network samples ending now, written through
``ioc.streams.sink`` (windows, events and ``entity_status`` in one transaction, as a worker
does) and evaluated minute by minute by the shipped evaluator, as ``ioc up`` would: the four
special-network points of Phường Phố Hiến go down for the last 12 minutes, so the shipped rule
``network_special_down`` fires for the ward and the province and names them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from ioc.areas import load_areas
from ioc.config import Settings
from ioc.db import migrate, sync_areas
from ioc.events import CameraHeartbeat, Envelope, NetworkPointKind, NetworkSample
from ioc.kpis.values import keep_current
from ioc.services import build_evaluator
from ioc.streams.sink import to_counted, write_batch

__all__ = ["CAMERA_DOWN", "CAMERA_SILENT", "OTHER_WARD", "POINTS", "WARD", "seed_entities"]

WARD = "11953"  # Phường Phố Hiến
OTHER_WARD = "11983"  # Phường Sơn Nam
MINUTE = timedelta(minutes=1)
POINTS = {area: [f"TSL-{area}-{n}" for n in range(1, 5)] for area in (WARD, OTHER_WARD)}
CAMERA_DOWN = "CAM-11953-07"  # offline for the last 20 minutes
CAMERA_SILENT = "CAM-11983-02"  # online when last heard, 25 minutes ago
CAMERA_UP = "CAM-11983-01"
DOWN_MINUTES = 12


def _envelopes(start: datetime, i: int, minutes: int) -> list[Envelope]:
    out = []
    for area, points in POINTS.items():
        for n, point in enumerate(points):
            # The ward's points fail a few seconds apart: a stable order, longest down first.
            at = start + timedelta(seconds=n * 5)
            up = not (area == WARD and i > minutes - DOWN_MINUTES)
            out.append(
                Envelope.create(
                    source="network-sim",
                    area=area,
                    key=point,
                    occurred_at=at,
                    payload=NetworkSample(
                        point_id=point, point_kind=NetworkPointKind.SPECIAL_NETWORK, up=up
                    ),
                )
            )
    cameras = [(CAMERA_DOWN, WARD, i <= minutes - 20), (CAMERA_UP, OTHER_WARD, True)]
    if i <= minutes - 25:
        cameras.append((CAMERA_SILENT, OTHER_WARD, True))
    for camera, area, online in cameras:
        out.append(
            Envelope.create(
                source="camera-sim",
                area=area,
                key=camera,
                occurred_at=start + timedelta(seconds=30),
                payload=CameraHeartbeat(camera_id=camera, online=online),
            )
        )
    return out


async def seed_entities(
    conn: asyncpg.Connection, settings: Settings, minutes: int = 30
) -> datetime:
    """Migrate, write `minutes` + 1 minutes of events ending now, evaluate; returns the minute."""
    await migrate(conn)
    await sync_areas(conn, load_areas())
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    first = now - minutes * MINUTE
    evaluator = build_evaluator(settings)
    for i in range(minutes + 1):
        start = first + i * MINUTE
        counted = [
            to_counted(e, MINUTE, f"ioc.events.{e.event_type.split('.')[0]}", 0)
            for e in _envelopes(start, i, minutes)
        ]
        await write_batch(conn, "seed", counted, {})
        if i:
            await evaluator.run_once(conn, start + timedelta(seconds=16))
    await keep_current(conn, evaluator.catalogue)
    return now
