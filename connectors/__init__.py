"""Connectors: the feeds that publish events to Kafka (imported as `ioc.connectors`).

A feed is one `Connector` subclass registered in the entry-point group `ioc.connectors`;
the runner (`ioc.connectors.runner`) does the publishing. See `ioc.connectors.base`.
"""

from ioc.connectors.base import (
    Clock,
    Connector,
    ConnectorContext,
    ConnectorError,
    Item,
    Rejected,
    VirtualClock,
    WallClock,
)

__all__ = [
    "Clock",
    "Connector",
    "ConnectorContext",
    "ConnectorError",
    "Item",
    "Rejected",
    "VirtualClock",
    "WallClock",
]
