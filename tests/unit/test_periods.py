"""Periods of the Vietnamese calendar: how they are written, their local bounds, their parts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ioc.kpis.periods import Period, PeriodError


@pytest.mark.parametrize(
    ("text", "kind", "first", "last", "label_vi"),
    [
        ("2025-07-14", "day", date(2025, 7, 14), date(2025, 7, 14), "Ngày 14/07/2025"),
        ("2025-02", "month", date(2025, 2, 1), date(2025, 2, 28), "Tháng 2/2025"),
        ("2024-02", "month", date(2024, 2, 1), date(2024, 2, 29), "Tháng 2/2024"),
        ("2025-Q3", "quarter", date(2025, 7, 1), date(2025, 9, 30), "Quý III/2025"),
        ("2025-q4", "quarter", date(2025, 10, 1), date(2025, 12, 31), "Quý IV/2025"),
        ("2025", "year", date(2025, 1, 1), date(2025, 12, 31), "Năm 2025"),
        (
            " ytd ",
            "ytd",
            date(2025, 1, 1),
            date(2025, 8, 14),
            "Lũy kế từ 01/01/2025 đến 14/08/2025",
        ),
    ],
)
def test_each_form_reads_as_its_local_days(
    text: str, kind: str, first: date, last: date, label_vi: str
) -> None:
    period = Period.parse(text, today=date(2025, 8, 14))
    assert (period.kind, period.first, period.last, period.label_vi) == (
        kind,
        first,
        last,
        label_vi,
    )
    if kind != "ytd":
        assert Period.parse(period.label) == period


def test_bounds_are_local_midnights() -> None:
    q3 = Period.parse("2025-Q3")
    # 00:00 on 1 July in Vietnam is 17:00 UTC the day before; the end is exclusive.
    assert q3.start == datetime(2025, 6, 30, 17, tzinfo=UTC)
    assert q3.end == datetime(2025, 9, 30, 17, tzinfo=UTC)


def test_parts_are_days_of_a_month_and_months_of_longer_periods() -> None:
    assert [p.label for p in Period.parse("2025-Q3").parts()] == ["2025-07", "2025-08", "2025-09"]
    february = Period.parse("2024-02").parts()
    assert len(february) == 29 and february[-1].label == "2024-02-29"
    ytd = Period.parse("ytd", today=date(2025, 3, 10)).parts()
    assert [(p.first, p.last) for p in ytd] == [
        (date(2025, 1, 1), date(2025, 1, 31)),
        (date(2025, 2, 1), date(2025, 2, 28)),
        (date(2025, 3, 1), date(2025, 3, 10)),
    ]
    assert Period.parse("2025-07-14").parts() == []


@pytest.mark.parametrize("text", ["2025-13", "2025-Q5", "2025-02-30", "Q3", "", "last month"])
def test_a_period_it_cannot_read_says_how_to_write_one(text: str) -> None:
    with pytest.raises(PeriodError, match="2025-Q3"):
        Period.parse(text)


@pytest.mark.parametrize("text", ["9999-12-31", "0000", "9999"])
def test_a_year_out_of_range_is_refused_not_overflowed(text: str) -> None:
    with pytest.raises(PeriodError, match="year"):
        Period.parse(text)
