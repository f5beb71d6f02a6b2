"""Bảng camera giám sát: smart surveillance cameras (the camera feed)."""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import dashboard as builders

from ioc.dashboards._common import FEED_BOARDS, BoardContext, custom_variable
from ioc.dashboards._feed import feed_board, labelled_rates
from ioc.feeds import feed
from ioc.kpis.measures import METRICS

__all__ = ["DETECTION_METRICS", "UID", "build"]

UID = FEED_BOARDS["camera"]

DETECTION_METRICS: Final[dict[str, str]] = {
    "vehicle_count": "camera.vehicles",
    "congestion": "camera.congestion",
    "violation": "camera.violations",
    "crowding": "camera.crowding",
    "fire_smoke": "camera.fire_smoke",
}
"""The metric each detection kind adds to (ioc/data/feeds/camera.yaml); its name on the board
is the kind's label in the declaration. A kind added to the declaration needs one here."""


def build(ctx: BoardContext) -> builders.Dashboard:
    """The camera board: the online rate against its SLO, AI detections per hour, by area."""
    labels = feed("camera").labels["DetectionKind"]
    missing = set(labels) - set(DETECTION_METRICS)
    unknown = set(DETECTION_METRICS.values()) - set(METRICS)
    if missing or unknown:
        raise ValueError(
            f"detection kinds without a metric: {sorted(missing)}; "
            f"unknown metrics: {sorted(unknown)}"
        )
    detections = [(labels[kind][0], metric) for kind, metric in DETECTION_METRICS.items()]
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
