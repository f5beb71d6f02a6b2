"""ioc-monitor: the contract layer and domain of a provincial IOC streaming monitor.

`ioc` holds contracts (settings, event envelope, codec, areas, database, Kafka clients);
implementations live in `ioc.connectors`, `ioc.streams` and `ioc.dashboards`, which are the
top-level folders `connectors/`, `streams/` and `dashboards/` of the repository.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
