"""The QĐ 766 scorecard: the national index of service to citizens and businesses, per unit.

Quyết định 766/QĐ-TTg ngày 23/6/2022 of the Prime Minister approves the "Bộ chỉ số chỉ đạo,
điều hành và đánh giá chất lượng phục vụ người dân, doanh nghiệp trong thực hiện thủ tục hành
chính, dịch vụ công theo thời gian thực trên môi trường điện tử": five groups of indicators
("Bộ chỉ số gồm có 05 nhóm chỉ số thành phần"), 100 points in all, scored per agency and per
locality from real-time data. This module scores the components the feeds can measure, by
DVC agency (``agency_code`` of the DVC events) or by the area's child areas (communes after
the 2025 reform), ranked, with the change from the period before.

What is cited, and how firmly (the review /work/shared/reviews/vn-indicators.md §1):

- the five groups and their maximum points (18, 20, 22, 22, 18) are the decision's, as
  published by sonoivu.namdinh.gov.vn and cchc.soctrang.gov.vn; three component maxima are
  confirmed by the press (1.2: 4 points, 2.1: 20 points, 5.4: 6 points);
- the components (their numbering, numerators, denominators, other maxima and thresholds)
  follow a transcription of "Mô tả công thức tính chỉ số 766" and the points that the national
  portal shows; the annex of the decision itself was not found. Points are therefore an
  **estimate** (:data:`ESTIMATE_NOTE`), and the board and API say so;
- a component whose data no feed carries is listed with its source and no figure
  (:attr:`Component.missing`): "chưa có dữ liệu (nguồn: …)", never an invented number.

Points of a component: a ratio R at or above the threshold T gets the full points, below it
``R × points / T`` (T = 100 % where none is given). A unit's score is its points over the
points of the components it has data for, so an agency without fee-bearing procedures is not
ranked down for lacking them.

Example:
    >>> c = component("3.3")
    >>> c.points_for(0.40), c.points_for(0.60)   # 3.3 has no confirmed maximum
    (None, None)
    >>> component("2.1").points_for(0.9)
    18.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Final, Literal

import asyncpg

from ioc.areas import Area
from ioc.kpis import Kpi, KpiCatalogue
from ioc.kpis.periods import Period, agency_sums
from ioc.kpis.values import by_child, totals

__all__ = [
    "DECISION",
    "ESTIMATE_NOTE",
    "GROUPS",
    "By",
    "Component",
    "ComponentScore",
    "Group",
    "Scorecard",
    "UnitScore",
    "component",
    "previous_period",
    "scorecard",
]

By = Literal["agency", "commune"]

DECISION: Final = (
    "Quyết định 766/QĐ-TTg ngày 23/6/2022 của Thủ tướng Chính phủ phê duyệt Bộ chỉ số chỉ đạo, "
    "điều hành và đánh giá chất lượng phục vụ người dân, doanh nghiệp trong thực hiện thủ tục "
    "hành chính, dịch vụ công theo thời gian thực trên môi trường điện tử: 05 nhóm chỉ số "
    "thành phần, tổng 100 điểm"
)
ESTIMATE_NOTE: Final = (
    "Điểm là ước tính: cách chấm theo bản mô tả công thức tính chỉ số 766 (không phải văn bản "
    "pháp lý; phụ lục của Quyết định chưa tra được). Đạt ngưỡng thì được điểm tối đa, dưới "
    "ngưỡng được tỷ lệ × điểm tối đa / ngưỡng. Điểm chính thức do Cổng Dịch vụ công quốc gia "
    "công bố."
)

_TTHC_DB: Final = "CSDL quốc gia về thủ tục hành chính"
_DIGITISED: Final = (
    "Hệ thống thông tin giải quyết TTHC cấp tỉnh: cờ số hóa, kết quả điện tử; sự kiện DVC "
    "chưa mang các trường này"
)
_PAKN: Final = (
    "hệ thống tiếp nhận, xử lý phản ánh, kiến nghị (PAKN): phân loại theo quy định, chính sách, "
    "thủ tục hay hành vi của cán bộ; luồng phản ánh, kiến nghị chưa mang trường này"
)


@dataclass(frozen=True)
class Component:
    """One component indicator of a group.

    Attributes:
        id: Its number in the formula description (1.1 … 5.4).
        name_vi: Its name there.
        max_points: Its maximum points; None where no source gives them (shown, not scored).
        threshold: The ratio that earns the full points (1.0: none, points in proportion).
        kpis: The catalogue KPIs it is measured from; empty when no feed carries its data.
        missing: Where its data would come from, for a component no feed carries.
        note: How the measure differs from the decision's definition, shown with it.
    """

    id: str
    name_vi: str
    max_points: float | None
    threshold: float = 1.0
    kpis: tuple[str, ...] = ()
    missing: str | None = None
    note: str | None = None

    def points_for(self, value: float | None) -> float | None:
        """The component's (estimated) points for a ratio; None without a value or maximum."""
        if value is None or self.max_points is None:
            return None
        if value >= self.threshold:
            return self.max_points
        return max(value, 0.0) * self.max_points / self.threshold


@dataclass(frozen=True)
class Group:
    """One of the decision's five groups, with its maximum points."""

    number: int
    name_vi: str
    max_points: float
    components: tuple[Component, ...]


_SATISFACTION_NOTE: Final = (
    "Gần đúng: 100 % − tỷ lệ hồ sơ giải quyết quá hạn − tỷ lệ hồ sơ có đánh giá không hài "
    "lòng; phần hồ sơ có phản ánh, kiến nghị chưa có nguồn"
)

GROUPS: Final[tuple[Group, ...]] = (
    Group(
        1,
        "Công khai, minh bạch",
        18,
        (
            Component("1.1", "Tỷ lệ thủ tục hành chính công bố đúng hạn", 6, missing=_TTHC_DB),
            Component(
                "1.2",
                "Tỷ lệ thủ tục hành chính được cập nhật, công khai đúng hạn",
                4,
                missing=_TTHC_DB,
            ),
            Component(
                "1.3",
                "Tỷ lệ thủ tục hành chính được công khai có đầy đủ các nội dung quy định",
                2,
                missing=_TTHC_DB,
            ),
            Component(
                "1.4",
                "Tỷ lệ hồ sơ đồng bộ lên Cổng Dịch vụ công quốc gia",
                6,
                missing="Cổng Dịch vụ công quốc gia: trạng thái đồng bộ hồ sơ",
            ),
        ),
    ),
    Group(
        2,
        "Tiến độ, kết quả giải quyết",
        20,
        (
            Component(
                "2.1",
                "Tỷ lệ hồ sơ xử lý trước hạn, đúng hạn",
                20,
                kpis=("dvc_on_time_rate",),
                note="Gần đúng: hồ sơ đã giải quyết trong kỳ; hồ sơ đang xử lý trong hạn chưa tính",
            ),
        ),
    ),
    Group(
        3,
        "Số hóa hồ sơ",
        22,
        (
            Component(
                "4.1",
                "Tỷ lệ hồ sơ TTHC có cấp kết quả giải quyết TTHC điện tử",
                6,
                missing=_DIGITISED,
            ),
            Component("4.2", "Tỷ lệ hồ sơ TTHC thực hiện số hóa hồ sơ", 4, 0.8, missing=_DIGITISED),
            Component(
                "4.2b",
                "Tỷ lệ cung cấp dịch vụ chứng thực bản sao điện tử từ bản chính",
                2,
                missing=_DIGITISED,
            ),
            Component(
                "4.3",
                "Tỷ lệ hồ sơ khai thác, sử dụng lại thông tin, dữ liệu số hóa",
                2,
                0.8,
                missing=_DIGITISED,
            ),
            Component(
                "4.4",
                "Tỷ lệ hồ sơ TTHC được số hóa có kết nối, chia sẻ dữ liệu phục vụ tái sử dụng",
                4,
                missing=_DIGITISED,
            ),
            Component(
                "4.5a",
                "Tỷ lệ TTHC triển khai kết nối, chia sẻ dữ liệu dân cư phục vụ giải quyết TTHC",
                2,
                missing="Cơ sở dữ liệu quốc gia về dân cư, tài khoản VNeID",
            ),
            Component(
                "4.5b",
                "Tỷ lệ hồ sơ TTHC sử dụng thông tin, dữ liệu từ CSDL quốc gia về dân cư",
                2,
                missing="Cơ sở dữ liệu quốc gia về dân cư, tài khoản VNeID",
            ),
        ),
    ),
    Group(
        4,
        "Cung cấp dịch vụ trực tuyến",
        22,
        (
            Component(
                "3.1",
                "Tỷ lệ TTHC cung cấp dịch vụ công trực tuyến",
                None,
                0.8,
                kpis=("dvc_online_services",),
                note="Điểm riêng chưa rõ (3.1–3.3 chung 12 điểm trên Cổng DVC quốc gia)",
            ),
            Component(
                "3.2",
                "Tỷ lệ dịch vụ công trực tuyến có phát sinh hồ sơ",
                None,
                kpis=("dvc_services_with_online_dossiers",),
                note="Điểm riêng chưa rõ (3.1–3.3 chung 12 điểm trên Cổng DVC quốc gia)",
            ),
            Component(
                "3.3",
                "Tỷ lệ hồ sơ TTHC theo hình thức nộp hồ sơ (trực tuyến)",
                None,
                0.5,
                kpis=("dvc_online_dossier_rate",),
                note="Điểm riêng chưa rõ (3.1–3.3 chung 12 điểm trên Cổng DVC quốc gia)",
            ),
            Component(
                "3.5",
                "Tỷ lệ TTHC có yêu cầu nghĩa vụ tài chính được tích hợp thanh toán trực tuyến",
                2,
                0.8,
                kpis=("dvc_fee_services_online_payment",),
            ),
            Component(
                "3.5b",
                "Tỷ lệ TTHC có giao dịch thanh toán trực tuyến",
                2,
                0.8,
                missing="Cổng Dịch vụ công quốc gia: đối soát giao dịch thanh toán theo TTHC",
            ),
            Component(
                "3.6",
                "Tỷ lệ hồ sơ thanh toán trực tuyến",
                6,
                kpis=("dvc_fee_paid_online_rate",),
            ),
        ),
    ),
    Group(
        5,
        "Mức độ hài lòng",
        18,
        (
            Component("5.1", "Tỷ lệ phản ánh, kiến nghị theo phân loại", None, missing=_PAKN),
            Component(
                "5.2",
                "Tiến độ xử lý phản ánh, kiến nghị",
                None,
                kpis=("feedback_on_time_rate",),
                note="Gần đúng: tỷ lệ PAKN trả lời đúng hạn theo hạn của từng phiếu",
            ),
            Component(
                "5.3",
                "Tỷ lệ hài lòng trong xử lý phản ánh, kiến nghị",
                None,
                kpis=("feedback_satisfaction_rate",),
                note=(
                    "Gần đúng: số đánh giá hài lòng trên số đánh giá; công thức 766 còn trừ "
                    "PAKN bị phản ánh lại hoặc quá hạn"
                ),
            ),
            Component(
                "5.4",
                "Tỷ lệ hài lòng trong tiếp nhận, giải quyết TTHC",
                6,
                0.9,
                kpis=("dvc_on_time_rate", "dvc_satisfaction_rate"),
                note=_SATISFACTION_NOTE,
            ),
        ),
    ),
)


def component(component_id: str) -> Component:
    """The component with this number.

    Raises:
        KeyError: If there is none.
    """
    for group in GROUPS:
        for c in group.components:
            if c.id == component_id:
                return c
    raise KeyError(component_id)


@dataclass(frozen=True)
class ComponentScore:
    """One component's figure for one unit over the period.

    Attributes:
        id: The component's number.
        numerator: Its numerator (None: not measured).
        denominator: Its denominator.
        value: Their ratio; None without data (or without a feed: see ``Component.missing``).
        points: Its estimated points; None without a value or a known maximum.
    """

    id: str
    numerator: float | None
    denominator: float | None
    value: float | None
    points: float | None


@dataclass(frozen=True)
class UnitScore:
    """An agency's or a child area's scorecard over the period.

    Attributes:
        code: The agency code or the area code.
        name_vi: The area's name (the agency code for an agency: the feeds carry no name).
        components: Each component's figure, in :data:`GROUPS` order.
        points: The estimated points earned.
        possible: The points of the components with a figure (the most it could have had).
        score: ``points / possible`` (None when nothing could be scored): what ranks.
        rank: 1 for the best score; None when it has no score.
        previous_score: The score over the period before; None without one.
        previous_rank: Its rank then.
    """

    code: str
    name_vi: str
    components: list[ComponentScore]
    points: float
    possible: float
    score: float | None
    rank: int | None = None
    previous_score: float | None = None
    previous_rank: int | None = None

    @property
    def change(self) -> float | None:
        """Score now minus score over the period before (+0.02 = two points of 100 better)."""
        if self.score is None or self.previous_score is None:
            return None
        return self.score - self.previous_score


@dataclass(frozen=True)
class Scorecard:
    """The scorecard of an area over a period, by agency or by child area.

    Attributes:
        area: The area.
        period: The period.
        previous: The period the change is measured from.
        by: ``agency`` or ``commune`` (the area's child areas).
        total: The area as a whole.
        units: Every agency or child area, ranked (those without a score last).
    """

    area: Area
    period: Period
    previous: Period
    by: By
    total: UnitScore
    units: list[UnitScore] = field(default_factory=list)


def previous_period(period: Period) -> Period:
    """The period the month's change is measured from: the one before, of the same kind.

    A year to date is compared with the year to date at the end of the month before.

    Example:
        >>> [previous_period(Period.parse(p)).label for p in ("2026-01", "2026-Q1", "2026")]
        ['2025-12', '2025-Q4', '2025']
    """
    before = period.first - timedelta(days=1)
    if period.kind == "day":
        return Period("day", before, before)
    if period.kind == "month":
        return Period("month", before.replace(day=1), before)
    if period.kind == "quarter":
        first_month = 3 * ((before.month - 1) // 3) + 1
        return Period("quarter", before.replace(month=first_month, day=1), before)
    if period.kind == "year":
        return Period("year", before.replace(month=1, day=1), before)
    month_end = period.last.replace(day=1) - timedelta(days=1)
    return Period("ytd", month_end.replace(month=1, day=1), month_end)


Sums = Mapping[str, tuple[float, float]]
"""A unit's numerator and denominator per KPI id."""


def _measure(c: Component, sums: Sums) -> ComponentScore:
    if not c.kpis or any(k not in sums for k in c.kpis):
        return ComponentScore(c.id, None, None, None, None)
    if c.id == "5.4":
        # 100 % − overdue share − share of dossiers rated unsatisfied, both over the resolved.
        (on_time, resolved), (satisfied, ratings) = sums[c.kpis[0]], sums[c.kpis[1]]
        numerator, denominator = max(on_time - (ratings - satisfied), 0.0), resolved
    else:
        numerator, denominator = sums[c.kpis[0]]
    value = numerator / denominator if denominator else None
    return ComponentScore(c.id, numerator, denominator, value, c.points_for(value))


def _unit(code: str, name_vi: str, sums: Sums) -> UnitScore:
    scores = []
    points = possible = 0.0
    for group in GROUPS:
        for c in group.components:
            s = _measure(c, sums)
            scores.append(s)
            if s.points is not None and c.max_points is not None:
                points += s.points
                possible += c.max_points
    return UnitScore(
        code, name_vi, scores, points, possible, points / possible if possible else None
    )


def _kpis(catalogue: KpiCatalogue | list[Kpi]) -> list[Kpi]:
    wanted = {k for g in GROUPS for c in g.components for k in c.kpis}
    return [k for k in catalogue if k.id in wanted]


async def _units(
    conn: asyncpg.Connection, kpis: list[Kpi], area: Area, period: Period, by: By
) -> tuple[
    dict[str, dict[str, tuple[float, float]]], dict[str, str], dict[str, tuple[float, float]]
]:
    """Each unit's sums per KPI, the units' names, and the area's own sums."""
    units: dict[str, dict[str, tuple[float, float]]] = {}
    names: dict[str, str] = {}
    whole: dict[str, tuple[float, float]] = {}
    for kpi in kpis:
        t = await totals(conn, kpi, area.code, period.start, period.end, "1d")
        if t.denominator:
            whole[kpi.id] = (t.numerator, t.denominator)
        if by == "agency":
            for a in await agency_sums(conn, kpi, area, period):
                units.setdefault(a.agency, {})[kpi.id] = (a.numerator, a.denominator)
                names[a.agency] = a.agency
        else:
            for c in await by_child(conn, kpi, area.code, period.start, period.end, "1d"):
                names[c.area] = c.name_vi
                if c.denominator:
                    units.setdefault(c.area, {})[kpi.id] = (c.numerator, c.denominator)
    for code in names:
        units.setdefault(code, {})
    return units, names, whole


def _ranked(units: list[UnitScore]) -> dict[str, int]:
    scored = sorted(
        (u for u in units if u.score is not None), key=lambda u: (-(u.score or 0), u.code)
    )
    return {u.code: i + 1 for i, u in enumerate(scored)}


async def scorecard(
    conn: asyncpg.Connection,
    catalogue: KpiCatalogue | list[Kpi],
    area: Area,
    period: Period,
    by: By,
) -> Scorecard:
    """Score every agency (or child area) of an area over a period, ranked, with the change.

    Reads what :func:`ioc.kpis.periods.period_values` reads: the stored local days
    (``kpi_values`` at ``1d``) for the area and its children, the event store for agencies
    and distinct-count KPIs. The change compares with :func:`previous_period`.

    Args:
        conn: A connection to a migrated database whose ``areas`` table is synced.
        catalogue: The KPIs (components whose KPI is not in it have no figure).
        area: The area.
        period: The period.
        by: ``agency`` (``agency_code`` of the DVC events) or ``commune`` (child areas).
    """
    kpis = _kpis(catalogue)
    previous = previous_period(period)
    now_units, names, whole = await _units(conn, kpis, area, period, by)
    before_units, before_names, whole_before = await _units(conn, kpis, area, previous, by)
    current = [_unit(code, names[code], sums) for code, sums in now_units.items()]
    before = {code: _unit(code, before_names[code], sums) for code, sums in before_units.items()}
    ranks, before_ranks = _ranked(current), _ranked(list(before.values()))
    out = []
    for u in current:
        was = before.get(u.code)
        out.append(
            UnitScore(
                u.code,
                u.name_vi,
                u.components,
                u.points,
                u.possible,
                u.score,
                ranks.get(u.code),
                was.score if was else None,
                before_ranks.get(u.code),
            )
        )
    out.sort(key=lambda u: (u.rank is None, u.rank or 0, u.code))
    return Scorecard(
        area=area,
        period=period,
        previous=previous,
        by=by,
        total=replace(
            _unit(area.code, area.name_vi, whole),
            previous_score=_unit(area.code, area.name_vi, whole_before).score,
        ),
        units=out,
    )
