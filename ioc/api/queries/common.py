"""What several resources' queries share: the local day, bucket floors, times, pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["floor", "iso", "page", "ratio"]


def floor(at: datetime, step: timedelta) -> datetime:
    """The start of the ``step``-wide bucket that holds ``at`` (UTC)."""
    seconds = step.total_seconds()
    return datetime.fromtimestamp(at.timestamp() // seconds * seconds, UTC)


def iso(at: datetime | None) -> str | None:
    """A time as the API writes it: ISO 8601 in UTC; None stays None."""
    return at.astimezone(UTC).isoformat() if at is not None else None


def ratio(numerator: float, denominator: float) -> float | None:
    """The ratio of two sums, or None when nothing was counted."""
    return numerator / denominator if denominator else None


def page(items: list[Any], limit: int, offset: int, total: int) -> dict[str, Any]:
    """One page of a list: its items, where it sits and where the next one starts."""
    return {
        "items": items,
        "limit": limit,
        "offset": offset,
        "total": total,
        "next_offset": offset + limit if offset + limit < total else None,
    }
