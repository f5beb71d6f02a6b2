"""Paths into a JSON record: the small JSONPath subset mapping files use (``$.a[0]["b c"]``)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Final

__all__ = ["ABSENT", "Getter", "Sentinel", "getter", "parse_path"]

_PATH_TOKEN: Final = re.compile(
    r"""\.(?P<name>[^.\[\]\s"']+)
      | \[(?P<index>-?\d+)\]
      | \["(?P<dq>(?:[^"\\]|\\.)*)"\]
      | \['(?P<sq>[^']*)'\]""",
    re.VERBOSE,
)


class Sentinel:
    """A marker value that can never come out of JSON."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


ABSENT: Final = Sentinel("absent")  # the path is not in the record


Getter = Callable[[dict[str, Any]], Any]


def parse_path(text: str) -> tuple[str | int, ...]:
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


def getter(segments: tuple[str | int, ...]) -> Getter:
    """A function reading the path from a record, returning `ABSENT` if it is not there."""
    if len(segments) == 1 and isinstance(segments[0], str):
        # Most exports are flat; this is the hot path.
        name = segments[0]
        return lambda record: record.get(name, ABSENT)

    def get(record: dict[str, Any]) -> Any:
        value: Any = record
        for segment in segments:
            if isinstance(segment, str):
                if not isinstance(value, dict):
                    return ABSENT
                value = value.get(segment, ABSENT)
                if value is ABSENT:
                    return ABSENT
            else:
                if not isinstance(value, list) or not -len(value) <= segment < len(value):
                    return ABSENT
                value = value[segment]
        return value

    return get
