"""The QĐ 766 scorecard of an area over a period: what ``GET /api/v1/scorecard`` returns."""

from __future__ import annotations

from typing import Any

from ioc.api.context import ApiContext
from ioc.api.queries.areas import area_json
from ioc.api.queries.reports import period_info
from ioc.areas import Area
from ioc.kpis.periods import Period
from ioc.kpis.scorecard import DECISION, ESTIMATE_NOTE, GROUPS, By, Scorecard, UnitScore, scorecard

__all__ = ["scorecard_json", "scorecard_of"]


def _unit_json(unit: UnitScore) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name_vi": unit.name_vi,
        "rank": unit.rank,
        "score": unit.score,
        "points": unit.points,
        "possible": unit.possible,
        "previous_score": unit.previous_score,
        "previous_rank": unit.previous_rank,
        "change": unit.change,
        "components": [
            {
                "id": c.id,
                "numerator": c.numerator,
                "denominator": c.denominator,
                "value": c.value,
                "points": c.points,
            }
            for c in unit.components
        ],
    }


def scorecard_json(card: Scorecard) -> dict[str, Any]:
    """The scorecard: the decision's groups and components, the area's total and every unit."""
    return {
        "area": area_json(card.area),
        "period": period_info(card.period),
        "previous_period": period_info(card.previous),
        "by": card.by,
        "decision": DECISION,
        "estimate_note": ESTIMATE_NOTE,
        "groups": [
            {
                "number": g.number,
                "name_vi": g.name_vi,
                "max_points": g.max_points,
                "components": [
                    {
                        "id": c.id,
                        "name_vi": c.name_vi,
                        "max_points": c.max_points,
                        "threshold": c.threshold,
                        "kpis": list(c.kpis),
                        # No feed carries its data: shown as "chưa có dữ liệu (nguồn: …)".
                        "missing_source": c.missing,
                        "note": c.note,
                    }
                    for c in g.components
                ],
            }
            for g in GROUPS
        ],
        "total": _unit_json(card.total),
        "units": [_unit_json(u) for u in card.units],
    }


async def scorecard_of(ctx: ApiContext, area: Area, period: Period, by: By) -> dict[str, Any]:
    """:func:`scorecard_json` of the stored values (kept current by ``ioc alerts run``)."""
    async with ctx.pool.acquire() as conn:
        card = await scorecard(conn, list(ctx.catalogue), area, period, by)
    return scorecard_json(card)
