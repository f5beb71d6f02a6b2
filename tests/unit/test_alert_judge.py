"""Judging values and streaks without a database: `ioc.alerts.judge`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ioc.alerts.judge import Outcome, State, Verdict, floor, judge, step
from ioc.alerts.rules import Rule
from ioc.kpis import load_kpis

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _threshold(**options: object) -> Rule:
    return Rule.model_validate(
        {"id": "t", "kind": "threshold", "kpi": "payment_success_rate", "severity": "warning"}
        | options
    )


def test_a_threshold_below_breaches_under_the_line_and_clears_only_beyond_the_hysteresis() -> None:
    rule = _threshold(below=0.9, hysteresis=0.02)
    kpi = load_kpis().get("payment_success_rate")
    assert judge(rule, kpi, "province", 0.85, State()) == Verdict(True, False, 0.9)
    assert judge(rule, kpi, "province", 0.91, State()) == Verdict(False, False, 0.9)  # the band
    assert judge(rule, kpi, "province", 0.92, State()) == Verdict(False, True, 0.9)


def test_a_threshold_above_breaches_over_the_line() -> None:
    rule = _threshold(above=0.5, hysteresis=0.1)
    kpi = load_kpis().get("payment_success_rate")
    assert judge(rule, kpi, "commune", 0.6, State()).breach
    assert not judge(rule, kpi, "commune", 0.45, State()).clear  # inside the band
    assert judge(rule, kpi, "commune", 0.4, State()).clear


def test_a_target_rule_compares_with_the_level_s_target_minus_its_margin() -> None:
    catalogue = load_kpis()
    kpi = next(k for k in catalogue if k.direction == "higher" and k.target_for("province"))
    target = kpi.target_for("province")
    assert target is not None
    rule = Rule.model_validate(
        {"id": "g", "kind": "target", "kpi": kpi.id, "severity": "info", "margin": 0.05}
    )
    assert judge(rule, kpi, "province", target - 0.06, State()) == Verdict(True, False, target)
    assert judge(rule, kpi, "province", target - 0.04, State()) == Verdict(False, True, target)


def test_the_rule_s_number_of_breaches_fires_once_and_an_open_alert_carries_the_value() -> None:
    rule = _threshold(below=0.9, for_windows=3, clear_windows=2)
    state = State()
    breach = Verdict(True, False, 0.9)
    outcomes = [step(rule, state, breach, T0 + i * MINUTE, is_open=False) for i in range(3)]
    assert outcomes == [Outcome.NOTHING, Outcome.NOTHING, Outcome.FIRE]
    assert state.first_breach == T0  # the alert is "since" the first breaching window
    assert step(rule, state, breach, T0 + 3 * MINUTE, is_open=True) is Outcome.CARRY


def test_clears_resolve_after_the_rule_s_number_and_the_band_breaks_both_streaks() -> None:
    rule = _threshold(below=0.9, for_windows=2, clear_windows=2)
    state = State(breach_streak=5, first_breach=T0)
    clear, band = Verdict(False, True, 0.9), Verdict(False, False, 0.9)
    assert step(rule, state, clear, T0, is_open=True) is Outcome.NOTHING
    assert state.first_breach is None and state.breach_streak == 0
    assert step(rule, state, band, T0, is_open=True) is Outcome.NOTHING
    assert state.clear_streak == 0  # the band interrupts the clear streak
    assert step(rule, state, clear, T0, is_open=True) is Outcome.NOTHING
    assert step(rule, state, clear, T0, is_open=True) is Outcome.RESOLVE
    # Without an open alert, clears resolve nothing.
    assert step(rule, State(clear_streak=9), clear, T0, is_open=False) is Outcome.NOTHING


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (T0 + timedelta(seconds=59), T0),
        (T0 + MINUTE, T0 + MINUTE),
        (T0 - timedelta(microseconds=1), T0 - MINUTE),
    ],
)
def test_floor_finds_the_window_start(at: datetime, expected: datetime) -> None:
    assert floor(at, MINUTE) == expected
