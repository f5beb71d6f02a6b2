"""Network rules: connection-point samples and subscription counters."""

from __future__ import annotations

from ioc.events import Envelope, NetworkSample
from ioc.streams.rules import FeedRules


def down_point_moves_no_traffic(envelope: Envelope) -> tuple[str, str] | None:
    """A point reported down cannot report throughput (the availability KPI counts `up`)."""
    p = envelope.payload
    if type(p) is NetworkSample and not p.up and p.throughput_mbps:
        return (
            "inconsistent",
            f"point {p.point_id} is down but reports {p.throughput_mbps} Mbit/s",
        )
    return None


RULES = FeedRules(feed="network", rules=(down_point_moves_no_traffic,))
