"""Feed health: events per minute, freshness, the connectors and stream workers behind each feed.

Every declared feed (`ioc.feeds`) is listed, in the declarations' order, with its names.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Final

import asyncpg

from ioc.alerts.calendar import load_calendar
from ioc.api.context import ApiContext
from ioc.api.queries.common import floor, iso
from ioc.events import FEEDS
from ioc.feeds import feeds as declared_feeds
from ioc.telemetry import (
    ConnectorMetrics,
    StreamMetrics,
    read_connector_metrics,
    read_stream_metrics,
)

__all__ = ["FRESH", "current", "feeds", "last_windows"]

FRESH: Final = timedelta(minutes=3)  # a feed whose newest window is older is not live
_STALE: Final = timedelta(minutes=15)  # … and older than this, down (unless idle)
_calendar = lru_cache(maxsize=4)(load_calendar)  # read once per file, like the rules


async def last_windows(
    conn: asyncpg.Connection, scope: frozenset[str] | None = None
) -> dict[str, datetime | None]:
    """Each feed's newest window start (None: none yet) in ``scope`` (None: the province)."""
    rows = await conn.fetch(
        "SELECT f.feed, (SELECT max(window_start) FROM window_metrics "
        "WHERE metric = f.feed || '.events' "
        "AND ($2::text[] IS NULL OR area = ANY($2::text[]))) AS last "
        "FROM unnest($1::text[]) AS f(feed)",
        list(FEEDS),
        sorted(scope) if scope is not None else None,
    )
    return {r["feed"]: r["last"] for r in rows}


def _idle(feed: str, connectors: list[ConnectorMetrics], workers: list[StreamMetrics]) -> bool:
    """A quiet source, not a broken pipe: its connector runs and nothing waits to be counted.

    DVC, for one, receives no dossiers outside office hours: its feed has no new windows then,
    yet nothing is wrong.
    """
    sending = any(c.feed == feed and c.live and c.state == "running" for c in connectors)
    counting = [w.agents[feed] for w in workers if w.state == "running" and feed in w.agents]
    return sending and bool(counting) and all(a.lag == 0 for a in counting)


async def current(ctx: ApiContext, root: str | None) -> dict[str, Any]:
    """:func:`feeds` as a key for ``root`` and below sees them (None: the whole province).

    Read once per cache period for every client asking.
    """
    scope = ctx.scope(root) if root is not None else None
    return await ctx.cached(("feeds", root), lambda conn: feeds(ctx, conn, scope))


async def feeds(
    ctx: ApiContext, conn: asyncpg.Connection, scope: frozenset[str] | None
) -> dict[str, Any]:
    """Each feed: events per minute over the last hour, freshness, connectors, stream worker.

    A key for an area (``scope`` set) sees its area's counts and freshness only: the
    connectors and stream workers serve the whole province, so their lists stay empty.
    """
    now = datetime.now(UTC)
    since = floor(now, timedelta(minutes=1)) - timedelta(minutes=59)
    metrics = [f"{feed}.events" for feed in FEEDS]
    rows = await conn.fetch(
        "SELECT metric, window_start, sum(sum) AS n FROM window_metrics "
        "WHERE metric = ANY($1::text[]) AND window_start >= $2 "
        "AND ($3::text[] IS NULL OR area = ANY($3::text[])) GROUP BY 1, 2",
        metrics,
        since,
        sorted(scope) if scope is not None else None,
    )
    last = await last_windows(conn, scope)
    per_minute: dict[str, dict[datetime, int]] = defaultdict(dict)
    for r in rows:
        per_minute[r["metric"].split(".", 1)[0]][r["window_start"]] = int(r["n"])
    state_dir = ctx.settings.state_dir
    connectors = read_connector_metrics(state_dir)
    workers = [w for w in read_stream_metrics(state_dir) if w.live]
    # "idle" (a quiet source) is judged on the province's machinery even for an area key;
    # what it shows of that machinery is left out.
    shown_connectors = connectors if scope is None else []
    shown_workers = workers if scope is None else []
    minutes = [since + timedelta(minutes=i) for i in range(60)]
    items = []
    for declared in declared_feeds():
        feed = declared.feed
        counts = per_minute.get(feed, {})
        newest = last.get(feed)
        agents = [w.agents[feed] for w in shown_workers if feed in w.agents]
        if newest is not None and now - newest <= FRESH:
            state = "ok"
        elif not _calendar(ctx.settings.alerts.calendar_file).is_open(feed, now):
            state = "quiet"  # quiet as expected: its offices are closed (feed_calendar.yaml)
        elif _idle(feed, connectors, workers):
            state = "idle"
        elif newest is not None and now - newest <= _STALE:
            state = "stale"
        else:
            state = "down"
        stream = (
            {
                "lag": sum(a.lag for a in agents),
                "rate": sum(a.rate for a in agents),
                "counted": sum(a.counted for a in agents),
                "duplicates": sum(a.duplicates for a in agents),
                "dead_lettered": sum(a.dead_lettered for a in agents),
                "late": sum(a.late for a in agents),
                "watermark": max((a.watermark for a in agents if a.watermark), default=None),
            }
            if agents
            else None
        )
        items.append(
            {
                "feed": feed,
                "name_vi": declared.name_vi,
                "name_en": declared.name_en,
                "states": any(e.status for e in declared.events.values()),
                "state": state,
                "last_window": iso(newest),
                "events_last_5m": sum(counts.get(m, 0) for m in minutes[-5:]),
                "series": [{"bucket": iso(m), "events": counts.get(m, 0)} for m in minutes],
                "connectors": [
                    {
                        "name": c.name,
                        "state": c.state,
                        "live": c.live,
                        "rate": c.rate,
                        "sent": c.sent,
                        "spooled": c.spooled,
                        "failed": c.failed,
                        "dead_lettered": c.dead_lettered,
                    }
                    for c in shown_connectors
                    if c.feed == feed
                ],
                "stream": stream,
            }
        )
    return {"at": iso(now), "items": items}
