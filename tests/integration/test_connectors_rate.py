"""What a user loading history sees: the rate of a backfill and of a one-shot import.

`ioc connectors backfill` and `ioc connectors run jsonl … -o follow=false` (the import of a
provincial export) run on a terminal (a pty of 80 columns, the narrowest usual) against the
test broker. Their bar shows the rate while they run and the whole run's rate when done, and the
last line says how many events were delivered, in how long, at what rate; the count is checked
on Kafka.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from ioc.config import Settings
from ioc.connectors.ingest.mapping import EXAMPLES
from ioc.events import utc_now
from ioc.kafka import end_offsets, topic_name
from ioc.localtime import local_today
from tests._exact import dvc_export

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_BAR = re.compile(r"(\d+)%\s+([\d,]+) sent\s+([\d,]+) events/s")
_SUMMARY = re.compile(r"([\d,]+) delivered in ([\d,.]+) s \(([\d,]+) events/s\)")


def _number(text: str) -> float:
    return float(text.replace(",", ""))


@dataclass
class Shown:
    """What the command showed: each state of its bar (percent, sent, rate) and its summary."""

    bars: list[tuple[float, float, float]]
    delivered: int
    seconds: float
    rate: float


def _on_a_terminal(settings: Settings, *args: str) -> Shown:
    """Run `ioc …` on an 80-column terminal as a user would; what it showed there."""
    assert settings.kafka_bootstrap is not None
    env = os.environ | {
        "IOC_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "IOC_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix,
        "IOC_KAFKA__PARTITIONS": str(settings.kafka.partitions),
        "IOC_STATE_DIR": str(settings.state_dir),
        "TERM": "xterm-256color",
    }
    env.pop("COLUMNS", None)
    main, sub = pty.openpty()
    fcntl.ioctl(sub, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "ioc", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=sub,
        stderr=sub,
    )
    os.close(sub)
    chunks = []
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            if not select.select([main], [], [], 1.0)[0]:
                continue
            try:
                data = os.read(main, 1 << 16)
            except OSError:  # EIO: the command has ended and closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(main)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    text = _ANSI.sub("", b"".join(chunks).decode(errors="replace"))
    assert process.returncode == 0, text
    frames = re.split(r"[\r\n]+", text)
    bars = [(_number(m[1]), _number(m[2]), _number(m[3])) for f in frames if (m := _BAR.search(f))]
    summary = _SUMMARY.search(text)
    assert bars and summary, text
    return Shown(bars, int(_number(summary[1])), _number(summary[2]), _number(summary[3]))


def _check(shown: Shown) -> None:
    """The rate while running and at the end, and the summary's numbers agree."""
    running = [rate for percent, sent, rate in shown.bars if percent < 100 and sent > 0]
    assert any(rate > 0 for rate in running), f"no rate shown while running: {shown.bars}"
    percent, sent, rate = shown.bars[-1]
    assert percent == 100 and sent == shown.delivered
    # The last bar and the summary give the whole run's rate (rounded to whole events/s).
    assert abs(shown.rate - shown.delivered / shown.seconds) <= max(0.02 * shown.rate, 2)
    assert abs(rate - shown.rate) <= max(0.05 * shown.rate, 2)


async def test_a_backfill_shows_its_rate(topics_settings: Settings) -> None:
    settings = topics_settings
    day = local_today(utc_now()) - timedelta(days=3)
    shown = await asyncio.to_thread(
        _on_a_terminal,
        settings,
        "connectors", "backfill", "network-sim", "--from", f"{day}T00:00", "--to", f"{day}T12:00",
        "--seed", "3", "--rate", "0.05",
    )  # fmt: skip
    _check(shown)
    on_kafka = await end_offsets(settings, [topic_name(settings, "events", "network")])
    assert shown.delivered == sum(on_kafka.values()) > 10_000


async def test_the_import_of_an_export_shows_its_progress_and_rate(
    topics_settings: Settings, tmp_path: Path
) -> None:
    settings = topics_settings
    day = local_today(utc_now()) - timedelta(days=3)
    export = dvc_export(tmp_path / "dvc.jsonl", day, dossiers=40_000, online=30_000)
    shown = await asyncio.to_thread(
        _on_a_terminal,
        settings,
        "connectors", "run", "jsonl", "--as", "dvc-export",
        "-o", f"path={export}", "-o", "follow=false",
        "-o", f"mapping={EXAMPLES / 'dvc-dossiers.yaml'}",
    )  # fmt: skip
    _check(shown)
    # Percent of the file's bytes: it rose from below 100 while the lines were sent.
    assert min(percent for percent, _, _ in shown.bars) < 100
    events = await end_offsets(settings, [topic_name(settings, "events", "dvc")])
    dlq = await end_offsets(settings, [topic_name(settings, "dlq")])
    assert sum(events.values()) == 40_000 and sum(dlq.values()) == 7
    assert shown.delivered == 40_007
