"""Writing submitted questions: one batch per transaction, checked against the session's state
inside that same transaction, so a close that races with submissions is atomic: a question is
either committed before the close (and acknowledged) or refused after it, never half-stored."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Connection

from . import audit
from . import schema as s
from .errors import NotFound, SessionClosed, SessionNotOpen, ValidationError
from .questions import QuestionState
from .receipts import receipts_for
from .roles import Actor, Role
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
    # On SQLite the batch's reads go to the driver directly: SQLAlchemy building and processing
    # the statements (an expanding IN of every key) cost more than running them (bench/intake.py).
    db: _Reads = _SqliteReads(conn) if conn.dialect.name == "sqlite" else _CoreReads(conn)

    # 1. Lock the sessions' rows (PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the write
    #    lock), so a close from another process or node cannot slip between check and insert.
    sessions = db.sessions(session_ids)
    # 2. Each question's receipt follows from its session's receipt key and its idempotency key,
    #    so an idempotent resend is found by the receipt it would get (moderation/receipts.py),
    #    even after the close; one stored before migration 0004 (a random receipt) by its key.
    receipts: list[str | None] = [None] * len(items)
    for session_id, (_, _, receipt_key) in sessions.items():
        indexes = [i for i, it in enumerate(items) if it.session_id == session_id]
        for i, derived in zip(indexes, receipts_for(receipt_key, [items[i].idempotency_key for i in indexes]),
                              strict=True):
            receipts[i] = derived
    stored = db.by_receipt([r for r in receipts if r is not None])
    legacy = db.legacy(list(sessions), sorted({it.idempotency_key for it in items}))
    # The last number in each session's register: ORDER BY … LIMIT 1 reads one index entry, where
    # max() … GROUP BY walked every question of the session in every batch.
    numbers = {session_id: db.last_number(session_id) for session_id in sessions}

    # On SQLite rows go to the driver as they are (see _insert_rows): the timestamp is converted once.
    stamp: Any = _sqlite_datetime(now) if conn.dialect.name == "sqlite" else now
    results: list[Any] = [None] * len(items)
    to_insert: list[tuple[int, Submission, tuple[Any, ...]]] = []
    in_batch: dict[tuple[int, str], tuple[int, str]] = {}  # the same key twice in one batch: the first wins
    received = QuestionState.RECEIVED.value
    for index, item in enumerate(items):
        session = sessions.get(item.session_id)
        if session is None:
            results[index] = NotFound("session_not_found", field="session_id")
            continue
        key = (item.session_id, item.idempotency_key)
        receipt = receipts[index]
        assert receipt is not None  # every question of a session found has its receipt
        content = item.content_hash
        earlier = legacy.get(key) or in_batch.get(key)
        if earlier is None and receipt in stored:
            owner, earlier = stored[receipt]
            if owner != key:
                # Two keys whose 60-bit receipts collide (about once in 10^18 pairs): this one cannot
                # have that receipt; a new key (a reloaded form) gets another.
                results[index] = ValidationError("reused_idempotency_key", field="idempotency_key")
                continue
        if earlier is not None:
            first, first_content = earlier
            # A resend gets its receipt back; a reused key with other content must not: it would
            # drop this question and show someone else's receipt.
            results[index] = first if first_content == content else ValidationError(
                "reused_idempotency_key", field="idempotency_key")
            continue
        if item.refusal is not None:  # a blocked sender (moderation/blocks.py): nothing new is stored
            results[index] = item.refusal
            continue
        state = SessionState(session[0])
        if state not in INTAKE_OPEN:
            results[index] = (
                SessionNotOpen("session_not_open", field="session_id")
                if state is SessionState.DRAFT
                else SessionClosed("session_closed", field="session_id")
            )
            continue
        if item.field is not None and item.field not in session[1]:
            results[index] = ValidationError("bad_field", field="field")
            continue
        number = numbers[item.session_id] = numbers.get(item.session_id, 0) + 1
        in_batch[key] = (index, content)
        asker = item.asker
        # in QUESTION_COLUMNS order
        row = (item.session_id, number, receipt, item.idempotency_key, content, item.channel, item.field,
               item.text, received, asker.kind.value, asker.public_name, stamp, 0, 1, stamp, item.officer)
        to_insert.append((index, item, row))

    if to_insert:
        ids = _insert_questions(conn, [row for _, _, row in to_insert])
        askers, consents = [], []
        for index, item, row in to_insert:
            qid = ids[(row[0], row[1])]
            results[index] = Receipt(qid, row[2])
            a = item.asker
            askers.append((qid, a.kind.value, a.name, a.address, a.phone, a.name_shown.value, item.viewer_hash,
                           item.address_hash, a.email))
            consents.append((qid, item.consent_version, stamp, item.channel, item.officer))
        _insert_rows(conn, s.askers, askers, ASKER_COLUMNS)
        _insert_rows(conn, s.consent_records, consents, CONSENT_COLUMNS)
        # -- officer intake: a question an officer entered (by phone, e-mail, letter, in person) is a
        # change by staff, audited in this transaction; the detail has no personal data.
        for index, item, row in to_insert:
            if item.officer is not None:
                officer = Actor(item.officer, Role(item.officer_role or Role.EDITOR.value))
                audit.append(conn, officer, ENTERED_ACTION, now, session_id=row[0], question_id=results[index].question_id,
                             channel=item.channel, number=row[1])
        # -- end officer intake

    for index, result in enumerate(results):
        if isinstance(result, int):  # the second of two identical keys in one batch
            first = results[result]
            results[index] = Receipt(first.question_id, first.receipt, duplicate=True)
    return results


ENTERED_ACTION = "question_entered"  # officer intake's audit entry
ASKER_COLUMNS = ["question_id", "kind", "name", "address", "phone", "name_shown", "viewer_hash", "address_hash", "email"]
CONSENT_COLUMNS = ["question_id", "consent_version", "accepted_at", "channel", "officer"]
QUESTION_COLUMNS = ["session_id", "number", "receipt", "idempotency_key", "content_hash", "channel", "field", "text",
                    "state", "asker_kind", "public_name", "received_at", "interest_count", "version", "updated_at", "entered_by"]


class _Reads:
    def sessions(self, session_ids: list[int]) -> dict[int, tuple[str, list[str], str]]:
        """{id: (state, fields, receipt_key)}"""
        raise NotImplementedError

    def by_receipt(self, receipts: list[str]) -> dict[str, tuple[tuple[int, str], tuple[Receipt, str]]]:
        """{receipt: ((session_id, key), (receipt, content_hash))} of the receipts already stored"""
        raise NotImplementedError

    def legacy(self, session_ids: list[int], keys: list[str]) -> dict[tuple[int, str], tuple[Receipt, str]]:
        """{(session_id, key): (receipt, content_hash)} of keys stored before migration 0004"""
        raise NotImplementedError

    def last_number(self, session_id: int) -> int:
        raise NotImplementedError


class _CoreReads(_Reads):
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def sessions(self, session_ids: list[int]) -> dict[int, tuple[str, list[str], str]]:
        c = s.sessions.c
        q = select(c.id, c.state, c.fields, c.receipt_key).where(c.id.in_(session_ids))
        if self.conn.dialect.name == "postgresql":
            q = q.with_for_update()
        return {row.id: (row.state, row.fields, row.receipt_key) for row in self.conn.execute(q)}

    def by_receipt(self, receipts: list[str]) -> dict[str, tuple[tuple[int, str], tuple[Receipt, str]]]:
        if not receipts:
            return {}
        q = s.questions.c
        rows = self.conn.execute(
            select(q.id, q.session_id, q.idempotency_key, q.receipt, q.content_hash).where(q.receipt.in_(receipts)))
        return {row.receipt: ((row.session_id, row.idempotency_key),
                              (Receipt(row.id, row.receipt, duplicate=True), row.content_hash)) for row in rows}

    def legacy(self, session_ids: list[int], keys: list[str]) -> dict[tuple[int, str], tuple[Receipt, str]]:
        if not session_ids:
            return {}
        q, k = s.questions.c, s.legacy_idempotency_keys.c
        rows = self.conn.execute(
            select(q.id, q.session_id, q.idempotency_key, q.receipt, q.content_hash)
            .join_from(s.legacy_idempotency_keys, s.questions, q.id == k.question_id)
            .where(k.session_id.in_(session_ids), k.idempotency_key.in_(keys)))
        return {(row.session_id, row.idempotency_key): (Receipt(row.id, row.receipt, duplicate=True), row.content_hash)
                for row in rows}

    def last_number(self, session_id: int) -> int:
        q = s.questions.c
        number = self.conn.execute(
            select(q.number).where(q.session_id == session_id).order_by(q.number.desc()).limit(1)
        ).scalar_one_or_none()
        return number or 0


class _SqliteReads(_Reads):
    """The same reads as _CoreReads, as plain SQL on the pysqlite connection of the transaction."""

    def __init__(self, conn: Connection) -> None:
        driver = conn.connection.driver_connection
        assert driver is not None  # inside the transaction SQLAlchemy began
        self.cursor = driver.cursor()

    def _all(self, sql: str, params: list[Any]) -> list[Any]:
        return self.cursor.execute(sql, params).fetchall()

    def sessions(self, session_ids: list[int]) -> dict[int, tuple[str, list[str], str]]:
        rows = self._all(f"SELECT id, state, fields, receipt_key FROM sessions WHERE id IN ({_marks(session_ids)})",
                         session_ids)
        return {sid: (state, json.loads(fields), key) for sid, state, fields, key in rows}

    def by_receipt(self, receipts: list[str]) -> dict[str, tuple[tuple[int, str], tuple[Receipt, str]]]:
        if not receipts:
            return {}
        rows = self._all("SELECT receipt, session_id, idempotency_key, id, content_hash FROM questions"
                         f" WHERE receipt IN ({_marks(receipts)})", receipts)
        return {receipt: ((sid, key), (Receipt(qid, receipt, duplicate=True), content))
                for receipt, sid, key, qid, content in rows}

    def legacy(self, session_ids: list[int], keys: list[str]) -> dict[tuple[int, str], tuple[Receipt, str]]:
        if not session_ids:
            return {}
        rows = self._all(
            "SELECT q.session_id, q.idempotency_key, q.id, q.receipt, q.content_hash"
            " FROM legacy_idempotency_keys k JOIN questions q ON q.id = k.question_id"
            f" WHERE k.session_id IN ({_marks(session_ids)}) AND k.idempotency_key IN ({_marks(keys)})",
            [*session_ids, *keys],
        )
        return {(sid, key): (Receipt(qid, receipt, duplicate=True), content) for sid, key, qid, receipt, content in rows}

    def last_number(self, session_id: int) -> int:
        rows = self._all("SELECT number FROM questions WHERE session_id = ? ORDER BY number DESC LIMIT 1", [session_id])
        return rows[0][0] if rows else 0

    def ids(self, session_id: int, lowest: int) -> list[tuple[int, int]]:
        return self._all("SELECT number, id FROM questions WHERE session_id = ? AND number >= ?", [session_id, lowest])


def _marks(values: list[Any]) -> str:
    return ", ".join(["?"] * len(values))


def _insert_questions(conn: Connection, rows: list[tuple[Any, ...]]) -> dict[tuple[int, int], int]:
    """Insert rows (QUESTION_COLUMNS order) and return {(session_id, number): id}; (session_id, number)
    is unique."""
    if conn.dialect.name != "sqlite":
        # One multi-row INSERT … RETURNING. Rows come back in no promised order (asking for
        # parameter order makes SQLAlchemy fall back to a statement per row), hence the mapping.
        inserted = conn.execute(
            insert(s.questions).returning(s.questions.c.id, s.questions.c.session_id, s.questions.c.number),
            [dict(zip(QUESTION_COLUMNS, row, strict=True)) for row in rows],
        )
        return {(r.session_id, r.number): r.id for r in inserted}
    _insert_rows(conn, s.questions, rows, QUESTION_COLUMNS)
    reads = _SqliteReads(conn)
    ids: dict[tuple[int, int], int] = {}
    for session_id in {row[0] for row in rows}:
        lowest = min(row[1] for row in rows if row[0] == session_id)
        for number, qid in reads.ids(session_id, lowest):
            ids[(session_id, number)] = qid
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
    driver = conn.connection.driver_connection  # in the transaction SQLAlchemy began
    assert driver is not None
    for start in range(0, len(rows), SQLITE_ROWS_PER_INSERT):
        chunk = rows[start : start + SQLITE_ROWS_PER_INSERT]
        driver.execute(head + ", ".join([one_row] * len(chunk)), list(chain.from_iterable(chunk)))


def _sqlite_datetime(value: datetime) -> str:
    """A timestamp exactly as SQLAlchemy stores a UTCDateTime on SQLite (naive UTC, microseconds)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
