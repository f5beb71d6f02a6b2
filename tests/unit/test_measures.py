"""What each event adds to its window: numerators only when true, denominators always."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from ioc.areas import load_areas
from ioc.config import load_settings
from ioc.connectors import ConnectorContext, VirtualClock
from ioc.connectors.registry import load_connector
from ioc.events import (
    DossierEvent,
    Envelope,
    NetworkSample,
    PaymentTransaction,
    SatisfactionRating,
    utc_now,
)
from ioc.kpis.measures import METRICS, measures


def _env(payload: object) -> Envelope:
    return Envelope.create(source="t", area="12142", occurred_at=utc_now(), payload=payload)


def test_a_failed_cash_payment_counts_as_an_attempt_only() -> None:
    failed = PaymentTransaction(
        transaction_id="t", amount_vnd=10_000, channel="cash", sector="retail", success=False
    )
    assert measures(_env(failed)) == [
        ("payment.events", 1),
        ("payment.attempts", 1),
        ("payment.attempts.cash", 1),
    ]


def test_a_late_fee_bearing_dossier_paid_online() -> None:
    resolved = DossierEvent(
        dossier_id="d",
        stage="resolved",
        procedure_code="p",
        procedure_name="Cấp giấy phép xây dựng",
        agency_code="SO-XD",
        channel="desk",
        service_level="partial",
        fee_bearing=True,
        fee_paid_online=True,
        on_time=False,
    )
    assert measures(_env(resolved)) == [
        ("dvc.events", 1),
        ("dvc.resolved", 1),
        ("dvc.fee_resolved", 1),
        ("dvc.fee_paid_online", 1),
    ]


def test_measured_values_are_contributed_as_they_are() -> None:
    sample = NetworkSample(
        point_id="p", point_kind="cell_site", up=True, latency_ms=23.5, packet_loss=0.01
    )
    assert measures(_env(sample)) == [
        ("network.events", 1),
        ("network.cell_site.samples", 1),
        ("network.cell_site.up", 1),
        ("network.cell_site.latency_ms", 23.5),
        ("network.cell_site.packet_loss", 0.01),
    ]
    rating = SatisfactionRating(dossier_id="d", agency_code="a", score=2, satisfied=False)
    assert measures(_env(rating)) == [
        ("dvc.events", 1),
        ("dvc.ratings", 1),
        ("dvc.rating_score", 2),
    ]


async def test_the_simulated_feeds_contribute_only_catalogued_metrics_and_most_of_them() -> None:
    start = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)  # a Monday, 07:00 local
    seen: Counter[str] = Counter()
    # Citizen feedback is a few dozen cases a day: at 5% it would show no channel in six hours.
    rates = {"camera-sim": 0.05, "dvc-sim": 0.05, "payment-sim": 0.05, "network-sim": 0.05}
    for name, rate in (rates | {"feedback-sim": 10.0}).items():
        context = ConnectorContext(
            name=name,
            settings=load_settings(),
            areas=load_areas(),
            clock=VirtualClock(start, start + timedelta(hours=6)),
            rate=rate,
        )
        async for event in load_connector(name)(context).events():
            assert isinstance(event, Envelope)
            seen.update(metric for metric, _ in measures(event))
    assert set(seen) <= set(METRICS)
    # Not the air metrics: the test plug-in's feed (tests/plugins/ioc-test-airquality) has its
    # own connector and no shipped simulator.
    never = {m for m in METRICS if not m.startswith("air.")} - set(seen)
    # Rare in six hours at 5% volume: returns, fires, and channels or kinds a feed lacks.
    assert len(never) < 12, sorted(never)
    assert not {m for m in never if m.startswith("feedback.")}, sorted(never)
