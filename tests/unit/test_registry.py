"""Wrong registrations fail with a message that names the package and the fix."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from ioc.connectors import registry
from ioc.connectors.registry import RegistryError, load_connector, registered


class _Dist:
    def __init__(self, name: str) -> None:
        self.name = name


def _point(name: str, value: str, dist: str) -> EntryPoint:
    point = EntryPoint(name, value, registry.GROUP)
    return point._for(_Dist(dist))  # type: ignore[attr-defined, no-any-return, arg-type]


def _install(monkeypatch: pytest.MonkeyPatch, *points: EntryPoint) -> None:
    monkeypatch.setattr(registry, "entry_points", lambda group: list(points))


def test_the_same_name_from_two_packages_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(
        monkeypatch,
        _point("feed", "pkg_a:Feed", "pkg-a"),
        _point("feed", "pkg_b:Feed", "pkg-b"),
    )
    with pytest.raises(RegistryError, match=r"'feed' is registered twice.*pkg-a.*pkg-b.*rename"):
        registered()


def test_a_target_that_is_not_a_connector_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch, _point("not-one", "ioc.events:Envelope", "pkg-c"))
    with pytest.raises(RegistryError, match=r"'not-one'.*pkg-c.*not a subclass of .*Connector"):
        load_connector("not-one")


def test_an_unimportable_target_names_the_module(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch, _point("gone", "no_such_module:Feed", "pkg-d"))
    with pytest.raises(RegistryError, match=r"cannot be imported.*no_such_module"):
        load_connector("gone")


def test_an_abstract_connector_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch, _point("abstract", "ioc.connectors.base:Connector", "pkg-e"))
    with pytest.raises(RegistryError, match=r"abstract: implement events"):
        load_connector("abstract")


def test_bad_names_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch, _point("My Feed", "pkg:Feed", "pkg-f"))
    with pytest.raises(RegistryError, match=r"lower-case letters, digits and dashes"):
        registered()


def test_an_unknown_name_lists_what_is_registered() -> None:
    with pytest.raises(RegistryError, match=r"no connector named 'nope'; registered: .*camera-sim"):
        load_connector("nope")


def test_a_feed_outside_the_four_is_refused_when_the_class_is_defined() -> None:
    from ioc.connectors import Connector

    with pytest.raises(TypeError, match=r"feed = 'weather': must be one of"):

        class Weather(Connector):
            feed = "weather"

            def events(self):  # type: ignore[no-untyped-def, override]
                raise NotImplementedError
