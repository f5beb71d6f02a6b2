"""Bảng cảnh báo: alerts, their lifecycle and who handled them (alerts, alert_history)."""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.builders import stat, table, timeseries
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as models

from ioc import text as _text
from ioc.dashboards import _sql
from ioc.dashboards._common import (
    MAX_DATA_POINTS,
    BoardContext,
    area_variables,
    board,
    custom_variable,
    datasource,
    query,
)

__all__ = ["KIND_LABELS", "SEVERITY_LABELS", "STATE_LABELS", "UID", "build"]

UID = "ioc-alerts"

SEVERITY_LABELS: Final[dict[str, str]] = {
    code: _text.SEVERITY_LABELS["vi"][code] for code in ("critical", "warning", "info")
}
STATE_LABELS: Final[dict[str, str]] = dict(_text.STATE_LABELS["vi"])
KIND_LABELS: Final[dict[str, str]] = dict(_text.TRANSITION_LABELS["vi"])
"""Vietnamese names of the values of alerts.severity, alerts.state and alert_history.kind
(migration 0004 lists them in its CHECK constraints), from :mod:`ioc.text`; the order is the
order of the board's filters."""

_COLOURS = {"critical": "red", "warning": "orange", "info": "blue", "firing": "red"}

# Alerts of $area and of every area below it (whichever shape the area had).
_IN_AREA = "EXISTS (SELECT 1 FROM area_ancestors x WHERE x.area = a.area AND x.ancestor = '$area')"
_AREA_NAME = """LEFT JOIN LATERAL (
    SELECT name_vi FROM areas WHERE code = a.area
    ORDER BY coalesce(valid_from, '-infinity'::date) DESC LIMIT 1
) an ON true"""


def _mapping(labels: dict[str, str]) -> models.DynamicConfigValue:
    options = {
        value: models.ValueMappingResult(text=text, color=_COLOURS.get(value), index=index)
        for index, (value, text) in enumerate(labels.items())
    }
    return models.DynamicConfigValue(id_val="mappings", value=[models.ValueMap(options=options)])


def _named(name: str, *more: models.DynamicConfigValue) -> list[models.DynamicConfigValue]:
    return [models.DynamicConfigValue(id_val="displayName", value=name), *more]


def _count(ctx: BoardContext, title: str, description: str, sql: str, colour: str) -> stat.Panel:
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(datasource())
        .with_target(query(sql))
        .max_data_points(MAX_DATA_POINTS)
        .interval(ctx.min_interval)
        .color_mode(common.BigValueColorMode.VALUE)
        .graph_mode(common.BigValueGraphMode.NONE)
        .color_scheme(builders.FieldColor().mode(models.FieldColorModeId.FIXED).fixed_color(colour))
        .height(5)
        .span(6)
    )


def _kpi_names(ctx: BoardContext) -> str:
    return _sql.values([(k.id, k.name_vi) for k in ctx.catalogue], ("text", "text"))


def build(ctx: BoardContext) -> builders.Dashboard:
    """The alerts board: open and handled alerts, their transitions, the audit trail, silences."""
    out = board(
        UID,
        "Cảnh báo vận hành",
        "Alerts of the KPI rules in the chosen area and below: how many are firing or "
        "acknowledged now, those active in the range with their values and targets, every "
        "transition (fired, acknowledged, escalated, resolved) and who acknowledged it, and "
        "the silences in force.",
    )
    for variable in area_variables():
        out = out.with_variable(variable)
    out = out.with_variable(
        custom_variable(
            "severity",
            "Mức độ",
            "Severities shown",
            [(text, value) for value, text in SEVERITY_LABELS.items()],
        )
    ).with_variable(
        custom_variable(
            "state",
            "Trạng thái",
            "States shown in the alert list",
            [(text, value) for value, text in STATE_LABELS.items()],
        )
    )
    filters = f"a.severity IN ($severity) AND {_IN_AREA}"
    out = (
        out.with_row(builders.Row("Hiện tại"))
        .with_panel(
            _count(
                ctx,
                "Đang cảnh báo",
                "Alerts firing now and not yet acknowledged.",
                f"SELECT count(*) AS firing FROM alerts a WHERE a.state = 'firing' AND {filters}",
                "red",
            )
        )
        .with_panel(
            _count(
                ctx,
                "Đã tiếp nhận, chưa xử lý xong",
                "Alerts someone acknowledged whose condition still holds.",
                "SELECT count(*) AS acknowledged FROM alerts a "
                f"WHERE a.state = 'acknowledged' AND {filters}",
                "orange",
            )
        )
        .with_panel(
            _count(
                ctx,
                "Đã trở lại bình thường trong kỳ",
                "Alerts resolved within the time range.",
                "SELECT count(*) AS resolved FROM alerts a "
                f"WHERE a.state = 'resolved' AND $__timeFilter(a.resolved_at) AND {filters}",
                "green",
            )
        )
        .with_panel(
            _count(
                ctx,
                "Thời gian tiếp nhận trung bình",
                "Mean time from firing to acknowledgement of the alerts fired in the range "
                "(those acknowledged).",
                "SELECT avg(extract(epoch FROM a.acknowledged_at - a.fired_at)) AS seconds "
                "FROM alerts a WHERE a.acknowledged_at IS NOT NULL "
                f"AND $__timeFilter(a.fired_at) AND {filters}",
                "blue",
            )
            .unit("s")
            .no_value("—")
        )
    )
    alert_list = f"""WITH kpis (id, name) AS ({_kpi_names(ctx)})
SELECT a.started_at AS started, a.severity, a.state, k.name AS kpi, a.rule_id AS rule,
       an.name_vi AS area_name, a.area, a.level, a.last_value, a.target,
       a.acknowledged_by, a.acknowledged_at, a.resolved_at
FROM alerts a
LEFT JOIN kpis k ON k.id = a.kpi_id
{_AREA_NAME}
WHERE a.state IN ($state) AND {filters}
  AND a.started_at <= {_sql.RANGE_TO}
  AND coalesce(a.resolved_at, 'infinity'::timestamptz) >= {_sql.RANGE_FROM}
ORDER BY a.started_at DESC
LIMIT 500
"""
    transitions = f"""SELECT $__timeGroupAlias(h.at, $__interval), k.label AS metric,
       count(*)::float8 AS value
FROM alert_history h
JOIN alerts a ON a.id = h.alert_id
JOIN ({_sql.values(KIND_LABELS.items(), ("text", "text"))}) AS k (kind, label) ON k.kind = h.kind
WHERE $__timeFilter(h.at) AND {filters}
GROUP BY 1, 2
ORDER BY 1, 2
"""
    history = f"""SELECT h.at, h.kind, an.name_vi AS area_name, a.rule_id AS rule, h.level,
       h.actor, h.value, h.notified
FROM alert_history h
JOIN alerts a ON a.id = h.alert_id
{_AREA_NAME}
WHERE $__timeFilter(h.at) AND {filters}
ORDER BY h.at DESC, h.id DESC
LIMIT 1000
"""
    silences = f"""SELECT s.starts_at, s.ends_at, s.rule_pattern, coalesce(an.name_vi, 'Toàn tỉnh')
       AS area_name, s.reason, s.created_by
FROM silences s
LEFT JOIN LATERAL (
    SELECT name_vi FROM areas WHERE code = s.area
    ORDER BY coalesce(valid_from, '-infinity'::date) DESC LIMIT 1
) an ON true
WHERE s.starts_at <= {_sql.RANGE_TO} AND s.ends_at >= {_sql.RANGE_FROM}
  AND (s.area IS NULL OR s.area IN (SELECT x.area FROM area_ancestors x WHERE x.ancestor = '$area'))
ORDER BY s.starts_at DESC
"""
    hidden = [models.DynamicConfigValue(id_val="custom.hidden", value=True)]
    return (
        out.with_row(builders.Row("Cảnh báo trong kỳ"))
        .with_panel(
            table.Panel()
            .title("Danh sách cảnh báo")
            .description(
                "Alerts active at some time in the range (newest first), with the value that "
                "breached, the target, and who acknowledged them."
            )
            .datasource(datasource())
            .with_target(query(alert_list))
            .max_data_points(MAX_DATA_POINTS)
            .interval(ctx.min_interval)
            .override_by_name("started", _named("Bắt đầu"))
            .override_by_name("severity", _named("Mức độ", _mapping(SEVERITY_LABELS)))
            .override_by_name("state", _named("Trạng thái", _mapping(STATE_LABELS)))
            .override_by_name("kpi", _named("Chỉ tiêu"))
            .override_by_name("rule", _named("Quy tắc"))
            .override_by_name("area_name", _named("Địa bàn"))
            .override_by_name("area", hidden)
            .override_by_name("level", _named("Cấp chuyển"))
            .override_by_name("last_value", _named("Giá trị"))
            .override_by_name("target", _named("Ngưỡng / mục tiêu"))
            .override_by_name("acknowledged_by", _named("Người tiếp nhận"))
            .override_by_name("acknowledged_at", _named("Tiếp nhận lúc"))
            .override_by_name("resolved_at", _named("Kết thúc lúc"))
            .height(10)
            .span(24)
        )
        .with_panel(
            timeseries.Panel()
            .title("Diễn biến cảnh báo")
            .description(
                "Alert transitions per time step: fired, acknowledged, escalated, resolved."
            )
            .datasource(datasource())
            .with_target(query(transitions, "time_series"))
            .max_data_points(MAX_DATA_POINTS)
            .interval(ctx.min_interval)
            .draw_style(common.GraphDrawStyle.BARS)
            .fill_opacity(60)
            .unit("none")
            .decimals(0)
            .height(8)
            .span(24)
        )
        .with_row(builders.Row("Nhật ký xử lý"))
        .with_panel(
            table.Panel()
            .title("Nhật ký chuyển trạng thái")
            .description(
                "Every transition in the range: when, which area and rule, the escalation "
                "level, who acted, the value, and whether a silence held the message back."
            )
            .datasource(datasource())
            .with_target(query(history))
            .max_data_points(MAX_DATA_POINTS)
            .interval(ctx.min_interval)
            .override_by_name("at", _named("Thời điểm"))
            .override_by_name("kind", _named("Sự kiện", _mapping(KIND_LABELS)))
            .override_by_name("area_name", _named("Địa bàn"))
            .override_by_name("rule", _named("Quy tắc"))
            .override_by_name("level", _named("Cấp"))
            .override_by_name("actor", _named("Người thực hiện"))
            .override_by_name("value", _named("Giá trị"))
            .override_by_name("notified", _named("Đã gửi thông báo"))
            .height(10)
            .span(24)
        )
        .with_panel(
            table.Panel()
            .title("Tạm dừng thông báo")
            .description(
                "Silences in force at some time in the range for the chosen area (or the "
                "whole province): alerts still fire and are kept, messages are held back."
            )
            .datasource(datasource())
            .with_target(query(silences))
            .max_data_points(MAX_DATA_POINTS)
            .interval(ctx.min_interval)
            .override_by_name("starts_at", _named("Từ"))
            .override_by_name("ends_at", _named("Đến"))
            .override_by_name("rule_pattern", _named("Quy tắc"))
            .override_by_name("area_name", _named("Địa bàn"))
            .override_by_name("reason", _named("Lý do"))
            .override_by_name("created_by", _named("Người đặt"))
            .height(6)
            .span(24)
        )
    )
