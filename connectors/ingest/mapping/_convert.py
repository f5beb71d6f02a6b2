"""Converting record values: text, numbers, đồng amounts, Vietnamese yes/no, times."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any, Final

__all__ = ["SIMPLE_CONVERTERS", "Converter", "kind_of", "map_key", "time_converter"]

_TRUE: Final = frozenset({"true", "1", "yes", "có", "co"})
_FALSE: Final = frozenset({"false", "0", "no", "không", "khong"})
_VND_SUFFIX: Final = re.compile(r"\s*(?:đ|₫|vnd|vnđ)$", re.IGNORECASE)
_VND_GROUPED: Final = re.compile(r"-?\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")
_INTEGER: Final = re.compile(r"[+-]?\d+")

Converter = Callable[[Any], Any]


def kind_of(value: object) -> str:
    names = {dict: "an object", list: "a list", bool: "true/false", str: "text"}
    return names.get(type(value), type(value).__name__)


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected text or a number, got {kind_of(value)}")


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
        raise ValueError(f"expected a number, got {kind_of(value)}")
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


def time_converter(fmt: str, zone: tzinfo) -> Converter:
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
                raise ValueError(f"expected an ISO 8601 time as text, got {kind_of(value)}")
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
                raise ValueError(f"expected a time as text, got {kind_of(value)}")
            try:
                moment = datetime.strptime(value.strip(), fmt)
            except ValueError:
                raise ValueError(f"does not match the format {fmt!r}") from None
            return aware(moment)

    return convert


SIMPLE_CONVERTERS: Final[dict[str, Converter]] = {
    "str": _to_str,
    "int": _to_int,
    "float": _to_float,
    "bool": _to_bool,
    "vnd": _to_vnd,
}


def map_key(value: Any) -> str | None:
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
