"""Bảng hạ tầng số: the special data network, broadband and mobile coverage (network feed)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as builders

from ioc.dashboards._common import FEED_BOARDS, BoardContext, custom_variable
from ioc.dashboards._feed import feed_board, labelled_ratio
from ioc.feeds import feed

__all__ = ["UID", "build"]

UID = FEED_BOARDS["network"]

# The series key of a row: its kind of point ("network.<kind>.<measure>", as ioc.kpis.measures
# names the metrics).
_KIND = "split_part(w.metric, '.', 2)"


def _metrics(*measures: str) -> str:
    # The metrics of the kinds chosen above ($point_kind: quoted values, comma-separated).
    names = ", ".join(f"'.{m}'" for m in measures)
    return (
        "metric IN (SELECT 'network.' || k || m "
        f"FROM unnest(ARRAY[$point_kind]::text[]) AS k, unnest(ARRAY[{names}]) AS m)"
    )


def build(ctx: BoardContext) -> builders.Dashboard:
    """The network board: network KPIs, then availability, latency and loss per kind of point."""
    # Every kind of point of the declaration (ioc/data/feeds/network.yaml), named as it names them.
    labels = feed("network").labels["NetworkPointKind"]
    kinds = [(vi, kind) for kind, (vi, _) in labels.items()]
    series = [(value, label) for label, value in kinds]
    return feed_board(
        ctx,
        feed="network",
        uid=UID,
        title_vi="Hạ tầng số",
        description_en=(
            "Digital infrastructure: availability of the special data network, households "
            "with fixed broadband and fibre, 4G/5G population coverage against their targets; "
            "availability, latency and packet loss by kind of point; per area."
        ),
        variables=[
            custom_variable(
                "point_kind",
                "Loại điểm kết nối",
                "Kinds of network point shown in the availability, latency and loss panels",
                kinds,
            )
        ],
        window_panels=[
            labelled_ratio(
                ctx,
                title="Tỷ lệ điểm hoạt động theo loại",
                description="Samples reporting up out of all samples, per kind of point.",
                metric_filter=_metrics("up", "samples"),
                key=_KIND,
                labels=series,
                numerator="sum(w.sum) FILTER (WHERE w.metric LIKE '%.up')",
                denominator="sum(w.sum) FILTER (WHERE w.metric LIKE '%.samples')",
                unit="percentunit",
            ),
            labelled_ratio(
                ctx,
                title="Độ trễ trung bình theo loại (ms)",
                description="Mean latency of the samples that measured it, per kind of point.",
                metric_filter=_metrics("latency_ms"),
                key=_KIND,
                labels=series,
                numerator="sum(w.sum)",
                denominator="sum(w.count)",
                unit="ms",
            ),
            labelled_ratio(
                ctx,
                title="Tỷ lệ mất gói trung bình theo loại",
                description="Mean packet loss of the samples that measured it, per kind of point.",
                metric_filter=_metrics("packet_loss"),
                key=_KIND,
                labels=series,
                numerator="sum(w.sum)",
                denominator="sum(w.count)",
                unit="percentunit",
            ),
        ],
    )
