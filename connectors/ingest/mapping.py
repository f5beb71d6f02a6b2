"""Mapping files: how a provincial system's JSON records become envelopes, without Python.

An engineer describes once, in YAML, where each envelope and payload field comes from in the
records their system exports; `load_mapping` checks the whole file at once (every problem with
its file, line and field) and compiles it, and `Mapping.apply` turns one record into an
`Envelope`, or into a `Rejected` saying exactly which field and value could not be used.

A mapping file::

    # Payments exported by the hospital's gateway
    kind: payment.transaction          # a payload kind of ioc.events
    event_id: $.txn_id                 # optional: a stable id, so re-reads give the same ids
    key: $.txn_id                      # optional: Kafka key; default the area code
    occurred_at:
      path: $.thoi_gian
      format: "%d/%m/%Y %H:%M:%S"      # strptime, or iso (default), epoch_s, epoch_ms
      timezone: Asia/Ho_Chi_Minh       # for times without an offset (the default)
    area:
      path: $.benh_vien.huyen
      lookup: name                     # code (default) | name: ignores case and diacritics
      default: "33"                    # when the record has no area
    payload:
      transaction_id: $.txn_id
      amount_vnd: {path: $.so_tien, type: vnd}
      channel: {path: $.hinh_thuc, map: {VNPAY-QR: qr, TIEN_MAT: cash}, otherwise: card}
      sector: {value: hospital}
      success: {path: $.trang_thai, map: {"00": true}, otherwise: false}
      failure_reason: {path: $.ly_do, optional: true}

A field is a bare path (``$.so_tien``), a constant (``{value: hospital}``) or
``{path, type, map, otherwise, default, optional}``; a datetime field (``type: datetime``, and
``occurred_at`` always) also takes ``format`` and ``timezone``. Types: ``str``, ``int``,
``float``, ``bool`` (true/false, 1/0, yes/no, có/không, any case), ``vnd`` (whole đồng, with
"." or "," between thousands: "1.250.000"), ``datetime``; without a type the JSON value is
used as it is. ``area`` takes ``path`` or ``value``, ``lookup``, ``map``, ``otherwise`` and
``default``; ``event_id`` and ``key`` take ``path`` and ``optional`` (absent: the default id or
key is used).

Rules a mapping author should know:

- Paths are a small JSONPath subset: ``$.a.b``, ``$.a[0].b``, ``$["key with spaces"]``.
  Inside ``{…}`` quote a path that has brackets: ``{path: "$.a[0].b", type: int}``.
- A path that is missing from the record, or holds JSON ``null``, is "absent": the field's
  ``default`` is used, or with ``optional: true`` the field is left out (the payload model's
  own default applies); otherwise the record is rejected as ``missing_field``.
- A present value is converted by ``type`` (str, int, float, bool, vnd, datetime; no type =
  as is), then looked up in ``map``. Map keys are compared as text, exactly as written in the
  YAML (``"00"``, ``ON`` and ``Trực tuyến`` stay text), against the value as JSON writes it
  (``true``, ``12``, or the string with surrounding spaces removed).
- ``default``, ``otherwise``, ``value`` and map values are final field values: they are
  checked against the payload model when the file is loaded.
- Areas are looked up on the event's local day (in the ``occurred_at`` time zone), so names
  and codes of districts abolished on 1 July 2025 still resolve for earlier events.
- ``event_id`` and the default id (a hash of the whole line) are UUIDv5 of the mapping's name
  (its file's stem), the kind and the id: re-reading a file gives the same ids, under any
  connector name (``--as``) and through the HTTP gateway alike, so a record imported twice is
  counted once; two systems that reuse the same transaction numbers need two mapping files.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import math
import re
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any, Final, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from ioc.areas import AreaRegistry, load_areas
from ioc.config import get_settings
from ioc.connectors.base import ConnectorError, Rejected
from ioc.datafile import DataFileError, Document, parse, read_text
from ioc.events import Envelope, Payload, utc_now

__all__ = [
    "DEFAULT_TIMEZONE",
    "EXAMPLES",
    "ID_NAMESPACE",
    "PAYLOAD_MODELS",
    "REJECTION_REASONS",
    "TYPES",
    "Mapping",
    "MappingError",
    "load_mapping",
]

PAYLOAD_MODELS: Final[dict[str, type[BaseModel]]] = {
    model.model_fields["kind"].default: model for model in get_args(get_args(Payload)[0])
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

TYPES: Final[tuple[str, ...]] = ("str", "int", "float", "bool", "vnd", "datetime")
"""Values of a field's ``type``; without one the JSON value is used as it is."""

DEFAULT_TIMEZONE: Final = "Asia/Ho_Chi_Minh"
EXAMPLES: Final = Path(__file__).parent / "examples"  # example mappings and exports, shipped

ID_NAMESPACE: Final = uuid.UUID("5b0b3f0e-8a57-4c4e-9d43-6f1e0c2a7d11")
"""UUIDv5 namespace of event ids made by mappings; changing it would re-key every re-read."""

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
_SHOW_CHARS: Final = 200
_KNOWN_KEYS_SHOWN: Final = 12
# Area lookups repeat the same few names all day; the registry's name search is a scan.
_AREA_CACHE_SIZE: Final = 4096

_TRUE: Final = frozenset({"true", "1", "yes", "có", "co"})
_FALSE: Final = frozenset({"false", "0", "no", "không", "khong"})
_VND_SUFFIX: Final = re.compile(r"\s*(?:đ|₫|vnd|vnđ)$", re.IGNORECASE)
_VND_GROUPED: Final = re.compile(r"-?\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")
_INTEGER: Final = re.compile(r"[+-]?\d+")
_PATH_TOKEN: Final = re.compile(
    r"""\.(?P<name>[^.\[\]\s"']+)
      | \[(?P<index>-?\d+)\]
      | \["(?P<dq>(?:[^"\\]|\\.)*)"\]
      | \['(?P<sq>[^']*)'\]""",
    re.VERBOSE,
)


class _Sentinel:
    """A marker value that can never come out of JSON."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_ABSENT: Final = _Sentinel("absent")  # the path is not in the record
_OMIT: Final = _Sentinel("omit")  # an optional field left out of the payload
_NO_CONSTANT: Final = _Sentinel("no constant")


class MappingError(DataFileError, ConnectorError):
    """A mapping file that cannot be used, with every problem found.

    It is a `ConnectorError` too, so a runner reports it like any misconfigured connector.
    """


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


# --- paths ---------------------------------------------------------------------------------
Getter = Callable[[dict[str, Any]], Any]


def _parse_path(text: str) -> tuple[str | int, ...]:
    """Split ``$.a[0]["b c"]`` into ("a", 0, "b c").

    Raises:
        ValueError: the text is not a path of the supported subset.
    """
    if not text.startswith("$"):
        raise ValueError(f"{text!r} is not a path: paths start with $, e.g. $.so_tien")
    segments: list[str | int] = []
    pos = 1
    while pos < len(text):
        match = _PATH_TOKEN.match(text, pos)
        if match is None:
            raise ValueError(
                f"bad path {text!r} at character {pos + 1} ({text[pos:]!r}): "
                'write $.a.b, $.a[0].b or $["key with spaces"]'
            )
        if match["name"] is not None:
            segments.append(match["name"])
        elif match["index"] is not None:
            segments.append(int(match["index"]))
        elif match["dq"] is not None:
            try:
                segments.append(json.loads(f'"{match["dq"]}"'))
            except ValueError:
                raise ValueError(f"bad path {text!r}: bad escape in {match[0]}") from None
        else:
            segments.append(match["sq"])
        pos = match.end()
    return tuple(segments)


def _getter(segments: tuple[str | int, ...]) -> Getter:
    """A function reading the path from a record, returning `_ABSENT` if it is not there."""
    if len(segments) == 1 and isinstance(segments[0], str):
        # Most exports are flat; this is the hot path.
        name = segments[0]
        return lambda record: record.get(name, _ABSENT)

    def get(record: dict[str, Any]) -> Any:
        value: Any = record
        for segment in segments:
            if isinstance(segment, str):
                if not isinstance(value, dict):
                    return _ABSENT
                value = value.get(segment, _ABSENT)
                if value is _ABSENT:
                    return _ABSENT
            else:
                if not isinstance(value, list) or not -len(value) <= segment < len(value):
                    return _ABSENT
                value = value[segment]
        return value

    return get


# --- conversions ---------------------------------------------------------------------------
Converter = Callable[[Any], Any]


def _kind_of(value: object) -> str:
    names = {dict: "an object", list: "a list", bool: "true/false", str: "text"}
    return names.get(type(value), type(value).__name__)


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected text or a number, got {_kind_of(value)}")


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a whole number, got true/false")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    raise ValueError("not a whole number")


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number, got true/false")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError("not a number") from None
    else:
        raise ValueError(f"expected a number, got {_kind_of(value)}")
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _to_vnd(value: Any) -> int:
    """Whole đồng from 1250000, "1.250.000", "1,250,000" or "1.250.000 đ"."""
    if isinstance(value, str):
        text = _VND_SUFFIX.sub("", value.strip())
        if _INTEGER.fullmatch(text):
            return int(text)
        # Only proper thousands groups: "1250000.00" must not silently become 125 million.
        if _VND_GROUPED.fullmatch(text):
            return int(text.replace(".", "").replace(",", ""))
        raise ValueError(
            "not an amount in đồng (write 1250000, 1.250.000 or 1,250,000; no decimals)"
        )
    return _to_int(value)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = unicodedata.normalize("NFC", value.strip()).casefold()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueError("not a yes/no value (true/false, 1/0, yes/no, có/không)")


def _time_converter(fmt: str, zone: tzinfo) -> Converter:
    """A converter to an aware datetime; naive times are read in `zone`."""

    def aware(moment: datetime) -> datetime:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        # A time such as 0001-01-01T00:00+07:00 has no UTC (or local) datetime: a bad
        # record, not an OverflowError that stops the connector further on.
        try:
            moment.astimezone(UTC)
            moment.astimezone(zone)
        except OverflowError:
            raise ValueError("out of range (years 1 to 9999, in UTC and local time)") from None
        return moment

    if fmt == "iso":

        def convert(value: Any) -> datetime:
            if not isinstance(value, str):
                raise ValueError(f"expected an ISO 8601 time as text, got {_kind_of(value)}")
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValueError("not an ISO 8601 time (e.g. 2025-06-01T08:00:00+07:00)") from None
            return aware(moment)

    elif fmt in ("epoch_s", "epoch_ms"):
        scale = 1.0 if fmt == "epoch_s" else 1000.0

        def convert(value: Any) -> datetime:
            try:
                seconds = _to_float(value) / scale
                moment = datetime.fromtimestamp(seconds, UTC)
            except (ValueError, OverflowError, OSError):
                unit = "seconds" if scale == 1.0 else "milliseconds"
                raise ValueError(f"not a Unix time in {unit}") from None
            return aware(moment)

    else:

        def convert(value: Any) -> datetime:
            if not isinstance(value, str):
                raise ValueError(f"expected a time as text, got {_kind_of(value)}")
            try:
                moment = datetime.strptime(value.strip(), fmt)
            except ValueError:
                raise ValueError(f"does not match the format {fmt!r}") from None
            return aware(moment)

    return convert


_SIMPLE_CONVERTERS: Final[dict[str, Converter]] = {
    "str": _to_str,
    "int": _to_int,
    "float": _to_float,
    "bool": _to_bool,
    "vnd": _to_vnd,
}


def _map_key(value: Any) -> str | None:
    """The text a map key must have to match `value`; None for objects and lists."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return None


# --- compiled fields -----------------------------------------------------------------------
class _Field:
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
        self.constant: Any = _NO_CONSTANT
        self.convert: Converter | None = None
        self.fail_reason = "conversion"
        self.map: dict[str, Any] | None = None
        self.otherwise: Any = _ABSENT
        self.default: Any = _ABSENT
        self.optional = False
        self.zone: tzinfo = ZoneInfo(DEFAULT_TIMEZONE)  # for naive times of a datetime field

    def resolve(self, record: dict[str, Any]) -> Any:
        """The field's value for `record`, or `_OMIT` for an absent optional field.

        Raises:
            _Rejection: the value is absent, does not convert or is not in the map.
        """
        if self.constant is not _NO_CONSTANT:
            return self.constant
        assert self.get is not None
        raw = self.get(record)
        if raw is None or raw is _ABSENT:
            if self.default is not _ABSENT:
                return self.default
            if self.optional:
                return _OMIT
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
        key = _map_key(value)
        mapped = self.map.get(key, _ABSENT) if key is not None else _ABSENT
        if mapped is not _ABSENT:
            return mapped
        if self.otherwise is not _ABSENT:
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
        occurred_at: _Field,
        area: _Field,
        lookup: str,
        event_id: _Field | None,
        key: _Field | None,
        payload: Sequence[_Field],
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
                f"expected a JSON object, got {_kind_of(record)}: {_show(record)}",
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
            if value is not _OMIT:
                data[field.name] = value
        try:
            payload = self._model.model_validate(data)
        except ValidationError as err:
            raise _Rejection("invalid", _explain(err, "payload")) from None
        key = area
        if self._key is not None:
            value = self._key.resolve(record)
            if value is not _OMIT:
                key = self._text(self._key, value)
        # Ids hash the mapping's name, kind and the record's id or bytes, not the connector's
        # name: the same file imported under two names is the same events (module docstring).
        prefix = f"{self.name}\x1f{self.kind}\x1f"
        if self._event_id is not None and (given := self._event_id.resolve(record)) is not _OMIT:
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
    def _text(field: _Field, value: Any) -> str:
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


# --- loading -------------------------------------------------------------------------------
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

        payload: list[_Field] = []
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

    def payload(self, key: yaml.Node, node: yaml.Node, kind: str | None) -> list[_Field]:
        model = PAYLOAD_MODELS.get(kind or "")
        items = self.entries(node, "payload")
        if items is None:
            return []
        fields: list[_Field] = []
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
    ) -> _Field | None:
        """Compile one field spec; None (with problems recorded) if it is unusable."""
        field = _Field(name, label)
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
                field.convert = _time_converter(fmt, zone)
                field.zone = zone
        else:
            for only in ("format", "timezone"):
                if only in spec:
                    self.problem(spec[only][0], f"{label}.{only}", "only for type: datetime")
            if isinstance(type_name, str) and type_name in _SIMPLE_CONVERTERS:
                field.convert = _SIMPLE_CONVERTERS[type_name]

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

    def compile_path(self, field: _Field, node: yaml.Node, label: str, *, bare: bool) -> None:
        text = self.value(node)
        where = label if bare else f"{label}.path"
        if not isinstance(text, str):
            self.problem(node, where, f"{text!r} is not a path like $.field")
            return
        try:
            segments = _parse_path(text.strip())
        except ValueError as err:
            hint = f"; for a constant write {{value: {text}}}" if bare and "$" not in text else ""
            self.problem(node, where, f"{err}{hint}")
            return
        field.path = text.strip()
        field.get = _getter(segments)

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
            return ZoneInfo(DEFAULT_TIMEZONE)
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
            settings name (the shipped Hưng Yên file unless ``IOC_AREAS_FILE`` is set).

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
