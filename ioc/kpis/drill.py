"""Drill-through: the stored events behind a KPI's numerator or denominator.

A KPI value is ``sum(numerator metric) / sum(denominator metric)`` over a span and an area
(:mod:`ioc.kpis.values`). Every event the stream workers stored (the ``events`` table,
migration 0008) lists the window metrics it added, so the events behind one side of a value
are those that:

- added the side's metric (``metrics @> ARRAY[metric]``);
- happened in the span: ``[bucket, bucket + width)`` of a ``1m``/``1h``/``1d`` bucket, or any
  ``[start, end)``;
- belong to the area itself, or to an area under it on the local day (UTC+7) they happened
  (``area_ancestors`` with its validity dates) — the same placement :func:`ioc.kpis.values.compute`
  uses, so a district's list holds exactly the events its figure adds up, and a commune code
  reused after the 2025 reform lists under its old district only before 1/7/2025.

Pages are keyset pages on ``(occurred_at, event_id)``: a page never repeats or skips an
event, however many are stored meanwhile before the cursor. The API
(``GET /api/v1/kpis/{kpi}/events``), the board and ``ioc kpis events`` all read through
:func:`events_behind`; :func:`write_csv` / :func:`csv_lines` give the Vietnamese CSV export.

Example::

    page = await events_behind(conn, kpi, "numerator", "323", start, end, limit=100)
    for event in page.items: ...
    more = await events_behind(conn, kpi, "numerator", "323", start, end, after=page.next_cursor)
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, TextIO, get_args

import asyncpg

from ioc.kpis import Kpi
from ioc.localtime import DAY_ORIGIN, local_day_sql, to_local

__all__ = [
    "CSV_COLUMNS",
    "CSV_MAX_ROWS",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Cursor",
    "DrillError",
    "Event",
    "Page",
    "Part",
    "Resolution",
    "bucket_span",
    "count_events",
    "csv_lines",
    "events_behind",
    "iter_events",
    "metric_of",
    "write_csv",
]

Part = Literal["numerator", "denominator"]
Resolution = Literal["1m", "1h", "1d"]
DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 1000
CSV_MAX_ROWS: Final = 100_000
"""An export stops here; a wider one is asked for in several ranges (the API says so)."""

_EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST: Final = datetime(2999, 12, 31, tzinfo=UTC)
_WIDTH: Final[dict[str, timedelta]] = {"1h": timedelta(hours=1), "1d": timedelta(days=1)}

CSV_COLUMNS: Final = (
    "Mã sự kiện",
    "Thời điểm (giờ Việt Nam)",
    "Thời điểm (UTC)",
    "Mã địa bàn",
    "Địa bàn",
    "Đối tượng",
    "Loại",
    "Nguồn",
    "Chi tiết",
)
"""The export's header row: one column per field of :class:`Event`, payload as JSON last."""


class DrillError(ValueError):
    """A request that cannot be answered as asked: the message says what to change."""


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last event's time and id (keyset paging)."""

    occurred_at: datetime
    event_id: uuid.UUID

    def encode(self) -> str:
        """An opaque, URL-safe token for the next page."""
        text = f"{self.occurred_at.astimezone(UTC).isoformat()}|{self.event_id}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """The cursor a token stands for.

        Raises:
            DrillError: the token was not made by :meth:`encode`.
        """
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            at, _, event_id = text.partition("|")
            moment = datetime.fromisoformat(at)
            if moment.tzinfo is None:
                raise ValueError("naive time")
            return cls(moment, uuid.UUID(event_id))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise DrillError(
                f"cursor {token[:40]!r} is not one this API gave; pass next_cursor from the "
                "previous page unchanged, or leave it out for the first page"
            ) from None


@dataclass(frozen=True)
class Event:
    """One stored event as a drill-through list shows it."""

    event_id: uuid.UUID
    occurred_at: datetime
    feed: str
    kind: str
    area: str
    area_name_vi: str | None
    entity: str
    source: str
    payload: dict[str, Any]

    def json(self) -> dict[str, Any]:
        """The API's shape (times in UTC, ISO 8601)."""
        return {
            "event_id": str(self.event_id),
            "occurred_at": self.occurred_at.astimezone(UTC).isoformat(),
            "feed": self.feed,
            "kind": self.kind,
            "area": self.area,
            "area_name_vi": self.area_name_vi,
            "entity": self.entity,
            "source": self.source,
            "payload": self.payload,
        }

    def csv_row(self) -> list[str]:
        """The export's row, in :data:`CSV_COLUMNS` order."""
        local = to_local(self.occurred_at)
        return [
            str(self.event_id),
            local.strftime("%Y-%m-%d %H:%M:%S"),
            self.occurred_at.astimezone(UTC).isoformat(),
            self.area,
            self.area_name_vi or "",
            self.entity,
            self.kind,
            self.source,
            json.dumps(self.payload, ensure_ascii=False, sort_keys=True),
        ]


@dataclass(frozen=True)
class Page:
    """One page of events, oldest first, and the cursor of the next (None: this was the last)."""

    items: list[Event]
    next_cursor: Cursor | None


def metric_of(kpi: Kpi, part: Part) -> str:
    """The window metric behind one side of a KPI."""
    if part not in get_args(Part):
        raise DrillError(f"part must be numerator or denominator, not {part!r}")
    return kpi.numerator if part == "numerator" else kpi.denominator


def bucket_span(
    bucket: datetime, resolution: Resolution, window: timedelta
) -> tuple[datetime, datetime]:
    """``[bucket, bucket + width)`` of a KPI value's bucket, checked to be a real bucket start.

    Args:
        bucket: the bucket's start, as ``kpi_values`` and ``/series`` give it (aware).
        resolution: ``1m`` (the stream windows, ``window`` wide, aligned on the epoch), ``1h``
            (on the hour) or ``1d`` (local days, from midnight in Asia/Ho_Chi_Minh).
        window: the stream windows' width (``IOC_STREAMS__WINDOW_SECONDS``).

    Raises:
        DrillError: unknown resolution, naive time, or a time that starts no bucket.
    """
    if bucket.tzinfo is None:
        raise DrillError(f"bucket {bucket.isoformat()} needs a UTC offset (e.g. Z or +07:00)")
    _plausible(bucket, "bucket")
    if resolution == "1m":
        width = window
    elif resolution in _WIDTH:
        width = _WIDTH[resolution]
    else:
        raise DrillError(f"resolution must be 1m, 1h or 1d, not {resolution!r}")
    # Buckets are aligned on local midnight of 2000-01-01 (as the roll-ups' date_bin origin);
    # whole minutes and hours fall on the same instants from the epoch.
    offset = (bucket - DAY_ORIGIN) % width
    if offset:
        start = bucket - offset
        raise DrillError(
            f"{bucket.isoformat()} does not start a {resolution} bucket; the bucket holding it "
            f"starts at {start.astimezone(UTC).isoformat()}"
        )
    start = bucket.astimezone(UTC)
    return start, start + width


# `links`: every (area, validity) placing an area under the asked one, plus the area itself at
# any date (as kpi_values.compute places window sums), found once per query. The first
# condition keeps the (area, occurred_at) index usable; the EXISTS, with no OR around it, is
# planned as a hash semi-join that checks each link's validity on the event's local day.
_DAY = local_day_sql("e.occurred_at")
_WHERE = f"""
WITH links AS MATERIALIZED (
    SELECT area, valid_from, valid_to FROM area_ancestors WHERE ancestor = $1 AND depth > 0
    UNION ALL
    SELECT $1::text, '-infinity'::date, 'infinity'::date
)
SELECT {{columns}}
FROM events e
WHERE e.area = ANY(ARRAY(SELECT DISTINCT area FROM links))
  AND e.occurred_at >= $2 AND e.occurred_at < $3
  AND e.metrics @> ARRAY[$4::text]
  AND EXISTS (
        SELECT 1 FROM links k
        WHERE k.area = e.area
          AND k.valid_from <= {_DAY} AND {_DAY} < k.valid_to)
"""  # noqa: S608 - constants only, no input
_NAME = f"""(
    SELECT n.name_vi FROM areas n WHERE n.code = e.area
    ORDER BY (coalesce(n.valid_from, '-infinity'::date)
                <= {_DAY}
              AND {_DAY}
                < coalesce(n.valid_to, 'infinity'::date)) DESC,
             n.valid_from DESC NULLS LAST
    LIMIT 1)"""  # noqa: S608 - constants only, no input
_PAGE = (
    _WHERE.format(
        columns="e.event_id, e.occurred_at, e.feed, e.kind, e.area, e.entity, e.source, "
        f"e.payload::text AS payload, {_NAME} AS area_name_vi"
    )
    + """  AND ($5::timestamptz IS NULL
       OR (e.occurred_at, e.event_id) > ($5::timestamptz, $6::uuid))
ORDER BY e.occurred_at, e.event_id
LIMIT $7"""
)
_COUNT = _WHERE.format(columns="count(*)")


def _plausible(at: datetime, name: str) -> None:
    # Far from the years any event can have: refused before arithmetic on it overflows.
    if not _EARLIEST <= at <= _LATEST:
        raise DrillError(f"{name} {at.isoformat()} is outside the years 1970 to 2999")


def _event(r: asyncpg.Record) -> Event:
    return Event(
        event_id=r["event_id"],
        occurred_at=r["occurred_at"],
        feed=r["feed"],
        kind=r["kind"],
        area=r["area"],
        area_name_vi=r["area_name_vi"],
        entity=r["entity"],
        source=r["source"],
        payload=json.loads(r["payload"]),
    )


def _check(start: datetime, end: datetime, limit: int) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise DrillError("from and to need a UTC offset (e.g. 2026-11-23T08:00:00+07:00)")
    _plausible(start, "from")
    _plausible(end, "to")
    if end <= start:
        raise DrillError(f"to ({end.isoformat()}) must be after from ({start.isoformat()})")
    if not 1 <= limit <= MAX_LIMIT:
        raise DrillError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")


async def events_behind(
    conn: asyncpg.Connection,
    kpi: Kpi,
    part: Part,
    area: str,
    start: datetime,
    end: datetime,
    *,
    limit: int = DEFAULT_LIMIT,
    after: Cursor | None = None,
) -> Page:
    """One page of the events behind ``part`` of ``kpi`` in ``area`` over ``[start, end)``.

    Args:
        conn: a connection to a migrated database.
        kpi: the KPI (from the catalogue).
        part: ``numerator`` or ``denominator``.
        area: the area code; its own events and those of every area under it count.
        start: first instant (aware), included.
        end: last instant (aware), excluded.
        limit: page size, 1 to :data:`MAX_LIMIT`.
        after: the previous page's ``next_cursor``; None for the first page.

    Raises:
        DrillError: a bad part, range or limit.
    """
    metric = metric_of(kpi, part)
    _check(start, end, limit)
    rows = await conn.fetch(
        _PAGE,
        area,
        start,
        end,
        metric,
        after.occurred_at if after else None,
        after.event_id if after else None,
        limit + 1,  # one more tells whether a next page exists
    )
    items = [_event(r) for r in rows[:limit]]
    more = len(rows) > limit
    last = items[-1] if more else None
    return Page(items, Cursor(last.occurred_at, last.event_id) if last else None)


async def count_events(
    conn: asyncpg.Connection, kpi: Kpi, part: Part, area: str, start: datetime, end: datetime
) -> int:
    """How many events :func:`events_behind` pages through for these arguments."""
    metric = metric_of(kpi, part)
    _check(start, end, 1)
    total: int = await conn.fetchval(_COUNT, area, start, end, metric)
    return total


async def iter_events(
    conn: asyncpg.Connection,
    kpi: Kpi,
    part: Part,
    area: str,
    start: datetime,
    end: datetime,
    *,
    most: int = CSV_MAX_ROWS,
) -> AsyncIterator[Event]:
    """Every event behind ``part`` (at most ``most``), oldest first, in one read.

    One query through a server-side cursor (the connection holds a transaction until the
    last row): the list is found and sorted once, where pages would each find it again.
    """
    metric = metric_of(kpi, part)
    _check(start, end, 1)
    async with conn.transaction():
        rows = conn.cursor(_PAGE, area, start, end, metric, None, None, most, prefetch=MAX_LIMIT)
        async for row in rows:
            yield _event(row)


def csv_lines(events: Iterable[Event], *, header: bool = True) -> Iterable[str]:
    """CSV text, line by line: the BOM and Vietnamese header first, then one row per event.

    The UTF-8 byte order mark is how Excel knows the file is UTF-8 and shows the diacritics;
    rows end in CRLF as RFC 4180 (and Excel) expect.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(CSV_COLUMNS)
        yield "\ufeff" + _take(buffer)
    for event in events:
        writer.writerow(event.csv_row())
        yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def write_csv(out: TextIO, events: Iterable[Event]) -> int:
    """Write the export to a text file opened with ``newline=""``; returns the rows written."""
    rows = -1
    for line in csv_lines(events):
        out.write(line)
        rows += 1
    return rows
