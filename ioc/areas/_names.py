"""Finding areas by name the way people type them: any case, with or without diacritics."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Final

from ioc.areas._model import TYPE_PREFIXES_VI, Area, AreaLevel

__all__ = ["find", "fold"]

# Abbreviations people type in searches ("TP Hưng Yên", "TX. Mỹ Hào"), already folded.
_QUERY_ABBREVIATIONS: Final[dict[str, str]] = {
    "tp": "thanh pho",
    "tx": "thi xa",
    "tt": "thi tran",
}


def fold(text: str) -> str:
    """Fold text for tolerant comparison: no diacritics, lower case, words split by spaces."""
    # "đ" is a letter of its own, not "d" plus a mark, so NFD alone would keep it.
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]+", " ", bare.casefold()).strip()


_FOLDED_PREFIXES: Final[tuple[str, ...]] = tuple(fold(p) for p in TYPE_PREFIXES_VI)


def strip_folded_type(folded: str) -> str:
    """Drop a leading unit type ("huyen", "xa", ...) from an already folded name."""
    for prefix in _FOLDED_PREFIXES:
        if folded.startswith(prefix + " "):
            return folded[len(prefix) + 1 :]
    return folded


def find(pool: Sequence[Area], name_or_code: str) -> list[Area]:
    """Find areas of `pool` by code or name, ignoring case and diacritics.

    Args:
        pool: The areas to search.
        name_or_code: A code, an official name or a name without its unit type.

    Returns:
        The matches of the best kind found, as `AreaRegistry.find` describes.
    """
    query = name_or_code.strip()
    if not query:
        return []
    folded = fold(query)
    head, _, rest = folded.partition(" ")
    if head in _QUERY_ABBREVIATIONS and rest:
        folded = f"{_QUERY_ABBREVIATIONS[head]} {rest}"
    bare = strip_folded_type(folded)
    rank = {AreaLevel.PROVINCE: 0, AreaLevel.DISTRICT: 1, AreaLevel.COMMUNE: 2}
    tiers: tuple[list[Area], ...] = (
        [a for a in pool if a.code == query],
        [a for a in pool if fold(a.name_vi) == folded or (a.name_en and fold(a.name_en) == folded)],
        [a for a in pool if fold(a.short_name_vi) == bare],
    )
    for matches in tiers:
        if matches:
            return sorted(matches, key=lambda a: (rank[a.level], a.code, a.valid_from or date.min))
    return []
