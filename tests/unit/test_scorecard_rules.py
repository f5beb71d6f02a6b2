"""The QĐ 766 scorecard's definition: the decision's groups and points, and the points rule."""

from __future__ import annotations

from datetime import date

import pytest

from ioc.kpis import load_kpis
from ioc.kpis.periods import Period
from ioc.kpis.scorecard import GROUPS, component, previous_period


def test_the_five_groups_and_their_maxima_are_the_decisions() -> None:
    """sonoivu.namdinh.gov.vn / cchc.soctrang.gov.vn: 18, 20, 22, 22, 18 points, 100 in all."""
    assert [(g.number, g.name_vi, g.max_points) for g in GROUPS] == [
        (1, "Công khai, minh bạch", 18),
        (2, "Tiến độ, kết quả giải quyết", 20),
        (3, "Số hóa hồ sơ", 22),
        (4, "Cung cấp dịch vụ trực tuyến", 22),
        (5, "Mức độ hài lòng", 18),
    ]
    assert sum(g.max_points for g in GROUPS) == 100


def test_known_component_points_never_exceed_their_group() -> None:
    for group in GROUPS:
        known = sum(c.max_points or 0 for c in group.components)
        assert known <= group.max_points, group.name_vi
    # The three maxima the press confirms (baocaotaichinh.vn).
    assert (component("1.2").max_points, component("2.1").max_points) == (4, 20)
    assert component("5.4").max_points == 6


def test_every_component_is_measured_by_catalogue_kpis_or_names_its_missing_source() -> None:
    catalogue = {k.id for k in load_kpis()}
    for group in GROUPS:
        for c in group.components:
            assert bool(c.kpis) != bool(c.missing), c.id
            assert set(c.kpis) <= catalogue, c.id


@pytest.mark.parametrize(
    ("cid", "ratio", "points"),
    [
        ("2.1", 0.9, 18.0),  # no threshold: in proportion
        ("3.5", 0.8, 2.0),  # at the 80 % threshold: full points
        ("3.5", 0.4, 1.0),  # half the threshold: half the points
        ("5.4", 0.95, 6.0),
        ("3.3", 0.6, None),  # its own maximum is not known: not scored
        ("2.1", None, None),
    ],
)
def test_points_rule(cid: str, ratio: float | None, points: float | None) -> None:
    got = component(cid).points_for(ratio)
    assert got == (pytest.approx(points) if points is not None else None)


def test_the_period_before() -> None:
    assert previous_period(Period.parse("1970-01")).label == "1969-12"  # no year check
    ytd = previous_period(Period.parse("ytd", today=date(2026, 1, 14)))
    assert (ytd.first, ytd.last) == (date(2025, 1, 1), date(2025, 12, 31))
