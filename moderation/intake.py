"""Writing submitted questions: one batch per transaction, checked against the session's state
inside that same transaction, so a close that races with submissions is atomic: a question is
either committed before the close (and acknowledged) or refused after it, never half-stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Connection

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

    def __reduce__(self) -> tuple[Any, ...]:
        return (Receipt, (self.question_id, self.receipt, self.duplicate))  # compact across the pipe


def write_submissions(conn: Connection, items: list[Submission], now: datetime) -> list[Any]:
    session_ids = sorted({it.session_id for it in items})
    keys = sorted({it.idempotency_key for it in items})

    # 1. Lock the sessions' rows (PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the write
    #    lock), so a close from another process or node cannot slip between check and insert.
    state_q = select(s.sessions.c.id, s.sessions.c.state, s.sessions.c.fields).where(
        s.sessions.c.id.in_(session_ids)
    )
    if conn.dialect.name == "postgresql":
        state_q = state_q.with_for_update()
    sessions = {row.id: row for row in conn.execute(state_q)}

    # 2. Idempotent resends: a key already stored gets its receipt back, even after the close.
    existing = {
        (row.session_id, row.idempotency_key): (Receipt(row.id, row.receipt, duplicate=True), row.content_hash)
        for row in conn.execute(
            select(s.questions.c.id, s.questions.c.session_id, s.questions.c.idempotency_key, s.questions.c.receipt,
                   s.questions.c.content_hash)
            .where(s.questions.c.session_id.in_(session_ids))
            .where(s.questions.c.idempotency_key.in_(keys))
        )
    }

    # The last number in each session's register: ORDER BY … LIMIT 1 reads one index entry, where
    # max() … GROUP BY walked every question of the session in every batch.
    numbers = {
        session_id: conn.execute(
            select(s.questions.c.number)
            .where(s.questions.c.session_id == session_id)
            .order_by(s.questions.c.number.desc())
            .limit(1)
        ).scalar_one_or_none()
        or 0
        for session_id in sessions
    }

    # On SQLite rows go to the driver as they are (see _insert_rows): the timestamp is converted once.
    stamp: Any = _sqlite_datetime(now) if conn.dialect.name == "sqlite" else now
    results: list[Any] = [None] * len(items)
    to_insert: list[tuple[int, Submission, dict[str, Any]]] = []
    in_batch: dict[tuple[int, str], tuple[int, str]] = {}  # the same key twice in one batch: the first wins
    for index, item in enumerate(items):
        key = (item.session_id, item.idempotency_key)
        content = item.content_hash
        earlier = existing.get(key) or in_batch.get(key)
        if earlier is not None:
            first, first_content = earlier
            # A resend gets its receipt back; a reused key with other content must not: it would
            # drop this question and show someone else's receipt.
            results[index] = first if first_content == content else ValidationError(
                "reused_idempotency_key", field="idempotency_key")
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
        in_batch[key] = (index, content)
        to_insert.append(
            (
                index,
                item,
                {
                    "session_id": item.session_id,
                    "number": numbers[item.session_id],
                    "receipt": new_receipt(),
                    "idempotency_key": item.idempotency_key,
                    "content_hash": content,
                    "channel": item.channel,
                    "field": item.field,
                    "text": item.text,
                    "state": QuestionState.RECEIVED.value,
                    "asker_kind": item.asker.kind.value,
                    "public_name": item.asker.public_name,
                    "received_at": stamp,
                    "interest_count": 0,
                    "version": 1,
                    "updated_at": stamp,
                },
            )
        )

    if to_insert:
        ids = _insert_questions(conn, [row for _, _, row in to_insert])
        askers, consents = [], []
        for index, item, row in to_insert:
            qid = ids[(row["session_id"], row["number"])]
            results[index] = Receipt(qid, row["receipt"])
            askers.append((qid, item.asker.kind.value, item.asker.name, item.asker.address, item.asker.phone,
                           item.asker.name_shown.value))
            consents.append((qid, item.consent_version, stamp, item.channel))
        _insert_rows(conn, s.askers, askers)
        _insert_rows(conn, s.consent_records, consents)

    for index, result in enumerate(results):
        if isinstance(result, int):  # the second of two identical keys in one batch
            first = results[result]
            results[index] = Receipt(first.question_id, first.receipt, duplicate=True)
    return results


def _insert_questions(conn: Connection, rows: list[dict[str, Any]]) -> dict[tuple[int, int], int]:
    """Insert and return {(session_id, number): id}; (session_id, number) is unique."""
    if conn.dialect.name != "sqlite":
        # One multi-row INSERT … RETURNING. Rows come back in no promised order (asking for
        # parameter order makes SQLAlchemy fall back to a statement per row), hence the mapping.
        inserted = conn.execute(
            insert(s.questions).returning(s.questions.c.id, s.questions.c.session_id, s.questions.c.number), rows
        )
        return {(r.session_id, r.number): r.id for r in inserted}
    columns = list(rows[0])
    _insert_rows(conn, s.questions, [tuple(row[c] for c in columns) for row in rows], columns)
    ids: dict[tuple[int, int], int] = {}
    for session_id in {row["session_id"] for row in rows}:
        lowest = min(row["number"] for row in rows if row["session_id"] == session_id)
        for r in conn.execute(
            select(s.questions.c.id, s.questions.c.number)
            .where(s.questions.c.session_id == session_id)
            .where(s.questions.c.number >= lowest)
        ):
            ids[(session_id, r.number)] = r.id
    return ids


# Rows per multi-row INSERT on SQLite: 512 × 14 columns stays far below SQLite's 32,766 variables.
SQLITE_ROWS_PER_INSERT = 512


def _insert_rows(conn: Connection, table: Table, rows: list[tuple[Any, ...]], columns: list[str] | None = None) -> None:
    """Many rows, given as tuples in `columns` order (default: the table's).

    On SQLite they go to the driver as one multi-row INSERT … VALUES (…), (…): SQLAlchemy's per-row
    parameter processing cost more than the database work itself, and the driver's executemany
    steps (and releases the GIL) once per row (bench/intake.py). Values must already be in their
    stored form (_sqlite_datetime)."""
    columns = columns or [c.name for c in table.columns]
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    one_row = "(" + ", ".join("?" for _ in columns) + ")"
    head = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
    for start in range(0, len(rows), SQLITE_ROWS_PER_INSERT):
        chunk = rows[start : start + SQLITE_ROWS_PER_INSERT]
        conn.exec_driver_sql(head + ", ".join([one_row] * len(chunk)), tuple(v for row in chunk for v in row))


def _sqlite_datetime(value: datetime) -> str:
    """A timestamp exactly as SQLAlchemy stores a UTCDateTime on SQLite (naive UTC, microseconds)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
