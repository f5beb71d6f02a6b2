"""Distinct-count KPIs and reported results in the catalogue: what is accepted, what is refused."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ioc.kpis import Kpi, KpiFileError, catalogue_file_for, load_kpis
from ioc.kpis.cli import app

GOOD = """\
kpis:
  - id: services_with_online_dossiers
    name_vi: "Tỷ lệ DVC có phát sinh hồ sơ trực tuyến"
    name_en: "Online services with online dossiers"
    feed: dvc
    numerator: dvc.received_online
    denominator: dvc.services_online
    distinct: procedure_code
    unit: percent
    direction: higher
    reported:
      - value: 0.882
        year: 2024
        area: "tỉnh Hưng Yên"
        source: "Báo cáo CĐS 2024"
  - id: cameras_seen
    name_vi: "Tỷ lệ camera trực tuyến ít nhất một lần"
    name_en: "Cameras online at least once"
    feed: camera
    numerator: camera.online
    denominator: camera.heartbeats
    distinct: entity
    unit: ratio
    direction: higher
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kpis.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path) -> tuple[str, ...]:
    with pytest.raises(KpiFileError) as info:
        load_kpis(path)
    return info.value.problems


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def one(problems: tuple[str, ...], pattern: str) -> str:
    found = [p for p in problems if re.search(pattern, p)]
    assert len(found) == 1, f"{pattern!r} in {problems}"
    return found[0]


def test_a_payload_field_or_the_entity_is_accepted(tmp_path: Path) -> None:
    kpis = load_kpis(write(tmp_path, GOOD))
    # The file's own two, then the test plug-in's declared KPIs (tests/plugins/ioc-test-airquality).
    services, cameras = list(kpis)[:2]
    assert services.distinct == "procedure_code" and cameras.distinct == "entity"
    assert services.formula == (
        "distinct procedure_code: dvc.received_online / dvc.services_online"
    )
    (reported,) = services.reported
    assert (reported.value, reported.year, reported.period) == (0.882, 2024, "2024")
    assert services.target is None and services.meets(0.5, "province")  # a result is not judged


def test_a_ratio_of_sums_stays_as_it_was() -> None:
    online = load_kpis().get("dvc_online_dossier_rate")
    assert online.distinct is None and online.reported == ()
    assert online.formula == "dvc.received_online / dvc.received"


@pytest.mark.parametrize(
    ("old", "new", "field", "reason"),
    [
        # A field of another feed, a typo, a field no payload has, an empty value.
        ("distinct: procedure_code", "distinct: camera_id", "distinct", "nor a payload field"),
        ("distinct: procedure_code", "distinct: procedure_cod", "distinct", "did you mean"),
        ("distinct: procedure_code", "distinct: payload", "distinct", "its fields: agency_code"),
        ("value: 0.882", "value: 88.2", "reported[0].value", "write 0.882 if you meant 88.2 %"),
        ("year: 2024", "year: 24", "reported[0].year", "greater than or equal to 1990"),
        ('area: "tỉnh Hưng Yên"', 'region: "tỉnh Hưng Yên"', "reported[0].region", "unknown field"),
    ],
)
def test_bad_distinct_or_context(
    tmp_path: Path, old: str, new: str, field: str, reason: str
) -> None:
    path = write(tmp_path, GOOD.replace(old, new, 1))
    problem = one(problems_of(path), re.escape(f"kpis[0].{field}"))
    # file:line: field: reason, the line being the one to edit.
    assert problem.startswith(f"{path}:{line_of(path, new.split(':')[0])}: kpis[0].{field}")
    assert reason in problem, problem


def test_a_missing_context_source_and_every_problem_at_once(tmp_path: Path) -> None:
    text = GOOD.replace('        source: "Báo cáo CĐS 2024"\n', "").replace(
        "distinct: entity", "distinct: camera"
    )
    path = write(tmp_path, text)
    problems = problems_of(path)
    assert one(problems, r"kpis\[0\]\.reported\[0\]\.source").endswith("required field is missing")
    entity = one(problems, r"kpis\[1\]\.distinct")
    assert entity.startswith(f"{path}:{line_of(path, 'distinct: camera')}: ")
    assert "did you mean camera_id" in entity


def test_the_model_checks_in_memory_too() -> None:
    fields = {
        "id": "x",
        "name_vi": "Tỷ lệ",
        "name_en": "Rate",
        "feed": "dvc",
        "numerator": "dvc.received_online",
        "denominator": "dvc.services_online",
        "unit": "percent",
        "direction": "higher",
    }
    assert Kpi.model_validate(fields | {"distinct": "agency_code"}).distinct == "agency_code"
    with pytest.raises(ValueError, match="nor a payload field of feed 'dvc'"):
        Kpi.model_validate(fields | {"distinct": "point_id"})
    reported = {"value": 1.5, "year": 2024, "area": "tỉnh", "source": "x"}
    with pytest.raises(ValueError, match="outside 0–1"):
        Kpi.model_validate(fields | {"reported": [reported]})


def test_cli_list_shows_what_is_counted_and_the_reported_result() -> None:
    runner = CliRunner()
    hung_yen = str(catalogue_file_for("33"))
    listed = runner.invoke(
        app, ["list", "--feed", "dvc", "--file", hung_yen], env={"COLUMNS": "250"}
    )
    assert listed.exit_code == 0, listed.output
    assert "dvc_services_with_online_dossiers" in listed.output
    assert "đếm riêng biệt procedure_code" in listed.output
    assert "đã báo cáo: 88,2 % (tỉnh Hưng Yên, 2024)" in listed.output


def test_an_alert_rule_on_a_distinct_kpi_is_refused(tmp_path: Path) -> None:
    """Rules judge minute windows; a distinct-count KPI has only days: refuse, do not go quiet."""
    from ioc.alerts.rules import load_rules
    from ioc.datafile import DataFileError

    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - id: r\n    kind: target\n    kpi: d\n    severity: info\n", encoding="utf-8"
    )
    with pytest.raises(DataFileError, match=r":4: rules\[0\]\.kpi: 'd' is a distinct-count KPI"):
        load_rules(path, {"a", "d"}, {"d"})
    assert load_rules(path, {"a", "d"}, set()).rules[0].kpi == "d"
    # The shipped rules and catalogue agree.
    catalogue = load_kpis()
    load_rules(None, set(catalogue.ids), {k.id for k in catalogue if k.distinct is not None})
