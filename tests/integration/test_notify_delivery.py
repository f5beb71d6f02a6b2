"""The outbox against a real SMTP server (aiosmtpd) and a real HTTP receiver, both on loopback.

Exactly one message per (transition, recipient, channel) arrives; enqueueing twice changes
nothing; with the SMTP server down attempts and errors are recorded and nothing is lost, and
once it is back every message arrives, none twice; Vietnamese survives the trip.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg
import pytest
from pydantic import SecretStr

from ioc.alerts.model import Severity, Transition, TransitionKind
from ioc.areas import AreaRegistry, load_areas
from ioc.db import migrate
from ioc.notify import (
    Notifier,
    Recipient,
    SmtpChannel,
    WebhookChannel,
    daily_digest,
    deliver_due,
    enqueue,
    enqueue_digests,
    outbox_depth,
    render,
    route,
)
from ioc.notify.channels import verify
from ioc.notify.routing import ChannelSpec
from tests._notify import HookReceiver, MailServer

SENDER = "IOC Hưng Yên <ioc@hungyen.example.invalid>"
SECRET = SecretStr("khóa-bí-mật")
T0 = datetime(2026, 11, 23, 1, 5, tzinfo=UTC)  # 08:05 in Hưng Yên


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    await migrate(connection)
    yield connection
    await connection.close()


@pytest.fixture
async def mail() -> AsyncIterator[MailServer]:
    server = MailServer()
    await server.start()
    yield server
    if server._server is not None:
        await server.stop()


@pytest.fixture
async def hooks() -> AsyncIterator[HookReceiver]:
    receiver = HookReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture(scope="module")
def areas() -> AreaRegistry:
    return load_areas()


ALERTS_MINIMAL = """
CREATE TABLE IF NOT EXISTS alerts (
    id bigserial PRIMARY KEY, rule_id text NOT NULL, area text NOT NULL,
    severity text NOT NULL, kpi_id text, state text NOT NULL,
    started_at timestamptz NOT NULL, fired_at timestamptz NOT NULL,
    acknowledged_at timestamptz, resolved_at timestamptz,
    last_value double precision, target double precision)
"""


def recipients(hooks: HookReceiver) -> list[Recipient]:
    """A Vietnamese chairman (email + webhook) and an English engineer (email)."""
    return [
        Recipient(
            id="chu-tich-ubnd-tinh",
            name="Chủ tịch UBND tỉnh",
            area="33",
            channels=(
                ChannelSpec(type="email", address="chutich@hungyen.example.invalid"),
                ChannelSpec(type="webhook", url=hooks.url("/zalo")),
            ),
        ),
        Recipient(
            id="it-on-call",
            name="IT on-call",
            language="en",
            area="33",
            channels=(ChannelSpec(type="email", address="oncall@hungyen.example.invalid"),),
        ),
    ]


def channels(mail: MailServer) -> list[Any]:
    return [
        SmtpChannel("127.0.0.1", mail.port, SENDER, starttls=False, timeout=5),
        WebhookChannel(timeout=5, secret=SECRET),
    ]


def lifecycle(alert_id: int, area: str = "11986") -> list[Transition]:
    fired = Transition(
        alert_id=alert_id,
        kind=TransitionKind.FIRED,
        rule_id="dvc-online",
        severity=Severity.CRITICAL,
        area=area,
        area_name_vi="Xã Như Quỳnh",
        area_level="commune",
        kpi_id="dvc_online_dossier_rate",
        kpi_name_vi="Tỷ lệ hồ sơ trực tuyến",
        kpi_name_en="Online dossier rate",
        value=0.953,
        target=0.98,
        unit="percent",
        since=T0,
        at=T0,
    )
    return [
        fired,
        replace(fired, kind=TransitionKind.ESCALATED, level=1, at=T0 + timedelta(minutes=30)),
        replace(
            fired,
            kind=TransitionKind.ACKNOWLEDGED,
            level=1,
            actor="Nguyễn Văn Đức",
            at=T0 + timedelta(minutes=40),
        ),
        replace(fired, kind=TransitionKind.RESOLVED, level=1, at=T0 + timedelta(hours=2)),
    ]


async def enqueue_all(
    conn: asyncpg.Connection,
    transitions: list[Transition],
    people: list[Recipient],
    areas: AreaRegistry,
) -> int:
    added = 0
    for transition in transitions:
        # As the alert engine does: inside the transaction that records the transition.
        async with conn.transaction():
            added += await enqueue(conn, transition, route(transition, people, areas))
    return added


async def delivered_ids(conn: asyncpg.Connection) -> set[int]:
    rows = await conn.fetch("SELECT id FROM notification_outbox WHERE delivered_at IS NOT NULL")
    return {row["id"] for row in rows}


async def test_exactly_one_message_per_transition_recipient_and_channel(
    conn: asyncpg.Connection, mail: MailServer, hooks: HookReceiver, areas: AreaRegistry
) -> None:
    people = recipients(hooks)
    transitions = lifecycle(1) + lifecycle(2)[:1]
    added = await enqueue_all(conn, transitions, people, areas)
    assert added == len(transitions) * 3  # 2 emails + 1 webhook each
    assert await enqueue_all(conn, transitions, people, areas) == 0  # a repeat adds nothing

    sending = channels(mail)
    report = await deliver_due(conn, sending)
    assert (report.claimed, report.delivered, report.failed) == (15, 15, 0)
    assert (await deliver_due(conn, sending)).claimed == 0
    assert await enqueue_all(conn, transitions, people, areas) == 0  # not even after delivery
    assert (await deliver_due(conn, sending)).claimed == 0
    for channel in sending:
        await channel.aclose()

    assert len(mail.received) == 10
    assert len({m["Message-ID"] for m in mail.received}) == 10
    assert len(hooks.received) == 5
    assert len({h.headers["x-ioc-delivery"] for h in hooks.received}) == 5
    per_recipient = sorted(str(m["To"]) for m in mail.received)
    assert (
        per_recipient
        == ["chutich@hungyen.example.invalid"] * 5 + ["oncall@hungyen.example.invalid"] * 5
    )
    assert {h.json["transition"] for h in hooks.received} == {
        "fired",
        "escalated",
        "acknowledged",
        "resolved",
    }
    depth = await outbox_depth(conn)
    assert (depth.pending, depth.oldest_pending_at) == (0, None)


async def test_vietnamese_survives_smtp_and_webhook(
    conn: asyncpg.Connection, mail: MailServer, hooks: HookReceiver, areas: AreaRegistry
) -> None:
    people = recipients(hooks)
    ack = lifecycle(7)[2]
    await enqueue_all(conn, [ack], people, areas)
    sending = channels(mail)
    await deliver_due(conn, sending)
    for channel in sending:
        await channel.aclose()

    expected_vi, expected_en = render(ack, "vi"), render(ack, "en")
    vietnamese = next(m for m in mail.received if m["To"] == "chutich@hungyen.example.invalid")
    assert vietnamese["Subject"] == expected_vi.subject
    assert "NGHIÊM TRỌNG · ĐÃ TIẾP NHẬN" in vietnamese["Subject"]
    body = vietnamese.get_body(("plain",))
    assert body is not None
    assert body.get_content().rstrip("\n") == expected_vi.text
    assert "Nguyễn Văn Đức" in body.get_content()
    assert "95,3 %" in body.get_content()
    assert vietnamese["From"] == SENDER
    assert str(vietnamese["Message-ID"]).startswith("<ioc-outbox-")
    english = next(m for m in mail.received if m["To"] == "oncall@hungyen.example.invalid")
    assert english["Subject"] == expected_en.subject

    (hook,) = hooks.received
    assert hook.path == "/zalo"
    assert hook.headers["content-type"] == "application/json; charset=utf-8"
    # Signed with the time of sending: `<timestamp>.<body>` (a replay later is refused).
    sent_at = hook.headers["x-ioc-timestamp"]
    assert abs(int(sent_at) - datetime.now(UTC).timestamp()) < 60
    expected_sig = hmac.new(
        SECRET.get_secret_value().encode(), f"{sent_at}.".encode() + hook.body, hashlib.sha256
    ).hexdigest()
    assert hook.headers["x-ioc-signature-256"] == f"sha256={expected_sig}"
    assert verify(SECRET, hook.body, sent_at, hook.headers["x-ioc-signature-256"])
    data = hook.json
    assert data["text"] == expected_vi.text
    assert data["area_name"] == "Xã Như Quỳnh"
    assert data["actor"] == "Nguyễn Văn Đức"
    assert data["delivery_id"] == int(hook.headers["x-ioc-delivery"])
    assert hook.headers["idempotency-key"] == f"ioc-outbox-{data['delivery_id']}"


async def test_smtp_outage_loses_nothing_and_sends_nothing_twice(
    conn: asyncpg.Connection, mail: MailServer, hooks: HookReceiver, areas: AreaRegistry
) -> None:
    people = recipients(hooks)
    await mail.stop()
    transitions = lifecycle(1) + lifecycle(2) + lifecycle(3)
    assert await enqueue_all(conn, transitions, people, areas) == 36
    sending = channels(mail)
    now = datetime.now(UTC)

    report = await deliver_due(conn, sending, now=now)
    assert (report.claimed, report.delivered, report.failed) == (36, 12, 24)
    assert "unreachable" in report.errors[0] and "IOC_NOTIFY__SMTP_HOST" in report.errors[0]
    rows = await conn.fetch(
        "SELECT attempts, last_error, next_attempt_at FROM notification_outbox "
        "WHERE channel = 'email'"
    )
    assert len(rows) == 24
    assert all(row["attempts"] == 1 and "127.0.0.1" in row["last_error"] for row in rows)
    # Backoff: about 10 s (±20 %) after the first failure.
    assert all(
        timedelta(seconds=7) < row["next_attempt_at"] - now < timedelta(seconds=13) for row in rows
    )
    assert (await deliver_due(conn, sending, now=now)).claimed == 0  # not due yet
    depth = await outbox_depth(conn)
    assert (depth.pending, depth.retrying, depth.by_channel) == (24, 24, {"email": 24})

    # Still down on the next try: the attempt is counted and the backoff grows.
    later = now + timedelta(minutes=1)
    report = await deliver_due(conn, sending, now=later)
    assert (report.claimed, report.failed) == (24, 24)
    rows = await conn.fetch(
        "SELECT attempts, next_attempt_at FROM notification_outbox WHERE channel = 'email'"
    )
    assert all(row["attempts"] == 2 for row in rows)
    assert all(row["next_attempt_at"] - later > timedelta(seconds=15) for row in rows)

    # The server returns (same port): everything arrives, once.
    await mail.start()
    assert mail.received == []
    report = await deliver_due(conn, sending, now=later + timedelta(hours=1))
    assert (report.claimed, report.delivered, report.failed) == (24, 24, 0)
    assert (await deliver_due(conn, sending, now=later + timedelta(hours=2))).claimed == 0
    for channel in sending:
        await channel.aclose()

    assert len(mail.received) == 24
    ids = [int(str(m["X-IOC-Delivery"])) for m in mail.received]
    assert len(set(ids)) == 24
    assert set(ids) | {int(h.headers["x-ioc-delivery"]) for h in hooks.received} == (
        await delivered_ids(conn)
    )
    assert len(hooks.received) == 12
    assert (await outbox_depth(conn)).pending == 0
    kept = await conn.fetchval(
        "SELECT count(*) FROM notification_outbox WHERE channel = 'email' "
        "AND attempts = 3 AND last_error IS NOT NULL AND delivered_at IS NOT NULL"
    )
    assert kept == 24  # the history of the outage stays on the rows


async def test_webhook_error_status_is_retried_and_delivered_once(
    conn: asyncpg.Connection, mail: MailServer, hooks: HookReceiver, areas: AreaRegistry
) -> None:
    people = recipients(hooks)
    await enqueue_all(conn, lifecycle(1)[:1], people, areas)
    sending = channels(mail)
    hooks.status = 503
    now = datetime.now(UTC)
    report = await deliver_due(conn, sending, now=now)
    assert (report.delivered, report.failed) == (2, 1)
    assert "HTTP 503" in report.errors[0]
    hooks.status = 200
    report = await deliver_due(conn, sending, now=now + timedelta(minutes=5))
    assert (report.claimed, report.delivered) == (1, 1)
    for channel in sending:
        await channel.aclose()
    assert len(hooks.received) == 1


async def test_enqueue_belongs_to_the_callers_transaction(
    conn: asyncpg.Connection, hooks: HookReceiver, areas: AreaRegistry
) -> None:
    people = recipients(hooks)
    fired = lifecycle(1)[0]

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with conn.transaction():
            assert await enqueue(conn, fired, route(fired, people, areas)) == 3
            raise Boom
    assert await conn.fetchval("SELECT count(*) FROM notification_outbox") == 0
    with pytest.raises(RuntimeError, match="outside a transaction"):
        async with conn.transaction():
            await deliver_due(conn, [])


async def test_two_senders_never_send_the_same_row(
    conn: asyncpg.Connection,
    database_url: str,
    mail: MailServer,
    hooks: HookReceiver,
    areas: AreaRegistry,
) -> None:
    people = recipients(hooks)
    assert await enqueue_all(conn, lifecycle(1) + lifecycle(2), people, areas) == 24
    other = await asyncpg.connect(database_url)
    first, second = channels(mail), channels(mail)
    try:
        reports = await asyncio.gather(
            deliver_due(conn, first, batch=7), deliver_due(other, second, batch=7)
        )
        while sum(r.claimed for r in reports):
            reports = await asyncio.gather(
                deliver_due(conn, first, batch=7), deliver_due(other, second, batch=7)
            )
    finally:
        await other.close()
        for channel in first + second:
            await channel.aclose()
    assert len(mail.received) == 16
    assert len({m["Message-ID"] for m in mail.received}) == 16
    assert len(hooks.received) == 8


async def test_notifier_loop_delivers_and_stops(
    conn: asyncpg.Connection,
    database_url: str,
    mail: MailServer,
    hooks: HookReceiver,
    areas: AreaRegistry,
) -> None:
    people = recipients(hooks)
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    await conn.execute(ALERTS_MINIMAL)  # 0004 creates it; this only covers its absence
    # digest_at midnight: yesterday's digest is due at once (2 recipients, 3 channels).
    notifier = Notifier(
        pool, channels(mail), interval=0.05, recipients=people, areas=areas, digest_at=time(0)
    )
    running = asyncio.create_task(notifier.run())
    try:
        await enqueue_all(conn, lifecycle(5), people, areas)
        async with asyncio.timeout(20):
            # Polling two servers' lists is simpler than an event per server.
            while len(mail.received) < 10 or len(hooks.received) < 5:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        notifier.stop()
        await asyncio.wait_for(running, 10)
        await pool.close()
    assert (len(mail.received), len(hooks.received)) == (10, 5)
    digests = [m for m in mail.received if "Tổng hợp ngày" in str(m["Subject"])]
    assert len(digests) == 1
    assert notifier.last_report.failed == 0


async def test_daily_digest_of_a_leaders_scope(
    conn: asyncpg.Connection, mail: MailServer, hooks: HookReceiver, areas: AreaRegistry
) -> None:
    await conn.execute(ALERTS_MINIMAL)  # 0004 creates it; this only covers its absence
    day = date(2026, 11, 22)  # local day: 2026-11-21 17:00 UTC to 2026-11-22 17:00 UTC
    rows = [
        # in Xã Như Quỳnh, started the day before, resolved during the day
        ("r1", "11986", "critical", "resolved", "2026-11-21 10:00", "2026-11-22 03:00"),
        # in Xã Như Quỳnh, started during the day, still open
        ("r2", "11986", "warning", "firing", "2026-11-22 02:00", None),
        # in Phường Phố Hiến: the province sees it, Như Quỳnh's chairman does not
        ("r3", "11953", "warning", "acknowledged", "2026-11-22 05:00", None),
        # resolved before the day began: in nobody's digest
        ("r4", "11986", "info", "resolved", "2026-11-20 01:00", "2026-11-21 16:00"),
    ]
    for rule, area, severity, state, started, resolved in rows:
        await conn.execute(
            "INSERT INTO alerts (rule_id, area, severity, kpi_id, state, started_at, fired_at, "
            "resolved_at, last_value, target) "
            "VALUES ($1, $2, $3, 'dvc_online_dossier_rate', $4, $5, $5, $6, 0.72, 0.8)",
            rule,
            area,
            severity,
            state,
            datetime.fromisoformat(started + "+00:00"),
            datetime.fromisoformat(resolved + "+00:00") if resolved else None,
        )

    commune = await daily_digest(conn, day, "vi", "11986", areas=areas)
    assert commune.subject == "[Tổng hợp ngày 22/11/2026] Xã Như Quỳnh: 2 cảnh báo (1 nghiêm trọng)"
    assert "1 mới, 1 đã kết thúc, 1 còn mở lúc 24:00" in commune.text
    assert "Nghiêm trọng 1 · Cảnh báo 1 · Thông tin 0" in commune.text
    assert "72 % / mục tiêu 80 %" in commune.text
    assert commune.data["total"] == 2
    # The longest open comes first: r1 since 21/11 17:00 local.
    assert commune.data["longest"][0]["rule_id"] == "r1"
    assert "từ 21/11/2026 17:00" in commune.text

    province = await daily_digest(conn, day, "en", None, areas=areas)
    assert province.data["total"] == 3
    assert province.subject.startswith("[Daily digest 22/11/2026] Tỉnh Hưng Yên: 3 alert(s)")

    people = [replace_area(r, "11986") for r in recipients(hooks)]
    assert await enqueue_digests(conn, day, people, areas) == 3
    assert await enqueue_digests(conn, day, people, areas) == 0  # once per day
    sending = channels(mail)
    assert (await deliver_due(conn, sending)).delivered == 3
    for channel in sending:
        await channel.aclose()
    subjects = sorted(str(m["Subject"]) for m in mail.received)
    assert subjects == [
        "[Daily digest 22/11/2026] Xã Như Quỳnh: 2 alert(s) (1 critical)",
        "[Tổng hợp ngày 22/11/2026] Xã Như Quỳnh: 2 cảnh báo (1 nghiêm trọng)",
    ]
    assert hooks.received[0].json["type"] == "ioc.digest"


def replace_area(recipient: Recipient, area: str) -> Recipient:
    return recipient.model_copy(update={"area": area})
