"""The worker takes a fetch in slices and lets other tasks run between them (issue 22).

Between two slices the flush in flight moves on, and so can a rebalance or a reset. What they
do to the worker's partitions is what a stale fetch meets: a record is taken only at its
partition's current position. These tests run the worker's own code on simulated records;
the real broker and database runs of the same paths are in `tests/integration/test_streams.py`
and `tests/faults/test_streams_exact.py`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from ioc.areas import load_areas
from ioc.codec import encode
from ioc.config import load_settings
from ioc.connectors.base import ConnectorContext, VirtualClock
from ioc.connectors.registry import load_connector
from ioc.events import Envelope, utc_now
from ioc.streams.worker import TAKE_SLICE, StreamWorker, _Partition, _Pending

TP = TopicPartition("ioc.events.network", 0)
COUNT = 2 * TAKE_SLICE + TAKE_SLICE // 2


async def _records() -> list[ConsumerRecord]:
    settings = load_settings()
    start = utc_now().replace(microsecond=0) - timedelta(hours=2)
    context = ConnectorContext(
        name="network-sim",
        settings=settings,
        areas=load_areas(settings.areas_file),
        clock=VirtualClock(start, start + timedelta(hours=1)),
        seed=3,
        rate=5,
    )
    found: list[ConsumerRecord] = []
    async for item in load_connector("network-sim")(context).events():
        if isinstance(item, Envelope):
            value = encode(item)
            at = int(item.occurred_at.timestamp() * 1000)
            found.append(
                ConsumerRecord(TP.topic, 0, len(found), at, 1, b"k", value, None, 1, len(value), [])
            )
            if len(found) == COUNT:
                break
    assert len(found) == COUNT, "the simulated hour has enough events"
    return found


@pytest.fixture(scope="module")
def records() -> list[ConsumerRecord]:
    return asyncio.run(_records())


def _worker(next_offset: int = 0) -> StreamWorker:
    worker = StreamWorker(load_settings(), name="slices")
    worker._partitions = {TP: _Partition("network", next_offset, None, None)}
    return worker


async def test_other_tasks_run_between_slices(records: list[ConsumerRecord]) -> None:
    worker = _worker()
    seen: list[int] = []

    async def watch() -> None:  # stands for the flush in flight: it runs between slices
        for _ in range(3):
            seen.append(len(worker._pending))
            await asyncio.sleep(0)

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0)  # the watcher starts with nothing taken
    assert await worker._take_in_slices({TP: records}) == set()
    await watcher
    assert seen == [0, TAKE_SLICE, 2 * TAKE_SLICE]
    assert len(worker._pending) == COUNT
    assert worker._partitions[TP].next_offset == COUNT


async def test_a_reset_during_a_yield_moves_the_position_and_the_rest_waits_for_the_seek(
    records: list[ConsumerRecord],
) -> None:
    worker = _worker()

    def reset() -> None:  # what `_reset` does after a rebalance or a failed flush
        worker._pending = _Pending()
        worker._partitions = {TP: _Partition("network", 500, None, None)}

    asyncio.get_running_loop().call_soon(reset)  # runs at the first yield
    # The rest of the fetch lies past the stored position: a gap, so the partition is
    # resynced (sought to 500) and nothing after the reset is taken twice or skipped.
    assert await worker._take_in_slices({TP: records}) == {TP}
    assert len(worker._pending) == 0
    assert worker._partitions[TP].next_offset == 500


async def test_a_partition_revoked_during_a_yield_is_not_taken_further(
    records: list[ConsumerRecord],
) -> None:
    worker = _worker()

    def revoke() -> None:  # what `_on_revoked` leaves once it has flushed
        worker._pending = _Pending()
        worker._partitions = {}

    asyncio.get_running_loop().call_soon(revoke)
    assert await worker._take_in_slices({TP: records}) == set()
    assert len(worker._pending) == 0


async def test_a_seek_back_during_a_yield_takes_the_records_from_the_new_position(
    records: list[ConsumerRecord],
) -> None:
    worker = _worker(next_offset=0)

    def seek_back() -> None:  # the stored position is where this fetch still has records
        worker._pending = _Pending()
        worker._partitions = {TP: _Partition("network", TAKE_SLICE, None, None)}

    asyncio.get_running_loop().call_soon(seek_back)
    assert await worker._take_in_slices({TP: records}) == set()
    # The records from the stored position on are taken once, into the new batch.
    assert len(worker._pending) == COUNT - TAKE_SLICE
    assert worker._partitions[TP].next_offset == COUNT
