"""The rules that involve more than one area: codes, parents, the province, the 2025 shape."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from datetime import date

from ioc.areas._model import PARENT_RULE, Area, AreaFileMeta, AreaLevel

__all__ = ["labels", "period", "structural_problems"]


def period(area: Area) -> str:
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
    if child is AreaLevel.PROVINCE:
        # A province merged into another (1/7/2025: Thái Bình into Hưng Yên) hangs, until
        # the merger, under the province that kept its code, so that the merged province's
        # history rolls up into today's province through the ordinary parent links.
        return parent is AreaLevel.PROVINCE
    if child is AreaLevel.DISTRICT:
        return parent is AreaLevel.PROVINCE
    if child is AreaLevel.COMMUNE:
        return parent in (AreaLevel.DISTRICT, AreaLevel.PROVINCE)
    return False


def labels(
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


def structural_problems(
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
                    f"({period(areas[i])} / {period(areas[j])}); a code may repeat only in "
                    "periods that do not overlap (end one with valid_to, start the other with "
                    "valid_from on the same day)"
                )

    provinces = [
        i for i, a in enumerate(areas) if a.level is AreaLevel.PROVINCE and a.parent is None
    ]
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
                spans = ", ".join(period(areas[k]) for k in rows_of[area.parent])
                problems.append(
                    f"{where[i]}: parent {area.parent} does not exist on {day} although this "
                    f"{area.level.value} does (this area: {period(area)}; parent: {spans})"
                )
                break
            if not _parent_level_ok(area.level, parents[0].level):
                problems.append(
                    f"{where[i]}: parent {area.parent} is a {parents[0].level.value}; "
                    f"{PARENT_RULE[area.level]}"
                )
                break
            if area.level is AreaLevel.PROVINCE and parents[0].parent is not None:
                problems.append(
                    f"{where[i]}: parent {area.parent} is itself under {parents[0].parent}; "
                    f"{PARENT_RULE[area.level]}"
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
