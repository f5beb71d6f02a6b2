"""JSON Lines connector: real files in a temporary folder, followed like `tail -F`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from ioc.areas import AreaRegistry, load_areas
from ioc.config import load_settings
from ioc.connectors.base import RECORD_LIMIT, ConnectorContext, ConnectorError, Item, Rejected
from ioc.connectors.ingest import jsonl
from ioc.connectors.ingest.jsonl import JsonLinesConnector
from ioc.connectors.ingest.mapping import MappingError
from ioc.events import CameraHeartbeat, Envelope

MAPPING = """\
kind: camera.heartbeat
event_id: $.id
occurred_at: $.t
area: {value: "33"}
payload:
  camera_id: $.cam
  online: $.on
"""

AREAS: AreaRegistry = load_areas()


def record(n: int) -> bytes:
    data = {"id": n, "t": "2025-06-01T08:00:00+07:00", "cam": f"cam-{n}", "on": True}
    return json.dumps(data).encode()


def lines(*numbers: int) -> bytes:
    return b"".join(record(n) + b"\n" for n in numbers)


def cameras(items: list[Item]) -> list[str]:
    """Which records the items came from: cam-N for envelopes, the reason for rejections."""
    out = []
    for item in items:
        if isinstance(item, Envelope):
            assert isinstance(item.payload, CameraHeartbeat)
            out.append(item.payload.camera_id)
        else:
            out.append(item.reason)
    return out


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "cameras.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def make(tmp_path: Path, mapping: Path, path: Path, **options: str) -> JsonLinesConnector:
    context = ConnectorContext(
        name="camera-files",
        settings=load_settings(state_dir=tmp_path / "state"),
        areas=AREAS,
        options={"path": str(path), "mapping": str(mapping), "poll_seconds": "0.02", **options},
    )
    return JsonLinesConnector(context)


async def read_all(connector: JsonLinesConnector) -> list[Item]:
    """Everything a follow=false connector yields."""
    try:
        return [item async for item in connector.events()]
    finally:
        await connector.aclose()


class Collector:
    """Consumes a following connector in the background, like the runner does."""

    def __init__(self, connector: JsonLinesConnector) -> None:
        self.connector = connector
        self.items: list[Item] = []
        self._grew = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for item in self.connector.events():
            self.items.append(item)
            self._grew.set()

    async def until(self, count: int) -> list[Item]:
        async with asyncio.timeout(5):
            while len(self.items) < count:
                self._grew.clear()
                waiter = asyncio.ensure_future(self._grew.wait())
                await asyncio.wait({waiter, self._task}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if self._task.done():
                    self._task.result()
        return self.items

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.connector.aclose()


@pytest.fixture
async def collectors() -> AsyncIterator[list[Collector]]:
    started: list[Collector] = []
    yield started
    for collector in started:
        await collector.stop()


def follow(
    collectors: list[Collector], tmp_path: Path, mapping: Path, path: Path, **options: str
) -> Collector:
    collector = Collector(make(tmp_path, mapping, path, **options))
    collectors.append(collector)
    return collector


# --- reading -----------------------------------------------------------------------------------
async def test_reads_a_directory_in_name_order(tmp_path: Path, mapping: Path, data: Path) -> None:
    (data / "2025-06-02.jsonl").write_bytes(lines(3, 4))
    (data / "2025-06-01.jsonl").write_bytes(lines(1) + b"\n  \n" + lines(2))
    (data / "notes.txt").write_bytes(b"not a data file\n")
    items = await read_all(make(tmp_path, mapping, data, follow="false"))
    assert cameras(items) == ["cam-1", "cam-2", "cam-3", "cam-4"]


async def test_every_non_blank_line_yields_one_item(
    tmp_path: Path, mapping: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny chunks put line ends on every side of a chunk boundary.
    monkeypatch.setattr(jsonl, "_CHUNK", 7)
    content = lines(1) + b"{not json\n\n" + b"[1, 2]\n" + lines(2) + b"\r\n" + b'{"id": 3}\n'
    (data / "a.jsonl").write_bytes(content)
    items = await read_all(make(tmp_path, mapping, data, follow="false"))
    assert cameras(items) == ["cam-1", "not_json", "not_object", "cam-2", "missing_field"]
    non_blank = [raw for raw in content.split(b"\n") if raw.strip()]
    assert len(items) == len(non_blank)
    rejections = [item for item in items if isinstance(item, Rejected)]
    where = data / "a.jsonl"
    assert [r.location for r in rejections] == [f"{where}:2", f"{where}:4", f"{where}:7"]
    assert [r.original for r in rejections] == [b"{not json", b"[1, 2]", b'{"id": 3}']


async def test_a_line_over_the_record_limit_is_too_large_and_reading_goes_on(
    tmp_path: Path, mapping: Path, data: Path
) -> None:
    huge = b'{"id": 9, "cam": "' + b"x" * RECORD_LIMIT + b'"}'
    (data / "a.jsonl").write_bytes(lines(1) + huge + b"\n" + lines(2))
    items = await read_all(make(tmp_path, mapping, data, follow="false"))
    assert cameras(items) == ["cam-1", "too_large", "cam-2"]
    assert isinstance(items[1], Rejected) and items[1].original == huge[: RECORD_LIMIT + 1]
    assert items[1].detail == f"the record is {len(huge)} bytes, over {RECORD_LIMIT}"


async def test_an_endless_line_is_held_in_bounded_memory(
    tmp_path: Path, mapping: Path, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 20 MiB line (a dump without newlines) is read, kept to RECORD_LIMIT + 1 bytes and
    rejected; the lines after it are read at their right positions."""
    monkeypatch.setattr(jsonl, "_CHUNK", 64 * 1024)
    size = 20 * 2**20
    (data / "a.jsonl").write_bytes(lines(1) + b"[" * size + b"\n" + lines(2))
    connector = make(tmp_path, mapping, data, follow="false")
    items = await read_all(connector)
    assert cameras(items) == ["cam-1", "too_large", "cam-2"]
    kept = items[1]
    assert isinstance(kept, Rejected)
    assert kept.original == b"[" * (RECORD_LIMIT + 1)
    assert kept.detail == f"the record is {size} bytes, over {RECORD_LIMIT}"
    await connector.commit()
    assert connector._saved[str(data / "a.jsonl")]["offset"] == (data / "a.jsonl").stat().st_size


async def test_impossible_times_are_rejected_and_reading_goes_on(
    tmp_path: Path, mapping: Path, data: Path
) -> None:
    """Year 1 read in UTC+7 and year 9999 in UTC-7 have no UTC datetime."""
    bad = [
        {"id": 7, "t": "0001-01-01T00:00:00", "cam": "c", "on": True},
        {"id": 8, "t": "9999-12-31T23:00:00-07:00", "cam": "c", "on": True},
    ]
    content = lines(1) + b"".join(json.dumps(r).encode() + b"\n" for r in bad) + lines(2)
    (data / "a.jsonl").write_bytes(content)
    items = await read_all(make(tmp_path, mapping, data, follow="false"))
    assert cameras(items) == ["cam-1", "bad_time", "bad_time", "cam-2"]


async def test_one_file_and_its_unfinished_last_line_at_the_end(
    tmp_path: Path, mapping: Path, data: Path
) -> None:
    path = data / "export.json"  # any name: a file given directly ignores the pattern
    path.write_bytes(lines(1) + record(2))
    items = await read_all(make(tmp_path, mapping, path, follow="false"))
    assert cameras(items) == ["cam-1", "cam-2"]


async def test_follows_appended_lines_and_new_files(
    tmp_path: Path, mapping: Path, data: Path, collectors: list[Collector]
) -> None:
    (data / "a.jsonl").write_bytes(lines(1))
    collector = follow(collectors, tmp_path, mapping, data)
    await collector.until(1)
    with (data / "a.jsonl").open("ab") as out:
        out.write(lines(2))
    await collector.until(2)
    (data / "b.jsonl").write_bytes(lines(3))
    assert cameras(await collector.until(3)) == ["cam-1", "cam-2", "cam-3"]


async def test_an_unfinished_line_waits_for_its_newline(
    tmp_path: Path, mapping: Path, data: Path, collectors: list[Collector]
) -> None:
    path = data / "a.jsonl"
    path.write_bytes(lines(1) + record(2)[:20])
    collector = follow(collectors, tmp_path, mapping, data)
    await collector.until(1)
    await asyncio.sleep(0.15)  # several polls
    assert len(collector.items) == 1
    with path.open("ab") as out:
        out.write(record(2)[20:] + b"\n")
    assert cameras(await collector.until(2)) == ["cam-1", "cam-2"]


# --- positions ---------------------------------------------------------------------------------
async def test_commit_then_restart_resumes_after_the_last_line(
    tmp_path: Path, mapping: Path, data: Path
) -> None:
    path = data / "a.jsonl"
    path.write_bytes(lines(1, 2, 3))
    first = make(tmp_path, mapping, data, follow="false")
    events = first.events()
    assert cameras([await anext(events), await anext(events)]) == ["cam-1", "cam-2"]
    await first.commit()  # cam-1 and cam-2 are durable; cam-3 was never handed out
    await events.aclose()
    await first.aclose()
    state = tmp_path / "state" / "ingest" / "camera-files.json"
    saved = json.loads(state.read_text())["files"][str(path)]
    assert (saved["line"], saved["offset"]) == (2, len(lines(1, 2)))
    assert not state.with_name(state.name + ".tmp").exists()

    with path.open("ab") as out:
        out.write(lines(4))
    again = make(tmp_path, mapping, data, follow="false")
    items = await read_all(again)
    assert cameras(items) == ["cam-3", "cam-4"]
    await again.commit()
    assert await read_all(make(tmp_path, mapping, data, follow="false")) == []


async def test_a_one_shot_import_tells_how_far_it_is(
    tmp_path: Path, mapping: Path, data: Path
) -> None:
    """Bytes read of the files' bytes, for the bar of `ioc connectors run … -o follow=false`;
    a restart counts what the last run committed as read."""
    (data / "a.jsonl").write_bytes(lines(1, 2))
    (data / "b.jsonl").write_bytes(lines(3))
    size = len(lines(1, 2, 3))
    assert make(tmp_path, mapping, data).progress() is None  # following: no end
    first = make(tmp_path, mapping, data, follow="false")
    assert first.progress() == (0, 0)  # the files are not listed yet
    events = first.events()
    await anext(events)
    assert first.progress() == (len(lines(1)), size)
    await first.commit()
    await events.aclose()
    await first.aclose()
    again = make(tmp_path, mapping, data, follow="false")
    events = again.events()
    assert cameras([await anext(events)]) == ["cam-2"]
    assert again.progress() == (len(lines(1, 2)), size)
    assert cameras([item async for item in events]) == ["cam-3"]
    assert again.progress() == (size, size)
    await again.aclose()
    assert again.progress() == (size, size)


async def test_without_commit_a_restart_reads_again_with_the_same_ids(
    tmp_path: Path, mapping: Path, data: Path
) -> None:
    (data / "a.jsonl").write_bytes(lines(1, 2) + b"oops\n")
    first = await read_all(make(tmp_path, mapping, data, follow="false"))
    second = await read_all(make(tmp_path, mapping, data, follow="false"))
    assert len(first) == len(second) == 3
    ids = [item.event_id for item in first if isinstance(item, Envelope)]
    assert ids == [item.event_id for item in second if isinstance(item, Envelope)]


async def test_a_file_replaced_while_stopped_is_read_from_the_start(
    tmp_path: Path, mapping: Path, data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = data / "a.jsonl"
    path.write_bytes(lines(1, 2))
    first = make(tmp_path, mapping, data, follow="false")
    await read_all(first)
    await first.commit()
    # A new file (new inode) under the same name, as log rotation leaves it.
    (data / "new.tmp").write_bytes(lines(5, 6, 7))
    os.replace(data / "new.tmp", path)
    with caplog.at_level(logging.WARNING):
        items = await read_all(make(tmp_path, mapping, data, follow="false"))
    assert cameras(items) == ["cam-5", "cam-6", "cam-7"]
    assert "was replaced" in caplog.text


@pytest.mark.parametrize(
    ("rewrite", "problem"),
    [
        (lambda old: old[:10] + b"\n", "was truncated"),
        (lambda old: b"X" + old[1:] + lines(9), "its first bytes differ"),  # same inode
    ],
)
async def test_a_file_rewritten_while_stopped_is_read_from_the_start(
    tmp_path: Path,
    mapping: Path,
    data: Path,
    caplog: pytest.LogCaptureFixture,
    rewrite: Callable[[bytes], bytes],
    problem: str,
) -> None:
    path = data / "a.jsonl"
    path.write_bytes(lines(1, 2))
    first = make(tmp_path, mapping, data, follow="false")
    await read_all(first)
    await first.commit()
    with path.open("r+b") as out:  # in place: the inode stays
        new = rewrite(path.read_bytes())
        out.write(new)
        out.truncate(len(new))
    with caplog.at_level(logging.WARNING):
        items = await read_all(make(tmp_path, mapping, data, follow="false"))
    assert problem in caplog.text
    assert items and isinstance(items[0], Rejected)  # the rewritten first line, from line 1
    assert items[0].location == f"{path}:1"


async def test_truncated_while_followed(
    tmp_path: Path,
    mapping: Path,
    data: Path,
    collectors: list[Collector],
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = data / "a.jsonl"
    path.write_bytes(lines(1, 2, 3))
    collector = follow(collectors, tmp_path, mapping, data)
    await collector.until(3)
    with caplog.at_level(logging.WARNING):
        path.write_bytes(lines(4))  # shorter than what was read: a truncation
        items = await collector.until(4)
    assert cameras(items) == ["cam-1", "cam-2", "cam-3", "cam-4"]
    assert isinstance(items[3], Envelope)
    assert "truncated" in caplog.text


async def test_rotation_while_followed_loses_nothing(
    tmp_path: Path, mapping: Path, data: Path, collectors: list[Collector]
) -> None:
    path = data / "app.jsonl"
    path.write_bytes(lines(1))
    collector = follow(collectors, tmp_path, mapping, path)
    await collector.until(1)
    # Between two polls: a last line in the old file, which is then rotated away.
    with path.open("ab") as out:
        out.write(lines(2) + record(3)[:10])
    path.rename(data / "app.jsonl.1")
    path.write_bytes(lines(4))
    items = await collector.until(4)
    assert cameras(items) == ["cam-1", "cam-2", "not_json", "cam-4"]
    assert [item.location for item in items if isinstance(item, Rejected)] == [f"{path}:3"]

    await collector.connector.commit()
    saved = json.loads((tmp_path / "state" / "ingest" / "camera-files.json").read_text())
    assert saved["files"][str(path)]["line"] == 1  # the new file's position


# --- configuration -----------------------------------------------------------------------------
async def test_missing_path_is_refused_at_start(tmp_path: Path, mapping: Path) -> None:
    connector = make(tmp_path, mapping, tmp_path / "nowhere")
    with pytest.raises(ConnectorError, match=r"path=.*nowhere does not exist"):
        await anext(connector.events())


async def test_broken_mapping_is_refused_at_start(tmp_path: Path, data: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(MAPPING.replace("camera.heartbeat", "camera.beat"), encoding="utf-8")
    with pytest.raises(MappingError, match=r"broken.yaml:1: kind: unknown kind"):
        await anext(make(tmp_path, broken, data).events())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"follow": "sometimes"}, "follow='sometimes' must be true or false"),
        ({"poll_seconds": "0"}, "poll_seconds='0' must be above 0"),
        ({"poll_seconds": "soon"}, "poll_seconds='soon' must be above 0"),
    ],
)
async def test_bad_options(
    tmp_path: Path, mapping: Path, data: Path, options: dict[str, str], message: str
) -> None:
    with pytest.raises(ConnectorError, match=message):
        await anext(make(tmp_path, mapping, data, **options).events())


async def test_damaged_state_is_refused(tmp_path: Path, mapping: Path, data: Path) -> None:
    state = tmp_path / "positions.json"
    state.write_text('{"version": 1, "files": {"/x": {"offset": "ten"}}}')
    with pytest.raises(ConnectorError, match=r"positions\.json are damaged"):
        await anext(make(tmp_path, mapping, data, state=str(state)).events())


def test_describes_itself() -> None:
    assert JsonLinesConnector.description().startswith("Reads JSON Lines")
    assert {"path", "mapping", "pattern", "follow", "poll_seconds", "state"} <= set(
        JsonLinesConnector.options_help
    )
