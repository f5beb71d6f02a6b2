"""The periodic indicators' catalogue: what each department reports, how often, by when.

A periodic indicator (chỉ tiêu định kỳ) is not computed from a stream: a department enters its
value once a month, quarter or year (the share of shared databases connected, staff trained in
digital skills, documents sent electronically, work files processed online, the DTI rank, the
digital economy's share of GRDP). The catalogue says, for each: its names, unit, which way is
better, its period, the responsible department, how many days after the period ends the value
is due, the levels that report it, and its target with the document that sets it.

The shipped catalogue is ``ioc/data/indicators.yaml`` (its header documents every field). A
province's own file (``ioc/data/provinces/<slug>/indicators.yaml``, found by
:func:`catalogue_file_for`, or ``IOC_INDICATORS_FILE``) says ``extends: national`` and replaces
targets, due days and departments, adds reported results, and may add indicators of its own.
Every problem is reported at once as ``file:line: field: reason`` (:mod:`ioc.datafile`).

Targets follow the KPI catalogue's rules (:class:`ioc.kpis.Target`: a legal target names a
numbered document and has a deadline); an indicator target may also be marked ``estimate``
when the document sets it for something close to, but not exactly, what is measured, with a
``note`` saying how; the API and the board show the mark.

Example:
    >>> cat = load_indicators()
    >>> cat.get("work_files_online").target_for("commune")
    0.6
    >>> cat.get("documents_electronic").period
    'monthly'
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ioc.areas import AreaLevel, chosen_province
from ioc.datafile import DataFileError, Document, item_label, parse, read_text
from ioc.kpis import PROVINCE_CATALOGUES, Direction, Reported, Target

__all__ = [
    "Department",
    "Indicator",
    "IndicatorCatalogue",
    "IndicatorFileError",
    "IndicatorTarget",
    "PeriodKind",
    "Unit",
    "catalogue_file_for",
    "load_indicators",
    "value_problem",
]

Unit = Literal["percent", "number", "rank"]
"""``percent``: a fraction 0–1 (0.6 shows as 60 %); ``rank``: a place, 1 = first; ``number``."""

PeriodKind = Literal["monthly", "quarterly", "yearly"]
"""How often a department reports the indicator."""

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS: Final = ("departments", "indicators")
_OVERLAY_KEYS: Final = ("province", "extends", "departments", "indicators")
_OVERLAY_ITEM_KEYS: Final = ("id", "target", "reported", "due_days", "department")


def _nfc(value: str) -> str:
    # Text pasted from Word is often decomposed (NFD): it looks the same but compares unequal.
    value = unicodedata.normalize("NFC", value.strip())
    if not value:
        raise ValueError("must not be empty")
    return value


def _slug(value: str) -> str:
    if not _ID.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid id: use lower-case letters, digits and '_', "
            "starting with a letter, e.g. work_files_online"
        )
    return value


class IndicatorTarget(Target):
    """A KPI target (:class:`ioc.kpis.Target`), which may be an estimate.

    Attributes:
        estimate: True when the document sets the figure for something close to what is
            measured (a national database target applied to the province's own share, say);
            shown as an estimate wherever the target is.
        note: How the figure was read from the document, in a sentence; required with
            ``estimate``.
    """

    estimate: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _estimate_says_why(self) -> IndicatorTarget:
        if self.estimate and not self.note:
            raise PydanticCustomError(
                "estimate_note",
                "{reason}",
                {
                    "reason": "an estimated target needs a 'note' saying how it was read",
                    "at": "note",
                },
            )
        return self


class Department(BaseModel):
    """A department (sở, ngành) that reports indicators."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name_vi: str
    name_en: str

    @field_validator("id")
    @classmethod
    def _id_is_a_slug(cls, value: str) -> str:
        return _slug(value)

    @field_validator("name_vi", "name_en")
    @classmethod
    def _text_nfc(cls, value: str) -> str:
        return _nfc(value)


class Indicator(BaseModel):
    """One periodic indicator.

    Attributes:
        id: Stable identifier (lower-case slug); uploads and boards name it.
        name_vi: Vietnamese name with diacritics (NFC).
        name_en: English name.
        unit: How the value reads (:data:`Unit`).
        direction: Which way is better.
        period: How often it is reported (:data:`PeriodKind`).
        department: Id of the responsible department (under ``departments:``).
        due_days: Days after the period's last day by which the value is due (0: the last day
            itself); a value missing after that reads "Chưa báo cáo" (not reported yet).
        due_estimate: True when the due day is our default, not a deadline a document sets.
        levels: The administrative levels that report it (a value for an area of another
            level is refused).
        target: The target, or None (shown, never judged).
        reported: Results published before the product ran (shown beside it, never judged).
        description_vi: What it measures, in Vietnamese.
        description_en: What it measures, in English.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name_vi: str
    name_en: str
    unit: Unit
    direction: Direction
    period: PeriodKind
    department: str
    due_days: int = Field(ge=0, le=366)
    due_estimate: bool = False
    levels: tuple[AreaLevel, ...] = Field(min_length=1)
    target: IndicatorTarget | None = None
    reported: tuple[Reported, ...] = ()
    description_vi: str | None = None
    description_en: str | None = None

    @field_validator("id")
    @classmethod
    def _id_is_a_slug(cls, value: str) -> str:
        return _slug(value)

    @field_validator("name_vi", "name_en", "description_vi", "description_en")
    @classmethod
    def _text_nfc(cls, value: str | None) -> str | None:
        return None if value is None else _nfc(value)

    @model_validator(mode="after")
    def _values_in_range(self) -> Indicator:
        checks: list[tuple[str, float]] = []
        if self.target is not None:
            checks.append(("target.value", self.target.value))
            checks += [(f"target.by_level.{lv.value}", v) for lv, v in self.target.by_level.items()]
        checks += [(f"reported.{i}.value", r.value) for i, r in enumerate(self.reported)]
        for where, value in checks:
            problem = value_problem(self.unit, value)
            if problem:
                raise PydanticCustomError(
                    "value_range", "{reason}", {"reason": problem, "at": where}
                )
        return self

    def target_for(self, level: AreaLevel | str) -> float | None:
        """The target an area of ``level`` is held to; None without a target."""
        return None if self.target is None else self.target.for_level(level)

    def meets(self, value: float | None, level: AreaLevel | str) -> bool | None:
        """Whether ``value`` reaches the level's target; None without a value or a target."""
        target = self.target_for(level)
        if value is None or target is None:
            return None
        return value >= target if self.direction == "higher" else value <= target


def value_problem(unit: str, value: float) -> str | None:
    """Why ``value`` cannot be a value of an indicator in ``unit`` (None: it can)."""
    if unit == "percent" and not 0 <= value <= 1:
        hint = f"; write {value / 100:g} if you meant {value:g} %" if 1 < value <= 100 else ""
        return f"{value:g} is outside 0–1, the range of a percent indicator{hint}"
    if unit == "rank" and (value < 1 or value != int(value)):
        return f"{value:g} is not a rank: a whole number from 1 (first)"
    if unit == "number" and value < 0:
        return f"{value:g} is negative"
    return None


class IndicatorFileError(DataFileError):
    """An indicator catalogue that cannot be used, with every problem found."""


class IndicatorCatalogue:
    """The indicators of a province and their departments, in file order."""

    def __init__(
        self,
        indicators: list[Indicator],
        departments: list[Department],
        source: str = "<indicators>",
    ) -> None:
        """Keep the indicators and departments (checked by the loader)."""
        self._items = tuple(indicators)
        self._by_id = {i.id: i for i in self._items}
        self.departments: dict[str, Department] = {d.id: d for d in departments}
        self.source = source

    def __iter__(self) -> Iterator[Indicator]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, indicator_id: object) -> bool:
        return indicator_id in self._by_id

    @property
    def ids(self) -> list[str]:
        """Every indicator id, in catalogue order."""
        return [i.id for i in self._items]

    def get(self, indicator_id: str) -> Indicator:
        """The indicator with this id.

        Raises:
            KeyError: no such indicator; the message names the closest id and lists them all.
        """
        found = self._by_id.get(indicator_id)
        if found is None:
            close = difflib.get_close_matches(indicator_id, self.ids, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise KeyError(
                f"no indicator {indicator_id!r} in {self.source}.{hint} "
                f"Known indicators: {', '.join(self.ids)}"
            )
        return found

    def department(self, indicator: Indicator) -> Department:
        """The department responsible for ``indicator``."""
        return self.departments[indicator.department]


def catalogue_file_for(province_code: str | None) -> Path:
    """The indicator catalogue of a province: its own file when shipped, else the national one.

    Args:
        province_code: GSO code after 1/7/2025 ("33" Hưng Yên, "92" Cần Thơ, "31" Hải Phòng).
    """
    data = Path(str(resources.files("ioc").joinpath("data")))
    slug = PROVINCE_CATALOGUES.get(province_code or "")
    if slug is not None and (data / "provinces" / slug / "indicators.yaml").is_file():
        return data / "provinces" / slug / "indicators.yaml"
    return data / "indicators.yaml"


def load_indicators(
    path: Path | str | None = None, *, province: str | None = None
) -> IndicatorCatalogue:
    """Read an indicator catalogue and return it checked.

    Args:
        path: The file; None reads the one shipped for the province (:func:`catalogue_file_for`).
        province: Code or name of the province when ``path`` is None; None reads
            ``IOC_PROVINCE`` (Hưng Yên when unset).

    Raises:
        IndicatorFileError: every problem of the file, each as ``file:line: field: reason``:
            unknown keys, ids used twice or not slugs, an unknown unit, period, direction,
            level or department, a target or result outside the unit's range, a legal target
            without a deadline or a numbered document, an estimate without a note, an overlay
            naming an indicator its base lacks without giving every field of a new one.
    """
    if path is None:
        path = catalogue_file_for(chosen_province(province))
    file = Path(path)
    source = str(file)
    doc = parse(
        source,
        read_text(file, IndicatorFileError),
        label=item_label("indicators", "id"),
        error=IndicatorFileError,
    )
    if not isinstance(doc.data, dict):
        raise IndicatorFileError(source, [f"{source}: expected 'indicators:' at the top"])
    if "extends" in doc.data:
        return _load_overlay(doc, file)
    problems = doc.repeated()
    problems += [
        doc.problem([str(k)], f"unknown top-level key (expected {', '.join(_TOP_KEYS)})")
        for k in doc.data
        if k not in _TOP_KEYS
    ]
    departments = _departments(doc, doc.data.get("departments"), problems, required=True)
    items = doc.data.get("indicators")
    if not isinstance(items, list) or not items:
        problems.append(doc.problem(["indicators"], "must be a non-empty list of indicators"))
        items = []
    parsed = _indicators(doc, items, departments, problems)
    if problems:
        raise IndicatorFileError(source, problems)
    return IndicatorCatalogue(parsed, list(departments.values()), source)


def _departments(
    doc: Document, raw: Any, problems: list[str], *, required: bool
) -> dict[str, Department]:
    if raw is None and not required:
        return {}
    if not isinstance(raw, list) or (required and not raw):
        problems.append(doc.problem(["departments"], "must be a list of {id, name_vi, name_en}"))
        return {}
    out: dict[str, Department] = {}
    for i, item in enumerate(raw):
        department, found = doc.validate(Department, item, ["departments", i])
        problems += found
        if department is None:
            continue
        if department.id in out:
            problems.append(
                doc.problem(["departments", i, "id"], f"duplicate id {department.id!r}")
            )
        out[department.id] = department
    return out


def _indicators(
    doc: Document,
    items: list[Any],
    departments: dict[str, Department],
    problems: list[str],
    *,
    start: int = 0,
) -> list[Indicator]:
    parsed: list[Indicator] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items, start):
        if not isinstance(item, dict):
            problems.append(
                doc.problem(["indicators", i], f"expected 'field: value', got {item!r}")
            )
            continue
        indicator, found = doc.validate(Indicator, item, ["indicators", i])
        problems += found
        item_id = item.get("id")
        if isinstance(item_id, str):
            if item_id in seen:
                problems.append(
                    doc.problem(
                        ["indicators", i, "id"],
                        f"duplicate id {item_id!r}, already used by indicators[{seen[item_id]}]",
                    )
                )
            seen.setdefault(item_id, i)
        department = item.get("department")
        if isinstance(department, str) and departments and department not in departments:
            problems.append(
                doc.problem(
                    ["indicators", i, "department"],
                    f"no department {department!r} under departments: "
                    f"(known: {', '.join(departments)})",
                )
            )
        if indicator is not None:
            parsed.append(indicator)
    return parsed


def _load_overlay(doc: Document, file: Path) -> IndicatorCatalogue:
    """A province's file on top of a base catalogue (``extends: national`` or a path)."""
    raw: dict[str, Any] = doc.data
    source = doc.source
    problems = doc.repeated()
    problems += [
        doc.problem([str(k)], f"unknown top-level key (expected {', '.join(_OVERLAY_KEYS)})")
        for k in raw
        if k not in _OVERLAY_KEYS
    ]
    extends = raw.get("extends")
    if extends == "national":
        base_path = Path(str(resources.files("ioc").joinpath("data"))) / "indicators.yaml"
    elif isinstance(extends, str) and extends.strip():
        base_path = (file.parent / extends).resolve()
        if base_path == file.resolve():
            raise IndicatorFileError(
                source, [doc.problem(["extends"], "a file cannot extend itself")]
            )
    else:
        raise IndicatorFileError(
            source, [doc.problem(["extends"], "write 'national' or the path of the base file")]
        )
    base = load_indicators(base_path)
    departments = dict(base.departments)
    departments |= _departments(doc, raw.get("departments"), problems, required=False)
    items = raw.get("indicators") or []
    if not isinstance(items, list):
        problems.append(doc.problem(["indicators"], "must be a list"))
        items = []
    changed: dict[str, Indicator] = {}
    added: list[Indicator] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(
                doc.problem(["indicators", i], f"expected 'field: value', got {item!r}")
            )
            continue
        item_id = item.get("id")
        if isinstance(item_id, str) and item_id in base:
            for key in item:
                if key not in _OVERLAY_ITEM_KEYS:
                    problems.append(
                        doc.problem(
                            ["indicators", i, str(key)],
                            f"a province file changes only {', '.join(_OVERLAY_ITEM_KEYS[1:])} "
                            "of a national indicator; the other fields are the base's",
                        )
                    )
            if item_id in changed:
                problems.append(doc.problem(["indicators", i, "id"], f"{item_id!r} listed twice"))
                continue
            merged = base.get(item_id).model_dump(mode="json", exclude_defaults=True)
            for key in ("target", "due_days", "department"):
                if key in item:
                    merged[key] = item[key]
                    if item[key] is None:
                        merged.pop(key)
            if item.get("reported") is not None:
                extra = (
                    item["reported"] if isinstance(item["reported"], list) else [item["reported"]]
                )
                merged["reported"] = [*extra, *merged.get("reported", ())]
            indicator, found = doc.validate(Indicator, merged, ["indicators", i])
            problems += found
            department = merged.get("department")
            if isinstance(department, str) and department not in departments:
                problems.append(
                    doc.problem(["indicators", i, "department"], f"no department {department!r}")
                )
            if indicator is not None:
                changed[item_id] = indicator
            continue
        if set(item) <= set(_OVERLAY_ITEM_KEYS):
            close = difflib.get_close_matches(str(item_id), base.ids, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(
                doc.problem(
                    ["indicators", i, "id"],
                    f"no indicator {item_id!r} in {base.source}{hint} (a new indicator gives "
                    "every field: name_vi, name_en, unit, direction, period, department, "
                    "due_days, levels)",
                )
            )
            continue
        added += _indicators(doc, [item], departments, problems, start=i)
    ids = [i.id for i in added]
    for pos, indicator_id in enumerate(ids):
        if indicator_id in ids[:pos]:
            problems.append(f"{source}: indicators: {indicator_id!r} is added twice")
    if problems:
        raise IndicatorFileError(source, problems)
    merged_list = [changed.get(i.id, i) for i in base] + added
    return IndicatorCatalogue(merged_list, list(departments.values()), source)
