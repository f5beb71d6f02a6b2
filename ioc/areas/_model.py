"""The rows of an area file: an administrative area over a period, and the file's header."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from enum import StrEnum
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ioc.datafile import DataFileError

__all__ = [
    "PARENT_RULE",
    "TYPE_PREFIXES_VI",
    "Area",
    "AreaFileError",
    "AreaFileMeta",
    "AreaLevel",
    "Shape",
    "WeightBasis",
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

PARENT_RULE: Final[dict[AreaLevel, str]] = {
    AreaLevel.PROVINCE: (
        "a province has no parent, except one merged into another: until the merger it may "
        "hang under the province whose code the merged province kept"
    ),
    AreaLevel.DISTRICT: "a district's parent must be the province",
    AreaLevel.COMMUNE: (
        "a commune's parent must be a district (three-tier shape, before 2025-07-01) "
        "or the province (two-tier shape)"
    ),
}

# Unit types that open an official name, longest first so "Thị trấn" wins over "Thị".
TYPE_PREFIXES_VI: Final[tuple[str, ...]] = (
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
        lat: Latitude of a point inside the area (WGS 84 degrees), for the map; None if unknown.
        lon: Longitude of that point.
        bounds: The area's bounding box ``[west, south, east, north]`` in WGS 84 degrees.
        estimated: True when ``population`` / ``households`` are estimates rather than
            published statistics, so that screens can say so.
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
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    bounds: tuple[float, float, float, float] | None = None
    estimated: bool = False

    @field_validator("bounds")
    @classmethod
    def _bounds_ordered(
        cls, value: tuple[float, float, float, float] | None
    ) -> tuple[float, float, float, float] | None:
        if value is not None:
            west, south, east, north = value
            if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
                raise ValueError(f"must be [west, south, east, north] in degrees: {list(value)}")
        return value

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
        if self.level is AreaLevel.PROVINCE and self.parent is not None and self.valid_to is None:
            raise ValueError(f"{PARENT_RULE[AreaLevel.PROVINCE]}; remove parent {self.parent!r}")
        if self.level is not AreaLevel.PROVINCE and self.parent is None:
            raise ValueError(f"a {self.level.value} needs a parent: {PARENT_RULE[self.level]}")
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
        for prefix in TYPE_PREFIXES_VI:
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


class AreaFileError(DataFileError):
    """An area file (or list of areas) that cannot be used, with every problem found.

    Each problem names the area by its path and code, so a clerk can fix them all in one pass.
    """
