"""What each event adds to its window: the metrics that KPIs are ratios of.

A window row is (window start, metric, area) with the count, sum, min and max of the values
its events contributed. A counting metric contributes 1, so its sum is its count; a measured
one (latency, amount) contributes the measurement. KPIs are ratios of sums of these rows
(numerator and denominator metrics, never precomputed ratios), so they roll up from commune to
province and from minutes to days exactly.

Numerators are only contributed when true (`dvc.received_online` only for online dossiers);
denominators always. Metric names are stable: KPI catalogues and boards refer to them. What
each kind of event adds is declared with its feed (the ``metrics:`` of ``ioc/data/feeds/*.yaml``,
compiled once by `ioc.feeds`).

Example:
    >>> from datetime import UTC, datetime
    >>> from ioc.events import Envelope, PaymentTransaction
    >>> env = Envelope.create(source="sim", area="12142", occurred_at=datetime.now(UTC),
    ...     payload=PaymentTransaction(transaction_id="t1", amount_vnd=50_000,
    ...         channel="qr", sector="school", success=True))
    >>> measures(env)  # doctest: +NORMALIZE_WHITESPACE
    [('payment.events', 1), ('payment.attempts', 1), ('payment.attempts.qr', 1),
     ('payment.succeeded', 1), ('payment.succeeded.qr', 1), ('payment.cashless', 1),
     ('payment.amount_vnd', 50000)]
"""

from __future__ import annotations

from ioc.events import Envelope
from ioc.feeds import Measure, event_kinds, feeds

__all__ = ["METRICS", "Measure", "measures"]

_MEASURES = {model: kind.measures for model, kind in event_kinds().items()}


def measures(envelope: Envelope) -> list[Measure]:
    """The (metric, value) pairs one event adds to its window (area = the event's area).

    The first is always ``<feed>.events``: every valid event counted once, so boards can show
    each feed's volume without knowing its payloads.
    """
    return _MEASURES[type(envelope.payload)](envelope.payload)


METRICS: dict[str, str] = {metric: doc for f in feeds() for metric, doc in f.metrics.items()}
"""Every metric name an event can contribute, with what it counts or measures."""
