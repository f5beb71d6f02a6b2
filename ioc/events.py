"""The event envelope, and the payload classes of every declared feed.

Every record on an `ioc.events.<feed>` topic is one `Envelope`. The envelope carries event
time (`occurred_at`, which windows use) separately from `published_at`; the payload is a
discriminated union on `kind`, whose first dotted part is the feed. The payload classes are
made from the feed declarations (`ioc.feeds`, ``ioc/data/feeds/*.yaml``) when this module is
first imported, and are importable from it by their declared names (``CameraHeartbeat``,
``PaymentChannel``, a plugin's classes too). Encoding lives in `ioc.codec` and nowhere else.

Example:
    >>> from datetime import UTC, datetime
    >>> from ioc.events import CameraHeartbeat, Envelope
    >>> env = Envelope.create(
    ...     source="camera-sim", area="11950", key="cam-001",
    ...     occurred_at=datetime(2025, 1, 6, 8, 0, tzinfo=UTC),
    ...     payload=CameraHeartbeat(camera_id="cam-001", online=True),
    ... )
    >>> env.event_type, env.feed
    ('camera.heartbeat', 'camera')
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from ioc.feeds import EventPayload, feeds

__all__ = [
    "FEEDS",
    "SCHEMA_VERSION",
    "Envelope",
    "EventPayload",
    "Payload",
    "payload_classes",
    "utc_now",
]

SCHEMA_VERSION = 1
FEEDS: tuple[str, ...] = tuple(f.feed for f in feeds())
"""Every declared feed's name, in the declarations' order."""

# The declared names: payload classes and enums, e.g. CameraHeartbeat, PaymentChannel.
_DECLARED: dict[str, Any] = {
    name: cls
    for f in feeds()
    for name, cls in [*f.enums.items(), *((e.model.__name__, e.model) for e in f.events.values())]
}
globals().update(_DECLARED)


def payload_classes() -> tuple[type[EventPayload], ...]:
    """Every declared payload class, in the feeds' order."""
    return tuple(e.model for f in feeds() for e in f.events.values())


def __getattr__(name: str) -> Any:
    # Declared names are set above; this says so to type checkers and names the missing one.
    try:
        return _DECLARED[name]
    except KeyError:
        raise AttributeError(f"module 'ioc.events' has no attribute {name!r}") from None


def utc_now() -> datetime:
    """The current time, aware and in UTC (the only way the project stores time)."""
    return datetime.now(UTC)


if TYPE_CHECKING:
    Payload = EventPayload
else:
    Payload = Annotated[Union[payload_classes()], Field(discriminator="kind")]  # noqa: UP007


class Envelope(BaseModel):
    """One event as it travels through Kafka. Frozen: nothing downstream edits an event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID = Field(
        description="unique per event; a repeat (same id and event time) is counted once"
    )
    # Optional on input: an envelope without one takes its payload's kind (see below).
    event_type: str = Field(
        default="", max_length=64, pattern=r"^[a-z]+(\.[a-z_]+)+$", description="= payload.kind"
    )
    schema_version: int = Field(default=SCHEMA_VERSION, ge=1, le=SCHEMA_VERSION)
    source: str = Field(min_length=1, max_length=64, description="connector name")
    occurred_at: AwareDatetime = Field(description="event time; windows use this")
    published_at: AwareDatetime
    key: str = Field(min_length=1, max_length=256, description="Kafka partition key")
    area: str = Field(min_length=1, max_length=32, description="area code from the areas file")
    payload: Payload

    # One "after" validator does all the Python-level work, because every Python validator
    # costs a call out of pydantic-core per event, and a "before" validator makes pydantic
    # build a dict from the JSON first: together they were 40% of decoding (bench/README.md).
    @model_validator(mode="after")
    def _type_and_utc(self) -> Envelope:
        kind = self.payload.kind
        fields = self.__dict__  # frozen: set the normalised values the way pydantic does
        if not self.event_type:
            fields["event_type"] = kind
        elif self.event_type != kind:
            raise ValueError(f"event_type {self.event_type!r} does not match payload kind {kind!r}")
        for name in ("occurred_at", "published_at"):
            value = fields[name]
            if value.tzinfo is not UTC:
                # "0001-01-01T00:00+07:00" has no UTC instant a datetime can hold: a bad
                # record (ValidationError), not an OverflowError that stops a worker.
                try:
                    fields[name] = value.astimezone(UTC)
                except OverflowError:
                    raise ValueError(f"{name} {value.isoformat()} is out of range in UTC") from None
        return self

    @property
    def feed(self) -> str:
        """The feed this event belongs to (camera, dvc, payment, network, or any declared feed)."""
        return self.event_type.split(".", 1)[0]

    @classmethod
    def create(
        cls,
        *,
        source: str,
        area: str,
        payload: Any,
        occurred_at: datetime,
        key: str | None = None,
        event_id: uuid.UUID | None = None,
        published_at: datetime | None = None,
    ) -> Envelope:
        """Build an envelope with a fresh event id; the key defaults to the area code."""
        return cls(
            event_id=event_id or uuid.uuid4(),
            event_type=payload.kind,
            source=source,
            occurred_at=occurred_at,
            published_at=published_at or utc_now(),
            key=key or area,
            area=area,
            payload=payload,
        )
