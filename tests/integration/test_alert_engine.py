"""The alert evaluator on real PostgreSQL: a network outage in one ward, window by window.

Window rows are written as the stream workers would; the evaluator runs pass by pass with a
moving clock. The ward's alert fires after the rule's number of windows and names the ward,
the provincial alert ranks the ward first in its explanation, acknowledging stops
escalation, recovery resolves, and every transition puts exactly one message per recipient
and channel in the outbox — however often a pass is repeated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import asyncpg
import pytest

from ioc.alerts import silences
from ioc.alerts.engine import Evaluator
from ioc.alerts.model import TransitionKind
from ioc.alerts.rules import load_rules
from ioc.api.context import ApiContext, RateLimiter, TtlCache
from ioc.api.queries.alerts import alert_json
from ioc.areas import load_areas
from ioc.config import load_settings
from ioc.db import migrate, sync_areas
from ioc.indicators import load_indicators
from ioc.kpis import load_kpis
from ioc.notify.routing import load_recipients
from ioc.services import outbox_sink

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 08:00 in Hưng Yên
MINUTE = timedelta(minutes=1)
OUTAGE = "11953"  # Phường Phố Hiến; it has its own leader in the shipped recipients file
OTHERS = ("11983", "11980")
DOWN = range(5, 12)  # windows (minutes after T0) when the ward's points are down
GRACE = timedelta(seconds=15)

RULES = """rules:
  - id: network_special_down
    kind: threshold
    kpi: network_special_availability
    below: 0.98
    hysteresis: 0.01
    for_windows: 3
    clear_windows: 2
    severity: critical
    levels: [province, commune]
    escalate_after_minutes: 5
"""


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    await migrate(connection)
    await sync_areas(connection, load_areas())
    yield connection
    await connection.close()


def _evaluator(tmp_path: Path) -> Evaluator:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES, encoding="utf-8")
    catalogue = load_kpis()
    areas = load_areas()
    recipients = load_recipients(None, areas)
    return Evaluator(
        catalogue,
        load_rules(path, {k.id for k in catalogue}),
        areas,
        window=MINUTE,
        grace=GRACE,
        notify=outbox_sink(recipients, areas),
    )


async def _write_minute(conn: asyncpg.Connection, minute: int) -> None:
    """Four special-network samples per ward; the outage ward's are down in DOWN."""
    start = T0 + minute * MINUTE
    rows = []
    for area in (OUTAGE, *OTHERS):
        up = 0 if area == OUTAGE and minute in DOWN else 4
        rows.append((start, "network.special_network.samples", area, 4, 4.0, 1.0, 1.0))
        if up:
            rows.append((start, "network.special_network.up", area, up, float(up), 1.0, 1.0))
    await conn.executemany(
        "INSERT INTO window_metrics (window_start, metric, area, count, sum, min, max) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        rows,
    )


async def _run(conn: asyncpg.Connection, evaluator: Evaluator, minutes: range) -> list:
    transitions = []
    for minute in minutes:
        await _write_minute(conn, minute)
        now = T0 + (minute + 1) * MINUTE + GRACE  # the window just closed
        transitions += await evaluator.run_once(conn, now)
        assert await evaluator.run_once(conn, now) == []  # a repeated pass changes nothing
    return transitions


async def test_an_outage_fires_names_the_ward_explains_and_resolves(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    evaluator = _evaluator(tmp_path)
    transitions = await _run(conn, evaluator, range(0, 9))

    fired = {t.area: t for t in transitions if t.kind is TransitionKind.FIRED}
    assert set(fired) == {OUTAGE, "33"}
    ward = fired[OUTAGE]
    assert ward.since == T0 + 5 * MINUTE  # since the first bad window
    assert ward.at == T0 + 8 * MINUTE  # after three bad windows: within the rule's duration
    assert ward.value == 0.0 and ward.area_name_vi == "Phường Phố Hiến"
    assert "Phường Phố Hiến" in ward.summary_vi and "từ 08:05 23/11/2026" in ward.summary_vi
    province = fired["33"]
    assert province.value == pytest.approx(8 / 12)
    assert province.contributors[0].area == OUTAGE  # the explanation ranks the ward first
    assert province.contributors[0].rate_effect > 0.3

    # Acknowledging the ward's alert stops its escalation; nobody acknowledges the province's,
    # which has no level above it.
    await evaluator.acknowledge(conn, ward.alert_id, "Trực ban IOC", T0 + 9 * MINUTE)
    transitions = await _run(conn, evaluator, range(9, 16))
    kinds = [(t.area, t.kind) for t in transitions]
    assert (OUTAGE, TransitionKind.ESCALATED) not in kinds
    assert (OUTAGE, TransitionKind.RESOLVED) in kinds and ("33", TransitionKind.RESOLVED) in kinds
    resolved = next(t for t in transitions if t.area == OUTAGE)
    assert resolved.at == T0 + 14 * MINUTE  # two clear windows after the outage ended

    rows = await conn.fetch(
        "SELECT alert_id, transition, recipient, channel, count(*) AS n "
        "FROM notification_outbox GROUP BY 1, 2, 3, 4"
    )
    assert rows and all(r["n"] == 1 for r in rows)
    ward_messages = {
        (r["transition"], r["recipient"]) for r in rows if r["alert_id"] == ward.alert_id
    }
    assert {t for t, _ in ward_messages} == {"fired", "acknowledged", "resolved"}
    history = await conn.fetch(
        "SELECT kind, actor FROM alert_history WHERE alert_id = $1 ORDER BY id", ward.alert_id
    )
    assert [(r["kind"], r["actor"]) for r in history] == [
        ("fired", None),
        ("acknowledged", "Trực ban IOC"),
        ("resolved", None),
    ]


async def test_an_unacknowledged_alert_escalates_and_a_silence_holds_messages(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    evaluator = _evaluator(tmp_path)
    await silences.create(
        conn, "network_*", timedelta(hours=1), reason="bảo trì", by="test", area="33", now=T0
    )
    transitions = await _run(conn, evaluator, range(0, 13))
    escalated = [t for t in transitions if t.kind is TransitionKind.ESCALATED]
    assert [(t.area, t.level) for t in escalated] == [(OUTAGE, 1)]
    assert escalated[0].at >= T0 + 13 * MINUTE  # five minutes after firing

    province = next(t for t in transitions if t.area == "33")
    notified = await conn.fetchval(
        "SELECT bool_or(notified) FROM alert_history WHERE alert_id = $1", province.alert_id
    )
    assert notified is False  # silenced: recorded, nobody told
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM notification_outbox WHERE alert_id = $1", province.alert_id
        )
        == 0
    )


async def test_the_api_and_the_messages_sum_an_alert_up_in_the_same_words(
    conn: asyncpg.Connection, tmp_path: Path, database_url: str
) -> None:
    """One summary (ioc.text): the API's line for an alert is the line its e-mails carry."""
    evaluator = _evaluator(tmp_path)
    transitions = await _run(conn, evaluator, range(0, 9))
    fired = [t for t in transitions if t.kind is TransitionKind.FIRED]
    assert {t.area for t in fired} == {OUTAGE, "33"}
    ctx = ApiContext(
        settings=load_settings(database_url=database_url),
        pool=cast(asyncpg.Pool, None),  # alert_json reads the row it is given, not the pool
        catalogue=evaluator.catalogue,
        rules=evaluator.rules,
        areas=load_areas(),
        limiter=RateLimiter(60, 10),
        auth_limiter=RateLimiter(60, 10),
        cache=TtlCache(1.0),
        evaluator=evaluator,
        indicators=load_indicators(),
    )
    for transition in fired:
        row = await conn.fetchrow("SELECT * FROM alerts WHERE id = $1", transition.alert_id)
        shown = alert_json(ctx, row)
        assert shown["summary_vi"] == transition.summary_vi
        assert shown["summary_en"] == transition.summary_en
        bodies = await conn.fetch(
            "SELECT language, body FROM notification_outbox "
            "WHERE alert_id = $1 AND transition = 'fired'",
            transition.alert_id,
        )
        assert bodies
        for message in bodies:
            summary = shown["summary_vi" if message["language"] == "vi" else "summary_en"]
            assert summary in message["body"].splitlines()


async def test_an_alert_whose_rule_was_removed_or_whose_area_was_abolished_can_be_acknowledged(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    """Both used to be a 500 from `POST /alerts/{id}/ack` (StopIteration, a failed assert)."""
    ids = [
        await conn.fetchval(
            "INSERT INTO alerts (rule_id, area, severity, kpi_id, state, level, started_at, "
            "fired_at, last_value) VALUES ($1, $2, $3, $4, 'firing', 0, $5, $5, 0.5) RETURNING id",
            rule_id,
            area,
            severity,
            kpi_id,
            started,
        )
        for rule_id, area, severity, kpi_id, started in [
            # Thành phố Hưng Yên, a district until 2025-07-01.
            (
                "network_special_down",
                "323",
                "critical",
                "network_special_availability",
                datetime(2025, 6, 30, 3, tzinfo=UTC),
            ),
            ("removed_rule", OUTAGE, "warning", "network_special_availability", T0),
            ("removed_no_data", OUTAGE, "info", None, T0),
        ]
    ]
    evaluator = _evaluator(tmp_path)
    acknowledged = [await evaluator.acknowledge(conn, i, "Trực ban IOC", T0) for i in ids]
    assert [(t.kind, t.rule_id, t.area_name_vi, t.severity) for t in acknowledged] == [
        (TransitionKind.ACKNOWLEDGED, "network_special_down", "Thành phố Hưng Yên", "critical"),
        (TransitionKind.ACKNOWLEDGED, "removed_rule", "Phường Phố Hiến", "warning"),
        (TransitionKind.ACKNOWLEDGED, "removed_no_data", "Phường Phố Hiến", "info"),
    ]
    assert acknowledged[2].kpi_name_vi == "dữ liệu removed_no_data"
    states = await conn.fetch("SELECT state FROM alerts WHERE id = ANY($1::bigint[])", ids)
    assert {r["state"] for r in states} == {"acknowledged"}
