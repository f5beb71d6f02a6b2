"""Alert rule files and the explanation of a provincial gap."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ioc.alerts.judge import explain
from ioc.alerts.rules import load_rules
from ioc.datafile import DataFileError

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_bad_rule_file_names_the_line_field_and_reason(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """rules:
  - id: ok_rule
    kind: threshold
    kpi: payment_success
    below: 0.9
    severity: warning
  - id: no_threshold
    kind: threshold
    kpi: payment_success
    severity: warning
  - id: typo
    kind: target
    kpi: payment_success
    severity: critcal
    for_windos: 3
""",
    )
    with pytest.raises(DataFileError) as caught:
        load_rules(path)
    problems = "\n".join(caught.value.problems)
    assert f"{path}:7: rules[1]: a threshold rule needs exactly one of below: or above:" in problems
    assert f"{path}:14: rules[2].severity:" in problems
    assert f"{path}:15: rules[2].for_windos: unknown field (allowed: id, kind," in problems


def test_a_rule_on_an_unknown_kpi_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "rules:\n  - id: r\n    kind: target\n    kpi: nope\n    severity: info\n",
    )
    known = r":4: rules\[0\]\.kpi: unknown KPI 'nope' \(known: a, b\)"
    with pytest.raises(DataFileError, match=known):
        load_rules(path, {"a", "b"})


def test_mute_windows_wrap_past_midnight_and_match_rule_patterns(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """rules:
  - {id: dvc_on_time, kind: target, kpi: k, severity: info}
mute:
  - {id: nights, days: [mon], start: "22:00", end: "06:00", rules: ["dvc_*"]}
""",
    )
    rules = load_rules(path)
    monday_late = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 23:00 Monday local
    tuesday_early = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)  # 04:00 Tuesday local
    tuesday_late = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # 23:00 Tuesday local
    assert rules.muted("dvc_on_time", monday_late, ZONE)
    assert rules.muted("dvc_on_time", tuesday_early, ZONE)
    assert not rules.muted("dvc_on_time", tuesday_late, ZONE)
    assert not rules.muted("network_down", monday_late, ZONE)


def test_the_shipped_rules_load() -> None:
    assert load_rules().rules


def test_explanation_ranks_the_area_that_dropped_and_splits_rate_from_volume() -> None:
    # Baseline: both districts at 99 %; now A's points are down (rate), B unchanged.
    baseline = [("A", "Huyện A", 99.0, 100.0), ("B", "Huyện B", 990.0, 1000.0)]
    current = [("A", "Huyện A", 10.0, 100.0), ("B", "Huyện B", 990.0, 1000.0)]
    ranked = explain(current, baseline, "higher")
    assert [c.area for c in ranked] == ["A", "B"]
    province_drop = 1089 / 1100 - 1000 / 1100
    assert sum(c.gap for c in ranked) == pytest.approx(province_drop)
    assert ranked[0].rate_effect == pytest.approx(province_drop)
    assert ranked[0].volume_effect == pytest.approx(0.0)


def test_explanation_sees_a_volume_effect() -> None:
    # Rates unchanged; the low-rate area's share of dossiers grew: the province falls.
    baseline = [("A", "A", 50.0, 100.0), ("B", "B", 900.0, 1000.0)]
    current = [("A", "A", 500.0, 1000.0), ("B", "B", 900.0, 1000.0)]
    ranked = explain(current, baseline, "higher")
    assert ranked[0].area == "A"
    assert ranked[0].rate_effect == pytest.approx(0.0)
    assert ranked[0].volume_effect > 0
    assert sum(c.gap for c in ranked) == pytest.approx(950 / 1100 - 1400 / 2000)


def test_an_anomaly_fires_on_a_drop_far_outside_the_usual_spread_and_does_not_learn_it() -> None:
    from ioc.alerts.judge import State, anomaly
    from ioc.alerts.rules import Rule
    from ioc.kpis import load_kpis

    rule = Rule(
        id="a", kind="anomaly", kpi="payment_success_rate", severity="warning", z=4, min_history=20
    )
    kpi = load_kpis().get("payment_success_rate")
    state = State()
    for i in range(40):  # 97 % ± 0.5 point
        breach, _, _ = anomaly(rule, kpi, 0.97 + (0.005 if i % 2 else -0.005), state)
        assert not breach
    learned = state.mean
    assert anomaly(rule, kpi, 0.80, state)[0]  # a gateway failure
    assert state.mean == learned  # the anomaly did not become the new normal
    assert not anomaly(rule, kpi, 0.99, state)[0]  # better than usual is no alarm
