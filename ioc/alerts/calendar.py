"""When each feed is expected to send data: office hours and Vietnam's public holidays, as data.

DVC receives dossiers only while the one-stop shops are open; a no-data rule that counted its
silence by the wall clock would fire every night, every weekend and through Tết. The calendar
file (`ioc/data/feed_calendar.yaml`) lists, per feed, the hours it is open and whether the
public holidays close it; :class:`FeedCalendar` answers the two questions the evaluator asks:

- :meth:`FeedCalendar.open_minutes`: how much opening time lies between two moments (a
  no-data rule's silence is counted in it);
- :meth:`FeedCalendar.quiet_reason`: whether the feed is expected to be quiet at a moment, and
  why (outside office hours, or which holiday).

A feed the file does not list is open at every moment, so its rules behave as before.

Example:
    >>> from datetime import UTC, datetime
    >>> cal = load_calendar()
    >>> cal.quiet_reason("dvc", datetime(2025, 9, 2, 3, 0, tzinfo=UTC))  # 10:00, Quốc khánh
    'Quốc khánh'
    >>> cal.quiet_reason("dvc", datetime(2025, 9, 3, 3, 0, tzinfo=UTC)) is None  # a Wednesday
    True
    >>> cal.open_minutes("dvc", datetime(2025, 9, 3, 0, 0, tzinfo=UTC),
    ...                  datetime(2025, 9, 3, 12, 0, tzinfo=UTC))  # 07:00 to 19:00 local
    450.0
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ioc.datafile import DataFileError, load_document, read_text
from ioc.events import FEEDS
from ioc.localtime import ZONE, local_date
from ioc.text import Language

__all__ = ["CalendarFile", "FeedCalendar", "load_calendar"]

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_DAYS: Final[tuple[Day, ...]] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SEARCH: Final = timedelta(days=60)  # how far back `open_since` looks for opening time
_OUTSIDE_HOURS: Final[dict[Language, str]] = {
    "vi": "ngoài giờ làm việc",
    "en": "outside office hours",
}


class Shift(BaseModel):
    """Some weekdays and the local hours the feed's offices are open on them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: tuple[Day, ...] = Field(min_length=1)
    hours: tuple[str, ...] = Field(min_length=1)

    @field_validator("hours")
    @classmethod
    def _hours_read(cls, hours: tuple[str, ...]) -> tuple[str, ...]:
        for text in hours:
            start, end = _span(text)
            if start >= end:
                raise ValueError(f"{text!r}: write HH:MM-HH:MM, the start before the end")
        return hours

    def spans(self) -> list[tuple[time, time]]:
        """The hours as (start, end) local times."""
        return [_span(text) for text in self.hours]


def _span(text: str) -> tuple[time, time]:
    try:
        start, end = text.split("-")
        return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    except ValueError:
        raise ValueError(f"{text!r}: write HH:MM-HH:MM, e.g. 07:30-11:30") from None


class FeedHours(BaseModel):
    """When one feed is open."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    open: tuple[Shift, ...] = Field(min_length=1)
    holidays: bool = True


class Holiday(BaseModel):
    """A public holiday (or a worked weekend day, in `workdays`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: date
    name_vi: str
    name_en: str = ""


class CalendarFile(BaseModel):
    """The whole calendar file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feeds: dict[str, FeedHours] = Field(default_factory=dict)
    holidays: tuple[Holiday, ...] = ()
    workdays: tuple[Holiday, ...] = ()

    @model_validator(mode="after")
    def _known_feeds(self) -> CalendarFile:
        for feed in self.feeds:
            if feed not in FEEDS:
                raise ValueError(
                    f"unknown feed {feed!r} (declared: {', '.join(FEEDS)}; feeds are declared "
                    "in ioc/data/feeds/, by a plugin, or in IOC_FEEDS_DIR)"
                )
        return self


@dataclass(frozen=True)
class FeedCalendar:
    """The calendar file, ready to answer when a feed is expected to be open."""

    data: CalendarFile

    def listed(self, feed: str) -> bool:
        """True if the feed has office hours (else it is open at every moment)."""
        return feed in self.data.feeds

    def holiday(self, day: date) -> Holiday | None:
        """The public holiday on a local day, if it is one."""
        return next((h for h in self.data.holidays if h.date == day), None)

    def _spans(self, feed: str, day: date) -> list[tuple[time, time]]:
        """The local opening hours of a feed on a day (empty: closed all day)."""
        hours = self.data.feeds[feed]
        if hours.holidays and self.holiday(day) is not None:
            return []
        weekday = _DAYS[day.weekday()]
        if any(w.date == day for w in self.data.workdays):
            weekday = "mon"  # a worked Saturday keeps a Monday's hours
        return [span for shift in hours.open if weekday in shift.days for span in shift.spans()]

    def _intervals(self, feed: str, day: date) -> list[tuple[datetime, datetime]]:
        return [
            (
                datetime.combine(day, start, ZONE).astimezone(UTC),
                datetime.combine(day, end, ZONE).astimezone(UTC),
            )
            for start, end in self._spans(feed, day)
        ]

    def is_open(self, feed: str, at: datetime) -> bool:
        """True if the feed is expected to send data at `at` (aware)."""
        if not self.listed(feed):
            return True
        return any(s <= at < e for s, e in self._intervals(feed, local_date(at)))

    def quiet_reason(self, feed: str, at: datetime, language: Language = "vi") -> str | None:
        """Why the feed is expected to be quiet at `at`: a holiday's name, or outside hours.

        Returns:
            None when the feed is expected to send data then.
        """
        if self.is_open(feed, at):
            return None
        holiday = self.holiday(local_date(at))
        if holiday is not None and self.data.feeds[feed].holidays:
            return holiday.name_vi if language == "vi" else holiday.name_en or holiday.name_vi
        return _OUTSIDE_HOURS[language]

    def open_minutes(self, feed: str, start: datetime, end: datetime) -> float:
        """Minutes of the feed's opening time in [start, end) (all of them for an unlisted feed)."""
        if end <= start:
            return 0.0
        if not self.listed(feed):
            return (end - start).total_seconds() / 60
        total = 0.0
        day = local_date(start)
        while day <= local_date(end):
            for s, e in self._intervals(feed, day):
                overlap = min(e, end) - max(s, start)
                total += max(overlap.total_seconds(), 0.0) / 60
            day += timedelta(days=1)
        return total

    def open_since(self, feed: str, end: datetime, minutes: float) -> datetime:
        """The moment from which `minutes` of opening time run up to `end`.

        For an unlisted feed, simply `end - minutes`; a listed one looks back at most 60 days
        (a feed closed longer than that is taken as open since then).
        """
        if not self.listed(feed):
            return end - timedelta(minutes=minutes)
        left = minutes
        day = local_date(end)
        while day >= local_date(end - _SEARCH):
            for s, e in reversed(self._intervals(feed, day)):
                e = min(e, end)
                if e <= s:
                    continue
                length = (e - s).total_seconds() / 60
                if length >= left:
                    return e - timedelta(minutes=left)
                left -= length
            day -= timedelta(days=1)
        return end - _SEARCH


def load_calendar(path: Path | None = None) -> FeedCalendar:
    """Read and check a calendar file (None = the shipped `ioc/data/feed_calendar.yaml`).

    Raises:
        DataFileError: every problem, as `file:line: field: reason`.
    """
    from importlib import resources

    if path is None:
        resource = resources.files("ioc") / "data" / "feed_calendar.yaml"
        source, text = str(resource), resource.read_text(encoding="utf-8")
    else:
        source, text = str(path), read_text(path)
    data, doc = load_document(source, text, CalendarFile)
    seen: dict[date, int] = {}
    problems = []
    for i, holiday in enumerate(data.holidays):
        if holiday.date in seen:
            problems.append(doc.problem(["holidays", i, "date"], f"{holiday.date} is listed twice"))
        seen[holiday.date] = i
    problems += [
        doc.problem(["workdays", i, "date"], f"{w.date} is listed as a holiday too")
        for i, w in enumerate(data.workdays)
        if w.date in seen
    ]
    if problems:
        raise DataFileError(source, problems)
    return FeedCalendar(data)
