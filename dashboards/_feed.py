"""The shape of a feed's board, its window panels, and the board of an undrawn declared feed.

A declared feed nobody drew a board for gets one from its declaration (:func:`declared_board`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.builders import timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as models

from ioc.dashboards import _sql
from ioc.dashboards._common import (
    MAX_DATA_POINTS,
    BoardContext,
    area_variables,
    board,
    by_area_table,
    datasource,
    kpi_stat,
    kpi_trend,
    query,
)
from ioc.datafile import parse, read_text
from ioc.feeds import FeedFileError, FeedKind
from ioc.feeds._spec import FeedSpec

__all__ = ["declared_board", "feed_board", "labelled_rates", "labelled_ratio", "single_series"]


def feed_board(
    ctx: BoardContext,
    *,
    feed: str,
    uid: str,
    title_vi: str,
    description_en: str,
    variables: Sequence[cogbuilder.Builder[models.VariableModel]] = (),
    window_panels: Sequence[timeseries.Panel] = (),
) -> builders.Dashboard:
    """A feed's board: KPI tiles, KPI trends, the feed's own window panels, areas below.

    Args:
        ctx: The catalogue and window width.
        feed: The feed whose KPIs it shows.
        uid: The board's uid (stable: links and bookmarks use it).
        title_vi: Its title.
        description_en: What it shows.
        variables: The feed's own variables, after the area ones.
        window_panels: Panels of the feed's window metrics (volumes, latencies, ...).
    """
    kpis = ctx.catalogue.for_feed(feed)
    if not kpis:
        raise ValueError(f"the catalogue has no KPI of feed {feed!r}; its board would be empty")
    out = board(uid, title_vi, description_en)
    for variable in [*area_variables(), *variables]:
        out = out.with_variable(variable)
    out = out.with_row(builders.Row("Chỉ tiêu so với mục tiêu"))
    for kpi in kpis:
        out = out.with_panel(kpi_stat(ctx, kpi))
    out = out.with_row(builders.Row("Diễn biến chỉ tiêu"))
    for kpi in kpis:
        out = out.with_panel(kpi_trend(ctx, kpi))
    if window_panels:
        out = out.with_row(builders.Row("Số liệu vận hành"))
        for panel in window_panels:
            out = out.with_panel(panel)
    out = out.with_row(builders.Row("Theo địa bàn"))
    return out.with_panel(by_area_table(ctx, uid, "Chỉ tiêu theo địa bàn", kpis))


def _window_panel(
    ctx: BoardContext, title: str, description: str, sql: str, unit: str
) -> timeseries.Panel:
    return (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(datasource())
        .with_target(query(sql, "time_series"))
        .unit(unit)
        .max_data_points(MAX_DATA_POINTS)
        .interval(ctx.min_interval)
        .span_nulls(True)
        .fill_opacity(10)
        .height(8)
        .span(12)
    )


def labelled_rates(
    ctx: BoardContext,
    *,
    title: str,
    description: str,
    metric_filter: str,
    labels: Sequence[tuple[str, str]],
    unit: str = "suffix: /giờ",
) -> timeseries.Panel:
    """Counts per hour of several metrics in ``$area``, one series per Vietnamese label.

    Args:
        ctx: The board context.
        title: Panel title (Vietnamese).
        description: What it shows (English).
        metric_filter: Condition on ``metric`` choosing the rows (it may use a variable).
        labels: (metric, label) of every metric the filter can let through.
        unit: Grafana unit of the rate.
    """
    sql = f"""WITH w AS (
    {_sql.windows(metric_filter, ctx.window_ms)}
)
SELECT $__timeGroupAlias(w.t, $__interval), m.label AS metric,
       {_sql.per_hour("sum(w.sum)", "w.width_ms")} AS value
FROM w
JOIN ({_sql.values(labels, ("text", "text"))}) AS m (metric, label) ON m.metric = w.metric
{_sql.in_area("w", "t")}
GROUP BY 1, 2
ORDER BY 1, 2
"""
    return _window_panel(ctx, title, description, sql, unit)


def labelled_ratio(
    ctx: BoardContext,
    *,
    title: str,
    description: str,
    metric_filter: str,
    key: str,
    labels: Sequence[tuple[str, str]],
    numerator: str,
    denominator: str,
    unit: str,
) -> timeseries.Panel:
    """A ratio of sums per time step in ``$area``, one series per label.

    Args:
        ctx: The board context.
        title: Panel title (Vietnamese).
        description: What it shows (English).
        metric_filter: Condition on ``metric`` choosing the rows.
        key: SQL giving each row's series key from ``w.metric`` (matched against ``labels``).
        labels: (key, label) of every series.
        numerator: Aggregate SQL above the line, over the rows ``w`` of one step and series.
        denominator: Aggregate SQL below it.
        unit: Grafana unit of the ratio.
    """
    sql = f"""WITH w AS (
    {_sql.windows(metric_filter, ctx.window_ms)}
)
SELECT $__timeGroupAlias(w.t, $__interval), k.label AS metric,
       {numerator} / nullif({denominator}, 0) AS value
FROM w
JOIN ({_sql.values(labels, ("text", "text"))}) AS k (key, label) ON k.key = {key}
{_sql.in_area("w", "t")}
GROUP BY 1, 2
ORDER BY 1, 2
"""
    return _window_panel(ctx, title, description, sql, unit)


def single_series(
    ctx: BoardContext,
    *,
    title: str,
    description: str,
    metric: str,
    column: str,
    value: str,
    unit: str,
    display_name: str,
) -> timeseries.Panel:
    """One series computed from one metric's rows ``w`` in ``$area``.

    Args:
        ctx: The board context.
        title: Panel title (Vietnamese).
        description: What it shows (English).
        metric: The metric.
        column: Name of the value column (an identifier).
        value: SQL aggregate over the rows ``w`` of one time step.
        unit: Grafana unit.
        display_name: The series' name on the board.
    """
    sql = f"""WITH w AS (
    {_sql.windows(f"metric = {_sql.literal(metric)}", ctx.window_ms)}
)
SELECT $__timeGroupAlias(w.t, $__interval), {value} AS "{column}"
FROM w
{_sql.in_area("w", "t")}
GROUP BY 1
ORDER BY 1
"""
    return (
        _window_panel(ctx, title, description, sql, unit)
        .override_by_name(
            column, [models.DynamicConfigValue(id_val="displayName", value=display_name)]
        )
        .draw_style(common.GraphDrawStyle.LINE)
    )


def _measured(declared: FeedKind) -> set[str]:
    """The feed's metrics that add a field's value (a measurement), not 1 per event (a count).

    The compiled feed keeps only each metric's name and doc, so the declaration is read again
    for its ``value:`` entries; a templated name (``aq.{pollutant}.level``) covers every
    metric it expands to.
    """
    doc = parse(declared.source, read_text(Path(declared.source), FeedFileError))
    spec = FeedSpec.model_validate(doc.data)
    patterns = [
        re.compile(
            "".join(
                "[^.]+" if part.startswith("{") else re.escape(part)
                for part in re.split(r"(\{[a-z0-9_]+\})", metric.metric)
            )
        )
        for event in spec.events.values()
        for metric in event.metrics
        if metric.value is not None
    ]
    return {m for m in declared.metrics if any(p.fullmatch(m) for p in patterns)}


def declared_board(ctx: BoardContext, declared: FeedKind, uid: str) -> builders.Dashboard:
    """The board of a declared feed without a hand-made one, drawn from its declaration alone.

    Its KPIs (tiles and trends) when the catalogue has some, its events per hour, each metric
    its declaration names (a count per hour, or a measurement's mean), and the KPIs by area.

    Args:
        ctx: The catalogue and window width.
        declared: The feed (`ioc.feeds.feeds`).
        uid: The board's uid.
    """
    kpis = ctx.catalogue.for_feed(declared.feed)
    out = board(
        uid,
        declared.name_vi,
        f"{declared.name_en}, drawn from its declaration ({Path(declared.source).name}): "
        + ("its KPIs against their targets, " if kpis else "")
        + "its events per hour and each metric its events add"
        + ("; per area." if kpis else "."),
    )
    for variable in area_variables():
        out = out.with_variable(variable)
    if kpis:
        out = out.with_row(builders.Row("Chỉ tiêu so với mục tiêu"))
        for kpi in kpis:
            out = out.with_panel(kpi_stat(ctx, kpi))
        out = out.with_row(builders.Row("Diễn biến chỉ tiêu"))
        for kpi in kpis:
            out = out.with_panel(kpi_trend(ctx, kpi))
    out = out.with_row(builders.Row("Số liệu vận hành"))
    out = out.with_panel(
        single_series(
            ctx,
            title="Sự kiện (sự kiện/giờ)",
            description=f"Events of the {declared.feed} feed per hour, every kind together.",
            metric=f"{declared.feed}.events",
            column="events",
            value=_sql.per_hour("sum(w.sum)", "w.width_ms"),
            unit="suffix: /giờ",
            display_name="Sự kiện",
        )
    )
    measured = _measured(declared)
    for metric, doc in declared.metrics.items():
        if metric == f"{declared.feed}.events":
            continue  # drawn above
        mean = metric in measured
        out = out.with_panel(
            single_series(
                ctx,
                title=f"{metric} ({'trung bình' if mean else 'mỗi giờ'})",
                description=(
                    f"{doc}: the mean of the values given" if mean else f"{doc}, per hour"
                ),
                metric=metric,
                column="value",
                value=(
                    "sum(w.sum) / nullif(sum(w.count), 0)"
                    if mean
                    else _sql.per_hour("sum(w.sum)", "w.width_ms")
                ),
                unit="none" if mean else "suffix: /giờ",
                display_name=metric,
            )
        )
    if kpis:
        out = out.with_row(builders.Row("Theo địa bàn"))
        out = out.with_panel(by_area_table(ctx, uid, "Chỉ tiêu theo địa bàn", kpis))
    return out
