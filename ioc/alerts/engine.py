"""Evaluate alert rules on closed windows; keep one lifecycle per (rule, area).

Each pass (`Evaluator.run_once`), in one database transaction:

1. KPI values are (re)computed for the windows closed since the last pass (a window is
   closed `grace_seconds` after its end, time for the stream workers to write it);
2. every KPI rule is evaluated on those windows in order, per area at its levels, with a
   persisted streak per (rule, area): `for_windows` consecutive breaches fire, `clear_windows`
   consecutive clears (beyond the hysteresis) resolve;
3. no-data rules look at the newest window of their feed;
4. firing alerts nobody acknowledged within `escalate_after_minutes` move up one level;
5. every transition is recorded in `alert_history` and its notifications are put in the
   outbox in the same transaction (unless a silence or a mute window holds them back), so a
   crash never loses or repeats one.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from ioc.alerts.model import (
    AlertState,
    Contributor,
    EntityAtFault,
    Severity,
    Transition,
    TransitionKind,
)
from ioc.alerts.rules import Rule, RuleSet
from ioc.areas import Area, AreaRegistry
from ioc.kpis import Kpi, KpiCatalogue

__all__ = ["Evaluator", "explain", "format_value"]

log = logging.getLogger(__name__)

LOOKBACK_WINDOWS = 10  # on the very first pass, how far back to start
BASELINE = timedelta(days=1)  # explanations compare with the day before the alert began
MAX_ENTITIES = 20  # points at fault kept with an alert (all are counted)
_LEVELS = ("province", "district", "commune")


_SUMMARY_WORDS: dict[str, dict[str, str]] = {
    "vi": {
        "in": "tại",
        "target": "mục tiêu",
        "since": "từ",
        "time": "%H:%M %d/%m/%Y",
        "largest": "nơi ảnh hưởng nhiều nhất",
        "fired": "cảnh báo",
        "escalated": "chuyển cấp trên",
        "acknowledged": "đã tiếp nhận ({actor})",
        "resolved": "đã trở lại bình thường",
    },
    "en": {
        "in": "in",
        "target": "target",
        "since": "since",
        "time": "%Y-%m-%d %H:%M",
        "largest": "largest contributor",
        "fired": "alert",
        "escalated": "escalated",
        "acknowledged": "acknowledged by {actor}",
        "resolved": "back to normal",
    },
}


def format_value(value: float | None, unit: str, language: str = "vi") -> str:
    """`0.953` in percent → `95,3 %` (Vietnamese) or `95.3 %` (English)."""
    if value is None:
        return "—"
    text = f"{value * 100:.1f} %" if unit == "percent" else f"{value:.3g}"
    return text.replace(".", ",") if language == "vi" else text


@dataclass
class _State:
    """What a (rule, area) carries from window to window."""

    breach_streak: int = 0
    clear_streak: int = 0
    first_breach: datetime | None = None
    mean: float | None = None
    var: float = 0.0
    n: int = 0


@dataclass
class _Open:
    """An alert that is not resolved yet."""

    id: int
    rule_id: str
    area: str
    state: AlertState
    level: int
    since: datetime
    fired_at: datetime
    last_value: float | None
    target: float | None


@dataclass
class _Pass:
    """What one pass changes, written at its end."""

    states: dict[tuple[str, str], _State]
    open: dict[tuple[str, str], _Open]
    transitions: list[Transition] = field(default_factory=list)


def explain(
    current: list[tuple[str, str, float, float]],
    baseline: list[tuple[str, str, float, float]],
    direction: str,
) -> list[Contributor]:
    """Rank the children of an area by how much they moved its KPI in the bad direction.

    A shift-share split of the change of the parent's ratio R = ΣN/ΣD from the baseline
    period (0) to now: with weights w = D/ΣD and rates r = N/D,
    R − R0 = Σ (w − w0)·(r0 − R0)  [volume: an area's share of the denominator moved]
           + Σ w·(r − r0)           [rate: the area's own ratio moved].
    Each child's gap is its two effects, signed so that positive hurts the KPI.

    Args:
        current: (area, name_vi, numerator, denominator) per child now.
        baseline: the same for the baseline period.
        direction: "higher" or "lower" is better.
    """
    total_d = sum(d for *_, d in current) or 1.0
    base = {a: (n, d) for a, _, n, d in baseline}
    base_d = sum(d for _, d in base.values()) or 1.0
    base_rate = sum(n for n, _ in base.values()) / base_d if base else 0.0
    sign = 1.0 if direction == "higher" else -1.0
    out = []
    for area, name, num, den in current:
        w = den / total_d
        r = num / den if den else None
        n0, d0 = base.get(area, (0.0, 0.0))
        w0 = d0 / base_d
        r0 = n0 / d0 if d0 else (r if r is not None else base_rate)
        rate = w * ((r if r is not None else r0) - r0)
        volume = (w - w0) * (r0 - base_rate)
        out.append(
            Contributor(
                area=area,
                name_vi=name,
                value=r,
                numerator=num,
                denominator=den,
                gap=-sign * (rate + volume),
                volume_effect=-sign * volume,
                rate_effect=-sign * rate,
            )
        )
    out.sort(key=lambda c: c.gap, reverse=True)
    return out


def _entity_json(e: EntityAtFault) -> dict[str, Any]:
    return e.__dict__ | {"since": e.since.isoformat(), "last_seen": e.last_seen.isoformat()}


def _entities_from_json(text: str | None) -> tuple[EntityAtFault, ...]:
    """The points at fault as stored with an alert (see :func:`_entity_json`)."""
    out = []
    for item in json.loads(text or "[]"):
        item["since"] = datetime.fromisoformat(item["since"])
        item["last_seen"] = datetime.fromisoformat(item["last_seen"])
        out.append(EntityAtFault(**item))
    return tuple(out)


def _retired_rule(row: asyncpg.Record) -> Rule:
    """A stand-in for a rule removed from the rules file: what its alert row kept of it."""
    return Rule.model_construct(
        id=row["rule_id"],
        kind="threshold" if row["kpi_id"] else "no_data",
        severity=row["severity"],
        kpi=row["kpi_id"],
        feed=row["rule_id"],  # a no-data message names "dữ liệu <feed>": here, the rule
    )


class Evaluator:
    """Evaluates a rule set against the KPI values in the database.

    Args:
        catalogue: the KPIs.
        rules: the rule file.
        areas: the administrative areas.
        window: the stream workers' window width.
        grace: how long after its end a window counts as closed.
        zone: the province's time zone (mute windows, messages).
        route: recipients for a transition → deliveries (None: record alerts, notify nobody).
        enqueue: `ioc.notify.outbox.enqueue`-shaped coroutine writing deliveries in the pass's
            transaction.
    """

    def __init__(
        self,
        catalogue: KpiCatalogue,
        rules: RuleSet,
        areas: AreaRegistry,
        *,
        window: timedelta,
        grace: timedelta,
        zone: ZoneInfo,
        route: Any = None,
        enqueue: Any = None,
    ) -> None:
        self.catalogue = catalogue
        self.rules = rules
        self.areas = areas
        self.window = window
        self.grace = grace
        self.zone = zone
        self._route = route
        self._enqueue = enqueue

    # --- one pass ----------------------------------------------------------------------

    async def run_once(
        self, conn: asyncpg.Connection, now: datetime | None = None
    ) -> list[Transition]:
        """Evaluate every window closed since the last pass; returns the transitions made."""
        from ioc.kpi_values import compute

        now = now or datetime.now(UTC)
        closed_until = self._floor(now - self.grace)
        async with conn.transaction():
            # One evaluator at a time, whatever the number of processes.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('ioc-alerts'))")
            cursor = await conn.fetchval(
                "SELECT evaluated_until FROM alert_cursor WHERE name = 'main'"
            )
            if cursor is None:
                cursor = closed_until - LOOKBACK_WINDOWS * self.window
            work = _Pass(await self._load_states(conn), await self._load_open(conn))
            if closed_until > cursor:
                await compute(conn, self.catalogue, cursor, closed_until, "1m")
                values = await self._values(conn, cursor, closed_until)
                start = cursor
                while start < closed_until:
                    await self._evaluate_window(conn, work, start, values.get(start, {}))
                    start += self.window
            await self._evaluate_no_data(conn, work, closed_until)
            await self._escalate(conn, work, now)
            await self._save(conn, work, max(cursor, closed_until))
        return work.transitions

    def _floor(self, at: datetime) -> datetime:
        step = self.window.total_seconds()
        return datetime.fromtimestamp(at.timestamp() // step * step, UTC)

    async def _values(
        self, conn: asyncpg.Connection, start: datetime, end: datetime
    ) -> dict[datetime, dict[tuple[str, str], float | None]]:
        rows = await conn.fetch(
            "SELECT kpi, area, bucket, numerator, denominator FROM kpi_values "
            "WHERE resolution = '1m' AND bucket >= $1 AND bucket < $2",
            start,
            end,
        )
        out: dict[datetime, dict[tuple[str, str], float | None]] = {}
        for r in rows:
            value = r["numerator"] / r["denominator"] if r["denominator"] else None
            out.setdefault(r["bucket"], {})[(r["kpi"], r["area"])] = value
        return out

    # --- KPI rules ---------------------------------------------------------------------

    async def _evaluate_window(
        self,
        conn: asyncpg.Connection,
        work: _Pass,
        start: datetime,
        values: dict[tuple[str, str], float | None],
    ) -> None:
        end = start + self.window
        day = start.astimezone(self.zone).date()
        for rule in self.rules.rules:
            if rule.kind == "no_data" or rule.kpi is None:
                continue
            kpi = self.catalogue.get(rule.kpi)
            for (kpi_id, code), value in values.items():
                if kpi_id != rule.kpi or value is None:
                    continue
                area = self._area(code, day)
                if area is None or area.level not in rule.levels:
                    continue
                state = work.states.setdefault((rule.id, code), _State())
                breach, clear, threshold = self._judge(rule, kpi, area, value, state)
                await self._step(
                    conn, work, rule, kpi, area, state, breach, clear, value, threshold, start, end
                )

    def _judge(
        self, rule: Rule, kpi: Kpi, area: Area, value: float, state: _State
    ) -> tuple[bool, bool, float | None]:
        """(breach, clear, threshold) of one value; updates the EWMA of anomaly rules."""
        if rule.kind == "anomaly":
            return self._anomaly(rule, kpi, value, state)
        if rule.kind == "threshold":
            if rule.below is not None:
                return value < rule.below, value >= rule.below + rule.hysteresis, rule.below
            assert rule.above is not None
            return value > rule.above, value <= rule.above - rule.hysteresis, rule.above
        target = kpi.target_for(area.level)
        if target is None:
            return False, True, None
        if kpi.direction == "higher":
            line = target - rule.margin
            return value < line, value >= line + rule.hysteresis, target
        line = target + rule.margin
        return value > line, value <= line - rule.hysteresis, target

    @staticmethod
    def _anomaly(rule: Rule, kpi: Kpi, value: float, state: _State) -> tuple[bool, bool, None]:
        breach = False
        if state.mean is not None and state.n >= rule.min_history and state.var > 0:
            z = (value - state.mean) / math.sqrt(state.var)
            breach = z <= -rule.z if kpi.direction == "higher" else z >= rule.z
        if not breach:  # the anomaly must not become the new normal
            if state.mean is None:
                state.mean, state.var = value, 0.0
            else:
                delta = value - state.mean
                state.mean += rule.alpha * delta
                state.var = (1 - rule.alpha) * (state.var + rule.alpha * delta * delta)
            state.n += 1
        return breach, not breach, None

    async def _step(
        self,
        conn: asyncpg.Connection,
        work: _Pass,
        rule: Rule,
        kpi: Kpi | None,
        area: Area,
        state: _State,
        breach: bool,
        clear: bool,
        value: float | None,
        threshold: float | None,
        start: datetime,
        end: datetime,
    ) -> None:
        key = (rule.id, area.code)
        alert = work.open.get(key)
        if breach:
            state.breach_streak += 1
            state.clear_streak = 0
            state.first_breach = state.first_breach or start
            if alert is None and state.breach_streak >= rule.for_windows:
                await self._fire(
                    conn, work, rule, kpi, area, value, threshold, state.first_breach, end
                )
            elif alert is not None:
                alert.last_value = value
        elif clear:
            state.clear_streak += 1
            state.breach_streak = 0
            state.first_breach = None
            if alert is not None and state.clear_streak >= rule.clear_windows:
                await self._resolve(conn, work, rule, kpi, area, alert, value, end)
        else:  # inside the hysteresis band: neither streak continues
            state.breach_streak = state.clear_streak = 0

    # --- no-data rules -----------------------------------------------------------------

    async def _evaluate_no_data(
        self, conn: asyncpg.Connection, work: _Pass, closed_until: datetime
    ) -> None:
        for rule in self.rules.rules:
            if rule.kind != "no_data":
                continue
            silent_since = closed_until - timedelta(minutes=rule.silent_minutes)
            rows = await conn.fetch(
                "SELECT area, max(window_start) AS last FROM window_metrics "
                "WHERE metric LIKE $1 AND window_start >= $2 GROUP BY area",
                f"{rule.feed}.%",
                closed_until - timedelta(days=1),
            )
            last_by_level: dict[str, datetime] = {}
            day = closed_until.astimezone(self.zone).date()
            for row in rows:
                for ancestor in self._with_ancestors(row["area"], day):
                    seen = last_by_level.get(ancestor.code)
                    if seen is None or row["last"] > seen:
                        last_by_level[ancestor.code] = row["last"]
            for code, last in last_by_level.items():
                found = self._area(code, day)
                if found is None or found.level not in rule.levels:
                    continue
                area = found
                state = work.states.setdefault((rule.id, code), _State())
                silent = last + self.window <= silent_since
                # No-data is judged once per pass: one breach or clear = the whole duration.
                state.breach_streak = rule.for_windows - 1 if silent else 0
                state.clear_streak = rule.clear_windows - 1 if not silent else 0
                await self._step(
                    conn,
                    work,
                    rule,
                    None,
                    area,
                    state,
                    silent,
                    not silent,
                    None,
                    None,
                    last + self.window,
                    closed_until,
                )

    # --- transitions -------------------------------------------------------------------

    async def _fire(
        self,
        conn: asyncpg.Connection,
        work: _Pass,
        rule: Rule,
        kpi: Kpi | None,
        area: Area,
        value: float | None,
        target: float | None,
        since: datetime,
        at: datetime,
    ) -> None:
        contributors: tuple[Contributor, ...] = ()
        if kpi is not None and area.level != "commune":
            contributors = tuple(await self._contributors(conn, kpi, area, since, at))[:5]
        entities, entities_down = await self._at_fault(conn, kpi, area, at)
        alert_id = await conn.fetchval(
            "INSERT INTO alerts (rule_id, area, severity, kpi_id, state, level, started_at, "
            "fired_at, last_value, target, contributors, entities, entities_down) "
            "VALUES ($1, $2, $3, $4, 'firing', 0, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11) "
            "RETURNING id",
            rule.id,
            area.code,
            rule.severity.value,
            rule.kpi,
            since,
            at,
            value,
            target,
            json.dumps([c.__dict__ for c in contributors], ensure_ascii=False),
            json.dumps([_entity_json(e) for e in entities], ensure_ascii=False),
            entities_down,
        )
        work.open[(rule.id, area.code)] = _Open(
            alert_id, rule.id, area.code, AlertState.FIRING, 0, since, at, value, target
        )
        await self._transition(
            conn,
            work,
            rule,
            kpi,
            area,
            alert_id,
            TransitionKind.FIRED,
            value,
            target,
            since,
            at,
            contributors=contributors,
            entities=entities,
            entities_down=entities_down,
        )

    async def _at_fault(
        self, conn: asyncpg.Connection, kpi: Kpi | None, area: Area, at: datetime
    ) -> tuple[tuple[EntityAtFault, ...], int]:
        """The entities down in the area at ``at``, for a KPI on the availability of entities.

        The KPI's feed reports each entity's state, and the event store keeps every report:
        "availability fell in Phường Phố Hiến" becomes "these points were down", as they stood
        at ``at`` even when the windows are evaluated late (a backfill, a catching-up pass).
        """
        from ioc.entities import down_at

        if kpi is None:
            return (), 0
        down, total = await down_at(conn, kpi, area.code, at, limit=MAX_ENTITIES)
        day = at.astimezone(self.zone).date()
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
        rule: Rule,
        kpi: Kpi | None,
        area: Area,
        alert: _Open,
        value: float | None,
        at: datetime,
    ) -> None:
        await conn.execute(
            "UPDATE alerts SET state = 'resolved', resolved_at = $2, last_value = $3 WHERE id = $1",
            alert.id,
            at,
            value,
        )
        del work.open[(rule.id, area.code)]
        await self._transition(
            conn,
            work,
            rule,
            kpi,
            area,
            alert.id,
            TransitionKind.RESOLVED,
            value,
            alert.target,
            alert.since,
            at,
            level=alert.level,
        )

    async def _escalate(self, conn: asyncpg.Connection, work: _Pass, now: datetime) -> None:
        rules = {rule.id: rule for rule in self.rules.rules}
        for alert in list(work.open.values()):
            rule = rules.get(alert.rule_id)
            if rule is None or rule.escalate_after_minutes is None:
                continue
            if alert.state is not AlertState.FIRING:
                continue  # acknowledged: somebody is on it
            area = self._area(alert.area, now.astimezone(self.zone).date())
            if area is None:
                continue
            chain = self._with_ancestors(area.code, now.astimezone(self.zone).date())
            due = alert.fired_at + timedelta(minutes=rule.escalate_after_minutes) * (
                alert.level + 1
            )
            if now < due or alert.level + 1 >= len(chain):
                continue
            alert.level += 1
            stored = await conn.fetchrow(
                "UPDATE alerts SET level = $2 WHERE id = $1 RETURNING entities, entities_down",
                alert.id,
                alert.level,
            )
            kpi = self.catalogue.get(rule.kpi) if rule.kpi else None
            await self._transition(
                conn,
                work,
                rule,
                kpi,
                area,
                alert.id,
                TransitionKind.ESCALATED,
                alert.last_value,
                alert.target,
                alert.since,
                now,
                level=alert.level,
                # The next level's leaders learn which points are at fault too.
                entities=_entities_from_json(stored["entities"]) if stored else (),
                entities_down=stored["entities_down"] if stored else 0,
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
            row = await conn.fetchrow(
                "UPDATE alerts SET state = 'acknowledged', acknowledged_at = $2, "
                "acknowledged_by = $3 WHERE id = $1 AND state = 'firing' RETURNING *",
                alert_id,
                now,
                actor,
            )
            if row is None:
                state = await conn.fetchval("SELECT state FROM alerts WHERE id = $1", alert_id)
                raise LookupError(
                    f"alert {alert_id} does not exist"
                    if state is None
                    else f"alert {alert_id} is {state}, only a firing alert can be acknowledged"
                )
            # Nothing resolves an alert whose rule was removed from the rules file or whose
            # area was abolished since it fired: taking it on must still work. The rule then
            # stands in as the alert row kept it; the area is named as it last was (routing
            # sends an area no longer valid to the province's leaders).
            rule = next((r for r in self.rules.rules if r.id == row["rule_id"]), None)
            rule = rule or _retired_rule(row)
            versions = self.areas.versions(row["area"])
            area = self._area(row["area"], now.astimezone(self.zone).date())
            area = area or (versions[-1] if versions else None)
            if area is None:
                raise LookupError(f"alert {alert_id}'s area {row['area']} is in no areas file")
            kpi = self.catalogue.get(rule.kpi) if rule.kpi and rule.kpi in self.catalogue else None
            work = _Pass({}, {})
            await self._transition(
                conn,
                work,
                rule,
                kpi,
                area,
                alert_id,
                TransitionKind.ACKNOWLEDGED,
                row["last_value"],
                row["target"],
                row["started_at"],
                now,
                level=row["level"],
                actor=actor,
            )
        return work.transitions[0]

    async def _transition(
        self,
        conn: asyncpg.Connection,
        work: _Pass,
        rule: Rule,
        kpi: Kpi | None,
        area: Area,
        alert_id: int,
        kind: TransitionKind,
        value: float | None,
        target: float | None,
        since: datetime,
        at: datetime,
        *,
        level: int = 0,
        actor: str | None = None,
        contributors: tuple[Contributor, ...] = (),
        entities: tuple[EntityAtFault, ...] = (),
        entities_down: int = 0,
    ) -> None:
        transition = Transition(
            alert_id=alert_id,
            kind=kind,
            rule_id=rule.id,
            severity=Severity(rule.severity),
            area=area.code,
            area_name_vi=area.name_vi,
            area_level=area.level,
            kpi_id=kpi.id if kpi else None,
            kpi_name_vi=kpi.name_vi if kpi else f"dữ liệu {rule.feed}",
            kpi_name_en=kpi.name_en if kpi else f"{rule.feed} data",
            value=value,
            target=target,
            unit=kpi.unit if kpi else "ratio",
            since=since,
            at=at,
            level=level,
            actor=actor,
            contributors=contributors,
            entities=entities,
            entities_down=entities_down,
        )
        transition = replace(
            transition,
            summary_vi=self._summary(transition, "vi"),
            summary_en=self._summary(transition, "en"),
        )
        held = await self._held(conn, rule.id, area.code, at)
        await conn.execute(
            "INSERT INTO alert_history (alert_id, kind, at, level, actor, value, notified) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
            alert_id,
            kind.value,
            at,
            level,
            actor,
            value,
            not held,
        )
        if not held and self._route is not None and self._enqueue is not None:
            deliveries = self._route(transition)
            await self._enqueue(conn, transition, deliveries)
        work.transitions.append(transition)
        log.info("alert %d %s: %s", alert_id, kind.value, transition.summary_en)

    async def _held(self, conn: asyncpg.Connection, rule_id: str, area: str, at: datetime) -> bool:
        """True if a silence or a mute window holds this rule's notifications back now."""
        if self.rules.muted(rule_id, at, self.zone):
            return True
        silenced = await conn.fetchval(
            "SELECT count(*) FROM silences WHERE starts_at <= $3 AND ends_at > $3 "
            "AND $1 LIKE replace(rule_pattern, '*', '%') AND (area IS NULL OR area = $2)",
            rule_id,
            area,
            at,
        )
        return bool(silenced)

    def _summary(self, t: Transition, language: str) -> str:
        """One line: what, where, value (vs target), since when, what happened, who weighs most."""
        words = _SUMMARY_WORDS[language]
        local = t.since.astimezone(self.zone)
        what = words[t.kind.value].format(actor=t.actor)
        name = t.kpi_name_vi if language == "vi" else t.kpi_name_en
        text = f"{name} {words['in']} {t.area_name_vi}: {format_value(t.value, t.unit, language)}"
        if t.target is not None:
            text += f" ({words['target']} {format_value(t.target, t.unit, language)})"
        text += f", {words['since']} {local.strftime(words['time'])} — {what}"
        if t.contributors:
            text += f"; {words['largest']}: {t.contributors[0].name_vi}"
        return text

    async def _contributors(
        self, conn: asyncpg.Connection, kpi: Kpi, area: Area, since: datetime, at: datetime
    ) -> list[Contributor]:
        from ioc.kpi_values import by_child

        current = await by_child(conn, kpi, area.code, since, at)
        baseline = await by_child(conn, kpi, area.code, since - BASELINE, since)
        return explain(
            [(a, n, float(x), float(y)) for a, n, x, y in current],
            [(a, n, float(x), float(y)) for a, n, x, y in baseline],
            kpi.direction,
        )

    # --- state ---------------------------------------------------------------------------

    async def _load_states(self, conn: asyncpg.Connection) -> dict[tuple[str, str], _State]:
        rows = await conn.fetch("SELECT * FROM alert_rule_state")
        return {
            (r["rule_id"], r["area"]): _State(
                r["breach_streak"],
                r["clear_streak"],
                r["first_breach"],
                r["ewma_mean"],
                r["ewma_var"],
                r["ewma_n"],
            )
            for r in rows
        }

    async def _load_open(self, conn: asyncpg.Connection) -> dict[tuple[str, str], _Open]:
        rows = await conn.fetch("SELECT * FROM alerts WHERE state <> 'resolved'")
        return {
            (r["rule_id"], r["area"]): _Open(
                r["id"],
                r["rule_id"],
                r["area"],
                AlertState(r["state"]),
                r["level"],
                r["started_at"],
                r["fired_at"],
                r["last_value"],
                r["target"],
            )
            for r in rows
        }

    async def _save(self, conn: asyncpg.Connection, work: _Pass, cursor: datetime) -> None:
        if work.states:
            keys = list(work.states)
            states = [work.states[k] for k in keys]
            await conn.execute(
                "INSERT INTO alert_rule_state AS s (rule_id, area, breach_streak, clear_streak, "
                "first_breach, ewma_mean, ewma_var, ewma_n) "
                "SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], "
                "$5::timestamptz[], $6::float8[], $7::float8[], $8::int[]) "
                "ON CONFLICT (rule_id, area) DO UPDATE SET breach_streak = EXCLUDED.breach_streak, "
                "clear_streak = EXCLUDED.clear_streak, first_breach = EXCLUDED.first_breach, "
                "ewma_mean = EXCLUDED.ewma_mean, ewma_var = EXCLUDED.ewma_var, "
                "ewma_n = EXCLUDED.ewma_n",
                [k[0] for k in keys],
                [k[1] for k in keys],
                [s.breach_streak for s in states],
                [s.clear_streak for s in states],
                [s.first_breach for s in states],
                [s.mean for s in states],
                [s.var for s in states],
                [s.n for s in states],
            )
        for alert in work.open.values():
            await conn.execute(
                "UPDATE alerts SET last_value = $2 WHERE id = $1", alert.id, alert.last_value
            )
        await conn.execute(
            "INSERT INTO alert_cursor (name, evaluated_until) VALUES ('main', $1) "
            "ON CONFLICT (name) DO UPDATE SET evaluated_until = EXCLUDED.evaluated_until",
            cursor,
        )

    # --- areas -------------------------------------------------------------------------

    def _area(self, code: str, day: Any) -> Area | None:
        try:
            return self.areas.get(code, on=day)
        except KeyError:
            return None

    def _with_ancestors(self, code: str, day: Any) -> list[Area]:
        """The area and its parents up to the province, nearest first."""
        chain: list[Area] = []
        area = self._area(code, day)
        while area is not None and len(chain) < len(_LEVELS):
            chain.append(area)
            area = self._area(area.parent, day) if area.parent else None
        return chain
