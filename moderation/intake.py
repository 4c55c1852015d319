"""Writing submitted questions: one batch per transaction, checked against the session's state
inside that same transaction, so a close that races with submissions is atomic: a question is
either committed before the close (and acknowledged) or refused after it, never half-stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from . import schema as s
from .errors import NotFound, SessionClosed, SessionNotOpen, ValidationError
from .questions import QuestionState
from .receipts import new_receipt
from .sessions import INTAKE_OPEN, SessionState
from .submission import Submission


@dataclass(frozen=True)
class Receipt:
    question_id: int
    receipt: str
    duplicate: bool = False  # True when this was an idempotent resend of a stored question

    def ack(self) -> dict[str, Any]:
        return {"ok": True, "receipt": self.receipt, "question_id": self.question_id}


async def write_submissions(conn: AsyncConnection, items: list[Submission], now: datetime) -> list[Any]:
    session_ids = sorted({it.session_id for it in items})
    keys = sorted({it.idempotency_key for it in items})

    # 1. Lock the sessions' rows (PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the write
    #    lock), so a close from another process or node cannot slip between check and insert.
    state_q = select(s.sessions.c.id, s.sessions.c.state, s.sessions.c.fields).where(
        s.sessions.c.id.in_(session_ids)
    )
    if conn.dialect.name == "postgresql":
        state_q = state_q.with_for_update()
    sessions = {row.id: row for row in (await conn.execute(state_q))}

    # 2. Idempotent resends: a key already stored gets its receipt back, even after the close.
    existing = {
        (row.session_id, row.idempotency_key): Receipt(row.id, row.receipt, duplicate=True)
        for row in await conn.execute(
            select(s.questions.c.id, s.questions.c.session_id, s.questions.c.idempotency_key, s.questions.c.receipt)
            .where(s.questions.c.session_id.in_(session_ids))
            .where(s.questions.c.idempotency_key.in_(keys))
        )
    }

    numbers = {
        row.session_id: row.top or 0
        for row in await conn.execute(
            select(s.questions.c.session_id, func.max(s.questions.c.number).label("top"))
            .where(s.questions.c.session_id.in_(session_ids))
            .group_by(s.questions.c.session_id)
        )
    }

    results: list[Any] = [None] * len(items)
    to_insert: list[tuple[int, Submission, dict[str, Any]]] = []
    in_batch: dict[tuple[int, str], int] = {}  # the same key twice in one batch: answered by the first
    for index, item in enumerate(items):
        key = (item.session_id, item.idempotency_key)
        if key in existing:
            results[index] = existing[key]
            continue
        if key in in_batch:
            results[index] = in_batch[key]  # an index, resolved after the insert
            continue
        session = sessions.get(item.session_id)
        if session is None:
            results[index] = NotFound("session_not_found", field="session_id")
            continue
        state = SessionState(session.state)
        if state not in INTAKE_OPEN:
            results[index] = (
                SessionNotOpen("session_not_open", field="session_id")
                if state is SessionState.DRAFT
                else SessionClosed("session_closed", field="session_id")
            )
            continue
        if item.field is not None and item.field not in session.fields:
            results[index] = ValidationError("bad_field", field="field")
            continue
        numbers[item.session_id] = numbers.get(item.session_id, 0) + 1
        in_batch[key] = index
        to_insert.append(
            (
                index,
                item,
                {
                    "session_id": item.session_id,
                    "number": numbers[item.session_id],
                    "receipt": new_receipt(),
                    "idempotency_key": item.idempotency_key,
                    "channel": item.channel,
                    "field": item.field,
                    "text": item.text,
                    "state": QuestionState.RECEIVED.value,
                    "asker_kind": item.asker.kind.value,
                    "public_name": item.asker.public_name,
                    "received_at": now,
                    "interest_count": 0,
                    "version": 1,
                    "updated_at": now,
                },
            )
        )

    if to_insert:
        rows = [row for _, _, row in to_insert]
        inserted = await conn.execute(
            insert(s.questions).returning(s.questions.c.id, sort_by_parameter_order=True), rows
        )
        ids = [r.id for r in inserted]
        await conn.execute(
            insert(s.askers),
            [
                {
                    "question_id": qid,
                    "kind": item.asker.kind.value,
                    "name": item.asker.name,
                    "address": item.asker.address,
                    "phone": item.asker.phone,
                    "name_shown": item.asker.name_shown.value,
                }
                for qid, (_, item, _) in zip(ids, to_insert, strict=True)
            ],
        )
        await conn.execute(
            insert(s.consent_records),
            [
                {"question_id": qid, "consent_version": item.consent_version, "accepted_at": now, "channel": item.channel}
                for qid, (_, item, _) in zip(ids, to_insert, strict=True)
            ],
        )
        for qid, (index, _, row) in zip(ids, to_insert, strict=True):
            results[index] = Receipt(qid, row["receipt"])

    for index, result in enumerate(results):
        if isinstance(result, int):  # the second of two identical keys in one batch
            first = results[result]
            results[index] = Receipt(first.question_id, first.receipt, duplicate=True)
    return results
