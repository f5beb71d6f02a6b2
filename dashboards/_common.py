"""What every board shares: the datasource, the area variables, links, KPI tiles and trends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.builders import stat, table, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as models

from ioc.dashboards import _sql
from ioc.dashboards._query import Format, PostgresQueryBuilder
from ioc.kpis import Kpi, KpiCatalogue
from ioc.localtime import ZONE_NAME, local_day_sql

__all__ = [
    "DATASOURCE_NAME",
    "DATASOURCE_TYPE",
    "DATASOURCE_UID",
    "FEED_BOARDS",
    "FOLDER_TITLE",
    "FOLDER_UID",
    "MAX_DATA_POINTS",
    "READER_ROLE",
    "TAG",
    "BoardContext",
    "area_variables",
    "board",
    "by_area_table",
    "custom_variable",
    "datasource",
    "kpi_stat",
    "kpi_target_text",
    "kpi_thresholds",
    "kpi_trend",
    "kpi_unit",
    "query",
]

DATASOURCE_UID: Final = "ioc-timescaledb"
DATASOURCE_TYPE: Final = "grafana-postgresql-datasource"
DATASOURCE_NAME: Final = "IOC TimescaleDB"
READER_ROLE: Final = "ioc_grafana"
FOLDER_UID: Final = "ioc"
FOLDER_TITLE: Final = "IOC"
TAG: Final = "ioc"
# A fixed number of points per series, not the panel's width in pixels, so $__interval is the
# same on every screen (and in the test that runs each panel's SQL the way Grafana would).
MAX_DATA_POINTS: Final = 500

FEED_BOARDS: Final[dict[str, str]] = {
    "dvc": "ioc-dvc",
    "payment": "ioc-payment",
    "network": "ioc-network",
    "camera": "ioc-camera",
    "feedback": "ioc-feedback",
}
"""The board of each feed, by feed name; a KPI of another feed has nowhere to link to."""

_GREEN, _ORANGE, _RED, _BLUE = "green", "orange", "red", "blue"
# A KPI this close below its target shows amber, not red (5 points for a percentage).
_NEAR_FRACTION = 0.05
_NEAR_RELATIVE = 0.05


@dataclass(frozen=True)
class BoardContext:
    """What a board's ``build()`` is given.

    Attributes:
        catalogue: The KPI catalogue; tiles, targets and thresholds come from it.
        window_seconds: Width of one stream window (``IOC_STREAMS__WINDOW_SECONDS``): the
            finest grouping a panel asks for.
    """

    catalogue: KpiCatalogue
    window_seconds: int = 60

    @property
    def min_interval(self) -> str:
        """The stream window as a Grafana interval (``1m``, ``30s``)."""
        seconds = self.window_seconds
        return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"

    @property
    def window_ms(self) -> int:
        """The stream window in milliseconds."""
        return self.window_seconds * 1000

    def feeds(self) -> list[str]:
        """The feeds with KPIs, in catalogue order; each must have a board."""
        found: list[str] = []
        for kpi in self.catalogue:
            if kpi.feed not in FEED_BOARDS:
                raise ValueError(
                    f"KPI {kpi.id!r} is from feed {kpi.feed!r}, which has no board: add one in "
                    "dashboards/ and to FEED_BOARDS in dashboards/_common.py"
                )
            if kpi.feed not in found:
                found.append(kpi.feed)
        return found


def datasource() -> models.DataSourceRef:
    """The provisioned PostgreSQL/TimescaleDB datasource every panel reads."""
    return models.DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)


def query(sql: str, format: Format = "table", ref_id: str = "A") -> PostgresQueryBuilder:
    """A panel target running ``sql`` on the IOC datasource."""
    return (
        PostgresQueryBuilder()
        .raw_sql(sql.strip() + "\n")
        .format(format)
        .ref_id(ref_id)
        .datasource(datasource())
    )


def board(uid: str, title_vi: str, description_en: str) -> builders.Dashboard:
    """A board with the house settings: uid, local time zone, refresh, links to the others."""
    return (
        builders.Dashboard(title_vi)
        .uid(uid)
        .description(description_en)
        .tags([TAG])
        .timezone(ZONE_NAME)
        .time("now-24h", "now")
        .refresh("1m")
        .tooltip(models.DashboardCursorSync.CROSSHAIR)
        .readonly()
        .link(
            builders.DashboardLink("Các bảng IOC")
            .type(models.DashboardLinkType.DASHBOARDS)
            .tags([TAG])
            .as_dropdown(False)
            .include_vars(True)
            .keep_time(True)
            .tooltip("Other IOC boards, keeping the area and the time range")
        )
    )


# --- variables -------------------------------------------------------------------------------

_VALID_IN_RANGE = (
    f"coalesce(valid_from, '-infinity'::date) <= {_sql.TO_DAY}\n"
    f"  AND {_sql.FROM_DAY} < coalesce(valid_to, 'infinity'::date)"
)


def _options_sql(first_value: str, first_text: str, level: str, parent: str) -> str:
    # The first option stands for the parent as a whole, so the chain never runs empty: in the
    # two-tier shape (from 1/7/2025) the province has no districts and "whole province" is
    # the only district option, while the commune list then hangs off the province itself.
    return f"""SELECT __value, __text FROM (
    SELECT {first_value} AS __value, {first_text} AS __text, 0 AS o
    UNION ALL
    SELECT code, (array_agg(name_vi ORDER BY coalesce(valid_from, '-infinity'::date) DESC))[1], 1
    FROM areas
    WHERE level = '{level}' AND parent = {parent}
      AND {_VALID_IN_RANGE}
    GROUP BY code
) options
ORDER BY o, __value
"""


def area_variables() -> list[cogbuilder.Builder[models.VariableModel]]:
    """Province → district → commune, following the areas valid in the board's time range.

    ``area`` is what every panel filters on: a commune, or the district or province as a
    whole (its first option). Before 1/7/2025 the chain is province → district → commune;
    after it, province → commune with "whole province" as the only district option.
    """
    province = (
        builders.QueryVariable("province")
        .label("Tỉnh")
        .description("The province (its areas come from the areas table, valid in the range)")
        .datasource(datasource())
        .query(
            f"""SELECT code AS __value,
       (array_agg(name_vi ORDER BY coalesce(valid_from, '-infinity'::date) DESC))[1] AS __text
FROM areas
WHERE level = 'province'
  AND {_VALID_IN_RANGE}
GROUP BY code
ORDER BY code
"""
        )
        .refresh(models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(models.VariableSort.DISABLED)
        .allow_custom_value(False)
    )
    district = (
        builders.QueryVariable("district")
        .label("Huyện / thị xã / thành phố")
        .description(
            "A district, or the whole province; districts exist until 1/7/2025 only "
            "(two-tier local government since then)"
        )
        .datasource(datasource())
        .query(_options_sql("'$province'", "'— Toàn tỉnh —'", "district", "'$province'"))
        .refresh(models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(models.VariableSort.DISABLED)
        .allow_custom_value(False)
    )
    area = (
        builders.QueryVariable("area")
        .label("Xã / phường")
        .description("A commune or ward, or the district (province) chosen above as a whole")
        .datasource(datasource())
        .query(
            _options_sql(
                "'$district'",
                "CASE WHEN '$district' = '$province' THEN '— Toàn tỉnh —' "
                "ELSE '— Toàn huyện —' END",
                "commune",
                "'$district'",
            )
        )
        .refresh(models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(models.VariableSort.DISABLED)
        .allow_custom_value(False)
    )
    return [province, district, area]


def custom_variable(
    name: str, label: str, description: str, options: Sequence[tuple[str, str]]
) -> builders.CustomVariable:
    r"""A multi-value variable with "All", over fixed (text, value) options; All by default.

    Written in Grafana's ``text : value`` list form, commas in a text escaped as ``\,``.
    """
    parts: list[str] = []
    for text, value in options:
        if " : " in text or " : " in value or "," in value:
            raise ValueError(f"option {text!r} / {value!r} cannot be written as 'text : value'")
        parts.append(f"{text.replace(',', chr(92) + ',')} : {value}")
    return (
        builders.CustomVariable(name)
        .label(label)
        .description(description)
        .values(",".join(parts))
        .multi(True)
        .include_all(True)
        .current(models.VariableOption(selected=True, text=["All"], value=["$__all"]))
    )


# --- KPI tiles and trends --------------------------------------------------------------------


def kpi_unit(kpi: Kpi) -> str:
    """Grafana's unit for a KPI's value."""
    return {"percent": "percentunit", "ratio": "none", "number": "short"}[kpi.unit]


def kpi_thresholds(kpi: Kpi) -> builders.ThresholdsConfig:
    """Colours from the catalogue's target (the province's, when levels differ).

    Higher-is-better: red below, amber just below, green from the target up. Lower-is-better:
    green up to the target, amber just above (a value equal to the target shows amber:
    Grafana colours from a step's value upwards), red beyond. Without a target: blue.
    """
    target = kpi.target_for("province")
    steps: list[models.Threshold]
    if target is None:
        steps = [models.Threshold(value=None, color=_BLUE)]
    else:
        near = _NEAR_FRACTION if kpi.unit in ("percent", "ratio") else abs(target) * _NEAR_RELATIVE
        if kpi.direction == "higher":
            steps = [
                models.Threshold(value=None, color=_RED),
                models.Threshold(value=round(target - near, 6), color=_ORANGE),
                models.Threshold(value=target, color=_GREEN),
            ]
        else:
            steps = [
                models.Threshold(value=None, color=_GREEN),
                models.Threshold(value=target, color=_ORANGE),
                models.Threshold(value=round(target + near, 6), color=_RED),
            ]
    return builders.ThresholdsConfig().mode(models.ThresholdsMode.ABSOLUTE).steps(steps)


def _format_target(kpi: Kpi, value: float) -> str:
    if kpi.unit == "percent":
        return f"{value * 100:g} %"
    return f"{value:g}"


def kpi_target_text(kpi: Kpi) -> str:
    """The target in words, for descriptions: value, per-level values, deadline, source."""
    if kpi.target is None:
        return "No target is set for it."
    target = kpi.target
    text = f"Target: {_format_target(kpi, target.value)}"
    if target.by_level:
        levels = ", ".join(
            f"{level.value} {_format_target(kpi, value)}"
            for level, value in target.by_level.items()
        )
        text += f" ({levels})"
    if target.deadline is not None:
        text += f" by {target.deadline.isoformat()}"
    if target.slo:
        text += " (operational SLO)"
    return f"{text}; source: {target.source}."


def _kpi_description(kpi: Kpi) -> str:
    what = kpi.description_en or kpi.name_en
    how = (
        f"Ratio of sums {kpi.formula}"
        if kpi.distinct is None
        else f"Ratio of distinct counts ({kpi.formula}), counted from the event store"
    )
    reported = "".join(
        f" Reported result (not a target): {_format_target(kpi, r.value)} in {r.period}, "
        f"{r.area}; source: {r.source}."
        for r in kpi.reported
    )
    return f"{kpi.name_en}: {what} {how} over the range, in the chosen area. " + (
        kpi_target_text(kpi) + reported
    )


def kpi_stat(ctx: BoardContext, kpi: Kpi, *, link_to_feed: bool = False) -> stat.Panel:
    """A tile: the KPI over the board's range in ``$area``, coloured against its target.

    A distinct-count KPI is counted over the whole range from the event store.
    """
    sql = f"""SELECT {_sql.ratio("numerator", "denominator")} AS "{kpi.id}"
FROM kpi_values
WHERE kpi = {_sql.literal(kpi.id)} AND resolution = {_sql.KPI_RESOLUTION}
  AND area = '$area' AND $__timeFilter(bucket)
"""
    if kpi.distinct is not None:
        sql = f"""SELECT {_sql.ratio("n", "d")} AS "{kpi.id}"
FROM ({_sql.distinct_counts([kpi])}) s
"""
    panel = (
        stat.Panel()
        .title(kpi.name_vi)
        .description(_kpi_description(kpi))
        .datasource(datasource())
        .with_target(query(sql))
        .unit(kpi_unit(kpi))
        .decimals(1 if kpi.unit == "percent" else 3)
        .thresholds(kpi_thresholds(kpi))
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE)
        .reduce_options(
            common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False).fields("")
        )
        .no_value("Chưa có số liệu")
        .max_data_points(MAX_DATA_POINTS)
        .interval(ctx.min_interval)
        .height(5)
        .span(6)
    )
    if kpi.unit in ("percent", "ratio"):
        panel = panel.min(0).max(1)
    if link_to_feed:
        panel = panel.links(
            [
                builders.DashboardLink(f"Bảng {kpi.feed}: {kpi.name_vi}")
                .type(models.DashboardLinkType.LINK)
                .url(
                    f"/d/{FEED_BOARDS[kpi.feed]}?${{__url_time_range}}&var-province=${{province}}"
                    "&var-district=${district}&var-area=${area}"
                )
            ]
        )
    return panel


def kpi_trend(ctx: BoardContext, kpi: Kpi) -> timeseries.Panel:
    """The KPI per ``$__interval`` in ``$area``, with its target drawn as a dashed line.

    A distinct-count KPI is counted per step from the event store, a step being at least a
    local day (see :func:`ioc.dashboards._sql.distinct_counts`).
    """
    sql = f"""SELECT $__timeGroupAlias(bucket, $__interval),
       {_sql.ratio("numerator", "denominator")} AS "{kpi.id}"
FROM kpi_values
WHERE kpi = {_sql.literal(kpi.id)} AND resolution = {_sql.KPI_RESOLUTION}
  AND area = '$area' AND $__timeFilter(bucket)
GROUP BY 1
ORDER BY 1
"""
    if kpi.distinct is not None:
        sql = f"""SELECT t AS "time", {_sql.ratio("n", "d")} AS "{kpi.id}"
FROM ({_sql.distinct_counts([kpi], steps=True)}) s
GROUP BY 1
ORDER BY 1
"""
    panel = (
        timeseries.Panel()
        .title(f"Diễn biến: {kpi.name_vi}")
        .description(
            f"{kpi.name_en} per time step (a ratio of sums within each step). "
            + kpi_target_text(kpi)
        )
        .datasource(datasource())
        .with_target(query(sql, "time_series"))
        .unit(kpi_unit(kpi))
        .decimals(1 if kpi.unit == "percent" else 3)
        .thresholds(kpi_thresholds(kpi))
        .thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(
                common.GraphThresholdsStyleMode.DASHED
                if kpi.target is not None
                else common.GraphThresholdsStyleMode.OFF
            )
        )
        .color_scheme(builders.FieldColor().mode(models.FieldColorModeId.FIXED).fixed_color("blue"))
        .override_by_name(
            kpi.id, [models.DynamicConfigValue(id_val="displayName", value=kpi.name_vi)]
        )
        .span_nulls(True)
        .max_data_points(MAX_DATA_POINTS)
        .interval(ctx.min_interval)
        .height(8)
        .span(12)
    )
    if kpi.unit in ("percent", "ratio"):
        panel = panel.axis_soft_min(0).axis_soft_max(1)
    return panel


_LEVEL_VI = "CASE r.level WHEN 'province' THEN 'Tỉnh' WHEN 'district' THEN 'Huyện' ELSE 'Xã' END"


def by_area_table(ctx: BoardContext, uid: str, title: str, kpis: Sequence[Kpi]) -> table.Panel:
    """``$area`` and each area directly under it, with the KPIs over the range; click to drill.

    A child's values count only on the days it is a child of ``$area`` (a commune code reused
    under another parent after the reform brings nothing from its other period), as in
    :func:`ioc.kpis.values.by_child`. A click on a name opens the same board on that area.
    Distinct-count KPIs are counted per row from the event store (a child's count and its
    parent's do not add up).
    """
    summed = [k for k in kpis if k.distinct is None]
    distinct = [k for k in kpis if k.distinct is not None]
    ids = ", ".join(_sql.literal(k.id) for k in summed)
    day = local_day_sql("v.bucket")
    columns = ",\n       ".join(
        f'max(s.n / nullif(s.d, 0)) FILTER (WHERE s.kpi = {_sql.literal(k.id)}) AS "{k.id}"'
        for k in kpis
    )
    branches: list[str] = []
    if summed:
        branches += [
            f"""SELECT v.area, v.kpi, sum(v.numerator) AS n, sum(v.denominator) AS d
    FROM kpi_values v
    WHERE v.kpi IN ({ids}) AND v.resolution = {_sql.KPI_RESOLUTION}
      AND v.area = '$area' AND $__timeFilter(v.bucket)
    GROUP BY v.area, v.kpi""",
            f"""SELECT v.area, v.kpi, sum(v.numerator), sum(v.denominator)
    FROM kpi_values v
    JOIN links l ON l.code = v.area AND l.valid_from <= {day} AND {day} < l.valid_to
    WHERE v.kpi IN ({ids}) AND v.resolution = {_sql.KPI_RESOLUTION}
      AND $__timeFilter(v.bucket)
    GROUP BY v.area, v.kpi""",
        ]
    if distinct:
        branches += [
            f"SELECT area, kpi, n, d FROM ({_sql.distinct_counts(distinct)}) here",
            f"SELECT area, kpi, n, d FROM ({_sql.distinct_counts(distinct, children=True)}) under",
        ]
    union = "\n    UNION ALL\n    ".join(branches)
    sql = f"""WITH {_sql.area_links()},
sums AS (
    {union}
)
SELECT r.code, r.name_vi AS name, {_LEVEL_VI} AS level,
       CASE WHEN r.level = 'district' THEN r.code ELSE '$district' END AS district,
       {columns}
FROM board_rows r
LEFT JOIN sums s ON s.area = r.code
GROUP BY r.o, r.code, r.name_vi, r.level
ORDER BY r.o, r.code
"""
    drill = (
        f"/d/{uid}?${{__url_time_range}}&var-province=${{province}}"
        "&var-district=${__data.fields.district}&var-area=${__data.fields.code}"
    )
    panel = (
        table.Panel()
        .title(title)
        .description(
            "The chosen area (first row) and each area directly under it, with the KPIs over "
            "the range. Click a name to open this board on that area."
        )
        .datasource(datasource())
        .with_target(query(sql))
        .unit("percentunit")
        .decimals(1)
        .max_data_points(MAX_DATA_POINTS)
        .interval(ctx.min_interval)
        .override_by_name("code", [models.DynamicConfigValue(id_val="custom.hidden", value=True)])
        .override_by_name(
            "district", [models.DynamicConfigValue(id_val="custom.hidden", value=True)]
        )
        .override_by_name(
            "name",
            [
                models.DynamicConfigValue(id_val="displayName", value="Địa bàn"),
                models.DynamicConfigValue(
                    id_val="links",
                    value=[{"title": "Xem địa bàn này", "url": drill, "targetBlank": False}],
                ),
            ],
        )
        .override_by_name("level", [models.DynamicConfigValue(id_val="displayName", value="Cấp")])
        .height(10)
        .span(24)
    )
    for kpi in kpis:
        properties = [
            models.DynamicConfigValue(id_val="displayName", value=kpi.name_vi),
            models.DynamicConfigValue(id_val="unit", value=kpi_unit(kpi)),
            models.DynamicConfigValue(id_val="thresholds", value=kpi_thresholds(kpi).build()),
            models.DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-text"}),
        ]
        panel = panel.override_by_name(kpi.id, properties)
    return panel
