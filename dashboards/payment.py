"""Bảng thanh toán: payments and cashless payment (the payment feed)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as builders

from ioc.dashboards import _sql
from ioc.dashboards._common import FEED_BOARDS, BoardContext, custom_variable
from ioc.dashboards._feed import feed_board, labelled_rates, labelled_ratio, single_series
from ioc.feeds import feed

__all__ = ["UID", "build"]

UID = FEED_BOARDS["payment"]


# The metrics of the channels chosen above, named as ioc.kpis.measures names them. The channels
# come as ${channel:sqlstring}: each value quoted with its quotes doubled (Grafana's
# "sqlstring" format), whether one, several or All are chosen.
def _metrics(*stages: str) -> str:
    names = ", ".join(f"'payment.{stage}.'" for stage in stages)
    return (
        f"metric IN (SELECT s || c FROM unnest(ARRAY[{names}]) AS s, "
        "unnest(ARRAY[${channel:sqlstring}]::text[]) AS c)"
    )


def build(ctx: BoardContext) -> builders.Dashboard:
    """The payment board: cashless share and success rate, channels, amounts, by area."""
    # Every channel of the declaration (ioc/data/feeds/payment.yaml), named as it names them.
    labels = feed("payment").labels["PaymentChannel"]
    channels = [(vi, channel) for channel, (vi, _) in labels.items()]
    return feed_board(
        ctx,
        feed="payment",
        uid=UID,
        title_vi="Thanh toán không dùng tiền mặt",
        description_en=(
            "Payments: the cashless share and the success rate against their targets, "
            "payment attempts and success by channel, amounts paid; per area."
        ),
        variables=[
            custom_variable(
                "channel",
                "Kênh thanh toán",
                "Payment channels shown in the channel panels",
                channels,
            )
        ],
        window_panels=[
            labelled_rates(
                ctx,
                title="Lượt thanh toán theo kênh (lượt/giờ)",
                description="Payment attempts per hour, by channel (the channels chosen above).",
                metric_filter=_metrics("attempts"),
                labels=[(f"payment.attempts.{value}", label) for label, value in channels],
            ),
            labelled_ratio(
                ctx,
                title="Tỷ lệ thành công theo kênh",
                description=(
                    "Successful payments out of attempts, per channel and time step (a ratio "
                    "of sums)."
                ),
                metric_filter=_metrics("attempts", "succeeded"),
                key="split_part(w.metric, '.', 3)",
                labels=[(value, label) for label, value in channels],
                numerator="sum(w.sum) FILTER (WHERE split_part(w.metric, '.', 2) = 'succeeded')",
                denominator="sum(w.sum) FILTER (WHERE split_part(w.metric, '.', 2) = 'attempts')",
                unit="percentunit",
            ),
            single_series(
                ctx,
                title="Giá trị thanh toán thành công (đồng/giờ)",
                description="Amount of successful payments per hour, in VND.",
                metric="payment.amount_vnd",
                column="amount_vnd",
                value=_sql.per_hour("sum(w.sum)", "w.width_ms"),
                unit="currencyVND",
                display_name="Giá trị thanh toán",
            ),
        ],
    )
