"""The periodic indicators' catalogue: the shipped files, and every mistake named with its line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ioc.indicators import IndicatorFileError, catalogue_file_for, load_indicators
from ioc.indicators.files import Row, UploadError, parse_value, read_rows
from ioc.indicators.periods import latest_ended, parse_period, previous
from ioc.kpis.periods import PeriodError


@pytest.mark.parametrize("province", ["33", "31", "92", "01"])
def test_every_shipped_catalogue_loads_with_the_seeds_indicators(province: str) -> None:
    catalogue = load_indicators(province=province)
    assert {
        "shared_databases_connected",
        "staff_digital_skills",
        "documents_electronic",
        "work_files_online",
        "dti_rank",
        "digital_economy_grdp",
    } <= set(catalogue.ids)
    for indicator in catalogue:
        assert indicator.department in catalogue.departments
        if indicator.target is not None and indicator.target.estimate:
            assert indicator.target.note


def test_targets_follow_the_province_file() -> None:
    national = load_indicators(catalogue_file_for(None))
    hai_phong = load_indicators(province="31")
    # QĐ 942/QĐ-TTg: 60 % of a commune's work files online; Hải Dương's NQ 06-NQ/TU: 70 %.
    assert national.get("work_files_online").target_for("commune") == 0.6
    assert hai_phong.get("work_files_online").target_for("commune") == 0.7
    assert hai_phong.get("dti_rank").meets(12, "province") is True
    assert hai_phong.get("dti_rank").meets(16, "province") is False
    hung_yen = load_indicators(province="33")
    (result,) = hung_yen.get("staff_digital_skills").reported
    assert result.value == 0.4 and result.year == 2024 and "seed 000" in result.source
    assert hung_yen.get("staff_digital_skills").target is None  # no legal target found


def test_every_problem_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "indicators.yaml"
    path.write_text(
        """\
departments:
  - {id: so_khcn, name_vi: "Sở KH&CN", name_en: "DOST"}
indicators:
  - id: Bad-Id
    name_vi: "Một"
    name_en: "One"
    unit: percent
    direction: higher
    period: weekly
    department: so_khcn
    due_days: 10
    levels: [province]
  - id: two
    name_vi: "Hai"
    name_en: "Two"
    unit: percent
    direction: higher
    period: monthly
    department: so_xyz
    due_days: 10
    levels: [province]
    target: {value: 60, deadline: 2025-12-31, source: "QĐ 942/QĐ-TTg"}
  - id: three
    name_vi: "Ba"
    name_en: "Three"
    unit: percent
    direction: higher
    period: monthly
    department: so_khcn
    due_days: 10
    levels: [province]
    target: {value: 0.5, deadline: 2025-12-31, source: "QĐ 1/QĐ-TTg", estimate: true}
""",
        encoding="utf-8",
    )
    with pytest.raises(IndicatorFileError) as caught:
        load_indicators(path)
    problems = "\n".join(caught.value.problems)
    assert f"{path}:4: indicators[0].id" in problems and "not a valid id" in problems
    assert f"{path}:9: indicators[0].period" in problems
    assert f"{path}:22: indicators[1].target.value (id two)" in problems
    assert "write 0.6 if you meant 60 %" in problems
    assert f"{path}:19: indicators[1].department (id two): no department 'so_xyz'" in problems
    assert "indicators[2].target.note (id three): an estimated target needs a 'note'" in problems
    assert len(caught.value.problems) == 5


def test_an_overlay_names_only_indicators_its_base_has(tmp_path: Path) -> None:
    path = tmp_path / "indicators.yaml"
    path.write_text(
        "extends: national\nindicators:\n  - id: work_files_onlin\n    due_days: 5\n"
        "  - id: dti_rank\n    name_vi: x\n",
        encoding="utf-8",
    )
    with pytest.raises(IndicatorFileError) as caught:
        load_indicators(path)
    problems = "\n".join(caught.value.problems)
    assert (
        f"{path}:3: indicators[0].id" in problems and "did you mean 'work_files_online'" in problems
    )
    assert (
        f"{path}:6: indicators[1].name_vi (id dti_rank): a province file changes only" in problems
    )


def test_reporting_periods() -> None:
    assert latest_ended("monthly", date(2026, 1, 1)).label == "2025-12"
    assert latest_ended("quarterly", date(2026, 4, 1)).label == "2026-Q1"
    assert latest_ended("quarterly", date(2026, 3, 31)).label == "2025-Q4"
    assert latest_ended("yearly", date(2026, 12, 31)).label == "2025"
    assert previous(parse_period("quarterly", "2026-Q1")).label == "2025-Q4"
    with pytest.raises(PeriodError, match="is not a month"):
        parse_period("monthly", "2026-Q1")


@pytest.mark.parametrize(
    ("unit", "text", "expected"),
    [
        ("percent", "60", 0.6),
        ("percent", "60%", 0.6),
        ("percent", "92,5 %", 0.925),
        ("number", "1.234,5", 1234.5),
        ("number", "1,234.5", 1234.5),
        ("rank", "12", 12.0),
    ],
)
def test_values_as_people_write_them(unit: str, text: str, expected: float) -> None:
    assert parse_value(unit, Row(2, {"value": text}, text)) == pytest.approx(expected)


def test_a_semicolon_csv_from_vietnamese_excel_reads() -> None:
    rows, skipped = read_rows(
        b"indicator;area;period;value\nwork_files_online;33;2026-10;92,5\nx;33;2026;\n"
    )
    assert [r.cells["value"] for r in rows] == ["92,5"] and skipped == 1
    with pytest.raises(UploadError, match="missing column"):
        read_rows(b"a,b\n1,2\n")
