"""Interest marks ("quan tâm"): one per viewer per question, counted in the store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from . import schema as s
from .errors import DomainError, NotFound, SessionClosed
from .questions import QuestionState, is_public
from .sessions import INTAKE_OPEN, SessionState


@dataclass(frozen=True)
class InterestMark:
    question_id: int
    viewer_key: str


@dataclass(frozen=True)
class InterestCount:
    question_id: int
    session_id: int
    count: int
    counted: bool  # False when this viewer had already marked it


def recount_interest(conn: Connection, question_ids: Iterable[int]) -> None:
    """A question's interest: distinct viewers who marked it or a question merged into it."""
    target = s.questions
    member = s.questions.alias("member")
    # Correlated to the row being updated: without `.correlate(target)` SQLAlchemy gives the
    # subquery a FROM of its own and every question would count every viewer who marked anything.
    counted = (
        select(func.count(func.distinct(s.interests.c.viewer_key)))
        .select_from(s.interests.join(member, member.c.id == s.interests.c.question_id))
        .where(or_(member.c.id == target.c.id, member.c.merged_into == target.c.id))
        .correlate(target)
        .scalar_subquery()
    )
    conn.execute(update(target).where(target.c.id.in_(list(question_ids))).values(interest_count=counted))


def write_interests(conn: Connection, items: list[InterestMark], now: datetime) -> list[Any]:
    ids = sorted({m.question_id for m in items})
    rows = {
        r.id: r
        for r in conn.execute(
            select(s.questions.c.id, s.questions.c.session_id, s.questions.c.state, s.questions.c.held,
                   s.sessions.c.state.label("session_state"))
            .join(s.sessions, s.sessions.c.id == s.questions.c.session_id)
            .where(s.questions.c.id.in_(ids))
        )
    }

    def refusal(m: InterestMark) -> DomainError | None:
        row = rows.get(m.question_id)
        if row is None or not is_public(QuestionState(row.state), row.held):
            return NotFound("question_not_found", field="question_id")
        if SessionState(row.session_state) not in INTAKE_OPEN:
            # the counts are part of the record once the session has closed
            return SessionClosed("interest_closed", field="question_id")
        return None

    valid = [m for m in items if refusal(m) is None]
    already = set()
    if valid:
        already = {
            (r.question_id, r.viewer_key)
            for r in conn.execute(
                select(s.interests.c.question_id, s.interests.c.viewer_key).where(
                    s.interests.c.question_id.in_({m.question_id for m in valid})
                )
            )
        }
        new = list(dict.fromkeys((m.question_id, m.viewer_key) for m in valid if (m.question_id, m.viewer_key) not in already))
        if new:
            dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            conn.execute(
                dialect_insert(s.interests).on_conflict_do_nothing(),
                [{"question_id": q, "viewer_key": v, "created_at": now} for q, v in new],
            )
        recount_interest(conn, {m.question_id for m in valid})
    counts = {
        r.id: r.interest_count
        for r in conn.execute(
            select(s.questions.c.id, s.questions.c.interest_count).where(s.questions.c.id.in_(ids))
        )
    }
    results: list[Any] = []
    seen: set[tuple[int, str]] = set()
    for m in items:
        refused = refusal(m)
        if refused is not None:
            results.append(refused)
            continue
        row = rows[m.question_id]
        pair = (m.question_id, m.viewer_key)
        counted_now = pair not in already and pair not in seen
        seen.add(pair)
        results.append(InterestCount(m.question_id, row.session_id, counts[m.question_id], counted_now))
    return results
