"""A bad day for notifications: the evaluator was down for hours and the mail server with it.

Real PostgreSQL, the real evaluator, a real SMTP server on loopback. Six hours ago two wards'
special-network points went down; one came back after five minutes, the other did not. The
evaluator was down all that time and catches up in one pass; the mail server is down too and
comes back later. What the leaders receive, once it is back: one summary per person of what
happened hours ago (no burst of old "fired"/"resolved" mails), and the escalation decided now
on its own, as usual.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from ioc.alerts.engine import Evaluator
from ioc.alerts.model import Severity, Transition, TransitionKind
from ioc.alerts.rules import load_rules
from ioc.areas import load_areas
from ioc.db import migrate, sync_areas
from ioc.events import utc_now
from ioc.kpis import load_kpis
from ioc.notify.channels import SmtpChannel, WebhookChannel
from ioc.notify.notifier import Notifier
from ioc.notify.outbox import enqueue
from ioc.notify.routing import Delivery, load_recipients
from ioc.services import outbox_sink
from tests._notify import HookReceiver, MailServer

MINUTE = timedelta(minutes=1)
GRACE = timedelta(seconds=15)
BACK = "11953"  # Phường Phố Hiến: down five minutes, then back
STILL_DOWN = "11983"  # down from then on: still firing now, nobody acknowledged it
RULES = """rules:
  - id: network_special_down
    kind: threshold
    kpi: network_special_availability
    below: 0.98
    for_windows: 3
    clear_windows: 2
    severity: critical
    levels: [commune]
    escalate_after_minutes: 30
"""


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    await migrate(connection)
    await sync_areas(connection, load_areas())
    yield connection
    await connection.close()


async def _write(conn: asyncpg.Connection, start: object, area: str, up: int) -> None:
    rows = [(start, "network.special_network.samples", area, 4, 4.0, 1.0, 1.0)]
    if up:
        rows.append((start, "network.special_network.up", area, up, float(up), 1.0, 1.0))
    await conn.executemany(
        "INSERT INTO window_metrics (window_start, metric, area, count, sum, min, max) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        rows,
    )


async def test_hours_old_messages_reach_each_leader_as_one_summary(
    conn: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    catalogue, areas = load_kpis(), load_areas()
    evaluator = Evaluator(
        catalogue,
        load_rules(rules, {k.id for k in catalogue}),
        areas,
        window=MINUTE,
        grace=GRACE,
        notify=outbox_sink(load_recipients(None, areas), areas),
    )
    t0 = (utc_now() - timedelta(hours=6)).replace(second=0, microsecond=0)
    assert await evaluator.run_once(conn, t0 + GRACE) == []  # the last pass before the outage
    for minute in range(10):
        await _write(conn, t0 + minute * MINUTE, BACK, 0 if minute < 5 else 4)
        await _write(conn, t0 + minute * MINUTE, STILL_DOWN, 0)

    # The evaluator returns and catches up on six hours of windows in one pass.
    caught_up = await evaluator.run_once(conn)
    assert sorted((t.area, t.kind.value) for t in caught_up) == [
        (BACK, "fired"),
        (BACK, "resolved"),
        (STILL_DOWN, "escalated"),
        (STILL_DOWN, "fired"),
    ]
    escalated = next(t for t in caught_up if t.kind is TransitionKind.ESCALATED)
    assert utc_now() - escalated.at < MINUTE  # decided now: not stale

    mail = MailServer()  # not started yet: the mail server is down
    pool = await asyncpg.create_pool(database_url, min_size=0, max_size=2)
    smtp = SmtpChannel("127.0.0.1", mail.port, "IOC <ioc@localhost>", starttls=False, timeout=5)
    notifier = Notifier(pool, [smtp], stale_after=timedelta(hours=1))
    try:
        report = await notifier.run_once()
        assert report.claimed and report.delivered == 0  # refused: SMTP is down
        await mail.start()
        try:
            # Time passes; every retry is due.
            await conn.execute("UPDATE notification_outbox SET next_attempt_at = now()")
            while (await notifier.run_once()).claimed:
                pass
        finally:
            await mail.stop()
    finally:
        await pool.close()
        await smtp.aclose()

    by_person: dict[str, list[str]] = defaultdict(list)
    for message in mail.received:
        by_person[str(message["To"])].append(str(message["Subject"]))
    assert by_person, "nobody was told anything"
    summaries = {
        who: [s for s in subjects if "Tổng hợp tin chậm" in s or "Delayed" in s]
        for who, subjects in by_person.items()
    }
    # Each leader gets exactly one summary of the hours-old messages, nothing else about them…
    assert all(len(found) == 1 for found in summaries.values()), by_person
    # … and the escalation decided now, on its own, goes to the province's leaders.
    singles = {
        who: [s for s in subjects if s not in summaries[who]] for who, subjects in by_person.items()
    }
    assert sum(len(s) for s in singles.values()) >= 1
    escalations = await conn.fetch(
        "SELECT address FROM notification_outbox WHERE transition = 'escalated' "
        "AND channel = 'email'"
    )
    assert {r["address"] for r in escalations} == {w for w, s in singles.items() if s}
    assert all(len(s) <= 1 for s in singles.values()), singles

    # What a leader reads: both wards, the newest state of each, in Vietnamese.
    province = next(
        m
        for m in mail.received
        if "Tổng hợp tin chậm" in str(m["Subject"])
        # the province's chairman; ward chairmen's addresses say "chutich" too
        and str(m["To"]) == "chutich.ubnd@hungyen.example.invalid"
    )
    body = province.get_content()
    assert "3 thông báo về 2 cảnh báo" in str(province["Subject"])
    assert "Trở lại bình thường" in body and "Phát cảnh báo" in body
    assert "Phường Phố Hiến" in body
    # Nothing is lost: every folded row names the summary that carried it.
    pending = await conn.fetchval(
        "SELECT count(*) FROM notification_outbox WHERE delivered_at IS NULL AND channel = 'email'"
    )
    assert pending == 0
    folded = await conn.fetch(
        "SELECT transition, payload->>'summarised_into' AS into FROM notification_outbox "
        "WHERE alert_id > 0 AND channel = 'email' AND transition <> 'escalated'"
    )
    assert folded and all(r["into"] for r in folded)


def _fired(alert_id: int, at: datetime) -> Transition:
    return Transition(
        alert_id=alert_id,
        kind=TransitionKind.FIRED,
        rule_id="dvc-online",
        severity=Severity.CRITICAL,
        area="12004",
        area_name_vi="Xã Như Quỳnh",
        area_level="commune",
        kpi_id="dvc_online_dossier_rate",
        kpi_name_vi="Tỷ lệ hồ sơ trực tuyến",
        kpi_name_en="Online dossier rate",
        value=0.9,
        target=0.98,
        unit="percent",
        since=at,
        at=at,
    )


async def test_a_waiting_summary_is_replaced_so_one_arrives(
    conn: asyncpg.Connection, database_url: str
) -> None:
    hooks = HookReceiver(status=503)  # the gateway refuses for now
    await hooks.start()
    to = [Delivery("chu-tich-ubnd-tinh", "webhook", hooks.url("/zalo"), "vi")]
    pool = await asyncpg.create_pool(database_url, min_size=0, max_size=2)
    webhook = WebhookChannel(timeout=5)
    notifier = Notifier(pool, [webhook], stale_after=timedelta(hours=1))
    hours_ago = utc_now() - timedelta(hours=3)
    try:
        await enqueue(conn, _fired(1, hours_ago), to)
        assert (await notifier.run_once()).failed == 1  # the summary of one, refused
        await enqueue(conn, _fired(2, hours_ago + MINUTE), to)
        await notifier.run_once()  # folds the second into a new summary of both
        hooks.status = 200
        await conn.execute("UPDATE notification_outbox SET next_attempt_at = now()")
        while (await notifier.run_once()).claimed:
            pass
    finally:
        await hooks.stop()
        await pool.close()
        await webhook.aclose()
    (received,) = hooks.received
    assert received.json["type"] == "ioc.notify.summary"
    assert received.json["count"] == 2
    assert {i["alert_id"] for i in received.json["items"]} == {1, 2}
    assert "2 thông báo về 2 cảnh báo" in received.json["subject"]
