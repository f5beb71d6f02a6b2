"""ioc-monitor: the contract layer and domain of a provincial IOC streaming monitor.

`ioc` holds contracts (settings, event envelope, codec, areas, database, Kafka clients);
implementations live in `ioc.connectors`, `ioc.streams` and `ioc.dashboards`, which are the
top-level folders `connectors/`, `streams/` and `dashboards/` of the repository.
"""

from importlib.metadata import version

__all__ = ["__version__"]

__version__ = version("ioc-monitor")
"""The installed distribution's version; pyproject.toml is where it is written."""
