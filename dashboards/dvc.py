"""Bảng dịch vụ công trực tuyến: online public services (the dvc feed)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as builders

from ioc.dashboards import _sql
from ioc.dashboards._common import FEED_BOARDS, BoardContext
from ioc.dashboards._feed import feed_board, labelled_rates, single_series

__all__ = ["UID", "build"]

UID = FEED_BOARDS["dvc"]

_STAGES = (
    ("dvc.received", "Tiếp nhận"),
    ("dvc.received_online", "Tiếp nhận trực tuyến"),
    ("dvc.resolved", "Giải quyết"),
    ("dvc.resolved_on_time", "Giải quyết đúng hạn"),
    ("dvc.returned", "Trả lại, yêu cầu bổ sung"),
)


def build(ctx: BoardContext) -> builders.Dashboard:
    """The DVC board: the dvc KPIs against their targets, dossier flow, ratings, by area."""
    return feed_board(
        ctx,
        feed="dvc",
        uid=UID,
        title_vi="Dịch vụ công trực tuyến",
        description_en=(
            "Online public services (DVC): dossiers received online and resolved on time, "
            "citizen satisfaction, services offered full-process online and with online "
            "payment, against the province's targets; per area, down to the commune."
        ),
        window_panels=[
            labelled_rates(
                ctx,
                title="Hồ sơ theo giai đoạn (hồ sơ/giờ)",
                description=(
                    "Dossiers per hour at each stage: received (all channels and online), "
                    "resolved (and on time), returned for more documents."
                ),
                metric_filter="metric IN (" + ", ".join(_sql.literal(m) for m, _ in _STAGES) + ")",
                labels=_STAGES,
            ),
            single_series(
                ctx,
                title="Điểm đánh giá trung bình (1–5)",
                description="Mean satisfaction score of the ratings given (1 to 5).",
                metric="dvc.rating_score",
                column="rating",
                value="sum(w.sum) / nullif(sum(w.count), 0)",
                unit="none",
                display_name="Điểm đánh giá",
            ),
        ],
    )
