"""Car-park occupancy cameras: one vehicle count per car park per minute."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from ioc.connectors import Connector, Item
from ioc.events import CameraDetection, DetectionKind, Envelope

CAR_PARKS = {"P-PHO-HIEN": "11953", "P-ECOPARK": "12052"}


class ParkingCameras(Connector):
    """Car-park cameras: vehicles counted per minute in two public car parks."""

    feed = "camera"

    async def events(self) -> AsyncIterator[Item]:
        clock = self.context.clock
        minute = 0
        while not clock.finished:
            for n, (camera, area) in enumerate(CAR_PARKS.items()):
                yield Envelope.create(
                    source=self.context.name,
                    area=area,
                    key=camera,
                    occurred_at=clock.now(),
                    payload=CameraDetection(
                        camera_id=camera,
                        detection=DetectionKind.VEHICLE_COUNT,
                        count=(minute * 7 + n * 13) % 40,
                    ),
                )
            minute += 1
            await clock.sleep(timedelta(minutes=1))
