"""Entity status as the API, CLI, board and alerts read it, on both database tiers.

Real events (cameras, special-network and cell-site points, a DVC offering) go through the
stream workers' sink, which keeps ``entity_status``; ``ioc.entities`` then lists, filters,
counts and pages them, judging down / silent / up at a fixed reference time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from ioc.areas import load_areas
from ioc.db import sync_areas
from ioc.entities import (
    EntityFilter,
    InvalidCursor,
    count_states,
    down_at,
    entity_kind_of,
    list_entities,
)
from ioc.events import (
    CameraHeartbeat,
    DvcService,
    Envelope,
    NetworkPointKind,
    NetworkSample,
    ServiceLevel,
)
from ioc.kpis import load_kpis
from ioc.streams.sink import to_counted, write_batch
from tests._tiers import tier_connection


@pytest.fixture
async def conn(tier: tuple[str, str]) -> AsyncIterator[asyncpg.Connection]:
    """A migrated, empty database on each tier."""
    async with tier_connection(tier) as connection:
        yield connection


AT = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 in Hưng Yên
MINUTE = timedelta(minutes=1)
PHO_HIEN, SON_NAM, HONG_CHAU = "11953", "11983", "11980"


def _camera(camera: str, area: str, minutes_ago: int, online: bool) -> Envelope:
    return Envelope.create(
        source="camera-sim",
        area=area,
        key=camera,
        occurred_at=AT - minutes_ago * MINUTE,
        payload=CameraHeartbeat(camera_id=camera, online=online),
    )


def _point(point: str, kind: NetworkPointKind, area: str, minutes_ago: int, up: bool) -> Envelope:
    return Envelope.create(
        source="network-sim",
        area=area,
        key=point,
        occurred_at=AT - minutes_ago * MINUTE,
        payload=NetworkSample(point_id=point, point_kind=kind, up=up),
    )


def _service(area: str, minutes_ago: int, level: ServiceLevel) -> Envelope:
    return Envelope.create(
        source="dvc-sim",
        area=area,
        occurred_at=AT - minutes_ago * MINUTE,
        payload=DvcService(
            procedure_code="1.001",
            procedure_name="Đăng ký khai sinh",
            agency_code="UBND-11980",
            service_level=level,
            eligible_full=True,
        ),
    )


SPECIAL, CELL = NetworkPointKind.SPECIAL_NETWORK, NetworkPointKind.CELL_SITE
EVENTS = [
    # cam-1: up, then offline 20 minutes ago, still reporting offline.
    _camera("cam-1", PHO_HIEN, 30, True),
    _camera("cam-1", PHO_HIEN, 20, False),
    _camera("cam-1", PHO_HIEN, 1, False),
    # cam-2: online and reporting.
    _camera("cam-2", PHO_HIEN, 50, True),
    _camera("cam-2", PHO_HIEN, 2, True),
    # cam-3: online when last heard, 30 minutes ago: silent.
    _camera("cam-3", SON_NAM, 30, True),
    # TSL-11953-1: down for 40 minutes; TSL-11983-1 up.
    _point("TSL-11953-1", SPECIAL, PHO_HIEN, 60, True),
    _point("TSL-11953-1", SPECIAL, PHO_HIEN, 40, False),
    _point("TSL-11953-1", SPECIAL, PHO_HIEN, 1, False),
    _point("TSL-11983-1", SPECIAL, SON_NAM, 45, True),
    _point("TSL-11983-1", SPECIAL, SON_NAM, 1, True),
    # BTS-11953-1: a cell site down for 5 minutes.
    _point("BTS-11953-1", CELL, PHO_HIEN, 5, False),
    # A procedure no longer offered online since three hours.
    _service(HONG_CHAU, 180, ServiceLevel.NONE),
]


@pytest.fixture
async def db(conn: asyncpg.Connection) -> asyncpg.Connection:
    """Areas and the events above, written by the workers' sink in two batches."""
    await sync_areas(conn, load_areas())
    counted = [to_counted(e, MINUTE, f"ioc.events.{e.event_type.split('.')[0]}", 0) for e in EVENTS]
    await write_batch(conn, "g", counted[:6], {})
    await write_batch(conn, "g", counted[6:], {})
    return conn


def _names(page: object) -> list[str]:
    return [e.entity for e in page.items]  # type: ignore[attr-defined]


async def test_down_first_then_silent_then_up_each_by_since(db: asyncpg.Connection) -> None:
    page = await list_entities(db, EntityFilter(), at=AT)
    states = {e.entity: e.state for e in page.items}
    assert _names(page) == [
        "UBND-11980/1.001",  # down 3 h
        "TSL-11953-1",  # down 40 min
        "cam-1",  # down 20 min
        "BTS-11953-1",  # down 5 min
        "cam-3",  # silent (up, last seen 30 min ago)
        "cam-2",  # up since 50 min
        "TSL-11983-1",  # up since 45 min
    ], states
    cam1 = page.items[2]
    assert (cam1.feed, cam1.kind, cam1.area, cam1.up) == ("camera", "camera", PHO_HIEN, False)
    assert (cam1.since, cam1.last_seen) == (AT - 20 * MINUTE, AT - MINUTE)
    assert page.counts == {"down": 4, "silent": 1, "up": 2, "total": 7}
    assert page.next_cursor is None


async def test_filters_narrow_and_counts_ignore_only_the_state(db: asyncpg.Connection) -> None:
    async def names(**kw: object) -> list[str]:
        return _names(await list_entities(db, EntityFilter(**kw), at=AT))  # type: ignore[arg-type]

    assert await names(feed="network", state="down") == ["TSL-11953-1", "BTS-11953-1"]
    assert await names(kind="special_network") == ["TSL-11953-1", "TSL-11983-1"]
    assert await names(state="silent") == ["cam-3"]
    assert await names(state="up", feed="camera") == ["cam-2"]
    # An area is itself and anything under it: the province holds every ward.
    assert await names(area=PHO_HIEN) == ["TSL-11953-1", "cam-1", "BTS-11953-1", "cam-2"]
    assert len(await names(area="33")) == 7
    assert await names(area=SON_NAM, state="down") == []
    # A key's scope limits whatever else is asked.
    assert await names(scope=frozenset({SON_NAM})) == ["cam-3", "TSL-11983-1"]
    assert await names(scope=frozenset({SON_NAM}), area=PHO_HIEN) == []
    page = await list_entities(db, EntityFilter(area=PHO_HIEN, state="down"), at=AT)
    assert page.counts == {"down": 3, "silent": 0, "up": 1, "total": 4}


async def test_the_silent_threshold_is_a_parameter(db: asyncpg.Connection) -> None:
    hour = EntityFilter(feed="camera", silent_after=timedelta(hours=1))
    assert await count_states(db, hour, AT) == {"down": 1, "silent": 0, "up": 2, "total": 3}
    minute = EntityFilter(feed="camera", silent_after=timedelta(seconds=90))
    # cam-2 last reported 2 minutes ago: silent at a 90 s threshold; a down camera stays down.
    assert await count_states(db, minute, AT) == {"down": 1, "silent": 2, "up": 0, "total": 3}


async def test_pages_walk_every_entity_once_at_one_moment(db: asyncpg.Connection) -> None:
    seen: list[str] = []
    page = await list_entities(db, EntityFilter(), limit=2, at=AT)
    pages = 1
    while True:
        seen += _names(page)
        if page.next_cursor is None:
            break
        # Later pages are judged at the first page's moment, not at the clock's.
        page = await list_entities(db, EntityFilter(), limit=2, cursor=page.next_cursor)
        assert page.at == AT
        pages += 1
    assert pages == 4 and len(seen) == len(set(seen)) == 7
    assert seen == _names(await list_entities(db, EntityFilter(), at=AT))
    for bad in ("nonsense", "eyJ4IjoxfQ", ""):
        with pytest.raises(InvalidCursor):
            await list_entities(db, EntityFilter(), cursor=bad)


async def test_points_at_fault_of_an_availability_kpi(db: asyncpg.Connection) -> None:
    catalogue = load_kpis()
    special = catalogue.get("network_special_availability")
    cameras = catalogue.get("camera_online_rate")
    assert entity_kind_of(special) == ("network", "special_network")
    assert entity_kind_of(cameras) == ("camera", "camera")
    assert entity_kind_of(catalogue.get("payment_success_rate")) is None
    assert await down_at(db, catalogue.get("payment_success_rate"), "33", AT) == ([], 0)

    down, total = await down_at(db, special, "33", AT)
    assert ([e.entity for e in down], total) == (["TSL-11953-1"], 1)
    point = down[0]
    assert (point.feed, point.kind, point.area) == ("network", "special_network", PHO_HIEN)
    assert (point.since, point.last_seen) == (AT - 40 * MINUTE, AT - MINUTE)
    down, total = await down_at(db, cameras, PHO_HIEN, AT)
    assert ([e.entity for e in down], total) == (["cam-1"], 1)
    assert down[0].since == AT - 20 * MINUTE
    assert await down_at(db, special, SON_NAM, AT) == ([], 0)
    # As things stood earlier, read from the store: before cam-1 went down it was not at
    # fault, and at 30 minutes ago TSL-11953-1 was already down (since 40 minutes ago).
    assert await down_at(db, cameras, PHO_HIEN, AT - 25 * MINUTE) == ([], 0)
    down, _ = await down_at(db, special, PHO_HIEN, AT - 30 * MINUTE)
    assert [(e.entity, e.since, e.last_seen) for e in down] == [
        ("TSL-11953-1", AT - 40 * MINUTE, AT - 40 * MINUTE)
    ]
    # A point down since before the period read is down "at least since" its start.
    down, _ = await down_at(db, special, PHO_HIEN, AT, lookback=timedelta(minutes=30))
    assert [(e.entity, e.since) for e in down] == [("TSL-11953-1", AT - MINUTE)]
