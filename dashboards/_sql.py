"""SQL pieces the panels share, so that every board reads the tables the same way the API does.

Conventions the fragments keep:

- Times are stored in UTC. A local day is the +07 day (Asia/Ho_Chi_Minh has no daylight
  saving), written by :func:`ioc.localtime.local_day_sql` as in :mod:`ioc.kpis.values`, so a
  board and the API put a bucket on the same day when they match it against the areas'
  validity dates.
- ``$area`` is the area the board shows (a single-value variable: Grafana inserts its value
  unquoted, with ``'`` doubled, so it is written inside quotes here).
- The resolution follows the range: up to a day the one-minute stream windows, up to 31 days
  the hourly roll-ups, beyond that the daily ones. Both ``kpi_values`` (kept at 1m, 1h and 1d
  by ``ioc alerts run``) and the window roll-ups are read this way, as the API does.
- Catalogue text reaches SQL only through :func:`literal`, which refuses what Grafana would
  take for a variable.
- Distinct-count KPIs (``Kpi.distinct``) are never summed from ``kpi_values``: they are
  counted from the event store over the board's range (:func:`distinct_counts`), as the API
  counts them, so a month is the distinct count of the month.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Literal

from ioc.kpis import DISTINCT_ENTITY, Kpi
from ioc.localtime import OFFSET, local_day_sql

__all__ = [
    "FROM_DAY",
    "KPI_RESOLUTION",
    "RANGE_FROM",
    "RANGE_TO",
    "SPAN",
    "TO_DAY",
    "Cell",
    "ColumnType",
    "area_links",
    "distinct_counts",
    "in_area",
    "literal",
    "number",
    "per_hour",
    "ratio",
    "values",
    "windows",
]

RANGE_FROM = "$__timeFrom()::timestamptz"
RANGE_TO = "$__timeTo()::timestamptz"
SPAN = f"({RANGE_TO} - {RANGE_FROM})"
"""The length of the board's time range, as an interval."""

# Up to a day: one-minute stream windows (at most 1,440 per series); up to a month: hours.
_MINUTES_UP_TO = "INTERVAL '1 day'"
_HOURS_UP_TO = "INTERVAL '31 days'"

KPI_RESOLUTION = (
    f"(CASE WHEN {SPAN} <= {_MINUTES_UP_TO} THEN '1m' "
    f"WHEN {SPAN} <= {_HOURS_UP_TO} THEN '1h' ELSE '1d' END)"
)
"""The ``kpi_values.resolution`` that fits the range (a constant the planner folds away)."""


FROM_DAY = local_day_sql(RANGE_FROM)
TO_DAY = local_day_sql(RANGE_TO)


def literal(text: str) -> str:
    """Quote text as an SQL string literal, refusing what Grafana would read as a variable.

    Grafana replaces ``$name``, ``${name}`` and ``[[name]]`` anywhere in a query, string
    literals included, so catalogue text with those would silently change.

    Raises:
        ValueError: If the text contains ``$`` or ``[[``; the message says where to fix it.
    """
    if "$" in text or "[[" in text:
        raise ValueError(
            f"{text!r} contains '$' or '[[', which Grafana reads as a variable in a query; "
            "reword it in the catalogue (e.g. write 'USD' instead of '$')"
        )
    return "'" + text.replace("'", "''") + "'"


def number(value: float | None) -> str:
    """Return a float8 SQL literal, or a typed NULL."""
    if value is None:
        return "NULL::float8"
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    return f"{value!r}::float8"


Cell = str | float | int | date | None
ColumnType = Literal["text", "float8", "int", "date"]


def _cell(value: Cell, kind: ColumnType) -> str:
    if value is None:
        return f"NULL::{kind}"
    if kind == "text" and isinstance(value, str):
        return literal(value)
    if kind == "float8" and isinstance(value, int | float) and not isinstance(value, bool):
        return number(float(value))
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if kind == "date" and isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    raise TypeError(f"{value!r} is not a {kind} value")


def values(rows: Iterable[Sequence[Cell]], types: Sequence[ColumnType]) -> str:
    """Return a ``VALUES`` list of typed SQL literals (NULLs typed too).

    The caller names the columns, e.g. ``(VALUES ...) AS m (metric, label)``.

    Args:
        rows: The rows; each has one cell per column.
        types: The SQL type of each column.
    """
    out: list[str] = []
    for row in rows:
        if len(row) != len(types):
            raise ValueError(f"row {row!r} has {len(row)} cells for {len(types)} columns")
        out.append("(" + ", ".join(_cell(c, t) for c, t in zip(row, types, strict=True)) + ")")
    if not out:
        raise ValueError("a VALUES list needs at least one row")
    return "VALUES " + ",\n       ".join(out)


def ratio(numerator: str, denominator: str) -> str:
    """Return SQL for a ratio of sums; NULL (no data) rather than a division by zero."""
    return f"sum({numerator}) / nullif(sum({denominator}), 0)"


def windows(metric_filter: str, raw_window_ms: int) -> str:
    """Return a SELECT of the stream windows over the range, from the table that fits it.

    Columns: ``t`` (window or bucket start), ``width_ms`` (its width), ``metric``, ``area``,
    ``count``, ``sum``. The three branches are guarded by the range length, a constant, so
    PostgreSQL runs only one of them (the others become a one-time ``false`` filter).

    Args:
        metric_filter: A condition on ``metric`` (pushed into each branch, where the
            ``(metric, window_start)`` index and the roll-ups' own indexes serve it).
        raw_window_ms: Width of one stream window (``IOC_STREAMS__WINDOW_SECONDS``).
    """
    return f"""SELECT window_start AS t, {raw_window_ms}::float8 AS width_ms,
           metric, area, count, sum
    FROM window_metrics
    WHERE {SPAN} <= {_MINUTES_UP_TO} AND $__timeFilter(window_start) AND {metric_filter}
    UNION ALL
    SELECT bucket, 3600000::float8, metric, area, count, sum
    FROM window_metrics_1h
    WHERE {SPAN} > {_MINUTES_UP_TO} AND {SPAN} <= {_HOURS_UP_TO}
      AND $__timeFilter(bucket) AND {metric_filter}
    UNION ALL
    SELECT bucket, 86400000::float8, metric, area, count, sum
    FROM window_metrics_1d
    WHERE {SPAN} > {_HOURS_UP_TO} AND $__timeFilter(bucket) AND {metric_filter}"""


def in_area(alias: str, time_column: str) -> str:
    """Return a JOIN keeping the rows of ``alias`` whose area lies in ``$area`` on their day.

    ``area_ancestors`` pairs every area with itself and each area above it, on the days the
    link holds: a commune's window counts for its old district before the 1/7/2025 reform and
    straight for the province after it, exactly as in ``kpi_values``.
    """
    day = local_day_sql(f"{alias}.{time_column}")
    return (
        f"JOIN area_ancestors x ON x.area = {alias}.area AND x.ancestor = '$area'\n"
        f"     AND x.valid_from <= {day} AND {day} < x.valid_to"
    )


def per_hour(total: str, width: str) -> str:
    """Return SQL turning a sum over one time group into a rate per hour.

    A group spans ``$__interval`` or, when the roll-up's buckets are wider than that, one
    bucket; dividing by the wider of the two keeps a count per hour comparable whatever the
    range and the table it came from.
    """
    return f"{total} / (greatest($__interval_ms, max({width})) / 3600000.0)"


def area_links() -> str:
    """Return CTEs ``links`` (children of ``$area`` valid in the range) and ``board_rows``.

    ``board_rows`` (o, code, name_vi, level) is the area itself (o = 0) followed by its
    direct children (o = 1): in the three-tier shape the province's districts or a district's
    communes, in the two-tier shape the province's communes, both when the range spans the
    reform. A code with two rows under the same parent shows its newest name.
    """
    return f"""links AS (
    SELECT code, name_vi, level,
           coalesce(valid_from, '-infinity'::date) AS valid_from,
           coalesce(valid_to, 'infinity'::date) AS valid_to
    FROM areas
    WHERE parent = '$area'
      AND coalesce(valid_from, '-infinity'::date) <= {TO_DAY}
      AND {FROM_DAY} < coalesce(valid_to, 'infinity'::date)
),
board_rows AS (
    (SELECT 0 AS o, code, name_vi, level FROM areas WHERE code = '$area'
     ORDER BY coalesce(valid_from, '-infinity'::date) DESC LIMIT 1)
    UNION ALL
    (SELECT DISTINCT ON (code) 1, code, name_vi, level FROM links ORDER BY code, valid_from DESC)
)"""


_DAY_MS = 86_400_000
_LOCAL_MS = int(OFFSET.total_seconds() * 1000)


def distinct_counts(kpis: Sequence[Kpi], *, children: bool = False, steps: bool = False) -> str:
    """Return a SELECT of distinct-count KPIs counted from the event store over the range.

    Columns: ``kpi``, ``area``, ``t``, ``n`` (distinct values among the events carrying the
    numerator metric), ``d`` (likewise for the denominator). An event counts for ``$area``
    when it lies in it on its own local day (``area_ancestors``), so a district or province
    counts every event under it once, never adding its children's counts.

    Args:
        kpis: Distinct-count KPIs (each with ``distinct`` set).
        children: Count for each direct child of ``$area`` instead (an event counts for the
            child it lies in on its day, while that child is under ``$area``).
        steps: Count per time step: ``$__interval`` but at least one local day (a daily
            catalogue snapshot makes shorter steps meaningless), starting at local midnight;
            ``t`` is the step's start (timestamptz on both tiers). Otherwise ``t`` is NULL and
            the whole range is counted at once.

    Raises:
        ValueError: If a KPI is not a distinct-count KPI.
    """
    plain = [k.id for k in kpis if k.distinct is None]
    if plain or not kpis:
        raise ValueError(f"not distinct-count KPIs: {plain or 'none given'}")
    rows = values(
        [(k.id, k.numerator, k.denominator, k.distinct) for k in kpis],
        ("text", "text", "text", "text"),
    )
    metrics = ", ".join(
        literal(m) for m in sorted({x for k in kpis for x in (k.numerator, k.denominator)})
    )
    day = local_day_sql("ev.occurred_at")
    place = "x.ancestor_parent = '$area'" if children else "x.ancestor = '$area'"
    step = f"greatest($__interval_ms, {_DAY_MS})"
    t = (
        f"to_timestamp((floor((extract(epoch FROM ev.occurred_at) * 1000 + {_LOCAL_MS}) / {step})"
        f" * {step} - {_LOCAL_MS}) / 1000.0)"
        if steps
        else "NULL::timestamptz"
    )
    return f"""SELECT k.kpi, x.ancestor AS area, {t} AS t,
           count(DISTINCT v.value) FILTER (WHERE ev.metrics @> ARRAY[k.numerator])::float8 AS n,
           count(DISTINCT v.value) FILTER (WHERE ev.metrics @> ARRAY[k.denominator])::float8
               AS d
    FROM events ev
    JOIN area_ancestors x ON x.area = ev.area AND {place}
     AND x.valid_from <= {day} AND {day} < x.valid_to
    JOIN ({rows}) AS k (kpi, numerator, denominator, field)
      ON ev.metrics && ARRAY[k.numerator, k.denominator]
    CROSS JOIN LATERAL (
        SELECT CASE WHEN k.field = '{DISTINCT_ENTITY}' THEN ev.entity
                    ELSE ev.payload ->> k.field END
    ) v (value)
    WHERE $__timeFilter(ev.occurred_at) AND ev.metrics && ARRAY[{metrics}]::text[]
    GROUP BY k.kpi, x.ancestor, 3"""
