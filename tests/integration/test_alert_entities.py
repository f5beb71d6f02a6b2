"""An availability alert names the points at fault: in its row, its messages, its escalation.

Real network samples go through the stream workers' sink minute by minute (windows and
``entity_status`` together, as a worker writes them) and the shipped evaluator runs after
each closed window, as in test_alert_engine. Three of the four special-network points of
Phường Phố Hiến go down for seven minutes; the ward's and the province's alerts must name
exactly those three, longest down first, and nothing else.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from ioc.alerts.engine import Evaluator
from ioc.alerts.model import TransitionKind
from ioc.events import Envelope, NetworkPointKind, NetworkSample
from ioc.streams.sink import to_counted, write_batch
from tests.integration.test_alert_engine import (  # noqa: F401 (conn is a fixture)
    DOWN,
    GRACE,
    MINUTE,
    OTHERS,
    OUTAGE,
    T0,
    _evaluator,
    conn,
)

POINTS = {area: [f"TSL-{area}-{n}" for n in range(1, 5)] for area in (OUTAGE, *OTHERS)}
# The first three of the ward's points fail, a little apart within the first bad minute.
FAILING = {f"TSL-{OUTAGE}-{n}": n * 10 for n in (3, 1, 2)}  # point -> seconds into DOWN[0]


async def _write_minute(db: asyncpg.Connection, minute: int) -> None:
    counted = []
    for area, points in POINTS.items():
        for point in points:
            offset = FAILING.get(point, 0)
            at = T0 + minute * MINUTE + timedelta(seconds=offset)
            envelope = Envelope.create(
                source="network-sim",
                area=area,
                key=point,
                occurred_at=at,
                payload=NetworkSample(
                    point_id=point,
                    point_kind=NetworkPointKind.SPECIAL_NETWORK,
                    up=not (point in FAILING and minute in DOWN),
                ),
            )
            counted.append(to_counted(envelope, MINUTE, "ioc.events.network", 0))
    await write_batch(db, "g", counted, {})


async def _run(db: asyncpg.Connection, evaluator: Evaluator, minutes: range) -> list:
    transitions = []
    for minute in minutes:
        await _write_minute(db, minute)
        transitions += await evaluator.run_once(db, T0 + (minute + 1) * MINUTE + GRACE)
    return transitions


async def test_availability_alerts_name_the_points_down_in_their_area(
    conn: asyncpg.Connection,  # noqa: F811
    tmp_path: Path,
) -> None:
    evaluator = _evaluator(tmp_path)
    transitions = await _run(conn, evaluator, range(0, 9))
    fired = {t.area: t for t in transitions if t.kind is TransitionKind.FIRED}
    assert set(fired) == {OUTAGE, "33"}
    expected = [f"TSL-{OUTAGE}-{n}" for n in (1, 2, 3)]  # longest down first
    for area, transition in fired.items():
        assert [e.entity for e in transition.entities] == expected, area
        assert transition.entities_down == 3
        first = transition.entities[0]
        assert (first.feed, first.kind, first.area) == ("network", "special_network", OUTAGE)
        assert first.area_name_vi == "Phường Phố Hiến"
        assert first.since == T0 + DOWN[0] * MINUTE + timedelta(seconds=10)
    assert fired[OUTAGE].value == pytest.approx(0.25)

    # Stored with the alert, beside the ranked contributing areas.
    row = await conn.fetchrow(
        "SELECT entities, entities_down, contributors FROM alerts WHERE id = $1",
        fired["33"].alert_id,
    )
    assert row is not None and row["entities_down"] == 3
    assert [e["entity"] for e in json.loads(row["entities"])] == expected
    assert json.loads(row["contributors"])[0]["area"] == OUTAGE

    # Every message of the ward's alert names them, with since when in local time.
    bodies = await conn.fetch(
        "SELECT language, body, payload FROM notification_outbox "
        "WHERE alert_id = $1 AND transition = 'fired'",
        fired[OUTAGE].alert_id,
    )
    assert bodies
    for message in bodies:
        assert all(point in message["body"] for point in expected), message["body"]
        assert f"TSL-{OUTAGE}-4" not in message["body"]
        payload = json.loads(message["payload"])
        assert [e["entity"] for e in payload["entities"]] == expected
        if message["language"] == "vi":
            assert "Điểm đang ngừng hoạt động (3):" in message["body"]
            assert "ngừng từ 23/11/2026 08:05" in message["body"]


async def test_escalation_tells_the_next_level_which_points(
    conn: asyncpg.Connection,  # noqa: F811
    tmp_path: Path,
) -> None:
    evaluator = _evaluator(tmp_path)
    transitions = await _run(conn, evaluator, range(0, 13))
    escalated = [t for t in transitions if t.kind is TransitionKind.ESCALATED]
    assert [t.area for t in escalated] == [OUTAGE]
    assert [e.entity for e in escalated[0].entities] == [f"TSL-{OUTAGE}-{n}" for n in (1, 2, 3)]


async def test_an_alert_evaluated_after_recovery_names_the_points_down_when_it_fired(
    conn: asyncpg.Connection,  # noqa: F811
    tmp_path: Path,
) -> None:
    # A backfill, or an evaluator that was away: the whole outage and the recovery are stored
    # before the first window is evaluated. entity_status says every point is up by then; the
    # alert must still name the three that were down when it fired.
    for minute in range(0, 16):
        await _write_minute(conn, minute)
    assert await conn.fetchval("SELECT count(*) FROM entity_status WHERE NOT up") == 0
    evaluator = _evaluator(tmp_path)
    transitions = []
    for minute in range(0, 16):
        transitions += await evaluator.run_once(conn, T0 + (minute + 1) * MINUTE + GRACE)
    fired = {t.area: t for t in transitions if t.kind is TransitionKind.FIRED}
    assert set(fired) == {OUTAGE, "33"}
    for transition in fired.values():
        assert [e.entity for e in transition.entities] == [f"TSL-{OUTAGE}-{n}" for n in (1, 2, 3)]
        assert transition.entities[0].since == T0 + DOWN[0] * MINUTE + timedelta(seconds=10)
        assert transition.entities[0].last_seen <= transition.at
