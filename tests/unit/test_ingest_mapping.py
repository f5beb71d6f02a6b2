"""Mapping files: load-time checks with file:line, and how each record becomes an event or not."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ioc.areas import AreaRegistry, load_areas
from ioc.connectors.base import Rejected
from ioc.connectors.ingest.mapping import REJECTION_REASONS, Mapping, MappingError, load_mapping
from ioc.events import CameraHeartbeat, DossierEvent, Envelope, PaymentTransaction

EXAMPLES = Path(__file__).resolve().parents[2] / "connectors" / "ingest" / "examples"

PAYMENTS = """\
# Payments exported by the hospital's gateway
kind: payment.transaction
event_id: $.txn_id
key: $.txn_id
occurred_at:
  path: $.thoi_gian
  format: "%d/%m/%Y %H:%M:%S"
  timezone: Asia/Ho_Chi_Minh
area:
  path: $.benh_vien.huyen
  lookup: name
  default: "33"
payload:
  transaction_id: $.txn_id
  amount_vnd: {path: $.so_tien, type: vnd}
  channel: {path: $.hinh_thuc, map: {VNPAY-QR: qr, TIEN_MAT: cash, THE: card}}
  sector: {value: hospital}
  success: {path: $.trang_thai, map: {"00": true}, otherwise: false}
  failure_reason: {path: $.ma_loi, optional: true}
"""

GOOD = {
    "txn_id": "T-1",
    "thoi_gian": "01/06/2025 08:00:00",
    "so_tien": "1.250.000",
    "hinh_thuc": "VNPAY-QR",
    "trang_thai": "00",
    "benh_vien": {"ten": "Trung tâm Y tế Văn Lâm", "huyen": "Văn Lâm"},
}


@pytest.fixture(scope="module")
def areas() -> AreaRegistry:
    return load_areas()


Write = Callable[[str], Mapping]


@pytest.fixture
def write(tmp_path: Path, areas: AreaRegistry) -> Write:
    """Load a mapping from YAML text."""

    def write(text: str) -> Mapping:
        path = tmp_path / "m.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return load_mapping(path, areas=areas)

    return write


@pytest.fixture
def payments(write: Write) -> Mapping:
    return write(PAYMENTS)


def line(**changes: object) -> bytes:
    record = {**GOOD, **changes}
    return json.dumps(
        {k: v for k, v in record.items() if v is not ...}, ensure_ascii=False
    ).encode()


def apply(mapping: Mapping, raw: bytes) -> Envelope | Rejected:
    return mapping.apply(raw, source="bv-gateway", location="f.jsonl:7")


def ok(mapping: Mapping, raw: bytes) -> Envelope:
    result = apply(mapping, raw)
    assert isinstance(result, Envelope), result
    return result


def paid(mapping: Mapping, raw: bytes) -> PaymentTransaction:
    payload = ok(mapping, raw).payload
    assert isinstance(payload, PaymentTransaction)
    return payload


def rejected(mapping: Mapping, raw: bytes) -> Rejected:
    result = apply(mapping, raw)
    assert isinstance(result, Rejected), result
    assert result.original == raw
    assert result.location == "f.jsonl:7"
    assert result.reason in REJECTION_REASONS
    return result


# --- the shipped examples ----------------------------------------------------------------------
@pytest.mark.parametrize("stem", ["hospital-payments", "dvc-dossiers", "hotline-1022"])
def test_every_example_line_becomes_an_event(stem: str, areas: AreaRegistry) -> None:
    mapping = load_mapping(EXAMPLES / f"{stem}.yaml", areas=areas)
    lines = (EXAMPLES / f"{stem}.jsonl").read_bytes().splitlines()
    results = [apply(mapping, raw) for raw in lines]
    assert [r for r in results if not isinstance(r, Envelope)] == []
    assert {r.feed for r in results if isinstance(r, Envelope)} == {mapping.feed}


def test_vietnamese_text_is_kept_intact(areas: AreaRegistry) -> None:
    payments = load_mapping(EXAMPLES / "hospital-payments.yaml", areas=areas)
    raw = (EXAMPLES / "hospital-payments.jsonl").read_bytes().splitlines()[2]
    event = ok(payments, raw)
    assert isinstance(event.payload, PaymentTransaction)
    assert event.payload.failure_reason == "Số dư không đủ"
    assert event.area == "33"  # no district in the record: the default

    dossiers = load_mapping(EXAMPLES / "dvc-dossiers.yaml", areas=areas)
    raw = (EXAMPLES / "dvc-dossiers.jsonl").read_bytes().splitlines()[2]
    dossier = ok(dossiers, raw).payload
    assert isinstance(dossier, DossierEvent)
    assert dossier.procedure_name == "Cấp giấy phép xây dựng nhà ở riêng lẻ"
    assert (dossier.stage, dossier.channel, dossier.service_level) == (
        "processing",
        "desk",
        "partial",
    )
    assert dossier.fee_bearing is True and dossier.fee_paid_online is True


# --- applying ----------------------------------------------------------------------------------
def test_good_record(payments: Mapping) -> None:
    event = ok(payments, line())
    assert event.source == "bv-gateway"
    assert event.key == "T-1"
    assert event.area == "325"  # Huyện Văn Lâm, valid on 1 June 2025
    assert event.occurred_at == datetime(2025, 6, 1, 1, 0, tzinfo=UTC)
    assert event.payload == PaymentTransaction(
        transaction_id="T-1", amount_vnd=1_250_000, channel="qr", sector="hospital", success=True
    )
    assert payments.kind == "payment.transaction" and payments.feed == "payment"


REJECTIONS = [
    (b'{"txn_id": "T-1", "x": "\xff"}', "not_utf8", ["not UTF-8", "byte 24"]),
    (b'{"txn_id": "T-1", ', "not_json", ["not JSON", "column 19"]),
    (b"[1, 2]", "not_object", ["expected a JSON object", "[1, 2]"]),
    (line(so_tien=...), "missing_field", ["payload.amount_vnd", "$.so_tien is missing"]),
    (line(so_tien=None), "missing_field", ["payload.amount_vnd", "$.so_tien is null"]),
    (line(so_tien="12,5"), "conversion", ["payload.amount_vnd", '"12,5"', "đồng"]),
    (line(benh_vien={"huyen": ["x"]}), "conversion", ["area", '["x"]', "area code or name"]),
    (line(hinh_thuc="BITCOIN"), "unmapped_value", ["payload.channel", '"BITCOIN"', "VNPAY-QR"]),
    (line(benh_vien={"huyen": "Hà Nội"}), "unknown_area", ["area", '"Hà Nội"', "2025-06-01"]),
    (
        line(benh_vien={"huyen": "Hưng Yên"}),
        "ambiguous_area",
        ["Tỉnh Hưng Yên (33)", "Thành phố Hưng Yên (323)"],
    ),
    (line(thoi_gian="2025-06-01 08:00"), "bad_time", ["occurred_at", '"2025-06-01 08:00"']),
    # Year 1 in local time is year 0 in UTC: no datetime holds it (was an OverflowError).
    (line(thoi_gian="01/01/0001 05:00:00"), "bad_time", ["occurred_at", "out of range"]),
    (line(so_tien="0"), "invalid", ["payload.amount_vnd", "greater than 0", "(got 0)"]),
    (line(txn_id="T" * 200), "invalid", ["payload.transaction_id", "at most 128"]),
]


@pytest.mark.parametrize(("raw", "reason", "fragments"), REJECTIONS)
def test_each_rejection_reason(
    payments: Mapping, raw: bytes, reason: str, fragments: list[str]
) -> None:
    result = rejected(payments, raw)
    assert result.reason == reason
    for fragment in fragments:
        assert fragment in result.detail


def test_every_reason_is_exercised() -> None:
    assert {reason for _, reason, _ in REJECTIONS} == set(REJECTION_REASONS)


def test_long_values_are_cut_in_details(payments: Mapping) -> None:
    result = rejected(payments, line(hinh_thuc="X" * 5000))
    assert result.reason == "unmapped_value"
    assert len(result.detail) < 400
    assert "…" in result.detail


def test_apply_record_takes_parsed_json(payments: Mapping) -> None:
    result = payments.apply_record("text", original=b'"text"', source="s", location="http:r#0")
    assert isinstance(result, Rejected)
    assert (result.reason, result.original, result.location) == (
        "not_object",
        b'"text"',
        "http:r#0",
    )
    assert isinstance(
        payments.apply_record(GOOD, original=line(), source="s", location="http:r#1"), Envelope
    )


def test_map_keys_match_as_written(write: Write) -> None:
    mapping = write(PAYMENTS.replace('{"00": true}', '{"00": true, 0: true, ON: true}'))
    assert paid(mapping, line(trang_thai="00")).success is True
    assert paid(mapping, line(trang_thai=0)).success is True
    assert paid(mapping, line(trang_thai="ON")).success is True  # not YAML's boolean
    assert paid(mapping, line(trang_thai="0")).success is True
    assert paid(mapping, line(trang_thai="05")).success is False  # otherwise


def test_absent_optional_fields_are_left_out(payments: Mapping) -> None:
    assert paid(payments, line(ma_loi=None)).failure_reason is None
    assert paid(payments, line(ma_loi="51")).failure_reason == "51"


# --- areas -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "when", "code"),
    [
        ("van lam", "30/06/2025 23:59:59", "325"),  # the district, until its last day
        ("VĂN LÂM", "01/01/2024 00:00:00", "325"),
        ("Huyện Văn Lâm", "01/06/2025 08:00:00", "325"),
        ("325", "01/06/2025 08:00:00", "325"),
        ("xa nhu quynh", "01/07/2025 00:00:00", "11986"),  # a commune of the two-tier shape
        ("Mỹ Hào", "15/08/2025 08:00:00", "12103"),  # Phường Mỹ Hào, the town's successor
    ],
)
def test_area_names_resolve_on_the_event_day(
    payments: Mapping, name: str, when: str, code: str
) -> None:
    event = ok(payments, line(benh_vien={"huyen": name}, thoi_gian=when))
    assert event.area == code


def test_abolished_district_is_unknown_after_the_reform(payments: Mapping) -> None:
    # 1 July 2025 00:30 in Hưng Yên is still 30 June in UTC: the local day decides.
    result = rejected(
        payments, line(benh_vien={"huyen": "van lam"}, thoi_gian="01/07/2025 00:30:00")
    )
    assert result.reason == "unknown_area"
    assert "2025-07-01" in result.detail


def test_area_codes(write: Write) -> None:
    mapping = write(PAYMENTS.replace("  lookup: name\n", ""))
    assert ok(mapping, line(benh_vien={"huyen": "325"})).area == "325"
    assert ok(mapping, line(benh_vien={"huyen": 33})).area == "33"
    result = rejected(mapping, line(benh_vien={"huyen": "325"}, thoi_gian="01/08/2025 08:00:00"))
    assert result.reason == "unknown_area"
    assert "does not exist on 2025-08-01" in result.detail
    assert rejected(mapping, line(benh_vien={"huyen": "Văn Lâm"})).reason == "unknown_area"


# --- times -------------------------------------------------------------------------------------
def test_local_time_becomes_utc(payments: Mapping) -> None:
    event = ok(payments, line(thoi_gian="15/01/2025 08:00:00"))
    assert event.occurred_at == datetime(2025, 1, 15, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        ("{path: $.t}", "2025-06-01T08:00:00+07:00", datetime(2025, 6, 1, 1, tzinfo=UTC)),
        ("{path: $.t}", "2025-06-01T08:00:00Z", datetime(2025, 6, 1, 8, tzinfo=UTC)),
        ("{path: $.t}", "2025-06-01 08:00:00", datetime(2025, 6, 1, 1, tzinfo=UTC)),  # naive
        ("{path: $.t, timezone: UTC}", "2025-06-01 08:00", datetime(2025, 6, 1, 8, tzinfo=UTC)),
        ("{path: $.t, format: epoch_s}", 1748739600, datetime(2025, 6, 1, 1, tzinfo=UTC)),
        (
            "{path: $.t, format: epoch_s}",
            "1748739600.5",
            datetime(2025, 6, 1, 1, 0, 0, 500000, UTC),
        ),
        ("{path: $.t, format: epoch_ms}", 1748739600000, datetime(2025, 6, 1, 1, tzinfo=UTC)),
        (
            '{path: $.t, format: "%d/%m/%Y %H:%M %z"}',
            "01/06/2025 10:00 +0900",
            datetime(2025, 6, 1, 1, tzinfo=UTC),
        ),
    ],
)
def test_time_formats(write: Write, spec: str, value: object, expected: datetime) -> None:
    mapping = write(
        f"""\
        kind: camera.heartbeat
        occurred_at: {spec}
        area: {{value: "33"}}
        payload:
          camera_id: $.cam
          online: {{path: $.on, type: bool}}
        """
    )
    event = ok(mapping, json.dumps({"cam": "c-1", "on": "có", "t": value}).encode())
    assert event.occurred_at == expected


def test_epoch_in_the_wrong_unit_is_a_bad_time(write: Write) -> None:
    mapping = write(PAYMENTS.replace('format: "%d/%m/%Y %H:%M:%S"', "format: epoch_s"))
    result = rejected(mapping, line(thoi_gian=1748739600000 * 1000))
    assert result.reason == "bad_time"
    assert "Unix time in seconds" in result.detail


# --- conversions -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "amount"),
    [
        ("1.250.000", 1_250_000),
        ("1,250,000", 1_250_000),
        ("1.250.000 đ", 1_250_000),
        ("1250000 VND", 1_250_000),
        (" 1250000 ", 1_250_000),
        (1_250_000, 1_250_000),
        (1_250_000.0, 1_250_000),
        ("1250000.00", None),  # a decimal point, not thousands: refused, not 125 million
        ("1.250,000", None),
        ("1.25", None),
        (12.5, None),
        (True, None),
    ],
)
def test_vnd(payments: Mapping, given: object, amount: int | None) -> None:
    if amount is None:
        assert rejected(payments, line(so_tien=given)).reason == "conversion"
    else:
        assert paid(payments, line(so_tien=given)).amount_vnd == amount


@pytest.mark.parametrize(
    ("given", "value"),
    [
        (True, True),
        ("có", True),
        ("CÓ", True),
        ("Không", False),
        ("yes", True),
        ("NO", False),
        (1, True),
        ("0", False),
        ("maybe", None),
        (2, None),
    ],
)
def test_bool(write: Write, given: object, value: bool | None) -> None:
    mapping = write(
        PAYMENTS.replace(
            'success: {path: $.trang_thai, map: {"00": true}, otherwise: false}',
            "success: {path: $.ok, type: bool}",
        )
    )
    if value is None:
        result = rejected(mapping, line(ok=given))
        assert result.reason == "conversion"
        assert "payload.success" in result.detail
    else:
        assert paid(mapping, line(ok=given)).success is value


def test_paths(write: Write) -> None:
    mapping = write(
        """\
        kind: camera.heartbeat
        occurred_at: $.meta["thời gian"]
        area: {path: "$.vi_tri[1].ma", default: "33"}
        payload:
          camera_id: '$["mã camera"]'
          online: $.trang_thai[0]
          lat: {path: "$.toa_do[-2]", type: float, optional: true}
        """
    )
    record = {
        "meta": {"thời gian": "2025-06-01T08:00:00+07:00"},
        "vi_tri": [{"ma": "11"}, {"ma": "325"}],
        "mã camera": "cam-Văn-Lâm",
        "trang_thai": [True],
        "toa_do": ["20.93", "106.05"],
    }
    event = ok(mapping, json.dumps(record, ensure_ascii=False).encode())
    assert isinstance(event.payload, CameraHeartbeat)
    assert (event.area, event.payload.camera_id, event.payload.lat) == ("325", "cam-Văn-Lâm", 20.93)
    del record["vi_tri"]
    assert ok(mapping, json.dumps(record).encode()).area == "33"


# --- event ids ---------------------------------------------------------------------------------
def test_event_id_is_stable(payments: Mapping, tmp_path: Path, areas: AreaRegistry) -> None:
    first = ok(payments, line())
    assert ok(payments, line()).event_id == first.event_id
    # The same transaction written differently is the same event.
    assert ok(payments, line().replace(b", ", b",  ")).event_id == first.event_id
    assert ok(payments, line(txn_id="T-2")).event_id != first.event_id
    # The same file imported again under another connector name (--as) is the same events.
    again = payments.apply(line(), source="another-import", location="x")
    assert isinstance(again, Envelope) and again.event_id == first.event_id
    # Another system's mapping: its transaction numbers are its own.
    path = tmp_path / "another-system.yaml"
    path.write_text(textwrap.dedent(PAYMENTS), encoding="utf-8")
    other = load_mapping(path, areas=areas).apply(line(), source="x", location="x")
    assert isinstance(other, Envelope) and other.event_id != first.event_id
    assert first.event_id.version == 5


def test_without_event_id_the_line_makes_the_id(write: Write) -> None:
    mapping = write(PAYMENTS.replace("event_id: $.txn_id\n", ""))
    first = ok(mapping, line())
    assert ok(mapping, line()).event_id == first.event_id
    assert ok(mapping, line() + b"\r").event_id == first.event_id  # CRLF files
    assert ok(mapping, line(so_tien="1250000")).event_id != first.event_id


def test_key_defaults_to_the_area(write: Write) -> None:
    mapping = write(PAYMENTS.replace("key: $.txn_id\n", ""))
    assert ok(mapping, line()).key == "325"


# --- load-time checks --------------------------------------------------------------------------
def problems_of(tmp_path: Path, areas: AreaRegistry, text: str) -> list[str]:
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_mapping(path, areas=areas)
    assert str(path) in str(caught.value)
    return list(caught.value.problems)


@pytest.mark.parametrize(
    ("old", "new", "line_no", "field", "reason"),
    [
        ("kind: payment.transaction", "kind: payment.txn", 2, "kind", "unknown kind 'payment.txn'"),
        ("event_id: $.txn_id", "evnt_id: $.txn_id", 3, "evnt_id", "did you mean 'event_id'"),
        (
            "  sector: {value: hospital}",
            "  colour: $.x",
            17,
            "payload.colour",
            "fields: transaction_id",
        ),
        ("  sector: {value: hospital}", "", 13, "payload", "needs sector"),
        ("  path: $.benh_vien.huyen", "  path: $.benh_vien..huyen", 10, "area.path", "bad path"),
        (
            "amount_vnd: {path: $.so_tien, type: vnd}",
            "amount_vnd: {path: $.so_tien, type: money}",
            15,
            "payload.amount_vnd.type",
            "unknown type 'money'",
        ),
        (
            'format: "%d/%m/%Y %H:%M:%S"',
            'format: "%d/%m/%Y %Q"',
            7,
            "occurred_at.format",
            "bad strptime format",
        ),
        (
            'format: "%d/%m/%Y %H:%M:%S"',
            'format: "dd/mm/yyyy"',
            7,
            "occurred_at.format",
            "not a time format",
        ),
        (
            "timezone: Asia/Ho_Chi_Minh",
            "timezone: Asia/Hanoi",
            8,
            "occurred_at.timezone",
            "unknown time zone",
        ),
        (
            "VNPAY-QR: qr",
            "VNPAY-QR: qrcode",
            16,
            "payload.channel.map.VNPAY-QR",
            "'qr', 'e_wallet'",
        ),
        (
            "{value: hospital}",
            "{value: benh_vien}",
            17,
            "payload.sector.value",
            "not valid for sector",
        ),
        (
            "otherwise: false}",
            "otherwise: maybe}",
            18,
            "payload.success.otherwise",
            "not valid for success",
        ),
        (
            "  sector: {value: hospital}",
            "  sector: hospital",
            17,
            "payload.sector",
            "for a constant write {value: hospital}",
        ),
        ("  sector: {value: hospital}", "  sector: true", 17, "payload.sector", "expected a path"),
        ('default: "33"', 'default: "99"', 12, "area.default", "no area has the name or code '99'"),
        ("lookup: name", "lookup: fuzzy", 11, "area.lookup", "not one of: code, name"),
        (
            "{path: $.ma_loi, optional: true}",
            "{path: $.ma_loi, optional: true, default: x}",
            19,
            "payload.failure_reason",
            "either optional or default",
        ),
        (
            "{path: $.so_tien, type: vnd}",
            "{path: $.so_tien, optional: true}",
            15,
            "payload.amount_vnd",
            "cannot be optional",
        ),
        (
            "{path: $.so_tien, type: vnd}",
            "{path: $.so_tien, format: iso}",
            15,
            "payload.amount_vnd.format",
            "only for type: datetime",
        ),
        (
            "{path: $.ma_loi, optional: true}",
            "{path: $.ma_loi, otherwise: x}",
            19,
            "payload.failure_reason.otherwise",
            "only used with a map",
        ),
        (
            "{path: $.ma_loi, optional: true}",
            "{path: $.ma_loi, value: x}",
            19,
            "payload.failure_reason",
            "path or value, not both",
        ),
        (
            "  transaction_id: $.txn_id",
            "  transaction_id: $.txn_id\n  kind: $.k",
            15,
            "payload.kind",
            "set by the top-level",
        ),
        (
            "  transaction_id: $.txn_id",
            "  transaction_id: $.txn_id\n  transaction_id: $.id",
            15,
            "payload.transaction_id",
            "written twice",
        ),
        (
            "occurred_at:\n  path",
            "occurred_at:\n  paht",
            6,
            "occurred_at.paht",
            "allowed: path, format, timezone",
        ),
    ],
)
def test_load_errors_name_file_line_field_and_reason(
    tmp_path: Path, areas: AreaRegistry, old: str, new: str, line_no: int, field: str, reason: str
) -> None:
    assert old in PAYMENTS
    problems = problems_of(tmp_path, areas, PAYMENTS.replace(old, new, 1))
    prefix = f"{tmp_path / 'bad.yaml'}:{line_no}: {field}: "
    matching = [p for p in problems if p.startswith(prefix)]
    assert matching, problems
    assert reason in matching[0]


def test_several_problems_are_reported_together_in_file_order(
    tmp_path: Path, areas: AreaRegistry
) -> None:
    text = (
        PAYMENTS.replace("timezone: Asia/Ho_Chi_Minh", "timezone: Mars/Olympus")
        .replace("VNPAY-QR: qr", "VNPAY-QR: qrcode")
        .replace("lookup: name", "lookup: fuzzy")
    )
    problems = problems_of(tmp_path, areas, text)
    assert [p.split(":")[1] for p in problems] == ["8", "11", "16"]


def test_keys_written_twice_come_in_file_order_with_the_other_problems(
    tmp_path: Path, areas: AreaRegistry
) -> None:
    text = (
        PAYMENTS.replace("timezone: Asia/Ho_Chi_Minh", "timezone: Mars/Olympus")
        .replace("lookup: name", "lookup: name\n  lookup: code")
        .replace("VNPAY-QR: qr", "VNPAY-QR: qrcode")
    )
    problems = problems_of(tmp_path, areas, text)
    assert [p.split(":")[1] for p in problems] == ["8", "12", "17"]
    assert problems[1].endswith(": area.lookup: written twice; YAML would keep only the last")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"kind: [payment\n", "not valid YAML"),
        (b"kind: payment.transaction\n\xff\n", "not UTF-8"),
        (b"", "the file is empty"),
        (b"- kind\n", "expected 'key: value' lines"),
        (b"kind: payment.transaction\n", "occurred_at: missing"),
    ],
)
def test_unreadable_files(
    tmp_path: Path, areas: AreaRegistry, content: bytes, fragment: str
) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(content)
    with pytest.raises(MappingError, match="problem") as caught:
        load_mapping(path, areas=areas)
    assert fragment in str(caught.value)


def test_missing_file_is_a_mapping_error(tmp_path: Path, areas: AreaRegistry) -> None:
    with pytest.raises(MappingError, match="cannot read the file"):
        load_mapping(tmp_path / "nope.yaml", areas=areas)
