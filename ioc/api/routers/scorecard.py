"""``/api/v1/scorecard``: the QĐ 766/QĐ-TTg scorecard by DVC agency or by commune, ranked."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ioc.api.deps import Ctx, Reader, chosen_area
from ioc.api.models import Scorecard
from ioc.api.problems import Problem
from ioc.api.queries import scorecard as queries
from ioc.api.queries.reports import parse_period
from ioc.kpis.periods import PeriodError
from ioc.kpis.scorecard import By
from ioc.localtime import local_today

__all__ = ["router"]

router = APIRouter()


@router.get(
    "/scorecard",
    response_model=Scorecard,
    summary="The QĐ 766 scorecard of an area by agency or commune, ranked, with the change",
)
async def scorecard(
    ctx: Ctx,
    who: Reader,
    request: Request,
    period: str | None = None,
    by: By = "agency",
    area: str | None = None,
) -> dict[str, Any]:
    """The five groups of QĐ 766/QĐ-TTg and their components, per agency or child area.

    ``period`` as in ``/kpis/periods`` (default: this month); the change is against the
    period before (last month for a month). Components no feed carries are listed with their
    source and no figure; points are estimates (``estimate_note``).
    """
    try:
        chosen_period = parse_period(period or f"{local_today():%Y-%m}")
    except PeriodError as err:
        raise Problem(422, "bad-period", str(err)) from None
    chosen = await chosen_area(ctx, request, who, area)
    return await queries.scorecard_of(ctx, chosen, chosen_period, by)
