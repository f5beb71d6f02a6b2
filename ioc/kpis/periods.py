"""Every KPI over an official period: a day, a month, a quarter, a year or the year to date.

Leaders read KPIs per reporting period of the Vietnamese calendar (tháng, quý, năm, lũy kế từ
đầu năm), not per rolling 24 hours. :func:`period_values` gives each KPI of a catalogue in one
area over one :class:`Period`, exactly:

- a ratio-of-sums KPI adds up the stored local days (``kpi_values`` at ``1d``, rolled up
  from the window rows by :mod:`ioc.kpis.values`) — a quarter is ``sum(numerator) /
  sum(denominator)`` over its days, never a mean of months;
- a distinct-count KPI is counted over the whole period from the event store
  (:func:`ioc.kpis.values.totals`), so a procedure seen in two months is one procedure;
- the trend is the same figure per part of the period (hours of a day, days of a month,
  months of a quarter, year or year to date), each part exact the same way;
- the worst child areas (communes after the 2025 reform) come from
  :func:`ioc.kpis.values.by_child`, and for KPIs of a feed whose events name an agency
  (``agency_code``, as DVC's do) each agency's figure is counted from the event store;
- the forecast is :func:`ioc.kpis.values.current` at the period's end (or now, for a period
  still running): the day the target is met at the trend of the 30 days before.

Periods are local (Asia/Ho_Chi_Minh) calendar periods: a month starts at local midnight of
its first day. The stored values must be current: :func:`refresh` recomputes a period's days
(``ioc reports build`` calls it; ``ioc alerts run`` keeps them current otherwise).

Example:
    >>> from datetime import date
    >>> p = Period.parse("2025-Q3")
    >>> p.first, p.last, p.label_vi
    (datetime.date(2025, 7, 1), datetime.date(2025, 9, 30), 'Quý III/2025')
    >>> [part.label for part in p.parts()]
    ['2025-07', '2025-08', '2025-09']
    >>> Period.parse("ytd", today=date(2025, 8, 14)).label_vi
    'Lũy kế từ 01/01/2025 đến 14/08/2025'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Final, Literal

import asyncpg

from ioc.areas import Area
from ioc.feeds import event_kinds
from ioc.kpis import Kpi, KpiCatalogue
from ioc.kpis.forecast import Forecast
from ioc.kpis.values import by_child, compute, current, series, totals
from ioc.localtime import local_day_sql, local_day_start, local_today

__all__ = [
    "AgencySums",
    "ChildValue",
    "KpiPeriod",
    "Period",
    "PeriodError",
    "PeriodKind",
    "PeriodValues",
    "TrendPoint",
    "agency_sums",
    "period_values",
    "refresh",
]

PeriodKind = Literal["day", "month", "quarter", "year", "ytd"]

_ROMAN: Final = ("I", "II", "III", "IV")
_YEARS: Final = (1970, 2999)  # far enough for any data; keeps bounds away from date.max
_FORMS: Final = "2025-07-14 (a day), 2025-07 (a month), 2025-Q3 (a quarter), 2025 or ytd"
FORECAST_DAYS: Final = 30
"""Days of daily values before the period's end that the forecast is drawn from."""
WORST: Final = 5
"""How many child areas and agencies the worst lists keep."""


class PeriodError(ValueError):
    """A period that cannot be read; the message says how to write one."""


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """A local calendar period: its first and last local day (inclusive).

    Attributes:
        kind: day, month, quarter, year or ytd (1 January to a given day).
        first: Its first local day.
        last: Its last local day, included.
    """

    kind: PeriodKind
    first: date
    last: date

    @classmethod
    def parse(cls, text: str, *, today: date | None = None) -> Period:
        """Read ``2025-07-14``, ``2025-07``, ``2025-Q3``, ``2025`` or ``ytd``.

        Args:
            text: The period as written.
            today: The local day ``ytd`` ends on (default: today in Vietnam).

        Raises:
            PeriodError: If the text is none of these.
        """
        value = text.strip()
        digits = value[:4]
        if digits.isdigit() and not _YEARS[0] <= int(digits) <= _YEARS[1]:
            raise PeriodError(f"{text!r}: the year must be {_YEARS[0]}–{_YEARS[1]}")
        try:
            if value.lower() == "ytd":
                end = today or local_today()
                return cls("ytd", date(end.year, 1, 1), end)
            if m := re.fullmatch(r"(\d{4})-[Qq]([1-4])", value):
                year, quarter = int(m[1]), int(m[2])
                return cls(
                    "quarter",
                    date(year, 3 * quarter - 2, 1),
                    _month_end(year, 3 * quarter),
                )
            if m := re.fullmatch(r"(\d{4})-(\d{2})", value):
                year, month = int(m[1]), int(m[2])
                return cls("month", date(year, month, 1), _month_end(year, month))
            if re.fullmatch(r"\d{4}", value):
                year = int(value)
                return cls("year", date(year, 1, 1), date(year, 12, 31))
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                day = date.fromisoformat(value)
                return cls("day", day, day)
        except ValueError:
            pass
        raise PeriodError(f"{text!r} is not a period; write {_FORMS}")

    @property
    def label(self) -> str:
        """The period as :meth:`parse` reads it (``ytd`` with its day: ``2025-ytd-08-14``)."""
        if self.kind == "day":
            return self.first.isoformat()
        if self.kind == "month":
            return f"{self.first:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.first.year}-Q{(self.first.month + 2) // 3}"
        if self.kind == "year":
            return str(self.first.year)
        return f"{self.first.year}-ytd-{self.last:%m-%d}"

    @property
    def label_vi(self) -> str:
        """The period as a Vietnamese report names it (Quý III/2025, Tháng 7/2025, …)."""
        if self.kind == "day":
            return f"Ngày {self.first:%d/%m/%Y}"
        if self.kind == "month":
            return f"Tháng {self.first.month}/{self.first.year}"
        if self.kind == "quarter":
            return f"Quý {_ROMAN[(self.first.month - 1) // 3]}/{self.first.year}"
        if self.kind == "year":
            return f"Năm {self.first.year}"
        return f"Lũy kế từ {self.first:%d/%m/%Y} đến {self.last:%d/%m/%Y}"

    @property
    def start(self) -> datetime:
        """Local midnight of the first day, as an aware UTC datetime."""
        return local_day_start(self.first)

    @property
    def end(self) -> datetime:
        """Local midnight after the last day (exclusive), aware UTC."""
        return local_day_start(self.last + timedelta(days=1))

    def parts(self) -> list[Period]:
        """The trend's steps as periods.

        A day has none (its trend is its hours); a month has its days; a quarter, year or
        year to date its months (the last one cut at ``last``).
        """
        if self.kind == "day":
            return []
        if self.kind == "month":
            days = (self.last - self.first).days + 1
            return [
                Period("day", self.first + timedelta(days=i), self.first + timedelta(days=i))
                for i in range(days)
            ]
        out: list[Period] = []
        month = self.first
        while month <= self.last:
            out.append(Period("month", month, min(_month_end(month.year, month.month), self.last)))
            month = _month_end(month.year, month.month) + timedelta(days=1)
        return out


@dataclass(frozen=True)
class TrendPoint:
    """One part of the period (a day, a month; an hour of a day period)."""

    label: str
    start: datetime
    numerator: float
    denominator: float
    value: float | None


@dataclass(frozen=True)
class ChildValue:
    """A child area's figure over the period."""

    area: str
    name_vi: str
    numerator: float
    denominator: float
    value: float | None
    gap: float | None


@dataclass(frozen=True)
class AgencySums:
    """One agency's (``agency_code`` of the DVC events) figure over the period."""

    agency: str
    numerator: float
    denominator: float
    value: float | None
    gap: float | None


@dataclass(frozen=True)
class KpiPeriod:
    """One KPI over the period in one area.

    Attributes:
        kpi: The KPI.
        numerator: Its numerator over the period (a distinct count for a distinct KPI).
        denominator: Its denominator.
        value: Their ratio; None without data.
        target: The area level's target; None without one.
        gap: :meth:`Kpi.gap`: positive = short of the target by that much.
        meets: None without a value or a target.
        trend: The period's parts, oldest first (every part, those without data with None).
        worst_children: The child areas furthest from the target (or lowest/highest without
            one), those with data only, at most :data:`WORST`.
        agencies: For a KPI of a feed whose events name an agency (DVC's), the agencies
            worst first, at most :data:`WORST`; empty else.
        forecast: At the period's end; None without a target.
        trend_per_day: Slope of the forecast's trend, KPI units per day.
    """

    kpi: Kpi
    numerator: float
    denominator: float
    value: float | None
    target: float | None
    gap: float | None
    meets: bool | None
    trend: list[TrendPoint]
    worst_children: list[ChildValue]
    agencies: list[AgencySums]
    forecast: Forecast | None
    trend_per_day: float | None


@dataclass(frozen=True)
class PeriodValues:
    """Every KPI of a catalogue over one period in one area."""

    area: Area
    period: Period
    as_of: datetime
    items: list[KpiPeriod] = field(default_factory=list)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _as_of(period: Period, now: datetime) -> datetime:
    """The moment the forecast stands at: the period's end, or now if it has not ended."""
    return min(period.end, now)


async def refresh(
    conn: asyncpg.Connection, kpis: KpiCatalogue | list[Kpi], period: Period, now: datetime
) -> None:
    """Recompute the stored values a period reads, from the window rows and events.

    Its days (and hours for a day period), and the :data:`FORECAST_DAYS` days before its end
    that the forecast is drawn from.
    """
    kpis = list(kpis)
    end = min(period.end, local_day_start(now) + timedelta(days=1))
    first = min(period.start, local_day_start(_as_of(period, now)) - timedelta(FORECAST_DAYS))
    if end > first:
        await compute(conn, kpis, first, end, "1d")
    if period.kind == "day" and end > period.start:
        await compute(conn, kpis, period.start, end, "1h")


async def _trend(conn: asyncpg.Connection, kpi: Kpi, area: str, period: Period) -> list[TrendPoint]:
    if period.kind == "day":
        # A day's hours: stored at 1h (a distinct KPI is counted per hour from the store).
        points = {p.bucket: p for p in await series(conn, kpi, area, period.start, period.end)}
        out = []
        for hour in range(24):
            at = period.start + timedelta(hours=hour)
            p = points.get(at)
            n, d = (p.numerator, p.denominator) if p else (0.0, 0.0)
            out.append(TrendPoint(f"{hour:02d}:00", at, n, d, _ratio(n, d)))
        return out
    out = []
    parts = period.parts()
    if kpi.distinct is None:
        # One read of the stored days, added up per part: the same sums as totals() per part.
        days = await series(conn, kpi, area, period.start, period.end, "1d")
        for part in parts:
            n = sum(p.numerator for p in days if part.start <= p.bucket < part.end)
            d = sum(p.denominator for p in days if part.start <= p.bucket < part.end)
            out.append(TrendPoint(part.label, part.start, n, d, _ratio(n, d)))
        return out
    for part in parts:
        t = await totals(conn, kpi, area, part.start, part.end, "1d")
        out.append(TrendPoint(part.label, part.start, t.numerator, t.denominator, t.value))
    return out


def _worst_first(kpi: Kpi, value: float | None, gap: float | None) -> float:
    """Sort key: furthest short of the target first; without a target, the worst value."""
    if gap is not None:
        return -gap
    assert value is not None
    return value if kpi.direction == "higher" else -value


# Each agency's counts from the event store, on the area and every area under it on the
# event's local day (as the stored values place them). A count of events carrying a metric is
# the metric's sum for the DVC metrics (each event adds 1); a distinct KPI counts the distinct
# values of its field instead. $1: area, $2/$3: numerator/denominator metric, $4/$5: range,
# $6: the distinct field or NULL.
_AGENCY_FIELD: Final = "agency_code"
"""The payload field that names an agency; a KPI of a feed whose events carry it is broken
down by agency (:func:`agency_sums`)."""

_AGENCIES = f"""
WITH e AS (
    SELECT ev.payload ->> 'agency_code' AS agency, ev.metrics, ev.entity, ev.payload,
           {local_day_sql("ev.occurred_at")} AS day, ev.area
    FROM events ev
    WHERE ev.occurred_at >= $4 AND ev.occurred_at < $5
      AND ev.metrics && ARRAY[$2, $3]::text[] AND ev.payload ? 'agency_code'
),
placed AS (
    SELECT e.* FROM e WHERE e.area = $1
    UNION ALL
    SELECT e.* FROM e
    JOIN area_ancestors a
      ON a.area = e.area AND a.depth > 0 AND a.ancestor = $1
     AND a.valid_from <= e.day AND e.day < a.valid_to
)
SELECT agency,
       CASE WHEN $6::text IS NULL
            THEN count(*) FILTER (WHERE metrics @> ARRAY[$2]::text[])
            ELSE count(DISTINCT CASE WHEN metrics @> ARRAY[$2]::text[] THEN
                 CASE WHEN $6 = 'entity' THEN entity ELSE payload ->> $6 END END)
       END AS numerator,
       CASE WHEN $6::text IS NULL
            THEN count(*) FILTER (WHERE metrics @> ARRAY[$3]::text[])
            ELSE count(DISTINCT CASE WHEN metrics @> ARRAY[$3]::text[] THEN
                 CASE WHEN $6 = 'entity' THEN entity ELSE payload ->> $6 END END)
       END AS denominator
FROM placed GROUP BY agency ORDER BY agency
"""  # noqa: S608 - constants only, no input


def _by_agency(feed: str) -> bool:
    """Whether the feed's events name their agency (``agency_code``, as DVC's dossiers do)."""
    return any(
        kind.feed == feed and _AGENCY_FIELD in kind.model.model_fields
        for kind in event_kinds().values()
    )


async def agency_sums(
    conn: asyncpg.Connection, kpi: Kpi, area: Area, period: Period
) -> list[AgencySums]:
    """Each agency's figure of a DVC KPI over the period, worst first (all of them).

    Counted from the event store (window rows carry no agency): the count of events carrying
    the numerator and denominator metric, which for DVC's counting metrics equals their
    window sums; a distinct-count KPI counts distinct values per agency.
    """
    rows = await conn.fetch(
        _AGENCIES,
        area.code,
        kpi.numerator,
        kpi.denominator,
        period.start,
        period.end,
        kpi.distinct,
    )
    out = []
    for r in rows:
        n, d = float(r["numerator"]), float(r["denominator"])
        value = _ratio(n, d)
        out.append(AgencySums(r["agency"], n, d, value, kpi.gap(value, area.level)))
    with_data = [a for a in out if a.value is not None]
    return sorted(with_data, key=lambda a: (_worst_first(kpi, a.value, a.gap), a.agency))


async def _one(
    conn: asyncpg.Connection, kpi: Kpi, area: Area, period: Period, now: datetime
) -> KpiPeriod:
    whole = await totals(conn, kpi, area.code, period.start, period.end, "1d")
    level = area.level
    children = []
    for c in await by_child(conn, kpi, area.code, period.start, period.end, "1d"):
        if c.value is not None:
            children.append(
                ChildValue(
                    c.area, c.name_vi, c.numerator, c.denominator, c.value, kpi.gap(c.value, level)
                )
            )
    children.sort(key=lambda c: (_worst_first(kpi, c.value, c.gap), c.area))
    agencies = await agency_sums(conn, kpi, area, period) if _by_agency(kpi.feed) else []
    status = await current(
        conn, kpi, area.code, level, _as_of(period, now), days=FORECAST_DAYS, resolution="1d"
    )
    target = kpi.target_for(level)
    return KpiPeriod(
        kpi=kpi,
        numerator=whole.numerator,
        denominator=whole.denominator,
        value=whole.value,
        target=target,
        gap=kpi.gap(whole.value, level),
        meets=None if whole.value is None or target is None else kpi.meets(whole.value, level),
        trend=await _trend(conn, kpi, area.code, period),
        worst_children=children[:WORST],
        agencies=agencies[:WORST],
        forecast=status.forecast,
        trend_per_day=status.trend_per_day,
    )


async def period_values(
    conn: asyncpg.Connection,
    catalogue: KpiCatalogue | list[Kpi],
    area: Area,
    period: Period,
    *,
    now: datetime | None = None,
) -> PeriodValues:
    """Every KPI of the catalogue over one period in one area, with trend, worst and forecast.

    Reads what is stored (``kpi_values`` at ``1d``, and ``1h`` for a day period; the event
    store for distinct KPIs and agencies): call :func:`refresh` first for figures that
    include every window written so far.

    Args:
        conn: A connection to a migrated database whose ``areas`` table is synced.
        catalogue: The KPIs.
        area: The area (its level picks the targets).
        period: The period.
        now: The present (aware); the forecast stands at ``min(period end, now)``.

    Returns:
        One :class:`KpiPeriod` per KPI, in catalogue order.
    """
    now = now or datetime.now(UTC)
    items = [await _one(conn, kpi, area, period, now) for kpi in catalogue]
    return PeriodValues(area=area, period=period, as_of=_as_of(period, now), items=items)
