"""The follow-up deadline lists staff work from: every question with a deadline (questions.due_on, set at
the close and by the board's actions, moderation/followup.py), classified as of a moment.

- overdue: not done, and the moment is past the end of its last day (24:00 Vietnam time, Điều 148.1);
- due_soon: not done, not overdue, and its last day is at most `soon` working days away (default 2:
  today, or within the next two working days);
- pending: not done, further away;
- met: done (due_done_at) on or before its last day, in Vietnam; missed: done after it.

Lists per session, per department (the unit it was routed or forwarded to) and overall; a responder
sees their own department's only. The moment is a parameter (`as_of`), so a check needs no clock.
No asker's identity is in a list; a protected matter's text is shown to the head only."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from . import calendar_store
from . import schema as s
from .calendar import Calendar, local_date, parse_moment
from .deadlines import RULES, standing
from .errors import Forbidden, ValidationError
from .roles import MODERATOR_NAMESPACE, Actor, Role
from .text import clean_line

if TYPE_CHECKING:
    from .store import Store

DEFAULT_SOON = 2  # working days
MAX_SOON = 30


class Status(enum.StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    PENDING = "pending"
    MET = "met"
    MISSED = "missed"


# what a caller may ask for: one status, or a group of them
FILTERS: dict[str, frozenset[Status]] = {
    **{st.value: frozenset({st}) for st in Status},
    "open": frozenset({Status.OVERDUE, Status.DUE_SOON, Status.PENDING}),
    "done": frozenset({Status.MET, Status.MISSED}),
    "all": frozenset(Status),
}
OPEN = FILTERS["open"]


def classify(calendar: Calendar, due_on: date, done_at: datetime | None, as_of: datetime,
             soon: int = DEFAULT_SOON) -> Status:
    """A deadline's standing (deadlines.standing), with "due soon" for an open one."""
    found = standing(due_on, done_at, as_of)
    if found != "open":
        return Status(found)
    if calendar.working_days_between(local_date(as_of), due_on) <= soon:
        return Status.DUE_SOON
    return Status.PENDING


def parse_status(value: Any) -> frozenset[Status]:
    if value in (None, ""):
        return FILTERS["all"]
    if not isinstance(value, str) or value not in FILTERS:
        raise ValidationError("cal_due_bad_status", field="status", statuses=", ".join(FILTERS))
    return FILTERS[value]


def parse_as_of(value: Any) -> datetime | None:
    """An ISO moment; without an offset it is Vietnam time; a bare date is the start of that day there."""
    if value in (None, ""):
        return None
    return parse_moment(value, "cal_due_bad_as_of")


def parse_soon(value: Any) -> int:
    if value in (None, ""):
        return DEFAULT_SOON
    try:
        soon = int(value)
    except (TypeError, ValueError):
        raise ValidationError("cal_due_bad_soon", field="soon", max=MAX_SOON) from None
    if isinstance(value, bool) or not 0 <= soon <= MAX_SOON:
        raise ValidationError("cal_due_bad_soon", field="soon", max=MAX_SOON)
    return soon


def parse_session(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        session_id = int(value)
    except (TypeError, ValueError):
        raise ValidationError("cal_due_bad_session", field="session") from None
    if isinstance(value, bool) or session_id < 1:
        raise ValidationError("cal_due_bad_session", field="session")
    return session_id


@dataclass(frozen=True)
class DueItem:
    question_id: int
    session_id: int
    session_title: str
    number: int
    field: str | None
    text: str | None  # None: a protected matter, for the head only
    state: str
    department: str | None  # routed to
    forwarded_to: str | None  # forwarded to (outside the chair's remit)
    due_on: date
    due_rule: str | None
    due_from: date | None
    due_extended_from: date | None
    due_done_at: datetime | None
    status: Status
    working_days_left: int | None  # open and not overdue: working days after today up to the last day
    days_late: int | None  # overdue: calendar days since the last day

    @property
    def unit(self) -> str:
        """Who holds it: the unit it was forwarded to, else the department it was routed to."""
        return self.forwarded_to or self.department or ""

    def as_dict(self) -> dict[str, Any]:
        rule = RULES.get(self.due_rule or "")
        return {
            "question_id": self.question_id, "session_id": self.session_id, "session_title": self.session_title,
            "number": self.number, "field": self.field, "text": self.text, "state": self.state,
            "department": self.department, "forwarded_to": self.forwarded_to, "unit": self.unit,
            "due_on": self.due_on.isoformat(), "due_rule": self.due_rule,
            "step": rule.step if rule else None, "days": rule.days if rule else None,
            "counting": rule.counting.value if rule else None, "source": rule.source if rule else None,
            "due_from": self.due_from.isoformat() if self.due_from else None,
            "due_extended_from": self.due_extended_from.isoformat() if self.due_extended_from else None,
            "due_done_at": self.due_done_at.isoformat() if self.due_done_at else None,
            "status": self.status.value, "working_days_left": self.working_days_left, "days_late": self.days_late,
        }


def _counts(items: Iterable[DueItem]) -> dict[str, int]:
    counts = {st.value: 0 for st in Status}
    for item in items:
        counts[item.status.value] += 1
    return counts


@dataclass
class DueReport:
    as_of: datetime
    soon: int
    session_id: int | None
    department: str | None
    statuses: frozenset[Status]
    items: list[DueItem] = field(default_factory=list)  # those of the statuses asked for
    counts: dict[str, int] = field(default_factory=dict)  # every status, within the session/department filters
    by_department: list[tuple[str, dict[str, int]]] = field(default_factory=list)
    by_session: list[tuple[int, str, dict[str, int]]] = field(default_factory=list)

    @property
    def session_rows(self) -> list[tuple[str, dict[str, int]]]:
        return [(f"{title} (#{sid})", c) for sid, title, c in self.by_session]

    def of(self, status: Status) -> list[DueItem]:
        return [i for i in self.items if i.status is status]

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(), "soon_working_days": self.soon, "session": self.session_id,
            "department": self.department, "status": sorted(st.value for st in self.statuses),
            "counts": self.counts,
            "by_department": [{"unit": unit, "counts": c} for unit, c in self.by_department],
            "by_session": [{"session_id": sid, "title": title, "counts": c} for sid, title, c in self.by_session],
            "questions": [i.as_dict() for i in self.items],
        }


_ORDER = {Status.OVERDUE: 0, Status.DUE_SOON: 1, Status.PENDING: 2, Status.MISSED: 3, Status.MET: 4}


def due_items(conn: Connection, calendar: Calendar, as_of: datetime, *, session_id: int | None = None,
              department: str | None = None, soon: int = DEFAULT_SOON,
              sees_protected: bool = False) -> list[DueItem]:
    """Every question with a deadline within the filters, classified as of `as_of`, most urgent first."""
    q = s.questions.c
    query = (select(q.id, q.session_id, q.number, q.field, q.text, q.display_text, q.state, q.department,
                    q.forwarded_to, q.due_on, q.due_rule, q.due_from, q.due_extended_from, q.due_done_at, q.protected,
                    s.sessions.c.title)
             .join(s.sessions, s.sessions.c.id == q.session_id)
             .where(q.due_on.is_not(None)))
    if session_id is not None:
        query = query.where(q.session_id == session_id)
    if department is not None:
        query = query.where(or_(q.department == department, q.forwarded_to == department))
    today = local_date(as_of)
    items = []
    for r in conn.execute(query):
        status = classify(calendar, r.due_on, r.due_done_at, as_of, soon)
        items.append(DueItem(
            question_id=r.id, session_id=r.session_id, session_title=r.title, number=r.number, field=r.field,
            text=None if r.protected and not sees_protected else (r.display_text or r.text), state=r.state,
            department=r.department, forwarded_to=r.forwarded_to, due_on=r.due_on, due_rule=r.due_rule,
            due_from=r.due_from, due_extended_from=r.due_extended_from, due_done_at=r.due_done_at, status=status,
            working_days_left=(calendar.working_days_between(today, r.due_on)
                               if status in (Status.DUE_SOON, Status.PENDING) else None),
            days_late=(today - r.due_on).days if status is Status.OVERDUE else None,
        ))
    items.sort(key=lambda i: (_ORDER[i.status], i.due_on, i.session_id, i.number))
    return items


def scope_for(actor: Actor, department: Any) -> str | None:
    """The department a caller may list: a responder their own only; the board any, or all."""
    if actor.role not in MODERATOR_NAMESPACE:
        raise Forbidden("forbidden")
    asked = clean_line(department) if isinstance(department, str) and department.strip() else None
    if department is not None and not isinstance(department, str):
        raise ValidationError("cal_due_bad_department", field="department")
    if actor.role is Role.RESPONDER:
        if not actor.department:
            raise Forbidden("forbidden")
        if asked is not None and asked != actor.department:
            raise Forbidden("cal_due_other_department", field="department")
        return actor.department
    return asked


class DueLists:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def report(self, actor: Actor, *, session: Any = None, department: Any = None, status: Any = None,
                     as_of: Any = None, soon: Any = None) -> DueReport:
        """Every parameter checked (and the caller's scope) before anything is read."""
        unit = scope_for(actor, department)
        session_id = parse_session(session)
        statuses = parse_status(status)
        moment = as_of if isinstance(as_of, datetime) else parse_as_of(as_of)
        if moment is not None and moment.tzinfo is None:
            raise ValidationError("cal_due_bad_as_of", field="as_of")
        moment = moment or datetime.now(UTC)
        soon_days = parse_soon(soon)
        async with self.store.read_engine.connect() as conn:
            calendar = await conn.run_sync(calendar_store.load)
            every = await conn.run_sync(due_items, calendar, moment, session_id=session_id, department=unit,
                                        soon=soon_days, sees_protected=actor.sees_protected)
        report = DueReport(moment, soon_days, session_id, unit, statuses,
                           items=[i for i in every if i.status in statuses], counts=_counts(every))
        units: dict[str, list[DueItem]] = {}
        sessions: dict[tuple[int, str], list[DueItem]] = {}
        for item in every:
            units.setdefault(item.unit, []).append(item)
            sessions.setdefault((item.session_id, item.session_title), []).append(item)
        report.by_department = [(u, _counts(v)) for u, v in sorted(units.items())]
        report.by_session = [(sid, title, _counts(v)) for (sid, title), v in sorted(sessions.items())]
        return report
