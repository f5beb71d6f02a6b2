"""``GET /api/v1/audit``: the audit log, for admins."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ioc.api.deps import LIMIT_DEFAULT, Auditor, Ctx, Limit, Offset
from ioc.api.models import AuditPage
from ioc.api.queries.audit import audit_page

__all__ = ["router"]

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=AuditPage, summary="The audit log, newest first (admin)")
async def audit_log(
    ctx: Ctx,
    who: Auditor,
    action: str | None = None,
    limit: Limit = LIMIT_DEFAULT,
    offset: Offset = 0,
) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        return await audit_page(conn, action, limit, offset)
