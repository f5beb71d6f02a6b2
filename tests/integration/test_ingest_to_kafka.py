"""Real feeds through the runner: mapped records reach their topic, bad ones reach ioc.dlq."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ioc.areas import load_areas
from ioc.codec import decode
from ioc.config import Settings, load_settings
from ioc.connectors import ConnectorContext
from ioc.connectors.ingest.http import HttpIngestConnector
from ioc.connectors.ingest.jsonl import JsonLinesConnector
from ioc.connectors.ingest.mapping import EXAMPLES
from ioc.connectors.runner import ConnectorRunner
from ioc.dlq import DeadLetter
from ioc.embedded.kafka import free_port
from ioc.events import PaymentTransaction
from ioc.kafka import topic_name
from tests._kafka import read_topic

GOOD = (EXAMPLES / "hospital-payments.jsonl").read_bytes().splitlines()
BAD = [
    b'{"ma_giao_dich": "X-1", "thoi_gian": "31/02/2025 08:00:00"',  # cut off: not JSON
    b'{"ma_giao_dich": "X-2", "thoi_gian": "01/06/2025 08:00:00", "so_tien": "abc", '
    b'"hinh_thuc": "THE", "trang_thai": "00", "benh_vien": {"huyen": "V\xc4\x83n L\xc3\xa2m"}}',
    b'{"ma_giao_dich": "X-3", "thoi_gian": "01/06/2025 08:00:00", "so_tien": "10.000", '
    b'"hinh_thuc": "BITCOIN", "trang_thai": "00", "benh_vien": {}}',
]


async def test_jsonl_lines_reach_kafka_and_malformed_ones_the_dlq(
    topics_settings: Settings, tmp_path: Path
) -> None:
    export = tmp_path / "payments.jsonl"
    export.write_bytes(b"\n".join([*GOOD[:2], BAD[0], *GOOD[2:], BAD[1], BAD[2]]) + b"\n")
    context = ConnectorContext(
        name="hospital-payments",
        settings=topics_settings,
        areas=load_areas(),
        options={
            "path": str(export),
            "mapping": str(EXAMPLES / "hospital-payments.yaml"),
            "follow": "false",
            "state": str(tmp_path / "positions.json"),
        },
    )
    metrics = await ConnectorRunner(JsonLinesConnector(context), topics_settings).run()
    assert (metrics.yielded, metrics.dead_lettered) == (len(GOOD) + 3, 3)

    letters = [
        DeadLetter.from_record(r.value, r.headers)
        for r in await read_topic(topics_settings, topic_name(topics_settings, "dlq"), 3)
    ]
    assert [(d.original, d.reason, d.source) for d in letters] == [
        (BAD[0], "not_json", "hospital-payments"),
        (BAD[1], "conversion", "hospital-payments"),
        (BAD[2], "unmapped_value", "hospital-payments"),
    ]
    assert [d.location for d in letters] == [
        f"{export}:3",
        f"{export}:{len(GOOD) + 2}",
        f"{export}:{len(GOOD) + 3}",
    ]
    assert "so_tien" in letters[1].detail and "BITCOIN" in letters[2].detail

    events = await read_topic(
        topics_settings, topic_name(topics_settings, "events", "payment"), len(GOOD), settle=1.0
    )
    payments = [decode(r.value).payload for r in events]
    assert len(payments) == len(GOOD)
    assert all(isinstance(p, PaymentTransaction) for p in payments)
    # Positions were committed: a second run reads nothing again.
    again = await ConnectorRunner(JsonLinesConnector(context), topics_settings).run()
    assert again.yielded == 0


async def _post(port: int, path: str, body: bytes) -> tuple[int, dict[str, object]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    response = await reader.read()
    writer.close()
    head, _, payload = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload)


async def test_http_records_reach_kafka_and_a_clean_stop_delivers_all_accepted(
    topics_settings: Settings,
) -> None:
    context = ConnectorContext(
        name="gateway",
        settings=topics_settings,
        areas=load_areas(),
        options={"mappings": str(EXAMPLES), "port": "0"},
    )
    connector = HttpIngestConnector(context)
    runner = ConnectorRunner(connector, topics_settings)
    run = asyncio.create_task(runner.run())
    while connector.bound_port is None:  # noqa: ASYNC110 - the connector offers no event
        await asyncio.sleep(0.05)

    status, answer = await _post(
        connector.bound_port, "/ingest/hospital-payments", b"\n".join([*GOOD, BAD[2]])
    )
    assert status == 202 and (answer["accepted"], answer["rejected"]) == (len(GOOD), 1)
    runner.stop()  # at once: what was accepted must still be delivered
    metrics = await asyncio.wait_for(run, 30)

    assert (metrics.sent, metrics.dead_lettered) == (len(GOOD) + 1, 1)
    [letter] = [
        DeadLetter.from_record(r.value, r.headers)
        for r in await read_topic(topics_settings, topic_name(topics_settings, "dlq"), 1)
    ]
    assert (letter.original, letter.reason, letter.source) == (BAD[2], "unmapped_value", "gateway")
    events = await read_topic(
        topics_settings, topic_name(topics_settings, "events", "payment"), len(GOOD)
    )
    assert len(events) == len(GOOD)


async def test_a_202_while_kafka_is_away_means_the_records_are_fsynced_in_the_spool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ack=committed (the default): a 202 survives a power cut, not only a process crash.

    Was: the 202 came once the records were written to the spool's page cache; the spool was
    fsynced only when it was closed.
    """
    away = load_settings(
        kafka_bootstrap=f"127.0.0.1:{free_port()}",  # nothing listens there
        state_dir=tmp_path,
        connectors={"delivery_timeout_seconds": 1},
    )
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    context = ConnectorContext(
        name="gateway",
        settings=away,
        areas=load_areas(),
        options={"mappings": str(EXAMPLES), "port": "0"},
    )
    connector = HttpIngestConnector(context)
    runner = ConnectorRunner(connector, away)
    run = asyncio.create_task(runner.run())
    try:
        while connector.bound_port is None:  # noqa: ASYNC110 - the connector offers no event
            await asyncio.sleep(0.05)
        status, answer = await asyncio.wait_for(
            _post(connector.bound_port, "/ingest/hospital-payments", b"\n".join(GOOD)), 30
        )
        assert status == 202 and answer["accepted"] == len(GOOD)
        spool = runner.spool
        assert len(spool) == len(GOOD) and spool.size_bytes > 0
        assert spool.synced_bytes == spool.size_bytes
        assert spool._file.fileno() in synced
    finally:
        runner.stop()
        await asyncio.wait_for(run, 30)


async def test_dead_letters_can_be_listed_exported_and_replayed_after_a_fix(
    topics_settings: Settings, tmp_path: Path
) -> None:
    export = tmp_path / "payments.jsonl"
    export.write_bytes(b"\n".join([GOOD[0], BAD[2]]) + b"\n")
    mapping = tmp_path / "payments.yaml"
    mapping.write_text((EXAMPLES / "hospital-payments.yaml").read_text(encoding="utf-8"))

    def context(path: Path, positions: str) -> ConnectorContext:
        return ConnectorContext(
            name="hospital-payments",
            settings=topics_settings,
            areas=load_areas(),
            options={
                "path": str(path),
                "mapping": str(mapping),
                "follow": "false",
                "state": str(tmp_path / positions),
            },
        )

    await ConnectorRunner(JsonLinesConnector(context(export, "a.json")), topics_settings).run()
    env = {
        **os.environ,
        "IOC_KAFKA_BOOTSTRAP": str(topics_settings.kafka_bootstrap),
        "IOC_KAFKA__TOPIC_PREFIX": topics_settings.kafka.topic_prefix,
        "IOC_STATE_DIR": str(topics_settings.state_dir),
    }
    shown = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "ioc", "dlq", "show"],
        env=env,
        capture_output=True,
        check=True,
    )
    assert b"unmapped_value" in shown.stdout and b"BITCOIN" in shown.stdout
    exported = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "ioc", "dlq", "export", "--source", "hospital-payments"],
        env=env,
        capture_output=True,
        check=True,
    )
    assert exported.stdout == BAD[2] + b"\n"

    # The engineer learns the gateway's new channel code, fixes the mapping, and replays.
    mapping.write_text(
        mapping.read_text(encoding="utf-8").replace(
            "      VI_DIEN_TU: e_wallet\n", "      VI_DIEN_TU: e_wallet\n      BITCOIN: e_wallet\n"
        ),
        encoding="utf-8",
    )
    again = tmp_path / "again.jsonl"
    again.write_bytes(exported.stdout)
    replay = JsonLinesConnector(context(again, "b.json"))
    metrics = await ConnectorRunner(replay, topics_settings).run()
    assert (metrics.sent, metrics.dead_lettered) == (1, 0)
    events = await read_topic(
        topics_settings, topic_name(topics_settings, "events", "payment"), 2, settle=1.0
    )
    ids = {decode(r.value).payload.transaction_id for r in events}  # type: ignore[union-attr]
    assert ids == {"BV-20250601-0001", "X-3"}
