"""The target-date forecast: known slopes, noise, moving away, edge cases."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from ioc.kpis.forecast import forecast_target_date, linear_trend

START = date(2025, 1, 1)


def series(n: int, start_value: float, slope: float, noise: float = 0.0, seed: int = 1):
    days = np.array([(START + timedelta(days=i)).toordinal() for i in range(n)])
    rng = np.random.default_rng(seed)
    values = start_value + slope * np.arange(n) + rng.normal(0.0, noise, n)
    return days, values


def test_known_slope_gives_the_crossing_day() -> None:
    days, values = series(30, 0.60, 0.005)  # 0.745 on day 29; 0.80 after 11 more days
    f = forecast_target_date(days, values, 0.80, "higher")
    expected = START + timedelta(days=29 + 11)
    assert f.status == "on_track"
    assert f.reach_date is not None and abs((f.reach_date - expected).days) <= 1
    assert f.slope_per_day == pytest.approx(0.005)
    assert f.mae == pytest.approx(0.0, abs=1e-9)
    assert "polyfit" in f.model and f.days_used == 30


def test_lower_is_better_falls_to_its_target() -> None:
    days, values = series(20, 0.20, -0.01)  # 0.01 on day 19... reaches 0.05 on day 15
    f = forecast_target_date(days[:10], values[:10], 0.05, "lower")
    assert f.reach_date is not None and abs((f.reach_date - (START + timedelta(15))).days) <= 1


def test_noisy_series_keeps_the_date_and_reports_the_noise() -> None:
    noise = 0.01
    days, values = series(120, 0.50, 0.002, noise=noise, seed=7)
    f = forecast_target_date(days, values, 0.80, "higher")
    # One-day-ahead errors of a fitted line: mean |N(0, σ)| ≈ 0.8 σ, a little more for the fit.
    assert f.mae is not None and 0.6 * noise < f.mae < 1.5 * noise
    assert f.slope_per_day is not None and f.slope_per_day == pytest.approx(0.002, rel=0.3)
    true_day = START + timedelta(days=150)  # 0.50 + 0.002 * 150 = 0.80
    assert f.reach_date is not None and abs((f.reach_date - true_day).days) <= 15


def test_moving_away_or_flat_gives_no_date() -> None:
    days, values = series(30, 0.70, -0.002)
    away = forecast_target_date(days, values, 0.80, "higher")
    assert (away.reach_date, away.status) == (None, "moving_away")
    assert away.slope_per_day is not None and away.slope_per_day < 0
    up = forecast_target_date(*series(30, 0.10, 0.001), 0.05, "lower")
    assert (up.reach_date, up.status) == (None, "moving_away")
    flat = forecast_target_date(days, np.full(30, 0.7), 0.80, "higher")
    assert (flat.reach_date, flat.status) == (None, "flat")


def test_already_met_is_today() -> None:
    days, values = series(10, 0.90, -0.001)
    today = START + timedelta(days=12)
    f = forecast_target_date(days, values, 0.80, "higher", today=today)
    assert (f.reach_date, f.status) == (today, "met")


def test_a_crossing_beyond_the_horizon_is_no_date() -> None:
    days, values = series(30, 0.10, 0.00001)
    f = forecast_target_date(days, values, 0.95, "higher", horizon_days=365)
    assert (f.reach_date, f.status) == (None, "beyond_horizon")


def test_short_and_gappy_series() -> None:
    assert forecast_target_date([], [], 0.8, "higher").status == "too_few_days"
    one = forecast_target_date([START.toordinal()], [0.5], 0.8, "higher")
    assert (one.status, one.slope_per_day, one.mae) == ("too_few_days", None, None)
    days, values = series(10, 0.5, 0.01)
    values[3] = np.nan  # a day without data
    f = forecast_target_date(days[::-1], values[::-1], 0.8, "higher")  # any order
    assert f.days_used == 9 and f.slope_per_day == pytest.approx(0.01)
    with pytest.raises(ValueError, match="differ in length"):
        forecast_target_date(days, values[:5], 0.8, "higher")


def test_recent_days_weigh_more() -> None:
    # Flat for 40 days, then rising 1 point a day for the last 10.
    days = np.array([(START + timedelta(days=i)).toordinal() for i in range(50)])
    values = np.r_[np.full(40, 0.5), 0.5 + 0.01 * np.arange(1, 11)]
    weighted = linear_trend(days, values, half_life_days=5)
    plain = linear_trend(days, values, half_life_days=None)
    assert weighted is not None and plain is not None and weighted > 2 * plain


def test_noise_without_trend_promises_no_date() -> None:
    # A stationary KPI: any fitted slope is noise, and a date years away would mislead.
    days, values = series(60, 0.63, 0.0, noise=0.012, seed=3)
    f = forecast_target_date(days, values, 0.80, "higher")
    assert (f.reach_date, f.status) == (None, "flat")
    assert f.mae is not None and f.mae < 0.02
