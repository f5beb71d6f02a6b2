"""Silences on real PostgreSQL: one owner (`ioc.alerts.silences`) for the CLI, API and engine."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from typer.testing import CliRunner

from ioc.alerts import silences
from ioc.alerts.cli import app
from ioc.alerts.model import TransitionKind
from ioc.db import migrate
from tests.integration.test_alert_engine import (  # noqa: F401 (conn is a fixture)
    OUTAGE,
    T0,
    _evaluator,
    _run,
    conn,
)


async def test_a_silence_holds_its_pattern_in_its_area_for_its_length_until_ended(
    conn: asyncpg.Connection,  # noqa: F811
) -> None:
    made = await silences.create(
        conn,
        "network_*",
        timedelta(hours=2),
        reason="bảo trì",
        by="Kỹ sư trực",
        area=OUTAGE,
        now=T0,
    )
    assert (made.rule_pattern, made.area, made.created_by) == ("network_*", OUTAGE, "Kỹ sư trực")
    assert made.ends_at - made.starts_at == timedelta(hours=2)
    assert await silences.get(conn, made.id) == made
    assert await silences.get(conn, 2**63) is None

    minute = T0 + timedelta(minutes=1)
    assert await silences.holds(conn, "network_special_down", OUTAGE, minute)
    assert not await silences.holds(conn, "network_special_down", "11983", minute)  # other ward
    assert not await silences.holds(conn, "dvc_late", OUTAGE, minute)  # other rule
    assert not await silences.holds(conn, "network_special_down", OUTAGE, T0 + timedelta(hours=2))

    everywhere = await silences.create(
        conn, "dvc_late", timedelta(minutes=30), reason="nghỉ lễ", by="test"
    )
    assert everywhere.area is None
    assert await silences.holds(conn, "dvc_late", "11983", everywhere.starts_at)
    assert everywhere.id in {s.id for s in await silences.in_force(conn)}

    await silences.end(conn, everywhere.id)
    ended = await silences.get(conn, everywhere.id)
    assert ended is not None and ended.ends_at > ended.starts_at  # kept, for the record
    assert everywhere.id not in {s.id for s in await silences.in_force(conn)}


def test_the_cli_silences_for_a_duration_through_the_same_owner(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ioc alerts silence --for 1h30m` writes the silence the API lists; a bad --for is refused."""

    async def in_force() -> list[silences.Silence]:
        db = await asyncpg.connect(database_url)
        try:
            await migrate(db)
            return await silences.in_force(db)
        finally:
            await db.close()

    asyncio.run(in_force())
    monkeypatch.setenv("IOC_DATABASE_URL", database_url)
    monkeypatch.setenv("IOC_DATABASE__SSLMODE", "disable")
    options = ["--rule", "dvc_*", "--reason", "nghỉ lễ", "--by", "Trực ban", "--area", "11953"]
    refused = CliRunner().invoke(app, ["silence", *options, "--for", "2 giờ"])
    assert refused.exit_code == 2 and "--for" in refused.output
    assert asyncio.run(in_force()) == []

    result = CliRunner().invoke(app, ["silence", *options, "--for", "1h30m"])
    assert result.exit_code == 0, result.output
    [made] = asyncio.run(in_force())
    assert (made.rule_pattern, made.area, made.reason, made.created_by) == (
        "dvc_*",
        "11953",
        "nghỉ lễ",
        "Trực ban",
    )
    assert made.ends_at - made.starts_at == timedelta(hours=1, minutes=30)
    assert f"Silence {made.id}: dvc_* until " in result.output


@pytest.mark.parametrize(("scope", "escalation_told"), [(OUTAGE, True), (None, False)])
async def test_a_silence_from_an_area_key_never_holds_an_escalation_above_that_area(
    conn: asyncpg.Connection,  # noqa: F811
    tmp_path: Path,
    scope: str | None,
    escalation_told: bool,
) -> None:
    """The ward's leader silences the ward for the whole outage: the ward's own leaders are
    not told that it fired, but the province still hears that nobody took it on; the same
    silence set province-wide (scope None, or the CLI) holds the escalation too."""
    await silences.create(
        conn,
        "network_*",
        timedelta(hours=1),
        reason="tự bảo trì",
        by="Lãnh đạo phường",
        area=OUTAGE,
        scope=scope,
        now=T0,
    )
    transitions = await _run(conn, _evaluator(tmp_path), range(0, 13))
    [escalated] = [t for t in transitions if t.kind is TransitionKind.ESCALATED]
    assert (escalated.area, escalated.level) == (OUTAGE, 1)
    history = await conn.fetch(
        "SELECT kind, notified FROM alert_history WHERE alert_id = $1 ORDER BY id",
        escalated.alert_id,
    )
    assert [(r["kind"], r["notified"]) for r in history] == [
        ("fired", False),
        ("escalated", escalation_told),
    ]
    told = await conn.fetchval(
        "SELECT count(*) FROM notification_outbox WHERE alert_id = $1 AND transition = 'escalated'",
        escalated.alert_id,
    )
    assert (told > 0) is escalation_told
