"""A compiled mapping at work: one record in, an envelope or a `Rejected` out."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ValidationError

from ioc.areas import AreaRegistry
from ioc.connectors.base import Rejected
from ioc.connectors.ingest.mapping._convert import Converter, kind_of, map_key
from ioc.connectors.ingest.mapping._paths import ABSENT, Getter, Sentinel
from ioc.events import Envelope, utc_now
from ioc.feeds import event_kinds
from ioc.localtime import ZONE

__all__ = [
    "ID_NAMESPACE",
    "NO_CONSTANT",
    "PAYLOAD_MODELS",
    "REJECTION_REASONS",
    "CompiledField",
    "Mapping",
]

PAYLOAD_MODELS: Final[dict[str, type[BaseModel]]] = {
    kind.kind: kind.model for kind in event_kinds().values()
}
"""Payload kind (``payment.transaction``) → its pydantic model."""

REJECTION_REASONS: Final[tuple[str, ...]] = (
    "not_utf8",
    "not_json",
    "not_object",
    "missing_field",
    "conversion",
    "unmapped_value",
    "unknown_area",
    "ambiguous_area",
    "bad_time",
    "invalid",
)
"""Every `Rejected.reason` a mapping produces."""


ID_NAMESPACE: Final = uuid.UUID("5b0b3f0e-8a57-4c4e-9d43-6f1e0c2a7d11")
"""UUIDv5 namespace of event ids made by mappings; changing it would re-key every re-read."""

_SHOW_CHARS: Final = 200
_KNOWN_KEYS_SHOWN: Final = 12
# Area lookups repeat the same few names all day; the registry's name search is a scan.
_AREA_CACHE_SIZE: Final = 4096


OMIT: Final = Sentinel("omit")  # an optional field left out of the payload
NO_CONSTANT: Final = Sentinel("no constant")


class _Rejection(Exception):
    """Raised inside `Mapping` while building one envelope; becomes a `Rejected`."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _show(value: object) -> str:
    """A value as the record wrote it, cut to a readable length for a DLQ detail."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _SHOW_CHARS else text[:_SHOW_CHARS] + "…"


def _uuid5(name: bytes) -> uuid.UUID:
    # uuid.uuid5 only takes str before Python 3.12, and a line that is not UTF-8 still needs
    # an id; this is the same construction (RFC 4122 §4.3) on bytes.
    digest = hashlib.sha1(ID_NAMESPACE.bytes + name, usedforsecurity=False).digest()
    return uuid.UUID(bytes=digest[:16], version=5)


class CompiledField:
    """One compiled field spec: where its value comes from and how it is converted."""

    __slots__ = (
        "constant",
        "convert",
        "default",
        "fail_reason",
        "get",
        "label",
        "map",
        "name",
        "optional",
        "otherwise",
        "path",
        "zone",
    )

    def __init__(self, name: str, label: str) -> None:
        self.name = name
        self.label = label
        self.path = ""
        self.get: Getter | None = None
        self.constant: Any = NO_CONSTANT
        self.convert: Converter | None = None
        self.fail_reason = "conversion"
        self.map: dict[str, Any] | None = None
        self.otherwise: Any = ABSENT
        self.default: Any = ABSENT
        self.optional = False
        self.zone: tzinfo = ZONE  # for naive times of a datetime field

    def resolve(self, record: dict[str, Any]) -> Any:
        """The field's value for `record`, or `OMIT` for an absent optional field.

        Raises:
            _Rejection: the value is absent, does not convert or is not in the map.
        """
        if self.constant is not NO_CONSTANT:
            return self.constant
        assert self.get is not None
        raw = self.get(record)
        if raw is None or raw is ABSENT:
            if self.default is not ABSENT:
                return self.default
            if self.optional:
                return OMIT
            state = "null" if raw is None else "missing"
            raise _Rejection("missing_field", f"{self.label}: {self.path} is {state} in the record")
        value = raw
        if self.convert is not None:
            try:
                value = self.convert(raw)
            except ValueError as err:
                raise _Rejection(
                    self.fail_reason, f"{self.label}: {self.path} = {_show(raw)}: {err}"
                ) from None
        if self.map is None:
            return value
        key = map_key(value)
        mapped = self.map.get(key, ABSENT) if key is not None else ABSENT
        if mapped is not ABSENT:
            return mapped
        if self.otherwise is not ABSENT:
            return self.otherwise
        known = ", ".join(list(self.map)[:_KNOWN_KEYS_SHOWN])
        more = ", …" if len(self.map) > _KNOWN_KEYS_SHOWN else ""
        raise _Rejection(
            "unmapped_value",
            f"{self.label}: {self.path} = {_show(raw)} is not in the map (known: {known}{more})",
        )


# --- the mapping ---------------------------------------------------------------------------
class Mapping:
    """A compiled mapping file: turns records of one system into envelopes of one kind.

    Build it with `load_mapping`. It is immutable apart from a small cache of area lookups and
    may be shared by any number of connectors.

    Attributes:
        source: Path of the mapping file.
        name: The file's stem, e.g. ``hospital-payments`` (the HTTP connector's address).
        kind: Payload kind of every envelope, e.g. ``payment.transaction``.
        feed: The feed of that kind (camera, dvc, payment, network), i.e. where they go.
    """

    def __init__(
        self,
        *,
        source: str,
        kind: str,
        areas: AreaRegistry,
        occurred_at: CompiledField,
        area: CompiledField,
        lookup: str,
        event_id: CompiledField | None,
        key: CompiledField | None,
        payload: Sequence[CompiledField],
    ) -> None:
        self.source = source
        self.name = Path(source).stem
        self.kind = kind
        self.feed = kind.split(".", 1)[0]
        self._model = PAYLOAD_MODELS[kind]
        self._areas = areas
        self._occurred_at = occurred_at
        # Areas are valid on local days: the day of an event is taken where it happened.
        self._zone = occurred_at.zone
        self._area = area
        self._by_name = lookup == "name"
        self._event_id = event_id
        self._key = key
        self._payload = tuple(payload)
        self._area_cache: dict[tuple[str, date], str | _Rejection] = {}

    def __repr__(self) -> str:
        return f"Mapping({self.source!r}, kind={self.kind!r})"

    def apply(self, raw: bytes, *, source: str, location: str) -> Envelope | Rejected:
        """Turn one raw record (a JSON line) into an envelope, or say why it cannot be.

        Args:
            raw: The record exactly as read, e.g. one line without its newline.
            source: The connector name, used as the envelope source (not in event ids).
            location: Where the record came from, e.g. ``/data/tt.jsonl:12``.

        Returns:
            The envelope, or a `Rejected` whose `original` is `raw` and whose reason is one of
            `REJECTION_REASONS`.
        """
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            return Rejected(
                raw, "not_utf8", f"not UTF-8 text ({err.reason} at byte {err.start})", location
            )
        # Windows tools start UTF-8 files with a byte order mark; it is not part of the JSON.
        text = text.removeprefix("\ufeff")
        try:
            record = json.loads(text)
        except json.JSONDecodeError as err:
            return Rejected(
                raw,
                "not_json",
                f"not JSON: {err.msg} at column {err.colno}: {_show(text)}",
                location,
            )
        except RecursionError:
            return Rejected(raw, "not_json", "JSON nested too deeply", location)
        return self.apply_record(record, original=raw, source=source, location=location)

    def apply_record(
        self, record: Any, *, original: bytes, source: str, location: str
    ) -> Envelope | Rejected:
        """Like `apply`, for a record already parsed from JSON (an HTTP body part).

        Args:
            record: The parsed JSON value; anything but an object is rejected.
            original: Its exact bytes, kept in a `Rejected`.
            source: The connector name.
            location: Where the record came from, e.g. ``http:<request id>#3``.

        Returns:
            The envelope, or a `Rejected`.
        """
        if not isinstance(record, dict):
            return Rejected(
                original,
                "not_object",
                f"expected a JSON object, got {kind_of(record)}: {_show(record)}",
                location,
            )
        try:
            return self._build(record, original, source)
        except _Rejection as rejection:
            return Rejected(original, rejection.reason, rejection.detail, location)

    def _build(self, record: dict[str, Any], original: bytes, source: str) -> Envelope:
        occurred_at: datetime = self._occurred_at.resolve(record)
        area = self._resolve_area(record, occurred_at.astimezone(self._zone).date())
        data: dict[str, Any] = {}
        for field in self._payload:
            value = field.resolve(record)
            if value is not OMIT:
                data[field.name] = value
        try:
            payload = self._model.model_validate(data)
        except ValidationError as err:
            raise _Rejection("invalid", _explain(err, "payload")) from None
        key = area
        if self._key is not None:
            value = self._key.resolve(record)
            if value is not OMIT:
                key = self._text(self._key, value)
        # Ids hash the mapping's name, kind and the record's id or bytes, not the connector's
        # name: the same file imported under two names is the same events (module docstring).
        prefix = f"{self.name}\x1f{self.kind}\x1f"
        if self._event_id is not None and (given := self._event_id.resolve(record)) is not OMIT:
            name = (prefix + self._text(self._event_id, given)).encode()
        else:
            name = prefix.encode() + original.strip()
        try:
            return Envelope(
                event_id=_uuid5(name),
                event_type=self.kind,
                source=source,
                occurred_at=occurred_at,
                published_at=utc_now(),
                key=key,
                area=area,
                payload=payload,
            )
        except ValidationError as err:
            raise _Rejection("invalid", _explain(err, "")) from None

    @staticmethod
    def _text(field: CompiledField, value: Any) -> str:
        """An id or key as text; objects, lists and true/false are not ids."""
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            return str(value)
        raise _Rejection(
            "conversion", f"{field.label}: {field.path} = {_show(value)}: not text or a number"
        )

    def _resolve_area(self, record: dict[str, Any], day: date) -> str:
        """The area code of the record on the event's local `day`."""
        value = self._area.resolve(record)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise _Rejection(
                "conversion",
                f"area: {self._area.path} = {_show(value)}: expected an area code or name",
            )
        cache_key = (value, day)
        found = self._area_cache.get(cache_key)
        if found is None:
            found = self._lookup_area(value, day)
            if len(self._area_cache) >= _AREA_CACHE_SIZE:
                self._area_cache.clear()
            self._area_cache[cache_key] = found
        if isinstance(found, _Rejection):
            raise found
        return found

    def _lookup_area(self, value: str, day: date) -> str | _Rejection:
        where = self._area.path or "value"
        if not self._by_name:
            try:
                return self._areas.get(value.strip(), on=day).code
            except KeyError as err:
                return _Rejection("unknown_area", f"area: {where} = {_show(value)}: {err.args[0]}")
        matches = self._areas.find(value, on=day)
        codes = sorted({area.code for area in matches})
        if len(codes) == 1:
            return codes[0]
        if not codes:
            return _Rejection(
                "unknown_area",
                f"area: {where} = {_show(value)}: no area of that name or code on {day}",
            )
        names = ", ".join(f"{area.name_vi} ({area.code})" for area in matches)
        return _Rejection(
            "ambiguous_area",
            f"area: {where} = {_show(value)}: several areas have that name on {day}: {names}; "
            "use the full name with its type (Huyện, Xã, …) or the code",
        )


def _explain(err: ValidationError, prefix: str) -> str:
    """Pydantic errors as ``field: message (got value)``, one after the other."""
    parts = []
    for problem in err.errors(include_url=False):
        loc = ".".join(str(p) for p in problem["loc"])
        where = ".".join(p for p in (prefix, loc) if p) or "record"
        message = str(problem["msg"])
        if problem["type"] not in ("missing", "value_error", "model_type"):
            message = f"{message} (got {_show(problem['input'])})"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)
