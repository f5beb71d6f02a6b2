"""Routing: area scope, severity, escalation; the recipients file and its error messages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ioc.alerts.model import Severity, Transition, TransitionKind
from ioc.areas import AreaRegistry, load_areas
from ioc.datafile import DataFileError
from ioc.notify.routing import Recipient, load_recipients, route, webhook_secrets

# 2024: province 33 → district 325 (Văn Lâm) → commune 11989 (Xã Lạc Đạo);
#       district 326 (Văn Giang) → commune 12022 (Xã Xuân Quan).
THREE_TIER = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)
# 2026: province 33 → commune 11986 (Xã Như Quỳnh), no districts.
TWO_TIER = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)

RECIPIENTS = """\
recipients:
  - id: chu-tich-tinh
    name: "Chủ tịch UBND tỉnh"
    area: "33"
    min_severity: critical
    channels:
      - {type: email, address: chutich@hungyen.example.invalid}
      - {type: webhook, url: "https://zalo.example.invalid/ioc"}
  - id: so-tttt
    name: "Giám đốc Sở TT&TT"
    area: "33"
    min_severity: warning
    kpis: ["network_*"]
    channels:
      - {type: email, address: sotttt@hungyen.example.invalid}
  - id: van-lam
    name: "Chủ tịch UBND huyện Văn Lâm"
    area: "325"
    min_severity: warning
    language: en
    channels:
      - {type: email, address: vanlam@hungyen.example.invalid}
  - id: van-giang
    name: "Chủ tịch UBND huyện Văn Giang"
    area: "326"
    channels:
      - {type: email, address: vangiang@hungyen.example.invalid}
  - id: lac-dao
    name: "Chủ tịch UBND xã Lạc Đạo"
    area: "11989"
    severities: [critical]
    channels:
      - {type: webhook, url: "https://sms.example.invalid/send"}
  - id: nhu-quynh
    name: "Chủ tịch UBND xã Như Quỳnh"
    area: "11986"
    channels:
      - {type: email, address: nhuquynh@hungyen.example.invalid}
"""


@pytest.fixture(scope="module")
def areas() -> AreaRegistry:
    return load_areas()


@pytest.fixture(scope="module")
def recipients(areas: AreaRegistry, tmp_path_factory: pytest.TempPathFactory) -> list[Recipient]:
    path = tmp_path_factory.mktemp("recipients") / "recipients.yaml"
    path.write_text(RECIPIENTS, encoding="utf-8")
    return list(load_recipients(path, areas))


def transition(
    area: str,
    *,
    severity: Severity = Severity.WARNING,
    level: int = 0,
    at: datetime = THREE_TIER,
    kpi_id: str = "dvc_online_dossier_rate",
    kind: TransitionKind = TransitionKind.FIRED,
) -> Transition:
    return Transition(
        alert_id=1,
        kind=kind,
        rule_id="rule",
        severity=severity,
        area=area,
        area_name_vi=area,
        area_level="commune",
        kpi_id=kpi_id,
        kpi_name_vi="KPI",
        kpi_name_en="KPI",
        value=0.5,
        target=0.8,
        unit="percent",
        since=at,
        at=at,
        level=level,
    )


def who(t: Transition, recipients: list[Recipient], areas: AreaRegistry) -> set[str]:
    return {d.recipient_id for d in route(t, recipients, areas)}


def test_district_leader_gets_their_district_and_its_communes_only(
    recipients: list[Recipient], areas: AreaRegistry
) -> None:
    assert "van-lam" in who(transition("325"), recipients, areas)
    assert "van-lam" in who(transition("11989"), recipients, areas)  # Xã Lạc Đạo, in Văn Lâm
    assert "van-lam" not in who(transition("12022"), recipients, areas)  # in Văn Giang
    assert "van-lam" not in who(transition("326"), recipients, areas)
    assert "van-giang" in who(transition("12022"), recipients, areas)
    assert "van-giang" not in who(transition("11989"), recipients, areas)
    # A district leader is not told about the whole province's alerts.
    assert "van-lam" not in who(transition("33"), recipients, areas)


def test_province_leader_gets_provincial_alerts(
    recipients: list[Recipient], areas: AreaRegistry
) -> None:
    critical = transition("33", severity=Severity.CRITICAL)
    assert who(critical, recipients, areas) == {"chu-tich-tinh"}
    deliveries = route(critical, recipients, areas)
    assert {(d.channel_type, d.address) for d in deliveries} == {
        ("email", "chutich@hungyen.example.invalid"),
        ("webhook", "https://zalo.example.invalid/ioc"),
    }
    assert all(d.language == "vi" for d in deliveries)
    # Scope covers the whole province: a critical commune alert reaches the chairman too.
    assert "chu-tich-tinh" in who(
        transition("12022", severity=Severity.CRITICAL), recipients, areas
    )


def test_severity_filter(recipients: list[Recipient], areas: AreaRegistry) -> None:
    assert "van-lam" not in who(transition("325", severity=Severity.INFO), recipients, areas)
    assert "van-giang" in who(transition("326", severity=Severity.INFO), recipients, areas)
    assert "chu-tich-tinh" not in who(transition("33"), recipients, areas)  # only critical
    # `severities: [critical]` is an exact list.
    assert "lac-dao" not in who(transition("11989"), recipients, areas)
    assert "lac-dao" in who(transition("11989", severity=Severity.CRITICAL), recipients, areas)


def test_kpi_filter(recipients: list[Recipient], areas: AreaRegistry) -> None:
    assert "so-tttt" not in who(transition("33"), recipients, areas)
    network = transition("33", kpi_id="network_special_availability")
    assert "so-tttt" in who(network, recipients, areas)


def test_escalation_level_1_goes_to_the_parent_areas_leaders(
    recipients: list[Recipient], areas: AreaRegistry
) -> None:
    # An info alert in Xã Lạc Đạo: below the district leader's min_severity (warning)...
    info = transition("11989", severity=Severity.INFO)
    assert "van-lam" not in who(info, recipients, areas)
    # ...but escalated to level 1 it reaches the district's leaders regardless.
    escalated = replace(info, kind=TransitionKind.ESCALATED, level=1)
    assert who(escalated, recipients, areas) == {"van-lam"}
    # Level 2 goes to the province, whose chairman only wants critical otherwise.
    level2 = replace(info, kind=TransitionKind.ESCALATED, level=2)
    assert who(level2, recipients, areas) == {"chu-tich-tinh"}
    # A level beyond the top stays at the top.
    assert who(replace(info, level=5), recipients, areas) == {"chu-tich-tinh"}


def test_escalation_in_the_two_tier_shape_goes_from_commune_to_province(
    recipients: list[Recipient], areas: AreaRegistry
) -> None:
    fired = transition("11986", at=TWO_TIER)
    assert who(fired, recipients, areas) == {"nhu-quynh"}
    escalated = replace(fired, kind=TransitionKind.ESCALATED, level=1)
    assert who(escalated, recipients, areas) == {"nhu-quynh", "chu-tich-tinh"}
    # Districts no longer exist in 2026: their leaders hear nothing.
    assert "van-lam" not in who(escalated, recipients, areas)


def test_unknown_area_reaches_the_province_leaders(
    recipients: list[Recipient], areas: AreaRegistry
) -> None:
    lost = transition("99999", severity=Severity.CRITICAL)
    assert who(lost, recipients, areas) == {"chu-tich-tinh"}


def test_recipient_language_and_every_channel(
    recipients: list[Recipient], areas: AreaRegistry
) -> None:
    deliveries = route(transition("325"), recipients, areas)
    assert [(d.recipient_id, d.channel_type, d.language) for d in deliveries] == [
        ("van-lam", "email", "en")
    ]


def test_shipped_sample_loads_against_the_shipped_areas(areas: AreaRegistry) -> None:
    shipped = load_recipients(areas=areas)
    assert len(shipped) >= 5
    names = {r.name for r in shipped}
    assert "Chủ tịch UBND tỉnh" in names
    assert any(r.language == "en" for r in shipped)
    for recipient in shipped:
        assert areas.versions(recipient.area), recipient.area
        for channel in recipient.channels:
            assert "example.invalid" in channel.target


def _problems(tmp_path: Path, text: str, areas: AreaRegistry) -> list[str]:
    path = tmp_path / "recipients.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_recipients(path, areas)
    return caught.value.problems


def test_errors_name_file_line_field_and_reason(tmp_path: Path, areas: AreaRegistry) -> None:
    text = """\
recipients:
  - id: a
    name: "Chủ tịch"
    area: 325
    channels:
      - {type: email, address: a@example.invalid}
  - id: b
    name: "Phó chủ tịch"
    area: "325"
    min_severity: urgent
    channels:
      - {type: email, adress: b@example.invalid}
"""
    problems = _problems(tmp_path, text, areas)
    path = tmp_path / "recipients.yaml"
    assert any(p.startswith(f"{path}:4: recipients[0].area:") and "quotes" in p for p in problems)
    assert any(p.startswith(f"{path}:10: recipients[1].min_severity:") for p in problems)
    assert any(
        p.startswith(f"{path}:12: recipients[1].channels[0].adress: unknown field")
        for p in problems
    )


def test_cross_checks_duplicate_ids_and_unknown_areas(tmp_path: Path, areas: AreaRegistry) -> None:
    text = """\
recipients:
  - id: a
    name: "Chủ tịch"
    area: "325"
    channels: [{type: email, address: a@example.invalid}]
  - id: a
    name: "Chủ tịch"
    area: "99999"
    channels: [{type: email, address: b@example.invalid}]
"""
    problems = _problems(tmp_path, text, areas)
    path = tmp_path / "recipients.yaml"
    assert any(p.startswith(f"{path}:6: recipients[1].id:") and "unique" in p for p in problems)
    assert any(
        p.startswith(f"{path}:8: recipients[1].area:") and "areas file" in p for p in problems
    )


@pytest.mark.parametrize(
    ("channels", "reason"),
    [
        ("[{type: email, address: not-an-email}]", "name@domain"),
        ("[{type: webhook, url: ftp://x}]", "https://host/path"),
        ("[{type: webhook, address: a@b.c}]", "takes 'url'"),
        (
            "[{type: email, address: a@x.invalid}, {type: email, address: b@x.invalid}]",
            "at most one channel of each type",
        ),
        ("[]", "channels is empty"),
        ("[{type: sms, address: '0912'}]", "'email' or 'webhook'"),
    ],
)
def test_channel_checks(tmp_path: Path, areas: AreaRegistry, channels: str, reason: str) -> None:
    text = f'recipients:\n  - id: a\n    name: x\n    area: "33"\n    channels: {channels}\n'
    problems = _problems(tmp_path, text, areas)
    assert any(reason in p for p in problems), problems


def test_min_severity_and_severities_are_exclusive(tmp_path: Path, areas: AreaRegistry) -> None:
    text = """\
recipients:
  - id: a
    name: x
    area: "33"
    min_severity: warning
    severities: [critical]
    channels: [{type: email, address: a@example.invalid}]
"""
    assert any("not both" in p for p in _problems(tmp_path, text, areas))


def test_webhook_secrets_come_from_the_named_variables(
    recipients: list[Recipient], tmp_path: Path, areas: AreaRegistry
) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        'recipients:\n  - id: a\n    name: x\n    area: "33"\n    channels:\n'
        "      - {type: webhook, url: 'https://z.example.invalid/h', secret_env: ZALO_SECRET}\n",
        encoding="utf-8",
    )
    signed = load_recipients(path, areas)
    secrets = webhook_secrets(signed, {"ZALO_SECRET": "s3cret"})
    assert secrets["https://z.example.invalid/h"].get_secret_value() == "s3cret"
    with pytest.raises(ValueError, match="ZALO_SECRET"):
        webhook_secrets(signed, {})
    assert webhook_secrets(recipients, {}) == {}


def test_monthly_reports_need_an_email_channel(tmp_path: Path, areas: AreaRegistry) -> None:
    text = """\
recipients:
  - id: a
    name: "Chủ tịch"
    area: "33"
    reports: monthly
    channels: [{type: email, address: a@example.invalid}]
  - id: b
    name: "Phó chủ tịch"
    area: "33"
    reports: monthly
    channels: [{type: webhook, url: "https://gw.example.invalid/ioc"}]
  - id: c
    name: "Văn phòng"
    area: "33"
    reports: weekly
    channels: [{type: email, address: c@example.invalid}]
"""
    problems = _problems(tmp_path, text, areas)
    assert any("recipients[1]" in p and "needs an email channel" in p for p in problems)
    assert any("recipients[2].reports" in p for p in problems)
    assert not any("recipients[0]" in p for p in problems)


@pytest.mark.parametrize(
    ("province", "found"), [("33", True), ("31", True), ("92", True), ("01", False)]
)
def test_the_default_recipients_follow_the_province(
    province: str, found: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Hưng Yên's example named areas Hà Nội lacks, so `ioc up` refused to start for Hà Nội.
    monkeypatch.setenv("IOC_PROVINCE", province)
    recipients = load_recipients(None, load_areas())
    assert bool(recipients) is found
