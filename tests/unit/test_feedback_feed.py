"""The citizen feedback feed: its declaration, KPIs, rules, simulator and hotline mapping."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from ioc.alerts.rules import load_rules
from ioc.areas import load_areas
from ioc.config import load_settings
from ioc.connectors.base import ConnectorContext, VirtualClock
from ioc.connectors.ingest.mapping import load_mapping
from ioc.connectors.simulated import FeedbackSimulator
from ioc.events import FEEDS, Envelope, FeedbackCase
from ioc.feeds import feed
from ioc.kpis import load_kpis
from ioc.kpis.measures import measures
from ioc.streams.rules import FEED_RULES

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AREAS = load_areas()
EXAMPLES = Path(__file__).resolve().parents[2] / "connectors" / "ingest" / "examples"
AT = datetime(2025, 9, 8, 2, 0, tzinfo=UTC)  # Monday 09:00 in Hưng Yên
DUE = AT + timedelta(days=21)


def case(stage: str, **fields: Any) -> FeedbackCase:
    given: dict[str, Any] = {
        "case_id": "1022-1",
        "stage": stage,
        "channel": "zalo",
        "category": "environment",
    }
    if stage != "received":
        given |= {"agency_code": "SO-NNMT", "due_at": DUE}
    if stage == "answered":
        given |= {"on_time": True, "answer_hours": 30.5}
    return FeedbackCase(**(given | fields))


def envelope(payload: FeedbackCase, at: datetime = AT) -> Envelope:
    return Envelope.create(source="test", area="11953", occurred_at=at, payload=payload)


def metrics(payload: FeedbackCase, at: datetime = AT) -> dict[str, float]:
    return dict(measures(envelope(payload, at)))


# --- the declaration ----------------------------------------------------------------------------
def test_feedback_is_the_fifth_declared_feed() -> None:
    assert FEEDS[:5] == ("camera", "dvc", "payment", "network", "feedback")
    declared = feed("feedback")
    assert declared.name_vi == "Phản ánh, kiến nghị"
    assert declared.labels["FeedbackChannel"]["hotline"] == ("Tổng đài 1022", "Hotline 1022")
    assert declared.events["feedback.case"].entity is not None


def test_each_stage_adds_its_metrics() -> None:
    assert metrics(case("received")) == {
        "feedback.events": 1,
        "feedback.received": 1,
        "feedback.received.zalo": 1,
        "feedback.received.environment": 1,
    }
    assert metrics(case("assigned")) == {"feedback.events": 1, "feedback.assigned": 1}
    assert metrics(case("answered")) == {
        "feedback.events": 1,
        "feedback.answered": 1,
        "feedback.answered_on_time": 1,
        "feedback.answer_hours": 30.5,
    }
    late = metrics(case("answered", on_time=False, answer_hours=600.0), DUE + timedelta(hours=1))
    assert "feedback.answered_on_time" not in late and late["feedback.answer_hours"] == 600.0
    # An unhappy rating is a rating: it counts in the denominator of satisfaction.
    assert metrics(case("closed", satisfied=False)) == {"feedback.events": 1, "feedback.rated": 1}
    assert metrics(case("closed", satisfied=True))["feedback.satisfied"] == 1
    assert metrics(case("closed")) == {"feedback.events": 1}


@pytest.mark.parametrize(
    ("stage", "fields", "message"),
    [
        ("assigned", {"agency_code": None}, "must say agency_code and due_at"),
        ("answered", {"due_at": None}, "must say agency_code and due_at"),
        ("answered", {"on_time": None}, "must say on_time and answer_hours"),
        ("answered", {"answer_hours": None}, "must say on_time and answer_hours"),
        ("received", {"on_time": True}, "belong to the answered stage"),
        ("assigned", {"satisfied": True}, "belongs to the closed stage"),
        ("answered", {"answer_hours": -1.0}, "greater than or equal to 0"),
        ("received", {"channel": "fax"}, "hotline"),
    ],
)
def test_an_incomplete_case_is_invalid(stage: str, fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        case(stage, **fields)


def test_on_time_must_agree_with_the_deadline() -> None:
    rules = FEED_RULES["feedback"]
    after = DUE + timedelta(minutes=1)
    assert rules.reject(envelope(case("answered"), DUE)) is None
    assert rules.reject(envelope(case("answered", on_time=False), after)) is None
    for at, on_time in ((after, True), (AT, False)):
        broken = rules.reject(envelope(case("answered", on_time=on_time), at))
        assert broken is not None and broken[0] == "inconsistent"
        assert "case 1022-1" in broken[1]


# --- KPIs and alert rules -----------------------------------------------------------------------
def test_the_kpis_and_their_targets() -> None:
    kpis = load_kpis()
    assert [k.id for k in kpis.for_feed("feedback")] == [
        "feedback_on_time_rate",
        "feedback_mean_answer_hours",
        "feedback_satisfaction_rate",
        "feedback_overdue_share",
    ]
    on_time = kpis.get("feedback_on_time_rate")
    # No legal text sets a share: the target is an SLO, and says so.
    assert on_time.target is not None and on_time.target.slo
    assert (on_time.numerator, on_time.denominator) == (
        "feedback.answered_on_time",
        "feedback.answered",
    )
    mean = kpis.get("feedback_mean_answer_hours")
    assert (mean.unit, mean.direction, mean.target) == ("number", "lower", None)
    assert (mean.numerator, mean.denominator) == ("feedback.answer_hours", "feedback.answered")
    assert kpis.get("feedback_satisfaction_rate").target is None
    overdue = kpis.get("feedback_overdue_share")
    assert (overdue.numerator, overdue.denominator, overdue.direction) == (
        "feedback.overdue",
        "feedback.open",
        "lower",
    )
    every_metric = set(feed("feedback").metrics)
    for kpi in kpis.for_feed("feedback"):
        assert {kpi.numerator, kpi.denominator} <= every_metric


def test_the_shipped_rules_watch_the_feed() -> None:
    rules = {r.id: r for r in load_rules().rules}
    month = rules["feedback_on_time_month_low"]
    assert (month.kind, month.kpi, month.period) == ("target", "feedback_on_time_rate", "month")
    assert rules["feedback_no_data"].feed == "feedback"


# --- the hotline export -------------------------------------------------------------------------
def test_the_hotline_example_imports() -> None:
    mapping = load_mapping(EXAMPLES / "hotline-1022.yaml", areas=AREAS)
    lines = (EXAMPLES / "hotline-1022.jsonl").read_bytes().splitlines()
    results = [
        mapping.apply(raw, source="hotline", location=f"f:{n}") for n, raw in enumerate(lines)
    ]
    events = [r for r in results if isinstance(r, Envelope)]
    assert len(events) == len(lines)
    assert all(FEED_RULES["feedback"].reject(e) is None for e in events)
    payloads = [e.payload for e in events]
    assert Counter(p.stage for p in payloads) == {
        "received": 4,
        "assigned": 3,
        "answered": 3,
        "closed": 1,
    }
    answered = [
        (e.area, p.agency_code, p.on_time, p.answer_hours)
        for e, p in zip(events, payloads, strict=True)
        if p.stage == "answered"
    ]
    assert answered == [
        ("11953", "UBND-11953", True, 55.3),  # "Phường Phố Hiến"
        ("11986", "SO-XD", False, 571.65),  # "xã như quỳnh", any spelling
        ("33", "TT-PVHCC", True, 1.45),  # no commune: the province
    ]
    assert payloads[0].channel == "hotline" and payloads[4].channel == "zalo"
    assert payloads[-1].category == "other"  # a category the mapping does not list
    assert payloads[3].satisfied is True
    # Local times written dd/mm/yyyy become UTC.
    assert events[0].occurred_at == datetime(2025, 9, 2, 1, 12, tzinfo=UTC)


# --- the simulator ------------------------------------------------------------------------------
async def simulate(start: datetime, days: int, rate: float = 1.0) -> list[Envelope]:
    context = ConnectorContext(
        name="feedback-sim",
        settings=load_settings(),
        areas=AREAS,
        clock=VirtualClock(start, start + timedelta(days=days)),
        seed=7,
        rate=rate,
    )
    return [e async for e in FeedbackSimulator(context).events() if isinstance(e, Envelope)]


@pytest.fixture(scope="module")
async def run() -> list[Envelope]:
    return await simulate(datetime(2025, 9, 8, tzinfo=TZ), 35)


@pytest.fixture(scope="module")
def five_weeks(run: list[Envelope]) -> list[Envelope]:
    """The case events of the run."""
    return [e for e in run if e.event_type == "feedback.case"]


async def test_volumes_are_a_provinces(five_weeks: list[Envelope]) -> None:
    received = Counter(
        e.occurred_at.astimezone(TZ).weekday() for e in five_weeks if e.payload.stage == "received"
    )
    per_working_day = sum(received[d] for d in range(5)) / 25
    assert 50 <= per_working_day <= 70  # ≈ 60 (Quảng Nam 41, Đồng Nai 153 a day)
    assert received[6] / 5 < 0.7 * per_working_day  # quieter Sundays
    channels = Counter(e.payload.channel for e in five_weeks if e.payload.stage == "received")
    assert channels.most_common(1)[0][0] == "hotline"
    assert set(channels) == set(feed("feedback").enums["FeedbackChannel"])


async def test_every_case_lives_its_stages_in_order(five_weeks: list[Envelope]) -> None:
    lives: dict[str, list[Envelope]] = defaultdict(list)
    for e in five_weeks:
        assert FEED_RULES["feedback"].reject(e) is None
        lives[e.payload.case_id].append(e)
    stages = ["received", "assigned", "answered", "closed"]
    picked_up = 0
    for events in lives.values():
        # Cases received before the run started show their later stages only.
        first = stages.index(events[0].payload.stage)
        picked_up += first > 0
        assert [e.payload.stage for e in events] == stages[first : first + len(events)]
        assert len({e.area for e in events}) == 1
        if first > 0:
            continue
        received = events[0].occurred_at
        for e in events[1:]:
            assert e.payload.agency_code and e.payload.due_at > received
        if len(events) >= 3:
            answered = events[2]
            hours = (answered.occurred_at - received).total_seconds() / 3600
            assert answered.payload.answer_hours == pytest.approx(hours, abs=0.01)
    assert picked_up > 100  # a month of history: a live start shows answers at once


async def test_answers_take_hours_at_the_centre_and_days_elsewhere(
    five_weeks: list[Envelope],
) -> None:
    answered = [e.payload for e in five_weeks if e.payload.stage == "answered"]
    centre = [p.answer_hours for p in answered if p.agency_code == "TT-PVHCC"]
    others = [p.answer_hours for p in answered if p.agency_code != "TT-PVHCC"]
    assert max(centre) < 48 and sum(centre) / len(centre) < 8
    assert 24 < sum(others) / len(others) < 24 * 10
    # Cases received in the first two weeks have had their deadline: some are late.
    late = [p for p in answered if not p.on_time]
    assert late and all(p.agency_code != "TT-PVHCC" for p in late)
    assert 0.8 < 1 - len(late) / len(answered) < 1
    agencies = {p.agency_code for p in answered}
    assert {"TT-PVHCC", "CA-TINH", "SO-XD"} <= agencies
    assert any(a.startswith("UBND-") for a in agencies)


async def test_the_daily_backlog_counts_the_open_cases(run: list[Envelope]) -> None:
    """Each agency's open cases at each daily count: assigned before it, answered after."""
    never = datetime.max.replace(tzinfo=UTC)
    lives: dict[str, dict[str, Any]] = defaultdict(dict)
    for e in run:
        if e.event_type == "feedback.case":
            lives[e.payload.case_id].setdefault("first", e.payload.stage)
            lives[e.payload.case_id][e.payload.stage] = e
    spans = []  # (agency, assigned, answered, due) of every case that was ever open in the run
    for life in lives.values():
        if life["first"] == "closed":
            continue  # answered before the run started
        assigned = life.get("assigned")
        start = assigned.occurred_at if assigned else datetime.min.replace(tzinfo=UTC)
        answered = life.get("answered")
        end = answered.occurred_at if answered else never
        if life["first"] == "received" and not assigned:
            continue
        payload = (assigned or answered).payload
        spans.append((payload.agency_code, start, end, payload.due_at))
    counts = [e for e in run if e.event_type == "feedback.backlog"]
    days = {e.occurred_at.astimezone(TZ).date() for e in counts}
    assert len(days) == 35 and len(counts) == 35 * len({e.payload.agency_code for e in counts})
    for e in counts:
        at, agency = e.occurred_at, e.payload.agency_code
        open_ = [due for a, start, end, due in spans if a == agency and start < at <= end]
        assert (e.payload.open, e.payload.overdue) == (len(open_), sum(d < at for d in open_))
        assert e.area == (agency.removeprefix("UBND-") if agency.startswith("UBND-") else "33")
    first = [e.payload for e in counts if e.occurred_at == counts[0].occurred_at]
    assert sum(p.open for p in first) > 50 and sum(p.overdue for p in first) > 0
