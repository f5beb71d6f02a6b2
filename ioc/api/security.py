"""Who may call what: key authentication, roles, area scope, rate limits and the audit log.

Every ``/api/v1`` route depends on :func:`require` with the permission it needs. A request
without a valid key gets 401, one whose role lacks the permission or that names an area
outside the key's scope gets 403; each refusal leaves an audit line, as does every change
(acknowledgement, silence, replay, key management).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from ioc.api.context import ApiContext, context
from ioc.api.keys import Permission, Principal, find_principal, split_key
from ioc.api.openapi import bearer
from ioc.api.problems import Problem
from ioc.api.queries.audit import write_line

__all__ = ["audit", "client_address", "hidden", "in_scope", "require", "sees", "still_valid"]

log = logging.getLogger(__name__)


def client_address(request: Request, ctx: ApiContext) -> str:
    """The caller's address; X-Forwarded-For only when the peer is a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and peer in ctx.settings.api.trusted_proxies:
        candidate = forwarded.split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            return peer
    return peer


async def audit(
    ctx: ApiContext,
    request: Request,
    principal: Principal | None,
    action: str,
    outcome: str,
    status: int,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write one audit line; a database outage is logged, never turned into a 500."""
    try:
        await write_line(
            ctx.pool,
            principal.key_id if principal else None,
            principal.name if principal else None,
            principal.role if principal else None,
            action,
            target if target is not None else _request_target(request),
            outcome,
            status,
            client_address(request, ctx),
            detail or {},
        )
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
        log.error("audit line not written (%s %s %s): %r", action, outcome, status, err)


def _request_target(request: Request) -> str:
    query = request.url.query
    return f"{request.method} {request.url.path}" + (f"?{query}" if query else "")


def _bearer(request: Request) -> str | None:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" and key.strip() else None


async def _authenticate(request: Request, ctx: ApiContext) -> Principal:
    header = request.headers.get("authorization", "")
    key = _bearer(request)
    address = client_address(request, ctx)
    # An address that failed too often is refused before its key costs a database lookup
    # (a pool slot): guessing keys cannot crowd out real callers' queries.
    wait = ctx.auth_limiter.waiting(address)
    if wait:
        raise Problem(
            429,
            "too-many-failed-authentications",
            f"too many requests without a valid key from {address}; wait {wait:.0f} s",
            headers={"Retry-After": str(max(1, round(wait)))},
        )
    principal = await find_principal_cached(ctx, key) if key else None
    if principal is not None:
        return principal
    ctx.auth_limiter.take(address)
    reason = "no Authorization header" if not header else "invalid or revoked API key"
    await audit(ctx, request, None, "auth.denied", "denied", 401, detail={"reason": reason})
    raise Problem(
        401,
        "unauthorized",
        f"{reason}: send `Authorization: Bearer <key>`; an admin creates keys with "
        "`ioc api keys create`",
        headers={"WWW-Authenticate": 'Bearer realm="ioc"'},
    )


async def still_valid(ctx: ApiContext, request: Request, principal: Principal) -> bool:
    """True while the request's key still belongs to ``principal`` (not revoked since)."""
    key = _bearer(request)
    found = await find_principal_cached(ctx, key) if key else None
    return found is not None and found.key_id == principal.key_id


class _NoSuchKey(Exception):
    """Raised inside a cached lookup so that a miss is not kept (the cache keeps no errors)."""


async def find_principal_cached(ctx: ApiContext, key: str) -> Principal | None:
    """The key's holder, looked up at most once per cache period (revocation takes that long).

    Only valid keys are cached: invented keys, however many, leave nothing in memory (their
    rate is bounded per address by the failed-auth limiter, which runs before this).
    """
    if split_key(key) is None:
        return None  # not even shaped like a key: no query

    async def lookup() -> Principal:
        async with ctx.pool.acquire() as conn:
            found = await find_principal(conn, key)
        if found is None:
            raise _NoSuchKey
        return found

    try:
        principal: Principal = await ctx.cache.get(("key", _fingerprint(key)), lookup)
    except _NoSuchKey:
        return None
    return principal


def _fingerprint(key: str) -> str:
    # The cache is keyed by a hash: the secret itself is not kept as a dictionary key.
    return hashlib.sha256(key.encode()).hexdigest()


def require(permission: Permission) -> Any:
    """A dependency: the caller, authenticated, rate-limited and allowed ``permission``.

    Routers use it through the aliases of :mod:`ioc.api.deps` (``who: Reader``).
    """

    async def dependency(
        request: Request,
        ctx: Annotated[ApiContext, Depends(context)],
        # Not read here (_authenticate answers a missing key itself, audited): declared so
        # the OpenAPI document names the scheme on every route that needs a key.
        _header: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        principal = await _authenticate(request, ctx)
        wait = ctx.limiter.take(principal.key_id)
        if wait:
            raise Problem(
                429,
                "rate-limited",
                f"key {principal.key_id} made more than "
                f"{ctx.settings.api.requests_per_minute} requests a minute; wait {wait:.1f} s",
                headers={"Retry-After": str(max(1, round(wait + 0.5)))},
            )
        if permission not in principal.permissions:
            await audit(
                ctx,
                request,
                principal,
                "auth.forbidden",
                "denied",
                403,
                detail={"needs": permission},
            )
            raise Problem(
                403,
                "forbidden",
                f"role {principal.role} may not {permission}; ask an admin for a key whose "
                "role allows it",
            )
        request.state.principal = principal
        return principal

    return Depends(dependency)


async def in_scope(ctx: ApiContext, request: Request, principal: Principal, area: str) -> None:
    """Refuse (403, audited) an area outside the key's scope; 404 for an unknown code."""
    if not ctx.areas.versions(area):
        raise Problem(404, "unknown-area", f"no area has code {area!r}; see GET /api/v1/areas")
    if principal.area is None or area in ctx.scope(principal.area):
        return
    await audit(
        ctx,
        request,
        principal,
        "scope.denied",
        "denied",
        403,
        detail={"area": area, "scope": principal.area},
    )
    raise Problem(
        403,
        "out-of-scope",
        f"area {area} is outside this key's scope (area {principal.area} and below)",
    )


def sees(ctx: ApiContext, principal: Principal, area: str | None) -> bool:
    """True if the key may see an object about ``area`` (None: the whole province)."""
    if principal.area is None:
        return True
    return area is not None and area in ctx.scope(principal.area)


async def hidden(
    ctx: ApiContext, request: Request, principal: Principal, target: str, area: str | None
) -> None:
    """Audit a read of an object outside the key's scope; the caller answers 404.

    The answer is the one for an object that does not exist, so walking ids tells a scoped
    key nothing about other areas (neither the area nor that the object exists).
    """
    await audit(
        ctx,
        request,
        principal,
        "scope.denied",
        "denied",
        404,
        target,
        {"area": area, "scope": principal.area},
    )
