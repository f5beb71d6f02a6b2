"""The connector contract: one class with one async generator, `events()`.

The runner (`ioc.connectors.runner`) owns everything else: the Kafka producer, batching,
retries, spooling while the broker is away, back-pressure and shutdown. A connector only says
what happened, as `Envelope`s, and what it could not understand, as `Rejected` records (which
the runner sends to the dead-letter topic with the reason).

Example (a complete feed; register it with one line in your package's pyproject.toml:
`[project.entry-points."ioc.connectors"]` / `hello = "my_pkg:HelloConnector"`):

    >>> import asyncio
    >>> from datetime import timedelta
    >>> from ioc.events import Envelope, PaymentTransaction
    >>> class HelloConnector(Connector):
    ...     '''One 10,000 đồng QR payment per second.'''
    ...     feed = "payment"
    ...     async def events(self):
    ...         n = 0
    ...         while not self.context.clock.finished:
    ...             n += 1
    ...             yield Envelope.create(
    ...                 source=self.context.name, area="33", occurred_at=self.context.clock.now(),
    ...                 payload=PaymentTransaction(transaction_id=f"hello-{n}",
    ...                     amount_vnd=10_000, channel="qr", sector="retail", success=True))
    ...             await self.context.clock.sleep(timedelta(seconds=1))

    Backfilled over three seconds of event time, it says three payments happened:

    >>> from datetime import UTC, datetime
    >>> from ioc.areas import load_areas
    >>> from ioc.config import load_settings
    >>> settings = load_settings()
    >>> start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    >>> hello = HelloConnector(ConnectorContext(
    ...     name="hello", settings=settings, areas=load_areas(settings.areas_file),
    ...     clock=VirtualClock(start, start + timedelta(seconds=3))))
    >>> async def payments():
    ...     return [e.payload.transaction_id async for e in hello.events()]
    >>> asyncio.run(payments())
    ['hello-1', 'hello-2', 'hello-3']
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ioc.events import FEEDS, Envelope, utc_now

if TYPE_CHECKING:
    from ioc.areas import AreaRegistry
    from ioc.config import Settings
    from ioc.connectors.scenarios import Scenario

__all__ = [
    "RECORD_LIMIT",
    "Clock",
    "Connector",
    "ConnectorContext",
    "ConnectorError",
    "Item",
    "Rejected",
    "VirtualClock",
    "WallClock",
    "too_large",
]


class ConnectorError(Exception):
    """A connector cannot run as configured (bad option, missing file, broken mapping)."""


@dataclass(frozen=True)
class Rejected:
    """An input that could not become an envelope. It goes to `ioc.dlq`, never dropped.

    Attributes:
        original: the input exactly as received (a JSON line, an HTTP body part).
        reason: a short code to group by, e.g. `not_json`, `mapping`, `invalid`, `unknown_area`.
        detail: exactly what was wrong, for the engineer who reads the DLQ.
        location: where the input came from, e.g. `/data/dvc.jsonl:1042` or `http:<request id>`.
    """

    original: bytes
    reason: str
    detail: str
    location: str | None = None


Item = Envelope | Rejected

# Bytes of one input record (a JSON line, an element of an HTTP body). Any event fits in a
# few KiB (envelope fields are bounded), so a larger record is rejected as `too_large` before
# it is parsed; its dead letter keeps the first ioc.dlq.ORIGINAL_LIMIT bytes.
RECORD_LIMIT = 256 * 1024


def too_large(raw: bytes, location: str | None, *, size: int | None = None) -> Rejected:
    """The rejection of an input record over `RECORD_LIMIT` bytes (`size`, if `raw` is cut)."""
    size = len(raw) if size is None else size
    return Rejected(raw, "too_large", f"the record is {size} bytes, over {RECORD_LIMIT}", location)


class Clock(ABC):
    """Event time for a connector: the wall clock when live, a fast-forward one for backfill.

    A connector that paces itself with `clock.sleep()` and stamps events with `clock.now()`
    runs live and as a backfill without a single line of difference.
    """

    @abstractmethod
    def now(self) -> datetime:
        """The current event time (aware, UTC)."""

    @abstractmethod
    async def sleep_until(self, when: datetime) -> None:
        """Wait until event time `when` (returns at once in a backfill)."""

    async def sleep(self, delay: timedelta) -> None:
        """Wait `delay` of event time."""
        await self.sleep_until(self.now() + delay)

    def ahead(self, when: datetime) -> bool:
        """True when `sleep_until(when)` would wait in real time (`when` is still to come)."""
        return False

    @property
    def end(self) -> datetime | None:
        """Where a backfill stops (exclusive); None when live."""
        return None

    @property
    def finished(self) -> bool:
        """True once a backfill has reached its end; never true when live."""
        return self.end is not None and self.now() >= self.end


class WallClock(Clock):
    """Real time, optionally catching up from a moment in the past first.

    With `start` in the past, event time begins there and sleeping returns at once until it
    reaches the wall clock (history is generated at full speed), then it is real time: so
    `ioc up` can fill the boards with the last day and go on live, with one connector loop.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._behind: datetime | None = start

    def now(self) -> datetime:  # noqa: D102 - documented on Clock
        real = utc_now()
        if self._behind is not None and self._behind < real:
            return self._behind
        self._behind = None
        return real

    async def sleep_until(self, when: datetime) -> None:  # noqa: D102
        delay = (when - utc_now()).total_seconds()
        if self._behind is not None:
            self._behind = max(self._behind, when)
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            await asyncio.sleep(0)  # catching up: let the runner send

    def ahead(self, when: datetime) -> bool:  # noqa: D102
        return when > utc_now()


class VirtualClock(Clock):
    """Fast-forward time from `start` to `end` for backfills: sleeping just moves the hands.

    It still yields to the event loop on every sleep so the runner can send while the
    connector generates.
    """

    def __init__(self, start: datetime, end: datetime) -> None:
        if end <= start:
            raise ValueError(f"backfill end {end.isoformat()} is not after {start.isoformat()}")
        self.start = start
        self._end = end
        self._now = start

    def now(self) -> datetime:  # noqa: D102 - documented on Clock
        return self._now

    async def sleep_until(self, when: datetime) -> None:  # noqa: D102
        self._now = max(self._now, min(when, self._end))
        await asyncio.sleep(0)

    @property
    def end(self) -> datetime:  # noqa: D102
        return self._end


@dataclass(frozen=True)
class ConnectorContext:
    """What a connector is given by whoever runs it (the CLI, `ioc up`, a test).

    Attributes:
        name: the registered name; use it as the envelope `source`.
        settings: the project settings.
        areas: the area registry (codes, names, populations and households for weights).
        clock: event time; see `Clock`.
        seed: makes simulated feeds reproducible.
        rate: volume multiplier for simulated feeds (1.0 = one province).
        scenario: incidents to inject (simulated feeds), or None.
        options: connector-specific `key=value` options (`ioc connectors run NAME -o k=v`).
    """

    name: str
    settings: Settings
    areas: AreaRegistry
    clock: Clock = field(default_factory=WallClock)
    seed: int = 0
    rate: float = 1.0
    scenario: Scenario | None = None
    options: Mapping[str, str] = field(default_factory=dict)

    def option(self, key: str, default: str | None = None) -> str:
        """An option's value; a missing required option raises a `ConnectorError` naming it."""
        if key in self.options:
            return self.options[key]
        if default is None:
            raise ConnectorError(
                f"connector {self.name!r} needs the option {key!r}: pass -o {key}=VALUE"
            )
        return default


class Connector(ABC):
    """A source of events for one feed. Subclasses implement `events()` and set `feed`.

    Class attributes:
        feed: the feed of its events (camera, dvc, payment, network), or None for a generic
            connector whose events' feed is configured (ingest mappings). The runner routes
            each envelope by its own event type either way.
        options_help: option name → what it does, shown by `ioc connectors describe`.
        waits_for_input: True when events only come from outside (an HTTP endpoint), so a
            run may yield nothing by itself.

    The first line of the class docstring is the description `ioc connectors list` shows.
    """

    feed: ClassVar[str | None]
    options_help: ClassVar[Mapping[str, str]] = {}
    waits_for_input: ClassVar[bool] = False  # fed from outside (HTTP): may yield nothing alone

    def __init__(self, context: ConnectorContext) -> None:
        self.context = context

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        feed = cls.__dict__.get("feed")
        if feed is not None and feed not in FEEDS:
            raise TypeError(f"{cls.__qualname__}.feed = {feed!r}: must be one of {FEEDS}")

    @abstractmethod
    def events(self) -> AsyncIterator[Item]:
        """Yield envelopes (and `Rejected` inputs) until the source ends or the clock finishes.

        Yielding is back-pressure: the runner only asks for the next item once it has room
        for it, so a connector never needs its own buffer.
        """

    async def commit(self) -> None:
        """Save the source position: everything yielded so far is durable.

        The runner calls this once every item yielded so far is in Kafka or the spool, while
        `events()` is suspended (at a yield, or waiting for input), and possibly once more
        after `aclose()`. Read the position before any await. A connector that reads a file
        saves its position here. Default: nothing.
        """

    def request_stop(self) -> bool:
        """The runner is stopping. Return True to drain first, False to be interrupted.

        A connector holding input it has already accepted but not yet yielded (an HTTP
        endpoint that answered 202) stops accepting more here, returns True, and lets
        `events()` end once the rest is yielded. By default (False) the runner interrupts
        the connector's wait for its source; nothing it yielded is lost either way.
        """
        return False

    async def aclose(self) -> None:
        """Release resources (files, servers). Called once, after the last item."""

    @classmethod
    def example_options(cls, workdir: Path) -> Mapping[str, str]:
        """Options for a short demonstration run; the contract test runs every connector so.

        Args:
            workdir: an empty directory the connector may write example input into.
        """
        return {}

    @classmethod
    def description(cls) -> str:
        """The first line of the class docstring."""
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""
