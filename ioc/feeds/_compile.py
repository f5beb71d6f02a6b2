"""From a declaration to a feed: payload classes, measures, rules, entity and status.

Everything an event meets on the hot path is built here once per process: the payload class is
an ordinary pydantic model (pydantic-core validates it from JSON in one pass, as a hand-written
class would be), and the measures, rules, entity and status of each kind are small Python
functions generated from the declaration's conditions and compiled once, so that reading an
event costs what the hand-written code it replaces did (bench/README.md).
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model, model_validator

from ioc.datafile import Document, Loc
from ioc.feeds._spec import SCALAR_TYPES, Check, EventSpec, FeedSpec, FieldSpec, RuleSpec

__all__ = ["EventKind", "EventPayload", "FeedKind", "Measure", "Rule", "compile_feed"]

Measure = tuple[str, float]
Rule = Callable[[Any], tuple[str, str] | None]
"""Takes an envelope; None when the event is fine, else (reason, detail) for the dead letter."""


class EventPayload(BaseModel):
    """The base of every payload class: frozen, and unknown fields are refused.

    Unknown fields are rejected: a typo in a connector must reach the DLQ, not vanish.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    kind: str


@dataclass(frozen=True)
class EventKind:
    """One kind of event (``dvc.dossier``), compiled.

    Attributes:
        kind: The payload's ``kind`` (``<feed>.<name>``).
        feed: The feed it belongs to.
        model: Its payload class.
        doc: What one event of the kind is.
        measures: The (metric, value) pairs a payload adds to its window, the feed's
            ``<feed>.events`` first.
        rules: Its consistency rules, each taking an envelope.
        entity: What an event is about (a field, or a template of fields); None: the area.
        status: (entity kind, up) the event reports for its entity, when it reports one.
    """

    kind: str
    feed: str
    model: type[EventPayload]
    doc: str
    measures: Callable[[Any], list[Measure]]
    rules: tuple[Rule, ...]
    entity: Callable[[Any], str] | None
    status: Callable[[Any], tuple[str, bool]] | None


@dataclass(frozen=True)
class FeedKind:
    """A declared feed, ready to use.

    Attributes:
        feed: Its name, the middle of its topic's name (``ioc.events.<feed>``).
        name_vi: What users read.
        name_en: The English name.
        order: Its position in lists of feeds.
        source: The declaration's file.
        partitions: Its topic's partitions; None: ``IOC_KAFKA__PARTITIONS``.
        retention_hours: Its topic's retention; None: ``IOC_KAFKA__RETENTION_HOURS``.
        enums: The declaration's enums by class name.
        labels: Each enum's values' (Vietnamese, English) labels, by class name.
        events: Its event kinds by ``kind``.
        metrics: Every metric its events can add, with what it counts.
        kpis: The KPIs that come with it, as written in a KPI catalogue.
        alert_rules: The alert rules that come with it, as written in a rules file.
    """

    feed: str
    name_vi: str
    name_en: str
    order: int
    source: str
    partitions: int | None
    retention_hours: int | None
    enums: dict[str, type[StrEnum]]
    labels: dict[str, dict[str, tuple[str, str]]]
    events: dict[str, EventKind]
    metrics: dict[str, str]
    kpis: tuple[dict[str, Any], ...] = field(default=())
    alert_rules: tuple[dict[str, Any], ...] = field(default=())


class _Problems(Exception):
    """Problems found while compiling; collected, never raised past `compile_feed`."""


@dataclass
class _Scope:
    """What the compiler knows while it checks one event kind's references."""

    doc: Document
    spec: FeedSpec
    enums: dict[str, type[StrEnum]]
    problems: list[str]
    at: Loc = ()
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    consts: dict[str, Any] = field(default_factory=dict)

    def problem(self, loc: Loc, reason: str) -> None:
        self.problems.append(self.doc.problem([*self.at, *loc], reason))

    def const(self, value: Any) -> str:
        """A name for `value` in the generated code's namespace."""
        name = f"_c{len(self.consts)}"
        self.consts[name] = value
        return name

    def enum_of(self, name: str) -> type[StrEnum] | None:
        spec = self.fields.get(name)
        return None if spec is None else self.enums.get(spec.type)


_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def _identifier(value: str) -> str:
    upper = re.sub(r"[^A-Za-z0-9_]", "_", value).upper()
    return upper if upper[:1].isalpha() else f"V_{upper}"


def _enum(name: str, doc: str, values: list[str]) -> type[StrEnum]:
    made = StrEnum(name, [(_identifier(v), v) for v in values], module="ioc.events")  # type: ignore[misc]
    made.__doc__ = doc or f"The values of {name}."
    return made


def _annotation(spec: FieldSpec, scope: _Scope, loc: Loc) -> Any:
    """The pydantic type of one declared field, with its bounds."""
    bounds: dict[str, Any] = {
        k: v
        for k, v in (("ge", spec.ge), ("gt", spec.gt), ("le", spec.le), ("lt", spec.lt))
        if v is not None
    }
    lengths: dict[str, Any] = {
        k: v
        for k, v in (("min_length", spec.min_length), ("max_length", spec.max_length))
        if v is not None
    }
    kind = spec.type
    if spec.choices is not None:
        if kind != "text":
            scope.problem([*loc, "choices"], "choices are for type: text")
        return Literal[tuple(spec.choices)]
    if kind in scope.enums:
        return scope.enums[kind]
    if kind not in SCALAR_TYPES:
        known = ", ".join([*SCALAR_TYPES, *scope.enums])
        scope.problem([*loc, "type"], f"unknown type {kind!r} (known: {known})")
        return Any
    if kind in ("id", "text"):
        default = {"min_length": 1, "max_length": 128} if kind == "id" else {"max_length": 500}
        return Annotated[str, Field(**(default | lengths))]
    if kind == "int":
        return Annotated[int, Field(**bounds)]
    if kind == "float":
        return Annotated[float, Field(**bounds)]
    if kind == "ratio":
        return Annotated[float, Field(ge=0.0, le=1.0)]
    if kind == "latitude":
        return Annotated[float, Field(ge=-90, le=90)]
    if kind == "longitude":
        return Annotated[float, Field(ge=-180, le=180)]
    if kind == "datetime":
        return AwareDatetime
    return bool


def _condition(condition: dict[str, Any], scope: _Scope, loc: Loc) -> list[str]:
    """Python expressions over ``p`` that all hold when `condition` does."""
    out: list[str] = []
    for name, expected in condition.items():
        where = [*loc, name]
        spec = scope.fields.get(name)
        if spec is None:
            scope.problem(
                where, f"no field {name!r} in this event (fields: {', '.join(scope.fields)})"
            )
            continue
        attr = f"p.{name}"
        if isinstance(expected, dict):
            if set(expected) == {"present"} and isinstance(expected["present"], bool):
                out.append(attr if expected["present"] else f"not {attr}")
                continue
            if set(expected) == {"not"}:
                values = _values(expected["not"], name, scope, [*where, "not"])
                out.append(f"{attr} not in ({', '.join(values)},)")
                continue
            scope.problem(
                where, "a condition is a value, a list, {not: ...} or {present: true|false}"
            )
            continue
        values = _values(expected, name, scope, where)
        if len(values) == 1:
            # `is` for enum members and booleans: they are singletons, and it is the cheapest test.
            identity = scope.enum_of(name) is not None or isinstance(expected, bool)
            out.append(f"{attr} {'is' if identity else '=='} {values[0]}")
        else:
            out.append(f"{attr} in ({', '.join(values)},)")
    return out


def _values(expected: Any, name: str, scope: _Scope, loc: Loc) -> list[str]:
    """Constant names for the value(s) a field is compared with, checked against its type."""
    items = expected if isinstance(expected, list) else [expected]
    enum = scope.enum_of(name)
    spec = scope.fields[name]
    out = []
    for item in items:
        if enum is not None:
            if item not in enum._value2member_map_:
                allowed = ", ".join(e.value for e in enum)
                scope.problem(loc, f"{item!r} is not a value of {spec.type} ({allowed})")
                continue
            out.append(scope.const(enum(item)))
        elif spec.choices is not None and item not in spec.choices:
            scope.problem(loc, f"{item!r} is not one of {', '.join(spec.choices)}")
        elif spec.type == "bool" and not isinstance(item, bool):
            scope.problem(loc, f"{name} is true or false, not {item!r}")
        else:
            out.append(scope.const(item))
    return out or [scope.const(object())]


def _field_ref(name: str | None, scope: _Scope, loc: Loc) -> bool:
    if name is not None and name not in scope.fields:
        scope.problem(loc, f"no field {name!r} in this event (fields: {', '.join(scope.fields)})")
        return False
    return name is not None


def _compile(source: str, name: str, scope: _Scope) -> Any:
    namespace = dict(scope.consts)
    exec(compile(source, f"<feed {scope.spec.feed}: {name}>", "exec"), namespace)  # noqa: S102
    return namespace[name]


def _measures(kind: str, event: EventSpec, scope: _Scope, metrics: dict[str, str]) -> Any:
    events_metric = f"{scope.spec.feed}.events"
    lines = ["def measures(p):", f"    out = [({events_metric!r}, 1)]"]
    for i, metric in enumerate(event.metrics):
        loc: Loc = ["metrics", i]
        test = _condition(metric.when, scope, [*loc, "when"])
        value = "1"
        if metric.value is not None and _field_ref(metric.value, scope, [*loc, "value"]):
            value = f"p.{metric.value}"
            if scope.fields[metric.value].optional:
                test.append(f"p.{metric.value} is not None")
        names = _PLACEHOLDER.findall(metric.metric)
        if not names:
            pair = f"({metric.metric!r}, {value})"
            metrics.setdefault(metric.metric, metric.doc)
        else:
            pair = _templated(metric.metric, metric.doc, names, value, scope, loc, metrics)
        body = f"out.append({pair})"
        lines.append(f"    if {' and '.join(test)}: {body}" if test else f"    {body}")
    lines.append("    return out")
    return _compile("\n".join(lines), "measures", scope)


def _templated(
    template: str,
    doc: str,
    names: list[str],
    value: str,
    scope: _Scope,
    loc: Loc,
    metrics: dict[str, str],
) -> str:
    """``(table[p.a, p.b], value)``: one metric name per combination of enum values."""
    enums = []
    for name in names:
        enum = scope.enum_of(name)
        if enum is None:
            scope.problem([*loc, "metric"], f"{{{name}}} must name an enum field of this event")
            return "('?', 0)"
        enums.append(list(enum))
    table: dict[Any, str] = {}
    for combo in itertools.product(*enums):
        values = {n: m.value for n, m in zip(names, combo, strict=True)}
        metric = template.format(**values)
        metrics.setdefault(metric, doc.format(**values))
        table[combo if len(combo) > 1 else combo[0]] = metric
    key = ", ".join(f"p.{n}" for n in names)
    return f"({scope.const(table)}[{key}], {value})"


def _checks(checks: list[Check], scope: _Scope) -> Any:
    lines = ["def check(p):"]
    for i, check in enumerate(checks):
        loc: Loc = ["checks", i]
        test = _condition(check.when, scope, [*loc, "when"])
        message = scope.const(check.message)
        forms = [f for f in (check.require, check.absent, check.at_most) if f is not None]
        if len(forms) != 1:
            scope.problem(loc, "a check has exactly one of require, absent or at_most")
            continue
        failing: list[str] = []
        if check.require is not None:
            failing = [
                f"p.{n} is None" for n in check.require if _field_ref(n, scope, [*loc, "require"])
            ]
        elif check.absent is not None:
            failing = [
                f"p.{n} is not None" for n in check.absent if _field_ref(n, scope, [*loc, "absent"])
            ]
        elif _field_ref(check.at_most, scope, [*loc, "at_most"]):
            parts = [n for n in check.fields or [] if _field_ref(n, scope, [*loc, "fields"])]
            if not parts:
                scope.problem([*loc, "fields"], "at_most needs the fields it bounds")
            failing = [f"p.{n} > p.{check.at_most}" for n in parts]
        if failing:
            any_failing = " or ".join(failing)
            guard = " and ".join([*test, f"({any_failing})"])
            lines.append(f"    if {guard}: raise ValueError({message})")
    lines.append("    return p")
    return _compile("\n".join(lines), "check", scope)


def _message_fields(template: str, scope: _Scope, loc: Loc) -> list[str]:
    names = []
    for _, name, _, _ in string.Formatter().parse(template):
        if name is None:
            continue
        if name != "occurred_at" and not _field_ref(name, scope, loc):
            continue
        names.append(name)
    return names


def _format(template: str, values: dict[str, Any]) -> str:
    """The rule's message with datetimes written as ISO 8601 and enum members as their value."""
    shown = {
        k: v.isoformat() if isinstance(v, datetime) else v.value if isinstance(v, StrEnum) else v
        for k, v in values.items()
    }
    return template.format(**shown)


def _rule(model: type[EventPayload], rule: RuleSpec, i: int, scope: _Scope) -> Any:
    loc: Loc = ["rules", i]
    test = _condition(rule.when, scope, [*loc, "when"])
    if (rule.flag is None) != (rule.on_or_before is None):
        scope.problem(loc, "flag and on_or_before go together")
    elif (
        rule.flag is not None
        and rule.on_or_before is not None
        and _field_ref(rule.flag, scope, [*loc, "flag"])
        and _field_ref(rule.on_or_before, scope, [*loc, "on_or_before"])
    ):
        test += [
            f"p.{rule.on_or_before} is not None",
            f"p.{rule.flag} is not (envelope.occurred_at <= p.{rule.on_or_before})",
        ]
    if not test:
        scope.problem(loc, "a rule needs a condition (when) or a flag")
    names = _message_fields(rule.message, scope, [*loc, "message"])
    shown = ", ".join(
        f"{n!r}: envelope.occurred_at" if n == "occurred_at" else f"{n!r}: p.{n}" for n in names
    )
    source = "\n".join(
        [
            "def rule(envelope):",
            "    p = envelope.payload",
            f"    if type(p) is {scope.const(model)} and {' and '.join(test or ['False'])}:",
            f"        detail = {scope.const(_format)}({scope.const(rule.message)}, {{{shown}}})",
            f"        return ({rule.reason!r}, detail)",
            "    return None",
        ]
    )
    compiled = _compile(source, "rule", scope)
    compiled.__doc__ = rule.doc or rule.message
    return compiled


def _entity(event: EventSpec, scope: _Scope) -> Any:
    if event.entity is None:
        return None
    names = _PLACEHOLDER.findall(event.entity)
    if not names:
        return (
            _compile(f"def entity(p): return p.{event.entity}", "entity", scope)
            if _field_ref(event.entity, scope, ["entity"])
            else None
        )
    for name in names:
        _field_ref(name, scope, ["entity"])
    text = _PLACEHOLDER.sub(lambda m: "{p." + m.group(1) + "}", event.entity)
    return _compile(f"def entity(p): return f{text!r}", "entity", scope)


def _status(event: EventSpec, scope: _Scope) -> Any:
    status = event.status
    if status is None:
        return None
    loc: Loc = ["status"]
    if (status.kind is None) == (status.kind_from is None):
        scope.problem(loc, "status has exactly one of kind or kind_from")
        return None
    if status.kind_from is not None:
        if scope.enum_of(status.kind_from) is None:
            scope.problem([*loc, "kind_from"], f"{status.kind_from!r} is not an enum field")
        kind = f"p.{status.kind_from}.value"
    else:
        kind = repr(status.kind)
    if isinstance(status.up, str):
        up = f"p.{status.up}" if _field_ref(status.up, scope, [*loc, "up"]) else "False"
    else:
        up = " and ".join(_condition(status.up, scope, [*loc, "up"])) or "True"
    return _compile(f"def status(p): return ({kind}, {up})", "status", scope)


def _event(kind: str, event: EventSpec, scope: _Scope, metrics: dict[str, str]) -> EventKind:
    feed = scope.spec.feed
    if not kind.startswith(f"{feed}."):
        scope.problem([], f"event kinds of feed {feed!r} start with {feed + '.'!r}")
    definitions: dict[str, Any] = {"kind": (Literal[kind], kind)}
    for name, spec in event.fields.items():
        annotation = _annotation(spec, scope, ["fields", name])
        default = spec.default
        if spec.optional:
            annotation = annotation | None
        elif default is None:
            default = ...
        definitions[name] = (annotation, Field(default=default, description=spec.doc or None))
    validators: dict[str, Any] = {}
    if event.checks:
        validators["_checks"] = model_validator(mode="after")(_checks(event.checks, scope))
    model = create_model(
        event.class_,
        __base__=EventPayload,
        __module__="ioc.events",
        __doc__=event.doc,
        __validators__=validators,
        **definitions,
    )
    return EventKind(
        kind=kind,
        feed=feed,
        model=model,
        doc=event.doc,
        measures=_measures(kind, event, scope, metrics),
        rules=tuple(_rule(model, rule, i, scope) for i, rule in enumerate(event.rules)),
        entity=_entity(event, scope),
        status=_status(event, scope),
    )


def compile_feed(spec: FeedSpec, doc: Document) -> tuple[FeedKind | None, list[str]]:
    """Build the feed `spec` declares; or None and every problem, ``file:line: path: reason``."""
    problems: list[str] = []
    enums = {name: _enum(name, e.doc, list(e.values)) for name, e in spec.enums.items()}
    metrics: dict[str, str] = {
        f"{spec.feed}.events": f"valid {spec.feed} events, each counted once"
    }
    events: dict[str, EventKind] = {}
    for kind, event in spec.events.items():
        scope = _Scope(doc, spec, enums, problems, ("events", kind), dict(event.fields))
        events[kind] = _event(kind, event, scope, metrics)
    if problems:
        return None, problems
    return (
        FeedKind(
            feed=spec.feed,
            name_vi=spec.name.vi,
            name_en=spec.name.en,
            order=spec.order,
            source=doc.source,
            partitions=spec.topic.partitions,
            retention_hours=spec.topic.retention_hours,
            enums=enums,
            labels={
                name: {value: (lab.vi, lab.en) for value, lab in e.values.items()}
                for name, e in spec.enums.items()
            },
            events=events,
            metrics=metrics,
            kpis=tuple(spec.kpis),
            alert_rules=tuple(spec.alert_rules),
        ),
        [],
    )
