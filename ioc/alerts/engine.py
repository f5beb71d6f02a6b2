"""Evaluate alert rules on closed windows; keep one lifecycle per (rule, area).

Each pass (`Evaluator.run_once`), in one database transaction:

1. KPI values are (re)computed for the windows closed since the last pass (a window is
   closed `grace_seconds` after its end, time for the stream workers to write it);
2. every KPI rule is evaluated on those windows in order, per area at its levels, with a
   persisted streak per (rule, area): `for_windows` consecutive breaches fire, `clear_windows`
   consecutive clears (beyond the hysteresis) resolve;
3. no-data rules look at the newest window of their feed, counting its silence in the
   feed's opening time (``ioc.alerts.calendar``): outside office hours and on public
   holidays a silent feed is "quiet as expected", recorded on the rule's state, not fired;
4. period rules (a `period` on a threshold or target rule) judge the current month,
   quarter, year or year to date's value, every `every_minutes` (not every window); their
   alert resolves when the period value recovers or the period ends;
5. firing alerts nobody acknowledged within `escalate_after_minutes` move up one level;
6. every transition is recorded in `alert_history` and handed to the evaluator's
   `TransitionSink` (the outbox) in the same transaction (unless a silence or a mute window
   holds it back), so a crash never loses or repeats one.

This module is the orchestration; the rooms it uses are `ioc.alerts.judge` (pure judging:
breach or clear, streaks, the explanation of a gap), `ioc.alerts.store` (the SQL of states,
alerts, history and cursor) and `ioc.alerts.silences`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

import asyncpg

from ioc.alerts import silences, store
from ioc.alerts.calendar import FeedCalendar, load_calendar
from ioc.alerts.judge import Outcome, State, Verdict, explain, floor, judge, step
from ioc.alerts.model import (
    AlertState,
    Contributor,
    EntityAtFault,
    Severity,
    Transition,
    TransitionKind,
    TransitionSink,
)
from ioc.alerts.rules import Rule, RuleSet
from ioc.alerts.store import OpenAlert
from ioc.areas import Area, AreaRegistry
from ioc.entities import down_at
from ioc.kpis import Kpi, KpiCatalogue
from ioc.kpis.periods import Period
from ioc.kpis.values import by_child, compute, totals
from ioc.localtime import ZONE, local_date, local_day_start
from ioc.text import alert_summary, no_data_name

__all__ = ["Evaluator"]

log = logging.getLogger(__name__)

LOOKBACK_WINDOWS = 10  # on the very first pass, how far back to start
BASELINE = timedelta(days=1)  # explanations compare with the day before the alert began
# A no-data rule fires only on areas its feed reported from in its last day of opening time
# (a wall-clock day for a feed open at every hour; about three working days for DVC).
REPORTED_WITHIN = timedelta(days=1)
MAX_ENTITIES = 20  # points at fault kept with an alert (all are counted)
_LEVELS = ("province", "district", "commune")


# --- message text (the summary line of a transition) ----------------------------------------

# --- the evaluator ----------------------------------------------------------------------------


@dataclass
class _Pass:
    """What one pass changes, written at its end."""

    states: dict[tuple[str, str], State]
    open: dict[tuple[str, str], OpenAlert]
    transitions: list[Transition] = field(default_factory=list)


class _Subject(NamedTuple):
    """What an alert is about: a rule, its KPI (None for a no-data rule), an area."""

    rule: Rule
    kpi: Kpi | None
    area: Area


@dataclass(frozen=True)
class _Draft:
    """A transition as `_fire`, `_resolve`, `_escalate` and `acknowledge` know it.

    `_transition` completes it (names, unit, summaries) into a `Transition`, records it and
    hands it on.
    """

    about: _Subject
    alert_id: int
    kind: TransitionKind
    value: float | None
    target: float | None
    since: datetime
    at: datetime
    level: int = 0
    actor: str | None = None
    contributors: tuple[Contributor, ...] = ()
    entities: tuple[EntityAtFault, ...] = ()
    entities_down: int = 0


class Evaluator:
    """Evaluates a rule set against the KPI values in the database.

    Args:
        catalogue: the KPIs.
        rules: the rule file.
        areas: the administrative areas.
        window: the stream workers' window width.
        grace: how long after its end a window counts as closed.
        notify: told of every transition nothing holds back, in the pass's transaction
            (None: record alerts, notify nobody).
        calendar: when each feed is expected to send data (None: the shipped
            `ioc/data/feed_calendar.yaml`).
    """

    def __init__(
        self,
        catalogue: KpiCatalogue,
        rules: RuleSet,
        areas: AreaRegistry,
        *,
        window: timedelta,
        grace: timedelta,
        notify: TransitionSink | None = None,
        calendar: FeedCalendar | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.rules = rules
        self.areas = areas
        self.window = window
        self.grace = grace
        self._notify = notify
        self.calendar = calendar if calendar is not None else load_calendar()

    # --- one pass ----------------------------------------------------------------------

    async def run_once(
        self, conn: asyncpg.Connection, now: datetime | None = None
    ) -> list[Transition]:
        """Evaluate every window closed since the last pass; returns the transitions made."""
        now = now or datetime.now(UTC)
        closed_until = floor(now - self.grace, self.window)
        async with conn.transaction():
            await store.lock(conn)
            cursor = await store.read_cursor(conn)
            if cursor is None:
                cursor = closed_until - LOOKBACK_WINDOWS * self.window
            work = _Pass(await store.load_states(conn), await store.load_open(conn))
            if closed_until > cursor:
                await compute(conn, self.catalogue, cursor, closed_until, "1m")
                values = await store.window_values(conn, cursor, closed_until)
                start = cursor
                while start < closed_until:
                    await self._evaluate_window(conn, work, start, values.get(start, {}))
                    start += self.window
            await self._evaluate_no_data(conn, work, closed_until)
            await self._evaluate_periods(conn, work, closed_until)
            await self._escalate(conn, work, now)
            await store.save(conn, work.states, list(work.open.values()), max(cursor, closed_until))
        return work.transitions

    # --- KPI rules ---------------------------------------------------------------------

    async def _evaluate_window(
        self,
        conn: asyncpg.Connection,
        work: _Pass,
        start: datetime,
        values: dict[tuple[str, str], float | None],
    ) -> None:
        end = start + self.window
        day = local_date(start)
        for rule in self.rules.rules:
            if rule.kind == "no_data" or rule.kpi is None or rule.period is not None:
                continue
            kpi = self.catalogue.get(rule.kpi)
            for (kpi_id, code), value in values.items():
                if kpi_id != rule.kpi or value is None:
                    continue
                area = self._area(code, day)
                if area is None or area.level not in rule.levels:
                    continue
                state = work.states.setdefault((rule.id, code), State())
                verdict = judge(rule, kpi, area.level, value, state)
                about = _Subject(rule, kpi, area)
                await self._step(conn, work, about, state, verdict, value, start, end)

    async def _step(
        self,
        conn: asyncpg.Connection,
        work: _Pass,
        about: _Subject,
        state: State,
        verdict: Verdict,
        value: float | None,
        start: datetime,
        end: datetime,
        since: datetime | None = None,
    ) -> None:
        """Carry out what the verdict on the window [start, end) does to the alert.

        `since`: when the alert says its condition began (default: the streak's first breach;
        a period rule gives its period's start, the span its value covers).
        """
        alert = work.open.get((about.rule.id, about.area.code))
        outcome = step(about.rule, state, verdict, start, is_open=alert is not None)
        if outcome is Outcome.FIRE:
            assert state.first_breach is not None  # set by the breach that fires
            began = since or state.first_breach
            await self._fire(conn, work, about, value, verdict.threshold, began, end)
        elif outcome is Outcome.CARRY:
            assert alert is not None
            alert.last_value = value
        elif outcome is Outcome.RESOLVE:
            assert alert is not None
            await self._resolve(conn, work, about, alert, value, end)

    # --- no-data rules -----------------------------------------------------------------

    async def _evaluate_no_data(
        self, conn: asyncpg.Connection, work: _Pass, closed_until: datetime
    ) -> None:
        """Judge each no-data rule once per pass, its silence counted in opening time.

        A feed the calendar lists (DVC: office hours, public holidays) is silent only for the
        minutes it was expected to send data; while it is expected to be quiet and sends
        nothing, its areas are "quiet as expected" (`State.quiet_since`), not in breach.
        """
        calendar = self.calendar
        newest = closed_until - self.window  # the newest closed window's start
        for rule in self.rules.rules:
            if rule.kind != "no_data":
                continue
            assert rule.feed is not None  # a no-data rule names its feed
            feed = rule.feed
            lookback = calendar.open_since(
                feed, closed_until, REPORTED_WITHIN / timedelta(minutes=1)
            )
            reports = await store.last_reports(
                conn, feed, min(lookback, closed_until - REPORTED_WITHIN)
            )
            reason = calendar.quiet_reason(feed, newest)
            last_by_level: dict[str, datetime] = {}
            day = local_date(closed_until)
            for leaf, last in reports:
                for ancestor in self._with_ancestors(leaf, day):
                    seen = last_by_level.get(ancestor.code)
                    if seen is None or last > seen:
                        last_by_level[ancestor.code] = last
            # An area gone silent for longer than the lookback is no longer judged: nor quiet.
            for (rule_id, code), gone in work.states.items():
                if rule_id == rule.id and code not in last_by_level:
                    gone.quiet_since = gone.quiet_reason = None
            for code, last in last_by_level.items():
                found = self._area(code, day)
                if found is None or found.level not in rule.levels:
                    continue
                state = work.states.setdefault((rule.id, code), State())
                ended = last + self.window  # the end of its newest window with data
                silent = calendar.open_minutes(feed, ended, closed_until) >= rule.silent_minutes
                if not silent and reason is not None and ended <= newest:
                    state.quiet_since = state.quiet_since or max(
                        ended, calendar.open_since(feed, closed_until, 0)
                    )
                    state.quiet_reason = reason
                else:
                    state.quiet_since = state.quiet_reason = None
                # No-data is judged once per pass: one breach or clear = the whole duration.
                state.breach_streak = rule.for_windows - 1 if silent else 0
                state.clear_streak = rule.clear_windows - 1 if not silent else 0
                await self._step(
                    conn,
                    work,
                    _Subject(rule, None, found),
                    state,
                    Verdict(breach=silent, clear=not silent, threshold=None),
                    None,
                    ended,
                    closed_until,
                )

    # --- period rules ------------------------------------------------------------------

    async def _evaluate_periods(
        self, conn: asyncpg.Connection, work: _Pass, closed_until: datetime
    ) -> None:
        """Judge each period rule on its current period's value, every `every_minutes`.

        The value is the period's sums over its stored local days (``kpi_values`` at
        ``1d``, the figures of ``ioc.kpis.periods``), today's day recomputed first; a
        distinct-count KPI is counted over the period from the event store. One evaluation
        counts as one window for `for_windows` and `clear_windows`. An alert of a period
        that has ended resolves at the period's end with its last value.
        """
        today = local_date(closed_until - self.window)
        for rule in self.rules.rules:
            if rule.period is None or rule.kpi is None:
                continue
            mark = f"period:{rule.id}"
            last = await store.read_cursor(conn, mark)
            if last is not None and closed_until < last + timedelta(minutes=rule.every_minutes):
                continue
            kpi = self.catalogue.get(rule.kpi)
            period = Period.parse(
                {
                    "month": f"{today:%Y-%m}",
                    "quarter": f"{today.year}-Q{(today.month + 2) // 3}",
                    "year": str(today.year),
                    "ytd": "ytd",
                }[rule.period],
                today=today,
            )
            await self._end_old_periods(conn, work, rule, kpi, period)
            # The days since the last evaluation (all of the period's at its first) from the
            # window rows; `keep_current` keeps the earlier days current for late windows.
            first = period.start
            if last is not None and last > period.start:
                first = local_day_start(last - self.window)
            await compute(conn, [kpi], first, local_day_start(today) + timedelta(days=1), "1d")
            for area, value in await self._period_values(conn, rule, kpi, period, today):
                state = work.states.setdefault((rule.id, area.code), State())
                await self._step(
                    conn,
                    work,
                    _Subject(rule, kpi, area),
                    state,
                    judge(rule, kpi, area.level, value, state),
                    value,
                    closed_until,
                    closed_until,
                    since=period.start,
                )
            await store.write_cursor(conn, mark, closed_until)

    async def _period_values(
        self, conn: asyncpg.Connection, rule: Rule, kpi: Kpi, period: Period, today: date
    ) -> list[tuple[Area, float]]:
        """The period's value in every area at the rule's levels (as of today) with data."""
        areas = [a for level in rule.levels for a in self.areas.by_level(level, on=today)]
        out = []
        if kpi.distinct is None:
            sums = await store.period_sums(conn, kpi.id, period.start, period.end)
            for area in areas:
                n, d = sums.get(area.code, (0.0, 0.0))
                if d:
                    out.append((area, n / d))
            return out
        for area in areas:
            found = await totals(conn, kpi, area.code, period.start, period.end, "1d")
            if found.value is not None:
                out.append((area, found.value))
        return out

    async def _end_old_periods(
        self, conn: asyncpg.Connection, work: _Pass, rule: Rule, kpi: Kpi, period: Period
    ) -> None:
        """Resolve the rule's alerts of periods before `period`, at their period's end."""
        for (rule_id, code), alert in list(work.open.items()):
            if rule_id != rule.id or alert.since >= period.start:
                continue
            area = self._area(code, local_date(alert.since))
            if area is None:
                continue
            work.states[(rule.id, code)] = State()
            await self._resolve(
                conn, work, _Subject(rule, kpi, area), alert, alert.last_value, period.start
            )

    # --- transitions -------------------------------------------------------------------

    async def _fire(
        self,
        conn: asyncpg.Connection,
        work: _Pass,
        about: _Subject,
        value: float | None,
        target: float | None,
        since: datetime,
        at: datetime,
    ) -> None:
        rule, kpi, area = about
        contributors: tuple[Contributor, ...] = ()
        if kpi is not None and area.level != "commune":
            contributors = tuple(await self._contributors(conn, kpi, area, since, at))[:5]
        entities, entities_down = await self._at_fault(conn, kpi, area, at)
        alert_id = await store.fire(
            conn, rule, area.code, value, target, since, at, contributors, entities, entities_down
        )
        work.open[(rule.id, area.code)] = OpenAlert(
            alert_id, rule.id, area.code, AlertState.FIRING, 0, since, at, value, target
        )
        await self._transition(
            conn,
            work,
            _Draft(
                about,
                alert_id,
                TransitionKind.FIRED,
                value=value,
                target=target,
                since=since,
                at=at,
                contributors=contributors,
                entities=entities,
                entities_down=entities_down,
            ),
        )

    async def _at_fault(
        self, conn: asyncpg.Connection, kpi: Kpi | None, area: Area, at: datetime
    ) -> tuple[tuple[EntityAtFault, ...], int]:
        """The entities down in the area at ``at``, for a KPI on the availability of entities.

        The KPI's feed reports each entity's state, and the event store keeps every report:
        "availability fell in Phường Phố Hiến" becomes "these points were down", as they stood
        at ``at`` even when the windows are evaluated late (a backfill, a catching-up pass).
        """
        if kpi is None:
            return (), 0
        down, total = await down_at(conn, kpi, area.code, at, limit=MAX_ENTITIES)
        day = local_date(at)
        return tuple(
            EntityAtFault(
                feed=e.feed,
                entity=e.entity,
                kind=e.kind,
                area=e.area,
                area_name_vi=a.name_vi if (a := self._area(e.area, day)) else e.area,
                since=e.since,
                last_seen=e.last_seen,
            )
            for e in down
        ), total

    async def _resolve(
        self,
        conn: asyncpg.Connection,
        work: _Pass,
        about: _Subject,
        alert: OpenAlert,
        value: float | None,
        at: datetime,
    ) -> None:
        await store.resolve(conn, alert.id, at, value)
        del work.open[(about.rule.id, about.area.code)]
        await self._transition(
            conn,
            work,
            _Draft(
                about,
                alert.id,
                TransitionKind.RESOLVED,
                value=value,
                target=alert.target,
                since=alert.since,
                at=at,
                level=alert.level,
            ),
        )

    async def _escalate(self, conn: asyncpg.Connection, work: _Pass, now: datetime) -> None:
        rules = {rule.id: rule for rule in self.rules.rules}
        today = local_date(now)
        for alert in list(work.open.values()):
            rule = rules.get(alert.rule_id)
            if rule is None or rule.escalate_after_minutes is None:
                continue
            if alert.state is not AlertState.FIRING:
                continue  # acknowledged: somebody is on it
            area = self._area(alert.area, today)
            if area is None:
                continue
            chain = self._with_ancestors(area.code, today)
            due = alert.fired_at + timedelta(minutes=rule.escalate_after_minutes) * (
                alert.level + 1
            )
            if now < due or alert.level + 1 >= len(chain):
                continue
            # The next level's leaders learn which points are at fault too.
            stored = await store.escalate(conn, alert.id, alert.level + 1)
            if stored is None:
                # Acknowledged since the pass read it: somebody is on it after all.
                alert.state = AlertState.ACKNOWLEDGED
                continue
            alert.level += 1
            entities, entities_down = stored
            await self._transition(
                conn,
                work,
                _Draft(
                    _Subject(rule, self._kpi(rule.kpi), area),
                    alert.id,
                    TransitionKind.ESCALATED,
                    value=alert.last_value,
                    target=alert.target,
                    since=alert.since,
                    at=now,
                    level=alert.level,
                    entities=entities,
                    entities_down=entities_down,
                ),
            )

    async def acknowledge(
        self, conn: asyncpg.Connection, alert_id: int, actor: str, now: datetime | None = None
    ) -> Transition:
        """Mark an alert acknowledged by `actor` (stops its escalation); tells its recipients.

        Raises:
            LookupError: no such alert, or it is already resolved or acknowledged.
        """
        now = now or datetime.now(UTC)
        async with conn.transaction():
            row = await store.acknowledge(conn, alert_id, actor, now)
            rule = next((r for r in self.rules.rules if r.id == row["rule_id"]), None)
            if rule is None:
                # Removed from the rules file since it fired: the alert stays open until
                # somebody takes it on, so that must still work; the row says what it was.
                rule = Rule.model_construct(
                    id=row["rule_id"],
                    kind="no_data" if row["kpi_id"] is None else "threshold",
                    severity=Severity(row["severity"]),
                    kpi=row["kpi_id"],
                )
            # An area abolished since (a district on 2025-07-01) is named as it was then.
            area = self._area(row["area"], local_date(now)) or self._area(
                row["area"], local_date(row["started_at"])
            )
            if area is None:
                raise LookupError(f"alert {alert_id} is about an unknown area {row['area']}")
            work = _Pass({}, {})
            await self._transition(
                conn,
                work,
                _Draft(
                    _Subject(rule, self._kpi(rule.kpi), area),
                    alert_id,
                    TransitionKind.ACKNOWLEDGED,
                    value=row["last_value"],
                    target=row["target"],
                    since=row["started_at"],
                    at=now,
                    level=row["level"],
                    actor=actor,
                ),
            )
        return work.transitions[0]

    async def _transition(self, conn: asyncpg.Connection, work: _Pass, draft: _Draft) -> None:
        """Complete a draft into a `Transition`, record it, and notify unless it is held."""
        rule, kpi, area = draft.about
        transition = Transition(
            alert_id=draft.alert_id,
            kind=draft.kind,
            rule_id=rule.id,
            severity=Severity(rule.severity),
            area=area.code,
            area_name_vi=area.name_vi,
            area_level=area.level,
            kpi_id=kpi.id if kpi else None,
            kpi_name_vi=kpi.name_vi if kpi else no_data_name(rule.feed or rule.id, "vi"),
            kpi_name_en=kpi.name_en if kpi else no_data_name(rule.feed or rule.id, "en"),
            value=draft.value,
            target=draft.target,
            unit=kpi.unit if kpi else "ratio",
            since=draft.since,
            at=draft.at,
            level=draft.level,
            actor=draft.actor,
            contributors=draft.contributors,
            entities=draft.entities,
            entities_down=draft.entities_down,
        )
        transition = replace(
            transition,
            summary_vi=alert_summary(
                transition.kpi_name_vi,
                area.name_vi,
                draft.value,
                draft.target,
                transition.unit,
                draft.since,
                "vi",
            ),
            summary_en=alert_summary(
                transition.kpi_name_en,
                area.name_vi,
                draft.value,
                draft.target,
                transition.unit,
                draft.since,
                "en",
            ),
        )
        held = await self._held(conn, rule.id, area.code, draft.at, draft.level)
        await store.record(
            conn,
            draft.alert_id,
            draft.kind,
            draft.at,
            level=draft.level,
            actor=draft.actor,
            value=draft.value,
            notified=not held,
        )
        if not held and self._notify is not None:
            await self._notify(conn, transition)
        work.transitions.append(transition)
        log.info("alert %d %s: %s", draft.alert_id, draft.kind.value, transition.summary_en)

    async def _held(
        self, conn: asyncpg.Connection, rule_id: str, area: str, at: datetime, level: int
    ) -> bool:
        """True if a silence or a mute window holds this rule's notifications back now.

        Once escalated (level >= 1), only a silence whose author's scope covers the area it
        was escalated to holds it (see :func:`ioc.alerts.silences.holds`).
        """
        if self.rules.muted(rule_id, at, ZONE):
            return True
        reach = None
        if level > 0:
            chain = [a.code for a in self._with_ancestors(area, local_date(at))]
            # An area unknown that day: only a province-wide silence may hold it.
            reach = chain[min(level, len(chain) - 1) :] if chain else []
        return await silences.holds(conn, rule_id, area, at, reach)

    async def _contributors(
        self, conn: asyncpg.Connection, kpi: Kpi, area: Area, since: datetime, at: datetime
    ) -> list[Contributor]:
        current = await by_child(conn, kpi, area.code, since, at)
        baseline = await by_child(conn, kpi, area.code, since - BASELINE, since)
        return explain(
            [(a, n, float(x), float(y)) for a, n, x, y in current],
            [(a, n, float(x), float(y)) for a, n, x, y in baseline],
            kpi.direction,
        )

    # --- catalogue and areas -----------------------------------------------------------

    def _kpi(self, kpi_id: str | None) -> Kpi | None:
        """The KPI a rule watches (None: a no-data rule, or a KPI gone from the catalogue)."""
        if kpi_id is None:
            return None
        try:
            return self.catalogue.get(kpi_id)
        except KeyError:
            return None

    def _area(self, code: str, day: date) -> Area | None:
        try:
            return self.areas.get(code, on=day)
        except KeyError:
            return None

    def _with_ancestors(self, code: str, day: date) -> list[Area]:
        """The area and its parents up to the province, nearest first."""
        chain: list[Area] = []
        area = self._area(code, day)
        while area is not None and len(chain) < len(_LEVELS):
            chain.append(area)
            area = self._area(area.parent, day) if area.parent else None
        return chain
