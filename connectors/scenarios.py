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

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ioc.datafile import DataFileError, explain, parse, path_text, read_text
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

# Which target fields each kind accepts; True marks the required ones.
_TARGETS: Final[dict[str, dict[str, bool]]] = {
    "network_outage": {"area": True},
    "cameras_dark": {"area": False},
    "dvc_backlog": {"agency": True},
    "payment_gateway_failure": {"channel": False, "area": False},
}
# Optional fields whose null means "not given" (a null start, duration or intensity is a slip).
_NULL_IS_ABSENT: Final = frozenset({"area", "agency", "channel", "name"})
_SWITCH: Final[dict[str, bool]] = {"on": True, "true": True, "off": False, "false": False}


class ScenarioError(DataFileError):
    """A scenario that cannot be used, with every problem found.

    Each problem names the file and line (``dvc-backlog.yaml:12: incidents[0].duration: ...``)
    or the inline part (``inline incident 2 'cameras_dark:...': intensity: ...``).
    """


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
        problems = _rule_problems(
            self.kind,
            duration=self.duration,
            intensity=self.intensity,
            targets={"area": self.area, "agency": self.agency, "channel": self.channel},
        )
        if self.start.tzinfo is None:
            problems.insert(0, ("start", "must carry a time zone offset"))
        if problems:
            raise ScenarioError("incident", [f"{name}: {reason}" for name, reason in problems])
        if self.kind == "payment_gateway_failure" and self.channel is None:
            object.__setattr__(self, "channel", PaymentChannel.NATIONAL_PORTAL.value)

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
        raise ValueError(f"{value!r} is not an area code or name")
    text = str(value).strip()
    if not text:
        raise ValueError("must not be empty")
    if areas is None:
        if not text.isdigit():
            raise ValueError(f"{text!r}: area names need the area registry; give the area code")
        return text
    if text.isdigit():
        try:
            areas.get(text, day)
        except KeyError as err:
            hint = " (write codes in quotes in YAML)" if isinstance(value, int) else ""
            raise ValueError(f"unknown area: {err.args[0]}{hint}") from None
        return text
    found = areas.find(text, on=day)
    if not found:
        raise ValueError(
            f"unknown area {text!r}: no area of {areas.source} on {day} has that name or code"
        )
    codes = list(dict.fromkeys(a.code for a in found))
    if len(codes) > 1:
        options = "; ".join(f"{a.code} {a.name_vi}" for a in found)
        raise ValueError(f"{text!r} is ambiguous ({options}); give the code or the full name")
    return codes[0]


def _intensity(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not a number between 0 and 1")
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number between 0 and 1") from None


def _text(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{value!r} is not text")
    text = str(value).strip()
    if not text:
        raise ValueError("must not be empty")
    return text


class _IncidentFields(BaseModel):
    """The fields an incident may have; `_incident` reads their values."""

    model_config = ConfigDict(extra="forbid")

    kind: Any
    start: Any = None
    duration: Any
    intensity: Any = None
    area: Any = None
    agency: Any = None
    channel: Any = None
    name: Any = None


class _ScenarioFile(BaseModel):
    """The top of a scenario file; the incidents are read one by one by `_incident`."""

    model_config = ConfigDict(extra="forbid")

    name: Any = None
    description: Any = None
    incidents: list[Any]
    background: bool = True

    @field_validator("incidents", mode="before")
    @classmethod
    def _some_incidents(cls, value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise ValueError("must be a non-empty list of incidents")
        return value

    @field_validator("background", mode="before")
    @classmethod
    def _switch(cls, value: Any) -> Any:
        # A quoted 'no' or "off" is text: say so rather than guess which switch was meant.
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not true or false")
        return value


_Problem = tuple[str | None, str]
"""(field of the incident or None for the whole incident, reason)."""


def _rule_problems(
    kind: str,
    *,
    duration: timedelta | None,
    intensity: float | None,
    targets: Mapping[str, str | None],
) -> list[_Problem]:
    """The rules of an incident across its fields; `targets` holds the target fields to check."""
    if kind not in KINDS:
        return [("kind", f"unknown kind {kind!r} (known: {', '.join(KINDS)})")]
    problems: list[_Problem] = []
    if duration is not None and duration <= timedelta(0):
        problems.append(("duration", f"must be positive, got {duration}"))
    if intensity is not None and not 0.0 <= intensity <= 1.0:
        problems.append(("intensity", f"must be between 0 and 1, got {intensity}"))
    allowed = _TARGETS[kind]
    for name in ("area", "agency", "channel"):
        if name not in targets:
            continue
        value = targets[name]
        if value is not None and name not in allowed:
            problems.append(
                (name, f"{kind} does not take {name!r} (it takes: {', '.join(allowed)})")
            )
        elif value is None and allowed.get(name, False):
            problems.append((name, f"{kind} needs {name}=..."))
    channel = targets.get("channel")
    channels = [c.value for c in PaymentChannel]
    if kind == "payment_gateway_failure" and channel is not None and channel not in channels:
        problems.append(
            ("channel", f"unknown payment channel {channel!r} (known: {', '.join(channels)})")
        )
    return problems


def _incident(
    raw: Mapping[str, Any], *, now: datetime, areas: AreaRegistry | None
) -> tuple[Incident | None, list[_Problem]]:
    """Build one incident from its raw fields, or say everything that is wrong with them."""
    problems: list[_Problem] = []
    try:
        _IncidentFields.model_validate(raw)
    except ValidationError as err:
        problems += [(path_text(at) or None, why) for at, why in explain(err, _IncidentFields)]
    failed: set[str] = set()

    def read(name: str, convert: Callable[[Any], Any], default: Any = None) -> Any:
        if name not in raw or (raw[name] is None and name in _NULL_IS_ABSENT):
            return default
        try:
            return convert(raw[name])
        except ValueError as err:
            problems.append((name, str(err)))
            failed.add(name)
            return None

    kind: str | None = read("kind", _text)
    duration: timedelta | None = read("duration", parse_duration)
    start: datetime | None = read("start", lambda v: parse_start(v, now), now)
    intensity: float | None = read("intensity", _intensity, 1.0)
    # Areas are checked on the local day the incident starts (before or after the 2025 reform).
    day = local_date(start or now)
    area: str | None = read("area", lambda v: _resolve_area(v, day, areas))
    agency: str | None = read("agency", _text)
    if agency is not None and agency.startswith("UBND-") and areas is not None:
        try:
            areas.get(agency.removeprefix("UBND-"), day)
        except KeyError as err:
            problems.append(
                ("agency", f"{agency!r} names a commune People's Committee, but: {err.args[0]}")
            )
    channel: str | None = read("channel", _text)
    name: str | None = read("name", _text)
    if kind is not None:
        given = {"area": area, "agency": agency, "channel": channel}
        targets = {k: v for k, v in given.items() if k not in failed}
        problems += _rule_problems(kind, duration=duration, intensity=intensity, targets=targets)
    if problems or kind is None or duration is None or start is None or intensity is None:
        return None, problems
    incident = Incident(
        kind=kind,
        start=start,
        duration=duration,
        intensity=intensity,
        area=area,
        agency=agency,
        channel=channel,
        name=name,
    )
    return incident, []


def _from_yaml(text: str, source: str, now: datetime, areas: AreaRegistry | None) -> Scenario:
    doc = parse(source, text, error=ScenarioError)
    if not isinstance(doc.data, dict):
        raise ScenarioError(source, [f"{source}: expected a mapping with an 'incidents:' list"])
    problems = doc.repeated()
    top, found = doc.validate(_ScenarioFile, doc.data)
    problems += found
    items = doc.data.get("incidents")
    incidents: list[Incident] = []
    for index, raw in enumerate(items if isinstance(items, list) else []):
        loc: list[str | int] = ["incidents", index]
        if not isinstance(raw, dict):
            problems.append(doc.problem(loc, f"expected 'field: value' lines, got {raw!r}"))
            continue
        incident, wrong = _incident(raw, now=now, areas=areas)
        problems += [doc.problem([*loc, *([at] if at else [])], why) for at, why in wrong]
        if incident is not None:
            incidents.append(incident)
    if problems or top is None:
        raise ScenarioError(source, problems)
    return Scenario(
        incidents=tuple(incidents),
        name=str(top.name) if top.name is not None else None,
        background=top.background,
        source=source,
    )


def _from_inline(spec: str, now: datetime, areas: AreaRegistry | None) -> Scenario:
    incidents: list[Incident] = []
    problems: list[str] = []
    background = True
    parts = [p.strip() for p in spec.split(";") if p.strip()]
    for number, part in enumerate(parts, start=1):
        where = f"inline incident {number} {part!r}"
        kind, _, rest = part.partition(":")
        if kind.strip() == "background":
            switch = rest.strip().lower()
            if switch in _SWITCH:
                background = _SWITCH[switch]
            else:
                problems.append(f"{where}: write background:off or background:on")
            continue
        raw: dict[str, str] = {"kind": kind.strip()}
        wrong: list[_Problem] = []
        for pair in (p for p in rest.split(",") if p.strip()):
            key, sep, value = pair.partition("=")
            key = key.strip()
            if not sep or not key:
                wrong.append((None, f"expected key=value, got {pair.strip()!r}"))
            elif key in raw:
                wrong.append((key, "given twice"))
            else:
                raw[key] = value.strip()
        incident, found = _incident(raw, now=now, areas=areas)
        problems += [": ".join(p for p in (where, at, why) if p) for at, why in [*wrong, *found]]
        if incident is not None:
            incidents.append(incident)
    if not incidents and not problems:
        problems.append("inline scenario: no incident given")
    if problems:
        raise ScenarioError("inline", problems)
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
        ScenarioError: listing everything wrong, each with the file and line or the inline
            part, the field and the reason.
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
        return _from_yaml(read_text(path, ScenarioError), text, now, areas)
    if "\n" in text:
        return _from_yaml(text, "<scenario>", now, areas)
    return _from_inline(text, now, areas)
