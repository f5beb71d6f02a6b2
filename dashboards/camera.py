"""Bảng camera giám sát: smart surveillance cameras (the camera feed)."""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import dashboard as builders

from ioc.dashboards._common import FEED_BOARDS, BoardContext, custom_variable
from ioc.dashboards._feed import feed_board, labelled_rates
from ioc.events import DetectionKind
from ioc.kpis.measures import METRICS

__all__ = ["DETECTION_LABELS", "UID", "build"]

UID = FEED_BOARDS["camera"]

# The metric each detection adds to (ioc.kpis.measures) and its Vietnamese name.
DETECTION_LABELS: Final[dict[DetectionKind, tuple[str, str]]] = {
    DetectionKind.VEHICLE_COUNT: ("camera.vehicles", "Phương tiện"),
    DetectionKind.CONGESTION: ("camera.congestion", "Ùn tắc giao thông"),
    DetectionKind.VIOLATION: ("camera.violations", "Vi phạm giao thông"),
    DetectionKind.CROWDING: ("camera.crowding", "Tụ tập đông người"),
    DetectionKind.FIRE_SMOKE: ("camera.fire_smoke", "Cháy, khói"),
}
"""Every detection kind's metric and Vietnamese name; a kind added to ioc.events needs one."""


def build(ctx: BoardContext) -> builders.Dashboard:
    """The camera board: the online rate against its SLO, AI detections per hour, by area."""
    missing = set(DetectionKind) - set(DETECTION_LABELS)
    unknown = {metric for metric, _ in DETECTION_LABELS.values()} - set(METRICS)
    if missing or unknown:
        raise ValueError(
            f"detection kinds without a name: {sorted(missing)}; unknown metrics: {sorted(unknown)}"
        )
    detections = [(label, metric) for metric, label in DETECTION_LABELS.values()]
    return feed_board(
        ctx,
        feed="camera",
        uid=UID,
        title_vi="Camera giám sát thông minh",
        description_en=(
            "Smart surveillance cameras: the share of cameras online against the province's "
            "SLO, and what the cameras' analytics detect per hour (vehicles, congestion, "
            "violations, crowding, fire and smoke); per area."
        ),
        variables=[
            custom_variable(
                "detection",
                "Loại phát hiện",
                "Detections shown in the detections panel",
                detections,
            )
        ],
        window_panels=[
            labelled_rates(
                ctx,
                title="Phát hiện của camera AI (lượt/giờ)",
                description=(
                    "Detections per hour by kind: vehicles and violations count each one, "
                    "congestion, crowding and fire/smoke count incidents."
                ),
                metric_filter="metric IN ($detection)",
                labels=[(metric, label) for label, metric in detections],
            ),
        ],
    )
