"""Payment rules: transactions by channel and sector."""

from __future__ import annotations

from ioc.events import Envelope, PaymentTransaction
from ioc.streams.rules import FeedRules


def success_has_no_failure_reason(envelope: Envelope) -> tuple[str, str] | None:
    """A transaction cannot both succeed and carry a failure reason (success rate KPI)."""
    p = envelope.payload
    if type(p) is PaymentTransaction and p.success and p.failure_reason:
        return (
            "inconsistent",
            f"transaction {p.transaction_id} succeeded with failure_reason={p.failure_reason!r}",
        )
    return None


RULES = FeedRules(feed="payment", rules=(success_has_no_failure_reason,))
