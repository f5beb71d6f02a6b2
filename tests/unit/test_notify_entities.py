"""Messages of availability alerts name the points at fault, in both languages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ioc.alerts.model import EntityAtFault, Severity, Transition, TransitionKind
from ioc.notify.templates import render

SINCE = datetime(2026, 11, 23, 1, 5, tzinfo=UTC)  # 08:05 in Hưng Yên
SEEN = datetime(2026, 11, 23, 1, 59, tzinfo=UTC)  # 08:59


def _point(n: int) -> EntityAtFault:
    return EntityAtFault(
        feed="network",
        entity=f"TSL-11953-{n}",
        kind="special_network",
        area="11953",
        area_name_vi="Phường Phố Hiến",
        since=SINCE + timedelta(minutes=n),
        last_seen=SEEN,
    )


FIRED = Transition(
    alert_id=7,
    kind=TransitionKind.FIRED,
    rule_id="network_special_down",
    severity=Severity.CRITICAL,
    area="11953",
    area_name_vi="Phường Phố Hiến",
    area_level="commune",
    kpi_id="network_special_availability",
    kpi_name_vi="Tỷ lệ điểm kết nối mạng truyền số liệu chuyên dùng hoạt động",
    kpi_name_en="Special data network availability",
    value=0.5,
    target=1.0,
    unit="percent",
    since=SINCE,
    at=SEEN,
    entities=(_point(1), _point(2)),
    entities_down=2,
)


def test_the_message_names_each_point_down_since_when_and_last_seen() -> None:
    vi, en = render(FIRED).text, render(FIRED, "en").text
    assert "Điểm đang ngừng hoạt động (2):" in vi
    assert (
        "  - TSL-11953-1 (Phường Phố Hiến): ngừng từ 23/11/2026 08:06, "
        "tín hiệu cuối 23/11/2026 08:59"
    ) in vi
    assert "TSL-11953-2 (Phường Phố Hiến)" in vi
    assert "Points down (2):" in en
    assert "  - TSL-11953-1 (Phường Phố Hiến): down since 23/11/2026 08:06" in en


def test_a_long_list_is_cut_short_with_the_count_of_the_rest() -> None:
    many = replace(FIRED, entities=tuple(_point(n) for n in range(1, 21)), entities_down=57)
    text = render(many).text
    assert "Điểm đang ngừng hoạt động (57):" in text
    assert "TSL-11953-10 " in text and "TSL-11953-11 " not in text
    assert "  … và 47 điểm khác" in text
    data = render(many, "en").data
    assert data["entities_down"] == 57 and len(data["entities"]) == 20
    assert data["entities"][0] == {
        "feed": "network",
        "entity": "TSL-11953-1",
        "kind": "special_network",
        "area": "11953",
        "area_name": "Phường Phố Hiến",
        "since": "2026-11-23T01:06:00Z",
        "last_seen": "2026-11-23T01:59:00Z",
    }


def test_no_points_no_section() -> None:
    plain = replace(FIRED, entities=(), entities_down=0)
    assert "ngừng hoạt động" not in render(plain).text
    assert render(plain).data["entities"] == []
