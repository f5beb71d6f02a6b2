"""Errors as RFC 9457 problem details (`application/problem+json`), one shape for every error."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["PROBLEM_TYPE", "Problem", "install_handlers", "problem_response"]

PROBLEM_TYPE = "https://ioc-monitor.invalid/problems/"
log = logging.getLogger(__name__)
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class Problem(Exception):
    """An error the client can act on: raise it anywhere in a request, it becomes the response.

    Args:
        status: the HTTP status.
        slug: a short stable code, the last part of the problem's ``type`` URI.
        detail: exactly what was wrong and, where possible, what to do.
        headers: extra response headers (``WWW-Authenticate``, ``Retry-After``).
    """

    def __init__(
        self, status: int, slug: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.headers = headers or {}


def problem_response(
    status: int,
    slug: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + slug,
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(
        body, status_code=status, headers=headers, media_type="application/problem+json"
    )


def _slug(status: int) -> str:
    return _TITLES.get(status, "error").lower().replace(" ", "-")


def install_handlers(app: FastAPI) -> None:
    """Turn every error — ours, FastAPI's validation, Starlette's 404/405 — into problem+json."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc.status, exc.slug, exc.detail, headers=exc.headers)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such endpoint: {request.method} {request.url.path}"
        return problem_response(
            exc.status_code, _slug(exc.status_code), detail, headers=dict(exc.headers or {})
        )

    async def on_invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors)
        return problem_response(422, "invalid-request", detail, errors=errors)

    async def on_unstorable(request: Request, exc: Exception) -> JSONResponse:
        # e.g. a NUL character in a query parameter, which PostgreSQL text cannot hold.
        return problem_response(
            422, "invalid-value", f"a parameter has a value the database refuses: {exc}"
        )

    async def on_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The database (or broker) went away mid-request: say so instead of a bare 500.
        log.warning("%s %s: %r", request.method, request.url.path, exc)
        return problem_response(
            503,
            "unavailable",
            "the database is unreachable; retry shortly",
            headers={"Retry-After": "5"},
        )

    async def on_bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
        return problem_response(500, "internal-error", "internal error; the API log has details")

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(asyncpg.DataError, on_unstorable)
    for unavailable in (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
        app.add_exception_handler(unavailable, on_unavailable)
    app.add_exception_handler(Exception, on_bug)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_invalid)
