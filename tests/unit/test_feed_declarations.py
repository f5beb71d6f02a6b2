"""A feed declaration compiles into what the core uses: classes, measures, rules, entity, state.

Each test declares a small feed in a temporary file, the way a province or a plugin would, and
checks one promise of the declaration language (ioc/feeds/_spec.py) on real events.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from ioc.events import Envelope
from ioc.feeds import FeedFileError, FeedKind, load_feeds

PUMPS = """\
feed: pumps
name: {vi: Trạm bơm, en: Pumping stations}
enums:
  PumpState:
    doc: What a pump is doing.
    values:
      running: {vi: Đang chạy, en: Running}
      idle: {vi: Nghỉ, en: Idle}
      fault: {vi: Sự cố, en: Fault}
events:
  pumps.reading:
    class: PumpReading
    doc: One reading of a pump.
    entity: "{station_id}/{pump_id}"
    status: {kind: pump, up: {state: {not: fault}}}
    fields:
      station_id: {type: id}
      pump_id: {type: id}
      state: {type: PumpState}
      flow_m3h: {type: float, ge: 0, optional: true}
      note: {type: text, max_length: 20, optional: true}
      due_at: {type: datetime, optional: true}
      on_time: {type: bool, optional: true}
    checks:
      - {when: {state: fault}, require: [note], message: a fault must say what happened}
    rules:
      - when: {state: idle, flow_m3h: {present: true}}
        message: "pump {pump_id} is idle but moves {flow_m3h} m3/h"
      - flag: on_time
        on_or_before: due_at
        message: "pump {pump_id} read at {occurred_at}, due {due_at}, says on_time={on_time}"
    metrics:
      - {metric: pumps.readings, doc: readings}
      - {metric: "pumps.{state}", doc: "readings saying {state}"}
      - {metric: pumps.working, when: {state: [running, idle]}, doc: readings of working pumps}
      - {metric: pumps.flow_m3h, value: flow_m3h, doc: "flow, m3/h (sum / count = mean)"}
"""

AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _declare(tmp_path: Path, text: str, name: str = "pumps.yaml") -> list[FeedKind]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_feeds([path])


def _event(feed: FeedKind, **fields: object) -> Envelope:
    model = feed.events["pumps.reading"].model
    return Envelope.model_construct(
        event_type="pumps.reading",
        occurred_at=AT,
        area="33",
        payload=model(station_id="S1", pump_id="P2", **fields),
    )


def test_a_declared_event_gets_a_strict_typed_payload_class(tmp_path: Path) -> None:
    (feed,) = _declare(tmp_path, PUMPS)
    model = feed.events["pumps.reading"].model
    assert model.__name__ == "PumpReading" and model.__doc__ == "One reading of a pump."
    reading = model(station_id=" S1 ", pump_id="P2", state="running", flow_m3h=12.5)
    assert reading.station_id == "S1" and reading.state is feed.enums["PumpState"].RUNNING
    for bad in (
        {"state": "broken"},  # not a value of the enum
        {"state": "idle", "flow_m3h": -1},  # below its bound
        {"state": "idle", "note": "x" * 21},  # longer than declared
        {"state": "idle", "colour": "red"},  # not declared: a typo must reach the DLQ
        {"state": "fault"},  # the check: a fault needs a note
    ):
        with pytest.raises(ValidationError):
            model(station_id="S1", pump_id="P2", **bad)
    with pytest.raises(ValidationError, match="a fault must say what happened"):
        model(station_id="S1", pump_id="P2", state="fault")
    assert feed.labels["PumpState"]["fault"] == ("Sự cố", "Fault")


def test_measures_follow_the_declared_conditions(tmp_path: Path) -> None:
    (feed,) = _declare(tmp_path, PUMPS)
    kind = feed.events["pumps.reading"]
    running = _event(feed, state="running", flow_m3h=3.0)
    assert kind.measures(running.payload) == [
        ("pumps.events", 1),
        ("pumps.readings", 1),
        ("pumps.running", 1),
        ("pumps.working", 1),
        ("pumps.flow_m3h", 3.0),
    ]
    # No flow given: the measurement is not added (not added as 0).
    fault = _event(feed, state="fault", note="cháy mô-tơ")
    assert kind.measures(fault.payload) == [
        ("pumps.events", 1),
        ("pumps.readings", 1),
        ("pumps.fault", 1),
    ]
    assert set(feed.metrics) == {
        "pumps.events",
        "pumps.readings",
        "pumps.running",
        "pumps.idle",
        "pumps.fault",
        "pumps.working",
        "pumps.flow_m3h",
    }
    assert feed.metrics["pumps.idle"] == "readings saying idle"


def test_rules_name_the_event_and_the_fields_that_disagree(tmp_path: Path) -> None:
    (feed,) = _declare(tmp_path, PUMPS)
    idle_rule, deadline_rule = feed.events["pumps.reading"].rules
    assert idle_rule(_event(feed, state="idle", flow_m3h=0.0)) is None  # zero is no flow
    assert idle_rule(_event(feed, state="idle", flow_m3h=4.5)) == (
        "inconsistent",
        "pump P2 is idle but moves 4.5 m3/h",
    )
    due = AT - timedelta(hours=1)
    assert deadline_rule(_event(feed, state="running", due_at=due, on_time=False)) is None
    assert deadline_rule(_event(feed, state="running", on_time=True)) is None  # no deadline
    assert deadline_rule(_event(feed, state="running", due_at=due, on_time=True)) == (
        "inconsistent",
        "pump P2 read at 2026-03-02T08:00:00+00:00, due 2026-03-02T07:00:00+00:00, "
        "says on_time=True",
    )


def test_entity_and_state_come_from_the_declaration(tmp_path: Path) -> None:
    (feed,) = _declare(tmp_path, PUMPS)
    kind = feed.events["pumps.reading"]
    assert kind.entity is not None and kind.status is not None
    running = _event(feed, state="running").payload
    assert kind.entity(running) == "S1/P2"
    assert kind.status(running) == ("pump", True)
    assert kind.status(_event(feed, state="fault", note="x").payload) == ("pump", False)


def test_every_mistake_is_listed_with_its_line(tmp_path: Path) -> None:
    broken = (
        PUMPS.replace("{type: float, ge: 0, optional: true}", "{type: floatt, optional: true}")
        .replace("value: flow_m3h", "value: flow")
        .replace("{not: fault}", "{not: broken}")
        .replace("  pumps.reading:\n", "  pumps.reading:\n    doc: twice\n", 1)
    )
    with pytest.raises(FeedFileError) as caught:
        _declare(tmp_path, broken)
    problems = "\n".join(caught.value.problems)
    where = str(tmp_path / "pumps.yaml")
    assert f"{where}:14: events.pumps.reading.doc: written twice" in problems
    assert f"{where}:21: events.pumps.reading.fields.flow_m3h.type: unknown type 'floatt'" in (
        problems
    )
    assert f"{where}:16: events.pumps.reading.status.up.state.not: 'broken' is not a value" in (
        problems
    )
    assert f"{where}:37: events.pumps.reading.metrics[3].value: no field 'flow'" in problems
    assert len(caught.value.problems) == 4, problems


def test_two_declarations_cannot_claim_the_same_names(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(PUMPS, encoding="utf-8")
    second.write_text(PUMPS.replace("class: PumpReading", "class: PumpReading2"), encoding="utf-8")
    with pytest.raises(FeedFileError) as caught:
        load_feeds([first, second])
    problems = caught.value.problems
    assert f"{second}: feed 'pumps' is declared in {first} too" in problems
    assert f"{second}: metric 'pumps.readings' is declared in {first} too" in problems
    assert not any("PumpReading" in p for p in problems)  # the other class name is its own


def test_the_documented_example_is_a_valid_declaration(tmp_path: Path) -> None:
    guide = Path(__file__).parents[2] / "ioc" / "data" / "feeds" / "README.md"
    example = re.search(r"```yaml\n(.*?)```", guide.read_text(encoding="utf-8"), re.S)
    assert example is not None
    (feed,) = _declare(tmp_path, example.group(1))
    assert feed.feed == "pumps" and feed.partitions == 3 and feed.retention_hours == 720
    assert "pumps.fault" in feed.metrics
