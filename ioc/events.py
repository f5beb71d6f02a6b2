"""The event envelope and the payload schemas of the four feeds.

Every record on an `ioc.events.<feed>` topic is one `Envelope`. The envelope carries event
time (`occurred_at`, which windows use) separately from `published_at`; the payload is a
discriminated union on `kind`, whose first dotted part is the feed. Encoding lives in
`ioc.codec` and nowhere else.

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
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "FEEDS",
    "SCHEMA_VERSION",
    "CameraDetection",
    "CameraHeartbeat",
    "DetectionKind",
    "DossierChannel",
    "DossierEvent",
    "DossierStage",
    "DvcService",
    "Envelope",
    "NetworkPointKind",
    "NetworkSample",
    "NetworkSubscriptions",
    "Payload",
    "PaymentChannel",
    "PaymentSector",
    "PaymentTransaction",
    "SatisfactionRating",
    "ServiceLevel",
    "utc_now",
]

SCHEMA_VERSION = 1
FEEDS = ("camera", "dvc", "payment", "network")


def utc_now() -> datetime:
    """The current time, aware and in UTC (the only way the project stores time)."""
    return datetime.now(UTC)


class _Payload(BaseModel):
    # Unknown fields are rejected: a typo in a connector must reach the DLQ, not vanish.
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


# Every text field has a bound, so that an event stays a few KiB, far below the broker's
# record limit (ioc.kafka.RECORD_MAX_BYTES): one huge field must be a bad record, not a stuck feed.
Identifier = Annotated[str, Field(min_length=1, max_length=128)]
FreeText = Annotated[str, Field(max_length=500)]
Ratio = Annotated[float, Field(ge=0.0, le=1.0)]


# --- camera -------------------------------------------------------------------------------
class CameraHeartbeat(_Payload):
    """A camera reports whether it is online (sent every interval, and on every change)."""

    kind: Literal["camera.heartbeat"] = "camera.heartbeat"
    camera_id: Identifier
    online: bool
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class DetectionKind(StrEnum):
    """What a smart camera's analytics detected."""

    VEHICLE_COUNT = "vehicle_count"
    CONGESTION = "congestion"
    VIOLATION = "violation"
    CROWDING = "crowding"
    FIRE_SMOKE = "fire_smoke"


class CameraDetection(_Payload):
    """An AI detection over one interval: a count, and for incidents a confidence."""

    kind: Literal["camera.detection"] = "camera.detection"
    camera_id: Identifier
    detection: DetectionKind
    count: int = Field(ge=0, description="vehicles, violations or people in the interval")
    interval_seconds: int = Field(default=60, gt=0, le=3600)
    confidence: Ratio = 1.0
    violation_type: str | None = Field(
        default=None, max_length=128, description="e.g. red_light, wrong_lane"
    )


# --- dvc (online public services) -----------------------------------------------------------
class DossierStage(StrEnum):
    """Where a dossier (hồ sơ) is in its life."""

    RECEIVED = "received"
    PROCESSING = "processing"
    RESOLVED = "resolved"
    RETURNED = "returned"  # sent back to the citizen for completion or refused


class DossierChannel(StrEnum):
    """How a dossier was submitted."""

    ONLINE = "online"
    DESK = "desk"  # the one-stop desk (bộ phận một cửa)
    POST = "post"


class ServiceLevel(StrEnum):
    """Online service level of a procedure (formerly level 3 / level 4)."""

    PARTIAL = "partial"  # một phần
    FULL = "full"  # toàn trình
    NONE = "none"  # not offered online


class DossierEvent(_Payload):
    """A transition of one dossier of an administrative procedure (TTHC)."""

    kind: Literal["dvc.dossier"] = "dvc.dossier"
    dossier_id: Identifier
    stage: DossierStage
    procedure_code: Identifier
    procedure_name: str = Field(min_length=1, max_length=300)
    agency_code: Identifier
    channel: DossierChannel
    service_level: ServiceLevel
    fee_bearing: bool = False
    fee_paid_online: bool | None = Field(default=None, description="set once the fee is paid")
    due_at: AwareDatetime | None = None
    on_time: bool | None = Field(default=None, description="required when stage is resolved")

    @model_validator(mode="after")
    def _resolved_says_on_time(self) -> DossierEvent:
        if self.stage is DossierStage.RESOLVED and self.on_time is None:
            raise ValueError("a resolved dossier must say on_time true or false")
        if self.fee_paid_online is not None and not self.fee_bearing:
            raise ValueError("fee_paid_online is only meaningful when fee_bearing is true")
        return self


class SatisfactionRating(_Payload):
    """A citizen's rating of a resolved dossier."""

    kind: Literal["dvc.rating"] = "dvc.rating"
    dossier_id: Identifier
    agency_code: Identifier
    score: int = Field(ge=1, le=5)
    satisfied: bool


class DvcService(_Payload):
    """The catalogue state of one procedure offered by an agency (sent daily and on change)."""

    kind: Literal["dvc.service"] = "dvc.service"
    procedure_code: Identifier
    procedure_name: str = Field(min_length=1, max_length=300)
    agency_code: Identifier
    service_level: ServiceLevel
    eligible_full: bool = Field(description="the procedure may legally be offered toàn trình")
    fee_bearing: bool = False
    online_payment: bool = False


# --- payment ------------------------------------------------------------------------------
class PaymentChannel(StrEnum):
    """How a payment was made; everything but cash counts as cashless."""

    NATIONAL_PORTAL = "national_portal"  # Cổng DVC quốc gia payment platform
    QR = "qr"
    E_WALLET = "e_wallet"
    CARD = "card"
    BANK_TRANSFER = "bank_transfer"
    CASH = "cash"


class PaymentSector(StrEnum):
    """Who was paid."""

    PUBLIC_SERVICE = "public_service"
    SCHOOL = "school"
    HOSPITAL = "hospital"
    UTILITY = "utility"
    RETAIL = "retail"
    TRANSPORT = "transport"
    OTHER = "other"


class PaymentTransaction(_Payload):
    """One payment attempt, successful or not."""

    kind: Literal["payment.transaction"] = "payment.transaction"
    transaction_id: Identifier
    amount_vnd: int = Field(gt=0, le=100_000_000_000, description="whole đồng")
    channel: PaymentChannel
    sector: PaymentSector
    success: bool
    failure_reason: FreeText | None = None
    dossier_id: str | None = Field(
        default=None, max_length=128, description="the DVC fee this pays, if any"
    )
    merchant_id: str | None = Field(default=None, max_length=128)

    @property
    def cashless(self) -> bool:
        """True for every channel but cash at the counter."""
        return self.channel is not PaymentChannel.CASH


# --- network ------------------------------------------------------------------------------
class NetworkPointKind(StrEnum):
    """What kind of point a network sample describes."""

    SPECIAL_NETWORK = "special_network"  # mạng truyền số liệu chuyên dùng
    AGENCY_LAN = "agency_lan"
    BROADBAND = "broadband"
    CELL_SITE = "cell_site"


class NetworkSample(_Payload):
    """A periodic sample of one connection point or cell site."""

    kind: Literal["network.sample"] = "network.sample"
    point_id: Identifier
    point_kind: NetworkPointKind
    up: bool
    technology: Literal["fiber", "4g", "5g", "other"] | None = None
    latency_ms: float | None = Field(default=None, ge=0)
    packet_loss: Ratio | None = None
    throughput_mbps: float | None = Field(default=None, ge=0)
    interval_seconds: int = Field(default=30, gt=0, le=3600)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class NetworkSubscriptions(_Payload):
    """Subscription counters of an area, as reported by operators (usually daily)."""

    kind: Literal["network.subscriptions"] = "network.subscriptions"
    households: int = Field(ge=0)
    fixed_broadband_households: int = Field(ge=0)
    fibre_households: int = Field(ge=0)
    population: int = Field(ge=0)
    population_covered_4g: int = Field(ge=0)
    population_covered_5g: int = Field(ge=0)

    @model_validator(mode="after")
    def _parts_within_totals(self) -> NetworkSubscriptions:
        if max(self.fixed_broadband_households, self.fibre_households) > self.households:
            raise ValueError("broadband or fibre households exceed households")
        if max(self.population_covered_4g, self.population_covered_5g) > self.population:
            raise ValueError("covered population exceeds population")
        return self


Payload = Annotated[
    CameraHeartbeat
    | CameraDetection
    | DossierEvent
    | SatisfactionRating
    | DvcService
    | PaymentTransaction
    | NetworkSample
    | NetworkSubscriptions,
    Field(discriminator="kind"),
]


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
        """The feed this event belongs to: camera, dvc, payment or network."""
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
