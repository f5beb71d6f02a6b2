"""The API's response bodies as pydantic models: what ``/openapi.json`` and the board's types say.

The queries (:mod:`ioc.api.queries`) build plain dicts; each route declares the model of its
answer (``response_model=``), so FastAPI checks the dict against it and the OpenAPI document
has a schema for every 2xx answer. Times stay strings (``format: date-time``): the dicts hold
them already written as the API writes them (UTC ISO 8601), and a model must not rewrite them.
Models allow fields they do not name, so a query that adds a field changes no body; name it
here so clients see it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ioc.kpis.catalogue import Reported
from ioc.kpis.forecast import ForecastStatus
from ioc.kpis.scorecard import By

__all__ = [
    "STREAM_EVENTS",
    "Alert",
    "AlertEvent",
    "AlertHistoryPage",
    "AlertPage",
    "Area",
    "AreaList",
    "AuditPage",
    "Basemap",
    "ConnectorHealth",
    "DeadLetterPage",
    "DrillPage",
    "EntitiesPage",
    "Feeds",
    "Forecast",
    "Health",
    "IndicatorEntry",
    "IndicatorHistory",
    "IndicatorList",
    "IndicatorUpload",
    "KpiCatalogue",
    "KpiSeries",
    "KpisCurrent",
    "MapResponse",
    "Me",
    "PeriodValues",
    "Problem",
    "Ready",
    "ReplayResult",
    "ScoreComponent",
    "ScoreFigure",
    "ScoreGroup",
    "ScoreUnit",
    "Scorecard",
    "Silence",
    "SilenceList",
    "StreamEnd",
    "WindowPage",
]

DateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Date = Annotated[str, Field(json_schema_extra={"format": "date"})]
Level = Literal["province", "district", "commune"]
Bounds = tuple[float, float, float, float]
Permission = Literal["read", "ack", "silence", "dlq", "metrics", "audit", "keys", "report"]


def _open(schema: dict[str, Any]) -> None:
    # JSON Schema allows unnamed fields anyway; spelled out, generated clients would type
    # every object as a map of unknowns.
    schema.pop("additionalProperties", None)


class _Body(BaseModel):
    """Every response model: names what it knows, lets through what it does not."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_open)


class Problem(_Body):
    """An error, RFC 9457 (``application/problem+json``); ``type`` opens a page that explains it."""

    type: str = Field(
        description="names the problem: /problems/<slug>, a page that explains it",
        json_schema_extra={"format": "uri-reference"},
    )
    title: str
    status: int
    detail: str
    errors: list[InvalidField] | None = Field(
        default=None, description="for 422 invalid-request: each field refused and why"
    )


class InvalidField(_Body):
    """One field of a request that failed validation."""

    loc: list[str]
    msg: str


class Health(_Body):
    """``/healthz``: the process answers; ``degraded`` names notifier problems on this machine."""

    status: Literal["ok", "degraded"]
    notifier: dict[str, str] | None = Field(
        default=None, description="each notifier that cannot deliver, and why"
    )


class Ready(_Body):
    """``/readyz``: the database answers."""

    status: Literal["ready"]


class Area(_Body):
    """An area (province, district or commune) as valid today."""

    code: str
    name_vi: str
    name_en: str | None
    level: Level
    parent: str | None
    population: int | None
    households: int | None
    estimated: bool = Field(description="population and households are estimates")
    lat: float | None = Field(description="a point inside the area (WGS 84); null: none known")
    lon: float | None
    bounds: Bounds | None = Field(description="[west, south, east, north] in degrees")


class AreaList(_Body):
    """The areas valid today within the key's scope."""

    items: list[Area]


class MapChild(Area):
    """A child area on the board's map, with its status."""

    status: Literal["ok", "warning", "critical", "no_data"]
    firing: int
    below_target: int
    events_last_hour: int
    has_children: bool


class Basemap(_Body):
    """Tiles a site serves for the map's background (``IOC_API__BASEMAP_URL``)."""

    url: str = Field(description="with {z}, {x} and {y}")
    attribution: str | None


class MapResponse(_Body):
    """An area's children today, coloured by status."""

    area: Area
    children: list[MapChild]
    basemap: Basemap | None


class Me(_Body):
    """The calling key."""

    name: str
    role: str
    area: str | None
    area_name_vi: str | None
    permissions: list[Permission]


class KpiInfo(_Body):
    """One KPI of the catalogue."""

    id: str
    name_vi: str
    name_en: str
    feed: str
    unit: str
    direction: Literal["higher", "lower"]
    target: float | None
    by_level: dict[str, float]
    deadline: Date | None
    source: str | None
    distinct: str | None = Field(description="what a distinct-count KPI counts once")
    slo: bool | None = Field(description="an operational target the province sets")
    reported: list[Reported] = Field(description="results reported for the KPI, never targets")


class KpiCatalogue(_Body):
    """The KPI catalogue."""

    items: list[KpiInfo]


class TrendPoint(_Body):
    """One hour of a KPI's trend."""

    bucket: DateTime
    value: float | None


class Forecast(_Body):
    """When the KPI will meet its target at its recent trend (``ioc kpis show`` says the same)."""

    status: ForecastStatus
    reach_date: Date | None = Field(description="None when no date is honest; the words say why")
    deadline: Date | None
    text_vi: str
    text_en: str
    error_vi: str
    error_en: str
    model: str
    slope_per_day: float | None
    mae: float | None = Field(description="one-day-ahead error on the days used, KPI units")
    days_used: int


class KpiCurrent(_Body):
    """One KPI in one area: the last 24 hours."""

    kpi: str
    name_vi: str
    name_en: str
    unit: str
    direction: Literal["higher", "lower"]
    feed: str
    value: float | None
    target: float | None
    gap: float | None = Field(description="value - target, positive = better than the target")
    meets: bool | None
    trend: list[TrendPoint]
    quality: Literal["ok", "stale", "no_data", "low_volume"]
    last_bucket: DateTime | None
    numerator: float
    denominator: float
    distinct: str | None
    reported: list[Reported]
    forecast: Forecast | None = Field(default=None, description="None: the KPI has no target")


class KpisCurrent(_Body):
    """Every KPI in one area."""

    area: Area
    at: DateTime
    items: list[KpiCurrent]


class SeriesPoint(_Body):
    """One stored bucket of a KPI."""

    bucket: DateTime
    value: float | None
    numerator: float
    denominator: float


class KpiSeries(_Body):
    """One KPI's buckets over [start, end)."""

    kpi: str
    area: str
    resolution: Literal["1m", "1h", "1d"]
    start: DateTime
    end: DateTime
    points: list[SeriesPoint]


class DrillEvent(_Body):
    """One stored event behind a KPI value."""

    event_id: str
    occurred_at: DateTime
    feed: str
    kind: str
    area: str
    area_name_vi: str | None
    entity: str | None
    source: str | None
    payload: Any


class DrillPage(_Body):
    """A page of the events behind a KPI value (keyset: pass ``next_cursor`` as ``cursor``)."""

    kpi: str
    name_vi: str
    name_en: str
    part: Literal["numerator", "denominator"]
    metric: str
    area: str
    area_name_vi: str
    start: DateTime = Field(alias="from")
    end: DateTime = Field(alias="to")
    limit: int
    total: int | None = Field(description="on the first page only")
    items: list[DrillEvent]
    next_cursor: str | None


class PeriodInfo(_Body):
    """An official period in Vietnam's calendar."""

    kind: str
    label: str
    label_vi: str
    first_day: Date
    last_day: Date
    start: DateTime
    end: DateTime


class PeriodItem(_Body):
    """One KPI over the period, against its target."""

    kpi: str
    name_vi: str
    unit: str
    direction: Literal["higher", "lower"]
    distinct: str | None
    numerator: float
    denominator: float
    value: float | None
    target: float | None
    gap: float | None = Field(description="positive = short of the target by that much")
    meets: bool | None
    deadline: Date | None
    source: str | None
    trend: list[dict[str, Any]]
    trend_per_day: float | None
    forecast: dict[str, Any] | None
    worst_children: list[dict[str, Any]]
    agencies: list[dict[str, Any]]


class PeriodValues(_Body):
    """Every KPI over one period in one area."""

    area: Area
    period: PeriodInfo
    as_of: DateTime
    items: list[PeriodItem]


class ConnectorHealth(_Body):
    """A connector behind a feed (province-wide keys only)."""

    name: str
    state: str
    live: bool
    rate: float | None
    sent: int | None
    spooled: int | None
    failed: int | None
    dead_lettered: int | None


class StreamHealth(_Body):
    """The stream workers counting a feed (province-wide keys only)."""

    lag: int | None
    rate: float | None
    counted: int | None
    duplicates: int | None
    dead_lettered: int | None
    late: int | None
    watermark: DateTime | None


class FeedMinute(_Body):
    """Events of one minute."""

    bucket: DateTime
    events: int


class Feed(_Body):
    """One feed's health.

    ``idle``: the connector runs and nothing waits to be counted, the source is just quiet;
    ``quiet``: outside the feed's office hours or on a public holiday (feed_calendar.yaml).
    """

    feed: str = Field(description="the feed's name in its declaration (ioc/data/feeds/*.yaml)")
    name_vi: str = Field(description="what users read")
    name_en: str
    states: bool = Field(description="its events report entities' states (GET /api/v1/entities)")
    state: Literal["ok", "idle", "quiet", "stale", "down"]
    last_window: DateTime | None
    events_last_5m: int
    series: list[FeedMinute]
    connectors: list[ConnectorHealth]
    stream: StreamHealth | None


class Feeds(_Body):
    """Every feed's health."""

    at: DateTime
    items: list[Feed]


class _Page(_Body):
    """Where a page of an offset-paged list sits."""

    limit: int
    offset: int
    total: int
    next_offset: int | None


class WindowRow(_Body):
    """One window (or roll-up) of a metric in an area."""

    window_start: DateTime
    metric: str
    area: str
    count: int
    sum: float
    min: float | None
    max: float | None


class WindowPage(_Page):
    """Window rows, one page."""

    items: list[WindowRow]


class Contributor(_Body):
    """A child area that moved the KPI in the bad direction."""

    area: str
    area_name_vi: str | None
    area_name_en: str | None
    value: float | None
    gap: float
    volume_effect: float
    rate_effect: float


class EntityAtFault(_Body):
    """A point (camera, network site, service) and where it is."""

    feed: str
    entity: str
    kind: str
    area: str
    area_name_vi: str | None
    area_name_en: str | None
    since: DateTime
    last_seen: DateTime


class Alert(_Body):
    """An alert, with names and a one-line summary in both languages, and its causes."""

    id: int
    rule: str
    kpi: str | None
    kpi_name_vi: str | None
    kpi_name_en: str | None
    area: str
    area_name_vi: str | None
    area_name_en: str | None
    severity: Literal["info", "warning", "critical"]
    state: Literal["firing", "acknowledged", "resolved"]
    level: int | str | None
    started_at: DateTime
    fired_at: DateTime | None
    acknowledged_at: DateTime | None
    acknowledged_by: str | None
    resolved_at: DateTime | None
    value: float | None
    target: float | None
    summary_vi: str | None
    summary_en: str | None
    contributors: list[Contributor]
    entities: list[EntityAtFault]
    entities_down: int


class AlertPage(_Page):
    """Alerts, one page."""

    items: list[Alert]


class AlertTransition(_Body):
    """One transition of an alert."""

    kind: str
    at: DateTime
    level: int | str | None
    actor: str | None
    value: float | None
    notified: Any = None


class AlertHistoryPage(_Page):
    """An alert's transitions, one page."""

    items: list[AlertTransition]


class AlertEvent(_Body):
    """An alert transition on the live stream."""

    kind: Literal["fired", "acknowledged", "escalated", "resolved"]
    alert: Alert


class Entity(EntityAtFault):
    """A point's latest state."""

    state: Literal["down", "silent", "up"]
    up: bool


class EntityCounts(_Body):
    """How many points are in each state."""

    down: int
    silent: int
    up: int
    total: int


class EntityFilters(_Body):
    """The filters a page was listed with."""

    feed: list[str] | None
    kind: str | None
    area: str | None
    state: Literal["down", "silent", "up"] | None
    silent_minutes: int


class EntitiesPage(_Body):
    """Points and their state, one keyset page."""

    at: DateTime
    filters: EntityFilters
    counts: EntityCounts
    items: list[Entity]
    limit: int
    next_cursor: str | None


class Silence(_Body):
    """A silence: a rule (pattern) whose notifications are held back for a while."""

    id: int
    rule: str
    area: str | None
    starts_at: DateTime
    ends_at: DateTime
    reason: str
    created_by: str


class SilenceList(_Body):
    """The silences in force."""

    items: list[Silence]


class DeadLetter(_Body):
    """A message the pipeline could not use."""

    id: str
    source: str
    reason: str
    detail: str
    stage: Literal["ingest", "stream"]
    location: str | None
    failed_at: DateTime
    original: str = Field(description="the first bytes of the message, as text")
    original_bytes: int
    replayable: bool


class DeadLetterCount(_Body):
    """How many dead letters one source rejected for one reason."""

    source: str
    reason: str
    count: int


class DeadLetterPage(_Page):
    """Dead letters, newest first, one page, with counts."""

    items: list[DeadLetter]
    summary: list[DeadLetterCount]


class ReplayResult(_Body):
    """Which dead letters went back to their topic, and which were refused and why."""

    replayed: list[str]
    refused: list[dict[str, Any]]


class AuditLine(_Body):
    """One refusal or change."""

    at: DateTime
    actor: str | None
    role: str | None
    action: str
    target: str
    outcome: str
    status: int
    client: str
    detail: str | None = Field(description="JSON text")


class AuditPage(_Page):
    """Audit lines, newest first, one page."""

    items: list[AuditLine]


class StreamEnd(_Body):
    """The stream's last event: why it closes."""

    reason: str


Problem.model_rebuild()

# The live stream's events: each one's name and the model of its JSON data.
STREAM_EVENTS: dict[str, type[BaseModel]] = {
    "kpis": KpisCurrent,
    "feeds": Feeds,
    "alert": AlertEvent,
    "end": StreamEnd,
}


class ScoreFigure(_Body):
    """One component's figure for one unit (agency or area)."""

    id: str
    numerator: float | None
    denominator: float | None
    value: float | None
    points: float | None = Field(description="estimated; None without a value or a known maximum")


class ScoreUnit(_Body):
    """An agency's or an area's scorecard line, ranked by ``score`` (points / possible)."""

    code: str
    name_vi: str
    rank: int | None
    score: float | None
    points: float
    possible: float
    previous_score: float | None
    previous_rank: int | None
    change: float | None
    components: list[ScoreFigure]


class ScoreComponent(_Body):
    """A component indicator of QĐ 766 as the scorecard measures it (or cannot)."""

    id: str
    name_vi: str
    max_points: float | None
    threshold: float
    kpis: list[str]
    missing_source: str | None = Field(description="no feed carries its data: where it would be")
    note: str | None


class ScoreGroup(_Body):
    """One of the five groups of QĐ 766/QĐ-TTg."""

    number: int
    name_vi: str
    max_points: float
    components: list[ScoreComponent]


class Scorecard(_Body):
    """The QĐ 766 scorecard of an area by agency or child area, with the period before."""

    area: Area
    period: PeriodInfo
    previous_period: PeriodInfo
    by: By
    decision: str
    estimate_note: str
    groups: list[ScoreGroup]
    total: ScoreUnit
    units: list[ScoreUnit]


class IndicatorStatus(_Body):
    """One periodic indicator in one area: the period due now, its value and state."""

    id: str
    name_vi: str
    name_en: str
    unit: Literal["percent", "number", "rank"] = Field(
        description="percent: a fraction 0–1, like KPI values; rank: 1 = first"
    )
    direction: Literal["higher", "lower"]
    period_kind: Literal["monthly", "quarterly", "yearly"]
    department_vi: str
    department_en: str
    levels: list[Level]
    target: float | None = Field(description="the target of the area's level; null: none")
    target_deadline: Date | None
    target_source: str | None
    target_estimate: bool = Field(description="the target is an estimate; see target_note")
    target_note: str | None
    period: str = Field(description="the period the state is about: 2026-11, 2026-Q3, 2025")
    period_vi: str = Field(description="Tháng 11/2026, Quý III/2026, Năm 2025")
    due: Date = Field(description="the last day its value is on time")
    due_estimate: bool = Field(description="the due day is our default, set by no document")
    state: Literal["reported", "due", "late"] = Field(
        description="late: the due day has passed without a value (Chưa báo cáo)"
    )
    state_vi: str
    state_en: str
    value: float | None = Field(description="the value of `period`; null: not reported")
    meets: bool | None = Field(description="value reaches the target; null: no value or target")
    last_value: float | None = Field(description="the latest value of any period")
    last_period: str | None
    entered_by: str | None
    entered_at: DateTime | None
    reported: list[Reported] = Field(description="results published before, never judged")


class IndicatorList(_Body):
    """Every periodic indicator the area's level reports, as of its local day."""

    area: Area
    today: Date
    items: list[IndicatorStatus]


class IndicatorEntry(_Body):
    """A value as stored: what it replaced, who entered it and when."""

    indicator: str
    area: str
    period: str
    value: float
    previous: float | None = Field(description="the value it replaced; null: the first")
    revision: int
    note: str | None
    entered_by: str
    entered_at: DateTime
    via: Literal["api", "upload", "cli"]


class IndicatorUpload(_Body):
    """An upload imported whole."""

    imported: int
    skipped: int = Field(description="rows left without a value (the template's unfilled rows)")
    items: list[IndicatorEntry]


class IndicatorHistory(_Body):
    """Every entry of one indicator in one area, newest first, corrections included."""

    indicator: str
    area: str
    items: list[IndicatorEntry]
