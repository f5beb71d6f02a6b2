"""Reading the areas: the national data of one province, a province's overlay, or a file.

Three ways in, one result (an :class:`AreaRegistry`):

- nothing given: the province of the ``IOC_PROVINCE`` setting (Hưng Yên when unset), from the
  national data shipped in ``ioc/data/areas/vn/`` (see :mod:`ioc.areas._national`), with the
  province's overlay ``ioc/data/areas/overlays/<code>.yaml`` if one is shipped;
- an **overlay** file (it has a ``figures:`` section): the national data of the province
  named in its ``province:`` section, with its population and household figures (each marked
  estimated or not) and any ``areas:`` it adds (a unit the national data does not know yet);
- a **full** area file (``province:`` and ``areas:`` only): the province written by hand,
  exactly as before the national data existed.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, field_validator

from ioc.areas._model import Area, AreaFileError, AreaFileMeta, _quoted_code, _whole_number
from ioc.areas._national import DEFAULT_PROVINCE, national_rows, resolve_province
from ioc.areas._registry import AreaRegistry
from ioc.areas._rules import labels, structural_problems
from ioc.datafile import Document, item_label, parse, read_text

__all__ = ["Figures", "load_areas"]

_OVERLAYS: Final = ("data", "areas", "overlays")


class Figures(BaseModel):
    """One entry of an overlay's ``figures:`` list: the numbers of one area.

    Attributes:
        code: GSO code of the area, in quotes.
        valid_on: A day the area is valid, to say which row of a code used twice (the province
            before and after 1/7/2025, a new commune that reuses a former commune's code);
            needed only then.
        population: Number of people.
        households: Number of households.
        estimated: True if the figures are estimates (rounded, projected), not published
            statistics; screens show them as such.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    valid_on: date | None = None
    population: int | None = None
    households: int | None = None
    estimated: bool = False

    @field_validator("code", mode="before")
    @classmethod
    def _code_is_quoted(cls, value: Any) -> Any:
        return _quoted_code(value)

    @field_validator("population", "households", mode="before")
    @classmethod
    def _figures_are_whole(cls, value: Any) -> Any:
        return _whole_number(value)


def chosen_province(province: str | None = None) -> str:
    """The GSO code of the province this process serves: ``province``, else ``IOC_PROVINCE``.

    Hưng Yên (33) when neither says. Raises ``AreaFileError`` for a province that does not exist.
    """
    if province is None:
        # Imported here: the settings are only read when the caller did not say which province.
        # load_settings, not the cached get_settings: reading the province must not freeze the
        # process's settings before the command that owns them has read its environment.
        from ioc.config import load_settings

        province = load_settings().province or DEFAULT_PROVINCE
    return resolve_province(province)


def load_areas(path: Path | str | None = None, *, province: str | None = None) -> AreaRegistry:
    """Return the checked registry of a province's areas, past and present.

    Args:
        path: An overlay or a full area file (see the module docstring; the header of the
            shipped ``ioc/data/areas/overlays/33.yaml`` documents the overlay for the clerks
            who edit it). None reads the shipped national data.
        province: Code or name of the province when ``path`` is None; None reads the
            ``IOC_PROVINCE`` setting, and Hưng Yên when that is unset.

    Returns:
        The registry of every area, past and present.

    Raises:
        AreaFileError: If the file cannot be read or parsed, or breaks any rule, or the
            province is unknown; the message lists every problem, each with the file path,
            line, YAML key path and area code.
    """
    if path is None:
        code = chosen_province(province)
        shipped = resources.files("ioc").joinpath(*_OVERLAYS, f"{code}.yaml")
        if shipped.is_file():
            return _load_file(shipped)
        national = national_rows(code)
        return AreaRegistry(
            national.areas,
            source=national.source,
            meta=national.meta,
            successors=national.successors,
        )
    return _load_file(Path(path))


def _load_file(file: Path | Traversable) -> AreaRegistry:
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
    overlay = "figures" in raw
    for key in raw:
        if key not in ("province", "areas", "figures"):
            problems.append(
                doc.problem(
                    [str(key)],
                    "unknown top-level key (expected 'province', 'areas' and, in an overlay, "
                    "'figures')",
                )
            )

    meta: AreaFileMeta | None = None
    if "province" not in raw:
        problems.append(f"{source}: missing 'province:' section (code and name of the province)")
    elif not isinstance(raw["province"], dict):
        problems.append(doc.problem(["province"], "must be a mapping ('field: value' lines)"))
    else:
        meta, found = doc.validate(AreaFileMeta, raw["province"], ["province"])
        problems += found

    items = raw.get("areas", [] if overlay else None)
    if not isinstance(items, list) or not (items or overlay):
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

    lines: list[int | None] = [doc.line(["areas", i]) for i in indices]
    successors: dict[str, list[str]] = {}
    if overlay and meta is not None:
        try:
            national = national_rows(resolve_province(meta.code))
        except AreaFileError as err:
            problems += [doc.problem(["province", "code"], p) for p in err.problems]
        else:
            base, found = _apply_figures(doc, national.areas, raw["figures"])
            problems += found
            parsed = base + parsed
            lines = [*(None for _ in base), *lines]
            indices = [-1] * len(base) + indices
            successors = national.successors
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
    return AreaRegistry(parsed, source=source, meta=meta, lines=lines, successors=successors)


def _apply_figures(doc: Document, areas: list[Area], raw: Any) -> tuple[list[Area], list[str]]:
    """Put an overlay's figures on the national rows; return the rows and the problems."""
    if raw is None:
        return areas, []
    if not isinstance(raw, list):
        return areas, [doc.problem(["figures"], "must be a list of figures")]
    problems: list[str] = []
    rows_of: dict[str, list[int]] = {}
    for i, area in enumerate(areas):
        rows_of.setdefault(area.code, []).append(i)
    result = list(areas)
    for n, item in enumerate(raw):
        if not isinstance(item, dict):
            problems.append(doc.problem(["figures", n], "expected 'field: value' lines"))
            continue
        fig, found = doc.validate(Figures, item, ["figures", n])
        problems += found
        if fig is None:
            continue
        rows = rows_of.get(fig.code, [])
        if fig.valid_on is not None:
            rows = [i for i in rows if areas[i].valid_on(fig.valid_on)]
        if len(rows) != 1:
            versions = "; ".join(
                f"{areas[i].name_vi} valid {areas[i].valid_from or '…'}–{areas[i].valid_to or '…'}"
                for i in rows_of.get(fig.code, [])
            )
            reason = (
                f"the national data has no area {fig.code}"
                + (f" valid on {fig.valid_on}" if fig.valid_on else "")
                if not rows
                else f"code {fig.code} has several rows ({versions}); add 'valid_on: <a day>'"
            )
            problems.append(doc.problem(["figures", n], reason))
            continue
        i = rows[0]
        result[i] = result[i].model_copy(
            update={
                "population": fig.population,
                "households": fig.households,
                "estimated": fig.estimated,
            }
        )
    return result, problems
