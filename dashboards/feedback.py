"""Bảng phản ánh, kiến nghị: citizen feedback and petitions (the feedback feed)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as builders

from ioc.dashboards import _sql
from ioc.dashboards._common import FEED_BOARDS, BoardContext
from ioc.dashboards._feed import feed_board, labelled_rates, single_series
from ioc.feeds import feed

__all__ = ["UID", "build"]

UID = FEED_BOARDS["feedback"]

_STAGES = (
    ("feedback.received", "Tiếp nhận"),
    ("feedback.assigned", "Chuyển xử lý"),
    ("feedback.answered", "Đã trả lời"),
    ("feedback.answered_on_time", "Trả lời đúng hạn"),
)


def build(ctx: BoardContext) -> builders.Dashboard:
    """The feedback board: its KPIs, the flow of cases, channels, answer time, by area."""
    # The channels and their names come from the declaration (ioc/data/feeds/feedback.yaml).
    channels = [
        (f"feedback.received.{value}", vi)
        for value, (vi, _) in feed("feedback").labels["FeedbackChannel"].items()
    ]
    return feed_board(
        ctx,
        feed="feedback",
        uid=UID,
        title_vi="Phản ánh, kiến nghị",
        description_en=(
            "Citizen feedback and petitions (PAKN) from the 1022 hotline, apps and portals: "
            "cases received, assigned, answered and answered on time, by channel, and the "
            "mean time to answer, against the province's targets; per area, down to the commune."
        ),
        window_panels=[
            labelled_rates(
                ctx,
                title="Phản ánh, kiến nghị theo giai đoạn (phiếu/giờ)",
                description=(
                    "Cases per hour at each stage: received, assigned to an agency, answered "
                    "(and on time)."
                ),
                metric_filter="metric IN (" + ", ".join(_sql.literal(m) for m, _ in _STAGES) + ")",
                labels=_STAGES,
            ),
            labelled_rates(
                ctx,
                title="Tiếp nhận theo kênh (phiếu/giờ)",
                description="Cases received per hour, by channel (hotline 1022, app, Zalo…).",
                metric_filter="metric IN (" + ", ".join(_sql.literal(m) for m, _ in channels) + ")",
                labels=channels,
            ),
            single_series(
                ctx,
                title="Thời gian trả lời trung bình (giờ)",
                description="Mean hours from receipt to answer of the cases answered.",
                metric="feedback.answer_hours",
                column="hours",
                value="sum(w.sum) / nullif(sum(w.count), 0)",
                unit="h",
                display_name="Giờ trả lời",
            ),
        ],
    )
