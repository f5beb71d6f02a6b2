import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from ioc.codec import DecodeError, decode, encode, headers
from ioc.events import (
    CameraDetection,
    CameraHeartbeat,
    DossierEvent,
    DvcService,
    Envelope,
    NetworkSample,
    NetworkSubscriptions,
    PaymentTransaction,
    SatisfactionRating,
)

ICT = timezone(timedelta(hours=7))
WHEN = datetime(2025, 3, 4, 9, 30, tzinfo=ICT)

PAYLOADS = [
    CameraHeartbeat(camera_id="cam-1", online=False, lat=20.65, lon=106.05),
    CameraDetection(camera_id="cam-1", detection="violation", count=3, violation_type="red_light"),
    DossierEvent(
        dossier_id="H33.01-250304-0001",
        stage="resolved",
        procedure_code="1.001234",
        procedure_name="Đăng ký khai sinh",
        agency_code="UBND-AnThi",
        channel="online",
        service_level="full",
        fee_bearing=True,
        fee_paid_online=True,
        on_time=False,
        due_at=WHEN + timedelta(days=3),
    ),
    SatisfactionRating(dossier_id="d1", agency_code="STP", score=5, satisfied=True),
    DvcService(
        procedure_code="1.0001",
        procedure_name="Cấp phiếu lý lịch tư pháp",
        agency_code="STP",
        service_level="partial",
        eligible_full=True,
    ),
    PaymentTransaction(
        transaction_id="t1",
        amount_vnd=150_000,
        channel="cash",
        sector="hospital",
        success=False,
        failure_reason="timeout",
    ),
    NetworkSample(
        point_id="tsl-ubnd-xa-1",
        point_kind="special_network",
        up=True,
        latency_ms=12.5,
        packet_loss=0.001,
        throughput_mbps=87.0,
    ),
    NetworkSubscriptions(
        households=1000,
        fixed_broadband_households=900,
        fibre_households=850,
        population=4000,
        population_covered_4g=3990,
        population_covered_5g=2000,
    ),
]


def _envelope(payload: object, **extra: object) -> Envelope:
    return Envelope.create(source="test", area="12100", payload=payload, occurred_at=WHEN, **extra)


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: p.kind)
def test_every_payload_round_trips(payload: object) -> None:
    env = _envelope(payload)
    back = decode(encode(env))
    assert back == env
    assert back.feed == env.event_type.split(".")[0]


def test_event_time_is_stored_in_utc_without_shifting_the_instant() -> None:
    env = _envelope(PAYLOADS[0])
    assert env.occurred_at.utcoffset() == timedelta(0)
    assert env.occurred_at == WHEN
    assert env.occurred_at.hour == 2


def test_vietnamese_is_utf8_on_the_wire() -> None:
    raw = encode(_envelope(PAYLOADS[2]))
    assert "Đăng ký khai sinh".encode() in raw
    assert b"\\u" not in raw


def test_headers_describe_the_record() -> None:
    env = _envelope(PAYLOADS[5])
    assert dict(headers(env)) == {
        "ioc-type": b"payment.transaction",
        "ioc-version": b"1",
        "ioc-source": b"test",
    }


def test_naive_event_time_is_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        _envelope(PAYLOADS[0], published_at=datetime(2025, 1, 1))


def test_resolved_dossier_must_say_on_time() -> None:
    with pytest.raises(ValidationError, match="on_time"):
        DossierEvent(
            dossier_id="d",
            stage="resolved",
            procedure_code="p",
            procedure_name="n",
            agency_code="a",
            channel="desk",
            service_level="none",
        )


def test_parts_cannot_exceed_totals() -> None:
    with pytest.raises(ValidationError, match="exceed"):
        NetworkSubscriptions(
            households=10,
            fixed_broadband_households=11,
            fibre_households=0,
            population=1,
            population_covered_4g=0,
            population_covered_5g=0,
        )


def _raw(**changes: object) -> bytes:
    data = json.loads(encode(_envelope(PAYLOADS[0])))
    data.update(changes)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("value", "reason", "detail"),
    [
        (None, "empty", "no value"),
        (b"\xff\xfe", "not_utf8", "utf-8"),
        (b"{not json", "invalid", "JSON"),
        (_raw(event_type="camera.detection"), "invalid", "does not match payload kind"),
        (
            _raw(payload={"kind": "camera.heartbeat", "camera_id": "c", "online": True, "x": 1}),
            "invalid",
            "payload.camera.heartbeat.x",
        ),
        (_raw(payload={"kind": "camera.teleport"}), "invalid", "payload"),
        (_raw(schema_version=99), "invalid", "schema_version"),
        (_raw(occurred_at="2025-01-01T00:00:00"), "invalid", "occurred_at"),
        (_raw(event_id="not-a-uuid"), "invalid", "event_id"),
        # No UTC instant a datetime can hold: a bad record, not an OverflowError.
        (_raw(occurred_at="0001-01-01T00:00:00+07:00"), "invalid", "out of range in UTC"),
        (_raw(occurred_at="9999-12-31T23:59:59-07:00"), "invalid", "out of range in UTC"),
    ],
)
def test_bad_records_say_exactly_why(value: bytes | None, reason: str, detail: str) -> None:
    with pytest.raises(DecodeError) as err:
        decode(value)
    assert err.value.reason == reason
    assert detail.lower() in err.value.detail.lower()


def test_event_ids_are_unique_and_key_defaults_to_area() -> None:
    a, b = _envelope(PAYLOADS[0]), _envelope(PAYLOADS[0])
    assert a.event_id != b.event_id and isinstance(a.event_id, uuid.UUID)
    assert a.key == "12100"
    assert _envelope(PAYLOADS[0], key="cam-1").key == "cam-1"
    assert a.published_at.tzinfo is not None and a.published_at <= datetime.now(UTC)
