"""The notification outbox: what the regulation says an asker (or a department) must be told is
written here in the same transaction as the change that calls for it, so a change is never committed
without its message nor a message without its change. The notifier (notify/) sends the e-mail and SMS
rows at least once; the `receipt` row is the message as the receipt page shows it, once.

Rows carry no address for askers: the notifier reads the asker's e-mail or phone at send time, so a
corrected address is used and the retention job's erasure covers the outbox too. `params` hold
dates, numbers and unit names, never a person's name, phone or address."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from . import schema as s
from .asker import MOBILE

# What each kind tells (notify/messages.py words them)
ASKER_KINDS = ("will_forward", "forwarded", "outside_remit", "will_not_answer", "follow_up", "answered_in_writing",
               "extended")
DEPARTMENT_KINDS = ("routed", "reminder", "overdue")


def _row(now: datetime, *, session_id: int | None, question_id: int | None, audience: str, channel: str,
         kind: str, params: dict[str, Any], dedupe: str, department: str | None = None) -> dict[str, Any]:
    sent = channel == "receipt"
    return {"created_at": now, "session_id": session_id, "question_id": question_id, "audience": audience,
            "channel": channel, "address": None, "department": department, "kind": kind, "params": params,
            "dedupe": dedupe, "state": "sent" if sent else "pending", "attempts": 0,
            "next_attempt_at": None if sent else now, "sent_at": now if sent else None}


def _exists(conn: Connection, dedupes: list[str]) -> set[str]:
    rows = conn.execute(select(s.notifications.c.dedupe).where(s.notifications.c.dedupe.in_(dedupes)))
    return {r.dedupe for r in rows}


def tell_asker(conn: Connection, question: Any, session: Any, kind: str, params: dict[str, Any], now: datetime,
               event: str) -> int:
    """Queue `kind` for the asker of `question` on every channel they gave: the receipt page always,
    e-mail when they left one, SMS to a mobile number. `event` names the change (its version), so the
    same change never makes two messages. A protected matter (formal channel) is never told here.
    Returns the rows written."""
    if kind not in ASKER_KINDS:
        raise ValueError(f"unknown asker notification {kind!r}")
    if question.protected:
        return 0
    asker = conn.execute(select(s.askers.c.email, s.askers.c.phone, s.askers.c.erased_at)
                         .where(s.askers.c.question_id == question.id)).first()
    channels = ["receipt"]
    if asker is not None and asker.erased_at is None:
        if asker.email:
            channels.append("email")
        if asker.phone and MOBILE.match(asker.phone):
            channels.append("sms")
    body = {"number": question.number, "receipt": question.receipt, "session_id": session.id,
            "session_title": session.title, **params}
    rows = [_row(now, session_id=session.id, question_id=question.id, audience="asker", channel=ch, kind=kind,
                 params=body, dedupe=f"q{question.id}:{event}:{kind}:{ch}") for ch in channels]
    return _insert_new(conn, rows)


def tell_department(conn: Connection, department: str, question: Any, session: Any, kind: str,
                    params: dict[str, Any], now: datetime, event: str) -> int:
    """Queue an e-mail to a department (its address is read from `departments` at send time)."""
    if kind not in DEPARTMENT_KINDS:
        raise ValueError(f"unknown department notification {kind!r}")
    body = {"number": question.number, "question_id": question.id, "session_id": session.id,
            "session_title": session.title, **params}
    return _insert_new(conn, [_row(now, session_id=session.id, question_id=question.id, audience="department",
                                   channel="email", kind=kind, params=body, department=department,
                                   dedupe=f"d:{department}:q{question.id}:{event}:{kind}")])


def _insert_new(conn: Connection, rows: list[dict[str, Any]]) -> int:
    seen = _exists(conn, [r["dedupe"] for r in rows])
    fresh = [r for r in rows if r["dedupe"] not in seen]
    if fresh:
        conn.execute(insert(s.notifications), fresh)
    return len(fresh)


def receipt_messages(conn: Connection, question_id: int) -> list[Any]:
    """What the receipt page shows: each message once, oldest first."""
    return list(conn.execute(select(s.notifications.c.kind, s.notifications.c.params, s.notifications.c.created_at)
                             .where(s.notifications.c.question_id == question_id)
                             .where(s.notifications.c.channel == "receipt").order_by(s.notifications.c.id)))
