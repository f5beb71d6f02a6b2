"""Bảng tổng quan: every KPI of the province against its target, in one view."""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.builders import stat, table, timeseries
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as models

from ioc.dashboards import _sql
from ioc.dashboards._common import (
    MAX_DATA_POINTS,
    BoardContext,
    area_variables,
    board,
    custom_variable,
    datasource,
    kpi_stat,
    kpi_unit,
    query,
)
from ioc.dashboards.alerts import SEVERITY_LABELS
from ioc.dashboards.alerts import UID as ALERTS_UID
from ioc.feeds import feed as declared_feed
from ioc.kpis import Kpi
from ioc.kpis.forecast import ForecastStatus
from ioc.localtime import local_day_sql
from ioc.text import FORECAST_LABELS

__all__ = ["FORECAST_DAYS", "HALF_LIFE_DAYS", "PILLARS", "UID", "build"]

UID = "ioc-overview"

PILLARS: Final[dict[str, str]] = {
    "dvc": "Chính quyền số — dịch vụ công trực tuyến",
    "payment": "Kinh tế số — thanh toán không dùng tiền mặt",
    "network": "Hạ tầng số — mạng, băng rộng, di động",
    "camera": "An ninh, trật tự — camera giám sát thông minh",
    "feedback": "Chính quyền số — phản ánh, kiến nghị của người dân",
}
"""The row heading of each feed's KPIs, by feed (the three pillars of the CĐS resolutions); a
feed not named here is headed by its declared name (`ioc.feeds`)."""


def _heading(name: str) -> str:
    return PILLARS.get(name) or declared_feed(name).name_vi


def _catalogue_rows(kpis: list[Kpi]) -> str:
    rows: list[tuple[_sql.Cell, ...]] = []
    for order, kpi in enumerate(kpis, start=1):
        target = kpi.target
        rows.append(
            (
                order,
                kpi.id,
                kpi.feed,
                kpi.name_vi,
                kpi.direction,
                kpi.target_for("province"),
                kpi.target_for("district"),
                kpi.target_for("commune"),
                target.deadline if target else None,
                target.source if target else None,
            )
        )
    types: tuple[_sql.ColumnType, ...] = (
        "int",
        "text",
        "text",
        "text",
        "text",
        "float8",
        "float8",
        "float8",
        "date",
        "text",
    )
    return _sql.values(rows, types)


def _kpi_table(ctx: BoardContext) -> table.Panel:
    kpis = list(ctx.catalogue)
    distinct = [k for k in kpis if k.distinct is not None]
    # Distinct-count KPIs are counted from the event store over the range, never summed.
    counted = (
        f"""
    UNION ALL
    SELECT kpi, n, d FROM ({_sql.distinct_counts(distinct)}) s WHERE kpi IN ($kpi)"""
        if distinct
        else ""
    )
    not_distinct = (
        f" AND kpi NOT IN ({', '.join(_sql.literal(k.id) for k in distinct)})" if distinct else ""
    )
    sql = f"""WITH catalogue (ord, kpi, feed, name, direction, t_province, t_district, t_commune,
                deadline, source) AS (
    {_catalogue_rows(kpis)}
),
here AS (
    SELECT level FROM areas WHERE code = '$area'
    ORDER BY coalesce(valid_from, '-infinity'::date) DESC LIMIT 1
),
v AS (
    SELECT kpi, sum(numerator) AS n, sum(denominator) AS d
    FROM kpi_values
    WHERE kpi IN ($kpi){not_distinct} AND resolution = {_sql.KPI_RESOLUTION}
      AND area = '$area' AND $__timeFilter(bucket)
    GROUP BY kpi{counted}
),
rows AS (
    SELECT c.ord, c.kpi, c.feed, c.name, c.direction, c.deadline, c.source,
           v.n / nullif(v.d, 0) AS value,
           CASE h.level WHEN 'province' THEN c.t_province
                        WHEN 'district' THEN c.t_district ELSE c.t_commune END AS target
    FROM catalogue c
    CROSS JOIN here h
    LEFT JOIN v ON v.kpi = c.kpi
    WHERE c.kpi IN ($kpi)
)
SELECT kpi, feed, name, value, target,
       CASE WHEN direction = 'higher' THEN target - value ELSE value - target END AS gap,
       CASE WHEN target IS NULL THEN 'Không đặt mục tiêu'
            WHEN value IS NULL THEN 'Chưa có số liệu'
            WHEN (CASE WHEN direction = 'higher' THEN target - value ELSE value - target END) <= 0
                 THEN 'Đạt'
            ELSE 'Chưa đạt' END AS status,
       deadline, source
FROM rows
ORDER BY ord
"""
    status_colours = models.ValueMap(
        options={
            "Đạt": models.ValueMappingResult(color="green", index=0),
            "Chưa đạt": models.ValueMappingResult(color="red", index=1),
            "Chưa có số liệu": models.ValueMappingResult(color="text", index=2),
            "Không đặt mục tiêu": models.ValueMappingResult(color="blue", index=3),
        }
    )
    feed_link = (
        "/d/ioc-${__data.fields.feed}?${__url_time_range}&var-province=${province}"
        "&var-district=${district}&var-area=${area}"
    )

    def named(name: str, *more: models.DynamicConfigValue) -> list[models.DynamicConfigValue]:
        return [models.DynamicConfigValue(id_val="displayName", value=name), *more]

    hidden = [models.DynamicConfigValue(id_val="custom.hidden", value=True)]
    return (
        table.Panel()
        .title("Bảng chỉ tiêu chuyển đổi số")
        .description(
            "Every KPI of the catalogue over the range in the chosen area: value, the target "
            "for the area's level (province, district or commune), the gap (positive = short "
            "of the target), deadline and legal source. Click a KPI to open its feed's board."
        )
        .datasource(datasource())
        .with_target(query(sql))
        .max_data_points(MAX_DATA_POINTS)
        .interval(ctx.min_interval)
        .override_by_name("kpi", hidden)
        .override_by_name("feed", hidden)
        .override_by_name(
            "name",
            named(
                "Chỉ tiêu",
                models.DynamicConfigValue(
                    id_val="links",
                    value=[{"title": "Mở bảng của nguồn dữ liệu", "url": feed_link}],
                ),
            ),
        )
        .override_by_name(
            "value", named("Giá trị", models.DynamicConfigValue(id_val="unit", value="percentunit"))
        )
        .override_by_name(
            "target",
            named("Mục tiêu", models.DynamicConfigValue(id_val="unit", value="percentunit")),
        )
        .override_by_name(
            "gap", named("Còn thiếu", models.DynamicConfigValue(id_val="unit", value="percentunit"))
        )
        .override_by_name(
            "status",
            named(
                "Đánh giá",
                models.DynamicConfigValue(id_val="mappings", value=[status_colours]),
                models.DynamicConfigValue(
                    id_val="custom.cellOptions", value={"type": "color-text"}
                ),
            ),
        )
        .override_by_name("deadline", named("Thời hạn"))
        .override_by_name("source", named("Căn cứ"))
        .decimals(1)
        .height(12)
        .span(24)
    )


def _indicator_table(ctx: BoardContext) -> table.Panel:
    """The periodic indicators departments enter, with "Chưa báo cáo" once one is late.

    Reads ``indicators`` (the catalogue the API writes at start) and ``indicator_values``, and
    judges each as :func:`ioc.indicators.store.states` does: the period due now is the last one
    that ended before the range's end (local day), due ``due_days`` after its last day; a
    missing earlier period already past its own due day is late too.
    """
    sql = f"""WITH here AS (
    SELECT level FROM areas WHERE code = '$area'
    ORDER BY coalesce(valid_from, '-infinity'::date) DESC LIMIT 1
),
asof AS (SELECT {_sql.TO_DAY} AS today),
cur AS (
    SELECT i.*, h.level, a.today,
           CASE i.period WHEN 'monthly' THEN INTERVAL '1 month'
                         WHEN 'quarterly' THEN INTERVAL '3 months'
                         ELSE INTERVAL '1 year' END AS len,
           (date_trunc(CASE i.period WHEN 'monthly' THEN 'month'
                                     WHEN 'quarterly' THEN 'quarter' ELSE 'year' END,
                       a.today::timestamp)
            - CASE i.period WHEN 'monthly' THEN INTERVAL '1 month'
                            WHEN 'quarterly' THEN INTERVAL '3 months'
                            ELSE INTERVAL '1 year' END)::date AS p_start
    FROM indicators i CROSS JOIN here h CROSS JOIN asof a
    WHERE h.level = ANY (i.levels)
),
judged AS (
    SELECT c.*, v.value, v.entered_by, v.entered_at,
           (c.p_start + c.len)::date - 1 + c.due_days AS due,
           c.p_start - 1 + c.due_days AS prev_due,
           (c.p_start - c.len)::date AS prev_start,
           pv.value IS NOT NULL AS prev_reported,
           CASE c.level WHEN 'province' THEN c.target_province
                        WHEN 'district' THEN c.target_district ELSE c.target_commune END AS target
    FROM cur c
    LEFT JOIN indicator_values v
        ON v.indicator = c.id AND v.area = '$area' AND v.period_start = c.p_start
    LEFT JOIN indicator_values pv
        ON pv.indicator = c.id AND pv.area = '$area' AND pv.period_start = (c.p_start - c.len)::date
),
stated AS (
    SELECT j.*,
           CASE WHEN j.value IS NOT NULL THEN 'reported'
                WHEN j.today > j.due THEN 'late'
                WHEN NOT j.prev_reported AND j.today > j.prev_due THEN 'late_before'
                ELSE 'due' END AS state
    FROM judged j
)
SELECT id, name_vi AS name, department_vi AS department,
       CASE period WHEN 'monthly' THEN 'Tháng ' || to_char(shown, 'FMMM/YYYY')
                   WHEN 'quarterly' THEN 'Quý ' || extract(quarter FROM shown) || '/'
                                         || extract(year FROM shown)
                   ELSE 'Năm ' || extract(year FROM shown) END AS period,
       CASE WHEN value IS NULL THEN NULL
            WHEN unit = 'percent' THEN replace(round((value * 100)::numeric, 1)::text, '.', ',')
                                       || ' %'
            WHEN unit = 'rank' THEN 'hạng ' || round(value::numeric)
            ELSE replace(round(value::numeric, 2)::text, '.', ',') END AS value,
       CASE WHEN target IS NULL THEN 'Không đặt mục tiêu'
            WHEN unit = 'percent' THEN replace(round((target * 100)::numeric, 1)::text, '.', ',')
                                       || ' %'
            WHEN unit = 'rank' THEN 'hạng ' || round(target::numeric)
            ELSE replace(round(target::numeric, 2)::text, '.', ',') END
           || CASE WHEN target_estimate THEN ' (ước tính)' ELSE '' END AS target,
       CASE WHEN value IS NULL OR target IS NULL THEN NULL
            WHEN (direction = 'higher') = (value >= target) OR value = target THEN 'Đạt'
            ELSE 'Chưa đạt' END AS meets,
       CASE state WHEN 'late_before' THEN prev_due ELSE due END AS due,
       CASE state WHEN 'reported' THEN 'Đã báo cáo' WHEN 'due' THEN 'Chờ báo cáo'
                  ELSE 'Chưa báo cáo' END AS state,
       entered_by, entered_at
FROM (SELECT s.*, CASE s.state WHEN 'late_before' THEN s.prev_start ELSE s.p_start END AS shown
      FROM stated s) x
ORDER BY position
"""

    def named(name: str, *more: models.DynamicConfigValue) -> list[models.DynamicConfigValue]:
        return [models.DynamicConfigValue(id_val="displayName", value=name), *more]

    def coloured(options: dict[str, str]) -> list[models.DynamicConfigValue]:
        mapping = models.ValueMap(
            options={
                text: models.ValueMappingResult(color=colour, index=i)
                for i, (text, colour) in enumerate(options.items())
            }
        )
        return [
            models.DynamicConfigValue(id_val="mappings", value=[mapping]),
            models.DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-text"}),
        ]

    return (
        table.Panel()
        .title("Chỉ tiêu định kỳ (sở, ngành báo cáo)")
        .description(
            "Indicators a department enters monthly, quarterly or yearly (ioc/data/"
            "indicators.yaml): the value of the period due at the range's end against the "
            "target of the area's level, the due day, and 'Chưa báo cáo' (not reported yet) "
            "once the due day has passed without a value. Entered through the API "
            "(POST /api/v1/indicators/values or the upload) or `ioc indicators import`."
        )
        .datasource(datasource())
        .with_target(query(sql))
        .max_data_points(MAX_DATA_POINTS)
        .interval(ctx.min_interval)
        .override_by_name("id", [models.DynamicConfigValue(id_val="custom.hidden", value=True)])
        .override_by_name("name", named("Chỉ tiêu"))
        .override_by_name("department", named("Sở, ngành"))
        .override_by_name("period", named("Kỳ báo cáo"))
        .override_by_name("value", named("Giá trị"))
        .override_by_name("target", named("Mục tiêu"))
        .override_by_name(
            "meets", named("Đánh giá", *coloured({"Đạt": "green", "Chưa đạt": "red"}))
        )
        .override_by_name("due", named("Hạn báo cáo"))
        .override_by_name(
            "state",
            named(
                "Trạng thái",
                *coloured({"Đã báo cáo": "green", "Chờ báo cáo": "text", "Chưa báo cáo": "red"}),
            ),
        )
        .override_by_name("entered_by", named("Người nhập"))
        .override_by_name("entered_at", named("Lúc nhập"))
        .height(9)
        .span(24)
    )


FORECAST_DAYS: Final = 30
"""Complete local days before the range's end that the forecast is drawn from."""
HALF_LIFE_DAYS: Final = 14.0
"""The weighting of :func:`ioc.kpis.forecast.forecast_target_date` (its default)."""
_HORIZON_DAYS: Final = 3650
_STATUSES: Final[tuple[ForecastStatus, ...]] = (
    "met",
    "on_track",
    "moving_away",
    "flat",
    "beyond_horizon",
    "too_few_days",
)


def _forecast_table(ctx: BoardContext) -> table.Panel:
    """When each KPI meets its target at its trend: the model of ``ioc kpis show``, in SQL.

    :func:`ioc.kpis.forecast.forecast_target_date` on the stored local days (``1d``) of the
    :data:`FORECAST_DAYS` complete days before the range's end: a least-squares line, each day
    weighted ``0.5 ** (age / 14)``; a slope within two standard errors of 0 (four days or
    more) is flat and gets no date. The backtest error is in the API and ``ioc kpis show``.
    """
    kpis = [k for k in ctx.catalogue if k.target is not None]
    labels = " ".join(
        f"WHEN {_sql.literal(s)} THEN {_sql.literal(FORECAST_LABELS['vi'][s])}" for s in _STATUSES
    )
    local_bucket = local_day_sql("k.bucket")
    sql = f"""WITH catalogue (ord, kpi, feed, name, direction, t_province, t_district, t_commune,
                deadline, source) AS (
    {_catalogue_rows(kpis)}
),
here AS (
    SELECT level FROM areas WHERE code = '$area'
    ORDER BY coalesce(valid_from, '-infinity'::date) DESC LIMIT 1
),
asof AS (SELECT {_sql.TO_DAY} AS today),
daily AS (
    SELECT k.kpi, {local_bucket} AS day, k.numerator / k.denominator AS y
    FROM kpi_values k CROSS JOIN asof a
    WHERE k.resolution = '1d' AND k.area = '$area' AND k.denominator > 0
      AND k.kpi IN ($kpi)
      AND k.bucket >= {_sql.RANGE_TO} - INTERVAL '{FORECAST_DAYS + 2} days'
      AND {local_bucket} >= a.today - {FORECAST_DAYS} AND {local_bucket} < a.today
),
pts AS (
    SELECT kpi, day, y,
           max(day) OVER w AS last_day,
           first_value(y) OVER (PARTITION BY kpi ORDER BY day DESC) AS y_last,
           count(*) OVER w AS n
    FROM daily WINDOW w AS (PARTITION BY kpi)
),
weighted AS (
    SELECT kpi, (day - last_day)::float8 AS x, y, last_day, y_last, n,
           power(0.5, (last_day - day) / {HALF_LIFE_DAYS}) AS w
    FROM pts
),
means AS (
    SELECT kpi, last_day, y_last, n, count(DISTINCT x) AS days,
           sum(w * x) / sum(w) AS xm, sum(w * y) / sum(w) AS ym
    FROM weighted GROUP BY kpi, last_day, y_last, n
),
fit AS (
    SELECT m.kpi, m.last_day, m.y_last, m.n, m.days, m.xm, m.ym,
           sum(p.w * (p.x - m.xm) * (p.y - m.ym)) / nullif(sum(p.w * (p.x - m.xm) ^ 2), 0)
               AS slope,
           sum(p.w * (p.x - m.xm) ^ 2) AS sxx
    FROM means m JOIN weighted p USING (kpi)
    GROUP BY m.kpi, m.last_day, m.y_last, m.n, m.days, m.xm, m.ym
),
line AS (
    SELECT f.*, f.ym - f.slope * f.xm AS level,
           CASE WHEN f.n >= 4 THEN sqrt(greatest(
               (SELECT sum(p.w * (p.y - (f.ym - f.slope * f.xm + f.slope * p.x)) ^ 2)
                FROM weighted p WHERE p.kpi = f.kpi) / (f.n - 2) / f.sxx, 0))
           ELSE 0 END AS stderr
    FROM fit f
),
rows AS (
    SELECT c.ord, c.kpi, c.name, c.direction, c.deadline, l.y_last, l.slope, l.level,
           l.stderr, l.last_day, l.days, coalesce(l.n, 0) AS n,
           CASE h.level WHEN 'province' THEN c.t_province
                        WHEN 'district' THEN c.t_district ELSE c.t_commune END AS target
    FROM catalogue c CROSS JOIN here h LEFT JOIN line l ON l.kpi = c.kpi
    WHERE c.kpi IN ($kpi)
),
judged AS (
    SELECT r.*, a.today,
           CASE WHEN r.n = 0 OR r.target IS NULL THEN NULL
                WHEN r.direction = 'higher' THEN r.y_last >= r.target
                ELSE r.y_last <= r.target END AS already,
           -- Days from today (day numbers, not dates: a date takes no fraction).
           (r.last_day - a.today) + (r.target - r.level) / nullif(r.slope, 0) AS crossing
    FROM rows r CROSS JOIN asof a
),
decided AS (
    SELECT j.*,
           CASE WHEN j.target IS NULL THEN NULL
                WHEN j.n = 0 THEN 'too_few_days'
                WHEN j.already THEN 'met'
                WHEN j.days < 2 THEN 'too_few_days'
                WHEN abs(j.slope) < greatest(1e-9, 2 * j.stderr) THEN 'flat'
                WHEN (j.slope > 0) <> (j.direction = 'higher') THEN 'moving_away'
                WHEN greatest(ceil(j.crossing - 1e-9)::int, 0) > {_HORIZON_DAYS}
                     THEN 'beyond_horizon'
                ELSE 'on_track' END AS status
    FROM judged j
)
SELECT kpi, name, target, y_last AS last_value, slope AS per_day, n AS days_used, status,
       CASE status {labels} ELSE 'Không đặt mục tiêu' END AS forecast,
       CASE status WHEN 'met' THEN today
                   WHEN 'on_track' THEN today + greatest(ceil(crossing - 1e-9)::int, 0)
       END AS reach_date,
       deadline,
       CASE WHEN status IS NULL OR status = 'met' OR deadline IS NULL THEN NULL
            WHEN status = 'on_track'
                 AND today + greatest(ceil(crossing - 1e-9)::int, 0) <= deadline
                 THEN 'Kịp hạn'
            ELSE 'Không kịp hạn' END AS in_time
FROM decided
ORDER BY ord
"""
    percent = models.DynamicConfigValue(id_val="unit", value="percentunit")

    def named(name: str, *more: models.DynamicConfigValue) -> list[models.DynamicConfigValue]:
        return [models.DynamicConfigValue(id_val="displayName", value=name), *more]

    in_time_colours = models.ValueMap(
        options={
            "Kịp hạn": models.ValueMappingResult(color="green", index=0),
            "Không kịp hạn": models.ValueMappingResult(color="red", index=1),
        }
    )
    return (
        table.Panel()
        .title("Dự báo ngày đạt mục tiêu")
        .description(
            "When each KPI with a target meets it if the trend of the 30 complete days before "
            "the range's end continues: a least-squares line through the daily values, recent "
            "days weighted more (half-life 14 days), the model of `ioc kpis show`. A trend "
            "the noise could explain (slope within two standard errors of 0) is flat and gets "
            "no date. The one-day forecast error (backtest MAE) is in the API and the board."
        )
        .datasource(datasource())
        .with_target(query(sql))
        .max_data_points(MAX_DATA_POINTS)
        .interval(ctx.min_interval)
        .override_by_name("kpi", [models.DynamicConfigValue(id_val="custom.hidden", value=True)])
        .override_by_name("status", [models.DynamicConfigValue(id_val="custom.hidden", value=True)])
        .override_by_name("name", named("Chỉ tiêu"))
        .override_by_name("target", named("Mục tiêu", percent))
        .override_by_name("last_value", named("Ngày gần nhất", percent))
        .override_by_name("per_day", named("Xu hướng/ngày", percent))
        .override_by_name("days_used", named("Số ngày dữ liệu"))
        .override_by_name("forecast", named("Dự báo"))
        .override_by_name("reach_date", named("Ngày dự kiến đạt"))
        .override_by_name("deadline", named("Thời hạn"))
        .override_by_name(
            "in_time",
            named(
                "So với thời hạn",
                models.DynamicConfigValue(id_val="mappings", value=[in_time_colours]),
                models.DynamicConfigValue(
                    id_val="custom.cellOptions", value={"type": "color-text"}
                ),
            ),
        )
        .decimals(2)
        .height(10)
        .span(24)
    )


def _feed_trend(ctx: BoardContext, feed: str) -> timeseries.Panel:
    kpis = ctx.catalogue.for_feed(feed)
    columns = ",\n       ".join(
        f"sum(numerator) FILTER (WHERE kpi = {_sql.literal(k.id)})"
        f' / nullif(sum(denominator) FILTER (WHERE kpi = {_sql.literal(k.id)}), 0) AS "{k.id}"'
        for k in kpis
    )
    ids = ", ".join(_sql.literal(k.id) for k in kpis)
    sql = f"""SELECT $__timeGroupAlias(bucket, $__interval),
       {columns}
FROM kpi_values
WHERE kpi IN ({ids}) AND kpi IN ($kpi) AND resolution = {_sql.KPI_RESOLUTION}
  AND area = '$area' AND $__timeFilter(bucket)
GROUP BY 1
ORDER BY 1
"""
    distinct = [k for k in kpis if k.distinct is not None]
    if distinct:
        # Distinct-count KPIs per step of at least a day, from the event store; the others
        # summed from kpi_values as above, in the same steps.
        summed = ", ".join(_sql.literal(k.id) for k in kpis if k.distinct is None) or "NULL"
        sql = f"""SELECT $__timeGroupAlias(bucket, $__interval),
       {columns}
FROM (
    SELECT bucket, kpi, numerator, denominator
    FROM kpi_values
    WHERE kpi IN ({summed}) AND kpi IN ($kpi) AND resolution = {_sql.KPI_RESOLUTION}
      AND area = '$area' AND $__timeFilter(bucket)
    UNION ALL
    SELECT t, kpi, n, d FROM ({_sql.distinct_counts(distinct, steps=True)}) s
    WHERE kpi IN ($kpi)
) v
GROUP BY 1
ORDER BY 1
"""
    panel = (
        timeseries.Panel()
        .title(f"Xu hướng: {_heading(feed)}")
        .description(
            f"The {feed} KPIs per time step in the chosen area (ratios of sums); their "
            "targets are on the feed's own board."
        )
        .datasource(datasource())
        .with_target(query(sql, "time_series"))
        .unit(kpi_unit(kpis[0]) if len({kpi_unit(k) for k in kpis}) == 1 else "short")
        .decimals(1)
        .span_nulls(True)
        .max_data_points(MAX_DATA_POINTS)
        .interval(ctx.min_interval)
        .height(8)
        .span(12)
    )
    for kpi in kpis:
        panel = panel.override_by_name(
            kpi.id,
            [
                models.DynamicConfigValue(id_val="displayName", value=kpi.name_vi),
                models.DynamicConfigValue(id_val="unit", value=kpi_unit(kpi)),
            ],
        )
    return panel


def _open_alerts(ctx: BoardContext) -> stat.Panel:
    sql = """SELECT count(*) FILTER (WHERE a.severity = 'critical') AS critical,
       count(*) FILTER (WHERE a.severity = 'warning') AS warning,
       count(*) FILTER (WHERE a.severity = 'info') AS info
FROM alerts a
WHERE a.state <> 'resolved'
  AND EXISTS (SELECT 1 FROM area_ancestors x WHERE x.area = a.area AND x.ancestor = '$area')
"""
    return (
        stat.Panel()
        .title("Cảnh báo đang mở")
        .description(
            "Alerts not yet resolved (firing or acknowledged) in the chosen area and below, by "
            "severity. Click to open the alerts board."
        )
        .datasource(datasource())
        .with_target(query(sql))
        .max_data_points(MAX_DATA_POINTS)
        .interval(ctx.min_interval)
        .unit("none")
        .decimals(0)
        .color_mode(common.BigValueColorMode.VALUE)
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .override_by_name(
            "critical",
            [
                models.DynamicConfigValue(id_val="displayName", value=SEVERITY_LABELS["critical"]),
                models.DynamicConfigValue(
                    id_val="color", value={"mode": "fixed", "fixedColor": "red"}
                ),
            ],
        )
        .override_by_name(
            "warning",
            [
                models.DynamicConfigValue(id_val="displayName", value=SEVERITY_LABELS["warning"]),
                models.DynamicConfigValue(
                    id_val="color", value={"mode": "fixed", "fixedColor": "orange"}
                ),
            ],
        )
        .override_by_name(
            "info",
            [
                models.DynamicConfigValue(id_val="displayName", value=SEVERITY_LABELS["info"]),
                models.DynamicConfigValue(
                    id_val="color", value={"mode": "fixed", "fixedColor": "blue"}
                ),
            ],
        )
        .links(
            [
                builders.DashboardLink("Bảng cảnh báo")
                .type(models.DashboardLinkType.LINK)
                .url(
                    f"/d/{ALERTS_UID}?${{__url_time_range}}&var-province=${{province}}"
                    "&var-district=${district}&var-area=${area}"
                )
            ]
        )
        .height(5)
        .span(24)
    )


def build(ctx: BoardContext) -> builders.Dashboard:
    """The province overview: KPI tiles, the KPI and indicator tables, trends, open alerts."""
    feeds = ctx.feeds()
    out = board(
        UID,
        "Tổng quan chuyển đổi số tỉnh",
        "Province overview of the digital transformation (CĐS) KPIs: each KPI of the "
        "catalogue against its legal target, the KPI table with gaps and deadlines, trends "
        "and open alerts; drill down from the province to a district or a commune.",
    )
    for variable in area_variables():
        out = out.with_variable(variable)
    out = out.with_variable(
        custom_variable(
            "kpi",
            "Chỉ tiêu",
            "KPIs shown in the table and the trends",
            [(kpi.name_vi, kpi.id) for kpi in ctx.catalogue],
        )
    )
    out = out.with_panel(_open_alerts(ctx))
    for feed in feeds:
        out = out.with_row(builders.Row(_heading(feed)))
        for kpi in ctx.catalogue.for_feed(feed):
            out = out.with_panel(kpi_stat(ctx, kpi, link_to_feed=True))
    out = out.with_row(builders.Row("Bảng chỉ tiêu"))
    out = out.with_panel(_kpi_table(ctx))
    out = out.with_panel(_indicator_table(ctx))
    out = out.with_panel(_forecast_table(ctx))
    out = out.with_row(builders.Row("Xu hướng"))
    for feed in feeds:
        out = out.with_panel(_feed_trend(ctx, feed))
    return out
