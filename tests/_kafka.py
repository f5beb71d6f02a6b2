"""Reading back what the code under test wrote to Kafka."""

from __future__ import annotations

import asyncio
from typing import Any

from ioc.config import Settings
from ioc.kafka import make_consumer


async def read_topic(
    settings: Settings, topic: str, count: int, timeout: float = 60.0, settle: float = 0.0
) -> list[Any]:
    """Every record of `topic` from the beginning, once at least `count` have arrived.

    With `settle` > 0 it keeps reading that many seconds more, so that records beyond
    `count` (duplicates, strays) are seen too.
    """
    consumer = make_consumer(settings, topic, group_id=None)
    await consumer.start()
    records: list[Any] = []
    try:
        async with asyncio.timeout(timeout):
            while len(records) < count:
                batch = await consumer.getmany(timeout_ms=500)
                records += [r for part in batch.values() for r in part]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settle
        while loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            records += [r for part in batch.values() for r in part]
    except TimeoutError:
        message = f"{topic}: {len(records)} records after {timeout} s, expected {count}"
        raise AssertionError(message) from None
    finally:
        await consumer.stop()
    return records
