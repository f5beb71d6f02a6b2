"""Turn a panel's SQL into what Grafana's PostgreSQL datasource sends to the database.

No Grafana server runs here, so the board tests expand each query the way Grafana does, in
the same order, following Grafana's own code:

1. Frontend, template variables (``$var``, ``${var}``, ``${var:format}``, ``[[var]]``):
   grafana/scenes ``packages/scenes/src/variables/interpolation/sceneInterpolator.ts`` with
   ``VARIABLE_REGEX`` from ``packages/scenes/src/variables/constants.ts``; a variable with
   "All" selected takes every option's value, or its custom all value unformatted
   (``MultiValueVariable.getValue`` and ``CustomAllValue`` in
   ``packages/scenes/src/variables/variants/MultiValueVariable.ts``). Without an explicit
   format the SQL datasource formats values itself (grafana/grafana
   ``packages/grafana-sql/src/datasource/SqlDatasource.ts``, ``interpolateVariable``): a
   string of a multi-value or include-All variable is quoted as a literal, a string of a
   plain variable only has its ``'`` doubled, an array becomes quoted literals joined by
   commas. Explicit formats follow ``packages/scenes/src/variables/interpolation/
   formatRegistry.ts``. ``$__interval`` and ``$__interval_ms`` are scoped variables of the
   request: ``rangeutil.calculateInterval`` (``packages/grafana-data/src/datetime/
   rangeutil.ts``: ``roundInterval``, ``secondsToHms``), from the panel's max data points and
   its minimum interval.
2. Backend, global substitutions: ``Interpolate`` in ``pkg/tsdb/grafana-postgresql-datasource/
   sqleng/sql_engine.go`` (``$__interval_ms``, ``$__interval`` via grafana-plugin-sdk-go
   ``backend/gtime.FormatInterval``, ``$__unixEpochFrom()``, ``$__unixEpochTo()``).
3. Backend, macros: ``pkg/tsdb/grafana-postgresql-datasource/macros.go`` (``$__time``,
   ``$__timeEpoch``, ``$__timeFilter``, ``$__timeFrom``, ``$__timeTo``, ``$__timeGroup``,
   ``$__timeGroupAlias``, ``$__unixEpochFilter``, ``$__unixEpochNanoFilter``,
   ``$__unixEpochNanoFrom``, ``$__unixEpochNanoTo``, ``$__unixEpochGroup``,
   ``$__unixEpochGroupAlias``), with Go's formatting of times (RFC 3339 with nanoseconds)
   and of floats (``%v``).

Variable queries run as Grafana's ``metricFindQuery`` does (``SqlDatasource.ts``): the same
expansion, no interval, and ``__text``/``__value`` columns read as in
``packages/grafana-sql/src/ResponseParser.ts`` (options unique by text).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

ALL_VALUE = "$__all"

# grafana/scenes packages/scenes/src/variables/constants.ts
VARIABLE_REGEX = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}"
)
# pkg/tsdb/grafana-postgresql-datasource/macros.go: rsIdentifier, sExpr
MACRO_REGEX = re.compile(r"\$([_a-zA-Z0-9]+)\(([^\)]*)\)")


@dataclass(frozen=True)
class TimeRange:
    """The dashboard's time range (Grafana sends it in milliseconds)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("time range ends must be aware")

    @property
    def start_ms(self) -> int:
        return round(self.start.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return round(self.end.timestamp() * 1000)


@dataclass(frozen=True)
class Interval:
    """``$__interval`` (text) and ``$__interval_ms`` of one request."""

    text: str
    ms: int


@dataclass
class Variable:
    """A dashboard variable with its options and what is selected.

    Attributes:
        name: Its name.
        options: (text, value) pairs, in order.
        selected: A value, a list of values (multi), or ``ALL_VALUE``.
        multi: Several values may be selected.
        include_all: "All" is offered.
        all_value: A custom all value (inserted as is, then interpolated again).
    """

    name: str
    options: list[tuple[str, str]] = field(default_factory=list)
    selected: str | list[str] = ""
    multi: bool = False
    include_all: bool = False
    all_value: str | None = None

    def value(self) -> str | list[str] | _CustomAll:
        """``MultiValueVariable.getValue``: All → every option's value (or the custom one)."""
        selected = self.selected
        if selected == ALL_VALUE or (isinstance(selected, list) and selected[:1] == [ALL_VALUE]):
            if self.all_value:
                return _CustomAll(self.all_value)
            return [v for _, v in self.options]
        return selected


@dataclass(frozen=True)
class _CustomAll:
    text: str


# --- frontend ----------------------------------------------------------------------------


def _sql_datasource_format(value: str | list[str] | int, variable: Variable | None) -> str:
    """``SqlDatasource.interpolateVariable`` with the PostgreSQL ``quoteLiteral``."""

    def quote(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    if isinstance(value, str):
        if variable is not None and (variable.multi or variable.include_all):
            return quote(value)
        return value.replace("'", "''")
    if isinstance(value, int):
        return str(value)
    return ",".join(quote(v) for v in value)


def _sqlstring(text: str) -> str:
    # formatRegistry.ts sqlStringFormatter: ' doubled, " backslash-escaped.
    return "'" + text.replace("'", "''").replace('"', '\\"') + "'"


def _format(value: str | list[str] | int, fmt: str) -> str:
    """The explicit formats of formatRegistry.ts that SQL panels can use."""
    name, _, _args = fmt.partition(":")
    values = value if isinstance(value, list) else None
    text = str(value)
    if name == "raw":
        return ",".join(values) if values is not None else text
    if name == "csv":
        return ",".join(values) if values is not None else text
    if name == "pipe":
        return "|".join(values) if values is not None else text
    if name == "glob":
        return (
            "{" + ",".join(values) + "}"
            if values is not None and len(values) > 1
            else (values[0] if values else text)
        )
    if name == "json":
        return text if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if name == "sqlstring":
        return ",".join(_sqlstring(v) for v in values) if values is not None else _sqlstring(text)
    if name == "singlequote":
        quote = [f"'{v.replace(chr(39), chr(92) + chr(39))}'" for v in (values or [text])]
        return ",".join(quote)
    if name == "doublequote":
        quote = [f'"{v.replace(chr(34), chr(92) + chr(34))}"' for v in (values or [text])]
        return ",".join(quote)
    raise ValueError(
        f"format {fmt!r} is not supported by this expander; add it from formatRegistry.ts"
    )


def interpolate_variables(
    sql: str, variables: Mapping[str, Variable], scoped: Mapping[str, str | int] | None = None
) -> str:
    """Replace template variables as Grafana's frontend does before sending the query."""
    scoped = scoped or {}

    def replace(match: re.Match[str]) -> str:
        var1, var2, fmt2, var3, field_path, fmt3 = match.groups()
        name = var1 or var2 or var3
        fmt = fmt2 or fmt3
        if field_path is not None:
            raise ValueError(f"{match.group(0)}: field paths are not supported here")
        if name in scoped:
            value: str | list[str] | int = scoped[name]
            variable = None
        elif name in variables:
            variable = variables[name]
            got = variable.value()
            if isinstance(got, _CustomAll):
                # CustomAllValue.formatter: the custom all value as is (then interpolated again).
                return interpolate_variables(got.text, variables, scoped)
            value = got
        else:
            return match.group(0)  # not a variable (a backend macro such as $__timeFilter)
        if fmt:
            return _format(value, fmt)
        return _sql_datasource_format(value, variable)

    return VARIABLE_REGEX.sub(replace, sql)


def _round_interval(ms: float) -> int:
    """``rangeutil.roundInterval``."""
    steps = (
        (10, 1), (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500),
        (1500, 1000), (3500, 2000), (7500, 5000), (12500, 10000), (17500, 15000),
        (25000, 20000), (45000, 30000), (90000, 60000), (210000, 120000), (450000, 300000),
        (750000, 600000), (1050000, 900000), (1500000, 1200000), (2700000, 1800000),
        (5400000, 3600000), (9000000, 7200000), (16200000, 10800000), (32400000, 21600000),
        (86400000, 43200000), (604800000, 86400000), (1814400000, 604800000),
        (3628800000, 2592000000),
    )  # fmt: skip
    for below, rounded in steps:
        if ms < below:
            return rounded
    return 31536000000


def _seconds_to_hms(seconds: float) -> str:
    """``rangeutil.secondsToHms``."""
    years = math.floor(seconds / 31536000)
    if years:
        return f"{years}y"
    days = math.floor((seconds % 31536000) / 86400)
    if days:
        return f"{days}d"
    hours = math.floor(((seconds % 31536000) % 86400) / 3600)
    if hours:
        return f"{hours}h"
    minutes = math.floor((((seconds % 31536000) % 86400) % 3600) / 60)
    if minutes:
        return f"{minutes}m"
    secs = math.floor((((seconds % 31536000) % 86400) % 3600) % 60)
    if secs:
        return f"{secs}s"
    millis = math.floor(seconds * 1000.0)
    if millis:
        return f"{millis}ms"
    return "less than a millisecond"


_UNIT_SECONDS = {"y": 31536000, "M": 2592000, "w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def interval_to_ms(text: str) -> float:
    """``rangeutil.intervalToMs`` (``describeInterval``)."""
    if re.fullmatch(r"\d+", text) and int(text):
        return int(text) * 1000
    match = re.search(r"(-?\d+(?:\.\d+)?)(ms|[Mwdhmsy])", text)
    if not match:
        raise ValueError(f"invalid interval {text!r}")
    count = int(float(match.group(1)))
    if match.group(2) == "ms":
        return count
    return _UNIT_SECONDS[match.group(2)] * 1000 * count


def calculate_interval(
    time_range: TimeRange, max_data_points: int, min_interval: str | None
) -> Interval:
    """``rangeutil.calculateInterval``: the request's ``$__interval`` and ``$__interval_ms``."""
    low = interval_to_ms(min_interval) if min_interval else 1
    ms: float = _round_interval((time_range.end_ms - time_range.start_ms) / max_data_points)
    if low > ms:
        ms = low
    return Interval(_seconds_to_hms(ms / 1000), int(ms))


# --- backend -----------------------------------------------------------------------------


def go_rfc3339nano(at: datetime) -> str:
    """Go's ``t.UTC().Format(time.RFC3339Nano)``: trailing zeros of the fraction dropped."""
    utc = at.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += ("." + f"{utc.microsecond:06d}").rstrip("0")
    return text + "Z"


def go_float(value: float) -> str:
    """Go's ``fmt.Sprintf("%v", float64)``, as macros.go prints a ``$__timeGroup`` step.

    ``%v`` of a float64 is ``%g`` with the shortest digits (``strconv.FormatFloat(v, 'g', -1,
    64)``), which uses the exponent form when the decimal exponent is below -4 or at least 6
    ("if precision was the shortest possible, use precision 6 for this decision", ftoa.go):
    300 → ``300``, 86400 → ``86400``, 2592000 → ``2.592e+06``.
    """
    if value == 0:
        return "0"
    digits = Decimal(repr(float(value))).normalize()
    sign, coefficient, exponent = digits.as_tuple()
    assert isinstance(exponent, int)
    digit_text = "".join(str(d) for d in coefficient)
    decimal_exponent = len(digit_text) + exponent - 1
    if decimal_exponent < -4 or decimal_exponent >= 6:
        mantissa = digit_text[0] + ("." + digit_text[1:] if len(digit_text) > 1 else "")
        exponent_sign = "-" if decimal_exponent < 0 else "+"
        return f"{'-' if sign else ''}{mantissa}e{exponent_sign}{abs(decimal_exponent):02d}"
    text = format(Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def go_parse_interval(text: str, now: datetime | None = None) -> timedelta:
    """grafana-plugin-sdk-go ``gtime.ParseInterval``: d/w/M/y by calendar from now (UTC)."""
    match = re.fullmatch(r"(\d+)([dwMy])", text)
    if match:
        count, unit = int(match.group(1)), match.group(2)
        now = (now or datetime.now(UTC)).astimezone(UTC)
        if unit == "d":
            return timedelta(days=count)
        if unit == "w":
            return timedelta(days=7 * count)
        month = now.month - 1 + (count if unit == "M" else 12 * count)
        year = now.year + month // 12
        month = month % 12 + 1
        try:
            later = now.replace(year=year, month=month)
        except ValueError:  # Go's AddDate normalises 31 February to 3 March, and so on
            later = now.replace(day=1, year=year, month=month) + timedelta(days=now.day - 1)
        return later - now
    return _go_parse_duration(text)


def _go_parse_duration(text: str) -> timedelta:
    """Go's ``time.ParseDuration`` (units ns, us, µs, ms, s, m, h)."""
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    if text in ("0", "+0", "-0"):
        return timedelta(0)
    parts = re.findall(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)", text)
    if not parts or "".join(a + b for a, b in parts) != text.lstrip("+-"):
        raise ValueError(f'time: invalid duration "{text}"')
    seconds = sum(float(a) * units[b] for a, b in parts)
    return timedelta(seconds=-seconds if text.startswith("-") else seconds)


def sqleng_interpolate(sql: str, time_range: TimeRange, interval_ms: int) -> str:
    """``sqleng.Interpolate``: the substitutions every SQL datasource makes."""
    sql = sql.replace("$__interval_ms", str(interval_ms))
    sql = sql.replace("$__interval", _format_interval(timedelta(milliseconds=interval_ms)))
    sql = sql.replace("$__unixEpochFrom()", str(int(time_range.start.timestamp())))
    return sql.replace("$__unixEpochTo()", str(int(time_range.end.timestamp())))


def _format_interval(interval: timedelta) -> str:
    """grafana-plugin-sdk-go ``gtime.FormatInterval``."""
    ms = interval // timedelta(milliseconds=1)
    for unit, size in (
        ("y", 31536000000),
        ("d", 86400000),
        ("h", 3600000),
        ("m", 60000),
        ("s", 1000),
    ):
        if ms >= size:
            return f"{ms // size}{unit}"
    return f"{ms}ms" if ms >= 1 else "1ms"


def interpolate_macros(sql: str, time_range: TimeRange, *, timescaledb: bool) -> str:
    """The PostgreSQL macro engine (``postgresMacroEngine.Interpolate`` in macros.go)."""
    start, end = time_range.start, time_range.end

    def evaluate(name: str, args: list[str]) -> str:
        if name in (
            "__time",
            "__timeEpoch",
            "__timeFilter",
            "__unixEpochFilter",
            "__unixEpochNanoFilter",
        ) and (not args or args == [""]):
            raise ValueError(f"missing time column argument for macro {name}")
        if name == "__time":
            return f'{args[0]} AS "time"'
        if name == "__timeEpoch":
            return f'extract(epoch from {args[0]}) as "time"'
        if name == "__timeFilter":
            return f"{args[0]} BETWEEN '{go_rfc3339nano(start)}' AND '{go_rfc3339nano(end)}'"
        if name == "__timeFrom":
            return f"'{go_rfc3339nano(start)}'"
        if name == "__timeTo":
            return f"'{go_rfc3339nano(end)}'"
        if name in ("__timeGroup", "__unixEpochGroup"):
            if len(args) < 2:
                raise ValueError(
                    f"macro {name} needs time column and interval and optional fill value"
                )
            if len(args) == 3:
                raise ValueError("fill modes are not used by the boards; add them if needed")
            seconds = go_parse_interval(args[1].strip("'")).total_seconds()
            if name == "__unixEpochGroup":
                return f"floor(({args[0]})/{go_float(seconds)})*{go_float(seconds)}"
            if timescaledb:
                return f"time_bucket('{seconds:.3f}s',{args[0]})"
            return f"floor(extract(epoch from {args[0]})/{go_float(seconds)})*{go_float(seconds)}"
        if name in ("__timeGroupAlias", "__unixEpochGroupAlias"):
            return evaluate(name.removesuffix("Alias"), args) + ' AS "time"'
        if name == "__unixEpochFilter":
            return f"{args[0]} >= {int(start.timestamp())} AND {args[0]} <= {int(end.timestamp())}"
        if name == "__unixEpochNanoFilter":
            return f"{args[0]} >= {_nanos(start)} AND {args[0]} <= {_nanos(end)}"
        if name == "__unixEpochNanoFrom":
            return str(_nanos(start))
        if name == "__unixEpochNanoTo":
            return str(_nanos(end))
        raise ValueError(f'unknown macro "{name}"')

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "__timeGroup":
            # Pre-5.3 compatibility: a ',' right after the call means "AS time" was meant.
            index = sql.find(match.group(0))
            after = index + len(match.group(0))
            if index >= 0 and after < len(sql) and sql[after] == ",":
                name = "__timeGroupAlias"
        args = [a.strip(" ") for a in match.group(2).split(",")]
        return evaluate(name, args)

    return MACRO_REGEX.sub(replace, sql)


def _nanos(at: datetime) -> int:
    delta = at.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def expand(
    sql: str,
    time_range: TimeRange,
    variables: Mapping[str, Variable],
    *,
    interval: Interval | None,
    timescaledb: bool,
) -> str:
    """A panel's (or variable's) SQL as the database receives it from Grafana."""
    scoped: dict[str, str | int] = {}
    if interval is not None:
        scoped = {"__interval": interval.text, "__interval_ms": interval.ms}
    text = interpolate_variables(sql, variables, scoped)
    text = sqleng_interpolate(text, time_range, interval.ms if interval else 0)
    return interpolate_macros(text, time_range, timescaledb=timescaledb)


# --- variables ----------------------------------------------------------------------------


def custom_options(query: str) -> list[tuple[str, str]]:
    """``CustomVariable.transformCsvStringToOptions``: ``text : value`` items, ``\\,`` kept."""
    out: list[tuple[str, str]] = []
    for item in re.findall(r"(?:\\,|[^,])+", query):
        item = item.replace("\\,", ",")
        match = re.fullmatch(r"\s*(.+)\s:\s(.+)", item, re.S)
        if match:
            out.append((match.group(1).strip(), match.group(2).strip()))
        else:
            out.append((item.strip(), item.strip()))
    return out


def metric_find_values(
    columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[tuple[str, str]]:
    """``transformMetricFindResponse``: (text, value) from ``__text`` and ``__value``.

    Options are unique by text, as Grafana keeps them (``uniqBy(values, 'text')``).
    """
    if "__text" in columns and "__value" in columns:
        ti, vi = columns.index("__text"), columns.index("__value")
        pairs = [(str(r[ti]), str(r[vi])) for r in rows]
    else:
        pairs = [(str(v), str(v)) for r in rows for v in r]
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for text, value in pairs:
        if text not in seen:
            seen.add(text)
            out.append((text, value))
    return out
