"""Administrative areas of a province: the hierarchy that KPIs roll up through.

Vietnam changed the shape of local government on 1 July 2025. Before that day a province had
districts (huyện, thị xã, thành phố) with communes (xã, phường, thị trấn) under them; since then
there are two tiers, communes hang directly from the province, and several provinces merged.
History before the date and live data after it must both keep working, so the hierarchy is
data that a province edits (a YAML file, see ``ioc/data/areas/hung-yen.yaml``) and every area
carries the dates it is valid for. Nothing here knows any particular province.

Typical use::

    areas = load_areas()                     # the shipped Hưng Yên file
    day = date(2024, 3, 1)
    areas.shape(on=day)                      # "three-tier"
    areas.weights("district", on=day)        # {"323": 0.093, "325": 0.1, ...}
    areas.find("van lam")[0].name_vi         # "Huyện Văn Lâm"
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from ioc.localtime import local_today

__all__ = [
    "Area",
    "AreaFileError",
    "AreaFileMeta",
    "AreaLevel",
    "AreaRegistry",
    "Shape",
    "WeightBasis",
    "load_areas",
]

Shape = Literal["three-tier", "two-tier"]
"""``three-tier``: province → district → commune; ``two-tier``: province → commune."""

WeightBasis = Literal["population", "households"]
"""Which figure of an area :meth:`AreaRegistry.weights` uses."""


class AreaLevel(StrEnum):
    """Tier of an administrative area, from the top.

    Wards (phường) and townships (thị trấn) are communes here: they sit at the same tier and
    KPIs treat them alike.
    """

    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"


# GSO codes have a fixed width per tier; checking it catches a dropped or extra digit, the
# commonest slip when a clerk types codes by hand.
_CODE_DIGITS: Final[dict[AreaLevel, int]] = {
    AreaLevel.PROVINCE: 2,
    AreaLevel.DISTRICT: 3,
    AreaLevel.COMMUNE: 5,
}

_PARENT_RULE: Final[dict[AreaLevel, str]] = {
    AreaLevel.PROVINCE: "a province has no parent",
    AreaLevel.DISTRICT: "a district's parent must be the province",
    AreaLevel.COMMUNE: (
        "a commune's parent must be a district (three-tier shape, before 2025-07-01) "
        "or the province (two-tier shape)"
    ),
}

# Unit types that open an official name, longest first so "Thị trấn" wins over "Thị".
_TYPE_PREFIXES_VI: Final[tuple[str, ...]] = (
    "Thành phố",
    "Thị trấn",
    "Thị xã",
    "Đặc khu",
    "Phường",
    "Huyện",
    "Quận",
    "Tỉnh",
    "Xã",
)

# Abbreviations people type in searches ("TP Hưng Yên", "TX. Mỹ Hào"), already folded.
_QUERY_ABBREVIATIONS: Final[dict[str, str]] = {
    "tp": "thanh pho",
    "tx": "thi xa",
    "tt": "thi tran",
}


def _fold(text: str) -> str:
    """Fold text for tolerant comparison: no diacritics, lower case, words split by spaces."""
    # "đ" is a letter of its own, not "d" plus a mark, so NFD alone would keep it.
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]+", " ", bare.casefold()).strip()


_FOLDED_PREFIXES: Final[tuple[str, ...]] = tuple(_fold(p) for p in _TYPE_PREFIXES_VI)


def _strip_folded_type(folded: str) -> str:
    """Drop a leading unit type ("huyen", "xa", ...) from an already folded name."""
    for prefix in _FOLDED_PREFIXES:
        if folded.startswith(prefix + " "):
            return folded[len(prefix) + 1 :]
    return folded


def _quoted_code(value: Any) -> Any:
    """Reject codes YAML read as numbers, since the leading zeros are already lost."""
    # bool is an int too: "code: yes" is as wrong as "code: 33".
    if isinstance(value, int | float):
        raise ValueError(
            f'code {value!r} must be written in quotes, like "12097": without quotes YAML '
            'reads a number and drops leading zeros ("01" would become 1)'
        )
    if isinstance(value, str):
        return value.strip()
    return value


def _whole_number(value: Any) -> Any:
    """Accept whole numbers only, rejecting what YAML made of Vietnamese digit grouping."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d[\d_]*", value.strip()):
        return int(value.strip().replace("_", ""))
    # Vietnamese groups thousands with "." — "125.000" means 125 thousand, but YAML reads it
    # as the float 125.0 and a lax int conversion would silently keep 125.
    raise ValueError(
        f"{value!r} is not a whole number: write 125000 or 125_000, "
        "without '.' or ',' between the thousands"
    )


class Area(BaseModel):
    """One administrative area (province, district or commune) over a period of validity.

    The same code may describe different areas at different times (a new commune can reuse a
    code of one it replaced), so an ``Area`` is one row of the area file, not a code.

    Attributes:
        code: Official GSO code as a string, e.g. "33", "323", "12097".
        name_vi: Official Vietnamese name with its unit type and diacritics, e.g.
            "Huyện Ân Thi"; stored in Unicode NFC so equal names compare equal.
        name_en: Optional English/ASCII name for the English screens, e.g. "An Thi District".
        level: Tier of the area.
        parent: Code of the area it belongs to; None only for the province.
        population: Number of people, if known.
        households: Number of households, if known.
        valid_from: First day the area exists in this form; None means "since before the data".
        valid_to: First day the area no longer exists (exclusive); None means "still exists".
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    name_vi: str
    name_en: str | None = None
    level: AreaLevel
    parent: str | None = None
    population: int | None = None
    households: int | None = None
    valid_from: date | None = None
    valid_to: date | None = None

    @field_validator("code", "parent", mode="before")
    @classmethod
    def _codes_are_quoted(cls, value: Any) -> Any:
        return _quoted_code(value)

    @field_validator("population", "households", mode="before")
    @classmethod
    def _figures_are_whole(cls, value: Any) -> Any:
        return _whole_number(value)

    @field_validator("population", "households")
    @classmethod
    def _figures_not_negative(cls, value: int | None) -> int | None:
        if value is not None and value < 0:
            raise ValueError(f"must be 0 or more, got {value}")
        return value

    @field_validator("name_vi")
    @classmethod
    def _name_vi_nfc(cls, value: str) -> str:
        # Text pasted from Word or macOS is often decomposed (NFD); it looks identical but
        # compares unequal, which would break exact matches and database joins.
        value = unicodedata.normalize("NFC", value.strip())
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("name_en")
    @classmethod
    def _name_en_ascii(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value.isascii():
            raise ValueError(
                f"{value!r} must be ASCII (no diacritics); put the Vietnamese name in name_vi"
            )
        return value or None

    @model_validator(mode="after")
    def _consistent(self) -> Area:
        width = _CODE_DIGITS[self.level]
        if not (self.code.isdigit() and len(self.code) == width):
            raise ValueError(
                f"code {self.code!r} should be {width} digits for a {self.level.value}"
            )
        if self.level is AreaLevel.PROVINCE and self.parent is not None:
            raise ValueError(f"{_PARENT_RULE[AreaLevel.PROVINCE]}; remove parent {self.parent!r}")
        if self.level is not AreaLevel.PROVINCE and self.parent is None:
            raise ValueError(f"a {self.level.value} needs a parent: {_PARENT_RULE[self.level]}")
        if self.parent == self.code:
            raise ValueError(f"area {self.code} cannot be its own parent")
        if (
            self.valid_from is not None
            and self.valid_to is not None
            and self.valid_to <= self.valid_from
        ):
            raise ValueError(
                f"valid_to ({self.valid_to}) must be after valid_from ({self.valid_from}); "
                "valid_to is the first day the area no longer exists"
            )
        return self

    @property
    def short_name_vi(self) -> str:
        """Vietnamese name without its unit type: "Huyện Ân Thi" → "Ân Thi"."""
        folded = self.name_vi.casefold()
        for prefix in _TYPE_PREFIXES_VI:
            if folded.startswith(prefix.casefold() + " "):
                return self.name_vi[len(prefix) + 1 :].strip()
        return self.name_vi

    def valid_on(self, day: date) -> bool:
        """Tell whether the area exists on ``day``.

        Args:
            day: The day to test.

        Returns:
            True if ``valid_from <= day < valid_to``, a missing bound being open.
        """
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_to is None or day < self.valid_to


class AreaFileMeta(BaseModel):
    """The ``province:`` section at the top of an area file.

    Attributes:
        code: GSO code of the province the file describes; every province row must use it.
        name_vi: Vietnamese name of the province.
        name_en: Optional English/ASCII name.
        maintained_by: Who keeps the file up to date.
        updated: Day of the last edit.
        notes: Free text.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    name_vi: str
    name_en: str | None = None
    maintained_by: str | None = None
    updated: date | None = None
    notes: str | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _code_is_quoted(cls, value: Any) -> Any:
        return _quoted_code(value)

    @field_validator("name_vi")
    @classmethod
    def _name_vi_nfc(cls, value: str) -> str:
        return unicodedata.normalize("NFC", value.strip())


class AreaFileError(ValueError):
    """An area file (or list of areas) that cannot be used, with every problem found.

    Each problem starts with the file path (and line, when known) and names the area code, so
    a clerk can fix them all in one pass instead of one per reload.

    Attributes:
        source: Path of the file, or a label for areas built in memory.
        problems: One line per problem.
    """

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems: tuple[str, ...] = tuple(problems)
        count = len(self.problems)
        head = f"{source}: {count} problem{'' if count == 1 else 's'} in the area file:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))


def _period(area: Area) -> str:
    """Describe the validity of an area in words a clerk reads."""
    if area.valid_from is None and area.valid_to is None:
        return "always"
    if area.valid_to is None:
        return f"from {area.valid_from}"
    if area.valid_from is None:
        return f"until {area.valid_to}"
    return f"from {area.valid_from} until {area.valid_to}"


def _overlap(a: Area, b: Area) -> bool:
    """Tell whether two half-open validity periods share a day."""
    a_start, b_start = a.valid_from or date.min, b.valid_from or date.min
    a_end, b_end = a.valid_to or date.max, b.valid_to or date.max
    return a_start < b_end and b_start < a_end


def _checkpoints(area: Area, boundaries: Sequence[date]) -> Iterator[date]:
    """Yield the days inside an area's validity on which the set of valid areas changes.

    Validity only changes on some area's valid_from or valid_to, so checking a rule on these
    days checks it on every day of the period.
    """
    start = area.valid_from or date.min
    yield start
    for day in boundaries:
        if day > start and (area.valid_to is None or day < area.valid_to):
            yield day


def _parent_level_ok(child: AreaLevel, parent: AreaLevel) -> bool:
    if child is AreaLevel.DISTRICT:
        return parent is AreaLevel.PROVINCE
    if child is AreaLevel.COMMUNE:
        return parent in (AreaLevel.DISTRICT, AreaLevel.PROVINCE)
    return False


def _labels(
    source: str,
    areas: Sequence[Area],
    indices: Sequence[int],
    lines: Sequence[int | None] | None,
) -> tuple[list[str], list[str]]:
    """Build, per area, a message prefix (path, line, key, code) and a short reference."""
    where: list[str] = []
    ref: list[str] = []
    for pos, area in enumerate(areas):
        line = lines[pos] if lines is not None and pos < len(lines) else None
        key = f"areas[{indices[pos]}]"
        location = f"{source}:{line}" if line is not None else source
        where.append(f"{location}: {key} (code {area.code})")
        ref.append(f"{key} (line {line})" if line is not None else key)
    return where, ref


def _structural_problems(
    areas: Sequence[Area],
    where: Sequence[str],
    ref: Sequence[str],
    source: str,
    meta: AreaFileMeta | None,
    unparsed_codes: frozenset[str] = frozenset(),
    partial: bool = False,
) -> list[str]:
    """Check the rules that involve more than one area; return one message per problem.

    ``unparsed_codes`` and ``partial`` describe rows that already failed on their own, so that
    their absence does not show up again as "unknown parent" or "no province".
    """
    problems: list[str] = []
    boundaries = sorted({d for a in areas for d in (a.valid_from, a.valid_to) if d is not None})
    rows_of: dict[str, list[int]] = {}
    for i, area in enumerate(areas):
        rows_of.setdefault(area.code, []).append(i)

    for code, rows in rows_of.items():
        for i, j in itertools.combinations(rows, 2):
            if _overlap(areas[i], areas[j]):
                problems.append(
                    f"{where[j]}: code {code} is also used by {ref[i]} and the periods overlap "
                    f"({_period(areas[i])} / {_period(areas[j])}); a code may repeat only in "
                    "periods that do not overlap (end one with valid_to, start the other with "
                    "valid_from on the same day)"
                )

    provinces = [i for i, a in enumerate(areas) if a.level is AreaLevel.PROVINCE]
    if not provinces and not partial:
        problems.append(
            f"{source}: no area has level 'province'; the file needs one province row "
            "(two, with periods that do not overlap, if its figures changed)"
        )
    for i, j in itertools.combinations(provinces, 2):
        if areas[i].code != areas[j].code and _overlap(areas[i], areas[j]):
            problems.append(
                f"{where[j]}: a second province is valid at the same time as province "
                f"{areas[i].code} ({ref[i]}); a file describes exactly one province at a time"
            )
    if meta is not None:
        for i in provinces:
            if areas[i].code != meta.code:
                problems.append(
                    f"{where[i]}: province code {areas[i].code} differs from "
                    f"province.code {meta.code!r} at the top of the file"
                )

    for i, area in enumerate(areas):
        if area.parent is None or area.parent in unparsed_codes:
            continue
        if area.parent not in rows_of:
            problems.append(
                f"{where[i]}: unknown parent {area.parent!r}: no area in the file has that code"
            )
            continue
        for day in _checkpoints(area, boundaries):
            parents = [areas[k] for k in rows_of[area.parent] if areas[k].valid_on(day)]
            if not parents:
                spans = ", ".join(_period(areas[k]) for k in rows_of[area.parent])
                problems.append(
                    f"{where[i]}: parent {area.parent} does not exist on {day} although this "
                    f"{area.level.value} does (this area: {_period(area)}; parent: {spans})"
                )
                break
            if not _parent_level_ok(area.level, parents[0].level):
                problems.append(
                    f"{where[i]}: parent {area.parent} is a {parents[0].level.value}; "
                    f"{_PARENT_RULE[area.level]}"
                )
                break

    # Before the 2025 reform every commune belonged to a district, so a commune directly under
    # the province while districts still exist is a forgotten parent or a forgotten valid_to.
    for day in [date.min, *boundaries]:
        valid = [a for a in areas if a.valid_on(day)]
        districts = sorted(a.code for a in valid if a.level is AreaLevel.DISTRICT)
        if not districts:
            continue
        province_codes = {a.code for a in valid if a.level is AreaLevel.PROVINCE}
        direct = sorted(
            a.code for a in valid if a.level is AreaLevel.COMMUNE and a.parent in province_codes
        )
        if direct:
            when = "before any dated change" if day == date.min else f"on {day}"
            problems.append(
                f"{source}: {when}, commune(s) {_some(direct)} sit directly under the province "
                f"while district(s) {_some(districts)} still exist; give the communes a district "
                "parent, or end the districts with valid_to"
            )
            break
    return problems


def _some(codes: Sequence[str], limit: int = 8) -> str:
    """List codes, shortened when there are many."""
    shown = ", ".join(codes[:limit])
    return shown if len(codes) <= limit else f"{shown} and {len(codes) - limit} more"


class _Snapshot:
    """The areas valid on one day, indexed for lookups."""

    __slots__ = ("by_code", "children", "day")

    def __init__(self, day: date, areas: Iterable[Area]) -> None:
        self.day = day
        valid = sorted((a for a in areas if a.valid_on(day)), key=lambda a: a.code)
        # Validation guarantees one row per code on any day.
        self.by_code: dict[str, Area] = {a.code: a for a in valid}
        self.children: dict[str, list[Area]] = {}
        for area in valid:
            if area.parent is not None:
                self.children.setdefault(area.parent, []).append(area)


class AreaRegistry:
    """The administrative areas of one province over time, checked for consistency.

    Methods that take ``on`` answer for the areas valid that day. When ``on`` is omitted they
    use the registry's own day: the day given to :meth:`as_of`, or today for a registry holding
    the whole file — so a live system sees the current shape without passing dates around.

    Lists of areas are sorted by code.
    """

    def __init__(
        self,
        areas: Iterable[Area],
        *,
        source: str | Path | None = None,
        meta: AreaFileMeta | None = None,
        day: date | None = None,
        lines: Sequence[int | None] | None = None,
    ) -> None:
        """Build a registry, checking the rules that involve several areas.

        Args:
            areas: The areas, any order; one code may appear several times with periods that
                do not overlap.
            source: Path of the file they come from, used in error messages.
            meta: The ``province:`` section of the file, if any.
            day: Default for ``on``; None means today.
            lines: Line of each area in the source file, used in error messages.

        Raises:
            AreaFileError: Listing every problem found: a code used twice in overlapping
                periods, an unknown parent or one of the wrong level, a parent missing for part
                of a child's period, no province or two at once, mixed shapes on one day.
        """
        self._areas: tuple[Area, ...] = tuple(areas)
        self._source = str(source) if source is not None else "<areas>"
        self._meta = meta
        self._day = day
        where, ref = _labels(self._source, self._areas, range(len(self._areas)), lines)
        problems = _structural_problems(self._areas, where, ref, self._source, meta)
        if problems:
            raise AreaFileError(self._source, problems)
        self._versions: dict[str, list[Area]] = {}
        for area in sorted(self._areas, key=lambda a: a.valid_from or date.min):
            self._versions.setdefault(area.code, []).append(area)
        # The registry is immutable, so per-day indexes can be kept for its lifetime.
        self._snapshots: dict[date, _Snapshot] = {}

    def __len__(self) -> int:
        return len(self._areas)

    def __iter__(self) -> Iterator[Area]:
        return iter(self._areas)

    def __repr__(self) -> str:
        return f"AreaRegistry({len(self._areas)} areas from {self._source!r})"

    @property
    def source(self) -> str:
        """Path of the file the areas come from, or a label for areas built in memory."""
        return self._source

    @property
    def meta(self) -> AreaFileMeta | None:
        """The ``province:`` section of the file, if the registry came from one."""
        return self._meta

    @property
    def day(self) -> date | None:
        """The day ``on=None`` stands for; None means today."""
        return self._day

    @property
    def areas(self) -> tuple[Area, ...]:
        """Every row, whatever its period, in the order given."""
        return self._areas

    def _snap(self, on: date | None) -> _Snapshot:
        day = on if on is not None else (self._day if self._day is not None else local_today())
        snap = self._snapshots.get(day)
        if snap is None:
            snap = _Snapshot(day, self._areas)
            self._snapshots[day] = snap
        return snap

    def versions(self, code: str) -> list[Area]:
        """Return every row with this code, oldest first.

        Args:
            code: GSO code.

        Returns:
            The rows, possibly empty.
        """
        return list(self._versions.get(code, []))

    def get(self, code: str, on: date | None = None) -> Area:
        """Return the area with this code valid on a day.

        Args:
            code: GSO code.
            on: The day; defaults to the registry's day (today for a whole file).

        Returns:
            The area.

        Raises:
            KeyError: If no area has that code, or none with that code is valid that day (the
                message says when it was).
        """
        snap = self._snap(on)
        area = snap.by_code.get(code)
        if area is not None:
            return area
        rows = self._versions.get(code)
        if not rows:
            raise KeyError(f"no area with code {code!r} in {self._source}")
        spans = "; ".join(f"{r.name_vi} {_period(r)}" for r in rows)
        raise KeyError(f"area {code!r} does not exist on {snap.day} ({spans}); pass on=")

    @property
    def province(self) -> Area:
        """The province valid on the registry's day (today for a whole file).

        Raises:
            LookupError: If no province is valid that day.
        """
        snap = self._snap(None)
        for area in snap.by_code.values():
            if area.level is AreaLevel.PROVINCE:
                return area
        raise LookupError(f"no province in {self._source} is valid on {snap.day}")

    def children(self, code: str, on: date | None = None) -> list[Area]:
        """Return the areas directly under an area.

        Args:
            code: GSO code of the parent.
            on: The day; defaults to the registry's day.

        Returns:
            The children valid that day; empty for a commune.

        Raises:
            KeyError: If ``code`` is not valid that day.
        """
        self.get(code, on)
        return list(self._snap(on).children.get(code, []))

    def descendants(self, code: str, on: date | None = None) -> list[Area]:
        """Return every area below an area, tier by tier.

        Args:
            code: GSO code of the top area.
            on: The day; defaults to the registry's day.

        Returns:
            Children first, then grandchildren; each tier sorted by code.

        Raises:
            KeyError: If ``code`` is not valid that day.
        """
        self.get(code, on)
        snap = self._snap(on)
        found: list[Area] = []
        tier = snap.children.get(code, [])
        while tier:
            found.extend(tier)
            tier = [kid for area in tier for kid in snap.children.get(area.code, [])]
        return found

    def ancestors(self, code: str, on: date | None = None) -> list[Area]:
        """Return the areas above an area, nearest first (district, then province).

        Args:
            code: GSO code.
            on: The day; defaults to the registry's day.

        Returns:
            The parent chain; empty for the province.

        Raises:
            KeyError: If ``code`` is not valid that day.
        """
        area = self.get(code, on)
        chain: list[Area] = []
        while area.parent is not None:
            area = self.get(area.parent, on)
            chain.append(area)
        return chain

    def by_level(self, level: AreaLevel | str, on: date | None = None) -> list[Area]:
        """Return the areas of one tier.

        Args:
            level: The tier, as an :class:`AreaLevel` or its value ("district").
            on: The day; defaults to the registry's day.

        Returns:
            The areas of that tier valid that day.
        """
        wanted = AreaLevel(level)
        return [a for a in self._snap(on).by_code.values() if a.level is wanted]

    def leaves(self, on: date | None = None) -> list[Area]:
        """Return the lowest areas: those with nothing under them on a day.

        These are the units events are attributed to. A district whose communes the file does
        not list counts as a leaf, so a partial file still covers the whole province.

        Args:
            on: The day; defaults to the registry's day.

        Returns:
            The areas valid that day that have no children that day.
        """
        snap = self._snap(on)
        return [a for a in snap.by_code.values() if a.code not in snap.children]

    def shape(self, on: date | None = None) -> Shape:
        """Tell which shape local government has on a day.

        Args:
            on: The day; defaults to the registry's day.

        Returns:
            "three-tier" if any district is valid that day, else "two-tier".

        Raises:
            LookupError: If no area at all is valid that day.
        """
        snap = self._snap(on)
        if not snap.by_code:
            raise LookupError(f"no area in {self._source} is valid on {snap.day}")
        if any(a.level is AreaLevel.DISTRICT for a in snap.by_code.values()):
            return "three-tier"
        return "two-tier"

    def as_of(self, day: date) -> AreaRegistry:
        """Return a registry of the areas valid on one day, with that day as its default.

        Args:
            day: The day.

        Returns:
            A new registry; methods called on it without ``on`` answer for ``day``.
        """
        return AreaRegistry(
            (a for a in self._areas if a.valid_on(day)),
            source=self._source,
            meta=self._meta,
            day=day,
        )

    def weights(
        self,
        level: AreaLevel | str,
        by: WeightBasis = "population",
        on: date | None = None,
    ) -> dict[str, float]:
        """Return each area's share of a tier, for combining per-area KPIs into one figure.

        Areas without the figure get the average of the others at that tier, so a gap in the
        file neither drops an area nor lets it dominate. If no area has the figure, or all
        figures are 0, every area weighs the same.

        Args:
            level: The tier whose areas are weighted.
            by: "population" or "households".
            on: The day; defaults to the registry's day.

        Returns:
            Code → weight; the weights sum to 1.0 (empty if the tier has no area that day).

        Raises:
            ValueError: If ``by`` is not "population" or "households".
        """
        if by not in get_args(WeightBasis):
            raise ValueError(f"by must be one of {get_args(WeightBasis)}, got {by!r}")
        areas = self.by_level(level, on)
        if not areas:
            return {}
        figures: list[int | None] = [getattr(a, by) for a in areas]
        known = [f for f in figures if f is not None]
        fill = sum(known) / len(known) if known else 1.0
        values = [float(f) if f is not None else fill for f in figures]
        total = sum(values)
        if total <= 0:
            return {a.code: 1.0 / len(areas) for a in areas}
        return {a.code: v / total for a, v in zip(areas, values, strict=True)}

    def find(self, name_or_code: str, on: date | None = None) -> list[Area]:
        """Find areas by code or name, ignoring case and diacritics.

        "van lam", "VĂN LÂM", "Huyện Văn Lâm" and "325" all find Huyện Văn Lâm; "TP Hưng Yên"
        and "TX. Mỹ Hào" are understood. A name without its unit type may match several areas
        (the province and the city of Hưng Yên; a district and its seat township), so a list
        is returned, best match first.

        Args:
            name_or_code: A code, an official name or a name without its unit type.
            on: Only areas valid that day; by default every row of the registry, past and
                present, so that former districts can still be found.

        Returns:
            The matches of the best kind found — exact code, else full name, else name without
            unit type — ordered province → district → commune, then by code and period.
            Empty if nothing matches.
        """
        query = name_or_code.strip()
        if not query:
            return []
        pool = self._areas if on is None else tuple(self._snap(on).by_code.values())
        folded = _fold(query)
        head, _, rest = folded.partition(" ")
        if head in _QUERY_ABBREVIATIONS and rest:
            folded = f"{_QUERY_ABBREVIATIONS[head]} {rest}"
        bare = _strip_folded_type(folded)
        rank = {AreaLevel.PROVINCE: 0, AreaLevel.DISTRICT: 1, AreaLevel.COMMUNE: 2}
        tiers: tuple[list[Area], ...] = (
            [a for a in pool if a.code == query],
            [
                a
                for a in pool
                if _fold(a.name_vi) == folded or (a.name_en and _fold(a.name_en) == folded)
            ],
            [a for a in pool if _fold(a.short_name_vi) == bare],
        )
        for matches in tiers:
            if matches:
                return sorted(
                    matches, key=lambda a: (rank[a.level], a.code, a.valid_from or date.min)
                )
        return []


def _key_lines(node: yaml.Node) -> tuple[dict[str, int], list[str]]:
    """Map each key of a YAML mapping node to its 1-based line; list keys written twice."""
    lines: dict[str, int] = {}
    repeated: list[str] = []
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            key = str(key_node.value)
            if key in lines:
                repeated.append(key)
            lines[key] = key_node.start_mark.line + 1
    return lines, repeated


class _Layout:
    """Where things are in the YAML text: lines for messages, keys written twice."""

    def __init__(self, text: str) -> None:
        self.top: dict[str, int] = {}
        self.top_repeated: list[str] = []
        self.meta: dict[str, int] = {}
        self.meta_repeated: list[str] = []
        self.items: list[int] = []
        self.item_keys: list[dict[str, int]] = []
        self.item_repeated: list[list[str]] = []
        # safe_load already parsed the text, so compose cannot fail on syntax here; the
        # layout only improves messages and must never be the reason a good file is refused.
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            return
        if not isinstance(root, yaml.MappingNode):
            return
        self.top, self.top_repeated = _key_lines(root)
        for key_node, value_node in root.value:
            if key_node.value == "province":
                self.meta, self.meta_repeated = _key_lines(value_node)
            elif key_node.value == "areas" and isinstance(value_node, yaml.SequenceNode):
                for item in value_node.value:
                    self.items.append(item.start_mark.line + 1)
                    keys, repeated = _key_lines(item)
                    self.item_keys.append(keys)
                    self.item_repeated.append(repeated)

    def item_line(self, index: int, key: str | None = None) -> int | None:
        """Line of area ``index``, or of one of its keys when known."""
        if index >= len(self.items):
            return None
        if key is not None and key in self.item_keys[index]:
            return self.item_keys[index][key]
        return self.items[index]


_AREA_FIELDS: Final[tuple[str, ...]] = tuple(Area.model_fields)
_META_FIELDS: Final[tuple[str, ...]] = tuple(AreaFileMeta.model_fields)


def _explain(exc: ValidationError, allowed: Sequence[str]) -> list[tuple[str, str | None, str]]:
    """Turn pydantic errors into (key path, first key, message) a clerk can act on."""
    out: list[tuple[str, str | None, str]] = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        field = loc[0] if loc else None
        kind = err["type"]
        if kind == "missing":
            msg = "required field is missing"
        elif kind == "extra_forbidden":
            msg = f"unknown field (allowed: {', '.join(allowed)})"
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            # Our own messages already quote the value; pydantic's built-in ones do not.
            if kind != "value_error" and loc and not isinstance(err["input"], dict | list):
                msg = f"{msg} (got {err['input']!r})"
        out.append((".".join(loc), field, msg))
    return out


def _read(path: Path | str | None) -> tuple[str, str]:
    """Return (source label, text) of the file, the shipped one if ``path`` is None."""
    if path is None:
        resource = resources.files("ioc") / "data" / "areas" / "hung-yen.yaml"
        source = str(resource)
        reader = resource.read_text
    else:
        source = str(path)
        reader = Path(path).read_text
    try:
        return source, reader(encoding="utf-8")
    except UnicodeDecodeError as exc:
        # Old Vietnamese encodings (TCVN3, VNI, Windows-1258) are still common in offices.
        raise AreaFileError(
            source,
            [f"{source}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"],
        ) from exc
    except OSError as exc:
        raise AreaFileError(source, [f"{source}: cannot read the file: {exc}"]) from exc


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
    source, text = _read(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        location = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise AreaFileError(source, [f"{location}: not valid YAML: {problem}"]) from exc

    if not isinstance(raw, dict):
        raise AreaFileError(
            source, [f"{source}: expected 'province:' and 'areas:' at the top of the file"]
        )
    layout = _Layout(text)
    problems: list[str] = []

    def at(line: int | None) -> str:
        return f"{source}:{line}" if line is not None else source

    for key in raw:
        if key not in ("province", "areas"):
            problems.append(
                f"{at(layout.top.get(str(key)))}: unknown top-level key {key!r} "
                "(expected 'province' and 'areas')"
            )
    for key in layout.top_repeated:
        problems.append(f"{at(layout.top.get(key))}: {key!r} appears twice; YAML keeps the last")

    meta: AreaFileMeta | None = None
    if "province" not in raw:
        problems.append(f"{source}: missing 'province:' section (code and name of the province)")
    elif not isinstance(raw["province"], dict):
        problems.append(f"{at(layout.top.get('province'))}: 'province:' must be a mapping")
    else:
        for key in layout.meta_repeated:
            problems.append(
                f"{at(layout.meta.get(key))}: province.{key} appears twice; YAML keeps the last"
            )
        try:
            meta = AreaFileMeta.model_validate(raw["province"])
        except ValidationError as exc:
            for loc, field, msg in _explain(exc, _META_FIELDS):
                line = layout.meta.get(field or "", layout.top.get("province"))
                problems.append(f"{at(line)}: province.{loc}: {msg}")

    items = raw.get("areas")
    if not isinstance(items, list) or not items:
        problems.append(
            f"{at(layout.top.get('areas'))}: 'areas:' must be a non-empty list of areas"
        )
        items = []

    parsed: list[Area] = []
    indices: list[int] = []
    unparsed: set[str] = set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(
                f"{at(layout.item_line(i))}: areas[{i}]: expected 'field: value' lines, "
                f"got {item!r}"
            )
            continue
        code = item.get("code")
        label = f"areas[{i}] (code {code})" if code is not None else f"areas[{i}]"
        for key in layout.item_repeated[i] if i < len(layout.item_repeated) else []:
            problems.append(
                f"{at(layout.item_line(i, key))}: {label}: {key!r} appears twice in this area; "
                "YAML keeps only the last"
            )
        try:
            parsed.append(Area.model_validate(item))
            indices.append(i)
        except ValidationError as exc:
            if code is not None:
                unparsed.add(str(code))
            for loc, field, msg in _explain(exc, _AREA_FIELDS):
                key_path = f"areas[{i}].{loc}" if loc else f"areas[{i}]"
                suffix = f" (code {code})" if code is not None else ""
                problems.append(f"{at(layout.item_line(i, field))}: {key_path}{suffix}: {msg}")

    lines = [layout.item_line(i) for i in indices]
    if problems:
        # Report the cross-area rules too, so one reload shows everything; rows that failed
        # above are left out of those checks to avoid echoing the same mistake.
        where, ref = _labels(source, parsed, indices, lines)
        problems.extend(
            _structural_problems(
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
