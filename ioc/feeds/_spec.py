"""What a feed declaration may say: the YAML file's schema, checked with line numbers.

A declaration is read by `ioc.datafile` like every other province file. These models only
describe its shape; `ioc.feeds._compile` checks the references across it (a metric naming a
field that does not exist, a condition on an unknown enum value) and builds the feed.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "SCALAR_TYPES",
    "Check",
    "Condition",
    "EnumSpec",
    "EventSpec",
    "FeedSpec",
    "FieldSpec",
    "Labels",
    "MetricSpec",
    "RuleSpec",
    "StatusSpec",
    "TopicSpec",
]

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
DottedName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_{}]+)+$", max_length=64)]
ClassName = Annotated[str, Field(pattern=r"^[A-Z][A-Za-z0-9]*$", max_length=60)]

SCALAR_TYPES = ("id", "text", "int", "float", "bool", "ratio", "datetime", "latitude", "longitude")
"""Field types besides the declaration's own enums: ``id`` is 1–128 characters, ``text`` at
most 500 unless ``max_length`` says otherwise, ``ratio`` a number from 0 to 1."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Labels(_Strict):
    """A name in Vietnamese (what users read) and English."""

    vi: str = Field(min_length=1, max_length=120)
    en: str = Field(min_length=1, max_length=120)


class TopicSpec(_Strict):
    """The feed's Kafka topic; unset values come from ``IOC_KAFKA__*``."""

    partitions: int | None = Field(default=None, ge=1, le=256)
    retention_hours: int | None = Field(default=None, ge=1)


class EnumSpec(_Strict):
    """A closed list of values; each value's labels are what boards and lists show."""

    doc: str = ""
    values: dict[Name, Labels] = Field(min_length=1)


Condition = dict[str, Any]
"""``{field: expected}``, every entry must hold. ``expected`` is a value (equal), a list (one
of), ``{not: value or list}``, or ``{present: true|false}`` (given and not empty or zero)."""


class FieldSpec(_Strict):
    """One payload field: its type, bounds, whether it may be left out."""

    type: str = Field(description="a scalar type (SCALAR_TYPES) or an enum of the declaration")
    choices: list[str] | None = Field(default=None, min_length=1, description="text from a list")
    optional: bool = False
    default: Any = None
    doc: str = ""
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=1, le=10_000)


class Check(_Strict):
    """A rule across fields that makes the payload itself invalid (dead letter ``invalid``).

    Exactly one of ``require`` (these fields must be given when ``when`` holds), ``absent``
    (these must be left out when ``when`` holds) or ``at_most`` (each of ``fields`` is at most
    this field).
    """

    when: Condition = Field(default_factory=dict)
    require: list[str] | None = None
    absent: list[str] | None = None
    at_most: str | None = None
    fields: list[str] | None = None
    message: str = Field(min_length=1, max_length=300)


class RuleSpec(_Strict):
    """A consistency rule needing the event time or several fields (dead letter ``reason``).

    The event breaks the rule when ``when`` holds and, if ``flag`` is given, the flag does not
    say whether the event happened on or before the time in field ``on_or_before``. The
    ``message`` may name fields (``{dossier_id}``, ``{occurred_at}``, ``{field!r}``).
    """

    when: Condition = Field(default_factory=dict)
    flag: str | None = None
    on_or_before: str | None = None
    reason: Name = "inconsistent"
    message: str = Field(min_length=1, max_length=300)
    doc: str = ""


class MetricSpec(_Strict):
    """One metric the event adds to its window when ``when`` holds.

    ``metric`` may name enum fields in braces (``payment.attempts.{channel}``): one metric per
    value. ``value`` names the field whose value is added (a measurement); without it the event
    adds 1 (a count). An event whose ``value`` field is left out adds nothing to that metric.
    """

    metric: DottedName
    when: Condition = Field(default_factory=dict)
    value: str | None = None
    doc: str = Field(min_length=1, max_length=200)


class StatusSpec(_Strict):
    """The up/down state the event reports for its entity (kept current in ``entity_status``).

    ``kind`` names the kind of entity, or ``kind_from`` the enum field that does; ``up`` is a
    boolean field or a condition.
    """

    kind: Name | None = None
    kind_from: str | None = None
    up: str | Condition


class EventSpec(_Strict):
    """One kind of event of the feed."""

    class_: ClassName = Field(alias="class", description="the payload's Python class name")
    doc: str = Field(min_length=1, max_length=300)
    entity: str | None = Field(
        default=None, description="field, or a template such as {agency_code}/{procedure_code}"
    )
    status: StatusSpec | None = None
    fields: dict[Name, FieldSpec] = Field(min_length=1)
    checks: list[Check] = Field(default_factory=list)
    rules: list[RuleSpec] = Field(default_factory=list)
    metrics: list[MetricSpec] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FeedSpec(_Strict):
    """A whole declaration: one feed, its event kinds, its topic, what comes with it."""

    feed: Name
    name: Labels
    order: int = Field(default=100, description="position in lists of feeds")
    doc: str = ""
    topic: TopicSpec = Field(default_factory=TopicSpec)
    enums: dict[ClassName, EnumSpec] = Field(default_factory=dict)
    events: dict[DottedName, EventSpec] = Field(min_length=1)
    kpis: list[dict[str, Any]] = Field(
        default_factory=list, description="KPIs, as in the KPI catalogue (ioc/data/kpis.yaml)"
    )
    alert_rules: list[dict[str, Any]] = Field(
        default_factory=list, description="alert rules, as in the rules file (ioc/data/rules.yaml)"
    )

    @field_validator("events")
    @classmethod
    def _kinds_not_templated(cls, value: dict[str, EventSpec]) -> dict[str, EventSpec]:
        for kind in value:
            if "{" in kind:
                raise ValueError(f"event kind {kind!r}: braces are for metric names only")
        return value
