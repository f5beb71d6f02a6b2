"""The province's clock: its time zone, its local days, and how SQL and the CLI read them.

Vietnam has one time zone, Asia/Ho_Chi_Minh, at UTC+7 without daylight saving since 1975.
Times are stored and passed as aware UTC datetimes; a *local day* (which areas are valid,
what "today" is, where a day's bucket starts) is the UTC+7 calendar day. That is fixed on
purpose, not a setting: the day roll-ups of migration 0002 bin on a ``+07`` origin, so a
different zone here would split every day differently from the stored roll-ups.

Example:
    >>> from datetime import UTC, datetime
    >>> local_date(datetime(2026, 11, 30, 18, 0, tzinfo=UTC))
    datetime.date(2026, 12, 1)
    >>> local_day_start(datetime(2026, 11, 30, 18, 0, tzinfo=UTC)).isoformat()
    '2026-11-30T17:00:00+00:00'
    >>> local_day_sql("e.occurred_at")
    "((e.occurred_at AT TIME ZONE 'UTC') + INTERVAL '7 hours')::date"
    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Final
from zoneinfo import ZoneInfo

__all__ = [
    "DAY_ORIGIN",
    "DAY_ORIGIN_SQL",
    "OFFSET",
    "ZONE",
    "ZONE_NAME",
    "aware",
    "date_bin_sql",
    "local_date",
    "local_day_bounds",
    "local_day_sql",
    "local_day_start",
    "local_today",
    "parse_duration",
    "parse_start",
    "to_local",
]

ZONE_NAME: Final = "Asia/Ho_Chi_Minh"
"""The IANA name of the province's zone, as Grafana boards and the live board show it."""

ZONE: Final = ZoneInfo(ZONE_NAME)
"""The province's time zone, for showing times."""

OFFSET: Final = timedelta(hours=7)
"""UTC+7: the zone's offset, the same all year (no daylight saving)."""

_FIXED: Final = timezone(OFFSET)

DAY_ORIGIN: Final = datetime(2000, 1, 1, tzinfo=_FIXED).astimezone(UTC)
"""Local midnight of 2000-01-01: the origin hour and day buckets are aligned on."""

DAY_ORIGIN_SQL: Final = "TIMESTAMPTZ '2000-01-01 00:00:00+07'"
""":data:`DAY_ORIGIN` as an SQL literal, the origin argument of ``date_bin``/``time_bucket``.

Migration 0002 writes the same literal in its roll-up views; a migration is never edited.
"""

_DURATION: Final = re.compile(
    r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?$"
)
_TIME_HINT: Final = "write +5m, -30m, now or 2025-03-04T09:00:00+07:00"


def aware(at: datetime) -> datetime:
    """Return ``at`` unchanged if it carries an offset, else read it as local time."""
    return at if at.tzinfo is not None else at.replace(tzinfo=ZONE)


def to_local(at: datetime) -> datetime:
    """Return an aware moment in the province's zone (for showing it)."""
    return at.astimezone(ZONE)


def local_date(at: datetime) -> date:
    """Return the local calendar date of an aware moment (which areas are valid that day)."""
    return at.astimezone(_FIXED).date()


def local_today(now: datetime | None = None) -> date:
    """Return today's date in Vietnam.

    Not `date.today()`: that is the host's date, which on a UTC host lags a day behind from
    00:00 to 07:00 local.

    Args:
        now: the moment to take as now (aware); the wall clock when None.
    """
    return local_date(now if now is not None else datetime.now(UTC))


def local_day_start(at: datetime | date) -> datetime:
    """Return local midnight of a day, as an aware UTC datetime — the start of its ``1d`` bucket.

    Args:
        at: an aware moment (its local day is taken) or a local date.
    """
    day = at if not isinstance(at, datetime) else local_date(at)
    return datetime.combine(day, time(0), _FIXED).astimezone(UTC)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """Return ``[start, end)`` of a local day as aware UTC datetimes."""
    start = local_day_start(day)
    return start, start + timedelta(days=1)


def local_day_sql(timestamp: str) -> str:
    """Return SQL for the local date of a ``timestamptz`` expression.

    The session's zone does not matter: the expression reads the UTC wall time and adds the
    fixed offset, as the roll-up views of migration 0002 do.
    """
    return f"(({timestamp} AT TIME ZONE 'UTC') + INTERVAL '7 hours')::date"


def date_bin_sql(width: str, timestamp: str) -> str:
    """Return SQL binning a ``timestamptz`` expression in buckets aligned on local midnight.

    Args:
        width: an SQL interval literal's text, e.g. ``1 hour`` or ``1 day``.
        timestamp: the SQL expression to bin.
    """
    return f"date_bin(INTERVAL '{width}', {timestamp}, {DAY_ORIGIN_SQL})"


def parse_duration(value: object) -> timedelta:
    """Read a duration such as ``15m``, ``2h``, ``90s``, ``1h30m`` or ``1d``.

    Raises:
        ValueError: the value is not such a duration; the message says how to write one.
    """
    if isinstance(value, timedelta):
        return value
    # YAML reads `90` as a number and `1:30` as the sexagesimal 90: neither says its unit.
    if not isinstance(value, str):
        raise ValueError(f"{value!r} has no unit; write e.g. 90s, 15m, 2h or 1h30m")
    text = value.strip().replace(" ", "")
    match = _DURATION.match(text)
    if not text or match is None:
        raise ValueError(f"{value!r} is not a duration; write e.g. 90s, 15m, 2h or 1h30m")
    parts = {k: float(v) for k, v in match.groupdict(default="0").items()}
    return timedelta(days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"])


def parse_start(value: object, now: datetime) -> datetime:
    """Read a time: relative to ``now`` (``+5m``, ``-30m``, ``now``) or absolute ISO 8601.

    Absolute times without an offset are local (Asia/Ho_Chi_Minh); a bare date means local
    midnight.

    Raises:
        ValueError: the value is neither; the message says how to write one.
    """
    if isinstance(value, datetime):
        return aware(value)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=ZONE)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r} is not a time; {_TIME_HINT}")
    text = value.strip()
    if text.lower() == "now":
        return now
    if text[0] in "+-":
        try:
            offset = parse_duration(text[1:])
        except ValueError:
            raise ValueError(
                f"{value!r} is not a relative time; write e.g. +5m, -30m or +1h30m"
            ) from None
        return now + offset if text[0] == "+" else now - offset
    try:
        return aware(datetime.fromisoformat(text))
    except ValueError:
        raise ValueError(f"{value!r} is not a time; {_TIME_HINT}") from None
