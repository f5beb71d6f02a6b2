"""Periodic indicators for the API: each one's state in an area, entries, the template.

The checks, the storage and the states are :mod:`ioc.indicators`; this module turns them into
what the API answers (:class:`ioc.api.models.IndicatorList` and friends).
"""

from __future__ import annotations

from datetime import UTC, date
from typing import Any

from ioc.api.context import ApiContext
from ioc.api.queries.areas import area_json
from ioc.api.queries.common import iso
from ioc.areas import Area
from ioc.indicators import files
from ioc.indicators.periods import due_date, latest_ended
from ioc.indicators.store import STATE_LABELS, IndicatorState, Saved, history, states

__all__ = ["entry_json", "history_json", "indicator_list", "template_file"]


def _state_json(ctx: ApiContext, s: IndicatorState) -> dict[str, Any]:
    i = s.indicator
    department = ctx.indicators.department(i)
    target = i.target
    deadline = None if target is None else target.deadline
    vi, en = STATE_LABELS[s.state]
    return {
        "id": i.id,
        "name_vi": i.name_vi,
        "name_en": i.name_en,
        "unit": i.unit,
        "direction": i.direction,
        "period_kind": i.period,
        "department_vi": department.name_vi,
        "department_en": department.name_en,
        "levels": [level.value for level in i.levels],
        "target": s.target,
        "target_deadline": deadline.isoformat() if deadline is not None else None,
        "target_source": None if target is None else target.source,
        "target_estimate": target is not None and target.estimate,
        "target_note": None if target is None else target.note,
        "period": s.period.label,
        "period_vi": s.period.label_vi,
        "due": s.due.isoformat(),
        "due_estimate": i.due_estimate,
        "state": s.state,
        "state_vi": vi,
        "state_en": en,
        "value": s.value,
        "meets": s.meets,
        "last_value": s.last_value,
        "last_period": s.last_period,
        "entered_by": s.entered_by,
        "entered_at": iso(s.entered_at),
        "reported": [r.model_dump(mode="json") for r in i.reported],
    }


async def indicator_list(ctx: ApiContext, area: Area, today: date) -> dict[str, Any]:
    """Every indicator the area's level reports, with its state on ``today``."""
    async with ctx.pool.acquire() as conn:
        found = await states(conn, ctx.indicators, area, today)
    return {
        "area": area_json(area),
        "today": today.isoformat(),
        "items": [_state_json(ctx, s) for s in found],
    }


def entry_json(saved: Saved, by: str, via: str) -> dict[str, Any]:
    """A stored entry as the API shows it."""
    entry = saved.entry
    return {
        "indicator": entry.indicator.id,
        "area": entry.area.code,
        "period": entry.period.label,
        "value": entry.value,
        "previous": saved.previous,
        "revision": saved.revision,
        "note": entry.note,
        "entered_by": by,
        "entered_at": saved.at.astimezone(UTC).isoformat(),
        "via": via,
    }


async def history_json(ctx: ApiContext, indicator: str, area: Area) -> dict[str, Any]:
    """Every entry of one indicator in one area, newest first."""
    async with ctx.pool.acquire() as conn:
        rows = await history(conn, indicator, area.code)
    return {
        "indicator": indicator,
        "area": area.code,
        "items": [
            {
                "indicator": indicator,
                "area": area.code,
                "period": r["period"],
                "value": r["value"],
                "previous": r["previous"],
                "revision": r["revision"],
                "note": r["note"],
                "entered_by": r["entered_by"],
                "entered_at": iso(r["entered_at"]),
                "via": r["via"],
            }
            for r in rows
        ],
    }


def template_file(
    ctx: ApiContext, area: Area, today: date, fmt: files.Format, communes: bool
) -> bytes:
    """The upload template for ``area`` (and its communes), for the periods due now."""
    places = [area]
    if communes:
        places += [a for a in ctx.areas.descendants(area.code, today) if a.level.value == "commune"]
    rows = []
    for indicator in ctx.indicators:
        period = latest_ended(indicator.period, today)
        for place in places:
            if place.level in indicator.levels:
                rows.append((indicator, place, period, due_date(indicator, period)))
    return files.template(ctx.indicators, rows, fmt)
