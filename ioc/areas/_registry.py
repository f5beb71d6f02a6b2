"""The registry: the areas of one province over time, asked about one day at a time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import get_args

from ioc.areas import _names
from ioc.areas._model import Area, AreaFileError, AreaFileMeta, AreaLevel, Shape, WeightBasis
from ioc.areas._rules import labels, period, structural_problems
from ioc.localtime import local_today

__all__ = ["AreaRegistry"]


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
        successors: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """Build a registry, checking the rules that involve several areas.

        Args:
            areas: The areas, any order; one code may appear several times with periods that
                do not overlap.
            source: Path of the file they come from, used in error messages.
            meta: The ``province:`` section of the file, if any.
            day: Default for ``on``; None means today.
            lines: Line of each area in the source file, used in error messages.
            successors: Former commune code → the codes of the communes its territory went
                to at a reform, the one its records roll up to first (see
                :meth:`successors`).

        Raises:
            AreaFileError: Listing every problem found: a code used twice in overlapping
                periods, an unknown parent or one of the wrong level, a parent missing for part
                of a child's period, no province or two at once, mixed shapes on one day.
        """
        self._areas: tuple[Area, ...] = tuple(areas)
        self._source = str(source) if source is not None else "<areas>"
        self._meta = meta
        self._day = day
        self._successors = {k: tuple(v) for k, v in (successors or {}).items()}
        where, ref = labels(self._source, self._areas, range(len(self._areas)), lines)
        problems = structural_problems(self._areas, where, ref, self._source, meta)
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

    def successors(self, code: str) -> list[str]:
        """Return the communes a former commune's territory went to when it was abolished.

        The correspondence comes from the national data (``tools/build_areas.py``); a file
        written by hand has none. A former commune split between several new communes lists
        them all, and **the first is the one its records roll up to**: the successor the
        national data marks as the default (the one holding the former commune's seat), so a
        split commune's history is counted once, whole, in one new commune rather than shared
        out by guesswork. Province totals are the same either way.

        Args:
            code: GSO code of a former commune.

        Returns:
            The new communes' codes, the roll-up target first; empty if the code has no
            recorded successor (it still exists, or the file does not say).
        """
        return list(self._successors.get(code, ()))

    def current(self, code: str, on: date | None = None) -> Area:
        """Return the area that holds a code's territory on a day, following successors.

        A former commune (``12142`` Thị trấn Ân Thi, abolished 1/7/2025) is answered with the
        new commune its records roll up to (:meth:`successors`); an area valid that day is
        answered with itself.

        Args:
            code: GSO code, current or former.
            on: The day; defaults to the registry's day.

        Returns:
            The area valid that day.

        Raises:
            KeyError: If neither the code nor any successor of it is valid that day.
        """
        seen: set[str] = set()
        while code not in seen:
            seen.add(code)
            if code in self._snap(on).by_code:
                return self.get(code, on)
            nexts = self._successors.get(code)
            if not nexts:
                break
            code = nexts[0]
        return self.get(code, on)

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
        spans = "; ".join(f"{r.name_vi} {period(r)}" for r in rows)
        raise KeyError(f"area {code!r} does not exist on {snap.day} ({spans}); pass on=")

    @property
    def province(self) -> Area:
        """The province valid on the registry's day (today for a whole file).

        Raises:
            LookupError: If no province is valid that day.
        """
        snap = self._snap(None)
        for area in snap.by_code.values():
            if area.level is AreaLevel.PROVINCE and area.parent is None:
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
            successors=self._successors,
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
        pool = self._areas if on is None else tuple(self._snap(on).by_code.values())
        return _names.find(pool, name_or_code)
