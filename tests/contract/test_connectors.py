"""The contract every registered connector meets, run automatically over the entry points.

A feed installed from another package (tests/plugins/ioc-test-parking, installed by the
Makefile) is covered the same way, with no change here.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path

import pytest

from ioc.areas import load_areas
from ioc.codec import decode, encode
from ioc.config import load_settings
from ioc.connectors import Connector, ConnectorContext, Item, Rejected, VirtualClock
from ioc.connectors.registry import registered
from ioc.events import FEEDS, Envelope, utc_now

NAMES = sorted(registered())
MAX_ITEMS = 3_000
MAX_SECONDS = 20.0


def test_the_shipped_feeds_and_the_test_plugin_are_registered() -> None:
    shipped = {"camera-sim", "dvc-sim", "payment-sim", "network-sim", "feedback-sim"}
    assert shipped | {"jsonl", "http-ingest"} <= set(NAMES)
    assert registered()["parking-cameras"].distribution == "ioc-test-parking"


async def _sample(connector: Connector) -> list[Item]:
    items: list[Item] = []
    events = connector.events()
    # One fed from outside only shows it starts, serves and closes cleanly.
    seconds = 2.0 if connector.waits_for_input else MAX_SECONDS
    try:
        async with asyncio.timeout(seconds):
            async for item in events:
                items.append(item)
                if len(items) >= MAX_ITEMS:
                    break
    except TimeoutError:
        pass
    finally:
        with contextlib.suppress(Exception):
            await events.aclose()  # type: ignore[attr-defined]
        await connector.aclose()
    return items


@pytest.mark.parametrize("name", NAMES)
async def test_connector_contract(name: str, tmp_path: Path) -> None:
    cls = registered()[name].load()
    assert issubclass(cls, Connector)
    assert cls.feed in (*FEEDS, None)
    assert cls.description(), f"{name}: the class docstring's first line describes the feed"

    areas = load_areas()
    end = utc_now().replace(microsecond=0)
    context = ConnectorContext(
        name=name,
        settings=load_settings(state_dir=tmp_path / "state"),
        areas=areas,
        clock=VirtualClock(end - timedelta(minutes=30), end),
        seed=7,
        rate=0.2,
        options=cls.example_options(tmp_path),
    )
    items = await _sample(cls(context))

    if not cls.waits_for_input:
        assert items, f"{name} yielded nothing in a 30-minute backfill"
    for item in items:
        assert isinstance(item, Envelope | Rejected), f"{name} yielded {type(item).__name__}"
        if isinstance(item, Rejected):
            assert item.reason and item.detail
            continue
        assert item.source == name
        assert decode(encode(item)) == item
        assert item.occurred_at <= end, "event time never runs ahead of the clock"
        areas.get(item.area, on=item.occurred_at.date())  # raises for an unknown area
    envelopes = [i for i in items if isinstance(i, Envelope)]
    assert len({e.event_id for e in envelopes}) == len(envelopes), f"{name}: unique event ids"
    if cls.feed is not None:
        assert {e.feed for e in envelopes} <= {cls.feed}
