"""What every request of one API process shares: settings, pool, catalogue, areas, services.

:class:`ApiContext` is built once at start-up (:func:`ioc.api.app.create_app`) and reached by
the routers through the dependencies of :mod:`ioc.api.deps`; each service it holds is a typed
attribute, never looked up by name.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

import asyncpg
from fastapi import Request

from ioc.alerts.model import Transition
from ioc.alerts.rules import RuleSet
from ioc.api.dead_letters import DeadLetterIndex
from ioc.areas import Area, AreaRegistry
from ioc.config import Settings
from ioc.indicators import IndicatorCatalogue
from ioc.kpis import KpiCatalogue

__all__ = ["Acknowledger", "ApiContext", "RateLimiter", "TtlCache", "context"]

T = TypeVar("T")


class Acknowledger(Protocol):
    """What the API asks of the alert evaluator: take an alert on (see ``ioc alerts ack``)."""

    async def acknowledge(
        self, conn: asyncpg.Connection, alert_id: int, actor: str, now: datetime | None = None
    ) -> Transition:
        """Mark a firing alert acknowledged by ``actor`` and tell its recipients.

        Raises:
            LookupError: no such alert, or it is not firing.
        """
        ...


class RateLimiter:
    """Token buckets by key: ``burst`` at once, then ``per_minute`` sustained (in memory).

    Each API process limits on its own; behind N replicas a key gets up to N times the rate.
    """

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def waiting(self, key: str) -> float:
        """The seconds until ``key`` may spend a token (0: now); nothing is spent."""
        tokens, at = self._buckets.get(key, (self.burst, time.monotonic()))
        tokens = min(self.burst, tokens + (time.monotonic() - at) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def take(self, key: str) -> float:
        """Spend one token; return 0 if allowed, else the seconds until one is available."""
        now = time.monotonic()
        tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens - 1.0, now)
        if len(self._buckets) > 100_000:  # forget idle addresses rather than grow forever
            self._buckets.clear()
        return 0.0


class TtlCache:
    """Results of expensive reads, shared by every client for ``ttl`` seconds.

    Fifty wall screens showing the province overview cost one query per ``ttl``, not fifty:
    concurrent misses of one key wait for the same computation (single flight).
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._values: dict[Any, tuple[float, Any]] = {}
        self._pending: dict[Any, asyncio.Future[Any]] = {}

    async def get(self, key: Any, compute: Callable[[], Awaitable[Any]]) -> Any:
        """The cached value of ``key``, computing it once if stale."""
        hit = self._values.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            value = await compute()
        except BaseException as err:
            future.set_exception(err)
            future.exception()  # retrieved: waiting clients get it, nobody logs it as lost
            raise
        else:
            self._values[key] = (time.monotonic(), value)
            future.set_result(value)
            return value
        finally:
            del self._pending[key]

    def clear(self) -> None:
        """Forget everything (new data has landed)."""
        self._values.clear()


@dataclass
class ApiContext:
    """The state of one API process, built at start-up (see :func:`ioc.api.app.create_app`)."""

    settings: Settings
    pool: asyncpg.Pool
    catalogue: KpiCatalogue
    rules: RuleSet
    areas: AreaRegistry
    limiter: RateLimiter
    auth_limiter: RateLimiter
    cache: TtlCache
    evaluator: Acknowledger
    indicators: IndicatorCatalogue
    dead_letters: DeadLetterIndex | None = None  # likewise its tail of ioc.dlq
    _scopes: dict[str, frozenset[str]] = field(default_factory=dict)

    async def cached(
        self, key: tuple[str, str | None], read: Callable[[asyncpg.Connection], Awaitable[T]]
    ) -> T:
        """A read shared by every client asking the same within the cache period."""

        async def compute() -> T:
            async with self.pool.acquire() as conn:
                return await read(conn)

        result: T = await self.cache.get(key, compute)
        return result

    def scope(self, root: str) -> frozenset[str]:
        """Every area code that is or ever was ``root`` or below it (any period of the file)."""
        if root not in self._scopes:
            codes = {root}
            grew = True
            while grew:
                before = len(codes)
                codes |= {a.code for a in self.areas if a.parent in codes}
                grew = len(codes) > before
            self._scopes[root] = frozenset(codes)
        return self._scopes[root]

    def area(self, code: str, day: date) -> Area | None:
        """The area with this code on ``day``, else its latest version, else None."""
        versions = self.areas.versions(code)
        if not versions:
            return None
        for version in versions:
            if version.valid_on(day):
                return version
        return versions[-1]


def context(request: Request) -> ApiContext:
    """The process's shared state (a FastAPI dependency; see :data:`ioc.api.deps.Ctx`)."""
    ctx: ApiContext = request.app.state.ctx
    return ctx
