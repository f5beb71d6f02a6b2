"""Connectors: the feeds that publish events to Kafka (imported as `ioc.connectors`).

A feed is one `Connector` subclass registered in the entry-point group `ioc.connectors`;
the runner (`ioc.connectors.runner`) does the publishing. See `ioc.connectors.base`.
"""

# The folder is importable from the repository root under its bare name too, and that would
# load a second copy of every module (a second, distinct `Connector` class).
if __name__ != "ioc.connectors":
    raise ImportError(
        f"import ioc.connectors, not {__name__}: the folder connectors/ is the package "
        'ioc.connectors (README, "Folders and import names")'
    )

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
