"""YAML files a province edits (KPI catalogue, alert rules, recipients), checked on load.

`load_model` parses a file into a pydantic model and turns every problem into
`file:line: field.path: reason`, the line found by walking the YAML node tree along the
error's location, so a clerk can go straight to it.

Example:
    >>> from pydantic import BaseModel, ConfigDict
    >>> class Doc(BaseModel):
    ...     model_config = ConfigDict(extra="forbid")
    ...     name: str
    >>> try:
    ...     load_model("doc.yaml", "name: x" + chr(10) + "nmae: y", Doc)
    ... except DataFileError as err:
    ...     print(err.problems)
    ['doc.yaml:2: nmae: unknown field (allowed: name)']
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

__all__ = ["DataFileError", "line_of", "load_model", "read_text"]

M = TypeVar("M", bound=BaseModel)


class DataFileError(ValueError):
    """A data file that cannot be used; `problems` are `file:line: field: reason` lines."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(
            f"{source} has {count} problem{'s' if count != 1 else ''}:\n  "
            + "\n  ".join(self.problems)
        )


def read_text(path: Path) -> str:
    """The file as UTF-8 text, or a `DataFileError` saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataFileError(
            str(path), [f"{path}: not UTF-8 text (byte {err.start}); save the file as UTF-8"]
        ) from None
    except OSError as err:
        raise DataFileError(str(path), [f"{path}: cannot read the file: {err}"]) from None


def line_of(root: yaml.Node | None, loc: Sequence[str | int]) -> int | None:
    """1-based line of the deepest node along `loc` (mapping keys, sequence indexes).

    A mapping key resolves to the line naming it; a missing key falls back to its parent's.
    """
    if root is None:
        return None
    node, line = root, root.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    node, line = value, key.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _message(error: Any, model: type[BaseModel]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field" + _allowed(error["loc"], model)
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind != "value_error" and not isinstance(error["input"], dict | list):
        message = f"{message} (got {error['input']!r})"
    return message


def _allowed(loc: Sequence[str | int], model: type[BaseModel]) -> str:
    """The fields allowed where an unknown one was found, when the model path is simple."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return ""
        current = field.annotation
        args = getattr(current, "__args__", None)
        if args:  # list[X], X | None, dict[str, X]: the model is the last argument
            current = next((a for a in reversed(args) if hasattr(a, "model_fields")), current)
    fields = getattr(current, "model_fields", None)
    return f" (allowed: {', '.join(fields)})" if fields else ""


def load_model(source: str, text: str, model: type[M]) -> M:
    """Parse YAML `text` into `model`, or raise `DataFileError` with every problem's line.

    Args:
        source: the file name used in messages.
        text: the file's content.
        model: a pydantic model with `extra="forbid"` so that typos are reported.
    """
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(err, "problem", None) or str(err)
        raise DataFileError(source, [f"{where}: not valid YAML: {problem}"]) from None
    try:
        return model.model_validate(raw if raw is not None else {})
    except ValidationError as err:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        problems = []
        for error in err.errors(include_url=False):
            loc = [p for p in error["loc"] if isinstance(p, str | int)]
            line = line_of(root, loc)
            where = f"{source}:{line}" if line is not None else source
            path = ".".join(str(p) for p in loc) or "file"
            problems.append(f"{where}: {path}: {_message(error, model)}")
        raise DataFileError(source, problems) from None
