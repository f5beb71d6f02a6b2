"""KPI values per bucket and area, persisted in ``kpi_values``, and how they stand vs target.

:func:`compute` turns window rows into KPI rows with one set-based statement: for every KPI
of a catalogue it sums the numerator and the denominator metric per bucket, for each area that
has data and for every area above it (district, province), and upserts the two sums. The
value is always ``sum(numerator) / sum(denominator)`` — a district's value is never the mean
of its communes' values, and a day's never the mean of its hours'.

Reading:

- :func:`series`: the stored buckets of one KPI and area over any range;
- :func:`totals`: one ratio of sums over a range;
- :func:`current`: value over a recent span, target and gap for the area's level, trend per
  day and the forecast day the target is met (:mod:`ioc.kpis.forecast`);
- :func:`by_child`: each direct child area's sums (what a provincial alert quotes to say
  where a gap comes from).

Keeping them current: :func:`keep_current` (run by ``ioc alerts run`` every pass) recomputes
the windows written since its last pass and rolls them up into hours and local days, so the
API and the Grafana boards can read any range at any resolution from ``kpi_values``.

Distinct-count KPIs (``Kpi.distinct``, e.g. distinct procedures with an online dossier ÷
distinct procedures offered online) do not add up: a procedure seen on two days or in two
communes is one procedure. So they are read from the event store (``events``), never summed:

- stored at ``1d`` only: :func:`compute` at ``1d`` (and :func:`keep_current`) counts each
  local day's distinct values per area from the store; a district or province counts over
  all the events under it (through ``area_ancestors`` on the event's local day), not the sum
  of its communes' counts. ``compute`` at ``1m`` or ``1h`` leaves distinct KPIs out;
- :func:`totals`, :func:`current` and :func:`by_child` count over the whole range from the
  store, so a month's value is the distinct count over the month, not a sum of days;
- :func:`series` reads the stored days at ``1d`` and counts each hour or minute from the
  store at ``1h`` and ``1m``.

Pass the :class:`~ioc.kpis.Kpi` itself to the readers: given only an id, a reader cannot
tell a distinct-count KPI and adds its stored buckets up as for any other KPI.

Days are local days in Asia/Ho_Chi_Minh (UTC+7, no daylight saving), as in the roll-up
views of migration 0002; times are stored and passed as aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal, NamedTuple, get_args

import asyncpg

from ioc.areas import AreaLevel
from ioc.kpis import DISTINCT_ENTITY, Kpi
from ioc.kpis.forecast import Forecast, forecast_target_date, linear_trend
from ioc.localtime import DAY_ORIGIN_SQL, date_bin_sql, local_date, local_day_sql, local_day_start

__all__ = [
    "ChildSums",
    "Point",
    "Resolution",
    "Status",
    "Totals",
    "by_child",
    "compute",
    "current",
    "keep_current",
    "series",
    "totals",
]

Resolution = Literal["1m", "1h", "1d"]
"""``1m``: the stream windows themselves (one minute by default); ``1h``, ``1d``: roll-ups."""

_WIDTHS: Final[dict[str, str]] = {"1m": "", "1h": "1 hour", "1d": "1 day"}
# Where compute reads each resolution ($4 = start, $5 = end, $6 = metrics). The roll-ups are
# TimescaleDB continuous aggregates (materialised, fast over months); on plain PostgreSQL they
# are views over date_bin(window_start), which no index serves, so there the same buckets are
# binned here (same origin as the views of 0002) with a window_start range the primary key
# and the (metric, window_start) index can use: a bucket in [start, end) only holds windows
# starting in [start, end + width).
_RAW = """
    SELECT window_start AS bucket, metric, area, sum FROM window_metrics
    WHERE window_start >= $4 AND window_start < $5 AND metric = ANY($6::text[])"""
_ROLLUP = """
    SELECT bucket, metric, area, sum FROM window_metrics_{resolution}
    WHERE bucket >= $4 AND bucket < $5 AND metric = ANY($6::text[])"""
_BINNED = """
    SELECT * FROM (
        SELECT {bucket} AS bucket, metric, area, sum
        FROM window_metrics
        WHERE window_start >= $4::timestamptz
          AND window_start < $5::timestamptz + INTERVAL '{width}'
          AND metric = ANY($6::text[])
    ) binned
    WHERE bucket >= $4 AND bucket < $5"""
# The local day of a bucket, to match areas' validity dates (fixed +07, like the views).
_LOCAL_DAY = local_day_sql("w.bucket")

# One statement for the whole catalogue. `placed` puts every window sum on its own area and,
# through area_ancestors (on the days the link is valid), on each area above it; grouping by
# (kpi, area, bucket) then adds the sums up — a ratio of sums at every level.
_COMPUTE = """
WITH k (kpi, numerator, denominator) AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
),
w AS ({source}
),
placed AS (
    SELECT w.bucket, w.metric, w.area, w.sum FROM w
    UNION ALL
    SELECT w.bucket, w.metric, a.ancestor, w.sum
    FROM w
    JOIN area_ancestors a
      ON a.area = w.area AND a.depth > 0
     AND a.valid_from <= {day} AND {day} < a.valid_to
)
INSERT INTO kpi_values AS v (kpi, resolution, area, bucket, numerator, denominator)
SELECT k.kpi, $7, p.area, p.bucket,
       coalesce(sum(p.sum) FILTER (WHERE p.metric = k.numerator), 0),
       coalesce(sum(p.sum) FILTER (WHERE p.metric = k.denominator), 0)
FROM placed p
JOIN k ON p.metric IN (k.numerator, k.denominator)
GROUP BY k.kpi, p.area, p.bucket
ON CONFLICT (kpi, resolution, area, bucket) DO UPDATE SET
    numerator = EXCLUDED.numerator,
    denominator = EXCLUDED.denominator,
    computed_at = now()
"""

# Children valid at some point of the range (a reform inside the range lists both shapes).
# A child's stored values count only on the days it is the parent's child, so a commune code
# reused under another parent after a reform does not bring its other period along.
_BY_CHILD = """
WITH links AS (
    SELECT code, name_vi,
           coalesce(valid_from, '-infinity'::date) AS valid_from,
           coalesce(valid_to, 'infinity'::date) AS valid_to
    FROM areas
    WHERE parent = $1 AND coalesce(valid_from, '-infinity'::date) <= $7::date
      AND $6::date < coalesce(valid_to, 'infinity'::date)
),
children AS (
    SELECT DISTINCT ON (code) code, name_vi FROM links ORDER BY code, valid_from DESC
),
sums AS (
    SELECT v.area, sum(v.numerator) AS numerator, sum(v.denominator) AS denominator
    FROM kpi_values v
    JOIN links l
      ON l.code = v.area
     AND l.valid_from <= {day} AND {day} < l.valid_to
    WHERE v.kpi = $2 AND v.resolution = $3 AND v.bucket >= $4 AND v.bucket < $5
    GROUP BY v.area
)
SELECT c.code, c.name_vi,
       coalesce(s.numerator, 0) AS numerator, coalesce(s.denominator, 0) AS denominator
FROM children c
LEFT JOIN sums s ON s.area = c.code
ORDER BY c.code
"""


# Distinct-count KPIs, from the event store. `e` holds the events in an event-time range that
# carry one of the KPIs' metrics, with their local day (fixed +07) to match areas' validity;
# `placed` puts each on its own area and, through area_ancestors on that day, on every area
# above it; `counted` counts each KPI's distinct values per area (and bucket). Counting over
# the placed events, not adding the communes' counts, is what makes a province exact.
# $1-$4: KPI ids, numerator and denominator metrics, what each counts; $5, $6: event-time
# range; $7: every metric involved. {bucket}: the bucket of an event (NULL for one range),
# {where}: which placed rows count, {group}: ", p.bucket" to count per bucket.
_DISTINCT = """
WITH k (kpi, numerator, denominator, field) AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
),
e AS (
    SELECT {bucket} AS bucket, ev.area, ev.metrics, ev.entity, ev.payload,
           {day} AS day
    FROM events ev
    WHERE ev.occurred_at >= $5 AND ev.occurred_at < $6 AND ev.metrics && $7::text[]
),
placed AS ({own}
    SELECT e.bucket, e.day, a.ancestor AS area, e.metrics, e.entity, e.payload
    FROM e
    JOIN area_ancestors a
      ON a.area = e.area AND {link}
     AND a.valid_from <= e.day AND e.day < a.valid_to
),
counted AS (
    SELECT k.kpi, p.area, {bucket_out} AS bucket,
           count(DISTINCT v.value) FILTER (WHERE p.metrics @> ARRAY[k.numerator]) AS numerator,
           count(DISTINCT v.value) FILTER (WHERE p.metrics @> ARRAY[k.denominator])
               AS denominator,
           count(DISTINCT p.day) AS days
    FROM placed p
    JOIN k ON p.metrics && ARRAY[k.numerator, k.denominator]
    CROSS JOIN LATERAL (
        SELECT CASE WHEN k.field = '{entity}' THEN p.entity ELSE p.payload ->> k.field END
    ) v (value)
    {where}
    GROUP BY k.kpi, p.area{group}
)
{tail}"""
# An event on its own area (even one the areas table does not know, as for window sums).
_OWN = """
    SELECT e.bucket, e.day, e.area, e.metrics, e.entity, e.payload FROM e
    UNION ALL"""
_STORE_DAYS = """
INSERT INTO kpi_values AS v (kpi, resolution, area, bucket, numerator, denominator)
SELECT kpi, '1d', area, bucket, numerator, denominator FROM counted
ON CONFLICT (kpi, resolution, area, bucket) DO UPDATE SET
    numerator = EXCLUDED.numerator,
    denominator = EXCLUDED.denominator,
    computed_at = now()
"""
_BUCKET_EXPR: Final[dict[str, str]] = {
    "1m": "date_trunc('minute', ev.occurred_at)",
    "1h": date_bin_sql("1 hour", "ev.occurred_at"),
    "1d": date_bin_sql("1 day", "ev.occurred_at"),
}
_STEPS: Final[dict[str, timedelta]] = {
    "1m": timedelta(minutes=1),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
}


def _distinct_sql(
    tail: str, *, resolution: str | None, where: str = "", children_of: bool = False
) -> str:
    """The counting CTEs then ``tail``: per bucket of ``resolution``, or over the range (None).

    ``children_of`` places each event on the direct child of ``$8`` it lies in (on the
    event's day) instead of on its own area and every area above it.
    """
    per_bucket = resolution is not None
    return _DISTINCT.format(
        day=local_day_sql("ev.occurred_at"),
        bucket=_BUCKET_EXPR[resolution] if resolution is not None else "NULL::timestamptz",
        bucket_out="p.bucket" if per_bucket else "NULL::timestamptz",
        group=", p.bucket" if per_bucket else "",
        own="" if children_of else _OWN,
        link="a.ancestor_parent = $8" if children_of else "a.depth > 0",
        where=where,
        entity=DISTINCT_ENTITY,
        tail=tail,
    )


def _distinct_args(kpis: list[Kpi], start: datetime, end: datetime) -> list[object]:
    return [
        [k.id for k in kpis],
        [k.numerator for k in kpis],
        [k.denominator for k in kpis],
        [k.distinct for k in kpis],
        start,
        end,
        sorted({m for k in kpis for m in (k.numerator, k.denominator)}),
    ]


def _bucket_ceil(at: datetime, resolution: str) -> datetime:
    """The first bucket start at or after ``at`` (days start at local midnight, +07)."""
    step = _STEPS[resolution]
    floor = local_day_start(at) if resolution == "1d" else _floor(at, step)
    return floor if floor == at else floor + step


def _event_range(start: datetime, end: datetime, resolution: str) -> tuple[datetime, datetime]:
    """Event times of the buckets starting in [start, end), as the stored buckets hold them."""
    return _bucket_ceil(start, resolution), _bucket_ceil(end, resolution)


def _as_id(kpi: Kpi | str) -> str:
    return kpi if isinstance(kpi, str) else kpi.id


def _distinct_kpi(kpi: Kpi | str) -> Kpi | None:
    return kpi if isinstance(kpi, Kpi) and kpi.distinct is not None else None


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


class Point(NamedTuple):
    """One stored bucket of a KPI in one area.

    Attributes:
        bucket: Start of the bucket (aware, UTC).
        numerator: Sum of the numerator metric.
        denominator: Sum of the denominator metric.
        value: ``numerator / denominator``; None when the denominator is 0.
    """

    bucket: datetime
    numerator: float
    denominator: float
    value: float | None


class Totals(NamedTuple):
    """A KPI's sums over a range: its value there is a ratio of these, not a mean of values.

    Attributes:
        numerator: Sum of the numerator metric.
        denominator: Sum of the denominator metric.
        value: ``numerator / denominator``; None when the denominator is 0.
        buckets: How many stored buckets the range held.
    """

    numerator: float
    denominator: float
    value: float | None
    buckets: int


class ChildSums(NamedTuple):
    """One direct child area's sums of a KPI over a range.

    Attributes:
        area: Code of the child area.
        name_vi: Its Vietnamese name.
        numerator: Sum of the numerator metric (0 when it sent nothing).
        denominator: Sum of the denominator metric.
    """

    area: str
    name_vi: str
    numerator: float
    denominator: float

    @property
    def value(self) -> float | None:
        """``numerator / denominator``; None when the denominator is 0."""
        return _ratio(self.numerator, self.denominator)


@dataclass(frozen=True)
class Status:
    """Where a KPI stands in one area: now, against its target, and where it is heading.

    Attributes:
        kpi_id: The KPI.
        area: The area code.
        level: The area's level; it picks the target.
        start: Start of the span ``value`` covers (aware, UTC).
        end: End of that span, exclusive.
        numerator: Sum of the numerator over the span.
        denominator: Sum of the denominator over the span.
        value: Their ratio; None when there is no data.
        target: The level's target; None when the KPI has none.
        gap: ``Kpi.gap``: positive = short of the target by that much, negative = ahead.
        meets: Whether the value reaches the target (True when there is no target).
        trend_per_day: Slope of the weighted linear trend of the daily values, in KPI units
            per day (0.002 = +0.2 points a day); None with fewer than two days of data.
        forecast: When the target is met at the current trajectory; None without a target.
        daily: The complete local days the trend was drawn from, oldest first.
    """

    kpi_id: str
    area: str
    level: AreaLevel
    start: datetime
    end: datetime
    numerator: float
    denominator: float
    value: float | None
    target: float | None
    gap: float | None
    meets: bool
    trend_per_day: float | None
    forecast: Forecast | None
    daily: list[Point]


def _check(resolution: str, start: datetime, end: datetime) -> None:
    if resolution not in _WIDTHS:
        raise ValueError(
            f"resolution {resolution!r} is not one of {', '.join(get_args(Resolution))}"
        )
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes (e.g. tzinfo=UTC)")
    if end <= start:
        raise ValueError(f"empty range: end ({end}) must be after start ({start})")


async def _window_source(conn: asyncpg.Connection, resolution: str) -> str:
    """The SELECT giving (bucket, metric, area, sum) of the windows at a resolution."""
    if resolution == "1m":
        return _RAW
    timescale = await conn.fetchval(
        "SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'"
    )
    if timescale:
        return _ROLLUP.format(resolution=resolution)
    width = _WIDTHS[resolution]
    return _BINNED.format(width=width, bucket=date_bin_sql(width, "window_start"))


async def compute(
    conn: asyncpg.Connection,
    kpis: Iterable[Kpi],
    start: datetime,
    end: datetime,
    resolution: Resolution = "1m",
) -> int:
    """Compute and store KPI values for every bucket starting in [start, end).

    For each KPI, each bucket and each area with window rows — and every area above it, on
    the days the link exists (see the ``area_ancestors`` view) — the numerator and
    denominator metric sums are upserted into ``kpi_values``. One INSERT … SELECT … GROUP BY
    … ON CONFLICT DO UPDATE statement does the whole catalogue; recomputing a bucket replaces
    its rows, so this is safe to repeat (e.g. after late events). A bucket whose window rows
    have gone (retention) keeps its stored values.

    ``1m`` reads ``window_metrics``; ``1h`` and ``1d`` read the continuous aggregates on
    TimescaleDB, and on plain PostgreSQL bin ``window_metrics`` the same way the
    ``window_metrics_1h/_1d`` views do (those views cannot use an index on a range).

    Distinct-count KPIs (``Kpi.distinct``) are computed at ``1d`` only, from the event store:
    each local day's distinct values per area, an area above counting every event under it
    once (not adding its children's counts). At ``1m`` and ``1h`` they are left out: read
    them with :func:`series`, :func:`totals` or :func:`by_child`, which count from the store.

    Args:
        conn: A connection to a migrated database whose ``areas`` table is synced.
        kpis: The KPIs, e.g. a whole :class:`~ioc.kpis.KpiCatalogue`.
        start: First bucket start included (aware). Align it to the resolution: a bucket
            that starts before ``start`` is left out even if it overlaps the range.
        end: Bucket starts before this are included (aware).
        resolution: ``1m`` (the stream windows), ``1h`` or ``1d``.

    Returns:
        The number of ``kpi_values`` rows written.

    Raises:
        ValueError: If the resolution is unknown or the range empty or naive.
    """
    _check(resolution, start, end)
    everything = list(kpis)
    distinct = [k for k in everything if k.distinct is not None]
    chosen = [k for k in everything if k.distinct is None]
    written = 0
    if distinct and resolution == "1d":
        sql = _distinct_sql(_STORE_DAYS, resolution="1d")
        status_d: str = await conn.execute(
            sql, *_distinct_args(distinct, *_event_range(start, end, "1d"))
        )
        written += int(status_d.split()[-1])
    if not chosen:
        return written
    metrics = sorted({m for k in chosen for m in (k.numerator, k.denominator)})
    sql = _COMPUTE.format(source=await _window_source(conn, resolution), day=_LOCAL_DAY)
    status: str = await conn.execute(
        sql,
        [k.id for k in chosen],
        [k.numerator for k in chosen],
        [k.denominator for k in chosen],
        start,
        end,
        metrics,
        resolution,
    )
    return written + int(status.split()[-1])


# Hours and local days are sums of the finer stored buckets: a ratio of sums stays exact.
# Every finer bucket lies in exactly one coarser one (the +07 origin, like the views of 0002).
_ROLL_UP = f"""
INSERT INTO kpi_values AS v (kpi, resolution, area, bucket, numerator, denominator)
SELECT kpi, $2, area,
       date_bin($3::interval, bucket, {DAY_ORIGIN_SQL}) AS coarse,
       sum(numerator), sum(denominator)
FROM kpi_values
WHERE resolution = $1 AND bucket >= $4 AND bucket < $5
GROUP BY kpi, area, coarse
ON CONFLICT (kpi, resolution, area, bucket) DO UPDATE SET
    numerator = EXCLUDED.numerator,
    denominator = EXCLUDED.denominator,
    computed_at = now()
"""  # noqa: S608 - constants only, no input
_CURSOR = "kpi_values"  # its row in alert_cursor: window rows written up to here (DB time)
# A flush commits within seconds of its now(); rows stamped up to this long before the cursor
# may become visible after a pass read past them, so each pass looks back this far again.
_COMMIT_SLACK = timedelta(seconds=60)
_SPAN = timedelta(minutes=10)  # window rows are recomputed in spans of this length
_KEPT_FROM = (
    "SELECT name, evaluated_until FROM alert_cursor "
    "WHERE name IN ('kpi_values_1m_kept_from', 'kpi_values_1h_kept_from')"
)


def _floor(at: datetime, step: timedelta) -> datetime:
    seconds = step.total_seconds()
    return datetime.fromtimestamp(at.timestamp() // seconds * seconds, UTC)


_TOUCHED = f"""
SELECT DISTINCT date_bin($2::interval, window_start, {DAY_ORIGIN_SQL}) AS span
FROM window_metrics WHERE updated_at > $1 ORDER BY span
"""  # noqa: S608 - constants only, no input


async def keep_current(
    conn: asyncpg.Connection,
    kpis: Iterable[Kpi],
    *,
    first_days: int = 2,
) -> int:
    """Bring ``kpi_values`` up to date with the window rows at 1m, 1h and 1d.

    Follows what the stream workers wrote, not the clock: each pass finds the windows written
    since the last one (``window_metrics.updated_at``, a BRIN index), recomputes their spans
    at 1m and rolls the touched hours and local days up. So a worker catching up after a
    pause, a backfill, or an event that joins a window late all reach the KPI values. The
    very first pass computes the last ``first_days`` local days. Safe to run from many
    processes: one pass at a time.

    Distinct-count KPIs are kept at 1d only: every local day touched is counted again from
    the event store (an event first stored always changes its window, so the touched days
    are the days with new events). They have no 1m or 1h rows.

    Args:
        conn: A connection to a migrated database whose ``areas`` table is synced.
        kpis: The KPIs.
        first_days: How many local days the very first pass computes.

    Returns:
        How many 10-minute spans of windows were recomputed; -1 if another process holds the
        lock.
    """
    kpis = list(kpis)
    async with conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext('ioc-kpi-values'))"):
            return -1
        now = await conn.fetchval("SELECT now()")
        done = await conn.fetchval(
            "SELECT evaluated_until FROM alert_cursor WHERE name = $1", _CURSOR
        )
        if done is None:
            first = local_day_start(now) - timedelta(days=first_days - 1)
            spans = [first + i * _SPAN for i in range(int((now - first) / _SPAN) + 1)]
        else:
            spans = [r["span"] for r in await conn.fetch(_TOUCHED, done - _COMMIT_SLACK, _SPAN)]
        for start, end in _runs(spans, _SPAN):
            await compute(conn, kpis, start, end, "1m")
        hours = sorted({_floor(s, timedelta(hours=1)) for s in spans})
        # Before the finer rows kept (ioc.db.retention deleted older ones), a bucket is
        # computed from the window rows: rolled up from what is left, it would be short.
        kept = dict(await conn.fetch(_KEPT_FROM))
        for start, end in _runs(hours, timedelta(hours=1)):
            split = min(max(start, kept.get("kpi_values_1m_kept_from", start)), end)
            if split > start:
                await compute(conn, kpis, start, split, "1h")
            if end > split:
                await conn.execute(_ROLL_UP, "1m", "1h", timedelta(hours=1), split, end)
        days = sorted({local_day_start(h) for h in hours})
        distinct = [k for k in kpis if k.distinct is not None]
        for start, end in _runs(days, timedelta(days=1)):
            split = min(max(start, kept.get("kpi_values_1h_kept_from", start)), end)
            if split > start:
                await compute(conn, kpis, start, split, "1d")
            if end > split:
                await conn.execute(_ROLL_UP, "1h", "1d", timedelta(days=1), split, end)
            if distinct:
                await compute(conn, distinct, start, end, "1d")
        await conn.execute(
            "INSERT INTO alert_cursor (name, evaluated_until) VALUES ($1, $2) "
            "ON CONFLICT (name) DO UPDATE SET evaluated_until = EXCLUDED.evaluated_until",
            _CURSOR,
            now,
        )
        return len(spans)


def _runs(starts: list[datetime], step: timedelta) -> list[tuple[datetime, datetime]]:
    """Sorted bucket starts as [start, end) ranges of consecutive buckets."""
    out: list[tuple[datetime, datetime]] = []
    for start in starts:
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], start + step)
        else:
            out.append((start, start + step))
    return out


async def series(
    conn: asyncpg.Connection,
    kpi: Kpi | str,
    area: str,
    start: datetime,
    end: datetime,
    resolution: Resolution = "1h",
) -> list[Point]:
    """Return the stored values of one KPI in one area, bucket by bucket.

    A distinct-count KPI is stored per local day: at ``1d`` its stored days are read; at
    ``1h`` and ``1m`` each bucket's distinct values are counted from the event store.

    Args:
        conn: A database connection.
        kpi: The KPI, or its id (an id is read as a ratio-of-sums KPI: pass the
            :class:`~ioc.kpis.Kpi` of a distinct-count KPI).
        area: The area code.
        start: First bucket start included (aware).
        end: Bucket starts before this are included.
        resolution: Which stored resolution to read.

    Returns:
        The buckets that were computed, oldest first; a bucket without data is absent.

    Raises:
        ValueError: If the resolution is unknown or the range empty or naive.
    """
    _check(resolution, start, end)
    distinct = _distinct_kpi(kpi)
    if distinct is not None and resolution != "1d":
        rows = await conn.fetch(
            _distinct_sql(
                "SELECT bucket, numerator, denominator FROM counted ORDER BY bucket",
                resolution=resolution,
                where="WHERE p.area = $8",
            ),
            *_distinct_args([distinct], *_event_range(start, end, resolution)),
            area,
        )
        return [
            Point(
                r["bucket"],
                float(r["numerator"]),
                float(r["denominator"]),
                _ratio(float(r["numerator"]), float(r["denominator"])),
            )
            for r in rows
        ]
    rows = await conn.fetch(
        "SELECT bucket, numerator, denominator FROM kpi_values "
        "WHERE kpi = $1 AND resolution = $2 AND area = $3 AND bucket >= $4 AND bucket < $5 "
        "ORDER BY bucket",
        _as_id(kpi),
        resolution,
        area,
        start,
        end,
    )
    return [
        Point(
            r["bucket"], r["numerator"], r["denominator"], _ratio(r["numerator"], r["denominator"])
        )
        for r in rows
    ]


async def totals(
    conn: asyncpg.Connection,
    kpi: Kpi | str,
    area: str,
    start: datetime,
    end: datetime,
    resolution: Resolution = "1h",
) -> Totals:
    """Return one KPI's sums, and their ratio, over a range of stored buckets.

    A distinct-count KPI is counted over the whole range from the event store (the events of
    the buckets of ``resolution`` starting in [start, end)): a month is the distinct values
    of the month, not a sum of days. Its ``buckets`` are then the local days with events.

    Args:
        conn: A database connection.
        kpi: The KPI, or its id (an id is read as a ratio-of-sums KPI: pass the
            :class:`~ioc.kpis.Kpi` of a distinct-count KPI).
        area: The area code.
        start: First bucket start included (aware).
        end: Bucket starts before this are included.
        resolution: Which stored resolution to add up.

    Returns:
        The sums and value; zeros and None when nothing is stored for the range.

    Raises:
        ValueError: If the resolution is unknown or the range empty or naive.
    """
    _check(resolution, start, end)
    distinct = _distinct_kpi(kpi)
    if distinct is not None:
        found = await conn.fetchrow(
            _distinct_sql(
                "SELECT numerator, denominator, days FROM counted",
                resolution=None,
                where="WHERE p.area = $8",
            ),
            *_distinct_args([distinct], *_event_range(start, end, resolution)),
            area,
        )
        if found is None:
            return Totals(0.0, 0.0, None, 0)
        n, d = float(found["numerator"]), float(found["denominator"])
        return Totals(n, d, _ratio(n, d), int(found["days"]))
    row = await conn.fetchrow(
        "SELECT coalesce(sum(numerator), 0) AS n, coalesce(sum(denominator), 0) AS d, "
        "count(*) AS buckets FROM kpi_values "
        "WHERE kpi = $1 AND resolution = $2 AND area = $3 AND bucket >= $4 AND bucket < $5",
        _as_id(kpi),
        resolution,
        area,
        start,
        end,
    )
    numerator, denominator = float(row["n"]), float(row["d"])
    return Totals(numerator, denominator, _ratio(numerator, denominator), int(row["buckets"]))


async def current(
    conn: asyncpg.Connection,
    kpi: Kpi,
    area: str,
    level: AreaLevel | str,
    now: datetime,
    *,
    window: timedelta = timedelta(days=1),
    resolution: Resolution = "1h",
    days: int = 30,
    half_life_days: float | None = 14.0,
) -> Status:
    """Tell where a KPI stands in an area: value, target, gap, trend and forecast.

    Reads ``kpi_values`` only, so :func:`compute` must have run for the span (at
    ``resolution``) and for the last ``days`` days (at ``1d``); ``ioc kpis show`` does both.
    A distinct-count KPI's value is counted over the span from the event store instead
    (see :func:`totals`); its daily values are its stored days.

    - value: ratio of sums over the buckets starting in [now - window, now);
    - target and gap: for the area's level (:meth:`Kpi.gap`: positive = short of target);
    - trend: slope per day of the weighted linear trend of the daily values of the last
      ``days`` complete local days (today, still incomplete, is left out);
    - forecast: the day the target is met if that trend continues
      (:func:`ioc.kpis.forecast.forecast_target_date`, with its backtest error).

    Args:
        conn: A database connection.
        kpi: The KPI.
        area: The area code.
        level: The area's level ("province", "district", "commune").
        now: The present moment (aware).
        window: Span of the current value; a day by default, so daily feeds (catalogue
            snapshots, subscriptions) have a value too.
        resolution: Stored resolution the current value is summed from.
        days: How many complete days the trend and forecast use.
        half_life_days: Weighting of the trend (see :func:`ioc.kpis.forecast.forecast_target_date`).

    Returns:
        The status.

    Raises:
        ValueError: If the resolution is unknown, ``now`` naive or ``days`` below 1.
    """
    if days < 1:
        raise ValueError(f"days must be 1 or more, got {days}")
    level = AreaLevel(level)
    start = now - window
    now_totals = await totals(conn, kpi, area, start, now, resolution)
    today = local_day_start(now)
    daily = await series(conn, kpi, area, today - timedelta(days=days), today, "1d")
    ordinals = [local_date(p.bucket).toordinal() for p in daily if p.value is not None]
    values = [p.value for p in daily if p.value is not None]
    target = kpi.target_for(level)
    forecast = (
        forecast_target_date(
            ordinals,
            values,
            target,
            kpi.direction,
            today=local_date(now),
            half_life_days=half_life_days,
        )
        if target is not None
        else None
    )
    return Status(
        kpi_id=kpi.id,
        area=area,
        level=level,
        start=start,
        end=now,
        numerator=now_totals.numerator,
        denominator=now_totals.denominator,
        value=now_totals.value,
        target=target,
        gap=kpi.gap(now_totals.value, level),
        meets=kpi.meets(now_totals.value, level),
        trend_per_day=linear_trend(ordinals, values, half_life_days=half_life_days),
        forecast=forecast,
        daily=daily,
    )


async def by_child(
    conn: asyncpg.Connection,
    kpi: Kpi | str,
    parent_area: str,
    start: datetime,
    end: datetime,
    resolution: Resolution = "1m",
) -> list[ChildSums]:
    """Return each direct child area's sums of a KPI, to say where a parent's figure comes from.

    Reads ``kpi_values``, so :func:`compute` must have run for the range at ``resolution``.
    A child's buckets count only on the days it is a child of ``parent_area`` (a commune
    code reused under another parent after a reform brings nothing from its other period),
    so the children's sums add up to the parent's, except for data attributed to the
    parent area itself. Children valid at any time in the range are listed, those without
    data with zero sums.

    A distinct-count KPI is counted per child over the whole range from the event store (an
    event counts for the child it lies in on its own local day); the children's counts then
    do not add up to the parent's (a procedure offered in two children is one procedure).

    Args:
        conn: A connection to a migrated database whose ``areas`` table is synced.
        kpi: The KPI, or its id (an id is read as a ratio-of-sums KPI: pass the
            :class:`~ioc.kpis.Kpi` of a distinct-count KPI).
        parent_area: Code of the parent (the province, or a district).
        start: First bucket start included (aware).
        end: Bucket starts before this are included.
        resolution: Which stored resolution to add up.

    Returns:
        One entry per child, ordered by code; empty for an area without children.

    Raises:
        ValueError: If the resolution is unknown or the range empty or naive.
    """
    _check(resolution, start, end)
    distinct = _distinct_kpi(kpi)
    if distinct is not None:
        return await _distinct_by_child(conn, distinct, parent_area, start, end, resolution)
    rows = await conn.fetch(
        _BY_CHILD.format(day=_LOCAL_DAY.replace("w.bucket", "v.bucket")),
        parent_area,
        _as_id(kpi),
        resolution,
        start,
        end,
        local_date(start),
        local_date(end - timedelta(microseconds=1)),
    )
    return [
        ChildSums(r["code"], r["name_vi"], float(r["numerator"]), float(r["denominator"]))
        for r in rows
    ]


_CHILDREN = """
SELECT DISTINCT ON (code) code, name_vi FROM areas
WHERE parent = $1 AND coalesce(valid_from, '-infinity'::date) <= $3::date
  AND $2::date < coalesce(valid_to, 'infinity'::date)
ORDER BY code, coalesce(valid_from, '-infinity'::date) DESC
"""


async def _distinct_by_child(
    conn: asyncpg.Connection,
    kpi: Kpi,
    parent_area: str,
    start: datetime,
    end: datetime,
    resolution: str,
) -> list[ChildSums]:
    first, last = _event_range(start, end, resolution)
    children = await conn.fetch(
        _CHILDREN, parent_area, local_date(start), local_date(end - timedelta(microseconds=1))
    )
    if not children or last <= first:
        return [ChildSums(c["code"], c["name_vi"], 0.0, 0.0) for c in children]
    rows = await conn.fetch(
        _distinct_sql(
            "SELECT area, numerator, denominator FROM counted", resolution=None, children_of=True
        ),
        *_distinct_args([kpi], first, last),
        parent_area,
    )
    counts = {r["area"]: (float(r["numerator"]), float(r["denominator"])) for r in rows}
    return [
        ChildSums(c["code"], c["name_vi"], *counts.get(c["code"], (0.0, 0.0))) for c in children
    ]
