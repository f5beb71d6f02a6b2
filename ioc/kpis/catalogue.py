"""The KPI catalogue: what each indicator divides by what, and the target it is held to.

A KPI is a ratio of window sums: ``sum(numerator metric) / sum(denominator metric)`` over a
span of time and an area (see :mod:`ioc.kpis.measures` for the metric names). Because both sums
add up, a KPI rolls up from commune to district to province and from minutes to days exactly;
a KPI is never an average of per-area ratios.

A *distinct-count* KPI (``distinct: procedure_code``) is a ratio of counts of distinct values
instead: the procedures with at least one event carrying the numerator metric ÷ those with at
least one carrying the denominator metric, in the period and area. Distinct counts do not add
up (a procedure seen in two communes, or on two days, is one procedure), so these KPIs are
computed from the event store over each area and period (:mod:`ioc.kpis.values`).

The catalogue is data a province edits (``ioc/data/kpis.yaml`` is the national catalogue; its
header documents every field). :func:`load_kpis` checks it on load and reports every problem
at once, each as ``file:line: field: reason``. A province's own catalogue
(``ioc/data/provinces/<slug>/kpis.yaml``, found by :func:`catalogue_file_for`) ``extends`` the
national one and replaces the targets its own resolution sets and adds the results it reported.
A feed declaration (:mod:`ioc.feeds`) may bring KPIs of its own feed under ``kpis:``: they join
every catalogue after its own KPIs (the national one, a copy of it, and so every province file
that extends one), checked the same way, each problem at its line in the declaration; a
province file can set their targets like any other's.

Targets and reported results are kept apart. A :class:`Target` is what a KPI is held to: a
legal target has a deadline and names the document that sets it; a standing operational target
is marked ``slo: true``. A :class:`Reported` result is a figure published for an area and a
year or date; it is shown beside the live value and never judged. A target carrying a
result's fields (``year``, ``as_of``, ``area``) or citing a report of results is refused.

Typical use::

    kpis = load_kpis()                                  # the shipped catalogue
    kpi = kpis.get("dvc_online_dossier_rate")
    kpi.target_for("commune")                           # 0.8
    kpi.gap(0.72, "province")                           # 0.08: 8 points short
    [k.id for k in kpis.for_feed("payment")]
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ioc.areas import AreaLevel, chosen_province
from ioc.datafile import DataFileError, Document, item_label, parse, read_text
from ioc.feeds import event_kinds, feeds
from ioc.kpis.measures import METRICS

__all__ = [
    "DISTINCT_ENTITY",
    "PROVINCE_CATALOGUES",
    "Direction",
    "Kpi",
    "KpiCatalogue",
    "KpiFileError",
    "Reported",
    "Target",
    "Unit",
    "catalogue_file_for",
    "load_kpis",
]

Unit = Literal["percent", "ratio", "number"]
"""How a value reads: ``percent`` and ``ratio`` are fractions 0–1 (shown as 95,3 % or 0,953);
``number`` is any other ratio of sums (e.g. a mean score), with no bound on its target."""

Direction = Literal["higher", "lower"]
"""Which way is better: ``higher`` (coverage, success) or ``lower`` (failure, latency)."""

_FRACTION_UNITS: Final[frozenset[str]] = frozenset({"percent", "ratio"})
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS: Final[tuple[str, ...]] = ("kpis",)
_OVERLAY_KEYS: Final[tuple[str, ...]] = ("province", "extends", "kpis")
_OVERLAY_ITEM_KEYS: Final[tuple[str, ...]] = ("id", "target", "reported")

# A legal target names the document that sets it: a resolution, decision, plan, directive…
# with its number ("QĐ 942/QĐ-TTg", "NQ 06-NQ/TU Hải Dương", "Nghị quyết số 02-NQ/TU").
_DOCUMENT = re.compile(
    r"\b(QĐ|NQ|NĐ|KH|CT|TT|Quyết định|Nghị quyết|Nghị định|Kế hoạch|Chỉ thị|Thông tư)"
    r"\s*(số\s*)?\d+",
    re.IGNORECASE,
)
# Words of a report of what was achieved, not of what must be: such a figure is a result.
_RESULT_WORDS = re.compile(
    r"\b(kết quả thực hiện|báo cáo|đã đạt|đạt được|đến hết năm|reported|results?)\b",
    re.IGNORECASE,
)
_RESULT_KEYS: Final[tuple[str, ...]] = ("year", "as_of", "area")

PROVINCE_CATALOGUES: Final[dict[str, str]] = {
    "33": "hung-yen",
    "92": "can-tho",
    "31": "hai-phong",
}
"""Province code (GSO, after 1/7/2025) → folder of its catalogue under ``ioc/data/provinces``."""

DISTINCT_ENTITY: Final = "entity"
"""``distinct: entity`` counts the store's ``entity`` column (a camera, a network point, a
dossier, an agency's offering of a procedure: :func:`ioc.store.entity_of`)."""


def _payload_fields() -> dict[str, frozenset[str]]:
    """Each feed's payload field names (every kind of the feed), as the store keeps them."""
    out: dict[str, set[str]] = {}
    for kind in event_kinds().values():
        out.setdefault(kind.feed, set()).update(
            name for name in kind.model.model_fields if name != "kind"
        )
    return {feed: frozenset(names) for feed, names in out.items()}


_PAYLOAD_FIELDS: Final[dict[str, frozenset[str]]] = _payload_fields()


def _nfc(value: str) -> str:
    # Text pasted from Word or macOS is often decomposed (NFD): it looks the same but compares
    # unequal, which breaks searches, joins and alert de-duplication.
    value = unicodedata.normalize("NFC", value.strip())
    if not value:
        raise ValueError("must not be empty")
    return value


def _fraction_problems(unit: Any, target: Any) -> list[tuple[str, str]]:
    """Return (field under ``target``, reason) for each target outside 0–1 of a fraction KPI.

    Works on the raw mapping from the file as well as on a :class:`Target`, so the loader can
    report a bad value even when something else in the same target is wrong too.
    """
    if unit not in _FRACTION_UNITS:
        return []
    if isinstance(target, Target):
        values: dict[str, Any] = {"value": target.value}
        values |= {f"by_level.{lv.value}": v for lv, v in target.by_level.items()}
    elif isinstance(target, dict):
        values = {"value": target.get("value")}
        by_level = target.get("by_level")
        if isinstance(by_level, dict):
            values |= {f"by_level.{lv}": v for lv, v in by_level.items()}
    else:
        return []
    out: list[tuple[str, str]] = []
    for where, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or 0 <= value <= 1:
            continue
        hint = f"; write {value / 100:g} if you meant {value:g} %" if 1 < value <= 100 else ""
        out.append((where, f"{value:g} is outside 0–1, the range of a {unit} KPI{hint}"))
    return out


class Target(BaseModel):
    """What a KPI should reach, by when, and on whose authority.

    Attributes:
        value: The target for every level without its own entry in ``by_level``; a fraction
            0–1 for percent and ratio KPIs (0.8 means 80 %).
        deadline: The day it must be reached by; required unless ``slo``.
        source: The document that sets it, with its number, e.g. "QĐ 942/QĐ-TTg" or
            "NQ 06-NQ/TU Hải Dương"; for an operational target, who set it.
        slo: True for an operational target (service-level objective) the province sets
            itself, with no legal source and usually no deadline.
        by_level: Targets that differ per administrative level, e.g.
            ``{"province": 0.9, "district": 0.8, "commune": 0.7}``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: float
    deadline: date | None = None
    source: str
    slo: bool = False
    by_level: dict[AreaLevel, float] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _not_a_result(cls, data: Any) -> Any:
        # The mistake this catches: a figure a province *reported* (for a year, an area)
        # typed in as the figure it must *reach*.
        if isinstance(data, dict):
            keys = [k for k in _RESULT_KEYS if k in data]
            if keys:
                raise PydanticCustomError(
                    "reported_as_target",
                    "{reason}",
                    {
                        "reason": f"{', '.join(keys)} belong to a reported result, not to a "
                        "target: a figure published for an area and a year goes under "
                        "'reported:' (shown beside the live value, never judged)",
                        "at": keys[0],
                    },
                )
        return data

    @model_validator(mode="after")
    def _legal_or_slo(self) -> Target:
        if self.slo:
            return self
        if self.deadline is None:
            raise PydanticCustomError(
                "target_basis",
                "{reason}",
                {
                    "reason": "a legal target needs a deadline (YYYY-MM-DD); a standing "
                    "operational target the province sets itself is marked 'slo: true'",
                    "at": "deadline",
                },
            )
        if _RESULT_WORDS.search(self.source):
            raise PydanticCustomError(
                "reported_as_target",
                "{reason}",
                {
                    "reason": f"{self.source!r} reads as a report of results, not the "
                    "document that sets a target: file the figure under 'reported:'",
                    "at": "source",
                },
            )
        if not _DOCUMENT.search(self.source):
            raise PydanticCustomError(
                "target_basis",
                "{reason}",
                {
                    "reason": f"{self.source!r} does not name a document with its number "
                    "(e.g. 'QĐ 942/QĐ-TTg', 'NQ 06-NQ/TU Hải Dương'); a target without a "
                    "legal source is marked 'slo: true'",
                    "at": "source",
                },
            )
        return self

    @field_validator("source")
    @classmethod
    def _source_nfc(cls, value: str) -> str:
        return _nfc(value)

    @field_validator("by_level", mode="before")
    @classmethod
    def _known_levels(cls, value: Any) -> Any:
        if isinstance(value, dict):
            levels = [level.value for level in AreaLevel]
            for key in value:
                if key not in levels:
                    raise PydanticCustomError(
                        "unknown_level",
                        "{reason}",
                        {
                            "reason": f"unknown level {key!r} (allowed: {', '.join(levels)})",
                            "at": str(key),
                        },
                    )
        return value

    @field_validator("deadline", mode="before")
    @classmethod
    def _deadline_is_a_day(cls, value: Any) -> Any:
        # YAML reads 2025-12-31 as a date; anything else ("31/12/2025", 2025) is a typo.
        if value is None or isinstance(value, date):
            return value
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            return value.strip()
        raise ValueError(f"{value!r} is not a date: write it as YYYY-MM-DD, e.g. 2025-12-31")

    def for_level(self, level: AreaLevel | str) -> float:
        """Return the target of one administrative level.

        Args:
            level: "province", "district" or "commune".

        Returns:
            ``by_level[level]`` when given, else ``value``.
        """
        return self.by_level.get(AreaLevel(level), self.value)


class Reported(BaseModel):
    """A result published for the KPI: what an area reached, when, and who said so.

    A reported result is not a target: nothing is judged against it (no gap, no alert). It
    is shown beside the live value, e.g. Hưng Yên's 88,2 % of online services with at least
    one online dossier at the end of 2024.

    Attributes:
        value: The reported figure; a fraction 0–1 for percent and ratio KPIs.
        year: The year the figure covers (give this or ``as_of``).
        as_of: The day the figure stands at (give this or ``year``).
        area: Who it was reported for, e.g. "tỉnh Hưng Yên".
        source: Where it was published, precise enough to find the sentence.
        estimate: True when a field (usually the year) is inferred, not printed in the source.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: float
    year: int | None = Field(default=None, ge=1990, le=2100)
    as_of: date | None = None
    area: str
    source: str
    estimate: bool = False

    @field_validator("area", "source")
    @classmethod
    def _text_nfc(cls, value: str) -> str:
        return _nfc(value)

    @model_validator(mode="after")
    def _dated(self) -> Reported:
        if self.year is None and self.as_of is None:
            raise PydanticCustomError(
                "reported_date",
                "{reason}",
                {"reason": "a reported result needs its 'year' or its day 'as_of'", "at": "year"},
            )
        if self.year is not None and self.as_of is not None and self.as_of.year != self.year:
            raise PydanticCustomError(
                "reported_date",
                "{reason}",
                {"reason": f"as_of {self.as_of} is not in year {self.year}", "at": "as_of"},
            )
        return self

    @property
    def period(self) -> str:
        """The day (dd/mm/yyyy) or the year the figure covers, as shown to people."""
        return f"{self.as_of:%d/%m/%Y}" if self.as_of is not None else str(self.year)


def _reported_in_range(value: Reported, info: ValidationInfo) -> Reported:
    """A reported figure of a percent or ratio KPI is a fraction 0–1, like its target."""
    unit = info.data.get("unit")
    if unit in _FRACTION_UNITS and not 0 <= value.value <= 1:
        hint = (
            f"; write {value.value / 100:g} if you meant {value.value:g} %"
            if 1 < value.value <= 100
            else ""
        )
        raise PydanticCustomError(
            "target_range",
            "{reason}",
            {
                "reason": f"{value.value:g} is outside 0–1, the range of a {unit} KPI{hint}",
                "at": "value",
            },
        )
    return value


class Kpi(BaseModel):
    """One indicator: a ratio of two window sums, its unit, direction and target.

    Attributes:
        id: Stable identifier (lower-case slug); alert rules and boards refer to it.
        name_vi: Vietnamese name with diacritics, stored in Unicode NFC.
        name_en: English name.
        feed: The feed its metrics come from ("dvc", "payment", "network", "camera").
        numerator: Metric summed above the line, e.g. "dvc.received_online"; for a
            distinct-count KPI, the metric the counted events carry.
        denominator: Metric summed below the line, e.g. "dvc.received"; for a distinct-count
            KPI, likewise.
        distinct: None for a ratio of sums. Otherwise what is counted once: a payload field
            of the feed (``procedure_code``, read as ``payload->>'procedure_code'``) or
            :data:`DISTINCT_ENTITY` for the store's entity column. The value is then
            (distinct values among events carrying the numerator metric) ÷ (those among
            events carrying the denominator metric) in the period and area.
        unit: How the value reads (:data:`Unit`).
        direction: Which way is better (:data:`Direction`).
        target: The target, or None when none is set (the KPI is shown, never judged).
        reported: Results published for the KPI, shown beside it, never judged against.
        description_vi: What it measures, in Vietnamese.
        description_en: What it measures, in English.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name_vi: str
    name_en: str
    feed: str
    numerator: str
    denominator: str
    distinct: str | None = None
    unit: Unit
    direction: Direction
    target: Target | None = None
    reported: tuple[Annotated[Reported, AfterValidator(_reported_in_range)], ...] = ()
    description_vi: str | None = None
    description_en: str | None = None

    @field_validator("id")
    @classmethod
    def _id_is_a_slug(cls, value: str) -> str:
        if not _ID.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a valid id: use lower-case letters, digits and '_', "
                "starting with a letter, e.g. dvc_online_dossier_rate"
            )
        return value

    @field_validator("name_vi", "name_en", "description_vi", "description_en")
    @classmethod
    def _text_nfc(cls, value: str | None) -> str | None:
        return None if value is None else _nfc(value)

    @field_validator("numerator", "denominator")
    @classmethod
    def _known_metric(cls, value: str, info: ValidationInfo) -> str:
        if value not in METRICS:
            close = difflib.get_close_matches(value, list(METRICS), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValueError(
                f"unknown metric {value!r}{hint} (the metrics are listed in ioc/kpis/measures.py)"
            )
        feed = info.data.get("feed")
        if feed is not None and value.split(".", 1)[0] != feed:
            raise ValueError(f"metric {value!r} does not come from feed {feed!r}")
        if info.field_name == "denominator" and value == info.data.get("numerator"):
            raise ValueError(f"the denominator must differ from the numerator ({value!r})")
        return value

    @field_validator("distinct")
    @classmethod
    def _countable(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or value == DISTINCT_ENTITY:
            return value
        feed = info.data.get("feed")
        fields = _PAYLOAD_FIELDS.get(feed, frozenset()) if isinstance(feed, str) else frozenset()
        if value not in fields:
            close = difflib.get_close_matches(value, sorted(fields), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            known = ", ".join(sorted(fields)) if fields else "none: the feed is unknown"
            raise ValueError(
                f"{value!r} is neither {DISTINCT_ENTITY!r} nor a payload field of feed "
                f"{feed!r}{hint} (its fields: {known})"
            )
        return value

    @field_validator("target")
    @classmethod
    def _target_in_range(cls, value: Target | None, info: ValidationInfo) -> Target | None:
        problems = _fraction_problems(info.data.get("unit"), value)
        if problems:
            # One error per validator call: the loader reports the others from the raw file.
            where, reason = problems[0]
            raise PydanticCustomError("target_range", "{reason}", {"reason": reason, "at": where})
        return value

    @property
    def formula(self) -> str:
        """The ratio as text, e.g. ``"dvc.received_online / dvc.received"``.

        A distinct-count KPI says what it counts first:
        ``"distinct procedure_code: dvc.received_online / dvc.services_online"``.
        """
        ratio = f"{self.numerator} / {self.denominator}"
        return ratio if self.distinct is None else f"distinct {self.distinct}: {ratio}"

    def target_for(self, level: AreaLevel | str) -> float | None:
        """Return the target an area of one level is held to.

        Args:
            level: "province", "district" or "commune".

        Returns:
            The level's own target, else the general one; None when the KPI has no target.
        """
        return None if self.target is None else self.target.for_level(level)

    def gap(self, value: float | None, level: AreaLevel | str) -> float | None:
        """Return how far a value falls short of the level's target, in the KPI's units.

        The sign is the same for both directions: **positive = short of the target** (worse
        than it), 0 = exactly on it, negative = better than it by that much. For a ``higher``
        KPI that is ``target - value``; for a ``lower`` KPI ``value - target``. For percent
        KPIs 0.05 means 5 percentage points.

        Args:
            value: The KPI's value; None when there is no data.
            level: The level of the area the value belongs to.

        Returns:
            The gap, or None when there is no value or no target.
        """
        target = self.target_for(level)
        if value is None or target is None:
            return None
        return target - value if self.direction == "higher" else value - target

    def meets(self, value: float | None, level: AreaLevel | str) -> bool:
        """Tell whether a value reaches the level's target.

        Args:
            value: The KPI's value; None (no data) never meets a target.
            level: The level of the area the value belongs to.

        Returns:
            True when the gap is 0 or less, or when the KPI has no target (nothing to miss).
        """
        if self.target_for(level) is None:
            return True
        gap = self.gap(value, level)
        return gap is not None and gap <= 0


class KpiFileError(DataFileError):
    """A KPI catalogue that cannot be used, with every problem found."""


class KpiCatalogue:
    """The KPIs of a province, in file order, looked up by id or feed."""

    def __init__(
        self,
        kpis: Iterable[Kpi],
        *,
        source: str | Path | None = None,
        lines: Sequence[int | None] | None = None,
    ) -> None:
        """Build a catalogue, checking that ids are unique.

        Args:
            kpis: The KPIs, in the order to show them.
            source: Path of the file they come from, used in error messages.
            lines: Line of each KPI in the file, used in error messages.

        Raises:
            KpiFileError: If two KPIs share an id.
        """
        self._kpis: tuple[Kpi, ...] = tuple(kpis)
        self._source = str(source) if source is not None else "<kpis>"
        problems = _duplicate_ids(self._source, self._kpis, list(range(len(self._kpis))), lines)
        if problems:
            raise KpiFileError(self._source, problems)
        self._by_id = {k.id: k for k in self._kpis}

    def __iter__(self) -> Iterator[Kpi]:
        return iter(self._kpis)

    def __len__(self) -> int:
        return len(self._kpis)

    def __contains__(self, kpi_id: object) -> bool:
        return kpi_id in self._by_id

    def __repr__(self) -> str:
        return f"KpiCatalogue({len(self._kpis)} KPIs from {self._source!r})"

    @property
    def source(self) -> str:
        """Path of the file the KPIs come from, or a label for a catalogue built in memory."""
        return self._source

    @property
    def ids(self) -> list[str]:
        """Every KPI id, in catalogue order."""
        return [k.id for k in self._kpis]

    def get(self, kpi_id: str) -> Kpi:
        """Return the KPI with this id.

        Args:
            kpi_id: The KPI's id.

        Returns:
            The KPI.

        Raises:
            KeyError: If no KPI has that id; the message lists the ids there are.
        """
        kpi = self._by_id.get(kpi_id)
        if kpi is None:
            close = difflib.get_close_matches(kpi_id, self.ids, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise KeyError(
                f"no KPI {kpi_id!r} in {self._source}.{hint} Known KPIs: {', '.join(self.ids)}"
            )
        return kpi

    def for_feed(self, feed: str) -> list[Kpi]:
        """Return the KPIs computed from one feed's metrics.

        Args:
            feed: "dvc", "payment", "network", "camera", ...

        Returns:
            Those KPIs in catalogue order; empty for a feed without KPIs.
        """
        return [k for k in self._kpis if k.feed == feed]


def _duplicate_ids(
    source: str,
    kpis: Sequence[Kpi],
    indices: Sequence[int],
    lines: Sequence[int | None] | None,
) -> list[str]:
    problems: list[str] = []
    first: dict[str, int] = {}
    for pos, kpi in enumerate(kpis):
        line = lines[pos] if lines is not None and pos < len(lines) else None
        if kpi.id in first:
            earlier = first[kpi.id]
            where = f"{source}:{line}" if line is not None else source
            problems.append(
                f"{where}: kpis[{indices[pos]}].id: duplicate id {kpi.id!r}, already used by "
                f"kpis[{indices[earlier]}]; every KPI needs its own id"
            )
        else:
            first[kpi.id] = pos
    return problems


# --- reading the file ------------------------------------------------------------------------


def catalogue_file_for(province_code: str | None) -> Path:
    """Return the KPI catalogue file of a province.

    Args:
        province_code: The province's GSO code after 1/7/2025 (e.g. "33" Hưng Yên, "92" Cần
            Thơ, "31" Hải Phòng); None for no province.

    Returns:
        ``ioc/data/provinces/<slug>/kpis.yaml`` for a province that has one (see
        :data:`PROVINCE_CATALOGUES`), else the national catalogue ``ioc/data/kpis.yaml``.
    """
    data = Path(str(resources.files("ioc").joinpath("data")))
    slug = PROVINCE_CATALOGUES.get(province_code or "")
    if slug is None:
        return data / "kpis.yaml"
    return data / "provinces" / slug / "kpis.yaml"


def load_kpis(path: Path | str | None = None, *, province: str | None = None) -> KpiCatalogue:
    """Read a KPI catalogue file and return it checked.

    The file is YAML in UTF-8 with one top-level key, ``kpis:``, a list of KPIs; the header
    of the shipped ``ioc/data/kpis.yaml`` documents every field for the people who edit it.
    A province's file may instead say ``extends: national`` (or a path relative to itself)
    and list, under ``kpis:``, only ``id`` with the ``target`` that replaces the base's
    (``target: null`` removes it) and the ``reported`` results added to the base's. A
    catalogue ends with the KPIs of the feed declarations (``kpis:``).

    Args:
        path: The file; None reads the catalogue shipped for the province
            (:func:`catalogue_file_for`), the national one for a province without its own.
        province: Code or name of the province when ``path`` is None; None reads the
            ``IOC_PROVINCE`` setting (Hưng Yên when unset).

    Returns:
        The catalogue, in file order (the base's order for a file that extends another).

    Raises:
        KpiFileError: If the file cannot be read or parsed, or breaks any rule: an id used
            twice or not a slug, an unknown metric, numerator equal to denominator, a target
            or reported value outside 0–1 for a percent or ratio KPI, a deadline that is not a
            date, a legal target without a deadline or without a numbered document, a
            reported result filed as a target, a ``distinct`` that is neither ``entity`` nor a
            payload field of the feed, an unknown unit, direction, level or key, an overlay
            naming a KPI its base lacks. The message lists every problem, each as
            ``file:line: field: reason``.
    """
    if path is None:
        path = catalogue_file_for(chosen_province(province))
    file = Path(path)
    source = str(file)
    doc = parse(
        source,
        read_text(file, KpiFileError),
        label=item_label("kpis", "id"),
        error=KpiFileError,
    )
    raw = doc.data
    if not isinstance(raw, dict):
        raise KpiFileError(source, [f"{source}: expected 'kpis:' at the top of the file"])
    if "extends" in raw:
        return _load_overlay(doc, Path(str(file)))
    problems = doc.repeated()
    for key in raw:
        if key not in _TOP_KEYS:
            problems.append(doc.problem([str(key)], "unknown top-level key (expected 'kpis')"))

    items = raw.get("kpis")
    if not isinstance(items, list) or not items:
        problems.append(doc.problem(["kpis"], "must be a non-empty list of KPIs"))
        items = []

    parsed: list[Kpi] = []
    first_use: dict[str, int] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(
                doc.problem(["kpis", i], f"expected 'field: value' lines, got {item!r}")
            )
            continue
        kpi_id = item.get("id")
        if isinstance(kpi_id, str):
            # Checked on the raw ids, so a duplicate is found even if either KPI has errors.
            if kpi_id in first_use:
                problems.append(
                    doc.problem(
                        ["kpis", i, "id"],
                        f"duplicate id {kpi_id!r}, already used by kpis[{first_use[kpi_id]}]; "
                        "every KPI needs its own id",
                    )
                )
            else:
                first_use[kpi_id] = i
        kpi, found = _check(doc, item, i)
        if kpi is not None:
            parsed.append(kpi)
        problems += found

    declared, found = _declared({kpi_id: source for kpi_id in first_use})
    problems += found
    if problems:
        raise KpiFileError(source, problems)
    return KpiCatalogue([*parsed, *declared], source=source)


def _check(doc: Document, item: dict[str, Any], i: int) -> tuple[Kpi | None, list[str]]:
    """One KPI of the list ``kpis`` of `doc`: the KPI, or every problem with it."""
    kpi, found = doc.validate(Kpi, item, ["kpis", i])
    if kpi is not None:
        return kpi, []
    # A target whose deadline (say) is wrong never reaches the range check: do it here.
    for where, reason in _fraction_problems(item.get("unit"), item.get("target")):
        extra = doc.problem(["kpis", i, "target", *where.split(".")], reason)
        if extra not in found:
            found.append(extra)
    return None, found


def _declared(taken: dict[str, str]) -> tuple[list[Kpi], list[str]]:
    """The KPIs feed declarations bring (``kpis:`` of :func:`ioc.feeds.feeds`), in feed order.

    Each is checked as a catalogue's KPI is, its ``feed`` defaulting to the declaration's own
    (another feed is refused); a problem names its line in the declaration.

    Args:
        taken: KPI ids already used, with the file that uses each.
    """
    out: list[Kpi] = []
    problems: list[str] = []
    for f in feeds():
        if not f.kpis:
            continue
        doc = parse(
            f.source,
            read_text(f.source, KpiFileError),
            label=item_label("kpis", "id"),
            error=KpiFileError,
        )
        for i, written in enumerate(f.kpis):
            item = {"feed": f.feed, **written}
            kpi_id = item.get("id")
            if item["feed"] != f.feed:
                reason = f"a declaration's KPIs are of its own feed: write {f.feed!r} or omit it"
                problems.append(doc.problem(["kpis", i, "feed"], reason))
                continue
            if isinstance(kpi_id, str) and kpi_id in taken:
                reason = f"id {kpi_id!r} is used in {taken[kpi_id]} too; every KPI needs its own id"
                problems.append(doc.problem(["kpis", i, "id"], reason))
                continue
            kpi, found = _check(doc, item, i)
            problems += found
            if kpi is not None:
                taken[kpi.id] = f.source
                out.append(kpi)
    return out, problems


def _load_overlay(doc: Document, file: Path) -> KpiCatalogue:
    """A province's file that ``extends`` a base catalogue: its targets and results on top."""
    raw = doc.data
    source = doc.source
    problems = doc.repeated()
    for key in raw:
        if key not in _OVERLAY_KEYS:
            problems.append(
                doc.problem(
                    [str(key)], f"unknown top-level key (expected {', '.join(_OVERLAY_KEYS)})"
                )
            )
    province = raw.get("province")
    if province is not None and not (
        isinstance(province, dict)
        and isinstance(province.get("code"), str)
        and isinstance(province.get("name_vi"), str)
    ):
        problems.append(
            doc.problem(
                ["province"],
                'write {code: "33", name_vi: "Tỉnh Hưng Yên"}: the GSO code in quotes and the name',
            )
        )
    extends = raw.get("extends")
    if extends == "national":
        base_path = catalogue_file_for(None)
    elif isinstance(extends, str) and extends.strip():
        base_path = (file.parent / extends).resolve()
        if base_path == file.resolve():
            raise KpiFileError(source, [doc.problem(["extends"], "a file cannot extend itself")])
    else:
        raise KpiFileError(
            source,
            [doc.problem(["extends"], "write 'national' or the path of the base catalogue")],
        )
    base = load_kpis(base_path)
    items = raw.get("kpis") or []
    if not isinstance(items, list):
        problems.append(doc.problem(["kpis"], "must be a list of {id, target, reported}"))
        items = []
    changes: dict[str, Kpi] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(
                doc.problem(["kpis", i], f"expected 'field: value' lines, got {item!r}")
            )
            continue
        for key in item:
            if key not in _OVERLAY_ITEM_KEYS:
                problems.append(
                    doc.problem(
                        ["kpis", i, str(key)],
                        "a province file only sets 'target' and adds 'reported' results; "
                        "other fields are the base catalogue's",
                    )
                )
        kpi_id = item.get("id")
        if not isinstance(kpi_id, str) or kpi_id not in base:
            close = difflib.get_close_matches(str(kpi_id), base.ids, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(
                doc.problem(["kpis", i, "id"], f"no KPI {kpi_id!r} in {base.source}{hint}")
            )
            continue
        if kpi_id in changes:
            problems.append(doc.problem(["kpis", i, "id"], f"{kpi_id!r} is listed twice"))
            continue
        merged = base.get(kpi_id).model_dump(mode="json", exclude_defaults=True)
        if "target" in item:
            merged["target"] = item["target"]
            if item["target"] is None:
                merged.pop("target")
        if item.get("reported") is not None:
            # The base's results after the file's own, so a problem's index is the file's.
            added = item["reported"] if isinstance(item["reported"], list) else [item["reported"]]
            merged["reported"] = [*added, *merged.get("reported", ())]
        kpi, found = doc.validate(Kpi, merged, ["kpis", i])
        if kpi is None:
            # Paths under target/reported are the overlay's; others cannot be wrong here.
            problems += found
            continue
        changes[kpi_id] = kpi
    if problems:
        raise KpiFileError(source, problems)
    return KpiCatalogue([changes.get(k.id, k) for k in base], source=source)
