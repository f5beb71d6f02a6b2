"""Reading an area file: the one reader of province files, then the registry's rules."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Final

from ioc.areas._model import Area, AreaFileError, AreaFileMeta
from ioc.areas._registry import AreaRegistry
from ioc.areas._rules import labels, structural_problems
from ioc.datafile import item_label, parse, read_text

__all__ = ["load_areas"]

_SHIPPED: Final = ("data", "areas", "hung-yen.yaml")


def load_areas(path: Path | str | None = None) -> AreaRegistry:
    """Read an area file and return its checked registry.

    The file is YAML in UTF-8 with a ``province:`` section and an ``areas:`` list; the header
    of the shipped ``ioc/data/areas/hung-yen.yaml`` documents every field for the clerks who
    edit it.

    Args:
        path: The file; None reads the Hưng Yên file shipped in the ``ioc`` package.

    Returns:
        The registry of every area in the file, past and present.

    Raises:
        AreaFileError: If the file cannot be read or parsed, or breaks any rule; the message
            lists every problem, each with the file path, line, YAML key path and area code.
    """
    file = resources.files("ioc").joinpath(*_SHIPPED) if path is None else Path(path)
    source = str(file)
    doc = parse(
        source,
        read_text(file, AreaFileError),
        label=item_label("areas", "code"),
        error=AreaFileError,
    )
    raw = doc.data
    if not isinstance(raw, dict):
        raise AreaFileError(
            source, [f"{source}: expected 'province:' and 'areas:' at the top of the file"]
        )
    problems = doc.repeated()
    for key in raw:
        if key not in ("province", "areas"):
            problems.append(
                doc.problem([str(key)], "unknown top-level key (expected 'province' and 'areas')")
            )

    meta: AreaFileMeta | None = None
    if "province" not in raw:
        problems.append(f"{source}: missing 'province:' section (code and name of the province)")
    elif not isinstance(raw["province"], dict):
        problems.append(doc.problem(["province"], "must be a mapping ('field: value' lines)"))
    else:
        meta, found = doc.validate(AreaFileMeta, raw["province"], ["province"])
        problems += found

    items = raw.get("areas")
    if not isinstance(items, list) or not items:
        problems.append(doc.problem(["areas"], "must be a non-empty list of areas"))
        items = []

    parsed: list[Area] = []
    indices: list[int] = []
    unparsed: set[str] = set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            reason = f"expected 'field: value' lines, got {item!r}"
            problems.append(doc.problem(["areas", i], reason))
            continue
        area, found = doc.validate(Area, item, ["areas", i])
        if area is None:
            if item.get("code") is not None:
                unparsed.add(str(item["code"]))
            problems += found
        else:
            parsed.append(area)
            indices.append(i)

    lines = [doc.line(["areas", i]) for i in indices]
    if problems:
        # Report the cross-area rules too, so one reload shows everything; rows that failed
        # above are left out of those checks to avoid echoing the same mistake.
        where, ref = labels(source, parsed, indices, lines)
        problems.extend(
            structural_problems(
                parsed,
                where,
                ref,
                source,
                meta,
                unparsed_codes=frozenset(unparsed),
                partial=len(parsed) < len(items),
            )
        )
        raise AreaFileError(source, problems)
    return AreaRegistry(parsed, source=source, meta=meta, lines=lines)
