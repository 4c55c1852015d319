"""Departments are reminded of their deadlines: `remind_working_days_before` working days before the
last day (default 2), and once it has passed. Each reminder is a row in the outbox
(moderation/outbox.py tell_department) whose dedupe key holds the question, the last day and which
reminder it is, so a reminder is written once however often this runs, and an extended deadline (a
new last day) gets its own. The department's e-mail is read from `departments` when it is sent.

A question waits on its department while it has one, a deadline not yet met (`due_done_at`), no
submitted answer, and is not protected (a matter for the formal channel is never mailed about)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from moderation import audit, calendar_store, outbox
from moderation import schema as s
from moderation.asker import normalize_email
from moderation.calendar import local_date
from moderation.errors import Forbidden, NotFound, ValidationError
from moderation.roles import HEADS, Actor
from moderation.store import Store
from moderation.text import clean_line
from server.config import Settings

q, sess = s.questions, s.sessions
WAITING_STATES = ("accepted", "routed", "queued")


def due_reminders(conn: Connection, now: datetime, days_before: int) -> int:
    """Write the reminders due at `now` (by its day in Vietnam) in the caller's transaction."""
    today = local_date(now)
    calendar = calendar_store.load(conn)
    rows = conn.execute(
        select(q.c.id, q.c.number, q.c.department, q.c.due_on, q.c.session_id, q.c.protected, sess.c.title)
        .join(sess, sess.c.id == q.c.session_id)
        .where(q.c.department.is_not(None), q.c.due_on.is_not(None), q.c.due_done_at.is_(None),
               q.c.answer_submitted_at.is_(None), q.c.protected.is_(False), q.c.state.in_(WAITING_STATES))
        .order_by(q.c.id)).all()
    written = 0
    for row in rows:
        due_on: date = row.due_on
        if today > due_on:
            which, kind = "overdue", "overdue"
        elif calendar.working_days_between(today, due_on) <= days_before:
            which, kind = "before", "reminder"
        else:
            continue
        question = _Question(row.id, row.number, False, "")
        session = _Session(row.session_id, row.title)
        written += outbox.tell_department(conn, row.department, question, session, kind,
                                          {"due": due_on.isoformat(), "unit": row.department}, now,
                                          event=f"remind:{due_on.isoformat()}:{which}")
    return written


class _Question:
    def __init__(self, id: int, number: int, protected: bool, receipt: str) -> None:
        self.id, self.number, self.protected, self.receipt = id, number, protected, receipt


class _Session:
    def __init__(self, id: int, title: str) -> None:
        self.id, self.title = id, title


async def enqueue_due(store: Store, settings: Settings, now: datetime) -> int:
    """The reminders due at `now`, committed; returns how many rows were written."""
    async with store.write_engine.begin() as conn:
        written: int = await conn.run_sync(due_reminders, now, settings.remind_working_days_before)
    return written


# -- the departments' e-mail addresses (doithoai department set/list) ---------------------------------

def list_departments(conn: Connection) -> list[dict[str, Any]]:
    """Every department: those in the table, and those questions were routed to without a row yet."""
    known = {r.name: r for r in conn.execute(select(s.departments).order_by(s.departments.c.name))}
    routed = {r[0] for r in conn.execute(select(q.c.department).where(q.c.department.is_not(None)).distinct())}
    out = []
    for name in sorted(set(known) | routed):
        row = known.get(name)
        out.append({"name": name, "email": row.email if row is not None else None, "listed": row is not None})
    return out


def set_department_email(conn: Connection, name: str, email: str | None, actor: Actor, now: datetime) -> dict[str, Any]:
    """Create the department or change its official e-mail (None clears it); audited."""
    if actor.role not in HEADS:
        raise Forbidden("notify_department_role", field="department")
    name = clean_line(name)
    if not 2 <= len(name) <= 200:
        raise ValidationError("notify_unknown_department", field="department")
    address = None
    if email:
        address = normalize_email(email)
        if address is None:
            raise ValidationError("notify_bad_email", field="email")
    exists = conn.execute(select(s.departments.c.name).where(s.departments.c.name == name)).first()
    if exists is None:
        routed = conn.execute(select(q.c.id).where(q.c.department == name).limit(1)).first()
        if routed is None and address is None:
            raise NotFound("notify_unknown_department", field="department")
        conn.execute(insert(s.departments), {"name": name, "email": address, "created_at": now})
    else:
        conn.execute(update(s.departments).where(s.departments.c.name == name).values(email=address))
    # an official unit's address is not personal data; the audit still keeps only whether one is set
    audit.append(conn, actor, "department_email_set", now, department=name, email_set=address is not None)
    return {"name": name, "email": address}
