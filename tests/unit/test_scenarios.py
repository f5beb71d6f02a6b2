"""Scenarios: inline and YAML incidents, precise errors, the questions simulators ask."""

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ioc.areas import load_areas
from ioc.connectors.scenarios import (
    KINDS,
    Incident,
    Scenario,
    ScenarioError,
    load_scenario,
)
from ioc.localtime import parse_duration, parse_start

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2024, 3, 4, 2, 0, tzinfo=UTC)  # Monday 09:00 in Hưng Yên, three-tier shape
AREAS = load_areas()
EXAMPLES = Path(__file__).resolve().parents[2] / "connectors" / "simulated" / "scenarios"


def one(spec: str, **kwargs: object) -> Incident:
    scenario = load_scenario(spec, now=NOW, areas=AREAS, **kwargs)  # type: ignore[arg-type]
    assert len(scenario.incidents) == 1
    return scenario.incidents[0]


# --- inline specs -------------------------------------------------------------------------------
def test_inline_incident_with_every_field() -> None:
    incident = one("network_outage:area=11950,start=+5m,duration=15m,intensity=0.5,name=Đứt cáp")
    assert incident == Incident(
        kind="network_outage",
        start=NOW + timedelta(minutes=5),
        duration=timedelta(minutes=15),
        intensity=0.5,
        area="11950",
        name="Đứt cáp",
    )
    assert incident.end == NOW + timedelta(minutes=20)


@pytest.mark.parametrize(
    ("start", "offset"),
    [
        ("+5m", timedelta(minutes=5)),
        ("+0s", timedelta(0)),
        ("-30m", -timedelta(minutes=30)),
        ("+1h30m", timedelta(minutes=90)),
        ("now", timedelta(0)),
    ],
)
def test_relative_starts_count_from_now(start: str, offset: timedelta) -> None:
    assert one(f"cameras_dark:start={start},duration=1m").start == NOW + offset


def test_start_defaults_to_now_and_intensity_to_one() -> None:
    incident = one("cameras_dark:duration=10m")
    assert (incident.start, incident.intensity, incident.area) == (NOW, 1.0, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(minutes=90)),
        ("1d", timedelta(days=1)),
        ("0.5s", timedelta(milliseconds=500)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_absolute_starts_with_offset_and_naive_ones_in_vietnam_time() -> None:
    with_offset = one("cameras_dark:start=2024-03-04T09:00:00+07:00,duration=5m").start
    assert with_offset == datetime(2024, 3, 4, 2, 0, tzinfo=UTC)
    naive = one("cameras_dark:start=2024-03-04T09:00,duration=5m").start
    assert naive == with_offset and naive.utcoffset() == timedelta(hours=7)
    utc = one("cameras_dark:start=2024-03-04T02:00:00Z,duration=5m").start
    assert utc == with_offset


def test_several_inline_incidents() -> None:
    scenario = load_scenario(
        "dvc_backlog:agency=SO-TP,duration=2h; payment_gateway_failure:duration=30m;",
        now=NOW,
        areas=AREAS,
    )
    assert [i.kind for i in scenario.incidents] == ["dvc_backlog", "payment_gateway_failure"]
    assert scenario.incidents[1].channel == "national_portal"  # the default target
    assert scenario.source == "inline"


def test_area_names_resolve_to_codes_on_the_start_day() -> None:
    assert one("network_outage:area=van lam,duration=5m").area == "325"
    assert one("network_outage:area=Xã Lạc Đạo,duration=5m").area == "11989"
    # After the 2025 reform the same name is a commune.
    after = load_scenario(
        "network_outage:area=Xã Lạc Đạo,duration=5m",
        now=datetime(2025, 9, 1, 2, tzinfo=UTC),
        areas=AREAS,
    )
    assert after.incidents[0].area == "11992"


# --- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        ("flood:duration=5m", "kind", ["unknown kind 'flood'", *KINDS]),
        ("cameras_dark:duration=15", "duration", ["'15'", "15m"]),
        ("cameras_dark:duration=soon", "duration", ["'soon'"]),
        ("cameras_dark", "duration", ["required"]),
        ("cameras_dark:start=tomorrow,duration=5m", "start", ["'tomorrow'", "+5m"]),
        ("cameras_dark:duration=5m,intensity=2", "intensity", ["between 0 and 1"]),
        ("cameras_dark:duration=5m,intensity=high", "intensity", ["'high'"]),
        ("cameras_dark:duration=0s", "duration", ["positive"]),
        ("network_outage:duration=5m", "area", ["needs area"]),
        ("dvc_backlog:duration=5m", "agency", ["needs agency"]),
        ("cameras_dark:duration=5m,agency=SO-TP", "agency", ["does not take 'agency'"]),
        ("network_outage:area=99999,duration=5m", "area", ["unknown area", "99999"]),
        ("network_outage:area=Hà Nội,duration=5m", "area", ["unknown area", "Hà Nội"]),
        ("network_outage:area=Hưng Yên,duration=5m", "area", ["ambiguous", "33", "323"]),
        ("payment_gateway_failure:channel=atm,duration=5m", "channel", ["'atm'", "qr"]),
        ("dvc_backlog:agency=UBND-99999,duration=5m", "agency", ["99999"]),
        ("cameras_dark:duration=5m,colour=red", "colour", ["unknown field"]),
    ],
)
def test_inline_errors_name_the_part_the_field_and_the_reason(
    spec: str, field: str, words: list[str]
) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(f"cameras_dark:duration=1m;{spec}", now=NOW, areas=AREAS)
    error = caught.value
    assert isinstance(error, ValueError)
    (problem,) = error.problems
    where, at, _ = problem.split(": ", 2)
    assert at == field
    assert where.startswith("inline incident 2")
    assert spec.split(":")[0] in where
    for word in words:
        assert word in problem, problem


def test_a_district_code_is_unknown_after_the_reform() -> None:
    with pytest.raises(ScenarioError, match="325"):
        load_scenario(
            "network_outage:area=325,duration=5m",
            now=datetime(2025, 9, 1, tzinfo=UTC),
            areas=AREAS,
        )


def test_without_a_registry_codes_pass_and_names_are_refused() -> None:
    assert load_scenario("network_outage:area=12345,duration=5m", now=NOW).incidents[0].area == (
        "12345"
    )
    with pytest.raises(ScenarioError, match="give the area code"):
        load_scenario("network_outage:area=Văn Lâm,duration=5m", now=NOW)


def test_malformed_inline_pairs() -> None:
    with pytest.raises(ScenarioError, match="expected key=value, got 'area'"):
        load_scenario("network_outage:area,duration=5m", now=NOW)
    with pytest.raises(ScenarioError, match="given twice"):
        load_scenario("cameras_dark:duration=5m,duration=6m", now=NOW)


# --- YAML ---------------------------------------------------------------------------------------
YAML = """\
# a comment
name: Diễn tập
incidents:
  - kind: network_outage
    area: "325"
    start: "+5m"
    duration: 15m
  - kind: dvc_backlog
    agency: SO-TP
    start: 2024-03-04T13:30:00
    duration: 2h
    intensity: 0.8
  - kind: payment_gateway_failure
    channel: qr
    area: Huyện Văn Giang
    start: 2024-03-04T07:00:00+00:00
    duration: 90s
"""


def test_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "drill.yaml"
    path.write_text(YAML, encoding="utf-8")
    scenario = load_scenario(str(path), now=NOW, areas=AREAS)
    assert scenario.name == "Diễn tập" and scenario.source == str(path)
    outage, backlog, payment = scenario.incidents
    assert (outage.area, outage.start, outage.duration) == (
        "325",
        NOW + timedelta(minutes=5),
        timedelta(minutes=15),
    )
    # YAML reads an unquoted timestamp itself; without an offset it is Vietnam time.
    assert backlog.start == datetime(2024, 3, 4, 13, 30, tzinfo=TZ)
    assert backlog.intensity == 0.8
    assert payment.start == datetime(2024, 3, 4, 7, tzinfo=UTC)
    assert (payment.channel, payment.area) == ("qr", "326")


def test_yaml_text_and_path_objects(tmp_path: Path) -> None:
    path = tmp_path / "drill.yml"
    path.write_text(YAML, encoding="utf-8")
    from_path = load_scenario(path, now=NOW, areas=AREAS)
    from_text = load_scenario(YAML, now=NOW, areas=AREAS)
    assert from_path == from_text


@pytest.mark.parametrize(
    ("line_no", "replacement", "field", "words"),
    [
        (7, "    duration: 15 minutes", "duration", ["'15 minutes'"]),
        (7, "    duration: 90", "duration", ["90", "no unit"]),
        (5, '    area: "99999"', "area", ["unknown area"]),
        (4, "  - kind: earthquake", "kind", ["unknown kind 'earthquake'"]),
        (9, "    agenci: SO-TP", "agenci", ["unknown field"]),
        (12, "    intensity: 1.5", "intensity", ["between 0 and 1"]),
    ],
)
def test_yaml_errors_carry_file_line_field_and_reason(
    tmp_path: Path, line_no: int, replacement: str, field: str, words: list[str]
) -> None:
    lines = YAML.splitlines()
    lines[line_no - 1] = replacement
    path = tmp_path / "bad.yaml"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(str(path), now=NOW, areas=AREAS)
    # Every problem is reported: a misspelt agency is also a missing one.
    (problem,) = [p for p in caught.value.problems if f"].{field}: " in p]
    assert problem.startswith(f"{path}:{line_no}: incidents[")
    for word in words:
        assert word in problem, problem


def test_a_missing_field_points_at_the_incident(tmp_path: Path) -> None:
    lines = YAML.splitlines()
    del lines[6]  # the first incident's duration
    path = tmp_path / "bad.yaml"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad\.yaml:4: incidents\[0\]\.duration: required"):
        load_scenario(str(path), now=NOW, areas=AREAS)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("incidents: [\n", r"<scenario>:2: not valid YAML"),
        ("incidents: []\nname: x\n", r"<scenario>:1: incidents: must be a non-empty list"),
        ("incidents:\n  - kind: cameras_dark\n    duration: 5m\nextra: 1\n", r":4: extra: unknown"),
        ("- kind: cameras_dark\n- x\n", "expected a mapping with an 'incidents:' list"),
        ("incidents:\n  - cameras_dark\n  - x\n", r"<scenario>:2: incidents\[0\]: expected"),
    ],
)
def test_yaml_shape_errors(text: str, match: str) -> None:
    with pytest.raises(ScenarioError, match=match):
        load_scenario(text if "\n" in text else text + "\n", now=NOW, areas=AREAS)


def test_background_faults_are_on_unless_turned_off_in_either_form() -> None:
    outage = "network_outage:area=325,duration=5m"
    assert load_scenario(outage, now=NOW).background
    assert not load_scenario(f"background:off;{outage}", now=NOW).background
    assert load_scenario(f"{outage};background:on", now=NOW).background
    yaml_text = "incidents:\n  - kind: cameras_dark\n    duration: 5m\nbackground: false\n"
    assert not load_scenario(yaml_text, now=NOW).background
    with pytest.raises(ScenarioError, match=r"background:off or background:on"):
        load_scenario(f"background:maybe;{outage}", now=NOW)
    with pytest.raises(ScenarioError, match=r"<scenario>:4: background: 'no' is not true or false"):
        load_scenario(yaml_text.replace("false", "'no'"), now=NOW)
    with pytest.raises(ScenarioError, match="no incident given"):
        load_scenario("background:off", now=NOW)


def test_every_problem_of_a_yaml_scenario_is_reported_at_once(tmp_path: Path) -> None:
    text = """\
name: Diễn tập
incidents:
  - kind: network_outage
    area: "99999"
    duration: 15 minutes
  - kind: dvc_backlog
    agency: SO-TP
    agency: SO-YT
    intensity: 1.5
    duration: 2h
  - cameras_dark
background: maybe
colour: red
"""
    path = tmp_path / "many.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, now=NOW, areas=AREAS)
    problems = caught.value.problems
    assert all(p.startswith(f"{path}:") for p in problems), problems
    expected = [
        (4, "incidents[0].area: unknown area"),
        (5, "incidents[0].duration: '15 minutes' is not a duration"),
        (8, "incidents[1].agency: written twice"),
        (9, "incidents[1].intensity: must be between 0 and 1"),
        (11, "incidents[2]: expected 'field: value' lines"),
        (12, "background: 'maybe' is not true or false"),
        (13, "colour: unknown field"),
    ]
    for line, start in expected:
        assert any(p.startswith(f"{path}:{line}: {start}") for p in problems), (start, problems)
    assert len(problems) == len(expected)


def test_every_problem_of_an_inline_scenario_is_reported_at_once() -> None:
    spec = "flood:duration=5m;cameras_dark:duration=soon,intensity=2;background:maybe"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(spec, now=NOW, areas=AREAS)
    problems = caught.value.problems
    assert caught.value.source == "inline"
    assert [p.split(": ")[1] for p in problems[:3]] == ["kind", "duration", "intensity"]
    assert len(problems) == 4
    assert problems[0].startswith("inline incident 1 'flood:duration=5m': kind: unknown kind")
    assert problems[3].startswith("inline incident 3 'background:maybe': write background:off")


def test_a_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"nope\.yaml: cannot read the file"):
        load_scenario(str(tmp_path / "nope.yaml"), now=NOW)


@pytest.mark.parametrize("now", [NOW, datetime(2026, 1, 5, 2, tzinfo=UTC)])
def test_shipped_examples_load_in_both_shapes_of_the_province(now: datetime) -> None:
    files = sorted(EXAMPLES.glob("*.yaml"))
    assert {f.name for f in files} >= {
        "network-outage.yaml",
        "dvc-backlog.yaml",
        "payment-gateway-failure.yaml",
        "cameras-dark.yaml",
    }
    kinds = set()
    for path in files:
        scenario = load_scenario(str(path), now=now, areas=AREAS)
        assert scenario.name and scenario.incidents
        assert all(i.start >= now for i in scenario.incidents)
        kinds.update(i.kind for i in scenario.incidents)
    assert kinds == set(KINDS)


# --- the questions simulators ask ---------------------------------------------------------------
def test_active_and_intensity_follow_the_window_and_the_targets() -> None:
    scenario = load_scenario(
        "network_outage:area=325,start=+10m,duration=20m,intensity=0.7;"
        "payment_gateway_failure:channel=qr,duration=1h;"
        "dvc_backlog:agency=SO-TP,duration=1h,intensity=0.4",
        now=NOW,
        areas=AREAS,
    )
    inside, before, end = (
        NOW + timedelta(minutes=15),
        NOW + timedelta(minutes=5),
        NOW + timedelta(minutes=30),
    )
    assert [i.area for i in scenario.active("network_outage", inside)] == ["325"]
    assert scenario.active("network_outage", before) == []
    assert scenario.active("network_outage", end) == []  # the end is exclusive
    # A district covers its communes (with the registry); other districts are untouched.
    hit = scenario.intensity("network_outage", inside, area="11989", areas=AREAS)
    assert hit == 0.7
    assert scenario.intensity("network_outage", inside, area="11989") == 0.0
    assert scenario.intensity("network_outage", inside, area="325") == 0.7
    assert scenario.intensity("network_outage", inside, area="11950", areas=AREAS) == 0.0
    assert scenario.intensity("payment_gateway_failure", inside, channel="qr") == 1.0
    assert scenario.intensity("payment_gateway_failure", inside, channel="card") == 0.0
    assert scenario.intensity("dvc_backlog", inside, agency="SO-TP") == 0.4
    assert scenario.intensity("dvc_backlog", inside, agency="SO-YT") == 0.0
    assert len(scenario.of_kind("dvc_backlog")) == 1


def test_an_incident_without_area_covers_everything_and_the_strongest_wins() -> None:
    scenario = Scenario(
        incidents=(
            Incident("cameras_dark", NOW, timedelta(hours=1), intensity=0.2),
            Incident("cameras_dark", NOW, timedelta(hours=1), intensity=0.9, area="11950"),
        )
    )
    assert scenario.intensity("cameras_dark", NOW, area="11950") == 0.9
    assert scenario.intensity("cameras_dark", NOW, area="12430") == 0.2


def test_incidents_check_themselves() -> None:
    with pytest.raises(ScenarioError, match="time zone"):
        Incident("cameras_dark", datetime(2024, 3, 4), timedelta(minutes=5))
    incident = Incident(
        "payment_gateway_failure", NOW.astimezone(timezone(timedelta(hours=7))), timedelta(1)
    )
    assert incident.channel == "national_portal"


def test_parse_start_accepts_yaml_dates_and_datetimes() -> None:
    assert parse_start(date(2024, 3, 5), NOW) == datetime(2024, 3, 5, tzinfo=TZ)
    assert parse_start(datetime(2024, 3, 5, 8, 0), NOW) == datetime(2024, 3, 5, 8, tzinfo=TZ)
