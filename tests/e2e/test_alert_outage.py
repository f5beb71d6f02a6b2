"""A network outage in one ward, end to end: simulator → Kafka → worker → alert → mail and webhook.

The network simulator backfills 16 minutes with a `network_outage` incident in Phường Phố Hiến
(minutes 4–9) through real Kafka; the stream worker counts it into PostgreSQL; the evaluator
then steps through the windows as they close. A real SMTP server is DOWN from before the outage
until after recovery, the webhook receiver is up. Checks: the ward's alert fires within the
rule's duration and names the ward; the provincial alert's explanation ranks the ward first;
acknowledging stops escalation; recovery resolves; once the SMTP server is back every email
arrives, and each transition reached each recipient exactly once by each channel.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ioc.alerts.engine import Evaluator
from ioc.alerts.model import TransitionKind
from ioc.alerts.rules import load_rules
from ioc.areas import load_areas
from ioc.config import Settings, load_settings
from ioc.connectors.base import ConnectorContext, VirtualClock
from ioc.connectors.registry import load_connector
from ioc.connectors.runner import ConnectorRunner
from ioc.connectors.scenarios import load_scenario
from ioc.db import connect, migrate, sync_areas
from ioc.kafka import ensure_topics, project_topics
from ioc.kpis import load_kpis
from ioc.notify.channels import SmtpChannel, WebhookChannel
from ioc.notify.outbox import deliver_due
from ioc.notify.routing import ChannelSpec, Recipient
from ioc.services import outbox_sink
from ioc.streams.worker import StreamWorker
from tests._notify import HookReceiver, MailServer
from tests._streams import wait_caught_up

WARD = "11953"  # Phường Phố Hiến
MINUTE = timedelta(minutes=1)
GRACE = timedelta(seconds=15)
# Stricter than the shipped 0.98: the ward holds 2 of the province's 200 special-network points
# (one per commune of 104, the rest by population), so its outage takes the province to 99 %.
RULES = """rules:
  - id: network_special_down
    kind: threshold
    kpi: network_special_availability
    below: 0.995
    hysteresis: 0.004
    for_windows: 3
    clear_windows: 2
    severity: critical
    levels: [province, commune]
    escalate_after_minutes: 3
"""


def _recipients(hooks: HookReceiver) -> list[Recipient]:
    return [
        Recipient(
            id="chu-tich-tinh",
            name="Chủ tịch UBND tỉnh",
            area="33",
            channels=(
                ChannelSpec(type="email", address="chutich@hungyen.example.invalid"),
                ChannelSpec(type="webhook", url=hooks.url("/zalo")),
            ),
        ),
        Recipient(
            id="chu-tich-pho-hien",
            name="Chủ tịch UBND phường Phố Hiến",
            area=WARD,
            channels=(ChannelSpec(type="email", address="phohien@hungyen.example.invalid"),),
        ),
    ]


async def _backfill(settings: Settings, start: datetime) -> None:
    areas = load_areas()
    clock = VirtualClock(start, start + 16 * MINUTE)
    # Only this outage: the fleet's own random faults would alert other communes some hours.
    scenario = load_scenario(
        f"background:off;network_outage:area={WARD},start=+4m,duration=5m", now=start, areas=areas
    )
    context = ConnectorContext(
        name="network-sim", settings=settings, areas=areas, clock=clock, scenario=scenario
    )
    await ConnectorRunner(load_connector("network-sim")(context), settings).run()


async def test_an_outage_alerts_the_right_people_once_even_with_mail_down(
    settings: Settings, tmp_path: Path
) -> None:
    assert settings.database_url is not None
    settings = load_settings(
        kafka_bootstrap=settings.kafka_bootstrap,
        database_url=settings.database_url.get_secret_value(),
        state_dir=settings.state_dir,
        kafka={"topic_prefix": f"t{uuid.uuid4().hex[:10]}", "partitions": 3},
        streams={"flush_interval_ms": 200},
    )
    await ensure_topics(settings, project_topics(settings))
    conn = await connect(settings)
    await migrate(conn)
    await sync_areas(conn, load_areas())

    start = datetime.fromtimestamp((datetime.now(UTC) - 40 * MINUTE).timestamp() // 60 * 60, UTC)
    outage = start + 4 * MINUTE
    await _backfill(settings, start)
    worker = StreamWorker(settings, name="e2e")
    task = asyncio.create_task(worker.run())
    try:
        await wait_caught_up(conn, settings, worker=task)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 30)

    mail, hooks = MailServer(), HookReceiver()
    await hooks.start()  # the mail server stays down until after recovery
    recipients, areas = _recipients(hooks), load_areas()
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(RULES, encoding="utf-8")
    catalogue = load_kpis()
    evaluator = Evaluator(
        catalogue,
        load_rules(rules_file, {k.id for k in catalogue}),
        areas,
        window=MINUTE,
        grace=GRACE,
        notify=outbox_sink(recipients, areas),
    )
    channels = [
        SmtpChannel("127.0.0.1", mail.port, "IOC <ioc@example.invalid>", starttls=False, timeout=5),
        WebhookChannel(timeout=5),
    ]
    try:
        transitions = []
        for minute in range(16):
            now = start + (minute + 1) * MINUTE + GRACE
            made = await evaluator.run_once(conn, now)
            for t in made:
                if t.kind is TransitionKind.FIRED and t.area == WARD:
                    transitions.append(await evaluator.acknowledge(conn, t.alert_id, "Trực ban"))
            transitions += made
            await deliver_due(conn, channels, datetime.now(UTC))

        fired = {t.area: t for t in transitions if t.kind is TransitionKind.FIRED}
        assert set(fired) == {WARD, "33"}, [t.summary_en for t in transitions]
        ward = fired[WARD]
        assert ward.area_name_vi == "Phường Phố Hiến"
        assert outage < ward.at <= outage + 4 * MINUTE  # within the rule's three windows
        assert fired["33"].contributors[0].area == WARD
        # Both alerts name the ward's special-network points that were down when they fired.
        points = [e.entity for e in ward.entities]
        assert points and all(re.fullmatch(rf"TSL-[XHT]-{WARD}-\d+", p) for p in points), points
        assert [e.entity for e in fired["33"].entities] == points
        kinds = Counter((t.area, t.kind) for t in transitions)
        assert kinds[(WARD, TransitionKind.ESCALATED)] == 0  # acknowledged in time
        assert (
            kinds[(WARD, TransitionKind.RESOLVED)] == 1
            and kinds[("33", TransitionKind.RESOLVED)] == 1
        )
        assert len(hooks.received) == sum(1 for t in transitions if t.area in (WARD, "33"))

        await mail.start()  # the mail server returns: everything waiting arrives, once
        pending = 1
        async with asyncio.timeout(90):
            while pending:
                await deliver_due(conn, channels, datetime.now(UTC))
                pending = await conn.fetchval(
                    "SELECT count(*) FROM notification_outbox WHERE delivered_at IS NULL"
                )
                await asyncio.sleep(1)
        await asyncio.sleep(2)
        await deliver_due(conn, channels, datetime.now(UTC))
    finally:
        for channel in channels:
            await channel.aclose()
        await hooks.stop()
        if mail._server is not None:
            await mail.stop()
        await conn.close()

    to = Counter((m["To"], m["Subject"]) for m in mail.received)
    assert all(n == 1 for n in to.values()), to
    ward_mail = [m for m in mail.received if m["To"] == "phohien@hungyen.example.invalid"]
    assert len(ward_mail) == 3  # fired, acknowledged, resolved
    assert all("Phố Hiến" in m.get_content() for m in ward_mail)
    # The fired message names them (a message lists ten at most).
    assert any(all(p in m.get_content() for p in points[:10]) for m in ward_mail), points
    province_mail = [m for m in mail.received if m["To"] == "chutich@hungyen.example.invalid"]
    assert len(province_mail) == sum(1 for t in transitions if t.area == "33") + sum(
        1 for t in transitions if t.area == WARD
    )
