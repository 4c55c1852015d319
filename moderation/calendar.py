"""Vietnam's working days, and how a period in days ends (Bộ luật Dân sự 2015, Điều 147–148).

Weekends, public holidays and the days off moved when a holiday falls on a weekend come from the
`holidays` package (VN: Tết, Hùng Kings, 30/4, 1/5, 2/9 and their observed days, and the weekend
days it knows were worked). The government's yearly day swaps it does not know yet, and local days
off, are overrides staff keep in the `calendar_overrides` table (moderation/calendar_store.py):
an override says a date is worked, or is off, and wins over the package.

Every date here is a calendar date in Vietnam (ICT, UTC+7, no daylight saving)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

import holidays

from .errors import ValidationError

VIETNAM = timezone(timedelta(hours=7), "ICT")


@dataclass(frozen=True)
class Override:
    """A day the package gets wrong for this year or this province."""

    day: date
    working: bool  # True: a Saturday worked (swap), False: a weekday off
    note: str = ""


@functools.lru_cache(maxsize=64)
def _national(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year, language="vi")  # not the process locale


def local_date(moment: datetime) -> date:
    """The day in Vietnam a moment falls on."""
    return moment.astimezone(VIETNAM).date()


def end_of_day(day: date) -> datetime:
    """A period ends at the end of its last day (Điều 148.1): 24:00 in Vietnam, as an aware UTC moment."""
    return datetime.combine(day + timedelta(days=1), time(0), VIETNAM).astimezone(UTC)


def parse_moment(raw: object, reason: str, *, naive_is_vietnam: bool = True) -> datetime:
    """An ISO 8601 moment given as `--as-of` or `?as_of=` (aware; a date or a time without an offset is
    Vietnam's, unless `naive_is_vietnam` is False, where it is refused); refused as `reason` on as_of."""
    try:
        moment = datetime.fromisoformat(raw.strip()) if isinstance(raw, str) else None
    except ValueError:
        moment = None
    if moment is not None and moment.tzinfo is None and naive_is_vietnam:
        moment = moment.replace(tzinfo=VIETNAM)
    if moment is None or moment.tzinfo is None:
        raise ValidationError(reason, field="as_of")
    return moment


class Calendar:
    def __init__(self, overrides: Mapping[date, Override] | None = None) -> None:
        self.overrides: dict[date, Override] = dict(overrides or {})

    def is_working_day(self, day: date) -> bool:
        found = self.overrides.get(day)
        if found is not None:
            return found.working
        return bool(_national(day.year).is_working_day(day))

    def why_off(self, day: date) -> str | None:
        """The holiday's or the override's name for a day off, or "weekend"; None on a working day."""
        if self.is_working_day(day):
            return None
        found = self.overrides.get(day)
        if found is not None:
            return found.note or "override"
        return _national(day.year).get(day) or "weekend"

    def next_working_day(self, day: date) -> date:
        """`day` itself when it is worked, else the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def after_days(self, start: date, days: int) -> date:
        """The last day of a period of `days` days from an event on `start`: counting begins the next
        day (Điều 147.1); a last day that is a weekend or a holiday moves to the next working day
        (Điều 148.5). A session closed on Wednesday 2/12/2026 plus 3 days: Monday 7/12, not Saturday 5."""
        if days < 0:
            raise ValueError("a period cannot be negative")
        return self.next_working_day(start + timedelta(days=days))

    def after_working_days(self, start: date, days: int) -> date:
        """The last day of a period of `days` working days from an event on `start` (the event's own
        day does not count, worked or not)."""
        if days < 0:
            raise ValueError("a period cannot be negative")
        day = start
        left = days
        while left > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, first: date, last: date) -> int:
        """Working days after `first` up to and including `last` (0 when last <= first)."""
        count, day = 0, first
        while day < last:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count
