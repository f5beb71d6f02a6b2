"""The province's language: one number and value format, one vocabulary, one alert summary.

The value formats were three (the engine's, the e-mails' and `ioc kpis`'); these are the
e-mails' — thousands separators, units, trailing zeros dropped, "không có dữ liệu" for None —
and the assertions of the three old tests live here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ioc.alerts.model import AlertState, Severity, TransitionKind
from ioc.areas import AreaLevel
from ioc.text import (
    LANGUAGES,
    LEVEL_LABELS,
    SEVERITY_LABELS,
    STATE_LABELS,
    TRANSITION_LABELS,
    alert_summary,
    check_language,
    format_number,
    format_value,
    no_data_name,
)

SINCE = datetime(2026, 11, 23, 1, 5, tzinfo=UTC)  # 08:05 in Hưng Yên
MIGRATIONS = Path(__file__).resolve().parents[2] / "ioc" / "db" / "migrations"


@pytest.mark.parametrize(
    ("number", "decimals", "vi", "en"),
    [
        (95.3, 1, "95,3", "95.3"),
        (80.0, 1, "80", "80"),
        (1234.5, 1, "1.234,5", "1,234.5"),
        (1_250_000, 0, "1.250.000", "1,250,000"),
        (-0.04, 1, "0", "0"),
    ],
)
def test_number_format(number: float, decimals: int, vi: str, en: str) -> None:
    assert format_number(number, decimals, "vi") == vi
    assert format_number(number, decimals, "en") == en


def test_fixed_decimals_keep_their_zeros() -> None:
    assert format_number(1.5, 2, fixed=True) == "1,50"
    assert format_number(-0.001, 2, "en", fixed=True) == "0.00"
    assert format_number(1234, 0, fixed=True) == "1.234"


def test_value_units() -> None:
    assert format_value(0.953, "percent") == "95,3 %"
    assert format_value(0.9534, "percent") == "95,3 %"
    assert format_value(0.953, "percent", "en") == "95.3%"
    assert format_value(0.8, "percent") == "80 %"
    assert format_value(0.9534, "ratio") == "0,953"
    assert format_value(4.25, "number") == "4,25"
    assert format_value(1234.5, "ms", "en") == "1,234.5 ms"
    assert format_value(None, "percent") == "không có dữ liệu"
    assert format_value(None, "percent", "en") == "no data"


def test_languages() -> None:
    assert LANGUAGES == ("vi", "en")
    assert check_language("en") == "en"
    with pytest.raises(ValueError, match="'vi' or 'en'"):
        check_language("fr")


def test_the_vocabulary_covers_every_stored_code_in_both_languages() -> None:
    covered = {
        "severity": ({s.value for s in Severity}, SEVERITY_LABELS),
        "state": ({s.value for s in AlertState}, STATE_LABELS),
        "kind": ({k.value for k in TransitionKind}, TRANSITION_LABELS),
        "level": ({lv.value for lv in AreaLevel}, LEVEL_LABELS),
    }
    for name, (codes, labels) in covered.items():
        for language in LANGUAGES:
            assert set(labels[language]) == codes, (name, language)
            assert all(word[0].isupper() for word in labels[language].values()), name


def test_the_vocabulary_matches_the_codes_the_database_allows() -> None:
    sql = (MIGRATIONS / "0004_alerts.sql").read_text(encoding="utf-8")
    columns = (("severity", SEVERITY_LABELS), ("state", STATE_LABELS), ("kind", TRANSITION_LABELS))
    for column, labels in columns:
        check = re.search(rf"{column}\s+text[^,]*CHECK \({column} IN \(([^)]*)\)\)", sql)
        assert check is not None, column
        assert set(re.findall(r"'(\w+)'", check.group(1))) == set(labels["vi"])


def test_the_alert_summary() -> None:
    args = ("Tỷ lệ điểm mạng chuyên dùng hoạt động", "Phường Phố Hiến", 0.0, 0.98, "percent")
    assert alert_summary(*args, SINCE) == (
        "Tỷ lệ điểm mạng chuyên dùng hoạt động tại Phường Phố Hiến: 0 % (mục tiêu 98 %), "
        "từ 08:05 23/11/2026"
    )
    assert alert_summary("Special network availability", *args[1:], SINCE, "en") == (
        "Special network availability in Phường Phố Hiến: 0% (target 98%), since 2026-11-23 08:05"
    )


def test_a_no_data_alert_is_summed_up_by_its_feed() -> None:
    assert no_data_name("camera") == "dữ liệu camera"
    assert no_data_name("camera", "en") == "camera data"
    assert alert_summary(no_data_name("dvc"), "Tỉnh Hưng Yên", None, None, "ratio", SINCE) == (
        "dữ liệu dvc tại Tỉnh Hưng Yên: không có dữ liệu, từ 08:05 23/11/2026"
    )


def test_the_board_names_states_and_severities_as_the_messages_do() -> None:
    """The board (TypeScript) and the e-mails, digest and CLI share one vocabulary."""
    source = (Path(__file__).parents[2] / "ioc/api/board/src/i18n.ts").read_text(encoding="utf-8")
    found = re.findall(r'"(alertState|severity)\.(\w+)": "([^"]+)"', source)
    board: dict[str, dict[tuple[str, str], str]] = {"vi": {}, "en": {}}
    for group, key, label in found:  # the Vietnamese table comes first, then the English one
        language = "vi" if (group, key) not in board["vi"] else "en"
        board[language][group, key] = label
    for language in LANGUAGES:
        assert board[language] == {
            **{("alertState", k): v for k, v in STATE_LABELS[language].items()},
            **{("severity", k): v for k, v in SEVERITY_LABELS[language].items()},
        }


def test_the_forecast_in_words_is_the_same_everywhere() -> None:
    from datetime import date

    from ioc.text import forecast_error_text, forecast_text

    deadline = date(2026, 12, 31)
    assert forecast_text("on_track", date(2026, 3, 1), deadline) == (
        "dự kiến đạt ngày 01/03/2026 — kịp hạn 31/12/2026"
    )
    assert forecast_text("flat", None, deadline) == (
        "không có ngày: xu hướng đi ngang — không kịp hạn 31/12/2026"
    )
    assert forecast_text("flat", None, None, "en") == "no date: flat trend"
    assert forecast_text("met", date(2026, 3, 1), deadline) == "ngày gần nhất đã đạt mục tiêu"
    assert forecast_text(None, None, None) == "không dự báo (chỉ tiêu chưa có mục tiêu)"
    assert forecast_error_text(0.004, "percent") == "sai số dự báo 1 ngày (MAE) ±0,4 điểm"
    assert forecast_error_text(None, "percent", "en") == "too few days to measure its error"
