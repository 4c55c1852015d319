"""The store: one place that reads and writes sessions, questions and askers.

SQLite (the embedded default) runs in WAL mode with synchronous=FULL, so a commit is on disk when it
returns. Questions and interest marks go through the batch writer (moderation/writer.py, on SQLite
in a process of its own); staff changes through one connection with BEGIN IMMEDIATE; reads through
a small pool of their own, so page views never wait behind a batch of questions. PostgreSQL works
the same through asyncpg, with row locks where SQLite relies on its single write lock."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, false, insert, select, update
from sqlalchemy.engine import Connection, Row, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from . import attachments, audit, followup
from . import schema as s
from .asker import Asker, AskerKind, NameShown
from .board import end_live
from .errors import NotFound, ValidationError
from .intake import Receipt, write_submissions
from .interest import InterestCount, InterestMark, write_interests
from .questions import PUBLIC_STATES, QuestionState, is_public
from .receipts import new_receipt_key, normalize_receipt
from .roles import CLI_ACTOR, Actor
from .sessions import Session, SessionDraft, SessionKind, SessionState, check_transition
from .submission import IDEMPOTENCY_KEY, MAX_ID, Submission
from .writer import BatchWriter

log = logging.getLogger(__name__)
# aiosqlite logs every statement with its parameters at DEBUG: askers' names and phones. Personal
# data stays out of application logs whatever level an operator chooses (and every engine below is
# made with hide_parameters=True, so a database error's message carries no parameters either).
logging.getLogger("aiosqlite").setLevel(logging.INFO)



def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{(data_dir / 'doithoai.sqlite3').resolve()}"


def keep_sqlite_private(url: str) -> None:
    """The database holds every asker's name, address and phone: readable by its owner only (0600).
    Created so before SQLite opens it, because SQLite gives its -wal and -shm files the database
    file's mode; a store made by an older version is tightened (its -wal and -shm too)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))  # an empty file is a new SQLite database
    except OSError:
        return  # no such directory, or not ours: SQLite's own error says so at the first connection
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if name.stat().st_mode & 0o077:
                name.chmod(0o600)
        except FileNotFoundError:
            continue
        except PermissionError:
            log.warning("%s is readable by others and is not ours to chmod", name.name)


def sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # isolation_level=None hands transaction control to SQLAlchemy's "begin" event below.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    pragmas = (
        "journal_mode=WAL",
        "synchronous=FULL",  # WAL is fsynced at every commit: an acknowledged question is on disk
        "busy_timeout=15000",
        "foreign_keys=ON",
        # The register's indexes are keyed by random receipts and idempotency keys, so each batch
        # touches pages all over them: keep them in memory, and checkpoint the WAL into the database
        # less often, so a page written by many batches is copied once (bench/intake.py).
        "cache_size=-65536",
        "mmap_size=268435456",
        "wal_autocheckpoint=8000",
        # A multi-row INSERT keeps a statement journal; on disk that was a temp file created,
        # written page by page and unlinked in every batch.
        "temp_store=MEMORY",
    )
    for pragma in pragmas:
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


def begin_with(engine: Engine, statement: str) -> None:
    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(statement)


def _make_engine(url: str, *, writer: bool) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, pool_size=1 if writer else 4, max_overflow=0 if writer else 4,
                                     hide_parameters=True)
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        begin_with(engine.sync_engine, "BEGIN IMMEDIATE" if writer else "BEGIN")
        return engine
    return create_async_engine(url, pool_size=2 if writer else 8, pool_pre_ping=True, hide_parameters=True)


def _make_probe_engine(url: str) -> AsyncEngine:
    """A connection opened afresh for each health probe: a pooled one goes on working on a database
    file that is gone (a lost mount, a moved data directory) while every new connection fails. SQLite
    opens the file read-write without creating it, so a missing database is not replaced by an empty one."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:" \
            and not database.startswith("file:"):
        parsed = parsed.set(database=f"file:{database}", query={**parsed.query, "mode": "rw", "uri": "true"})
    return create_async_engine(parsed, poolclass=NullPool, hide_parameters=True)


@dataclass
class QuestionView:
    """A question as the store hands it out; the asker's identity only when asked for (staff)."""

    id: int
    session_id: int
    number: int
    receipt: str
    field: str | None
    text: str  # as the asker sent it (the register's text)
    state: QuestionState
    public_name: str
    asker_kind: str
    received_at: datetime
    decline_reason: str | None
    interest_count: int
    version: int
    channel: str
    updated_at: datetime | None = None
    display_text: str | None = None  # edited for air by a moderator
    decline_note: str | None = None  # the reason in words, for the asker
    department: str | None = None
    answer: str | None = None
    starred: bool = False
    held: bool = False
    queue_position: int | None = None
    merged_into: int | None = None
    merged_count: int = 0
    protected: bool = False
    forward_due: datetime | None = None
    confirmed_by: str | None = None
    aired_at: datetime | None = None
    answered_at: datetime | None = None
    # follow-up after the session (moderation/followup.py, moderation/deadlines.py)
    entered_by: str | None = None
    due_on: date | None = None
    due_rule: str | None = None
    due_from: date | None = None
    due_extended_from: date | None = None
    due_note: str | None = None
    due_done_at: datetime | None = None
    forwarded_at: datetime | None = None
    forwarded_to: str | None = None
    answer_by: str | None = None
    answer_submitted_at: datetime | None = None
    answer_return_note: str | None = None
    asker: Asker | None = None
    attachments: Any = ()  # the answer's files, a tuple of moderation.attachments.Attachment, where read

    @property
    def public(self) -> bool:
        return is_public(self.state, self.held)

    @property
    def shown_text(self) -> str:
        """What the public, the chair and the overlay read: the edited text if there is one."""
        return self.display_text or self.text

    def public_dict(self) -> dict[str, Any]:
        """What the public, the chair and the overlay may see: never phone or address."""
        return {
            "id": self.id,
            "field": self.field,
            "text": self.shown_text,
            "state": self.state.value,
            "public_name": self.public_name,
            "asker_kind": self.asker_kind,
            "received_at": self.received_at.isoformat(),
            "interest_count": self.interest_count,
            "merged_count": self.merged_count,
            # a written answer is public once the head approved it (that approval is the state)
            "answer": self.answer if self.state is QuestionState.ANSWERED_IN_WRITING else None,
            # responder: its files (a PDF reply letter) with it, once approved
            "attachments": ([a.public_dict() for a in self.attachments]
                            if self.state is QuestionState.ANSWERED_IN_WRITING else []),
        }


_OPTIONAL = ("updated_at", "display_text", "decline_note", "department", "answer", "queue_position", "merged_into", "forward_due",
             "confirmed_by", "aired_at", "answered_at", "entered_by", "due_on", "due_rule", "due_from", "due_extended_from",
             "due_note", "due_done_at", "forwarded_at", "forwarded_to", "answer_by", "answer_submitted_at",
             "answer_return_note")


def _question(row: Row[Any]) -> QuestionView:
    m = row._mapping
    asker = None
    if "phone" in m:  # joined with askers (staff reads)
        asker = Asker(AskerKind(m["asker_kind"]), m["name"], m["address"], m["phone"], NameShown(m["name_shown"]),
                      m.get("email"))
    return QuestionView(
        id=m["id"],
        session_id=m["session_id"],
        number=m["number"],
        receipt=m["receipt"],
        field=m["field"],
        text=m["text"],
        state=QuestionState(m["state"]),
        public_name=m["public_name"],
        asker_kind=m["asker_kind"],
        received_at=m["received_at"],
        decline_reason=m["decline_reason"],
        interest_count=m["interest_count"],
        version=m["version"],
        channel=m["channel"],
        starred=bool(m.get("starred", False)),
        held=bool(m.get("held", False)),
        merged_count=m.get("merged_count") or 0,
        protected=bool(m.get("protected", False)),
        asker=asker,
        **{k: m.get(k) for k in _OPTIONAL},
    )


def _session(row: Row[Any]) -> Session:
    return Session(
        id=row.id,
        title=row.title,
        description=row.description,
        chair_name=row.chair_name,
        chair_position=row.chair_position,
        place=row.place,
        starts_at=row.starts_at,
        minutes=row.minutes,
        fields=list(row.fields),
        state=SessionState(row.state),
        created_at=row.created_at,
        announced_at=row.announced_at,
        live_at=row.live_at,
        closed_at=row.closed_at,
        updated_at=row.updated_at,
        script_approved_at=row.script_approved_at,
        script_approved_by=row.script_approved_by,
        feed=row.feed,
        feed_url=row.feed_url,
        kind=SessionKind(row.kind),
        rule_set=row.rule_set,
    )


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            keep_sqlite_private(url)
        self.write_engine = _make_engine(url, writer=True)
        self.read_engine = _make_engine(url, writer=False)
        self.probe_engine = _make_probe_engine(url)
        self.writer = BatchWriter(self.write_engine, sqlite_url=url if url.startswith("sqlite") else None)

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True, warm: bool = False) -> Store:
        """`warm`: start the writer now (a server) rather than at the first write (a command)."""
        store = cls(url)
        if migrate:
            await store.migrate()
        store.writer.start(warm=warm)
        return store

    async def migrate(self, revision: str = "head") -> None:
        from .migrations.runner import upgrade, upgrade_sqlite

        if self.url.startswith("sqlite"):
            async with self.write_engine.connect() as conn:
                await conn.run_sync(upgrade_sqlite, revision)
            return
        async with self.write_engine.begin() as conn:
            await conn.run_sync(upgrade, revision)

    async def close(self) -> None:
        await self.writer.close()
        await self.write_engine.dispose()
        await self.read_engine.dispose()
        await self.probe_engine.dispose()

    async def ping(self) -> None:
        """Raises unless a new connection can be opened and read the schema (the health check)."""
        async with self.probe_engine.connect() as conn:
            await conn.exec_driver_sql("SELECT count(*) FROM sqlite_master" if self.url.startswith("sqlite")
                                       else "SELECT 1")

    # -- sessions -----------------------------------------------------------------------------

    async def create_session(self, draft: SessionDraft, actor: Actor = CLI_ACTOR) -> Session:
        draft.validate()
        now = datetime.now(UTC)
        async with self.write_engine.begin() as conn:
            result = await conn.execute(
                insert(s.sessions).returning(s.sessions.c.id),
                {
                    "title": draft.title,
                    "description": draft.description,
                    "chair_name": draft.chair_name,
                    "chair_position": draft.chair_position,
                    "place": draft.place,
                    "starts_at": draft.starts_at,
                    "minutes": draft.minutes,
                    "fields": draft.fields,
                    "kind": draft.kind,
                    "rule_set": draft.rule_set,
                    "state": SessionState.DRAFT.value,
                    "receipt_key": new_receipt_key(),
                    "created_at": now,
                    "updated_at": now,
                },
            )
            session_id = result.scalar_one()
            await conn.run_sync(audit.append, actor, "session_create", now, session_id=session_id, title=draft.title,
                                kind=draft.kind, rule_set=draft.rule_set)
        return await self.get_session(session_id)

    async def transition_session(self, session_id: int, target: SessionState, actor: Actor = CLI_ACTOR) -> Session:
        """Move a session on. Closing takes the same write lock as intake batches, so every
        question committed before it is kept and every one after it is refused."""
        async with self.write_engine.begin() as conn:
            now = datetime.now(UTC)  # taken under the write lock: pollers look back only seconds
            q = select(s.sessions.c.state, s.sessions.c.kind).where(s.sessions.c.id == session_id)
            if conn.dialect.name == "postgresql":
                q = q.with_for_update()
            found = (await conn.execute(q)).first()
            if found is None:
                raise NotFound("session_not_found", field="session_id")
            current = found.state
            check_transition(SessionState(current), target, SessionKind(found.kind), actor.role)
            stamp = {
                SessionState.ANNOUNCED: "announced_at",
                SessionState.LIVE: "live_at",
                SessionState.CLOSED: "closed_at",
                SessionState.PUBLISHED: "published_at",
            }[target]
            await conn.execute(
                update(s.sessions)
                .where(s.sessions.c.id == session_id)
                .values(state=target.value, updated_at=now, **{stamp: now})
            )
            if target is SessionState.CLOSED:
                await conn.run_sync(end_live, session_id, actor, now)
                await conn.run_sync(followup.at_close, session_id, actor, now)
            await conn.run_sync(audit.append, actor, f"session_{target.value}", now, session_id=session_id,
                                before=current, after=target.value)
        log.info("session %s is now %s", session_id, target.value)
        return await self.get_session(session_id)

    async def get_session(self, session_id: int) -> Session:
        async with self.read_engine.connect() as conn:
            row = (await conn.execute(select(s.sessions).where(s.sessions.c.id == session_id))).first()
        if row is None:
            raise NotFound("session_not_found", field="session_id")
        return _session(row)

    async def list_sessions(self) -> list[Session]:
        async with self.read_engine.connect() as conn:
            rows = await conn.execute(select(s.sessions).order_by(s.sessions.c.starts_at.desc()))
            return [_session(r) for r in rows]

    async def sessions_changed_since(self, since: datetime | None) -> list[Session]:
        q = select(s.sessions)
        if since is not None:
            q = q.where(s.sessions.c.updated_at >= since)
        async with self.read_engine.connect() as conn:
            return [_session(r) for r in await conn.execute(q)]

    # -- intake -------------------------------------------------------------------------------

    async def submit_question(self, submission: Submission) -> Receipt:
        """Returns once the question is committed to disk; raises a DomainError otherwise."""
        result: Receipt = await self.writer.write(write_submissions, submission)
        return result

    def enqueue_question(self, submission: Submission) -> asyncio.Future[Receipt]:
        """The same as a future that settles after COMMIT, for callers that must not suspend."""
        return self.writer.enqueue(write_submissions, submission)

    async def mark_interest(self, question_id: int, viewer_key: str) -> InterestCount:
        if not IDEMPOTENCY_KEY.match(viewer_key):
            raise ValidationError("bad_viewer_key", field="viewer_key")
        if not 0 < question_id <= MAX_ID:
            raise NotFound("question_not_found", field="question_id")
        result: InterestCount = await self.writer.write(write_interests, InterestMark(question_id, viewer_key))
        return result

    # -- questions ----------------------------------------------------------------------------

    async def get_question(self, question_id: int) -> QuestionView:
        async with self.read_engine.connect() as conn:
            row = (await conn.execute(select(s.questions).where(s.questions.c.id == question_id))).first()
        if row is None:
            raise NotFound("question_not_found", field="question_id")
        return _question(row)

    async def question_by_receipt(self, raw: str) -> tuple[QuestionView, Session]:
        receipt = normalize_receipt(raw)
        if receipt is None:
            raise NotFound("receipt_not_found", field="receipt")
        async with self.read_engine.connect() as conn:
            row = (await conn.execute(select(s.questions).where(s.questions.c.receipt == receipt))).first()
            if row is None:
                raise NotFound("receipt_not_found", field="receipt")
            [question] = await attachments.load(conn, [_question(row)])  # responder: the answer's files
        return question, await self.get_session(question.session_id)

    async def public_questions(self, session_id: int) -> list[QuestionView]:
        async with self.read_engine.connect() as conn:
            rows = await conn.execute(
                select(s.questions)
                .where(s.questions.c.session_id == session_id)
                .where(s.questions.c.state.in_([st.value for st in PUBLIC_STATES]))
                .where(s.questions.c.held == false())
                .order_by(s.questions.c.interest_count.desc(), s.questions.c.id)
            )
            return await attachments.load(conn, [_question(r) for r in rows])  # responder: the answers' files

    async def questions_changed_since(self, since: datetime) -> list[QuestionView]:
        """Questions a moderator has moved since `since` (new, unscreened ones are left out: they
        are never public and arrive by the thousand)."""
        async with self.read_engine.connect() as conn:
            rows = await conn.execute(
                select(s.questions)
                .where(s.questions.c.updated_at >= since)
                .where(s.questions.c.state != QuestionState.RECEIVED.value)
            )
            return await attachments.load(conn, [_question(r) for r in rows])  # responder: the answers' files

    async def apply_action(self, question_id: int, action: str, *, version: int | None = None,
                           actor: Actor = CLI_ACTOR, **params: Any) -> QuestionView:
        """One action on one question (see moderation/board.py); without `version`, on the current one."""
        from .board import Board

        if version is None:
            version = (await self.get_question(question_id)).version
        outcome = await Board(self).act(question_id, action, version, params, actor)
        return outcome.question

    async def register(self, session_id: int, *, sees_protected: bool = True) -> list[dict[str, Any]]:
        """The register (sổ ghi chép): every question with the asker's full identity. Staff only.
        A complainant moved to the formal channel is named only to the head (`sees_protected`)."""
        await self.get_session(session_id)
        async with self.read_engine.connect() as conn:
            rows = await conn.execute(
                select(s.questions, s.askers.c.name, s.askers.c.address, s.askers.c.phone, s.askers.c.name_shown,
                       s.askers.c.email, s.consent_records.c.consent_version, s.consent_records.c.accepted_at)
                .join(s.askers, s.askers.c.question_id == s.questions.c.id)
                .join(s.consent_records, s.consent_records.c.question_id == s.questions.c.id)
                .where(s.questions.c.session_id == session_id)
                .order_by(s.questions.c.number)
            )
            out = []
            for r in rows:
                asker = Asker(AskerKind(r.asker_kind), r.name, r.address, r.phone, NameShown(r.name_shown),
                              r.email).full()
                if r.protected and not sees_protected:
                    asker.update(name="", address="", phone="")
                    asker.pop("email", None)
                out.append(
                    {
                        "question_id": r.id,
                        "number": r.number,
                        "receipt": r.receipt,
                        "asker": asker,
                        "field": r.field,
                        "text": r.text,
                        "text_on_air": r.display_text,
                        "received_at": r.received_at.isoformat(),
                        "state": r.state,
                        "decline_reason": r.decline_reason,
                        "protected": bool(r.protected),
                        "department": r.department,
                        "confirmed_by": r.confirmed_by,
                        "channel": r.channel,
                        "consent_version": r.consent_version,
                        "idempotency_key": r.idempotency_key,
                        # the register's "cán bộ tiếp nhận" (Điều 8.2): the officer who entered a question
                        # received by phone, e-mail, letter or in person, else the one who accepted it
                        "entered_by": r.entered_by,
                        "received_by": r.entered_by or r.confirmed_by,
                    }
                )
            return out
