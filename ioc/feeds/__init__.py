"""Kinds of feed as data: each feed is a declaration, and the core reads only declarations.

A declaration (YAML, read by `ioc.datafile` with ``file:line: path: reason`` errors) says
everything the core needs about a kind of feed: its names, its event kinds and their typed
fields (enums with labels), the entity each event is about and the state it reports, the
metrics each event adds to its window (the numerators and denominators of KPIs), the
consistency rules that send an event to the dead-letter topic, its topic, and the KPIs and
alert rules that come with it. Topics, the worker, the event store, the API, the boards and
`ioc status` take every declared feed the same way; the four shipped feeds (camera, DVC,
payment, network) and citizen feedback are declarations in ``ioc/data/feeds/`` like any other.

Declarations are found, once per process, in this order:

1. the shipped ones, ``ioc/data/feeds/*.yaml``;
2. those plugin packages ship, an entry point in the group ``ioc.feeds`` whose value is
   ``package:file.yaml`` (the file inside the package; the package is not imported, so it may
   import ``ioc`` freely); ``IOC_FEEDS_PLUGINS`` chooses among the installed ones: ``all``
   (unset), ``none``, or their entry point names separated by commas;
3. the province's own, every ``*.yaml`` in the folder ``IOC_FEEDS_DIR`` names.

A mistake in any of them stops the process at its start with every problem of every file.

Example:
    >>> from ioc.feeds import feeds
    >>> [f.feed for f in feeds()][:4]
    ['camera', 'dvc', 'payment', 'network']
    >>> payment = feeds()[2].events["payment.transaction"]
    >>> payment.model.__name__, payment.entity is not None
    ('PaymentTransaction', True)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache
from importlib.metadata import entry_points
from importlib.resources import files
from importlib.resources.abc import Traversable
from importlib.util import find_spec
from pathlib import Path

from dotenv import dotenv_values

from ioc.datafile import DataFileError, parse, read_text
from ioc.feeds._compile import EventKind, EventPayload, FeedKind, Measure, Rule, compile_feed
from ioc.feeds._spec import FeedSpec

__all__ = [
    "ENTRY_POINT_GROUP",
    "FEEDS_DIR_ENV",
    "PLUGINS_ENV",
    "EventKind",
    "EventPayload",
    "FeedFileError",
    "FeedKind",
    "Measure",
    "Rule",
    "declaration_files",
    "event_kinds",
    "feed",
    "feeds",
    "load_feeds",
]

ENTRY_POINT_GROUP = "ioc.feeds"
FEEDS_DIR_ENV = "IOC_FEEDS_DIR"
PLUGINS_ENV = "IOC_FEEDS_PLUGINS"


class FeedFileError(DataFileError):
    """A feed declaration that cannot be used; lists every problem of every declaration."""


def _setting(name: str) -> str | None:
    """A setting from the environment, else from ``.env`` as `ioc.config` reads it.

    Not from `ioc.config.Settings` (whose ``feeds_dir`` and ``feeds_plugins`` document these):
    the payload classes are made when `ioc.events` is imported, before any settings exist.
    """
    given = os.environ.get(name)
    if given is None and Path(".env").is_file():
        given = dotenv_values(".env").get(name)
    return given


def _shipped() -> list[Traversable]:
    folder = files("ioc") / "data" / "feeds"
    return sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)


def _from_plugins() -> Iterator[tuple[str, Path | str]]:
    chosen = (_setting(PLUGINS_ENV) or "all").strip()
    wanted = None if chosen == "all" else {n.strip() for n in chosen.split(",")} - {"none", ""}
    points = entry_points(group=ENTRY_POINT_GROUP)
    for name in sorted((wanted or set()) - set(points.names)):
        installed = ", ".join(sorted(points.names)) or "none"
        yield (
            name,
            f"{PLUGINS_ENV}: no installed plug-in declares feed {name!r} (installed: {installed})",
        )
    for point in points:
        if wanted is not None and point.name not in wanted:
            continue
        package, _, name = point.value.partition(":")
        spec = find_spec(package.strip()) if package.strip() else None
        where = list(spec.submodule_search_locations or []) if spec else []
        if not where or not name.strip():
            yield (
                point.name,
                f"entry point {point.name} = {point.value!r}: expected package:file.yaml",
            )
            continue
        yield point.name, Path(where[0]) / name.strip()


def declaration_files() -> list[Traversable | Path]:
    """Every declaration, shipped, from plugins, then the province's (see the module doc).

    Raises:
        FeedFileError: a plugin's entry point or ``IOC_FEEDS_DIR`` names nothing readable.
    """
    found: list[Traversable | Path] = list(_shipped())
    problems = []
    for name, path in _from_plugins():
        if isinstance(path, str):
            problems.append(path)
        elif not path.is_file():
            problems.append(f"entry point {name} ({ENTRY_POINT_GROUP}): no file {path}")
        else:
            found.append(path)
    folder = _setting(FEEDS_DIR_ENV)
    if folder:
        if not Path(folder).is_dir():
            problems.append(
                f"{FEEDS_DIR_ENV}={folder}: not a folder; "
                "point it at the folder of your feed declarations"
            )
        else:
            found += sorted(Path(folder).glob("*.yaml"))
    if problems:
        raise FeedFileError("feed declarations", problems)
    return found


def load_feeds(paths: list[Traversable | Path]) -> list[FeedKind]:
    """Read and compile the declarations at `paths`, checking them against each other.

    Raises:
        FeedFileError: every problem of every file, each ``file:line: path: reason``.
    """
    problems: list[str] = []
    out: list[FeedKind] = []
    for path in paths:
        source = str(path)
        doc = parse(source, read_text(path, FeedFileError), error=FeedFileError)
        problems += doc.repeated()
        spec, found = doc.validate(FeedSpec, doc.data if doc.data is not None else {})
        problems += found
        if spec is None:
            continue
        compiled, found = compile_feed(spec, doc)
        problems += found
        if compiled is not None:
            out.append(compiled)
    problems += _clashes(out)
    if problems:
        raise FeedFileError("feed declarations", problems)
    return sorted(out, key=lambda f: (f.order, f.feed))


def _clashes(feeds: list[FeedKind]) -> list[str]:
    """Names two declarations both claim: a feed, an event kind, a class or a metric."""
    problems = []
    seen: dict[tuple[str, str], str] = {}
    for f in feeds:
        claims = [("feed", f.feed)]
        claims += [("event kind", k) for k in f.events]
        claims += [("class", e.model.__name__) for e in f.events.values()]
        claims += [("class", name) for name in f.enums]
        claims += [("metric", m) for m in f.metrics]
        for claim in claims:
            if claim in seen and seen[claim] != f.source:
                problems.append(
                    f"{f.source}: {claim[0]} {claim[1]!r} is declared in {seen[claim]} too"
                )
            seen.setdefault(claim, f.source)
    return problems


@cache
def feeds() -> tuple[FeedKind, ...]:
    """Every declared feed, in order; read once per process.

    Raises:
        FeedFileError: a declaration has mistakes (all of them are listed).
    """
    return tuple(load_feeds(declaration_files()))


def feed(name: str) -> FeedKind:
    """The declared feed called `name`.

    Raises:
        KeyError: no feed has that name.
    """
    for f in feeds():
        if f.feed == name:
            return f
    raise KeyError(name)


@cache
def event_kinds() -> dict[type[EventPayload], EventKind]:
    """Every event kind of every feed, by payload class (what the hot path looks up)."""
    return {e.model: e for f in feeds() for e in f.events.values()}
