"""The calendar's overrides in the store (calendar_overrides): the government's yearly day swaps and
local days off, which admins keep (page and CLI). Deadlines are computed with `load(conn)` inside the
transaction that sets them, so a change of the table applies to the next deadline computed.

An override is a date, whether it is worked or off, and a note saying why (the decision's number,
say). Only an administrator adds or removes one; each change is audited in its transaction. An
override must change the day (a Saturday marked off, or a Tuesday marked worked, is refused: it
would only hide a typo), and a date holds one override: remove it to enter another."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import holidays
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from . import audit
from . import schema as s
from .calendar import Calendar, Override
from .errors import Forbidden, NotFound, ValidationError
from .roles import Actor, Role
from .text import clean_line

if TYPE_CHECKING:
    from .store import Store

MIN_YEAR, MAX_YEAR = 2000, 2100  # the years the holidays package and the deadlines make sense for
NOTE_MAX = 200  # calendar_overrides.note
WORKING, OFF = "working", "off"


def load(conn: Connection) -> Calendar:
    rows = conn.execute(select(s.calendar_overrides.c.day, s.calendar_overrides.c.working,
                               s.calendar_overrides.c.note))
    return Calendar({r.day: Override(r.day, bool(r.working), r.note or "") for r in rows})


async def current(store: Store) -> Calendar:
    async with store.read_engine.connect() as conn:
        return await conn.run_sync(load)


# -- the overrides, as admins keep them ------------------------------------------------------------


@dataclass(frozen=True)
class StoredOverride:
    day: date
    working: bool
    note: str
    created_by: str
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "working": self.working, "kind": WORKING if self.working else OFF,
                "note": self.note, "created_by": self.created_by, "created_at": self.created_at.isoformat()}


def parse_override_day(value: Any) -> date:
    """An ISO date (YYYY-MM-DD) between MIN_YEAR and MAX_YEAR."""
    if isinstance(value, datetime):
        raise ValidationError("cal_bad_date", field="day")
    if isinstance(value, date):
        day = value
    elif isinstance(value, str) and len(value.strip()) == 10:
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError("cal_bad_date", field="day") from None
    else:
        raise ValidationError("cal_bad_date", field="day")
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValidationError("cal_bad_year", field="day", min=MIN_YEAR, max=MAX_YEAR)
    return day


def parse_year(value: Any) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise ValidationError("cal_bad_year", field="year", min=MIN_YEAR, max=MAX_YEAR) from None
    if isinstance(value, bool) or not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError("cal_bad_year", field="year", min=MIN_YEAR, max=MAX_YEAR)
    return year


def parse_kind(value: Any) -> bool:
    """`working` (True) or `off` (False); a JSON boolean too."""
    if isinstance(value, bool):
        return value
    if value == WORKING:
        return True
    if value == OFF:
        return False
    raise ValidationError("cal_bad_kind", field="working")


def parse_note(value: Any) -> str:
    note = clean_line(value) if isinstance(value, str) else ""
    if not note or len(note) > NOTE_MAX:
        raise ValidationError("cal_note_required", field="note", max=NOTE_MAX)
    return note


def _admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise Forbidden("cal_admin_only")


def _row(r: Any) -> StoredOverride:
    return StoredOverride(r.day, bool(r.working), r.note or "", r.created_by, r.created_at)


def _add(conn: Connection, day: date, working: bool, note: str, actor: Actor, now: datetime) -> StoredOverride:
    exists = conn.execute(select(s.calendar_overrides).where(s.calendar_overrides.c.day == day)).first()
    if exists is not None:
        raise ValidationError("cal_override_exists", field="day", day=day.strftime("%d/%m/%Y"))
    if load(conn).is_working_day(day) == working:
        raise ValidationError("cal_no_change" if working else "cal_no_change_off", field="working",
                              day=day.strftime("%d/%m/%Y"))
    conn.execute(insert(s.calendar_overrides), {"day": day, "working": working, "note": note,
                                                "created_by": actor.name, "created_at": now})
    audit.append(conn, actor, "calendar_override_add", now, day=day.isoformat(),
                 kind=WORKING if working else OFF, note=note)
    return StoredOverride(day, working, note, actor.name, now)


def _remove(conn: Connection, day: date, actor: Actor, now: datetime) -> StoredOverride:
    found = conn.execute(select(s.calendar_overrides).where(s.calendar_overrides.c.day == day)).first()
    if found is None:
        raise NotFound("cal_override_not_found", field="day", day=day.strftime("%d/%m/%Y"))
    conn.execute(delete(s.calendar_overrides).where(s.calendar_overrides.c.day == day))
    removed = _row(found)
    audit.append(conn, actor, "calendar_override_remove", now, day=day.isoformat(),
                 kind=WORKING if removed.working else OFF, note=removed.note, added_by=removed.created_by)
    return removed


class CalendarStore:
    """The overrides' admin side: every change checked (role, date, kind, note) before it is written."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.clock = clock

    async def add(self, day: Any, kind: Any, note: Any, actor: Actor) -> StoredOverride:
        _admin(actor)
        parsed_day, working, text = parse_override_day(day), parse_kind(kind), parse_note(note)
        try:
            async with self.store.write_engine.begin() as conn:
                return await conn.run_sync(_add, parsed_day, working, text, actor, self.clock())
        except IntegrityError:  # PostgreSQL: another admin's insert of the same day won the race
            raise ValidationError("cal_override_exists", field="day", day=parsed_day.strftime("%d/%m/%Y")) from None

    async def remove(self, day: Any, actor: Actor) -> StoredOverride:
        _admin(actor)
        parsed_day = parse_override_day(day)
        async with self.store.write_engine.begin() as conn:
            return await conn.run_sync(_remove, parsed_day, actor, self.clock())

    async def overrides(self, year: int | None = None) -> list[StoredOverride]:
        q = select(s.calendar_overrides).order_by(s.calendar_overrides.c.day)
        if year is not None:
            q = q.where(s.calendar_overrides.c.day >= date(year, 1, 1)).where(
                s.calendar_overrides.c.day <= date(year, 12, 31))
        async with self.store.read_engine.connect() as conn:
            return [_row(r) for r in (await conn.execute(q)).all()]

    async def year(self, year: int, lang: str = "vi") -> list[YearDay]:
        return year_days(await current(self.store), year, lang)


# -- a year as the page and `doithoai calendar show` list it ---------------------------------------


@dataclass(frozen=True)
class YearDay:
    """A holiday, or a day that is not what its weekday says: a weekday off, or a weekend day worked."""

    day: date
    working: bool
    why: str  # the holiday's name (in the language asked for) or the override's note; "" for a swap
    source: str  # "package" (the holidays package) or "override" (the table)

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "weekday": self.day.isoweekday(), "working": self.working,
                "why": self.why, "source": self.source}


def _names(year: int, lang: str) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year, language="en_US" if lang == "en" else "vi")


def year_days(calendar: Calendar, year: int, lang: str = "vi") -> list[YearDay]:
    """Every public holiday of `year` (a weekend one too), every other day whose status differs from its
    weekday's (Mon-Fri worked, Sat-Sun off), and every override, with why: the working-day rule itself
    stays in moderation/calendar.py; this only names the days."""
    names = _names(year, lang)
    out: list[YearDay] = []
    day = date(year, 1, 1)
    while day.year == year:
        working = calendar.is_working_day(day)
        override = calendar.overrides.get(day)
        if override is not None:
            out.append(YearDay(day, working, override.note, "override"))
        elif working != (day.isoweekday() <= 5) or day in names:  # and a holiday on a weekend
            out.append(YearDay(day, working, "" if working else str(names.get(day) or ""), "package"))
        day += timedelta(days=1)
    return out
