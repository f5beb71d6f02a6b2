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
from datetime import date, datetime
from typing import Final, Literal, get_args

from ioc.localtime import to_local

__all__ = [
    "FORECAST_LABELS",
    "LANGUAGES",
    "LEVEL_LABELS",
    "QUIET_LABEL",
    "SEVERITY_LABELS",
    "STATE_LABELS",
    "TRANSITION_LABELS",
    "Language",
    "alert_summary",
    "check_language",
    "forecast_error_text",
    "forecast_text",
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

# What each ioc.kpis.forecast.ForecastStatus means: `ioc kpis show`, the reports, the API, the
# board, the digest and the Grafana forecast panel all say it with these words.
FORECAST_LABELS: Final[Mapping[Language, Mapping[str, str]]] = {
    "vi": {
        "met": "ngày gần nhất đã đạt mục tiêu",
        "on_track": "dự kiến đạt",
        "moving_away": "không đạt: xu hướng đi xa mục tiêu",
        "flat": "không có ngày: xu hướng đi ngang",
        "beyond_horizon": "không đạt trong 10 năm với xu hướng hiện tại",
        "too_few_days": "chưa đủ số ngày để dự báo",
    },
    "en": {
        "met": "the latest day meets the target",
        "on_track": "expected to meet it",
        "moving_away": "not met: the trend moves away from the target",
        "flat": "no date: flat trend",
        "beyond_horizon": "not met within 10 years at the current trend",
        "too_few_days": "too few days to forecast",
    },
}
_FORECAST_WORDS: Final[Mapping[Language, Mapping[str, str]]] = {
    "vi": {
        "none": "không dự báo (chỉ tiêu chưa có mục tiêu)",
        "on": "ngày",
        "date": "%d/%m/%Y",
        "late": "không kịp hạn",
        "in_time": "kịp hạn",
        "error": "sai số dự báo 1 ngày (MAE)",
        "no_error": "chưa đủ ngày để đo sai số",
        "points": "điểm",
    },
    "en": {
        "none": "no forecast (the KPI has no target)",
        "on": "on",
        "date": "%Y-%m-%d",
        "late": "misses the deadline",
        "in_time": "meets the deadline",
        "error": "one-day forecast error (MAE)",
        "no_error": "too few days to measure its error",
        "points": "points",
    },
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


def forecast_text(
    status: str | None,
    reach_date: date | None,
    deadline: date | None,
    language: Language = "vi",
) -> str:
    """The forecast of a KPI in one line: what the trend says, its date, and the deadline.

    Args:
        status: The forecast's status (:data:`ioc.kpis.forecast.ForecastStatus`); None when
            the KPI has no target, so nothing is forecast.
        reach_date: The day the trend meets the target (None: no date).
        deadline: The target's deadline, if it has one.
        language: ``vi`` or ``en``.

    Returns:
        E.g. "dự kiến đạt ngày 16/01/2026 — kịp hạn 31/12/2026", or
        "không có ngày: xu hướng đi ngang — không kịp hạn 31/12/2026".
    """
    words = _FORECAST_WORDS[language]
    if status is None:
        return words["none"]
    text = FORECAST_LABELS[language][status]
    if reach_date is not None and status != "met":
        text += f" {words['on']} {reach_date.strftime(words['date'])}"
    if deadline is not None and status != "met":
        late = reach_date is None or reach_date > deadline
        text += f" — {words['late' if late else 'in_time']} {deadline.strftime(words['date'])}"
    return text


def forecast_error_text(mae: float | None, unit: str, language: Language = "vi") -> str:
    """How far the forecast's model has been off (its backtest MAE), in the KPI's unit.

    A percent KPI's error is in percentage points: "sai số dự báo 1 ngày (MAE) ±0,4 điểm".
    """
    words = _FORECAST_WORDS[language]
    if mae is None:
        return words["no_error"]
    if unit == "percent":
        amount = f"{format_number(mae * 100, 1, language)} {words['points']}"
    else:
        amount = format_value(mae, unit, language)
    return f"{words['error']} ±{amount}"
