"""Simulator profiles: a simulated day reproduces the figures a province reported for a year.

The simulators run on a virtual clock with no broker (as in test_simulated.py); the figures are
computed from the events with the same measures the stream workers use (ioc.kpis.measures),
and the distinct-count KPI as the catalogue defines it (distinct procedure codes).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ioc.areas import load_areas
from ioc.config import load_settings
from ioc.connectors.base import ConnectorContext, ConnectorError, VirtualClock
from ioc.connectors.simulated import DvcSimulator, NetworkSimulator
from ioc.connectors.simulated._base import SimulatedConnector
from ioc.connectors.simulated.profiles import PROFILES
from ioc.events import Envelope, NetworkSample
from ioc.kpis import catalogue_file_for, load_kpis
from ioc.kpis.measures import measures

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2024, 12, 16, tzinfo=TZ)  # a working day of 2024, three-tier shape
AREAS = load_areas()


def make(
    cls: type[SimulatedConnector],
    profile: str | None,
    duration: timedelta,
    seed: int = 7,
    province: str = "33",
) -> SimulatedConnector:
    return cls(
        ConnectorContext(
            name=f"{cls.feed}-sim",
            settings=load_settings(),
            areas=AREAS if province == "33" else load_areas(province=province),
            clock=VirtualClock(MONDAY, MONDAY + duration),
            seed=seed,
            options={"profile": profile} if profile else {},
        )
    )


async def dvc_day(profile: str | None, seed: int = 7) -> dict[str, float]:
    """The day's figures of the three catalogue KPIs the Hưng Yên 2024 report gives."""
    sums: dict[str, float] = defaultdict(float)
    distinct: dict[str, set[str]] = defaultdict(set)
    async for item in make(DvcSimulator, profile, timedelta(days=1), seed).events():
        assert isinstance(item, Envelope)
        for metric, value in measures(item):
            sums[metric] += value
            distinct[metric].add(getattr(item.payload, "procedure_code", ""))
    kpis = load_kpis(catalogue_file_for("33"))
    out: dict[str, float] = {}
    for kpi_id in ("dvc_fee_services_online_payment", "dvc_online_services"):
        kpi = kpis.get(kpi_id)
        out[kpi_id] = sums[kpi.numerator] / sums[kpi.denominator]
    services = kpis.get("dvc_services_with_online_dossiers")
    assert services.distinct == "procedure_code"
    out[services.id] = len(distinct[services.numerator]) / len(distinct[services.denominator])
    out["dossiers"] = sums["dvc.received"]
    return out


@pytest.mark.parametrize("seed", [7, 11])
async def test_a_day_with_the_hung_yen_2024_profile_gives_the_reported_figures(seed: int) -> None:
    day = await dvc_day("hung-yen-2024", seed)
    reported = {
        kpi.id: kpi.reported[0].value
        for kpi in load_kpis(catalogue_file_for("33"))
        if kpi.reported and kpi.feed == "dvc"
    }
    # 100 % of fee-bearing services payable online, 100 % of procedures online (any level).
    assert day["dvc_fee_services_online_payment"] == reported["dvc_fee_services_online_payment"]
    assert day["dvc_online_services"] == reported["dvc_online_services"] == 1.0
    # 88,2 % of online services with at least one online dossier: 38 of 43 here.
    assert day["dvc_services_with_online_dossiers"] == pytest.approx(0.882, abs=0.01)
    assert 3_500 < day["dossiers"] < 4_500  # the profile shapes the catalogue, not the volume


async def test_without_a_profile_the_day_is_the_simulators_own() -> None:
    day = await dvc_day(None)
    assert day["dvc_fee_services_online_payment"] < 1.0
    assert day["dvc_online_services"] < 1.0
    assert day["dvc_services_with_online_dossiers"] > 0.95


async def test_the_special_network_has_200_points_over_three_levels() -> None:
    network = make(NetworkSimulator, "hung-yen-2024", timedelta(minutes=1))
    points: dict[str, str] = {}
    async for item in network.events():
        assert isinstance(item, Envelope)
        payload: Any = item.payload
        if isinstance(payload, NetworkSample) and payload.point_kind == "special_network":
            points[payload.point_id] = item.area
    assert len(points) == 200  # every point samples every 30 s
    levels = Counter(point.split("-")[1] for point in points)
    assert set(levels) == {"T", "H", "X"}  # tỉnh, huyện, xã
    day = MONDAY.date()
    communes = {  # Hưng Yên's own in 2024, not those of Thái Bình (merged into it in 2025)
        a.code
        for a in AREAS.leaves(on=day)
        if next(p.code for p in AREAS.ancestors(a.code, day) if p.level == "province") == "33"
    }
    # One point at every commune's People's Committee, the rest at province/district agencies.
    assert levels["X"] == len(communes)
    assert {area for point, area in points.items() if point.startswith("TSL-X-")} == communes
    assert levels["T"] > 0 and levels["H"] > levels["T"]


def test_hai_duong_2020_reaches_province_and_district_only_and_names_are_checked() -> None:
    # Hải Dương is part of Hải Phòng (31) since 1/7/2025; its 2024 communes are in its history.
    network = make(NetworkSimulator, "hai-duong-2020", timedelta(minutes=1), province="31")
    assert isinstance(network, NetworkSimulator)
    assert set(network.special_levels) == {"province", "district"}
    with pytest.raises(ConnectorError, match=r"no simulator profile 'hung-yen-2023'.*known:"):
        make(DvcSimulator, "hung-yen-2023", timedelta(minutes=1))
    assert set(PROFILES) >= {"hung-yen-2024", "hau-giang-2022", "hai-duong-2020"}
    assert "profile" in DvcSimulator.options_help and "profile" in NetworkSimulator.options_help


async def test_hau_giang_2022_offers_every_eligible_procedure_full_process() -> None:
    sums: dict[str, float] = defaultdict(float)
    async for item in make(DvcSimulator, "hau-giang-2022", timedelta(minutes=1)).events():
        assert isinstance(item, Envelope)
        for metric, value in measures(item):
            sums[metric] += value
    assert sums["dvc.services_full"] == sums["dvc.services_eligible_full"] > 0
