"""The simulated feeds: valid, reproducible, province-sized, shaped like a day, and scenarios."""

import math
import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ioc.areas import AreaRegistry, load_areas
from ioc.codec import decode, encode
from ioc.config import load_settings
from ioc.connectors.base import ConnectorContext, ConnectorError, VirtualClock
from ioc.connectors.scenarios import Scenario, load_scenario
from ioc.connectors.simulated import (
    CameraSimulator,
    DvcSimulator,
    NetworkSimulator,
    PaymentSimulator,
)
from ioc.connectors.simulated._base import SimulatedConnector
from ioc.events import Envelope

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Three-tier shape: the communes of the former Hưng Yên and Thái Bình (merged on 1/7/2025).
MONDAY = datetime(2024, 3, 4, tzinfo=TZ)
AREAS = load_areas()
FEEDS: list[type[SimulatedConnector]] = [
    CameraSimulator,
    DvcSimulator,
    PaymentSimulator,
    NetworkSimulator,
]
_runs: dict[tuple[Any, ...], tuple[AreaRegistry, list[Envelope]]] = {}


def make(
    cls: type[SimulatedConnector],
    start: datetime,
    duration: timedelta,
    *,
    seed: int = 7,
    rate: float = 1.0,
    scenario: Scenario | str | None = None,
    areas: AreaRegistry = AREAS,
    name: str | None = None,
) -> SimulatedConnector:
    if isinstance(scenario, str):
        scenario = load_scenario(scenario, now=start, areas=areas)
    context = ConnectorContext(
        name=name or f"{cls.feed}-sim",
        settings=load_settings(),
        areas=areas,
        clock=VirtualClock(start, start + duration),
        seed=seed,
        rate=rate,
        scenario=scenario,
    )
    return cls(context)


async def run(
    cls: type[SimulatedConnector],
    start: datetime,
    duration: timedelta,
    *,
    seed: int = 7,
    rate: float = 1.0,
    scenario: str | None = None,
    areas: AreaRegistry = AREAS,
) -> list[Envelope]:
    """Drain a backfill; identical runs are shared between tests (they are deterministic)."""
    # The registry is kept with its run: an id is only unique while its object lives, and a
    # freed registry's id is reused by the next one (another province's run came back).
    key = (cls, start, duration, seed, rate, scenario, id(areas))
    if key not in _runs:
        connector = make(cls, start, duration, seed=seed, rate=rate, scenario=scenario, areas=areas)
        out: list[Envelope] = []
        async for item in connector.events():
            assert isinstance(item, Envelope)
            out.append(item)
        _runs[key] = (areas, out)
    return _runs[key][1]


def dump(envelope: Envelope) -> dict[str, Any]:
    """Everything but the publication time, which is when it really ran."""
    return envelope.model_dump(exclude={"published_at"})


def local(envelope: Envelope) -> datetime:
    return envelope.occurred_at.astimezone(TZ)


def of(events: list[Envelope], event_type: str) -> list[Any]:
    return [e for e in events if e.event_type == event_type]


# --- every feed ---------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", FEEDS)
async def test_envelopes_are_valid_in_order_in_the_window_and_round_trip(
    cls: type[SimulatedConnector],
) -> None:
    start = MONDAY + timedelta(hours=9, seconds=2.5)  # off the tick grid on purpose
    end = start + timedelta(minutes=30, seconds=1)
    events = await run(cls, start, end - start, rate=0.2)
    assert events
    day = start.date()
    times = [e.occurred_at for e in events]
    assert times == sorted(times)
    assert start <= times[0] and times[-1] < end
    for envelope in events:
        assert envelope.feed == cls.feed
        assert envelope.source == f"{cls.feed}-sim"
        assert AREAS.get(envelope.area, on=day)
        assert decode(encode(envelope)) == envelope
    assert len({e.event_id for e in events}) == len(events)


@pytest.mark.parametrize("cls", FEEDS)
async def test_same_seed_same_events_other_seed_other_events(
    cls: type[SimulatedConnector],
) -> None:
    start, length = MONDAY + timedelta(hours=10), timedelta(minutes=20)
    first = await run(cls, start, length, rate=0.1)
    # A fresh connector, not the shared run, so nothing is reused but the seed.
    connector = make(cls, start, length, rate=0.1)
    again = [item async for item in connector.events() if isinstance(item, Envelope)]
    other = await run(cls, start, length, rate=0.1, seed=8)
    assert [dump(e) for e in again] == [dump(e) for e in first]
    assert [dump(e) for e in other] != [dump(e) for e in first]
    assert {e.event_id for e in other}.isdisjoint({e.event_id for e in first})


@pytest.mark.parametrize("cls", FEEDS)
async def test_another_instance_name_makes_the_same_events(
    cls: type[SimulatedConnector],
) -> None:
    """`ioc connectors backfill … --as other` over a range `ioc up` produced: real repeats."""
    start, length = MONDAY + timedelta(hours=10), timedelta(minutes=20)
    first = await run(cls, start, length, rate=0.1)
    connector = make(cls, start, length, rate=0.1, name=f"{cls.feed}-backfill")
    again = [item async for item in connector.events() if isinstance(item, Envelope)]
    assert [(e.event_id, e.occurred_at, e.payload) for e in again] == [
        (e.event_id, e.occurred_at, e.payload) for e in first
    ]
    assert {e.source for e in again} == {f"{cls.feed}-backfill"}


@pytest.mark.parametrize("cls", [CameraSimulator, PaymentSimulator, NetworkSimulator])
async def test_a_tick_does_not_depend_on_when_the_run_started(
    cls: type[SimulatedConnector],
) -> None:
    t0 = MONDAY + timedelta(hours=7)
    long = await run(cls, t0, timedelta(hours=1), rate=0.1)
    short = await run(cls, t0 + timedelta(minutes=30), timedelta(minutes=30), rate=0.1)
    daily = {"network.subscriptions"}  # also sent at startup, by design
    overlap = [dump(e) for e in long if e.occurred_at >= t0 + timedelta(minutes=30)]
    assert overlap == [dump(e) for e in short if e.event_type not in daily]
    assert len(overlap) > 100


async def test_dvc_runs_agree_on_every_dossier_received_after_both_started() -> None:
    t0 = MONDAY + timedelta(hours=8)
    later = t0 + timedelta(hours=1)
    long = await run(DvcSimulator, t0, timedelta(hours=3), rate=0.3)
    short = await run(DvcSimulator, later, timedelta(hours=2), rate=0.3)
    long_dossiers = {(e.event_id, e.occurred_at) for e in long if e.event_type != "dvc.service"}
    short_dossiers = [e for e in short if e.event_type != "dvc.service"]
    assert short_dossiers
    # The short run lacks the dossiers received before it started, and nothing else.
    assert {(e.event_id, e.occurred_at) for e in short_dossiers} <= long_dossiers
    received = [
        dump(e)
        for e in long
        if e.occurred_at >= later
        and e.event_type == "dvc.dossier"
        and e.payload.stage == "received"
    ]
    assert received == [
        dump(e)
        for e in short_dossiers
        if e.event_type == "dvc.dossier" and e.payload.stage == "received"
    ]


async def test_tiny_and_large_rates_work() -> None:
    noon = MONDAY + timedelta(hours=10)
    for cls in FEEDS:
        tiny = await run(cls, noon, timedelta(minutes=10), rate=0.01)
        assert tiny, cls
    cameras = await run(CameraSimulator, noon, timedelta(minutes=1), rate=10)
    assert len({e.payload.camera_id for e in of(cameras, "camera.heartbeat")}) == 4000


@pytest.mark.parametrize("rate", [0.0, -1.0, math.nan, math.inf])
def test_a_rate_must_be_a_positive_number(rate: float) -> None:
    with pytest.raises(ConnectorError, match="rate"):
        make(PaymentSimulator, MONDAY, timedelta(hours=1), rate=rate)


async def test_rate_multiplies_the_volume() -> None:
    evening = MONDAY + timedelta(hours=19)
    one = await run(PaymentSimulator, evening, timedelta(minutes=30), rate=1)
    two = await run(PaymentSimulator, evening, timedelta(minutes=30), rate=2)
    assert 1.85 < len(two) / len(one) < 2.15
    for cls in (CameraSimulator, NetworkSimulator):
        # The daily per-commune subscriptions snapshot does not scale with the rate (one per
        # commune, 381 of them in 2024), so only the per-entity events are compared.
        small = [
            e
            for e in await run(cls, evening, timedelta(minutes=2), rate=0.25)
            if e.event_type != "network.subscriptions"
        ]
        double = [
            e
            for e in await run(cls, evening, timedelta(minutes=2), rate=0.5)
            if e.event_type != "network.subscriptions"
        ]
        assert 1.8 < len(double) / len(small) < 2.2, cls


async def test_every_feed_accepts_an_areas_file_without_figures(tmp_path: Path) -> None:
    path = tmp_path / "areas.yaml"
    path.write_text(
        'province: {code: "99", name_vi: "Tỉnh Thử"}\n'
        "areas:\n"
        '  - {code: "99", name_vi: "Tỉnh Thử", level: province}\n'
        '  - {code: "99001", name_vi: "Xã Một", level: commune, parent: "99",'
        " population: 12000, households: 3600}\n"
        '  - {code: "99002", name_vi: "Phường Hai", level: commune, parent: "99"}\n',
        encoding="utf-8",
    )
    areas = load_areas(path)
    for cls in FEEDS:
        events = await run(cls, MONDAY + timedelta(hours=9), timedelta(minutes=5), areas=areas)
        assert events and {e.area for e in events} <= {"99", "99001", "99002"}, cls
    subscriptions = of(
        await run(NetworkSimulator, MONDAY + timedelta(hours=9), timedelta(minutes=5), areas=areas),
        "network.subscriptions",
    )
    by_area = {e.area: e.payload for e in subscriptions}
    assert by_area["99001"].households == 3600 and by_area["99001"].population == 12000
    assert by_area["99002"].households == 3600  # the average of the others


# --- camera -------------------------------------------------------------------------------------
async def test_cameras_at_rate_one() -> None:
    events = await run(CameraSimulator, MONDAY + timedelta(hours=12), timedelta(minutes=10))
    heartbeats = of(events, "camera.heartbeat")
    cameras = {e.payload.camera_id: e for e in heartbeats}
    assert len(cameras) == 400
    per_camera = Counter(e.payload.camera_id for e in heartbeats)
    assert min(per_camera.values()) >= 10  # one a minute, more on a change
    counts = [e for e in of(events, "camera.detection") if e.payload.detection == "vehicle_count"]
    traffic = {e.payload.camera_id for e in counts}
    assert 0.7 < len(traffic) / 400 < 0.8
    for e in cameras.values():
        # Inside the bounding box of the camera's commune (from the national data).
        west, south, east, north = AREAS.get(e.area, on=MONDAY.date()).bounds
        assert south <= e.payload.lat <= north and west <= e.payload.lon <= east
        assert e.key == e.payload.camera_id
    online = sum(e.payload.online for e in heartbeats) / len(heartbeats)
    assert 0.97 < online <= 1.0
    # Volume per day, estimated from these ten minutes: about a million camera events.
    assert 0.8e6 < len(events) * 144 < 1.3e6


async def test_traffic_peaks_in_the_rush_hour() -> None:
    rush = await run(
        CameraSimulator, MONDAY + timedelta(hours=7, minutes=30), timedelta(minutes=15), rate=0.25
    )
    night = await run(
        CameraSimulator, MONDAY + timedelta(hours=2), timedelta(minutes=15), rate=0.25
    )

    def detections(events: list[Envelope], kind: str) -> list[Any]:
        return [e.payload for e in of(events, "camera.detection") if e.payload.detection == kind]

    rush_counts = statistics.mean(p.count for p in detections(rush, "vehicle_count"))
    night_counts = statistics.mean(p.count for p in detections(night, "vehicle_count"))
    assert rush_counts > 5 * night_counts
    assert detections(rush, "congestion") and not detections(night, "congestion")
    violations = detections(rush, "violation")
    assert {p.violation_type for p in violations} == {
        "red_light",
        "wrong_lane",
        "no_helmet",
        "speeding",
    }


async def test_crowds_gather_on_weekend_evenings() -> None:
    saturday_evening = MONDAY + timedelta(days=5, hours=19, minutes=30)
    events = await run(CameraSimulator, saturday_evening, timedelta(minutes=20), rate=0.25)
    crowding = [e for e in of(events, "camera.detection") if e.payload.detection == "crowding"]
    assert crowding
    morning = await run(
        CameraSimulator, MONDAY + timedelta(hours=9), timedelta(minutes=20), rate=0.25
    )
    assert not [e for e in of(morning, "camera.detection") if e.payload.detection == "crowding"]


async def test_cameras_dark_takes_the_area_offline_and_nothing_else() -> None:
    start, length = MONDAY + timedelta(hours=10), timedelta(minutes=40)
    begin, end = start + timedelta(minutes=10), start + timedelta(minutes=30)
    spec = "cameras_dark:area=328,start=+10m,duration=20m"  # TX Mỹ Hào and its communes
    base = await run(CameraSimulator, start, length, rate=0.3)
    dark = await run(CameraSimulator, start, length, rate=0.3, scenario=spec)
    communes = {a.code for a in AREAS.children("328", on=start.date())}
    hit = {e.payload.camera_id for e in dark if e.area in communes}
    assert hit
    assert [dump(e) for e in dark if e.area not in communes] == [
        dump(e) for e in base if e.area not in communes
    ]
    inside = [e for e in dark if e.area in communes and begin <= e.occurred_at < end]
    assert inside and all(e.event_type == "camera.heartbeat" for e in inside)
    assert not any(e.payload.online for e in inside)
    # Each camera says so at the very moment it goes dark and when it comes back (unless a
    # failure of its own already had it down then).
    went_dark = {e.payload.camera_id for e in inside if e.occurred_at == begin}
    came_back = {
        e.payload.camera_id
        for e in dark
        if e.occurred_at == end and e.area in communes and e.payload.online
    }
    assert went_dark <= hit and len(went_dark) >= 0.9 * len(hit)
    assert came_back <= hit and len(came_back) >= 0.9 * len(hit)
    after = [e for e in dark if e.area in communes and e.occurred_at > end]
    assert of(after, "camera.detection")


# --- dvc ----------------------------------------------------------------------------------------
# A department: its volume does not depend on how many communes share the province's dossiers.
BACKLOG = "dvc_backlog:agency=SO-GDDT,start=2024-03-05T07:30,duration=9h30m"


async def dvc_two_days() -> list[Envelope]:
    """Monday 00:00 to Tuesday 17:00 at rate 1, Sở Giáo dục và Đào tạo in a backlog on Tuesday."""
    return await run(DvcSimulator, MONDAY, timedelta(hours=41), scenario=BACKLOG)


async def test_dossiers_arrive_in_office_hours_about_four_thousand_a_day() -> None:
    events = await dvc_two_days()
    received = [
        local(e)
        for e in of(events, "dvc.dossier")
        if e.payload.stage == "received" and local(e).date() == MONDAY.date()
    ]
    assert 3500 < len(received) < 4500
    by_half_hour = Counter((t.hour, t.minute >= 30) for t in received)
    assert by_half_hour[(2, False)] == 0  # 02:00
    assert by_half_hour[(12, True)] == 0  # 12:30, lunch
    assert by_half_hour[(9, False)] > 300  # 09:00
    assert all((7, 30) <= (t.hour, t.minute) < (17, 0) for t in received)
    assert not [t for t in received if (11, 30) <= (t.hour, t.minute) < (13, 30)]


async def test_weekends_are_quiet_for_dossiers() -> None:
    saturday = MONDAY + timedelta(days=5)
    events = await run(DvcSimulator, saturday, timedelta(days=2), rate=1)
    received = [local(e) for e in of(events, "dvc.dossier") if e.payload.stage == "received"]
    assert received and all(t.weekday() == 5 and t.hour < 12 for t in received)
    assert len(received) < 600


async def test_dossier_lives_are_consistent() -> None:
    events = await dvc_two_days()
    lives: dict[str, list[Any]] = {}
    for e in of(events, "dvc.dossier"):
        lives.setdefault(e.payload.dossier_id, []).append(e)
        assert e.key == e.payload.dossier_id
    stages = Counter(tuple(x.payload.stage.value for x in life) for life in lives.values())
    assert set(stages) <= {
        ("received",),
        ("received", "processing"),
        ("received", "processing", "resolved"),
        ("received", "processing", "returned"),
    }
    received = [life[0].payload for life in lives.values()]
    channels = Counter(p.channel.value for p in received)
    online_share = channels["online"] / len(received)
    assert 0.55 < online_share < 0.8
    assert not [p for p in received if p.service_level == "none" and p.channel == "online"]
    resolved = [e for e in of(events, "dvc.dossier") if e.payload.stage == "resolved"]
    for e in resolved:
        assert e.payload.on_time == (e.occurred_at <= e.payload.due_at)
        assert (e.payload.fee_paid_online is not None) == e.payload.fee_bearing
    # Ratings come hours after resolution: count those of Monday's resolutions.
    monday = {e.payload.dossier_id for e in resolved if local(e).date() == MONDAY.date()}
    ratings = of(events, "dvc.rating")
    assert 0.5 < sum(r.payload.dossier_id in monday for r in ratings) / len(monday) < 0.7
    assert 0.93 < sum(r.payload.satisfied for r in ratings) / len(ratings) < 0.99
    assert any(not p.procedure_name.isascii() for p in received)  # diacritics intact


async def test_backlog_collapses_the_agency_on_time_rate_and_no_one_elses() -> None:
    events = await dvc_two_days()
    incident = load_scenario(BACKLOG, now=MONDAY).incidents[0]
    window = [
        e.payload
        for e in of(events, "dvc.dossier")
        if e.payload.stage == "resolved" and incident.active(e.occurred_at)
    ]
    agency = [p for p in window if p.agency_code == "SO-GDDT"]
    others = [p for p in window if p.agency_code != "SO-GDDT"]
    assert len(agency) >= 10 and len(others) > 1000
    assert sum(p.on_time for p in agency) / len(agency) < 0.2
    assert 0.95 < sum(p.on_time for p in others) / len(others) <= 1.0

    def processing_minutes(code: str, hit: bool) -> float:
        received: dict[str, datetime] = {}
        lags = []
        for e in of(events, "dvc.dossier"):
            if (e.payload.agency_code == code) != hit:
                continue
            if e.payload.stage == "received" and incident.active(e.occurred_at):
                received[e.payload.dossier_id] = e.occurred_at
            elif e.payload.stage == "processing" and e.payload.dossier_id in received:
                lags.append((e.occurred_at - received[e.payload.dossier_id]).total_seconds())
        return statistics.median(lags) / 60

    assert processing_minutes("SO-GDDT", True) > 2 * processing_minutes("SO-GDDT", False)


async def test_the_catalogue_is_sent_at_startup_and_after_local_midnight() -> None:
    events = await dvc_two_days()
    services = of(events, "dvc.service")
    days = Counter(local(e).date() for e in services)
    assert set(days) == {MONDAY.date(), MONDAY.date() + timedelta(days=1)}
    offered = {(e.payload.agency_code, e.payload.procedure_code) for e in services}
    assert days[MONDAY.date()] == len(offered) == 28 + 15 * len(AREAS.leaves(on=MONDAY.date()))
    levels = Counter(e.payload.service_level.value for e in services)
    assert levels["full"] > levels["partial"] > levels["none"] > 0
    departments = {e.payload.agency_code for e in services if e.area == "33"}
    assert departments == {
        "SO-TP",
        "SO-TC",
        "SO-NNMT",
        "SO-XD",
        "SO-YT",
        "SO-GDDT",
        "SO-NV",
    }


def test_a_backlog_for_an_unknown_agency_is_refused() -> None:
    with pytest.raises(ConnectorError, match="SO-XYZ"):
        make(
            DvcSimulator,
            MONDAY,
            timedelta(hours=1),
            scenario="dvc_backlog:agency=SO-XYZ,duration=1h",
        )


# --- payment ------------------------------------------------------------------------------------
async def payment_day() -> list[Envelope]:
    return await run(PaymentSimulator, MONDAY, timedelta(days=1), rate=0.1)


async def test_about_a_hundred_thousand_payments_a_day_peaking_in_the_evening() -> None:
    events = await payment_day()
    assert 85_000 < len(events) * 10 < 115_000
    hours = Counter(local(e).hour for e in events)
    evening = hours[19] + hours[20]
    assert evening > 1.5 * (hours[9] + hours[10])
    assert evening > 10 * (hours[2] + hours[3])
    assert hours[11] + hours[12] > hours[14] + hours[15]  # the lunch bump


async def test_payment_amounts_channels_and_outcomes() -> None:
    payments = [e.payload for e in await payment_day()]
    assert all(p.amount_vnd % 1000 == 0 and p.amount_vnd >= 1000 for p in payments)

    def median(sector: str) -> float:
        return statistics.median(p.amount_vnd for p in payments if p.sector == sector)

    assert 1_000_000 <= median("school") <= 3_000_000
    assert 200_000 <= median("hospital") <= 450_000
    assert 300_000 <= median("utility") <= 550_000
    assert 50_000 <= median("retail") <= 120_000
    public = [p for p in payments if p.sector == "public_service"]
    assert all(20_000 <= p.amount_vnd <= 500_000 for p in public)
    assert Counter(p.channel.value for p in public).most_common(1)[0][0] == "national_portal"
    success = sum(p.success for p in payments) / len(payments)
    assert 0.96 < success < 0.995
    assert all(p.success for p in payments if p.channel == "cash")
    reasons = {p.failure_reason for p in payments if not p.success}
    assert reasons <= {"insufficient_funds", "timeout", "bank_declined", "invalid_otp"}
    assert all(p.failure_reason is None for p in payments if p.success)


async def test_gateway_failure_fails_its_channel_only() -> None:
    start, length = MONDAY + timedelta(hours=9), timedelta(hours=2)
    spec = "payment_gateway_failure:channel=national_portal,start=+30m,duration=1h"
    base = await run(PaymentSimulator, start, length, rate=0.25)
    failing = await run(PaymentSimulator, start, length, rate=0.25, scenario=spec)
    begin, end = start + timedelta(minutes=30), start + timedelta(minutes=90)
    portal = [e for e in failing if e.payload.channel == "national_portal"]
    inside = [e.payload for e in portal if begin <= e.occurred_at < end]
    outside = [e.payload for e in portal if not begin <= e.occurred_at < end]
    assert len(inside) > 20
    assert all(not p.success and p.failure_reason == "gateway_unavailable" for p in inside)
    assert sum(p.success for p in outside) / len(outside) > 0.9
    assert [dump(e) for e in failing if e.payload.channel != "national_portal"] == [
        dump(e) for e in base if e.payload.channel != "national_portal"
    ]


# --- network ------------------------------------------------------------------------------------
async def test_network_points_at_rate_one() -> None:
    events = await run(NetworkSimulator, MONDAY + timedelta(hours=10), timedelta(minutes=2))
    samples = [e.payload for e in of(events, "network.sample")]
    kinds = Counter(p.point_kind.value for p in {p.point_id: p for p in samples}.values())
    communes = len(AREAS.leaves(on=MONDAY.date()))  # 381: more than 200, one point each
    assert kinds == {
        "special_network": communes,
        "agency_lan": 100,
        "cell_site": 300,
        "broadband": 8,
    }
    assert len(samples) == 4 * (communes + 408)  # every 30 s
    special = {
        e.area for e in of(events, "network.sample") if e.payload.point_kind == "special_network"
    }
    assert special == {a.code for a in AREAS.leaves(on=MONDAY.date())}  # every commune

    def median_latency(technology: str) -> float:
        return statistics.median(
            p.latency_ms for p in samples if p.technology == technology and p.up
        )

    assert 5 <= median_latency("fiber") <= 20
    assert 30 <= median_latency("4g") <= 60
    assert 10 <= median_latency("5g") <= 25
    cells = [p for p in samples if p.point_kind == "cell_site"]
    assert 0.15 < sum(p.technology == "5g" for p in cells) / len(cells) < 0.35
    assert sum(p.up for p in samples) / len(samples) > 0.99


async def test_subscriptions_once_a_local_day_consistent_with_the_areas() -> None:
    before_midnight = MONDAY + timedelta(hours=23, minutes=50)
    events = await run(NetworkSimulator, before_midnight, timedelta(minutes=20), rate=0.01)
    subscriptions = of(events, "network.subscriptions")
    leaves = {a.code: a for a in AREAS.leaves(on=MONDAY.date())}
    assert Counter(local(e).date() for e in subscriptions) == {
        MONDAY.date(): len(leaves),
        MONDAY.date() + timedelta(days=1): len(leaves),
    }
    for e in subscriptions:
        p, area = e.payload, leaves[e.area]
        if area.population is not None and area.households is not None:
            assert (p.households, p.population) == (area.households, area.population)
        assert 0.85 <= p.fixed_broadband_households / p.households <= 0.92
        assert p.fibre_households <= p.fixed_broadband_households
        assert 0.98 <= p.population_covered_4g / p.population <= 1.0
        assert p.population_covered_5g <= p.population_covered_4g
    # 5G grows over the years.
    later = datetime(2026, 6, 1, 9, tzinfo=TZ)
    after = of(
        await run(NetworkSimulator, later, timedelta(minutes=1), rate=0.01), "network.subscriptions"
    )
    assert len(after) == len(AREAS.leaves(on=later.date()))

    def share_5g(items: list[Any]) -> float:
        return sum(e.payload.population_covered_5g for e in items) / sum(
            e.payload.population for e in items
        )

    assert share_5g(after) > share_5g(subscriptions) + 0.2


async def test_network_outage_downs_the_area_for_its_window_only() -> None:
    start, length = MONDAY + timedelta(hours=10), timedelta(minutes=20)
    begin, end = start + timedelta(minutes=5), start + timedelta(minutes=15)
    spec = "network_outage:area=325,start=+5m,duration=10m"  # Huyện Văn Lâm
    base = await run(NetworkSimulator, start, length, rate=0.2)
    outage = await run(NetworkSimulator, start, length, rate=0.2, scenario=spec)
    communes = {a.code for a in AREAS.children("325", on=start.date())}
    hit = [e for e in of(outage, "network.sample") if e.area in communes]
    assert len({e.payload.point_id for e in hit}) >= 4  # of 381 communes, 12 in Văn Lâm
    assert all(not e.payload.up for e in hit if begin <= e.occurred_at < end)
    assert all(e.payload.up for e in hit if not begin <= e.occurred_at < end)
    assert [dump(e) for e in outage if e.area not in communes] == [
        dump(e) for e in base if e.area not in communes
    ]


async def test_outage_intensity_is_the_share_of_points_down() -> None:
    start = MONDAY + timedelta(hours=10)
    spec = "network_outage:area=33,duration=10m,intensity=0.5"
    events = await run(NetworkSimulator, start, timedelta(minutes=5), rate=0.3, scenario=spec)
    samples = [e.payload for e in of(events, "network.sample")]
    down = {p.point_id for p in samples if not p.up}
    assert 0.4 < len(down) / len({p.point_id for p in samples}) < 0.6


async def test_without_background_faults_only_the_scenario_breaks_anything() -> None:
    # Over six hours the fleet has its own outages and degradations; without background faults
    # every point is up and fast except those of the scenario's incident.
    start, length = MONDAY + timedelta(hours=8), timedelta(hours=6)
    spec = "network_outage:area=325,start=+1h,duration=10m"  # Huyện Văn Lâm
    communes = {a.code for a in AREAS.children("325", on=start.date())}

    def broken(events: list[Any]) -> set[str]:
        return {
            e.payload.point_id
            for e in of(events, "network.sample")
            if e.area not in communes and (not e.payload.up or e.payload.packet_loss > 0.01)
        }

    assert broken(await run(NetworkSimulator, start, length, rate=0.5, scenario=spec))
    quiet = await run(NetworkSimulator, start, length, rate=0.5, scenario=f"background:off;{spec}")
    assert not broken(quiet)
    assert any(not e.payload.up for e in of(quiet, "network.sample") if e.area in communes)
    cameras = await run(CameraSimulator, start, length, rate=0.5, scenario="background:off;" + spec)
    assert all(e.payload.online for e in of(cameras, "camera.heartbeat"))


# --- the whole product --------------------------------------------------------------------------
async def test_all_four_feeds_together_make_twenty_to_sixty_events_a_second() -> None:
    cameras = await run(CameraSimulator, MONDAY + timedelta(hours=12), timedelta(minutes=10))
    network = await run(NetworkSimulator, MONDAY + timedelta(hours=10), timedelta(minutes=2))
    dvc = [e for e in await dvc_two_days() if local(e).date() == MONDAY.date()]
    per_day = len(cameras) * 144 + len(network) * 720 + len(await payment_day()) * 10 + len(dvc)
    assert 20 <= per_day / 86_400 <= 60


def test_the_start_day_decides_the_areas() -> None:
    after_reform = make(CameraSimulator, datetime(2025, 9, 1, 9, tzinfo=TZ), timedelta(hours=1))
    assert len(after_reform.leaves) == len(AREAS.leaves(on=date(2025, 9, 1))) == 104


async def test_a_start_between_milliseconds_still_sends_the_daily_snapshots() -> None:
    # Regression: events stamped at the start (catalogue, subscriptions) were dropped as
    # "before the start" when the clock's start had microseconds.
    from ioc.areas import load_areas as _load_areas
    from ioc.config import load_settings as _load_settings
    from ioc.connectors import ConnectorContext as _Context
    from ioc.connectors import VirtualClock as _Clock
    from ioc.connectors.registry import load_connector as _load

    start = datetime(2026, 11, 23, 5, 47, 25, 83871, tzinfo=UTC)  # 12:47 local: lunch break
    for name, kind in (("dvc-sim", "dvc.service"), ("network-sim", "network.subscriptions")):
        context = _Context(
            name=name,
            settings=_load_settings(),
            areas=_load_areas(),
            clock=_Clock(start, start + timedelta(minutes=1)),
            rate=0.3,
        )
        kinds = [e.event_type async for e in _load(name)(context).events()]  # type: ignore[union-attr]
        assert kind in kinds, name


@pytest.mark.parametrize("province", ["31", "92", "Lào Cai"])
async def test_entities_sit_inside_their_communes_in_any_province(province: str) -> None:
    areas = load_areas(province=province)
    day = datetime(2026, 3, 2, 10, tzinfo=TZ)
    code = areas.as_of(day.date()).province.code
    for cls in (CameraSimulator, NetworkSimulator):
        events = await run(cls, day, timedelta(minutes=1), rate=0.25, areas=areas)
        points = [e for e in events if e.event_type in ("camera.heartbeat", "network.sample")]
        assert points, cls
        for e in points:
            commune = areas.get(e.area, on=day.date())
            assert commune.parent == code
            assert commune.bounds is not None
            west, south, east, north = commune.bounds
            assert south <= e.payload.lat <= north and west <= e.payload.lon <= east, e.area
