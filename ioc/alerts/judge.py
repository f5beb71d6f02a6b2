"""Judging a KPI value against a rule: pure functions, no database, no clock.

What the evaluator (`ioc.alerts.engine`) asks of each closed window, per (rule, area):

- `judge`: is this value a breach, a clear, or inside the hysteresis band, and against which
  line (a threshold, a target with its margin, or the EWMA of an anomaly rule)?
- `step`: given the verdict and the persisted `State`, does the alert fire, resolve, or only
  carry the value (`for_windows` consecutive breaches fire, `clear_windows` consecutive
  clears resolve)?
- `explain`: which child areas weigh most in a provincial gap (a shift-share split).

Every function here is deterministic and testable without PostgreSQL
(`tests/unit/test_alert_judge.py`); the engine stores `State` between passes
(`ioc.alerts.store`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from ioc.alerts.model import Contributor
from ioc.alerts.rules import Rule
from ioc.kpis import Kpi

__all__ = ["Outcome", "State", "Verdict", "anomaly", "explain", "floor", "judge", "step"]


@dataclass
class State:
    """What a (rule, area) carries from window to window.

    Attributes:
        breach_streak: consecutive windows in breach.
        clear_streak: consecutive windows clear (beyond the hysteresis).
        first_breach: start of the first window of the current breach streak.
        mean / var / n: the EWMA of an anomaly rule's values, and how many it has learnt.
        quiet_since / quiet_reason: a no-data rule's area is silent while its feed is
            expected to be quiet (``ioc.alerts.calendar``): since when, and why.
    """

    breach_streak: int = 0
    clear_streak: int = 0
    first_breach: datetime | None = None
    mean: float | None = None
    var: float = 0.0
    n: int = 0
    quiet_since: datetime | None = None
    quiet_reason: str | None = None


class Verdict(NamedTuple):
    """One value judged: a breach, a clear, or neither (inside the hysteresis band)."""

    breach: bool
    clear: bool
    threshold: float | None  # the line compared with (None for anomaly rules)


class Outcome(StrEnum):
    """What a window's verdict does to the (rule, area)'s alert."""

    FIRE = "fire"  # no alert open and the breach streak is long enough
    RESOLVE = "resolve"  # an alert open and the clear streak is long enough
    CARRY = "carry"  # an alert open and still in breach: it carries the new value
    NOTHING = "nothing"


def judge(rule: Rule, kpi: Kpi, level: str, value: float, state: State) -> Verdict:
    """Judge one value of `kpi` in an area of `level`; updates the EWMA of anomaly rules.

    Args:
        rule: a KPI rule (threshold, target or anomaly).
        kpi: the rule's KPI (its target per level and its better direction).
        level: the area's level (province, district or commune).
        value: the KPI's value in the window.
        state: the (rule, area)'s state; only an anomaly rule's EWMA changes here.
    """
    if rule.kind == "anomaly":
        return anomaly(rule, kpi, value, state)
    if rule.kind == "threshold":
        if rule.below is not None:
            return Verdict(value < rule.below, value >= rule.below + rule.hysteresis, rule.below)
        assert rule.above is not None
        return Verdict(value > rule.above, value <= rule.above - rule.hysteresis, rule.above)
    target = kpi.target_for(level)
    if target is None:
        return Verdict(False, True, None)
    if kpi.direction == "higher":
        line = target - rule.margin
        return Verdict(value < line, value >= line + rule.hysteresis, target)
    line = target + rule.margin
    return Verdict(value > line, value <= line - rule.hysteresis, target)


def anomaly(rule: Rule, kpi: Kpi, value: float, state: State) -> Verdict:
    """A value `rule.z` standard deviations worse than the EWMA breaches; others are learnt."""
    breach = False
    if state.mean is not None and state.n >= rule.min_history and state.var > 0:
        z = (value - state.mean) / math.sqrt(state.var)
        breach = z <= -rule.z if kpi.direction == "higher" else z >= rule.z
    if not breach:  # the anomaly must not become the new normal
        if state.mean is None:
            state.mean, state.var = value, 0.0
        else:
            delta = value - state.mean
            state.mean += rule.alpha * delta
            state.var = (1 - rule.alpha) * (state.var + rule.alpha * delta * delta)
        state.n += 1
    return Verdict(breach, not breach, None)


def step(rule: Rule, state: State, verdict: Verdict, start: datetime, *, is_open: bool) -> Outcome:
    """Advance the streaks of `state` by one window's verdict; say what happens to the alert.

    Args:
        rule: gives `for_windows` and `clear_windows`.
        state: the (rule, area)'s streaks, updated in place.
        verdict: the window's verdict.
        start: the window's start (a new breach streak starts there).
        is_open: whether the (rule, area) has an alert that is not resolved.
    """
    if verdict.breach:
        state.breach_streak += 1
        state.clear_streak = 0
        state.first_breach = state.first_breach or start
        if not is_open:
            return Outcome.FIRE if state.breach_streak >= rule.for_windows else Outcome.NOTHING
        return Outcome.CARRY
    if verdict.clear:
        state.clear_streak += 1
        state.breach_streak = 0
        state.first_breach = None
        if is_open and state.clear_streak >= rule.clear_windows:
            return Outcome.RESOLVE
        return Outcome.NOTHING
    # Inside the hysteresis band: neither streak continues.
    state.breach_streak = state.clear_streak = 0
    return Outcome.NOTHING


def floor(at: datetime, window: timedelta) -> datetime:
    """The start of the window of width `window` that holds `at` (windows align on the epoch)."""
    width = window.total_seconds()
    return datetime.fromtimestamp(at.timestamp() // width * width, UTC)


def explain(
    current: list[tuple[str, str, float, float]],
    baseline: list[tuple[str, str, float, float]],
    direction: str,
) -> list[Contributor]:
    """Rank the children of an area by how much they moved its KPI in the bad direction.

    A shift-share split of the change of the parent's ratio R = ΣN/ΣD from the baseline
    period (0) to now: with weights w = D/ΣD and rates r = N/D,
    R − R0 = Σ (w − w0)·(r0 − R0)  [volume: an area's share of the denominator moved]
           + Σ w·(r − r0)           [rate: the area's own ratio moved].
    Each child's gap is its two effects, signed so that positive hurts the KPI.

    Args:
        current: (area, name_vi, numerator, denominator) per child now.
        baseline: the same for the baseline period.
        direction: "higher" or "lower" is better.
    """
    total_d = sum(d for *_, d in current) or 1.0
    base = {a: (n, d) for a, _, n, d in baseline}
    base_d = sum(d for _, d in base.values()) or 1.0
    base_rate = sum(n for n, _ in base.values()) / base_d if base else 0.0
    sign = 1.0 if direction == "higher" else -1.0
    out = []
    for area, name, num, den in current:
        w = den / total_d
        r = num / den if den else None
        n0, d0 = base.get(area, (0.0, 0.0))
        w0 = d0 / base_d
        r0 = n0 / d0 if d0 else (r if r is not None else base_rate)
        rate = w * ((r if r is not None else r0) - r0)
        volume = (w - w0) * (r0 - base_rate)
        out.append(
            Contributor(
                area=area,
                name_vi=name,
                value=r,
                numerator=num,
                denominator=den,
                gap=-sign * (rate + volume),
                volume_effect=-sign * volume,
                rate_effect=-sign * rate,
            )
        )
    out.sort(key=lambda c: c.gap, reverse=True)
    return out
