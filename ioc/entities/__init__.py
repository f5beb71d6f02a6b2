"""Which cameras, network points and online services are up, down or silent: one query for all.

The stream workers keep ``entity_status`` current (migration 0008, ``ioc.streams.sink``): one
row per (feed, entity) that reports a state, with its kind (``camera``, a network point kind
such as ``special_network``, ``service``), its leaf area, whether it is up, since when (the
event time its current state began) and when it last reported. The API
(``GET /api/v1/entities``), the CLI (``ioc entities list``) and the board read it through
this module, so they agree on what "down now" means. The points at fault of an availability
alert are read from the event store instead, as they stood when the alert fired
(:func:`down_at`): an alert evaluated late must not name what is down now.

An entity is in exactly one state, judged at a reference time ``at``:

- ``down``: its latest report says down (offline, not offered online), however old it is;
- ``silent``: its latest report says up, but it is older than ``silent_after`` (10 minutes by
  default): nothing says it is down, nothing says it is still up;
- ``up``: its latest report says up and is recent.

Lists are ordered down first, then silent, then up, and within each by ``since`` (the longest
in its state first), then feed and entity: a stable order that pages by keyset.

Example:
    >>> f = EntityFilter(feed="network", state="down", area="11953")
    >>> f.feed, f.state, f.silent_after
    ('network', 'down', datetime.timedelta(seconds=600))
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal, get_args

import asyncpg

from ioc.areas import AreaRegistry
from ioc.events import NetworkPointKind
from ioc.feeds import feeds
from ioc.kpis import Kpi
from ioc.localtime import local_date

__all__ = [
    "LOOKBACK",
    "SILENT_AFTER",
    "STATES",
    "Entity",
    "EntityFilter",
    "EntityPage",
    "InvalidCursor",
    "State",
    "area_name",
    "count_states",
    "decode_cursor",
    "down_at",
    "encode_cursor",
    "entity_kind_of",
    "feeds_with_states",
    "list_entities",
]

State = Literal["down", "silent", "up"]
"""An entity's state at a reference time (see the module docstring)."""

STATES: Final[tuple[State, ...]] = get_args(State)
SILENT_AFTER: Final = timedelta(minutes=10)
LOOKBACK: Final = timedelta(hours=2)  # how far back down_at reads the store

# The availability KPIs, by numerator metric: the feed and entity kind whose states they
# count. A camera heartbeat saying online adds `camera.online`; a network sample saying up
# adds `network.<point kind>.up` (ioc.kpis.measures).
_AVAILABILITY: Final[dict[str, tuple[str, str]]] = {
    "camera.online": ("camera", "camera"),
    **{f"network.{k.value}.up": ("network", k.value) for k in NetworkPointKind},
}


def feeds_with_states() -> tuple[str, ...]:
    """The declared feeds (`ioc.feeds`) some of whose events report an entity's up/down state."""
    return tuple(f.feed for f in feeds() if any(e.status for e in f.events.values()))


def entity_kind_of(kpi: Kpi) -> tuple[str, str] | None:
    """(feed, entity kind) when the KPI is the availability of entities that report a state.

    ``network_special_availability`` → ``("network", "special_network")``,
    ``camera_online_rate`` → ``("camera", "camera")``; None for every other KPI.
    """
    return _AVAILABILITY.get(kpi.numerator)


@dataclass(frozen=True)
class Entity:
    """An entity and its state at a reference time.

    A row of ``entity_status`` for lists; for :func:`down_at`, as the event store shows it at
    a moment.
    """

    feed: str
    entity: str
    kind: str
    area: str
    up: bool
    since: datetime
    last_seen: datetime
    state: State

    def json(self, areas: AreaRegistry, day: date) -> dict[str, Any]:
        """As the API and the board show it (times in UTC ISO 8601, area named)."""
        found = _area(areas, self.area, day)
        return {
            "feed": self.feed,
            "entity": self.entity,
            "kind": self.kind,
            "area": self.area,
            "area_name_vi": found.name_vi if found else None,
            "area_name_en": found.name_en if found else None,
            "state": self.state,
            "up": self.up,
            "since": self.since.astimezone(UTC).isoformat(),
            "last_seen": self.last_seen.astimezone(UTC).isoformat(),
        }


@dataclass(frozen=True)
class EntityFilter:
    """What to list. Every field narrows; None leaves that dimension open.

    Attributes:
        feed: ``camera``, ``network``, ``dvc``, or several (any of them).
        kind: the entity kind (``camera``, ``special_network``, ``cell_site``, ``service``…).
        area: an area code: the area itself or anything under it, as the area tree stands on
            the local date of the reference time (the ``area_ancestors`` view).
        state: ``down``, ``silent`` or ``up``.
        scope: area codes the caller may see (an API key's area and below); None: all.
        silent_after: how old an "up" report may be before the entity counts as silent.
    """

    feed: str | tuple[str, ...] | None = None
    kind: str | None = None
    area: str | None = None
    state: State | None = None
    scope: frozenset[str] | None = None
    silent_after: timedelta = SILENT_AFTER


@dataclass(frozen=True)
class EntityPage:
    """One page of entities, the cursor of the next (None at the end) and counts by state.

    ``counts`` apply every filter but the state: the number behind each state's tab.
    """

    items: list[Entity]
    next_cursor: str | None
    at: datetime
    counts: dict[str, int] = field(default_factory=dict)


class InvalidCursor(ValueError):
    """A cursor that this module did not write (or that was altered)."""


# $1 reference time, $2 silent_after, $3 feeds, $4 kind, $5 area, $6 local day, $7 scope.
_RANK = (
    "CASE WHEN NOT s.up THEN 0 WHEN s.last_seen < $1::timestamptz - $2::interval THEN 1 ELSE 2 END"
)
_WHERE = """
    ($3::text[] IS NULL OR s.feed = ANY($3::text[]))
    AND ($4::text IS NULL OR s.kind = $4)
    AND ($5::text IS NULL OR s.area IN (
        SELECT an.area FROM area_ancestors an
        WHERE an.ancestor = $5 AND an.valid_from <= $6::date AND $6::date < an.valid_to))
    AND ($7::text[] IS NULL OR s.area = ANY($7::text[]))
"""
_STATE_RANK: Final[dict[str, int]] = {"down": 0, "silent": 1, "up": 2}
_LIST = f"""
SELECT * FROM (
    SELECT s.feed, s.entity, s.kind, s.area, s.up, s.since, s.last_seen, {_RANK} AS rank
    FROM entity_status s
    WHERE {_WHERE}
) e
WHERE ($8::int IS NULL OR e.rank = $8)
  AND ($9::int IS NULL
       OR (e.rank, e.since, e.feed, e.entity) > ($9::int, $10::timestamptz, $11::text, $12::text))
ORDER BY e.rank, e.since, e.feed, e.entity
LIMIT $13
"""  # noqa: S608 (the fragments are constants)
# $1 feed, $2 denominator metric (the event reports a state of this kind), $3 numerator metric
# (it said up), $4 area (and below, on the local day $5), ($6, $7] the period read.
_DOWN_AT = """
WITH reports AS (
    SELECT e.entity, e.area, e.occurred_at, e.metrics @> ARRAY[$3::text] AS up
    FROM events e
    WHERE e.feed = $1 AND e.occurred_at > $6 AND e.occurred_at <= $7
      AND e.metrics @> ARRAY[$2::text]
      AND e.area IN (
          SELECT an.area FROM area_ancestors an
          WHERE an.ancestor = $4 AND an.valid_from <= $5::date AND $5::date < an.valid_to)
),
latest AS (
    SELECT DISTINCT ON (entity) entity, area, occurred_at AS last_seen, up
    FROM reports ORDER BY entity, occurred_at DESC
),
last_up AS (
    SELECT entity, max(occurred_at) AS at FROM reports WHERE up GROUP BY entity
)
SELECT l.entity, l.area, l.last_seen,
       (SELECT min(r.occurred_at) FROM reports r
        WHERE r.entity = l.entity AND NOT r.up
          AND r.occurred_at > coalesce(u.at, '-infinity'::timestamptz)) AS since
FROM latest l LEFT JOIN last_up u ON u.entity = l.entity
WHERE NOT l.up
ORDER BY since, l.entity
"""
_COUNT = f"""
SELECT {_RANK} AS rank, count(*) AS n FROM entity_status s WHERE {_WHERE} GROUP BY 1
"""  # noqa: S608


def _args(f: EntityFilter, at: datetime) -> list[Any]:
    return [
        at,
        f.silent_after,
        [f.feed] if isinstance(f.feed, str) else (list(f.feed) if f.feed else None),
        f.kind,
        f.area,
        local_date(at),
        sorted(f.scope) if f.scope is not None else None,
    ]


def _row(r: asyncpg.Record) -> Entity:
    return Entity(
        feed=r["feed"],
        entity=r["entity"],
        kind=r["kind"],
        area=r["area"],
        up=r["up"],
        since=r["since"],
        last_seen=r["last_seen"],
        state=STATES[r["rank"]],
    )


def encode_cursor(at: datetime, last: Entity) -> str:
    """An opaque cursor: the list's reference time and the last item's sort key."""
    key = [at.isoformat(), _STATE_RANK[last.state], last.since.isoformat(), last.feed, last.entity]
    raw = json.dumps(key, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, tuple[int, datetime, str, str]]:
    """(reference time, sort key after which the next page starts).

    Raises:
        InvalidCursor: the text is not a cursor of this list.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, rank, since, feed, entity = json.loads(raw)
        moment, began = datetime.fromisoformat(at), datetime.fromisoformat(since)
        if moment.tzinfo is None or began.tzinfo is None:
            raise ValueError("naive time")
        if type(rank) is not int or rank not in (0, 1, 2):
            raise ValueError("bad state")
        if not isinstance(feed, str) or not isinstance(entity, str):
            raise ValueError("bad key")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as err:
        raise InvalidCursor(
            f"not a cursor of this list ({err}): pass next_cursor exactly as returned"
        ) from None
    return moment, (rank, began, feed, entity)


async def list_entities(
    conn: asyncpg.Connection,
    f: EntityFilter,
    *,
    limit: int = 50,
    cursor: str | None = None,
    at: datetime | None = None,
    with_counts: bool = True,
) -> EntityPage:
    """A page of entities matching ``f``, down first, and the counts by state.

    Args:
        conn: a connection to the database the workers write.
        f: the filter.
        limit: page size.
        cursor: ``next_cursor`` of the previous page (it carries that page's reference time,
            so a list walked page by page judges every entity at the same moment).
        at: the reference time for a first page (default: now).
        with_counts: also count the matches by state.

    Raises:
        InvalidCursor: ``cursor`` was not written by :func:`encode_cursor`.
    """
    after: tuple[int, datetime, str, str] | None = None
    if cursor is not None:
        at, after = decode_cursor(cursor)
    at = at or datetime.now(UTC)
    args = _args(f, at)
    rank = _STATE_RANK[f.state] if f.state is not None else None
    key: list[Any] = list(after) if after is not None else [None, None, None, None]
    rows = await conn.fetch(_LIST, *args, rank, *key, limit + 1)
    items = [_row(r) for r in rows[:limit]]
    more = len(rows) > limit
    counts = await count_states(conn, f, at) if with_counts else {}
    return EntityPage(items, encode_cursor(at, items[-1]) if more else None, at, counts)


async def count_states(
    conn: asyncpg.Connection, f: EntityFilter, at: datetime | None = None
) -> dict[str, int]:
    """How many entities match ``f`` (its state aside) in each state, and in all."""
    at = at or datetime.now(UTC)
    rows = await conn.fetch(_COUNT, *_args(f, at))
    counts = dict.fromkeys(STATES, 0)
    for r in rows:
        counts[STATES[r["rank"]]] = int(r["n"])
    return counts | {"total": sum(counts.values())}


async def down_at(
    conn: asyncpg.Connection,
    kpi: Kpi,
    area: str,
    at: datetime,
    *,
    limit: int = 20,
    lookback: timedelta = LOOKBACK,
) -> tuple[list[Entity], int]:
    """The entities a KPI on their availability counts that were down at ``at`` in ``area``.

    Read from the event store, not from ``entity_status``: the state *at* ``at``, so an alert
    evaluated late (after a backfill, a replay, an evaluator that was away) names the points
    that were down when it fired, not those down now. Generic over feeds: an event reports an
    entity of the KPI's kind when it added the KPI's denominator metric
    (``network.special_network.samples``), and says it was up when it added the numerator
    (``network.special_network.up``). An entity is down at ``at`` when its latest report in
    (``at - lookback``, ``at``] says so; its ``since`` is its first down report after its last
    up report in that period (the start of the period at the latest: a lower bound).

    Returns:
        The down entities, longest down first, at most ``limit``; and how many in all. Empty
        for a KPI that is not the availability of entities (:func:`entity_kind_of`).
    """
    found = entity_kind_of(kpi)
    if found is None:
        return [], 0
    feed, kind = found
    rows = await conn.fetch(
        _DOWN_AT,
        feed,
        kpi.denominator,
        kpi.numerator,
        area,
        local_date(at),
        at - lookback,
        at,
    )
    items = [
        Entity(
            feed=feed,
            entity=r["entity"],
            kind=kind,
            area=r["area"],
            up=False,
            since=r["since"],
            last_seen=r["last_seen"],
            state="down",
        )
        for r in rows
    ]
    return items[:limit], len(items)


def _area(areas: AreaRegistry, code: str, day: date) -> Any:
    versions = areas.versions(code)
    for version in versions:
        if version.valid_on(day):
            return version
    return versions[-1] if versions else None


def area_name(areas: AreaRegistry, code: str, day: date) -> str:
    """The Vietnamese name of an area on ``day`` (its latest name if not valid then)."""
    found = _area(areas, code, day)
    return found.name_vi if found is not None else code
