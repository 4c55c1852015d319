"""The retention period the consent text promises (Law 91/2025/QH15, Decree 356/2025/NĐ-CP): askers'
names, addresses, phones and e-mails are erased `retention_months` (sessions column, 12 by default)
after the session closed; the questions, answers, counts and consent records stay.

What erasing an asker does, in one place (`erase_askers`), for the retention job and for an asker's
erasure request (moderation/data_requests.py) alike:
- askers: name becomes a placeholder (ERASED_BY_RETENTION or ERASED_ON_REQUEST), address and phone
  empty, e-mail NULL, the block hashes (viewer_hash, address_hash) NULL, erased_at stamped; `kind`
  and `name_shown` stay (what sort of asker it was, for the reports);
- questions: `public_name` becomes "" (shown as the anonymous asker). The name the asker chose to
  publish is a natural person's name next to what they asked of the government (which can reveal a
  political opinion), and the consent text promises the name is erased with no exception for the
  published one; an organisation's name may be a household business's, named after its owner, and
  the store cannot tell. The published exchange keeps its value without it. `content_hash` (a
  SHA-256 over the name, address, phone and text) is overwritten: with the text kept, it would
  confirm a guessed identity, and an idempotent resend would answer with the receipt;
- notifications: `address` NULL (the asker's own e-mail or phone where a row carries one).

The job (`run_retention`) takes one transaction per session: a crash leaves every session erased
in full or not at all, and the next run takes up what is left. A session once erased is stamped
(sessions.erased_at) and skipped; run twice, the job erases nothing the second time. The standing
forum never closes: its questions are erased one by one, `retention_months` after each was received.

On SQLite the job's connection turns on `secure_delete` (freed space is overwritten with zeros) and
truncates the WAL afterwards, so the old names leave the database file's bytes as well as its rows.
PostgreSQL keeps dead tuples until VACUUM (autovacuum, or an operator's VACUUM) reclaims them."""

from __future__ import annotations

import calendar as month_lengths
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from . import audit
from . import schema as s
from .asker import ERASED_BY_RETENTION
from .calendar import end_of_day, local_date, parse_moment
from .roles import Actor, Role

if TYPE_CHECKING:
    from .store import Store

log = logging.getLogger(__name__)
JOB_ACTOR = Actor("retention", Role.ADMIN)  # the server's daily run, in the audit log
ERASED_HASH = "0" * 64
CHUNK = 500  # ids per IN (…): far below every backend's limit on bound parameters


def add_months(day: date, months: int) -> date:
    """The corresponding day `months` later (Bộ luật Dân sự Điều 148.1: a month-long period ends on
    that day; a day the month lacks, such as 31, becomes the month's last day)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return day.replace(year=year, month=month, day=min(day.day, month_lengths.monthrange(year, month)[1]))


def erase_after(start: datetime, months: int) -> datetime:
    """The moment from which an identity kept since `start` (a close, a forum question's receipt) is
    erased: the end (24:00 in Vietnam) of the period's last day."""
    return end_of_day(add_months(local_date(start), months))


def parse_as_of(raw: str | None) -> datetime | None:
    """`--as-of`: ISO 8601; a date or a time without a zone is Vietnam's."""
    return None if raw is None else parse_moment(raw, "privacy_bad_as_of").astimezone(UTC)


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def erase_askers(conn: Connection, question_ids: Iterable[int], placeholder: str, now: datetime) -> int:
    """Erase the identities of these questions' askers (those not erased yet) inside the caller's
    transaction; the number erased. The one place that says what erasing is (see the module's doc)."""
    pending: list[int] = []
    for chunk in _chunks(sorted(set(question_ids))):
        pending += conn.execute(select(s.askers.c.question_id).where(s.askers.c.question_id.in_(chunk))
                                .where(s.askers.c.erased_at.is_(None))).scalars().all()
    for chunk in _chunks(pending):
        conn.execute(update(s.askers).where(s.askers.c.question_id.in_(chunk)).values(
            name=placeholder, address="", phone="", email=None, viewer_hash=None, address_hash=None, erased_at=now))
        conn.execute(update(s.questions).where(s.questions.c.id.in_(chunk)).values(
            public_name="", content_hash=ERASED_HASH, updated_at=now))
        conn.execute(update(s.notifications).where(s.notifications.c.question_id.in_(chunk))
                     .where(s.notifications.c.address.is_not(None)).values(address=None))
    return len(pending)


@dataclass(frozen=True)
class Due:
    """A session whose askers are due for erasure: all of them (a closed dialogue), or the forum's
    questions received long enough ago."""

    session_id: int
    forum: bool
    months: int
    question_ids: tuple[int, ...] = ()  # the forum's due questions; a dialogue: every question


@dataclass
class RetentionRun:
    as_of: datetime
    dry_run: bool
    sessions: int = 0
    askers: int = 0
    erased: list[dict[str, int]] = field(default_factory=list)  # [{session_id, askers}]

    def as_dict(self) -> dict[str, Any]:
        return {"ok": True, "as_of": self.as_of.isoformat(), "dry_run": self.dry_run, "sessions": self.sessions,
                "askers": self.askers, "erased": self.erased}


def due_sessions(conn: Connection, as_of: datetime) -> list[Due]:
    """What is due for erasure as of `as_of` and not erased yet."""
    found: list[Due] = []
    sessions = conn.execute(select(s.sessions.c.id, s.sessions.c.kind, s.sessions.c.closed_at,
                                   s.sessions.c.retention_months).where(s.sessions.c.erased_at.is_(None))
                            .order_by(s.sessions.c.id))
    for row in sessions.all():
        if row.kind == "forum":
            questions = conn.execute(
                select(s.questions.c.id, s.questions.c.received_at)
                .join(s.askers, s.askers.c.question_id == s.questions.c.id)
                .where(s.questions.c.session_id == row.id).where(s.askers.c.erased_at.is_(None)))
            ids = tuple(q.id for q in questions if erase_after(q.received_at, row.retention_months) <= as_of)
            if ids:
                found.append(Due(row.id, True, row.retention_months, ids))
        elif row.closed_at is not None and erase_after(row.closed_at, row.retention_months) <= as_of:
            found.append(Due(row.id, False, row.retention_months))
    return found


def _unerased(conn: Connection, due: Due) -> list[int]:
    if due.forum:
        return list(due.question_ids)
    return list(conn.execute(select(s.askers.c.question_id)
                             .join(s.questions, s.questions.c.id == s.askers.c.question_id)
                             .where(s.questions.c.session_id == due.session_id)
                             .where(s.askers.c.erased_at.is_(None))).scalars())


def erase_due(conn: Connection, due: Due, as_of: datetime, actor: Actor, now: datetime) -> int | None:
    """One session's erasure, in the caller's transaction: the askers erased, or None when another
    run got there first (checked again under the write lock, so two runs at once, two nodes or the
    CLI beside the server, erase it once)."""
    q = select(s.sessions.c.erased_at, s.sessions.c.closed_at, s.sessions.c.retention_months, s.sessions.c.kind) \
        .where(s.sessions.c.id == due.session_id)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None or row.erased_at is not None:
        return None
    if not due.forum and (row.closed_at is None or erase_after(row.closed_at, row.retention_months) > as_of):
        return None
    erased = erase_askers(conn, _unerased(conn, due), ERASED_BY_RETENTION, now)
    if due.forum and not erased:
        return None
    if not due.forum:
        conn.execute(update(s.sessions).where(s.sessions.c.id == due.session_id).values(erased_at=now, updated_at=now))
    audit.append(conn, actor, "retention_erase", now, session_id=due.session_id, askers=erased,
                 months=row.retention_months, as_of=as_of.isoformat())
    return erased


def _sqlite_raw(conn: Connection) -> Any:
    if conn.dialect.name != "sqlite":
        return None
    return conn.connection.dbapi_connection


def _pragma(raw: Any, pragma: str) -> list[Any]:
    cur = raw.cursor()
    try:
        cur.execute(f"PRAGMA {pragma}")
        return list(cur.fetchall())
    finally:
        cur.close()


def _erase_one(conn: Connection, due: Due, as_of: datetime, actor: Actor) -> int | None:
    """One due session in its own transaction, with SQLite's secure_delete on for it (set outside
    the transaction, on this connection, and put back after)."""
    raw = _sqlite_raw(conn)
    before = _pragma(raw, "secure_delete")[0][0] if raw is not None else None
    if raw is not None:
        _pragma(raw, "secure_delete=ON")
    try:
        with conn.begin():
            return erase_due(conn, due, as_of, actor, datetime.now(UTC))
    finally:
        if raw is not None:
            _pragma(raw, f"secure_delete={int(before or 0)}")


def _finish(conn: Connection, run: RetentionRun, actor: Actor, record: bool) -> None:
    if record or run.sessions:
        with conn.begin():
            audit.append(conn, actor, "retention_run", datetime.now(UTC), sessions=run.sessions,
                         askers=run.askers, as_of=run.as_of.isoformat())
    raw = _sqlite_raw(conn)
    if raw is not None and run.sessions:
        # the WAL still holds the pages as they were: the checkpoint copies the new ones into the
        # database file, and TRUNCATE empties the log
        busy = _pragma(raw, "wal_checkpoint(TRUNCATE)")[0][0]
        if busy:  # a reader held an old snapshot past the busy timeout: the next checkpoint finishes it
            log.warning("retention: the WAL could not be truncated now; SQLite's next checkpoint will")


async def run_retention(store: Store, as_of: datetime | None = None, actor: Actor = JOB_ACTOR, *,
                        dry_run: bool = False, record: bool = True) -> RetentionRun:
    """Erase what is due as of `as_of` (default: now). `dry_run`: count it, change nothing.
    `record`: an audit entry for the run even when it erased nothing (the CLI); the server's daily
    run records only runs that erased something."""
    as_of = as_of or datetime.now(UTC)
    if as_of.tzinfo is None:
        raise ValueError("naive as_of")
    run = RetentionRun(as_of, dry_run)
    async with store.read_engine.connect() as conn:
        due = await conn.run_sync(due_sessions, as_of)
        if dry_run:
            for one in due:
                if one.forum:
                    count = len(one.question_ids)
                else:
                    count = (await conn.execute(
                        select(func.count()).select_from(s.askers)
                        .join(s.questions, s.questions.c.id == s.askers.c.question_id)
                        .where(s.questions.c.session_id == one.session_id)
                        .where(s.askers.c.erased_at.is_(None)))).scalar_one()
                run.sessions += 1
                run.askers += count
                run.erased.append({"session_id": one.session_id, "askers": count})
            return run
    if not due and not record:
        return run
    for one in due:
        # the store's one write connection, given back between sessions: staff actions and
        # intake are not held up behind a long run
        async with store.write_engine.connect() as conn:
            erased = await conn.run_sync(_erase_one, one, as_of, actor)
        if erased is not None:
            run.sessions += 1
            run.askers += erased
            run.erased.append({"session_id": one.session_id, "askers": erased})
    async with store.write_engine.connect() as conn:
        await conn.run_sync(_finish, run, actor, record)
    if run.sessions:
        log.info("retention: %d session(s), %d asker(s) erased", run.sessions, run.askers)
    return run
