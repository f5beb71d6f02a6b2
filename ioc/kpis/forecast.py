"""When will a KPI meet its target at the current trajectory?

The model is deliberately simple and explainable to a leader: a straight line through the
daily values (least squares, ``numpy.polyfit`` of degree 1), with recent days weighted more
(exponential decay with a half-life, 14 days by default), extended until it crosses the
target. Its honesty is measured, not assumed: every forecast carries the mean absolute error
of the same model's one-day-ahead predictions on a rolling-origin backtest over the series it
was given.

Example:
    >>> from datetime import date
    >>> days = [date(2025, 1, d).toordinal() for d in range(1, 11)]
    >>> values = [0.70 + 0.01 * i for i in range(10)]   # +1 point a day, 0.79 on Jan 10
    >>> f = forecast_target_date(days, values, target=0.85, direction="higher")
    >>> f.reach_date, f.status, round(f.slope_per_day, 4)
    (datetime.date(2025, 1, 16), 'on_track', 0.01)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = ["Forecast", "ForecastStatus", "forecast_target_date", "linear_trend"]

ForecastStatus = Literal["met", "on_track", "moving_away", "flat", "beyond_horizon", "too_few_days"]
"""Why ``reach_date`` is what it is: already ``met`` (today); ``on_track`` (a date);
``moving_away`` / ``flat`` / ``beyond_horizon`` / ``too_few_days`` (None)."""

_FloatArray = npt.NDArray[np.float64]
# A slope smaller than this (in KPI units per day) is no movement at all.
_FLAT = 1e-9


@dataclass(frozen=True)
class Forecast:
    """A linear-trend forecast of the day a KPI meets its target.

    Attributes:
        reach_date: The first day the trend line meets the target; ``today`` when the latest
            value already meets it; None when the line moves away from the target, is flat
            (or not distinguishable from flat), crosses it beyond the horizon, or there are
            too few days to draw it.
        status: Why ``reach_date`` is what it is (:data:`ForecastStatus`).
        model: The model, in words, as it should be quoted next to the date.
        slope_per_day: The fitted trend in KPI units per day (0.002 = +0.2 points a day for a
            percent KPI); None with fewer than two days.
        mae: Mean absolute error of one-day-ahead predictions on a rolling-origin backtest
            over the series (in KPI units); None with fewer than three days.
        days_used: How many daily values the fit used.
    """

    reach_date: date | None
    status: ForecastStatus
    model: str
    slope_per_day: float | None
    mae: float | None
    days_used: int


def _weights(x: _FloatArray, half_life_days: float | None) -> _FloatArray | None:
    """Weights for a fit ending at ``x[-1]``: a day's influence halves every half-life.

    ``numpy.polyfit`` multiplies residuals (not squared residuals) by ``w``, so the weight of
    a squared error, ``0.5 ** (age / half_life)``, enters as its square root.
    """
    if half_life_days is None:
        return None
    age = x[-1] - x
    weights: _FloatArray = np.power(0.5, age / (2.0 * half_life_days))
    return weights


def _fit(x: _FloatArray, y: _FloatArray, half_life_days: float | None) -> tuple[float, float]:
    """Return (slope, value at ``x[-1]``) of the weighted least-squares line.

    Days are centred on the last one: polyfit on raw ordinals (~739,000) would lose precision.
    """
    slope, level = np.polyfit(x - x[-1], y, 1, w=_weights(x, half_life_days))
    return float(slope), float(level)


def _slope_stderr(x: _FloatArray, y: _FloatArray, half_life_days: float | None) -> float:
    """Standard error of the fitted slope (0 with fewer than 4 days, where it is undefined)."""
    if len(x) < 4:
        return 0.0
    _, cov = np.polyfit(x - x[-1], y, 1, w=_weights(x, half_life_days), cov=True)
    return float(np.sqrt(max(float(cov[0, 0]), 0.0)))


def _backtest_mae(
    x: _FloatArray, y: _FloatArray, half_life_days: float | None, min_train: int
) -> float | None:
    """Mean absolute error of one-step-ahead predictions, refitting at every origin.

    For each day k after the first ``min_train`` days (fewer for a short series, but at least
    two), fit on days before k only and predict day k; the mean of |prediction - actual|.
    """
    n = len(x)
    if n < 3:
        return None
    start = max(2, min(min_train, n - 1))
    errors = []
    for k in range(start, n):
        slope, level = _fit(x[:k], y[:k], half_life_days)
        predicted = level + slope * (x[k] - x[k - 1])
        errors.append(abs(predicted - y[k]))
    return float(np.mean(errors))


def _clean(days: npt.ArrayLike, values: npt.ArrayLike) -> tuple[_FloatArray, _FloatArray]:
    """Both series as float arrays sorted by day, days without a finite value dropped."""
    x = np.asarray(days, dtype=np.float64).ravel()
    y = np.asarray(values, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"days and values differ in length ({len(x)} and {len(y)})")
    keep = np.isfinite(x) & np.isfinite(y)
    order = np.argsort(x[keep], kind="stable")
    return x[keep][order], y[keep][order]


def linear_trend(
    days: Sequence[int] | npt.ArrayLike,
    values: Sequence[float] | npt.ArrayLike,
    *,
    half_life_days: float | None = 14.0,
) -> float | None:
    """Return the slope per day of the weighted linear trend (the model of the forecast).

    Args:
        days: Day ordinals of the values.
        values: The daily values; NaN is skipped.
        half_life_days: As in :func:`forecast_target_date`.

    Returns:
        KPI units per day, or None with fewer than two distinct days.

    Raises:
        ValueError: If ``days`` and ``values`` differ in length.
    """
    x, y = _clean(days, values)
    if len(np.unique(x)) < 2:
        return None
    return _fit(x, y, half_life_days)[0]


def forecast_target_date(
    days: Sequence[int] | npt.ArrayLike,
    values: Sequence[float] | npt.ArrayLike,
    target: float,
    direction: Literal["higher", "lower"],
    *,
    today: date | None = None,
    half_life_days: float | None = 14.0,
    min_train: int = 7,
    horizon_days: int = 3650,
) -> Forecast:
    """Forecast the first day a KPI meets its target if its recent trend continues.

    Model: weighted least-squares linear trend of the daily values against the day
    (``numpy.polyfit``, degree 1), each day weighted ``0.5 ** (age / half_life_days)`` so the
    last weeks count most. The line is extended until it reaches ``target``.

    A slope within two standard errors of zero (from the fit's covariance, with four days or
    more) counts as flat: no date is promised on a trend the noise could explain.

    Error: ``mae`` is the mean absolute error of one-day-ahead predictions on a rolling-origin
    backtest over the same series — for each day after the first ``min_train``, the model is
    refitted on the earlier days only and asked for that day — so it says how far a
    "tomorrow" from this model has been off on this KPI's own history.

    Args:
        days: Day ordinals (``date.toordinal()``) of the daily values; any order, gaps allowed.
        values: The KPI's daily values; NaN (a day without data) is skipped.
        target: The value to reach.
        direction: "higher" (reached when value >= target) or "lower" (value <= target).
        today: The day "already met" stands for, and the earliest date returned; defaults
            to the last day of the series.
        half_life_days: Age, in days, at which a day weighs half as much as the last one;
            None weighs every day the same (ordinary least squares).
        min_train: Days the backtest fits on before its first prediction.
        horizon_days: A crossing further than this from ``today`` is reported as None
            (status ``beyond_horizon``): at that range a straight line says nothing.

    Returns:
        The forecast: date, status, model description, slope per day and backtest error.

    Raises:
        ValueError: If ``days`` and ``values`` differ in length.
    """
    x, y = _clean(days, values)
    n = len(x)
    weighting = (
        f"recent days weighted, half-life {half_life_days:g} days"
        if half_life_days is not None
        else "all days weighted equally"
    )
    model = f"linear trend of daily values (numpy.polyfit deg 1, {weighting})"
    if n == 0:
        return Forecast(None, "too_few_days", model, None, None, 0)
    last_day = int(x[-1])
    base = today.toordinal() if today is not None else last_day
    already = y[-1] >= target if direction == "higher" else y[-1] <= target

    if len(np.unique(x)) < 2:
        status: ForecastStatus = "met" if already else "too_few_days"
        return Forecast(date.fromordinal(base) if already else None, status, model, None, None, n)

    slope, level = _fit(x, y, half_life_days)
    mae = _backtest_mae(x, y, half_life_days, min_train)

    def result(reach: date | None, status: ForecastStatus) -> Forecast:
        return Forecast(reach, status, model, slope, mae, n)

    if already:
        return result(date.fromordinal(base), "met")
    # A slope within two standard errors of 0 is noise, not a trend: extending it would
    # promise a date (often years away) that the data do not support.
    if abs(slope) < max(_FLAT, 2.0 * _slope_stderr(x, y, half_life_days)):
        return result(None, "flat")
    if (slope > 0) != (direction == "higher"):
        return result(None, "moving_away")
    crossing = last_day + (target - level) / slope
    reach = max(math.ceil(crossing - 1e-9), base)
    if reach - base > horizon_days:
        return result(None, "beyond_horizon")
    return result(date.fromordinal(reach), "on_track")
