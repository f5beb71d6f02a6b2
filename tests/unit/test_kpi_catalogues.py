"""The shipped catalogues are honest: targets with deadlines and legal sources, results apart.

Every shipped catalogue (the national one and each province's) is checked: a target has a
deadline and names the document that sets it, or is marked as an operational SLO; a figure a
province *reported* is never filed as a target. Then the corrections of the review
(reviews/mission.md §3a), each checked against the file, and the model's refusals.
"""

from __future__ import annotations

import re
import textwrap
from datetime import date
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ioc.alerts.rules import load_rules
from ioc.kpis import (
    PROVINCE_CATALOGUES,
    KpiCatalogue,
    KpiFileError,
    Reported,
    Target,
    catalogue_file_for,
    load_kpis,
)
from ioc.kpis.cli import app
from ioc.notify.routing import load_recipients

DATA = Path(__file__).resolve().parents[2] / "ioc" / "data"
CATALOGUES = [None, *PROVINCE_CATALOGUES]
# A document with its number: QĐ 942/QĐ-TTg, NQ 06-NQ/TU Hải Dương, QĐ 36/QĐ-TTg …
NUMBERED = re.compile(r"\b(QĐ|NQ|NĐ|KH|CT|TT)\s*\d+[-/]")
# Hưng Yên's results "đến hết năm 2024" (seed 000 line 8), which were once filed as targets.
HUNG_YEN_2024 = {
    "dvc_online_services": 1.0,
    "dvc_services_with_online_dossiers": 0.882,
    "dvc_fee_services_online_payment": 1.0,
    "network_broadband_households": 0.90,
}


def catalogue(code: str | None) -> KpiCatalogue:
    return load_kpis(catalogue_file_for(code))


@pytest.mark.parametrize("code", CATALOGUES)
def test_every_target_has_a_deadline_and_a_legal_source_or_is_an_slo(code: str | None) -> None:
    kpis = catalogue(code)
    for kpi in kpis:
        target = kpi.target
        if target is None:
            continue
        if target.slo:
            assert "do tỉnh đặt" in target.source, (kpi.id, target.source)  # who set it
            continue
        assert target.deadline is not None, kpi.id
        assert NUMBERED.search(target.source), (kpi.id, target.source)


@pytest.mark.parametrize("code", CATALOGUES)
def test_no_reported_result_is_filed_as_a_target(code: str | None) -> None:
    for kpi in catalogue(code):
        for result in kpi.reported:
            assert result.year is not None or result.as_of is not None
            target = kpi.target
            # The same figure for the same year as its own deadline: a result typed as a target.
            if target is not None and target.deadline is not None:
                year = result.as_of.year if result.as_of is not None else result.year
                assert (target.value, target.deadline.year) != (result.value, year), kpi.id
        target = kpi.target
        if target is not None:
            assert "Hưng Yên" not in target.source, (kpi.id, target.source)
            assert not re.search(r"báo cáo|kết quả thực hiện|đến hết năm", target.source, re.I)


def test_hung_yen_2024_results_are_results_not_targets() -> None:
    kpis = catalogue("33")
    for kpi_id, value in HUNG_YEN_2024.items():
        kpi = kpis.get(kpi_id)
        assert [(r.value, r.area) for r in kpi.reported] == [(value, "tỉnh Hưng Yên")]
        assert kpi.reported[0].period in ("2024", "31/12/2024")
        assert kpi.target is None or "Hưng Yên" not in kpi.target.source
    # The national catalogue is nobody's report.
    assert all(not kpi.reported for kpi in catalogue(None))


def test_any_level_online_provision_is_its_own_kpi() -> None:
    # "100% TTHC đủ điều kiện … mức độ 3, mức độ 4": partial or full, i.e. any level.
    kpi = catalogue(None).get("dvc_online_services")
    assert (kpi.numerator, kpi.denominator, kpi.distinct) == (
        "dvc.services_online",
        "dvc.services",
        None,
    )
    full = catalogue(None).get("dvc_full_online_services")
    assert full.target is not None and full.target.source.startswith("QĐ 942/QĐ-TTg")
    assert full.target.deadline == date(2025, 12, 31)


def test_qd_942_80_percent_is_on_the_full_process_dossier_share() -> None:
    kpis = catalogue(None)
    full = kpis.get("dvc_full_online_dossier_rate")
    assert full.target is not None
    assert (full.target.value, full.target.deadline) == (0.8, date(2025, 12, 31))
    assert full.target.source.startswith("QĐ 942/QĐ-TTg")
    assert kpis.get("dvc_online_dossier_rate").target is None


def test_special_network_uptime_is_one_slo_for_the_tile_and_the_rule() -> None:
    for code in CATALOGUES:
        kpi = catalogue(code).get("network_special_availability")
        assert kpi.target is not None and kpi.target.slo and kpi.target.deadline is None
        assert kpi.target.value == 0.98
    rule = next(r for r in load_rules().rules if r.id == "network_special_down")
    # A target rule judges against the catalogue's figure: the tile and the alert agree.
    assert (rule.kind, rule.kpi, rule.margin) == ("target", "network_special_availability", 0.0)


def test_fibre_5g_and_online_payment_targets_have_their_sources() -> None:
    kpis = catalogue(None)
    fibre = kpis.get("network_fibre_households").target
    assert fibre is not None and fibre.value == 1.0 and fibre.deadline == date(2025, 12, 31)
    assert "QĐ 36/QĐ-TTg" in fibre.source  # national 100 %, not Hải Dương's weaker 80 %
    five_g = kpis.get("network_5g_coverage").target
    assert five_g is not None and "QĐ 36/QĐ-TTg" in five_g.source
    assert (five_g.value, five_g.deadline) == (0.99, date(2030, 12, 31))
    paid = kpis.get("dvc_fee_paid_online_rate").target
    assert paid is not None and paid.slo and paid.deadline is None  # no numbered document


def test_hai_phong_takes_hai_duong_targets_where_stricter_and_national_ones_otherwise() -> None:
    national, hai_phong = catalogue(None), catalogue("31")
    satisfaction = hai_phong.get("dvc_satisfaction_rate").target
    assert satisfaction is not None and satisfaction.source.startswith("NQ 06-NQ/TU Hải Dương")
    assert (satisfaction.value, satisfaction.deadline) == (0.95, date(2025, 12, 31))
    full = hai_phong.get("dvc_full_online_services").target
    assert full is not None and full.deadline == date(2021, 12, 31)
    # Hải Dương's fibre "> 80 %" is weaker than the national 100 %: the national one stays.
    assert hai_phong.get("network_fibre_households") == national.get("network_fibre_households")
    assert hai_phong.ids == national.ids


def test_can_tho_keeps_national_targets_and_shows_hau_giang_result() -> None:
    national, can_tho = catalogue(None), catalogue("92")
    assert [k.target for k in can_tho] == [k.target for k in national]
    (result,) = can_tho.get("dvc_full_online_services").reported
    assert result.value == 1.0 and result.estimate and "Hậu Giang" in result.area


def test_a_province_file_names_its_province_and_has_example_recipients() -> None:
    for code, slug in PROVINCE_CATALOGUES.items():
        path = catalogue_file_for(code)
        assert path == DATA / "provinces" / slug / "kpis.yaml"
        head = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert head["province"]["code"] == code and head["extends"] == "national"
        recipients = load_recipients(path.parent / "recipients.yaml")
        areas = {r.area for r in recipients}
        assert code in areas and len(areas) >= 3  # the province and some of its communes
        assert all(
            channel.address.endswith(".example.invalid")
            for r in recipients
            for channel in r.channels
            if channel.type == "email"
        )
    assert catalogue_file_for(None) == catalogue_file_for("01") == DATA / "kpis.yaml"


# --- the model refuses what it should ----------------------------------------------------------


def test_a_reported_result_filed_as_a_target_is_refused() -> None:
    with pytest.raises(ValueError, match="belong to a reported result"):
        Target.model_validate(
            {"value": 0.9, "year": 2024, "area": "tỉnh Hưng Yên", "source": "NQ 06-NQ/TU"}
        )
    with pytest.raises(ValueError, match="reads as a report of results"):
        Target(
            value=1.0,
            deadline=date(2024, 12, 31),
            source="Báo cáo kết quả CĐS tỉnh Hưng Yên năm 2024",
        )
    with pytest.raises(ValueError, match="needs a deadline"):
        Target(value=1.0, source="NQ 06-NQ/TU Hưng Yên")
    with pytest.raises(ValueError, match="does not name a document"):
        Target(value=0.99, deadline=date(2030, 12, 31), source="Mục tiêu quốc gia về hạ tầng số")
    assert Target(value=0.98, slo=True, source="SLO do tỉnh đặt").deadline is None
    with pytest.raises(ValueError, match="needs its 'year' or its day 'as_of'"):
        Reported(value=0.9, area="tỉnh", source="x")
    with pytest.raises(ValueError, match="is not in year 2024"):
        Reported(value=0.9, year=2024, as_of=date(2025, 1, 1), area="tỉnh", source="x")


BASE_KPI = """\
kpis:
  - id: online_rate
    name_vi: "Tỷ lệ hồ sơ trực tuyến"
    name_en: "Online dossier rate"
    feed: dvc
    numerator: dvc.received_online
    denominator: dvc.received
    unit: percent
    direction: higher
    target:
      value: 0.90
      year: 2024
      area: "tỉnh Hưng Yên"
      source: "NQ 06-NQ/TU Hưng Yên"
"""


def test_the_file_says_where_a_result_was_filed_as_a_target(tmp_path: Path) -> None:
    path = tmp_path / "kpis.yaml"
    path.write_text(BASE_KPI, encoding="utf-8")
    with pytest.raises(KpiFileError) as info:
        load_kpis(path)
    (problem,) = info.value.problems
    line = BASE_KPI.splitlines().index("      year: 2024") + 1
    assert problem.startswith(f"{path}:{line}: kpis[0].target.year (id online_rate): ")
    assert "under 'reported:'" in problem


def overlay(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "province.yaml"
    text = 'extends: national\nprovince: {code: "99", name_vi: "Tỉnh thử"}\nkpis:\n'
    path.write_text(text + textwrap.dedent(body), encoding="utf-8")
    return path


def test_an_overlay_replaces_targets_adds_results_and_keeps_the_rest(tmp_path: Path) -> None:
    path = overlay(
        tmp_path,
        """\
        - id: dvc_satisfaction_rate
          target: {value: 0.97, deadline: 2025-06-30, source: "NQ 01-NQ/TU tỉnh thử"}
          reported: [{value: 0.93, year: 2024, area: "tỉnh thử", source: "Báo cáo 2024"}]
        - id: network_fibre_households
          target: null
        """,
    )
    national, mine = load_kpis(), load_kpis(path)
    assert mine.source == str(path) and mine.ids == national.ids
    satisfaction = mine.get("dvc_satisfaction_rate")
    assert satisfaction.target is not None and satisfaction.target.value == 0.97
    assert [r.value for r in satisfaction.reported] == [0.93]
    assert mine.get("network_fibre_households").target is None
    assert mine.get("camera_online_rate") == national.get("camera_online_rate")


def test_an_overlay_may_not_change_definitions_or_name_unknown_kpis(tmp_path: Path) -> None:
    path = overlay(
        tmp_path,
        """\
        - id: dvc_satisfacton_rate
          target: {value: 0.97, deadline: 2025-06-30, source: "NQ 01-NQ/TU tỉnh thử"}
        - id: camera_online_rate
          numerator: camera.heartbeats
        - id: payment_success_rate
          target: {value: 0.99, source: "Báo cáo vận hành"}
        """,
    )
    with pytest.raises(KpiFileError) as info:
        load_kpis(path)
    problems = info.value.problems
    assert len(problems) == 3, problems
    assert any(
        p.startswith(f"{path}:4: kpis[0].id") and "did you mean 'dvc_satisfaction_rate'" in p
        for p in problems
    )
    assert any(p.startswith(f"{path}:7: kpis[1].numerator") for p in problems)
    assert any("kpis[2].target" in p and "needs a deadline" in p for p in problems)


def test_cli_marks_slos_and_shows_reported_results_apart() -> None:
    runner = CliRunner()
    path = str(catalogue_file_for("33"))
    listed = runner.invoke(app, ["list", "--file", path], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    out = listed.output
    assert "98 % (SLO vận hành)" in out  # special-network uptime
    assert "đã báo cáo: 100 % (tỉnh Hưng Yên, 31/12/2024)" in out
    assert "(kết quả, không phải mục tiêu)" in out


def test_an_overlay_result_problem_points_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "province.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            extends: national
            province: {code: 33}
            kpis:
              - id: dvc_services_with_online_dossiers
                reported:
                  - {value: 0.9, year: 2024, area: "tỉnh thử", source: "Báo cáo 2024"}
                  - {value: 88.2, year: 2024, area: "tỉnh thử", source: "Báo cáo 2024"}
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(KpiFileError) as info:
        load_kpis(path)
    province, value = sorted(info.value.problems)
    assert province.startswith(f"{path}:2: province: ") and "in quotes" in province
    assert value.startswith(f"{path}:7: kpis[0].reported[1].value")
    assert "write 0.882 if you meant 88.2 %" in value
