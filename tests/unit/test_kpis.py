"""The KPI catalogue: the shipped file, the checks a province relies on, targets and gaps."""

from __future__ import annotations

import re
import textwrap
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ioc.kpis import Kpi, KpiCatalogue, KpiFileError, Target, load_kpis
from ioc.kpis.cli import app
from ioc.kpis.measures import METRICS

GOOD = """\
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
      value: 0.80
      deadline: 2025-12-31
      source: "QĐ 942/QĐ-TTg"
      by_level: {province: 0.90, district: 0.80}
  - id: failure_rate
    name_vi: "Tỷ lệ giao dịch thất bại"
    name_en: "Failure rate"
    feed: payment
    numerator: payment.succeeded
    denominator: payment.attempts
    unit: ratio
    direction: lower
    target: {value: 0.05, slo: true, source: "SLO"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kpis.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path) -> tuple[str, ...]:
    with pytest.raises(KpiFileError) as info:
        load_kpis(path)
    assert info.value.source == str(path)
    return info.value.problems


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing `needle`."""
    hits = [n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line]
    return hits[occurrence - 1]


def one(problems: tuple[str, ...], pattern: str) -> str:
    found = [p for p in problems if re.search(pattern, p)]
    assert len(found) == 1, f"{pattern!r} in {problems}"
    return found[0]


# --- the shipped file ------------------------------------------------------------------------


def test_shipped_catalogue_loads_with_the_domain_kpis() -> None:
    kpis = load_kpis()
    assert len(kpis) == len(set(kpis.ids)) >= 12
    for kpi in kpis:
        assert kpi.numerator in METRICS and kpi.denominator in METRICS
        assert kpi.feed == kpi.numerator.split(".")[0]
        assert unicodedata.is_normalized("NFC", kpi.name_vi)
        assert kpi.target is None or 0 <= kpi.target.value <= 1
    online = kpis.get("dvc_online_dossier_rate")
    assert (online.numerator, online.denominator) == ("dvc.received_online", "dvc.received")
    # QĐ 942's 80 % is of dossiers processed fully online: the full-process share's target.
    assert online.target is None
    full = kpis.get("dvc_full_online_dossier_rate")
    assert full.target is not None
    assert (full.target.value, full.target.deadline) == (0.8, date(2025, 12, 31))
    assert full.target.source.startswith("QĐ 942/QĐ-TTg")
    # air: the feed the test plug-in declares (tests/plugins/ioc-test-airquality, installed).
    assert {k.feed for k in kpis} == {"dvc", "payment", "network", "camera", "feedback", "air"}
    assert [k.id for k in kpis.for_feed("camera")] == ["camera_online_rate"]
    assert kpis.for_feed("weather") == []


def test_unknown_id_lists_the_known_ones() -> None:
    kpis = load_kpis()
    with pytest.raises(KeyError) as info:
        kpis.get("dvc_online_rate")
    message = str(info.value)
    assert "dvc_online_dossier_rate" in message and "camera_online_rate" in message


# --- targets and gaps --------------------------------------------------------------------------


def test_target_for_each_level(tmp_path: Path) -> None:
    kpis = load_kpis(write(tmp_path, GOOD))
    online = kpis.get("online_rate")
    assert online.target_for("province") == 0.90
    assert online.target_for("district") == 0.80
    assert online.target_for("commune") == 0.80  # no entry: the general value
    assert kpis.get("failure_rate").target_for("commune") == 0.05


def test_gap_is_positive_when_short_of_target_in_either_direction(tmp_path: Path) -> None:
    kpis = load_kpis(write(tmp_path, GOOD))
    higher, lower = kpis.get("online_rate"), kpis.get("failure_rate")
    assert higher.gap(0.85, "province") == pytest.approx(0.05)  # 90 % wanted: 5 points short
    assert higher.gap(0.95, "province") == pytest.approx(-0.05)
    assert not higher.meets(0.85, "province") and higher.meets(0.85, "commune")
    assert lower.gap(0.08, "commune") == pytest.approx(0.03)  # 5 % allowed: 3 points over
    assert lower.gap(0.02, "commune") == pytest.approx(-0.03)
    assert lower.meets(0.05, "commune") and not lower.meets(0.051, "commune")
    assert higher.gap(None, "province") is None and not higher.meets(None, "province")


def test_a_kpi_without_target_has_no_gap_and_is_never_short() -> None:
    kpi = load_kpis().get("payment_cashless_share")
    assert kpi.target is None
    assert kpi.target_for("commune") is None and kpi.gap(0.3, "commune") is None
    assert kpi.meets(0.3, "commune")


def test_names_are_stored_nfc(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "Tỷ lệ hồ sơ trực tuyến")
    path = write(tmp_path, GOOD.replace("Tỷ lệ hồ sơ trực tuyến", decomposed))
    assert load_kpis(path).get("online_rate").name_vi == "Tỷ lệ hồ sơ trực tuyến"


def test_a_catalogue_built_in_memory_refuses_duplicate_ids() -> None:
    kpi = load_kpis().get("camera_online_rate")
    with pytest.raises(KpiFileError, match="duplicate id 'camera_online_rate'"):
        KpiCatalogue([kpi, kpi])


def test_the_model_checks_ranges_in_memory_too() -> None:
    with pytest.raises(ValueError, match="outside 0–1"):
        Kpi(
            id="x",
            name_vi="X",
            name_en="X",
            feed="camera",
            numerator="camera.online",
            denominator="camera.heartbeats",
            unit="percent",
            direction="higher",
            target=Target(value=95, slo=True, source="SLO"),
        )


# --- malformed files: file:line, field, reason -------------------------------------------------


def test_duplicate_id(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("id: failure_rate", "id: online_rate"))
    problem = one(problems_of(path), "duplicate id")
    line = line_of(path, "id: online_rate", occurrence=2)
    assert problem.startswith(
        f"{path}:{line}: kpis[1].id (id online_rate): duplicate id 'online_rate'"
    )
    assert "already used by kpis[0]" in problem


def test_unknown_metric_suggests_the_close_ones(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("numerator: dvc.received_online", "numerator: dvc.onlin"))
    problem = one(problems_of(path), "unknown metric")
    assert problem.startswith(f"{path}:{line_of(path, 'dvc.onlin')}: kpis[0].numerator ")
    assert "'dvc.onlin'" in problem and "ioc/kpis/measures.py" in problem


def test_metric_of_another_feed_and_numerator_equal_to_denominator(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD.replace("numerator: payment.succeeded", "numerator: dvc.received").replace(
            "denominator: dvc.received\n", "denominator: dvc.received_online\n"
        ),
    )
    problems = problems_of(path)
    assert one(problems, "kpis\\[1\\].numerator").endswith(
        "metric 'dvc.received' does not come from feed 'payment'"
    )
    path = write(
        tmp_path, GOOD.replace("numerator: dvc.received_online", "numerator: dvc.received")
    )
    problem = one(problems_of(path), "must differ")
    assert problem.startswith(f"{path}:{line_of(path, 'denominator: dvc.received')}: ")
    assert "kpis[0].denominator" in problem


@pytest.mark.parametrize(
    ("old", "new", "field", "reason"),
    [
        ("value: 0.80", "value: 80", "target.value", "write 0.8 if you meant 80 %"),
        ("district: 0.80", "district: 1.2", "target.by_level.district", "outside 0–1"),
        ("district: 0.80", "distrct: 0.80", "target.by_level.distrct", "unknown level"),
        ("deadline: 2025-12-31", "deadline: 31/12/2025", "target.deadline", "YYYY-MM-DD"),
        ('source: "QĐ 942/QĐ-TTg"', 'soure: "QĐ 942/QĐ-TTg"', "target.soure", "unknown field"),
    ],
)
def test_bad_target(tmp_path: Path, old: str, new: str, field: str, reason: str) -> None:
    path = write(tmp_path, GOOD.replace(old, new))
    problem = one(problems_of(path), re.escape(f"kpis[0].{field}"))
    assert problem.startswith(f"{path}:{line_of(path, new.split(':')[0])}: kpis[0].{field}")
    assert reason in problem


def test_every_target_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD.replace("value: 0.80", "value: 80").replace("deadline: 2025-12-31", "deadline: x"),
    )
    problems = problems_of(path)
    one(problems, r"kpis\[0\]\.target\.value .*outside 0–1")
    one(problems, r"kpis\[0\]\.target\.deadline")


@pytest.mark.parametrize(
    ("old", "new", "field", "at", "reason"),
    [
        ("unit: percent", "unit: percnt", "unit", "percnt", "'percent', 'ratio' or 'number'"),
        ("direction: higher", "direction: up", "direction", "up", "'higher' or 'lower'"),
        ("feed: dvc\n", "feed: dvc\n    colour: red\n", "colour", "colour", "unknown field"),
        ("id: online_rate", "id: Online-Rate", "id", "Online-Rate", "not a valid id"),
        ('    name_en: "Online dossier rate"\n', "", "name_en", "- id:", "is missing"),
    ],
)
def test_bad_field(tmp_path: Path, old: str, new: str, field: str, at: str, reason: str) -> None:
    path = write(tmp_path, GOOD.replace(old, new, 1))
    problem = one(problems_of(path), re.escape(f"kpis[0].{field}"))
    assert problem.startswith(f"{path}:{line_of(path, at)}: kpis[0].{field}")
    assert reason in problem


def test_unknown_top_level_key_and_repeated_key(tmp_path: Path) -> None:
    text = GOOD.replace("    unit: ratio\n", "    unit: ratio\n    unit: percent\n")
    path = write(tmp_path, text + "thresholds: {}\n")
    problems = problems_of(path)
    assert one(problems, "thresholds").startswith(f"{path}:{line_of(path, 'thresholds')}: ")
    repeated = one(problems, "written twice")
    line = line_of(path, "unit: percent", 2)
    assert repeated.startswith(f"{path}:{line}: kpis[1].unit (id failure_rate): ")


def test_not_yaml_and_empty_list(tmp_path: Path) -> None:
    path = write(tmp_path, "kpis: [\n  - id: x\n")
    assert "not valid YAML" in problems_of(path)[0]
    path = write(tmp_path, "kpis: []\n")
    assert one(problems_of(path), "non-empty list").startswith(f"{path}:1: kpis: ")


# --- the CLI without a database ----------------------------------------------------------------


def test_cli_list_and_unknown_kpi() -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["list", "--feed", "dvc"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    assert "dvc_online_dossier_rate" in listed.output and "QĐ 942/QĐ-TTg" in listed.output
    assert "payment_success_rate" not in listed.output
    unknown = runner.invoke(app, ["show", "no_such_kpi"])
    assert unknown.exit_code == 2
    assert "no_such_kpi" in unknown.output and "camera_online_rate" in unknown.output


def test_problems_of_several_kpis_and_of_the_file_are_reported_together(tmp_path: Path) -> None:
    text = (
        GOOD.replace("id: failure_rate", "id: online_rate")
        .replace("numerator: dvc.received_online", "numerator: dvc.onlin")
        .replace("    direction: lower\n", "    direction: lower\n    direction: higher\n")
        + "thresholds: {}\n"
    )
    problems = problems_of(write(tmp_path, text))
    assert len(problems) == 4, problems
    one(problems, r"kpis\[0\]\.numerator \(id online_rate\): unknown metric 'dvc\.onlin'")
    one(problems, r"kpis\[1\]\.id \(id online_rate\): duplicate id")
    one(problems, r"kpis\[1\]\.direction \(id online_rate\): written twice")
    one(problems, r"thresholds: unknown top-level key")
