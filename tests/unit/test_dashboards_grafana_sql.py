"""The Grafana query expander of tests/_grafana_sql.py against Grafana's own test cases.

Expected strings are those of grafana/grafana pkg/tsdb/grafana-postgresql-datasource/
macros_test.go, packages/grafana-sql/src/datasource/variable-interpolation.test.ts, and of
the format registry and rangeutil of Grafana's frontend; if the expander drifts from them,
the board test would run SQL that Grafana never sends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests._grafana_sql import (
    ALL_VALUE,
    Interval,
    TimeRange,
    Variable,
    calculate_interval,
    custom_options,
    expand,
    go_float,
    go_parse_interval,
    go_rfc3339nano,
    interpolate_macros,
    interpolate_variables,
    metric_find_values,
    sqleng_interpolate,
)

FROM = datetime(2018, 4, 12, 18, 0, tzinfo=UTC)
RANGE = TimeRange(FROM, FROM + timedelta(minutes=5))


def macros(sql: str, time_range: TimeRange = RANGE, timescaledb: bool = False) -> str:
    return interpolate_macros(sql, time_range, timescaledb=timescaledb)


# --- macros_test.go -----------------------------------------------------------------------


def test_time_and_time_filter() -> None:
    assert macros("select $__time(time_column)") == 'select time_column AS "time"'
    assert macros("select min($__time(time_column))") == 'select min(time_column AS "time")'
    assert (
        macros("WHERE $__timeFilter(time_column)")
        == "WHERE time_column BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'"
    )
    assert macros("select $__timeFrom()") == "select '2018-04-12T18:00:00Z'"
    assert macros("select $__timeTo()") == "select '2018-04-12T18:05:00Z'"


def test_time_group_and_its_pre_5_3_alias() -> None:
    assert (
        macros("SELECT $__timeGroup(time_column,'5m'), value")
        == 'SELECT floor(extract(epoch from time_column)/300)*300 AS "time", value'
    )
    assert (
        macros("SELECT $__timeGroup(time_column,'5m') as time, value")
        == "SELECT floor(extract(epoch from time_column)/300)*300 as time, value"
    )
    plain = macros("SELECT $__timeGroup(time_column,'5m')")
    assert plain == "SELECT floor(extract(epoch from time_column)/300)*300"
    assert macros("SELECT $__timeGroupAlias(time_column,'5m')") == plain + ' AS "time"'
    assert (
        macros("$__timeGroup(time_column , '5m')")
        == "floor(extract(epoch from time_column)/300)*300"
    )


@pytest.mark.parametrize(
    ("interval", "expected"),
    [("'5m'", "300.000s"), ("'12d'", "1036800.000s"), ("'20ms'", "0.020s")],
)
def test_time_group_on_timescaledb(interval: str, expected: str) -> None:
    sql = f"GROUP BY $__timeGroup(time_column , {interval})"
    assert macros(sql, timescaledb=True) == f"GROUP BY time_bucket('{expected}',time_column)"


def test_unix_epoch_macros() -> None:
    start, end = int(RANGE.start.timestamp()), int(RANGE.end.timestamp())
    assert macros("select $__unixEpochFilter(time)") == f"select time >= {start} AND time <= {end}"
    assert (
        macros("select $__unixEpochNanoFilter(time)")
        == f"select time >= {start * 10**9} AND time <= {end * 10**9}"
    )
    assert macros("select $__unixEpochNanoFrom()") == f"select {start * 10**9}"
    assert macros("select $__unixEpochNanoTo()") == f"select {end * 10**9}"
    grouped = macros("SELECT $__unixEpochGroup(time_column+time_adjustment,'5m')")
    assert grouped == "SELECT floor((time_column+time_adjustment)/300)*300"
    assert (
        macros("SELECT $__unixEpochGroupAlias(time_column+time_adjustment,'5m')")
        == grouped + ' AS "time"'
    )


def test_times_before_1970_and_fractions_of_a_second() -> None:
    old = TimeRange(datetime(1960, 2, 1, 7, tzinfo=UTC), datetime(1965, 2, 3, 8, tzinfo=UTC))
    assert (
        macros("WHERE $__timeFilter(time_column)", old)
        == "WHERE time_column BETWEEN '1960-02-01T07:00:00Z' AND '1965-02-03T08:00:00Z'"
    )
    assert (
        macros("select $__unixEpochFilter(time)", old)
        == f"select time >= {int(old.start.timestamp())} AND time <= {int(old.end.timestamp())}"
    )
    half = datetime(1960, 2, 1, 7, 0, 0, 500_000, tzinfo=UTC)
    assert go_rfc3339nano(half) == "1960-02-01T07:00:00.5Z"


def test_unknown_macros_and_missing_arguments_fail() -> None:
    with pytest.raises(ValueError, match="unknown macro"):
        macros("SELECT $__nope(x)")
    with pytest.raises(ValueError, match="missing time column"):
        macros("SELECT $__timeFilter()")


def test_interval_substitutions_of_sqleng() -> None:
    # TestInterpolateSQLCommenter: a 10-minute query interval is written "10m".
    assert sqleng_interpolate("SELECT $__interval", RANGE, 600_000) == "SELECT 10m"
    assert sqleng_interpolate("SELECT $__interval_ms", RANGE, 600_000) == "SELECT 600000"
    assert (
        sqleng_interpolate("$__unixEpochFrom() $__unixEpochTo()", RANGE, 1)
        == f"{int(RANGE.start.timestamp())} {int(RANGE.end.timestamp())}"
    )


def test_go_number_and_interval_formats() -> None:
    assert [go_float(v) for v in (300, 60, 0.5, 86400, 2592000)] == [
        "300",
        "60",
        "0.5",
        "86400",
        "2.592e+06",
    ]
    assert go_parse_interval("5m") == timedelta(minutes=5)
    assert go_parse_interval("1h30m") == timedelta(hours=1, minutes=30)
    assert go_parse_interval("20ms") == timedelta(milliseconds=20)
    assert go_parse_interval("12d") == timedelta(days=12)
    with pytest.raises(ValueError, match="invalid duration"):
        go_parse_interval("5 minutes")


# --- variable-interpolation.test.ts and the format registry -----------------------------


@pytest.mark.parametrize(
    ("multi", "include_all"), [(False, False), (True, False), (False, True), (True, True)]
)
def test_a_single_string_value_is_escaped_and_quoted_only_for_multi_or_all(
    multi: bool, include_all: bool
) -> None:
    var = Variable(
        "v",
        options=[("O'Brien", "O'Brien")],
        selected="O'Brien",
        multi=multi,
        include_all=include_all,
    )
    got = interpolate_variables("x = $v", {"v": var})
    # Cases 1, 3, 5, 6: a string stays unquoted for the datasource, which... quotes multi/All.
    assert got == ("x = 'O''Brien'" if multi or include_all else "x = O''Brien")


def test_several_values_and_all_become_quoted_lists() -> None:
    options = [("A", "value1"), ("B", "it's"), ("C", "value3")]
    chosen = Variable("v", options=options, selected=["value1", "it's"], multi=True)
    assert interpolate_variables("IN ($v)", {"v": chosen}) == "IN ('value1','it''s')"
    every = Variable("v", options=options, selected=ALL_VALUE, multi=True, include_all=True)
    assert interpolate_variables("IN ($v)", {"v": every}) == "IN ('value1','it''s','value3')"
    assert interpolate_variables("IN (${v})", {"v": every}) == "IN ('value1','it''s','value3')"
    assert interpolate_variables("IN ([[v]])", {"v": every}) == "IN ('value1','it''s','value3')"


def test_explicit_formats() -> None:
    options = [("A", "a'b"), ("B", 'c"d')]
    every = Variable("v", options=options, selected=[ALL_VALUE], multi=True, include_all=True)
    assert interpolate_variables("${v:csv}", {"v": every}) == "a'b,c\"d"
    assert interpolate_variables("${v:sqlstring}", {"v": every}) == "'a''b','c\\\"d'"
    assert interpolate_variables("${v:singlequote}", {"v": every}) == "'a\\'b','c\"d'"
    assert interpolate_variables("${v:doublequote}", {"v": every}) == '"a\'b","c\\"d"'
    assert interpolate_variables("${v:pipe}", {"v": every}) == "a'b|c\"d"
    assert interpolate_variables("${v:raw}", {"v": every}) == "a'b,c\"d"
    one = Variable("w", options=[("x", "x")], selected="x")
    assert interpolate_variables("${w:sqlstring}", {"w": one}) == "'x'"
    with pytest.raises(ValueError, match="not supported"):
        interpolate_variables("${w:lucene}", {"w": one})


def test_custom_all_value_goes_in_unformatted_and_is_interpolated_again() -> None:
    other = Variable("o", options=[("x", "x")], selected="x")
    every = Variable(
        "v", options=[("a", "a")], selected=ALL_VALUE, include_all=True, all_value="%$o%"
    )
    assert interpolate_variables("LIKE '$v'", {"v": every, "o": other}) == "LIKE '%x%'"


def test_macros_and_unknown_names_survive_the_frontend() -> None:
    sql = "SELECT $__timeGroupAlias(t, $__interval), $nope WHERE $__timeFilter(t) AND '$a'"
    area = Variable("a", options=[("x", "12")], selected="12")
    got = interpolate_variables(sql, {"a": area}, {"__interval": "5m", "__interval_ms": 300000})
    assert got == "SELECT $__timeGroupAlias(t, 5m), $nope WHERE $__timeFilter(t) AND '12'"


def test_whole_expansion_of_a_panel_query() -> None:
    area = Variable("area", options=[("x", "33")], selected="33")
    sql = (
        "SELECT $__timeGroupAlias(bucket, $__interval), $__interval_ms AS ms FROM kpi_values "
        "WHERE area = '$area' AND $__timeFilter(bucket) GROUP BY 1"
    )
    interval = Interval("1m", 60000)
    assert expand(sql, RANGE, {"area": area}, interval=interval, timescaledb=False) == (
        'SELECT floor(extract(epoch from bucket)/60)*60 AS "time", 60000 AS ms FROM kpi_values '
        "WHERE area = '33' AND bucket BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z' "
        "GROUP BY 1"
    )
    assert "time_bucket('60.000s',bucket)" in expand(
        sql, RANGE, {"area": area}, interval=interval, timescaledb=True
    )


# --- rangeutil and variable options -----------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "points", "minimum", "expected"),
    [
        (8, 500, "1m", Interval("1m", 60000)),  # 57.6 s rounds to 1m
        (1, 500, None, Interval("5s", 5000)),  # 7.2 s rounds to 5 s
        (24 * 7, 500, "1m", Interval("20m", 1200000)),  # 1209.6 s rounds to 20m
        (24 * 90, 500, "1m", Interval("3h", 10800000)),
        (24 * 365 * 3, 500, "1m", Interval("1d", 86400000)),
    ],
)
def test_calculate_interval(
    hours: int, points: int, minimum: str | None, expected: Interval
) -> None:
    time_range = TimeRange(FROM, FROM + timedelta(hours=hours))
    assert calculate_interval(time_range, points, minimum) == expected


def test_custom_variable_options_and_metric_find_values() -> None:
    assert custom_options("Tỷ lệ hài lòng của người dân\\, doanh nghiệp : dvc_x,QR : qr,plain") == [
        ("Tỷ lệ hài lòng của người dân, doanh nghiệp", "dvc_x"),
        ("QR", "qr"),
        ("plain", "plain"),
    ]
    rows = [("33", "Tỉnh Hưng Yên"), ("33", "Tỉnh Hưng Yên"), ("326", "Huyện Văn Giang")]
    assert metric_find_values(["__value", "__text"], rows) == [
        ("Tỉnh Hưng Yên", "33"),
        ("Huyện Văn Giang", "326"),
    ]
