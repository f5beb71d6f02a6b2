"""Profiles: make the simulators reproduce the figures a province reported for a year.

Without a profile the simulators draw a plausible province (`_procedures.PROCEDURES` as it is;
200 special-network points at rate 1). A profile, chosen with the connector option
``-o profile=<name>`` (e.g. ``ioc connectors run dvc-sim -o profile=hung-yen-2024``), shapes the
catalogue and the network so a simulated day gives the seed's figures:

- ``hung-yen-2024`` (seed 000, line 8, "Đến hết năm 2024"): every procedure offered online at
  some level ("100% TTHC đủ điều kiện được cung cấp DVC trực tuyến mức độ 3, mức độ 4"), every
  fee-bearing service payable online ("100% DVC có phí đã được triển khai thanh toán số"),
  88,2 % of online services with at least one online dossier, and the special data network at
  the three levels tỉnh, huyện, xã "với 200 điểm kết nối";
- ``hau-giang-2022`` (seed 002, line 14): every eligible procedure offered full-process
  ("100% thủ tục hành chính đủ điều kiện ở mức độ dịch vụ công trực tuyến mức độ 4"); the
  year is the article's, inferred (it cites DTI 2021 as the latest ranking);
- ``hai-duong-2020`` (seed 003, lines 4–5, "Tính đến 31/12/2020"): the special data network
  reaches the province and district levels only ("triển khai từ tỉnh đến cấp huyện và đang
  triển khai đến cấp xã").

Which services get no online dossier is a choice of the profile, not a fact of the seed: the
least used ones (lowest weight in the catalogue). Everything else (volumes, times, shares) is
the simulators' own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Final, Literal

from ioc.connectors.base import ConnectorError
from ioc.connectors.simulated._procedures import Procedure
from ioc.events import ServiceLevel

__all__ = ["PROFILES", "Offered", "Profile", "SpecialLevel", "offered", "profile_of"]

SpecialLevel = Literal["province", "district", "commune"]
"""The level of government a special-network connection point serves."""

_ALL_LEVELS: Final[tuple[SpecialLevel, ...]] = ("province", "district", "commune")


@dataclass(frozen=True)
class Profile:
    """What a province reported for a year, as knobs of the simulators.

    Attributes:
        name: The option value, ``<province>-<year>``.
        province: The province it describes, as named then (e.g. "tỉnh Hưng Yên").
        province_code: Its GSO code then ("33"); the special network's points stay inside it
            (a merged province's history also holds the provinces merged into it).
        year: The year the figures cover.
        source: The seed and sentence the figures come from.
        every_procedure_online: Every procedure is offered online, partly or full-process.
        eligible_all_full: Every procedure eligible for full-process is offered so.
        fee_services_payable_online: Every fee-bearing service can be paid online.
        services_with_online_dossiers: Share of online services that receive online dossiers
            (the others are offered online but nobody uses them); None: the simulator's own.
        special_network_points: Connection points of the special data network at rate 1;
            None: the simulator's own (200).
        special_network_levels: The levels of government the special network reaches.
    """

    name: str
    province: str
    province_code: str
    year: int
    source: str
    every_procedure_online: bool = False
    eligible_all_full: bool = False
    fee_services_payable_online: bool = False
    services_with_online_dossiers: float | None = None
    special_network_points: int | None = None
    special_network_levels: tuple[SpecialLevel, ...] = _ALL_LEVELS


PROFILES: Final[dict[str, Profile]] = {
    p.name: p
    for p in (
        Profile(
            name="hung-yen-2024",
            province="tỉnh Hưng Yên",
            province_code="33",
            year=2024,
            source="seed 000, dòng 8: kết quả CĐS tỉnh Hưng Yên đến hết năm 2024",
            every_procedure_online=True,
            fee_services_payable_online=True,
            services_with_online_dossiers=0.882,
            special_network_points=200,
        ),
        Profile(
            name="hau-giang-2022",
            province="tỉnh Hậu Giang",
            province_code="93",
            year=2022,
            source="seed 002, dòng 14 (năm của bài viết, ước tính)",
            eligible_all_full=True,
        ),
        Profile(
            name="hai-duong-2020",
            province="tỉnh Hải Dương",
            province_code="30",
            year=2020,
            source="seed 003, dòng 4–5: tính đến 31/12/2020",
            special_network_levels=("province", "district"),
        ),
    )
}
"""The profiles, by name."""


def profile_of(name: str | None) -> Profile | None:
    """Return the profile of a connector's ``profile`` option.

    Args:
        name: The option's value; None or "" for no profile.

    Raises:
        ConnectorError: No profile has that name; the message lists those there are.
    """
    if not name:
        return None
    profile = PROFILES.get(name)
    if profile is None:
        raise ConnectorError(
            f"no simulator profile {name!r} (known: {', '.join(PROFILES)}); "
            "see ioc/connectors/simulated/profiles.py"
        )
    return profile


@dataclass(frozen=True)
class Offered:
    """A procedure as a profile offers it, and whether citizens file it online at all."""

    procedure: Procedure
    used_online: bool


def offered(profile: Profile | None, procedures: Iterable[Procedure]) -> tuple[Offered, ...]:
    """Return the catalogue of procedures as the profile shapes it, in catalogue order.

    Args:
        profile: The profile; None leaves the catalogue as it is.
        procedures: The simulator's catalogue.
    """
    if profile is None:
        return tuple(Offered(p, True) for p in procedures)
    shaped: list[Procedure] = []
    for p in procedures:
        level = p.level
        if profile.every_procedure_online and level is ServiceLevel.NONE:
            level = ServiceLevel.PARTIAL
        if profile.eligible_all_full and p.eligible_full:
            level = ServiceLevel.FULL
        payable = p.online_payment or (profile.fee_services_payable_online and p.fee_bearing)
        shaped.append(replace(p, level=level, online_payment=payable))
    quiet: set[str] = set()
    share = profile.services_with_online_dossiers
    if share is not None:
        online = [p for p in shaped if p.level is not ServiceLevel.NONE]
        unused = round(len(online) * (1 - share))
        quiet = {p.code for p in sorted(online, key=lambda p: (p.weight, p.code))[:unused]}
    return tuple(Offered(p, p.code not in quiet) for p in shaped)
