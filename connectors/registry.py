"""Find connectors through the entry-point group `ioc.connectors`.

An installed package registers a feed with one line in its pyproject.toml:

    [project.entry-points."ioc.connectors"]
    my-feed = "my_package.feed:MyFeedConnector"

Entry points are loaded lazily (listing names imports nothing). Two distributions claiming
the same name, or an entry point that is not a `Connector` subclass, fail with a message
that names the distribution and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from ioc.connectors.base import Connector

__all__ = ["GROUP", "RegisteredConnector", "RegistryError", "load_connector", "registered"]

GROUP = "ioc.connectors"
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,63}$")


class RegistryError(Exception):
    """A connector registration is wrong: duplicate, unloadable, or not a Connector."""


@dataclass(frozen=True)
class RegisteredConnector:
    """One entry point of the group, not imported yet."""

    name: str
    target: str
    distribution: str

    def load(self) -> type[Connector]:
        """Import the class, checking that it really is a connector."""
        point = EntryPoint(self.name, self.target, GROUP)
        where = f"entry point {self.name!r} = {self.target!r} (distribution {self.distribution})"
        try:
            loaded = point.load()
        except Exception as err:
            raise RegistryError(f"{where} cannot be imported: {err!r}") from err
        if not (isinstance(loaded, type) and issubclass(loaded, Connector)):
            raise RegistryError(
                f"{where} is {loaded!r}, not a subclass of ioc.connectors.Connector"
            )
        if getattr(loaded, "__abstractmethods__", None):
            missing = ", ".join(sorted(loaded.__abstractmethods__))
            raise RegistryError(f"{where} is abstract: implement {missing}")
        if not hasattr(loaded, "feed"):
            raise RegistryError(
                f"{where} does not set the class attribute `feed` (a feed name, or None when "
                "each event's feed is configured)"
            )
        return loaded


def registered() -> dict[str, RegisteredConnector]:
    """Every registered connector by name, in name order.

    Raises:
        RegistryError: a name is registered twice or is not a valid connector name.
    """
    found: dict[str, RegisteredConnector] = {}
    for point in entry_points(group=GROUP):
        dist = point.dist.name if point.dist is not None else "unknown distribution"
        entry = RegisteredConnector(point.name, point.value, dist)
        if not _NAME.match(point.name):
            raise RegistryError(
                f"connector name {point.name!r} from {dist} must be lower-case letters, digits "
                "and dashes (it becomes a file name and a metric label)"
            )
        previous = found.get(point.name)
        if previous is not None and previous.target != entry.target:
            raise RegistryError(
                f"connector {point.name!r} is registered twice: {previous.target} "
                f"({previous.distribution}) and {entry.target} ({dist}); rename one of them "
                "in its pyproject.toml and reinstall"
            )
        found[point.name] = entry
    return dict(sorted(found.items()))


def load_connector(name: str) -> type[Connector]:
    """The connector class registered as `name`.

    Raises:
        RegistryError: nothing is registered under that name (the message lists what is).
    """
    connectors = registered()
    if name not in connectors:
        known = ", ".join(connectors) or "none"
        raise RegistryError(
            f"no connector named {name!r}; registered: {known}. "
            "A new feed is registered in the entry-point group 'ioc.connectors'."
        )
    return connectors[name].load()
