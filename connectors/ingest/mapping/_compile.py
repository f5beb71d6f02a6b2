"""Compiling a mapping file: each field checked against its payload model, all problems at once."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from ioc.areas import AreaRegistry, load_areas
from ioc.config import get_settings
from ioc.connectors.base import ConnectorError
from ioc.connectors.ingest.mapping._convert import SIMPLE_CONVERTERS, time_converter
from ioc.connectors.ingest.mapping._paths import getter, parse_path
from ioc.connectors.ingest.mapping._runtime import (
    PAYLOAD_MODELS,
    CompiledField,
    Mapping,
)
from ioc.datafile import DataFileError, Document, parse, read_text
from ioc.localtime import ZONE

__all__ = ["EXAMPLES", "TYPES", "MappingError", "load_mapping"]

TYPES: Final[tuple[str, ...]] = ("str", "int", "float", "bool", "vnd", "datetime")
"""Values of a field's ``type``; without one the JSON value is used as it is."""

EXAMPLES: Final = Path(__file__).parents[1] / "examples"  # example mappings and exports, shipped

_TOP_KEYS: Final = ("kind", "event_id", "key", "occurred_at", "area", "payload")
_FIELD_KEYS: Final = (
    "path",
    "value",
    "type",
    "format",
    "timezone",
    "map",
    "otherwise",
    "default",
    "optional",
)
_OCCURRED_KEYS: Final = ("path", "format", "timezone")
_AREA_KEYS: Final = ("path", "value", "lookup", "map", "otherwise", "default")
_ID_KEYS: Final = ("path", "optional")
_TIME_FORMATS: Final = ("iso", "epoch_s", "epoch_ms")
_LOOKUPS: Final = ("code", "name")


class MappingError(DataFileError, ConnectorError):
    """A mapping file that cannot be used, with every problem found.

    It is a `ConnectorError` too, so a runner reports it like any misconfigured connector.
    """


@functools.cache
def _target_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    """A validator for one payload field alone, constraints included."""
    annotation: Any = model.model_fields[name].rebuild_annotation()
    return TypeAdapter(annotation)


class _Loader:
    """Walks the YAML nodes of one mapping file, collecting every problem with its line."""

    def __init__(self, doc: Document, areas: AreaRegistry) -> None:
        self.source = doc.source
        self.doc = doc
        self.areas = areas
        # Keys written twice are found by the reader for the whole file; both lists are in
        # file order, and lines sort this loader's problems.
        lines = [line for _, line in doc.repeated_keys()]
        self._problems: list[tuple[int, str]] = list(zip(lines, doc.repeated(), strict=True))

    @property
    def problems(self) -> list[str]:
        """Every problem so far, in the order of the file."""
        return [text for _, text in sorted(self._problems, key=lambda p: p[0])]

    def problem(self, node: yaml.Node | None, field: str, reason: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 0
        where = f"{self.source}:{line}" if line else self.source
        self._problems.append((line, ": ".join(p for p in (where, field, reason) if p)))

    def value(self, node: yaml.Node) -> Any:
        return self.doc.value(node)

    def entries(
        self, node: yaml.Node, field: str, allowed: Sequence[str] | None = None
    ) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        """The ``key: value`` pairs of a YAML mapping, reporting unknown keys."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, field, "expected 'key: value' lines here")
            return None
        found: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            name = str(key_node.value)
            label = f"{field}.{name}" if field else name
            if name not in found and allowed is not None and name not in allowed:
                hint = difflib.get_close_matches(name, allowed, n=1)
                also = f" — did you mean {hint[0]!r}?" if hint else ""
                self.problem(key_node, label, f"unknown key (allowed: {', '.join(allowed)}){also}")
            found[name] = (key_node, value_node)
        return found

    def load(self, root: yaml.Node | None) -> Mapping | None:
        if root is None:
            self.problem(None, "", "the file is empty")
            return None
        top = self.entries(root, "", _TOP_KEYS)
        if top is None:
            return None
        for required in ("kind", "occurred_at", "area", "payload"):
            if required not in top:
                self.problem(root, required, "missing (every mapping needs it)")

        kind: str | None = None
        if "kind" in top:
            kind_node = top["kind"][1]
            text = self.value(kind_node)
            if isinstance(text, str) and text in PAYLOAD_MODELS:
                kind = text
            else:
                self.problem(
                    kind_node,
                    "kind",
                    f"unknown kind {text!r} (one of: {', '.join(PAYLOAD_MODELS)})",
                )

        occurred_at = None
        if "occurred_at" in top:
            occurred_at = self.field("occurred_at", "occurred_at", top["occurred_at"][1], None)

        lookup = "code"
        area = None
        if "area" in top:
            area_node = top["area"][1]
            lookup = self._lookup_of(area_node)
            area = self.field("area", "area", area_node, None, lookup=lookup)

        event_id = key = None
        if "event_id" in top:
            event_id = self.field("event_id", "event_id", top["event_id"][1], None)
        if "key" in top:
            key = self.field("key", "key", top["key"][1], None)

        payload: list[CompiledField] = []
        if "payload" in top:
            payload = self.payload(*top["payload"], kind)

        if self._problems or kind is None or occurred_at is None or area is None:
            return None
        return Mapping(
            source=self.source,
            kind=kind,
            areas=self.areas,
            occurred_at=occurred_at,
            area=area,
            lookup=lookup,
            event_id=event_id,
            key=key,
            payload=payload,
        )

    def payload(self, key: yaml.Node, node: yaml.Node, kind: str | None) -> list[CompiledField]:
        model = PAYLOAD_MODELS.get(kind or "")
        items = self.entries(node, "payload")
        if items is None:
            return []
        fields: list[CompiledField] = []
        if model is not None:
            allowed = [name for name in model.model_fields if name != "kind"]
            required = [n for n in allowed if model.model_fields[n].is_required()]
            missing = [n for n in required if n not in items]
            if missing:
                self.problem(
                    key,
                    "payload",
                    f"{kind} needs {', '.join(missing)} (required fields not mapped)",
                )
        for name, (key_node, value_node) in items.items():
            label = f"payload.{name}"
            if model is not None and name == "kind":
                self.problem(key_node, label, "set by the top-level 'kind', not here")
                continue
            if model is not None and name not in model.model_fields:
                allowed_text = ", ".join(n for n in model.model_fields if n != "kind")
                self.problem(key_node, label, f"{kind} has no such field (fields: {allowed_text})")
                continue
            field = self.field(name, label, value_node, model)
            if field is None:
                continue
            if model is not None and field.optional and model.model_fields[name].is_required():
                self.problem(
                    value_node,
                    label,
                    f"required by {kind}, so it cannot be optional; give a default instead",
                )
            fields.append(field)
        return fields

    def _lookup_of(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.MappingNode):
            return "code"
        for key_node, value_node in node.value:
            if key_node.value == "lookup":
                lookup = self.value(value_node)
                if lookup in _LOOKUPS:
                    return str(lookup)
                self.problem(
                    value_node, "area.lookup", f"{lookup!r} is not one of: {', '.join(_LOOKUPS)}"
                )
        return "code"

    def field(
        self,
        name: str,
        label: str,
        node: yaml.Node,
        model: type[BaseModel] | None,
        *,
        lookup: str = "code",
    ) -> CompiledField | None:
        """Compile one field spec; None (with problems recorded) if it is unusable."""
        field = CompiledField(name, label)
        allowed = {
            "occurred_at": _OCCURRED_KEYS,
            "area": _AREA_KEYS,
            "event_id": _ID_KEYS,
            "key": _ID_KEYS,
        }.get(label, _FIELD_KEYS)
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str":
            spec: dict[str, tuple[yaml.Node, yaml.Node]] = {"path": (node, node)}
        elif isinstance(node, yaml.MappingNode):
            found = self.entries(node, label, allowed)
            if found is None:
                return None
            spec = found
        else:
            shown = node.value if isinstance(node, yaml.ScalarNode) else "…"
            self.problem(
                node,
                label,
                f"expected a path like $.field or {{path: …}}; for a constant write "
                f"{{value: {shown}}}",
            )
            return None
        count = len(self._problems)

        if ("path" in spec) == ("value" in spec):
            need = "a path or a constant value" if "path" not in spec else "path or value, not both"
            self.problem(node, label, f"give {need}")
            return None
        if "value" in spec:
            others = [k for k in spec if k not in ("value", "lookup")]
            if others:
                self.problem(node, label, f"a constant value takes no {', '.join(others)}")
            field.constant = self.value(spec["value"][1])
            self.check_constant(
                field.constant, spec["value"][1], f"{label}.value", model, name, lookup
            )
        else:
            self.compile_path(field, spec["path"][1], label, bare=spec["path"][1] is node)

        type_name = None
        if "type" in spec:
            type_name = self.value(spec["type"][1])
            if type_name not in TYPES:
                self.problem(
                    spec["type"][1],
                    f"{label}.type",
                    f"unknown type {type_name!r} (one of: {', '.join(TYPES)}; "
                    "leave it out to take the value as it is)",
                )
        if label == "occurred_at":
            type_name = "datetime"
        if type_name == "datetime":
            field.fail_reason = "bad_time"
            fmt = self.time_format(spec, label)
            zone = self.timezone(spec, label)
            if fmt is not None and zone is not None:
                field.convert = time_converter(fmt, zone)
                field.zone = zone
        else:
            for only in ("format", "timezone"):
                if only in spec:
                    self.problem(spec[only][0], f"{label}.{only}", "only for type: datetime")
            if isinstance(type_name, str) and type_name in SIMPLE_CONVERTERS:
                field.convert = SIMPLE_CONVERTERS[type_name]

        if "map" in spec:
            field.map = self.compile_map(spec["map"][1], f"{label}.map", model, name, lookup)
        if "otherwise" in spec:
            if "map" not in spec:
                self.problem(spec["otherwise"][0], f"{label}.otherwise", "only used with a map")
            field.otherwise = self.value(spec["otherwise"][1])
            self.check_constant(
                field.otherwise, spec["otherwise"][1], f"{label}.otherwise", model, name, lookup
            )
        if "default" in spec:
            field.default = self.value(spec["default"][1])
            self.check_constant(
                field.default, spec["default"][1], f"{label}.default", model, name, lookup
            )
        if "optional" in spec:
            optional = self.value(spec["optional"][1])
            if not isinstance(optional, bool):
                self.problem(spec["optional"][1], f"{label}.optional", "write true or false")
            field.optional = optional is True
            if field.optional and "default" in spec:
                self.problem(spec["optional"][0], label, "give either optional or default")
        return field if len(self._problems) == count else None

    def compile_path(
        self, field: CompiledField, node: yaml.Node, label: str, *, bare: bool
    ) -> None:
        text = self.value(node)
        where = label if bare else f"{label}.path"
        if not isinstance(text, str):
            self.problem(node, where, f"{text!r} is not a path like $.field")
            return
        try:
            segments = parse_path(text.strip())
        except ValueError as err:
            hint = f"; for a constant write {{value: {text}}}" if bare and "$" not in text else ""
            self.problem(node, where, f"{err}{hint}")
            return
        field.path = text.strip()
        field.get = getter(segments)

    def time_format(self, spec: dict[str, tuple[yaml.Node, yaml.Node]], label: str) -> str | None:
        if "format" not in spec:
            return "iso"
        node = spec["format"][1]
        fmt = self.value(node)
        if not isinstance(fmt, str):
            self.problem(node, f"{label}.format", f"{fmt!r} is not a format")
            return None
        if fmt in _TIME_FORMATS:
            return fmt
        if "%" not in fmt:
            self.problem(
                node,
                f"{label}.format",
                f"{fmt!r} is not a time format: use iso, epoch_s, epoch_ms or a strptime "
                "format such as %d/%m/%Y %H:%M:%S",
            )
            return None
        # strptime only complains about a bad directive when it parses, so parse a sample.
        sample = datetime(2025, 1, 31, 13, 45, 59, tzinfo=UTC)
        try:
            datetime.strptime(sample.strftime(fmt), fmt)
        except ValueError as err:
            self.problem(node, f"{label}.format", f"bad strptime format {fmt!r}: {err}")
            return None
        return fmt

    def timezone(self, spec: dict[str, tuple[yaml.Node, yaml.Node]], label: str) -> tzinfo | None:
        if "timezone" not in spec:
            return ZONE
        node = spec["timezone"][1]
        zone = _zone(str(self.value(node)))
        if zone is None:
            self.problem(
                node,
                f"{label}.timezone",
                f"unknown time zone {self.value(node)!r} (e.g. Asia/Ho_Chi_Minh, UTC)",
            )
        return zone

    def compile_map(
        self,
        node: yaml.Node,
        label: str,
        model: type[BaseModel] | None,
        name: str,
        lookup: str,
    ) -> dict[str, Any] | None:
        if not isinstance(node, yaml.MappingNode) or not node.value:
            self.problem(node, label, "expected 'data value: field value' lines")
            return None
        table: dict[str, Any] = {}
        written: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, label, "map keys must be plain values")
                continue
            # The text as written: YAML 1.1 would read 00 as 0 and ON or NO as booleans.
            key = key_node.value.strip()
            if key in table:
                # The same text twice is the reader's find; " 00" beside "00" is the map's.
                if key_node.value in written:
                    continue
                self.problem(key_node, f"{label}.{key}", "written twice")
                continue
            written.add(key_node.value)
            table[key] = self.value(value_node)
            self.check_constant(table[key], value_node, f"{label}.{key}", model, name, lookup)
        return table

    def check_constant(
        self,
        value: Any,
        node: yaml.Node,
        label: str,
        model: type[BaseModel] | None,
        name: str,
        lookup: str = "code",
    ) -> None:
        """Report a constant (value, default, otherwise, map value) its target cannot take."""
        if label.startswith("area."):
            text = str(value) if isinstance(value, str | int) else ""
            found = self.areas.versions(text) if lookup == "code" else self.areas.find(text)
            if not found:
                by = "code" if lookup == "code" else "name or code"
                self.problem(node, label, f"no area has the {by} {value!r} in {self.areas.source}")
            return
        if model is None:
            return
        try:
            _target_adapter(model, name).validate_python(value)
        except ValidationError as err:
            message = "; ".join(str(e["msg"]) for e in err.errors(include_url=False))
            self.problem(node, label, f"{value!r} is not valid for {name}: {message}")


def _zone(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def load_mapping(path: Path | str, *, areas: AreaRegistry | None = None) -> Mapping:
    """Read, check and compile a mapping file.

    Args:
        path: The YAML mapping file.
        areas: The area registry records are attributed with; by default the one the
            settings name (the shipped data of ``IOC_PROVINCE`` unless ``IOC_AREAS_FILE`` is set).

    Returns:
        The compiled mapping.

    Raises:
        MappingError: The file cannot be read or has problems; every problem is listed as
            ``<file>:<line>: <field path>: <reason>``.
    """
    source = str(path)
    text = read_text(path, MappingError)
    registry = areas if areas is not None else load_areas(get_settings().areas_file)
    loader = _Loader(parse(source, text, error=MappingError), registry)
    mapping = loader.load(loader.doc.root)
    if mapping is None:
        raise MappingError(source, loader.problems)
    return mapping
