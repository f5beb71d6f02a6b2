"""When a feed is expected to be quiet: office hours, public holidays, worked Saturdays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ioc.alerts.calendar import load_calendar
from ioc.alerts.rules import load_rules
from ioc.datafile import DataFileError
from ioc.localtime import ZONE


def _local(y: int, m: int, d: int, hour: int, minute: int = 0) -> datetime:
    return datetime(y, m, d, hour, minute, tzinfo=ZONE).astimezone(UTC)


def test_dvc_is_open_in_office_hours_on_working_days_only() -> None:
    cal = load_calendar()
    assert cal.is_open("dvc", _local(2025, 9, 3, 9))  # Wednesday morning
    assert cal.quiet_reason("dvc", _local(2025, 9, 3, 12)) == "ngoài giờ làm việc"  # lunch
    assert cal.quiet_reason("dvc", _local(2025, 9, 3, 22), "en") == "outside office hours"
    assert cal.quiet_reason("dvc", _local(2025, 9, 6, 9)) == "ngoài giờ làm việc"  # Saturday
    assert cal.quiet_reason("dvc", _local(2026, 2, 17, 9)) == "Tết Nguyên Đán (mùng 1)"
    assert cal.quiet_reason("dvc", _local(2025, 4, 7, 9)) == "Giỗ Tổ Hùng Vương"
    # Saturday 26 April 2025 was worked in exchange for Friday 2 May.
    assert cal.is_open("dvc", _local(2025, 4, 26, 9))
    assert not cal.is_open("dvc", _local(2025, 5, 2, 9))
    # A feed the file does not list is expected at every hour.
    assert cal.is_open("camera", _local(2025, 9, 2, 3))
    assert cal.open_minutes("camera", _local(2025, 9, 2, 0), _local(2025, 9, 2, 1)) == 60


def test_the_labour_code_holidays_are_listed_for_2025_to_2027() -> None:
    """Art. 112 of the Labour Code 2019: 11 days a year (12 from 2026), more when moved."""
    cal = load_calendar()
    for year, fixed in ((2025, ["01-01", "04-30", "05-01", "09-02"]),
                        (2026, ["01-01", "04-30", "05-01", "09-02", "11-24"]),
                        (2027, ["01-01", "04-30", "09-02", "11-24"])):  # fmt: skip
        for day in fixed:
            assert cal.holiday(date.fromisoformat(f"{year}-{day}")) is not None, (year, day)
        days = [h for h in cal.data.holidays if h.date.year == year]
        tet = [h for h in days if h.date.month <= 2 and "Tết Dương" not in h.name_vi]
        assert len(tet) == 5, year  # Tết Âm lịch: five working days off
        assert any("Hùng Vương" in h.name_vi for h in days), year


def test_opening_time_between_two_moments_and_back_from_one() -> None:
    cal = load_calendar()
    # Friday 16:00 to Monday 09:00 around nothing special: 60 + 90 minutes.
    friday, monday = _local(2025, 9, 12, 16), _local(2025, 9, 15, 9)
    assert cal.open_minutes("dvc", friday, monday) == 150
    assert cal.open_since("dvc", monday, 150) == friday
    assert cal.open_since("dvc", monday, 0) == monday  # open now: no quiet time yet
    assert cal.open_since("dvc", _local(2025, 9, 13, 9), 0) == _local(2025, 9, 12, 17)
    # The Quốc khánh weekend (30 August – 2 September 2025) holds no opening time.
    assert cal.open_minutes("dvc", _local(2025, 8, 29, 17), _local(2025, 9, 3, 7, 30)) == 0


def test_a_broken_calendar_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(
        "feeds:\n"
        "  dvc:\n"
        "    open:\n"
        "      - {days: [mon], hours: ['11:30-07:30']}\n"
        "holidays:\n"
        "  - {date: 2025-01-01, name_vi: Tết Dương lịch}\n"
        "  - {date: 2025-01-01, name_vi: Tết Dương lịch}\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFileError) as err:
        load_calendar(path)
    assert any(":4: feeds.dvc.open[0].hours" in p for p in err.value.problems), err.value.problems
    path.write_text(
        "holidays:\n"
        "  - {date: 2025-01-01, name_vi: Tết Dương lịch}\n"
        "  - {date: 2025-01-01, name_vi: Tết Dương lịch}\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFileError) as err:
        load_calendar(path)
    assert any(":3: holidays[1].date" in p for p in err.value.problems), err.value.problems


def test_a_period_belongs_to_threshold_and_target_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n"
        "  - {id: a, kind: anomaly, kpi: dvc_satisfaction_rate, period: month, "
        "severity: info}\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFileError, match="period: belongs to threshold and target"):
        load_rules(path)
    # A distinct-count KPI is refused on minute windows but counted over a period.
    path.write_text(
        "rules:\n"
        "  - {id: d, kind: threshold, kpi: k, below: 1, severity: info}\n"
        "  - {id: p, kind: threshold, kpi: k, below: 1, period: year, severity: info}\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFileError) as err:
        load_rules(path, {"k"}, {"k"})
    assert [p.split(": ")[1] for p in err.value.problems] == ["rules[0].kpi"]


def test_the_shipped_rules_judge_a_quarter_and_the_week_is_open_40_hours_or_less() -> None:
    rules = load_rules()
    assert any(r.period == "quarter" for r in rules.rules)
    cal = load_calendar()
    week = _local(2025, 9, 8, 0)  # a Monday without holidays
    assert cal.open_minutes("dvc", week, week + timedelta(days=7)) <= 40 * 60
