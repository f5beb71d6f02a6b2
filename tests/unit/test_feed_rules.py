"""The feeds' consistency rules (`ioc.streams.rules`): what the payload schema cannot check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ioc.events import DossierEvent, Envelope, NetworkSample, PaymentTransaction
from ioc.streams.rules import FEED_RULES

AT = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def _dossier(on_time: bool, due: datetime) -> Envelope:
    return Envelope.create(
        source="t",
        area="12142",
        occurred_at=AT,
        payload=DossierEvent(
            dossier_id="d1",
            stage="resolved",
            procedure_code="1.001",
            procedure_name="Cấp giấy phép xây dựng",
            agency_code="SXD",
            channel="online",
            service_level="full",
            due_at=due,
            on_time=on_time,
        ),
    )


def test_every_feed_has_an_agent() -> None:
    # air: declared by the test plug-in (tests/plugins/ioc-test-airquality), installed.
    assert set(FEED_RULES) == {"camera", "dvc", "payment", "network", "feedback", "air"}


@pytest.mark.parametrize(
    ("on_time", "due", "ok"),
    [
        (True, AT + timedelta(hours=1), True),
        (False, AT - timedelta(hours=1), True),
        (True, AT, True),  # resolved at the deadline is on time
        (True, AT - timedelta(seconds=1), False),
        (False, AT + timedelta(days=2), False),
    ],
)
def test_a_resolved_dossier_must_agree_with_its_deadline(
    on_time: bool, due: datetime, ok: bool
) -> None:
    broken = FEED_RULES["dvc"].reject(_dossier(on_time, due))
    assert (broken is None) is ok
    if not ok:
        assert broken is not None and broken[0] == "inconsistent" and "d1" in broken[1]


def test_a_successful_payment_has_no_failure_reason() -> None:
    def pay(success: bool, reason: str | None) -> Envelope:
        return Envelope.create(
            source="t",
            area="12142",
            occurred_at=AT,
            payload=PaymentTransaction(
                transaction_id="p1",
                amount_vnd=10_000,
                channel="qr",
                sector="school",
                success=success,
                failure_reason=reason,
            ),
        )

    assert FEED_RULES["payment"].reject(pay(False, "timeout")) is None
    assert FEED_RULES["payment"].reject(pay(True, None)) is None
    assert FEED_RULES["payment"].reject(pay(True, "timeout")) == (
        "inconsistent",
        "transaction p1 succeeded with failure_reason='timeout'",
    )


def test_a_down_point_reports_no_throughput() -> None:
    def sample(up: bool, mbps: float | None) -> Envelope:
        return Envelope.create(
            source="t",
            area="12142",
            occurred_at=AT,
            payload=NetworkSample(
                point_id="p", point_kind="cell_site", up=up, throughput_mbps=mbps
            ),
        )

    assert FEED_RULES["network"].reject(sample(False, None)) is None
    assert FEED_RULES["network"].reject(sample(False, 0.0)) is None
    assert FEED_RULES["network"].reject(sample(True, 80.0)) is None
    assert FEED_RULES["network"].reject(sample(False, 3.5)) is not None
