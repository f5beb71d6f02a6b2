"""Reporting periods of an indicator: which one is due now, and by when.

An indicator reported ``monthly`` is due for the month that ended last, ``due_days`` after its
last day; likewise for quarters and years. Periods are written as everywhere else in the
product (:class:`ioc.kpis.periods.Period`): ``2025-07``, ``2025-Q3``, ``2025``, in Vietnam's
calendar.

Example:
    >>> from datetime import date
    >>> latest_ended("quarterly", date(2026, 12, 6)).label
    '2026-Q3'
    >>> previous(latest_ended("monthly", date(2026, 1, 10))).label
    '2025-11'
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from ioc.indicators.catalogue import Indicator, PeriodKind
from ioc.kpis.periods import Period, PeriodError

__all__ = ["FORMS", "due_date", "latest_ended", "parse_period", "previous"]

_KIND: Final[dict[PeriodKind, str]] = {"monthly": "month", "quarterly": "quarter", "yearly": "year"}
_KIND_OF: Final[dict[str, PeriodKind]] = {v: k for k, v in _KIND.items()}
FORMS: Final[dict[PeriodKind, str]] = {
    "monthly": "a month, e.g. 2025-07",
    "quarterly": "a quarter, e.g. 2025-Q3",
    "yearly": "a year, e.g. 2025",
}
"""How a period of each kind is written, for messages."""


def parse_period(kind: PeriodKind, text: str) -> Period:
    """The period ``text`` names, which must be of ``kind``.

    Raises:
        PeriodError: not a period, or one of another length ("2025-Q3" for a monthly one).
    """
    try:
        period = Period.parse(str(text))
    except PeriodError:
        raise PeriodError(f"{text!r} is not a period; write {FORMS[kind]}") from None
    if period.kind != _KIND[kind]:
        raise PeriodError(f"{text!r} is not {FORMS[kind]}: the indicator is reported {kind}")
    return period


def _month_start(year: int, month: int) -> date:
    year += (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1)


def _of(kind: PeriodKind, first: date) -> Period:
    if kind == "monthly":
        return Period.parse(f"{first:%Y-%m}")
    if kind == "quarterly":
        return Period.parse(f"{first.year}-Q{(first.month + 2) // 3}")
    return Period.parse(str(first.year))


def latest_ended(kind: PeriodKind, today: date) -> Period:
    """The last period of ``kind`` whose last day is before ``today``."""
    if kind == "monthly":
        return _of(kind, _month_start(today.year, today.month - 1))
    if kind == "quarterly":
        quarter_start = _month_start(today.year, 3 * ((today.month - 1) // 3) + 1)
        return _of(kind, _month_start(quarter_start.year, quarter_start.month - 3))
    return _of(kind, date(today.year - 1, 1, 1))


def previous(period: Period) -> Period:
    """The period of the same length just before ``period``."""
    return _of(_KIND_OF[period.kind], period.first - timedelta(days=1))


def due_date(indicator: Indicator, period: Period) -> date:
    """The last day a value for ``period`` is on time: ``due_days`` after its last day."""
    return period.last + timedelta(days=indicator.due_days)
