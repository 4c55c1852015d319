"""The figures of a report for a period (Hải Phòng Điều 22: six-monthly and yearly), in one read.

What belongs to the period:
- a dialogue session by its start date in Vietnam (a session starting at 00:30 on 1 July, Vietnam
  time, is July's, though it is still 30 June in UTC); drafts never count;
- the standing forum has no start that means anything, so its questions count by the day they
  were received, in Vietnam.

Every question of those counts once in `received`, by its channel, field and department. `accepted`
is what the public can read, as on the session page (moderation/board.py stats()): a late question
an editor accepted and the head has not approved yet (held) is received, not accepted. Declined
questions count by their reason; forwarded ones (outside the chair's remit) on their own line.

Deadlines (moderation/deadlines.py, stored as `due_on` and `due_done_at`): a question with a
deadline is on time when its step was done by the end of its last day, 24:00 Vietnam time
(moderation/calendar.py end_of_day), late when done after it, overdue when not done and that end
has passed as of the report's `as_of`, and pending otherwise. The on-time rate is on time out of
those whose outcome is known (on time, late, overdue); pending ones are left out of it.

Nothing about an asker is read: no names, addresses, phones, e-mails, nor the questions' texts
(which citizens fill with their own details); the report is counts, fields, departments, session
titles and question numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import and_, or_, select

from moderation import schema as s
from moderation.calendar import VIETNAM, end_of_day, local_date, parse_moment
from moderation.deadlines import standing
from moderation.errors import Forbidden, ValidationError
from moderation.questions import PUBLIC_STATES, QuestionState
from moderation.roles import BOARD, Actor
from moderation.store import Store

S = QuestionState
FORUM = "forum"
HELD_STATES = ("closed", "published")  # a dialogue session that took place
# per field and per department: the same columns
COUNTS = ("received", "accepted", "answered_live", "answered_in_writing", "forwarded", "declined", "merged")
DEADLINES = ("on_time", "late", "overdue", "pending")
MAX_DAYS = 3 * 366 + 1  # a report covers at most three years


@dataclass
class Counts:
    received: int = 0
    accepted: int = 0
    answered_live: int = 0
    answered_in_writing: int = 0
    forwarded: int = 0
    declined: int = 0
    merged: int = 0
    awaiting_head: int = 0  # accepted late (or after the close), waiting for the head
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    pending: int = 0

    @property
    def with_deadline(self) -> int:
        return self.on_time + self.late + self.overdue + self.pending

    @property
    def on_time_rate(self) -> float | None:
        """On time out of those whose outcome is known; None when there is none yet."""
        known = self.on_time + self.late + self.overdue
        return round(self.on_time / known, 4) if known else None

    def as_dict(self) -> dict[str, Any]:
        return {**{k: getattr(self, k) for k in (*COUNTS, "awaiting_head", *DEADLINES)},
                "with_deadline": self.with_deadline, "on_time_rate": self.on_time_rate}


@dataclass
class Group:
    """One field's or one department's row (key None: questions with no field)."""

    key: str | None
    counts: Counts = field(default_factory=Counts)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, **self.counts.as_dict()}


@dataclass
class SessionRow:
    id: int
    title: str
    kind: str
    state: str
    starts_on: date  # in Vietnam
    counts: Counts = field(default_factory=Counts)

    @property
    def held(self) -> bool:
        return self.kind != FORUM and self.state in HELD_STATES

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "kind": self.kind, "state": self.state,
                "starts_on": self.starts_on.isoformat(), "held": self.held, **self.counts.as_dict()}


@dataclass(frozen=True)
class Overdue:
    """A question past its deadline and not done: where it is, never who asked it."""

    session_id: int
    session_title: str
    number: int
    field: str | None
    department: str | None
    due_on: date
    due_rule: str | None
    days_overdue: int  # whole days since the deadline ended, as of the report

    def as_dict(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "session_title": self.session_title, "number": self.number,
                "field": self.field, "department": self.department, "due_on": self.due_on.isoformat(),
                "due_rule": self.due_rule, "days_overdue": self.days_overdue}


@dataclass
class Report:
    start: date
    end: date  # inclusive
    as_of: datetime
    totals: Counts
    sessions: list[SessionRow]
    channels: dict[str, int]
    declined: dict[str, int]  # by reason
    fields: list[Group]
    departments: list[Group]
    overdue: list[Overdue]

    @property
    def sessions_held(self) -> int:
        return sum(1 for row in self.sessions if row.held)

    @property
    def slug(self) -> str:
        return f"bao-cao-{self.start.isoformat()}-{self.end.isoformat()}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": {"from": self.start.isoformat(), "to": self.end.isoformat()},
            "as_of": self.as_of.isoformat(),
            "sessions_held": self.sessions_held,
            "totals": self.totals.as_dict(),
            "channels": dict(self.channels),
            "declined": dict(self.declined),
            "fields": [g.as_dict() for g in self.fields],
            "departments": [g.as_dict() for g in self.departments],
            "sessions": [row.as_dict() for row in self.sessions],
            "overdue": [o.as_dict() for o in self.overdue],
        }


# -- the period --------------------------------------------------------------------------------


def parse_day(raw: Any, name: str) -> date:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError("rpt_date_required", field=name)
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationError("rpt_bad_date", field=name) from None


def parse_period(raw_from: Any, raw_to: Any) -> tuple[date, date]:
    """`from` and `to`, ISO dates, both days included; refused with the field that is wrong."""
    start, end = parse_day(raw_from, "from"), parse_day(raw_to, "to")
    if end < start:
        raise ValidationError("rpt_period_order", field="to")
    if (end - start).days >= MAX_DAYS:
        raise ValidationError("rpt_period_long", field="to", years=3)
    return start, end


def parse_as_of(raw: Any) -> datetime:
    """With its offset: a report's "as of" names the moment, not a local reading of it."""
    return parse_moment(raw, "rpt_bad_as_of", naive_is_vietnam=False).astimezone(UTC)


def half_year(today: date) -> tuple[date, date]:
    """The six months a day falls in (the regulation's six-monthly report): Jan–Jun or Jul–Dec."""
    if today.month <= 6:
        return date(today.year, 1, 1), date(today.year, 6, 30)
    return date(today.year, 7, 1), date(today.year, 12, 31)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time(0), VIETNAM).astimezone(UTC)


# -- the read ----------------------------------------------------------------------------------


QUESTION_COLUMNS = (s.questions.c.session_id, s.questions.c.number, s.questions.c.channel, s.questions.c.field,
                    s.questions.c.state, s.questions.c.held, s.questions.c.decline_reason,
                    s.questions.c.department, s.questions.c.due_on, s.questions.c.due_rule,
                    s.questions.c.due_done_at)


def _tally(counts: Counts, q: Any, as_of: datetime) -> str | None:
    """Adds one question to `counts`; returns its deadline outcome (or None without a deadline)."""
    st = S(q.state)
    counts.received += 1
    if st in PUBLIC_STATES and not q.held:
        counts.accepted += 1
    if st in PUBLIC_STATES and q.held:
        counts.awaiting_head += 1
    if st is S.ANSWERED_LIVE:
        counts.answered_live += 1
    elif st is S.ANSWERED_IN_WRITING:
        counts.answered_in_writing += 1
    elif st is S.FORWARDED:
        counts.forwarded += 1
    elif st is S.DECLINED:
        counts.declined += 1
    elif st is S.MERGED:
        counts.merged += 1
    outcome = deadline_outcome(q.due_on, q.due_done_at, as_of)
    if outcome is not None:
        setattr(counts, outcome, getattr(counts, outcome) + 1)
    return outcome


OUTCOMES = {"met": "on_time", "missed": "late", "overdue": "overdue", "open": "pending"}  # deadlines.standing's


def deadline_outcome(due_on: date | None, done_at: datetime | None, as_of: datetime) -> str | None:
    """on_time | late | overdue | pending, or None for a question with no deadline."""
    if due_on is None:
        return None
    return OUTCOMES[standing(due_on, done_at, as_of)]


async def build_report(store: Store, actor: Actor, raw_from: Any, raw_to: Any, *,
                       as_of: datetime | None = None) -> Report:
    """The report for the period, for `actor` (the editorial board: editor, head, admin). Checked
    before anything is read; one read transaction, so every figure is of the same moment."""
    if actor.role not in BOARD:
        raise Forbidden("forbidden_action", field="action", action="report", role=actor.role.value)
    start, end = parse_period(raw_from, raw_to)
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    since, until = start_of_day(start), end_of_day(end)
    sessions = s.sessions.c
    questions = s.questions.c
    async with store.read_engine.connect() as conn, conn.begin():
        dialogue = and_(sessions.kind != FORUM, sessions.state != "draft", sessions.starts_at >= since,
                        sessions.starts_at < until)
        found = (await conn.execute(
            select(sessions.id, sessions.title, sessions.kind, sessions.state, sessions.starts_at)
            .where(or_(dialogue, sessions.kind == FORUM)).order_by(sessions.starts_at, sessions.id))).all()
        rows = (await conn.execute(
            select(*QUESTION_COLUMNS).join(s.sessions, sessions.id == questions.session_id)
            .where(or_(dialogue, and_(sessions.kind == FORUM, questions.received_at >= since,
                                      questions.received_at < until)))
            .order_by(questions.session_id, questions.number))).all()
    by_session = {r.id: SessionRow(r.id, r.title, r.kind, r.state, local_date(r.starts_at)) for r in found}
    titles = {r.id: r.title for r in found}
    totals = Counts()
    channels: dict[str, int] = {}
    declined: dict[str, int] = {}
    fields: dict[str | None, Group] = {}
    departments: dict[str, Group] = {}
    overdue: list[Overdue] = []
    for q in rows:
        outcome = _tally(totals, q, as_of)
        _tally(by_session[q.session_id].counts, q, as_of)
        _tally(fields.setdefault(q.field, Group(q.field)).counts, q, as_of)
        if q.department:
            _tally(departments.setdefault(q.department, Group(q.department)).counts, q, as_of)
        channels[q.channel] = channels.get(q.channel, 0) + 1
        if q.state == S.DECLINED.value:
            reason = q.decline_reason or "other"
            declined[reason] = declined.get(reason, 0) + 1
        if outcome == "overdue":
            overdue.append(Overdue(q.session_id, titles[q.session_id], q.number, q.field, q.department, q.due_on,
                                   q.due_rule, (local_date(as_of) - q.due_on).days))
    # a forum with nothing in the period is not a row of it
    listed = [row for row in by_session.values() if row.kind != FORUM or row.counts.received]
    overdue.sort(key=lambda o: (o.due_on, o.session_id, o.number))
    return Report(
        start=start, end=end, as_of=as_of, totals=totals, sessions=listed,
        channels=dict(sorted(channels.items(), key=lambda kv: (-kv[1], kv[0]))),
        declined=dict(sorted(declined.items(), key=lambda kv: (-kv[1], kv[0]))),
        fields=sorted(fields.values(), key=lambda g: (g.key is None, -g.counts.received, g.key or "")),
        departments=sorted(departments.values(), key=lambda g: (-g.counts.received, g.key or "")),
        overdue=overdue,
    )

