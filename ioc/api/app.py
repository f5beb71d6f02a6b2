"""The FastAPI application: API, live stream, metrics and the built-in board, in one process.

``create_app(settings)`` builds it; ``ioc api`` serves it with uvicorn. At start it loads the
KPI catalogue, rules and areas (the same files the evaluator uses) and the periodic indicators'
catalogue, opens a connection pool, and starts background tasks: the live hub's poller, the
dead-letter index, and writing the indicator catalogue for Grafana.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from fastapi import FastAPI, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ioc.api.context import ApiContext, RateLimiter, TtlCache
from ioc.api.dead_letters import DeadLetterIndex
from ioc.api.deps import Ctx
from ioc.api.live import Hub
from ioc.api.models import Health, Ready
from ioc.api.openapi import install as install_openapi
from ioc.api.openapi import operation_id
from ioc.api.problems import explanation_page, install_handlers, problem_response
from ioc.api.routers import api_router, metrics_router
from ioc.config import Settings
from ioc.indicators import load_indicators
from ioc.indicators.store import sync_catalogue
from ioc.telemetry import notifier_problems

__all__ = ["BOARD_DIR", "DOCS_DIR", "create_app"]

log = logging.getLogger(__name__)

BOARD_DIR = Path(str(files("ioc.api").joinpath("board", "dist")))
# The API's reference page: a small page of our own that renders /openapi.json, because
# FastAPI's Swagger UI and ReDoc pages load from a CDN and run inline script.
DOCS_DIR = Path(str(files("ioc.api").joinpath("docs")))


def _security_headers(settings: Settings) -> dict[str, str]:
    """The headers of every response.

    The board loads nothing from elsewhere (no CDN, no inline script or style, no framing),
    except the map's basemap tiles when a site configures a tile server: only that origin,
    and only for images.
    """
    images = "'self' data:"
    if settings.api.basemap_url:
        parts = urlsplit(settings.api.basemap_url)
        images += f" {parts.scheme}://{parts.netloc}"
    csp = (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


async def _context(settings: Settings) -> ApiContext:
    from ioc.db import connect_kwargs
    from ioc.services import build_evaluator

    evaluator = build_evaluator(settings)
    # min_size=0: the API starts (and answers /healthz) while the database is still coming up.
    pool = await asyncpg.create_pool(
        **connect_kwargs(settings), min_size=0, max_size=settings.api.pool_size
    )
    options = settings.api
    indicators = load_indicators(settings.indicators_file, province=settings.province)
    ctx = ApiContext(
        settings=settings,
        pool=pool,
        catalogue=evaluator.catalogue,
        rules=evaluator.rules,
        areas=evaluator.areas,
        limiter=RateLimiter(options.requests_per_minute, options.burst),
        auth_limiter=RateLimiter(options.failed_auth_per_minute, options.failed_auth_per_minute),
        cache=TtlCache(options.live_every_seconds),
        evaluator=evaluator,
        indicators=indicators,
    )
    return ctx


async def _sync_indicators(ctx: ApiContext) -> None:
    """Write the indicator catalogue for the Grafana boards once the database answers."""
    while True:
        try:
            async with ctx.pool.acquire() as conn:
                await sync_catalogue(conn, ctx.indicators)
            return
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
            log.warning("indicator catalogue not written yet (%r); retrying in 5 s", err)
            await asyncio.sleep(5)


def create_app(settings: Settings) -> FastAPI:
    """The application for these settings (nothing connects until it starts)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = await _context(settings)
        app.state.ctx = ctx
        # The hub reads through the context; kept beside it rather than in it (no import loop).
        app.state.hub = hub = Hub(ctx)
        ctx.dead_letters = index = DeadLetterIndex(settings)
        tasks = [
            asyncio.create_task(hub.run()),
            asyncio.create_task(index.run()),
            asyncio.create_task(_sync_indicators(ctx)),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await ctx.pool.close()

    app = FastAPI(
        title="ioc-monitor API",
        version=_version(),
        summary="KPIs, alerts, feeds and windows of a provincial Intelligent Operations Centre",
        description=(
            "Every `/api/v1` endpoint and `/metrics` needs `Authorization: Bearer <key>` "
            "(`ioc api keys create`). Keys have a role (operator, leader, engineer, department, "
            "admin) and may be limited to an area and below. Errors are "
            "`application/problem+json`. Times are UTC; the board shows them in "
            "Asia/Ho_Chi_Minh. Read this document at `/docs`."
        ),
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load Swagger UI from a CDN; /docs is ours (_add_docs)
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    install_handlers(app)
    install_openapi(app)
    app.include_router(api_router)
    app.include_router(metrics_router)
    _add_health(app, settings)
    _add_problem_pages(app)
    _add_docs(app)
    _add_board(app)
    app.add_middleware(_Edge, headers=_security_headers(settings))
    return app


def _version() -> str:
    from importlib.metadata import version

    return version("ioc-monitor")


class _Edge:
    """Security headers on every response, and each request's latency in /metrics.

    Pure ASGI rather than an HTTP middleware, so the live stream passes through unbuffered.
    """

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from ioc.api.metrics import observe_request

        started = time.perf_counter()
        status = 500
        api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers.update(self.headers)
                if api and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            # The route's template, not the path: /alerts/1, /alerts/2 … are one label set.
            route = getattr(scope.get("route"), "path", None)
            observe_request(route, scope["method"], status, time.perf_counter() - started)


def _add_health(app: FastAPI, settings: Settings) -> None:
    @app.get(
        "/healthz",
        tags=["operations"],
        response_model=Health,
        response_model_exclude_unset=True,  # `notifier` only when degraded
        summary="Liveness: the process answers (no key needed)",
    )
    async def healthz() -> dict[str, Any]:
        # Still 200 when a notifier on this machine cannot deliver: restarting the API would
        # not help it. The body says so, for a monitor that reads it. Needs no context: the
        # process answers even before its start-up (database, areas) is done.
        problems = notifier_problems(settings.state_dir)
        if problems:
            return {"status": "degraded", "notifier": problems}
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        response_model=Ready,
        summary="Readiness: the database answers (no key needed)",
        responses={503: {"description": "database unreachable"}},
    )
    async def readyz(ctx: Ctx) -> Any:
        try:
            async with asyncio.timeout(3):
                await ctx.pool.fetchval("SELECT 1")
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
            return problem_response(503, "not-ready", f"database unreachable: {err!r}")
        return JSONResponse({"status": "ready"})


def _add_problem_pages(app: FastAPI) -> None:
    @app.get(
        "/problems/{slug}",
        tags=["operations"],
        response_class=HTMLResponse,
        responses={404: {"description": "no such problem"}},
        summary="What a problem `type` means and what to do, in Vietnamese and English",
    )
    async def problem_page(slug: str) -> Response:
        page = explanation_page(slug)
        if page is None:
            return problem_response(404, "not-found", f"no problem type {slug!r}")
        return HTMLResponse(page)


def _add_docs(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    async def docs_index() -> Response:
        return _static(DOCS_DIR, "index.html")

    @app.get("/docs/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> Response:
        return _static(DOCS_DIR, name)


def _add_board(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    async def board_index() -> Response:
        return _static(BOARD_DIR, "index.html")

    @app.get("/board/{name:path}", include_in_schema=False)
    async def board_asset(name: str) -> Response:
        return _static(BOARD_DIR, name)


def _static(folder: Path, name: str) -> Response:
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()) or not path.is_file():
        return problem_response(404, "not-found", f"no file {name!r} here")
    return FileResponse(path, headers={"Cache-Control": "no-cache"})
