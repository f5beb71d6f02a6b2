"""Property-based: no input makes the pipeline's pure parts raise (issue 17).

Arbitrary bytes, arbitrary JSON, and envelope- or record-shaped JSON with extreme values
(times at year 1 and 9999 with any offset, huge numbers, long text) go through the codec, the
worker's per-record path (time checks, windows, per-feed rules, the sink's batch) and the
mapping. Each must end as an event or a dead letter; an exception would stop a worker or a
connector, which restarts into the same record forever.

Bounded for CI: a few hundred examples per property, no deadline per example (the first
examples import and warm caches), and no example database.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ioc.areas import load_areas
from ioc.codec import DecodeError, decode
from ioc.config import load_settings
from ioc.connectors.base import Rejected
from ioc.connectors.ingest.mapping import EXAMPLES, load_mapping
from ioc.events import FEEDS, Envelope
from ioc.streams.rules import FEED_RULES, FeedRules
from ioc.streams.worker import StreamWorker, _Partition

FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ZONES = [
    UTC,
    timezone(timedelta(hours=7)),
    timezone(timedelta(hours=23, minutes=59)),
    timezone(-timedelta(hours=23, minutes=59)),
]
NOW = datetime.now(UTC)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)

times = st.one_of(
    st.datetimes(
        min_value=datetime(1, 1, 1),
        max_value=datetime(9999, 12, 31, 23, 59, 59, 999999),
        timezones=st.sampled_from(ZONES),
    ).map(datetime.isoformat),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+00:00",
            "0001-01-01T00:00:00+23:59",
            "0001-01-01T00:00:00-23:59",
            "9999-12-31T23:59:59.999999+00:00",
            "9999-12-31T23:59:59-23:59",
            "9999-12-31T17:00:00+00:00",
            "9999-12-31T16:59:59+00:00",
        ]
    ),
    # Recent times pass the worker's time checks and reach the feed rules and the sink.
    st.integers(-3600, 300).map(lambda s: (NOW + timedelta(seconds=s)).isoformat()),
)
numbers = st.one_of(
    st.integers(-(10**30), 10**30),
    st.sampled_from([0, 1, -1, 2**63, 10**400]),
    st.floats(),
)
texts = st.one_of(st.text(max_size=20), st.text(min_size=100, max_size=700))
scalars = st.one_of(numbers, texts, st.booleans(), st.none(), times)

PAYLOAD_FIELDS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "camera.heartbeat": {"camera_id": texts, "online": st.booleans(), "lat": numbers},
    "camera.detection": {
        "camera_id": texts,
        "detection": st.sampled_from(["vehicle_count", "violation", "fire_smoke"]),
        "count": numbers,
        "interval_seconds": numbers,
        "confidence": numbers,
        "violation_type": texts,
    },
    "dvc.dossier": {
        "dossier_id": texts,
        "stage": st.sampled_from(["received", "resolved", "returned"]),
        "procedure_code": texts,
        "procedure_name": texts,
        "agency_code": texts,
        "channel": st.sampled_from(["online", "desk"]),
        "service_level": st.sampled_from(["full", "none"]),
        "fee_bearing": st.booleans(),
        "due_at": times,
        "on_time": st.booleans(),
    },
    "dvc.rating": {
        "dossier_id": texts,
        "agency_code": texts,
        "score": numbers,
        "satisfied": st.booleans(),
    },
    "payment.transaction": {
        "transaction_id": texts,
        "amount_vnd": numbers,
        "channel": st.sampled_from(["qr", "cash"]),
        "sector": st.sampled_from(["school", "other"]),
        "success": st.booleans(),
        "failure_reason": texts,
    },
    "network.sample": {
        "point_id": texts,
        "point_kind": st.sampled_from(["cell_site", "broadband"]),
        "up": st.booleans(),
        "latency_ms": numbers,
        "packet_loss": numbers,
        "throughput_mbps": numbers,
        "interval_seconds": numbers,
    },
    "network.subscriptions": {
        name: numbers
        for name in (
            "households",
            "fixed_broadband_households",
            "fibre_households",
            "population",
            "population_covered_4g",
            "population_covered_5g",
        )
    },
}


recent = st.integers(-3600, 300).map(lambda s: (NOW + timedelta(seconds=s)).isoformat())
# An ordinary value of each field, so that most records get past the schema and the extreme
# ones reach the feed rules and the sink one field at a time.
ORDINARY: dict[str, st.SearchStrategy[Any]] = {
    "numbers": st.integers(1, 1000),
    "ratio": st.floats(0, 1),
    "text": st.text("abc-_0123456789", min_size=1, max_size=20),
    "time": recent,
}


def _ordinary(name: str, extreme: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    if extreme is numbers:
        return ORDINARY["ratio" if name in ("confidence", "packet_loss", "lat") else "numbers"]
    if extreme is texts:
        return ORDINARY["text"]
    if extreme is times:
        return ORDINARY["time"]
    return extreme


@st.composite
def envelopes(draw: st.DrawFn) -> dict[str, Any]:
    """Envelope-shaped JSON: the right keys, values from ordinary to impossible."""
    kind = draw(st.sampled_from(sorted(PAYLOAD_FIELDS)))
    fields = PAYLOAD_FIELDS[kind]
    payload: dict[str, Any] = {"kind": kind}
    for name, strategy in fields.items():
        roll = draw(st.integers(0, 19))
        if roll == 0:
            continue  # now and then a field is missing
        payload[name] = draw(strategy if roll == 1 else _ordinary(name, strategy))
    return {
        "event_id": str(draw(st.uuids())),
        "source": draw(st.sampled_from(["sim"] * 9 + ["x" * 65])),
        "occurred_at": draw(st.one_of(times, recent, recent)),
        "published_at": draw(st.one_of(times, recent)),
        "key": draw(st.sampled_from(["k", "33"])),
        "area": draw(st.sampled_from(["33", "12142", "11950", "33", "33", "nowhere", ""])),
        "payload": payload,
    }


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


# --- codec and worker ---------------------------------------------------------------------
WORKER = StreamWorker(load_settings(), name="fuzz")


def _through_worker(value: bytes) -> None:
    """The worker's whole per-record path for one record, then its batch's pure parts."""
    envelope: Envelope | None = None
    with contextlib.suppress(DecodeError):
        envelope = decode(value)
    feed = envelope.feed if envelope is not None else "camera"
    tp = TopicPartition(f"ioc.events.{feed}", 0)
    part = _Partition(agent=feed, next_offset=0, watermark=None, committed=None)
    record = ConsumerRecord(
        tp.topic, 0, 0, int(NOW.timestamp() * 1000), 1, b"k", value, None, 1, len(value), []
    )
    WORKER._partitions = {tp: part}
    WORKER._pending = type(WORKER._pending)()
    WORKER._oldest = NOW - WORKER.retention
    WORKER._take({tp: [record]})
    pending = WORKER._pending
    assert len(pending) == 1, "every record is counted or dead-lettered"
    batch = pending.batch
    batch.days()
    batch.recount([])
    batch.status_rows(None)
    for _, letter in pending.dead:
        letter.headers()


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_are_an_event_or_a_dead_letter(value: bytes) -> None:
    _through_worker(value)


@FUZZ
@given(json_values)
def test_arbitrary_json_is_an_event_or_a_dead_letter(value: Any) -> None:
    _through_worker(_json(value))


@FUZZ
@given(envelopes())
def test_envelope_shaped_json_with_extreme_values_is_an_event_or_a_dead_letter(
    value: dict[str, Any],
) -> None:
    _through_worker(_json(value))


def test_the_fuzzed_worker_path_counts_a_good_event() -> None:
    """The harness is not vacuous: an ordinary event reaches the batch."""
    value = {
        "event_id": str(uuid.uuid4()),
        "source": "sim",
        "occurred_at": NOW.isoformat(),
        "published_at": NOW.isoformat(),
        "key": "k",
        "area": "33",
        "payload": {"kind": "camera.heartbeat", "camera_id": "c1", "online": True},
    }
    _through_worker(_json(value))
    assert len(WORKER._pending.batch) == 1
    assert set(FEEDS) >= {"camera"}


# --- mapping ------------------------------------------------------------------------------
MAPPINGS = [load_mapping(path, areas=load_areas()) for path in sorted(EXAMPLES.glob("*.yaml"))]

dossier_records = st.fixed_dictionaries(
    {
        "ma_ho_so": scalars,
        "thoi_diem": st.one_of(times, recent),
        "don_vi": st.fixed_dictionaries(
            {"ma_xa": st.sampled_from(["12142", "12142", "x"]), "ma": scalars}
        ),
        "trang_thai": st.sampled_from(["Mới tiếp nhận", "Đã trả kết quả"]),
        "thu_tuc": st.fixed_dictionaries(
            {
                "ma": st.one_of(scalars, ORDINARY["text"]),
                "ten": texts,
                "muc_do": st.sampled_from(["Toàn trình", "Một phần"]),
            }
        ),
        "kenh_nop": st.sampled_from(["Trực tuyến", "Trực tiếp"]),
        "co_phi": st.sampled_from(["có", "không"]),
        "han_xu_ly": st.one_of(
            scalars,
            st.datetimes(
                min_value=datetime(1, 1, 1),
                max_value=datetime(9999, 12, 31, 23, 59),
            ).map(lambda d: d.strftime("%d/%m/%Y %H:%M")),
        ),
        "dung_han": st.one_of(st.booleans(), scalars),
    }
)
payment_records = st.fixed_dictionaries(
    {
        "ma_giao_dich": st.one_of(scalars, ORDINARY["text"]),
        "thoi_gian": st.one_of(
            scalars,
            st.integers(-3600, 300).map(
                lambda s: (NOW + timedelta(hours=7, seconds=s)).strftime("%d/%m/%Y %H:%M:%S")
            ),
            st.sampled_from(["01/01/0001 00:00:00", "31/12/9999 23:59:59"]),
            st.datetimes(
                min_value=datetime(1, 1, 1),
                max_value=datetime(9999, 12, 31, 23, 59),
            ).map(lambda d: d.strftime("%d/%m/%Y %H:%M:%S")),
        ),
        "benh_vien": st.fixed_dictionaries({"ma": scalars}),
        "so_tien": st.one_of(numbers, ORDINARY["numbers"]),
        "hinh_thuc": st.sampled_from(["VNPAY-QR", "TIEN_MAT", "?"]),
        "trang_thai": scalars,
        "ly_do": texts,
    }
)


def _map(raw: bytes) -> None:
    for mapping in MAPPINGS:
        item = mapping.apply(raw, source="fuzz", location="fuzz:1")
        assert isinstance(item, Envelope | Rejected)
        if isinstance(item, Envelope):
            _through_worker(_json(json.loads(item.model_dump_json())))


@FUZZ
@given(st.binary(max_size=300))
def test_the_mapping_takes_arbitrary_bytes(value: bytes) -> None:
    _map(value)


@FUZZ
@given(json_values)
def test_the_mapping_takes_arbitrary_json(value: Any) -> None:
    _map(_json(value))


@FUZZ
@given(st.one_of(dossier_records, payment_records))
def test_the_mapping_takes_records_with_extreme_values(value: dict[str, Any]) -> None:
    _map(_json(value))


def test_a_record_that_makes_the_worker_fail_is_an_internal_dead_letter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The net under the fuzzed path: a bug in a rule dead-letters the record, the next counts.

    Before, the exception left the worker's loop; restarted, it read the same record again.
    """

    def broken(envelope: Envelope) -> tuple[str, str] | None:
        if envelope.key == "poison":
            raise OverflowError("date value out of range")
        return None

    camera = FEED_RULES["camera"]
    monkeypatch.setitem(FEED_RULES, "camera", FeedRules(camera.feed, (*camera.rules, broken)))
    tp = TopicPartition("ioc.events.camera", 0)
    part = _Partition(agent="camera", next_offset=0, watermark=None, committed=None)
    WORKER._partitions = {tp: part}
    WORKER._pending = type(WORKER._pending)()
    WORKER._oldest = NOW - WORKER.retention
    records = []
    for offset, key in enumerate(("poison", "k")):
        value = _json(
            {
                "event_id": str(uuid.uuid4()),
                "source": "sim",
                "occurred_at": NOW.isoformat(),
                "published_at": NOW.isoformat(),
                "key": key,
                "area": "33",
                "payload": {"kind": "camera.heartbeat", "camera_id": "c1", "online": True},
            }
        )
        stamp = int(NOW.timestamp() * 1000)
        records.append(
            ConsumerRecord(tp.topic, 0, offset, stamp, 1, b"k", value, None, 1, len(value), [])
        )
    WORKER._take({tp: records})
    [(_, letter)] = WORKER._pending.dead
    assert (letter.reason, letter.detail) == ("internal", "OverflowError: date value out of range")
    assert len(WORKER._pending.batch) == 1
    assert part.next_offset == 2
