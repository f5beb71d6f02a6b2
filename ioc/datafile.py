"""The one reader of YAML files a province edits, and the one error they fail with.

Areas, the KPI catalogue, alert rules, recipients, ingest mappings and scenarios are all
files a clerk or an engineer edits by hand. Each is read the same way:

1. `read_text` reads it as UTF-8 (old Vietnamese encodings are named as such);
2. `parse` parses the YAML, keeping the node tree so that every problem gets its line, and
   `Document.repeated` lists the keys written twice (YAML would silently keep the last);
3. `Document.validate` checks a part of it against a pydantic model, turning each pydantic
   error into a sentence;
4. the loader adds its own rules across items (ids used twice, unknown parents, ...) and raises
   one `DataFileError` listing every problem, so the file is fixed in one pass.

Every problem reads ``file:line: path: reason``, the path in the file's own words
(``areas[3].code``, ``kpis[0].target.value``), followed by a label naming the item when the
loader gives one (``areas[3].code (code 12097): ...``). `load_document` does the first three
steps for a file that is one model and returns the document for step 4.

Example:
    >>> from pydantic import BaseModel, ConfigDict
    >>> class Doc(BaseModel):
    ...     model_config = ConfigDict(extra="forbid")
    ...     name: str
    >>> try:
    ...     load_document("doc.yaml", "name: x" + chr(10) + "nmae: y", Doc)
    ... except DataFileError as err:
    ...     print(err.problems)
    ('doc.yaml:2: nmae: unknown field (allowed: name)',)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

__all__ = [
    "DataFileError",
    "Document",
    "Label",
    "explain",
    "item_label",
    "load_document",
    "parse",
    "path_text",
    "read_text",
]

M = TypeVar("M", bound=BaseModel)
Loc = Sequence[str | int]

Label = Callable[[Any, Loc], str]
"""Names the item a problem is about, from the file's data and the problem's path, e.g.
``" (code 325)"``; ``""`` when there is nothing to add."""


class DataFileError(ValueError):
    """A data file that cannot be used, with every problem found.

    Loaders raise it, or a subclass that only says which kind of file it was
    (`ioc.areas.AreaFileError`, `ioc.kpis.KpiFileError`, ...); the message is the same for all.

    Attributes:
        source: Path of the file, or a label for data built in memory (``<areas>``, ``inline``).
        problems: One line per problem, ``file:line: path: reason``.
    """

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems: tuple[str, ...] = tuple(problems)
        count = len(self.problems)
        head = f"{source}: {count} problem{'' if count == 1 else 's'}:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))


def read_text(path: Path | str | Traversable, error: type[DataFileError] = DataFileError) -> str:
    """The file as UTF-8 text, or a `DataFileError` (of class `error`) saying why it cannot be.

    Args:
        path: The file; a `Traversable` reads a file shipped in a package.
        error: The class to raise, so a loader raises its own kind of file error.
    """
    source = str(path)
    file = Path(path) if isinstance(path, str) else path
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        # Old Vietnamese encodings (TCVN3, VNI, Windows-1258) are still common in offices.
        raise error(
            source, [f"{source}: not UTF-8 text (byte {err.start}); save the file as UTF-8"]
        ) from None
    except OSError as err:
        raise error(source, [f"{source}: cannot read the file: {err}"]) from None


def path_text(loc: Loc) -> str:
    """A key path as the file reads it: ``("kpis", 0, "value")`` → ``kpis[0].value``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line_of(root: yaml.Node | None, loc: Loc) -> int | None:
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


def _repeated_keys(node: yaml.Node, path: tuple[str | int, ...] = ()) -> Iterator[tuple[Loc, int]]:
    """Yield (key path, line) of every key written twice in one mapping."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            here = (*path, key)
            if key in seen:
                yield here, key_node.start_mark.line + 1
            seen.add(key)
            yield from _repeated_keys(value_node, here)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _repeated_keys(item, (*path, i))


def item_label(section: str, key: str) -> Label:
    """A `Label` naming items of the top-level list `section` by their `key`.

    ``item_label("areas", "code")`` labels any problem under ``areas[3]`` with
    ``" (code 12097)"``, read from the file as written.
    """

    def label(data: Any, loc: Loc) -> str:
        if len(loc) < 2 or loc[0] != section or not isinstance(loc[1], int):
            return ""
        items = data.get(section) if isinstance(data, dict) else None
        if not isinstance(items, list) or not 0 <= loc[1] < len(items):
            return ""
        item = items[loc[1]]
        value = item.get(key) if isinstance(item, dict) else None
        if isinstance(value, bool) or not isinstance(value, str | int):
            return ""
        return f" ({key} {value})"

    return label


def _no_label(data: Any, loc: Loc) -> str:
    return ""


@dataclass(frozen=True)
class Document:
    """A parsed file: its data, its node tree for lines, and how problems are written.

    Attributes:
        source: The file name used in messages.
        data: What YAML made of the text (None for an empty file).
        root: The node tree, None for an empty file.
        label: Names the item a problem is about (see `Label`).
    """

    source: str
    data: Any
    root: yaml.Node | None
    label: Label = field(default=_no_label, repr=False)

    def line(self, loc: Loc) -> int | None:
        """1-based line of `loc` (see `_line_of`)."""
        return _line_of(self.root, loc)

    def where(self, loc: Loc) -> str:
        """``file:line`` of `loc`, or the file alone when no line is known."""
        line = self.line(loc)
        return f"{self.source}:{line}" if line is not None else self.source

    def problem(self, loc: Loc, reason: str) -> str:
        """One problem as ``file:line: path (label): reason``; no path for the whole file."""
        path = path_text(loc)
        if not path:
            return f"{self.where(loc)}: {reason}"
        return f"{self.where(loc)}: {path}{self.label(self.data, loc)}: {reason}"

    def value(self, node: yaml.Node) -> Any:
        """What YAML makes of one node of the tree (a value the loader reads node by node)."""
        return yaml.constructor.SafeConstructor().construct_object(node, deep=True)

    def repeated_keys(self) -> list[tuple[Loc, int]]:
        """(key path, line) of every key written twice, in file order."""
        return list(_repeated_keys(self.root)) if self.root is not None else []

    def repeated(self) -> list[str]:
        """One problem per key written twice: YAML would silently keep only the last."""
        return [
            f"{self.source}:{line}: {path_text(loc)}{self.label(self.data, loc)}: "
            "written twice; YAML would keep only the last"
            for loc, line in self.repeated_keys()
        ]

    def validate(
        self, model: type[M], raw: Any, loc: Loc = (), *, context: Any = None
    ) -> tuple[M | None, list[str]]:
        """Check `raw`, the part of the file at `loc`, against `model`.

        Args:
            model: A pydantic model, with ``extra="forbid"`` so that typos are reported.
            raw: The data to check, usually ``data`` or an item of one of its lists.
            loc: Where `raw` is in the file, prefixed to every problem's path.
            context: Passed to the model's validators (``ValidationInfo.context``).

        Returns:
            The model and no problems, or None and one problem per pydantic error.
        """
        try:
            return model.model_validate(raw, context=context), []
        except ValidationError as err:
            return None, [self.problem([*loc, *at], reason) for at, reason in explain(err, model)]


def parse(
    source: str,
    text: str,
    *,
    label: Label = _no_label,
    error: type[DataFileError] = DataFileError,
) -> Document:
    """Parse YAML `text`, keeping the node tree for lines.

    Args:
        source: The file name used in messages.
        text: The file's content.
        label: Names the item a problem is about (see `item_label`).
        error: The class to raise, so a loader raises its own kind of file error.

    Raises:
        DataFileError: (of class `error`) the text is not YAML, with the line at fault.
    """
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(err, "problem", None) or str(err)
        raise error(source, [f"{where}: not valid YAML: {problem}"]) from None
    finally:
        loader.dispose()
    return Document(source, data, root, label)


def explain(err: ValidationError, model: type[BaseModel]) -> list[tuple[list[str | int], str]]:
    """Turn pydantic errors into (key path, reason) that someone editing the file can act on.

    A validator may place its error deeper than the field it checks by raising a
    ``PydanticCustomError`` whose context has ``at`` (a dotted path under the field) and whose
    message is the reason; such reasons are the model's own and are kept as written.
    """
    out: list[tuple[list[str | int], str]] = []
    for error in err.errors(include_url=False):
        loc: list[str | int] = [p for p in error["loc"] if isinstance(p, str | int)]
        ctx = error.get("ctx") or {}
        kind = error["type"]
        if "at" in ctx:
            loc += str(ctx["at"]).split(".")
            out.append((loc, str(error["msg"])))
            continue
        if loc and loc[-1] == "[key]":
            # A bad key of a dict: pydantic points at "[key]", people at the key itself.
            loc.pop()
            out.append((loc, f"not allowed here: {error['msg']} (got {error['input']!r})"))
            continue
        if kind == "missing":
            message = "required field is missing"
        elif kind == "extra_forbidden":
            message = "unknown field" + _allowed(loc, model)
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
            # Our own messages already quote the value; pydantic's built-in ones do not.
            if kind != "value_error" and not isinstance(error["input"], dict | list):
                message = f"{message} (got {error['input']!r})"
        out.append((loc, message))
    return out


def _allowed(loc: Loc, model: type[BaseModel]) -> str:
    """The fields allowed where an unknown one was found, when the model path is simple."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        found = getattr(current, "model_fields", {}).get(part)
        if found is None:
            return ""
        current = found.annotation
        args = getattr(current, "__args__", None)
        if args:  # list[X], X | None, dict[str, X]: the model is the last argument
            current = next((a for a in reversed(args) if hasattr(a, "model_fields")), current)
    fields = getattr(current, "model_fields", None)
    return f" (allowed: {', '.join(fields)})" if fields else ""


def load_document(
    source: str, text: str, model: type[M], *, label: Label = _no_label
) -> tuple[M, Document]:
    """Parse YAML `text` into `model`, keeping the document for the loader's own rules.

    Args:
        source: the file name used in messages.
        text: the file's content.
        model: a pydantic model with `extra="forbid"` so that typos are reported.
        label: names the item a problem is about (see `item_label`).

    Returns:
        The model, and the document whose `Document.problem` writes the loader's problems
        across items (ids used twice, unknown references) in the same form.

    Raises:
        DataFileError: every problem of the file, each with its line.
    """
    doc = parse(source, text, label=label)
    problems = doc.repeated()
    parsed, found = doc.validate(model, doc.data if doc.data is not None else {})
    problems += found
    if problems or parsed is None:
        raise DataFileError(source, problems)
    return parsed, doc
