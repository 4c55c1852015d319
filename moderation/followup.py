"""What happens to each question after the session (Hải Phòng Điều 10.4, Hà Nam, the Huế forum): its
deadline by the session's rule set, and what the asker and the department are told. Called inside the
board's transactions (moderation/board.py) and the session's close (moderation/store.py), after the
state machine has allowed the change and before it is written: the deadline, the change and the
outbox rows commit together or not at all.

When each clock starts:
- a dialogue's follow-up counts from the close (`From.CLOSE`): questions still to be answered get the
  written-answer deadline, forwarded ones the forwarding deadline; a question screened after the close
  counts from the close too (the rule's clock does not wait for the board);
- the standing forum counts from each question's receipt, set when it is accepted;
- Hà Nam's units count from the conclusions notice (the session action `notice`).
Rerouting keeps the clock; an extension is the head's (`extend`), told to the asker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from . import audit, calendar_store, deadlines, outbox
from . import schema as s
from .calendar import Calendar, end_of_day, local_date
from .questions import DeclineReason, QuestionState
from .roles import Actor

S = QuestionState
TO_ANSWER = frozenset({S.ACCEPTED, S.ROUTED, S.PREPARED, S.QUEUED})  # within remit, not yet answered
TOLD_AT_ONCE = {DeclineReason.OUTSIDE_CITY_REMIT: "outside_remit", DeclineReason.WILL_NOT_ANSWER: "will_not_answer"}


def _over(session: Any) -> bool:
    return session.state in ("closed", "published")


def _forum(session: Any) -> bool:
    return getattr(session, "kind", "dialogue") == "forum"


def _due(calendar: Calendar, session: Any, question: Any, *, forwarded: bool) -> deadlines.Due | None:
    """The deadline a question gets now, or None while its clock has not started (a dialogue still open)."""
    rules = deadlines.rule_set(session.rule_set)
    if _forum(session):
        start = local_date(question.received_at)
    elif _over(session) and session.closed_at is not None:
        start = local_date(session.closed_at)
    else:
        return None
    notice = session.notice_at
    return deadlines.follow_up(rules, calendar, forwarded=forwarded, start=start,
                               notice_issued=notice is not None,
                               notice_day=local_date(notice) if notice is not None else None)


def _params(due: Any) -> dict[str, Any]:
    return {"due": due.on.isoformat(), "rule": due.rule.key} if due is not None else {}


def on_action(conn: Connection, row: Any, session: Any, action: str, values: dict[str, Any],
              now: datetime) -> None:
    """Add the follow-up columns to `values` (the action's update) and queue what must be told."""
    event = f"v{row.version + 1}"
    state = S(values.get("state", row.state))
    had_due = row.due_on is not None and row.due_done_at is None
    tell: tuple[str, dict[str, Any]] | None = None

    if action == "decline":
        reason = DeclineReason(values["decline_reason"])
        if reason is DeclineReason.OUTSIDE_CHAIR_REMIT:
            due = _due(calendar_store.load(conn), session, row, forwarded=True)
            values.update(due.values if due else {"due_on": None, "due_rule": None, "due_from": None},
                          due_done_at=None, forwarded_at=None, forwarded_to=None,
                          forward_due=end_of_day(due.on) if due else None)
            tell = ("will_forward", _params(due))
        else:
            if had_due:
                values["due_done_at"] = now  # the step this rule asks for is to tell the reason at once
            if reason in TOLD_AT_ONCE:
                tell = (TOLD_AT_ONCE[reason], {"note": values.get("decline_note")} if values.get("decline_note") else {})
    elif action == "accept":
        values.update(forwarded_at=None, forwarded_to=None)
        due = _due(calendar_store.load(conn), session, row, forwarded=False)
        if due is not None:
            values.update(due.values, due_done_at=None, due_extended_from=None, due_note=None)
            tell = ("follow_up", _params(due))
        else:
            values.update(due_on=None, due_rule=None, due_from=None, due_done_at=None)
    elif action == "forward":
        unit = values["forwarded_to"]
        if had_due:
            values["due_done_at"] = now
        tell = ("forwarded", {"unit": unit})
    elif action == "approve_answer":
        if had_due:
            values["due_done_at"] = now
        tell = ("answered_in_writing", {})
        # the askers whose questions were merged into this one have their answer too (Điều 10.4)
        for merged in conn.execute(select(s.questions).where(s.questions.c.merged_into == row.id)).all():
            outbox.tell_asker(conn, merged, session, "answered_in_writing", {"merged_into": row.number}, now,
                              f"m{row.id}{event}")
    elif action == "merge" and had_due:
        # followed up as the question it joined: no deadline of its own left running
        values.update(due_on=None, due_rule=None, due_from=None)
    elif action == "extend":
        tell = ("extended", {"due": values["due_on"].isoformat(), "note": values["due_note"],
                             "was": row.due_on.isoformat()})
    elif action == "route" and state in TO_ANSWER:
        department = values["department"]
        due = deadlines.stored(row) if had_due else None
        outbox.tell_department(conn, department, row, session, "routed", _params(due), now, event)
    if tell is not None:
        outbox.tell_asker(conn, row, session, tell[0], tell[1], now, event)


def at_close(conn: Connection, session_id: int, actor: Actor, now: datetime) -> int:
    """At the close, inside its transaction: every question that needs follow-up gets its deadline
    (and the asker is told when to expect the answer); forwarded ones get the forwarding deadline.
    Returns how many got one."""
    session = conn.execute(select(s.sessions).where(s.sessions.c.id == session_id)).one()
    rows = conn.execute(select(s.questions).where(s.questions.c.session_id == session_id)
                        .where(s.questions.c.state.in_([*(x.value for x in TO_ANSWER), S.FORWARDED.value]))
                        .where(s.questions.c.due_on.is_(None))).all()
    calendar = calendar_store.load(conn)  # once for the session's questions: the same table throughout
    count = 0
    for row in rows:
        forwarded = row.state == S.FORWARDED.value
        if forwarded and row.forwarded_at is not None:
            continue  # already sent on before the close: nothing left to count
        due = _due(calendar, session, row, forwarded=forwarded)
        if due is None:
            continue
        extra = {"forward_due": end_of_day(due.on)} if forwarded else {}
        conn.execute(update(s.questions).where(s.questions.c.id == row.id).values(
            **due.values, **extra, version=row.version + 1, updated_at=now))
        if not forwarded and not row.protected:
            outbox.tell_asker(conn, row, session, "follow_up", _params(due), now, f"v{row.version + 1}")
        count += 1
    if count:
        audit.append(conn, actor, "deadlines_set", now, session_id=session_id, questions=count,
                     rule_set=session.rule_set)
    return count


def at_notice(conn: Connection, session_id: int, actor: Actor, now: datetime) -> int:
    """Hà Nam: the conclusions notice is issued; questions waiting for it now count the units' working
    days from today, and their askers are told the new date. Returns how many moved."""
    session = conn.execute(select(s.sessions).where(s.sessions.c.id == session_id)).one()
    rules = deadlines.rule_set(session.rule_set)
    if rules.notice is None:
        return 0
    rows = conn.execute(select(s.questions).where(s.questions.c.session_id == session_id)
                        .where(s.questions.c.due_rule == rules.notice.key)
                        .where(s.questions.c.due_done_at.is_(None))).all()
    cal = calendar_store.load(conn)
    today = local_date(now)
    for row in rows:
        due = deadlines.Due(rules.answer, today, rules.answer.due(cal, today))
        conn.execute(update(s.questions).where(s.questions.c.id == row.id).values(
            **due.values, version=row.version + 1, updated_at=now))
        outbox.tell_asker(conn, row, session, "follow_up", _params(due), now, f"v{row.version + 1}")
    return len(rows)
