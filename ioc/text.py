"""The province's language: numbers and KPI values, the shared words, the one alert summary.

Every place that shows a KPI value, names a severity or state, or sums an alert up in one
line (e-mails and webhooks, the daily digest, the API and its board, `ioc kpis`, the Grafana
boards) takes it from here, so one alert reads the same wherever it is shown.

Numbers follow the reader's language: Vietnamese writes `95,3 %` and `1.234,5`, English
`95.3%` and `1,234.5`. Area names stay Vietnamese (with diacritics) in both languages.

Example:
    >>> from datetime import UTC, datetime
    >>> format_value(0.953, "percent"), format_value(0.953, "percent", "en")
    ('95,3 %', '95.3%')
    >>> alert_summary("Tỷ lệ hồ sơ trực tuyến", "Huyện Văn Lâm", 0.725, 0.8, "percent",
    ...               datetime(2024, 3, 1, 1, 0, tzinfo=UTC))
    'Tỷ lệ hồ sơ trực tuyến tại Huyện Văn Lâm: 72,5 % (mục tiêu 80 %), từ 08:00 01/03/2024'
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final, Literal, get_args

from ioc.localtime import to_local

__all__ = [
    "LANGUAGES",
    "LEVEL_LABELS",
    "QUIET_LABEL",
    "SEVERITY_LABELS",
    "STATE_LABELS",
    "TRANSITION_LABELS",
    "Language",
    "alert_summary",
    "check_language",
    "format_number",
    "format_value",
    "no_data_name",
]

Language = Literal["vi", "en"]
"""The languages the product writes in; Vietnamese is the default."""

LANGUAGES: Final[tuple[Language, ...]] = get_args(Language)

# The words for the codes stored in alerts.severity, alerts.state, alert_history.kind and
# areas.level (migrations 0001 and 0004), as labels (capitalised); mid-sentence, lower() them.
SEVERITY_LABELS: Final[Mapping[Language, Mapping[str, str]]] = {
    "vi": {"info": "Thông tin", "warning": "Cảnh báo", "critical": "Nghiêm trọng"},
    "en": {"info": "Info", "warning": "Warning", "critical": "Critical"},
}
STATE_LABELS: Final[Mapping[Language, Mapping[str, str]]] = {
    "vi": {
        "firing": "Đang cảnh báo",
        "acknowledged": "Đã tiếp nhận",
        "resolved": "Đã trở lại bình thường",
    },
    "en": {"firing": "Firing", "acknowledged": "Acknowledged", "resolved": "Resolved"},
}
TRANSITION_LABELS: Final[Mapping[Language, Mapping[str, str]]] = {
    "vi": {
        "fired": "Phát cảnh báo",
        "acknowledged": "Tiếp nhận",
        "escalated": "Chuyển cấp trên",
        "resolved": "Trở lại bình thường",
    },
    "en": {
        "fired": "Fired",
        "acknowledged": "Acknowledged",
        "escalated": "Escalated",
        "resolved": "Resolved",
    },
}
LEVEL_LABELS: Final[Mapping[Language, Mapping[str, str]]] = {
    "vi": {"province": "Tỉnh", "district": "Huyện", "commune": "Xã"},
    "en": {"province": "Province", "district": "District", "commune": "Commune"},
}

# A no-data rule's area whose feed is silent while it is expected to be (office hours and
# public holidays, ioc/data/feed_calendar.yaml): not an alert, and said so.
QUIET_LABEL: Final[Mapping[Language, str]] = {
    "vi": "Yên lặng như dự kiến",
    "en": "Quiet as expected",
}

_NO_DATA: Final[Mapping[Language, str]] = {"vi": "không có dữ liệu", "en": "no data"}
# Units shown as a bare number; any other unit is written after the number.
_BARE_UNITS: Final = frozenset({"", "ratio", "number", "count"})
_SUMMARY: Final[Mapping[Language, Mapping[str, str]]] = {
    "vi": {"in": "tại", "target": "mục tiêu", "since": "từ", "time": "%H:%M %d/%m/%Y"},
    "en": {"in": "in", "target": "target", "since": "since", "time": "%Y-%m-%d %H:%M"},
}


def check_language(language: str) -> Language:
    """Return ``language`` as a :data:`Language`.

    Raises:
        ValueError: it is neither ``vi`` nor ``en``.
    """
    for known in LANGUAGES:
        if language == known:
            return known
    raise ValueError(f"language must be 'vi' or 'en', got {language!r}")


def format_number(
    number: float, decimals: int, language: Language = "vi", *, fixed: bool = False
) -> str:
    """Format a number with the language's separators.

    Args:
        number: the number.
        decimals: at most this many decimals.
        language: ``vi`` writes ``1.234,5``; ``en`` writes ``1,234.5``.
        fixed: keep trailing zeros (``1,50``), for columns and rates of change.

    Returns:
        The formatted number, e.g. "95,3", "80", "1.234,5".
    """
    text = f"{number:,.{decimals}f}"
    if not fixed and "." in text:
        text = text.rstrip("0").rstrip(".")
    if text.lstrip("-").strip("0.,") == "":
        text = text.lstrip("-")  # no "-0" for a negative number that rounds to zero
    if language == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_value(value: float | None, unit: str, language: Language = "vi") -> str:
    """Show a KPI value in its unit: ``percent`` shows 0.953 as "95,3 %" (vi) or "95.3%" (en).

    Args:
        value: the value in KPI units (a ratio for ``percent``), or None.
        unit: the KPI unit (``percent``, ``ratio``, ``number`` as in the KPI catalogue); any
            other unit is written after the number.
        language: the reader's language.

    Returns:
        The text, or "không có dữ liệu" / "no data" when ``value`` is None.
    """
    if value is None:
        return _NO_DATA[language]
    if unit == "percent":
        number = format_number(value * 100, 1, language)
        return f"{number} %" if language == "vi" else f"{number}%"
    number = format_number(value, 3 if unit == "ratio" else 2, language)
    return number if unit in _BARE_UNITS else f"{number} {unit}"


def no_data_name(feed: str, language: Language = "vi") -> str:
    """What a no-data rule watches, in place of a KPI name: "dữ liệu camera"."""
    return f"dữ liệu {feed}" if language == "vi" else f"{feed} data"


def alert_summary(
    what: str,
    area_name: str,
    value: float | None,
    target: float | None,
    unit: str,
    since: datetime,
    language: Language = "vi",
) -> str:
    """The one line that sums an alert up, the same in the API, the board and the e-mails.

    What is wrong, where, the value (against the target), since when in local time. What
    happened to the alert (fired, acknowledged, …) is not part of it: the message's subject
    and the alert's state say that.

    Args:
        what: the KPI's name in ``language`` (or :func:`no_data_name` for a no-data rule).
        area_name: the area's Vietnamese name.
        value: the KPI value, or None (no data).
        target: the target it is compared with, or None.
        unit: the KPI unit.
        since: when the condition started to hold (aware).
        language: ``vi`` or ``en``.
    """
    words = _SUMMARY[language]
    text = f"{what} {words['in']} {area_name}: {format_value(value, unit, language)}"
    if target is not None:
        text += f" ({words['target']} {format_value(target, unit, language)})"
    return f"{text}, {words['since']} {to_local(since).strftime(words['time'])}"
