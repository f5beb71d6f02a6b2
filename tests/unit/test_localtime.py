"""The province's clock: local days, bucket origin, SQL pieces and durations."""

from datetime import UTC, date, datetime, timedelta

import pytest

from ioc import localtime
from ioc.localtime import (
    DAY_ORIGIN,
    DAY_ORIGIN_SQL,
    OFFSET,
    ZONE,
    date_bin_sql,
    local_date,
    local_day_bounds,
    local_day_sql,
    local_day_start,
    local_today,
    parse_duration,
    parse_start,
    to_local,
)

NOW = datetime(2024, 3, 4, 2, 0, tzinfo=UTC)  # 09:00 in Hưng Yên


def test_the_zone_is_utc_plus_7_all_year_as_the_fixed_sql_offset_assumes() -> None:
    # The SQL side adds a fixed 7 hours; the zone must agree on every day it can meet.
    for year in (1976, 2000, 2026, 2099):
        for month in (1, 4, 7, 10):
            assert datetime(year, month, 15, tzinfo=ZONE).utcoffset() == OFFSET
            assert datetime(year, month, 15, tzinfo=ZONE).dst() in (None, timedelta(0))


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2026, 11, 30, 16, 59, 59, tzinfo=UTC), date(2026, 11, 30)),
        (datetime(2026, 11, 30, 17, 0, tzinfo=UTC), date(2026, 12, 1)),
        (datetime(2026, 12, 1, 0, 30, tzinfo=ZONE), date(2026, 12, 1)),
    ],
)
def test_local_date_turns_at_local_midnight(moment: datetime, day: date) -> None:
    assert local_date(moment) == day


def test_today_is_vietnams_date_not_the_hosts() -> None:
    # 23:30 UTC is 06:30 the next morning in Vietnam: a UTC host's date.today() says the 30th.
    assert local_today(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == date(2026, 12, 1)
    assert local_today() == local_date(datetime.now(UTC))


def test_a_local_day_starts_at_17_utc_the_day_before() -> None:
    start = local_day_start(datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    assert start == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert start.tzinfo is UTC
    assert local_day_start(date(2026, 12, 1)) == start
    assert local_day_bounds(date(2026, 12, 1)) == (start, start + timedelta(days=1))


def test_the_bucket_origin_is_local_midnight_and_matches_its_sql_literal() -> None:
    assert datetime(2000, 1, 1, 0, 0, tzinfo=ZONE) == DAY_ORIGIN
    assert DAY_ORIGIN_SQL == "TIMESTAMPTZ '2000-01-01 00:00:00+07'"
    # Every local midnight is a whole number of days from the origin.
    assert (local_day_start(date(2026, 12, 1)) - DAY_ORIGIN) % timedelta(days=1) == timedelta(0)


def test_sql_pieces() -> None:
    assert local_day_sql("e.at") == "((e.at AT TIME ZONE 'UTC') + INTERVAL '7 hours')::date"
    assert date_bin_sql("1 day", "w.t") == (
        "date_bin(INTERVAL '1 day', w.t, TIMESTAMPTZ '2000-01-01 00:00:00+07')"
    )


def test_showing_a_time_in_the_province_zone() -> None:
    assert f"{to_local(NOW):%H:%M %d/%m/%Y}" == "09:00 04/03/2024"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(minutes=90)),
        (" 1h 30m ", timedelta(minutes=90)),
        ("0.5s", timedelta(milliseconds=500)),
        (timedelta(seconds=3), timedelta(seconds=3)),
    ],
)
def test_durations(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [(90, "has no unit"), ("2 hours", "is not a duration"), ("", "is not a duration")],
)
def test_bad_durations_say_how_to_write_one(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_duration(value)
    assert "15m" in str(caught.value)


def test_start_times_relative_absolute_and_naive_local() -> None:
    assert parse_start("now", NOW) == NOW
    assert parse_start("+5m", NOW) == NOW + timedelta(minutes=5)
    assert parse_start("-1h30m", NOW) == NOW - timedelta(minutes=90)
    assert parse_start("2024-03-04T09:00", NOW) == NOW
    assert parse_start("2024-03-04T02:00Z", NOW) == NOW
    assert parse_start(date(2024, 3, 4), NOW) == datetime(2024, 3, 3, 17, tzinfo=UTC)
    with pytest.raises(ValueError, match="relative time"):
        parse_start("+soon", NOW)
    with pytest.raises(ValueError, match="is not a time"):
        parse_start("tomorrow", NOW)


def test_everything_public_is_listed() -> None:
    public = {n for n in vars(localtime) if not n.startswith("_") and n.isidentifier()}
    imported = {"Final", "UTC", "ZoneInfo", "annotations", "date", "datetime", "re", "time"}
    assert public - imported - {"timedelta", "timezone"} == set(localtime.__all__)
