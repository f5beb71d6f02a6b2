"""A small connector for runner tests: numbered payments over a few keys, optionally paced."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import ClassVar

from ioc.areas import load_areas
from ioc.config import Settings
from ioc.connectors.base import Connector, ConnectorContext, Item, Rejected
from ioc.events import Envelope, PaymentTransaction, utc_now

KEYS = 10


class SequenceConnector(Connector):
    """Yields `count` payments `key-seq` round-robin over ten keys; every `reject_every`-th
    input is rejected instead."""

    feed: ClassVar[str] = "payment"

    def __init__(
        self,
        context: ConnectorContext,
        count: int,
        per_second: float = 0.0,
        reject_every: int = 0,
    ) -> None:
        super().__init__(context)
        self.count = count
        self.per_second = per_second
        self.reject_every = reject_every
        self.yielded: list[Item] = []

    async def events(self) -> AsyncIterator[Item]:
        for n in range(self.count):
            item: Item
            if self.reject_every and n % self.reject_every == self.reject_every - 1:
                item = Rejected(f"line {n}".encode(), "not_json", f"line {n} is not JSON", f"f:{n}")
            else:
                key = f"k{n % KEYS}"
                item = Envelope.create(
                    source=self.context.name,
                    area="33",
                    key=key,
                    occurred_at=utc_now(),
                    payload=PaymentTransaction(
                        transaction_id=f"{key}-{n // KEYS}",
                        amount_vnd=10_000 + n,
                        channel="qr",
                        sector="retail",
                        success=True,
                    ),
                )
            self.yielded.append(item)
            yield item
            if self.per_second:
                await asyncio.sleep(1 / self.per_second)


def sequence_connector(
    settings: Settings, count: int, name: str = "sequence", **kwargs: float
) -> SequenceConnector:
    context = ConnectorContext(name=name, settings=settings, areas=load_areas())
    return SequenceConnector(context, count, **kwargs)  # type: ignore[arg-type]


def sequence_of(value: bytes) -> tuple[str, int]:
    """(key, seq) of a record written from a SequenceConnector payment."""
    from ioc.codec import decode

    payload = decode(value).payload
    assert isinstance(payload, PaymentTransaction)
    key, seq = payload.transaction_id.split("-")
    return key, int(seq)


def spool_dir(settings: Settings, name: str = "sequence") -> Path:
    return settings.state_dir / "spool" / name
