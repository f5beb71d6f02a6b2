"""Message templates: Vietnamese first, decimal comma, local time, every transition kind."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ioc.alerts.model import Contributor, Severity, Transition, TransitionKind
from ioc.notify.templates import PAYLOAD_TYPE, format_duration, format_time, render

SINCE = datetime(2026, 11, 23, 1, 5, tzinfo=UTC)  # 08:05 in Hưng Yên
AT = datetime(2026, 11, 23, 3, 50, tzinfo=UTC)  # 10:50

FIRED = Transition(
    alert_id=42,
    kind=TransitionKind.FIRED,
    rule_id="dvc-online-district",
    severity=Severity.WARNING,
    area="325",
    area_name_vi="Huyện Văn Lâm",
    area_level="district",
    kpi_id="dvc_online_dossier_rate",
    kpi_name_vi="Tỷ lệ hồ sơ trực tuyến",
    kpi_name_en="Online dossier rate",
    value=0.953,
    target=0.98,
    unit="percent",
    since=SINCE,
    at=SINCE,
)

PROVINCIAL = replace(
    FIRED,
    area="33",
    area_name_vi="Tỉnh Hưng Yên",
    area_level="province",
    severity=Severity.CRITICAL,
    contributors=(
        Contributor("11986", "Xã Như Quỳnh", 0.61, 1200, 2000, 0.031, 0.004, 0.027),
        Contributor("11953", "Phường Phố Hiến", 0.7, 900, 1300, 0.012, 0.002, 0.010),
    ),
)


def test_vietnamese_is_the_default_with_diacritics_and_decimal_comma() -> None:
    message = render(FIRED)
    assert message.subject == (
        "[CẢNH BÁO] Tỷ lệ hồ sơ trực tuyến 95,3 % (mục tiêu 98 %) — Huyện Văn Lâm"
    )
    assert "Địa bàn: Huyện Văn Lâm" in message.text
    assert "Chỉ tiêu: Tỷ lệ hồ sơ trực tuyến" in message.text
    assert "Giá trị: 95,3 % — mục tiêu: 98 % (thấp hơn mục tiêu 2,7 điểm phần trăm)" in (
        message.text
    )
    # Composed (NFC) text, so what the leader's phone shows compares equal to the names.
    assert unicodedata.is_normalized("NFC", message.subject + message.text)


def test_english_keeps_vietnamese_area_names_and_uses_a_decimal_point() -> None:
    message = render(FIRED, "en")
    assert message.subject == ("[WARNING] Online dossier rate 95.3% (target 98%) — Huyện Văn Lâm")
    assert "Value: 95.3% — target: 98% (2.7 percentage points below target)" in message.text
    assert "Area: Huyện Văn Lâm" in message.text


def test_times_are_local_ho_chi_minh_dd_mm_yyyy() -> None:
    assert "Bắt đầu từ: 23/11/2026 08:05" in render(FIRED).text
    # 17:30 UTC is already the next day in Vietnam.
    late = replace(FIRED, since=datetime(2026, 11, 22, 17, 30, tzinfo=UTC))
    assert "Bắt đầu từ: 23/11/2026 00:30" in render(late).text
    assert format_time(datetime(2026, 1, 2, 3, 4)) == "02/01/2026 10:04"  # naive = UTC


@pytest.mark.parametrize(
    ("kind", "subject_vi", "line_vi", "subject_en", "line_en"),
    [
        (TransitionKind.FIRED, "[CẢNH BÁO]", "CẢNH BÁO: Tỷ lệ", "[WARNING]", "needs attention"),
        (
            TransitionKind.ACKNOWLEDGED,
            "[CẢNH BÁO · ĐÃ TIẾP NHẬN]",
            "Tiếp nhận: Nguyễn Văn An lúc 23/11/2026 10:50",
            "[WARNING · ACKNOWLEDGED]",
            "Acknowledged: Nguyễn Văn An at 23/11/2026 10:50",
        ),
        (
            TransitionKind.ESCALATED,
            "[CẢNH BÁO · CHUYỂN CẤP 1]",
            "Chuyển cấp: lần 1, lúc 23/11/2026 10:50",
            "[WARNING · ESCALATED L1]",
            "Escalated: level 1, at 23/11/2026 10:50",
        ),
        (
            TransitionKind.RESOLVED,
            "[CẢNH BÁO · ĐÃ KHẮC PHỤC]",
            "Kết thúc: 23/11/2026 10:50 (kéo dài 2 giờ 45 phút)",
            "[WARNING · RESOLVED]",
            "Resolved: 23/11/2026 10:50 (lasted 2 h 45 min)",
        ),
    ],
)
def test_each_kind_says_what_happened(
    kind: TransitionKind, subject_vi: str, line_vi: str, subject_en: str, line_en: str
) -> None:
    transition = replace(
        FIRED,
        kind=kind,
        at=AT,
        level=1 if kind is TransitionKind.ESCALATED else 0,
        actor="Nguyễn Văn An" if kind is TransitionKind.ACKNOWLEDGED else None,
    )
    vi, en = render(transition, "vi"), render(transition, "en")
    assert vi.subject.startswith(subject_vi + " Tỷ lệ hồ sơ trực tuyến")
    assert vi.subject.endswith("— Huyện Văn Lâm")
    assert line_vi in vi.text
    assert en.subject.startswith(subject_en + " Online dossier rate")
    assert line_en in en.text
    assert vi.data["transition"] == en.data["transition"] == kind.value


def test_critical_and_info_labels() -> None:
    assert render(replace(FIRED, severity=Severity.CRITICAL)).subject.startswith("[NGHIÊM TRỌNG]")
    assert render(replace(FIRED, severity=Severity.INFO), "en").subject.startswith("[INFO]")


def test_provincial_alert_lists_top_contributors_with_both_effects() -> None:
    text = render(PROVINCIAL).text
    assert "Địa bàn đóng góp nhiều nhất vào mức chênh lệch:" in text
    assert (
        "1. Xã Như Quỳnh: chênh 3,1 điểm phần trăm (do quy mô 0,4; do tỷ lệ 2,7); đạt 61 %"
    ) in text
    assert "2. Phường Phố Hiến" in text
    assert "1. Xã Như Quỳnh: gap 3.1 percentage points (volume 0.4; rate 2.7)" in (
        render(PROVINCIAL, "en").text
    )
    assert "đóng góp" not in render(FIRED).text  # a district alert has none


def test_summary_from_the_engine_is_included() -> None:
    transition = replace(FIRED, summary_vi="Văn Lâm thấp hơn mục tiêu.", summary_en="Below.")
    assert "Văn Lâm thấp hơn mục tiêu." in render(transition).text
    assert "Below." in render(transition, "en").text


def test_missing_value_and_target() -> None:
    no_data = replace(FIRED, value=None, target=None, kpi_id=None)
    message = render(no_data)
    assert "Giá trị: không có dữ liệu" in message.text
    assert message.subject == "[CẢNH BÁO] Tỷ lệ hồ sơ trực tuyến — Huyện Văn Lâm"
    assert "Value: no data" in render(no_data, "en").text


def test_payload_has_the_documented_stable_schema() -> None:
    message = render(PROVINCIAL, "vi")
    data = json.loads(json.dumps(message.data, ensure_ascii=False))
    for key in (
        "type",
        "alert_id",
        "transition",
        "severity",
        "area",
        "kpi",
        "value",
        "target",
        "since",
        "at",
        "text",
        "language",
    ):
        assert key in data, key
    assert data["type"] == PAYLOAD_TYPE
    assert data["schema_version"] == 1
    assert data["alert_id"] == 42
    assert data["transition"] == "fired"
    assert data["severity"] == "critical"
    assert data["area"] == "33"
    assert data["area_name"] == "Tỉnh Hưng Yên"
    assert data["kpi"] == "dvc_online_dossier_rate"
    assert data["value"] == pytest.approx(0.953)
    assert data["since"] == "2026-11-23T01:05:00Z"
    assert data["text"] == message.text
    assert data["subject"] == message.subject
    assert data["language"] == "vi"
    assert data["contributors"][0]["area"] == "11986"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="'vi' or 'en'"):
        render(FIRED, "fr")


def test_durations() -> None:
    assert format_duration(timedelta(hours=2, minutes=15)) == "2 giờ 15 phút"
    assert format_duration(timedelta(days=1, hours=3, minutes=5)) == "1 ngày 3 giờ"
    assert format_duration(timedelta(seconds=20)) == "dưới 1 phút"
    assert format_duration(timedelta(minutes=5), "en") == "5 min"
