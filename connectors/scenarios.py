"""Declarative incidents that the simulated feeds inject: outages, backlogs, failures.

A scenario is what a trainer or a tester wants the IOC to see: "the special data network of
Văn Lâm goes down in five minutes for a quarter of an hour", "the Department of Justice falls
behind all afternoon". It is data, written either as a YAML file or inline on the command line,
and the simulators read it through `ConnectorContext.scenario`.

Four kinds of incident exist, each with its own target:

- `network_outage`, target `area` (required): the connection points of the area report
  `up=False`;
- `cameras_dark`, target `area` (optional, default all cameras): cameras go offline and send
  no detections;
- `dvc_backlog`, target `agency` (required): the agency's dossiers resolve late and its
  processing slows;
- `payment_gateway_failure`, targets `channel` (default `national_portal`) and `area`
  (optional): the channel's transactions fail with `gateway_unavailable`.

`intensity` (0..1, default 1) is the share of targets hit: 0.5 takes down half the points of
the area, fails half the transactions, makes about half of the dossiers late. An `area` may be
a commune, a district or the province (it covers the areas under it), given by code or by a
name that `AreaRegistry.find` resolves to exactly one area.

The simulators also fail on their own now and then (a connection point or a camera goes down
for half an hour, a link degrades), as real fleets do. `background: false` turns those everyday
faults off, so that only the scenario's incidents happen: a drill that shows one outage, or a
test that must know exactly which areas break.

Inline form (several incidents separated by `;`, `background:off` as one of them)::

    network_outage:area=11950,start=+5m,duration=15m,intensity=1;dvc_backlog:agency=SO-TP,duration=2h

YAML form (examples in `ioc/connectors/simulated/scenarios/`)::

    name: Mất kết nối mạng chuyên dùng Văn Lâm
    incidents:
      - kind: network_outage
        area: "325"
        start: "+5m"          # relative to now, or 2025-03-04T09:00:00+07:00
        duration: 15m
        intensity: 1
    background: true          # false: none of the simulators' everyday random faults

Example:
    >>> from datetime import UTC, datetime
    >>> now = datetime(2025, 3, 4, 2, 0, tzinfo=UTC)
    >>> s = load_scenario("cameras_dark:start=+5m,duration=10m,intensity=0.5", now=now)
    >>> s.intensity("cameras_dark", datetime(2025, 3, 4, 2, 7, tzinfo=UTC), area="11950")
    0.5
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import yaml

from ioc.events import PaymentChannel
from ioc.localtime import local_date, parse_duration, parse_start

if TYPE_CHECKING:
    from ioc.areas import AreaRegistry

__all__ = [
    "KINDS",
    "Incident",
    "Scenario",
    "ScenarioError",
    "load_scenario",
]

KINDS: Final[tuple[str, ...]] = (
    "network_outage",
    "dvc_backlog",
    "payment_gateway_failure",
    "cameras_dark",
)

# Naive times in a scenario are what an operator in the province reads on the wall clock.

# Which target fields each kind accepts; True marks the required ones.
_TARGETS: Final[dict[str, dict[str, bool]]] = {
    "network_outage": {"area": True},
    "cameras_dark": {"area": False},
    "dvc_backlog": {"agency": True},
    "payment_gateway_failure": {"channel": False, "area": False},
}
_COMMON_FIELDS: Final[tuple[str, ...]] = ("kind", "start", "duration", "intensity", "name")
_ALL_FIELDS: Final[tuple[str, ...]] = (*_COMMON_FIELDS, "area", "agency", "channel")
_TOP_FIELDS: Final[tuple[str, ...]] = ("name", "description", "incidents", "background")
_SWITCH: Final[dict[str, bool]] = {"on": True, "true": True, "off": False, "false": False}


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message says where, which field and why.

    Attributes:
        where: the file and line (`dvc-backlog.yaml:12`) or the inline part, if known.
        field: the incident field at fault (`duration`, `area`...), or None for the whole.
        reason: what is wrong and how to write it instead.
    """

    def __init__(self, reason: str, *, field: str | None = None, where: str | None = None) -> None:
        self.where = where
        self.field = field
        self.reason = reason
        parts = [p for p in (where, field) if p]
        super().__init__(": ".join([*parts, reason]))

    def located(self, where: str) -> ScenarioError:
        """The same error, placed at `where` (a file line or an inline part)."""
        return ScenarioError(self.reason, field=self.field, where=where)


@dataclass(frozen=True)
class Incident:
    """One incident: what breaks, where, from when, for how long and how badly.

    Attributes:
        kind: one of `KINDS`.
        start: when it begins (aware).
        duration: how long it lasts (positive).
        intensity: share of the targets hit, 0..1.
        area: area code it hits (network_outage, cameras_dark, payment_gateway_failure);
            None means everywhere where allowed.
        agency: agency code (dvc_backlog), e.g. `SO-TP` or `UBND-11950`.
        channel: payment channel (payment_gateway_failure), default `national_portal`.
        name: a label for people, e.g. "Đứt cáp quang Văn Lâm".
    """

    kind: str
    start: datetime
    duration: timedelta
    intensity: float = 1.0
    area: str | None = None
    agency: str | None = None
    channel: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ScenarioError(
                f"unknown kind {self.kind!r} (known: {', '.join(KINDS)})", field="kind"
            )
        if self.start.tzinfo is None:
            raise ScenarioError("start must carry a time zone offset", field="start")
        if self.duration <= timedelta(0):
            raise ScenarioError(f"must be positive, got {self.duration}", field="duration")
        if not 0.0 <= self.intensity <= 1.0:
            raise ScenarioError(f"must be between 0 and 1, got {self.intensity}", field="intensity")
        targets = _TARGETS[self.kind]
        for name in ("area", "agency", "channel"):
            value = getattr(self, name)
            if value is not None and name not in targets:
                raise ScenarioError(
                    f"{self.kind} does not take {name!r} (it takes: {', '.join(targets)})",
                    field=name,
                )
            if value is None and targets.get(name, False):
                raise ScenarioError(f"{self.kind} needs {name}=...", field=name)
        if self.kind == "payment_gateway_failure":
            if self.channel is None:
                object.__setattr__(self, "channel", PaymentChannel.NATIONAL_PORTAL.value)
            elif self.channel not in {c.value for c in PaymentChannel}:
                raise ScenarioError(
                    f"unknown payment channel {self.channel!r} "
                    f"(known: {', '.join(c.value for c in PaymentChannel)})",
                    field="channel",
                )

    @property
    def end(self) -> datetime:
        """When it is over (exclusive)."""
        return self.start + self.duration

    def active(self, at: datetime) -> bool:
        """Tell whether the incident is under way at `at`."""
        return self.start <= at < self.end

    def covers(self, area: str, areas: AreaRegistry | None = None, on: date | None = None) -> bool:
        """Tell whether the incident's area contains `area` (itself or an area under it).

        Args:
            area: the code of the area to test, usually a commune.
            areas: the registry to walk up from `area`; without it only the same code matches.
            on: the day of the hierarchy; defaults to the local day the incident starts.

        Returns:
            True when the incident has no area, or its area is `area` or one of its ancestors.
        """
        if self.area is None or self.area == area:
            return True
        if areas is None:
            return False
        day = on if on is not None else local_date(self.start)
        try:
            return any(a.code == self.area for a in areas.ancestors(area, day))
        except KeyError:
            return False


@dataclass(frozen=True)
class Scenario:
    """A set of incidents, with questions the simulators ask about it.

    Attributes:
        incidents: the incidents, in the order written.
        name: a label for the whole scenario, if the file gives one.
        background: whether the simulators' everyday random faults happen too.
        source: where it was read from (a path, or `inline`).
    """

    incidents: tuple[Incident, ...] = ()
    name: str | None = None
    background: bool = True
    source: str | None = field(default=None, compare=False)

    def of_kind(self, kind: str) -> list[Incident]:
        """Every incident of one kind, whenever it happens."""
        return [i for i in self.incidents if i.kind == kind]

    def active(self, kind: str, at: datetime) -> list[Incident]:
        """The incidents of one kind under way at `at`."""
        return [i for i in self.incidents if i.kind == kind and i.active(at)]

    def intensity(
        self,
        kind: str,
        at: datetime,
        *,
        area: str | None = None,
        agency: str | None = None,
        channel: str | None = None,
        areas: AreaRegistry | None = None,
    ) -> float:
        """How hard `kind` hits a target at `at`: the highest intensity among matching incidents.

        Args:
            kind: the incident kind.
            at: the moment.
            area: the target's area code (an incident on a district covers its communes when
                `areas` is given).
            agency: the target's agency code (for dvc_backlog).
            channel: the target's payment channel (for payment_gateway_failure).
            areas: the registry used to walk up from `area`.

        Returns:
            0.0 when nothing hits the target, else a value in (0, 1].
        """
        hit = 0.0
        for incident in self.active(kind, at):
            if incident.agency is not None and incident.agency != agency:
                continue
            if incident.channel is not None and incident.channel != channel:
                continue
            if incident.area is not None and (
                area is None or not incident.covers(area, areas, local_date(at))
            ):
                continue
            hit = max(hit, incident.intensity)
        return hit


def _resolve_area(value: object, day: date, areas: AreaRegistry | None) -> str:
    """Turn an area code or name into a code valid on `day`."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ScenarioError(f"{value!r} is not an area code or name", field="area")
    text = str(value).strip()
    if not text:
        raise ScenarioError("must not be empty", field="area")
    if areas is None:
        if not text.isdigit():
            raise ScenarioError(
                f"{text!r}: area names need the area registry; give the area code", field="area"
            )
        return text
    if text.isdigit():
        try:
            areas.get(text, day)
        except KeyError as err:
            hint = " (write codes in quotes in YAML)" if isinstance(value, int) else ""
            raise ScenarioError(f"unknown area: {err.args[0]}{hint}", field="area") from None
        return text
    found = areas.find(text, on=day)
    if not found:
        raise ScenarioError(
            f"unknown area {text!r}: no area of {areas.source} on {day} has that name or code",
            field="area",
        )
    codes = list(dict.fromkeys(a.code for a in found))
    if len(codes) > 1:
        options = "; ".join(f"{a.code} {a.name_vi}" for a in found)
        raise ScenarioError(
            f"{text!r} is ambiguous ({options}); give the code or the full name", field="area"
        )
    return codes[0]


def _intensity(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ScenarioError(f"{value!r} is not a number between 0 and 1", field="intensity")
    try:
        return float(value)
    except ValueError:
        raise ScenarioError(
            f"{value!r} is not a number between 0 and 1", field="intensity"
        ) from None


def _text(value: object, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ScenarioError(f"{value!r} is not text", field=name)
    text = str(value).strip()
    if not text:
        raise ScenarioError("must not be empty", field=name)
    return text


def _incident(
    raw: Mapping[str, Any],
    *,
    now: datetime,
    areas: AreaRegistry | None,
    where: Callable[[str | None], str],
) -> Incident:
    """Build one incident from its raw fields; errors are placed with `where(field)`."""
    try:
        for key in raw:
            if key not in _ALL_FIELDS:
                raise ScenarioError(
                    f"unknown field (allowed: {', '.join(_ALL_FIELDS)})", field=str(key)
                )
        if "kind" not in raw:
            raise ScenarioError(f"required; one of {', '.join(KINDS)}", field="kind")
        kind = _text(raw["kind"], "kind")
        if kind not in KINDS:
            raise ScenarioError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})", field="kind")
        if "duration" not in raw:
            raise ScenarioError("required, e.g. 15m or 2h", field="duration")
        try:
            duration = parse_duration(raw["duration"])
        except ValueError as err:
            raise ScenarioError(str(err), field="duration") from None
        try:
            start = parse_start(raw.get("start", "now"), now)
        except ValueError as err:
            raise ScenarioError(str(err), field="start") from None
        day = local_date(start)
        agency = _text(raw["agency"], "agency") if raw.get("agency") is not None else None
        if agency is not None and agency.startswith("UBND-") and areas is not None:
            try:
                areas.get(agency.removeprefix("UBND-"), day)
            except KeyError as err:
                raise ScenarioError(
                    f"{agency!r} names a commune People's Committee, but: {err.args[0]}",
                    field="agency",
                ) from None
        return Incident(
            kind=kind,
            start=start,
            duration=duration,
            intensity=_intensity(raw.get("intensity", 1.0)),
            area=_resolve_area(raw["area"], day, areas) if raw.get("area") is not None else None,
            agency=agency,
            channel=_text(raw["channel"], "channel") if raw.get("channel") is not None else None,
            name=_text(raw["name"], "name") if raw.get("name") is not None else None,
        )
    except ScenarioError as err:
        raise err.located(where(err.field)) from None


def _key_lines(node: yaml.Node) -> dict[str, int]:
    """1-based line of each key of a mapping node."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): k.start_mark.line + 1 for k, _ in node.value}


def _locator(
    source: str, index: int, item_line: int, keys: Mapping[str, int]
) -> Callable[[str | None], str]:
    """Place errors of incident `index` on the line of the field at fault, else the item's."""

    def where(name: str | None) -> str:
        line = keys.get(name, item_line) if name is not None else item_line
        return f"{source}:{line}: incidents[{index}]"

    return where


def _from_yaml(text: str, source: str, now: datetime, areas: AreaRegistry | None) -> Scenario:
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        location = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(err, "problem", None) or str(err)
        raise ScenarioError(f"not valid YAML: {problem}", where=location) from None
    if not isinstance(data, dict) or root is None:
        raise ScenarioError("expected a mapping with an 'incidents:' list", where=source)
    top = _key_lines(root)
    for key in data:
        if key not in _TOP_FIELDS:
            raise ScenarioError(
                f"unknown top-level key (allowed: {', '.join(_TOP_FIELDS)})",
                field=str(key),
                where=f"{source}:{top.get(str(key), 1)}",
            )
    items = data.get("incidents")
    if not isinstance(items, list) or not items:
        line = top.get("incidents")
        raise ScenarioError(
            "must be a non-empty list of incidents",
            field="incidents",
            where=f"{source}:{line}" if line else source,
        )
    item_nodes: list[yaml.Node] = []
    for key_node, value_node in root.value:
        if key_node.value == "incidents" and isinstance(value_node, yaml.SequenceNode):
            item_nodes = list(value_node.value)
    incidents: list[Incident] = []
    for index, raw in enumerate(items):
        node = item_nodes[index] if index < len(item_nodes) else None
        item_line = node.start_mark.line + 1 if node is not None else top.get("incidents", 1)
        where = _locator(source, index, item_line, _key_lines(node) if node is not None else {})
        if not isinstance(raw, dict):
            raise ScenarioError(f"expected 'field: value' lines, got {raw!r}", where=where(None))
        incidents.append(_incident(raw, now=now, areas=areas, where=where))
    name = data.get("name")
    background = data.get("background", True)
    if not isinstance(background, bool):
        raise ScenarioError(
            f"{background!r} is not true or false",
            field="background",
            where=f"{source}:{top.get('background', 1)}",
        )
    return Scenario(
        incidents=tuple(incidents),
        name=str(name) if name is not None else None,
        background=background,
        source=source,
    )


def _from_inline(spec: str, now: datetime, areas: AreaRegistry | None) -> Scenario:
    incidents: list[Incident] = []
    background = True
    parts = [p.strip() for p in spec.split(";") if p.strip()]
    for number, part in enumerate(parts, start=1):

        def where(_: str | None, n: int = number, p: str = part) -> str:
            return f"inline incident {n} {p!r}"

        kind, _, rest = part.partition(":")
        if kind.strip() == "background":
            if rest.strip().lower() not in _SWITCH:
                raise ScenarioError("write background:off or background:on", where=where(None))
            background = _SWITCH[rest.strip().lower()]
            continue
        raw: dict[str, str] = {"kind": kind.strip()}
        for pair in (p for p in rest.split(",") if p.strip()):
            key, sep, value = pair.partition("=")
            key = key.strip()
            if not sep or not key:
                raise ScenarioError(f"expected key=value, got {pair.strip()!r}", where=where(None))
            if key in raw:
                raise ScenarioError("given twice", field=key, where=where(None))
            raw[key] = value.strip()
        incidents.append(_incident(raw, now=now, areas=areas, where=where))
    if not incidents:
        raise ScenarioError("no incident given", where="inline scenario")
    return Scenario(incidents=tuple(incidents), background=background, source="inline")


def load_scenario(
    text_or_path: str | Path, *, now: datetime, areas: AreaRegistry | None = None
) -> Scenario:
    """Read a scenario from a YAML file, YAML text or an inline command-line spec.

    Args:
        text_or_path: a path to a `.yaml`/`.yml` file (or any existing file), YAML text
            (several lines), or inline incidents `kind:key=value,...;kind:...`.
        now: what relative starts (`+5m`) count from; usually the clock's now.
        areas: the area registry; with it, areas are checked (and names resolved) against
            the areas valid on the incident's start day. Without it, only codes are accepted.

    Returns:
        The scenario.

    Raises:
        ScenarioError: anything wrong, with the file and line or the inline part, the field
            and the reason.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    text = str(text_or_path)
    path = Path(text)
    is_file = isinstance(text_or_path, Path) or text.endswith((".yaml", ".yml"))
    if not is_file and "\n" not in text:
        try:
            is_file = path.is_file()
        except OSError:
            is_file = False
    if is_file:
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ScenarioError(f"cannot read the scenario file: {err}", where=text) from None
        return _from_yaml(content, text, now, areas)
    if "\n" in text:
        return _from_yaml(text, "<scenario>", now, areas)
    return _from_inline(text, now, areas)
