"""Simulated online public services (DVC): dossiers of administrative procedures.

Defaults at rate 1 (one province): about 4,000 dossiers (hồ sơ) a working day, received only in
office hours (07:30–11:30 and 13:30–17:00 local, peaking mid-morning and mid-afternoon), plus
about 8% of that on Saturday mornings and none on Sundays. They are spread over 43 procedures
(`_procedures.PROCEDURES`): 28 handled by seven departments as organised since March 2025
(`SO-TP` Sở Tư pháp, `SO-TC`, `SO-NNMT`, `SO-XD`, `SO-YT`, `SO-GDDT`, `SO-NV`; see
`_procedures.DEPARTMENTS`) and 15 by every commune
People's Committee (`UBND-<commune code>`), commune dossiers by population.

Each dossier lives through `received` (online for 75–88% of full-process procedures, 30–55%
of partial ones, never for those not offered online), `processing` (minutes to hours later),
then `resolved` (95.5–99% on time depending on the agency, `on_time` against a due time of
the procedure's working days after receipt, weekends skipped, holidays ignored) or, for 2%,
`returned`; fee-bearing dossiers say at resolution whether the fee was paid online. About 60%
of resolved dossiers get a `dvc.rating` (≈ 96% satisfied, fewer when late). Processing and
resolutions happen in office hours. That makes about 14,000–15,000 events on a working day.
Once a local day (at the first tick after local midnight, and at startup) one `dvc.service`
catalogue event per procedure and agency (about 680) states the service level, eligibility,
fee and online payment.

A profile (`-o profile=hung-yen-2024`, see `profiles`) shapes the catalogue so a day gives the
figures a province reported for a year: every procedure online, every fee payable online, the
share of online services that receive online dossiers.

A dossier's whole life is drawn when it is received and its later stages are emitted when
their time comes, so a run reproduces the same dossiers from the same seed. A run that starts
mid-stream has no dossiers received before its start: their later stages are not emitted.
A `dvc_backlog` incident makes the agency's dossiers due for resolution during the incident
late (a share equal to the intensity) and slows the processing of those received during it.
Events are keyed by dossier id.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import ClassVar, Final
from zoneinfo import ZoneInfo

import numpy as np

from ioc.connectors.base import ConnectorContext, ConnectorError
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
from ioc.connectors.simulated._procedures import COMMUNE, DEPARTMENTS, PROCEDURES, Procedure
from ioc.connectors.simulated.profiles import PROFILES, offered, profile_of
from ioc.events import (
    DossierChannel,
    DossierEvent,
    DossierStage,
    DvcService,
    Envelope,
    SatisfactionRating,
    ServiceLevel,
)

__all__ = ["DvcSimulator"]

_PER_WORKING_DAY: Final = 4_000
# Offices open 07:30–11:30 and 13:30–17:00 on working days: 450 minutes a day.
_MORNING_OPENS: Final = 450
_AFTERNOON_OPENS: Final = 810
_MORNING: Final = 240
_DAY_OPEN: Final = 450
_WEEK_OPEN: Final = 5 * _DAY_OPEN
_A_MONDAY: Final = date(1970, 1, 5)
_ONLINE_SHARE: Final = {
    ServiceLevel.FULL: (0.75, 0.88),
    ServiceLevel.PARTIAL: (0.30, 0.55),
    ServiceLevel.NONE: (0.0, 0.0),
}
_POST_SHARE: Final = 0.03  # of offline dossiers
_RETURNED_SHARE: Final = 0.02
_RATED_SHARE: Final = 0.6
_SATISFIED: Final = (0.965, 0.8)  # on time, late
_MINUTE: Final = 60_000
_HOUR: Final = 60 * _MINUTE
# Draws per dossier: the slots of its event ids, and its number.
_ID_SLOTS: Final = 5

# Dossiers received per half hour; flat within a slot, since desks open on the minute.
_OFFICE = [0.0] * 15 + [0.5, 0.9, 1.0, 1.0, 0.95, 0.9, 0.75, 0.5] + [0.0] * 4
_OFFICE += [0.6, 0.85, 0.9, 0.85, 0.75, 0.6, 0.4] + [0.0] * 14
_ARRIVALS = WeeklyProfile(
    weekday=_OFFICE,
    saturday=[v * 0.15 if i < 24 else 0.0 for i, v in enumerate(_OFFICE)],
    sunday=[0.0] * 48,
    smooth=False,
    normalise=True,
)


@dataclass(frozen=True)
class _Offering:
    """A procedure offered by one agency (a department, or one commune's committee)."""

    procedure: Procedure
    agency: str
    area: str | None  # the commune of a commune committee
    online_share: float


class _Dossier:
    """A dossier whose life was drawn at receipt; the heap emits its stages when due."""

    __slots__ = (
        "area",
        "channel",
        "due",
        "end_ms",
        "end_stage",
        "fee_paid_online",
        "id",
        "ids",
        "offering",
        "on_time",
        "processing_ms",
        "rating_ms",
        "satisfied",
        "score",
    )

    def __init__(
        self, dossier_id: str, offering: _Offering, area: str, due: datetime, ids: bytes
    ) -> None:
        self.id = dossier_id
        self.offering = offering
        self.area = area
        self.due = due
        self.ids = ids
        self.channel = DossierChannel.DESK
        self.processing_ms = 0
        self.end_ms = 0
        self.end_stage = DossierStage.RESOLVED
        self.on_time: bool | None = None
        self.fee_paid_online: bool | None = None
        self.rating_ms: int | None = None
        self.satisfied = True
        self.score = 5

    def event_id(self, stage: int) -> uuid.UUID:
        return uuid_from(self.ids, stage)


_HeapItem = tuple[int, str, int, _Dossier]


class _OfficeClock:
    """Counts the minutes during which offices are open, to place work inside office hours.

    Processing and resolution times are drawn in open minutes and turned back into moments,
    so work spreads over the working day instead of piling up at opening time.
    """

    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz

    def minutes(self, at_ms: int) -> float:
        """Open minutes from a Monday in 1970 to a moment (closed time adds nothing)."""
        local = ms_to_datetime(at_ms).astimezone(self._tz)
        weeks, weekday = divmod((local.date() - _A_MONDAY).days, 7)
        if weekday >= 5:
            return (weeks + 1) * _WEEK_OPEN
        of_day = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
        within = min(max(of_day - _MORNING_OPENS, 0.0), _MORNING) + min(
            max(of_day - _AFTERNOON_OPENS, 0.0), _DAY_OPEN - _MORNING
        )
        return weeks * _WEEK_OPEN + weekday * _DAY_OPEN + within

    def moment(self, minutes: float) -> int:
        """The moment (epoch ms) when `minutes` open minutes have passed."""
        weeks, rest = divmod(minutes, _WEEK_OPEN)
        weekday, within = divmod(rest, _DAY_OPEN)
        opens = _MORNING_OPENS if within < _MORNING else _AFTERNOON_OPENS - _MORNING
        day = _A_MONDAY + timedelta(days=int(weeks) * 7 + int(weekday))
        local = datetime.combine(day, time(0), tzinfo=self._tz)
        return to_ms(local + timedelta(minutes=opens + within))


_STAGES: Final = (DossierStage.RECEIVED, DossierStage.PROCESSING)


class DvcSimulator(SimulatedConnector):
    """Simulated public-service dossiers: received, processed, resolved on time or late, rated.

    About 4,000 dossiers a working day at rate 1 in office hours (≈ 0.17 events/s that day);
    see the module docstring for the volumes and what a mid-stream start leaves out.
    """

    feed = "dvc"
    step: ClassVar[timedelta] = timedelta(seconds=30)
    options_help: ClassVar[Mapping[str, str]] = {
        "profile": "reproduce a province's reported figures for a year: "
        + ", ".join(PROFILES)
        + " (ioc/connectors/simulated/profiles.py)",
    }

    def __init__(self, context: ConnectorContext) -> None:
        """Build the catalogue (from the seed and the areas valid on the start day).

        Raises:
            ConnectorError: a `dvc_backlog` incident names an agency the catalogue lacks, or
                the `profile` option names no profile.
        """
        super().__init__(context)
        rng = self.entity_rng
        population = leaf_weights(self.leaves, "population")
        self._area_cum = np.cumsum(population)
        provinces = context.areas.by_level("province", on=self.start_day)
        self._province = provinces[0].code if provinces else self.codes[0]
        offerings: list[_Offering] = []
        weights: list[float] = []
        for shaped in offered(profile_of(context.options.get("profile")), PROCEDURES):
            procedure = shaped.procedure
            share = float(rng.uniform(*_ONLINE_SHARE[procedure.level]))
            if not shaped.used_online:
                share = 0.0  # offered online, but nobody files it online (a profile's choice)
            if procedure.agency == COMMUNE:
                for i, code in enumerate(self.codes):
                    offerings.append(_Offering(procedure, f"UBND-{code}", code, share))
                    weights.append(procedure.weight * population[i])
            else:
                offerings.append(_Offering(procedure, procedure.agency, None, share))
                weights.append(procedure.weight)
        self._offerings = offerings
        self._offering_cum = np.cumsum(weights) / sum(weights)
        agencies = sorted({o.agency for o in offerings})
        self._on_time = dict(
            zip(agencies, rng.uniform(0.955, 0.99, len(agencies)).tolist(), strict=True)
        )
        self._backlogs: dict[str, list[tuple[int, int, float]]] = {}
        for incident in self.incidents("dvc_backlog"):
            agency = incident.agency or ""
            if agency not in self._on_time:
                known = ", ".join([*DEPARTMENTS, "UBND-<commune code>"])
                raise ConnectorError(
                    f"scenario incident {incident.name or incident.kind!r} targets agency "
                    f"{agency!r}, which the dvc simulator does not have on {self.start_day} "
                    f"(known: {known})"
                )
            self._backlogs.setdefault(agency, []).append(
                (to_ms(incident.start), to_ms(incident.end), incident.intensity)
            )
        self._started_ms = to_ms(self.started_at)
        self._heap: list[_HeapItem] = []
        self._catalogue_day: date | None = None
        self._office = _OfficeClock(self.tz)

    def _backlog(self, agency: str, at_ms: int) -> float:
        """How hard a backlog hits the agency at a moment (0 when none)."""
        return max(
            (i for begin, end, i in self._backlogs.get(agency, ()) if begin <= at_ms < end),
            default=0.0,
        )

    def tick(self, tick: Tick) -> list[Envelope]:
        """The catalogue (once a day), the dossiers received, and the stages that fall due."""
        out: list[tuple[int, str, int, Envelope]] = self._catalogue(tick)
        per_second = _PER_WORKING_DAY * self.context.rate * _ARRIVALS.at(tick.local) / 86_400
        if per_second > 0:
            for dossier, at in self._arrivals(tick, per_second):
                out.append((at, dossier.id, 0, self._stage_event(dossier, 0, at)))
                heapq.heappush(self._heap, (dossier.processing_ms, dossier.id, 1, dossier))
        while self._heap and self._heap[0][0] < tick.end_ms:
            at, dossier_id, stage, dossier = heapq.heappop(self._heap)
            if stage == 3:
                out.append((at, dossier_id, stage, self._rating(dossier, at)))
                continue
            out.append((at, dossier_id, stage, self._stage_event(dossier, stage, at)))
            if stage == 1:
                heapq.heappush(self._heap, (dossier.end_ms, dossier_id, 2, dossier))
            elif dossier.rating_ms is not None:
                heapq.heappush(self._heap, (dossier.rating_ms, dossier_id, 3, dossier))
        out.sort(key=lambda item: item[:3])
        return [envelope for *_, envelope in out]

    def _arrivals(self, tick: Tick, per_second: float) -> list[tuple[_Dossier, int]]:
        """Draw the dossiers received in a tick and their whole lives."""
        rng = tick.rng
        n = int(rng.poisson(per_second * self.step_ms / 1000))
        if n == 0:
            return []
        times = (tick.start_ms + np.sort(rng.integers(0, self.step_ms, n))).tolist()
        offering = np.searchsorted(self._offering_cum, rng.random(n), side="right")
        applicant = np.searchsorted(self._area_cum, rng.random(n), side="right")
        u = rng.random((n, 10)).tolist()
        # Lags in minutes of open offices, except the rating, which citizens give from home.
        processing_lag = (5 + rng.exponential(40, n)).tolist()
        late_lag = (30 + rng.exponential(_DAY_OPEN, n)).tolist()
        backlog_lag = (30 + rng.exponential(120, n)).tolist()
        rating_lag = (10 * _MINUTE + rng.exponential(3 * _HOUR, n)).tolist()
        ids = EventIds(rng, _ID_SLOTS * n)

        arrivals: list[tuple[_Dossier, int]] = []
        for j, at in enumerate(times):
            if at < self._started_ms:
                continue  # received before the run: not part of this run's history
            chosen = self._offerings[min(int(offering[j]), len(self._offerings) - 1)]
            procedure = chosen.procedure
            area = chosen.area or self.codes[min(int(applicant[j]), len(self.codes) - 1)]
            received = ms_to_datetime(at).astimezone(self.tz)
            dossier = _Dossier(
                f"{chosen.agency}-{received:%y%m%d}-{ids.hex(_ID_SLOTS * j + 4, 8)}",
                chosen,
                area,
                _add_working_days(received, procedure.days),
                ids.raw(_ID_SLOTS * j, 4),
            )
            (
                u_online,
                u_post,
                u_returned,
                u_on_time,
                u_fraction,
                u_backlog,
                u_fee,
                u_rated,
                u_satisfied,
                u_score,
            ) = u[j]
            if u_online < chosen.online_share:
                dossier.channel = DossierChannel.ONLINE
            elif u_post < _POST_SHARE:
                dossier.channel = DossierChannel.POST
            online = dossier.channel is DossierChannel.ONLINE
            due_ms = to_ms(dossier.due)
            office = self._office
            slowdown = 1 + 4 * self._backlog(chosen.agency, at)
            processed = office.minutes(at) + processing_lag[j] * slowdown
            dossier.processing_ms = office.moment(processed)
            if u_returned < _RETURNED_SHARE:
                dossier.end_stage = DossierStage.RETURNED
                dossier.end_ms = office.moment(processed + 60 + u_fraction * 840)
                arrivals.append((dossier, at))
                continue
            due = office.minutes(due_ms)
            if u_on_time < self._on_time[chosen.agency]:
                planned = office.moment(
                    processed + 1 + max(0.0, due - processed) * (0.1 + 0.85 * u_fraction)
                )
            else:
                planned = office.moment(due + late_lag[j])
            if planned <= due_ms and u_backlog < self._backlog(chosen.agency, planned):
                planned = office.moment(due + backlog_lag[j])
            dossier.end_ms = planned
            dossier.on_time = planned <= due_ms
            if procedure.fee_bearing:
                dossier.fee_paid_online = procedure.online_payment and u_fee < (
                    0.9 if online else 0.3
                )
            if u_rated < _RATED_SHARE:
                dossier.rating_ms = planned + int(rating_lag[j])
                dossier.satisfied = u_satisfied < _SATISFIED[0 if dossier.on_time else 1]
                dossier.score = (
                    (5 if u_score < 0.7 else 4) if dossier.satisfied else 1 + int(u_score * 3)
                )
            arrivals.append((dossier, at))
        return arrivals

    def _stage_event(self, dossier: _Dossier, stage: int, at: int) -> Envelope:
        offering = dossier.offering
        procedure = offering.procedure
        final = stage == 2
        payload = DossierEvent(
            dossier_id=dossier.id,
            stage=dossier.end_stage if final else _STAGES[stage],
            procedure_code=procedure.code,
            procedure_name=procedure.name,
            agency_code=offering.agency,
            channel=dossier.channel,
            service_level=procedure.level,
            fee_bearing=procedure.fee_bearing,
            fee_paid_online=dossier.fee_paid_online if final else None,
            due_at=dossier.due,
            on_time=dossier.on_time if final else None,
        )
        return self.envelope(
            area=dossier.area,
            key=dossier.id,
            at_ms=at,
            event_id=dossier.event_id(stage),
            payload=payload,
        )

    def _rating(self, dossier: _Dossier, at: int) -> Envelope:
        payload = SatisfactionRating(
            dossier_id=dossier.id,
            agency_code=dossier.offering.agency,
            score=dossier.score,
            satisfied=dossier.satisfied,
        )
        return self.envelope(
            area=dossier.area,
            key=dossier.id,
            at_ms=at,
            event_id=dossier.event_id(3),
            payload=payload,
        )

    def _catalogue(self, tick: Tick) -> list[tuple[int, str, int, Envelope]]:
        """Once a local day (and at startup): the catalogue state of every offering."""
        day = tick.local.date()
        if day == self._catalogue_day:
            return []
        self._catalogue_day = day
        ids = EventIds(tick.stream(2), len(self._offerings))
        at = max(tick.start_ms, self._started_ms)
        out: list[tuple[int, str, int, Envelope]] = []
        for n, offering in enumerate(self._offerings):
            procedure = offering.procedure
            key = f"{offering.agency}/{procedure.code}"
            payload = DvcService(
                procedure_code=procedure.code,
                procedure_name=procedure.name,
                agency_code=offering.agency,
                service_level=procedure.level,
                eligible_full=procedure.eligible_full,
                fee_bearing=procedure.fee_bearing,
                online_payment=procedure.online_payment,
            )
            envelope = self.envelope(
                area=offering.area or self._province,
                key=key,
                at_ms=at,
                event_id=ids(n),
                payload=payload,
            )
            out.append((at, key, -1, envelope))
        return out


def _add_working_days(start: datetime, days: int) -> datetime:
    """The same local time `days` working days (Monday to Friday) later."""
    moment = start
    added = 0
    while added < days:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            added += 1
    return moment
