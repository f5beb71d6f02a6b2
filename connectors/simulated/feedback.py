"""Simulated citizen feedback and petitions (phản ánh, kiến nghị — PAKN) of a province's hotline.

Defaults at rate 1 (one province): about 60 cases on a working day, 60% of that on Saturdays
and 50% on Sundays, received day and night (the 1022 hotline's chatbot, app and portal never
close) with peaks mid-morning and mid-afternoon, spread over the communes by population. That
figure is an ESTIMATE between what provinces published:

- Quảng Nam, Tổng đài 1022: 11,224 "lượt thông tin, phản ánh kiến nghị" from 1/1 to 30/9/2024
  (≈ 41 a day), 1,382 in September 2024 (baoquangnam.vn, "Trong 9 tháng, Tổng đài 1022 tiếp
  nhận hơn 11.200 lượt phản ánh kiến nghị");
- Đồng Tháp, Tổng đài 1022: 442 "phiếu xử lý ý kiến, phản ánh, kiến nghị" in April 2022
  (tthcc.dongthap.gov.vn, "Kết quả hoạt động tháng 04 năm 2022 của Tổng đài … 1022");
- Đồng Nai, Tổng đài 1022: 55,821 contacts in 2022 (≈ 153 a day), 55,750 handled (99.87%)
  (baodongnai.com.vn, "Tổng đài dịch vụ công 1022 hỗ trợ, xử lý 99,87% phản ánh, kiến nghị").

The channel mix is an estimate blending the two reports that give one: Quảng Nam (September
2024: 316 calls, 746 chatbot, 161 Facebook, 106 Zalo, 39 website/app, 14 email) and Đồng Tháp
(April 2022: 346 calls, 42 Zalo, 38 website, 13 Facebook, 3 email): hotline 45%, chatbot 20%,
Zalo 10%, Facebook 8%, web 6%, app 5%, email 2%, in person 4%. The category mix (a third
about administrative procedures, then urban order, environment, utilities, traffic, land) and
the routing of categories to agencies are ESTIMATES from the subjects those reports list.

Each case lives through `received` (channel, category), `assigned` (5 minutes to a few hours
later, to the agency that must answer: the hotline centre `TT-PVHCC` itself for most questions
about procedures, a department of `_procedures.DEPARTMENTS`, the provincial police `CA-TINH`,
or the commune's People's Committee `UBND-<commune code>`), `answered` and `closed`. The
deadline (`due_at`) is 15 working days after receipt (weekends skipped, holidays ignored): the
term "không quá 15 ngày làm việc kể từ ngày tiếp nhận" that provincial rules for PAKN under
Nghị định 20/2008/NĐ-CP (amended by Nghị định 92/2017/NĐ-CP) use, and the term of QĐ 766's
indicator "Tiến độ xử lý phản ánh, kiến nghị" as transcribed (reviews/vn-indicators.md §1.4,
5.2, unconfirmed against the annex). The hotline centre answers its cases within hours; other
agencies answer within days (on time for a share of 85–98% drawn per agency: an ESTIMATE, the
reports give handled shares of 99%, not on-time shares), late ones some days after the
deadline. `answer_hours` is the time from receipt to answer. About 80% of answered cases get a
rating at closing, satisfied for 95% of on-time answers and 60% of late ones (ESTIMATES below
Đồng Tháp's April 2022: 419 of 431 answered cases rated, all "hài lòng" or "hữu ích"); the
others close two days after the answer without one.

Once a local day (at the first tick after local midnight, and at startup) one
`feedback.backlog` event per agency counts the cases it has open (assigned, not answered) and
how many of those are past their deadline, as the hotline's case system shows them.

A case's whole life is drawn when it is received and its later stages are emitted when their
time comes, so a run reproduces the same cases from the same seed. A run starts with the cases
received in the 30 days before its start (drawn from the ticks of those days, as a longer run
would have; fewer days above rate 80, at most about 150,000 cases): their stages that fall after
the start are emitted, their received events (and those before the start) are not, and they
count in the backlog. So a run that starts now shows answers, late ones and a backlog at once,
as a province's would. Case events are keyed by case id, backlog events by agency.
"""

from __future__ import annotations

import heapq
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from typing import ClassVar, Final

import numpy as np

from ioc.connectors.base import ConnectorContext
from ioc.connectors.simulated._base import (
    EventIds,
    SimulatedConnector,
    Tick,
    WeeklyProfile,
    leaf_weights,
    ms_to_datetime,
    to_ms,
    uuid_from,
)
from ioc.connectors.simulated._procedures import DEPARTMENTS
from ioc.events import (
    Envelope,
    FeedbackBacklog,
    FeedbackCase,
    FeedbackCategory,
    FeedbackChannel,
    FeedbackStage,
)

__all__ = ["AGENCIES", "FeedbackSimulator"]

_PER_WORKING_DAY: Final = 60
_HISTORY: Final = timedelta(days=30)  # cases received before the start that a run picks up
# At most about this many cases of history (≈ 100 MB, a few seconds): shorter at high rates.
_HISTORY_CASES: Final = 150_000
_DUE_WORKING_DAYS: Final = 15
_CENTRE: Final = "TT-PVHCC"
_POLICE: Final = "CA-TINH"
_COMMUNE: Final = "UBND"
AGENCIES: Final[dict[str, str]] = {
    _CENTRE: "Trung tâm Phục vụ hành chính công tỉnh (Tổng đài 1022)",
    _POLICE: "Công an tỉnh",
    **DEPARTMENTS,
}
"""The agencies cases go to besides the communes' People's Committees (UBND-<commune code>)."""

_CHANNELS: Final = {
    FeedbackChannel.HOTLINE: 0.45,
    FeedbackChannel.CHATBOT: 0.20,
    FeedbackChannel.ZALO: 0.10,
    FeedbackChannel.FACEBOOK: 0.08,
    FeedbackChannel.WEB: 0.06,
    FeedbackChannel.APP: 0.05,
    FeedbackChannel.EMAIL: 0.02,
    FeedbackChannel.IN_PERSON: 0.04,
}
_CATEGORIES: Final = {
    FeedbackCategory.ADMINISTRATIVE: 0.33,
    FeedbackCategory.URBAN_ORDER: 0.12,
    FeedbackCategory.ENVIRONMENT: 0.11,
    FeedbackCategory.PUBLIC_UTILITIES: 0.11,
    FeedbackCategory.TRAFFIC: 0.09,
    FeedbackCategory.LAND_CONSTRUCTION: 0.10,
    FeedbackCategory.SOCIAL: 0.08,
    FeedbackCategory.SECURITY: 0.04,
    FeedbackCategory.OTHER: 0.02,
}
# Who answers each category, and how often ("UBND": the case's commune).
_ROUTES: Final[dict[FeedbackCategory, tuple[tuple[str, float], ...]]] = {
    FeedbackCategory.ADMINISTRATIVE: ((_CENTRE, 0.6), (_COMMUNE, 0.25), ("SO-TC", 0.15)),
    FeedbackCategory.TRAFFIC: (("SO-XD", 0.5), (_POLICE, 0.2), (_COMMUNE, 0.3)),
    FeedbackCategory.ENVIRONMENT: (("SO-NNMT", 0.5), (_COMMUNE, 0.5)),
    FeedbackCategory.URBAN_ORDER: ((_COMMUNE, 0.85), ("SO-XD", 0.15)),
    FeedbackCategory.PUBLIC_UTILITIES: ((_COMMUNE, 0.5), ("SO-XD", 0.5)),
    FeedbackCategory.LAND_CONSTRUCTION: ((_COMMUNE, 0.6), ("SO-NNMT", 0.25), ("SO-XD", 0.15)),
    FeedbackCategory.SOCIAL: (("SO-YT", 0.4), ("SO-GDDT", 0.2), ("SO-NV", 0.2), (_COMMUNE, 0.2)),
    FeedbackCategory.SECURITY: ((_POLICE, 0.6), (_COMMUNE, 0.4)),
    FeedbackCategory.OTHER: ((_CENTRE, 0.7), (_COMMUNE, 0.3)),
}
_ON_TIME: Final = (0.85, 0.98)  # per agency; the hotline centre's own answers are always on time
_RATED_SHARE: Final = 0.8
_SATISFIED: Final = (0.95, 0.6)  # on time, late
_MINUTE: Final = 60_000
_HOUR: Final = 60 * _MINUTE
_DAY: Final = 24 * _HOUR
# Event id slots per case: one per stage, and one for its number.
_ID_SLOTS: Final = 5

# Cases received per hour of a working day: few at night (chatbot, app), office-hours peaks.
_DAYTIME = [0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 2.0, 2.4, 2.3, 2.0, 1.5]
_DAYTIME += [1.0, 1.4, 2.0, 2.1, 1.9, 1.5, 1.1, 0.9, 0.8, 0.6, 0.4, 0.3]
_ARRIVALS = WeeklyProfile(
    weekday=_DAYTIME,
    saturday=[v * 0.6 for v in _DAYTIME],
    sunday=[v * 0.5 for v in _DAYTIME],
    normalise=True,
)


class _Case:
    """A case whose life was drawn at receipt; the heap emits its stages when due."""

    __slots__ = (
        "agency",
        "area",
        "category",
        "channel",
        "due",
        "id",
        "ids",
        "on_time",
        "received_ms",
        "satisfied",
        "times",
    )

    def __init__(
        self,
        case_id: str,
        area: str,
        channel: FeedbackChannel,
        category: FeedbackCategory,
        received_ms: int,
        ids: bytes,
    ) -> None:
        self.id = case_id
        self.area = area
        self.channel = channel
        self.category = category
        self.received_ms = received_ms
        self.ids = ids
        self.agency = _CENTRE
        self.due = ms_to_datetime(received_ms)
        self.times = (received_ms, received_ms, received_ms, received_ms)
        self.on_time = True
        self.satisfied: bool | None = None

    def event_id(self, stage: int) -> uuid.UUID:
        return uuid_from(self.ids, stage)


_HeapItem = tuple[int, str, int, _Case]
_STAGES: Final = (
    FeedbackStage.RECEIVED,
    FeedbackStage.ASSIGNED,
    FeedbackStage.ANSWERED,
    FeedbackStage.CLOSED,
)


class FeedbackSimulator(SimulatedConnector):
    """Simulated PAKN cases: received on a channel, assigned, answered on time or late, closed.

    About 60 cases a working day at rate 1 (four events each); see the module docstring for
    where the figures come from and which are estimates.
    """

    feed = "feedback"
    step: ClassVar[timedelta] = timedelta(seconds=60)

    def __init__(self, context: ConnectorContext) -> None:
        """Draw the agencies' on-time shares (from the seed and the areas of the start day)."""
        super().__init__(context)
        rng = self.entity_rng
        self._area_cum = np.cumsum(leaf_weights(self.leaves, "population"))
        self._channels = list(_CHANNELS)
        self._channel_cum = np.cumsum(list(_CHANNELS.values()))
        self._categories = list(_CATEGORIES)
        self._category_cum = np.cumsum(list(_CATEGORIES.values()))
        agencies = [*AGENCIES, *(f"{_COMMUNE}-{code}" for code in self.codes)]
        shares = rng.uniform(*_ON_TIME, len(agencies)).tolist()
        self._on_time = dict(zip(agencies, shares, strict=True))
        self._on_time[_CENTRE] = 1.0
        self._started_ms = to_ms(self.started_at)
        self._heap: list[_HeapItem] = []
        self._open: dict[str, _Case] = {}  # assigned, not answered yet
        self._backlog_day: date | None = None
        self._history_done = False

    def _history(self) -> None:
        """Draw the cases received in the days before the start, as a longer run would."""
        days = _HISTORY_CASES / (_PER_WORKING_DAY * self.context.rate)
        history = min(_HISTORY, timedelta(days=days))
        first = (self._started_ms - to_ms(self.started_at - history)) // self.step_ms
        index = self._started_ms // self.step_ms
        # The tick holding the start too: its cases received before the start are history.
        for i in range(index - first, index + 1):
            tick = Tick(i, self.step_ms, self.key, self.tz)
            per_second = self._per_second(tick)
            for case in self._arrivals(tick, per_second, before_start=True):
                if case.times[1] < self._started_ms <= case.times[2]:
                    self._open[case.id] = case
                later = [s for s in (1, 2, 3) if case.times[s] >= self._started_ms]
                if later:
                    stage = later[0]
                    heapq.heappush(self._heap, (case.times[stage], case.id, stage, case))

    def _per_second(self, tick: Tick) -> float:
        return _PER_WORKING_DAY * self.context.rate * _ARRIVALS.at(tick.local) / 86_400

    def tick(self, tick: Tick) -> list[Envelope]:
        """The backlog (once a day), the cases received, and the later stages that fall due."""
        if not self._history_done:
            self._history()
            self._history_done = True
        out = self._backlog(tick)
        for case in self._arrivals(tick, self._per_second(tick)):
            out.append((case.received_ms, case.id, 0, self._event(case, 0)))
            heapq.heappush(self._heap, (case.times[1], case.id, 1, case))
        while self._heap and self._heap[0][0] < tick.end_ms:
            at, case_id, stage, case = heapq.heappop(self._heap)
            out.append((at, case_id, stage, self._event(case, stage)))
            if stage == 1:
                self._open[case_id] = case
            elif stage == 2:
                self._open.pop(case_id, None)
            if stage < 3:
                heapq.heappush(self._heap, (case.times[stage + 1], case_id, stage + 1, case))
        out.sort(key=lambda item: item[:3])
        return [envelope for *_, envelope in out]

    def _backlog(self, tick: Tick) -> list[tuple[int, str, int, Envelope]]:
        """Once a local day (and at startup): each agency's open and overdue cases."""
        day = tick.local.date()
        if day == self._backlog_day:
            return []
        self._backlog_day = day
        at = max(tick.start_ms, self._started_ms)
        now = ms_to_datetime(at)
        open_: Counter[str] = Counter()
        overdue: Counter[str] = Counter()
        for case in self._open.values():
            open_[case.agency] += 1
            overdue[case.agency] += case.due < now
        ids = EventIds(tick.stream(2), len(self._on_time))
        out: list[tuple[int, str, int, Envelope]] = []
        for n, agency in enumerate(self._on_time):
            commune = agency.removeprefix(f"{_COMMUNE}-") if agency.startswith(_COMMUNE) else None
            province = self.province.code if self.province is not None else self.codes[0]
            payload = FeedbackBacklog(
                agency_code=agency, open=open_[agency], overdue=overdue[agency]
            )
            envelope = self.envelope(
                area=commune or province, key=agency, at_ms=at, event_id=ids(n), payload=payload
            )
            out.append((at, agency, -1, envelope))
        return out

    def _arrivals(
        self, tick: Tick, per_second: float, *, before_start: bool = False
    ) -> list[_Case]:
        """Draw the cases received in a tick and their whole lives."""
        rng = tick.rng
        n = int(rng.poisson(per_second * self.step_ms / 1000))
        if n == 0:
            return []
        times = (tick.start_ms + np.sort(rng.integers(0, self.step_ms, n))).tolist()
        area = np.searchsorted(self._area_cum, rng.random(n) * self._area_cum[-1], side="right")
        channel = np.searchsorted(self._channel_cum, rng.random(n), side="right")
        category = np.searchsorted(self._category_cum, rng.random(n), side="right")
        u = rng.random((n, 5)).tolist()
        assign_lag = (5 * _MINUTE + rng.exponential(90 * _MINUTE, n)).tolist()
        centre_lag = (10 * _MINUTE + rng.exponential(4 * _HOUR, n)).tolist()
        fraction = np.minimum(rng.exponential(0.2, n), 0.95).tolist()
        late_lag = (_HOUR + rng.exponential(4 * _DAY, n)).tolist()
        rating_lag = (_HOUR + rng.exponential(_DAY, n)).tolist()
        ids = EventIds(rng, _ID_SLOTS * n)

        cases: list[_Case] = []
        for j, at in enumerate(times):
            if (at < self._started_ms) is not before_start:
                continue  # history is drawn once, at the start (`_history`)
            code = self.codes[min(int(area[j]), len(self.codes) - 1)]
            received = ms_to_datetime(at).astimezone(self.tz)
            cat = self._categories[min(int(category[j]), len(self._categories) - 1)]
            case = _Case(
                f"PAKN-{received:%y%m%d}-{ids.hex(_ID_SLOTS * j + 4, 8)}",
                code,
                self._channels[min(int(channel[j]), len(self._channels) - 1)],
                cat,
                at,
                ids.raw(_ID_SLOTS * j, 4),
            )
            u_route, u_on_time, u_rated, u_satisfied, _ = u[j]
            agency = _route(cat, u_route)
            case.agency = f"{_COMMUNE}-{code}" if agency == _COMMUNE else agency
            case.due = _working_days_later(received, _DUE_WORKING_DAYS)
            due_ms = to_ms(case.due)
            assigned = at + int(assign_lag[j])
            if case.agency == _CENTRE:
                answered = assigned + int(centre_lag[j])
            elif u_on_time < self._on_time[case.agency]:
                answered = assigned + int(max(0, due_ms - assigned) * fraction[j])
            else:
                answered = due_ms + int(late_lag[j])
            case.on_time = answered <= due_ms
            if u_rated < _RATED_SHARE:
                closed = answered + int(rating_lag[j])
                case.satisfied = u_satisfied < _SATISFIED[0 if case.on_time else 1]
            else:
                closed = answered + 2 * _DAY
            case.times = (at, assigned, answered, closed)
            cases.append(case)
        return cases

    def _event(self, case: _Case, stage: int) -> Envelope:
        at = case.times[stage]
        answered = stage == 2
        payload = FeedbackCase(
            case_id=case.id,
            stage=_STAGES[stage],
            channel=case.channel,
            category=case.category,
            agency_code=case.agency if stage > 0 else None,
            due_at=case.due if stage > 0 else None,
            on_time=case.on_time if answered else None,
            answer_hours=round((at - case.received_ms) / _HOUR, 2) if answered else None,
            satisfied=case.satisfied if stage == 3 else None,
        )
        return self.envelope(
            area=case.area, key=case.id, at_ms=at, event_id=case.event_id(stage), payload=payload
        )


def _route(category: FeedbackCategory, draw: float) -> str:
    """The agency (or "UBND" for the case's commune) a draw in [0, 1) picks for a category."""
    total = 0.0
    routes = _ROUTES[category]
    for agency, share in routes:
        total += share
        if draw < total:
            return agency
    return routes[-1][0]


def _working_days_later(start: datetime, days: int) -> datetime:
    """The same local time `days` working days (Monday to Friday) later."""
    moment = start
    added = 0
    while added < days:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            added += 1
    return moment
