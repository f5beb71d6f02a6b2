"""Alert rules as data: the file a province edits (`ioc/data/alert_rules.yaml`).

Four kinds of rule, each evaluated per area at the levels it lists:

- `threshold`: the KPI is `below` (or `above`) a fixed value;
- `target`: the KPI misses the KPI catalogue's target for the area's level by more than
  `margin` (so changing a target in the catalogue changes the alert);
- `no_data`: a feed sent nothing in the area for `silent_minutes` although it did in the
  day before;
- `anomaly`: the KPI is more than `z` standard deviations from its exponentially weighted
  moving average (EWMA, smoothing `alpha`), in the bad direction, after `min_history` windows.

A threshold or target rule with a `period` (`month`, `quarter`, `year` or `ytd`) judges the
KPI's value over the current local calendar period (``ioc.kpis.periods``: the period's sums,
exact) instead of each 1-minute window; it is evaluated every `every_minutes`, its
`for_windows`/`clear_windows` count those evaluations, and its alert resolves when the period
value recovers or the period ends. A no-data rule counts its silence in its feed's opening
time only (``ioc.alerts.calendar``: office hours and public holidays, as data), so a feed
that is quiet as expected does not fire.

A condition must hold for `for_windows` consecutive windows to fire, and stay clear for
`clear_windows` windows, `hysteresis` beyond the threshold, to resolve. `escalate_after_minutes`
moves an unacknowledged alert up one administrative level each time it passes. `mute` windows
(e.g. nights for office-hours KPIs) hold notifications back, never the alert itself.

A feed declaration (`ioc.feeds`) may bring rules under `alert_rules:`; they join the shipped
rules, checked the same way, each problem at its line in the declaration. A province's own rules
file (`IOC_ALERTS__RULES_FILE`) is its whole alerting policy: it replaces the shipped rules and
the declared ones alike (copy those it keeps), while a declaration's KPIs join every catalogue.
"""

from __future__ import annotations

import fnmatch
from datetime import datetime, time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ioc.alerts.model import Severity
from ioc.datafile import DataFileError, Document, Loc, item_label, load_document, parse, read_text
from ioc.events import FEEDS
from ioc.feeds import feeds

__all__ = ["Level", "MuteWindow", "Rule", "RulePeriod", "RuleSet", "load_rules"]

Level = Literal["province", "district", "commune"]
RulePeriod = Literal["month", "quarter", "year", "ytd"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Rule(BaseModel):
    """One alert rule; see the module docstring for the kinds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["threshold", "target", "no_data", "anomaly"]
    severity: Severity
    levels: tuple[Level, ...] = ("province",)
    kpi: str | None = None
    feed: str | None = None
    below: float | None = None
    above: float | None = None
    margin: float = Field(default=0.0, ge=0)
    for_windows: int = Field(default=3, ge=1, le=1440)
    clear_windows: int = Field(default=2, ge=1, le=1440)
    hysteresis: float = Field(default=0.0, ge=0)
    silent_minutes: int = Field(default=10, ge=1)
    alpha: float = Field(default=0.1, gt=0, le=1)
    z: float = Field(default=4.0, gt=0)
    min_history: int = Field(default=30, ge=2)
    escalate_after_minutes: int | None = Field(default=None, ge=1)
    period: RulePeriod | None = None
    every_minutes: int = Field(default=5, ge=1, le=1440)
    description_vi: str = ""
    description_en: str = ""

    @model_validator(mode="after")
    def _fields_fit_the_kind(self) -> Rule:
        if self.kind == "no_data":
            if self.feed not in FEEDS:
                raise ValueError(
                    f"a no_data rule needs feed: one of the declared feeds ({', '.join(FEEDS)}; "
                    "feeds are declared in ioc/data/feeds/, by a plugin, or in IOC_FEEDS_DIR)"
                )
            if self.kpi is not None:
                raise ValueError("a no_data rule watches a feed, not a kpi")
            return self
        if self.kpi is None:
            raise ValueError(f"a {self.kind} rule needs kpi: an id from the KPI catalogue")
        if self.kind == "threshold" and (self.below is None) == (self.above is None):
            raise ValueError("a threshold rule needs exactly one of below: or above:")
        if self.kind != "threshold" and (self.below is not None or self.above is not None):
            raise ValueError(f"below:/above: belong to threshold rules, not {self.kind}")
        if self.period is not None and self.kind not in ("threshold", "target"):
            raise ValueError(f"period: belongs to threshold and target rules, not {self.kind}")
        return self


class MuteWindow(BaseModel):
    """Recurring local times when matching alerts notify nobody (they still fire)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    days: tuple[Day, ...] = _DAYS
    start: time
    end: time
    rules: tuple[str, ...] = ("*",)

    def covers(self, rule_id: str, at: datetime, zone: ZoneInfo) -> bool:
        """True if `rule_id` is muted at `at` (a window may wrap past midnight)."""
        if not any(fnmatch.fnmatchcase(rule_id, pattern) for pattern in self.rules):
            return False
        local = at.astimezone(zone)
        now, day = local.time(), _DAYS[local.weekday()]
        if self.start <= self.end:
            return day in self.days and self.start <= now < self.end
        # Wrapping (22:00 → 06:00): the early hours belong to the previous day's window.
        yesterday = _DAYS[(local.weekday() - 1) % 7]
        return (day in self.days and now >= self.start) or (
            yesterday in self.days and now < self.end
        )


class RuleSet(BaseModel):
    """The whole rule file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[Rule, ...]
    mute: tuple[MuteWindow, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleSet:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice")
            seen.add(rule.id)
        return self

    def muted(self, rule_id: str, at: datetime, zone: ZoneInfo) -> bool:
        """True if a mute window covers this rule now."""
        return any(window.covers(rule_id, at, zone) for window in self.mute)


def load_rules(
    path: Path | None = None,
    kpi_ids: set[str] | None = None,
    daily_kpi_ids: set[str] | None = None,
) -> RuleSet:
    """Read and check a rule file (None = the shipped `ioc/data/alert_rules.yaml`).

    The shipped rules are followed by those the feed declarations bring (``alert_rules:``).

    Args:
        path: the file.
        kpi_ids: the KPI catalogue's ids; a rule naming another KPI is refused.
        daily_kpi_ids: ids of the catalogue's distinct-count KPIs (``Kpi.distinct``); a rule
            naming one is refused unless it has a `period`, because rules judge minute windows
            and those KPIs are counted per day from the event store (a rule would never see a
            value); a period rule counts them over its period.

    Raises:
        DataFileError: every problem, as `file:line: field: reason`.
    """
    from importlib import resources

    if path is None:
        resource = resources.files("ioc") / "data" / "alert_rules.yaml"
        source, text = str(resource), resource.read_text(encoding="utf-8")
    else:
        source, text = str(path), read_text(path)
    rules, doc = load_document(source, text, RuleSet)
    placed: list[tuple[Rule, Document, Loc]] = [
        (rule, doc, ["rules", i]) for i, rule in enumerate(rules.rules)
    ]
    problems = [] if path is not None else _declared({r.id: source for r in rules.rules}, placed)
    if kpi_ids is not None:
        problems += [
            at.problem(
                [*loc, "kpi"], f"unknown KPI {rule.kpi!r} (known: {', '.join(sorted(kpi_ids))})"
            )
            for rule, at, loc in placed
            if rule.kpi is not None and rule.kpi not in kpi_ids
        ]
        problems += [
            at.problem(
                [*loc, "kpi"],
                f"{rule.kpi!r} is a distinct-count KPI, counted per day from the event store; "
                "rules judge minute windows, so this rule would never see a value (give it a "
                "period: month, quarter, year or ytd, or watch it on the board)",
            )
            for rule, at, loc in placed
            if rule.kpi is not None and rule.kpi in (daily_kpi_ids or set()) and rule.period is None
        ]
    if problems:
        raise DataFileError(source, problems)
    return RuleSet(rules=tuple(rule for rule, _, _ in placed), mute=rules.mute)


def _declared(taken: dict[str, str], placed: list[tuple[Rule, Document, Loc]]) -> list[str]:
    """Add the rules of the feed declarations to `placed`; return their problems.

    Args:
        taken: rule ids already used, with the file that uses each.
        placed: each rule so far with its document and place in it, for later problems.
    """
    problems: list[str] = []
    for f in feeds():
        if not f.alert_rules:
            continue
        doc = parse(f.source, read_text(f.source), label=item_label("alert_rules", "id"))
        for i, item in enumerate(f.alert_rules):
            loc: Loc = ["alert_rules", i]
            rule_id = item.get("id")
            if isinstance(rule_id, str) and rule_id in taken:
                reason = f"rule id {rule_id!r} is used in {taken[rule_id]} too"
                problems.append(doc.problem([*loc, "id"], reason))
                continue
            rule, found = doc.validate(Rule, item, loc)
            problems += found
            if rule is not None:
                taken[rule.id] = f.source
                placed.append((rule, doc, loc))
    return problems
