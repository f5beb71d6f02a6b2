"""Alerts people can trust (issue 21), on real PostgreSQL.

A no-data rule on DVC knows the one-stop shops' hours and Vietnam's public holidays
(`ioc/data/feed_calendar.yaml`): a night or a holiday without dossiers is "quiet as expected"
and fires nothing, a working morning without any does. A period rule judges the quarter's
value, not each minute: single bad windows in a good quarter fire nothing, a quarter below
95 % fires once, and the alert resolves when the quarter ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import asyncpg
import pytest

from ioc.alerts import store
from ioc.alerts.engine import Evaluator
from ioc.alerts.model import Transition, TransitionKind
from ioc.alerts.rules import load_rules
from ioc.api.context import ApiContext, RateLimiter, TtlCache
from ioc.api.queries.feeds import feeds
from ioc.areas import load_areas
from ioc.config import load_settings
from ioc.db import migrate, sync_areas
from ioc.indicators import load_indicators
from ioc.kpis import load_kpis
from ioc.localtime import ZONE

MINUTE = timedelta(minutes=1)
GRACE = timedelta(seconds=15)
WARD = "11953"  # Phường Phố Hiến

NO_DATA_RULES = """rules:
  - {id: dvc_no_data, kind: no_data, feed: dvc, silent_minutes: 240, severity: warning,
     levels: [province, commune]}
"""

PERIOD_RULES = """rules:
  - id: dvc_satisfaction_quarter
    kind: threshold
    kpi: dvc_satisfaction_rate
    period: quarter
    below: 0.95
    hysteresis: 0.005
    for_windows: 1
    clear_windows: 1
    every_minutes: 5
    severity: warning
    levels: [province]
"""


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    await migrate(connection)
    await sync_areas(connection, load_areas())
    yield connection
    await connection.close()


def _evaluator(tmp_path: Path, rules: str) -> Evaluator:
    path = tmp_path / "rules.yaml"
    path.write_text(rules, encoding="utf-8")
    catalogue = load_kpis()
    return Evaluator(
        catalogue,
        load_rules(path, {k.id for k in catalogue}),
        load_areas(),
        window=MINUTE,
        grace=GRACE,
    )


def _local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


async def _write(
    conn: asyncpg.Connection, rows: list[tuple[datetime, str, float]], area: str = WARD
) -> None:
    """Window rows as the stream workers write them: (window start, metric, sum)."""
    await conn.executemany(
        "INSERT INTO window_metrics (window_start, metric, area, count, sum, min, max) "
        "VALUES ($1, $2, $3, 1, $4, 1.0, 1.0)",
        [(start, metric, area, value) for start, metric, value in rows],
    )


async def _office_day(conn: asyncpg.Connection, y: int, m: int, d: int) -> None:
    """Dossiers received every 10 minutes from 07:30 to 16:50."""
    start, end = _local(y, m, d, 7, 30), _local(y, m, d, 16, 50)
    at, rows = start, []
    while at <= end:
        rows.append((at, "dvc.received", 1.0))
        at += 10 * MINUTE
    await _write(conn, rows)


async def _pass(conn: asyncpg.Connection, evaluator: Evaluator, at: datetime) -> list[Transition]:
    transitions = await evaluator.run_once(conn, at + GRACE)
    assert await evaluator.run_once(conn, at + GRACE) == []  # a repeated pass changes nothing
    return transitions


async def test_a_quiet_night_fires_nothing_and_a_silent_working_morning_does(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    evaluator = _evaluator(tmp_path, NO_DATA_RULES)
    await _office_day(conn, 2025, 9, 3)  # a Wednesday
    assert await _pass(conn, evaluator, _local(2025, 9, 3, 16, 55)) == []
    assert await store.quiet_areas(conn) == []  # open, and data a few minutes ago

    # The night: six hours without a dossier (the old rule fired after four).
    for at in (_local(2025, 9, 3, 23), _local(2025, 9, 4, 6)):
        assert await _pass(conn, evaluator, at) == []
    quiet = await store.quiet_areas(conn)
    assert {(q.rule_id, q.area) for q in quiet} == {("dvc_no_data", WARD), ("dvc_no_data", "33")}
    assert {q.reason_vi for q in quiet} == {"ngoài giờ làm việc"}
    assert {q.since for q in quiet} == {_local(2025, 9, 3, 17)}  # the office closed

    # Thursday morning, offices open, and still nothing: four office hours of silence fire.
    assert await _pass(conn, evaluator, _local(2025, 9, 4, 10)) == []
    assert await store.quiet_areas(conn) == []  # open again: no longer expected to be quiet
    fired = await _pass(conn, evaluator, _local(2025, 9, 4, 11, 25))
    assert {(t.kind, t.area) for t in fired} == {
        (TransitionKind.FIRED, WARD),
        (TransitionKind.FIRED, "33"),
    }
    assert all(t.since == _local(2025, 9, 3, 16, 51) for t in fired)  # since the last dossier


async def test_a_public_holiday_is_quiet_as_expected(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    evaluator = _evaluator(tmp_path, NO_DATA_RULES)
    await _office_day(conn, 2025, 8, 29)  # Friday before Quốc khánh (1 and 2 September)
    assert await _pass(conn, evaluator, _local(2025, 8, 29, 16, 55)) == []
    for at in (_local(2025, 9, 1, 10), _local(2025, 9, 2, 10)):
        assert await _pass(conn, evaluator, at) == []
        quiet = await store.quiet_areas(conn)
        assert {q.reason_vi for q in quiet} == {"Quốc khánh"}
        assert {q.area for q in quiet} == {WARD, "33"}
    # Wednesday, a working day: a morning without dossiers fires.
    fired = await _pass(conn, evaluator, _local(2025, 9, 3, 11, 25))
    assert {t.area for t in fired if t.kind is TransitionKind.FIRED} == {WARD, "33"}


async def _ratings(conn: asyncpg.Connection, start: datetime, satisfied: int, ratings: int) -> None:
    await _write(
        conn, [(start, "dvc.ratings", float(ratings)), (start, "dvc.satisfied", float(satisfied))]
    )


async def test_a_period_rule_fires_on_the_quarter_not_on_its_minute_noise(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    evaluator = _evaluator(tmp_path, PERIOD_RULES)
    # Q3 2025 so far: 60 days of 100 ratings, 97 satisfied (97 %).
    for day in range(60):
        await _ratings(conn, _local(2025, 7, 1, 9) + timedelta(days=day), 97, 100)
    # 30 August: single windows far below 95 % — the 1-minute noise of a good quarter.
    noise = _local(2025, 8, 30, 9)
    for minute in range(0, 12, 2):
        await _ratings(conn, noise + minute * MINUTE, 1, 4)
    transitions = []
    for minute in range(0, 14):
        transitions += await _pass(conn, evaluator, noise + (minute + 1) * MINUTE)
    assert transitions == []  # the quarter is at 96.9 %: nothing fires
    mark = await store.read_cursor(conn, "period:dvc_satisfaction_quarter")
    assert mark == noise + 11 * MINUTE  # evaluated every five minutes, not every window

    # A bad minute in the afternoon: 1,000 ratings, 700 satisfied. The quarter falls below
    # 95 %; it fires once, at the rule's next evaluation (not at the next window).
    bad = _local(2025, 8, 30, 14)
    assert await _pass(conn, evaluator, bad) == []  # evaluated at 14:00
    await _ratings(conn, bad, 700, 1000)
    transitions = []
    for minute in range(1, 30):
        found = await _pass(conn, evaluator, bad + minute * MINUTE)
        assert minute == 5 or found == []
        transitions += found
    assert [t.kind for t in transitions] == [TransitionKind.FIRED]
    fired = transitions[0]
    assert fired.at == bad + 5 * MINUTE
    assert fired.area == "33" and fired.target == 0.95
    assert fired.value == pytest.approx((60 * 97 + 6 + 700) / (60 * 100 + 24 + 1000))
    assert fired.since == _local(2025, 7, 1, 0)  # the quarter's value covers the quarter

    # The quarter ends: the alert resolves at its end, and Q4 starts afresh.
    await _ratings(conn, _local(2025, 10, 1, 9), 99, 100)
    ended = await _pass(conn, evaluator, _local(2025, 10, 1, 9, 30))
    assert [(t.kind, t.at) for t in ended] == [(TransitionKind.RESOLVED, _local(2025, 10, 1, 0))]
    assert ended[0].value == pytest.approx(fired.value)


async def test_a_period_alert_resolves_when_the_period_value_recovers(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    evaluator = _evaluator(tmp_path, PERIOD_RULES)
    start = _local(2025, 8, 1, 9)
    await _ratings(conn, start, 90, 100)
    fired = await _pass(conn, evaluator, start + 2 * MINUTE)
    assert [t.kind for t in fired] == [TransitionKind.FIRED]
    await _ratings(conn, start + 3 * MINUTE, 1000, 1000)  # the quarter: 1090/1100 = 99 %
    resolved = await _pass(conn, evaluator, start + 8 * MINUTE)
    assert [t.kind for t in resolved] == [TransitionKind.RESOLVED]
    assert resolved[0].value == pytest.approx(1090 / 1100)


async def test_feed_health_says_quiet_while_the_calendar_expects_it(
    conn: asyncpg.Connection, tmp_path: Path, database_url: str
) -> None:
    """`GET /api/v1/feeds`: a silent DVC is "quiet" when closed, "down" when it should send."""
    soon = (datetime.now(ZONE) + timedelta(days=3)).strftime("%a").lower()
    states = {}
    for name, days in (("closed", f"[{soon}]"), ("open", "[mon, tue, wed, thu, fri, sat, sun]")):
        path = tmp_path / f"{name}.yaml"
        path.write_text(
            f"feeds:\n  dvc:\n    open:\n      - {{days: {days}, hours: ['00:00-23:59:59']}}\n"
            "    holidays: false\n",
            encoding="utf-8",
        )
        settings = load_settings(
            database_url=database_url,
            state_dir=tmp_path / "state",
            alerts={"calendar_file": path},
        )
        ctx = ApiContext(
            settings=settings,
            pool=cast(asyncpg.Pool, None),  # feeds() reads through the connection it is given
            catalogue=load_kpis(),
            rules=load_rules(),
            areas=load_areas(),
            limiter=RateLimiter(60, 10),
            auth_limiter=RateLimiter(60, 10),
            cache=TtlCache(1.0),
            evaluator=_evaluator(tmp_path, NO_DATA_RULES),
            indicators=load_indicators(),
        )
        body = await feeds(ctx, conn, None)
        states[name] = {f["feed"]: f["state"] for f in body["items"]}["dvc"]
    assert states == {"closed": "quiet", "open": "down"}
