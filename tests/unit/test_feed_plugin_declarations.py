"""Feed declarations: mistakes refused with every problem at its line; KPIs and rules joined.

The air-quality plug-in (tests/plugins/ioc-test-airquality, installed by the Makefile) is the
declaration shipped by a separate package: its KPIs join the KPI catalogue of every province
and its alert rules join the rules file, checked the same way as the files' own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ioc.alerts.rules import load_rules
from ioc.datafile import DataFileError
from ioc.feeds import FeedFileError, feed, feeds, load_feeds
from ioc.kpis import load_kpis

# Four mistakes: a field of a type that does not exist, a key written twice, a condition on a
# value its enum does not have, and a metric summing a field the event does not have.
BAD = """\
feed: noise
name: {vi: Tiếng ồn, en: Noise}
enums:
  Zone:
    values:
      quiet: {vi: Yên tĩnh, en: Quiet}
      mixed: {vi: Hỗn hợp, en: Mixed}
events:
  noise.sample:
    class: NoiseSample
    doc: One noise reading.
    entity: sensor_id
    fields:
      sensor_id: {type: id}
      zone: {type: Zone}
      level_db: {type: decibel}
      zone: {type: Zone}
    metrics:
      - {metric: noise.samples, doc: readings}
      - {metric: noise.loud, when: {zone: residential}, doc: readings in residential zones}
      - {metric: noise.level_db, value: level, doc: sum of the levels}
"""


def test_a_declaration_with_mistakes_is_refused_with_every_problem_at_its_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "noise.yaml"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(FeedFileError) as caught:
        load_feeds([path])
    assert sorted(caught.value.problems) == sorted(
        [
            f"{path}:16: events.noise.sample.fields.level_db.type: unknown type 'decibel' "
            "(known: id, text, int, float, bool, ratio, datetime, latitude, longitude, Zone)",
            f"{path}:17: events.noise.sample.fields.zone: written twice; "
            "YAML would keep only the last",
            f"{path}:20: events.noise.sample.metrics[1].when.zone: "
            "'residential' is not a value of Zone (quiet, mixed)",
            f"{path}:21: events.noise.sample.metrics[2].value: no field 'level' in this event "
            "(fields: sensor_id, zone, level_db)",
        ]
    )


def test_a_declaration_clashing_with_a_shipped_one_names_both_files(tmp_path: Path) -> None:
    shipped = feed("payment").source
    path = tmp_path / "payment.yaml"
    path.write_text(Path(shipped).read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(FeedFileError) as caught:
        load_feeds([Path(shipped), path])
    assert f"{path}: feed 'payment' is declared in {shipped} too" in caught.value.problems


def test_the_plugin_feed_is_declared_after_the_shipped_ones() -> None:
    names = [f.feed for f in feeds()]
    assert names[:4] == ["camera", "dvc", "payment", "network"] and "air" in names
    air = feed("air")
    assert air.source.endswith("ioc_test_airquality/airquality.yaml")
    assert air.partitions == 3 and "air.band.good" in air.metrics


@pytest.mark.parametrize("province", [None, "33", "92", "31"])
def test_a_declarations_kpis_join_every_provinces_catalogue(province: str | None) -> None:
    catalogue = load_kpis(province=province)
    kpi = catalogue.get("air_good_share")
    assert kpi.feed == "air" and kpi.formula == "air.band.good / air.samples"
    assert kpi.target is not None and kpi.target.slo and "Ví dụ" in kpi.target.source
    assert [k.id for k in catalogue.for_feed("air")] == ["air_good_share", "air_mean_aqi"]
    assert catalogue.ids[-2:] == ["air_good_share", "air_mean_aqi"]  # after the file's own


def test_a_province_file_sets_the_target_of_a_declared_kpi(tmp_path: Path) -> None:
    path = tmp_path / "kpis.yaml"
    path.write_text(
        "extends: national\nkpis:\n  - id: air_good_share\n    target: {value: 0.7, slo: true, "
        "source: Sở TN&MT}\n",
        encoding="utf-8",
    )
    target = load_kpis(path).get("air_good_share").target
    assert target is not None and target.value == 0.7


def test_a_catalogue_written_whole_has_the_declared_kpis_after_its_own(tmp_path: Path) -> None:
    path = tmp_path / "kpis.yaml"
    path.write_text(
        "kpis:\n  - id: paid\n    name_vi: Tỷ lệ\n    name_en: Share\n"
        "    feed: payment\n    numerator: payment.succeeded\n    denominator: payment.attempts\n"
        "    unit: percent\n    direction: higher\n",
        encoding="utf-8",
    )
    assert load_kpis(path).ids == ["paid", "air_good_share", "air_mean_aqi"]


def test_a_catalogue_reusing_a_declared_kpis_id_is_refused_at_the_declarations_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "kpis.yaml"
    path.write_text(
        "kpis:\n  - id: air_good_share\n    name_vi: Tỷ lệ\n    name_en: Share\n"
        "    feed: payment\n    numerator: payment.succeeded\n    denominator: payment.attempts\n"
        "    unit: percent\n    direction: higher\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFileError) as caught:
        load_kpis(path)
    [problem] = caught.value.problems
    source = feed("air").source
    line = Path(source).read_text(encoding="utf-8").splitlines().index("  - id: air_good_share")
    assert problem == (
        f"{source}:{line + 1}: kpis[0].id (id air_good_share): id 'air_good_share' is used in "
        f"{path} too; every KPI needs its own id"
    )


def test_a_declarations_rules_follow_the_shipped_ones() -> None:
    catalogue = load_kpis()
    rules = load_rules(None, {k.id for k in catalogue})
    assert [r.id for r in rules.rules][-2:] == ["air_good_share_low", "air_stations_silent"]
    assert len({r.id for r in rules.rules}) == len(rules.rules)


def test_a_provinces_own_rules_file_replaces_the_declared_rules_too(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules: []\n", encoding="utf-8")
    assert load_rules(path, {k.id for k in load_kpis()}).rules == ()


def test_a_declared_rule_on_a_kpi_the_catalogue_lacks_is_refused_at_its_line() -> None:
    with pytest.raises(DataFileError) as caught:
        load_rules(None, {"payment_success_rate"})
    source = feed("air").source
    line = Path(source).read_text(encoding="utf-8").splitlines().index("    kpi: air_good_share")
    assert (
        f"{source}:{line + 1}: alert_rules[0].kpi (id air_good_share_low): unknown KPI "
        "'air_good_share' (known: payment_success_rate)"
    ) in caught.value.problems
