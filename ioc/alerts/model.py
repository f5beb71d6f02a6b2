"""What an alert is, and what the notifier is told when one changes state.

An alert is one lifecycle of one rule in one area: it *fires* when the rule's condition has
held for the rule's number of windows, may be *acknowledged* by a person (which stops
escalation), may be *escalated* to the next administrative level when nobody acknowledges it
in time, and is *resolved* when the condition has cleared (with hysteresis). Every change is
a `Transition`; the notifier turns each into exactly one message per recipient and channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

import asyncpg

__all__ = [
    "AlertState",
    "Contributor",
    "EntityAtFault",
    "Severity",
    "Transition",
    "TransitionKind",
    "TransitionSink",
]


class Severity(StrEnum):
    """How urgent: routing and escalation depend on it."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertState(StrEnum):
    """Where an alert is in its lifecycle."""

    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class TransitionKind(StrEnum):
    """A change worth telling someone about."""

    FIRED = "fired"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Contributor:
    """One area's (or agency's) share of a provincial gap, split into its two effects.

    `volume_effect`: the gap this area causes by its weight in the denominator (at the
    province's rate); `rate_effect`: the gap it causes by its own rate differing from the
    target. `gap` is their sum, in the KPI's ratio units (0.05 = 5 points).
    """

    area: str
    name_vi: str
    value: float | None
    numerator: float
    denominator: float
    gap: float
    volume_effect: float
    rate_effect: float


@dataclass(frozen=True)
class EntityAtFault:
    """A camera or network point that was down in the alert's area when it fired.

    Attributes:
        feed: ``camera`` or ``network``.
        entity: its id (``cam-001``, ``TSL-11953-1``).
        kind: ``camera`` or the network point kind (``special_network``…).
        area: the leaf area it reports from; ``area_name_vi`` names it.
        since: when its down state began (event time).
        last_seen: its newest report.
    """

    feed: str
    entity: str
    kind: str
    area: str
    area_name_vi: str
    since: datetime
    last_seen: datetime


@dataclass(frozen=True)
class Transition:
    """One state change of one alert: everything a message needs, nothing to look up.

    Attributes:
        alert_id: the alert (one lifecycle of `rule_id` in `area`).
        kind: fired, acknowledged, escalated or resolved.
        rule_id: the rule that fired.
        severity: of the rule.
        area: the area code the alert is about; `area_name_vi`/`area_level` describe it.
        kpi_id: the KPI the rule watches (None for a no-data rule on a feed).
        kpi_name_vi / kpi_name_en: for messages.
        value: the KPI's value at the transition (None when there is no data).
        target: the target it is compared with (None for anomaly / no-data rules).
        unit: how to show value and target ("percent" shows 0.953 as 95,3 %).
        since: when the condition started to hold (firing) — "since when".
        at: when this transition happened.
        level: escalation level, 0 = the area's own leaders, 1 = the parent area's, …
        actor: who acknowledged (for acknowledged), else None.
        summary_vi / summary_en: one sentence: what broke, where, since when, how far.
        contributors: for a provincial alert, the areas contributing most to the gap.
        entities: for an availability KPI, the entities down in the area when it fired
            (longest down first, cut short); `entities_down` counts them all.
    """

    alert_id: int
    kind: TransitionKind
    rule_id: str
    severity: Severity
    area: str
    area_name_vi: str
    area_level: str
    kpi_id: str | None
    kpi_name_vi: str
    kpi_name_en: str
    value: float | None
    target: float | None
    unit: str
    since: datetime
    at: datetime
    level: int = 0
    actor: str | None = None
    summary_vi: str = ""
    summary_en: str = ""
    contributors: tuple[Contributor, ...] = field(default_factory=tuple)
    entities: tuple[EntityAtFault, ...] = field(default_factory=tuple)
    entities_down: int = 0


class TransitionSink(Protocol):
    """Where the evaluator hands each transition that nothing holds back.

    Called inside the transaction that records the transition, on its connection, so the
    transition and what the sink writes (the outbox's messages: `ioc.services.outbox_sink`)
    are committed together or not at all.
    """

    async def __call__(self, conn: asyncpg.Connection, transition: Transition) -> None:
        """Tell whoever must know about `transition` (write it, within `conn`'s transaction)."""
