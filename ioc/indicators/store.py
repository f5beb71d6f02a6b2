"""Indicator values: checking an entry, storing it with its history, and each indicator's state.

Every entry goes through :func:`check_entry` (the API's JSON, each row of an upload, the CLI's
import) and is stored by :func:`save`, all of a batch in one transaction: the current value in
``indicator_values``, and one line in ``indicator_value_history`` with the value it replaced,
who entered it and when. A correction is a new entry for the same indicator, area and period.

:func:`states` tells, for one area, where each indicator stands today:

- ``reported``: the period due now (the last one that has ended) has a value;
- ``due``: it has none yet, and its due day has not passed;
- ``late``: its due day has passed without a value ("Chưa báo cáo", not reported yet) — also
  when the period before it is still missing past its own due day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final, Literal

import asyncpg

from ioc.areas import Area, AreaLevel, AreaRegistry
from ioc.indicators.catalogue import Indicator, IndicatorCatalogue, value_problem
from ioc.indicators.periods import due_date, latest_ended, parse_period, previous
from ioc.kpis.periods import Period, PeriodError

__all__ = [
    "STATE_LABELS",
    "Entry",
    "IndicatorState",
    "Saved",
    "State",
    "Via",
    "check_entry",
    "history",
    "save",
    "states",
    "sync_catalogue",
]

State = Literal["reported", "due", "late"]
Via = Literal["api", "upload", "cli"]

STATE_LABELS: Final[dict[State, tuple[str, str]]] = {
    "reported": ("Đã báo cáo", "Reported"),
    "due": ("Chờ báo cáo", "Due"),
    "late": ("Chưa báo cáo", "Not reported yet"),
}
"""Each state in Vietnamese and English, as the board, the CLI and Grafana say it."""


@dataclass(frozen=True)
class Entry:
    """One value to store: an indicator's value for an area and a period."""

    indicator: Indicator
    area: Area
    period: Period
    value: float
    note: str | None = None


@dataclass(frozen=True)
class Saved:
    """An entry once stored: the value it replaced (None: the first), its revision, when."""

    entry: Entry
    previous: float | None
    revision: int
    at: datetime


def check_entry(
    catalogue: IndicatorCatalogue,
    areas: AreaRegistry,
    *,
    indicator: str,
    area: str,
    period: str,
    value: float,
    today: date,
    note: str | None = None,
    scope: frozenset[str] | None = None,
    department: str | None = None,
) -> tuple[Entry | None, list[tuple[str, str]]]:
    """Check one entry against the catalogue, the areas and the calendar.

    Args:
        catalogue: The indicators.
        areas: The province's areas, past and present.
        indicator: The indicator's id.
        area: The area's GSO code.
        period: ``2025-07``, ``2025-Q3`` or ``2025``, of the indicator's period.
        value: The value in the indicator's unit (a fraction 0–1 for percent).
        today: The local day: a period that has not ended cannot be reported.
        note: A remark kept with the value.
        scope: Area codes the caller may enter values for; None: any.
        department: The department whose indicators the caller may enter; None: any.

    Returns:
        The entry and no problems, or None and (field, reason) for every problem.
    """
    problems: list[tuple[str, str]] = []
    try:
        found: Indicator | None = catalogue.get(indicator)
    except KeyError as err:
        found = None
        problems.append(("indicator", str(err.args[0])))
    chosen: Period | None = None
    if found is not None and department is not None and found.department != department:
        owner = catalogue.department(found).name_vi
        mine = catalogue.departments.get(department)
        problems.append(
            (
                "indicator",
                f"{found.id} is reported by {owner}; this key enters only "
                f"{mine.name_vi if mine else department}'s indicators",
            )
        )
    if found is not None:
        try:
            chosen = parse_period(found.period, period)
        except PeriodError as err:
            problems.append(("period", str(err)))
        if chosen is not None and chosen.last >= today:
            problems.append(
                (
                    "period",
                    f"{chosen.label} ends on {chosen.last:%d/%m/%Y}: a value is entered once "
                    "its period has ended",
                )
            )
        problem = value_problem(found.unit, value)
        if problem:
            problems.append(("value", problem))
    where: Area | None = None
    if not areas.versions(area):
        problems.append(("area", f"no area has code {area!r}"))
    elif scope is not None and area not in scope:
        problems.append(("area", f"area {area} is outside this key's scope"))
    elif chosen is not None:
        try:
            where = areas.get(area, chosen.last)
        except KeyError as err:
            problems.append(("area", str(err.args[0])))
    if where is not None and found is not None and where.level not in found.levels:
        levels = ", ".join(level.value for level in found.levels)
        problems.append(
            (
                "area",
                f"{where.name_vi} is a {where.level.value}; {found.id} is reported by {levels}",
            )
        )
    if note is not None and len(note) > 500:
        problems.append(("note", "at most 500 characters"))
    if problems or found is None or chosen is None or where is None:
        return None, problems
    return Entry(found, where, chosen, value, note or None), []


async def save(
    conn: asyncpg.Connection,
    entries: Sequence[Entry],
    *,
    by: str,
    key_id: str | None,
    via: Via,
    at: datetime | None = None,
) -> list[Saved]:
    """Store the entries, all or none, each with a history line naming ``by`` and the time.

    Entries for the same indicator, area and period are stored in order (the last wins, and
    the history keeps each).
    """
    out: list[Saved] = []
    at = at or datetime.now(UTC)
    async with conn.transaction():
        for entry in entries:
            key = (entry.indicator.id, entry.area.code, entry.period.label)
            # Two departments' uploads of the same period at once: the second waits, so its
            # history line names the value the first stored (FOR UPDATE locks no missing row).
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext($1 || '/' || $2 || '/' || $3))", *key
            )
            row = await conn.fetchrow(
                "SELECT value, revision FROM indicator_values "
                "WHERE indicator = $1 AND area = $2 AND period = $3 FOR UPDATE",
                *key,
            )
            previous_value = None if row is None else float(row["value"])
            revision = 1 if row is None else int(row["revision"]) + 1
            await conn.execute(
                "INSERT INTO indicator_values (indicator, area, period, period_start, "
                "period_end, value, note, entered_by, key_id, entered_at, via, revision) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
                "ON CONFLICT (indicator, area, period) DO UPDATE SET value = EXCLUDED.value, "
                "note = EXCLUDED.note, entered_by = EXCLUDED.entered_by, "
                "key_id = EXCLUDED.key_id, entered_at = EXCLUDED.entered_at, "
                "via = EXCLUDED.via, revision = EXCLUDED.revision",
                *key,
                entry.period.first,
                entry.period.last,
                entry.value,
                entry.note,
                by,
                key_id,
                at,
                via,
                revision,
            )
            await conn.execute(
                "INSERT INTO indicator_value_history (indicator, area, period, value, previous, "
                "revision, note, entered_by, key_id, entered_at, via) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                *key,
                entry.value,
                previous_value,
                revision,
                entry.note,
                by,
                key_id,
                at,
                via,
            )
            out.append(Saved(entry, previous_value, revision, at))
    return out


@dataclass(frozen=True)
class IndicatorState:
    """Where one indicator of one area stands today.

    Attributes:
        indicator: The indicator.
        area: The area.
        period: The period the state is about: the one due now, or an earlier one still
            missing past its due day.
        due: The last day its value is on time.
        state: reported, due or late.
        value: The value of ``period``; None when not reported.
        target: The target of the area's level; None: no target.
        meets: Whether ``value`` reaches it; None without a value or a target.
        last_value: The latest value of any period (context when ``period`` has none).
        last_period: Its period.
        entered_by: Who entered ``value`` (or ``last_value``).
        entered_at: When.
    """

    indicator: Indicator
    area: Area
    period: Period
    due: date
    state: State
    value: float | None
    target: float | None
    meets: bool | None
    last_value: float | None
    last_period: str | None
    entered_by: str | None
    entered_at: datetime | None


async def states(
    conn: asyncpg.Connection, catalogue: IndicatorCatalogue, area: Area, today: date
) -> list[IndicatorState]:
    """Every indicator the area's level reports, with its state on ``today`` (local day)."""
    chosen = [i for i in catalogue if area.level in i.levels]
    # Only the period due now and the one before it are judged.
    due_now = {i.id: latest_ended(i.period, today) for i in chosen}
    wanted = {p.label for p in due_now.values()} | {previous(p).label for p in due_now.values()}
    rows = await conn.fetch(
        "SELECT indicator, period, value, entered_by, entered_at FROM indicator_values "
        "WHERE area = $1 AND indicator = ANY($2::text[]) AND period = ANY($3::text[])",
        area.code,
        [i.id for i in chosen],
        sorted(wanted),
    )
    values: dict[tuple[str, str], asyncpg.Record] = {(r["indicator"], r["period"]): r for r in rows}
    latest = await conn.fetch(
        "SELECT DISTINCT ON (indicator) indicator, period, value, entered_by, entered_at "
        "FROM indicator_values WHERE area = $1 AND indicator = ANY($2::text[]) "
        "ORDER BY indicator, period_start DESC",
        area.code,
        [i.id for i in chosen],
    )
    last = {r["indicator"]: r for r in latest}
    out: list[IndicatorState] = []
    for indicator in chosen:
        period = due_now[indicator.id]
        state: State
        row = values.get((indicator.id, period.label))
        if row is not None:
            state = "reported"
        elif today <= due_date(indicator, period):
            state = "due"
            before = previous(period)
            if (indicator.id, before.label) not in values and today > due_date(indicator, before):
                state, period = "late", before
        else:
            state = "late"
        value = None if row is None else float(row["value"])
        target = indicator.target_for(area.level)
        recent = row if row is not None else last.get(indicator.id)
        out.append(
            IndicatorState(
                indicator=indicator,
                area=area,
                period=period,
                due=due_date(indicator, period),
                state=state,
                value=value,
                target=target,
                meets=indicator.meets(value, area.level),
                last_value=None if recent is None else float(recent["value"]),
                last_period=None if recent is None else recent["period"],
                entered_by=None if recent is None else recent["entered_by"],
                entered_at=None if recent is None else recent["entered_at"],
            )
        )
    return out


async def history(
    conn: asyncpg.Connection, indicator: str, area: str, limit: int = 50
) -> list[asyncpg.Record]:
    """The entries of one indicator in one area, newest first (corrections included)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT period, value, previous, revision, note, entered_by, entered_at, via "
        "FROM indicator_value_history WHERE indicator = $1 AND area = $2 "
        "ORDER BY id DESC LIMIT $3",
        indicator,
        area,
        limit,
    )
    return rows


async def sync_catalogue(conn: asyncpg.Connection, catalogue: IndicatorCatalogue) -> None:
    """Write the catalogue to the ``indicators`` table the Grafana boards read.

    Replaces the table's rows in one transaction; stored values are kept, even of an
    indicator the catalogue no longer has.
    """
    rows = []
    for position, i in enumerate(catalogue):
        department = catalogue.department(i)
        rows.append(
            (
                i.id,
                position,
                i.name_vi,
                i.name_en,
                i.unit,
                i.direction,
                i.period,
                department.name_vi,
                department.name_en,
                i.due_days,
                [level.value for level in i.levels],
                *(i.target_for(level) for level in AreaLevel),
                None if i.target is None else i.target.source,
                i.target is not None and i.target.estimate,
            )
        )
    async with conn.transaction():
        await conn.execute("DELETE FROM indicators")
        await conn.executemany(
            "INSERT INTO indicators (id, position, name_vi, name_en, unit, direction, period, "
            "department_vi, department_en, due_days, levels, target_province, "
            "target_district, target_commune, target_source, target_estimate) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            rows,
        )
