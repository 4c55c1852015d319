"""Keeps this node's view of sessions current and tells viewers when a session or one of its public
questions changes.

A session may be announced, started or closed by the CLI or by another node, straight in the store.
Polling `updated_at` twice a second is cheap (a handful of rows) and works on SQLite and PostgreSQL
alike. Intake never trusts this cache to accept a question: the writer checks the session's state
inside its own transaction. The cache only refuses early what can never reopen (closed sessions)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import socketio

from moderation.sessions import Session
from moderation.store import QuestionView, Store

log = logging.getLogger(__name__)


def room(session_id: int) -> str:
    return f"session:{session_id}"


class SessionWatch:
    def __init__(self, store: Store, sio: socketio.AsyncServer, poll_seconds: float) -> None:
        self.store = store
        self.sio = sio
        self.poll_seconds = poll_seconds
        self.sessions: dict[int, Session] = {}
        self._since: datetime | None = None
        self._questions_since: datetime | None = None
        self._question_versions: dict[int, int] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.create_task(self._poll(), name="session-watch")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def get(self, session_id: int) -> Session:
        session = self.sessions.get(session_id)
        if session is None:
            session = await self.store.get_session(session_id)  # raises NotFound
            self.sessions[session_id] = session
        return session

    async def refresh(self) -> list[Session]:
        changed = await self.store.sessions_changed_since(self._since)
        fresh: list[Session] = []
        for session in changed:
            old = self.sessions.get(session.id)
            if old is None or old.updated_at != session.updated_at:
                fresh.append(session)
            self.sessions[session.id] = session
            if session.updated_at and (self._since is None or session.updated_at > self._since):
                # re-read a small window: two writers' clocks may differ slightly
                self._since = session.updated_at - timedelta(seconds=2)
        return fresh

    async def changed_questions(self) -> list[QuestionView]:
        now = datetime.now(UTC)
        since = self._questions_since or now - timedelta(seconds=5)
        self._questions_since = now - timedelta(seconds=2)
        fresh = []
        for question in await self.store.questions_changed_since(since):
            if self._question_versions.get(question.id) != question.version:
                self._question_versions[question.id] = question.version
                fresh.append(question)
        return fresh

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                for session in await self.refresh():
                    await self.sio.emit(
                        "session_state", session.public_dict(), room=room(session.id), namespace="/viewer"
                    )
                for question in await self.changed_questions():
                    # Only what the public may see: a question leaving the public list is announced
                    # by its id alone.
                    body = question.public_dict() if question.public else {"id": question.id, "public": False}
                    await self.sio.emit("question", body, room=room(question.session_id), namespace="/viewer")
            except Exception:
                log.exception("session poll failed; retrying")
