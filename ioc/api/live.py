"""The live stream: one poller per API process, fanned out to every connected board.

Every ``IOC_API__LIVE_EVERY_SECONDS`` the hub asks the database two cheap questions — did
``kpi_values`` change, are there new rows in ``alert_history`` — and pushes to each subscriber
what its scope may see. KPI tiles and feed health are computed once per area per change (the
shared cache), however many screens show the same area.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from ioc.api.context import ApiContext
from ioc.api.queries import live
from ioc.api.queries.alerts import alert_json

__all__ = ["Hub", "Subscriber"]

log = logging.getLogger(__name__)
FEEDS_EVERY_SECONDS = 5.0
_QUEUE = 256  # events a slow client may fall behind by before it is dropped
_SHUTDOWN = {"reason": "server-stopping"}


@dataclass(eq=False)
class Subscriber:
    """One connected board: its scope and the events waiting for it."""

    scope: frozenset[str] | None  # None: the whole province
    queue: asyncio.Queue[tuple[str, Any]] = field(
        default_factory=lambda: asyncio.Queue(maxsize=_QUEUE)
    )
    dropped: bool = False


class Hub:
    """Polls for changes and tells subscribers; see the module docstring."""

    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx
        self.subscribers: set[Subscriber] = set()
        self.kpis_version = 0  # bumps when kpi_values changed; boards then refetch their tiles
        self._kpis_mark: datetime | None = None
        self._alerts_after: int | None = None
        self.closing = False

    def subscribe(self, scope: frozenset[str] | None) -> Subscriber:
        """Register a board."""
        sub = Subscriber(scope)
        self.subscribers.add(sub)
        if self.closing:
            self._push(sub, "end", _SHUTDOWN)
        return sub

    def close(self) -> None:
        """The server stops: every stream sends ``end`` and finishes.

        Called when shutdown begins, before the server waits for open requests: a stream
        never ends by itself, so without this the server would wait until it is killed.
        """
        self.closing = True
        for sub in list(self.subscribers):
            self._push(sub, "end", _SHUTDOWN)

    def unsubscribe(self, sub: Subscriber) -> None:
        """Forget a board (it disconnected)."""
        self.subscribers.discard(sub)

    def _push(self, sub: Subscriber, event: str, data: Any) -> None:
        try:
            sub.queue.put_nowait((event, data))
        except asyncio.QueueFull:
            sub.dropped = True  # its stream ends; the board reconnects and starts afresh

    async def poll_once(self) -> None:
        """Look for new KPI values and alert transitions once; push what changed."""
        async with self.ctx.pool.acquire() as conn:
            mark = await live.kpis_mark(conn)
            if self._alerts_after is None:
                self._alerts_after = await live.last_transition(conn)
            rows = await live.transitions_after(conn, self._alerts_after)
        if mark != self._kpis_mark:
            self._kpis_mark = mark
            self.kpis_version += 1
            self.ctx.cache.clear()
            for sub in list(self.subscribers):
                self._push(sub, "kpis-changed", self.kpis_version)
        for row in rows:
            self._alerts_after = row["history_id"]
            data = {"kind": row["kind"], "alert": alert_json(self.ctx, row)}
            for sub in list(self.subscribers):
                if sub.scope is None or row["area"] in sub.scope:
                    self._push(sub, "alert", data)

    async def run(self) -> None:
        """Poll until cancelled; a database outage only delays the next poll."""
        every = self.ctx.settings.api.live_every_seconds
        while True:
            try:
                await self.poll_once()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
                log.warning("live stream poll failed: %r", err)
            await asyncio.sleep(every)

    async def stream(
        self,
        sub: Subscriber,
        kpis: Callable[[], Awaitable[Any]],
        feeds: Callable[[], Awaitable[Any]],
        valid: Callable[[], Awaitable[bool]],
    ) -> AsyncIterator[tuple[str, Any]]:
        """One board's events (name, data): snapshots first, then changes, feeds every 5 s.

        The route frames them as server-sent events (and pings when nothing was sent for
        15 s, which feeds every 5 s make rare).

        Every ``IOC_API__STREAM_RECHECK_SECONDS`` it asks ``valid`` whether the key is still
        good; once it is not (revoked), the stream sends ``end`` and closes.
        """
        recheck = self.ctx.settings.api.stream_recheck_seconds
        try:
            yield "kpis", await kpis()
            yield "feeds", await feeds()
            next_feeds = time.monotonic() + FEEDS_EVERY_SECONDS
            next_check = time.monotonic() + recheck
            while not sub.dropped:
                if time.monotonic() >= next_check:
                    if not await valid():
                        yield "end", {"reason": "key-revoked"}
                        return
                    next_check = time.monotonic() + recheck
                timeout = max(0.0, min(next_feeds, next_check) - time.monotonic())
                try:
                    event, data = await asyncio.wait_for(sub.queue.get(), timeout)
                except TimeoutError:
                    if time.monotonic() >= next_feeds:
                        yield "feeds", await feeds()
                        next_feeds = time.monotonic() + FEEDS_EVERY_SECONDS
                    continue
                if event == "end":
                    yield event, data
                    return
                if event == "kpis-changed":
                    yield "kpis", await kpis()
                else:
                    yield event, data
        finally:
            self.unsubscribe(sub)
